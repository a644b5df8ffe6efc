//! Micro-benchmarks (criterion): the rewrite pipeline against a bare
//! lol_html pass over the same bytes, the URL mapper per URL, a cache hit,
//! and article extraction.
//!
//!   cargo bench --bench pipeline            (all)
//!   cargo bench --bench pipeline -- rewrite (one group)

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use newsmirror::app::App;
use newsmirror::config::Config;
use newsmirror::url_map::Place;
use url::Url;

mod workload;
use workload::{ARTICLE_URL, CONFIG, app, article};

fn rewrite(c: &mut Criterion) {
    let app = app(CONFIG);
    let page = article();
    let url = Url::parse(ARTICLE_URL).expect("url");
    let mut group = c.benchmark_group("rewrite");
    group.throughput(Throughput::Bytes(page.len() as u64));
    for chunk in [16 * 1024, 64 * 1024] {
        group.bench_with_input(
            BenchmarkId::new("newsmirror", chunk),
            &chunk,
            |b, &chunk| b.iter(|| black_box(workload::rewrite(&app, &url, &page, chunk))),
        );
    }
    group.bench_function("lol_html without handlers", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(page.len());
            let mut rw = lol_html::HtmlRewriter::new(lol_html::Settings::new(), |c: &[u8]| {
                out.extend_from_slice(c)
            });
            for piece in page.chunks(16 * 1024) {
                rw.write(piece).expect("write");
            }
            rw.end().expect("end");
            black_box(out.len())
        })
    });
    group.finish();
}

fn url_map(c: &mut Criterion) {
    let app = app(CONFIG);
    let site = app.sites[0].id;
    let base = Url::parse("https://www.bench-news.test/news/2026/11/page.html").expect("url");
    let mut group = c.benchmark_group("url_map");
    for (name, raw, place) in [
        (
            "absolute",
            "https://www.bench-news.test/news/2026/11/story-7.html",
            Place::Link,
        ),
        ("root-relative", "/tag/%E4%BA%A4%E9%80%9A.html", Place::Link),
        ("relative", "../../../tag/x.html", Place::Link),
        (
            "asset",
            "https://img.bench-news.test/thumbs/2026/11/story-7_200.jpg",
            Place::Image,
        ),
        (
            "signed image",
            "https://photos.other.test/2026/11/a.jpg?w=600&q=80",
            Place::Image,
        ),
        ("external", "https://www.example.org/a/b", Place::Link),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(app.mapper.map(site, &base, black_box(raw), place)))
        });
    }
    group.finish();
}

/// A cache hit through the whole public router (front layer, routing,
/// cache lookup, answer), without sockets: the part of a hit that is ours.
/// The page is fetched once from an upstream on loopback, then every
/// iteration is a hit.
fn cache_hit(c: &mut Criterion) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let page = bytes::Bytes::from(article());
    let router = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin = listener.local_addr().expect("addr");
        let upstream = axum::Router::new().fallback(move || {
            let page = page.clone();
            async move {
                (
                    [(http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    page,
                )
            }
        });
        tokio::spawn(async move { axum::serve(listener, upstream).await });
        let config = format!(
            "{CONFIG}\n[cache]\nmax_bytes = \"64MiB\"\ndefault_ttl = \"1h\"\n\
             [upstream.origins]\n\"www.bench-news.test\" = \"http://{origin}\"\n"
        );
        let app = App::new(Config::parse(&config, "bench").expect("config")).expect("app");
        let router = newsmirror::router::public(app);
        for _ in 0..3 {
            let response = router
                .clone()
                .oneshot(hit_request("gzip"))
                .await
                .expect("response");
            let _ = response.into_body().collect().await;
            // The compressed variants are made in the background after the fill.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        router
    });
    let mut group = c.benchmark_group("cache_hit");
    for encoding in ["identity", "gzip"] {
        let first = rt.block_on(router.clone().oneshot(hit_request(encoding)));
        let cache = first
            .as_ref()
            .ok()
            .and_then(|r| r.headers().get("x-cache").cloned());
        assert_eq!(
            cache.as_ref().map(|v| v.as_bytes()),
            Some(&b"HIT"[..]),
            "not a hit"
        );
        group.bench_function(encoding, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let response = router
                        .clone()
                        .oneshot(hit_request(encoding))
                        .await
                        .expect("response");
                    black_box(
                        response
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes().len()),
                    )
                })
            })
        });
    }
    group.finish();
}

fn hit_request(encoding: &str) -> http::Request<axum::body::Body> {
    http::Request::get("/news/2026/11/river-bridge-opens.html")
        .header(http::header::HOST, "mirror.bench.test")
        .header(http::header::ACCEPT_ENCODING, encoding)
        .body(axum::body::Body::empty())
        .expect("request")
}

fn extract(c: &mut Criterion) {
    let page = String::from_utf8(article()).expect("utf-8");
    let url =
        Url::parse("http://mirror.invalid/news/2026/11/river-bridge-opens.html").expect("url");
    c.bench_function("extract article", |b| {
        b.iter(|| {
            black_box(newsmirror::extract::extract(newsmirror::extract::Input {
                html: &page,
                page_url: &url,
                selectors: None,
                limits: newsmirror::extract::Limits::default(),
            }))
        })
    });
}

/// The br and gzip variants of the article, as a fill's compression job
/// makes them (how long a hit right after a fill may wait).
fn variants(c: &mut Criterion) {
    let page = bytes::Bytes::from(article());
    let mut group = c.benchmark_group("variants");
    group.throughput(Throughput::Bytes(page.len() as u64));
    group.bench_function("article br+gzip", |b| {
        b.iter(|| {
            black_box(newsmirror::cache::variants::Variants::build(
                page.clone(),
                "text/html",
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, rewrite, url_map, cache_hit, extract, variants);
criterion_main!(benches);
