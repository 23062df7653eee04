//! My profile and preferences: saved through the form, each rule refused
//! with its code and nothing changed, and none of my private data on pages
//! other members see.

use crate::helpers::*;

fn fields<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("nickname", "Ada"),
        ("bio", "Engines & poetry"),
        ("city", "Paris"),
        ("latitude", "48.8566"),
        ("longitude", "2.3522"),
        ("time_zone", "Europe/Paris"),
        ("want_sex", "male"),
        ("min_age", "28"),
        ("max_age", "45"),
        ("max_distance_km", "30"),
        ("discoverable", "on"),
    ];
    for (k, v) in overrides {
        f.retain(|(name, _)| name != k);
        if !v.is_empty() || *k == "latitude" || *k == "longitude" {
            f.push((k, v));
        }
    }
    f
}

#[tokio::test]
async fn a_member_saves_their_profile_and_preferences() {
    let app = spawn_app().await;
    app.member(&app.browser, "ada@example.com").await;
    let page = app.browser.html("/profile").await;
    for name in [
        "nickname",
        "bio",
        "city",
        "latitude",
        "longitude",
        "want_sex",
        "min_age",
        "max_age",
        "max_distance_km",
        "discoverable",
        "time_zone",
    ] {
        assert!(
            page.contains(&format!("<label for=\"{name}\""))
                || page.contains(&format!("label class=\"check\" for=\"{name}\"")),
            "label for {name}"
        );
        assert!(page.contains(&format!("name=\"{name}\"")), "field {name}");
    }
    let res = app.browser.post("/profile", &fields(&[])).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/profile?notice=profile_saved");
    let page = app.browser.html("/profile").await;
    // Kept rounded to 0.01° (about a kilometre), never the exact position.
    assert!(page.contains("value=\"48.86\""), "{page}");
    assert!(page.contains("value=\"2.35\""));
    assert!(
        page.contains("Engines &#38; poetry") || page.contains("Engines &amp; poetry"),
        "escaped, not raw"
    );
    assert!(page.contains("<option value=\"male\" selected"));
    assert!(page.contains("<option value=\"Europe/Paris\" selected"));
    // Time zones by region, current names only; a stored old name stays offered.
    assert!(page.contains("<optgroup label=\"Europe\">"));
    assert!(page.contains("<option value=\"Asia/Kolkata\">Kolkata</option>"));
    assert!(
        !page.contains("\"Asia/Calcutta\""),
        "old names are not offered"
    );
    app.db(|c| {
        use diesel::prelude::*;
        use swiper::db::schema::users;
        diesel::update(users::table)
            .set(users::time_zone.eq("Asia/Calcutta"))
            .execute(c)
    })
    .await;
    let page = app.browser.html("/profile").await;
    assert!(
        page.contains("<option value=\"Asia/Calcutta\" selected>"),
        "a member's old zone is kept, not silently changed"
    );
    let (completeness, discoverable): (i32, bool) = app
        .db(|c| {
            use diesel::prelude::*;
            use swiper::db::schema::profiles;
            profiles::table
                .select((profiles::completeness, profiles::discoverable))
                .first(c)
        })
        .await;
    assert_eq!(completeness, 50, "bio 20 + city 15 + position 15");
    assert!(discoverable);

    // Unchecking the box hides the profile from discovery.
    let res = app
        .browser
        .post("/profile", &fields(&[("discoverable", "")]))
        .await;
    assert_eq!(res.status(), 303);
    assert!(!app
        .browser
        .html("/profile")
        .await
        .contains("name=\"discoverable\" type=\"checkbox\" checked"));
}

