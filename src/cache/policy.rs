//! HTTP caching rules for a shared cache (RFC 9111, RFC 5861): what may be
//! stored, for how long it is fresh, how old it is. Pure functions over
//! headers and times; no I/O.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode, header};

/// The directives of one `Cache-Control` (all field lines combined).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheControl {
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
    pub no_store: bool,
    /// `no-cache` (with or without field names: either way, revalidate).
    pub no_cache: bool,
    pub private: bool,
    pub public: bool,
    pub must_revalidate: bool,
    pub proxy_revalidate: bool,
    pub stale_while_revalidate: Option<u64>,
    pub stale_if_error: Option<u64>,
    pub only_if_cached: bool,
    pub max_stale: Option<Option<u64>>,
    pub min_fresh: Option<u64>,
}

impl CacheControl {
    pub fn parse(headers: &HeaderMap) -> CacheControl {
        let mut cc = CacheControl::default();
        for value in headers.get_all(header::CACHE_CONTROL) {
            let Ok(text) = value.to_str() else { continue };
            for directive in split_directives(text) {
                let (name, arg) = match directive.split_once('=') {
                    Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                    None => (directive.trim(), None),
                };
                let seconds = arg.and_then(parse_delta);
                match name.to_ascii_lowercase().as_str() {
                    // A directive that appears twice with different values is
                    // invalid; the most restrictive reading (smallest) is safe.
                    "max-age" => cc.max_age = Some(merge_age(cc.max_age, arg)),
                    "s-maxage" => cc.s_maxage = Some(merge_age(cc.s_maxage, arg)),
                    "no-store" => cc.no_store = true,
                    "no-cache" => cc.no_cache = true,
                    "private" => cc.private = true,
                    "public" => cc.public = true,
                    "must-revalidate" => cc.must_revalidate = true,
                    "proxy-revalidate" => cc.proxy_revalidate = true,
                    "stale-while-revalidate" => cc.stale_while_revalidate = seconds,
                    "stale-if-error" => cc.stale_if_error = seconds,
                    "only-if-cached" => cc.only_if_cached = true,
                    "max-stale" => cc.max_stale = Some(seconds),
                    "min-fresh" => cc.min_fresh = seconds,
                    _ => {}
                }
            }
        }
        cc
    }
}

/// A max-age whose value is missing or invalid means "stale" (0); a
/// directive given twice keeps the smaller value.
fn merge_age(previous: Option<u64>, arg: Option<&str>) -> u64 {
    let value = arg.and_then(parse_delta).unwrap_or(0);
    previous.map_or(value, |p| p.min(value))
}

/// Splits a `Cache-Control` value on commas outside quoted strings.
fn split_directives(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect()
}

/// A delta-seconds value; overly large values saturate (RFC 9111 §1.2.2).
fn parse_delta(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        s.parse::<u64>()
            .unwrap_or(u64::from(u32::MAX))
            .min(u64::from(u32::MAX)),
    )
}

/// Statuses a cache may store with heuristic freshness (RFC 9110 §15.1).
pub fn heuristically_cacheable(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        200 | 203 | 204 | 206 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501
    )
}

/// Statuses this cache stores at all.
fn understood(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        200 | 203 | 204 | 300 | 301 | 302 | 303 | 307 | 308 | 404 | 405 | 410 | 414 | 451 | 501
    )
}

/// How the cache treats responses that say nothing about freshness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defaults {
    /// The mirror: `default_ttl` when upstream says nothing; with `force`,
    /// `default_ttl` whatever upstream says (`override = true`).
    Mirror { default_ttl: Duration, force: bool },
    /// A plain reverse proxy (`rewrite = false`): RFC 9111 heuristics only.
    Plain,
}

/// Whether a response may be stored by a shared cache (RFC 9111 §3).
pub fn storable(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
    cc: &CacheControl,
    request_cc: &CacheControl,
) -> bool {
    if !(method == Method::GET || method == Method::HEAD) {
        return false;
    }
    if !understood(status) || cc.no_store || request_cc.no_store || cc.private {
        return false;
    }
    if headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|f| f.trim() == "*"))
    {
        return false;
    }
    let explicit = cc.max_age.is_some()
        || cc.s_maxage.is_some()
        || headers.contains_key(header::EXPIRES)
        || cc.public;
    explicit || heuristically_cacheable(status) || cc.no_cache
}

