//! `POST /_/csp-report`: the CSP violation reports readers' browsers send,
//! counted per site, directive and blocked host, so that the operator
//! learns what a rewritten page still loads from elsewhere.
//!
//! Both formats browsers send are taken: `application/csp-report`
//! (`report-uri`: one `{"csp-report": {...}}` object) and
//! `application/reports+json` (the Reporting API, `report-to`: an array of
//! `{"type": "csp-violation", "body": {...}}`); `application/json` with
//! either shape too (older Firefox).
//!
//! Everything is bounded, so that a flood costs a bounded read and parse
//! per request and nothing that lasts: the body is read with a limit
//! ([`MAX_BODY`]; a larger declared length is refused before a byte is
//! read), at most [`MAX_REPORTS_PER_REQUEST`] reports of one request are
//! looked at, a token bucket shared by all readers counts
//! [`RATE_PER_SECOND`] reports a second (bursts of [`BURST`]) and drops
//! the rest, counted in `newsmirror_csp_reports_dropped_total` and
//! answered 204 all the same (browsers never retry a report, and a 429
//! would only tell a flooder to slow down), and the table of blocked hosts
//! holds at most [`MAX_HOSTS`] hosts and [`MAX_SERIES`] series, later ones
//! counted as `other`. Nothing of the reader is kept (no address, no URL): only the
//! site the document belongs to, the directive, and the blocked host.
//! Report contents are never logged.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::error::{MirrorError, ReportError};
use crate::metrics::{CspLabels, Metrics};
use crate::site::Site;
use crate::url_map::UrlMapper;

/// Largest report body read, in bytes.
pub const MAX_BODY: usize = 16 * 1024;
/// Reports of one request that are looked at; the rest are ignored.
pub const MAX_REPORTS_PER_REQUEST: usize = 100;
/// Reports counted per second across all readers, sustained.
pub const RATE_PER_SECOND: f64 = 50.0;
/// Reports counted in a burst (the bucket's size).
pub const BURST: f64 = 500.0;
/// Distinct blocked hosts kept per process; further hosts count as `other`.
pub const MAX_HOSTS: usize = 200;
/// Distinct (site, directive, host) series kept; past it new hosts count as `other`.
pub const MAX_SERIES: usize = 2000;
/// Entries per site in the admin view.
pub const TOP_PER_SITE: usize = 50;
/// How long a report body may take to arrive.
const BODY_WAIT: Duration = Duration::from_secs(10);

/// The label of a document that belongs to no mirrored site.
pub const UNKNOWN_SITE: &str = "unknown";
/// The label of hosts and directives past the bounds.
pub const OTHER: &str = "other";

/// Directives a report may name; anything else is counted as `other`.
const DIRECTIVES: &[&str] = &[
    "base-uri",
    "child-src",
    "connect-src",
    "default-src",
    "fenced-frame-src",
    "font-src",
    "form-action",
    "frame-ancestors",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "navigate-to",
    "object-src",
    "prefetch-src",
    "report-to",
    "require-trusted-types-for",
    "sandbox",
    "script-src",
    "script-src-attr",
    "script-src-elem",
    "style-src",
    "style-src-attr",
    "style-src-elem",
    "trusted-types",
    "upgrade-insecure-requests",
    "webrtc",
    "worker-src",
];

/// What `blocked-uri` / `blockedURL` says when no URL was blocked.
const KEYWORDS: &[&str] = &[
    "inline",
    "eval",
    "wasm-eval",
    "self",
    "data",
    "blob",
    "filesystem",
    "about",
    "trusted-types-policy",
    "trusted-types-sink",
];

/// The reports' table and rate limit; one per process (in `crate::app::App`).
pub struct CspReports {
    bucket: Mutex<TokenBucket>,
    table: Mutex<Table>,
    counters: Family<CspLabels, Counter>,
    dropped: Counter,
    site_names: Vec<String>,
}

/// Blocked hosts seen, and one counter per series. The counters are the
/// metrics' own (`newsmirror_csp_reports_total`): the admin view and
/// `/metrics` read the same numbers.
#[derive(Default)]
struct Table {
    hosts: HashSet<String>,
    series: HashMap<CspLabels, Counter>,
}

