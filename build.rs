//! The migrations are embedded in the binary (`embed_migrations!` in
//! src/db/dialect.rs): a new migration directory must rebuild it, which
//! Cargo does not notice by itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
