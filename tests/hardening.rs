//! Hostile clients and hostile upstreams: connection limits, the open-proxy
//! guards, trusted forwarding, body limits, injection, and faults. Every
//! test checks what upstream saw and that the mirror still answers the next
//! normal request.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PAGE: &str = "<html><body><p>page</p><a href=\"https://www.u.test/x\">x</a></body></html>";

fn html(body: impl Into<String>) -> axum::response::Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

async fn page_site() -> (SocketAddr, Hits) {
    upstream(Router::new().fallback(|| async { html(PAGE) })).await
}

/// The mirror still serves a normal request.
async fn still_serves(mirror: SocketAddr) {
    let r = tokio::time::timeout(Duration::from_secs(10), fetch(mirror, "/_/healthz"))
        .await
        .expect("the mirror answers a normal request");
    assert_eq!(r.status(), StatusCode::OK);
}

fn with_server(toml: String, lines: &str) -> String {
    toml.replacen("[server]\n", &format!("[server]\n{lines}\n"), 1)
}

// ---- 1. connection-level limits ----

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let (up, _) = page_site().await;
    let mirror = mirror(&with_server(config(up, ""), "header_read_timeout = \"1s\"")).await;
    let mut slow = TcpStream::connect(mirror).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: m\r\nX-Slow: ")
        .await
        .unwrap();
    // Keep trickling a byte now and then; the server must still close.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 512];
        loop {
            let _ = slow.write_all(b"a").await;
            match tokio::time::timeout(Duration::from_millis(300), slow.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => return true, // an error response, then close
                Err(_) => continue,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true), "a slowloris connection is closed");
    still_serves(mirror).await;
}

#[tokio::test]
async fn too_many_or_too_large_request_headers_get_431() {
    let (up, hits) = page_site().await;
    let mirror = mirror(&config(up, "")).await;
    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let status = raw_status(
        mirror,
        &format!("GET /a HTTP/1.1\r\nHost: m\r\n{many}Connection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 431);
    let big = "a".repeat(100 * 1024);
    let status = raw_status(
        mirror,
        &format!("GET /a HTTP/1.1\r\nHost: m\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 431);
    assert_eq!(hits.get(), 0);
    still_serves(mirror).await;
}

#[tokio::test]
async fn three_hundred_half_open_connections_do_not_starve_a_normal_client() {
    let (up, _) = page_site().await;
    let mirror = mirror(&config(up, "")).await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(mirror).await.unwrap());
    }
    for i in 0..5 {
        let r = tokio::time::timeout(Duration::from_secs(10), fetch(mirror, &format!("/p{i}")))
            .await
            .expect("served while 300 connections sit idle");
        assert_eq!(r.status(), StatusCode::OK);
    }
    drop(idle);
}

#[tokio::test]
async fn connections_over_the_limit_wait_rather_than_fail() {
    let (up, _) = page_site().await;
    let toml = with_server(
        config(up, ""),
        "max_connections = 4\nheader_read_timeout = \"1s\"",
    );
    let mirror = mirror(&toml).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(mirror).await.unwrap());
    }
    // The fifth is accepted once the idle ones time out.
    let r = tokio::time::timeout(Duration::from_secs(15), fetch(mirror, "/after"))
        .await
        .expect("served once a slot frees");
    assert_eq!(r.status(), StatusCode::OK);
    drop(idle);
}

