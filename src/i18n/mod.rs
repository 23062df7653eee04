//! Every user-facing string goes through [`Tr`]: a message catalog per
//! language, one TOML file under `locales/` each (`en.toml`,
//! `zh-CN.toml`). Adding a language is adding a file: the folder is embedded
//! at build time and scanned at start.
//!
//! A message that counts something is a plural table: one text per CLDR
//! plural category the language uses (`{ one = "…", other = "…" }` in
//! English, `{ other = "…" }` in Chinese), chosen by [`Tr::tn`] with the
//! CLDR rules of `intl_pluralrules` (the crate Fluent itself uses). That is
//! the part of Fluent these catalogs needed; DESIGN.md's catalogs stay TOML.

use std::collections::HashMap;
use std::sync::LazyLock;

use rust_embed::Embed;

#[derive(Embed)]
#[folder = "locales/"]
#[include = "*.toml"]
struct LocaleFiles;

pub const DEFAULT_LANG: &str = "en";

pub struct Catalog {
    pub code: String,
    /// The language's own name, shown in the language picker.
    pub name: String,
    messages: HashMap<String, String>,
    /// Plural tables: key → (CLDR category → text).
    plurals: HashMap<String, HashMap<String, String>>,
    /// The language's cardinal plural rules (`None`: CLDR has none for
    /// it, and `other` is always used).
    rules: Option<intl_pluralrules::PluralRules>,
}

/// The CLDR plural categories, as catalogs name them.
pub const PLURAL_CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", OTHER];

/// The category every plural table has.
const OTHER: &str = "other";

/// Whether a TOML table is a plural table (every key a category, `other` among them).
fn is_plural_table(table: &toml::Table) -> bool {
    table.contains_key(OTHER)
        && table
            .iter()
            .all(|(k, v)| PLURAL_CATEGORIES.contains(&k.as_str()) && v.is_str())
}

impl Catalog {
    /// The plural category of `n` in this language.
    pub fn category(&self, n: u64) -> &'static str {
        use intl_pluralrules::PluralCategory as C;
        match self.rules.as_ref().and_then(|r| r.select(n).ok()) {
            Some(C::ZERO) => "zero",
            Some(C::ONE) => "one",
            Some(C::TWO) => "two",
            Some(C::FEW) => "few",
            Some(C::MANY) => "many",
            _ => OTHER,
        }
    }
}

impl Catalog {
    /// Whether this catalog itself has a message for `key` (no fallback).
    pub fn has(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }
}

struct Catalogs {
    by_code: HashMap<String, Catalog>,
    codes: Vec<String>,
}

static CATALOGS: LazyLock<Catalogs> = LazyLock::new(load_catalogs);

/// A catalog's texts and plural tables, under dotted keys.
#[derive(Default)]
struct Flat {
    messages: HashMap<String, String>,
    plurals: HashMap<String, HashMap<String, String>>,
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Flat) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.messages.insert(key, s.clone());
            }
            toml::Value::Table(t) if is_plural_table(t) => {
                let forms = t
                    .iter()
                    .filter_map(|(c, v)| Some((c.clone(), v.as_str()?.to_string())))
                    .collect();
                out.plurals.insert(key, forms);
            }
            toml::Value::Table(t) => flatten(&key, t, out),
            _ => {}
        }
    }
}

fn load_catalogs() -> Catalogs {
    let mut by_code = HashMap::new();
    for file in LocaleFiles::iter() {
        let Some(code) = file.strip_suffix(".toml") else {
            continue;
        };
        let Some(content) = LocaleFiles::get(&file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&content.data);
        let table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(file = %file, error = %e, "unreadable message catalog");
                continue;
            }
        };
        let mut flat = Flat::default();
        flatten("", &table, &mut flat);
        let name = flat
            .messages
            .get("language.name")
            .cloned()
            .unwrap_or_else(|| code.to_string());
        let rules = plural_rules(code);
        by_code.insert(
            code.to_string(),
            Catalog {
                code: code.to_string(),
                name,
                messages: flat.messages,
                plurals: flat.plurals,
                rules,
            },
        );
    }
    let mut codes: Vec<String> = by_code.keys().cloned().collect();
    codes.sort();
    Catalogs { by_code, codes }
}

