//! The module map's rules, checked on the source: dependencies point down
//! (features → auth → the web spine and plumbing → db), nothing but the
//! entry points imports the composition root, no files import each other in
//! a circle, and only the `db` module tells SQLite from PostgreSQL. See
//! ARCHITECTURE.md.
//!
//! The files are parsed with `syn`, so a `use` group counts however rustfmt
//! wraps it and a comment never does; macro bodies, which syn leaves as
//! tokens, are scanned token by token for paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// Top-level modules from the bottom up. A module may use modules of a lower
/// layer only; modules in one layer never use each other.
const LAYERS: &[&[&str]] = &[
    &["bounded", "clock", "i18n", "metrics", "slots"],
    &["error"],
    &["security"],
    &["db"],
    &["config"],
    &["storage", "redis_link"],
    &["runtime"],
    &["limits"],
    &["mail", "sms"],
    &["jobs"],
    &["realtime"],
    &["state"],
    &["auth"],
    &["web"],
    &["telemetry"],
    &["profiles"],
    &["matches"],
    &["discovery"],
    &["accounts", "home", "ops", "seed", "dev"],
    &["api"],
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

/// Every file under `src/`: its path there (`admin/routes.rs`) and its text.
fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap_or(&file).to_string_lossy();
        let text = std::fs::read_to_string(&file);
        let text = text.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        out.push((rel.replace('\\', "/"), text));
    }
    out
}

