//! Request ids and the access log.
//!
//! Every answer carries an `X-Request-Id`. The id is made here (128 random
//! bits, 32 hex digits) unless the connection comes from a
//! `server.trusted_proxies` address and the request already has a
//! well-formed one (a CDN or load balancer that made its own): then that id
//! is kept, so one id follows a request through every hop. A reader cannot
//! choose the id that appears in the logs.
//!
//! Each request is logged once, at info level, when its response head is
//! ready (the body may still be streaming): method, path (without the query),
//! status, cache result (`X-Cache`, or `-`), duration in milliseconds and the
//! id. Handlers run inside a `request` span holding the id, so whatever they
//! log carries it too (JSON logs: the `span` field).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderName, HeaderValue};
use tracing::Instrument;

use crate::config::Cidr;

/// `X-Request-Id`.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id accepted from a trusted proxy.
pub const MAX_LEN: usize = 128;

/// Whose `X-Request-Id` is believed: the `server.trusted_proxies` ranges.
#[derive(Clone, Debug, Default)]
pub struct Trusted(pub Arc<Vec<Cidr>>);

impl Trusted {
    pub fn new(ranges: &[Cidr]) -> Self {
        Trusted(Arc::new(ranges.to_vec()))
    }

    fn contains(&self, peer: Option<SocketAddr>) -> bool {
        peer.is_some_and(|p| crate::forwarded::trusted(p.ip(), &self.0))
    }
}

/// A new id: 128 bits from the operating system's random source, in hex.
pub fn generate() -> HeaderValue {
    static RANDOM: std::sync::LazyLock<&'static dyn rustls::crypto::SecureRandom> =
        std::sync::LazyLock::new(|| rustls::crypto::ring::default_provider().secure_random);
    let mut bytes = [0u8; 16];
    if RANDOM.fill(&mut bytes).is_err() {
        // The OS random source failing is not a reason to drop a request:
        // fall back to time and a counter, still unique in this process.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        bytes[..8].copy_from_slice(&nanos.to_be_bytes());
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    }
    let mut hex = String::with_capacity(32);
    for b in bytes {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    HeaderValue::from_str(&hex).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// Whether an id sent by a trusted proxy is kept: 1 to [`MAX_LEN`]
/// characters from `A-Z a-z 0-9 - _ . : / + = @`.
pub fn acceptable(value: &HeaderValue) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LEN
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.:/+=@".contains(c))
}

/// The middleware: decides the id, puts it on the request (for handlers)
/// and on the response, and writes the access log line.
pub async fn layer(State(trusted): State<Trusted>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let id = match req.headers().get(&X_REQUEST_ID) {
        Some(v) if acceptable(v) && trusted.contains(peer) => v.clone(),
        _ => generate(),
    };
    req.headers_mut().insert(X_REQUEST_ID.clone(), id.clone());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let id_text = id.to_str().unwrap_or("-").to_owned();
    let span = tracing::info_span!("request", id = %id_text);
    let mut response = next.run(req).instrument(span).await;
    response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    let cache = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info!(
        target: "newsmirror::access",
        request_id = %id_text,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        cache,
        duration_ms = start.elapsed().as_secs_f64() * 1000.0,
        peer = %peer.map(|p| p.to_string()).unwrap_or_else(|| "-".to_owned()),
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_32_hex_digits_and_differ() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 32);
        assert!(a.as_bytes().iter().all(u8::is_ascii_hexdigit));
        assert_ne!(a, b);
    }

    #[test]
    fn only_tidy_ids_are_accepted() {
        assert!(acceptable(&HeaderValue::from_static("abc-123_x.y:z")));
        assert!(acceptable(&HeaderValue::from_static(
            "8f1c2e0a-4b1d-4c5e-9a7b-1234567890ab"
        )));
        assert!(!acceptable(&HeaderValue::from_static("")));
        assert!(!acceptable(&HeaderValue::from_static("has space")));
        assert!(!acceptable(&HeaderValue::from_static("<script>")));
        let long = "a".repeat(MAX_LEN + 1);
        assert!(!acceptable(&HeaderValue::from_str(&long).unwrap()));
    }

    #[test]
    fn trust_follows_the_ranges() {
        let t = Trusted::new(&["10.0.0.0/8".parse().unwrap()]);
        assert!(t.contains(Some("10.1.2.3:5".parse().unwrap())));
        assert!(t.contains(Some("[::ffff:10.1.2.3]:5".parse().unwrap())));
        assert!(!t.contains(Some("127.0.0.1:5".parse().unwrap())));
        assert!(!t.contains(None));
    }
}
