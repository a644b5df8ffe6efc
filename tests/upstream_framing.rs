//! What reaches upstream, byte for byte: a raw TCP upstream records every
//! byte it receives on each (pooled, keep-alive) connection and answers
//! each request head at once, as nginx, Go and Node answer a GET before
//! reading a body it declares. A reader's framing, forwarding or
//! negotiation headers must not reach it unasked.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The bytes one connection received.
type ConnectionLog = Arc<Mutex<Vec<u8>>>;

/// Everything an upstream received, one log per connection.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<ConnectionLog>>>);

impl Received {
    fn text(&self) -> String {
        let conns = self.0.lock().unwrap();
        conns
            .iter()
            .map(|c| String::from_utf8_lossy(&c.lock().unwrap()).into_owned())
            .collect::<Vec<_>>()
            .join("\n=== next connection ===\n")
    }

    /// The request lines received, in order (`GET /x HTTP/1.1`).
    fn request_lines(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.ends_with(" HTTP/1.1") && !l.contains(':'))
            .map(str::to_owned)
            .collect()
    }
}

/// A keep-alive upstream that answers every request head with a small
/// page naming the path (`page for /x`), `reflect` deciding extra headers
/// of the answer, and never reads a body (what the smuggling needs).
async fn recording_upstream(cache_control: &'static str) -> (SocketAddr, Received) {
    let received = Received::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let r = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let log = Arc::new(Mutex::new(Vec::new()));
            r.0.lock().unwrap().push(log.clone());
            tokio::spawn(serve_connection(socket, log, cache_control));
        }
    });
    (addr, received)
}

async fn serve_connection(
    mut socket: TcpStream,
    log: Arc<Mutex<Vec<u8>>>,
    cache_control: &'static str,
) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = pending.drain(..end + 4).collect();
            let text = String::from_utf8_lossy(&head).into_owned();
            let path = text.split_whitespace().nth(1).unwrap_or("?").to_owned();
            let body = format!("<html><body><p>page for {path}</p></body></html>");
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: {cache_control}\r\n\
                 ETag: \"v1\"\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if socket.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                log.lock().unwrap().extend_from_slice(&buf[..n]);
                pending.extend_from_slice(&buf[..n]);
            }
        }
    }
}

/// Sends raw bytes to the mirror on one connection and returns what came back.
async fn raw(mirror: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(mirror).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut response)).await;
    String::from_utf8_lossy(&response).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn plain_site(toml: String) -> String {
    toml.replace(
        "mount = \"/\"",
        "mount = \"/\"\nrewrite = false\nmethods = [\"GET\", \"HEAD\", \"POST\"]",
    )
}

/// The attack of the review, against every route that fetches: a GET with
/// a declared body, then a request whose `Accept` carries a request line.
#[tokio::test]
async fn a_readers_content_length_on_a_get_never_reaches_upstream() {
    let (up, received) = recording_upstream("max-age=60").await;
    for toml in [
        config(up, ""),
        no_cache(config(up, "")),
        plain_site(config(up, "")),
    ] {
        let mirror = mirror(&toml).await;
        let smuggled = "GET /attacker.html HTTP/1.1\r\nHost: www.u.test\r\nX: ";
        let carrier = "GET /attacker.html HTTP/1.1";
        let first = format!(
            "GET /first.html HTTP/1.1\r\nHost: mirror.test\r\nContent-Length: {}\r\n\r\n{smuggled}",
            smuggled.len()
        );
        for path in [
            "/first.html",
            "/_/asset/img.u.test/a.jpg",
            "/_/api/article?url=/first.html",
        ] {
            let request = first.replacen("/first.html", path, 1);
            let answer = raw(mirror, request.as_bytes()).await;
            assert_eq!(status_of(&answer), 400, "{path}: {answer}");
            assert!(answer.to_ascii_lowercase().contains("connection: close"));
        }
        let chunked = "GET /first.html HTTP/1.1\r\nHost: mirror.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        assert_eq!(status_of(&raw(mirror, chunked.as_bytes()).await), 400);
        let head =
            "HEAD /first.html HTTP/1.1\r\nHost: mirror.test\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(status_of(&raw(mirror, head.as_bytes()).await), 400);
        // Content-Length: 0 says there is no body: served, and not passed on.
        let victim = format!(
            "GET /victim.html HTTP/1.1\r\nHost: mirror.test\r\nContent-Length: 0\r\n\
             Accept: {carrier}\r\nConnection: close\r\n\r\n"
        );
        let answer = raw(mirror, victim.as_bytes()).await;
        assert_eq!(status_of(&answer), 200, "{answer}");
        assert!(answer.contains("page for /victim.html"), "{answer}");
        let again = raw(mirror, victim.as_bytes()).await;
        assert!(again.contains("page for /victim.html"), "{again}");
    }
    let text = received.text();
    let lower = text.to_ascii_lowercase();
    assert!(!lower.contains("content-length"), "{text}");
    assert!(!lower.contains("transfer-encoding"), "{text}");
    // The declared body never went upstream (hyper writes header names in
    // lower case; the smuggled request's own `X: ` would show).
    assert!(!text.contains("\r\nX: "), "{text}");
    assert!(
        received
            .request_lines()
            .iter()
            .all(|l| l.starts_with("GET /victim.html")),
        "only the victim page was asked for: {:?}",
        received.request_lines()
    );
}