/// The cardinal plural rules of a catalog's language: its own tag's, else
/// its language's (CLDR has `zh`, not `zh-CN`).
fn plural_rules(code: &str) -> Option<intl_pluralrules::PluralRules> {
    use intl_pluralrules::{PluralRuleType, PluralRules};
    let tag = code.parse::<unic_langid::LanguageIdentifier>().ok()?;
    let language = unic_langid::LanguageIdentifier::from_parts(tag.language, None, None, &[]);
    PluralRules::create(tag, PluralRuleType::CARDINAL)
        .or_else(|_| PluralRules::create(language, PluralRuleType::CARDINAL))
        .ok()
}

/// The codes of every language with a catalog.
pub fn languages() -> impl Iterator<Item = &'static Catalog> {
    CATALOGS
        .codes
        .iter()
        .filter_map(|c| CATALOGS.by_code.get(c))
}

pub fn is_supported(code: &str) -> bool {
    CATALOGS.by_code.contains_key(code)
}

/// A translator for one language, cheap to copy into every template.
#[derive(Clone, Copy)]
pub struct Tr {
    lang: &'static str,
}

impl Default for Tr {
    fn default() -> Self {
        Self::new(DEFAULT_LANG)
    }
}

impl Tr {
    pub fn new(code: &str) -> Self {
        let lang = CATALOGS
            .by_code
            .get_key_value(code)
            .map(|(k, _)| k.as_str())
            .unwrap_or(DEFAULT_LANG);
        Self { lang }
    }

    /// The language for a request: the saved choice (the member's, else the
    /// visitor's cookie), else the best match of `Accept-Language`, else
    /// `default` (`DEFAULT_LANGUAGE`).
    pub fn negotiate(saved: Option<&str>, accept_language: Option<&str>, default: &str) -> Self {
        if let Some(code) = saved.filter(|c| is_supported(c)) {
            return Self::new(code);
        }
        match best_match(accept_language.unwrap_or("")) {
            Some(code) => Self::new(&code),
            None => Self::new(default),
        }
    }

    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// The message for `key`, falling back to English, then to the key itself
    /// (a missing key is visible, never a crash).
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        let lookup = |code: &str| {
            CATALOGS
                .by_code
                .get(code)
                .and_then(|c| c.messages.get(key))
                .map(String::as_str)
        };
        lookup(self.lang)
            .or_else(|| lookup(DEFAULT_LANG))
            .unwrap_or_else(|| {
                tracing::warn!(key, "missing message");
                key
            })
    }

    /// The message for `key` with `{name}` placeholders filled in.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut out = self.t(key).to_string();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// The plural table `key`'s text for `count` (the language's CLDR
    /// category, else `other`; English's table when this language lacks
    /// it), with `{count}` and `args` filled in.
    pub fn tn(&self, key: &str, count: u64, args: &[(&str, &str)]) -> String {
        let lookup = |code: &str| {
            let catalog = CATALOGS.by_code.get(code)?;
            let forms = catalog.plurals.get(key)?;
            forms
                .get(catalog.category(count))
                .or_else(|| forms.get(OTHER))
        };
        let Some(text) = lookup(self.lang).or_else(|| lookup(DEFAULT_LANG)) else {
            tracing::warn!(key, "missing plural message");
            return key.to_string();
        };
        let mut out = text.replace("{count}", &count.to_string());
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// One placeholder, the common case in templates.
    pub fn t1(&self, key: &str, name: &str, value: &dyn std::fmt::Display) -> String {
        self.tf(key, &[(name, &value.to_string())])
    }
}

