//! Decoding a photo within limits: the format is decided by the content (magic bytes), the size is
//! read from the header and checked *before* the decoder allocates anything (a 100 KB PNG can
//! claim 100000×100000 pixels: a decompression bomb), then the image is decoded to grayscale with
//! its EXIF orientation applied (phone cameras store portrait photos sideways and say so in EXIF).

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader};

use crate::{Limits, OcrError};

/// The two formats a photo may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
}

const PNG_MAGIC: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// The format by magic bytes, whatever the file name or content type said.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(PNG_MAGIC) {
        Some(Format::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else {
        None
    }
}

/// Width and height as the header declares them, without decoding. PNG: the IHDR chunk must come
/// first. JPEG: the first SOFn segment, walking segment lengths (no entropy-coded data is read
/// before the first SOS, so the walk is bounded by the byte count).
pub fn header_dimensions(bytes: &[u8], format: Format) -> Result<(u32, u32), OcrError> {
    let bad = |why: &str| OcrError::Undecodable(why.to_string());
    let (w, h) = match format {
        Format::Png => {
            if bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
                return Err(bad("PNG without an IHDR header"));
            }
            let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
            (be(16), be(20))
        }
        Format::Jpeg => jpeg_dimensions(bytes).ok_or_else(|| bad("JPEG without a frame header"))?,
    };
    if w == 0 || h == 0 {
        return Err(bad("image with a zero dimension"));
    }
    Ok((w, h))
}

fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2; // after SOI
    loop {
        // A marker is 0xFF (possibly repeated as fill) followed by its code.
        while *bytes.get(i)? != 0xFF {
            i += 1;
        }
        while *bytes.get(i)? == 0xFF {
            i += 1;
        }
        let code = *bytes.get(i)?;
        i += 1;
        match code {
            // Standalone markers: no length.
            0x01 | 0xD0..=0xD7 => continue,
            // End of image or start of scan before any frame header: no dimensions.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let len = u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]) as usize;
        if len < 2 {
            return None;
        }
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
        if (0xC0..=0xCF).contains(&code) && !matches!(code, 0xC4 | 0xC8 | 0xCC) {
            let h = u16::from_be_bytes([*bytes.get(i + 3)?, *bytes.get(i + 4)?]);
            let w = u16::from_be_bytes([*bytes.get(i + 5)?, *bytes.get(i + 6)?]);
            return Some((u32::from(w), u32::from(h)));
        }
        i += len;
    }
}

/// Decodes `bytes` to an 8-bit grayscale image, upright. Errors: not PNG/JPEG by content →
/// [`OcrError::UnsupportedFormat`]; more pixels than `limits.max_pixels` by the header →
/// [`OcrError::TooManyPixels`] (nothing decoded); anything the decoder refuses →
/// [`OcrError::Undecodable`].
pub fn decode_gray(bytes: &[u8], limits: &Limits) -> Result<GrayImage, OcrError> {
    let format = sniff(bytes).ok_or(OcrError::UnsupportedFormat)?;
    let (width, height) = header_dimensions(bytes, format)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(OcrError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    let undecodable = |e: image::ImageError| OcrError::Undecodable(e.to_string());
    let mut reader = ImageReader::with_format(
        Cursor::new(bytes),
        match format {
            Format::Png => ImageFormat::Png,
            Format::Jpeg => ImageFormat::Jpeg,
        },
    );
    // The decoder's own limits as a second guard: the dimensions it finds must be the ones
    // checked above, and it may allocate no more than a 16-bit RGBA image of that size.
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(width);
    image_limits.max_image_height = Some(height);
    image_limits.max_alloc = Some(u64::from(width) * u64::from(height) * 8 + (1 << 20));
    reader.limits(image_limits);
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    img.apply_orientation(orientation);
    Ok(match img {
        DynamicImage::ImageLuma8(g) => g,
        other => other.into_luma8(),
    })
}
