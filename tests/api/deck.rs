//! The discover page says every outcome in words, without JavaScript too:
//! what is left of the day's superlikes and undos and when they start again,
//! an Undo that waits for a swipe, a refused swipe or undo shown on the deck
//! itself (with its code), and "It's a match" with the way to the
//! conversation.

use swiper::clock::Clock;

use crate::discovery::{join, swipe, Person};
use crate::helpers::*;

fn ana() -> Person {
    Person::new("ana@example.com", "female", "1990-05-17")
}

fn man(email: &'static str) -> Person {
    Person::new(email, "male", "1990-01-01")
}

/// The opening tag of the first element carrying `marker` (an attribute).
fn tag_with<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in:\n{html}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// The number shown in `<b data-{name}>N</b>`.
fn shown(html: &str, name: &str) -> i64 {
    let marker = format!("data-{name}>");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} in:\n{html}"))
        + marker.len();
    html[at..]
        .split('<')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn disabled(html: &str, button: &str) -> bool {
    tag_with(html, button).contains("aria-disabled=\"true\"")
}

#[tokio::test]
async fn the_deck_says_what_is_left_today_and_when_it_starts_again() {
    // 21:00 UTC on 1 June is 23:00 in Paris, Ana's time zone: an hour to go.
    let start = chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
        .and_then(|d| d.and_hms_opt(21, 0, 0))
        .unwrap();
    let app = spawn_app_with_clock(Clock::manual(start)).await;
    let (me, _) = join(&app, &ana()).await;
    let (_, a) = join(&app, &man("a@example.com")).await;
    join(&app, &man("b@example.com")).await;

    let html = me.html("/discover").await;
    assert_eq!(shown(&html, "superlikes-left"), 1);
    assert_eq!(shown(&html, "rewinds-left"), 3);
    assert!(
        html.contains("Both start again at midnight, in 1 h 00 min."),
        "{html}"
    );
    assert!(
        disabled(&html, "class=\"round undo\""),
        "nothing to undo yet"
    );
    assert!(!disabled(&html, "class=\"round super\""));

    assert_eq!(swipe(&me, a, "superlike").await.status(), 303);
    let html = me.html("/discover").await;
    assert_eq!(shown(&html, "superlikes-left"), 0);
    assert!(
        disabled(&html, "class=\"round super\""),
        "no superlike left"
    );
    assert!(!disabled(&html, "class=\"round undo\""), "a swipe to undo");
    // The day's rewinds spent: Undo is off again, and says why when pressed.
    for _ in 0..3 {
        let res = me.post("/swipes/rewind", &[]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(swipe(&me, a, "dislike").await.status(), 303);
    }
    let html = me.html("/discover").await;
    assert_eq!(shown(&html, "rewinds-left"), 0);
    assert!(disabled(&html, "class=\"round undo\""), "no undo left");
}

#[tokio::test]
async fn a_refused_swipe_or_undo_shows_the_deck_again_with_the_reason() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let (_, a) = join(&app, &man("a@example.com")).await;
    let (_, b) = join(&app, &man("b@example.com")).await;

    // Nothing to undo: the deck, with the reason in words and its code.
    let res = me.post("/swipes/rewind", &[]).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("data-testid=\"deck\""),
        "the deck is still there"
    );
    assert!(html.contains(&format!("data-candidate=\"{a}\"")));
    let error = tag_with(&html, "data-testid=\"deck-error\"");
    assert!(
        error.contains("data-error-code=\"nothing_to_rewind\""),
        "{error}"
    );
    assert!(!error.contains("hidden"), "{error}");
    assert!(html.contains("There is no swipe to undo."));

    // The day's superlike spent: the second one is refused on the deck.
    assert_eq!(swipe(&me, a, "superlike").await.status(), 303);
    let res = swipe(&me, b, "superlike").await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("data-candidate=\"{b}\"")),
        "b is still to swipe"
    );
    assert!(tag_with(&html, "data-testid=\"deck-error\"")
        .contains("data-error-code=\"superlike_limit_reached\""));
    assert!(
        html.contains("superlikes. More tomorrow!"),
        "the reason in words"
    );
    assert_eq!(
        app.count("swipes").await,
        1,
        "nothing written by the refusals"
    );

    // swipe.js asks for JSON: the same refusal, as JSON with its code.
    let token = me.csrf().await;
    let res = me
        .client
        .post(me.url("/swipes"))
        .header("Accept", "application/json")
        .form(&[
            ("target", b.to_string().as_str()),
            ("kind", "superlike"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "superlike_limit_reached");

    // A page that is fine says nothing.
    let html = me.html("/discover").await;
    assert!(tag_with(&html, "data-testid=\"deck-error\"").contains("hidden"));
}

#[tokio::test]
async fn a_match_without_javascript_says_so_and_leads_to_the_conversation() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (him, him_id) = join(&app, &man("him@example.com")).await;
    let (other, _) = join(
        &app,
        &Person::new("zoe@example.com", "female", "1991-01-01"),
    )
    .await;
    assert_eq!(swipe(&him, me_id, "like").await.status(), 303);
    let res = swipe(&me, him_id, "like").await;
    let to = location(&res);
    let id: i64 = to
        .strip_prefix("/discover?notice=its_a_match&match=")
        .unwrap_or_else(|| panic!("{to}"))
        .parse()
        .unwrap();

    let html = me.html(&to).await;
    let screen = tag_with(&html, "data-testid=\"match-screen\"");
    assert!(!screen.contains("hidden"), "{screen}");
    assert!(html.contains("s a match!</h2>"));
    assert!(html.contains("You and him like each other."));
    assert!(
        html.contains(&format!("href=\"/matches/{id}\"")),
        "Send a message"
    );

    // Someone else's match is not shown to me, nor to a third member.
    let html = other.html(&to).await;
    assert!(tag_with(&html, "data-testid=\"match-screen\"").contains("hidden"));
    assert!(!html.contains(&format!("/matches/{id}")));
    assert!(!html.contains("You and him"));
}

#[tokio::test]
async fn a_profile_page_offers_like_and_nope_until_i_swipe() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let (_, a) = join(&app, &man("a@example.com")).await;
    let page = me.html(&format!("/users/{a}")).await;
    assert!(page.contains("data-testid=\"profile-swipes\""), "{page}");
    assert!(page.contains(&format!("name=\"target\" value=\"{a}\"")));
    assert!(
        page.contains("<details class=\"menu safety-menu\" id=\"safety\">"),
        "block and report in a closed menu"
    );
    assert!(me
        .html(&format!("/users/{a}?safety"))
        .await
        .contains("id=\"safety\" open"));
    // The like from his page: he stays visible to me, without the buttons.
    assert_eq!(swipe(&me, a, "like").await.status(), 303);
    let page = me.html(&format!("/users/{a}")).await;
    assert!(!page.contains("data-testid=\"profile-swipes\""), "{page}");
}

#[tokio::test]
async fn an_undone_superlike_is_not_given_back() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let (_, a) = join(&app, &man("a@example.com")).await;
    let (_, b) = join(&app, &man("b@example.com")).await;
    assert_eq!(swipe(&me, a, "superlike").await.status(), 303);
    assert_eq!(me.post("/swipes/rewind", &[]).await.status(), 303);
    // The day's one superlike was given: undoing it does not make a second.
    let res = swipe(&me, b, "superlike").await;
    assert_eq!(res.status(), 409);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"superlike_limit_reached\""));
    assert_eq!(shown(&me.html("/discover").await, "superlikes-left"), 0);
    assert_eq!(
        swipe(&me, b, "like").await.status(),
        303,
        "a like still goes"
    );
}
