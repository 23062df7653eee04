//! The recommendation feed: who I may be shown, in what order.
//!
//! **Rules** (all in SQL, each on an indexed path): in the feed (discoverable,
//! verified, active), not me, not swiped by me, not blocked either way, their
//! sex among the ones I want and mine among theirs, their age in my range and
//! mine in theirs, and — when both have a position — within the smaller of
//! our two maximum distances, else in the same city.
//!
//! **Index use.** With a position, one query per one-degree cell my distance
//! covers and sex I want (`profiles_feed_cell_female`, `…_male`,
//! `…_nonbinary`: one partial index per sex, keyed in_feed, lat_band,
//! lng_band, last_active_at, then the filters — birth date, the box, the
//! two-way age range — which PostgreSQL checks inside the index scan), or
//! per whole degree of latitude when that would be more than [`MAX_CELLS`]
//! cells (`profiles_feed_band_covering`), newest activity first, the exact
//! box as a filter; plus one query for members without a position in my
//! city (`profiles_feed_city_unplaced_covering`). Without a position, the
//! city query only. Each query stops after [`PER_QUERY`] rows; the exact
//! distance is checked here. The indexes carry every column the rules
//! filter on and the ranking reads ([`Ranked`]), so on PostgreSQL the
//! queries are index-only scans: a row the age or preference filters refuse
//! costs no table page. On PostgreSQL the cells (or bands) of each sex I
//! want and the city are one statement: the cell query `CROSS JOIN
//! LATERAL` over the cells, per sex, `UNION ALL` the city query over the
//! sexes ([`crate::db::Lateral`]), the lists bound as arrays so the
//! statement is prepared once per connection and runs on a generic plan;
//! SQLite, which has no `LATERAL`, runs one statement per cell and sex
//! (docs/feed-query-plans.md). The superlikers are one statement for all
//! the sexes I want.
//!
//! **Order.** People who superliked me first; then by score, out of 100:
//! recent activity (50: full today, halving every 3 days), distance (20: full
//! next door, none at the limit; 10 for a same-city match without
//! positions) and profile completeness (30: its percentage × 0.3).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};

use super::swipes::SwipeKind;
use crate::auth::{Sex, UserId};
use crate::db::schema::{blocks, profiles, swipes};
use crate::db::{DbConnection, Listed, Word};
use crate::profiles::public::{rounded_km, Position};
use crate::profiles::store::{Profile, WantSex};

type Backend = <DbConnection as Connection>::Backend;

/// Rows read per query (per latitude band, or the city).
pub const PER_QUERY: i64 = 100;
/// From this many swipes on, the feed probes a member's swipes pair by
/// pair instead of hashing them all ([`rules`]).
pub const MANY_SWIPES: i64 = 200;
/// Longest feed kept for one member (the cached snapshot).
pub const MAX_FEED: usize = 300;

/// What ranking a candidate needs: columns the feed's indexes carry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = profiles)]
pub struct Ranked {
    pub user_id: UserId,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub max_distance_km: i32,
    pub city_key: String,
    pub last_active_at: NaiveDateTime,
    pub completeness: i32,
}

impl Ranked {
    pub fn of(p: &Profile) -> Self {
        Self {
            user_id: p.user_id,
            latitude: p.latitude,
            longitude: p.longitude,
            max_distance_km: p.max_distance_km,
            city_key: p.city_key.clone(),
            last_active_at: p.last_active_at,
            completeness: p.completeness,
        }
    }

    fn position(&self) -> Option<Position> {
        Position::at(self.latitude, self.longitude)
    }
}

/// The member the feed is for, with what the rules need.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub id: UserId,
    pub sex: Sex,
    pub age: i32,
    pub want: WantSex,
    pub min_age: i32,
    pub max_age: i32,
    pub max_distance_km: i32,
    pub position: Option<Position>,
    pub city_key: String,
}

impl Viewer {
    pub fn of(p: &Profile, today: NaiveDate) -> Self {
        Self {
            id: p.user_id,
            sex: p.sex,
            age: crate::auth::input::age_on(p.birthday, today),
            want: p.want_sex,
            min_age: p.min_age,
            max_age: p.max_age,
            max_distance_km: p.max_distance_km,
            position: Position::of(p),
            city_key: p.city_key.clone(),
        }
    }

