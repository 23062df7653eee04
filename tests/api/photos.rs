//! Photos: upload through the form, processing into fixed sizes by the job
//! queue, metadata stripped, bad uploads refused with nothing left behind,
//! and another member's photos out of reach.

use image::{DynamicImage, ImageFormat};
use std::io::Cursor;

use crate::helpers::*;

/// A real JPEG of `w`×`h` with an EXIF block carrying GPS tags (APP1).
pub fn jpeg_with_gps(w: u32, h: u32) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    let jpeg = out.into_inner();
    // TIFF (little-endian): IFD0 with one entry, GPSInfo (0x8825) → GPS IFD
    // with GPSLatitudeRef = "N" and GPSLatitude = 48/1 51/1 0/1.
    let mut tiff: Vec<u8> = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: 1 entry
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x8825u16.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes()); // LONG
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes()); // GPS IFD offset
    tiff.extend_from_slice(&0u32.to_le_bytes()); // next IFD
                                                 // GPS IFD at 26: 2 entries
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes()); // GPSLatitudeRef
    tiff.extend_from_slice(&2u16.to_le_bytes()); // ASCII
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&2u16.to_le_bytes()); // GPSLatitude
    tiff.extend_from_slice(&5u16.to_le_bytes()); // RATIONAL
    tiff.extend_from_slice(&3u32.to_le_bytes());
    tiff.extend_from_slice(&56u32.to_le_bytes()); // value offset
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in [(48u32, 1u32), (51, 1), (0, 1)] {
        tiff.extend_from_slice(&n.to_le_bytes());
        tiff.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap();
    let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1];
    with_exif.extend_from_slice(&len.to_be_bytes());
    with_exif.extend_from_slice(&app1);
    with_exif.extend_from_slice(&jpeg[2..]);
    with_exif
}

/// The marker bytes of every segment before the image data.
pub fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "not a JPEG");
    let mut markers = Vec::new();
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        i += 2 + len;
    }
    markers
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::new_rgb8(w, h)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG header (correct CRC) that claims `side`×`side` pixels.
fn png_claiming(side: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    bytes[16..20].copy_from_slice(&side.to_be_bytes());
    bytes[20..24].copy_from_slice(&side.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A `side`×`side` 16-bit RGBA PNG, transparent black: 8 bytes a pixel once
/// decoded, a few megabytes at most as a file. The zeroed buffer is never
/// written, so it costs the test little memory.
fn png_rgba16(side: u32) -> Vec<u8> {
    use image::ImageEncoder;
    let pixels = vec![0u8; side as usize * side as usize * 8];
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&pixels, side, side, image::ExtendedColorType::Rgba16)
    .unwrap();
    out
}

/// Uploads `bytes` as the `photo` field, as the profile page's form does.
pub async fn upload(browser: &Browser, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let token = browser.csrf().await;
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("photo", part);
    browser
        .client
        .post(browser.url(&format!("/profile/photos?csrf_token={token}")))
        .multipart(form)
        .send()
        .await
        .expect("POST")
}

/// The `data-photo-id`s on my profile page.
pub async fn my_photo_ids(browser: &Browser) -> Vec<String> {
    let html = browser.html("/profile").await;
    html.split("data-photo-id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// Waits (bounded) until no photo on my page is still processing.
pub async fn wait_processed(browser: &Browser) -> String {
    wait_until("photos processed", || async {
        !browser
            .html("/profile")
            .await
            .contains("data-testid=\"photo-processing\"")
    })
    .await;
    browser.html("/profile").await
}

/// Files under the app's media folder.
pub fn media_files(app: &TestApp) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), out);
            } else {
                out.push(e.path().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.state.settings.media.dir, &mut out);
    out
}

