//! Generated avatars for seeded members: a soft two-colour gradient with a
//! circle, different for everyone, processed like an uploaded photo.

use image::{DynamicImage, Rgb, RgbImage};

use super::data::Rng;

pub fn generate(rng: &mut Rng, side: u32) -> DynamicImage {
    let c1 = [
        rng.below(200) as u8 + 40,
        rng.below(200) as u8 + 40,
        rng.below(200) as u8 + 40,
    ];
    let c2 = [
        rng.below(200) as u8 + 40,
        rng.below(200) as u8 + 40,
        rng.below(200) as u8 + 40,
    ];
    let (cx, cy) = (
        rng.below(side as usize) as f64,
        rng.below(side as usize) as f64,
    );
    let r = f64::from(side) * (0.2 + 0.2 * rng.unit());
    let img = RgbImage::from_fn(side, side, |x, y| {
        let t = f64::from(x + y) / f64::from(2 * side);
        let mix = |a: u8, b: u8| (f64::from(a) * (1.0 - t) + f64::from(b) * t) as u8;
        let inside = (f64::from(x) - cx).hypot(f64::from(y) - cy) < r;
        if inside {
            Rgb([
                255 - mix(c1[0], c2[0]) / 2,
                255 - mix(c1[1], c2[1]) / 2,
                255 - mix(c1[2], c2[2]) / 2,
            ])
        } else {
            Rgb([mix(c1[0], c2[0]), mix(c1[1], c2[1]), mix(c1[2], c2[2])])
        }
    });
    DynamicImage::ImageRgb8(img)
}
