//! Fetch: the upstream request the mirror decided to send (its headers
//! from [`crate::headers::upstream_request`], a fill's from
//! [`crate::cache::request`]) and the exchange itself; the answer goes on
//! to [`super::plan`].

use std::time::{Instant, SystemTime};

use axum::body::Body;
use http::{HeaderMap, Method, StatusCode};

use super::plan::{self, Prepared};
use super::{FetchRequest, Mode, Target};
use crate::app::App;
use crate::cache;
use crate::error::MirrorError;
use crate::headers;
use crate::upstream::{Reach, UpstreamRequest};

pub enum Fetched {
    Full(Prepared),
    /// Upstream confirmed a stored entry (304 to our conditional request).
    NotModified {
        upstream_headers: HeaderMap,
        request_time: SystemTime,
        response_time: SystemTime,
    },
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
        .upstream_for(req.site.id)
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
