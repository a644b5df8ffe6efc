//! Prometheus metrics, served as text on the admin listener's `/metrics`.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::OnceLock;

/// Which route a request came in on.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Route {
    Page,
    Asset,
    Image,
    Api,
    Static,
    Health,
    Other,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: Route,
    pub status: u16,
}

/// How the cache answered.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum CacheResult {
    Hit,
    Miss,
    Stale,
    Revalidated,
    Bypass,
}

impl CacheResult {
    /// The `X-Cache` header value.
    pub fn header(self) -> &'static str {
        match self {
            CacheResult::Hit => "HIT",
            CacheResult::Miss => "MISS",
            CacheResult::Stale => "STALE",
            CacheResult::Revalidated => "REVALIDATED",
            CacheResult::Bypass => "BYPASS",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub result: CacheResult,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PurgeLabels {
    pub by: PurgeBy,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum PurgeBy {
    Url,
    Key,
}

/// Label values in lower case, as Prometheus conventions have them.
macro_rules! lower_case_label {
    ($ty:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl EncodeLabelValue for $ty {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                use std::fmt::Write;
                encoder.write_str(match self { $(Self::$variant => $text),* })
            }
        }
    };
}

/// One series of `newsmirror_csp_reports_total`. Every value is bounded:
/// a configured site's name or `unknown`, a known CSP directive or
/// `other`, a host from a bounded table, a keyword, or `other`
/// (`crate::csp_report`).
/// A site, by its configured name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SiteLabels {
    pub site: String,
}

/// An alternate mirror (`[mirrors] alternates`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MirrorLabels {
    pub mirror: String,
}

/// A health check of an alternate and how it went (`up`, `down`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MirrorCheckLabels {
    pub mirror: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct CspLabels {
    pub site: String,
    pub directive: String,
    pub blocked_host: String,
}

