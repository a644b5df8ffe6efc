//! `[upstream] proxy`: upstream fetches through a SOCKS5 proxy (names
//! resolved by the proxy, or addresses resolved by the mirror) and an HTTP
//! CONNECT proxy, each written here and listening on loopback; TLS to an
//! HTTPS upstream inside the tunnel, which still checks the site's name; a
//! proxy that is down is a 502.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PAGE: &str = "<html><body><p>through the proxy</p>\
    <a href=\"http://news.proxied.test/next.html\">next</a></body></html>";

fn page_router() -> Router {
    Router::new().route(
        "/story.html",
        get(|| async {
            (
                [("content-type", "text/html; charset=utf-8")],
                PAGE.to_owned(),
            )
        }),
    )
}

/// What a proxy was asked to connect to, as it was asked.
type Asked = Arc<Mutex<Vec<String>>>;

/// Listens on loopback and runs `serve` for each connection with the log
/// of what the proxy was asked.
async fn proxy_server<F, Fut>(serve: F) -> (SocketAddr, Asked)
where
    F: Fn(TcpStream, Asked) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let asked: Asked = Arc::default();
    let log = asked.clone();
    tokio::spawn(async move {
        while let Ok((c, _)) = listener.accept().await {
            tokio::spawn(serve(c, log.clone()));
        }
    });
    (addr, asked)
}

/// A SOCKS5 proxy (no authentication, CONNECT only) that resolves the name
/// `news.proxied.test` to `upstream` itself, as Tor would resolve a name.
async fn socks5_proxy(upstream: SocketAddr) -> (SocketAddr, Asked) {
    proxy_server(move |mut c: TcpStream, log: Asked| async move {
        let mut hello = [0u8; 2];
        c.read_exact(&mut hello).await.ok()?;
        let mut methods = vec![0u8; usize::from(hello[1])];
        c.read_exact(&mut methods).await.ok()?;
        assert_eq!(hello[0], 5);
        assert!(methods.contains(&0));
        c.write_all(&[5, 0]).await.ok()?;
        let mut head = [0u8; 4];
        c.read_exact(&mut head).await.ok()?;
        assert_eq!(&head[..3], &[5, 1, 0], "a CONNECT request");
        let target = match head[3] {
            1 => {
                let mut a = [0u8; 6];
                c.read_exact(&mut a).await.ok()?;
                let ip = std::net::Ipv4Addr::new(a[0], a[1], a[2], a[3]);
                format!("ip {ip}:{}", u16::from_be_bytes([a[4], a[5]]))
            }
            3 => {
                let mut len = [0u8; 1];
                c.read_exact(&mut len).await.ok()?;
                let mut name = vec![0u8; usize::from(len[0]) + 2];
                c.read_exact(&mut name).await.ok()?;
                let port = u16::from_be_bytes([name[name.len() - 2], name[name.len() - 1]]);
                name.truncate(name.len() - 2);
                format!("name {}:{port}", String::from_utf8_lossy(&name))
            }
            other => panic!("address type {other}"),
        };
        log.lock().unwrap().push(target.clone());
        let dial: SocketAddr = if target.starts_with("name news.proxied.test:") {
            upstream
        } else if let Some(ip) = target.strip_prefix("ip ") {
            ip.parse().ok()?
        } else {
            // A name this proxy does not know: host unreachable.
            c.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]).await.ok()?;
            return None;
        };
        let mut up = TcpStream::connect(dial).await.ok()?;
        c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await.ok()?;
        tokio::io::copy_bidirectional(&mut c, &mut up).await.ok()?;
        Some(())
    })
    .await
}

