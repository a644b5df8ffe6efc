//! The article API and `newsmirror extract`: the bundled demo articles and
//! pages made here, through the real mirror and the real binary.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use common::*;
use serde_json::Value;

async fn api(mirror: SocketAddr, query: &str) -> (StatusCode, String, String) {
    let r = client()
        .get(format!("http://{mirror}/_/api/article?{query}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn article(mirror: SocketAddr, url: &str) -> Value {
    let (status, ct, body) = api(mirror, &format!("url={}", urlencode(url))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ct, "application/json");
    serde_json::from_str(&body).unwrap()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn chinese_demo_article_has_metadata_lead_image_tags_and_clean_content() {
    let mirror = demo_mirror().await;
    let a = article(
        mirror,
        "https://www.demo-news.test/news/2026/11/river-bridge-opens.html",
    )
    .await;
    assert_eq!(a["site"], "demo-news");
    assert_eq!(a["url"], "/news/2026/11/river-bridge-opens.html");
    assert_eq!(
        a["original_url"],
        "https://www.demo-news.test/news/2026/11/river-bridge-opens.html"
    );
    assert_eq!(
        a["title"],
        "河湾市跨江大桥正式通车 两岸通行时间缩短至十分钟"
    );
    assert!(a["byline"].as_str().unwrap().contains("林晓"));
    assert_eq!(a["published"], "2026-11-10T08:30:00+08:00");
    assert_eq!(a["lang"], "zh-CN");
    let lead = &a["lead_image"];
    assert_eq!(
        lead["url"],
        "/_/asset/img.demo-news.test/photos/2026/11/river-bridge_600.jpg"
    );
    assert_eq!(
        lead["original_url"],
        "https://img.demo-news.test/photos/2026/11/river-bridge_600.jpg"
    );
    assert!(lead["caption"].as_str().unwrap().contains("跨江大桥"));
    let tags: Vec<(&str, &str)> = a["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["url"].as_str().unwrap()))
        .collect();
    assert!(
        tags.contains(&("交通", "/tag/%E4%BA%A4%E9%80%9A.html")),
        "{tags:?}"
    );
    let html = a["content_html"].as_str().unwrap();
    for absent in [
        "<script",
        "<nav",
        "newsmirror-nav",
        "ad-slot",
        "below_article_ad",
        "<iframe",
        "www.demo-news.test",
    ] {
        assert!(!html.contains(absent), "{absent} in content");
    }
    let text = a["text"].as_str().unwrap();
    assert!(text.contains("\n\n"), "paragraphs separated by blank lines");
    let cjk = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    let words = a["word_count"].as_u64().unwrap() as usize;
    assert!(
        words >= cjk && words <= cjk + 50,
        "each Han character counts one: {words} vs {cjk}"
    );
}

#[tokio::test]
async fn english_demo_article_counts_words_and_takes_figure_captions() {
    let mirror = demo_mirror().await;
    let a = article(mirror, "/news/2026/11/electric-ferry-trial.html").await;
    assert_eq!(
        a["title"],
        "Harbor City trials electric ferries on the river route"
    );
    assert_eq!(a["lang"], "en");
    assert_eq!(
        a["lead_image"]["url"],
        "/_/asset/img.demo-news.test/photos/2026/11/electric-ferry_600.jpg"
    );
    assert!(
        a["lead_image"]["caption"]
            .as_str()
            .unwrap()
            .contains("battery-powered")
    );
    let text = a["text"].as_str().unwrap();
    let words = text.split_whitespace().count() as u64;
    let counted = a["word_count"].as_u64().unwrap();
    assert!(
        counted.abs_diff(words) <= words / 10,
        "{counted} vs {words}"
    );
    // An agency image in the body goes through a signed URL, with its original.
    let images = a["images"].as_array().unwrap();
    let agency = images
        .iter()
        .find(|i| i["url"].as_str().unwrap().starts_with("/_/img/"))
        .unwrap();
    assert!(
        agency["original_url"]
            .as_str()
            .unwrap()
            .starts_with("https://photos.wirefeed.test/")
    );
}

#[tokio::test]
async fn gbk_demo_article_is_extracted() {
    let mirror = demo_mirror().await;
    let a = article(mirror, "/news/2026/11/gbk-undeclared.html").await;
    assert!(
        a["title"].as_str().unwrap().contains("图书馆"),
        "{}",
        a["title"]
    );
    assert!(a["word_count"].as_u64().unwrap() > 200);
}

#[tokio::test]
async fn markdown_has_the_seed_form() {
    let mirror = demo_mirror().await;
    let (status, ct, md) = api(
        mirror,
        "url=%2Fnews%2F2026%2F11%2Friver-bridge-opens.html&format=markdown",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "text/markdown; charset=utf-8");
    assert!(md.starts_with("### 河湾市跨江大桥正式通车 两岸通行时间缩短至十分钟\n\n---\n\n#### [首页](/) &nbsp;|&nbsp; [新闻](/news/)"), "{md}");
    assert!(md.contains("![河湾市跨江大桥正式通车 两岸通行时间缩短至十分钟](/_/asset/img.demo-news.test/photos/2026/11/river-bridge_600.jpg)"));
    assert!(
        md.trim_end().ends_with(
            "---\n\n原文链接：https://www.demo-news.test/news/2026/11/river-bridge-opens.html"
        ),
        "{md}"
    );
}

#[tokio::test]
async fn section_page_has_no_article_422() {
    let mirror = demo_mirror().await;
    let (status, ct, body) = api(mirror, "url=%2Fnews%2F").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(ct, "application/problem+json");
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["status"], 422);
    assert!(p["title"].is_string() && p["detail"].is_string());
}

#[tokio::test]
async fn bad_urls_are_400_and_other_hosts_403() {
    let mirror = demo_mirror().await;
    for (query, expected) in [
        ("", StatusCode::BAD_REQUEST),
        ("url=", StatusCode::BAD_REQUEST),
        ("url=not%20a%20url", StatusCode::BAD_REQUEST),
        (
            "url=ftp%3A%2F%2Fwww.demo-news.test%2Fx",
            StatusCode::BAD_REQUEST,
        ),
        (
            "url=https%3A%2F%2Fwww.example.org%2Fnews%2Fa.html",
            StatusCode::FORBIDDEN,
        ),
        ("url=%2Fnews%2Fx.html&format=pdf", StatusCode::BAD_REQUEST),
    ] {
        let (status, ct, body) = api(mirror, query).await;
        assert_eq!(status, expected, "{query}: {body}");
        assert_eq!(ct, "application/problem+json", "{query}");
    }
}

#[tokio::test]
async fn upstream_404_and_410_keep_their_status() {
    let router = Router::new()
        .route(
            "/gone.htm",
            get(|| async {
                (
                    StatusCode::GONE,
                    [(header::CONTENT_TYPE, "text/html")],
                    "<p>gone</p>",
                )
            }),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/html")],
                "<p>no</p>",
            )
        });
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    assert_eq!(
        api(mirror, "url=%2Fmissing.htm").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(mirror, "url=https%3A%2F%2Fwww.u.test%2Fgone.htm")
            .await
            .0,
        StatusCode::GONE
    );
}

#[tokio::test]
async fn upstream_failures_are_502_and_504() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mirror = mirror(&config(closed, "")).await;
    let (status, ct, _) = api(mirror, "url=%2Fa.htm").await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::BAD_GATEWAY, "application/problem+json")
    );

    let (silent, _) = raw_upstream(|socket| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    })
    .await;
    let toml = config(silent, "").replace("header_timeout = \"2s\"", "header_timeout = \"300ms\"");
    let mirror = common::mirror(&toml).await;
    assert_eq!(
        api(mirror, "url=%2Fa.htm").await.0,
        StatusCode::GATEWAY_TIMEOUT
    );
}