#[test]
fn sigterm_finishes_in_flight_requests_and_exits_zero() {
    use std::process::{Command, Stdio};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (up, _) = rt.block_on(upstream(Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            html(PAGE)
        }),
    )));
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(config(up, "").as_bytes()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsmirror"))
        .args(["serve", "--config"])
        .arg(file.path())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    rt.block_on(async {
        for _ in 0..100 {
            if TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let in_flight = rt.spawn(async move { fetch(addr, "/slow").await.text().await });
    std::thread::sleep(Duration::from_millis(400));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let body = rt
        .block_on(in_flight)
        .unwrap()
        .expect("the in-flight request completes");
    assert!(body.contains("page"));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        rt.block_on(TcpStream::connect(addr)).is_err(),
        "no longer accepting"
    );
}

// ---- 2. not an open proxy ----

#[tokio::test]
async fn hosts_no_site_answers_for_are_misdirected() {
    let (up, hits) = page_site().await;
    let toml = config(up, "hosts = [\"m.mirror.test\"]");
    let mirror = mirror(&toml).await;
    let status = raw_status(
        mirror,
        "GET / HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 421);
    let status = raw_status(
        mirror,
        "GET / HTTP/1.1\r\nHost: m.mirror.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(hits.get(), 1);
}

/// A server on loopback that the mirror must never reach through `/_/img/`.
async fn internal_server() -> (SocketAddr, Hits) {
    upstream(Router::new().fallback(|| async {
        (
            [(header::CONTENT_TYPE, "image/jpeg")],
            b"internal secret".to_vec(),
        )
            .into_response()
    }))
    .await
}

#[tokio::test]
async fn signed_images_on_private_addresses_are_refused_without_connecting() {
    let (internal, internal_hits) = internal_server().await;
    let page = format!(
        "<html><body><img id=a src=\"http://{internal}/secret.jpg\"><img id=b src=\"http://localhost:{}/secret.jpg\">\
         <img id=c src=\"http://169.254.169.254/latest/meta-data/\"></body></html>",
        internal.port()
    );
    let router = Router::new().route(
        "/page.htm",
        get(move || {
            let p = page.clone();
            async move { html(p) }
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let (_, _, html) = get_text(mirror, "/page.htm").await;
    let srcs: Vec<String> = attr_values(&html, "src")
        .into_iter()
        .filter(|s| !s.starts_with("/_/rt.js"))
        .collect();
    assert_eq!(srcs.len(), 3);
    for src in &srcs {
        assert!(src.starts_with("/_/img/"), "{src}");
        let (status, _, body) = get_text(mirror, src).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{src}");
        assert!(body.contains("not at a public address"), "{body}");
    }
    assert_eq!(internal_hits.get(), 0);
    still_serves(mirror).await;
}

#[tokio::test]
async fn asset_hosts_that_resolve_to_private_addresses_are_refused() {
    let (up, _) = page_site().await;
    // An operator's asset host that is (now) loopback, not pinned in origins.
    let toml = config(up, "").replace(
        "asset_hosts = [\"img.u.test\"]",
        "asset_hosts = [\"img.u.test\", \"localhost\"]",
    );
    let mirror = mirror(&toml).await;
    let (status, _, body) = get_text(mirror, "/_/asset/localhost/x.jpg").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("not at a public address"));
}

#[tokio::test]
async fn image_redirects_are_passed_on_not_followed() {
    let (internal, internal_hits) = internal_server().await;
    let target = format!("http://{internal}/secret.jpg");
    let router = Router::new().fallback(move || {
        let t = target.clone();
        async move { (StatusCode::FOUND, [(header::LOCATION, t)]).into_response() }
    });
    let (up, hits) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/_/asset/img.u.test/moved.jpg").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    // Passed on as the mirror's signed image URL: the browser is sent to no
    // other host, and that URL serves media from public addresses only.
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/_/img/"), "{location}");
    assert_eq!(hits.get(), 1);
    let (status, _, _) = get_text(mirror, &location).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a loopback host is not public"
    );
    assert_eq!(
        internal_hits.get(),
        0,
        "the mirror never follows a redirect"
    );
}

// ---- 3. trusted forwarding ----

async fn two_host_sites(trusted: &str) -> (SocketAddr, Hits, Hits) {
    let (a, a_hits) = upstream(Router::new().fallback(|| async { html("<p>site A</p>") })).await;
    let (b, b_hits) = upstream(Router::new().fallback(|| async { html("<p>site B</p>") })).await;
    let toml = format!(
        r#"
[server]
trusted_proxies = [{trusted}]
[upstream.origins]
"a.test" = "http://{a}"
"b.test" = "http://{b}"
[[site]]
name = "a"
upstream = "https://a.test"
hosts = ["a.mirror.test"]
[[site]]
name = "b"
upstream = "https://b.test"
hosts = ["b.mirror.test"]
"#
    );
    (common::mirror(&toml).await, a_hits, b_hits)
}

async fn get_as(mirror: SocketAddr, host: &str, headers: &[(&str, &str)]) -> String {
    let mut req = client()
        .get(format!("http://{mirror}/x"))
        .header(header::HOST, host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn forwarding_headers_from_untrusted_peers_change_nothing() {
    let (mirror, _, b_hits) = two_host_sites("").await;
    for h in [
        ("x-forwarded-host", "b.mirror.test"),
        ("forwarded", "host=b.mirror.test"),
    ] {
        let body = get_as(mirror, "a.mirror.test", &[h]).await;
        assert!(body.contains("site A"), "{h:?}: {body}");
    }
    assert_eq!(b_hits.get(), 0);
}

#[tokio::test]
async fn forwarding_headers_from_trusted_proxies_choose_the_site() {
    let (mirror, _, b_hits) = two_host_sites("\"127.0.0.1/32\"").await;
    let body = get_as(
        mirror,
        "origin.internal",
        &[("x-forwarded-host", "b.mirror.test")],
    )
    .await;
    assert!(body.contains("site B"), "{body}");
    let body = get_as(
        mirror,
        "origin.internal",
        &[("forwarded", "for=198.51.100.1;host=a.mirror.test")],
    )
    .await;
    assert!(body.contains("site A"), "{body}");
    assert_eq!(b_hits.get(), 1);
}

// ---- 4. upstream limits ----

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_gzip_bomb_is_cut_at_the_limit_with_flat_memory() {
    // 1 GiB of zeros, a few MB compressed.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 4 << 20);
    let router = Router::new()
        .route(
            "/bomb.html",
            get({
                let b = bomb.clone();
                move || {
                    let b = b.clone();
                    async move {
                        (
                            [
                                (header::CONTENT_TYPE, "text/html"),
                                (header::CONTENT_ENCODING, "gzip"),
                            ],
                            b,
                        )
                    }
                }
            }),
        )
        .route(
            "/bomb.js",
            get(move || {
                let b = bomb.clone();
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, "application/javascript"),
                            (header::CONTENT_ENCODING, "gzip"),
                        ],
                        b,
                    )
                }
            }),
        );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let before = peak_rss_kib();
    for path in ["/bomb.html", "/bomb.js"] {
        let r = fetch(mirror, path).await;
        // Cut at 4 MiB of decompressed bytes: an error, never a clean end.
        assert!(r.bytes().await.is_err(), "{path}");
    }
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 128 * 1024,
        "peak memory grew by {grown} KiB for a 1 GiB bomb"
    );
    still_serves(mirror).await;
}

#[tokio::test]
async fn a_page_with_a_huge_attribute_or_deep_nesting_is_served_whole() {
    let huge = format!(
        "<html><head><title>t</title></head><body><div data-x=\"{}\">x</div><a href=\"https://www.u.test/after\">after</a></body></html>",
        "y".repeat(20 << 20)
    );
    let deep = format!(
        "<html><body>{}<p>deep</p>{}<a href=\"https://www.u.test/after\">after</a></body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let router = Router::new()
        .route(
            "/huge.html",
            get(move || {
                let p = huge.clone();
                async move { html(p) }
            }),
        )
        .route(
            "/deep.html",
            get(move || {
                let p = deep.clone();
                async move { html(p) }
            }),
        );
    let (up, _) = upstream(router).await;
    let toml = config(up, "").replace("max_body_bytes = \"4MiB\"", "max_body_bytes = \"64MiB\"");
    let mirror = mirror(&toml).await;
    let before = peak_rss_kib();
    let (status, _, body) = get_text(mirror, "/huge.html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.len() > 20 << 20);
    assert!(body.contains(">after</a>"), "the rest of the page is there");
    // 100,000 open elements exceed the rewriter's memory limit: the rest of
    // the page passes unrewritten (bounded memory), but whole.
    let (status, _, body) = get_text(mirror, "/deep.html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<p>deep</p>"));
    assert!(
        body.trim_end().ends_with(">after</a></body></html>"),
        "{}",
        &body[body.len().saturating_sub(200)..]
    );
    // The 20 MB attribute passes through; it is never held whole more than
    // a few times (client, cache candidate), not per chunk.
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(grown < 256 * 1024, "peak memory grew by {grown} KiB");
}

// ---- 5. injection ----

#[tokio::test]
async fn operator_text_and_echoed_urls_cannot_inject_markup() {
    let router = Router::new().fallback(|| async {
        html("<html><body><a id=q href=\"/s?x=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">q</a>\
              <a id=j href=\"/&#x6a;avascript:alert(1)\">j</a></body></html>")
    });
    let (up, _) = upstream(router).await;
    let toml = config(up, "")
        .replace(
            "label = \"Home\"",
            "label = \"\\\"><script>alert(1)</script>\"",
        )
        .replace(
            "footer = \"原文链接：{original_url}\"",
            "footer = \"<img src=x onerror=alert(1)> {original_url}\"",
        );
    let mirror = mirror(&toml).await;
    let (_, _, body) = get_text(mirror, "/page?<script>=1").await;
    assert!(!body.contains("<script>"), "{body}");
    assert!(!body.contains("<img src=x"), "{body}");
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!body.contains("href=\"javascript:"), "{body}");
    // Error pages echo what was asked, escaped.
    let (status, _, body) =
        get_text(mirror, "/_/asset/%3Cscript%3Ealert(1)%3C%2Fscript%3E/x").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("<script>alert"), "{body}");
}

// ---- 7. faults ----

#[tokio::test]
async fn an_upstream_that_resets_after_headers_or_mid_body_never_looks_complete() {
    let (up, _) = raw_upstream(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 100000\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        write_all(&mut socket, "<html><body>".repeat(100).as_bytes()).await;
        let _ = socket.set_zero_linger();
        drop(socket); // RST
    })
    .await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/reset").await;
    assert!(r.status() == StatusCode::BAD_GATEWAY || r.bytes().await.is_err());
    let (up, _) = raw_upstream(|mut socket| async move {
        write_all(
            &mut socket,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n",
        )
        .await;
        let _ = socket.set_zero_linger();
    })
    .await;
    let second = common::mirror(&config(up, "")).await;
    assert_eq!(
        fetch(second, "/reset").await.status(),
        StatusCode::BAD_GATEWAY
    );
    still_serves(second).await;
}

