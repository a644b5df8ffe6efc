//! The cache in front, against upstreams that count what they are asked:
//! hits, collapsing, freshness, stale serving, variants, validators, CDN
//! headers, purge, and the byte budget.

mod common;

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::*;

const PAGE: &str =
    "<html><body><p>cached page</p><a href=\"https://www.u.test/next.htm\">next</a></body></html>";

fn html(cache_control: &'static str, body: impl Into<String>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, cache_control),
        ],
        body.into(),
    )
        .into_response()
}

fn x_cache(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn get_with(
    mirror: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client().get(format!("http://{mirror}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn second_request_is_a_hit_with_age_and_upstream_sees_one() {
    let (up, hits) =
        upstream(Router::new().route("/page", get(|| async { html("max-age=60", PAGE) }))).await;
    let (mirror, clock) = mirror_with_clock(&config(up, "")).await;
    let first = fetch(mirror, "/page").await;
    assert_eq!(x_cache(&first), "MISS");
    let first_body = first.text().await.unwrap();
    clock.advance(Duration::from_secs(2));
    let second = fetch(mirror, "/page").await;
    assert_eq!(x_cache(&second), "HIT");
    let age: u64 = second.headers()[header::AGE]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(age >= 1, "Age counts the time stored");
    assert!(second.headers().contains_key(header::ETAG));
    assert_eq!(second.text().await.unwrap(), first_body);
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn concurrent_misses_make_one_upstream_request_and_identical_answers() {
    let router = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            html("max-age=60", PAGE.repeat(50))
        }),
    );
    let (up, hits) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let tasks: Vec<_> = (0..200)
        .map(|_| tokio::spawn(async move { fetch(mirror, "/slow").await.text().await.unwrap() }))
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        bodies.push(t.await.unwrap());
    }
    assert_eq!(hits.get(), 1, "200 concurrent misses, one upstream request");
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    assert!(bodies[0].contains("cached page") && bodies[0].contains("newsmirror-nav"));
}

#[tokio::test]
async fn no_store_and_private_are_never_stored() {
    let router = Router::new()
        .route("/nostore", get(|| async { html("no-store", PAGE) }))
        .route(
            "/private",
            get(|| async { html("private, max-age=60", PAGE) }),
        );
    let (up, hits) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    for path in ["/nostore", "/private"] {
        for _ in 0..3 {
            let r = fetch(mirror, path).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert_ne!(x_cache(&r), "HIT", "{path}");
            let cc = r.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(!cc.contains("public"), "{path}: {cc}");
        }
    }
    assert_eq!(hits.get(), 6);
}

#[tokio::test]
async fn set_cookie_is_dropped_on_misses_and_hits() {
    let router = Router::new().route(
        "/cookie",
        get(|| async {
            let mut r = html("max-age=60", PAGE);
            r.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static("sid=secret; Path=/"),
            );
            r
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    for expected in ["MISS", "HIT"] {
        let r = fetch(mirror, "/cookie").await;
        assert_eq!(x_cache(&r), expected);
        assert!(r.headers().get(header::SET_COOKIE).is_none());
    }
}

/// An upstream whose answers can be switched to 503. The first answer is
/// fresh for a second, later ones for a minute.
fn switchable(down: Arc<AtomicBool>) -> Router {
    let first = Arc::new(AtomicBool::new(true));
    Router::new().route(
        "/short",
        get(move || {
            let down = down.clone();
            let first = first.clone();
            async move {
                if down.load(Ordering::SeqCst) {
                    (StatusCode::SERVICE_UNAVAILABLE, "down").into_response()
                } else if first.swap(false, Ordering::SeqCst) {
                    html("max-age=1", PAGE)
                } else {
                    html("max-age=60", PAGE)
                }
            }
        }),
    )
}

#[tokio::test]
async fn stale_while_revalidate_serves_at_once_and_refreshes_once() {
    let (up, hits) = upstream(switchable(Arc::default())).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nstale_while_revalidate = \"30s\"\n[upstream]",
        1,
    );
    let (mirror, clock) = mirror_with_clock(&toml).await;
    assert_eq!(x_cache(&fetch(mirror, "/short").await), "MISS");
    clock.advance(Duration::from_secs(2));
    let stale = fetch(mirror, "/short").await;
    assert_eq!(x_cache(&stale), "STALE");
    assert!(stale.text().await.unwrap().contains("cached page"));
    // One background refresh, then fresh again.
    for _ in 0..50 {
        if hits.get() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hits.get(), 2);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(x_cache(&fetch(mirror, "/short").await), "HIT");
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn stale_if_error_serves_the_stored_page_when_upstream_fails() {
    let down = Arc::new(AtomicBool::new(false));
    let (up, _) = upstream(switchable(down.clone())).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nstale_while_revalidate = \"0\"\nstale_if_error = \"1h\"\n[upstream]",
        1,
    );
    let (mirror, clock) = mirror_with_clock(&toml).await;
    assert_eq!(x_cache(&fetch(mirror, "/short").await), "MISS");
    down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(2));
    let r = fetch(mirror, "/short").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(x_cache(&r), "STALE");
    assert!(r.text().await.unwrap().contains("cached page"));
}