#[tokio::test]
async fn fifty_thousand_nested_divs_answer_422_quickly() {
    let page = format!(
        "<html><body>{}<p>deep</p>{}</body></html>",
        "<div>".repeat(50_000),
        "</div>".repeat(50_000)
    );
    let router = Router::new().route(
        "/deep.htm",
        get(move || {
            let p = page.clone();
            async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], p).into_response() }
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let started = Instant::now();
    let (status, _, body) = api(mirror, "url=%2Fdeep.htm").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The mirror still answers.
    assert_eq!(fetch(mirror, "/_/healthz").await.status(), StatusCode::OK);
}

const BIN: &str = env!("CARGO_BIN_EXE_newsmirror");

#[test]
fn extract_command_prints_the_json_of_a_saved_gbk_page() {
    let text = "<html><head><meta charset=\"gbk\"><title>旧街市集重新开放</title></head><body><article><h1>旧街市集重新开放</h1>\
                <p>经过一年的改造，老城区的旧街市集本周重新开放，摊位数量比改造前增加了三成。</p>\
                <p>市集管理方表示，新的顶棚和排水系统让市集在雨天也能正常营业，附近居民买菜更加方便。</p>\
                <p>不少老摊主回到了原来的位置，也有年轻人在这里开设了新的小吃摊和手工艺品店。</p></article>\
                <a href=\"https://www.demo-news.test/tag/城市.html\">城市</a></body></html>";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    let out = Command::new(BIN)
        .args([
            "extract",
            "--config",
            "config/demo.toml",
            "--url",
            "https://www.demo-news.test/news/2026/11/market.html",
        ])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["site"], "demo-news");
    assert_eq!(a["url"], "/news/2026/11/market.html");
    assert_eq!(a["title"], "旧街市集重新开放");
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains("摊位数量比改造前增加了三成")
    );
}

