//! Fetch: the upstream request the mirror decided to send (its headers
//! from [`crate::headers::upstream_request`], a fill's from
//! [`crate::cache::request`]) and the exchange itself; the answer goes on
//! to [`super::plan`].

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use url::Url;

use super::Target;
use super::plan::{self, Prepared};
use crate::app::App;
use crate::cache::{self, Validators};
use crate::error::MirrorError;
use crate::headers;
use crate::site::Site;
use crate::upstream::{Reach, UpstreamRequest};

/// Whether the exchange serves one reader or fills the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// For one reader: its conditionals and range go upstream; a compressed
    /// pass-through body stays compressed if the reader takes that coding.
    Bypass,
    /// For the cache: a full GET, no reader conditionals, bodies decoded so
    /// the cache can make its own variants.
    Fill,
}

pub enum Fetched {
    Full(Prepared),
    /// Upstream confirmed a stored entry (304 to our conditional request).
    NotModified {
        upstream_headers: HeaderMap,
        request_time: SystemTime,
        response_time: SystemTime,
    },
}

/// What is fetched, for whom.
pub struct FetchRequest<'a> {
    pub site: &'a Arc<Site>,
    pub url: &'a Url,
    pub target: Target,
    pub method: Method,
    /// The reader's request headers.
    pub headers: &'a HeaderMap,
    pub referer: Option<HeaderValue>,
    /// The reader's peer is a trusted proxy (forwarding headers may go on).
    pub trusted_peer: bool,
    pub mode: Mode,
    /// Validators of a stored entry, for a conditional fill.
    pub conditional: Option<&'a Validators>,
}

/// Sends `req` (with `body`, for methods that carry one) upstream and
/// prepares the answer.
pub async fn fetch(app: &App, req: FetchRequest<'_>, body: Body) -> Result<Fetched, MirrorError> {
    let sends_body = !matches!(req.method, Method::GET | Method::HEAD);
    let reader_headers = match req.mode {
        Mode::Fill => std::borrow::Cow::Owned(cache::request::fill_request_headers(req.headers)),
        Mode::Bypass => std::borrow::Cow::Borrowed(req.headers),
    };
    let reader = headers::ReaderRequest {
        headers: &reader_headers,
        trusted_peer: req.trusted_peer,
        sends_body,
    };
    let mut upstream_headers =
        headers::upstream_request(&reader, &app.user_agent, req.referer.clone(), req.site.kind);
    if let Some(v) = req.conditional {
        cache::request::add_conditionals(&mut upstream_headers, v);
    }
    // A GET or HEAD sends no body upstream, whatever the reader sent with it.
    let body = if sends_body { body } else { Body::empty() };
    let request_time = SystemTime::now();
    let started = Instant::now();
    let result = app
        .upstream
        .fetch(UpstreamRequest {
            method: req.method.clone(),
            url: req.url.clone(),
            headers: upstream_headers,
            body,
            reach: match req.target {
                Target::Page => Reach::Any,
                Target::Asset | Target::Image => Reach::PublicOnly,
            },
        })
        .await;
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            app.metrics.upstream_errors.inc();
            return Err(e.into());
        }
    };
    app.metrics.upstream_latency(started.elapsed());
    let response_time = SystemTime::now();
    if req.conditional.is_some() && response.status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified {
            upstream_headers: response.headers,
            request_time,
            response_time,
        });
    }
    plan::prepare(app, &req, response, request_time, response_time)
        .await
        .map(Fetched::Full)
}
