//! The mirror behind a real shared cache: Debian's `varnishd` on loopback
//! with `deploy/varnish/newsmirror.vcl` (only the backend port changed),
//! standing in for a CDN. Shows that Varnish caches mirrored pages for the
//! mirror's `s-maxage`, passes `private`/`no-store` answers, keeps the
//! `Accept-Encoding` variants apart, and that a purge at the mirror followed
//! by a `BAN` on the surrogate key drops both copies.
//!
//! `varnishd` must be installed (`.ci/run` installs Debian's `varnish`);
//! without it the test fails and says so.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::*;
use std::io::Read;

const PURGE_TOKEN: &str = "varnish-test-purge-token";

fn varnishd() -> PathBuf {
    for p in ["/usr/sbin/varnishd", "/usr/bin/varnishd"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "varnishd is not installed: install Debian's `varnish` package \
         (`apt-get install varnish`; .ci/run does it) to run tests/varnish.rs"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running varnishd; stopped (SIGTERM, then SIGKILL) on drop.
struct Varnish {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Varnish {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts varnishd with the deployment VCL pointed at `backend`, plus a
/// test-only `vcl_deliver` (VCL appends subroutines of the same name) that
/// shows the object's remaining TTL.
async fn start_varnish(backend: SocketAddr) -> Varnish {
    let binary = varnishd();
    let vcl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/varnish/newsmirror.vcl"
    ))
    .unwrap();
    assert!(vcl.contains(".port = \"8080\";"));
    let vcl = vcl.replacen(
        ".port = \"8080\";",
        &format!(".port = \"{}\";", backend.port()),
        1,
    ) + "\nsub vcl_deliver {\n    set resp.http.X-Test-TTL = obj.ttl;\n}\n";
    let dir = tempfile::tempdir().unwrap();
    // varnishd drops privileges for its worker: it must read its own dir.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let vcl_path = dir.path().join("newsmirror.vcl");
    std::fs::write(&vcl_path, vcl).unwrap();
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut child = std::process::Command::new(binary)
        .arg("-F")
        .arg("-n")
        .arg(dir.path().join("varnish"))
        .arg("-a")
        .arg(addr.to_string())
        .arg("-f")
        .arg(&vcl_path)
        .args(["-s", "malloc,64m", "-T", "none"])
        .args(["-p", "http_gzip_support=off"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("varnishd starts");
    let c = client();
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            let mut out = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut out);
            }
            if let Some(mut o) = child.stdout.take() {
                let _ = o.read_to_string(&mut out);
            }
            panic!("varnishd exited ({status}):\n{out}");
        }
        if let Ok(r) = c.get(format!("http://{addr}/_/healthz")).send().await
            && r.status() == 200
        {
            // Its output is not read from here on; do not let a full pipe block it.
            drop(child.stdout.take());
            drop(child.stderr.take());
            return Varnish {
                child,
                addr,
                _dir: dir,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    panic!("varnishd did not answer on {addr}");
}

#[derive(Clone, Default)]
struct Counts {
    page: Arc<AtomicUsize>,
    other: Arc<AtomicUsize>,
    private: Arc<AtomicUsize>,
    no_store: Arc<AtomicUsize>,
}

fn html(title: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>{}</body></html>",
        "<p>A paragraph long enough to be worth compressing, repeated.</p>".repeat(40)
    )
}

fn origin(counts: Counts) -> Router {
    let page = |n: Arc<AtomicUsize>, title: &'static str, cc: &'static str| {
        get(move || {
            let n = n.clone();
            async move {
                n.fetch_add(1, Ordering::SeqCst);
                (
                    [
                        ("content-type", "text/html; charset=utf-8"),
                        ("cache-control", cc),
                    ],
                    html(title),
                )
            }
        })
    };
    Router::new()
        .route(
            "/page.html",
            page(counts.page.clone(), "Page", "public, max-age=3600"),
        )
        .route(
            "/other.html",
            page(counts.other.clone(), "Other", "public, max-age=3600"),
        )
        .route(
            "/private.html",
            page(counts.private.clone(), "Private", "private, max-age=600"),
        )
        .route(
            "/nostore.html",
            page(counts.no_store.clone(), "No store", "no-store"),
        )
}

struct Answer {
    status: u16,
    varnish: String,
    mirror: String,
    encoding: String,
    cache_control: String,
    ttl: Option<f64>,
    body: Vec<u8>,
}

async fn get_via(c: &reqwest::Client, base: SocketAddr, path: &str, ae: Option<&str>) -> Answer {
    let mut req = c.get(format!("http://{base}{path}"));
    if let Some(ae) = ae {
        req = req.header("accept-encoding", ae);
    }
    let r = req.send().await.unwrap();
    let h = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    Answer {
        status: r.status().as_u16(),
        varnish: h("x-varnish-cache"),
        mirror: h("x-cache"),
        encoding: h("content-encoding"),
        cache_control: h("cache-control"),
        ttl: h("x-test-ttl").parse().ok(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

fn decode(a: &Answer) -> String {
    let bytes = match a.encoding.as_str() {
        "" => a.body.clone(),
        "gzip" => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&a.body[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        }
        "br" => {
            let mut out = Vec::new();
            brotli::Decompressor::new(&a.body[..], 4096)
                .read_to_end(&mut out)
                .unwrap();
            out
        }
        other => panic!("unexpected Content-Encoding {other}"),
    };
    String::from_utf8(bytes).unwrap()
}

/// `BAN /` with this `Surrogate-Key`, sent to Varnish at `v` by `client`.
async fn ban(client: &reqwest::Client, v: SocketAddr, key: &str) -> reqwest::Response {
    client
        .request(
            reqwest::Method::from_bytes(b"BAN").expect("method"),
            format!("http://{v}/"),
        )
        .header("surrogate-key", key)
        .send()
        .await
        .expect("BAN answer")
}

/// `newsmirror_requests_total` for pages, from the admin listener.
async fn mirror_page_requests(admin: SocketAddr) -> u64 {
    let text = admin_metrics(admin).await;
    text.lines()
        .filter(|l| l.starts_with("newsmirror_requests_total{") && l.contains("route=\"page\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn varnish_in_front_caches_by_s_maxage_passes_private_keeps_variants_and_purges_by_key() {
    let counts = Counts::default();
    let (up, _) = upstream(origin(counts.clone())).await;
    let toml = format!(
        "{}\n[cdn]\nmax_age = \"1m\"\ns_maxage = \"7m\"\npurge_token = \"{PURGE_TOKEN}\"\n",
        config(up, "")
    );
    let (mirror, admin) = mirror_with_admin(&toml).await;
    let varnish = start_varnish(mirror).await;
    let v = varnish.addr;
    let c = client();
    let baseline = mirror_page_requests(admin).await;

    // 1. Cached for the mirror's s-maxage (7m), not max-age (1m) nor upstream's 1h.
    let first = get_via(&c, v, "/page.html", None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.varnish, "MISS");
    assert_eq!(first.mirror, "MISS");
    assert!(
        first.cache_control.contains("s-maxage=420") && first.cache_control.contains("max-age=60"),
        "{}",
        first.cache_control
    );
    let second = get_via(&c, v, "/page.html", None).await;
    assert_eq!(second.varnish, "HIT");
    let ttl = second.ttl.expect("X-Test-TTL");
    assert!(
        ttl > 360.0 && ttl <= 420.0,
        "Varnish TTL {ttl}, want s-maxage 420"
    );
    assert_eq!(decode(&second), decode(&first));
    assert_eq!(counts.page.load(Ordering::SeqCst), 1);
    assert_eq!(
        mirror_page_requests(admin).await - baseline,
        1,
        "the second request never reached the mirror"
    );
    let other = get_via(&c, v, "/other.html", None).await;
    assert_eq!(other.varnish, "MISS");
    assert_eq!(get_via(&c, v, "/other.html", None).await.varnish, "HIT");

    // 2. private and no-store pass: every request reaches the origin.
    for (path, count) in [
        ("/private.html", &counts.private),
        ("/nostore.html", &counts.no_store),
    ] {
        for round in 1..=2 {
            let a = get_via(&c, v, path, None).await;
            assert_eq!(a.status, 200);
            assert_ne!(a.varnish, "HIT", "{path} served from Varnish");
            assert!(
                !a.cache_control.contains("public"),
                "{path}: {}",
                a.cache_control
            );
            assert_eq!(count.load(Ordering::SeqCst), round, "{path}");
        }
    }

    // 3. Accept-Encoding variants stay apart. The mirror makes its br and
    //    gzip variants after the fill; wait until it has them.
    for enc in ["br", "gzip"] {
        let mut made = false;
        for _ in 0..200 {
            if get_via(&c, mirror, "/page.html", Some(enc)).await.encoding == enc {
                made = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(made, "the mirror never made its {enc} variant");
    }
    let plain = decode(&first);
    for (ae, want) in [
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip;q=1, br;q=0", "gzip"),
        ("identity", ""),
    ] {
        let a = get_via(&c, v, "/page.html", Some(ae)).await;
        assert_eq!(a.encoding, want, "Accept-Encoding: {ae}");
        assert_eq!(decode(&a), plain, "Accept-Encoding: {ae}");
        let again = get_via(&c, v, "/page.html", Some(ae)).await;
        assert_eq!(again.varnish, "HIT", "Accept-Encoding: {ae}");
        assert_eq!(again.encoding, want, "Accept-Encoding: {ae}");
    }
    assert_eq!(counts.page.load(Ordering::SeqCst), 1);

    // 4. Purge: the mirror first (admin API), then Varnish by surrogate key.
    let purged: serde_json::Value = c
        .post(format!("http://{admin}/purge"))
        .bearer_auth(PURGE_TOKEN)
        .json(&serde_json::json!({"keys": ["u:/page.html"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(purged["by_key"].as_u64().unwrap() >= 1, "{purged}");
    // Until Varnish is told, it still answers its copy.
    assert_eq!(get_via(&c, v, "/page.html", None).await.varnish, "HIT");

    // Only localhost may ban: 127.0.0.2 is another loopback address.
    let outsider = reqwest::Client::builder()
        .no_proxy()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let refused = ban(&outsider, v, "u:/page.html").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(get_via(&c, v, "/page.html", None).await.varnish, "HIT");

    // The key is matched whole and literally: neither a prefix nor a
    // regular-expression look-alike bans the page.
    for near in [
        "u:/page.htm",
        "u:/pageXhtml",
        "u:/page.html.*",
        "/page.html",
    ] {
        let r = ban(&c, v, near).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            get_via(&c, v, "/page.html", None).await.varnish,
            "HIT",
            "BAN {near}"
        );
    }
    let banned = ban(&c, v, "u:/page.html").await;
    assert_eq!(banned.status(), 200);

    // Both copies are gone, every variant: Varnish and the mirror miss,
    // and the origin is asked again (once).
    let after = get_via(&c, v, "/page.html", None).await;
    assert_eq!(after.varnish, "MISS");
    assert_eq!(after.mirror, "MISS");
    assert_eq!(counts.page.load(Ordering::SeqCst), 2);
    let br = get_via(&c, v, "/page.html", Some("br")).await;
    assert_eq!(br.varnish, "MISS", "the br variant was banned too");
    assert_eq!(decode(&br), plain);
    // Another page with other keys stays cached.
    assert_eq!(get_via(&c, v, "/other.html", None).await.varnish, "HIT");
    assert_eq!(counts.other.load(Ordering::SeqCst), 1);

    // PURGE of one URL also works (all its variants).
    let purge = c
        .request(
            reqwest::Method::from_bytes(b"PURGE").unwrap(),
            format!("http://{v}/other.html"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(purge.status(), 200);
    assert_eq!(get_via(&c, v, "/other.html", None).await.varnish, "MISS");
    drop(varnish);
}
