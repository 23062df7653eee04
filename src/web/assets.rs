//! Static files under `static/`, embedded in the binary and served with
//! cache-busting names: `app.css` is linked as `app.<hash>.css`, where the
//! hash is the first 16 hex digits of the file's SHA-256. nginx serves the same
//! files from disk in production (see `nginx/swiper.conf`).

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use ring::digest;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "static/"]
struct StaticFiles;

struct Manifest {
    /// logical name → hashed name
    hashed: HashMap<String, String>,
    /// hashed name → logical name
    logical: HashMap<String, String>,
}

static MANIFEST: LazyLock<Manifest> = LazyLock::new(|| {
    let mut hashed = HashMap::new();
    let mut logical = HashMap::new();
    for name in StaticFiles::iter() {
        let Some(file) = StaticFiles::get(&name) else {
            continue;
        };
        let h = digest::digest(&digest::SHA256, &file.data);
        let hex: String = h.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
        let with_hash = hashed_name(&name, &hex);
        hashed.insert(name.to_string(), with_hash.clone());
        logical.insert(with_hash, name.to_string());
    }
    Manifest { hashed, logical }
});

fn hashed_name(name: &str, hex: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hex}.{ext}"),
        _ => format!("{name}.{hex}"),
    }
}

/// The URL of a static file for templates: `/static/app.<hash>.css`.
pub fn url(name: &str) -> String {
    match MANIFEST.hashed.get(name) {
        Some(h) => format!("/static/{h}"),
        None => format!("/static/{name}"),
    }
}

/// `GET /static/{path}`: hashed names are cached for a year, plain names briefly.
pub async fn serve(path: web::Path<String>) -> HttpResponse {
    let requested = path.into_inner();
    let (name, immutable) = match MANIFEST.logical.get(&requested) {
        Some(n) => (n.as_str(), true),
        None => (requested.as_str(), false),
    };
    let Some(file) = StaticFiles::get(name) else {
        return HttpResponse::NotFound().finish();
    };
    let mime = mime_type(name);
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned())
}

fn mime_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_files_get_a_content_hash_in_their_name() {
        let u = url("app.css");
        assert!(
            u.starts_with("/static/app.")
                && u.ends_with(".css")
                && u.len() == "/static/app..css".len() + 16,
            "{u}"
        );
        assert_eq!(url("missing.css"), "/static/missing.css");
    }
}