/// The top-level module a file under `src/` belongs to (`lib` and `main`
/// for the crate roots).
fn top_module(rel: &str) -> String {
    let first = rel.split('/').next().unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The module a file is: `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs`
/// and `main.rs` are the crate root, `""`.
fn module_path(rel: &str) -> String {
    let mut parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
    if matches!(parts.as_slice(), ["lib"] | ["main"]) || parts.last() == Some(&"mod") {
        parts.pop();
    }
    parts.join("::")
}

fn segments(module: &str) -> Vec<String> {
    let parts = module.split("::").filter(|s| !s.is_empty());
    parts.map(String::from).collect()
}

/// A path one file names. `crate::`, `super::` and `self::` are resolved
/// while parsing (`relative_to` is `None`, `segs` start at the crate root).
/// Any other `x::y` stays relative to its module: it is the child module
/// `x` if there is one, else an extern crate, which only the whole crate
/// can tell.
#[derive(Clone, Debug)]
struct Named {
    relative_to: Option<Vec<String>>,
    segs: Vec<String>,
}

/// What one file says.
#[derive(Debug, Default)]
struct Parsed {
    /// Every path that may name something of the crate.
    names: Vec<Named>,
    /// The names module-level `use`s bring in: (module, name, what it is).
    imports: Vec<(Vec<String>, String, Named)>,
    /// Inline modules (`mod tests { .. }`): they live in this file.
    inline: Vec<Vec<String>>,
    /// Paths that pick a database backend, as written.
    backend: Vec<String>,
}

/// `Backend::Sqlite`, `DbConnection::Postgresql`…: a path that picks a
/// database backend. Other enums' variants (`Backend::Redis`) don't.
fn picks_a_backend(segs: &[String]) -> bool {
    let [.., kind, variant] = segs else {
        return false;
    };
    matches!(
        (kind.as_str(), variant.as_str()),
        ("Backend", "Sqlite" | "Postgres") | ("DbConnection", "Sqlite" | "Postgresql" | "Postgres")
    )
}

#[derive(Default)]
struct Scan {
    /// The module being read: the file's, or an inline one within it.
    module: Vec<String>,
    /// Inside a block a `use` is local: no module imports through it.
    blocks: usize,
    out: Parsed,
}

impl Scan {
    /// Anchors a path as written in the current module (see [`Named`]).
    fn anchor(&self, segs: &[String]) -> Option<Named> {
        let mut module = self.module.clone();
        let mut rest = segs;
        let mut anchored = false;
        while let Some((first, tail)) = rest.split_first() {
            match first.as_str() {
                "crate" if !anchored => module.clear(),
                "self" => {}
                "super" => drop(module.pop()?),
                _ => break,
            }
            (anchored, rest) = (true, tail);
        }
        Some(match anchored {
            true => Named {
                relative_to: None,
                segs: [module, rest.to_vec()].concat(),
            },
            false => Named {
                relative_to: Some(module),
                segs: rest.to_vec(),
            },
        })
    }

    /// Records a path as written: for the backend rule, and as a name.
    fn path(&mut self, segs: &[String]) -> Option<Named> {
        if picks_a_backend(segs) {
            self.out.backend.push(segs.join("::"));
        }
        let named = self.anchor(segs)?;
        self.out.names.push(named.clone());
        Some(named)
    }

    /// A `use` tree, with the path of the groups around it in `prefix`.
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        // `use a::{self, b}`: `self` is the group's own path.
        let own = |i: &syn::Ident| (i != "self").then(|| i.to_string());
        let (name, alias) = match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
                return;
            }
            syn::UseTree::Group(g) => {
                g.items.iter().for_each(|t| self.use_tree(prefix, t));
                return;
            }
            syn::UseTree::Glob(_) => {
                self.path(prefix);
                return;
            }
            syn::UseTree::Name(n) => (own(&n.ident), None),
            syn::UseTree::Rename(r) => (own(&r.ident), Some(r.rename.to_string())),
        };
        let full = [prefix.clone(), name.into_iter().collect()].concat();
        let alias = alias.or(full.last().cloned()).filter(|a| a != "_");
        if let (Some(named), Some(alias), 0) = (self.path(&full), alias, self.blocks) {
            self.out.imports.push((self.module.clone(), alias, named));
        }
    }

    /// Macro bodies and attribute arguments are tokens: every `a::b::c` run
    /// in them is a path, but a macro's own name (`crate::id_type!`) is none.
    fn tokens(&mut self, stream: TokenStream) {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            let TokenTree::Ident(first) = &tokens[i] else {
                if let TokenTree::Group(g) = &tokens[i] {
                    self.tokens(g.stream());
                }
                i += 1;
                continue;
            };
            let mut segs = vec![first.to_string()];
            i += 1;
            while let [TokenTree::Punct(a), TokenTree::Punct(b), TokenTree::Ident(next), ..] =
                &tokens[i..]
            {
                if a.as_char() != ':' || a.spacing() != Spacing::Joint || b.as_char() != ':' {
                    break;
                }
                segs.push(next.to_string());
                i += 3;
            }
            let bang = |p: &proc_macro2::Punct| p.as_char() == '!' && p.spacing() == Spacing::Alone;
            if matches!(tokens.get(i), Some(TokenTree::Punct(p)) if bang(p)) {
                self.macro_path(segs);
            } else if segs.len() > 1 {
                self.path(&segs);
            }
        }
    }

    /// `a::b::m!`: the macro lives in module `a::b`; `crate::m!` at the root.
    fn macro_path(&mut self, mut segs: Vec<String>) {
        segs.pop();
        if segs.len() > 1 {
            self.path(&segs);
        }
    }
}

fn idents(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| s.ident.to_string()).collect()
}

impl Visit<'_> for Scan {
    fn visit_path(&mut self, p: &syn::Path) {
        // A lone `self` is the receiver; a leading `::` is an extern crate.
        if p.segments.len() > 1 && p.leading_colon.is_none() {
            self.path(&idents(p));
        }
        visit::visit_path(self, p);
    }

    fn visit_item_use(&mut self, u: &syn::ItemUse) {
        if u.leading_colon.is_none() {
            self.use_tree(&mut Vec::new(), &u.tree);
        }
    }

    fn visit_macro(&mut self, m: &syn::Macro) {
        self.macro_path(idents(&m.path));
        self.tokens(m.tokens.clone());
    }

    /// `#[diesel(table_name = crate::db::schema::users)]` names a module.
    fn visit_meta_list(&mut self, m: &syn::MetaList) {
        self.visit_path(&m.path);
        self.tokens(m.tokens.clone());
    }

    /// `pub(crate)`, `pub(super)`: visibility, not a use of the module.
    fn visit_vis_restricted(&mut self, _: &syn::VisRestricted) {}

    /// `mod x;` is no edge; an inline `mod x { .. }` is a module of its own.
    fn visit_item_mod(&mut self, m: &syn::ItemMod) {
        m.attrs.iter().for_each(|a| self.visit_attribute(a));
        if let Some((_, items)) = &m.content {
            self.module.push(m.ident.to_string());
            self.out.inline.push(self.module.clone());
            let blocks = std::mem::take(&mut self.blocks);
            items.iter().for_each(|i| self.visit_item(i));
            self.blocks = blocks;
            self.module.pop();
        }
    }

    fn visit_block(&mut self, b: &syn::Block) {
        self.blocks += 1;
        visit::visit_block(self, b);
        self.blocks -= 1;
    }
}

