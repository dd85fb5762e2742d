//! Photo uploads (`POST /ocr`): the bytes of the multipart field `image` into the built-in reader
//! with the service's default limits (`ocr_max_pixels`). The multipart body itself is parsed by
//! axum (multer), not by us, so the fuzzing starts at the field's bytes: format by magic bytes,
//! dimensions from the header before decoding, the decoder's own limits, EXIF orientation, then
//! preprocessing, segmentation and reading. Beyond not panicking: what is accepted is within the
//! pixel limit and has the header's dimensions (turned by EXIF at most), a refusal for size is
//! one the header asked for, and no more lines are read than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocr::{Limits, OcrError, photo};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    match ocr::read_photo(data, &limits) {
        Ok(reading) => {
            let format = photo::sniff(data).expect("an accepted photo is PNG or JPEG");
            let (w, h) = photo::header_dimensions(data, format).expect("an accepted photo has a header");
            assert!(
                u64::from(w) * u64::from(h) <= limits.max_pixels,
                "{w}×{h} accepted over {} pixels",
                limits.max_pixels
            );
            let size = (reading.width, reading.height);
            assert!(size == (w, h) || size == (h, w), "header {w}×{h}, decoded {size:?}");
            assert!(reading.exercises.len() <= limits.max_lines);
        }
        Err(OcrError::UnsupportedFormat) => assert!(photo::sniff(data).is_none()),
        Err(OcrError::TooManyPixels { width, height, max }) => {
            assert_eq!(max, limits.max_pixels);
            assert!(
                u64::from(width) * u64::from(height) > max,
                "{width}×{height} refused under {max}"
            );
        }
        Err(OcrError::Undecodable(_)) => {}
    }
});
