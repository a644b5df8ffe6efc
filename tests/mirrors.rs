//! The mirror list (`[mirrors] alternates`): `/_/mirrors.json` names every
//! origin with what this server's health checks last saw, signed with the
//! configured Ed25519 key (verified here with the public key derived from
//! the seed, not the one the list names), readable from other origins
//! (CORS), also in `/metrics`; the readers' page and the nav bar's link to
//! it; the service worker's alternates; and, on pages whose scripts are
//! removed, the one inline script that registers the worker, allowed by
//! its hash.

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use base64::Engine;
use common::*;
use ring::signature::KeyPair;
use serde_json::Value;

const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

fn site() -> Router {
    Router::new().route(
        "/news/a.html",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<html><head><title>A</title></head><body><p>story</p>\
                 <script>alert(1)</script></body></html>",
            )
        }),
    )
}

fn mirrors_section(alternates: &[String]) -> String {
    let list: Vec<String> = alternates.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "[mirrors]\nalternates = [{}]\nsigning_key = \"{SEED_HEX}\"\n\
         check_interval = \"1s\"\ncheck_timeout = \"1s\"\nlang = \"en\"\n",
        list.join(", ")
    )
}

async fn dead_origin() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

#[tokio::test]
async fn the_list_is_signed_readable_from_other_origins_and_marks_a_mirror_that_does_not_answer() {
    let (up, _) = upstream(site()).await;
    let live = mirror(&config(up, "")).await;
    let live = format!("http://{live}");
    let dead = dead_origin().await;
    let text = format!(
        "{}{}",
        mirrors_section(&[live.clone(), dead.clone()]),
        config(up, "javascript = \"remove\"")
    );
    let (a, admin) = mirror_with_admin(&text).await;

    // Until the first round of checks has seen both.
    let mut list = Value::Null;
    let mut response = None;
    for _ in 0..100 {
        let r = fetch(a, "/_/mirrors.json").await;
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap();
        list = serde_json::from_slice(&body).unwrap();
        let checked = list["mirrors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !m["healthy"].is_null());
        response = Some((headers, body));
        if checked {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (headers, body) = response.unwrap();
    let entries = list["mirrors"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{list}");
    assert_eq!(entries[0]["url"], live.as_str());
    assert_eq!(entries[0]["kind"], "http");
    assert_eq!(entries[0]["healthy"], true, "{list}");
    assert!(entries[0]["last_seen_healthy"].is_string(), "{list}");
    assert_eq!(entries[1]["url"], dead.as_str());
    assert_eq!(entries[1]["healthy"], false, "{list}");
    assert!(entries[1]["last_checked"].is_string(), "{list}");
    assert!(entries[1]["last_seen_healthy"].is_null(), "{list}");

    // The signature, with the key derived from the configured seed.
    let seed: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&SEED_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        list["public_key"],
        b64.encode(pair.public_key().as_ref()).as_str()
    );
    let sig = b64
        .decode(headers["x-mirrors-signature"].as_bytes())
        .expect("base64 signature");
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ED25519,
        pair.public_key().as_ref().to_vec(),
    );
    key.verify(&body, &sig).expect("the signature verifies");
    let mut changed = body.to_vec();
    let at = changed.len() - 3;
    changed[at] ^= 1;
    assert!(key.verify(&changed, &sig).is_err(), "over the exact bytes");

    // Readable from any origin, the signature header too.
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["access-control-expose-headers"], "*");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");

    // In /metrics.
    let metrics = admin_metrics(admin).await;
    assert!(
        metrics.contains(&format!("newsmirror_mirror_up{{mirror=\"{live}\"}} 1")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("newsmirror_mirror_up{{mirror=\"{dead}\"}} 0")),
        "{metrics}"
    );

    // The readers' page, linked from the nav bar.
    let (status, h, page) = get_text(a, "/_/mirrors").await;
    assert_eq!(status, 200);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.contains(&format!("href=\"{live}/\"")), "{page}");
    assert!(page.contains("(answering)"), "{page}");
    assert!(page.contains("(not answering)"), "{page}");
    assert!(
        page.contains(&b64.encode(pair.public_key().as_ref())),
        "{page}"
    );

    // A page: the link, CORS, and the worker's registration allowed by
    // its hash alone (the site's own script is removed).
    let (status, h, html) = get_text(a, "/news/a.html").await;
    assert_eq!(status, 200);
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(html.contains("href=\"/_/mirrors\""), "{html}");
    assert!(!html.contains("alert(1)"), "{html}");
    let start = html.find("<script>").expect("the registration") + "<script>".len();
    let end = start + html[start..].find("</script>").unwrap();
    let inline = &html[start..end];
    assert!(
        inline.contains("serviceWorker.register('/_/sw.js'"),
        "{inline}"
    );
    use sha2::Digest;
    let hash = b64.encode(sha2::Sha256::digest(inline.as_bytes()));
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}';")),
        "{csp}"
    );
    assert!(csp.contains("worker-src 'self'"), "{csp}");

    // The worker carries the alternates.
    let (_, _, sw) = get_text(a, "/_/sw.js").await;
    assert!(
        sw.contains(&format!("var ALTERNATES = [\"{live}\",\"{dead}\"];")),
        "{sw}"
    );
}

