//! `[tls]`: HTTPS served directly with rustls, HTTP/2 and HTTP/1.1 by ALPN,
//! and certificate reload (what SIGHUP does) without dropping connections.
//! Certificates are made in the test (rcgen); the client trusts exactly the
//! one it is told to, so a handshake that succeeds proves which certificate
//! was served.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use common::*;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use newsmirror::app::App;
use newsmirror::config::{Config, TlsConfig};
use newsmirror::router;
use newsmirror::server::ServeOptions;
use newsmirror::tls::Tls;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;

struct TestCert {
    der: CertificateDer<'static>,
    cert_pem: String,
    key_pem: String,
}

fn make_cert() -> TestCert {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("rcgen makes a certificate");
    TestCert {
        der: made.cert.der().clone(),
        cert_pem: made.cert.pem(),
        key_pem: made.signing_key.serialize_pem(),
    }
}

fn write(dir: &Path, c: &TestCert) -> TlsConfig {
    let paths = TlsConfig {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&paths.cert, &c.cert_pem).unwrap();
    std::fs::write(&paths.key, &c.key_pem).unwrap();
    paths
}

/// A mirror of a small upstream, served over TLS.
async fn tls_mirror(tls: Tls) -> SocketAddr {
    let (upstream_addr, _) = upstream(Router::new().route(
        "/page.html",
        get(|| async {
            (
                [("content-type", "text/html; charset=utf-8")],
                "<html><body><p>hello over tls</p></body></html>",
            )
        }),
    ))
    .await;
    let config = Config::parse(&config(upstream_addr, ""), "test.toml").unwrap();
    let options = ServeOptions::from(&config.server);
    let app = App::new(config).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(newsmirror::server::serve(
        listener,
        router::public(app),
        ServeOptions {
            tls: Some(tls),
            ..options
        },
        std::future::pending(),
    ));
    addr
}

/// Connects trusting only `trusted`, offering `alpn`.
async fn connect(
    addr: SocketAddr,
    trusted: &CertificateDer<'static>,
    alpn: &[&[u8]],
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

fn served_cert(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

type H2 = hyper::client::conn::http2::SendRequest<Empty<Bytes>>;

async fn h2(stream: TlsStream<TcpStream>) -> H2 {
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    tokio::spawn(conn);
    sender
}

async fn h2_get(sender: &mut H2, path: &str) -> (http::StatusCode, http::HeaderMap, String) {
    let req = http::Request::get(format!("https://localhost{path}"))
        .body(Empty::new())
        .unwrap();
    let r = sender.send_request(req).await.expect("request over h2");
    assert_eq!(r.version(), http::Version::HTTP_2);
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn https_with_h2_by_alpn_and_http1_for_clients_that_ask_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let cert = make_cert();
    let tls = Tls::load(&write(dir.path(), &cert)).expect("certificate loads");
    let addr = tls_mirror(tls).await;

    let stream = connect(addr, &cert.der, &[b"h2", b"http/1.1"])
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(served_cert(&stream), cert.der);
    let mut sender = h2(stream).await;
    let (status, headers, body) = h2_get(&mut sender, "/page.html").await;
    assert_eq!(status, 200);
    assert!(body.contains("hello over tls"), "{body}");
    assert!(
        body.contains("newsmirror-nav"),
        "the page is rewritten: {body}"
    );
    assert!(headers.contains_key("x-request-id"));

    let stream = connect(addr, &cert.der, &[b"http/1.1"]).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let r = sender
        .send_request(
            http::Request::get("/_/healthz")
                .header("host", "localhost")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), http::Version::HTTP_11);

    // A client that trusts another certificate refuses the handshake.
    let other = make_cert();
    assert!(connect(addr, &other.der, &[b"h2"]).await.is_err());
}

#[tokio::test]
async fn reload_serves_the_new_certificate_and_keeps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let first = make_cert();
    let paths = write(dir.path(), &first);
    let tls = Tls::load(&paths).unwrap();
    let addr = tls_mirror(tls.clone()).await;

    let old = connect(addr, &first.der, &[b"h2"]).await.unwrap();
    assert_eq!(served_cert(&old), first.der);
    let mut old = h2(old).await;
    assert_eq!(h2_get(&mut old, "/_/healthz").await.0, 200);

    // What SIGHUP does: new files, then reload.
    let second = make_cert();
    write(dir.path(), &second);
    tls.reload().expect("the new certificate loads");
    assert_eq!(tls.certificate().as_ref(), Some(&second.der));

    let new = connect(addr, &second.der, &[b"h2"])
        .await
        .expect("new handshakes get the new certificate");
    assert_eq!(served_cert(&new), second.der);
    assert!(
        connect(addr, &first.der, &[b"h2"]).await.is_err(),
        "the old certificate is no longer served"
    );
    let mut new = h2(new).await;
    assert_eq!(h2_get(&mut new, "/page.html").await.0, 200);

    // The connection opened before the reload still works.
    let (status, _, body) = h2_get(&mut old, "/page.html").await;
    assert_eq!(status, 200);
    assert!(body.contains("hello over tls"));

    // A failed reload (a key that does not match) keeps the current certificate.
    std::fs::write(&paths.key, make_cert().key_pem).unwrap();
    let err = tls.reload().expect_err("a mismatched key is refused");
    assert!(err.to_string().contains("does not belong"), "{err}");
    std::fs::write(&paths.cert, "not a certificate").unwrap();
    assert!(tls.reload().is_err());
    assert_eq!(tls.certificate().as_ref(), Some(&second.der));
    let again = connect(addr, &second.der, &[b"h2"]).await.unwrap();
    assert_eq!(served_cert(&again), second.der);
}

