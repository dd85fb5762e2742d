//! The photo boundary: format by content, limits from the header before decoding, no panic on
//! any bytes.

use std::io::Cursor;

use image::{GrayImage, ImageFormat, Luma};
use ocr::{Limits, OcrError, read_photo};
use proptest::prelude::*;

fn encoded(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn blank(w: u32, h: u32) -> GrayImage {
    GrayImage::from_pixel(w, h, Luma([230]))
}

#[test]
fn png_and_jpeg_are_recognised_by_content_and_decoded() {
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        let bytes = encoded(&blank(120, 80), format);
        let reading = read_photo(&bytes, &Limits::default()).unwrap();
        assert_eq!((reading.width, reading.height), (120, 80), "{format:?}");
        assert!(reading.exercises.is_empty(), "a blank page holds no exercise");
    }
}

#[test]
fn other_formats_are_unsupported() {
    for bytes in [
        &b""[..],
        b"GIF89a....",
        b"%PDF-1.7",
        b"BM\x00\x00",
        b"\x89PNX\r\n\x1a\n",
        b"\xFF\xD8",
    ] {
        assert_eq!(
            read_photo(bytes, &Limits::default()).unwrap_err(),
            OcrError::UnsupportedFormat
        );
    }
}

#[test]
fn right_magic_but_broken_content_is_undecodable() {
    let mut png = encoded(&blank(50, 50), ImageFormat::Png);
    png.truncate(png.len() / 2);
    assert!(matches!(
        read_photo(&png, &Limits::default()),
        Err(OcrError::Undecodable(_))
    ));
    let mut jpeg = encoded(&blank(50, 50), ImageFormat::Jpeg);
    jpeg.truncate(40);
    assert!(matches!(
        read_photo(&jpeg, &Limits::default()),
        Err(OcrError::Undecodable(_))
    ));
    assert!(matches!(
        read_photo(b"\x89PNG\r\n\x1a\n", &Limits::default()),
        Err(OcrError::Undecodable(_))
    ));
}

/// A PNG signature and an IHDR chunk claiming `w`×`h`, and nothing after: a decoder that
/// trusted it would allocate w·h bytes before finding out there is no data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grayscale
    b.extend_from_slice(&[0, 0, 0, 0]); // CRC (never checked: the size is refused first)
    b
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let err = read_photo(&png_header(100_000, 100_000), &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        OcrError::TooManyPixels {
            width: 100_000,
            height: 100_000,
            max: 40_000_000
        }
    );
    // A JPEG frame header claiming 65000×65000 (SOI, APP0 skipped by length, SOF0).
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00];
    jpeg.extend_from_slice(&[
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0xFD, 0xE8, 0xFD, 0xE8, 0x01, 0x01, 0x11, 0x00,
    ]);
    let err = read_photo(&jpeg, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        OcrError::TooManyPixels {
            width: 65_000,
            height: 65_000,
            max: 40_000_000
        }
    );
    // The limit is the caller's: a real, small image over a tiny limit is refused too.
    let small = encoded(&blank(100, 100), ImageFormat::Png);
    let tight = Limits {
        max_pixels: 9_999,
        ..Limits::default()
    };
    assert!(matches!(
        read_photo(&small, &tight),
        Err(OcrError::TooManyPixels {
            width: 100,
            height: 100,
            ..
        })
    ));
}

#[test]
fn the_reading_serialises_in_camel_case() {
    let reading = read_photo(&encoded(&blank(10, 10), ImageFormat::Png), &Limits::default()).unwrap();
    let json = serde_json::to_value(&reading).unwrap();
    assert_eq!(json, serde_json::json!({"exercises": [], "width": 10, "height": 10}));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read_photo(&bytes, &Limits::default());
    }

    #[test]
    fn garbage_behind_a_magic_never_panics(
        png in any::<bool>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut b = if png { b"\x89PNG\r\n\x1a\n".to_vec() } else { vec![0xFF, 0xD8, 0xFF] };
        b.extend_from_slice(&bytes);
        prop_assert!(!matches!(read_photo(&b, &Limits::default()), Err(OcrError::UnsupportedFormat)));
    }

    #[test]
    fn corrupted_real_images_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), jpeg in any::<bool>()) {
        let img = GrayImage::from_fn(64, 48, |x, y| Luma([if (x / 8 + y / 8) % 2 == 0 { 30 } else { 220 }]));
        let mut b = encoded(&img, if jpeg { ImageFormat::Jpeg } else { ImageFormat::Png });
        for (i, v) in flips {
            let n = b.len();
            b[i % n] = v;
        }
        let _ = read_photo(&b, &Limits::default());
    }
}