#[test]
fn extract_command_reads_standard_input_without_a_config() {
    let mut child = Command::new(BIN)
        .args(["extract", "--url", "https://example.org/a/b.html", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let page = "<html lang=en><head><title>A quiet week in the valley</title></head><body><article><h1>A quiet week in the valley</h1>\
                <p>The valley had a quiet week, with mild weather and few visitors on the mountain roads after the season closed.</p>\
                <p>Shops in the main village reduced their hours, and the ferry across the lake will run only on weekends until spring.</p>\
                <p>Residents said they welcomed the calm after a busy summer that brought record numbers of hikers to the trails.</p>\
                <p><a href=\"../c/d.html\">Related story</a></p></article></body></html>";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["site"], Value::Null);
    assert_eq!(a["title"], "A quiet week in the valley");
    // `../c/d.html` from /a/b.html, same origin: root-relative.
    let html = a["content_html"].as_str().unwrap();
    assert!(html.contains("href=\"/c/d.html\""), "{html}");
}

#[test]
fn extract_command_fails_cleanly_on_a_page_without_article() {
    let mut child = Command::new(BIN)
        .args(["extract", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"<html><body></body></html>")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no article"));
}

#[tokio::test]
async fn script_and_data_links_broken_by_tabs_or_controls_leave_no_trace_in_content_and_markdown() {
    let page = "<html lang=en><head><title>Harbour works begin next month</title></head><body><article>\
                <h1>Harbour works begin next month</h1>\
                <p>Work on the old harbour wall will begin next month, the port authority said on Monday, after two years of delays.</p>\
                <p>The first phase <a href=\"java&#9;script:alert(1)\">tab link</a> covers the northern pier, \
                <a href=\"jav&#x0A;ascript:alert(2)\">newline link</a> where the stones have moved most since the storms.</p>\
                <p>Fishing boats <a href=\"&#x01;javascript:alert(3)\">control link</a> will moor at the southern quay \
                <a href=\"/&#9;x.htm\">tab path</a> while the work goes on, and <a href=\"/ok.htm\">a plain link</a> stays.</p>\
                <p><img src=\"da&#9;ta:text/html,&lt;script&gt;alert(4)&lt;/script&gt;\" alt=\"broken data\">\
                <img src=\"/photo.jpg\" alt=\"The harbour wall\"></p>\
                <p>The authority expects the harbour to reopen fully before the summer season, when ferries return to the islands.</p>\
                </article></body></html>";
    let router = Router::new().route(
        "/harbour.htm",
        get(move || async move {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    // What a browser would make of a URL: ASCII tab, newline and C0 controls gone.
    let unbroken = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_ascii_control())
            .collect::<String>()
            .to_ascii_lowercase()
    };

    let a = article(mirror, "/harbour.htm").await;
    let html = a["content_html"].as_str().unwrap();
    assert!(
        html.contains("tab link") && html.contains("control link"),
        "{html}"
    );
    assert_eq!(attr_values(html, "href"), ["/x.htm", "/ok.htm"], "{html}");
    assert_eq!(attr_values(html, "src"), ["/photo.jpg"], "{html}");
    for field in ["content_html", "text"] {
        let v = unbroken(a[field].as_str().unwrap());
        assert!(
            !v.contains("script:") && !v.contains("data:"),
            "{field}: {v}"
        );
    }
    let images = a["images"].to_string();
    assert!(!unbroken(&images).contains("data:"), "{images}");

    let (status, _, md) = api(mirror, "url=%2Fharbour.htm&format=markdown").await;
    assert_eq!(status, StatusCode::OK, "{md}");
    assert!(md.contains("[a plain link](/ok.htm)"), "{md}");
    let md = unbroken(&md);
    assert!(!md.contains("script:") && !md.contains("data:"), "{md}");
}

/// A page served as `text/html; charset=utf-8` by a test upstream at `path`.
fn html_route(path: &str, page: &'static str) -> Router {
    Router::new().route(
        path,
        get(move || async move {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
        }),
    )
}

const LONG_ARTICLE: &str = "<html lang=en><head><title>Harbour works begin next month</title></head><body><article>\
    <h1>Harbour works begin next month</h1>\
    <p>Work on the old harbour wall will begin next month, the port authority said on Monday, after two years of delays.</p>\
    <p>The first phase covers the northern pier, where the stones have moved most since the winter storms last year.</p>\
    <p>The authority expects the harbour to reopen fully before the summer season, when ferries return to the islands.</p>\
    </article></body></html>";

#[tokio::test]
async fn after_an_upstream_redirect_original_url_and_footer_name_the_final_page() {
    let router = html_route("/new.htm", LONG_ARTICLE).route(
        "/old.htm",
        get(|| async {
            (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, "https://www.u.test/new.htm")],
                "",
            )
        }),
    );
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let a = article(mirror, "/old.htm").await;
    assert_eq!(a["url"], "/new.htm");
    assert_eq!(a["original_url"], "https://www.u.test/new.htm");
    let (status, _, md) = api(mirror, "url=%2Fold.htm&format=markdown").await;
    assert_eq!(status, StatusCode::OK, "{md}");
    assert!(
        md.trim_end()
            .ends_with("原文链接：https://www.u.test/new.htm"),
        "{md}"
    );
}

#[tokio::test]
async fn the_mirror_url_the_browser_shows_is_accepted_without_public_url_or_hosts() {
    let (up, _) = upstream(html_route("/news/a.htm", LONG_ARTICLE)).await;
    let mirror = mirror(&config(up, "")).await;
    let shown = format!("http://{mirror}/news/a.htm");
    let a = article(mirror, &shown).await;
    assert_eq!(a["url"], "/news/a.htm");
    assert_eq!(a["original_url"], "https://www.u.test/news/a.htm");
    // Another host's URL is still not a mirror URL.
    let (status, _, body) = api(
        mirror,
        &format!("url={}", urlencode("http://www.example.org/news/a.htm")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn a_short_page_with_one_real_paragraph_is_an_article_and_an_empty_page_is_422() {
    let text = "<html><head><meta charset=\"gbk\"><title>停水通知</title></head><body>\
                <p>通知：<a href=\"/notice.htm\">明日上午九点至下午三点全市停水，请提前储水</a></p></body></html>";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let gbk = gbk.into_owned();
    let router = Router::new()
        .route(
            "/short.htm",
            get(move || {
                let body = gbk.clone();
                async move { ([(header::CONTENT_TYPE, "text/html")], body).into_response() }
            }),
        )
        .merge(html_route(
            "/empty.htm",
            "<html><head><title>Nothing</title></head><body><div><a href=\"/\">Home</a></div></body></html>",
        ));
    let (up, _) = upstream(router).await;
    let mirror = mirror(&config(up, "")).await;
    let a = article(mirror, "/short.htm").await;
    let text = a["text"].as_str().unwrap();
    assert!(
        text.contains("通知：明日上午九点至下午三点全市停水"),
        "{text}"
    );
    assert!(
        a["content_html"]
            .as_str()
            .unwrap()
            .contains("href=\"/notice.htm\""),
        "{a}"
    );
    let (status, ct, body) = api(mirror, "url=%2Fempty.htm").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(ct, "application/problem+json");
}

#[tokio::test]
async fn placeholders_give_way_to_the_lazy_image_and_are_never_listed() {
    let page = "<html lang=en><head><title>Harbour works begin next month</title></head><body><article>\
        <h1>Harbour works begin next month</h1>\
        <figure><img src=\"/static/px.gif\" data-src=\"https://img.u.test/photos/one.jpg\" alt=\"One\">\
        <figcaption>The harbour wall at low tide</figcaption></figure>\
        <p>Work on the old harbour wall will begin next month, the port authority said on Monday, after two years of delays.</p>\
        <p><img src=\"/img/blank.gif\" width=\"1\" height=\"1\" data-original=\"https://img.u.test/photos/two.jpg\" alt=\"Two\"></p>\
        <p>The first phase covers the northern pier, where the stones have moved most since the winter storms last year.</p>\
        <p><img src=\"data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==\" data-lazy-src=\"/photos/three.jpg\" alt=\"Three\"></p>\
        <p><img src=\"/spacer.png\" alt=\"\"><img src=\"/t/px.gif\"><img src=\"/count.gif?id=7\" width=\"1\" height=\"1\"></p>\
        <p>The authority expects the harbour to reopen fully before the summer season, when ferries return to the islands.</p>\
        </article></body></html>";
    let (up, _) = upstream(html_route("/lazy.htm", page)).await;
    let mirror = mirror(&config(up, "")).await;
    let a = article(mirror, "/lazy.htm").await;
    let urls: Vec<&str> = a["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "/_/asset/img.u.test/photos/one.jpg",
            "/_/asset/img.u.test/photos/two.jpg",
            "/photos/three.jpg"
        ],
        "{a}"
    );
    assert_eq!(a["lead_image"]["url"], "/_/asset/img.u.test/photos/one.jpg");
    let html = a["content_html"].as_str().unwrap();
    assert_eq!(attr_values(html, "src"), urls, "{html}");
    let (status, _, md) = api(mirror, "url=%2Flazy.htm&format=markdown").await;
    assert_eq!(status, StatusCode::OK, "{md}");
    for absent in ["px.gif", "blank.gif", "spacer", "count.gif", "data:"] {
        assert!(!md.contains(absent), "{absent}: {md}");
        assert!(!a.to_string().contains(absent), "{absent}: {a}");
    }
    assert!(md.contains("/_/asset/img.u.test/photos/two.jpg"), "{md}");
}

#[tokio::test]
async fn article_images_are_always_mirror_urls_with_their_original() {
    let page = "<html lang=en><head><title>Harbour works begin next month</title>\
        <script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"image\":\"//img.u.test/photos/ld.jpg\"}</script>\
        </head><body>\
        <h1>Harbour works begin next month</h1>\
        <noscript><img src=\"https://img.u.test/photos/lead.jpg\" alt=\"Lead\"></noscript>\
        <div class=\"article-body\">\
        <p>Work on the old harbour wall will begin next month, the port authority said on Monday, after two years of delays.</p>\
        <p><img src=\"//img.u.test/photos/b.jpg\" alt=\"B\"></p>\
        <p>The first phase covers the northern pier, where the stones have moved most since the winter storms last year.</p>\
        <p><img src=\"https://elsewhere.test/c.jpg\" alt=\"C\"></p>\
        <figure><img src=\"https://elsewhere.test/d.jpg\"><figcaption>Elsewhere caption</figcaption></figure>\
        <p>The authority expects the harbour to reopen fully before the summer season, when ferries return to the islands.</p>\
        </div></body></html>";
    let og = "<html lang=en><head><title>Harbour works begin next month</title>\
        <meta property=\"og:image\" content=\"https://elsewhere.test/og.jpg\">\
        </head><body><article><h1>Harbour works begin next month</h1>\
        <p>Work on the old harbour wall will begin next month, the port authority said on Monday, after two years of delays.</p>\
        <p>The first phase covers the northern pier, where the stones have moved most since the winter storms last year.</p>\
        </article></body></html>";
    let ld = "<html lang=en><head><title>Harbour works begin next month</title>\
        <script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"image\":\"//img.u.test/photos/ld.jpg\"}</script>\
        </head><body><article><h1>Harbour works begin next month</h1>\
        <p>Work on the old harbour wall will begin next month, the port authority said on Monday, after two years of delays.</p>\
        <p>The first phase covers the northern pier, where the stones have moved most since the winter storms last year.</p>\
        </article></body></html>";
    let router = html_route("/img.htm", page)
        .merge(html_route("/og.htm", og))
        .merge(html_route("/ld.htm", ld));
    let (up, _) = upstream(router).await;
    let toml = config(up, "").replace("proxy_all_images = true", "proxy_all_images = false");
    let mirror = mirror(&toml).await;
    let a = article(mirror, "/img.htm").await;
    let mut all: Vec<&Value> = a["images"].as_array().unwrap().iter().collect();
    all.push(&a["lead_image"]);
    for image in all {
        let url = image["url"].as_str().unwrap();
        assert!(url.starts_with('/') && !url.starts_with("//"), "{a}");
        let original = image["original_url"].as_str().unwrap_or_default();
        assert!(original.starts_with("https://img.u.test/photos/"), "{a}");
        assert!(url.ends_with(original.rsplit('/').next().unwrap()), "{a}");
    }
    let html = a["content_html"].as_str().unwrap();
    for src in attr_values(html, "src") {
        assert!(src.starts_with("/_/asset/img.u.test/photos/"), "{html}");
    }
    assert!(!a.to_string().contains("elsewhere.test"), "{a}");
    assert!(!html.contains("Elsewhere caption"), "{html}");
    let (status, _, md) = api(mirror, "url=%2Fimg.htm&format=markdown").await;
    assert_eq!(status, StatusCode::OK, "{md}");
    assert!(
        !md.contains("elsewhere.test") && !md.contains("](//"),
        "{md}"
    );
    assert!(md.contains("](/_/asset/img.u.test/photos/"), "{md}");

    // Metadata images: one on a host the mirror does not serve is dropped,
    // one on an asset host is its mirror URL.
    let a = article(mirror, "/og.htm").await;
    assert_eq!(a["lead_image"], Value::Null, "{a}");
    assert_eq!(a["images"], serde_json::json!([]), "{a}");
    let a = article(mirror, "/ld.htm").await;
    assert_eq!(
        a["lead_image"]["url"], "/_/asset/img.u.test/photos/ld.jpg",
        "{a}"
    );
    assert_eq!(
        a["lead_image"]["original_url"], "https://img.u.test/photos/ld.jpg",
        "{a}"
    );
}

#[tokio::test]
async fn a_figure_whose_video_was_dropped_goes_with_its_caption() {
    let page = "<html lang=en><head><title>Harbour works begin next month</title></head><body><article>\
        <h1>Harbour works begin next month</h1>\
        <p>Work on the old harbour wall will begin next month, the port authority said on Monday, after two years of delays.</p>\
        <figure><video controls src=\"/media/wall.mp4\" poster=\"/media/wall.jpg\"></video>\
        <figcaption>Video: the wall after the storms</figcaption></figure>\
        <p>The first phase covers the northern pier, where the stones have moved most since the winter storms last year.</p>\
        <figure><img src=\"/photos/pier.jpg\" alt=\"Pier\"><figcaption>The northern pier</figcaption></figure>\
        <p>The authority expects the harbour to reopen fully before the summer season, when ferries return to the islands.</p>\
        </article></body></html>";
    let (up, _) = upstream(html_route("/video.htm", page)).await;
    let mirror = mirror(&config(up, "")).await;
    let a = article(mirror, "/video.htm").await;
    let html = a["content_html"].as_str().unwrap();
    assert!(!html.contains("the wall after the storms"), "{html}");
    assert_eq!(html.matches("<figure").count(), 1, "{html}");
    assert!(html.contains("The northern pier"), "{html}");
    let (status, _, md) = api(mirror, "url=%2Fvideo.htm&format=markdown").await;
    assert_eq!(status, StatusCode::OK, "{md}");
    assert!(!md.contains("the wall after the storms"), "{md}");
    assert!(md.contains("The northern pier"), "{md}");
}