/// Revalidations and fills build their own requests from the reader's
/// headers: still no framing header in them.
#[tokio::test]
async fn revalidations_and_fills_carry_no_framing_headers() {
    let (up, received) = recording_upstream("max-age=0").await;
    let mirror = mirror(&config(up, "")).await;
    let get = b"GET /stale.html HTTP/1.1\r\nHost: mirror.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    for _ in 0..3 {
        assert_eq!(status_of(&raw(mirror, get).await), 200);
    }
    let text = received.text();
    assert!(
        text.contains("If-None-Match") || text.contains("if-none-match"),
        "{text}"
    );
    assert!(
        !text.to_ascii_lowercase().contains("content-length"),
        "{text}"
    );
}

/// A body the mirror does send (a POST on a site that allows it) is framed
/// by the mirror's client, from what it sends.
#[tokio::test]
async fn a_forwarded_post_body_is_framed_by_what_is_sent() {
    let (up, received) = recording_upstream("no-store").await;
    let mirror = mirror(&plain_site(config(up, ""))).await;
    let post = b"POST /form HTTP/1.1\r\nHost: mirror.test\r\nContent-Type: text/plain\r\n\
                 Content-Length: 5\r\nConnection: close\r\n\r\nhello";
    let answer = raw(mirror, post).await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    let text = received.text();
    let lower = text.to_ascii_lowercase();
    assert_eq!(lower.matches("content-length: 5").count(), 1, "{text}");
    assert!(text.ends_with("hello"), "{text}");
}

/// `rewrite = false` passes end-to-end headers on, but forwarding
/// information only from `server.trusted_proxies`: an upstream that
/// reflects `X-Forwarded-Host` would otherwise store the reader's choice.
#[tokio::test]
async fn forwarding_headers_reach_a_plain_upstream_only_from_trusted_proxies() {
    let forwarding = "X-Forwarded-Host: evil.test\r\nX-Host: evil.test\r\nForwarded: host=evil.test\r\n\
                      X-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\nX-Forwarded-For: 10.1.2.3\r\n\
                      X-Real-IP: 10.1.2.3\r\nX-HTTP-Method-Override: DELETE\r\n";
    let request = format!(
        "GET /reflect.html HTTP/1.1\r\nHost: mirror.test\r\n{forwarding}Connection: close\r\n\r\n"
    );
    let (up, received) = recording_upstream("no-store").await;
    let untrusted = mirror(&plain_site(config(up, ""))).await;
    assert_eq!(status_of(&raw(untrusted, request.as_bytes()).await), 200);
    let text = received.text().to_ascii_lowercase();
    for name in [
        "x-forwarded-host",
        "x-host",
        "forwarded:",
        "x-original-url",
        "x-rewrite-url",
        "x-forwarded-for",
        "x-real-ip",
        "x-http-method-override",
    ] {
        assert!(!text.contains(name), "{name} reached upstream: {text}");
    }
    let (up, received) = recording_upstream("no-store").await;
    let toml = plain_site(config(up, "")).replacen(
        "[server]\n",
        "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
        1,
    );
    let trusted = mirror(&toml).await;
    assert_eq!(status_of(&raw(trusted, request.as_bytes()).await), 200);
    assert!(
        received
            .text()
            .to_ascii_lowercase()
            .contains("x-forwarded-host: evil.test")
    );
}

