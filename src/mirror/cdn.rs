//! CDN headers: the `Cache-Control` readers and CDNs get for a stored
//! mirror answer (from `[cdn]` and `[cache]`), and the surrogate keys for
//! tag purges.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, header};

use crate::cache::StorePolicy;
use crate::cache::policy::CacheControl;
use crate::config::{CacheConfig, CdnConfig};
use crate::headers::SURROGATE_KEY;

/// The CDN's view of a cacheable mirror answer.
pub fn set_headers(
    config: (&CdnConfig, &CacheConfig),
    headers: &mut HeaderMap,
    policy: &StorePolicy,
    keys: &[String],
) {
    set_cache_control(config, headers, policy.lifetime, &policy.cc);
    headers.remove(header::EXPIRES);
    headers.remove(header::PRAGMA);
    if let Ok(v) = HeaderValue::from_str(&keys.join(" ")) {
        headers.insert(SURROGATE_KEY, v);
    }
}

/// The `Cache-Control` readers and CDNs get for a stored mirror answer of
/// freshness `lifetime`, upstream's own directives being `cc`. An answer
/// upstream marked `private` or `no-store` is stored here only because
/// `Surrogate-Control` (which targets this cache alone) allowed it: no
/// other shared cache may keep it, so it never says `public` or `s-maxage`.
pub fn set_cache_control(
    (cdn, cache): (&CdnConfig, &CacheConfig),
    headers: &mut HeaderMap,
    lifetime: Duration,
    cc: &CacheControl,
) {
    let value = if cc.no_store {
        "private, no-store".to_owned()
    } else if cc.private {
        let max_age = cc.max_age.map_or(cdn.max_age.get().as_secs(), |s| {
            s.min(cdn.max_age.get().as_secs())
        });
        if lifetime.is_zero() || max_age == 0 {
            "private, no-cache".to_owned()
        } else {
            format!("private, max-age={max_age}")
        }
    } else if lifetime.is_zero() {
        "public, no-cache".to_owned()
    } else {
        format!(
            "public, max-age={}, s-maxage={}, stale-while-revalidate={}, stale-if-error={}",
            cdn.max_age.get().as_secs(),
            cdn.s_maxage.get().as_secs(),
            cache.stale_while_revalidate.get().as_secs(),
            cache.stale_if_error.get().as_secs()
        )
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(header::CACHE_CONTROL, v);
    }
}

/// `site`, `site:<article id>` (the last path segment's stem when it looks
/// like an id) and `site:<mirror path>`.
pub fn surrogate_keys(site: &str, mirror_path: &str) -> Vec<String> {
    let mut keys = vec![site.to_owned()];
    let last = mirror_path.rsplit('/').next().unwrap_or("");
    let stem = last.split('.').next().unwrap_or("");
    if !stem.is_empty() && (last.contains('.') || stem.bytes().any(|b| b.is_ascii_digit())) {
        keys.push(format!("{site}:{stem}"));
    }
    keys.push(format!("{site}:{mirror_path}"));
    keys.retain(|k| k.len() <= 1024 && !k.contains(char::is_whitespace));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrogate_keys_name_the_site_the_article_and_the_path() {
        assert_eq!(
            surrogate_keys("news", "/news/world/2026/story-123.html"),
            [
                "news",
                "news:story-123",
                "news:/news/world/2026/story-123.html"
            ]
        );
        assert_eq!(
            surrogate_keys("news", "/news/world/"),
            ["news", "news:/news/world/"]
        );
    }

    fn cc_for(config: (&CdnConfig, &CacheConfig), lifetime: u64, upstream: &str) -> String {
        let mut up = HeaderMap::new();
        up.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(upstream).expect("value"),
        );
        let mut h = HeaderMap::new();
        set_cache_control(
            config,
            &mut h,
            Duration::from_secs(lifetime),
            &CacheControl::parse(&up),
        );
        h[header::CACHE_CONTROL].to_str().expect("ascii").to_owned()
    }

    #[test]
    fn what_upstream_made_private_never_says_public_to_a_cdn() {
        let (cdn, cache) = (CdnConfig::default(), CacheConfig::default());
        let config = (&cdn, &cache);
        assert!(cc_for(config, 60, "max-age=60").starts_with("public, max-age="));
        assert_eq!(cc_for(config, 0, "no-cache"), "public, no-cache");
        assert_eq!(
            cc_for(config, 60, "private, max-age=30"),
            "private, max-age=30"
        );
        assert_eq!(cc_for(config, 0, "private"), "private, no-cache");
        assert_eq!(cc_for(config, 60, "no-store"), "private, no-store");
    }
}
