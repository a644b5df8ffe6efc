//! Fetch and prepare: one upstream exchange turned into what the reader (or
//! the cache) gets: status, mapped headers, and a body stream that is
//! passed through, decoded, or rewritten.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use url::Url;

use super::Target;
use crate::app::App;
use crate::cache::Validators;
use crate::error::MirrorError;
use crate::headers::{self, BodyHandling};
use crate::html::PageContext;
use crate::pipeline::{self, Rewrite};
use crate::site::Site;
use crate::upstream::{BodyError, Reach, UpstreamRequest, UpstreamResponse};

pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BodyError>> + Send>>;

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

/// An upstream response, prepared for the reader.
pub struct Prepared {
    pub status: StatusCode,
    /// Reader-facing headers (mapped, cleaned; no `X-Cache` yet).
    pub headers: HeaderMap,
    /// Upstream's own headers, for cache decisions.
    pub upstream_headers: HeaderMap,
    pub body: BodyStream,
    /// The status has no body (204, 304, 1xx) or the request was HEAD.
    pub no_body: bool,
    pub media_type: String,
    /// The body leaves as upstream encoded it (`Content-Encoding` kept).
    pub encoded_as_is: bool,
    pub request_time: SystemTime,
    pub response_time: SystemTime,
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
    pub body: Body,
    pub referer: Option<HeaderValue>,
    pub mode: Mode,
    /// Validators of a stored entry, for a conditional fill.
    pub conditional: Option<&'a Validators>,
}

/// The reader request headers a fill must not forward: the cache answers
/// conditionals and ranges itself, from the full response.
const READER_ONLY: &[header::HeaderName] = &[
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
    header::IF_RANGE,
    header::RANGE,
];

pub async fn fetch(app: &App, req: FetchRequest<'_>) -> Result<Fetched, MirrorError> {
    let site = req.site;
    let mut upstream_headers = if req.mode == Mode::Fill {
        let mut h = req.headers.clone();
        for name in READER_ONLY {
            h.remove(name);
        }
        headers::upstream_request(&h, &app.user_agent, req.referer, !site.rewrite)
    } else {
        headers::upstream_request(req.headers, &app.user_agent, req.referer, !site.rewrite)
    };
    if let Some(v) = req.conditional {
        if let Some(etag) = &v.etag {
            upstream_headers.insert(header::IF_NONE_MATCH, etag.clone());
        }
        if let Some(lm) = &v.last_modified {
            upstream_headers.insert(header::IF_MODIFIED_SINCE, lm.clone());
        }
    }
    let body = if matches!(req.method, Method::GET | Method::HEAD) {
        Body::empty()
    } else {
        req.body
    };
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
    prepare(
        app,
        &req.site.clone(),
        req.url,
        req.target,
        &req.method,
        req.headers,
        req.mode,
        response,
        request_time,
        response_time,
    )
    .await
    .map(Fetched::Full)
}

/// How the body will be handled: the kind of rewriting, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rewriting {
    Html,
    Css,
}

