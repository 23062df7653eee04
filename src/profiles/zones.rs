//! The time zones a member picks from: the IANA "Region/City" names grouped
//! by region, without the old names tzdata keeps for compatibility
//! (`old_zones.txt`, e.g. Asia/Calcutta for Asia/Kolkata). A stored old
//! name still parses and is still offered to the member who has it.

use std::sync::LazyLock;

const REGIONS: [&str; 9] = [
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

static OLD: &str = include_str!("old_zones.txt");

/// A region and its zones: (IANA name, the name shown: "Buenos Aires").
pub type Group = (&'static str, Vec<(&'static str, String)>);

static GROUPS: LazyLock<Vec<Group>> = LazyLock::new(|| {
    let old: Vec<&str> = OLD.lines().filter(|l| !l.starts_with('#')).collect();
    REGIONS
        .iter()
        .map(|region| {
            let mut zones: Vec<(&'static str, String)> = chrono_tz::TZ_VARIANTS
                .iter()
                .map(|tz| tz.name())
                .filter(|name| {
                    name.strip_prefix(region)
                        .is_some_and(|rest| rest.starts_with('/'))
                        && !old.contains(name)
                })
                .map(|name| {
                    let city = name[region.len() + 1..]
                        .replace('_', " ")
                        .replace('/', " / ");
                    (name, city)
                })
                .collect();
            zones.sort_by(|a, b| a.1.cmp(&b.1));
            (*region, zones)
        })
        .collect()
});

pub fn groups() -> &'static [Group] {
    &GROUPS
}

/// Whether `name` is in the list (not an old name, not `Etc/…` or `US/…`).
pub fn listed(name: &str) -> bool {
    name == "UTC"
        || groups()
            .iter()
            .any(|(_, zones)| zones.iter().any(|(z, _)| *z == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_names_grouped_by_region_without_old_ones() {
        assert!(listed("Asia/Kolkata") && listed("Europe/Paris") && listed("Europe/Amsterdam"));
        assert!(listed("America/Argentina/Buenos_Aires") && listed("Asia/Shanghai"));
        assert!(
            !listed("Asia/Calcutta") && !listed("Europe/Kiev"),
            "old names left out"
        );
        assert!(!listed("US/Eastern") && !listed("Etc/GMT+5"));
        let europe = &groups()[6];
        assert_eq!(europe.0, "Europe");
        assert!(europe
            .1
            .iter()
            .any(|(z, shown)| *z == "Europe/Isle_of_Man" && shown == "Isle of Man"));
        // Every old name still parses: a member who has one keeps it.
        for name in OLD.lines().filter(|l| !l.starts_with('#')) {
            assert!(name.parse::<chrono_tz::Tz>().is_ok(), "{name}");
        }
    }
}
