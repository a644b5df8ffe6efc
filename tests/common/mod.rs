//! Test harness: real servers on 127.0.0.1:0 and a real HTTP client.
//!
//! An upstream is an axum router (or a raw TCP script for misbehaving
//! servers) made by the test; the mirror is the real server over real TCP.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use newsmirror::app::App;
use newsmirror::config::Config;
use newsmirror::router;
use newsmirror::server::{self, ServeOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Counts the requests an upstream received.
#[derive(Clone, Default)]
pub struct Hits(Arc<AtomicUsize>);

impl Hits {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Serves `router` on a loopback port; returns its address and a request counter.
pub async fn upstream(router: Router) -> (SocketAddr, Hits) {
    let hits = Hits::default();
    let counter = hits.clone();
    let router = router.layer(middleware::from_fn(move |req: Request, next: Next| {
        let counter = counter.clone();
        async move {
            counter.0.fetch_add(1, Ordering::SeqCst);
            let r: Response = next.run(req).await;
            r
        }
    }));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("upstream address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, hits)
}

/// A raw TCP upstream: for every connection, `script` gets the socket
/// after the request head has been read. Counts connections.
pub async fn raw_upstream<F, Fut>(script: F) -> (SocketAddr, Hits)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let hits = Hits::default();
    let counter = hits.clone();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind raw upstream");
    let addr = listener.local_addr().expect("raw upstream address");
    let script = Arc::new(script);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.0.fetch_add(1, Ordering::SeqCst);
            let script = script.clone();
            tokio::spawn(async move {
                read_request_head(&mut socket).await;
                script(socket).await;
            });
        }
    });
    (addr, hits)
}

async fn read_request_head(socket: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
}

/// Writes all of `bytes`, ignoring a peer that went away.
pub async fn write_all(socket: &mut TcpStream, bytes: &[u8]) {
    let _ = socket.write_all(bytes).await;
    let _ = socket.flush().await;
}

/// A mirror configuration for one site, upstream `https://www.u.test`
/// (fetched from `upstream`), asset host `img.u.test` and the image host
/// `cdn.other.test` (both also on `upstream`), plus `extra` lines appended
/// to the `[[site]]` table.
pub fn config(upstream: SocketAddr, extra: &str) -> String {
    format!(
        r#"
[server]
signing_key = "test-signing-key-0123456789"
[upstream]
connect_timeout = "2s"
header_timeout = "2s"
idle_timeout = "2s"
max_body_bytes = "4MiB"
[upstream.origins]
"www.u.test" = "http://{upstream}"
"u.test" = "http://{upstream}"
"img.u.test" = "http://{upstream}"
"cdn.other.test" = "http://{upstream}"
[[site]]
name = "u"
upstream = "https://www.u.test"
aliases = ["u.test"]
mount = "/"
asset_hosts = ["img.u.test"]
proxy_all_images = true
nav = [ {{ label = "Home", href = "/" }}, {{ label = "World & <News>", href = "/world/" }} ]
footer = "原文链接：{{original_url}}"
{extra}
"#
    )
}

/// The same configuration with the cache turned off.
pub fn no_cache(toml: String) -> String {
    toml.replacen("[upstream]", "[cache]\nmax_bytes = \"0\"\n[upstream]", 1)
}

/// Starts a mirror with this configuration text.
pub async fn mirror(toml: &str) -> SocketAddr {
    mirror_of(Config::parse(toml, "test.toml").expect("test config is valid")).await
}

/// The demo site (`newsmirror::cli::demo`) and its mirror, both in this process;
/// returns the mirror's address.
pub async fn demo_mirror() -> SocketAddr {
    let site = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind demo site");
    let site_addr = site.local_addr().expect("demo site address");
    tokio::spawn(async move { axum::serve(site, newsmirror::cli::demo::site::router()).await });
    mirror_of(newsmirror::cli::demo::config(site_addr).expect("demo config is valid")).await
}

/// Starts a mirror with this configuration.
pub async fn mirror_of(config: Config) -> SocketAddr {
    let app = App::new(config).expect("app starts");
    serve_app(app).await
}

/// Starts a mirror and returns its cache's clock too, so that a test moves
/// time past a `max-age` instead of sleeping.
#[allow(dead_code)] // not every test binary moves time
pub async fn mirror_with_clock(toml: &str) -> (SocketAddr, newsmirror::cache::Clock) {
    let config = Config::parse(toml, "test.toml").expect("test config is valid");
    let app = App::new(config).expect("app starts");
    let clock = app.cache.as_ref().expect("cache is on").clock.clone();
    (serve_app(app).await, clock)
}

async fn serve_app(app: std::sync::Arc<App>) -> SocketAddr {
    let options = ServeOptions::from(&app.config.server);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind mirror");
    let addr = listener.local_addr().expect("mirror address");
    tokio::spawn(server::serve(
        listener,
        router::public(app),
        options,
        std::future::pending(),
    ));
    addr
}

/// Starts a mirror and its admin listener; returns (public, admin) addresses.
pub async fn mirror_with_admin(toml: &str) -> (SocketAddr, SocketAddr) {
    let config = Config::parse(toml, "test.toml").expect("test config is valid");
    let app = App::new(config).expect("app starts");
    let public = TcpListener::bind("127.0.0.1:0").await.expect("bind mirror");
    let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind admin");
    let addrs = (
        public.local_addr().expect("public"),
        admin.local_addr().expect("admin"),
    );
    tokio::spawn(server::run(
        app,
        public,
        Some(admin),
        std::future::pending(),
    ));
    addrs
}

/// The Prometheus text of the admin listener's `/metrics`.
pub async fn admin_metrics(admin: SocketAddr) -> String {
    client()
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics body")
}

/// A client that follows no redirects, uses no proxy and decodes nothing.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// GET `path` on the mirror.
pub async fn fetch(mirror: SocketAddr, path: &str) -> reqwest::Response {
    client()
        .get(format!("http://{mirror}{path}"))
        .send()
        .await
        .expect("mirror answers")
}

/// GET `path` and read the whole body as text.
pub async fn get_text(
    mirror: SocketAddr,
    path: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
    let r = fetch(mirror, path).await;
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.text().await.expect("body");
    (status, headers, body)
}

/// Every value of attribute `attr` in `html` (a plain scan, enough for tests).
pub fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&needle) {
        rest = &rest[at + needle.len()..];
        if let Some(end) = rest.find('"') {
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out
}

/// Sends `request` (raw bytes, for targets a URL parser would normalise)
/// and returns the status code of the answer.
pub async fn raw_status(mirror: SocketAddr, request: &str) -> u16 {
    let mut s = TcpStream::connect(mirror).await.expect("connect to mirror");
    s.write_all(request.as_bytes()).await.expect("send request");
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// `GET path` as raw bytes, exactly as written.
pub async fn raw_get_status(mirror: SocketAddr, path: &str) -> u16 {
    raw_status(
        mirror,
        &format!("GET {path} HTTP/1.1\r\nHost: mirror.test\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// A valid 2×2 PNG (red), for images a browser must decode.
#[allow(dead_code)]
pub fn tiny_png() -> &'static [u8] {
    &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd,
        0xd4, 0x9a, 0x73, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0xcf, 0xc0, 0x00, 0x44, 0x0c, 0x10, 0x0a, 0x00, 0x1f, 0xee, 0x03, 0xfd, 0x8b, 0x5f, 0x14,
        0xd4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]
}
