//! Proxying mechanics against real upstreams: content codings, pass-through
//! bodies and ranges, methods, routing by host and mount, timeouts, limits,
//! broken bodies, and what upstream gets to see of the reader.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PAGE: &str =
    "<html><body><a id=\"x\" href=\"https://www.u.test/next.htm\">next</a></body></html>";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn encoded(coding: &'static str, body: Vec<u8>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_ENCODING, coding),
        ],
        body,
    )
}

#[tokio::test]
async fn compressed_upstream_bodies_are_decoded_before_rewrite() {
    let router = Router::new()
        .route(
            "/gzip",
            get(|| async { encoded("gzip", gzip(PAGE.as_bytes())) }),
        )
        .route(
            "/deflate",
            get(|| async { encoded("deflate", zlib(PAGE.as_bytes())) }),
        )
        .route(
            "/raw-deflate",
            get(|| async { encoded("deflate", raw_deflate(PAGE.as_bytes())) }),
        )
        .route(
            "/br",
            get(|| async { encoded("br", brotli(PAGE.as_bytes())) }),
        )
        .route(
            "/zstd",
            get(|| async { encoded("zstd", zstd(PAGE.as_bytes())) }),
        )
        .route(
            "/double",
            get(|| async { encoded("deflate, gzip", gzip(&zlib(PAGE.as_bytes()))) }),
        );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    for path in [
        "/gzip",
        "/deflate",
        "/raw-deflate",
        "/br",
        "/zstd",
        "/double",
    ] {
        let (status, headers, body) = get_text(mirror, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(headers.get(header::CONTENT_ENCODING).is_none(), "{path}");
        assert!(body.contains("href=\"/next.htm\""), "{path}: {body}");
        assert!(body.contains("newsmirror-nav"), "{path}");
    }
}

#[tokio::test]
async fn body_that_is_not_what_its_content_encoding_says_answers_502() {
    let router = Router::new()
        .route(
            "/fake-gzip",
            get(|| async { encoded("gzip", PAGE.as_bytes().to_vec()) }),
        )
        .route(
            "/unknown",
            get(|| async { encoded("compress", PAGE.as_bytes().to_vec()) }),
        );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    for path in ["/fake-gzip", "/unknown"] {
        let (status, _, body) = get_text(mirror, path).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{path}");
        assert!(
            body.contains("newsmirror-nav"),
            "error page carries the nav bar"
        );
        assert!(body.contains("Content-Encoding"), "{body}");
    }
}

#[tokio::test]
async fn binary_bodies_stream_through_untouched() {
    let png: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let body = png.clone();
    let router = Router::new().route(
        "/img.png",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "image/png")], body) }
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/img.png").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_LENGTH], "100000");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &png[..]);
}

#[tokio::test]
async fn non_page_types_are_not_rewritten() {
    let text = "see https://www.u.test/api/2";
    let router = Router::new().route(
        "/notes.txt",
        get(move || async move { ([(header::CONTENT_TYPE, "text/plain")], text) }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let (_, _, body) = get_text(mirror, "/notes.txt").await;
    assert_eq!(body, text);
}

#[tokio::test]
async fn json_and_javascript_answers_have_the_served_hosts_urls_mapped() {
    let json = r#"{"next":"https://www.u.test/api/2","img":"https:\/\/img.u.test\/a.jpg","ad":"https://ads.example/x"}"#;
    let js = r#"var u = "//www.u.test/live.json"; load("https://ads.example/t.js");"#;
    let router = Router::new()
        .route(
            "/api",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], json) }),
        )
        .route(
            "/app.js",
            get(move || async move { ([(header::CONTENT_TYPE, "text/javascript")], js) }),
        );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let (_, _, body) = get_text(mirror, "/api").await;
    assert_eq!(
        body,
        r#"{"next":"/api/2","img":"\/_\/asset\/img.u.test\/a.jpg","ad":"https://ads.example/x"}"#
    );
    let (_, _, body) = get_text(mirror, "/app.js").await;
    assert_eq!(
        body,
        r#"var u = "/live.json"; load("https://ads.example/t.js");"#
    );
}

