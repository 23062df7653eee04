//! Every message key the site asks for exists in every catalog, and the
//! catalogs agree with each other.
//!
//! `Tr::t` shows a missing key as the raw key with only a log warning, so a
//! typo, a forgotten entry or a half-translated catalog would reach members
//! unnoticed. This test reads the sources as text (`templates/**`,
//! `src/**/*.rs`, `locales/*.toml`) and needs nothing from the library.
//!
//! Keys are the first argument of every translator call (`.t(`, `.tf(`,
//! `.t1(`, and `.tn(` for plural tables). A string literal is a key; any other argument must be a form
//! [`dynamic_keys`] knows, which lists its values from the source itself
//! (`text_enum!` lists, `NOTICES`, the functions returning keys). An
//! argument of an unknown form fails the test: teach it here when adding one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A catalog: dotted key → message.
type Messages = BTreeMap<String, String>;
/// Each key used → where it is used (`path:line`).
type Uses = BTreeMap<String, BTreeSet<String>>;

/// One file: its path under the crate and its text.
struct Source {
    path: String,
    text: String,
}

impl Source {
    fn new(path: &str, text: &str) -> Self {
        let (path, text) = (path.to_string(), text.to_string());
        Self { path, text }
    }
}

/// Every file under `dir` whose name ends with `ext`, its `//` comment lines
/// blanked (a doc example is not code; line numbers stay right).
fn read_tree(dir: &str, ext: &str) -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut out, mut dirs) = (Vec::new(), vec![root.join(dir)]);
    while let Some(dir) = dirs.pop() {
        for path in std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
        {
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with(ext) {
                let text =
                    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                let code = |l: &'_ str| !l.trim_start().starts_with("//");
                let lines: Vec<_> = text.lines().map(|l| if code(l) { l } else { "" }).collect();
                let path = path.strip_prefix(root).unwrap_or(&path).to_string_lossy();
                out.push(Source::new(&path.replace('\\', "/"), &lines.join("\n")));
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The Rust sources but the i18n module (its `self.t(key)` is the translator itself).
fn rust() -> Vec<Source> {
    let mut rust = read_tree("src", ".rs");
    rust.retain(|s| !s.path.starts_with("src/i18n/"));
    rust
}

/// Every `locales/*.toml` by language code, flattened to dotted keys as `Tr` does.
fn catalogs() -> BTreeMap<String, Messages> {
    let files = read_tree("locales", ".toml");
    let code = |s: &Source| s.path["locales/".len()..s.path.len() - ".toml".len()].to_string();
    let catalogs: BTreeMap<_, _> = files
        .iter()
        .map(|s| (code(s), parse_catalog(&s.text)))
        .collect();
    assert!(catalogs.contains_key("en"), "no locales/en.toml");
    catalogs
}

/// A table whose keys are all CLDR plural categories, `other` among them.
fn is_plural_table(t: &toml::Table) -> bool {
    let categories = ["zero", "one", "two", "few", "many", "other"];
    t.contains_key("other")
        && t.iter()
            .all(|(k, v)| categories.contains(&k.as_str()) && v.is_str())
}

/// One catalog's messages; a value that is not text is an error (`Tr` would skip it).
fn parse_catalog(text: &str) -> Messages {
    fn flatten(prefix: &str, table: &toml::Table, out: &mut Messages) {
        for (k, v) in table {
            let key = format!("{prefix}{}{k}", if prefix.is_empty() { "" } else { "." });
            match v {
                toml::Value::String(s) => drop(out.insert(key, s.clone())),
                // A plural table (`Tr::tn`) is one message: its `other` text
                // (the library's unit tests check the categories).
                toml::Value::Table(t) if is_plural_table(t) => {
                    let other = t["other"].as_str().unwrap_or_default();
                    drop(out.insert(key, other.to_string()))
                }
                toml::Value::Table(t) => flatten(&key, t, out),
                other => panic!("{key} = {other} is not a message"),
            }
        }
    }
    let mut out = Messages::new();
    let table = text
        .parse()
        .unwrap_or_else(|e| panic!("unreadable catalog: {e}"));
    flatten("", &table, &mut out);
    out
}

/// Where the expression starting at `from` ends: at the bracket closing it,
/// or (with `comma`) at a `,` outside brackets and string literals.
fn expr_end(text: &str, from: usize, comma: bool) -> usize {
    let (b, mut i, mut depth) = (text.as_bytes(), from, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => return i,
            b')' | b']' | b'}' => depth -= 1,
            b',' if comma && depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    i.min(b.len())
}

/// The inside of the bracket that `open` ends with, first found after `after`.
fn block<'a>(text: &'a str, after: &str, open: &str) -> Option<&'a str> {
    let at = text.find(after)?;
    let from = at + text[at..].find(open)? + open.len();
    Some(&text[from..expr_end(text, from, false)])
}

/// The string literals in a piece of code (none of ours hold an escaped quote).
fn literals(code: &str) -> Vec<String> {
    let quoted = code.split('"').skip(1).step_by(2);
    quoted.map(str::to_string).collect()
}

/// The key an argument spells out, if it is a string literal.
fn literal(arg: &str) -> Option<String> {
    let quoted = arg.trim_start_matches('&').strip_prefix('"')?;
    let s = quoted.strip_suffix('"')?;
    (!s.contains('"')).then(|| s.to_string())
}

/// The first argument of each call to one of `needles`, with its line.
fn call_args(text: &str, needles: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (at, needle) in needles.iter().flat_map(|n| text.match_indices(n)) {
        let (line, from) = (text[..at].matches('\n').count() + 1, at + needle.len());
        let arg = text[from..expr_end(text, from, true)].trim();
        out.push((line, arg.to_string()));
    }
    out.sort();
    out
}

/// The inside of every `name!(…)` invocation in the code.
fn invocations<'a>(rust: &'a [Source], name: &str) -> Vec<&'a str> {
    let open = format!("{name}!(");
    let mut out = Vec::new();
    for s in rust {
        for (at, _) in s.text.match_indices(&open) {
            let from = at + open.len();
            out.push(&s.text[from..expr_end(&s.text, from, false)]);
        }
    }
    out
}