    fn wanted_sexes(&self) -> &'static [Sex] {
        self.want.sexes()
    }
}

/// One person in my feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: UserId,
    pub superliked_me: bool,
    pub score: f64,
    /// Rounded, only when both have a position.
    pub distance_km: Option<u32>,
}

/// Birthdays of people aged `min..=max` on `today`: (earliest exclusive, latest inclusive).
fn birthday_window(min_age: i32, max_age: i32, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let years_ago = |n: i32| {
        today
            .with_year(today.year() - n)
            .or_else(|| today.pred_opt().and_then(|d| d.with_year(d.year() - n)))
            .unwrap_or(today)
    };
    (years_ago(max_age + 1), years_ago(min_age))
}

/// Everything but position and the candidate's sex (the caller's filter):
/// the two-way fit, exclusions, eligibility.
fn rules(v: &Viewer, today: NaiveDate) -> profiles::BoxedQuery<'static, Backend> {
    let (earliest, latest) = birthday_window(v.min_age, v.max_age, today);
    let me = v.id;
    // My swipes: a member with few is read once into a hash that every
    // candidate is looked up in (`NOT IN`, a hashed subplan); a member with
    // many ([`MANY_SWIPES`] or more, told by one bounded read) has them
    // probed in `swipes_pair` per candidate, by (me, them), a per-row
    // subquery kept so by `OFFSET 0`. Left to the planner, the generic
    // plan (which guesses two swipes a member) read all of my swipes again
    // for every candidate: 364 ms instead of 4.6 ms for a member with 3,000
    // swipes; a hash of 20,000 swipes, built once per statement part, took
    // 31 ms (docs/feed-query-plans.md).
    let mine = || {
        swipes::table
            .select(swipes::target_id)
            .filter(swipes::swiper_id.eq(me))
    };
    let many = diesel::dsl::exists(mine().offset(MANY_SWIPES - 1));
    let pair = mine()
        .filter(swipes::target_id.eq(profiles::user_id))
        .offset(0);
    let not_swiped = diesel::dsl::case_when(many, diesel::dsl::not(diesel::dsl::exists(pair)))
        .otherwise(diesel::dsl::not(profiles::user_id.eq_any(mine())));
    // Blocks either way: two hashed `NOT IN`s, each list read once (an
    // anti-join on the generic plan read all of a member's blocks again
    // for every candidate: 73 ms with 300 each way).
    let i_blocked = blocks::table
        .select(blocks::blocked_id)
        .filter(blocks::blocker_id.eq(me));
    let blocked_me = blocks::table
        .select(blocks::blocker_id)
        .filter(blocks::blocked_id.eq(me));
    let my_sex_wanted = WantSex::showing(v.sex);
    profiles::table
        .into_boxed()
        .filter(profiles::in_feed.eq(true))
        .filter(profiles::user_id.ne(me))
        .filter(profiles::birthday.gt(earliest))
        .filter(profiles::birthday.le(latest))
        .filter(profiles::want_sex.eq_any(my_sex_wanted))
        .filter(profiles::min_age.le(v.age))
        .filter(profiles::max_age.ge(v.age))
        .filter(not_swiped)
        .filter(diesel::dsl::not(profiles::user_id.eq_any(i_blocked)))
        .filter(diesel::dsl::not(profiles::user_id.eq_any(blocked_me)))
}

const KM_PER_DEGREE: f64 = 111.2;

/// The area within `km` of `p`: its latitude and longitude ranges, and the
/// whole-degree bands they span (longitude bands are `None` when the box
/// wraps around the antimeridian or covers every longitude).
struct Area {
    lat: (f64, f64),
    lng: (f64, f64),
    lat_bands: std::ops::RangeInclusive<i32>,
    lng_bands: Option<std::ops::RangeInclusive<i32>>,
}