#[tokio::test]
async fn headers_sent_one_byte_a_time_hit_the_header_timeout() {
    let (up, _) = raw_upstream(|mut socket| async move {
        for b in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" {
            if socket.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let toml = config(up, "").replace("header_timeout = \"2s\"", "header_timeout = \"1s\"");
    let mirror = mirror(&toml).await;
    assert_eq!(
        fetch(mirror, "/slow").await.status(),
        StatusCode::GATEWAY_TIMEOUT
    );
}

#[tokio::test]
async fn an_endless_redirect_chain_costs_one_upstream_request_per_reader_request() {
    let router = Router::new().fallback(|req: Request| async move {
        let n: u64 = req
            .uri()
            .path()
            .trim_start_matches("/r/")
            .parse()
            .unwrap_or(0);
        (
            StatusCode::FOUND,
            [(header::LOCATION, format!("https://www.u.test/r/{}", n + 1))],
        )
            .into_response()
    });
    let (up, hits) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/r/1").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()[header::LOCATION], "/r/2");
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn a_thousand_readers_while_upstream_is_down_get_the_cache_or_a_quick_error() {
    let down = Arc::new(AtomicBool::new(false));
    let flag = down.clone();
    let (up, _) = raw_upstream(move |mut socket| {
        let down = flag.clone();
        async move {
            if down.load(Ordering::SeqCst) {
                return; // close without answering
            }
            let body = "<html><body><p>kept page</p></body></html>";
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: max-age=1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            write_all(&mut socket, head.as_bytes()).await;
            write_all(&mut socket, body.as_bytes()).await;
        }
    })
    .await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nstale_while_revalidate = \"0\"\n[upstream]",
        1,
    );
    let (mirror, clock) = mirror_with_clock(&toml).await;
    assert_eq!(fetch(mirror, "/kept").await.status(), StatusCode::OK);
    down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(2));
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            tokio::spawn(async move {
                let path = if i % 2 == 0 {
                    "/kept".to_owned()
                } else {
                    format!("/gone/{i}")
                };
                let r = fetch(mirror, &path).await;
                (i % 2 == 0, r.status())
            })
        })
        .collect();
    let all = tokio::time::timeout(Duration::from_secs(60), async {
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    })
    .await
    .expect("1000 readers are answered");
    for (cached, status) in all {
        if cached {
            assert_eq!(
                status,
                StatusCode::OK,
                "the stored page is served while upstream is down"
            );
        } else {
            assert_eq!(status, StatusCode::BAD_GATEWAY);
        }
    }
    still_serves(mirror).await;
}

