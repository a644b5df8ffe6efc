//! The asset and signed-image routes: they fetch what the mirror may fetch
//! and refuse, without contacting anyone, what it may not.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use common::*;

const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0fake-jpeg-bytes";

/// One upstream for every host; it records the Host header of each request.
fn hosts_upstream(seen: Arc<Mutex<Vec<String>>>) -> Router {
    Router::new().fallback(move |req: Request| {
        let seen = seen.clone();
        async move {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_owned();
            seen.lock().unwrap().push(format!("{host}{}", req.uri()));
            let path = req.uri().path().to_owned();
            if path.ends_with(".jpg") {
                ([(header::CONTENT_TYPE, "image/jpeg")], JPEG.to_vec()).into_response()
            } else if path.ends_with(".css") {
                ([(header::CONTENT_TYPE, "text/css")], "a{background:url(/bg.png)} b{background:url(https://www.u.test/x.png)}".as_bytes().to_vec()).into_response()
            } else if path == "/page.htm" {
                let page = "<html><body><img id=a src=\"https://cdn.other.test/photo.jpg\">\
                            <img id=b src=\"https://cdn.other.test/page.html\">\
                            <img id=c src=\"https://cdn.other.test/missing.jpg.404\"></body></html>";
                ([(header::CONTENT_TYPE, "text/html")], page.as_bytes().to_vec()).into_response()
            } else if path.ends_with(".404") {
                (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/html")], b"<script>evil()</script>".to_vec()).into_response()
            } else {
                ([(header::CONTENT_TYPE, "text/html")], b"<html><script>evil()</script></html>".to_vec()).into_response()
            }
        }
    })
}

/// The `src` values of a rewritten page but the mirror's own page script.
fn srcs(html: &str) -> Vec<String> {
    attr_values(html, "src")
        .into_iter()
        .filter(|s| !s.starts_with("/_/rt.js"))
        .collect()
}

#[tokio::test]
async fn asset_route_streams_from_asset_hosts() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (up, _) = upstream(hosts_upstream(seen.clone())).await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/_/asset/img.u.test/p/1.jpg?w=2").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), JPEG);
    assert_eq!(seen.lock().unwrap().as_slice(), ["img.u.test/p/1.jpg?w=2"]);
}

#[tokio::test]
async fn stylesheets_from_asset_hosts_are_rewritten() {
    let (up, _) = upstream(hosts_upstream(Arc::default())).await;
    let mirror = mirror(&config(up, "")).await;
    let (status, _, css) = get_text(mirror, "/_/asset/img.u.test/css/a.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("url(\"/_/asset/img.u.test/bg.png\")"), "{css}");
    assert!(css.contains("url(\"/x.png\")"), "{css}");
}

