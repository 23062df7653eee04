//! The one place that decides a request's client IP. Forwarding headers are
//! believed only when the TCP peer is a configured trusted proxy (nginx);
//! anything else could be forged by the client.

use std::net::IpAddr;

use actix_web::dev::ServiceRequest;
use actix_web::HttpRequest;
use ipnet::IpNet;

/// Client IP from the peer address and, for trusted peers, `X-Real-IP` or the
/// right-most untrusted entry of `X-Forwarded-For`.
pub fn resolve(
    peer: Option<IpAddr>,
    headers: &actix_web::http::header::HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(real) = header("x-real-ip").and_then(|v| v.trim().parse::<IpAddr>().ok()) {
        return Some(real);
    }
    if let Some(xff) = header("x-forwarded-for") {
        // Walk from the right: each trusted hop appended the address it saw.
        for hop in xff.rsplit(',').map(str::trim) {
            match hop.parse::<IpAddr>() {
                Ok(ip) if is_trusted(&ip) => continue,
                Ok(ip) => return Some(ip),
                Err(_) => break,
            }
        }
    }
    Some(peer)
}

fn trusted_from(req: &HttpRequest) -> &[IpNet] {
    req.app_data::<actix_web::web::Data<crate::state::Spine>>()
        .map(|s| s.settings.http.trusted_proxies.as_slice())
        .unwrap_or(&[])
}

/// The client IP of a request (through trusted proxies only).
pub fn ip(req: &HttpRequest) -> Option<IpAddr> {
    resolve(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        trusted_from(req),
    )
}

/// The client IP of a request, as text for logs and records.
pub fn of(req: &HttpRequest) -> String {
    resolve(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        trusted_from(req),
    )
    .map(|ip| ip.to_string())
    .unwrap_or_else(|| "unknown".to_string())
}

/// The rate-limit subject of an address: the address itself for IPv4, its
/// /64 network for IPv6 (one subscriber usually holds a whole /64).
pub fn bucket_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The rate-limit subject of a request's client (see [`bucket_of`]).
pub fn bucket(req: &HttpRequest) -> String {
    resolve(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        trusted_from(req),
    )
    .map(bucket_of)
    .unwrap_or_else(|| "unknown".to_string())
}

/// Same as [`of`], for middleware.
pub fn of_service_request(req: &ServiceRequest) -> String {
    of(req.request())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn an_ipv6_64_is_one_bucket() {
        let a = bucket_of(
            "2001:db8:1:2:aaaa::1"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        let b = bucket_of(
            "2001:db8:1:2:ffff:1:2:3"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        let c = bucket_of("2001:db8:1:3::1".parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            bucket_of(
                "::ffff:192.0.2.1"
                    .parse()
                    .unwrap_or_else(|_| unreachable!())
            ),
            "192.0.2.1"
        );
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-real-ip", "6.6.6.6")]);
        assert_eq!(resolve(ip("203.0.113.9"), &h, &[]), ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_passes_the_real_ip() {
        let trusted: Vec<IpNet> = vec!["127.0.0.1/32".parse().unwrap_or_else(|_| unreachable!())];
        let h = headers(&[("x-real-ip", "198.51.100.7")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.7"));
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 127.0.0.1")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.7"));
    }
}