#[tokio::test]
async fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let paths = TlsConfig {
        cert: dir.path().join("missing.pem"),
        key: dir.path().join("key.pem"),
    };
    let err = Tls::load(&paths).unwrap_err().to_string();
    assert!(
        err.contains("tls.cert") && err.contains("missing.pem"),
        "{err}"
    );
    std::fs::write(dir.path().join("empty.pem"), "").unwrap();
    let paths = TlsConfig {
        cert: dir.path().join("empty.pem"),
        key: dir.path().join("key.pem"),
    };
    let err = Tls::load(&paths).unwrap_err().to_string();
    assert!(err.contains("no certificate"), "{err}");
}

/// `newsmirror serve` with `[tls]` in the file, and `newsmirror healthcheck`
/// against it (https, `--insecure`: the certificate is self-signed).
#[tokio::test]
async fn serve_command_speaks_https_and_healthcheck_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let cert = make_cert();
    let paths = write(dir.path(), &cert);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (upstream_addr, _) = upstream(Router::new()).await;
    let toml = config(upstream_addr, "").replacen(
        "[server]",
        &format!(
            "[tls]\ncert = {:?}\nkey = {:?}\n[server]\nlisten = \"127.0.0.1:{port}\"",
            paths.cert, paths.key
        ),
        1,
    );
    let config_path = dir.path().join("newsmirror.toml");
    std::fs::write(&config_path, toml).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_newsmirror"))
        .args(["serve", "--config"])
        .arg(&config_path)
        .env_remove("NEWSMIRROR_LISTEN")
        .env_remove("NEWSMIRROR_ADMIN_LISTEN")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("https://127.0.0.1:{port}/_/healthz");
    let healthcheck = |extra: &'static [&'static str]| {
        let url = url.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_newsmirror"))
                .args(["healthcheck", "--url", &url])
                .args(extra)
                .output()
                .await
                .unwrap()
        }
    };
    let mut up = false;
    for _ in 0..300 {
        if healthcheck(&["--insecure"]).await.status.success() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "newsmirror serve with [tls] never became healthy");
    let stream = connect(
        SocketAddr::from(([127, 0, 0, 1], port)),
        &cert.der,
        &[b"h2"],
    )
    .await
    .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // Without --insecure the self-signed certificate is refused.
    let out = healthcheck(&[]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLS"));

    // SIGHUP: the process reloads the files; new handshakes get the new certificate.
    let second = make_cert();
    write(dir.path(), &second);
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut reloaded = false;
    for _ in 0..300 {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if let Ok(s) = connect(addr, &second.der, &[b"h2"]).await {
            assert_eq!(served_cert(&s), second.der);
            reloaded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reloaded, "SIGHUP did not reload the certificate");
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP must not stop the server"
    );
    let _ = child.start_kill();
    let _ = child.wait().await;
}
