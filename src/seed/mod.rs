//! `swiper seed --users N`: realistic members (names, both sexes, birthdays
//! 18–60, positions clustered around real cities, bios, preferences,
//! generated avatars for the first ones, a share of swipes and matches), and
//! the demo population of the first development start.
//!
//! Seeded members are `member<n>@seed.swiper.test` for n = 0, 1, …; a run
//! adds the ones missing up to N, so it is safe to re-run. They share one
//! password hash (of [`SEED_PASSWORD`]): hashing a million passwords at
//! 600,000 iterations would take days. Rows go in batches of multi-row
//! inserts, one transaction per batch; from [`SET_ASIDE_FROM`] new members
//! on PostgreSQL, one transaction for the whole load, which rebuilds the
//! feed indexes at its end.

mod avatars;
pub mod data;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use indicatif::{ProgressBar, ProgressStyle};

use crate::auth::users::UserInsertForm;
use crate::auth::{Sex, User, UserId};
use crate::clock::Clock;
use crate::db::Db;
use crate::discovery::swipes::{self, NewSwipe, SwipeKind};
use crate::error::AppError;
use crate::matches::store as matches;
use crate::profiles::completeness::refresh_completeness;
use crate::profiles::imaging;
use crate::profiles::photos::{self, Photo};
use crate::profiles::store::{city_key, lat_band, lng_band, Profile, WantSex};
use crate::security::password::hash_off_executor;
use crate::security::SecretString;
use crate::storage::MediaStore;
use data::Rng;

/// The password of every seeded member (they are demo data, never real people).
pub const SEED_PASSWORD: &str = "swiper seed member";
pub const EMAIL_DOMAIN: &str = "seed.swiper.test";
/// Members per batch of inserts (and per transaction, for a small load).
const BATCH: usize = 1000;
/// From this many new members, a load on PostgreSQL is one transaction
/// that sets the feed indexes aside and builds them again at the end
/// ([`crate::db::set_aside_indexes`]): a third faster than keeping them up
/// to date row by row, and the indexes come out packed (a third smaller).
const SET_ASIDE_FROM: usize = 100_000;

pub fn email(n: usize) -> String {
    format!("member{n}@{EMAIL_DOMAIN}")
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    pub created: usize,
    pub already_there: usize,
    pub swipes: usize,
    pub matches: usize,
    pub avatars: usize,
}

/// One seeded member, derived from its number only (re-runs agree).
struct Member {
    email: String,
    nickname: String,
    sex: Sex,
    birthday: NaiveDate,
    profile: Profile,
}

fn member(n: usize, now: NaiveDateTime, today: NaiveDate) -> Member {
    let mut rng = Rng::new(n as u64 ^ 0x5eed);
    // About one member in fifty is non-binary; the others half and half.
    let sex = match rng.below(50) {
        0 => Sex::NonBinary,
        n if n % 2 == 1 => Sex::Female,
        _ => Sex::Male,
    };
    let names = match sex {
        Sex::Female => data::WOMEN,
        Sex::Male => data::MEN,
        Sex::NonBinary if rng.below(2) == 0 => data::WOMEN,
        Sex::NonBinary => data::MEN,
    };
    let nickname = rng.pick(names).to_string();
    let age = 18 + rng.below(42) as i32;
    let day_of_year = rng.below(365) as u32;
    let birthday = NaiveDate::from_yo_opt(today.year() - age - 1, day_of_year + 1)
        .unwrap_or(today)
        .max(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(today));
    let &(city, lat, lng, _) = rng.pick(data::CITIES);
    // Clustered around the city centre: a deviation of about 8 km.
    let (latitude, longitude) = (lat + rng.normal() * 0.07, lng + rng.normal() * 0.1);
    let with_position = rng.below(10) < 8;
    let want = match (rng.below(10), sex) {
        (0, _) | (_, Sex::NonBinary) => WantSex::Any,
        (1, Sex::Female) => WantSex::Female,
        (1, Sex::Male) => WantSex::Male,
        (2, Sex::Female) => WantSex::FemaleNonBinary,
        (2, Sex::Male) => WantSex::MaleNonBinary,
        (_, Sex::Female) => WantSex::Male,
        (_, Sex::Male) => WantSex::Female,
    };
    let min_age = (age - 5 - rng.below(6) as i32).max(18);
    let max_age = (age + 5 + rng.below(10) as i32).min(99);
    let bio = if rng.below(10) < 8 {
        data::bio(&mut rng)
    } else {
        String::new()
    };
    let last_active_at = now - TimeDelta::minutes(rng.below(60 * 24 * 30) as i64);
    let (latitude, longitude) = if with_position {
        (Some(latitude), Some(longitude))
    } else {
        (None, None)
    };
    let completeness =
        (if bio.is_empty() { 0 } else { 20 }) + 15 + if with_position { 15 } else { 0 };
    Member {
        email: email(n),
        nickname: nickname.clone(),
        sex,
        birthday,
        profile: Profile {
            user_id: UserId(0),
            sex,
            birthday,
            bio,
            city: city.to_string(),
            latitude,
            longitude,
            want_sex: want,
            min_age,
            max_age,
            max_distance_km: [10, 25, 50, 100, 200][rng.below(5)],
            discoverable: true,
            completeness,
            last_active_at,
            created_at: now,
            updated_at: now,
            in_feed: true,
            lat_band: latitude.map(lat_band),
            lng_band: longitude.map(lng_band),
            city_key: city_key(city),
            hide_age: false,
            hide_distance: false,
        },
    }
}

