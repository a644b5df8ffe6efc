//! HTTP caching rules for a shared cache (RFC 9111, RFC 5861): what may be
//! stored, for how long it is fresh, how old it is. Pure functions over
//! headers and times; no I/O.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::detach_value;

/// The upstream's validators, for conditional revalidation.
#[derive(Clone, Debug, Default)]
pub struct Validators {
    pub etag: Option<HeaderValue>,
    pub last_modified: Option<HeaderValue>,
}

impl Validators {
    pub fn from_headers(h: &HeaderMap) -> Validators {
        Validators {
            etag: h.get(header::ETAG).map(detach_value),
            last_modified: h.get(header::LAST_MODIFIED).map(detach_value),
        }
    }

    pub fn any(&self) -> bool {
        self.etag.is_some() || self.last_modified.is_some()
    }
}

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
    pub must_understand: bool,
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
                    "must-understand" => cc.must_understand = true,
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

/// Status codes this cache understands: those RFC 9110 defines. Others
/// are stored only with explicit freshness and never under `must-understand`.
fn understood(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        200..=206 | 300..=308 | 400..=417 | 421..=426 | 428 | 429 | 431 | 451 | 500..=505 | 511
    )
}

/// `Surrogate-Control` directives that apply to this cache: untargeted
/// ones, and those targeted at [`SURROGATE_NAME`] (Edge Architecture 1.0).
/// They take precedence over `Cache-Control` for storing and freshness.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SurrogateControl {
    pub max_age: Option<u64>,
    pub no_store: bool,
}

/// The name this cache announces in `Surrogate-Capability`.
pub const SURROGATE_NAME: &str = "newsmirror";

impl SurrogateControl {
    pub fn parse(headers: &HeaderMap) -> SurrogateControl {
        let mut sc = SurrogateControl::default();
        for value in headers.get_all("surrogate-control") {
            let Ok(text) = value.to_str() else { continue };
            for directive in split_directives(text) {
                let (body, target) = match directive.split_once(';') {
                    Some((b, t)) => (b, Some(t.trim())),
                    None => (directive, None),
                };
                if target.is_some_and(|t| !t.eq_ignore_ascii_case(SURROGATE_NAME)) {
                    continue;
                }
                let (name, arg) = match body.split_once('=') {
                    Some((n, a)) => (n, Some(a)),
                    None => (body, None),
                };
                // No whitespace around '=' (a token, then '=', then the value).
                if name.ends_with(' ') || arg.is_some_and(|a| a.starts_with(' ')) {
                    continue;
                }
                match name.trim().to_ascii_lowercase().as_str() {
                    "max-age" => {
                        if let Some(v) = arg.and_then(|a| parse_delta(a.trim())) {
                            sc.max_age = Some(v);
                        }
                    }
                    "no-store" => sc.no_store = true,
                    _ => {}
                }
            }
        }
        sc
    }
}

/// Whether the response's `Age` is absent or one valid delta-seconds. An
/// invalid, negative, fractional, parametrised or repeated `Age` makes the
/// response stale (it cannot be trusted to be young).
pub fn age_is_valid(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::AGE).iter();
    match (values.next(), values.next()) {
        (None, _) => true,
        (Some(v), None) => v
            .to_str()
            .ok()
            .map(str::trim)
            .is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())),
        (Some(_), Some(_)) => false,
    }
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
    sc: &SurrogateControl,
    request_cc: &CacheControl,
) -> bool {
    if !(method == Method::GET || method == Method::HEAD) {
        return false;
    }
    // Partial and not-modified answers are not stored as bodies.
    if status.is_informational()
        || status == StatusCode::PARTIAL_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
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
    if sc.no_store || request_cc.no_store {
        return false;
    }
    if sc.max_age.is_some() {
        return true;
    }
    if cc.no_store || cc.private || (cc.must_understand && !understood(status)) {
        return false;
    }
    let explicit = cc.max_age.is_some()
        || cc.s_maxage.is_some()
        || headers.contains_key(header::EXPIRES)
        || cc.public;
    if !understood(status) {
        return cc.max_age.is_some()
            || cc.s_maxage.is_some()
            || headers.contains_key(header::EXPIRES);
    }
    explicit || heuristically_cacheable(status) || cc.no_cache
}

