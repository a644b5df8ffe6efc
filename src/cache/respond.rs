//! A stored entry as an HTTP answer: the variant the request accepts,
//! `Age`, `ETag`, `Vary`, 304 for a matching validator, 206 for a range,
//! headers only for HEAD.

use std::time::Instant;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::Entry;
use super::variants::Coding;
use crate::headers::X_CACHE;
use crate::metrics::CacheResult;

/// Answers `request` from `entry`.
pub fn respond(entry: &Entry, request: &Parts, result: CacheResult, now: Instant) -> Response {
    let coding = if entry.kind.is_plain() || !entry.variants.has_alternatives() {
        Some(Coding::Identity)
    } else {
        entry.variants.choose(&request.headers)
    };
    let Some(coding) = coding else {
        return not_acceptable(result);
    };
    let mut headers = entry.head(coding).clone();
    // Both are in the head already: these replace, the map does not grow.
    headers.insert(header::AGE, age_value(entry.age(now).as_secs()));
    headers.insert(X_CACHE, HeaderValue::from_static(result.header()));

    let body = entry.variants.get(coding).clone();
    // One look at the request's names, not four lookups, for the common
    // request that is neither conditional nor a range.
    if request.headers.keys().any(|n| {
        n == header::IF_NONE_MATCH
            || n == header::IF_MODIFIED_SINCE
            || n == header::RANGE
            || n == header::IF_RANGE
    }) {
        if not_modified(entry, &headers, &request.headers) {
            return not_modified_response(headers);
        }
        if let Some(range) = satisfiable_range(entry, coding, &request.headers, body.len()) {
            return partial(headers, &body, range, request.method == Method::HEAD);
        }
    }
    let body = if request.method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = entry.status;
    *response.headers_mut() = headers;
    response
}

/// An `Age` value. Those of the first ten minutes are made once and
/// shared (a clone is a reference count): made per hit, each was a
/// formatted number and an allocation.
fn age_value(secs: u64) -> HeaderValue {
    const SHARED: usize = 600;
    static AGES: std::sync::LazyLock<Vec<HeaderValue>> =
        std::sync::LazyLock::new(|| (0..SHARED).map(HeaderValue::from).collect());
    usize::try_from(secs)
        .ok()
        .and_then(|i| AGES.get(i))
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(secs))
}

/// Adds `Accept-Encoding` to `Vary` (once).
pub fn add_vary_accept_encoding(headers: &mut HeaderMap) {
    let present = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|n| n.trim().eq_ignore_ascii_case("accept-encoding"));
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
}

/// `If-None-Match` (weak comparison) against the ETag about to be sent, or
/// failing that `If-Modified-Since` against `Last-Modified`.
fn not_modified(entry: &Entry, headers: &HeaderMap, request: &HeaderMap) -> bool {
    if !entry.status.is_success() {
        return false;
    }
    let etag = headers.get(header::ETAG).and_then(|v| v.to_str().ok());
    let inm: Vec<&str> = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if !inm.is_empty() {
        let Some(etag) = etag else {
            return inm.contains(&"*");
        };
        let ours = weak(etag);
        return inm.iter().any(|t| *t == "*" || weak(t) == ours);
    }
    let Some(ims) = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return false;
    };
    let lm = headers
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    lm.is_some_and(|lm| lm <= ims)
}

fn weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

fn not_modified_response(mut headers: HeaderMap) -> Response {
    for h in [
        header::CONTENT_LENGTH,
        header::CONTENT_TYPE,
        header::CONTENT_ENCODING,
        header::CONTENT_RANGE,
    ] {
        headers.remove(h);
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    *response.headers_mut() = headers;
    response
}

fn not_acceptable(result: CacheResult) -> Response {
    let mut response = Response::new(Body::from("no acceptable content-coding\n"));
    *response.status_mut() = StatusCode::NOT_ACCEPTABLE;
    response
        .headers_mut()
        .insert(X_CACHE, HeaderValue::from_static(result.header()));
    response
}

/// A single `bytes=a-b` range within the identity body of a 200.
fn satisfiable_range(
    entry: &Entry,
    coding: Coding,
    request: &HeaderMap,
    len: usize,
) -> Option<(usize, usize)> {
    if entry.status != StatusCode::OK || coding != Coding::Identity || len == 0 {
        return None;
    }
    if let Some(if_range) = request.get(header::IF_RANGE) {
        // Only a strong ETag match keeps the range; otherwise the whole body.
        let ours = entry
            .headers
            .get(header::ETAG)
            .unwrap_or(entry.etag(Coding::Identity));
        if if_range != ours {
            return None;
        }
    }
    let spec = request
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.trim().split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: usize = suffix.parse().ok()?;
            (len.saturating_sub(n), len - 1)
        }
        (s, "") => (s.parse().ok()?, len - 1),
        (s, e) => (s.parse().ok()?, e.parse::<usize>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

fn partial(
    mut headers: HeaderMap,
    body: &Bytes,
    (start, end): (usize, usize),
    head: bool,
) -> Response {
    let slice = body.slice(start..=end);
    if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{}", body.len())) {
        headers.insert(header::CONTENT_RANGE, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(slice.len()));
    let mut response = Response::new(if head {
        Body::empty()
    } else {
        Body::from(slice)
    });
    *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_is_its_number_whether_shared_or_made() {
        for secs in [0, 1, 59, 599, 600, 86_400, u64::MAX] {
            assert_eq!(age_value(secs).to_str().unwrap(), secs.to_string());
        }
    }
}
