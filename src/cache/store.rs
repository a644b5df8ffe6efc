//! Whether a response is stored, and for how long: RFC 9111 §3 through
//! [`policy`], plus this cache's own rules (a public mirror ignores its
//! readers' `Cache-Control`; a plain proxy keeps an `Authorization`
//! answer only when the response allows it; nothing over
//! `max_object_bytes`). Plain values in, a [`StorePolicy`] out.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode, header};

use super::CacheSettings;
use super::policy::{self, CacheControl, Defaults, SurrogateControl, Validators};
use crate::site::SiteKind;

/// Freshness facts of a storable response.
#[derive(Clone, Debug)]
pub struct StorePolicy {
    pub lifetime: Duration,
    pub initial_age: Duration,
    /// Upstream's `Cache-Control` (the CDN headers and stale windows read it).
    pub cc: CacheControl,
}

/// An upstream answer as the store decision sees it.
#[derive(Clone, Copy, Debug)]
pub struct Upstream<'a> {
    pub status: StatusCode,
    /// Upstream's own headers.
    pub headers: &'a HeaderMap,
    pub request_time: SystemTime,
    pub response_time: SystemTime,
}

impl CacheSettings {
    /// What a response that says nothing of its freshness gets.
    pub fn defaults(&self, kind: SiteKind) -> Defaults {
        match kind {
            SiteKind::Mirror => Defaults::Mirror {
                default_ttl: self.default_ttl,
                force: self.override_ttl,
            },
            SiteKind::Plain => Defaults::Plain,
        }
    }
}

/// A stale window: the response's own directive, else (for the mirror) the
/// configured one. A plain proxy serves stale only where the response allows.
pub fn window(directive: Option<u64>, configured: Duration, kind: SiteKind) -> Duration {
    match directive {
        Some(s) => Duration::from_secs(s),
        None if kind == SiteKind::Mirror => configured,
        None => Duration::ZERO,
    }
}

/// `None` when the response to a GET with `request` headers may not be
/// stored (and so not shared).
pub fn store_policy(
    kind: SiteKind,
    settings: &CacheSettings,
    request: &HeaderMap,
    response: Upstream<'_>,
) -> Option<StorePolicy> {
    let headers = response.headers;
    let cc = CacheControl::parse(headers);
    let sc = SurrogateControl::parse(headers);
    let request_cc = match kind {
        // A public mirror ignores readers' Cache-Control: any reader could
        // otherwise make every request go upstream.
        SiteKind::Mirror => CacheControl::default(),
        SiteKind::Plain => CacheControl::parse(request),
    };
    if !policy::storable(
        &Method::GET,
        response.status,
        headers,
        &cc,
        &sc,
        &request_cc,
    ) {
        return None;
    }
    if kind.is_plain()
        && request.contains_key(header::AUTHORIZATION)
        && !(cc.public || cc.s_maxage.is_some() || cc.must_revalidate)
    {
        return None;
    }
    if crate::headers::content_length(headers).is_some_and(|n| n > settings.max_object_bytes) {
        return None;
    }
    let lifetime = if policy::age_is_valid(headers) {
        policy::freshness_lifetime(response.status, headers, &cc, &sc, settings.defaults(kind))
    } else {
        // An Age that cannot be read cannot be trusted to be young.
        Duration::ZERO
    };
    let initial_age = policy::initial_age(headers, response.request_time, response.response_time);
    // Nothing to gain from storing what is stale at once and cannot be revalidated.
    if lifetime <= initial_age && !Validators::from_headers(headers).any() && kind.is_plain() {
        return None;
    }
    Some(StorePolicy {
        lifetime,
        initial_age,
        cc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn settings() -> CacheSettings {
        CacheSettings {
            max_object_bytes: 1000,
            default_ttl: Duration::from_secs(300),
            override_ttl: false,
            stale_while_revalidate: Duration::from_secs(30),
            stale_if_error: Duration::from_secs(3600),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn decide(kind: SiteKind, request: &HeaderMap, response: &HeaderMap) -> Option<StorePolicy> {
        let now = SystemTime::now();
        store_policy(
            kind,
            &settings(),
            request,
            Upstream {
                status: StatusCode::OK,
                headers: response,
                request_time: now,
                response_time: now,
            },
        )
    }

    #[test]
    fn the_mirror_ignores_a_readers_no_store_and_a_plain_proxy_does_not() {
        let request = headers(&[("cache-control", "no-store")]);
        let response = headers(&[("cache-control", "max-age=60")]);
        assert!(decide(SiteKind::Mirror, &request, &response).is_some());
        assert!(decide(SiteKind::Plain, &request, &response).is_none());
    }

    #[test]
    fn an_authorized_answer_is_kept_by_a_plain_proxy_only_when_the_response_allows() {
        let request = headers(&[("authorization", "Basic eDp5")]);
        for (cc, stored) in [
            ("max-age=60", false),
            ("public, max-age=60", true),
            ("s-maxage=60", true),
            ("max-age=60, must-revalidate", true),
        ] {
            let response = headers(&[("cache-control", cc)]);
            assert_eq!(
                decide(SiteKind::Plain, &request, &response).is_some(),
                stored,
                "{cc}"
            );
        }
    }

    #[test]
    fn a_declared_length_over_max_object_bytes_is_not_stored() {
        let small = headers(&[("cache-control", "max-age=60"), ("content-length", "1000")]);
        let big = headers(&[("cache-control", "max-age=60"), ("content-length", "1001")]);
        assert!(decide(SiteKind::Mirror, &HeaderMap::new(), &small).is_some());
        assert!(decide(SiteKind::Mirror, &HeaderMap::new(), &big).is_none());
    }

    #[test]
    fn an_unreadable_age_makes_the_answer_stale_at_once() {
        let response = headers(&[("cache-control", "max-age=60"), ("age", "soon")]);
        let p = decide(SiteKind::Mirror, &HeaderMap::new(), &response).expect("stored");
        assert_eq!(p.lifetime, Duration::ZERO);
    }

    #[test]
    fn the_mirror_gives_a_silent_response_its_default_ttl() {
        let p = decide(SiteKind::Mirror, &HeaderMap::new(), &HeaderMap::new()).expect("stored");
        assert_eq!(p.lifetime, Duration::from_secs(300));
        // A plain proxy has nothing to go on and no validator: not kept.
        assert!(decide(SiteKind::Plain, &HeaderMap::new(), &HeaderMap::new()).is_none());
    }

    #[test]
    fn stale_windows_come_from_the_response_else_the_config_for_the_mirror() {
        let configured = Duration::from_secs(30);
        assert_eq!(
            window(Some(5), configured, SiteKind::Plain),
            Duration::from_secs(5)
        );
        assert_eq!(window(None, configured, SiteKind::Mirror), configured);
        assert_eq!(window(None, configured, SiteKind::Plain), Duration::ZERO);
    }
}
