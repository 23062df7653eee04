//! Times as a member reads them: in their time zone, and short when recent
//! ("14:05" today, "Yesterday 14:05", else the date).

use chrono::{NaiveDateTime, TimeZone};

use crate::i18n::Tr;

#[derive(Debug, Clone, Copy)]
pub struct LocalTime {
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
}

impl LocalTime {
    /// Now, for a member whose time zone is `zone` (else the site's).
    pub fn new(now: NaiveDateTime, zone: Option<&str>, site: chrono_tz::Tz) -> Self {
        Self {
            now,
            tz: crate::clock::zone_or(zone, site),
        }
    }

    /// `at` (UTC) in a few characters, relative to today in the member's zone.
    pub fn short(&self, at: &NaiveDateTime, t: &Tr) -> String {
        let (at, now) = (
            self.tz.from_utc_datetime(at),
            self.tz.from_utc_datetime(&self.now),
        );
        let days = (now.date_naive() - at.date_naive()).num_days();
        let hm = at.format("%H:%M").to_string();
        match days {
            0 => hm,
            1 => t.t1("time.yesterday", "time", &hm),
            _ => at.format(t.t("time.date")).to_string(),
        }
    }

    /// `at` (UTC) in full, in the member's zone, as their language writes a
    /// date and a time (`time.date_time`: `2026-12-06 14:05`, `2026年12月6日 14:05`).
    pub fn full(&self, at: &NaiveDateTime, t: &Tr) -> String {
        self.tz
            .from_utc_datetime(at)
            .format(t.t("time.date_time"))
            .to_string()
    }

    /// `at` (UTC) for a `datetime` attribute.
    pub fn iso(at: &NaiveDateTime) -> String {
        at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 6, d)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .unwrap_or_default()
    }

    #[test]
    fn recent_times_are_short_and_in_the_members_zone() {
        let t = Tr::new("en");
        // 22:30 UTC on 1 June is 00:30 on 2 June in Paris.
        let paris = LocalTime::new(at(1, 22, 30), Some("Europe/Paris"), chrono_tz::UTC);
        assert_eq!(paris.short(&at(1, 22, 10), &t), "00:10");
        assert_eq!(paris.short(&at(1, 12, 5), &t), "Yesterday 14:05");
        assert_eq!(paris.short(&at(1, 5, 0), &t), "Yesterday 07:00");
        let may = at(1, 12, 0) - chrono::TimeDelta::days(2);
        assert_eq!(paris.short(&may, &t), "2026-05-30");
        let utc = LocalTime::new(at(1, 22, 30), None, chrono_tz::UTC);
        assert_eq!(utc.short(&at(1, 12, 5), &t), "12:05");
    }

    #[test]
    fn dates_are_written_as_the_members_language_writes_them() {
        let shanghai = LocalTime::new(at(5, 12, 0), Some("Asia/Shanghai"), chrono_tz::UTC);
        let zh = Tr::new("zh-CN");
        assert_eq!(shanghai.full(&at(1, 20, 5), &zh), "2026年6月2日 04:05");
        assert_eq!(shanghai.short(&at(1, 20, 5), &zh), "2026年6月2日");
        assert_eq!(shanghai.short(&at(4, 10, 5), &zh), "昨天 18:05");
        let en = Tr::new("en");
        assert_eq!(shanghai.full(&at(1, 20, 5), &en), "2026-06-02 04:05");
    }
}