/// How long a response is fresh from its creation (RFC 9111 §4.2.1).
pub fn freshness_lifetime(
    status: StatusCode,
    headers: &HeaderMap,
    cc: &CacheControl,
    defaults: Defaults,
) -> Duration {
    if let Defaults::Mirror {
        default_ttl,
        force: true,
    } = defaults
    {
        return if cc.no_cache {
            Duration::ZERO
        } else {
            default_ttl
        };
    }
    if cc.no_cache {
        return Duration::ZERO;
    }
    if let Some(s) = cc.s_maxage.or(cc.max_age) {
        return Duration::from_secs(s);
    }
    if let Some(expires) = headers.get(header::EXPIRES) {
        // An invalid Expires (e.g. "0") means "already expired".
        let expires = expires
            .to_str()
            .ok()
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let date = date_of(headers);
        return match (expires, date) {
            (Some(e), Some(d)) => e.duration_since(d).unwrap_or(Duration::ZERO),
            (Some(e), None) => e
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
            _ => Duration::ZERO,
        };
    }
    match defaults {
        Defaults::Mirror { default_ttl, .. } => default_ttl,
        Defaults::Plain => heuristic(status, headers),
    }
}

/// 10% of the time since `Last-Modified`, for heuristically cacheable
/// statuses (RFC 9111 §4.2.2), capped at a day.
fn heuristic(status: StatusCode, headers: &HeaderMap) -> Duration {
    if !heuristically_cacheable(status) {
        return Duration::ZERO;
    }
    let last_modified = headers
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    let now = date_of(headers).unwrap_or_else(SystemTime::now);
    match last_modified.and_then(|lm| now.duration_since(lm).ok()) {
        Some(age) => (age / 10).min(Duration::from_secs(86_400)),
        None => Duration::ZERO,
    }
}