/// Parses the text of a file of module `module` (`"a::b"`; `""` is the root).
fn parse(module: &str, text: &str) -> Result<Parsed, String> {
    let file = syn::parse_file(text).map_err(|e| format!("does not parse: {e}"))?;
    let mut scan = Scan {
        module: segments(module),
        ..Scan::default()
    };
    scan.visit_file(&file);
    Ok(scan.out)
}

/// The top-level modules a file of module `module` names through
/// `crate::`/`super::`/`self::`, its own included.
fn crate_edges(module: &str, text: &str) -> Result<BTreeSet<String>, String> {
    let names = parse(module, text)?.names.into_iter();
    let absolute = names.filter(|n| n.relative_to.is_none());
    Ok(absolute.filter_map(|n| n.segs.into_iter().next()).collect())
}

/// The paths that pick a database backend in a file of module `module`;
/// the `db` module itself may.
fn backend_splits(module: &str, text: &str) -> Result<Vec<String>, String> {
    match segments(module).first().is_some_and(|m| m == "db") {
        true => Ok(Vec::new()),
        false => Ok(parse(module, text)?.backend),
    }
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
    let mut edges = Vec::new();
    for (rel, text) in sources() {
        let to = crate_edges(&module_path(&rel), &text);
        let to = to.unwrap_or_else(|e| panic!("src/{rel} {e}"));
        edges.extend(to.into_iter().map(|to| (top_module(&rel), to)));
    }
    edges
}

/// The library's module tree: the file each module lives in, and what each
/// module-level `use` brings in (a name may be re-exported from elsewhere).
#[derive(Default)]
struct Crate {
    files: BTreeMap<Vec<String>, String>,
    imports: BTreeMap<(Vec<String>, String), Named>,
}

impl Crate {
    /// The path below the crate root, if it names something of the crate.
    fn absolute(&self, n: &Named) -> Option<Vec<String>> {
        let Some(module) = &n.relative_to else {
            return Some(n.segs.clone());
        };
        let child = [module.clone(), vec![n.segs.first()?.clone()]].concat();
        let path = [module.clone(), n.segs.clone()].concat();
        self.files.contains_key(&child).then_some(path)
    }

    /// The file that defines what `path` names: down the child modules, then
    /// through the `use` that brings the next name in, if any.
    fn file_of(&self, path: &[String], hops: usize) -> Option<&String> {
        let mut module = Vec::new();
        for (i, seg) in path.iter().enumerate() {
            let child = [module.clone(), vec![seg.clone()]].concat();
            if self.files.contains_key(&child) {
                module = child;
                continue;
            }
            if let Some(import) = self.imports.get(&(module.clone(), seg.clone())) {
                let target = self.absolute(import).filter(|_| hops < 8)?;
                return self.file_of(&[target, path[i + 1..].to_vec()].concat(), hops + 1);
            }
            break;
        }
        self.files.get(&module)
    }
}

/// Which files each file imports from (`mod x;` is not an import).
fn file_graph(files: &[(String, String)]) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut krate = Crate::default();
    let mut parsed = Vec::new();
    for (rel, text) in files {
        let module = module_path(rel);
        let p = parse(&module, text).map_err(|e| format!("src/{rel} {e}"))?;
        // main.rs is the binary's root: it is no module of the library.
        if rel != "main.rs" {
            krate.files.insert(segments(&module), rel.clone());
            for inline in &p.inline {
                krate.files.insert(inline.clone(), rel.clone());
            }
            for (module, name, named) in &p.imports {
                let key = (module.clone(), name.clone());
                krate.imports.insert(key, named.clone());
            }
        }
        parsed.push((rel, p));
    }
    let mut graph = BTreeMap::new();
    for (rel, p) in parsed {
        let to: &mut BTreeSet<String> = graph.entry(rel.clone()).or_default();
        let absolute = p.names.iter().filter_map(|n| krate.absolute(n));
        let files = absolute.filter_map(|path| krate.file_of(&path, 0));
        to.extend(files.filter(|f| *f != rel).cloned());
    }
    Ok(graph)
}