/// Ensures members 0..n exist. `avatars`: how many of the first members get
/// a generated photo (photos are processed like uploads, so they cost time).
pub async fn seed(
    db: &Db,
    media: &MediaStore,
    clock: &Clock,
    password_iterations: u32,
    n: usize,
    avatars: usize,
    progress: bool,
) -> Result<SeedReport, AppError> {
    let existing = db
        .primary(|c| Ok(User::count_seeded(c, EMAIL_DOMAIN)?))
        .await?;
    let existing = usize::try_from(existing).unwrap_or(0);
    let mut report = SeedReport {
        already_there: existing.min(n),
        ..SeedReport::default()
    };
    let bar = if progress {
        let bar = ProgressBar::new(n as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} members ({per_sec}, eta {eta})")
        {
            bar.set_style(style);
        }
        bar.set_position(existing.min(n) as u64);
        bar
    } else {
        ProgressBar::hidden()
    };
    if existing >= n {
        bar.finish_and_clear();
        return Ok(report);
    }
    let hash = hash_off_executor(&SecretString::new(SEED_PASSWORD), password_iterations).await?;
    let (now, today) = (clock.now(), clock.today());
    if n - existing >= SET_ASIDE_FROM {
        // One transaction: the feed indexes are dropped, the rows loaded and
        // the indexes built again, packed; an interrupted load rolls back
        // whole, the indexes included.
        let (bar, hash) = (bar.clone(), hash.clone());
        let totals = db
            .write(move |c| {
                let indexes = crate::db::set_aside_indexes(c, "profiles", "profiles_feed_%")?;
                let mut totals = (0, 0, 0);
                for range in batches(existing, n) {
                    let end = range.end;
                    let (made, swiped, matched) = load_batch(c, &hash, range, now, today)?;
                    totals = (totals.0 + made, totals.1 + swiped, totals.2 + matched);
                    show_progress(&bar, progress, end, n);
                }
                crate::db::restore_indexes(c, &indexes)?;
                Ok(totals)
            })
            .await?;
        (report.created, report.swipes, report.matches) = totals;
    } else {
        for range in batches(existing, n) {
            let (end, hash) = (range.end, hash.clone());
            let (made, swiped, matched) = db
                .write(move |c| load_batch(c, &hash, range, now, today))
                .await?;
            report.created += made;
            report.swipes += swiped;
            report.matches += matched;
            show_progress(&bar, progress, end, n);
        }
    }
    bar.finish_and_clear();
    // Plans must not depend on when autovacuum comes by.
    db.primary(|c| Ok(crate::db::analyze(c)?)).await?;
    report.avatars = add_avatars(db, media, clock, 0, avatars.min(n)).await?;
    Ok(report)
}

/// Members `from..to` in runs of [`BATCH`].
fn batches(from: usize, to: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (from..to)
        .step_by(BATCH)
        .map(move |start| start..(start + BATCH).min(to))
}

fn show_progress(bar: &ProgressBar, progress: bool, done: usize, of: usize) {
    bar.set_position(done as u64);
    if !progress {
        tracing::info!(done, of, "demo data: members created");
    }
}

