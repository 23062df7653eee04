//! The two migration sets stay in step: applied to a fresh SQLite file and a
//! fresh PostgreSQL database, they give the same tables, columns (name,
//! type family, nullability) and indexes (table, columns, uniqueness).

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use swiper::db::{self, DbConnection};

use crate::helpers::*;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// table → column → (type family, nullable)
    pub columns: BTreeMap<String, BTreeMap<String, (String, bool)>>,
    /// (table, columns in order, unique)
    pub indexes: BTreeSet<(String, Vec<String>, bool)>,
}

fn family(sql_type: &str) -> String {
    let t = sql_type.to_lowercase();
    let f = if t.contains("int") || t.contains("serial") {
        "integer"
    } else if t.contains("bool") {
        "bool"
    } else if t.contains("timestamp") {
        "timestamp"
    } else if t == "date" {
        "date"
    } else if t.contains("double") || t.contains("real") || t.contains("float") {
        "float"
    } else if t.contains("char") || t == "text" {
        "text"
    } else {
        return t;
    };
    f.to_string()
}

/// Every difference between the two schemas, one line each.
pub fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let tables: BTreeSet<&String> = sqlite
        .columns
        .keys()
        .chain(postgres.columns.keys())
        .collect();
    for table in tables {
        match (sqlite.columns.get(table), postgres.columns.get(table)) {
            (Some(a), Some(b)) => {
                let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                for c in names {
                    match (a.get(c), b.get(c)) {
                        (Some(x), Some(y)) if x == y => {}
                        (x, y) => out.push(format!("{table}.{c}: sqlite {x:?}, postgres {y:?}")),
                    }
                }
            }
            (a, b) => out.push(format!(
                "table {table}: in sqlite {}, in postgres {}",
                a.is_some(),
                b.is_some()
            )),
        }
    }
    for i in sqlite.indexes.symmetric_difference(&postgres.indexes) {
        let side = if sqlite.indexes.contains(i) {
            "sqlite"
        } else {
            "postgres"
        };
        out.push(format!("index only in {side}: {i:?}"));
    }
    out
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    is_unique: i64,
    #[diesel(sql_type = Text)]
    origin: String,
}

const SKIP: &str = "__diesel_schema_migrations";

fn sqlite_schema(c: &mut DbConnection) -> Schema {
    let mut s = Schema::default();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .load(c)
    .unwrap();
    for t in tables.into_iter().map(|t| t.name).filter(|t| t != SKIP) {
        let cols: Vec<SqliteColumn> = diesel::sql_query(format!(
            "SELECT name, type AS ty, \"notnull\" AS not_null, pk FROM pragma_table_info('{t}')"
        ))
        .load(c)
        .unwrap();
        let cols = cols
            .into_iter()
            .map(|col| {
                (
                    col.name,
                    (family(&col.ty), col.not_null == 0 && col.pk == 0),
                )
            })
            .collect();
        s.columns.insert(t.clone(), cols);
        let indexes: Vec<SqliteIndex> = diesel::sql_query(format!(
            "SELECT name, \"unique\" AS is_unique, origin FROM pragma_index_list('{t}')"
        ))
        .load(c)
        .unwrap();
        for i in indexes.into_iter().filter(|i| i.origin != "pk") {
            let cols: Vec<Name> = diesel::sql_query(format!(
                "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                i.name
            ))
            .load(c)
            .unwrap();
            s.indexes.insert((
                t.clone(),
                cols.into_iter().map(|c| c.name).collect(),
                i.is_unique == 1,
            ));
        }
    }
    s
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Text)]
    is_unique: String,
}

fn postgres_schema(c: &mut DbConnection) -> Schema {
    let mut s = Schema::default();
    let cols: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .load(c)
    .unwrap();
    for col in cols.into_iter().filter(|c| c.table_name != SKIP) {
        s.columns.entry(col.table_name).or_default().insert(
            col.column_name,
            (family(&col.data_type), col.is_nullable == "YES"),
        );
    }
    let indexes: Vec<PgIndex> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, i.indisunique::text AS is_unique, \
           array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ',') AS columns \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND NOT i.indisprimary",
    )
    .load(c)
    .unwrap();
    for i in indexes.into_iter().filter(|i| i.table_name != SKIP) {
        s.indexes.insert((
            i.table_name,
            i.columns.split(',').map(str::to_string).collect(),
            i.is_unique == "true",
        ));
    }
    s
}

#[test]
fn the_comparison_reports_a_column_added_to_one_backend_only() {
    let mut a = Schema::default();
    a.columns
        .entry("users".into())
        .or_default()
        .insert("id".into(), ("integer".into(), false));
    a.indexes
        .insert(("users".into(), vec!["email".into()], true));
    let mut b = Schema::default();
    b.columns
        .entry("users".into())
        .or_default()
        .insert("id".into(), ("integer".into(), false));
    b.indexes
        .insert(("users".into(), vec!["email".into()], true));
    assert!(differences(&a, &b).is_empty());
    b.columns
        .entry("users".into())
        .or_default()
        .insert("extra".into(), ("text".into(), true));
    b.indexes
        .insert(("users".into(), vec!["extra".into()], false));
    let diff = differences(&a, &b);
    assert_eq!(diff.len(), 2, "{diff:?}");
    assert!(diff[0].contains("users.extra"));
}