// ---- upstream connections and body time ----

fn with_upstream(toml: String, lines: &str) -> String {
    toml.replacen("[upstream]\n", &format!("[upstream]\n{lines}\n"), 1)
}

#[tokio::test]
async fn upstream_connections_per_host_are_capped_and_the_excess_is_refused_after_a_wait() {
    let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (o, m) = (open.clone(), most.clone());
    let (up, connections) = raw_upstream(move |mut socket| {
        let (o, m) = (o.clone(), m.clone());
        async move {
            let now = o.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            // A slow upstream: the head after a second.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let body = "<p>slow</p>";
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            write_all(&mut socket, head.as_bytes()).await;
            o.fetch_sub(1, Ordering::SeqCst);
        }
    })
    .await;
    let toml = with_upstream(
        config(up, ""),
        "max_connections_per_host = 4\nconnection_wait = \"200ms\"",
    )
    .replace("header_timeout = \"2s\"", "header_timeout = \"5s\"");
    let mirror = mirror(&toml).await;
    let requests = (0..12).map(|i| async move {
        let r = fetch(mirror, &format!("/slow/{i}.htm")).await;
        (r.status(), r.headers().get(header::RETRY_AFTER).is_some())
    });
    let answers = futures_util::future::join_all(requests).await;
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(ok, 4, "{answers:?}");
    assert_eq!(busy.len(), 8, "{answers:?}");
    assert!(
        busy.iter().all(|(_, retry)| *retry),
        "503 says when to retry"
    );
    assert!(most.load(Ordering::SeqCst) <= 4, "at most 4 at once");
    assert_eq!(connections.get(), 4);
}

