//! The application's clock. Every rule that depends on time (session idle and
//! absolute limits, token expiry, mail cool-downs, later quota days and idle
//! staff) asks a [`Clock`] instead of the system, so tests set the time
//! instead of waiting.

use std::sync::{Arc, Mutex};

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};

/// A member's time zone (an IANA name they chose), else the site's.
pub fn zone_or(zone: Option<&str>, site: chrono_tz::Tz) -> chrono_tz::Tz {
    zone.and_then(|z| z.parse().ok()).unwrap_or(site)
}

/// Wall-clock time as stored: naive UTC, microsecond precision on both backends.
#[derive(Clone, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: a time set by a test, moved by hand.
    manual: Option<Arc<Mutex<NaiveDateTime>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands still at `at` until moved with [`Clock::advance`].
    pub fn manual(at: NaiveDateTime) -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(truncate(at)))),
        }
    }

    pub fn now(&self) -> NaiveDateTime {
        match &self.manual {
            None => truncate(Utc::now().naive_utc()),
            Some(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Today's date in UTC.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now().date()
    }

    /// Moves a manual clock forward (a system clock ignores it).
    pub fn advance(&self, by: TimeDelta) {
        if let Some(t) = &self.manual {
            let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
            *t += by;
        }
    }
}

fn truncate(t: NaiveDateTime) -> NaiveDateTime {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// A `std` duration as a chrono delta, saturating instead of failing.
pub fn delta(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_advanced() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.advance(TimeDelta::hours(25));
        assert_eq!(clock.now(), start + TimeDelta::hours(25));
        assert_eq!(clock.clone().now(), clock.now(), "clones share the time");
    }
}
