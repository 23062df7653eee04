//! Swipes written in groups (group commit). A swipe joins a queue; a
//! writer task takes everything waiting (up to [`MAX_GROUP`]) and writes it
//! as one transaction on one connection: one hand-off to a blocking thread,
//! one commit and one published event for the whole group. Each swipe is
//! answered only after its group committed, so an answered swipe is never
//! lost, even to a `kill -9`.
//!
//! The rules stay exact under races. A group first locks every member it
//! names, in id order, in one statement (two groups, or a group and a
//! rewind, wait for each other and never deadlock); reads what its pairs
//! already hold, in one statement for swipes either way and one for
//! blocks; then decides its swipes one after another, each seeing the ones
//! before it ([`Seen`]), and inserts the rows taken in one statement. A swipe
//! a rule refuses takes nothing, so it is answered with its refusal and the
//! group goes on; any other error rolls the group back and its swipes are
//! written again one by one, so one bad swipe fails only itself.
//!
//! The writer tasks run on the system's own arbiter (the main thread) when
//! there is one, not on the HTTP worker whose swipe started them: a graceful
//! shutdown stops the workers one by one, and a group must not go down with
//! the first of them while swipes from the others wait on it.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime};
use tokio::sync::oneshot;

use super::feed::{self, Viewer};
use super::limits::Defaults;
use super::mails;
use super::swipes::{self, SwipeKind};
use crate::auth::UserId;
use crate::db::DbConnection;
use crate::error::{AppError, ErrorCode};
use crate::jobs::JobWriter;
use crate::matches::blocks;
use crate::matches::store::{self as matches, MatchId};
use crate::profiles::store::Profile;
use crate::realtime::Hub;

/// Swipes written in one transaction at most.
pub const MAX_GROUP: usize = 256;

/// What a swipe did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwipeOutcome {
    Swiped,
    Matched(MatchId),
}

/// One swipe to write, with what its rules need.
#[derive(Debug, Clone, Copy)]
pub struct Swipe {
    pub swiper: UserId,
    pub target: UserId,
    pub kind: SwipeKind,
    pub now: NaiveDateTime,
    pub today: NaiveDate,
    /// When the swiper's local day began (the superlike allowance).
    pub day_start: NaiveDateTime,
    pub defaults: Defaults,
}

type Answer = oneshot::Sender<Result<SwipeOutcome, AppError>>;

#[derive(Default)]
struct Queue {
    waiting: VecDeque<(Swipe, Answer)>,
    /// Writer tasks running.
    writing: usize,
}

struct Inner {
    jobs: JobWriter,
    hub: Hub,
    queue: Mutex<Queue>,
    /// Writer tasks at most (groups written at once).
    writers: usize,
    /// Groups written so far.
    groups: AtomicU64,
}

/// The instance's swipe writer.
#[derive(Clone)]
pub struct SwipeWriter {
    inner: Arc<Inner>,
}

impl SwipeWriter {
    /// `writers`: groups written at once (1 suits SQLite, whose writers
    /// take turns anyway).
    pub fn new(jobs: JobWriter, hub: Hub, writers: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                jobs,
                hub,
                queue: Mutex::default(),
                writers: writers.max(1),
                groups: AtomicU64::new(0),
            }),
        }
    }

    /// Writes `swipe` with the next group and answers once it committed
    /// and every instance heard that the swiper's pages changed.
    pub async fn write(&self, swipe: Swipe) -> Result<SwipeOutcome, AppError> {
        let (tx, rx) = oneshot::channel();
        let start_writer = {
            let mut q = self.inner.queue.lock().map_err(poisoned)?;
            q.waiting.push_back((swipe, tx));
            let start = q.writing < self.inner.writers;
            if start {
                q.writing += 1;
            }
            start
        };
        if start_writer {
            // On the system's own arbiter (the main thread) when there is
            // one: it outlives the HTTP workers, so a worker stopping in a
            // graceful shutdown cannot take with it a group being written,
            // nor the answers of swipes waiting on other workers.
            let system = actix_web::rt::System::try_current();
            let spawned =
                system.is_some_and(|s| s.arbiter().spawn(self.inner.clone().write_groups()));
            if !spawned {
                // No system (tests, tools), or it is stopping: here then;
                // the future handed over above never ran.
                tokio::spawn(self.inner.clone().write_groups());
            }
        }
        rx.await
            .map_err(|e| AppError::internal("swipe writer", e))?
    }

    /// Groups written so far by this instance.
    pub fn groups(&self) -> u64 {
        self.inner.groups.load(Ordering::Relaxed)
    }
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> AppError {
    AppError::internal("swipe writer", "queue lock poisoned")
}

