//! Tor in: with `[mirrors] onion` set, rewritten pages name the same page
//! at the onion address (`Onion-Location`), other answers do not; a
//! request that arrives through a local onion service (its `Host` the
//! `.onion` name) is served like any other.

mod common;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use common::*;

const ONION: &str = "http://newsmirrorexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxx.onion";

fn site() -> Router {
    Router::new()
        .route(
            "/news/a.html",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<html><body><p>story</p></body></html>",
                )
            }),
        )
        .route(
            "/news/c.html",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<html><head><link rel=\"canonical\" href=\"https://www.u.test/news/c.html\">\
                     <meta property=\"og:url\" content=\"https://www.u.test/news/c.html\">\
                     </head><body><p>story</p></body></html>",
                )
            }),
        )
        .route(
            "/css/site.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], "p{color:red}") }),
        )
}

#[tokio::test]
async fn pages_carry_onion_location_with_their_own_path_and_onion_hosts_are_served() {
    let (up, _) = upstream(site()).await;
    let mirror = mirror(&format!(
        "[mirrors]\nonion = \"{ONION}\"\n{}",
        config(up, "")
    ))
    .await;
    let r = fetch(mirror, "/news/a.html?x=1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["onion-location"],
        format!("{ONION}/news/a.html?x=1").as_str()
    );
    let css = fetch(mirror, "/css/site.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers().get("onion-location").is_none(), "pages only");
    // Through the onion service: the Host is the onion name.
    let onion_host = ONION.trim_start_matches("http://");
    let r = client()
        .get(format!("http://{mirror}/news/a.html"))
        .header(header::HOST, onion_host)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("story"));
}

#[tokio::test]
async fn without_an_onion_address_there_is_no_onion_location_and_bad_ones_are_refused() {
    let (up, _) = upstream(site()).await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/news/a.html").await;
    assert!(r.headers().get("onion-location").is_none());
    for bad in ["http://example.org", "http://x.onion/path", "ftp://x.onion"] {
        let toml = format!("[mirrors]\nonion = \"{bad}\"\n{}", config(up, ""));
        let err = newsmirror::config::Config::parse(&toml, "t.toml").expect_err(bad);
        assert!(err.to_string().contains("mirrors.onion"), "{bad}: {err}");
    }
    // An unknown key of the section is refused, not ignored.
    let toml = format!(
        "[mirrors]\nalternate = [\"https://m2.example.net\"]\n{}",
        config(up, "")
    );
    assert!(newsmirror::config::Config::parse(&toml, "t.toml").is_err());
}

#[tokio::test]
async fn the_onion_address_is_in_the_mirror_list_and_unchecked_without_a_proxy() {
    let (up, _) = upstream(site()).await;
    let (m, _admin) = mirror_with_admin(&format!(
        "[mirrors]\nonion = \"{ONION}\"\n{}",
        config(up, "")
    ))
    .await;
    let list: serde_json::Value =
        serde_json::from_str(&get_text(m, "/_/mirrors.json").await.2).unwrap();
    assert_eq!(list["mirrors"][0]["url"], ONION);
    assert_eq!(list["mirrors"][0]["kind"], "onion");
    assert!(list["mirrors"][0]["healthy"].is_null(), "{list}");
    // A browser without Tor cannot reach it: not a failover target, and
    // nothing needs CORS for it.
    let sw = get_text(m, "/_/sw.js").await.2;
    assert!(sw.contains("var ALTERNATES = [];"), "{sw}");
    let (_, h, _) = get_text(m, "/news/a.html").await;
    assert!(h.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn under_the_onion_name_absolute_urls_are_on_the_onion_origin_and_stored_apart() {
    let (up, hits) = upstream(site()).await;
    let text = format!("[mirrors]\nonion = \"{ONION}\"\n{}", config(up, "")).replacen(
        "[server]\n",
        "[server]\npublic_url = \"https://mirror.example\"\n",
        1,
    );
    let m = mirror(&text).await;
    let onion_host = ONION.trim_start_matches("http://");
    let get = |host: Option<&'static str>| async move {
        let mut r = client().get(format!("http://{m}/news/c.html"));
        if let Some(h) = host {
            r = r.header(header::HOST, h);
        }
        let r = r.send().await.unwrap();
        let headers = r.headers().clone();
        (headers, r.text().await.unwrap())
    };
    for round in 0..2 {
        let (h, clear) = get(None).await;
        assert!(
            clear.contains("href=\"https://mirror.example/news/c.html\""),
            "{clear}"
        );
        assert!(
            clear.contains("content=\"https://mirror.example/news/c.html\""),
            "{clear}"
        );
        assert!(h.get("onion-location").is_some());
        let (h, onion) = get(Some(onion_host)).await;
        assert!(
            onion.contains(&format!("href=\"{ONION}/news/c.html\"")),
            "{onion}"
        );
        assert!(
            onion.contains(&format!("content=\"{ONION}/news/c.html\"")),
            "{onion}"
        );
        assert!(!onion.contains("mirror.example"), "{onion}");
        assert!(h.get("onion-location").is_none(), "already there");
        if round == 1 {
            assert_eq!(h["x-cache"], "HIT", "stored apart, and kept");
        }
    }
    assert_eq!(hits.get(), 2, "one fill per origin");
}
