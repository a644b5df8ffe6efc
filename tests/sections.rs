//! Section pages as data: `/_/api/section` lists the articles a section
//! page links to (not its furniture), `/_/feed` makes Atom, RSS and JSON
//! Feed of it (read back by feed-rs), filling in from the articles what the
//! listing lacks, and section pages name their feed.

mod common;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;
use common::*;
use serde_json::Value;

const SECTION: &str = r#"<!doctype html><html><head><title>World | U News</title></head><body>
<header><a href="/">U News home page for everyone</a><nav><a href="/world/">World news from everywhere</a></nav></header>
<main><h1>World</h1>
<article class="teaser"><a href="/world/2026/12/rivers.html"><img src="https://img.u.test/rivers.jpg" alt=""></a>
  <h2><a href="/world/2026/12/rivers.html">Rivers rise across the northern plains</a></h2>
  <p>Heavy rain swelled rivers on Monday, officials said.</p>
  <time datetime="2026-12-07T08:00:00+08:00">7 Dec</time></article>
<article class="teaser"><h2><a href="https://www.u.test/world/2026/12/bridge.html">大桥今日正式通车，两岸居民出行更方便</a></h2>
  <p>通车仪式在上午举行。</p><span>2026-12-06</span></article>
<article class="teaser"><h2><a href="/world/2026/12/plain.html#top">A story the listing says little about</a></h2></article>
<a href="/world/">More world news from our reporters</a>
<a href="/world/2026/12/rivers.html">short</a>
</main>
<aside><a href="/world/2026/12/popular.html">The most read story of the week so far</a></aside>
<footer><a href="/about/2026.html">About this site and its many people</a></footer>
</body></html>"#;

fn page(title: &str, body: &str) -> String {
    format!(
        "<html><head><title>{title}</title><meta property=\"og:image\" content=\"https://img.u.test/{title}.png\">\
         <meta property=\"article:published_time\" content=\"2026-12-05T10:00:00Z\">\
         <meta name=\"description\" content=\"{title}: the summary from the article.\"></head>\
         <body><article><h1>{title}</h1>{body}</article></body></html>"
    )
}

fn site() -> Router {
    let para = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.</p>".repeat(4);
    let p2 = para.clone();
    let html = |s: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s);
    Router::new()
        .route(
            "/world/",
            get(move || async move { html(SECTION.to_owned()) }),
        )
        .route(
            "/world/2026/12/plain.html",
            get(move || async move { html(page("Plain", &para)) }),
        )
        .route(
            "/world/2026/12/rivers.html",
            get(move || async move { html(page("Rivers", &p2)) }),
        )
}

async fn section_mirror() -> std::net::SocketAddr {
    let (up, _) = upstream(site()).await;
    // Its nav bar links "/world/" (a section, then).
    mirror(&config(up, "")).await
}

#[tokio::test]
async fn the_section_api_lists_the_articles_and_not_the_furniture() {
    let m = section_mirror().await;
    let (status, h, body) = get_text(m, "/_/api/section?url=https://www.u.test/world/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(h[header::CONTENT_TYPE], "application/json");
    let s: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(s["site"], "u");
    assert_eq!(s["url"], "/world/");
    assert_eq!(s["original_url"], "https://www.u.test/world/");
    assert_eq!(s["title"], "World");
    let urls: Vec<&str> = s["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "/world/2026/12/rivers.html",
            "/world/2026/12/bridge.html",
            "/world/2026/12/plain.html"
        ],
        "{s}"
    );
    let a = &s["articles"][0];
    assert_eq!(a["title"], "Rivers rise across the northern plains");
    assert_eq!(
        a["original_url"],
        "https://www.u.test/world/2026/12/rivers.html"
    );
    assert_eq!(a["lead_image"], "/_/asset/img.u.test/rivers.jpg");
    assert_eq!(
        a["excerpt"],
        "Heavy rain swelled rivers on Monday, officials said."
    );
    assert_eq!(a["published"], "2026-12-07T08:00:00+08:00");
    let b = &s["articles"][1];
    assert_eq!(b["title"], "大桥今日正式通车，两岸居民出行更方便");
    assert_eq!(b["published"], "2026-12-06");
    assert!(b["lead_image"].is_null());
    let c = &s["articles"][2];
    assert!(c["excerpt"].is_null() && c["published"].is_null(), "{c}");

    // The same by mirror path; errors as problem+json.
    let (status, _, again) = get_text(m, "/_/api/section?url=/world/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&again).unwrap()["articles"],
        s["articles"]
    );
    let (status, h, _) = get_text(m, "/_/api/section").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    let (status, _, _) = get_text(m, "/_/api/section?url=https://elsewhere.test/").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // In the OpenAPI document.
    let (_, _, doc) = get_text(m, "/_/api/openapi.json").await;
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["paths"]["/_/api/section"]["get"].is_object(), "{doc}");
    assert!(doc["paths"]["/_/api/article"]["get"].is_object());
    assert!(doc["components"]["schemas"]["SectionArticle"].is_object());
}

