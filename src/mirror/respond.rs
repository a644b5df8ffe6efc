//! Respond: the reader's answer, from a stored entry (through
//! [`crate::cache::respond`]), from a fill still streaming, or from a
//! prepared upstream answer that is not stored; `X-Cache` and the
//! cache-result metric on each.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method};

use super::MirrorError;
use super::plan::Prepared;
use crate::app::App;
use crate::cache::{Entry, Fill, StreamHead, respond};
use crate::headers::X_CACHE;
use crate::metrics::CacheResult;

/// An answer from a stored entry.
pub fn from_entry(app: &App, entry: &Entry, parts: &Parts, result: CacheResult) -> Response {
    app.metrics.cache_result(result);
    let now = app.cache.as_ref().map(|c| c.clock.now());
    respond::respond(
        entry,
        parts,
        result,
        now.unwrap_or_else(std::time::Instant::now),
    )
}

/// A reader's answer from a fill still streaming; `None` when the fill
/// streams a body too large to keep and can take no new reader.
pub fn from_fill(
    head: &StreamHead,
    fill: &Arc<Fill<MirrorError>>,
    parts: &Parts,
) -> Option<Response> {
    let mut headers = head.headers.clone();
    headers.insert(
        X_CACHE,
        HeaderValue::from_static(CacheResult::Miss.header()),
    );
    let body = if head.no_body || parts.method == Method::HEAD {
        no_body()
    } else {
        Body::from_stream(fill.reader()?)
    };
    let mut response = Response::new(body);
    *response.status_mut() = head.status;
    *response.headers_mut() = headers;
    Some(response)
}

/// A prepared upstream answer as it goes to one reader.
pub fn prepared(p: Prepared, result: CacheResult, head_only: bool) -> Response {
    let mut headers = p.headers;
    headers.insert(X_CACHE, HeaderValue::from_static(result.header()));
    let body = if p.no_body || head_only {
        no_body()
    } else {
        Body::from_stream(p.body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = p.status;
    *response.headers_mut() = headers;
    response
}

/// The body of an answer that sends none (HEAD, 204, 304), with its
/// length unknown: axum writes `Content-Length` from an exact size hint
/// (also for HEAD, before dropping the body), and `Body::empty()`'s is 0,
/// which for a HEAD claims the GET would answer an empty body. A HEAD
/// answer carries the length only when the headers already say it (a body
/// passed as is, a stored entry); a rewritten one carries none.
pub fn no_body() -> Body {
    Body::from_stream(futures_util::stream::empty::<
        Result<Bytes, std::convert::Infallible>,
    >())
}
