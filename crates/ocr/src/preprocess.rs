//! (issue 7, in progress: owned by the image-pipeline work)
