//! Pages in legacy encodings leave the mirror as UTF-8, declared in the
//! header and in a matching `<meta charset>`, whether the original named its
//! encoding in the header, in `<meta>`, or nowhere.

mod common;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;
use common::*;
use encoding_rs::{BIG5, Encoding, GBK, SHIFT_JIS};

fn chinese_page(meta: &str) -> String {
    format!(
        "<!doctype html><html><head>{meta}<title>美中关系缓和仍处于试探阶段</title></head><body>\
         <h1>消息：两位领导人可能在峰会期间会面</h1>{}<a href=\"https://www.u.test/gb/tag/峰会.html\">峰会</a></body></html>",
        "<p>知情官员周四表示，白宫正为会晤制定计划。预计在十一月，两位领导人可能在旧金山峰会时会面。北京尚未对参加此次会议做出承诺。</p>"
            .repeat(20)
    )
}

fn encoded(enc: &'static Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = enc.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn site() -> Router {
    let header_gbk = encoded(GBK, &chinese_page(""));
    let meta_gbk = encoded(
        GBK,
        &chinese_page("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"),
    );
    let undeclared = encoded(GBK, &chinese_page(""));
    let big5 = encoded(
        BIG5,
        &format!(
            "<html><head><meta charset=\"big5\"><title>台灣新聞</title></head><body>{}</body></html>",
            "<p>立法院今日三讀通過預算案。</p>".repeat(10)
        ),
    );
    let sjis = encoded(
        SHIFT_JIS,
        &format!(
            "<html><body>{}</body></html>",
            "<p>東京のニュースです。</p>".repeat(10)
        ),
    );
    Router::new()
        .route(
            "/header-gbk.htm",
            get(move || {
                let b = header_gbk.clone();
                async move { ([(header::CONTENT_TYPE, "text/html; charset=GBK")], b) }
            }),
        )
        .route(
            "/meta-gbk.htm",
            get(move || {
                let b = meta_gbk.clone();
                async move { ([(header::CONTENT_TYPE, "text/html")], b) }
            }),
        )
        .route(
            "/undeclared.htm",
            get(move || {
                let b = undeclared.clone();
                async move { ([(header::CONTENT_TYPE, "text/html")], b) }
            }),
        )
        .route(
            "/big5.htm",
            get(move || {
                let b = big5.clone();
                async move { ([(header::CONTENT_TYPE, "text/html")], b) }
            }),
        )
        .route(
            "/sjis.htm",
            get(move || {
                let b = sjis.clone();
                async move { ([(header::CONTENT_TYPE, "text/html; charset=shift_jis")], b) }
            }),
        )
        .route(
            "/gbk.css",
            get(|| async {
                let css = encoded(GBK, "@charset \"gbk\";\n.a::before{content:\"新闻\"}\n.b{background:url(https://img.u.test/新.png)}");
                ([(header::CONTENT_TYPE, "text/css")], css)
            }),
        )
}

async fn page(path: &str) -> String {
    let (up, _) = upstream(site()).await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, path).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = r.bytes().await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).expect("the mirror sends UTF-8");
    assert!(ct.ends_with("charset=utf-8"), "{path}: {ct}");
    text
}

#[tokio::test]
async fn gbk_declared_in_the_header_comes_out_as_utf8() {
    let html = page("/header-gbk.htm").await;
    assert!(html.contains("<title>美中关系缓和仍处于试探阶段</title>"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    // The tag link (non-ASCII path) maps like any other.
    assert!(
        html.contains("href=\"/gb/tag/%E5%B3%B0%E4%BC%9A.html\""),
        "{html}"
    );
}

#[tokio::test]
async fn gbk_declared_in_meta_comes_out_as_utf8_with_one_declaration() {
    let html = page("/meta-gbk.htm").await;
    assert!(html.contains("<h1>消息：两位领导人可能在峰会期间会面</h1>"));
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("gb2312"));
    assert_eq!(charset_declarations(&html), 1, "{html}");
    assert!(html.contains("<meta charset=\"utf-8\">"));
}

/// `<meta charset>` and `<meta http-equiv=content-type>` in a page.
fn charset_declarations(html: &str) -> usize {
    let lower = html.to_ascii_lowercase();
    lower.matches("<meta charset").count() + lower.matches("http-equiv=\"content-type\"").count()
}

#[tokio::test]
async fn a_rewritten_page_declares_its_charset_once() {
    for path in [
        "/header-gbk.htm",
        "/meta-gbk.htm",
        "/undeclared.htm",
        "/big5.htm",
        "/sjis.htm",
    ] {
        let html = page(path).await;
        // One, or none when the page has no <head> (the header says UTF-8).
        assert!(charset_declarations(&html) <= 1, "{path}: {html}");
    }
}

#[tokio::test]
async fn gbk_page_without_any_declaration_is_detected() {
    let html = page("/undeclared.htm").await;
    assert!(
        html.contains("北京尚未对参加此次会议做出承诺"),
        "{}",
        &html[..400.min(html.len())]
    );
    assert!(html.contains("<meta charset=\"utf-8\">"));
}

#[tokio::test]
async fn big5_and_shift_jis_come_out_as_utf8() {
    let html = page("/big5.htm").await;
    assert!(html.contains("立法院今日三讀通過預算案"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    let html = page("/sjis.htm").await;
    assert!(html.contains("東京のニュースです"));
}

#[tokio::test]
async fn gbk_stylesheet_comes_out_as_utf8() {
    let css = page("/gbk.css").await;
    assert!(css.contains(".a::before{content:\"新闻\"}"), "{css}");
    assert!(
        css.contains("url(\"/_/asset/img.u.test/%E6%96%B0.png\")"),
        "{css}"
    );
}