/// Members `range`, their profiles, and swipes and matches among them:
/// (profiles, swipes, matches) written.
fn load_batch(
    c: &mut crate::db::DbConnection,
    hash: &str,
    range: std::ops::Range<usize>,
    now: NaiveDateTime,
    today: NaiveDate,
) -> Result<(usize, usize, usize), AppError> {
    let start = range.start;
    let members: Vec<Member> = range.map(|i| member(i, now, today)).collect();
    let forms: Vec<UserInsertForm<'_>> = members
        .iter()
        .map(|m| verified_user(&m.email, hash, &m.nickname, m.sex, m.birthday, now))
        .collect();
    for chunk in forms.chunks(2000) {
        User::insert_many(c, chunk)?;
    }
    let emails: Vec<&str> = members.iter().map(|m| m.email.as_str()).collect();
    let ids: std::collections::HashMap<String, UserId> =
        User::ids_by_email(c, &emails)?.into_iter().collect();
    let mut rows = Vec::with_capacity(members.len());
    let mut by_index = Vec::with_capacity(members.len());
    for m in &members {
        let Some(&id) = ids.get(&m.email) else {
            continue;
        };
        let mut p = m.profile.clone();
        p.user_id = id;
        by_index.push((id, m.sex, p.want_sex));
        rows.push(p);
    }
    for chunk in rows.chunks(1500) {
        Profile::insert_many(c, chunk)?;
    }
    let (swipe_rows, pairs) = swipes_for(&by_index, start, now);
    for chunk in swipe_rows.chunks(5000) {
        swipes::insert_many(c, chunk)?;
    }
    for chunk in pairs.chunks(5000) {
        matches::insert_many(c, chunk, now)?;
    }
    Ok((rows.len(), swipe_rows.len(), pairs.len()))
}

/// Members of the demo population on a new development database.
pub const DEMO_MEMBERS: usize = 200;
pub const DEMO_EMAIL: &str = "demo@swiper.test";

/// On a new, empty database (development only): the demo population and a
/// demo account that some members already liked, so a newcomer can swipe and
/// match at once. Returns the demo account's password when it was created.
pub async fn ensure_demo(
    db: &Db,
    media: &MediaStore,
    clock: &Clock,
    password_iterations: u32,
) -> Result<Option<SecretString>, AppError> {
    if db.primary(|c| Ok(User::count(c)?)).await? > 0 {
        return Ok(None);
    }
    tracing::info!(
        members = DEMO_MEMBERS,
        "a new database: creating the demo data (members, then their portraits)"
    );
    seed(
        db,
        media,
        clock,
        password_iterations,
        DEMO_MEMBERS,
        DEMO_MEMBERS,
        false,
    )
    .await?;
    let password = SecretString::new(crate::security::random::token(12));
    let hash = hash_off_executor(&password, password_iterations).await?;
    let now = clock.now();
    let birthday = clock
        .today()
        .checked_sub_months(chrono::Months::new(12 * 30))
        .unwrap_or_else(|| clock.today());
    let demo = db
        .write(move |c| {
            let id = User::insert(
                c,
                &verified_user(DEMO_EMAIL, &hash, "Demo", Sex::Male, birthday, now),
            )?;
            let &(city, lat, lng, _) = &data::CITIES[0];
            Profile::insert_many(
                c,
                &[Profile {
                    user_id: id,
                    sex: Sex::Male,
                    birthday,
                    bio: "The demo account: swipe away.".to_string(),
                    city: city.to_string(),
                    latitude: Some(lat),
                    longitude: Some(lng),
                    want_sex: WantSex::Any,
                    min_age: 18,
                    max_age: 99,
                    max_distance_km: 500,
                    discoverable: true,
                    completeness: 50,
                    last_active_at: now,
                    created_at: now,
                    updated_at: now,
                    in_feed: true,
                    lat_band: Some(lat_band(lat)),
                    lng_band: Some(lng_band(lng)),
                    city_key: city_key(city),
                    hide_age: false,
                    hide_distance: false,
                }],
            )?;
            let neighbours = gather_near(c, now, &data::CITIES[0])?;
            // Neighbours who like him already (two superlike).
            let fans: Vec<UserId> = neighbours.into_iter().take(6).collect();
            let rows: Vec<NewSwipe> = fans
                .iter()
                .enumerate()
                .map(|(i, &fan)| NewSwipe {
                    swiper_id: fan,
                    target_id: id,
                    kind: if i < 2 {
                        SwipeKind::Superlike
                    } else {
                        SwipeKind::Like
                    },
                    created_at: now,
                })
                .collect();
            swipes::insert_many(c, &rows)?;
            Ok(id)
        })
        .await?;
    // The demo account has a face too (its main photo, the navigation's avatar).
    give_portrait(db, media, clock, demo, 0xde70).await?;
    Ok(Some(password))
}