fn image_srcs(html: &str) -> Vec<String> {
    html.split("src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|s| s.starts_with("/media/"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn an_uploaded_jpeg_is_served_in_every_size_without_its_gps_data() {
    let app = spawn_app().await;
    app.member(&app.browser, "pic@example.com").await;
    let original = jpeg_with_gps(1600, 1200);
    assert!(
        jpeg_markers(&original).contains(&0xE1),
        "the upload carries EXIF"
    );
    let res = upload(&app.browser, "holiday.jpg", original).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let html = wait_processed(&app.browser).await;
    let mut seen = std::collections::BTreeSet::new();
    for src in image_srcs(&html) {
        let res = app.browser.get(&src).await;
        assert_eq!(res.status(), 200, "{src}");
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000"));
        let bytes = res.bytes().await.unwrap();
        let markers = jpeg_markers(&bytes);
        assert!(
            !markers.contains(&0xE1),
            "no EXIF/XMP in {src}: {markers:x?}"
        );
        assert!(!markers.contains(&0xE2), "no ICC in {src}");
        assert!(!markers.contains(&0xFE), "no comment in {src}");
        assert!(!bytes.windows(4).any(|w| w == b"Exif"), "{src}");
        let img = image::load_from_memory(&bytes).unwrap();
        seen.insert(img.width().max(img.height()));
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![160, 640, 1280]);
    // The stored names say nothing about the member or the upload.
    for f in media_files(&app) {
        assert!(!f.contains("holiday") && !f.contains("pic"), "{f}");
    }
    assert!(
        media_files(&app).iter().all(|f| !f.contains("incoming")),
        "the upload itself is gone once processed"
    );
    assert!(
        app.browser
            .html("/discover")
            .await
            .contains("class=\"avatar icon\""),
        "the navigation shows the avatar"
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_with_a_code_and_leave_no_row_and_no_file() {
    let app = spawn_app_with(&[("PHOTO_MAX_BYTES", "10485760")]).await;
    app.member(&app.browser, "bad@example.com").await;
    let mut truncated = jpeg_with_gps(400, 300);
    truncated.truncate(truncated.len() / 2);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "notes.txt",
            b"just some text, not a picture".to_vec(),
            415,
            "unsupported_image",
        ),
        (
            "fake.jpg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            415,
            "unsupported_image",
        ),
        ("cut.jpg", truncated, 422, "image_corrupt"),
        ("bomb.png", png_claiming(50_000), 422, "image_too_large"),
        (
            "huge.jpg",
            vec![0xFF; 11 * 1024 * 1024],
            413,
            "photo_too_big",
        ),
        ("empty.jpg", Vec::new(), 400, "required"),
    ];
    for (name, bytes, status, code) in cases {
        let res = upload(&app.browser, name, bytes).await;
        assert_eq!(res.status(), status, "{name}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains(&format!("data-error-code=\"{code}\"")),
            "{name}: {code} in\n{body}"
        );
        assert_eq!(app.count("photos").await, 0, "{name}: no row");
        assert!(media_files(&app).is_empty(), "{name}: no file");
        assert_eq!(
            app.count("jobs WHERE kind LIKE 'photo.%'").await,
            0,
            "{name}: no job"
        );
    }
}

#[tokio::test]
async fn an_image_whose_decoded_pixels_exceed_the_budget_is_refused_in_the_request() {
    // 8000×8000 is within the side limit, but 16-bit RGBA makes it 512 MB
    // of pixels: refused from its header, before anything is decoded. (Made
    // first: encoding it takes longer than an idle connection is kept.)
    let bomb = png_rgba16(8_000);
    let app = spawn_app().await;
    app.member(&app.browser, "deep@example.com").await;
    assert!(
        bomb.len() < 5 * 1024 * 1024,
        "well under the 10 MiB upload limit: {} bytes",
        bomb.len()
    );
    let res = upload(&app.browser, "deep.png", bomb).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("data-error-code=\"image_too_large\""),
        "{body}"
    );
    assert_eq!(app.count("photos").await, 0, "no row");
    assert!(media_files(&app).is_empty(), "no file");

    // A 16-bit image within the budget is processed like any other.
    let res = upload(&app.browser, "deep.png", png_rgba16(2_000)).await;
    assert_eq!(res.status(), 303);
    wait_processed(&app.browser).await;
    assert_eq!(app.count("photos WHERE status = 'ready'").await, 1);
}