/// One violation, as read from either format.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violation {
    pub document: Option<String>,
    pub blocked: Option<String>,
    pub directive: Option<String>,
}

/// The body formats taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// `application/csp-report`: `{"csp-report": {...}}`.
    CspReport,
    /// `application/reports+json`: `[{"type": "csp-violation", "body": {...}}, ...]`.
    ReportsJson,
    /// `application/json`: either shape.
    Json,
}

impl ReportFormat {
    /// The format a `Content-Type` names, if it is one taken.
    pub fn of(headers: &HeaderMap) -> Option<ReportFormat> {
        let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let essence = value.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/csp-report" => Some(ReportFormat::CspReport),
            "application/reports+json" => Some(ReportFormat::ReportsJson),
            "application/json" => Some(ReportFormat::Json),
            _ => None,
        }
    }
}

/// The violations in a report body (at most [`MAX_REPORTS_PER_REQUEST`]).
pub fn parse(format: ReportFormat, body: &[u8]) -> Result<Vec<Violation>, ReportError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| ReportError::BadJson)?;
    match (format, value) {
        (ReportFormat::CspReport | ReportFormat::Json, Value::Object(mut object)) => {
            let Some(Value::Object(report)) = object.remove("csp-report") else {
                return Err(ReportError::BadJson);
            };
            let field = |name: &str| report.get(name).and_then(Value::as_str).map(str::to_owned);
            Ok(vec![Violation {
                document: field("document-uri"),
                blocked: field("blocked-uri"),
                directive: field("effective-directive").or_else(|| field("violated-directive")),
            }])
        }
        (ReportFormat::ReportsJson | ReportFormat::Json, Value::Array(entries)) => Ok(entries
            .iter()
            .take(MAX_REPORTS_PER_REQUEST)
            .filter(|e| e.get("type").and_then(Value::as_str) == Some("csp-violation"))
            .map(|e| {
                let body = e.get("body");
                let field = |name: &str| {
                    body.and_then(|b| b.get(name))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                Violation {
                    document: field("documentURL")
                        .or_else(|| e.get("url").and_then(Value::as_str).map(str::to_owned)),
                    blocked: field("blockedURL"),
                    directive: field("effectiveDirective").or_else(|| field("violatedDirective")),
                }
            })
            .collect()),
        _ => Err(ReportError::BadJson),
    }
}

/// The `directive` label: a known directive's name, or `other`.
pub fn directive_label(raw: Option<&str>) -> &'static str {
    // `violated-directive` of CSP 2 carries the sources too: "img-src 'self'".
    let name = raw
        .and_then(|r| r.split_ascii_whitespace().next())
        .unwrap_or("")
        .to_ascii_lowercase();
    DIRECTIVES
        .iter()
        .find(|d| **d == name)
        .copied()
        .unwrap_or(OTHER)
}

/// What was blocked: a host, or a keyword (`inline`, `eval`, `data`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    Host(String),
    Keyword(&'static str),
}

/// Reads `blocked-uri` / `blockedURL`.
pub fn blocked_of(raw: Option<&str>) -> Blocked {
    let raw = raw.unwrap_or("").trim().trim_matches('\'');
    if raw.is_empty() {
        // CSP 2 browsers sent an empty value for inline violations.
        return Blocked::Keyword("inline");
    }
    let lower = raw.to_ascii_lowercase();
    if let Some(k) = KEYWORDS.iter().find(|k| **k == lower) {
        return Blocked::Keyword(k);
    }
    match Url::parse(raw) {
        Ok(url) => match (url.scheme(), url.host_str()) {
            ("http" | "https" | "ws" | "wss", Some(host)) if !host.is_empty() => {
                Blocked::Host(host.to_ascii_lowercase())
            }
            (scheme, _) => KEYWORDS
                .iter()
                .find(|k| **k == scheme)
                .map(|k| Blocked::Keyword(k))
                .unwrap_or(Blocked::Keyword(OTHER)),
        },
        Err(_) => Blocked::Keyword(OTHER),
    }
}

