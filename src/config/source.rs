//! Where configuration values come from, and the collector that parses them
//! while gathering every problem.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// Every problem found in the configuration, one per line.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A source of configuration values: the process environment layered over the
/// optional file. Tests build one from a map.
pub struct Source {
    values: HashMap<String, String>,
}

impl Source {
    pub fn from_env() -> Result<Self, ConfigErrors> {
        let mut values = HashMap::new();
        if let Ok(path) = std::env::var("CONFIG_FILE") {
            let iter = dotenvy::from_path_iter(&path)
                .map_err(|e| ConfigErrors(vec![format!("CONFIG_FILE {path}: {e}")]))?;
            for item in iter {
                let (k, v) =
                    item.map_err(|e| ConfigErrors(vec![format!("CONFIG_FILE {path}: {e}")]))?;
                values.insert(k, v);
            }
        }
        values.extend(std::env::vars());
        Ok(Self { values })
    }

    pub fn from_map(values: HashMap<String, String>) -> Self {
        Self { values }
    }

    pub(super) fn values(&self) -> &HashMap<String, String> {
        &self.values
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

pub(super) struct Collector<'a> {
    pub(super) src: &'a Source,
    pub(super) errors: Vec<String>,
}

impl Collector<'_> {
    pub(super) fn string(&self, key: &str, default: &str) -> String {
        self.src.get(key).unwrap_or(default).to_string()
    }

    pub(super) fn parse<T: std::str::FromStr>(&mut self, key: &str, default: T, what: &str) -> T {
        match self.src.get(key) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.errors
                    .push(format!("{key}: expected {what}, got {raw:?}"));
                default
            }),
        }
    }

    pub(super) fn bool(&mut self, key: &str, default: bool) -> bool {
        match self.src.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => default,
            Some("1" | "true" | "yes" | "on") => true,
            Some("0" | "false" | "no" | "off") => false,
            Some(other) => {
                self.errors
                    .push(format!("{key}: expected true or false, got {other:?}"));
                default
            }
        }
    }

    /// A duration in seconds between `min` and ten years (timestamps stay far
    /// from overflow).
    pub(super) fn duration_secs(&mut self, key: &str, default_secs: u64, min: u64) -> Duration {
        const MAX: u64 = 10 * 365 * 24 * 3600;
        let secs = self.parse(key, default_secs, "a number of seconds");
        if !(min..=MAX).contains(&secs) {
            self.errors.push(format!(
                "{key}: between {min} and {MAX} seconds, got {secs}"
            ));
            return Duration::from_secs(default_secs);
        }
        Duration::from_secs(secs)
    }
}
