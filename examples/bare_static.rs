//! The ceiling of our stack, for `bench/load.sh`: a bare axum handler that
//! answers every request with the same bytes from memory (identity, or a
//! pre-compressed `.gz`/`.br` twin when the request accepts it), served
//! through the same hyper-util accept loop newsmirror uses.
//!
//!   cargo run --release --example bare_static -- ADDR FILE

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
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
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_static ADDR FILE");
        std::process::exit(2);
    };
    let read = |path: String| std::fs::read(path).ok().map(Bytes::from);
    let Some(identity) = read(file.clone()) else {
        eprintln!("cannot read {file}");
        std::process::exit(1);
    };
    let page = Arc::new(Page {
        identity,
        gzip: read(format!("{file}.gz")),
        br: read(format!("{file}.br")),
    });
    let router = Router::new().fallback(move |headers: HeaderMap| {
        let page = page.clone();
        async move { answer(&page, &headers) }
    });
    let listener = TcpListener::bind(&addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    });
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