/// The strongly connected components of more than one node (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    #[derive(Default)]
    struct Tarjan<'g> {
        /// Per node: (visit order, lowest order reachable on the stack).
        seen: BTreeMap<&'g str, (usize, usize)>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(graph: &'g BTreeMap<String, BTreeSet<String>>, v: &'g str, t: &mut Tarjan<'g>) {
        let order = t.seen.len();
        t.seen.insert(v, (order, order));
        t.stack.push(v);
        for w in graph.get(v).into_iter().flatten().map(String::as_str) {
            let low = match t.seen.get(w) {
                None => {
                    visit(graph, w, t);
                    t.seen[w].1
                }
                Some(&(w_order, _)) if t.stack.contains(&w) => w_order,
                Some(_) => continue,
            };
            let entry = t.seen.entry(v).or_default();
            entry.1 = entry.1.min(low);
        }
        if t.seen[v].1 == order {
            let at = t.stack.iter().rposition(|n| *n == v).unwrap_or_default();
            let mut component: Vec<String> = t.stack.drain(at..).map(String::from).collect();
            component.sort();
            if component.len() > 1 {
                t.found.push(component);
            }
        }
    }
    let mut t = Tarjan::default();
    for v in graph.keys() {
        if !t.seen.contains_key(v.as_str()) {
            visit(graph, v, &mut t);
        }
    }
    t.found
}