#[test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with -- --include-ignored"]
fn both_migration_sets_give_the_same_tables_columns_and_indexes() {
    require_postgres();
    let pg = TestDb::new();
    let sqlite = on_migrated_sqlite(sqlite_schema);
    let postgres = {
        let pool = pg.pool();
        let mut c = pool.get().unwrap();
        postgres_schema(&mut c)
    };
    assert!(sqlite.columns.len() >= 6, "{:?}", sqlite.columns.keys());
    let email = ("users".to_string(), vec!["email".to_string()], true);
    assert!(sqlite.indexes.contains(&email), "{:?}", sqlite.indexes);
    assert!(postgres.indexes.contains(&email), "{:?}", postgres.indexes);
    assert_eq!(
        postgres.columns["profiles"].get("latitude"),
        Some(&("float".to_string(), true))
    );
    let diff = differences(&sqlite, &postgres);
    assert!(
        diff.is_empty(),
        "the migration sets differ:\n{}",
        diff.join("\n")
    );
}

/// The feed writes a sex into its cell statement and reads that sex's
/// partial index (`profiles_feed_cell_female` …, `WHERE sex = 'female'`):
/// every sex a member can have must have one, on both backends.
fn feed_cell_indexes(c: &mut DbConnection, postgres: bool) -> BTreeSet<String> {
    indexes_like(c, postgres, "profiles_feed_cell%")
}

/// "name definition" of every index whose name is `LIKE` `pattern`.
fn indexes_like(c: &mut DbConnection, postgres: bool, pattern: &str) -> BTreeSet<String> {
    let sql = if postgres {
        "SELECT indexname::text || ' ' || indexdef AS name FROM pg_indexes WHERE indexname LIKE $1"
    } else {
        "SELECT name || ' ' || sql AS name FROM sqlite_master WHERE type = 'index' AND name LIKE ?"
    };
    let rows: Vec<Name> = diesel::sql_query(sql)
        .bind::<Text, _>(pattern)
        .load(c)
        .unwrap();
    rows.into_iter().map(|r| r.name).collect()
}

/// `f` on a new SQLite file with every migration applied.
fn on_migrated_sqlite<T>(f: impl FnOnce(&mut DbConnection) -> T) -> T {
    let dir = std::env::temp_dir().join(format!(
        "swiper-migrations-{}",
        swiper::security::random::token(6)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("migrated.sqlite3").display());
    let pool = db::pool(&url, 1, swiper::db::Statements::Prepared).unwrap();
    let mut c = pool.get().unwrap();
    db::migrate(&mut c).unwrap();
    let out = f(&mut c);
    drop((c, pool));
    let _ = std::fs::remove_dir_all(dir);
    out
}

fn assert_a_cell_index_per_sex(found: &BTreeSet<String>) {
    assert_eq!(found.len(), swiper::auth::Sex::ALL.len(), "{found:?}");
    for sex in swiper::auth::Sex::ALL {
        let name = format!("profiles_feed_cell_{} ", sex.as_str());
        let predicate = format!("sex = '{}'", sex.as_str());
        assert!(
            found
                .iter()
                .any(|i| i.starts_with(&name) && i.contains(&predicate)),
            "no partial cell index for {sex:?}: {found:?}"
        );
    }
}

#[test]
fn every_sex_has_its_feed_cell_index_on_sqlite() {
    let found = on_migrated_sqlite(|c| feed_cell_indexes(c, false));
    assert_a_cell_index_per_sex(&found);
}

#[test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with -- --include-ignored"]
fn every_sex_has_its_feed_cell_index_on_postgres() {
    require_postgres();
    let pg = TestDb::new();
    let mut c = pg.pool().get().unwrap();
    assert_a_cell_index_per_sex(&feed_cell_indexes(&mut c, true));
}

/// A bulk load (`swiper seed` of 100,000 members or more) sets the feed
/// indexes aside in its transaction and builds them again at its end: the
/// same definitions come back, and a load that fails brings them back with
/// its rollback.
#[test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with -- --include-ignored"]
fn a_bulk_load_sets_the_feed_indexes_aside_and_restores_them() {
    use diesel::Connection;
    require_postgres();
    let pg = TestDb::new();
    let mut c = pg.pool().get().unwrap();
    let before = feed_indexes(&mut c);
    assert_eq!(before.len(), 6, "{before:?}");
    let rebuilt = c
        .transaction(|c| {
            let set_aside = db::set_aside_indexes(c, "profiles", "profiles_feed_%")?;
            assert_eq!(set_aside.len(), 6);
            assert!(feed_indexes(c).is_empty(), "dropped during the load");
            db::restore_indexes(c, &set_aside)?;
            Ok::<_, diesel::result::Error>(feed_indexes(c))
        })
        .unwrap();
    assert_eq!(rebuilt, before);
    let failed: Result<(), diesel::result::Error> = c.transaction(|c| {
        db::set_aside_indexes(c, "profiles", "profiles_feed_%")?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(failed.is_err());
    assert_eq!(
        feed_indexes(&mut c),
        before,
        "the rollback brings them back"
    );
}

fn feed_indexes(c: &mut DbConnection) -> BTreeSet<String> {
    indexes_like(c, true, "profiles_feed_%")
}