/// Moves every other demo member (men and women) to the demo account's
/// city, within about 8 km of its centre, open to meeting someone of 30 (the
/// demo account's age) and no farther than 50 km: a newcomer's first deck is
/// full of people with photos, not the handful a city of twenty would hold.
/// Returns the ones who would see the demo account, who want men too.
fn gather_near(
    c: &mut crate::db::DbConnection,
    now: NaiveDateTime,
    &(city, lat, lng, _): &(&str, f64, f64, &str),
) -> diesel::QueryResult<Vec<UserId>> {
    use crate::db::schema::profiles::dsl as p;
    use diesel::prelude::*;
    let mut near = Vec::new();
    for n in (0..DEMO_MEMBERS).step_by(2) {
        let Some(user) = User::find_by_email(c, &email(n))? else {
            continue;
        };
        let m = member(n, now, now.date());
        let mut rng = Rng::new(n as u64 ^ 0xde70);
        let (latitude, longitude) = (lat + rng.normal() * 0.05, lng + rng.normal() * 0.07);
        diesel::update(p::profiles.find(user.id))
            .set((
                p::city.eq(city),
                p::city_key.eq(city_key(city)),
                p::latitude.eq(Some(latitude)),
                p::longitude.eq(Some(longitude)),
                p::lat_band.eq(Some(lat_band(latitude))),
                p::lng_band.eq(Some(lng_band(longitude))),
                p::min_age.eq(m.profile.min_age.min(25)),
                p::max_age.eq(m.profile.max_age.max(35)),
                p::max_distance_km.eq(m.profile.max_distance_km.max(50)),
            ))
            .execute(c)?;
        if m.profile.want_sex != WantSex::Female {
            near.push(user.id);
        }
    }
    Ok(near)
}

/// A few swipes per member on members of the same batch, some of them
/// returned (a match): by number, so re-runs agree.
fn swipes_for(
    members: &[(UserId, Sex, WantSex)],
    first: usize,
    now: NaiveDateTime,
) -> (Vec<NewSwipe>, Vec<(UserId, UserId)>) {
    let mut out = Vec::new();
    let mut pairs = Vec::new();
    for (i, &(id, _, _)) in members.iter().enumerate() {
        let mut rng = Rng::new((first + i) as u64 ^ 0x5717e);
        for step in [1usize, 3] {
            let Some(j) = i.checked_sub(step) else {
                continue;
            };
            let (target, _, _) = members[j];
            let kind = match rng.below(10) {
                0 => SwipeKind::Superlike,
                1..=5 => SwipeKind::Like,
                _ => SwipeKind::Dislike,
            };
            out.push(NewSwipe {
                swiper_id: id,
                target_id: target,
                kind,
                created_at: now,
            });
            // One in five positive swipes is returned: a match. The return
            // swipe goes from the lower member to the higher one, which the
            // lower member's own swipes (always to lower numbers) never use.
            if kind != SwipeKind::Dislike && rng.below(5) == 0 {
                out.push(NewSwipe {
                    swiper_id: target,
                    target_id: id,
                    kind: SwipeKind::Like,
                    created_at: now,
                });
                pairs.push((id, target));
            }
        }
    }
    (out, pairs)
}

/// Generated photos for members `from..to` that have none yet.
async fn add_avatars(
    db: &Db,
    media: &MediaStore,
    clock: &Clock,
    from: usize,
    to: usize,
) -> Result<usize, AppError> {
    let mut added = 0;
    for n in from..to {
        let email = email(n);
        let Some(user) = db
            .primary(move |c| Ok(User::find_by_email(c, &email)?))
            .await?
        else {
            continue;
        };
        let id = user.id;
        if db
            .primary(move |c| Ok(Photo::count_of_user(c, id)?))
            .await?
            > 0
        {
            continue;
        }
        give_portrait(db, media, clock, id, n as u64 ^ 0xa7a7).await?;
        added += 1;
        if added % 50 == 0 {
            tracing::info!(done = added, of = to - from, "demo data: portraits drawn");
        }
    }
    Ok(added)
}

/// A generated portrait as `id`'s main photo, stored like a processed upload.
async fn give_portrait(
    db: &Db,
    media: &MediaStore,
    clock: &Clock,
    id: UserId,
    seed: u64,
) -> Result<(), AppError> {
    let renditions = actix_web::web::block(move || {
        let mut rng = Rng::new(seed);
        imaging::renditions(avatars::generate(&mut rng, 640))
    })
    .await
    .map_err(|e| AppError::internal("avatar", e))?
    .map_err(|e| AppError::internal("avatar", e))?;
    let key = photos::new_storage_key();
    for r in renditions {
        media
            .put(&photos::size_key(&key, r.size), r.jpeg, "image/jpeg")
            .await
            .map_err(|e| AppError::internal("media storage", e))?;
    }
    let now = clock.now();
    db.write(move |c| {
        let photo = Photo::insert(c, id, &key, true, now)?;
        Photo::mark_ready(c, photo, 640, 640, now)?;
        refresh_completeness(c, id)?;
        Ok(())
    })
    .await
}

/// A seeded account: verified, not staff, created `now`.
fn verified_user<'a>(
    email: &'a str,
    password_hash: &'a str,
    nickname: &'a str,
    sex: Sex,
    birthday: chrono::NaiveDate,
    now: chrono::NaiveDateTime,
) -> UserInsertForm<'a> {
    UserInsertForm {
        email,
        password_hash,
        nickname,
        sex,
        birthday,
        email_verified_at: Some(now),
        is_superadmin: false,
        language: None,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
    }
}