/// The strings of the `text_enum!` declaring `name`.
fn enum_values(rust: &[Source], name: &str) -> Result<Vec<String>, String> {
    let declares = |body: &&str| {
        let rest = body.trim_start().strip_prefix(name);
        rest.is_some_and(|r| r.trim_start().starts_with('{'))
    };
    let body = invocations(rust, "text_enum").into_iter().find(declares);
    body.map(literals)
        .ok_or(format!("no text_enum! declares {name}"))
}

/// `prefix.code` for every code of every
/// `text_enum!(Name, messages "prefix" { … })` list.
fn code_keys(rust: &[Source]) -> Vec<String> {
    let mut keys = Vec::new();
    let with_messages = |body: &&str| body.contains("messages \"");
    let lists = invocations(rust, "text_enum")
        .into_iter()
        .filter(with_messages);
    for list in lists.map(literals) {
        if let Some((prefix, codes)) = list.split_first() {
            keys.extend(codes.iter().map(|c| format!("{prefix}.{c}")));
        }
    }
    keys
}

/// The keys every `fn name` of the code can return: the literals of its body,
/// the code keys for the macro's `concat!($prefix, …)`, or
/// `format!("p{}", self.as_str())` over the `text_enum!` of its `impl`.
fn key_fn_keys(rust: &[Source], name: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    for s in rust {
        for (at, _) in s.text.match_indices(&format!("fn {name}(")) {
            let body = block(&s.text[at..], "", "{").unwrap_or_default();
            let body: String = body.split_whitespace().collect();
            let owner = s.text[..at].rsplit("impl ").next().unwrap_or_default();
            let owner = owner.split_whitespace().next().unwrap_or_default();
            let format = body.split_once("format!(\"").map(|(_, f)| f);
            let prefix = format.and_then(|f| f.strip_suffix("{}\",self.as_str())"));
            if body.contains("concat!($prefix") {
                keys.extend(code_keys(rust));
            } else if let Some(prefix) = prefix {
                let values = enum_values(rust, owner)?;
                keys.extend(values.iter().map(|v| format!("{prefix}{v}")));
            } else if format.is_some()
                || !body.contains('"') && !body.contains(&format!(".{name}()"))
            {
                return Err(format!("{}: cannot list what fn {name} returns", s.path));
            } else {
                keys.extend(literals(&body));
            }
        }
    }
    Ok(keys)
}

