//! `newsmirror audit`: the real binary on a saved page and on a URL fetched
//! through the mirror's pipeline, with a test configuration.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;

use axum::Router;
use axum::routing::get;
use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_newsmirror");

/// A page naming the site's own hosts (mapped), its asset host (mapped),
/// and hosts the configuration does not know, in every kind of place.
const PAGE: &str = r#"<!doctype html><html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta charset="utf-8"><title>A</title>
<link rel="stylesheet" href="https://static.other.test/site.css">
<link rel="stylesheet" href="https://img.u.test/u.css">
<link rel="canonical" href="https://www.u.test/news/a.html">
<script src="https://js.other.test/app.js"></script>
<style>.hero { background: url(//img.other.test/hero.jpg) }</style>
</head><body>
<a href="/news/b.html">b</a>
<a href="https://u.test/news/c.html">c</a>
<a href="https://www.elsewhere.test/">elsewhere</a>
<img src="https://img.other.test/a.jpg">
<img srcset="https://img.other.test/a.jpg 1x, https://img.other.test/a2.jpg 2x">
<img src="https://img.u.test/logo.png">
<iframe src="https://video.other.test/embed/1"></iframe>
<noscript><img src="https://pixel.other.test/p.gif"></noscript>
<script>var api = "https:\/\/api.other.test\/v1";</script>
</body></html>"#;

/// The harness's configuration, images not proxied: other hosts' images
/// stay as they are.
fn audit_config(upstream: SocketAddr) -> tempfile::NamedTempFile {
    let text = config(upstream, "").replacen("proxy_all_images = true", "", 1);
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn saved_page() -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".html").tempfile().unwrap();
    f.write_all(PAGE.as_bytes()).unwrap();
    f
}

fn run(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(BIN)
        .arg("audit")
        .args(args)
        .env_remove("NEWSMIRROR_CONFIG")
        .output()
        .unwrap()
}

fn hosts_of(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap().to_owned())
        .collect()
}

fn entry(list: &serde_json::Value, host: &str) -> serde_json::Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == host)
        .unwrap_or_else(|| panic!("no {host} in {list:#}"))
        .clone()
}

const SUGGESTED: [&str; 5] = [
    "img.u.test",
    "img.other.test",
    "js.other.test",
    "pixel.other.test",
    "static.other.test",
];

