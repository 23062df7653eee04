//! Generated portraits for seeded members: a head and shoulders drawn from
//! a few random choices (skin, hair colour and style, shirt, background,
//! eyes, smile, glasses), different for everyone and recognisably a person,
//! processed like an uploaded photo. No real face, no asset to ship.

use image::{DynamicImage, Rgb, RgbImage};

use super::data::Rng;

const SKIN: [[u8; 3]; 8] = [
    [255, 224, 196],
    [241, 194, 160],
    [224, 172, 125],
    [198, 134, 92],
    [161, 102, 64],
    [122, 76, 46],
    [92, 56, 34],
    [250, 208, 180],
];
const HAIR: [[u8; 3]; 8] = [
    [30, 22, 18],
    [62, 40, 26],
    [110, 70, 38],
    [168, 120, 66],
    [214, 180, 110],
    [150, 60, 36],
    [120, 120, 125],
    [24, 24, 30],
];

fn pick(rng: &mut Rng, colours: &[[u8; 3]]) -> [u8; 3] {
    colours[rng.below(colours.len())]
}

fn random_colour(rng: &mut Rng, low: u8, span: u8) -> [u8; 3] {
    let mut c = || low + rng.below(usize::from(span)) as u8;
    [c(), c(), c()]
}

/// Inside the ellipse centred on (cx, cy) with radii (rx, ry)?
fn in_ellipse(x: f64, y: f64, cx: f64, cy: f64, rx: f64, ry: f64) -> bool {
    let (dx, dy) = ((x - cx) / rx, (y - cy) / ry);
    dx * dx + dy * dy <= 1.0
}

fn shade(c: [u8; 3], by: f64) -> [u8; 3] {
    c.map(|v| (f64::from(v) * by).clamp(0.0, 255.0) as u8)
}

pub fn generate(rng: &mut Rng, side: u32) -> DynamicImage {
    let s = f64::from(side);
    let (bg1, bg2) = (random_colour(rng, 120, 120), random_colour(rng, 60, 140));
    let skin = pick(rng, &SKIN);
    let hair = pick(rng, &HAIR);
    let shirt = random_colour(rng, 30, 200);
    // 0 short, 1 long, 2 bun, 3 shaved.
    let style = rng.below(4);
    let glasses = rng.below(4) == 0;
    let (head_rx, head_ry) = (
        s * (0.17 + 0.03 * rng.unit()),
        s * (0.21 + 0.03 * rng.unit()),
    );
    let (cx, cy) = (s * (0.47 + 0.06 * rng.unit()), s * 0.42);
    let eye_dx = head_rx * 0.4;
    let eye_y = cy - head_ry * 0.05;
    let smile = 0.3 + 0.4 * rng.unit();
    let img = RgbImage::from_fn(side, side, |px, py| {
        let (x, y) = (f64::from(px), f64::from(py));
        let t = (x + y) / (2.0 * s);
        let mut c =
            [0, 1, 2].map(|i| (f64::from(bg1[i]) * (1.0 - t) + f64::from(bg2[i]) * t) as u8);
        // Long hair falls behind the shoulders.
        if style == 1 && in_ellipse(x, y, cx, cy + head_ry * 0.6, head_rx * 1.35, head_ry * 1.5) {
            c = shade(hair, 0.85);
        }
        // Shoulders and neck.
        if in_ellipse(x, y, cx, s * 1.02, s * 0.36, s * 0.28) {
            c = shirt;
        } else if (x - cx).abs() < head_rx * 0.42 && y > cy && y < s * 0.8 {
            c = shade(skin, 0.9);
        }
        if style == 2
            && in_ellipse(
                x,
                y,
                cx,
                cy - head_ry * 1.05,
                head_rx * 0.45,
                head_ry * 0.35,
            )
        {
            c = hair;
        }
        let head = in_ellipse(x, y, cx, cy, head_rx, head_ry);
        if head {
            c = skin;
            // Hair over the top of the head, down to the forehead.
            let cap = match style {
                3 => cy - head_ry * 0.75,
                _ => cy - head_ry * 0.35,
            };
            if y < cap {
                c = if style == 3 { shade(hair, 1.3) } else { hair };
            }
            // Eyes, glasses, cheeks, smile.
            for side in [-1.0, 1.0] {
                let ex = cx + side * eye_dx;
                if in_ellipse(x, y, ex, eye_y, head_rx * 0.09, head_ry * 0.07) {
                    c = [35, 30, 30];
                }
                if glasses {
                    let r = (x - ex).hypot(y - eye_y);
                    if (r - head_rx * 0.27).abs() < s * 0.005 {
                        c = [25, 25, 25];
                    }
                }
                if in_ellipse(
                    x,
                    y,
                    ex,
                    eye_y + head_ry * 0.3,
                    head_rx * 0.14,
                    head_ry * 0.08,
                ) {
                    c = [c[0], c[1].saturating_sub(18), c[2].saturating_sub(12)];
                }
            }
            let (mx, my) = (cx, cy + head_ry * 0.38);
            let r = (x - mx).hypot((y - my) * 1.6);
            if y > my && (r - head_rx * smile).abs() < s * 0.008 {
                c = [150, 50, 60];
            }
        } else if style != 3
            && style != 2
            && in_ellipse(x, y, cx, cy - head_ry * 0.2, head_rx * 1.12, head_ry * 0.95)
            && y < cy
        {
            // Hair around the head.
            c = hair;
        }
        Rgb(c)
    });
    DynamicImage::ImageRgb8(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portraits_differ_from_member_to_member() {
        let a = generate(&mut Rng::new(1), 64).to_rgb8();
        let b = generate(&mut Rng::new(2), 64).to_rgb8();
        assert_eq!(a.dimensions(), (64, 64));
        let differing = a.pixels().zip(b.pixels()).filter(|(p, q)| p != q).count();
        assert!(
            differing > 64 * 64 / 4,
            "two members, two portraits ({differing} pixels differ)"
        );
        let again = generate(&mut Rng::new(1), 64).to_rgb8();
        assert_eq!(
            a, again,
            "the same member, the same portrait (re-runs agree)"
        );
    }
}
