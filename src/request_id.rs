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
//! id. Handlers run with the id in a task-local ([`Access::scope`]), and
//! the log format writes it on whatever they log, where a `request` span
//! would be (JSON logs: the `span` field; see [`crate::access_log::EventFormat`]).

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

use crate::forwarded::TrustedProxies;

pub use crate::headers::X_REQUEST_ID;

/// Longest id accepted from a trusted proxy.
pub const MAX_LEN: usize = 128;

/// A new id: 32 hex digits, unique in this process and unpredictable
/// without its key.
///
/// The key comes once from the operating system's random source; each id is
/// keyed SipHash-1-3 with its 128-bit output, of a process-wide counter.
/// That costs a few dozen nanoseconds, where asking the kernel for 16
/// random bytes on every request was a system call per hit (BENCHMARKS.md);
/// one 128-bit hash, not two of 64, since every id is made on a hit's path.
pub fn generate() -> HeaderValue {
    use siphasher::sip128::{Hasher128, SipHasher13};
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    // std's RandomState is keyed from the OS random source; two of its
    // hashes are the key.
    static KEY: std::sync::LazyLock<(u64, u64)> = std::sync::LazyLock::new(|| {
        let random = std::hash::RandomState::new();
        (random.hash_one(0u8), random.hash_one(1u8))
    });
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = SipHasher13::new_with_keys(KEY.0, KEY.1);
    h.write_u64(n);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, b) in h.finish128().as_u128().to_be_bytes().iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static("0"))
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

/// One request's id and access-log line, from [`begin`] to [`Access::finish`].
pub struct Access {
    start: Instant,
    id: HeaderValue,
    peer: Option<SocketAddr>,
    /// Method and URI (its path is logged), kept only when the access log
    /// is on: a clone of both shares their bytes.
    logged: Option<(http::Method, http::Uri)>,
}

/// Decides the id of `req`. The request keeps its headers as sent: what
/// goes upstream carries this id in place of the reader's (the exchange
/// puts it there, `crate::mirror`), and handlers read it as [`current`](crate::access_log::current).
pub fn begin(trusted: &TrustedProxies, peer: Option<SocketAddr>, req: &Request) -> Access {
    let start = Instant::now();
    let id = match req.headers().get(&X_REQUEST_ID) {
        Some(v) if acceptable(v) && trusted.peer(peer) => v.clone(),
        _ => generate(),
    };
    let logged = crate::access_log::enabled().then(|| (req.method().clone(), req.uri().clone()));
    Access {
        start,
        id,
        peer,
        logged,
    }
}

impl Access {
    /// Runs `handler` with this request's id as the [`current`] one.
    pub fn scope<F: std::future::Future>(
        &self,
        handler: F,
    ) -> impl std::future::Future<Output = F::Output> {
        crate::access_log::scope(self.id.clone(), handler)
    }

    /// Puts the id on `response` and writes the access log line.
    pub fn finish(self, mut response: Response) -> Response {
        if let Some((method, uri)) = &self.logged {
            let cache = response
                .headers()
                .get(&crate::headers::X_CACHE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            crate::access_log::write(&crate::access_log::Line {
                request_id: self.id.to_str().unwrap_or("-"),
                method: method.as_str(),
                path: uri.path(),
                status: response.status().as_u16(),
                cache,
                duration: self.start.elapsed(),
                peer: self.peer,
            });
        }
        response.headers_mut().insert(X_REQUEST_ID, self.id);
        response
    }
}

/// The middleware (the admin listener's; the public side runs the same
/// steps in `router::Public`): decides the id, runs the handler in its
/// scope, puts it on the response, and writes the access log line.
pub async fn layer(State(trusted): State<TrustedProxies>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let access = begin(&trusted, peer, &req);
    let response = access.scope(next.run(req)).await;
    access.finish(response)
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
        let t = TrustedProxies::new(&["10.0.0.0/8".parse().unwrap()]);
        assert!(t.peer(Some("10.1.2.3:5".parse().unwrap())));
        assert!(t.peer(Some("[::ffff:10.1.2.3]:5".parse().unwrap())));
        assert!(!t.peer(Some("127.0.0.1:5".parse().unwrap())));
        assert!(!t.peer(None));
    }
}