#[tokio::test]
async fn damaged_pixels_behind_a_sound_header_are_accepted_and_marked_failed_by_the_job() {
    let app = spawn_app().await;
    app.member(&app.browser, "broken@example.com").await;
    // The header and the start of the pixel data are intact; the rest is
    // cut off. Only a decode finds that, and the request does not decode.
    let mut damaged = png_rgba16(1_000);
    damaged.truncate(damaged.len() * 2 / 3);
    let res = upload(&app.browser, "broken.png", damaged).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let html = wait_processed(&app.browser).await;
    assert!(html.contains("placeholder failed"), "{html}");
    assert_eq!(app.count("photos WHERE status = 'failed'").await, 1);
}

#[tokio::test]
async fn a_seventh_photo_is_refused_and_deleting_the_main_promotes_the_next() {
    let app = spawn_app().await;
    app.member(&app.browser, "six@example.com").await;
    for i in 0..6 {
        let res = upload(&app.browser, "p.png", png(20 + i, 20)).await;
        assert_eq!(res.status(), 303, "photo {i}");
    }
    wait_processed(&app.browser).await;
    let res = upload(&app.browser, "p.png", png(30, 30)).await;
    assert_eq!(res.status(), 409);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"photo_limit_reached\""));
    assert_eq!(app.count("photos").await, 6);

    let ids = my_photo_ids(&app.browser).await;
    let html = app.browser.html("/profile").await;
    assert!(
        html.contains(&format!(
            "class=\"photo main\" data-photo-id=\"{}\"",
            ids[0]
        )),
        "the first upload is main"
    );
    let files_before = media_files(&app).len();
    let res = app
        .browser
        .post(&format!("/profile/photos/{}/delete", ids[0]), &[])
        .await;
    assert_eq!(res.status(), 303);
    let ids_after = my_photo_ids(&app.browser).await;
    assert_eq!(ids_after.len(), 5);
    let html = app.browser.html("/profile").await;
    assert!(
        html.contains(&format!(
            "class=\"photo main\" data-photo-id=\"{}\"",
            ids[1]
        )),
        "the next one is main"
    );
    // The files go with the row (by a job): three sizes fewer.
    wait_until("the deleted photo's files are gone", || async {
        media_files(&app).len() == files_before - 3
    })
    .await;

    let res = app
        .browser
        .post(&format!("/profile/photos/{}/main", ids[3]), &[])
        .await;
    assert_eq!(res.status(), 303);
    let html = app.browser.html("/profile").await;
    assert!(html.contains(&format!(
        "class=\"photo main\" data-photo-id=\"{}\"",
        ids[3]
    )));
}

#[tokio::test]
async fn photos_are_reordered_one_place_at_a_time_and_the_first_is_the_main_one() {
    let app = spawn_app().await;
    app.member(&app.browser, "order@example.com").await;
    for i in 0..3 {
        assert_eq!(
            upload(&app.browser, "p.png", png(20 + i, 20))
                .await
                .status(),
            303
        );
    }
    wait_processed(&app.browser).await;
    let ids = my_photo_ids(&app.browser).await;
    let (a, b, c) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let moved = |id: &str, to: &str| {
        let path = format!("/profile/photos/{id}/move");
        let to = to.to_string();
        let browser = &app.browser;
        async move { browser.post(&path, &[("to", to.as_str())]).await }
    };

    // The last one moves later: nothing to do, nothing changes.
    let res = moved(&c, "later").await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        my_photo_ids(&app.browser).await,
        [a.clone(), b.clone(), c.clone()]
    );

    let res = moved(&c, "earlier").await;
    assert_eq!(res.status(), 303);
    let html = app.browser.html("/profile?notice=photo_moved").await;
    assert!(html.contains("Your photos are in their new order."));
    assert_eq!(
        my_photo_ids(&app.browser).await,
        [a.clone(), c.clone(), b.clone()]
    );

    // Moved first, it is the main photo.
    assert_eq!(moved(&c, "earlier").await.status(), 303);
    assert_eq!(
        my_photo_ids(&app.browser).await,
        [c.clone(), a.clone(), b.clone()]
    );
    let html = app.browser.html("/profile").await;
    assert!(html.contains(&format!("class=\"photo main\" data-photo-id=\"{c}\"")));
    assert!(
        html.contains("data-testid=\"photo-earlier\"")
            && html.contains("data-testid=\"photo-later\""),
        "the buttons are on the page"
    );

    // A bad direction is refused and changes nothing.
    for to in ["", "sideways", "earlier\u{0}"] {
        let res = moved(&a, to).await;
        assert_eq!(res.status(), 400, "to={to:?}");
    }
    assert_eq!(
        my_photo_ids(&app.browser).await,
        [c.clone(), a.clone(), b.clone()]
    );

    // A photo uploaded now comes last.
    assert_eq!(
        upload(&app.browser, "d.png", png(44, 44)).await.status(),
        303
    );
    wait_processed(&app.browser).await;
    let now = my_photo_ids(&app.browser).await;
    assert_eq!(now.len(), 4);
    assert_eq!(&now[..3], [c.clone(), a.clone(), b.clone()]);
}

