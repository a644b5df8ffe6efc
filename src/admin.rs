//! The admin listener (`server.admin_listen`, never the public port):
//! `GET /metrics` (Prometheus text), `GET /readyz`, `POST /purge`, and
//! `GET /csp` (the hosts CSP reports say pages still load, per site).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::app::App;
use crate::metrics::PurgeBy;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/readyz", get(readyz))
        .route("/purge", post(purge))
        .route("/csp", get(csp))
        .layer(axum::middleware::from_fn_with_state(
            crate::forwarded::TrustedProxies::new(&app.config.server.trusted_proxies),
            crate::request_id::layer,
        ))
        .with_state(app)
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    if let Some(cache) = &app.cache {
        // Apply pending evictions so the gauges say what is held now.
        cache.weighted_size().await;
    }
    let mut r = app.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// `GET /csp`: `{"sites": {"<site>": [{"host", "directive", "count"}, ...]}}`,
/// most reported first, at most [`crate::csp_report::TOP_PER_SITE`] a site.
async fn csp(State(app): State<Arc<App>>) -> Response {
    let mut r = axum::Json(app.csp.view()).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn readyz() -> &'static str {
    "ready\n"
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PurgeRequest {
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    keys: Vec<String>,
}

#[derive(Debug, Serialize)]
struct PurgeAnswer {
    purged: usize,
    by_url: usize,
    by_key: usize,
    /// URLs that belong to no mirrored site.
    unknown_urls: Vec<String>,
}

async fn purge(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let request = match authorized_request(&app, &headers, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let Some(cache) = &app.cache else {
        return axum::Json(PurgeAnswer {
            purged: 0,
            by_url: 0,
            by_key: 0,
            unknown_urls: Vec::new(),
        })
        .into_response();
    };
    let mut upstream_urls = Vec::new();
    let mut unknown = Vec::new();
    for u in &request.urls {
        match original(&app, u) {
            Some(url) => upstream_urls.push(url.to_string()),
            None => unknown.push(u.clone()),
        }
    }
    let (by_url, by_key) = cache.purge(&upstream_urls, &request.keys).await;
    app.metrics
        .purged
        .get_or_create(&crate::metrics::PurgeLabels { by: PurgeBy::Url })
        .inc_by(by_url as u64);
    app.metrics
        .purged
        .get_or_create(&crate::metrics::PurgeLabels { by: PurgeBy::Key })
        .inc_by(by_key as u64);
    tracing::info!(by_url, by_key, "purged");
    axum::Json(PurgeAnswer {
        purged: by_url + by_key,
        by_url,
        by_key,
        unknown_urls: unknown,
    })
    .into_response()
}

/// Why `/purge` refused a request; its status is decided here only.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("purging is off: no cdn.purge_token configured")]
    PurgeOff,
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("expected {{\"urls\": [...], \"keys\": [...]}}: {0}")]
    BadPurgeRequest(#[from] serde_json::Error),
}

impl AdminError {
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::PurgeOff => StatusCode::NOT_FOUND,
            AdminError::Unauthorized => StatusCode::UNAUTHORIZED,
            AdminError::BadPurgeRequest(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let mut r = (self.status(), format!("{self}\n")).into_response();
        if matches!(self, AdminError::Unauthorized) {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"newsmirror\""),
            );
        }
        r
    }
}

/// The purge request, if purging is on and the bearer token is right.
fn authorized_request(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<PurgeRequest, AdminError> {
    let token = app
        .config
        .cdn
        .purge_token
        .as_ref()
        .ok_or(AdminError::PurgeOff)?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(given.trim().as_bytes(), token.expose().as_bytes()) {
        return Err(AdminError::Unauthorized);
    }
    Ok(serde_json::from_slice(body)?)
}

/// The upstream URL behind a URL given to `/purge`: a mirror path, an
/// absolute mirror URL (any host), or an original URL.
fn original(app: &App, given: &str) -> Option<Url> {
    app.mapper.original_of(None, given).map(|(_, url)| url)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