/// The keys a non-literal translator argument in `path` can name, listed from
/// the source; `Err` for a form this test does not know.
fn dynamic_keys(path: &str, arg: &str, rust: &[Source]) -> Result<Vec<String>, String> {
    let arg: String = arg.trim_start_matches('&').split_whitespace().collect();
    let arg = arg.trim_end_matches(".as_str()");
    let file = |path: &str| rust.iter().find(|s| s.path == path).map(|s| &s.text);
    let listed = |path: &str, after: &str, open: &str| {
        let found = file(path).and_then(|t| block(t, after, open));
        found
            .map(literals)
            .ok_or(format!("{path} has no `{after}`"))
    };
    let prefixed =
        |p: &str, values: Vec<String>| values.iter().map(|v| p.to_string() + v).collect();
    Ok(match (path, arg) {
        // `e.message_key()`, `self.empty_key()`…: what every fn of that name returns.
        (_, a) if a.ends_with("_key()") => {
            key_fn_keys(rust, &a[a.rfind('.').map_or(0, |i| i + 1)..a.len() - 2])?
        }
        // `page.notice_key()`: `notice.` and a `?notice=` value, which the
        // page takes only from its `NOTICES` list.
        ("templates/partials/notice.html", "key") => {
            if !file("src/web/page.rs").is_some_and(|t| t.contains("NOTICES.iter().find(")) {
                return Err("`?notice=` is no longer checked against NOTICES".into());
            }
            let notices = listed("src/web/page.rs", "const NOTICES", "= &[")?;
            prefixed("notice.", notices)
        }
        ("templates/discovery/user.html", "format!(\"report_reason.{}\",r.as_str())")
        | ("templates/admin/reports.html", "format!(\"report_reason.{}\",r.reason.as_str())") => {
            prefixed("report_reason.", enum_values(rust, "ReportReason")?)
        }
        // A runtime setting's title and description: `setting.<key>[_hint]`
        // for every `tunable("key", …)` and `rate("key", …)` in runtime.
        ("templates/admin/settings.html", a @ ("row.title()" | "row.hint()")) => {
            let text = file("src/runtime/mod.rs").ok_or("no src/runtime/mod.rs")?;
            let keys: Vec<String> = ["tunable(\"", "rate(\""]
                .iter()
                .flat_map(|call| text.split(call).skip(1))
                .filter_map(|rest| rest.split('"').next())
                .filter(|k| !k.is_empty() && !k.contains(' '))
                .map(str::to_string)
                .collect();
            let suffix = if a == "row.hint()" { "_hint" } else { "" };
            keys.iter()
                .map(|k| format!("setting.{k}{suffix}"))
                .collect()
        }
        ("templates/admin/dashboard.html", "format!(\"admin.series_{}\",ch.series)") => {
            let series = listed("src/admin/stats.rs", "let series", "= [")?;
            prefixed("admin.series_", series)
        }
        // `{key}` is a mail section, named in `fn catalog_key` or `match purpose`.
        ("src/accounts/mails.rs", a) if a.starts_with("format!(\"{key}.") => {
            let mut sections = key_fn_keys(rust, "catalog_key")?;
            sections.extend(listed("src/accounts/mails.rs", "match purpose", "{")?);
            sections.retain(|s| !s.starts_with('/'));
            let part = &a["format!(\"{key}".len()..a.len() - 2];
            sections.iter().map(|s| format!("{s}{part}")).collect()
        }
        _ => return Err("a dynamic key tests/i18n_keys.rs does not know".into()),
    })
}

/// Every key the translator calls of `files` use, and each argument whose keys
/// cannot be listed.
fn used_keys(files: &[Source], rust: &[Source]) -> (Uses, Vec<String>) {
    let (mut uses, mut unknown) = (Uses::new(), Vec::new());
    for f in files {
        for (line, arg) in call_args(&f.text, &[".t(", ".tf(", ".t1(", ".tn("]) {
            let at = format!("{}:{line}", f.path);
            // A dynamic key's place names its argument (`x.message_key()` is any such fn).
            let (keys, place) = match literal(&arg) {
                Some(key) => (Ok(vec![key]), at.clone()),
                None => (
                    dynamic_keys(&f.path, &arg, rust),
                    format!("{at} via `{arg}`"),
                ),
            };
            match keys {
                Ok(keys) if keys.is_empty() => unknown.push(format!("{at}: `{arg}`: no key")),
                Ok(keys) => keys.into_iter().for_each(|k| {
                    uses.entry(k).or_default().insert(place.clone());
                }),
                Err(e) => unknown.push(format!("{at}: `{arg}`: {e}")),
            }
        }
    }
    (uses, unknown)
}

/// `lang lacks key (used at …)` for each used key a catalog does not have.
fn missing_keys(uses: &Uses, catalogs: &BTreeMap<String, Messages>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, at) in uses {
        let at = at.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        for lang in catalogs.keys().filter(|l| !catalogs[*l].contains_key(key)) {
            out.push(format!("{lang} lacks {key} (used at {at})"));
        }
    }
    out
}

/// The `{name}` placeholders of a message.
fn placeholders(message: &str) -> BTreeSet<&str> {
    let names = message
        .split('{')
        .skip(1)
        .filter_map(|s| Some(s.split_once('}')?.0));
    let name = |n: &&str| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_');
    names.filter(name).collect()
}