/// The best supported language in an `Accept-Language` header, honouring q
/// values; a tag matches a catalog by itself or by its primary subtag
/// (`zh`, `zh-Hans`, `zh-SG` → `zh-CN`).
fn best_match(header: &str) -> Option<String> {
    let mut candidates: Vec<(f32, &str)> = header
        .split(',')
        .filter_map(|part| {
            let mut it = part.trim().split(';');
            let tag = it.next()?.trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && q > 0.0).then_some((q, tag))
        })
        .collect();
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, tag) in candidates {
        if let Some(code) = CATALOGS
            .codes
            .iter()
            .find(|c| c.eq_ignore_ascii_case(tag))
            .or_else(|| {
                let primary = tag.split('-').next().unwrap_or(tag);
                CATALOGS.codes.iter().find(|c| {
                    c.split('-')
                        .next()
                        .is_some_and(|p| p.eq_ignore_ascii_case(primary))
                })
            })
        {
            return Some(code.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_always_there_and_keys_resolve() {
        assert!(is_supported("en"));
        assert_eq!(Tr::new("en").t("language.name"), "English");
    }

    #[test]
    fn accept_language_picks_a_supported_language_or_english() {
        assert_eq!(
            Tr::negotiate(None, Some("xx-YY, en;q=0.5"), "en").lang(),
            "en"
        );
        assert_eq!(Tr::negotiate(None, Some("fr;q=0.9"), "en").lang(), "en");
        assert_eq!(Tr::negotiate(Some("nope"), None, "en").lang(), "en");
    }

    #[test]
    fn chinese_browsers_get_simplified_chinese() {
        for header in ["zh-CN,zh;q=0.9", "zh", "zh-Hans", "zh-SG", "fr, zh;q=0.5"] {
            assert_eq!(
                Tr::negotiate(None, Some(header), "en").lang(),
                "zh-CN",
                "{header}"
            );
        }
        assert_eq!(
            Tr::negotiate(None, Some("en, zh;q=0.5"), "zh-CN").lang(),
            "en"
        );
        assert_eq!(
            Tr::negotiate(None, None, "zh-CN").lang(),
            "zh-CN",
            "the default"
        );
        assert_eq!(
            Tr::negotiate(Some("en"), Some("zh"), "zh-CN").lang(),
            "en",
            "a choice wins"
        );
    }

    /// `{name}` placeholders of a message.
    fn placeholders(text: &str) -> std::collections::BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_catalog_has_the_same_keys_and_placeholders_as_english() {
        let en = &CATALOGS.by_code["en"];
        assert!(CATALOGS.by_code.contains_key("zh-CN"));
        for c in languages() {
            for key in c.messages.keys() {
                assert!(
                    en.messages.contains_key(key),
                    "{} has {key}, English not",
                    c.code
                );
            }
            for (key, text) in &en.messages {
                let theirs = c.messages.get(key).map(String::as_str).unwrap_or("");
                assert!(!theirs.trim().is_empty(), "{} lacks {key}", c.code);
                assert_eq!(placeholders(theirs), placeholders(text), "{} {key}", c.code);
            }
            for key in c.plurals.keys() {
                assert!(
                    en.plurals.contains_key(key),
                    "{} has {key}, English not",
                    c.code
                );
            }
            for (key, forms) in &en.plurals {
                let theirs = c.plurals.get(key);
                let other = theirs.and_then(|f| f.get(OTHER));
                assert!(
                    other.is_some_and(|o| !o.trim().is_empty()),
                    "{} lacks {key}",
                    c.code
                );
                let other = other.map(String::as_str).unwrap_or("");
                assert_eq!(
                    placeholders(other),
                    placeholders(&forms[OTHER]),
                    "{} {key}",
                    c.code
                );
            }
        }
    }

    /// The categories the language's rules give for 0 to 1,000.
    fn categories_used(c: &Catalog) -> std::collections::BTreeSet<&'static str> {
        (0..=1000).map(|n| c.category(n)).collect()
    }

    #[test]
    fn every_plural_table_has_exactly_its_languages_categories() {
        for c in languages() {
            assert!(c.rules.is_some(), "CLDR has plural rules for {}", c.code);
            let used = categories_used(c);
            for (key, forms) in &c.plurals {
                let given: std::collections::BTreeSet<&str> =
                    forms.keys().map(String::as_str).collect();
                assert_eq!(given, used, "{} {key}", c.code);
                for (category, text) in forms {
                    let other = placeholders(&forms[OTHER]);
                    assert!(
                        placeholders(text).is_subset(&other),
                        "{} {key}.{category}",
                        c.code
                    );
                }
            }
        }
        assert!(!CATALOGS.by_code["en"].plurals.is_empty());
    }

    #[test]
    fn plurals_follow_each_languages_rules() {
        let en = Tr::new("en");
        assert_eq!(en.tn("time.hours", 1, &[]), "1 hour");
        assert_eq!(en.tn("time.hours", 24, &[]), "24 hours");
        assert_eq!(en.tn("time.hours", 0, &[]), "0 hours");
        let zh = Tr::new("zh-CN");
        assert_eq!(zh.tn("time.hours", 1, &[]), "1 小时");
        assert_eq!(zh.tn("time.hours", 24, &[]), "24 小时");
        assert_eq!(en.tn("no.such.plural", 2, &[]), "no.such.plural");
    }

    #[test]
    fn placeholders_are_filled() {
        let t = Tr::new("en");
        assert!(t.t1("account.welcome", "name", &"Ada").contains("Ada"));
    }
}