#[test]
fn dependencies_point_down() {
    let edges = source_edges();
    let count = edges.len();
    assert!(count > 50, "the scan found too few edges: {count}");
    let bad = violations(&edges).join("\n");
    assert!(bad.is_empty(), "imports against the layering:\n{bad}");
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

/// Files in a circle can only be understood, tested and changed together.
#[test]
fn no_import_circle_between_files() {
    let graph = file_graph(&sources()).unwrap_or_else(|e| panic!("{e}"));
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(edges > 200, "the scan found too few file edges: {edges}");
    // Each circle with its imports inside it: the ones to cut are among them.
    let mut report = String::new();
    for files in cycles(&graph) {
        report += &format!("{} files:\n", files.len());
        for f in &files {
            let inside: Vec<_> = graph[f].iter().filter(|t| files.contains(t)).collect();
            report += &format!("    {f} -> {inside:?}\n");
        }
    }
    assert!(
        report.is_empty(),
        "files that import each other in a circle:\n{report}"
    );
}

#[test]
fn only_the_db_module_tells_the_backends_apart() {
    let mut offenders = Vec::new();
    for (rel, text) in sources() {
        let found = backend_splits(&module_path(&rel), &text);
        let found = found.unwrap_or_else(|e| panic!("src/{rel} {e}"));
        offenders.extend(found.into_iter().map(|path| format!("src/{rel}: {path}")));
    }
    let offenders = offenders.join("\n");
    assert!(
        offenders.is_empty(),
        "backend choices outside src/db/:\n{offenders}"
    );
}

// The checker's own tests: each fails if the parsing it relies on regresses.

/// The crate-rooted paths a planted file names, as `a::b`.
fn absolute_names(module: &str, text: &str) -> BTreeSet<String> {
    let parsed = parse(module, text).unwrap_or_else(|e| panic!("{e}"));
    let absolute = parsed.names.into_iter().filter(|n| n.relative_to.is_none());
    absolute.map(|n| n.segs.join("::")).collect()
}

fn set(items: &str) -> BTreeSet<String> {
    items.split_whitespace().map(String::from).collect()
}

#[test]
fn the_layering_check_catches_an_upward_import() {
    let edges = vec![
        ("web".to_string(), "accounts".to_string()),
        ("db".to_string(), "startup".to_string()),
        ("accounts".to_string(), "db".to_string()),
    ];
    assert_eq!(violations(&edges).len(), 2);
    let wrapped = "use crate::{\n    accounts::login,\n    db::Db,\n};\n";
    let to = crate_edges("web", wrapped).unwrap().into_iter();
    let edges: Vec<_> = to.map(|to| ("web".to_string(), to)).collect();
    assert_eq!(violations(&edges), ["web -> accounts"]);
    let text = "use crate::{auth, web::Page};\n// crate::startup in a comment\n\
                /// crate::admin in a doc\nfn f() { let x = crate::db::now();\n\
                tracing::info!(x = %crate::clock::now()); crate::id_type!(X);\n\
                assert!(matches!(x, Some(crate::i18n::Lang::En))); vec![crate::text_enum!(Y)]; }";
    assert_eq!(
        crate_edges("home", text).unwrap(),
        set("auth clock db i18n web")
    );
}

#[test]
fn every_kind_of_use_is_seen() {
    let text = "pub use crate::admin::x;\nuse crate::{a::{b, c}, d as e};\n\
                pub(crate) use crate::f::*;\npub(in crate::g) fn h() {}";
    assert_eq!(absolute_names("m", text), set("admin::x a::b a::c d f"));
    let imports = parse("m", text).unwrap().imports.into_iter();
    let names = imports.map(|(_, name, n)| format!("{name}={}", n.segs.join("::")));
    assert_eq!(
        names.collect::<BTreeSet<_>>(),
        set("x=admin::x b=a::b c=a::c e=d")
    );
}

#[test]
fn super_and_self_resolve_from_the_file_module() {
    let text = "use super::super::x;\nuse super::{y, z::{self, w}};\n\
                fn f(_: self::q::R) { super::v::g(); }\nmod tests { use super::*; }";
    let expected = set("a::x a::b::y a::b::z a::b::z::w a::b::c::q::R a::b::v::g a::b::c");
    assert_eq!(absolute_names("a::b::c", text), expected);
}

#[test]
fn the_backend_check_sees_a_match_outside_db() {
    let text = "fn f(backend: Backend, c: DbConnection) -> i32 {\n\
                if let crate::db::DbConnection::Sqlite(c) = c { drop(c) }\n\
                let _ = matches!(backend, crate::db::Backend::Postgres);\n\
                let _ = Backend::Redis(1);\n\
                match backend { Backend::Sqlite => 1, _ => 2 } }";
    let found = backend_splits("web::x", text).unwrap();
    let expected = [
        "crate::db::DbConnection::Sqlite",
        "crate::db::Backend::Postgres",
        "Backend::Sqlite",
    ];
    assert_eq!(found, expected);
    assert!(backend_splits("db::dialect", text).unwrap().is_empty());
    let own_enum = "enum Backend { Redis, Memory }\nfn f() { Backend::Memory; }";
    assert!(backend_splits("web", own_enum).unwrap().is_empty());
}

#[test]
fn the_cycle_finder_sees_a_planted_circle_only() {
    let files = |b: &str| {
        let file = |path: &str, text: &str| (path.to_string(), text.to_string());
        vec![
            file("lib.rs", "mod a; mod b; mod c; mod e;"),
            file("a.rs", "use crate::b::f;\npub fn g() {}"),
            file("b.rs", b),
            file("c/mod.rs", "mod d;\npub use d::Thing;"),
            file("c/d.rs", "pub struct Thing;"),
            file("e.rs", "fn f(_: crate::c::Thing) {}"),
        ]
    };
    let graph = file_graph(&files("pub fn f() { crate::a::g() }")).unwrap();
    assert_eq!(cycles(&graph), [["a.rs", "b.rs"]]);
    // The re-export leads to the file that defines the item, not to mod.rs.
    assert_eq!(graph["e.rs"], set("c/d.rs"));
    assert!(graph["lib.rs"].is_empty());
    let chain = file_graph(&files("pub fn f() { crate::c::Thing; }")).unwrap();
    assert!(cycles(&chain).is_empty());
    assert_eq!(chain["b.rs"], set("c/d.rs"));
    // Two ways to one file are no circle (`c` meets `b` when it is done).
    let diamond = [("a", "b c"), ("b", ""), ("c", "b")].map(|(f, to)| (f.to_string(), set(to)));
    assert!(cycles(&BTreeMap::from(diamond)).is_empty());
}

#[test]
fn a_file_that_does_not_parse_is_an_error() {
    assert!(parse("web", "fn f( {").is_err());
}