/// The `site` label of a report's document URL (a mirror URL): the site
/// the one URL mapper routes it to, or `unknown`.
pub fn site_label<'a>(
    mapper: &UrlMapper,
    sites: &'a [Arc<Site>],
    document: Option<&str>,
) -> &'a str {
    let Some(document) = document else {
        return UNKNOWN_SITE;
    };
    let routed = Url::parse(document).ok().and_then(|url| {
        if url.path().starts_with("/_/") {
            // The mirror's own pages belong to no site.
            return None;
        }
        let host = url.host_str().map(str::to_ascii_lowercase);
        mapper
            .route(host.as_deref(), url.path())
            .ok()
            .map(|r| r.site)
    });
    routed
        .or_else(|| mapper.original_of(None, document).and_then(|(id, _)| id))
        .and_then(|id| sites.get(id.0))
        .map(|s| s.name.as_str())
        .unwrap_or(UNKNOWN_SITE)
}

/// A token bucket: `rate` tokens a second, at most `burst` held.
#[derive(Debug)]
pub struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        TokenBucket {
            tokens: burst,
            rate,
            burst,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
    }

    /// Takes up to `wanted` tokens; returns how many were granted.
    pub fn take(&mut self, wanted: usize, now: Instant) -> usize {
        self.refill(now);
        // Whole tokens only; `tokens` is at most `burst`, so this fits.
        let granted = (self.tokens.floor() as usize).min(wanted);
        self.tokens -= granted as f64;
        granted
    }
}

/// One row of the admin view.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BlockedCount {
    pub host: String,
    pub directive: String,
    pub count: u64,
}

/// `GET /csp` on the admin listener.
#[derive(Debug, Clone, Serialize)]
pub struct CspView {
    /// Every configured site (and `unknown`, once a report for no site
    /// came), its top blocked hosts by count.
    pub sites: BTreeMap<String, Vec<BlockedCount>>,
}

impl CspReports {
    pub fn new(metrics: &Metrics, sites: &[Arc<Site>]) -> Self {
        Self::with_rate(metrics, sites, RATE_PER_SECOND, BURST)
    }

    /// With another rate limit (unit tests).
    pub fn with_rate(metrics: &Metrics, sites: &[Arc<Site>], rate: f64, burst: f64) -> Self {
        CspReports {
            bucket: Mutex::new(TokenBucket::new(rate, burst, Instant::now())),
            table: Mutex::new(Table::default()),
            counters: metrics.csp_reports.clone(),
            dropped: metrics.csp_reports_dropped.clone(),
            site_names: sites.iter().map(|s| s.name.clone()).collect(),
        }
    }

    /// Counts `reports`, as far as the rate limit allows.
    pub fn count(&self, mapper: &UrlMapper, sites: &[Arc<Site>], reports: &[Violation]) {
        if reports.is_empty() {
            return;
        }
        let granted = self.bucket.lock().take(reports.len(), Instant::now());
        let dropped = reports.len() - granted;
        if dropped > 0 {
            self.dropped.inc_by(dropped as u64);
        }
        let mut table = self.table.lock();
        for report in &reports[..granted] {
            let site = site_label(mapper, sites, report.document.as_deref());
            let directive = directive_label(report.directive.as_deref());
            let blocked = blocked_of(report.blocked.as_deref());
            table.count(site, directive, blocked, &self.counters);
        }
    }

    /// The top blocked hosts of every site, most reported first.
    pub fn view(&self) -> CspView {
        let mut sites: BTreeMap<String, Vec<BlockedCount>> = self
            .site_names
            .iter()
            .map(|n| (n.clone(), Vec::new()))
            .collect();
        {
            let table = self.table.lock();
            for (labels, counter) in &table.series {
                sites
                    .entry(labels.site.clone())
                    .or_default()
                    .push(BlockedCount {
                        host: labels.blocked_host.clone(),
                        directive: labels.directive.clone(),
                        count: counter.get(),
                    });
            }
        }
        for rows in sites.values_mut() {
            rows.sort_by(|a, b| {
                b.count
                    .cmp(&a.count)
                    .then_with(|| a.host.cmp(&b.host))
                    .then_with(|| a.directive.cmp(&b.directive))
            });
            rows.truncate(TOP_PER_SITE);
        }
        CspView { sites }
    }
}