#[tokio::test]
async fn another_member_cannot_touch_my_photos_by_id() {
    let app = spawn_app().await;
    app.member(&app.browser, "owner@example.com").await;
    assert_eq!(
        upload(&app.browser, "a.png", png(40, 40)).await.status(),
        303
    );
    assert_eq!(
        upload(&app.browser, "b.png", png(50, 50)).await.status(),
        303
    );
    wait_processed(&app.browser).await;
    let ids = my_photo_ids(&app.browser).await;
    let mallory = app.new_browser();
    app.member(&mallory, "mallory@example.com").await;
    for action in ["main", "delete"] {
        for id in &ids {
            let res = mallory
                .post(&format!("/profile/photos/{id}/{action}"), &[])
                .await;
            assert_error(res, 404, "not_found").await;
        }
    }
    for id in &ids {
        let res = mallory
            .post(&format!("/profile/photos/{id}/move"), &[("to", "earlier")])
            .await;
        assert_error(res, 404, "not_found").await;
    }
    assert_eq!(my_photo_ids(&app.browser).await, ids, "nothing changed");
    let html = app.browser.html("/profile").await;
    assert!(html.contains(&format!(
        "class=\"photo main\" data-photo-id=\"{}\"",
        ids[0]
    )));
    assert!(
        !mallory.html("/profile").await.contains("data-photo-id"),
        "my photos are not on her page"
    );
    assert_error(
        mallory
            .post("/profile/photos/not-a-number/delete", &[])
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn media_outside_processed_photos_is_not_served() {
    let app = spawn_app().await;
    for path in [
        "/media/incoming/abc",
        "/media/photos/../secret_key",
        "/media/photos/%2e%2e/secret_key",
        "/media/photos/nope-160.jpg",
        "/media/secret_key",
    ] {
        assert_eq!(app.browser.get(path).await.status(), 404, "{path}");
    }
}

/// The admin console shows a member's processed photos from sizes that
/// exist (it asked for a 320-pixel one, which is never made).
#[tokio::test]
async fn the_admin_console_shows_photos_that_exist() {
    let app = spawn_app().await;
    let admin = crate::admin::staff(&app, "boss@example.com", "superadmin").await;
    app.member(&app.browser, "pic@example.com").await;
    let res = upload(&app.browser, "me.jpg", jpeg_with_gps(800, 600)).await;
    assert_eq!(res.status(), 303);
    wait_processed(&app.browser).await;
    let id: i64 = app
        .db(|c| {
            use diesel::prelude::*;
            use swiper::db::schema::users;
            users::table
                .filter(users::email.eq("pic@example.com"))
                .select(users::id)
                .first(c)
        })
        .await;
    for page in [format!("/admin/users/{id}"), "/admin/photos".to_string()] {
        let srcs = image_srcs(&admin.html(&page).await);
        assert!(!srcs.is_empty(), "{page} shows the photo");
        for src in srcs {
            assert_eq!(admin.get(&src).await.status(), 200, "{page}: {src}");
        }
    }
}