fn area(p: Position, km: f64) -> Area {
    use crate::profiles::store::{lat_band, lng_band};
    let dlat = km / KM_PER_DEGREE;
    let lat = (
        (p.latitude - dlat).max(-90.0),
        (p.latitude + dlat).min(90.0),
    );
    let cos = p
        .latitude
        .abs()
        .max(lat.0.abs())
        .max(lat.1.abs())
        .to_radians()
        .cos()
        .max(0.01);
    let dlng = km / (KM_PER_DEGREE * cos);
    let lng = (p.longitude - dlng, p.longitude + dlng);
    let lng_bands = (lng.0 >= -180.0 && lng.1 <= 180.0).then(|| lng_band(lng.0)..=lng_band(lng.1));
    Area {
        lat,
        lng,
        lat_bands: lat_band(lat.0)..=lat_band(lat.1),
        lng_bands,
    }
}

/// Most one-degree cells read one by one; a larger area reads whole bands.
const MAX_CELLS: usize = 40;

impl Area {
    /// The index ranges the area is read by: one-degree cells `[lat, lng]`
    /// (`true`), or whole latitude bands `[lat]` when that would be more
    /// than [`MAX_CELLS`] cells or the box wraps around the antimeridian.
    fn ranges(&self) -> (bool, Vec<Vec<i32>>) {
        match &self.lng_bands {
            Some(lng) if lng.clone().count() * self.lat_bands.clone().count() <= MAX_CELLS => {
                let cells = self
                    .lat_bands
                    .clone()
                    .flat_map(|lat| lng.clone().map(move |lng| vec![lat, lng]));
                (true, cells.collect())
            }
            _ => (false, self.lat_bands.clone().map(|lat| vec![lat]).collect()),
        }
    }
}

/// The feed's raw material: profiles passing the rules, from the index paths.
fn fetch(c: &mut DbConnection, v: &Viewer, today: NaiveDate) -> QueryResult<Vec<Ranked>> {
    if crate::db::has_lateral(c) {
        return together(c, v, today);
    }
    let mut out = Vec::new();
    if let Some(p) = v.position {
        let a = area(p, f64::from(v.max_distance_km));
        let (by_lng, ranges) = a.ranges();
        for &sex in v.wanted_sexes() {
            for range in &ranges {
                out.extend(near(v, &a, today, by_lng, sex, Some(range)).load(c)?);
            }
        }
    }
    if !v.city_key.is_empty() {
        for &sex in v.wanted_sexes() {
            out.extend(in_city(v, today, Some(sex)).load(c)?);
        }
    }
    Ok(out)
}

/// Every index range of [`fetch`] in one statement (PostgreSQL): for each
/// sex I want, the cell query `CROSS JOIN LATERAL` over the cells, `UNION
/// ALL` the city query over the sexes ([`crate::db::Lateral`]). The lists
/// travel as bound arrays, so the statement's text depends only on its
/// shape: prepared once per connection and run on its generic plan
/// ([`crate::db::with_generic_plan`]: its custom plans cost more to make
/// than to run, ~0.9 ms of planning for ~2 ms of work), one round trip.
fn together(c: &mut DbConnection, v: &Viewer, today: NaiveDate) -> QueryResult<Vec<Ranked>> {
    use crate::db::{AllOf, Lateral, Values};
    let mut parts = Vec::new();
    if let Some(p) = v.position {
        let a = area(p, f64::from(v.max_distance_km));
        let (by_lng, ranges) = a.ranges();
        let column =
            |i: usize| Values::Ints(ranges.iter().filter_map(|r| r.get(i).copied()).collect());
        for &sex in v.wanted_sexes() {
            let mut columns = vec![("lat", column(0))];
            if by_lng {
                columns.push(("lng", column(1)));
            }
            parts.extend(Lateral::over(
                columns,
                near(v, &a, today, by_lng, sex, None),
            ));
        }
    }
    if !v.city_key.is_empty() {
        let wanted = v.wanted_sexes().iter().map(|s| s.as_str()).collect();
        let columns = vec![("sex", Values::Words(wanted))];
        parts.extend(Lateral::over(columns, in_city(v, today, None)));
    }
    match AllOf::of(parts) {
        Some(all) => crate::db::with_generic_plan(c, |c| all.load(c)),
        None => Ok(Vec::new()),
    }
}

