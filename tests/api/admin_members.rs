//! The staff member list (filters, sorts, keyset pages) and the member page
//! (photos, reports about and by the member, resending verification).

use diesel::prelude::*;
use swiper::auth::rbac;
use swiper::auth::users::UserInsertForm;
use swiper::auth::{Sex, User, UserId};
use swiper::db::schema::users;

use crate::admin::{add_photo, audit_entries, staff};
use crate::helpers::*;

/// Inserts `n` members straight into the table (they never log in), named
/// `<prefix><i>@example.com`, and returns their ids.
async fn insert_members(app: &TestApp, prefix: &'static str, n: usize) -> Vec<i64> {
    app.db(move |c| {
        let now = chrono::Utc::now().naive_utc();
        let birthday = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).expect("a date");
        let mut ids = Vec::new();
        for i in 0..n {
            let email = format!("{prefix}{i:03}@example.com");
            let id = User::insert(
                c,
                &UserInsertForm {
                    email: &email,
                    password_hash: "unusable",
                    nickname: "Listed",
                    sex: Sex::Female,
                    birthday,
                    email_verified_at: Some(now),
                    is_superadmin: false,
                    language: None,
                    password_changed_at: now,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            ids.push(id.0);
        }
        Ok(ids)
    })
    .await
}

/// The member ids of a list page, in order.
fn listed(html: &str) -> Vec<i64> {
    html.split("data-user=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// The address of the page's "next" link.
fn next_link(html: &str) -> Option<String> {
    let rest = html.split("rel=\"next\" href=\"").nth(1)?;
    Some(
        rest.split('"')
            .next()?
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

#[tokio::test]
async fn staff_filter_sort_and_page_the_member_list() {
    let app = spawn_app().await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let boss = 1;
    let ids = insert_members(&app, "m", 60).await;
    let (banned, unverified, vip, helper) = (ids[3], ids[7], ids[11], ids[13]);
    app.db(move |c| {
        let now = chrono::Utc::now().naive_utc();
        User::ban(c, UserId(banned), now)?;
        diesel::update(users::table.find(unverified))
            .set(users::email_verified_at.eq(None::<chrono::NaiveDateTime>))
            .execute(c)?;
        let vip1 = swiper::auth::plans::by_name(c, "vip1")?.expect("vip1").id;
        swiper::auth::plans::assign(c, UserId(vip), vip1)?;
        rbac::assign(c, UserId(helper), "support", now)?;
        Ok(())
    })
    .await;

    assert_eq!(
        listed(&admin.html("/admin/users?status=banned").await),
        [banned]
    );
    let active = listed(&admin.html("/admin/users?status=active").await);
    assert!(!active.contains(&banned) && active.contains(&vip));
    assert_eq!(
        listed(&admin.html("/admin/users?verified=no").await),
        [unverified]
    );
    assert!(!listed(&admin.html("/admin/users?verified=yes").await).contains(&unverified));
    assert_eq!(listed(&admin.html("/admin/users?plan=vip1").await), [vip]);
    let free = listed(&admin.html("/admin/users?plan=free").await);
    assert!(
        free.contains(&banned) && !free.contains(&vip),
        "no plan row is free"
    );
    assert_eq!(
        listed(&admin.html("/admin/users?role=support").await),
        [helper]
    );
    assert_eq!(
        listed(&admin.html("/admin/users?role=superadmin").await),
        [boss]
    );
    // Filters combine, with a search too.
    assert!(listed(&admin.html("/admin/users?status=banned&verified=no").await).is_empty());
    assert_eq!(
        listed(&admin.html("/admin/users?q=m003&status=banned").await),
        [banned]
    );
    assert!(listed(&admin.html("/admin/users?q=m003&status=active").await).is_empty());

    // Sorts.
    let newest = listed(&admin.html("/admin/users?sort=newest").await);
    assert_eq!(newest[0], *ids.last().expect("ids"));
    assert!(newest.windows(2).all(|w| w[0] > w[1]));
    let by_email = listed(&admin.html("/admin/users?sort=email").await);
    assert_eq!(by_email[0], boss, "boss@ sorts before m000@");
    assert_eq!(by_email[1], ids[0]);

    // Keyset pages of 50 keep the filters and sort, and cover everyone once.
    for sort in ["oldest", "newest", "email"] {
        let first = admin
            .html(&format!("/admin/users?sort={sort}&verified=yes"))
            .await;
        let mut seen = listed(&first);
        assert_eq!(seen.len(), 50);
        let next = next_link(&first).expect("a next page");
        assert!(
            next.starts_with("/admin/users?verified=yes&sort="),
            "{next}"
        );
        let second = admin.html(&next).await;
        assert!(
            next_link(&second).is_none(),
            "{next}: {:?}",
            listed(&second)
        );
        seen.extend(listed(&second));
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort}: nobody twice");
        assert_eq!(
            seen.len(),
            60,
            "{sort}: 61 members, one unverified: {seen:?}"
        );
    }

    // Unknown values are refused, not ignored.
    for bad in [
        "status=gone",
        "verified=maybe",
        "sort=random",
        "role=nobody",
        "plan=gold",
    ] {
        let res = admin.get(&format!("/admin/users?{bad}")).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn the_member_page_shows_photos_reports_and_resends_verification_once() {
    let clock = swiper::clock::Clock::manual(chrono::Utc::now().naive_utc());
    let app = spawn_app_with_clock(clock.clone()).await;
    // Member 1 signs up and does not verify; member 2 is verified.
    let newcomer = app.new_browser();
    app.sign_up(&newcomer, "new@example.com", "Newcomer").await;
    let other = app.new_browser();
    app.member(&other, "other@example.com").await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let support = staff(&app, "help@example.com", "support").await;
    let photo = add_photo(&app, 1).await;
    let (about, by) = app
        .db(|c| {
            use swiper::matches::reports::{self, ReportReason};
            let now = chrono::Utc::now().naive_utc();
            let about = reports::file(
                c,
                UserId(2),
                UserId(1),
                ReportReason::Spam,
                "sells things",
                now,
            )?;
            let by = reports::file(c, UserId(1), UserId(2), ReportReason::FakeProfile, "", now)?;
            Ok((about.expect("filed").0, by.expect("filed").0))
        })
        .await;

    let page = admin.html("/admin/users/1").await;
    assert!(page.contains(&format!("data-photo=\"{photo}\"")), "{page}");
    assert!(
        page.contains(&format!("data-report-about=\"{about}\"")),
        "{page}"
    );
    assert!(page.contains("sells things"));
    assert!(page.contains(&format!("data-report-by=\"{by}\"")), "{page}");
    assert!(page.contains("/admin/users/1/resend-verification"));
    let page = admin.html("/admin/users/2").await;
    assert!(page.contains(&format!("data-report-by=\"{about}\"")));
    assert!(!page.contains("resend-verification"), "verified already");

    // Support resends after the sign-up mail's cool-down; the member gets a
    // working link; a double click waits.
    let res = support
        .post("/admin/users/1/resend-verification", &[])
        .await;
    assert_eq!(res.status(), 429, "the sign-up mail was just sent");
    clock.advance(chrono::TimeDelta::minutes(2));
    let res = support
        .post("/admin/users/1/resend-verification", &[])
        .await;
    assert_eq!(
        location(&res),
        "/admin/users/1?notice=admin_verification_resent"
    );
    let link = link_in(&app.mail.next_mail().await, "/verify-email?token=");
    let res = support
        .post("/admin/users/1/resend-verification", &[])
        .await;
    assert_eq!(res.status(), 429, "within the cool-down");
    assert_eq!(
        audit_entries(&app, "user.resend_verification").await.len(),
        1
    );
    assert_eq!(newcomer.get(&link).await.status(), 200);
    let res = support
        .post("/admin/users/2/resend-verification", &[])
        .await;
    assert_error(res, 409, "already_verified").await;
    assert_eq!(
        support
            .post("/admin/users/999/resend-verification", &[])
            .await
            .status(),
        404
    );
    // A moderator does not hold users.mail.
    let moderator = staff(&app, "mod@example.com", "moderator").await;
    assert_eq!(
        moderator
            .post("/admin/users/1/resend-verification", &[])
            .await
            .status(),
        403
    );
}