#[tokio::test]
async fn outside_the_stale_if_error_window_the_failure_shows() {
    let down = Arc::new(AtomicBool::new(false));
    let (up, _) = upstream(switchable(down.clone())).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nstale_while_revalidate = \"0\"\nstale_if_error = \"0\"\n[upstream]",
        1,
    );
    let (mirror, clock) = mirror_with_clock(&toml).await;
    fetch(mirror, "/short").await;
    down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(2));
    let r = fetch(mirror, "/short").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn stale_entry_with_validators_is_revalidated_with_a_conditional_request() {
    let conditional = Arc::new(AtomicBool::new(false));
    let seen = conditional.clone();
    let router = Router::new().route(
        "/etag",
        get(move |h: HeaderMap| {
            let seen = seen.clone();
            async move {
                if h.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"") {
                    seen.store(true, Ordering::SeqCst);
                    return (
                        StatusCode::NOT_MODIFIED,
                        [
                            (header::ETAG, "\"v1\""),
                            (header::CACHE_CONTROL, "max-age=60"),
                        ],
                    )
                        .into_response();
                }
                let mut r = html("max-age=1", PAGE);
                r.headers_mut()
                    .insert(header::ETAG, HeaderValue::from_static("\"v1\""));
                r
            }
        }),
    );
    let (up, hits) = upstream(router).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nstale_while_revalidate = \"0\"\n[upstream]",
        1,
    );
    let (mirror, clock) = mirror_with_clock(&toml).await;
    let body = fetch(mirror, "/etag").await.text().await.unwrap();
    clock.advance(Duration::from_secs(2));
    let r = fetch(mirror, "/etag").await;
    assert_eq!(x_cache(&r), "REVALIDATED");
    assert_eq!(r.text().await.unwrap(), body);
    assert!(
        conditional.load(Ordering::SeqCst),
        "upstream got If-None-Match"
    );
    // The 304 made it fresh for 60s.
    assert_eq!(x_cache(&fetch(mirror, "/etag").await), "HIT");
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn a_revalidation_that_makes_the_answer_private_makes_later_hits_private() {
    let router = Router::new().route(
        "/etag",
        get(move |h: HeaderMap| async move {
            if h.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"") {
                return (
                    StatusCode::NOT_MODIFIED,
                    [
                        (header::ETAG, "\"v1\""),
                        (header::CACHE_CONTROL, "private"),
                        (
                            header::HeaderName::from_static("surrogate-control"),
                            "max-age=60",
                        ),
                    ],
                )
                    .into_response();
            }
            let mut r = html("max-age=1", PAGE);
            r.headers_mut()
                .insert(header::ETAG, HeaderValue::from_static("\"v1\""));
            r
        }),
    );
    let (up, _) = upstream(router).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nstale_while_revalidate = \"0\"\n[upstream]",
        1,
    );
    let (mirror, clock) = mirror_with_clock(&toml).await;
    let cc = |r: &reqwest::Response| {
        r.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert!(cc(&fetch(mirror, "/etag").await).starts_with("public"));
    clock.advance(Duration::from_secs(2));
    for expected in ["REVALIDATED", "HIT"] {
        let r = fetch(mirror, "/etag").await;
        assert_eq!(x_cache(&r), expected);
        let cc = cc(&r);
        assert!(
            cc.contains("private") && !cc.contains("public") && !cc.contains("s-maxage"),
            "{expected}: {cc}"
        );
    }
}

