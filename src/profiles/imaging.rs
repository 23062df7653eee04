//! Photo bytes: the type detected from the content (never the name or the
//! declared type), the header checked against a memory budget before any
//! pixel is allocated, decoding under limits, and re-encoding to fixed
//! sizes. Re-encoding writes pixels only, so EXIF (GPS included), ICC
//! profiles and comments are gone.
//!
//! A request only reads the header ([`inspect`]); the `photo.process` job
//! decodes ([`decode`]), at most [`decode_slots`] at once.

use std::io::Cursor;

use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::slots::Slots;

/// Longest side of each stored size, in pixels.
pub const SIZES: [u32; 3] = [160, 640, 1280];
/// Largest accepted width or height.
pub const MAX_SIDE: u32 = 8_000;
/// Most bytes the decoded pixels of one image may take: width × height ×
/// bytes per pixel of the buffer the decoder fills.
///
/// DESIGN.md §6: a decode stays under ~150 MB, eight uploads at once under
/// 600 MB. The pixel buffer is nearly all of a decode (the rest is the
/// decoder's tables and rows, and the small sizes made from it), so it gets
/// 96 MiB: a 33-megapixel RGB JPEG (a 24-megapixel camera's 6000×4000 is
/// 72 MB), a 25-megapixel RGBA PNG, or a 12.5-megapixel 16-bit RGBA PNG
/// (`image` 0.25 decodes 16-bit PNGs into 16-bit buffers, 8 bytes a pixel,
/// and does not let the `png` crate strip them while decoding). The side
/// limit alone is not enough: 8000×8000 RGBA is 256 MB at 8 bits and
/// 512 MB at 16.
pub const MAX_DECODED_BYTES: u64 = 96 * 1024 * 1024;
/// Most memory one decode may allocate (`image::Limits::max_alloc`): the
/// pixels and 32 MiB of the decoder's working memory.
pub const MAX_ALLOC: u64 = MAX_DECODED_BYTES + 32 * 1024 * 1024;
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

/// What a header says about the image, read without allocating its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub color: ColorType,
}

/// Checks what is cheap to check: the type from the bytes, a JPEG's end
/// marker, and the header (dimensions, colour type and bit depth) against
/// [`MAX_SIDE`] and [`MAX_DECODED_BYTES`]. Damaged pixels behind a sound
/// header are found only by [`decode`].
pub fn inspect(bytes: &[u8]) -> Result<Header, ImageError> {
    let format = detect(bytes)?;
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        // The JPEG decoder fills a cut-off image with grey; refuse it instead.
        return Err(ImageError::Corrupt);
    }
    let decoder = reader(bytes, format)
        .into_decoder()
        .map_err(|e| classify(&e))?;
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    within_budget(width, height, color)?;
    Ok(Header {
        format,
        width,
        height,
        color,
    })
}

/// Whether an image of these dimensions and colour type may be decoded.
fn within_budget(width: u32, height: u32, color: ColorType) -> Result<(), ImageError> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(ImageError::TooLarge);
    }
    let bytes = u64::from(width) * u64::from(height) * u64::from(color.bytes_per_pixel());
    if bytes > MAX_DECODED_BYTES {
        return Err(ImageError::TooLarge);
    }
    Ok(())
}

/// Decodes a whole image under the limits, once [`inspect`] accepted its
/// header. Call it in a [`decode_slots`] slot.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
    let header = inspect(bytes)?;
    reader(bytes, header.format)
        .decode()
        .map_err(|e| classify(&e))
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    reader
}

/// The slots every decode of this process runs in: one a core, at most
/// four, so four decodes (each under ~150 MB) stay under 600 MB whatever
/// the number of uploads waiting.
pub fn decode_slots() -> &'static Slots {
    static SLOTS: std::sync::OnceLock<Slots> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| Slots::new(crate::slots::cores().clamp(1, 4)))
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
    // A large original first goes to twice the largest size by averaging
    // blocks of pixels: `resize` would keep a float copy of a whole-width
    // strip (16 bytes a pixel, 160 MB for 8000×8000), `thumbnail` only its
    // output. The triangle filter then makes every size from that.
    let near = 2 * SIZES[SIZES.len() - 1];
    let img = if img.width().max(img.height()) > near {
        img.thumbnail(near, near)
    } else {
        img
    };
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
    fn the_budget_counts_bytes_per_pixel_as_decoded() {
        for color in [ColorType::Rgb8, ColorType::Rgba8, ColorType::Rgba16] {
            let per_row = u64::from(MAX_SIDE) * u64::from(color.bytes_per_pixel());
            let rows = u32::try_from(MAX_DECODED_BYTES / per_row).expect("rows");
            assert_eq!(within_budget(MAX_SIDE, rows, color), Ok(()), "{color:?}");
            assert_eq!(
                within_budget(MAX_SIDE, rows + 1, color),
                Err(ImageError::TooLarge),
                "{color:?}"
            );
        }
    }

    #[test]
    fn a_16_bit_rgba_header_within_the_sides_but_over_the_budget_is_refused() {
        let mut bytes = Cursor::new(Vec::new());
        let img = DynamicImage::new_rgba16(2, 2);
        img.write_to(&mut bytes, ImageFormat::Png).expect("png");
        let mut bytes = bytes.into_inner();
        let header = inspect(&bytes).expect("a small one passes");
        assert_eq!(header.color, ColorType::Rgba16);
        // 3000×3000 at 8 bytes a pixel is 72 MB; 4000×4000 is 128 MB.
        for (side, fits) in [(3_000u32, true), (4_000, false)] {
            set_png_size(&mut bytes, side);
            assert_eq!(inspect(&bytes).is_ok(), fits, "{side}");
        }
    }

    /// Writes `side`×`side` into a PNG's IHDR and fixes its CRC.
    fn set_png_size(bytes: &mut [u8], side: u32) {
        bytes[16..20].copy_from_slice(&side.to_be_bytes());
        bytes[20..24].copy_from_slice(&side.to_be_bytes());
        let mut crc = 0xFFFF_FFFFu32;
        for &b in &bytes[12..29] {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        bytes[29..33].copy_from_slice(&(!crc).to_be_bytes());
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
