//! The ceiling of our stack, for `bench/load.sh`: a bare axum handler that
//! answers every request with the same bytes from memory (identity, or a
//! pre-compressed `.gz`/`.br` twin when the request accepts it), served by
//! plain `axum::serve` (the reference an outside harness uses), or with
//! `--our-loop` through newsmirror's own accept loop (`server::serve`:
//! header-read timer, first-byte timeout, connection cap), which shows what
//! that loop costs by itself.
//!
//!   cargo run --release --example bare_static -- ADDR DIR [--our-loop] [--mirror-head]
//!
//! `--mirror-head` adds to every answer the headers a newsmirror hit
//! carries beyond these (CSP, Cache-Control, Surrogate-Key, ETag, Age,
//! X-Request-Id, ...: about 900 bytes, copied from a hit of the bench's
//! small page), so that a run can tell the cost of those bytes from the
//! cost of the code that makes them. The head of each form is built once
//! at start and cloned per answer, as a newsmirror hit clones its entry's
//! prebuilt head (built per answer, `HeaderValue::from_static` checks
//! every byte again: that cost 19,000 instructions a request, which no
//! server need pay).
//!
//! DIR holds the pages (`NAME.html`, answered at `/NAME.html`) and their
//! `.gz`/`.br` twins.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

struct Page {
    identity: Bytes,
    gzip: Option<Bytes>,
    br: Option<Bytes>,
}

/// The headers a newsmirror hit of the small page carries that `answer`
/// does not make (upstream's `Date`, `Server` and `Last-Modified` included).
const MIRROR_HEAD: &[(&str, &str)] = &[
    ("server", "nginx/1.22.1"),
    ("date", "Mon, 07 Dec 2026 20:37:22 GMT"),
    ("last-modified", "Mon, 07 Dec 2026 20:37:21 GMT"),
    ("x-dns-prefetch-control", "off"),
    ("referrer-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
         connect-src 'self'; media-src 'self' data: blob:; frame-src 'self'; \
         worker-src 'self' blob:; manifest-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; report-uri /_/csp-report; report-to newsmirror",
    ),
    ("vary", "X-Newsmirror-Worker"),
    ("reporting-endpoints", "newsmirror=\"/_/csp-report\""),
    (
        "cache-control",
        "public, max-age=60, s-maxage=600, stale-while-revalidate=60, stale-if-error=86400",
    ),
    ("surrogate-key", "bench bench:small bench:/small.html"),
    ("etag", "\"m75832419f04e2055fa2274798d84d628-gz\""),
    ("age", "614"),
    ("x-cache", "HIT"),
    ("x-request-id", "03b8b985a17b1244cf061ff9733c8a89"),
];

/// The whole head of an answer in `coding` with the mirror's headers.
fn mirror_head(coding: Option<&'static str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    plain_head(&mut h, coding);
    for (name, value) in MIRROR_HEAD {
        h.append(*name, HeaderValue::from_static(value));
    }
    h
}

/// Prebuilt heads by form: identity, gzip, br.
type Heads = Option<Arc<[HeaderMap; 3]>>;

fn answer(page: &Page, headers: &HeaderMap, heads: &Heads) -> Response {
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (body, coding) = match (&page.br, &page.gzip) {
        (Some(br), _) if accept.contains("br") => (br.clone(), Some("br")),
        (_, Some(gz)) if accept.contains("gzip") => (gz.clone(), Some("gzip")),
        _ => (page.identity.clone(), None),
    };
    let mut r = body.into_response();
    if let Some(heads) = heads {
        let i = match coding {
            None => 0,
            Some("gzip") => 1,
            Some(_) => 2,
        };
        *r.headers_mut() = heads[i].clone();
        return r;
    }
    plain_head(r.headers_mut(), coding);
    r
}

/// The headers of the plain answer.
fn plain_head(h: &mut HeaderMap, coding: Option<&'static str>) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(c) = coding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_static ADDR DIR [--our-loop]");
        std::process::exit(2);
    };
    // Every DIR/NAME.html, answered at /NAME.html, with its .gz/.br twins.
    let read = |path: &std::path::Path| std::fs::read(path).ok().map(Bytes::from);
    let mut pages = HashMap::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(".html") {
            continue;
        }
        let Some(identity) = read(&path) else {
            continue;
        };
        let twin = |ext: &str| read(&path.with_file_name(format!("{name}.{ext}")));
        pages.insert(
            format!("/{name}"),
            Page {
                identity,
                gzip: twin("gz"),
                br: twin("br"),
            },
        );
    }
    if pages.is_empty() {
        eprintln!("no .html files in {dir}");
        std::process::exit(1);
    }
    let pages = Arc::new(pages);
    let flags: Vec<String> = args.collect();
    let heads: Heads = flags.iter().any(|f| f == "--mirror-head").then(|| {
        Arc::new([
            mirror_head(None),
            mirror_head(Some("gzip")),
            mirror_head(Some("br")),
        ])
    });
    let router = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let pages = pages.clone();
        let heads = heads.clone();
        async move {
            match pages.get(uri.path()) {
                Some(page) => answer(page, &headers, &heads),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let listener = TcpListener::bind(&addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    });
    if !flags.iter().any(|f| f == "--our-loop") {
        let _ = axum::serve(listener, router).await;
        return;
    }
    let options = newsmirror::server::ServeOptions {
        header_read_timeout: std::time::Duration::from_secs(10),
        max_connections: 10_000,
        shutdown_grace: std::time::Duration::from_secs(1),
        tls: None,
    };
    let _ = newsmirror::server::serve(
        listener,
        router,
        options,
        newsmirror::server::shutdown_signal(),
    )
    .await;
}
