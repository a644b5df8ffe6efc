//! Streaming: the reader gets the first part of a page while upstream is
//! still sending the rest; nothing waits for the whole page.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use common::*;
use tokio::sync::Semaphore;

const FIRST: &str = "<!doctype html><html><head><title>t</title></head><body><p>first part <a href=\"https://www.u.test/x\">x</a></p>";
const SECOND: &str = "<p>second part</p></body></html>";

/// An upstream that sends FIRST, then waits until the test releases it.
fn held_upstream(release: Arc<Semaphore>, content_type: &'static str, gzip: bool) -> Router {
    Router::new().route(
        "/page",
        get(move || {
            let release = release.clone();
            async move {
                let mut encoder = gzip.then(|| {
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast())
                });
                let mut piece = |text: &str, last: bool| -> Vec<u8> {
                    match encoder.as_mut() {
                        None => text.as_bytes().to_vec(),
                        Some(e) => {
                            e.write_all(text.as_bytes()).unwrap();
                            e.flush().unwrap();
                            let mut out = std::mem::take(e.get_mut());
                            if last {
                                let done = std::mem::replace(
                                    e,
                                    flate2::write::GzEncoder::new(
                                        Vec::new(),
                                        flate2::Compression::fast(),
                                    ),
                                );
                                out.extend(done.finish().unwrap());
                            }
                            out
                        }
                    }
                };
                let first = piece(FIRST, false);
                let second = piece(SECOND, true);
                let stream = futures_util::stream::unfold(0, move |step| {
                    let release = release.clone();
                    let first = first.clone();
                    let second = second.clone();
                    async move {
                        match step {
                            0 => Some((Ok::<_, std::io::Error>(first), 1)),
                            1 => {
                                let _permit = release.acquire().await.ok()?;
                                Some((Ok(second), 2))
                            }
                            _ => None,
                        }
                    }
                });
                let mut headers = vec![(header::CONTENT_TYPE, content_type)];
                if gzip {
                    headers.push((header::CONTENT_ENCODING, "gzip"));
                }
                let headers: Vec<(header::HeaderName, &str)> = headers;
                let mut response = Body::from_stream(stream).into_response();
                for (k, v) in headers {
                    response.headers_mut().insert(k, v.parse().unwrap());
                }
                response
            }
        }),
    )
}

async fn first_chunk_arrives_before_upstream_finishes(content_type: &'static str, gzip: bool) {
    let release = Arc::new(Semaphore::new(0));
    let (up, _) = upstream(held_upstream(release.clone(), content_type, gzip)).await;
    let mirror = mirror(&config(up, "")).await;
    let mut r = fetch(mirror, "/page").await;
    let mut received = String::new();
    // Upstream holds the rest of the page until released: whatever arrives
    // now was streamed, not buffered.
    while !received.contains("first part") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), r.chunk())
            .await
            .expect("the first part must arrive while upstream still holds the rest")
            .expect("body")
            .expect("a chunk before the end");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!received.contains("second part"));
    assert!(
        received.contains("newsmirror-nav"),
        "rewritten as it streams: {received}"
    );
    assert!(received.contains("href=\"/x\""));
    release.add_permits(1);
    while let Some(chunk) = r.chunk().await.expect("rest of the body") {
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(received.contains("second part"));
    assert!(received.contains("newsmirror-footer"));
}

#[tokio::test]
async fn first_chunk_of_a_page_arrives_before_upstream_finishes() {
    first_chunk_arrives_before_upstream_finishes("text/html; charset=utf-8", false).await;
}

#[tokio::test]
async fn first_chunk_of_a_gzip_page_arrives_before_upstream_finishes() {
    first_chunk_arrives_before_upstream_finishes("text/html; charset=utf-8", true).await;
}

#[tokio::test]
async fn first_chunk_of_a_page_without_charset_arrives_before_upstream_finishes() {
    first_chunk_arrives_before_upstream_finishes("text/html", false).await;
}
