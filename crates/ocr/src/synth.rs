//! (issue 7, in progress: owned by the classifier work)
