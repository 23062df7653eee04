//! Photos in S3-compatible object storage: a real server (CI starts
//! `moto_server` and sets TEST_S3_ENDPOINT), a bucket per test.

use s3::creds::Credentials;
use s3::{Bucket, BucketConfiguration, Region};

use crate::helpers::*;
use crate::photos::{jpeg_markers, jpeg_with_gps, upload, wait_processed};

pub async fn bucket(endpoint: &str, name: &str) -> Box<Bucket> {
    let region = Region::Custom {
        region: "eu-west-1".into(),
        endpoint: endpoint.into(),
    };
    let credentials = Credentials::new(Some("test"), Some("test"), None, None, None).unwrap();
    Bucket::create_with_path_style(name, region, credentials, BucketConfiguration::default())
        .await
        .expect("create the test bucket")
        .bucket
}

pub async fn keys(bucket: &Bucket) -> Vec<String> {
    let mut out: Vec<String> = bucket
        .list(String::new(), None)
        .await
        .expect("list")
        .into_iter()
        .flat_map(|page| page.contents.into_iter().map(|o| o.key))
        .collect();
    out.sort();
    out
}

#[tokio::test]
#[ignore = "needs an S3-compatible server: set TEST_S3_ENDPOINT and run with -- --include-ignored (CI starts moto_server)"]
async fn photos_are_stored_served_and_deleted_in_s3_compatible_storage() {
    let endpoint = std::env::var("TEST_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("TEST_S3_ENDPOINT must point at an S3-compatible server (e.g. moto_server)");
    let name = format!(
        "swiper-test-{}",
        swiper::security::random::token(8)
            .to_lowercase()
            .replace(['_', '-'], "x")
    );
    let bucket = bucket(&endpoint, &name).await;
    let app = spawn_app_with(&[
        ("S3_ENDPOINT", endpoint.as_str()),
        ("S3_BUCKET", name.as_str()),
        ("S3_REGION", "eu-west-1"),
        ("S3_ACCESS_KEY", "test"),
        ("S3_SECRET_KEY", "test"),
    ])
    .await;
    app.member(&app.browser, "cloud@example.com").await;
    assert_eq!(
        upload(&app.browser, "c.jpg", jpeg_with_gps(900, 600))
            .await
            .status(),
        303
    );
    let html = wait_processed(&app.browser).await;

    let stored = keys(&bucket).await;
    assert_eq!(
        stored.len(),
        3,
        "three sizes and no upload left: {stored:?}"
    );
    assert!(stored
        .iter()
        .all(|k| k.starts_with("photos/") && k.ends_with(".jpg")));
    for key in &stored {
        let object = bucket.get_object(key).await.expect("object");
        assert!(
            !jpeg_markers(object.as_slice()).contains(&0xE1),
            "no EXIF in {key}"
        );
        assert!(
            html.contains(&format!("/media/{key}")),
            "the page links {key}"
        );
        let served = app.browser.get(&format!("/media/{key}")).await;
        assert_eq!(served.status(), 200);
        assert_eq!(served.bytes().await.unwrap().as_ref(), object.as_slice());
    }
    assert!(
        !app.state.settings.media.dir.join("photos").exists(),
        "nothing on local disk"
    );

    let id = html
        .split("data-photo-id=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let res = app
        .browser
        .post(&format!("/profile/photos/{id}/delete"), &[])
        .await;
    assert_eq!(res.status(), 303);
    wait_until("the deleted photo's objects are gone", || async {
        keys(&bucket).await.is_empty()
    })
    .await;
    let _ = bucket.delete().await;
}