#[test]
fn audit_lists_the_unmapped_hosts_of_a_saved_page_and_suggests_asset_hosts() {
    let unused: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let cfg = audit_config(unused);
    let page = saved_page();
    let out = run(&[
        "--config".as_ref(),
        cfg.path().as_os_str(),
        "--url".as_ref(),
        "https://www.u.test/news/a.html".as_ref(),
        "--json".as_ref(),
        page.path().as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audit["site"], "u");
    assert_eq!(audit["url"], "https://www.u.test/news/a.html");

    // What the original page loads from hosts the configuration lacks.
    let assets = &audit["upstream_assets"];
    assert_eq!(
        hosts_of(assets),
        [
            "img.other.test",
            "js.other.test",
            "pixel.other.test",
            "static.other.test"
        ],
        "{audit:#}"
    );
    let img = entry(assets, "img.other.test");
    assert_eq!(img["count"], 4);
    assert_eq!(img["places"]["img[src]"], 1);
    assert_eq!(img["places"]["img[srcset]"], 2);
    assert_eq!(img["places"]["style"], 1);
    assert_eq!(img["kinds"], serde_json::json!(["image"]));
    assert_eq!(
        entry(assets, "pixel.other.test")["places"]["noscript > img[src]"],
        1
    );
    assert_eq!(
        entry(assets, "static.other.test")["kinds"],
        serde_json::json!(["css"])
    );
    assert_eq!(
        entry(assets, "js.other.test")["kinds"],
        serde_json::json!(["script"])
    );
    assert_eq!(audit["asset_hosts"], serde_json::json!(SUGGESTED));

    // What the rewritten page still names: links stay links, hosts inside
    // scripts stay where the mirror serves nothing (a frame of an unserved
    // host loses its src); the site's own hosts and asset hosts are never
    // listed.
    let named = &audit["hosts"];
    let still = hosts_of(named);
    assert!(!still.iter().any(|h| h == "video.other.test"), "{audit:#}");
    for (host, place, kind) in [
        ("www.elsewhere.test", "a[href]", "link"),
        ("api.other.test", "script", "other"),
    ] {
        let h = entry(named, host);
        assert_eq!(h["places"][place], 1, "{host}: {h}");
        assert_eq!(h["kinds"], serde_json::json!([kind]), "{host}");
        assert_eq!(h["suggested"], false, "{host}");
    }
    for ours in ["www.u.test", "u.test", "img.u.test", "www.w3.org"] {
        assert!(!still.iter().any(|h| h == ours), "{ours} listed: {audit:#}");
    }
}

#[test]
fn audit_prints_both_lists_and_a_ready_asset_hosts_line() {
    let unused: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let cfg = audit_config(unused);
    let page = saved_page();
    // No --url: the site is the only one, the page URL its upstream.
    let out = run(&[
        "--config".as_ref(),
        cfg.path().as_os_str(),
        page.path().as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("https://www.u.test/ (site \"u\")"),
        "{text}"
    );
    assert!(text.contains("Still named by the rewritten page"), "{text}");
    assert!(text.contains("Loaded by the original page"), "{text}");
    let line = |host: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(host))
            .unwrap_or_else(|| panic!("no line for {host}:\n{text}"))
    };
    assert!(line("www.elsewhere.test").contains("a[href] ×1"), "{text}");
    assert!(line("js.other.test").contains("script[src] ×1"), "{text}");
    let expected = format!(
        "asset_hosts = [{}]",
        SUGGESTED.map(|h| format!("{h:?}")).join(", ")
    );
    assert!(text.contains(&expected), "{text}");

    // An unknown site is an error, exit 1.
    let out = run(&[
        "--config".as_ref(),
        cfg.path().as_os_str(),
        "--site".as_ref(),
        "nope".as_ref(),
        page.path().as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[tokio::test]
async fn audit_of_a_url_fetches_it_as_the_mirror_does_and_follows_redirects() {
    let (up, hits) = upstream(
        Router::new()
            .route(
                "/news/a.html",
                get(|| async { ([("content-type", "text/html; charset=utf-8")], PAGE) }),
            )
            .route(
                "/news/old.html",
                get(|| async {
                    (
                        axum::http::StatusCode::MOVED_PERMANENTLY,
                        [("location", "https://u.test/news/a.html")],
                    )
                }),
            ),
    )
    .await;
    // The harness's own configuration: other hosts' images go through
    // signed /_/img/ URLs.
    let text = config(up, "");
    let mut cfg = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    cfg.write_all(text.as_bytes()).unwrap();
    let out = tokio::process::Command::new(BIN)
        .args(["audit", "--json", "--config"])
        .arg(cfg.path())
        .arg("https://www.u.test/news/old.html")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(hits.get(), 2, "the redirect and the page");
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audit["url"], "https://u.test/news/a.html");
    let still = hosts_of(&audit["hosts"]);
    assert!(!still.contains(&"img.other.test".to_owned()), "{audit:#}");
    assert!(
        still.contains(&"www.elsewhere.test".to_owned()),
        "{audit:#}"
    );
    // Images are proxied: only the stylesheet and script hosts are missing.
    assert_eq!(
        hosts_of(&audit["upstream_assets"]),
        ["js.other.test", "static.other.test"],
        "{audit:#}"
    );
    assert_eq!(
        audit["asset_hosts"],
        serde_json::json!(["img.u.test", "js.other.test", "static.other.test"])
    );

    // A page upstream does not have: an error, exit 1.
    let out = tokio::process::Command::new(BIN)
        .args(["audit", "--config"])
        .arg(cfg.path())
        .arg("https://www.u.test/news/missing.html")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
}