/// Members of my city, newest first: the sex bound, or, without it, read
/// from the `LATERAL` row (`cell.sex`). With a position I see only those
/// without one here (those with one are matched by distance).
fn in_city(v: &Viewer, today: NaiveDate, sex: Option<Sex>) -> Newest {
    let q = rules(v, today).filter(profiles::city_key.eq(v.city_key.clone()));
    let q = match sex {
        Some(sex) => q.filter(profiles::sex.eq(sex)),
        None => q.filter(profiles::sex.eq(Listed::<Text>::new("sex"))),
    };
    match v.position {
        Some(_) => newest_first(q.filter(profiles::lat_band.is_null())),
        None => newest_first(q),
    }
}

/// The rules within one cell (`by_lng`) or latitude band and the box, for
/// one sex, newest first: the bands bound from `range`, or, without it,
/// read from the `LATERAL` row (`cell.lat`, `cell.lng`). For cells the sex
/// is written into the statement ([`crate::db::Word`]): each sex has its
/// own partial cell index (`profiles_feed_cell_female` …), whose keys are
/// fixed-width columns that PostgreSQL compares and reads at known offsets.
fn near(
    v: &Viewer,
    a: &Area,
    today: NaiveDate,
    by_lng: bool,
    sex: Sex,
    range: Option<&[i32]>,
) -> Newest {
    let value = |i: usize| range.and_then(|r| r.get(i)).copied();
    let listed = Listed::<Nullable<Integer>>::new;
    let q = rules(v, today);
    let q = match by_lng {
        true => q.filter(profiles::sex.eq(Word(sex.as_str()))),
        // Bound: the band index has the sex in its key, and with the sex
        // written the planner would read a cell index and sort the band.
        false => q.filter(profiles::sex.eq(sex)),
    };
    let q = match value(0) {
        Some(lat) => q.filter(profiles::lat_band.eq(lat)),
        None => q.filter(profiles::lat_band.eq(listed("lat"))),
    };
    let q = match (by_lng, value(1)) {
        (false, _) => q,
        (true, Some(lng)) => q.filter(profiles::lng_band.eq(lng)),
        (true, None) => q.filter(profiles::lng_band.eq(listed("lng"))),
    };
    let q = q.filter(profiles::latitude.between(a.lat.0, a.lat.1));
    let q = match a.lng_bands {
        Some(_) => q.filter(profiles::longitude.between(a.lng.0, a.lng.1)),
        None => q,
    };
    newest_first(q)
}

/// A feed query, newest first, [`PER_QUERY`] rows, the columns of [`Ranked`].
type Newest = diesel::dsl::Select<
    diesel::dsl::Limit<
        diesel::dsl::Order<
            profiles::BoxedQuery<'static, Backend>,
            diesel::dsl::Desc<profiles::last_active_at>,
        >,
    >,
    diesel::dsl::AsSelect<Ranked, Backend>,
>;

/// The newest [`PER_QUERY`] of a query's rows, as ranking needs them.
fn newest_first(q: profiles::BoxedQuery<'static, Backend>) -> Newest {
    q.order(profiles::last_active_at.desc())
        .limit(PER_QUERY)
        .select(Ranked::as_select())
}

/// People who superliked me and pass the rules (any distance check is done
/// by the caller like for everyone else).
fn superlikers(c: &mut DbConnection, v: &Viewer, today: NaiveDate) -> QueryResult<Vec<Ranked>> {
    let mine = swipes::table
        .select(swipes::swiper_id)
        .filter(swipes::target_id.eq(v.id))
        .filter(swipes::kind.eq(SwipeKind::Superlike));
    let sexes = v.wanted_sexes();
    rules(v, today)
        .filter(profiles::sex.eq_any(sexes))
        .filter(profiles::user_id.eq_any(mine))
        .limit(PER_QUERY * sexes.len() as i64)
        .select(Ranked::as_select())
        .load(c)
}