#[tokio::test]
async fn each_invalid_profile_value_is_refused_with_its_code_and_changes_nothing() {
    let app = spawn_app().await;
    app.member(&app.browser, "rules@example.com").await;
    assert_eq!(
        app.browser.post("/profile", &fields(&[])).await.status(),
        303
    );
    let before = app.browser.html("/profile").await;
    let cases: &[(&str, &str, &str, &str)] = &[
        ("latitude", "91", "latitude", "out_of_range"),
        ("longitude", "-181", "longitude", "out_of_range"),
        ("latitude", "north", "latitude", "not_a_number"),
        ("min_age", "50", "max_age", "age_range_inverted"),
        ("min_age", "17", "min_age", "out_of_range"),
        ("max_age", "100", "max_age", "out_of_range"),
        ("max_distance_km", "0", "max_distance_km", "out_of_range"),
        ("max_distance_km", "501", "max_distance_km", "out_of_range"),
        (
            "time_zone",
            "Mars/Olympus_Mons",
            "time_zone",
            "invalid_time_zone",
        ),
        ("want_sex", "robots", "want_sex", "invalid_choice"),
        (
            "nickname",
            "Eve\u{202E}nimda",
            "nickname",
            "invalid_nickname",
        ),
        ("nickname", "a\u{200B}b", "nickname", "invalid_nickname"),
        ("nickname", "", "nickname", "required"),
    ];
    for (field, value, error_field, code) in cases {
        let mut f = fields(&[(field, value)]);
        if value.is_empty() {
            f.push((field, ""));
        }
        let res = app.browser.post("/profile", &f).await;
        assert_eq!(res.status(), 422, "{field}={value}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains(&format!(
                "id=\"{error_field}-error\" data-error-code=\"{code}\""
            )),
            "{field}={value}: expected {code} on {error_field}"
        );
    }
    let long_bio = "x".repeat(501);
    let res = app
        .browser
        .post("/profile", &fields(&[("bio", &long_bio)]))
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .browser
        .post("/profile", &fields(&[("latitude", "")]))
        .await;
    assert_eq!(res.status(), 422, "a position needs both coordinates");
    assert_eq!(
        app.browser.html("/profile").await,
        before,
        "nothing changed"
    );
}

#[tokio::test]
async fn sign_up_refuses_a_nickname_with_a_direction_override() {
    let app = spawn_app().await;
    let res = app
        .browser
        .post(
            "/signup",
            &[
                ("email", "eve@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "Eve\u{202E}nimda"),
                ("sex", "female"),
                ("birthday", "1990-05-17"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"invalid_nickname\""));
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn pages_another_member_sees_never_show_my_email_birthday_or_position() {
    let app = spawn_app().await;
    app.member(&app.browser, "private@example.com").await;
    assert_eq!(
        app.browser.post("/profile", &fields(&[])).await.status(),
        303
    );
    let other = app.new_browser();
    app.member(&other, "nosy@example.com").await;
    for path in [
        "/",
        "/discover",
        "/profile",
        "/settings",
        "/settings/sessions",
    ] {
        let html = other.html(path).await;
        for secret in ["private@example.com", "1990-05-17", "48.86", "2.35"] {
            assert!(!html.contains(secret), "{path} shows {secret}");
        }
    }
    // My own page shows my card as others will see it: age, not birthday.
    let mine = app.browser.html("/profile").await;
    let card = &mine[mine.find("class=\"profile-card\"").unwrap()..];
    let card = &card[..card.find("</article>").unwrap()];
    assert!(card.contains("class=\"age\""));
    for secret in ["private@example.com", "1990", "48.86", "2.35"] {
        assert!(!card.contains(secret), "the public card shows {secret}");
    }
}

#[tokio::test]
async fn the_city_field_suggests_bundled_cities_and_a_picked_one_gives_the_position() {
    let app = spawn_app().await;
    // Members only: a visitor is sent to log in.
    let res = app.new_browser().get("/profile/cities?q=lyo").await;
    assert_eq!(res.status(), 303);

    app.member(&app.browser, "city@example.com").await;
    let found: serde_json::Value = app
        .browser
        .get("/profile/cities?q=lyo")
        .await
        .json()
        .await
        .expect("JSON");
    let first = &found[0];
    assert_eq!(first["label"], "Lyon, France", "{found}");
    assert!((first["latitude"].as_f64().unwrap() - 45.75).abs() < 0.1);
    assert!(found.as_array().unwrap().len() <= 8);
    // Chinese names where the data has them.
    let zh: serde_json::Value = app
        .browser
        .get("/profile/cities?q=%E5%B7%B4%E9%BB%8E")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(zh[0]["label"], "巴黎 (Paris, France)", "{zh}");
    // Nothing to suggest is an empty list, never an error.
    for q in ["", "%20%20", "zzzzqqq", &"a".repeat(500), "%F0%9F%92%A9"] {
        let res = app.browser.get(&format!("/profile/cities?q={q}")).await;
        assert_eq!(res.status(), 200, "q={q}");
        assert_eq!(res.text().await.unwrap(), "[]", "q={q}");
    }

    // Picked without JavaScript (no position sent): the city's position.
    let res = app
        .browser
        .post(
            "/profile",
            &fields(&[
                ("city", "Lyon, France"),
                ("latitude", ""),
                ("longitude", ""),
            ]),
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.browser.html("/profile").await;
    assert!(page.contains("value=\"Lyon, France\""));
    assert!(page.contains("value=\"45.75\""), "latitude of Lyon");
    assert!(page.contains("data-cities=\"/profile/cities\""));
    assert!(page.contains("GeoNames"), "the data is credited");
}
