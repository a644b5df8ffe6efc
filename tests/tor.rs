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
    // Keys of the mirror list that are not read yet are refused, not ignored.
    let toml = format!(
        "[mirrors]\nalternates = [\"https://m2.example.net\"]\n{}",
        config(up, "")
    );
    assert!(newsmirror::config::Config::parse(&toml, "t.toml").is_err());
}