/// Keys some catalogs have and others lack, and messages whose placeholders
/// differ from the first language's.
fn disagreements(catalogs: &BTreeMap<String, Messages>) -> Vec<String> {
    let all: BTreeSet<&String> = catalogs.values().flat_map(Messages::keys).collect();
    let mut out = Vec::new();
    for key in all {
        let mut first: Option<(&String, BTreeSet<&str>)> = None;
        for (lang, messages) in catalogs {
            match (messages.get(key).map(|m| placeholders(m)), &first) {
                (None, _) => out.push(format!("{lang} lacks {key}")),
                (Some(p), None) => first = Some((lang, p)),
                (Some(p), Some((l0, p0))) if p != *p0 => {
                    out.push(format!("{key}: {l0} has {p0:?}, {lang} has {p:?}"))
                }
                _ => {}
            }
        }
    }
    out
}

/// Fails listing `problems`, if any.
fn assert_none(what: &str, problems: &[String]) {
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

#[test]
fn every_key_a_template_uses_exists_in_every_language() {
    let (uses, unknown) = used_keys(&read_tree("templates", ""), &rust());
    assert_none("keys this test cannot list", &unknown);
    let n = uses.len();
    assert!(n > 300, "only {n} keys found: is the scan broken?");
    assert_none("missing messages", &missing_keys(&uses, &catalogs()));
}

#[test]
fn every_key_the_code_uses_exists_in_every_language() {
    let rust = rust();
    let (mut uses, unknown) = used_keys(&rust, &rust);
    assert_none("keys this test cannot list", &unknown);
    // The i18n module reads some itself (`language.name`, for the picker).
    for (line, arg) in call_args(&read_tree("src/i18n", "mod.rs")[0].text, &[".get("]) {
        let at = format!("src/i18n/mod.rs:{line}");
        if let Some(key) = literal(&arg) {
            uses.entry(key).or_default().insert(at);
        }
    }
    assert!(uses.contains_key("language.name"), "i18n scan broken");
    assert_none("missing messages", &missing_keys(&uses, &catalogs()));
}

#[test]
fn every_kind_of_dynamic_key_is_listed_from_the_source() {
    let (mut uses, _) = used_keys(&read_tree("templates", ""), &rust());
    uses.append(&mut used_keys(&rust(), &rust()).0);
    let samples = "error.not_found form_error.required event.2fa_success admin.sort_email
        discover.empty_nobody notice.signed_out report_reason.fake_profile
        admin.series_messages mail.verify.subject mail.signup_taken.body";
    let absent = samples
        .split_whitespace()
        .filter(|k| !uses.contains_key(*k));
    let absent: Vec<String> = absent.map(String::from).collect();
    assert_none("not found among the keys used", &absent);
}

#[test]
fn the_catalogs_agree_on_keys_and_placeholders() {
    assert_none("catalogs disagree", &disagreements(&catalogs()));
}

#[test]
fn a_planted_template_line_with_an_unknown_key_is_reported() {
    let line = r#"<p>{{ page.t.t("nav.discover") }} {{ page.t.t1("nav.no_such_key", "n", 1) }}"#;
    let (uses, unknown) = used_keys(&[Source::new("templates/planted.html", line)], &[]);
    assert_none("keys this test cannot list", &unknown);
    let en = parse_catalog("[nav]\ndiscover = \"Discover\"\n");
    let missing = missing_keys(&uses, &BTreeMap::from([("en".to_string(), en)]));
    let expected = ["en lacks nav.no_such_key (used at templates/planted.html:1)"];
    assert_eq!(missing, expected);
}

#[test]
fn a_planted_dynamic_key_of_an_unknown_form_is_reported() {
    let text = "\n{{ page.t.t(format!(\"nav.{}\", tab).as_str()) }}";
    let (_, unknown) = used_keys(&[Source::new("templates/planted.html", text)], &rust());
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(unknown[0].starts_with("templates/planted.html:2: "));
}

#[test]
fn a_planted_catalog_pair_with_a_missing_key_and_a_changed_placeholder_is_reported() {
    let en = parse_catalog("[nav]\nhome = \"Home\"\nhello = \"Hello {name}\"\n");
    let zh = parse_catalog("[nav]\nhello = \"你好 {nom}\"\n");
    let pair = BTreeMap::from([("en".to_string(), en), ("zh-CN".to_string(), zh)]);
    let expected = [
        r#"nav.hello: en has {"name"}, zh-CN has {"nom"}"#,
        "zh-CN lacks nav.home",
    ];
    assert_eq!(disagreements(&pair), expected);
}