#[tokio::test]
async fn without_alternates_nothing_changes() {
    let (up, _) = upstream(site()).await;
    let m = mirror(&config(up, "javascript = \"remove\"")).await;
    let (_, h, html) = get_text(m, "/news/a.html").await;
    assert!(h.get("access-control-allow-origin").is_none());
    assert!(!html.contains("/_/mirrors"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'none'"), "{csp}");
    assert!(csp.contains("worker-src 'none'"), "{csp}");
    let (_, _, sw) = get_text(m, "/_/sw.js").await;
    assert!(sw.contains("var ALTERNATES = [];"), "{sw}");
    let list: Value = serde_json::from_str(&get_text(m, "/_/mirrors.json").await.2).unwrap();
    assert_eq!(list["mirrors"], serde_json::json!([]));
    assert!(list["public_key"].is_null());
}

#[tokio::test]
async fn bad_mirror_settings_are_refused_by_name() {
    for (section, key) in [
        (
            "alternates = [\"https://m2.example.net/path\"]",
            "mirrors.alternates[0]",
        ),
        (
            "alternates = [\"ftp://m2.example.net\"]",
            "mirrors.alternates[0]",
        ),
        ("signing_key = \"abcd\"", "mirrors.signing_key"),
        ("lang = \"xx\"", "mirrors.lang"),
        ("check_interval = \"0s\"", "mirrors.check_interval"),
    ] {
        let text = format!(
            "[mirrors]\n{section}\n{}",
            config("127.0.0.1:1".parse().unwrap(), "")
        );
        let e = newsmirror::config::Config::parse(&text, "t.toml").expect_err(section);
        assert!(e.to_string().contains(key), "{section}: {e}");
    }
}

/// A static copy (an `export` tree on a static host) is listed and
/// checked by its own URL, and is never a failover target.
#[tokio::test]
async fn static_copies_are_listed_checked_and_not_failed_over_to() {
    let (up, _) = upstream(site()).await;
    let copy = format!("http://{up}/news/a.html");
    let dead = format!("{}/snapshot/", dead_origin().await);
    let text = format!(
        "[mirrors]\nstatic = [\"{copy}\", \"{dead}\"]\ncheck_interval = \"1s\"\ncheck_timeout = \"1s\"\nlang = \"en\"\n{}",
        config(up, "")
    );
    let (m, _admin) = mirror_with_admin(&text).await;
    let mut list = Value::Null;
    for _ in 0..100 {
        list = serde_json::from_str(&get_text(m, "/_/mirrors.json").await.2).unwrap();
        if list["mirrors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !e["healthy"].is_null())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(list["mirrors"][0]["url"], copy.as_str(), "{list}");
    assert_eq!(list["mirrors"][0]["kind"], "static");
    assert_eq!(list["mirrors"][0]["healthy"], true, "{list}");
    assert_eq!(list["mirrors"][1]["healthy"], false, "{list}");
    let (_, _, page) = get_text(m, "/_/mirrors").await;
    assert!(page.contains(&format!("href=\"{copy}\"")), "{page}");
    let (_, _, sw) = get_text(m, "/_/sw.js").await;
    assert!(sw.contains("var ALTERNATES = [];"), "{sw}");
    assert!(
        sw.contains(&format!("var STATIC_COPIES = [\"{copy}\",\"{dead}\"];")),
        "{sw}"
    );
}