#[tokio::test]
async fn asset_route_refuses_every_other_host_without_fetching() {
    let (up, hits) = upstream(hosts_upstream(Arc::default())).await;
    let mirror = mirror(&config(up, "")).await;
    for path in [
        "/_/asset/evil.test/x.jpg",
        "/_/asset/127.0.0.1/x.jpg",
        "/_/asset/localhost/x.jpg",
        "/_/asset/169.254.169.254/latest/meta-data",
        "/_/asset/www.u.test/x.jpg",
        "/_/asset/cdn.other.test/x.jpg",
        "/_/asset/img.u.test.evil.test/x.jpg",
        "/_/asset/img.u.test:8080/x.jpg",
        "/_/asset/",
    ] {
        let (status, _, _) = get_text(mirror, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    for path in [
        "/_/asset/img.u.test/a/%2e%2e/b.jpg",
        "/_/asset/img.u.test/../img.u.test/x.jpg",
    ] {
        assert_eq!(raw_get_status(mirror, path).await, 400, "{path}");
    }
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn signed_image_urls_fetch_and_forged_ones_do_not() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (up, hits) = upstream(hosts_upstream(seen.clone())).await;
    let mirror = mirror(&config(up, "")).await;
    let (_, _, html) = get_text(mirror, "/page.htm").await;
    let signed = srcs(&html);
    assert_eq!(signed.len(), 3);
    assert!(
        signed.iter().all(|s| s.starts_with("/_/img/")),
        "{signed:?}"
    );
    let before = hits.get();

    let r = fetch(mirror, &signed[0]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), JPEG);
    assert_eq!(hits.get(), before + 1);
    assert!(
        seen.lock()
            .unwrap()
            .contains(&"cdn.other.test/photo.jpg".to_owned())
    );

    // Signature of one image, address of another; a made-up signature; none.
    let (sig_a, url_a) = signed[0]["/_/img/".len()..].split_once('/').unwrap();
    let (_, url_b) = signed[1]["/_/img/".len()..].split_once('/').unwrap();
    use base64::Engine;
    let evil = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("http://127.0.0.1:22/");
    for path in [
        format!("/_/img/{sig_a}/{url_b}"),
        format!("/_/img/AAAAAAAAAAAAAAAAAAAAAA/{url_a}"),
        format!("/_/img/{sig_a}/{evil}"),
        format!("/_/img/{url_a}"),
        "/_/img/".to_owned(),
    ] {
        let (status, _, _) = get_text(mirror, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(hits.get(), before + 1, "no forged URL reached any upstream");
}

#[tokio::test]
async fn signed_image_route_serves_only_media() {
    let (up, _) = upstream(hosts_upstream(Arc::default())).await;
    let mirror = mirror(&config(up, "")).await;
    let (_, _, html) = get_text(mirror, "/page.htm").await;
    let signed = srcs(&html);
    // A signed URL whose host answers with a page, not an image.
    let (status, _, body) = get_text(mirror, &signed[1]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("evil()"));
    // A missing image keeps its status, without the host's error page.
    let (status, _, body) = get_text(mirror, &signed[2]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("evil()"));
}

#[tokio::test]
async fn image_routes_take_only_get_and_head() {
    let (up, hits) = upstream(hosts_upstream(Arc::default())).await;
    let mirror = mirror(&config(up, "")).await;
    let r = client()
        .post(format!("http://{mirror}/_/asset/img.u.test/p/1.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(hits.get(), 0);
}

/// Answers that a third party's host gives, whatever the status, by path.
fn hostile_media_upstream() -> Router {
    Router::new().fallback(|req: Request| async move {
        let path = req.uri().path().to_owned();
        let page = b"<html><script>evil()</script></html>".to_vec();
        let html = [(header::CONTENT_TYPE, "text/html")];
        match path.as_str() {
            "/page.htm" => {
                let page = "<html><body><img src=\"https://cdn.other.test/choice.300\">\
                            <img src=\"https://cdn.other.test/moved.302\">\
                            <img src=\"https://cdn.other.test/pic.svg\"></body></html>";
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    page.as_bytes().to_vec(),
                )
                    .into_response()
            }
            p if p.ends_with(".300") => (StatusCode::MULTIPLE_CHOICES, html, page).into_response(),
            p if p.ends_with(".399") => {
                (StatusCode::from_u16(399).unwrap(), html, page).into_response()
            }
            p if p.ends_with(".302") => (
                StatusCode::FOUND,
                [
                    (header::CONTENT_TYPE, "text/html"),
                    (header::LOCATION, "https://elsewhere.test/x.jpg"),
                ],
                page,
            )
                .into_response(),
            p if p.ends_with(".svg") => (
                [(header::CONTENT_TYPE, "image/svg+xml")],
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>evil()</script></svg>".to_vec(),
            )
                .into_response(),
            p if p.ends_with(".js") => (
                [(header::CONTENT_TYPE, "application/javascript")],
                b"console.log(1)".to_vec(),
            )
                .into_response(),
            p if p.ends_with(".404") => (StatusCode::NOT_FOUND, html, page).into_response(),
            _ => (html, page).into_response(),
        }
    })
}

#[tokio::test]
async fn a_media_route_never_serves_a_third_partys_document_whatever_the_status() {
    let (up, _) = upstream(hostile_media_upstream()).await;
    let mirror = mirror(&config(up, "")).await;
    let (_, _, html) = get_text(mirror, "/page.htm").await;
    let signed = srcs(&html);
    assert!(
        signed.iter().all(|s| s.starts_with("/_/img/")),
        "{signed:?}"
    );
    let mut paths = vec![signed[0].clone()];
    paths.extend(
        [
            "/_/asset/img.u.test/a.300",
            "/_/asset/img.u.test/a.399",
            "/_/asset/img.u.test/page.html",
            "/_/asset/img.u.test/gone.404",
        ]
        .map(str::to_owned),
    );
    for path in paths {
        // Twice: neither the first answer nor a stored one is a document.
        for _ in 0..2 {
            let r = fetch(mirror, &path).await;
            let status = r.status();
            let ct = r
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body = r.text().await.unwrap();
            assert!(!body.contains("evil()"), "{path} {status}: {body}");
            if status.is_redirection() {
                assert!(body.is_empty(), "{path}: a redirect's body is dropped");
                assert!(!ct.contains("html"), "{path}: {ct}");
            }
        }
    }
}

#[tokio::test]
async fn a_media_redirect_sends_the_browser_to_no_other_host() {
    let (up, _) = upstream(hostile_media_upstream()).await;
    let mirror = mirror(&config(up, "")).await;
    let (_, _, html) = get_text(mirror, "/page.htm").await;
    let signed = srcs(&html);
    let r = fetch(mirror, &signed[1]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/_/img/"), "{location}");
}

#[tokio::test]
async fn svg_and_non_media_from_media_routes_are_sandboxed() {
    let (up, _) = upstream(hostile_media_upstream()).await;
    let mirror = mirror(&config(up, "")).await;
    let (_, _, html) = get_text(mirror, "/page.htm").await;
    let signed = srcs(&html);
    for path in [
        signed[2].as_str(),
        "/_/asset/img.u.test/pic.svg",
        "/_/asset/img.u.test/app.js",
    ] {
        for _ in 0..2 {
            let r = fetch(mirror, path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap();
            assert!(
                csp.contains("sandbox") && csp.contains("default-src 'none'"),
                "{path}: {csp}"
            );
        }
    }
}