#[tokio::test]
async fn a_truncated_upstream_body_is_not_stored() {
    let (up, hits) = raw_upstream(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: max-age=600\r\nContent-Length: 5000\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        write_all(&mut socket, b"<html><body><p>only the start").await;
    })
    .await;
    let mirror = mirror(&config(up, "")).await;
    for _ in 0..2 {
        let r = fetch(mirror, "/cut").await;
        assert!(r.bytes().await.is_err());
    }
    assert_eq!(
        hits.get(),
        2,
        "nothing was stored, so upstream is asked again"
    );
}

#[tokio::test]
async fn if_none_match_gets_304_without_a_body() {
    let (up, _) =
        upstream(Router::new().route("/page", get(|| async { html("max-age=60", PAGE) }))).await;
    let mirror = mirror(&config(up, "")).await;
    fetch(mirror, "/page").await.text().await.unwrap();
    let hit = fetch(mirror, "/page").await;
    let etag = hit.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "a strong ETag: {etag}"
    );
    let r = get_with(mirror, "/page", &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(r.headers().contains_key(header::AGE));
    assert!(r.bytes().await.unwrap().is_empty());
    let r = get_with(mirror, "/page", &[("if-none-match", "\"other\"")]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn br_and_gzip_variants_decode_to_the_identity_body() {
    let (up, hits) = upstream(Router::new().route(
        "/page",
        get(|| async { html("max-age=60", PAGE.repeat(40)) }),
    ))
    .await;
    let mirror = mirror(&config(up, "")).await;
    fetch(mirror, "/page").await.text().await.unwrap();
    let identity = get_with(mirror, "/page", &[("accept-encoding", "identity")]).await;
    assert_eq!(x_cache(&identity), "HIT");
    assert!(identity.headers().get(header::CONTENT_ENCODING).is_none());
    let identity_etag = identity.headers()[header::ETAG].clone();
    let identity = identity.bytes().await.unwrap();

    // Variants are made once, right after the fill, off the request path.
    let mut gz = get_with(mirror, "/page", &[("accept-encoding", "gzip")]).await;
    for _ in 0..100 {
        if gz.headers().contains_key(header::CONTENT_ENCODING) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        gz = get_with(mirror, "/page", &[("accept-encoding", "gzip")]).await;
    }
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
    // Vary names Accept-Encoding (beside the worker's header on pages).
    let vary: Vec<&str> = gz
        .headers()
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(vary.contains(&"Accept-Encoding"), "{vary:?}");
    assert_ne!(gz.headers()[header::ETAG], identity_etag);
    let raw = gz.bytes().await.unwrap();
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, identity);

    let br = get_with(mirror, "/page", &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
    let raw = br.bytes().await.unwrap();
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&raw[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, identity);
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn cacheable_answers_carry_cdn_headers_and_surrogate_keys() {
    let (up, _) = upstream(Router::new().route(
        "/news/n14089442.htm",
        get(|| async { html("max-age=60", PAGE) }),
    ))
    .await;
    let mirror = mirror(&config(up, "")).await;
    for expected in ["MISS", "HIT"] {
        let r = fetch(mirror, "/news/n14089442.htm").await;
        assert_eq!(x_cache(&r), expected);
        assert_eq!(
            r.headers()[header::CACHE_CONTROL],
            "public, max-age=60, s-maxage=600, stale-while-revalidate=60, stale-if-error=86400"
        );
        assert_eq!(
            r.headers()["surrogate-key"],
            "u u:n14089442 u:/news/n14089442.htm"
        );
    }
}

#[tokio::test]
async fn private_answers_stored_for_surrogate_control_stay_private_toward_readers_and_cdns() {
    let surrogate = |cache_control: &'static str| {
        move || async move {
            let mut r = html(cache_control, PAGE);
            r.headers_mut()
                .insert("surrogate-control", HeaderValue::from_static("max-age=60"));
            r
        }
    };
    let router = Router::new()
        .route("/private", get(surrogate("private")))
        .route("/private-age", get(surrogate("private, max-age=30")))
        .route("/nostore", get(surrogate("no-store")));
    let (up, hits) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    for path in ["/private", "/private-age", "/nostore"] {
        // Surrogate-Control still lets the mirror store it: a miss, then hits.
        for expected in ["MISS", "HIT", "HIT"] {
            let r = fetch(mirror, path).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(x_cache(&r), expected, "{path}");
            let cc = r.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                !cc.contains("public") && !cc.contains("s-maxage"),
                "{path} {expected}: {cc}"
            );
            assert!(
                cc.contains("private") || cc.contains("no-store"),
                "{path} {expected}: {cc}"
            );
        }
    }
    assert_eq!(hits.get(), 3);
}

#[tokio::test]
async fn request_headers_outside_the_key_do_not_change_what_is_stored() {
    let (up, hits) =
        upstream(Router::new().route("/page", get(|| async { html("max-age=60", PAGE) }))).await;
    let mirror = mirror(&config(up, "")).await;
    let poisoned = get_with(
        mirror,
        "/page",
        &[
            ("x-forwarded-host", "evil.test"),
            ("forwarded", "host=evil.test;proto=http"),
            ("x-original-url", "/evil"),
            ("host", "evil.test"),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    let clean = fetch(mirror, "/page").await.text().await.unwrap();
    assert_eq!(poisoned, clean);
    assert!(!clean.contains("evil"));
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn a_reader_that_leaves_mid_fill_fails_no_one_and_the_page_is_stored() {
    let router = Router::new().route(
        "/streamed",
        get(|| async {
            let parts = (0..20).map(|i| format!("<p>part {i}</p>"));
            let stream = futures_util::stream::iter(parts).then(|p| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok::<_, std::io::Error>(p)
            });
            let mut r = axum::body::Body::from_stream(stream).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("max-age=60"),
            );
            r
        }),
    );
    let (up, hits) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let mut leaving = fetch(mirror, "/streamed").await;
    let staying =
        tokio::spawn(async move { fetch(mirror, "/streamed").await.text().await.unwrap() });
    let _ = leaving.chunk().await;
    drop(leaving);
    let body = staying.await.unwrap();
    assert!(body.contains("part 19"), "{body}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(x_cache(&fetch(mirror, "/streamed").await), "HIT");
    assert_eq!(hits.get(), 1);
}

use futures_util::StreamExt;

#[tokio::test]
async fn head_and_get_share_one_entry() {
    let (up, hits) =
        upstream(Router::new().route("/page", get(|| async { html("max-age=60", PAGE) }))).await;
    let mirror = mirror(&config(up, "")).await;
    let head = client()
        .head(format!("http://{mirror}/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let r = fetch(mirror, "/page").await;
    assert_eq!(x_cache(&r), "HIT");
    assert!(r.text().await.unwrap().contains("cached page"));
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn responses_that_vary_are_kept_apart() {
    let router = Router::new().route(
        "/lang",
        get(|h: HeaderMap| async move {
            let lang = h
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_owned();
            let mut r = html("max-age=60", format!("<p>lang={lang}</p>"));
            r.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept-Language"));
            r
        }),
    );
    let (up, hits) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let body = |r: reqwest::Response| async move { r.text().await.unwrap() };
    assert!(
        body(get_with(mirror, "/lang", &[("accept-language", "en")]).await)
            .await
            .contains("lang=en")
    );
    assert!(
        body(get_with(mirror, "/lang", &[("accept-language", "fr")]).await)
            .await
            .contains("lang=fr")
    );
    let again = get_with(mirror, "/lang", &[("accept-language", "en")]).await;
    assert_eq!(x_cache(&again), "HIT");
    assert!(body(again).await.contains("lang=en"));
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn override_imposes_default_ttl_over_upstream_freshness() {
    let (up, hits) =
        upstream(Router::new().route("/page", get(|| async { html("max-age=0", PAGE) }))).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\noverride = true\ndefault_ttl = \"1m\"\n[upstream]",
        1,
    );
    let mirror = mirror(&toml).await;
    fetch(mirror, "/page").await.text().await.unwrap();
    assert_eq!(x_cache(&fetch(mirror, "/page").await), "HIT");
    assert_eq!(hits.get(), 1);
    // Without override, max-age=0 means the next request goes upstream.
    let (up, hits) =
        upstream(Router::new().route("/page", get(|| async { html("max-age=0", PAGE) }))).await;
    let plain = common::mirror(&config(up, "")).await;
    fetch(plain, "/page").await.text().await.unwrap();
    assert_ne!(x_cache(&fetch(plain, "/page").await), "HIT");
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn responses_over_max_object_bytes_stream_through_uncached() {
    let big = PAGE.repeat(2000); // ~190 KB
    let router = Router::new().route(
        "/big",
        get(move || {
            let b = big.clone();
            async move { html("max-age=60", b) }
        }),
    );
    let (up, hits) = upstream(router).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nmax_object_bytes = \"64KiB\"\n[upstream]",
        1,
    );
    let mirror = mirror(&toml).await;
    for _ in 0..2 {
        let r = fetch(mirror, "/big").await;
        assert_ne!(x_cache(&r), "HIT");
        let len = r.text().await.unwrap().len();
        assert!(len > 100_000, "{len}");
    }
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn cache_off_means_every_request_goes_upstream() {
    let (up, hits) =
        upstream(Router::new().route("/page", get(|| async { html("max-age=60", PAGE) }))).await;
    let mirror = mirror(&no_cache(config(up, ""))).await;
    for _ in 0..3 {
        assert_eq!(x_cache(&fetch(mirror, "/page").await), "BYPASS");
    }
    assert_eq!(hits.get(), 3);
}

#[tokio::test]
async fn purge_needs_the_token_and_evicts_by_url_and_by_key() {
    let router = Router::new().fallback(|req: Request| async move {
        html("max-age=600", format!("<p>{}</p>", req.uri()))
    });
    let (up, hits) = upstream(router).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cdn]\npurge_token = \"s3cret-token\"\n[upstream]",
        1,
    );
    let (mirror, admin) = mirror_with_admin(&toml).await;
    for p in ["/a.htm", "/b.htm", "/c/n1.htm"] {
        fetch(mirror, p).await.text().await.unwrap();
    }
    let purge = |auth: Option<&'static str>, body: &'static str| async move {
        let mut req = client().post(format!("http://{admin}/purge")).body(body);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        req.send().await.unwrap()
    };
    assert_eq!(
        purge(None, "{\"urls\":[\"/a.htm\"]}").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        purge(Some("Bearer wrong"), "{\"urls\":[\"/a.htm\"]}")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let r = purge(
        Some("Bearer s3cret-token"),
        "{\"urls\":[\"/a.htm\", \"https://www.u.test/b.htm\"]}",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["purged"], 2);
    assert_eq!(x_cache(&fetch(mirror, "/a.htm").await), "MISS");
    assert_eq!(x_cache(&fetch(mirror, "/c/n1.htm").await), "HIT");
    let r = purge(Some("Bearer s3cret-token"), "{\"keys\":[\"u:n1\"]}").await;
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["purged"], 1);
    assert_eq!(x_cache(&fetch(mirror, "/c/n1.htm").await), "MISS");
    assert_eq!(hits.get(), 5);
    assert_eq!(
        purge(Some("Bearer s3cret-token"), "not json")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn purge_is_404_without_a_configured_token() {
    let (up, _) = upstream(Router::new()).await;
    let (_, admin) = mirror_with_admin(&config(up, "")).await;
    let r = client()
        .post(format!("http://{admin}/purge"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client()
        .get(format!("http://{admin}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// The value of a metric line `name value` (no labels) in Prometheus text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

#[tokio::test]
async fn stored_bytes_stay_within_the_budget() {
    let router = Router::new().fallback(|req: Request| async move {
        let filler = "x".repeat(20_000);
        html(
            "max-age=600",
            format!("<p>{}</p><p>{filler}</p>", req.uri()),
        )
    });
    let (up, _) = upstream(router).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nmax_bytes = \"1MiB\"\nmax_object_bytes = \"256KiB\"\n[upstream]",
        1,
    );
    let (mirror, admin) = mirror_with_admin(&toml).await;
    for i in 0..300 {
        fetch(mirror, &format!("/p/{i}.htm"))
            .await
            .bytes()
            .await
            .unwrap();
    }
    let text = admin_metrics(admin).await;
    let stored = metric(&text, "newsmirror_cache_stored_bytes");
    let entries = metric(&text, "newsmirror_cache_entries");
    assert!(stored <= 1024.0 * 1024.0, "stored {stored} bytes");
    assert!(stored > 256.0 * 1024.0, "the budget is used: {stored}");
    assert!(entries < 300.0 && entries > 5.0, "{entries} entries");
    assert!(
        metric(&text, "newsmirror_cache_evicted_bytes_total") > 0.0,
        "{text}"
    );
    assert!(
        text.contains("newsmirror_cache_requests_total{result=\"miss\"} 300"),
        "{text}"
    );
}

/// A page of `n` paragraphs, different per `seed` (so that no two compress
/// alike).
fn long_page(seed: usize, n: usize) -> String {
    let mut s = String::from("<html><body>");
    for i in 0..n {
        s.push_str(&format!(
            "<p>Paragraph {i} of page {seed}: the river bridge opened to traffic after {} years.</p>",
            i * 7 + seed
        ));
    }
    s.push_str("</body></html>");
    s
}

/// Issue 14: a hit that comes right after the fill, while the br and gzip
/// forms are still being made, waits for them instead of getting the far
/// larger identity body.
#[tokio::test]
async fn a_hit_right_after_the_fill_gets_the_compressed_form() {
    let router = Router::new().route(
        "/p/{n}",
        get(
            |axum::extract::Path(n): axum::extract::Path<usize>| async move {
                html("max-age=60", long_page(n, 400))
            },
        ),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    for n in 0..5 {
        let path = format!("/p/{n}");
        let first = fetch(mirror, &path).await;
        assert_eq!(x_cache(&first), "MISS");
        let identity = first.bytes().await.unwrap().len();
        let hit = get_with(mirror, &path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(x_cache(&hit), "HIT", "{path}");
        assert_eq!(
            hit.headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap().to_owned()),
            Some("gzip".to_owned()),
            "{path}: the first hit got the identity body"
        );
        let gz = hit.bytes().await.unwrap().len();
        assert!(gz * 4 < identity, "{path}: {gz} of {identity} bytes");
    }
}

/// Issue 14: the first answer (a MISS) carries a validator when upstream
/// gave one, the hits after it carry the same, and a conditional request
/// with it is answered 304, per form.
#[tokio::test]
async fn the_first_answer_has_the_validator_later_answers_have() {
    let router = Router::new()
        .route(
            "/tagged",
            get(|| async {
                let mut r = html("max-age=60", long_page(1, 50));
                r.headers_mut()
                    .insert(header::ETAG, HeaderValue::from_static("\"up-1\""));
                r
            }),
        )
        .route("/untagged", get(|| async { html("max-age=60", PAGE) }));
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let etag = |r: &reqwest::Response| {
        r.headers()
            .get(header::ETAG)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let miss = fetch(mirror, "/tagged").await;
    assert_eq!(x_cache(&miss), "MISS");
    let first = etag(&miss).expect("the MISS has an ETag");
    assert_ne!(
        first, "\"up-1\"",
        "not upstream's: the bytes are the mirror's"
    );
    let _ = miss.bytes().await;
    let hit = get_with(mirror, "/tagged", &[("accept-encoding", "identity")]).await;
    assert_eq!(x_cache(&hit), "HIT");
    assert_eq!(etag(&hit).as_deref(), Some(first.as_str()));
    let not_modified = get_with(
        mirror,
        "/tagged",
        &[("accept-encoding", "identity"), ("if-none-match", &first)],
    )
    .await;
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    let gz = get_with(mirror, "/tagged", &[("accept-encoding", "gzip")]).await;
    let gz_tag = etag(&gz).unwrap();
    assert_ne!(gz_tag, first, "each form has its own tag");
    let gz_304 = get_with(
        mirror,
        "/tagged",
        &[("accept-encoding", "gzip"), ("if-none-match", &gz_tag)],
    )
    .await;
    assert_eq!(gz_304.status(), StatusCode::NOT_MODIFIED);
    // The identity tag does not validate the gzip form.
    let other = get_with(
        mirror,
        "/tagged",
        &[("accept-encoding", "gzip"), ("if-none-match", &first)],
    )
    .await;
    assert_eq!(other.status(), StatusCode::OK);
    // Without an upstream validator the first answer has none.
    let plain = fetch(mirror, "/untagged").await;
    assert_eq!(x_cache(&plain), "MISS");
    assert_eq!(etag(&plain), None);
}

/// Issue 14 (admission): with the cache full, the page just fetched is a
/// hit for its next reader. moka's TinyLFU admitted a new entry into a
/// full cache only if its sketch had counted it more often than the
/// entries it would evict, so a page read once was refused and its second
/// reader went upstream again. The admin `/metrics` answer runs the
/// cache's pending tasks (where moka admits and evicts), so that every page
/// has met the policy before it is asked again, whatever the timing.
#[tokio::test]
async fn with_the_cache_full_the_page_just_fetched_is_a_hit_for_its_second_reader() {
    let router = Router::new().fallback(|req: Request| async move {
        let filler = "x".repeat(20_000);
        html(
            "max-age=600",
            format!("<p>{}</p><p>{filler}</p>", req.uri()),
        )
    });
    let (up, hits) = upstream(router).await;
    let toml = config(up, "").replacen(
        "[upstream]",
        "[cache]\nmax_bytes = \"1MiB\"\nmax_object_bytes = \"256KiB\"\n[upstream]",
        1,
    );
    let (mirror, admin) = mirror_with_admin(&toml).await;
    // Entries get 768 KiB of the 1 MiB (the rest is the fills' share),
    // about 36 pages of 21 KB: 200 pages fill it five times over.
    const PAGES: usize = 200;
    let mut fetched_again = Vec::new();
    for i in 0..PAGES {
        let path = format!("/p/{i}.htm");
        let first = fetch(mirror, &path).await;
        assert_eq!(x_cache(&first), "MISS", "{path}");
        first.bytes().await.unwrap();
        admin_metrics(admin).await;
        let second = fetch(mirror, &path).await;
        if x_cache(&second) != "HIT" {
            fetched_again.push(i);
        }
        second.bytes().await.unwrap();
    }
    let text = admin_metrics(admin).await;
    assert!(
        metric(&text, "newsmirror_cache_evicted_bytes_total") > 0.0,
        "the cache overflowed: {text}"
    );
    assert!(
        fetched_again.is_empty(),
        "{} of {PAGES} pages were fetched again for their second reader: {fetched_again:?}",
        fetched_again.len()
    );
    assert_eq!(hits.get(), PAGES, "upstream sees each page once");
}
