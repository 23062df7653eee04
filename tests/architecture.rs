//! The module map's rules, checked on the source: dependencies point down
//! (features → auth → the web spine and plumbing → db), nothing but the
//! entry points imports the composition root, and only the `db` dialect
//! module tells SQLite from PostgreSQL. See ARCHITECTURE.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level modules from the bottom up. A module may use modules of a lower
/// layer only; modules in one layer never use each other.
const LAYERS: &[&[&str]] = &[
    &["clock", "i18n", "metrics"],
    &["error"],
    &["security"],
    &["db"],
    &["config"],
    &["storage"],
    &["runtime"],
    &["limits"],
    &["mail"],
    &["jobs"],
    &["realtime"],
    &["state"],
    &["auth"],
    &["web"],
    &["telemetry"],
    &["profiles"],
    &["matches"],
    &["discovery"],
    &["accounts", "home", "ops", "seed"],
    &["admin"],
    &["startup"],
    &["cli"],
    &["main", "lib"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().to_string());
    first
        .unwrap_or_default()
        .trim_end_matches(".rs")
        .to_string()
}

/// The top-level modules a source text names as `crate::x`, comments excluded.
fn crate_edges(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `crate::id_type!` and the like are macros at the crate root.
            let is_macro = after[name.len()..].starts_with('!');
            if !name.is_empty() && !is_macro {
                out.insert(name);
            }
            rest = after;
        }
        // `use crate::{a, b}` groups.
        if let Some(group) = code.split("crate::{").nth(1) {
            for part in group.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != "self" {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// Every edge that breaks the layering, as "from -> to".
fn violations(edges: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (from, to) in edges {
        if from == to {
            continue;
        }
        match (layer_of(from), layer_of(to)) {
            (Some(f), Some(t)) if t < f => {}
            (None, _) => bad.push(format!("{from} -> {to}: {from} is not in the layer table")),
            (_, None) => bad.push(format!("{from} -> {to}: {to} is not in the layer table")),
            _ => bad.push(format!("{from} -> {to}")),
        }
    }
    bad
}

fn source_edges() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let from = module_of(&src, &file);
        for to in crate_edges(&text) {
            edges.push((from.clone(), to));
        }
    }
    edges
}

#[test]
fn dependencies_point_down() {
    let edges = source_edges();
    assert!(
        edges.len() > 50,
        "the scan found too few edges: {}",
        edges.len()
    );
    let bad = violations(&edges);
    assert!(
        bad.is_empty(),
        "imports against the layering:\n{}",
        bad.join("\n")
    );
}

#[test]
fn only_the_entry_points_import_the_composition_root() {
    let bad: Vec<_> = source_edges()
        .into_iter()
        .filter(|(from, to)| {
            to == "startup" && !matches!(from.as_str(), "cli" | "main" | "lib" | "startup")
        })
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn the_layering_check_catches_an_upward_import() {
    let edges = vec![
        ("web".to_string(), "accounts".to_string()),
        ("db".to_string(), "startup".to_string()),
        ("accounts".to_string(), "db".to_string()),
    ];
    assert_eq!(violations(&edges).len(), 2);
    assert_eq!(
        crate_edges("use crate::{auth, web::Page};\n// crate::startup in a comment\nlet x = crate::db::now();"),
        ["auth", "db", "web"].iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn only_the_dialect_module_tells_the_backends_apart() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let dialect = src.join("db").join("dialect.rs");
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| **f != dialect)
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains("DbConnection::Postgresql") || text.contains("DbConnection::Sqlite")
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "backend matches outside db/dialect.rs: {offenders:?}"
    );
}