impl Inner {
    /// Writes groups while swipes wait, then ends (the next swipe starts a
    /// writer again).
    async fn write_groups(self: Arc<Self>) {
        let mut slot = Slot {
            inner: &self,
            ended: false,
        };
        while let Some(group) = slot.next_group() {
            let (swipes, answers): (Vec<Swipe>, Vec<Answer>) = group.into_iter().unzip();
            let outcomes = self.write_group(swipes.clone()).await;
            let changed: BTreeSet<UserId> = swipes
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| o.is_ok())
                .map(|(s, _)| s.swiper)
                .collect();
            if !changed.is_empty() {
                // Every instance's pages of theirs are stale (the people
                // swiped leave them): one event for the group.
                self.hub.feeds_changed(changed.into_iter().collect()).await;
            }
            for (answer, outcome) in answers.into_iter().zip(outcomes) {
                // A swipe whose request went away is written all the same.
                let _ = answer.send(outcome);
            }
        }
    }

    /// Each swipe's outcome, in order.
    async fn write_group(&self, group: Vec<Swipe>) -> Vec<Result<SwipeOutcome, AppError>> {
        let n = group.len();
        let together = group.clone();
        match self.jobs.write_and_wake(move |c| write(c, &together)).await {
            Ok(outcomes) => outcomes,
            Err(AppError::Unavailable) => (0..n).map(|_| Err(AppError::Unavailable)).collect(),
            Err(e) if n == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e, swipes = n, "a group of swipes failed; writing them one by one");
                let mut outcomes = Vec::with_capacity(n);
                for swipe in group {
                    let alone = self.jobs.write_and_wake(move |c| write(c, &[swipe])).await;
                    outcomes
                        .push(alone.and_then(|mut o| o.pop().unwrap_or(Err(AppError::NotFound))));
                }
                outcomes
            }
        }
    }
}

/// A running writer's place among [`Inner::writers`]: given back when it
/// finds nothing waiting, or if its task ends any other way (a panic, the
/// runtime shutting down), so the next swipe can start a writer again.
struct Slot<'a> {
    inner: &'a Inner,
    ended: bool,
}

impl Slot<'_> {
    /// Up to [`MAX_GROUP`] waiting swipes; `None` (and the writer ends)
    /// when none wait.
    fn next_group(&mut self) -> Option<Vec<(Swipe, Answer)>> {
        let mut q = self.inner.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.waiting.is_empty() {
            q.writing -= 1;
            self.ended = true;
            return None;
        }
        let n = q.waiting.len().min(MAX_GROUP);
        self.inner.groups.fetch_add(1, Ordering::Relaxed);
        Some(q.waiting.drain(..n).collect())
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let mut q = self.inner.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.writing -= 1;
        }
    }
}

/// Writes a group in the caller's transaction: the outcome of each swipe,
/// or the error that must roll the whole group back.
fn write(
    c: &mut DbConnection,
    group: &[Swipe],
) -> Result<Vec<Result<SwipeOutcome, AppError>>, AppError> {
    let members: Vec<UserId> = group
        .iter()
        .flat_map(|s| [s.swiper, s.target])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let profiles: HashMap<UserId, Profile> = Profile::find_all_locked(c, &members)?
        .into_iter()
        .map(|p| (p.user_id, p))
        .collect();
    let pairs: Vec<(UserId, UserId)> = group.iter().map(|s| (s.swiper, s.target)).collect();
    let mut seen = Seen {
        swipes: swipes::on_pairs(c, &pairs)?,
        blocked: blocks::on_pairs(c, &pairs)?,
        superlikes: HashMap::new(),
        rows: Vec::new(),
    };
    let mut outcomes = Vec::with_capacity(group.len());
    for swipe in group {
        match decide(c, swipe, &profiles, &mut seen) {
            Err(e) if is_refusal(&e) => outcomes.push(Err(e)),
            Err(e) => return Err(e),
            Ok(done) => outcomes.push(Ok(done)),
        }
    }
    if swipes::insert_group(c, &seen.rows)? != seen.rows.len() {
        // Only a swipe written without the members' locks could do this.
        return Err(AppError::internal(
            "swipe writer",
            "a pair was swiped meanwhile",
        ));
    }
    let now = group.first().map(|s| s.now);
    let active: Vec<UserId> = group
        .iter()
        .zip(&outcomes)
        .filter(|(s, o)| o.is_ok() && profiles.get(&s.swiper).is_some_and(|p| idle(p, s.now)))
        .map(|(s, _)| s.swiper)
        .collect();
    if let (Some(now), false) = (now, active.is_empty()) {
        Profile::touch_all(c, &active, now)?;
    }
    Ok(outcomes)
}