fn date_of(headers: &HeaderMap) -> Option<SystemTime> {
    headers
        .get(header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
}

/// The age a response already had when it arrived (RFC 9111 §4.2.3):
/// the larger of its `Age` plus the time the request took and the apparent
/// age from `Date`.
pub fn initial_age(
    headers: &HeaderMap,
    request_time: SystemTime,
    response_time: SystemTime,
) -> Duration {
    let age_value = headers
        .get(header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_delta(v.trim()))
        .map(Duration::from_secs)
        .unwrap_or(Duration::ZERO);
    let apparent = date_of(headers)
        .and_then(|d| response_time.duration_since(d).ok())
        .unwrap_or(Duration::ZERO);
    let delay = response_time
        .duration_since(request_time)
        .unwrap_or(Duration::ZERO);
    apparent.max(age_value + delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    const MIRROR: Defaults = Defaults::Mirror {
        default_ttl: Duration::from_secs(300),
        force: false,
    };

    #[test]
    fn cache_control_directives_parse() {
        let cc = CacheControl::parse(&h(&[
            ("cache-control", "public, max-age=60, s-maxage=\"120\""),
            (
                "cache-control",
                "stale-while-revalidate=30, no-cache=\"set-cookie\"",
            ),
        ]));
        assert_eq!(cc.max_age, Some(60));
        assert_eq!(cc.s_maxage, Some(120));
        assert!(cc.public && cc.no_cache);
        assert_eq!(cc.stale_while_revalidate, Some(30));
        let cc = CacheControl::parse(&h(&[("cache-control", "max-age=99999999999999999999")]));
        assert_eq!(cc.max_age, Some(u64::from(u32::MAX)));
        let cc = CacheControl::parse(&h(&[("cache-control", "max-age=abc")]));
        assert_eq!(
            cc.max_age,
            Some(0),
            "an invalid max-age makes the response stale"
        );
    }

    #[test]
    fn s_maxage_beats_max_age_beats_expires() {
        let hdr = h(&[
            ("cache-control", "max-age=10, s-maxage=20"),
            ("expires", "Thu, 01 Jan 2099 00:00:00 GMT"),
        ]);
        let cc = CacheControl::parse(&hdr);
        assert_eq!(
            freshness_lifetime(StatusCode::OK, &hdr, &cc, MIRROR),
            Duration::from_secs(20)
        );
        let hdr = h(&[
            ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
            ("expires", "Thu, 01 Jan 2026 00:01:40 GMT"),
        ]);
        let cc = CacheControl::parse(&hdr);
        assert_eq!(
            freshness_lifetime(StatusCode::OK, &hdr, &cc, MIRROR),
            Duration::from_secs(100)
        );
        let hdr = h(&[("expires", "0")]);
        assert_eq!(
            freshness_lifetime(StatusCode::OK, &hdr, &CacheControl::parse(&hdr), MIRROR),
            Duration::ZERO
        );
    }

    #[test]
    fn silence_means_default_ttl_for_the_mirror_and_heuristics_for_a_plain_proxy() {
        let hdr = h(&[
            ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
            ("last-modified", "Wed, 31 Dec 2025 00:00:00 GMT"),
        ]);
        let cc = CacheControl::parse(&hdr);
        assert_eq!(
            freshness_lifetime(StatusCode::OK, &hdr, &cc, MIRROR),
            Duration::from_secs(300)
        );
        assert_eq!(
            freshness_lifetime(StatusCode::OK, &hdr, &cc, Defaults::Plain),
            Duration::from_secs(8640)
        );
        assert_eq!(
            freshness_lifetime(
                StatusCode::OK,
                &h(&[]),
                &CacheControl::default(),
                Defaults::Plain
            ),
            Duration::ZERO
        );
    }

    #[test]
    fn override_imposes_default_ttl() {
        let hdr = h(&[("cache-control", "max-age=5")]);
        let forced = Defaults::Mirror {
            default_ttl: Duration::from_secs(300),
            force: true,
        };
        assert_eq!(
            freshness_lifetime(StatusCode::OK, &hdr, &CacheControl::parse(&hdr), forced),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn private_no_store_and_vary_star_are_not_stored() {
        let req = CacheControl::default();
        for cc in ["private", "no-store", "private, max-age=60"] {
            let hdr = h(&[("cache-control", cc)]);
            assert!(
                !storable(
                    &Method::GET,
                    StatusCode::OK,
                    &hdr,
                    &CacheControl::parse(&hdr),
                    &req
                ),
                "{cc}"
            );
        }
        let hdr = h(&[("vary", "*")]);
        assert!(!storable(
            &Method::GET,
            StatusCode::OK,
            &hdr,
            &CacheControl::parse(&hdr),
            &req
        ));
        assert!(!storable(
            &Method::POST,
            StatusCode::OK,
            &h(&[]),
            &req,
            &req
        ));
        assert!(storable(&Method::GET, StatusCode::OK, &h(&[]), &req, &req));
        assert!(!storable(
            &Method::GET,
            StatusCode::INTERNAL_SERVER_ERROR,
            &h(&[]),
            &req,
            &req
        ));
        let hdr = h(&[("cache-control", "max-age=60")]);
        assert!(storable(
            &Method::GET,
            StatusCode::FOUND,
            &hdr,
            &CacheControl::parse(&hdr),
            &req
        ));
        assert!(!storable(
            &Method::GET,
            StatusCode::FOUND,
            &h(&[]),
            &req,
            &req
        ));
    }

    #[test]
    fn initial_age_takes_the_larger_estimate() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let t1 = t0 + Duration::from_secs(2);
        let hdr = h(&[("age", "30")]);
        assert_eq!(initial_age(&hdr, t0, t1), Duration::from_secs(32));
        let date = httpdate::fmt_http_date(t1 - Duration::from_secs(50));
        let hdr = h(&[("age", "30"), ("date", &date)]);
        assert_eq!(initial_age(&hdr, t0, t1), Duration::from_secs(50));
    }
}