/// Whether a candidate is near enough (both positions) or in my city.
fn place_fits(v: &Viewer, p: &Ranked) -> (bool, Option<f64>) {
    match (v.position, p.position()) {
        (Some(a), Some(b)) => {
            let km = a.distance_km(b);
            let limit = f64::from(v.max_distance_km.min(p.max_distance_km));
            (km <= limit, Some(km))
        }
        _ => (!v.city_key.is_empty() && v.city_key == p.city_key, None),
    }
}

/// The documented score (see the module doc), out of 100.
pub fn score(v: &Viewer, p: &Ranked, km: Option<f64>, now: NaiveDateTime) -> f64 {
    let days = (now - p.last_active_at).num_seconds().max(0) as f64 / 86_400.0;
    let recency = 50.0 * 0.5f64.powf(days / 3.0);
    let distance = match km {
        Some(km) => {
            let limit = f64::from(v.max_distance_km.min(p.max_distance_km)).max(1.0);
            20.0 * (1.0 - (km / limit)).clamp(0.0, 1.0)
        }
        None => 10.0,
    };
    let completeness = 0.3 * f64::from(p.completeness.clamp(0, 100));
    recency + distance + completeness
}

/// My feed, best first: superlikers, then by score; at most [`MAX_FEED`].
pub fn build(
    c: &mut DbConnection,
    v: &Viewer,
    today: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<Vec<Candidate>> {
    let first = superlikers(c, v, today)?;
    let superliked: std::collections::HashSet<UserId> = first.iter().map(|p| p.user_id).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Candidate> = first
        .into_iter()
        .chain(fetch(c, v, today)?)
        .filter(|p| seen.insert(p.user_id))
        .filter_map(|p| {
            let (fits, km) = place_fits(v, &p);
            fits.then(|| Candidate {
                id: p.user_id,
                superliked_me: superliked.contains(&p.user_id),
                score: score(v, &p, km, now),
                distance_km: km.map(rounded_km),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.superliked_me
            .cmp(&a.superliked_me)
            .then(b.score.total_cmp(&a.score))
            .then(a.id.cmp(&b.id))
    });
    out.truncate(MAX_FEED);
    Ok(out)
}

/// Of `ids`, the profiles in my feed right now (the rules, place included),
/// in no particular order: one query per sex I want.
pub fn passing(
    c: &mut DbConnection,
    v: &Viewer,
    ids: &[UserId],
    today: NaiveDate,
) -> QueryResult<Vec<Profile>> {
    let mut out = Vec::new();
    for &sex in v.wanted_sexes() {
        let found = rules(v, today)
            .filter(profiles::sex.eq(sex))
            .filter(profiles::user_id.eq_any(ids.to_vec()))
            .select(Profile::as_select())
            .load(c)?;
        out.extend(
            found
                .into_iter()
                .filter(|p| place_fits(v, &Ranked::of(p)).0),
        );
    }
    Ok(out)
}

/// Whether `target` is in my feed right now (the rules, place included).
pub fn contains(
    c: &mut DbConnection,
    v: &Viewer,
    target: UserId,
    today: NaiveDate,
) -> QueryResult<bool> {
    Ok(!passing(c, v, &[target], today)?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_birthday_window_matches_ages_on_today() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default();
        let (earliest, latest) = birthday_window(25, 30, today);
        // 25 today: born 2001-06-15 at the latest; 30 until the day before turning 31.
        assert_eq!(
            latest,
            NaiveDate::from_ymd_opt(2001, 6, 15).unwrap_or_default()
        );
        assert_eq!(
            earliest,
            NaiveDate::from_ymd_opt(1995, 6, 15).unwrap_or_default()
        );
    }

    #[test]
    fn an_area_covers_the_cells_its_distance_spans() {
        let paris = Position {
            latitude: 48.85,
            longitude: 2.35,
        };
        let a = area(paris, 50.0);
        assert_eq!(a.lat_bands, 48..=49);
        assert_eq!(a.lng_bands, Some(1..=3));
        assert!(a.lng.0 < 2.35 && a.lng.1 > 2.35);
        let fiji = Position {
            latitude: -17.7,
            longitude: 179.5,
        };
        assert_eq!(area(fiji, 100.0).lng_bands, None, "wraps the antimeridian");
    }
}