#[tokio::test]
async fn feeds_of_a_section_in_three_formats_filled_in_from_the_articles() {
    let m = section_mirror().await;
    for format in ["atom", "rss", "json"] {
        let r = client()
            .get(format!("http://{m}/_/feed?url=/world/&format={format}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{format}");
        let ct = r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            ct.starts_with(match format {
                "atom" => "application/atom+xml",
                "rss" => "application/rss+xml",
                _ => "application/feed+json",
            }),
            "{ct}"
        );
        let body = r.text().await.unwrap();
        let feed = feed_rs::parser::parse(body.as_bytes())
            .unwrap_or_else(|e| panic!("{format}: {e}\n{body}"));
        assert_eq!(feed.title.as_ref().unwrap().content, "World", "{format}");
        assert_eq!(feed.entries.len(), 3, "{format}: {body}");
        let origin = format!("http://{m}");
        let links: Vec<&str> = feed
            .entries
            .iter()
            .map(|e| e.links[0].href.as_str())
            .collect();
        assert_eq!(
            links,
            [
                format!("{origin}/world/2026/12/rivers.html"),
                format!("{origin}/world/2026/12/bridge.html"),
                format!("{origin}/world/2026/12/plain.html"),
            ],
            "{format}: absolute on the mirror"
        );
        // The listing said nothing of "plain": its date and summary come
        // from the article itself.
        let plain = &feed.entries[2];
        assert_eq!(
            plain.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-12-05T10:00:00+00:00"),
            "{format}: {body}"
        );
        let summary = plain
            .summary
            .as_ref()
            .map(|s| s.content.clone())
            .unwrap_or_default();
        assert!(summary.contains("Plain: the summary"), "{format}: {body}");
        assert!(
            body.contains("/_/asset/img.u.test/Plain.png"),
            "{format}: {body}"
        );
    }
    let (status, _, _) = get_text(m, "/_/feed?url=/world/&format=xml").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_section_page_names_its_feed_and_an_article_does_not() {
    let m = section_mirror().await;
    let (_, _, section) = get_text(m, "/world/").await;
    assert!(
        section.contains(
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"World &amp; &lt;News&gt;\" href=\"/_/feed?url=%2Fworld%2F\">"
        ),
        "{section}"
    );
    let (_, _, article) = get_text(m, "/world/2026/12/plain.html").await;
    assert!(!article.contains("/_/feed"), "{article}");
}

/// The most read articles after a known sequence of reads: article pages
/// only (not sections, not HEAD, not errors), titled from the articles.
#[tokio::test]
async fn popular_lists_the_most_read_articles_after_known_reads() {
    let (up, _) = upstream(site()).await;
    let (m, admin) = mirror_with_admin(&config(up, "")).await;
    for path in [
        "/world/2026/12/rivers.html",
        "/world/2026/12/plain.html",
        "/world/2026/12/rivers.html",
        "/world/",
        "/world/2026/12/rivers.html?from=home",
        "/world/2026/12/missing.html",
        "/world/",
    ] {
        let _ = get_text(m, path).await;
    }
    let head = client()
        .head(format!("http://{m}/world/2026/12/plain.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let (status, _, body) = get_text(m, "/_/api/popular?window=1h").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["site"], "u");
    assert_eq!(p["window"], "1h");
    assert_eq!(
        p["articles"],
        serde_json::json!([
            {"url": "/world/2026/12/rivers.html", "original_url": "https://www.u.test/world/2026/12/rivers.html", "title": "Rivers", "views": 3},
            {"url": "/world/2026/12/plain.html", "original_url": "https://www.u.test/world/2026/12/plain.html", "title": "Plain", "views": 1},
        ]),
        "{p}"
    );
    let (_, _, body) = get_text(m, "/_/api/popular?site=u&window=1d&limit=1").await;
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["articles"].as_array().unwrap().len(), 1);
    assert_eq!(p["articles"][0]["views"], 3);
    for (query, status) in [
        ("window=2h", StatusCode::BAD_REQUEST),
        ("limit=0", StatusCode::BAD_REQUEST),
        ("limit=51", StatusCode::BAD_REQUEST),
        ("site=nope", StatusCode::NOT_FOUND),
    ] {
        let (got, h, _) = get_text(m, &format!("/_/api/popular?{query}")).await;
        assert_eq!(got, status, "{query}");
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    }
    // The page for readers, which a nav item can link.
    let (status, h, page) = get_text(m, "/_/popular?window=1h").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let rivers = page
        .find("<li><a href=\"/world/2026/12/rivers.html\">Rivers</a></li>")
        .expect("the most read");
    let plain = page
        .find("<li><a href=\"/world/2026/12/plain.html\">Plain</a></li>")
        .expect("the next");
    assert!(rivers < plain, "{page}");
    assert!(
        page.contains("<h1>Most read</h1>") && page.contains("newsmirror-nav"),
        "{page}"
    );
    let metrics = admin_metrics(admin).await;
    assert!(
        metrics.contains("newsmirror_article_views_total{site=\"u\"} 4"),
        "{metrics}"
    );
}