lower_case_label!(Route { Page => "page", Asset => "asset", Image => "img", Api => "api", Static => "static", Health => "health", Other => "other" });
lower_case_label!(CacheResult { Hit => "hit", Miss => "miss", Stale => "stale", Revalidated => "revalidated", Bypass => "bypass" });
lower_case_label!(PurgeBy { Url => "url", Key => "key" });

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub cache: Family<CacheLabels, Counter>,
    /// The series of `requests` with status 200, by route, and of `cache`,
    /// by result, once first counted: a family's lookup (a lock and a
    /// hash of its labels) on every hit cost more than the count.
    ok_requests: [OnceLock<Counter>; 7],
    cache_results: [OnceLock<Counter>; 5],
    pub stored_bytes: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub stored_entries: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub evicted_bytes: Counter<u64, AtomicU64>,
    pub fills_in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub upstream_seconds: Histogram,
    pub upstream_errors: Counter<u64, AtomicU64>,
    pub purged: Family<PurgeLabels, Counter>,
    pub csp_reports: Family<CspLabels, Counter>,
    pub csp_reports_dropped: Counter<u64, AtomicU64>,
    pub mirror_up: Family<MirrorLabels, Gauge>,
    pub page_views: Family<SiteLabels, Counter>,
    pub mirror_checks: Family<MirrorCheckLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("newsmirror");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by route and status",
            requests.clone(),
        );
        let cache = Family::<CacheLabels, Counter>::default();
        registry.register(
            "cache_requests",
            "Cacheable-route requests by cache result",
            cache.clone(),
        );
        let stored_bytes = Gauge::default();
        registry.register(
            "cache_stored_bytes",
            "Bytes held by the cache, every variant counted",
            stored_bytes.clone(),
        );
        let stored_entries = Gauge::default();
        registry.register(
            "cache_entries",
            "Entries held by the cache",
            stored_entries.clone(),
        );
        let evicted_bytes = Counter::default();
        registry.register(
            "cache_evicted_bytes",
            "Bytes evicted or expired from the cache",
            evicted_bytes.clone(),
        );
        let fills_in_flight = Gauge::default();
        registry.register(
            "cache_fills_in_flight",
            "Upstream fetches filling the cache now",
            fills_in_flight.clone(),
        );
        let upstream_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        registry.register(
            "upstream_response_seconds",
            "Time from sending a request upstream to its response head",
            upstream_seconds.clone(),
        );
        let upstream_errors = Counter::default();
        registry.register(
            "upstream_errors",
            "Upstream requests that failed before a response head",
            upstream_errors.clone(),
        );
        let purged = Family::<PurgeLabels, Counter>::default();
        registry.register(
            "cache_purged_entries",
            "Entries removed by POST /purge",
            purged.clone(),
        );
        let csp_reports = Family::<CspLabels, Counter>::default();
        registry.register(
            "csp_reports",
            "CSP violation reports received, by site, directive and blocked host",
            csp_reports.clone(),
        );
        let csp_reports_dropped = Counter::default();
        registry.register(
            "csp_reports_dropped",
            "CSP violation reports not counted because of the rate limit",
            csp_reports_dropped.clone(),
        );
        let mirror_up = Family::<MirrorLabels, Gauge>::default();
        registry.register(
            "mirror_up",
            "Whether an alternate mirror answered its last health check (1) or not (0)",
            mirror_up.clone(),
        );
        let mirror_checks = Family::<MirrorCheckLabels, Counter>::default();
        registry.register(
            "mirror_checks",
            "Health checks of alternate mirrors, by mirror and result",
            mirror_checks.clone(),
        );
        let page_views = Family::<SiteLabels, Counter>::default();
        registry.register(
            "article_views",
            "Article pages answered to readers (GET, 200 or 304), by site; no reader is identified",
            page_views.clone(),
        );
        Metrics {
            page_views,
            mirror_up,
            mirror_checks,
            registry,
            requests,
            cache,
            ok_requests: Default::default(),
            cache_results: Default::default(),
            stored_bytes,
            stored_entries,
            evicted_bytes,
            fills_in_flight,
            upstream_seconds,
            upstream_errors,
            purged,
            csp_reports,
            csp_reports_dropped,
        }
    }

    /// One health check of an alternate mirror.
    pub fn mirror_checked(&self, mirror: &str, up: bool) {
        self.mirror_up
            .get_or_create(&MirrorLabels {
                mirror: mirror.to_owned(),
            })
            .set(i64::from(up));
        self.mirror_checks
            .get_or_create(&MirrorCheckLabels {
                mirror: mirror.to_owned(),
                result: if up { "up" } else { "down" }.to_owned(),
            })
            .inc();
    }

    pub fn request(&self, route: Route, status: u16) {
        let labels = || RequestLabels { route, status };
        match self.ok_requests.get(route as usize) {
            Some(slot) if status == 200 => slot
                .get_or_init(|| self.requests.get_or_create(&labels()).clone())
                .inc(),
            _ => self.requests.get_or_create(&labels()).inc(),
        };
    }

    pub fn cache_result(&self, result: CacheResult) {
        let labels = CacheLabels { result };
        match self.cache_results.get(result as usize) {
            Some(slot) => slot
                .get_or_init(|| self.cache.get_or_create(&labels).clone())
                .inc(),
            None => self.cache.get_or_create(&labels).inc(),
        };
    }

    pub fn upstream_latency(&self, d: Duration) {
        self.upstream_seconds.observe(d.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_kept_apart_from_their_family_still_show_in_it() {
        let m = Metrics::new();
        m.request(Route::Page, 200);
        m.request(Route::Page, 200);
        m.request(Route::Page, 404);
        m.request(Route::Asset, 200);
        m.cache_result(CacheResult::Hit);
        m.cache_result(CacheResult::Hit);
        m.cache_result(CacheResult::Miss);
        let text = m.render();
        for line in [
            r#"newsmirror_requests_total{route="page",status="200"} 2"#,
            r#"newsmirror_requests_total{route="page",status="404"} 1"#,
            r#"newsmirror_requests_total{route="asset",status="200"} 1"#,
            r#"newsmirror_cache_requests_total{result="hit"} 2"#,
            r#"newsmirror_cache_requests_total{result="miss"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
        // A series is made by its first count, as before: none at zero.
        assert!(!text.contains(r#"result="stale""#));
    }
}