impl Table {
    fn count(
        &mut self,
        site: &str,
        directive: &str,
        blocked: Blocked,
        counters: &Family<CspLabels, Counter>,
    ) {
        let host = match blocked {
            Blocked::Keyword(k) => k.to_owned(),
            Blocked::Host(h) if self.hosts.contains(&h) => h,
            Blocked::Host(h) if self.hosts.len() < MAX_HOSTS && self.series.len() < MAX_SERIES => {
                self.hosts.insert(h.clone());
                h
            }
            Blocked::Host(_) => OTHER.to_owned(),
        };
        let mut labels = CspLabels {
            site: site.to_owned(),
            directive: directive.to_owned(),
            blocked_host: host,
        };
        // A new series of a known host past the series bound goes to `other`
        // (keywords and `other` are bounded by sites × directives already).
        let is_host =
            !KEYWORDS.contains(&labels.blocked_host.as_str()) && labels.blocked_host != OTHER;
        if is_host && self.series.len() >= MAX_SERIES && !self.series.contains_key(&labels) {
            labels.blocked_host = OTHER.to_owned();
        }
        if let Some(counter) = self.series.get(&labels) {
            counter.inc();
            return;
        }
        let counter = counters.get_or_create(&labels).clone();
        counter.inc();
        self.series.insert(labels, counter);
    }
}

/// `POST /_/csp-report`: 204 when taken (counted, or dropped by the rate
/// limit), 413 over [`MAX_BODY`], 415 for another type, 400 for a body
/// that is not a report.
pub async fn receive(
    csp: &CspReports,
    mapper: &UrlMapper,
    sites: &[Arc<Site>],
    req: Request,
) -> Response {
    match take_reports(csp, mapper, sites, req).await {
        Ok(()) => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            let unread = matches!(e, ReportError::TooLarge(_) | ReportError::Slow);
            let mut r = MirrorError::from(e).page(None);
            if unread {
                // The rest of the body is never read: the connection cannot
                // carry another request.
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            r
        }
    }
}