#[allow(clippy::too_many_arguments)]
async fn prepare(
    app: &App,
    site: &Arc<Site>,
    url: &Url,
    target: Target,
    method: &Method,
    reader_headers: &HeaderMap,
    mode: Mode,
    upstream: UpstreamResponse,
    request_time: SystemTime,
    response_time: SystemTime,
) -> Result<Prepared, MirrorError> {
    let UpstreamResponse {
        status,
        headers: up_headers,
        body,
    } = upstream;
    let media = headers::media_type(up_headers.get(header::CONTENT_TYPE));
    if target == Target::Image {
        // Only media from a third-party host, never its pages or error pages.
        if !status.is_success() && !status.is_redirection() {
            return Err(MirrorError::MediaStatus(status));
        }
        if status.is_success() && !is_media(&media) {
            return Err(MirrorError::NotMedia(media));
        }
    }
    let rewriting = if !site.rewrite || status == StatusCode::PARTIAL_CONTENT {
        None
    } else if matches!(media.as_str(), "text/html" | "application/xhtml+xml") {
        Some(Rewriting::Html)
    } else if media == "text/css" {
        Some(Rewriting::Css)
    } else {
        None
    };
    let encoding = up_headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let codings = pipeline::codings(encoding);
    let handling = match (&rewriting, &codings) {
        (Some(_), Err(e)) => return Err(MirrorError::UnsupportedEncoding(e.clone())),
        (Some(_), Ok(_)) => BodyHandling::Rewritten,
        (None, Ok(c)) if !c.is_empty() && site.rewrite && mode == Mode::Fill => {
            BodyHandling::Decoded
        }
        (None, Ok(c)) if !c.is_empty() && !client_accepts(reader_headers, c) => {
            BodyHandling::Decoded
        }
        (None, _) => BodyHandling::AsIs,
    };
    let limit = app.config.upstream.max_body_bytes.get();
    if handling != BodyHandling::AsIs
        && let Some(len) = content_length(&up_headers)
        && len > limit
    {
        return Err(BodyError::TooLarge(limit).into());
    }
    let mut out_headers =
        headers::client_response(&up_headers, handling, !site.rewrite, |u, place| {
            app.mapper.map(site.id, url, u, place).into_replacement()
        });
    if target != Target::Page {
        out_headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    let no_body = *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let body: BodyStream = if no_body {
        Box::pin(futures_util::stream::empty())
    } else {
        match (handling, rewriting, codings) {
            (BodyHandling::Decoded, _, Ok(c)) => {
                let reader = pipeline::decoded(body, &c).await?;
                Box::pin(pipeline::decoded_stream(reader, limit))
            }
            (BodyHandling::Rewritten, Some(kind), Ok(c)) => {
                let reader = pipeline::decoded(body, &c).await?;
                let charset = headers::charset_of(up_headers.get(header::CONTENT_TYPE));
                let ctx = PageContext::new(app.mapper.clone(), site.clone(), url.clone());
                let rewrite = match kind {
                    Rewriting::Html => {
                        Rewrite::html(ctx, app.rules(site), charset.as_deref(), limit)
                    }
                    Rewriting::Css => Rewrite::css(ctx, charset.as_deref(), limit),
                };
                let mut rx = pipeline::spawn_rewrite(reader, rewrite);
                // The first chunk decides the status: a body that fails
                // before any byte is ready is answered 502/504, not 200.
                match rx.recv().await {
                    None => Box::pin(futures_util::stream::empty()),
                    Some(Err(e)) => return Err(e.into()),
                    Some(Ok(first)) => Box::pin(pipeline::chunk_stream(first, rx)),
                }
            }
            _ => Box::pin(http_body_util::BodyDataStream::new(body).map_err(|e| e)),
        }
    };
    Ok(Prepared {
        status,
        headers: out_headers,
        upstream_headers: up_headers,
        body,
        no_body,
        media_type: media,
        encoded_as_is: handling == BodyHandling::AsIs,
        request_time,
        response_time,
    })
}

fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Media types `/_/img/` may serve.
pub fn is_media(media: &str) -> bool {
    ["image/", "video/", "audio/", "font/"]
        .iter()
        .any(|p| media.starts_with(p))
        || matches!(
            media,
            "application/font-woff"
                | "application/font-woff2"
                | "application/x-font-woff"
                | "application/x-font-ttf"
                | "application/vnd.ms-fontobject"
        )
}

/// Whether the reader's `Accept-Encoding` takes every one of `codings`.
pub fn client_accepts(h: &HeaderMap, codings: &[pipeline::Coding]) -> bool {
    let accepted: Vec<(String, bool)> = h
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            (name, !refused)
        })
        .collect();
    codings.iter().all(|c| {
        let token = c.token();
        match accepted.iter().find(|(n, _)| n == token) {
            Some((_, ok)) => *ok,
            None => accepted.iter().any(|(n, ok)| n == "*" && *ok),
        }
    })
}

impl Prepared {
    /// The prepared response as it goes to one reader.
    pub fn into_response(self, x_cache: &'static str, head_only: bool) -> axum::response::Response {
        let mut headers = self.headers;
        headers.insert("x-cache", HeaderValue::from_static(x_cache));
        let body = if self.no_body || head_only {
            no_body()
        } else {
            Body::from_stream(self.body)
        };
        let mut response = axum::response::Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = headers;
        response
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Coding;

    fn ae(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accept_encoding_is_read_with_q_values() {
        assert!(client_accepts(&ae("gzip, deflate, br"), &[Coding::Gzip]));
        assert!(!client_accepts(&ae("gzip;q=0, br"), &[Coding::Gzip]));
        assert!(client_accepts(&ae("*"), &[Coding::Zstd]));
        assert!(!client_accepts(&ae("identity"), &[Coding::Brotli]));
        assert!(!client_accepts(&HeaderMap::new(), &[Coding::Gzip]));
    }

    #[test]
    fn media_types_for_the_image_route() {
        assert!(is_media("image/jpeg"));
        assert!(is_media("video/mp4"));
        assert!(is_media("font/woff2"));
        assert!(!is_media("text/html"));
        assert!(!is_media("application/javascript"));
        assert!(!is_media(""));
    }
}