/// An HTTP CONNECT proxy that tunnels to whatever address it is asked for.
async fn connect_proxy() -> (SocketAddr, Asked) {
    proxy_server(|mut c: TcpStream, log: Asked| async move {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if c.read(&mut byte).await.ok()? == 0 {
                return None;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let line = head.lines().next().unwrap_or_default().to_owned();
        log.lock().unwrap().push(line.clone());
        let target = line.split_whitespace().nth(1)?.to_owned();
        let mut up = TcpStream::connect(target).await.ok()?;
        c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .ok()?;
        tokio::io::copy_bidirectional(&mut c, &mut up).await.ok()?;
        Some(())
    })
    .await
}

/// A site whose upstream name only the SOCKS proxy can resolve.
fn remote_name_config(proxy: SocketAddr, upstream_port: u16) -> String {
    format!(
        r#"
[server]
signing_key = "test-signing-key-0123456789"
[upstream]
connect_timeout = "2s"
header_timeout = "2s"
proxy = "socks5h://{proxy}"
[[site]]
name = "p"
upstream = "http://news.proxied.test:{upstream_port}"
mount = "/"
"#
    )
}

#[tokio::test]
async fn socks5h_hands_the_name_to_the_proxy_which_resolves_it() {
    let (up, hits) = upstream(page_router()).await;
    let (proxy, asked) = socks5_proxy(up).await;
    let mirror = mirror(&remote_name_config(proxy, up.port())).await;
    let (status, _, body) = get_text(mirror, "/story.html").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("through the proxy"), "{body}");
    assert!(
        body.contains("href=\"/next.html\""),
        "rewritten as usual: {body}"
    );
    assert_eq!(hits.get(), 1);
    assert_eq!(
        *asked.lock().unwrap(),
        [format!("name news.proxied.test:{}", up.port())],
        "the name, unresolved, went to the proxy"
    );
}