/// A plain upstream gets the reader's end-to-end headers, but the request
/// id is the mirror's (the one on its answer), not one the reader chose.
#[tokio::test]
async fn a_plain_upstream_sees_the_mirrors_request_id_not_the_readers() {
    let (up, received) = recording_upstream("no-store").await;
    let mirror = mirror(&plain_site(config(up, ""))).await;
    let answer = raw(
        mirror,
        b"GET /reflect.html HTTP/1.1\r\nHost: mirror.test\r\nX-Request-Id: reader-chosen\r\n\
          Connection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&answer), 200);
    let ours = answer
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-request-id: ")
                .map(str::to_owned)
        })
        .expect("the answer has an id");
    let text = received.text().to_ascii_lowercase();
    assert!(!text.contains("reader-chosen"), "{text}");
    assert!(text.contains(&format!("x-request-id: {ours}")), "{text}");
}

/// Upstream may negotiate on `Accept` and `Accept-Language` without
/// saying `Vary`: the mirror sends its own `Accept`, and the reader's first
/// language tag only, which is in the key.
#[tokio::test]
async fn accept_is_the_mirrors_own_and_the_language_is_in_the_key() {
    let (up, received) = recording_upstream("max-age=60").await;
    let mirror = mirror(&config(up, "")).await;
    let ask = |lang: &str| {
        format!(
            "GET /news.html HTTP/1.1\r\nHost: mirror.test\r\nAccept: evil/type\r\n\
             Accept-Language: {lang}\r\nConnection: close\r\n\r\n"
        )
    };
    let fr = raw(mirror, ask("fr-FR,fr;q=0.9").as_bytes()).await;
    assert!(fr.to_ascii_lowercase().contains("x-cache: miss"), "{fr}");
    let en = raw(mirror, ask("en-GB,en;q=0.5").as_bytes()).await;
    assert!(
        en.to_ascii_lowercase().contains("x-cache: miss"),
        "another language is another entry: {en}"
    );
    let fr_again = raw(mirror, ask("fr-FR").as_bytes()).await;
    assert!(
        fr_again.to_ascii_lowercase().contains("x-cache: hit"),
        "{fr_again}"
    );
    let text = received.text();
    assert!(!text.contains("evil/type"), "{text}");
    assert!(text.contains("accept-language: fr-FR\r\n"), "{text}");
    assert!(text.contains("accept-language: en-GB\r\n"), "{text}");
    assert!(!text.contains("fr;q=0.9"), "{text}");
    assert_eq!(received.request_lines().len(), 2);
}

/// RFC 9112 §3.2: two Host headers, or a Host that is not a host and port,
/// are a bad request; an authority-form target is a forward-proxy request.
#[tokio::test]
async fn ambiguous_hosts_and_authority_form_targets_are_refused() {
    let (up, received) = recording_upstream("max-age=60").await;
    let mirror = mirror(&config(up, "")).await;
    for request in [
        "GET /a.html HTTP/1.1\r\nHost: mirror.test\r\nHost: www.u.test\r\nConnection: close\r\n\r\n",
        "GET /a.html HTTP/1.1\r\nHost: user@mirror.test\r\nConnection: close\r\n\r\n",
        "GET /a.html HTTP/1.1\r\nHost: mirror.test/x\r\nConnection: close\r\n\r\n",
        "GET www.u.test:443 HTTP/1.1\r\nHost: www.u.test:443\r\nConnection: close\r\n\r\n",
        "OPTIONS www.u.test:80 HTTP/1.1\r\nHost: www.u.test\r\nConnection: close\r\n\r\n",
    ] {
        let answer = raw(mirror, request.as_bytes()).await;
        let status = status_of(&answer);
        assert!(status == 400, "{request:?}: {answer}");
    }
    assert_eq!(received.text(), "", "nothing reached upstream");
    let ok = raw(
        mirror,
        b"GET /a.html HTTP/1.1\r\nHost: mirror.test:8080\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&ok), StatusCode::OK.as_u16(), "{ok}");
}

/// An upstream connection's read buffer is capped (64 KiB, so that fast
/// bodies do not grow it to hyper's default 400 KiB per connection: see
/// `bench/fill_memory.sh`); a response head of 40 KB still fits in it.
#[tokio::test]
async fn an_upstream_response_head_of_forty_kilobytes_is_still_read() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let pad: String = (0..160)
                    .map(|i| format!("X-Pad-{i}: {}\r\n", "a".repeat(240)))
                    .collect();
                let body = "<html><body><p>a page with a big head</p></body></html>";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{pad}\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    let mirror = mirror(&config(up, "")).await;
    let answer = raw(
        mirror,
        b"GET /big.html HTTP/1.1\r\nHost: mirror.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        status_of(&answer),
        200,
        "{}",
        answer.chars().take(400).collect::<String>()
    );
    assert!(answer.contains("a page with a big head"), "{answer}");
}
