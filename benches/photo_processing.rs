//! How long the photo job's work takes for one 12-megapixel JPEG (decode
//! under limits, then the three stored sizes), and the peak memory it needs.
//! Run with `cargo bench --bench photo_processing` (optimised build).

use std::io::Cursor;
use std::time::Instant;

use image::{DynamicImage, ImageFormat, RgbImage};
use swiper::profiles::imaging;

/// Peak resident memory of this process so far, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak to the current resident size (Linux ≥ 4.0).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() {
    let (w, h) = (4000u32, 3000u32);
    // A photo-like image (gradients and texture: JPEG can't shrink it to nothing).
    let img = RgbImage::from_fn(w, h, |x, y| {
        let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 37;
        image::Rgb([
            ((x * 255 / w) as u8).wrapping_add(n as u8),
            ((y * 255 / h) as u8).wrapping_add((n * 3) as u8),
            (((x + y) % 256) as u8),
        ])
    });
    let mut jpeg = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut jpeg, ImageFormat::Jpeg)
        .unwrap_or_default();
    let jpeg = jpeg.into_inner();
    let rounds = 5;
    let mut times = Vec::with_capacity(rounds);
    let mut peak_extra = 0u64;
    for _ in 0..rounds {
        reset_peak();
        let base = resident_kib().unwrap_or(0);
        let start = Instant::now();
        let decoded = imaging::decode(&jpeg).map_err(|e| e.to_string());
        let out = decoded.and_then(|i| imaging::renditions(i).map_err(|e| e.to_string()));
        times.push(start.elapsed());
        let sizes: Vec<usize> = out
            .map(|r| r.iter().map(|x| x.jpeg.len()).collect())
            .unwrap_or_default();
        assert_eq!(sizes.len(), 3, "three renditions");
        peak_extra = peak_extra.max(peak_rss_kib().unwrap_or(0).saturating_sub(base));
    }
    times.sort();
    println!(
        "one {w}x{h} JPEG ({:.1} MB) → 160/640/1280 px: median {:.0} ms, worst {:.0} ms over {rounds} runs; \
         peak memory of the job ≈ {:.0} MiB above the process's resident set",
        jpeg.len() as f64 / 1e6,
        times[rounds / 2].as_secs_f64() * 1e3,
        times[rounds - 1].as_secs_f64() * 1e3,
        peak_extra as f64 / 1024.0
    );
}