async fn take_reports(
    csp: &CspReports,
    mapper: &UrlMapper,
    sites: &[Arc<Site>],
    req: Request,
) -> Result<(), ReportError> {
    let format = ReportFormat::of(req.headers()).ok_or(ReportError::UnsupportedType)?;
    let declared = crate::headers::content_length(req.headers());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ReportError::TooLarge(MAX_BODY));
    }
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    let body = match tokio::time::timeout(BODY_WAIT, limited.collect()).await {
        Err(_) => return Err(ReportError::Slow),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(ReportError::TooLarge(MAX_BODY));
        }
        Ok(Err(_)) => return Err(ReportError::Unreadable),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let reports = parse(format, &body)?;
    csp.count(mapper, sites, &reports);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_values_are_hosts_or_keywords() {
        let host = |h: &str| Blocked::Host(h.to_owned());
        assert_eq!(
            blocked_of(Some("https://CDN.Other.test/a.js?x=1")),
            host("cdn.other.test")
        );
        assert_eq!(blocked_of(Some("https://x.test:8443")), host("x.test"));
        assert_eq!(
            blocked_of(Some("wss://live.x.test/socket")),
            host("live.x.test")
        );
        assert_eq!(blocked_of(Some("inline")), Blocked::Keyword("inline"));
        assert_eq!(blocked_of(Some("eval")), Blocked::Keyword("eval"));
        assert_eq!(blocked_of(Some("'self'")), Blocked::Keyword("self"));
        assert_eq!(blocked_of(Some("data")), Blocked::Keyword("data"));
        assert_eq!(
            blocked_of(Some("data:image/png;base64,AAAA")),
            Blocked::Keyword("data")
        );
        assert_eq!(
            blocked_of(Some("blob:https://m.test/1-2")),
            Blocked::Keyword("blob")
        );
        assert_eq!(blocked_of(Some("")), Blocked::Keyword("inline"));
        assert_eq!(blocked_of(None), Blocked::Keyword("inline"));
        assert_eq!(
            blocked_of(Some("chrome-extension://abc/x.js")),
            Blocked::Keyword(OTHER)
        );
        assert_eq!(blocked_of(Some("not a url")), Blocked::Keyword(OTHER));
    }

    #[test]
    fn directives_are_known_names_or_other() {
        assert_eq!(directive_label(Some("img-src")), "img-src");
        assert_eq!(directive_label(Some("IMG-SRC 'self' data:")), "img-src");
        assert_eq!(directive_label(Some("script-src-elem")), "script-src-elem");
        assert_eq!(directive_label(Some("made-up-src")), OTHER);
        assert_eq!(directive_label(None), OTHER);
    }

    #[test]
    fn both_formats_parse_and_other_report_types_are_skipped() {
        let one = parse(
            ReportFormat::CspReport,
            br#"{"csp-report": {"document-uri": "http://m/a", "blocked-uri": "https://x.test/i.png",
                 "violated-directive": "img-src 'self'", "effective-directive": "img-src"}}"#,
        )
        .unwrap();
        assert_eq!(
            one,
            vec![Violation {
                document: Some("http://m/a".into()),
                blocked: Some("https://x.test/i.png".into()),
                directive: Some("img-src".into()),
            }]
        );
        let many = parse(
            ReportFormat::ReportsJson,
            br#"[{"type": "csp-violation", "url": "http://m/b",
                  "body": {"blockedURL": "inline", "effectiveDirective": "script-src-elem"}},
                 {"type": "deprecation", "body": {"id": "x"}}]"#,
        )
        .unwrap();
        assert_eq!(many.len(), 1);
        assert_eq!(many[0].document.as_deref(), Some("http://m/b"));
        assert_eq!(many[0].blocked.as_deref(), Some("inline"));
        assert_eq!(
            parse(ReportFormat::CspReport, b"[1]"),
            Err(ReportError::BadJson)
        );
        assert_eq!(
            parse(ReportFormat::ReportsJson, br#"{"csp-report": {}}"#),
            Err(ReportError::BadJson)
        );
        assert_eq!(
            parse(ReportFormat::Json, b"{not json"),
            Err(ReportError::BadJson)
        );
        let entry = r#"{"type": "csp-violation", "body": {}}"#;
        let body = format!("[{}]", vec![entry; 150].join(","));
        assert_eq!(
            parse(ReportFormat::Json, body.as_bytes()).unwrap().len(),
            MAX_REPORTS_PER_REQUEST
        );
    }

    #[test]
    fn the_bucket_grants_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 30.0, t0);
        assert_eq!(b.take(25, t0), 25);
        assert_eq!(b.take(25, t0), 5);
        assert_eq!(b.take(1, t0), 0);
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(b.take(25, t1), 5);
        assert_eq!(b.take(100, t1 + Duration::from_secs(3600)), 30);
    }

    #[test]
    fn the_host_table_is_bounded() {
        let metrics = Metrics::new();
        let reports = CspReports::with_rate(&metrics, &[], 1e9, 1e9);
        let many: Vec<Violation> = (0..MAX_HOSTS + 50)
            .map(|i| Violation {
                document: None,
                blocked: Some(format!("https://h{i}.test/x")),
                directive: Some("img-src".into()),
            })
            .collect();
        let mapper = UrlMapper::new(&[], None, None);
        reports.count(&mapper, &[], &many);
        let view = reports.view();
        let rows = &view.sites[UNKNOWN_SITE];
        assert_eq!(rows.len(), TOP_PER_SITE);
        assert_eq!(rows[0].host, OTHER);
        assert_eq!(rows[0].count, 50);
        assert_eq!(reports.table.lock().hosts.len(), MAX_HOSTS);
        assert_eq!(reports.table.lock().series.len(), MAX_HOSTS + 1);
    }
}