#[tokio::test]
async fn a_body_that_drips_is_cut_off_at_the_total_body_time() {
    let (up, _) = raw_upstream(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        // One byte every 300 ms: never idle for the idle timeout (2 s).
        for _ in 0..100 {
            write_all(&mut socket, b"1\r\nx\r\n").await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        write_all(&mut socket, b"0\r\n\r\n").await;
    })
    .await;
    let toml = with_upstream(config(up, ""), "body_timeout = \"2s\"");
    let mirror = mirror(&toml).await;
    let started = std::time::Instant::now();
    let r = fetch(mirror, "/drip.bin").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.bytes().await;
    assert!(
        body.is_err(),
        "the body ends in an error, not as if complete"
    );
    // 30 s of dripping were cut at the body time (with a wide margin).
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_long_steady_body_is_not_cut_by_the_body_time() {
    let (up, _) = raw_upstream(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        let chunk = vec![b'v'; 64 * 1024];
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(&chunk);
        framed.extend_from_slice(b"\r\n");
        // 640 KiB/s for 3 s: three times the body time spent waiting.
        for _ in 0..30 {
            write_all(&mut socket, &framed).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        write_all(&mut socket, b"0\r\n\r\n").await;
    })
    .await;
    let toml = with_upstream(config(up, ""), "body_timeout = \"1s\"");
    let mirror = mirror(&toml).await;
    let r = fetch(mirror, "/video.bin").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.bytes().await.expect("the whole body");
    assert_eq!(body.len(), 30 * 64 * 1024);
}