#[tokio::test]
async fn compressed_pass_through_is_kept_for_clients_that_accept_it_and_decoded_for_others() {
    let js = "console.log('x');".repeat(100);
    let gz = gzip(js.as_bytes());
    let router = Router::new().route(
        "/app.txt",
        get(move || {
            let gz = gz.clone();
            async move {
                (
                    [
                        // Not a type the mirror rewrites (JavaScript is).
                        (header::CONTENT_TYPE, "text/plain"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    gz,
                )
            }
        }),
    );
    let (up, _) = upstream(router).await;
    // Without the cache, the bytes pass as upstream encoded them.
    let mirror = mirror(&no_cache(config(up, ""))).await;
    let r = client()
        .get(format!("http://{mirror}/app.txt"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
    let raw = r.bytes().await.unwrap();
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&raw[..]).read_to_string_sync(&mut decoded);
    assert_eq!(decoded, js);
    let r = client()
        .get(format!("http://{mirror}/app.txt"))
        .header(header::ACCEPT_ENCODING, "identity")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(r.text().await.unwrap(), js);
}

trait ReadToStringSync {
    fn read_to_string_sync(&mut self, out: &mut String);
}
impl<R: std::io::Read> ReadToStringSync for R {
    fn read_to_string_sync(&mut self, out: &mut String) {
        std::io::Read::read_to_string(self, out).unwrap();
    }
}

#[tokio::test]
async fn range_requests_are_forwarded_and_206_passed_back() {
    let seen = Arc::new(Mutex::new(HeaderMap::new()));
    let s = seen.clone();
    let router = Router::new().route(
        "/video.mp4",
        get(move |h: HeaderMap| {
            let s = s.clone();
            async move {
                *s.lock().unwrap() = h.clone();
                (
                    StatusCode::PARTIAL_CONTENT,
                    [
                        (header::CONTENT_TYPE, "video/mp4"),
                        (header::CONTENT_RANGE, "bytes 100-199/1000"),
                        (header::ACCEPT_RANGES, "bytes"),
                    ],
                    vec![7u8; 100],
                )
            }
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let r = client()
        .get(format!("http://{mirror}/video.mp4"))
        .header(header::RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.headers()[header::CONTENT_RANGE], "bytes 100-199/1000");
    assert_eq!(r.bytes().await.unwrap().len(), 100);
    let h = seen.lock().unwrap().clone();
    assert_eq!(h[header::RANGE], "bytes=100-199");
    assert_eq!(h[header::ACCEPT_ENCODING], "identity");
}

#[tokio::test]
async fn head_requests_get_headers_only() {
    let router = Router::new().route(
        "/p.htm",
        any(|| async { ([(header::CONTENT_TYPE, "text/html")], PAGE) }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let r = client()
        .head(format!("http://{mirror}/p.htm"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn methods_outside_the_site_list_get_405_without_upstream() {
    let (up, hits) = upstream(Router::new().route("/form", any(|| async { "ok" }))).await;
    let mirror = mirror(&config(up, "")).await;
    let r = client()
        .post(format!("http://{mirror}/form"))
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn allowed_post_is_forwarded_with_its_body() {
    let router = Router::new().route(
        "/form",
        any(|body: String| async move {
            (
                [(header::CONTENT_TYPE, "text/plain")],
                format!("got {body}"),
            )
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "methods = [\"GET\", \"HEAD\", \"POST\"]")).await;
    let r = client()
        .post(format!("http://{mirror}/form"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "got a=1");
}

#[tokio::test]
async fn sites_are_chosen_by_host_and_by_longest_mount() {
    let (a, _) =
        upstream(Router::new().fallback(|req: Request| async move { format!("A {}", req.uri()) }))
            .await;
    let (b, _) =
        upstream(Router::new().fallback(|req: Request| async move { format!("B {}", req.uri()) }))
            .await;
    let (c, _) =
        upstream(Router::new().fallback(|req: Request| async move { format!("C {}", req.uri()) }))
            .await;
    let toml = format!(
        r#"
[upstream.origins]
"a.test" = "http://{a}"
"b.test" = "http://{b}"
"c.test" = "http://{c}"
[[site]]
name = "a"
upstream = "https://a.test"
[[site]]
name = "b"
upstream = "https://b.test"
mount = "/b/"
[[site]]
name = "c"
upstream = "https://c.test/sub/"
hosts = ["c.mirror.test", "c2.mirror.test"]
"#
    );
    let mirror = mirror(&toml).await;
    let text = |host: &'static str, path: &'static str| async move {
        client()
            .get(format!("http://{mirror}{path}"))
            .header(header::HOST, host)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(text("mirror.test", "/x?q=1").await, "A /x?q=1");
    assert_eq!(text("mirror.test", "/b/x").await, "B /x");
    assert_eq!(text("c.mirror.test", "/x").await, "C /sub/x");
    assert_eq!(text("C2.Mirror.Test:8080", "/x").await, "C /sub/x");
    assert_eq!(text("c.mirror.test", "/b/y").await, "B /y");
}

#[tokio::test]
async fn upstream_404_keeps_its_status_and_gets_the_nav_bar() {
    let router = Router::new().fallback(|| async {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><a href=\"https://www.u.test/\">home</a></body></html>",
        )
    });
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let (status, _, body) = get_text(mirror, "/missing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("newsmirror-nav"));
    assert!(body.contains("href=\"/\""));
}

#[tokio::test]
async fn upstream_5xx_passes_through_with_its_status() {
    let (up, _) =
        upstream(Router::new().fallback(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }))
            .await;
    let mirror = mirror(&config(up, "")).await;
    let (status, _, body) = get_text(mirror, "/").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, "down");
}

#[tokio::test]
async fn unreachable_upstream_answers_502_with_nav_bar() {
    // Bind and drop: nothing listens on that port any more.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mirror = mirror(&config(addr, "")).await;
    let (status, headers, body) = get_text(mirror, "/a.htm").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(body.contains("<nav id=\"newsmirror-nav\">"), "{body}");
    assert!(body.contains("could not connect to www.u.test"), "{body}");
}

#[tokio::test]
async fn upstream_that_never_answers_times_out_with_504() {
    let (up, hits) = raw_upstream(|socket| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    })
    .await;
    let toml = config(up, "").replace("header_timeout = \"2s\"", "header_timeout = \"300ms\"");
    let mirror = mirror(&toml).await;
    let started = Instant::now();
    let (status, _, body) = get_text(mirror, "/slow").await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(body.contains("newsmirror-nav"));
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn upstream_that_stalls_mid_body_ends_the_response_with_an_error() {
    let (up, _) = raw_upstream(|mut socket| async move {
        // No charset anywhere: the ASCII head still streams while the
        // encoding is undecided.
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        write_all(&mut socket, "<html><body>".repeat(200).as_bytes()).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let toml = config(up, "").replace("idle_timeout = \"2s\"", "idle_timeout = \"300ms\"");
    let mirror = mirror(&toml).await;
    let r = fetch(mirror, "/stall").await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "headers went out with the first chunk"
    );
    assert!(
        r.bytes().await.is_err(),
        "the body must end in an error, not a clean end"
    );
}

#[tokio::test]
async fn truncated_upstream_body_is_not_a_clean_end() {
    let (up, _) = raw_upstream(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5000\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        write_all(&mut socket, "<html><body><p>half a page".as_bytes()).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Close with 4,970 bytes still owed.
    })
    .await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/cut").await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the first bytes went out before the cut"
    );
    match r.bytes().await {
        Err(_) => {}
        Ok(b) => panic!(
            "a cut-short page ended cleanly: {:?}",
            String::from_utf8_lossy(&b)
        ),
    }
    // The same for a body that is passed through untouched.
    let (up, _) = raw_upstream(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        write_all(&mut socket, &[1u8; 100]).await;
    })
    .await;
    let second = common::mirror(&config(up, "")).await;
    assert!(fetch(second, "/cut.jpg").await.bytes().await.is_err());
}

#[tokio::test]
async fn bodies_over_max_body_bytes_are_refused() {
    let big = "<p>x</p>".repeat(700_000); // 5.6 MB > 4 MiB
    let gz = gzip(big.as_bytes());
    let big2 = big.clone();
    let router = Router::new()
        .route(
            "/big",
            get(move || {
                let b = big2.clone();
                async move { ([(header::CONTENT_TYPE, "text/html")], b) }
            }),
        )
        .route(
            "/big-gzip",
            get(move || {
                let g = gz.clone();
                async move { encoded("gzip", g) }
            }),
        );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    // Known length: refused before any byte.
    let (status, _, body) = get_text(mirror, "/big").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("exceeds"), "{body}");
    // Compressed: the limit counts decompressed bytes; the stream is cut.
    let r = fetch(mirror, "/big-gzip").await;
    assert!(r.bytes().await.is_err());
}

#[tokio::test]
async fn upstream_sees_nothing_of_the_reader() {
    let seen = Arc::new(Mutex::new(HeaderMap::new()));
    let s = seen.clone();
    let router = Router::new().route(
        "/p.htm",
        get(move |h: HeaderMap| {
            let s = s.clone();
            async move {
                *s.lock().unwrap() = h;
                ([(header::CONTENT_TYPE, "text/html")], PAGE)
            }
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    client()
        .get(format!("http://{mirror}/p.htm"))
        .header(header::COOKIE, "session=secret")
        .header(header::AUTHORIZATION, "Basic c2VjcmV0")
        .header("x-forwarded-for", "10.9.8.7")
        .header(header::USER_AGENT, "ReaderBrowser/1.0")
        .header(header::REFERER, format!("http://{mirror}/a/prev.htm"))
        .header(header::ACCEPT_LANGUAGE, "zh-CN")
        .send()
        .await
        .unwrap();
    let h = seen.lock().unwrap().clone();
    assert!(h.get(header::COOKIE).is_none());
    assert!(h.get(header::AUTHORIZATION).is_none());
    assert!(h.get("x-forwarded-for").is_none());
    assert!(h.get("forwarded").is_none());
    assert!(
        !h[header::USER_AGENT]
            .to_str()
            .unwrap()
            .contains("ReaderBrowser")
    );
    assert_eq!(h[header::ACCEPT_LANGUAGE], "zh-CN");
    assert_eq!(h[header::HOST], "www.u.test");
    // The referring mirror page becomes the original page: nothing of the mirror shows.
    assert_eq!(h[header::REFERER], "https://www.u.test/a/prev.htm");
}

#[tokio::test]
async fn absolute_form_targets_and_connect_are_refused() {
    let (up, hits) = upstream(Router::new().fallback(|| async { "upstream" })).await;
    let mirror = mirror(&config(up, "")).await;
    for request in [
        "GET http://www.example.org/ HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\n\r\n",
        "CONNECT www.example.org:443 HTTP/1.1\r\nHost: www.example.org:443\r\nConnection: close\r\n\r\n",
    ] {
        let mut s = TcpStream::connect(mirror).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        let _ = s.read_to_string(&mut response).await;
        let status_line = response.lines().next().unwrap_or_default().to_owned();
        assert!(
            status_line.contains(" 400 ") || status_line.contains(" 405 "),
            "{request:?} → {status_line}"
        );
    }
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn mirror_routes_under_underscore_are_its_own() {
    let (up, hits) = upstream(Router::new().fallback(|| async { "upstream" })).await;
    let mirror = mirror(&config(up, "")).await;
    let (status, _, body) = get_text(mirror, "/_/healthz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok\n"));
    let (status, headers, css) = get_text(mirror, "/_/static/newsmirror.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.contains("#newsmirror-nav"));
    let (status, _, _) = get_text(mirror, "/_/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn dot_segments_in_page_paths_are_refused_without_upstream() {
    let (up, hits) = upstream(Router::new().fallback(|| async { "upstream" })).await;
    let mirror = mirror(&config(up, "")).await;
    // Sent raw: a URL parser would already have removed them.
    for path in ["/a/%2e%2e/b", "/a/%2E%2E%2Fb", "/a/.%2e/b", "/a/../b"] {
        assert_eq!(raw_get_status(mirror, path).await, 400, "{path}");
    }
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn dot_segments_with_path_parameters_are_refused_without_upstream() {
    let (up, hits) = upstream(Router::new().fallback(|| async { "upstream" })).await;
    let mirror = mirror(&config(up, "")).await;
    // Tomcat and Jetty read `..;x` as `..`: the mirror must not pass them on.
    for path in [
        "/a/..;/admin",
        "/a/..;x=1/admin",
        "/a/%2e%2e;/admin",
        "/a/%2E%2E%3B/admin",
        "/a/.;/b",
        "/_/asset/img.u.test/a/..;/x.jpg",
    ] {
        assert_eq!(raw_get_status(mirror, path).await, 400, "{path}");
    }
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn body_that_fails_before_its_first_byte_answers_502() {
    let (up, _) = raw_upstream(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        // Nothing usable before the cut: not even a byte of the page.
    })
    .await;
    let mirror = mirror(&config(up, "")).await;
    let (status, _, body) = get_text(mirror, "/cut").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("broke off"), "{body}");
}

/// `HEAD path` over raw TCP (a client library may hide or fix up a
/// `Content-Length`): the status and the response head's header lines,
/// names lower-case.
async fn raw_head(mirror: std::net::SocketAddr, path: &str) -> (u16, Vec<(String, String)>) {
    let mut s = TcpStream::connect(mirror).await.unwrap();
    let request = format!("HEAD {path} HTTP/1.1\r\nHost: mirror.test\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

/// The `Content-Length` values of a HEAD answer.
async fn head_content_lengths(mirror: std::net::SocketAddr, path: &str) -> Vec<String> {
    let (status, headers) = raw_head(mirror, path).await;
    assert_eq!(status, 200, "{path}: {headers:?}");
    headers
        .into_iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v)
        .collect()
}

/// A HEAD answer's length is absent or exactly the GET body's.
fn assert_length_absent_or(lengths: &[String], get_len: usize, case: &str) {
    assert!(
        lengths.is_empty() || lengths == [get_len.to_string()],
        "{case}: HEAD content-length {lengths:?}, GET body {get_len} bytes"
    );
}

fn rewritten_page_upstream(cache_control: &'static str) -> Router {
    Router::new().fallback(move || async move {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, cache_control),
            ],
            PAGE,
        )
    })
}

#[tokio::test]
async fn head_of_an_uncached_rewritten_page_never_claims_an_empty_body() {
    // Cache off.
    let (up, _) = upstream(rewritten_page_upstream("max-age=60")).await;
    let off = mirror(&no_cache(config(up, ""))).await;
    let lengths = head_content_lengths(off, "/a.htm").await;
    let get_len = fetch(off, "/a.htm").await.bytes().await.unwrap().len();
    assert_length_absent_or(&lengths, get_len, "cache off");

    // Cache on: the HEAD starts the fill.
    let on = mirror(&config(up, "")).await;
    let lengths = head_content_lengths(on, "/b.htm").await;
    let get = fetch(on, "/b.htm").await;
    assert_eq!(get.headers()["x-cache"], "HIT");
    let get_len = get.bytes().await.unwrap().len();
    assert_length_absent_or(&lengths, get_len, "fill started by HEAD");

    // Not storable: the fill's own answer, then the pass marker's bypass.
    let (up, hits) = upstream(rewritten_page_upstream("no-store")).await;
    let pass = mirror(&config(up, "")).await;
    let first = head_content_lengths(pass, "/c.htm").await;
    let second = head_content_lengths(pass, "/c.htm").await;
    assert_eq!(hits.get(), 2);
    let get_len = fetch(pass, "/c.htm").await.bytes().await.unwrap().len();
    assert_length_absent_or(&first, get_len, "pass, first");
    assert_length_absent_or(&second, get_len, "pass, bypass");
}

#[tokio::test]
async fn head_of_a_cached_page_has_the_length_of_the_get() {
    let (up, hits) = upstream(rewritten_page_upstream("max-age=60")).await;
    let mirror = mirror(&config(up, "")).await;
    let get_len = fetch(mirror, "/a.htm").await.bytes().await.unwrap().len();
    assert_eq!(
        head_content_lengths(mirror, "/a.htm").await,
        [get_len.to_string()]
    );
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn head_of_a_passed_through_body_keeps_upstream_content_length() {
    let png = vec![7u8; 3000];
    let router = Router::new().fallback(move || {
        let png = png.clone();
        async move { ([(header::CONTENT_TYPE, "image/png")], png) }
    });
    let (up, _) = upstream(router).await;
    for (case, toml) in [
        ("cache off", no_cache(config(up, ""))),
        ("cache on", config(up, "")),
    ] {
        let mirror = mirror(&toml).await;
        assert_eq!(
            head_content_lengths(mirror, "/i.png").await,
            ["3000"],
            "{case}"
        );
        assert_eq!(
            head_content_lengths(mirror, "/_/asset/img.u.test/i.png").await,
            ["3000"],
            "{case}"
        );
    }
}