#[tokio::test]
async fn socks5_and_http_connect_carry_the_fetch_to_the_address_resolved_here() {
    let (up, hits) = upstream(page_router()).await;
    let (socks, socks_asked) = socks5_proxy(up).await;
    let (http, http_asked) = connect_proxy().await;
    for (proxy, asked, expect) in [
        (format!("socks5://{socks}"), socks_asked, format!("ip {up}")),
        (
            format!("http://{http}"),
            http_asked,
            format!("CONNECT {up} HTTP/1.1"),
        ),
    ] {
        let toml =
            config(up, "").replacen("[upstream]", &format!("[upstream]\nproxy = \"{proxy}\""), 1);
        let mirror = mirror(&toml).await;
        let (status, _, body) = get_text(mirror, "/story.html").await;
        assert_eq!(status, 200, "{proxy}: {body}");
        assert!(body.contains("through the proxy"), "{proxy}: {body}");
        assert_eq!(*asked.lock().unwrap(), [expect], "{proxy}");
    }
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn a_proxy_that_is_down_or_refuses_is_a_502() {
    let (up, hits) = upstream(page_router()).await;
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let down = closed.local_addr().expect("addr");
    drop(closed);
    let mirror = mirror(&remote_name_config(down, up.port())).await;
    let r = fetch(mirror, "/story.html").await;
    assert_eq!(r.status(), 502);
    // A proxy that cannot reach the name it is given.
    let (proxy, _) = socks5_proxy(up).await;
    let toml =
        remote_name_config(proxy, up.port()).replace("news.proxied.test", "unknown.proxied.test");
    let mirror = common::mirror(&toml).await;
    let r = fetch(mirror, "/story.html").await;
    assert_eq!(r.status(), 502);
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn a_proxy_url_the_server_cannot_speak_is_a_config_error() {
    for bad in [
        "https://127.0.0.1:3128",
        "socks4://127.0.0.1:1080",
        "http://127.0.0.1:3128/x",
    ] {
        let toml = remote_name_config("127.0.0.1:9".parse().unwrap(), 80)
            .replace("socks5h://127.0.0.1:9", bad);
        let err = newsmirror::config::Config::parse(&toml, "t.toml").expect_err(bad);
        assert!(err.to_string().contains("upstream.proxy"), "{bad}: {err}");
    }
}

#[tokio::test]
async fn a_site_with_a_proxy_of_its_own_uses_it_over_the_upstream_one() {
    let (up, hits) = upstream(page_router()).await;
    let (proxy, asked) = socks5_proxy(up).await;
    // `[upstream] proxy` is down; the site's own one is not.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let down = closed.local_addr().expect("addr");
    drop(closed);
    let toml = format!(
        "{}proxy = \"socks5h://{proxy}\"\n",
        remote_name_config(down, up.port())
    );
    let mirror = mirror(&toml).await;
    let (status, _, body) = get_text(mirror, "/story.html").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("through the proxy"), "{body}");
    assert_eq!(asked.lock().unwrap().len(), 1);
    assert_eq!(hits.get(), 1);
    let bad = format!(
        "{}proxy = \"ftp://{proxy}\"\n",
        remote_name_config(down, up.port())
    );
    let err = newsmirror::config::Config::parse(&bad, "t.toml").expect_err("ftp proxy");
    assert!(err.to_string().contains("site[0].proxy"), "{err}");
}

/// An HTTPS upstream (newsmirror's own TLS listener serving the test
/// page) with a certificate for `name`; returns its address and the
/// certificate.
async fn https_upstream(name: &str) -> (SocketAddr, rustls::pki_types::CertificateDer<'static>) {
    let made = rcgen::generate_simple_self_signed(vec![name.to_owned()]).expect("certificate");
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = newsmirror::config::TlsConfig {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&paths.cert, made.cert.pem()).expect("write cert");
    std::fs::write(&paths.key, made.signing_key.serialize_pem()).expect("write key");
    let tls = newsmirror::tls::Tls::load(&paths).expect("certificate loads");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options =
        newsmirror::server::ServeOptions::from(&newsmirror::config::ServerConfig::default());
    tokio::spawn(newsmirror::server::serve(
        listener,
        page_router(),
        newsmirror::server::ServeOptions {
            tls: Some(tls),
            ..options
        },
        std::future::pending(),
    ));
    (addr, made.cert.der().clone())
}

/// A mirror of `https://www.u.test` (pinned to `upstream`) whose fetches go
/// through `proxy`, trusting only `cert`.
async fn mirror_trusting(
    upstream: SocketAddr,
    proxy: SocketAddr,
    cert: rustls::pki_types::CertificateDer<'static>,
) -> SocketAddr {
    let toml = format!(
        r#"
[server]
signing_key = "test-signing-key-0123456789"
[upstream]
connect_timeout = "2s"
header_timeout = "2s"
proxy = "http://{proxy}"
[upstream.origins]
"www.u.test" = "https://{upstream}"
[[site]]
name = "u"
upstream = "https://www.u.test"
mount = "/"
"#
    );
    let config = newsmirror::config::Config::parse(&toml, "t.toml").expect("config");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("root");
    let client = newsmirror::upstream::Upstream::with_roots(&config.upstream, roots);
    let app = newsmirror::app::App::with_upstream(config, client).expect("app");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = newsmirror::server::ServeOptions::from(&app.config.server);
    tokio::spawn(newsmirror::server::serve(
        listener,
        newsmirror::router::public(app),
        options,
        std::future::pending(),
    ));
    addr
}

#[tokio::test]
async fn tls_runs_inside_the_tunnel_and_still_checks_the_sites_name() {
    let (proxy, asked) = connect_proxy().await;
    let (good, cert) = https_upstream("www.u.test").await;
    let mirror = mirror_trusting(good, proxy, cert).await;
    let (status, _, body) = get_text(mirror, "/story.html").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("through the proxy"), "{body}");
    assert_eq!(*asked.lock().unwrap(), [format!("CONNECT {good} HTTP/1.1")]);
    // A certificate for another name, through the same kind of tunnel: refused.
    let (proxy, asked) = connect_proxy().await;
    let (wrong, cert) = https_upstream("other.test").await;
    let mirror = mirror_trusting(wrong, proxy, cert).await;
    let r = fetch(mirror, "/story.html").await;
    assert_eq!(r.status(), 502);
    assert_eq!(
        asked.lock().unwrap().len(),
        1,
        "the tunnel was made; TLS refused the name"
    );
}
