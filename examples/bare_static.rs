//! The ceiling of our stack, for `bench/load.sh`: a bare axum handler that
//! answers every request with the same bytes from memory (identity, or a
//! pre-compressed `.gz`/`.br` twin when the request accepts it), served by
//! plain `axum::serve` (the reference an outside harness uses), or with
//! `--our-loop` through newsmirror's own accept loop (`server::serve`:
//! header-read timer, first-byte timeout, connection cap), which shows what
//! that loop costs by itself.
//!
//!   cargo run --release --example bare_static -- ADDR DIR [--our-loop]
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

fn answer(page: &Page, headers: &HeaderMap) -> Response {
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
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(c) = coding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
    }
    r
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
    let router = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let pages = pages.clone();
        async move {
            match pages.get(uri.path()) {
                Some(page) => answer(page, &headers),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let listener = TcpListener::bind(&addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    });
    if args.next().as_deref() != Some("--our-loop") {
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