/// How long a response is fresh from its creation (RFC 9111 §4.2.1).
pub fn freshness_lifetime(
    status: StatusCode,
    headers: &HeaderMap,
    cc: &CacheControl,
    sc: &SurrogateControl,
    defaults: Defaults,
) -> Duration {
    if let Some(s) = sc.max_age {
        return Duration::from_secs(s);
    }
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

    fn lifetime(hdr: &HeaderMap, defaults: Defaults) -> Duration {
        let cc = CacheControl::parse(hdr);
        freshness_lifetime(
            StatusCode::OK,
            hdr,
            &cc,
            &SurrogateControl::parse(hdr),
            defaults,
        )
    }

    fn can_store(method: Method, status: u16, hdr: &HeaderMap) -> bool {
        let status = StatusCode::from_u16(status).unwrap();
        storable(
            &method,
            status,
            hdr,
            &CacheControl::parse(hdr),
            &SurrogateControl::parse(hdr),
            &CacheControl::default(),
        )
    }

    #[test]
    fn s_maxage_beats_max_age_beats_expires() {
        let hdr = h(&[
            ("cache-control", "max-age=10, s-maxage=20"),
            ("expires", "Thu, 01 Jan 2099 00:00:00 GMT"),
        ]);
        assert_eq!(lifetime(&hdr, MIRROR), Duration::from_secs(20));
        let hdr = h(&[
            ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
            ("expires", "Thu, 01 Jan 2026 00:01:40 GMT"),
        ]);
        assert_eq!(lifetime(&hdr, MIRROR), Duration::from_secs(100));
        assert_eq!(lifetime(&h(&[("expires", "0")]), MIRROR), Duration::ZERO);
    }

    #[test]
    fn silence_means_default_ttl_for_the_mirror_and_heuristics_for_a_plain_proxy() {
        let hdr = h(&[
            ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
            ("last-modified", "Wed, 31 Dec 2025 00:00:00 GMT"),
        ]);
        assert_eq!(lifetime(&hdr, MIRROR), Duration::from_secs(300));
        assert_eq!(lifetime(&hdr, Defaults::Plain), Duration::from_secs(8640));
        assert_eq!(lifetime(&h(&[]), Defaults::Plain), Duration::ZERO);
    }

    #[test]
    fn override_imposes_default_ttl() {
        let forced = Defaults::Mirror {
            default_ttl: Duration::from_secs(300),
            force: true,
        };
        assert_eq!(
            lifetime(&h(&[("cache-control", "max-age=5")]), forced),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn private_no_store_and_vary_star_are_not_stored() {
        for cc in ["private", "no-store", "private, max-age=60"] {
            assert!(
                !can_store(Method::GET, 200, &h(&[("cache-control", cc)])),
                "{cc}"
            );
        }
        assert!(!can_store(Method::GET, 200, &h(&[("vary", "*")])));
        assert!(!can_store(Method::POST, 200, &h(&[])));
        assert!(can_store(Method::GET, 200, &h(&[])));
        assert!(!can_store(Method::GET, 500, &h(&[])));
        assert!(can_store(
            Method::GET,
            302,
            &h(&[("cache-control", "max-age=60")])
        ));
        assert!(!can_store(Method::GET, 302, &h(&[])));
    }

    #[test]
    fn any_final_status_with_explicit_freshness_is_stored_unless_must_understand() {
        for status in [500, 503, 299, 599] {
            assert!(
                can_store(Method::GET, status, &h(&[("cache-control", "max-age=60")])),
                "{status}"
            );
        }
        assert!(!can_store(
            Method::GET,
            599,
            &h(&[("cache-control", "max-age=60, must-understand")])
        ));
        assert!(can_store(
            Method::GET,
            200,
            &h(&[("cache-control", "max-age=60, must-understand")])
        ));
        assert!(!can_store(
            Method::GET,
            206,
            &h(&[("cache-control", "max-age=60")])
        ));
    }

    #[test]
    fn surrogate_control_takes_precedence_for_this_cache() {
        let hdr = h(&[
            ("cache-control", "no-store"),
            ("surrogate-control", "max-age=100;newsmirror"),
        ]);
        assert!(can_store(Method::GET, 200, &hdr));
        assert_eq!(lifetime(&hdr, Defaults::Plain), Duration::from_secs(100));
        let hdr = h(&[
            ("cache-control", "max-age=100"),
            ("surrogate-control", "no-store"),
        ]);
        assert!(!can_store(Method::GET, 200, &hdr));
        let hdr = h(&[
            ("cache-control", "max-age=100"),
            ("surrogate-control", "max-age=1;other-cdn"),
        ]);
        assert_eq!(lifetime(&hdr, Defaults::Plain), Duration::from_secs(100));
        let hdr = h(&[("surrogate-control", "foo, MaX-aGe=30")]);
        assert_eq!(lifetime(&hdr, Defaults::Plain), Duration::from_secs(30));
        let hdr = h(&[
            ("cache-control", "max-age=1"),
            ("surrogate-control", "max-age =100"),
        ]);
        assert_eq!(lifetime(&hdr, Defaults::Plain), Duration::from_secs(1));
    }

    #[test]
    fn only_one_plain_age_value_is_valid() {
        assert!(age_is_valid(&h(&[])));
        assert!(age_is_valid(&h(&[("age", "30")])));
        for bad in ["abc", "-1", "1.0", "1,2", "7200;foo=1", ""] {
            assert!(!age_is_valid(&h(&[("age", bad)])), "{bad}");
        }
        assert!(!age_is_valid(&h(&[("age", "0"), ("age", "0")])));
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