/// What a group knows as it decides its swipes one after another: the
/// database as read at its start, and what the swipes before took.
struct Seen {
    /// The swipes on the group's pairs, either way round, by (swiper,
    /// target), the group's own included as they are taken.
    swipes: HashMap<(UserId, UserId), SwipeKind>,
    /// Pairs with a block either way, as (lower id, higher id).
    blocked: HashSet<(UserId, UserId)>,
    /// Superlikes taken in this group, by swiper.
    superlikes: HashMap<UserId, i64>,
    /// The rows to insert when every swipe is decided.
    rows: Vec<swipes::NewSwipe>,
}

/// Whether a swipe's profile needs its recency written (see `Profile::touch`).
fn idle(p: &Profile, now: NaiveDateTime) -> bool {
    p.last_active_at < now - chrono::TimeDelta::minutes(15)
}

/// A refusal a rule gives before the swipe writes anything.
fn is_refusal(e: &AppError) -> bool {
    matches!(e, AppError::Refused(_) | AppError::NotFound)
}

/// One swipe, its members' profiles locked: refused (having taken
/// nothing), or taken with the match it makes.
fn decide(
    c: &mut DbConnection,
    s: &Swipe,
    profiles: &HashMap<UserId, Profile>,
    seen: &mut Seen,
) -> Result<SwipeOutcome, AppError> {
    let (Some(mine), Some(theirs)) = (profiles.get(&s.swiper), profiles.get(&s.target)) else {
        return Err(AppError::NotFound);
    };
    if seen.swipes.contains_key(&(s.swiper, s.target)) {
        return Err(AppError::Refused(ErrorCode::AlreadySwiped));
    }
    let liked_me = seen
        .swipes
        .get(&(s.target, s.swiper))
        .is_some_and(|k| k.is_positive());
    // Only someone who liked me (still shown, and neither of us blocked the
    // other), or someone my feed would show me by the rules (sex, age,
    // place, hidden, blocked): anyone else is a 404, whether or not they
    // are in discovery.
    let pair = matches::ordered(s.swiper, s.target);
    let by_like = liked_me && theirs.in_feed && !seen.blocked.contains(&pair);
    if !by_like && !feed::contains(c, &Viewer::of(mine, s.today), s.target, s.today)? {
        return Err(AppError::NotFound);
    }
    if s.kind == SwipeKind::Superlike {
        let limit = s.defaults.limits_of(c, s.swiper)?.superlikes;
        let here = seen.superlikes.get(&s.swiper).copied().unwrap_or(0);
        if swipes::superlikes_given_since(c, s.swiper, s.day_start)? + here >= limit {
            return Err(AppError::Refused(ErrorCode::SuperlikeLimitReached));
        }
        *seen.superlikes.entry(s.swiper).or_default() += 1;
    }
    seen.swipes.insert((s.swiper, s.target), s.kind);
    seen.rows.push(swipes::NewSwipe {
        swiper_id: s.swiper,
        target_id: s.target,
        kind: s.kind,
        created_at: s.now,
    });
    if s.kind.is_positive() && liked_me {
        if let Some(m) = matches::create(c, s.swiper, s.target, s.now)? {
            mails::queue_match(c, s.swiper, s.target, s.now)?;
            return Ok(SwipeOutcome::Matched(m));
        }
    }
    Ok(SwipeOutcome::Swiped)
}
