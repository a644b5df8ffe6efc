//! What can go wrong serving a request, and the one mapping from each kind
//! of failure to an HTTP status and a response body.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};

use crate::body::BodyError;
use crate::coding::UnsupportedCoding;
use crate::escape::escape_text;
use crate::routes;
use crate::site::Site;
use crate::upstream::UpstreamError;
use crate::url_map::RouteError;

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error("the method {method} is not allowed here")]
    MethodNotAllowed { method: Method, allow: Vec<Method> },
    #[error("this server is a mirror, not a forward proxy")]
    ProxyRequest,
    /// `CONNECT`: the same refusal, as a method this server never allows.
    #[error("this server is a mirror, not a forward proxy")]
    Connect,
    #[error(transparent)]
    BadRequest(#[from] BadRequest),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error("only images and media are served from this address, not {0:?}")]
    NotMedia(String),
    #[error("the image's host answered {0}")]
    MediaStatus(StatusCode),
    #[error(transparent)]
    UnsupportedEncoding(#[from] UnsupportedCoding),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// A CSP violation report (`POST /_/csp-report`) that is not taken. The
/// messages name no part of the body: reports hold readers' URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("a report body is at most {0} bytes")]
    TooLarge(usize),
    #[error("reports are application/csp-report or application/reports+json")]
    UnsupportedType,
    #[error("the report is not JSON in the shape of a CSP violation report")]
    BadJson,
    #[error("the report body could not be read")]
    Unreadable,
    #[error("the report body did not arrive in time")]
    Slow,
}

/// A request refused before routing for what its head says (RFC 9112).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadRequest {
    #[error("a GET or HEAD request must not carry a body")]
    BodyOnSafeMethod,
    #[error("the request has more than one Host header")]
    DuplicateHost,
    #[error("the Host header is not a host name and port")]
    BadHost,
}

impl MirrorError {
    /// The status that says what happened. The one place this is decided.
    pub fn status(&self) -> StatusCode {
        match self {
            MirrorError::Route(RouteError::NoSite) => StatusCode::NOT_FOUND,
            MirrorError::Route(RouteError::UnknownHost(_)) => StatusCode::MISDIRECTED_REQUEST,
            MirrorError::Route(RouteError::BadPath(_)) => StatusCode::BAD_REQUEST,
            MirrorError::Route(RouteError::HostNotAllowed(_) | RouteError::BadSignature) => {
                StatusCode::FORBIDDEN
            }
            MirrorError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            MirrorError::ProxyRequest | MirrorError::BadRequest(_) => StatusCode::BAD_REQUEST,
            MirrorError::Connect => StatusCode::METHOD_NOT_ALLOWED,
            MirrorError::Upstream(
                UpstreamError::ConnectTimeout { .. } | UpstreamError::HeaderTimeout { .. },
            ) => StatusCode::GATEWAY_TIMEOUT,
            MirrorError::Upstream(UpstreamError::NotPublic { .. }) => StatusCode::FORBIDDEN,
            MirrorError::Upstream(UpstreamError::Busy { .. }) => StatusCode::SERVICE_UNAVAILABLE,
            MirrorError::Upstream(_) => StatusCode::BAD_GATEWAY,
            MirrorError::Body(BodyError::IdleTimeout(_) | BodyError::BodyTimeout(_)) => {
                StatusCode::GATEWAY_TIMEOUT
            }
            MirrorError::Body(_) => StatusCode::BAD_GATEWAY,
            MirrorError::NotMedia(_) => StatusCode::FORBIDDEN,
            MirrorError::MediaStatus(s) => *s,
            MirrorError::UnsupportedEncoding(_) => StatusCode::BAD_GATEWAY,
            MirrorError::Report(ReportError::TooLarge(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            MirrorError::Report(ReportError::UnsupportedType) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            MirrorError::Report(ReportError::BadJson | ReportError::Unreadable) => {
                StatusCode::BAD_REQUEST
            }
            MirrorError::Report(ReportError::Slow) => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The error as an HTML page carrying the site's nav bar.
    pub fn page(&self, site: Option<&Site>) -> Response {
        let status = self.status();
        let title = format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        );
        let nav = site.map(|s| s.nav_html.as_str()).unwrap_or("");
        let body = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><link rel=\"stylesheet\" href=\"{}\"></head>\
             <body>{nav}<main class=\"newsmirror-error\"><h1>{title}</h1><p>{}</p></main></body></html>",
            routes::STYLESHEET,
            escape_text(&self.to_string())
        );
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), error = %self, "request failed");
        }
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let MirrorError::Upstream(UpstreamError::Busy { .. }) = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if let MirrorError::MethodNotAllowed { allow, .. } = self {
            let list = allow
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            if let Ok(v) = HeaderValue::from_str(&list) {
                headers.insert(header::ALLOW, v);
            }
        }
        response
    }
}

impl IntoResponse for MirrorError {
    fn into_response(self) -> Response {
        self.page(None)
    }
}
