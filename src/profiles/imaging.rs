//! Photo bytes: the type detected from the content (never the name or the
//! declared type), decoding under limits (a decompression bomb is refused
//! before it allocates), and re-encoding to fixed sizes. Re-encoding writes
//! pixels only, so EXIF (GPS included), ICC profiles and comments are gone.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// Longest side of each stored size, in pixels.
pub const SIZES: [u32; 3] = [160, 640, 1280];
/// Largest accepted width or height.
pub const MAX_SIDE: u32 = 8_000;
/// Most memory one decode may use.
pub const MAX_ALLOC: u64 = 512 * 1024 * 1024;
const JPEG_QUALITY: u8 = 85;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedType,
    #[error("the image is larger than {MAX_SIDE} pixels on a side")]
    TooLarge,
    #[error("the image is damaged or incomplete")]
    Corrupt,
    #[error("the image could not be encoded")]
    Encode,
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

/// The accepted format of these bytes, from their signature.
pub fn detect(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok(f),
        _ => Err(ImageError::UnsupportedType),
    }
}

/// Decodes a whole image under the limits. The header's dimensions are
/// checked before any pixel is allocated.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
    let format = detect(bytes)?;
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        // The JPEG decoder fills a cut-off image with grey; refuse it instead.
        return Err(ImageError::Corrupt);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let (w, h) = reader.into_dimensions().map_err(|e| classify(&e))?;
    if w > MAX_SIDE || h > MAX_SIDE || w == 0 || h == 0 {
        return Err(ImageError::TooLarge);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    reader.decode().map_err(|e| classify(&e))
}

/// Whether a JPEG's last scan is followed by its end-of-image marker.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, end), (Some(s), Some(e)) if e > s)
}

fn classify(e: &image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::TooLarge,
        image::ImageError::Unsupported(_) => ImageError::UnsupportedType,
        _ => ImageError::Corrupt,
    }
}

/// One stored size: its longest side and the JPEG bytes.
pub struct Rendition {
    pub size: u32,
    pub jpeg: Vec<u8>,
}

/// Every stored size of an image, as JPEG without metadata. An image smaller
/// than a size is not enlarged. Each size is made from the next larger one
/// (1280 from the original, 640 from 1280, …), which keeps the work and the
/// memory of a 12-megapixel photo to one pass over it.
pub fn renditions(img: DynamicImage) -> Result<Vec<Rendition>, ImageError> {
    let mut current = DynamicImage::ImageRgb8(img.into_rgb8());
    let mut out = Vec::with_capacity(SIZES.len());
    for &size in SIZES.iter().rev() {
        if current.width().max(current.height()) > size {
            current = current.resize(size, size, image::imageops::FilterType::Triangle);
        }
        let mut jpeg = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY);
        current
            .write_with_encoder(encoder)
            .map_err(|_| ImageError::Encode)?;
        out.push(Rendition { size, jpeg });
    }
    out.reverse();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Cursor::new(Vec::new());
        let _ = img.write_to(&mut out, ImageFormat::Png);
        out.into_inner()
    }

    #[test]
    fn the_type_comes_from_the_bytes() {
        assert_eq!(detect(&png(2, 2)), Ok(ImageFormat::Png));
        assert_eq!(detect(b"GIF89a...."), Err(ImageError::UnsupportedType));
        assert_eq!(detect(b"<svg xmlns=..."), Err(ImageError::UnsupportedType));
    }

    #[test]
    fn a_header_claiming_huge_dimensions_is_refused_before_decoding() {
        let mut bytes = png(1, 1);
        // IHDR width and height live at bytes 16..24; the CRC no longer
        // matches, which must not matter: the size is checked first.
        bytes[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        assert!(matches!(
            decode(&bytes),
            Err(ImageError::TooLarge | ImageError::Corrupt)
        ));
    }

    #[test]
    fn renditions_keep_the_aspect_and_never_enlarge() {
        let img = decode(&png(400, 200)).expect("decodes");
        let out = renditions(img).expect("encodes");
        let dims: Vec<(u32, u32)> = out
            .iter()
            .map(|r| {
                let i = image::load_from_memory(&r.jpeg).expect("jpeg");
                (i.width(), i.height())
            })
            .collect();
        assert_eq!(dims, vec![(160, 80), (400, 200), (400, 200)]);
    }
}
