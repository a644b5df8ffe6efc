//! Live rewriting of HTML and CSS: every URL place, removals, injection,
//! external-link policies, headers and charsets, against a real upstream.

mod common;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::*;
use lol_html::{RewriteStrSettings, element, rewrite_str};

const PAGE: &str = r##"<!doctype html><html><head>
<meta http-equiv="refresh" content="30; url=https://www.u.test/a/next.htm">
<meta property="og:image" content="https://img.u.test/og.jpg">
<meta property="og:url" content="https://www.u.test/a/b/page.htm">
<meta name="twitter:image" content="https://cdn.other.test/tw.jpg">
<link rel="canonical" href="https://www.u.test/a/b/page.htm">
<link id="css" rel="stylesheet" href="../../css/site.css" integrity="sha384-abc">
<link id="prefetch" rel="dns-prefetch" href="//cdn.other.test">
<link id="preload" rel="preload" as="image" href="https://cdn.other.test/hero.jpg" imagesrcset="https://cdn.other.test/hero.jpg 1x, https://img.u.test/hero@2x.jpg 2x">
<style>.a{background:url(/img/a.png)} .b{background:url("https://img.u.test/b.png")}</style>
<script id="app" src="https://www.u.test/js/app.js"></script>
<script type="application/ld+json">{"@type":"NewsArticle","headline":"kept"}</script>
</head><body>
<a id="rel" href="c.htm">rel</a>
<a id="root" href="/x/y.htm">root</a>
<a id="up" href="../up.htm">up</a>
<a id="proto" href="//www.u.test/proto.htm">proto</a>
<a id="abs" href="https://www.u.test/abs.htm?x=1&amp;y=2#frag">abs</a>
<a id="alias" href="http://u.test/alias.htm">alias</a>
<a id="ext" class="big" href="https://www.example.org/ext">ext</a>
<a id="frag" href="#top">frag</a>
<a id="js" href="javascript:void(0)">js</a>
<a id="mail" href="mailto:a@b.test">mail</a>
<a id="ping" href="/p" ping="https://tracker.test/p">ping</a>
<img id="asset" src="https://img.u.test/p/1.jpg" srcset="https://img.u.test/p/1,a_400.jpg 400w, https://img.u.test/p/1,a_800.jpg 800w">
<img id="other" src="https://cdn.other.test/p/2.jpg?w=1&amp;h=2">
<img id="data" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<img id="lazy" src="/px.gif" data-src="/lazy.jpg" data-srcset="/l1.jpg 1x, /l2.jpg 2x" data-original="https://cdn.other.test/orig.jpg">
<video id="vid" poster="/poster.jpg" src="https://img.u.test/v.mp4"><source id="src2" src="/v2.webm"></video>
<form id="form" action="/search"><button id="btn" formaction="https://www.u.test/alt-search">go</button></form>
<div id="styled" style="background-image:url(&quot;https://img.u.test/bg.png&quot;)">x</div>
<iframe id="frame" src="https://www.u.test/embed.htm"></iframe>
<div id="below_article_ad">AD-TEXT</div>
<aside class="promo">PROMO-TEXT</aside>
<script>alert("inline")</script>
<p id="last">end</p>
</body></html>"##;

const CSS: &str = r#"@import "print.css";
@import url(https://www.u.test/css/more.css);
body { background: url(../img/bg.png) }
.logo { background-image: url('https://img.u.test/logo.png') }
@font-face { font-family: x; src: url(//cdn.other.test/f.woff2) format("woff2") }
.hero { background: image-set("https://cdn.other.test/h1.jpg" 1x, "/h2.jpg" 2x) }
"#;

fn html_response(body: impl Into<Body>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn site() -> Router {
    Router::new()
        .route("/a/b/page.htm", get(|| async { html_response(PAGE) }))
        .route(
            "/wide.htm",
            get(|| async {
                // One element with 300 attributes, one with 60.
                let wide: String = (0..300).map(|i| format!(" data-x{i}=\"v\"")).collect();
                let ok: String = (0..59).map(|i| format!(" data-y{i}=\"v\"")).collect();
                html_response(format!(
                    "<html><body><div id=\"wide\"{wide} data-u=\"https://cdn.far.test/x.js\">wide</div>\
                     <p id=\"ok\"{ok} data-u=\"https://www.u.test/a.htm\">ok</p></body></html>"
                ))
            }),
        )
        .route(
            "/css/site.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], CSS) }),
        )
        .route(
            "/slow-style.htm",
            get(|| async {
                // The <style> block and its url() arrive cut into 5-byte pieces.
                let page = "<html><head><style>.x{background:url(https://img.u.test/split/image.png)}</style></head><body><p>t</p></body></html>";
                let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
                    page.as_bytes().chunks(5).map(|c| Ok(c.to_vec())).collect();
                let stream = futures_util::stream::iter(pieces).then(|c| async move {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    c
                });
                html_response(Body::from_stream(stream))
            }),
        )
        .route(
            "/base.htm",
            get(|| async {
                html_response(r#"<html><head><base href="https://www.u.test/other/dir/"></head><body><a id="l" href="x.htm">x</a></body></html>"#)
            }),
        )
        .route(
            "/no-body-tag.htm",
            get(|| async { html_response("<p id=only>just a fragment") }),
        )
        .route(
            "/headers.htm",
            get(|| async {
                let mut h = HeaderMap::new();
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
                h.append(header::SET_COOKIE, HeaderValue::from_static("sid=1; Path=/"));
                h.insert(
                    header::LINK,
                    HeaderValue::from_static("<https://www.u.test/css/site.css>; rel=preload; as=style"),
                );
                h.insert("refresh", HeaderValue::from_static("10; url=https://www.u.test/next"));
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("img-src https://img.u.test; default-src 'self'"),
                );
                h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=100"));
                h.insert("alt-svc", HeaderValue::from_static("h3=\":443\""));
                h.insert(
                    header::CONTENT_LOCATION,
                    HeaderValue::from_static("https://www.u.test/headers.htm"),
                );
                (h, "<html><body>h</body></html>")
            }),
        )
        .route(
            "/redirect-site",
            get(|| async {
                (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "https://www.u.test/target?a=1")])
            }),
        )
        .route(
            "/redirect-asset",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "https://img.u.test/p/moved.jpg")]) }),
        )
        .route(
            "/redirect-relative",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "news/today.htm")]) }),
        )
        .route(
            "/redirect-external",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "https://www.example.org/")]) }),
        )
}

use futures_util::StreamExt;

/// The value of `attr` on the first element matching `selector`.
fn attr(html: &str, selector: &str, attr: &str) -> Option<String> {
    let found = std::cell::RefCell::new(None);
    let _ = rewrite_str(
        html,
        RewriteStrSettings::new().append_element_content_handler(element!(selector, |el| {
            if found.borrow().is_none() {
                *found.borrow_mut() = Some(el.get_attribute(attr));
            }
            Ok(())
        })),
    );
    found.into_inner().flatten()
}

async fn rewritten(extra: &str, path: &str) -> String {
    let (up, _) = upstream(site()).await;
    let mirror = mirror(&config(up, extra)).await;
    let (status, headers, body) = get_text(mirror, path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    body
}

const REMOVE: &str = r##"remove = ["script", "#below_article_ad", "aside"]"##;

#[tokio::test]
async fn an_element_with_more_attributes_than_any_page_has_is_removed() {
    let html = rewritten("", "/wide.htm").await;
    assert!(!html.contains("id=\"wide\""), "{html}");
    assert!(!html.contains("cdn.far.test"), "{html}");
    assert_eq!(
        attr(&html, "#ok", "data-u").as_deref(),
        Some("/a.htm"),
        "{html}"
    );
}

#[tokio::test]
async fn links_of_every_form_map_to_the_mirror() {
    let html = rewritten(REMOVE, "/a/b/page.htm").await;
    let href = |id: &str| attr(&html, &format!("#{id}"), "href").unwrap_or_default();
    assert_eq!(href("rel"), "/a/b/c.htm");
    assert_eq!(href("root"), "/x/y.htm");
    assert_eq!(href("up"), "/a/up.htm");
    assert_eq!(href("proto"), "/proto.htm");
    assert_eq!(href("abs"), "/abs.htm?x=1&amp;y=2#frag");
    assert_eq!(href("alias"), "/alias.htm");
    assert_eq!(href("ext"), "https://www.example.org/ext");
    assert_eq!(href("frag"), "#top");
    assert_eq!(href("js"), "javascript:void(0)");
    assert_eq!(href("mail"), "mailto:a@b.test");
    assert!(
        attr(&html, "#ping", "ping").is_none(),
        "ping attributes are removed"
    );
}

#[tokio::test]
async fn images_media_and_forms_map_to_mirror_routes() {
    let html = rewritten(REMOVE, "/a/b/page.htm").await;
    let get = |sel: &str, a: &str| attr(&html, sel, a).unwrap_or_default();
    assert_eq!(get("#asset", "src"), "/_/asset/img.u.test/p/1.jpg");
    assert_eq!(
        get("#asset", "srcset"),
        "/_/asset/img.u.test/p/1,a_400.jpg 400w, /_/asset/img.u.test/p/1,a_800.jpg 800w"
    );
    assert!(
        get("#other", "src").starts_with("/_/img/"),
        "{}",
        get("#other", "src")
    );
    assert!(get("#data", "src").starts_with("data:image/gif"));
    assert_eq!(get("#lazy", "data-src"), "/lazy.jpg");
    assert_eq!(get("#lazy", "data-srcset"), "/l1.jpg 1x, /l2.jpg 2x");
    assert!(get("#lazy", "data-original").starts_with("/_/img/"));
    assert_eq!(get("#vid", "poster"), "/poster.jpg");
    assert_eq!(get("#vid", "src"), "/_/asset/img.u.test/v.mp4");
    assert_eq!(get("#src2", "src"), "/v2.webm");
    assert_eq!(get("#form", "action"), "/search");
    assert_eq!(get("#btn", "formaction"), "/alt-search");
    assert_eq!(get("#frame", "src"), "/embed.htm");
    assert_eq!(
        get("#styled", "style"),
        "background-image:url(&quot;/_/asset/img.u.test/bg.png&quot;)"
    );
    // The signed URL of a proxied image decodes to the original, entities resolved.
    let signed = get("#other", "src");
    let b64 = signed.rsplit('/').next().unwrap_or_default();
    use base64::Engine;
    let original = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .unwrap();
    assert_eq!(original, b"https://cdn.other.test/p/2.jpg?w=1&h=2");
}

#[tokio::test]
async fn head_metadata_links_and_style_blocks_are_rewritten() {
    let html = rewritten(REMOVE, "/a/b/page.htm").await;
    let get = |sel: &str, a: &str| attr(&html, sel, a).unwrap_or_default();
    assert_eq!(
        get("meta[http-equiv=refresh]", "content"),
        "30; url=/a/next.htm"
    );
    assert_eq!(
        get("meta[property='og:image']", "content"),
        "/_/asset/img.u.test/og.jpg"
    );
    assert_eq!(get("meta[property='og:url']", "content"), "/a/b/page.htm");
    assert!(get("meta[name='twitter:image']", "content").starts_with("/_/img/"));
    assert_eq!(get("link[rel=canonical]", "href"), "/a/b/page.htm");
    assert_eq!(get("#css", "href"), "/css/site.css");
    assert!(
        attr(&html, "#css", "integrity").is_none(),
        "integrity no longer matches"
    );
    assert!(
        attr(&html, "#prefetch", "href").is_none(),
        "dns-prefetch to other hosts is dropped"
    );
    assert!(get("#preload", "href").starts_with("/_/img/"));
    let srcset = get("#preload", "imagesrcset");
    assert!(
        srcset.starts_with("/_/img/") && srcset.ends_with(", /_/asset/img.u.test/hero@2x.jpg 2x"),
        "{srcset}"
    );
    assert!(
        html.contains(".a{background:url(\"/img/a.png\")}"),
        "{html}"
    );
    assert!(html.contains(".b{background:url(\"/_/asset/img.u.test/b.png\")}"));
}

#[tokio::test]
async fn removed_elements_go_with_their_content_and_json_ld_stays() {
    let html = rewritten(REMOVE, "/a/b/page.htm").await;
    assert!(!html.contains("AD-TEXT"));
    assert!(!html.contains("PROMO-TEXT"));
    assert!(!html.contains("alert(\"inline\")"));
    assert!(!html.contains("app.js"));
    assert!(
        html.contains("\"headline\":\"kept\""),
        "JSON-LD is data, kept for the extractor"
    );
    assert!(html.contains("<p id=\"last\">end</p>"));
}

#[tokio::test]
async fn nav_bar_and_footer_are_injected_with_escaped_operator_text() {
    let html = rewritten(REMOVE, "/a/b/page.htm").await;
    let body_at = html.find("<body>").unwrap();
    let nav = "<nav id=\"newsmirror-nav\"><a href=\"/\">Home</a><a href=\"/world/\">World &amp; &lt;News&gt;</a></nav>";
    assert_eq!(&html[body_at + 6..body_at + 6 + nav.len()], nav);
    let footer = "<footer id=\"newsmirror-footer\">原文链接：<a href=\"https://www.u.test/a/b/page.htm\" rel=\"nofollow noopener\">https://www.u.test/a/b/page.htm</a></footer></body>";
    assert!(html.contains(footer), "{html}");
    assert_eq!(html.matches("newsmirror-nav").count(), 1);
    assert!(html.contains(
        "<head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/_/static/newsmirror.css\">"
    ));
}

#[tokio::test]
async fn a_page_without_body_or_head_still_gets_nav_and_footer() {
    let html = rewritten("", "/no-body-tag.htm").await;
    assert!(html.starts_with("<p id=only>just a fragment"));
    assert!(html.contains("newsmirror-nav"));
    assert!(html.contains("newsmirror-footer"));
    assert!(html.contains("/_/static/newsmirror.css"));
}

#[tokio::test]
async fn external_links_can_be_marked() {
    let html = rewritten("external_links = \"mark\"", "/a/b/page.htm").await;
    assert_eq!(
        attr(&html, "#ext", "class").as_deref(),
        Some("big newsmirror-external")
    );
    assert_eq!(
        attr(&html, "#ext", "href").as_deref(),
        Some("https://www.example.org/ext")
    );
    assert!(
        attr(&html, "#rel", "class").is_none(),
        "mirror links are not marked"
    );
}

#[tokio::test]
async fn external_links_can_be_unlinked() {
    let html = rewritten("external_links = \"unlink\"", "/a/b/page.htm").await;
    assert!(
        html.contains("<span id=\"ext\" class=\"big newsmirror-external\">ext</span>"),
        "{html}"
    );
    assert!(!html.contains("www.example.org"));
    assert_eq!(attr(&html, "#rel", "href").as_deref(), Some("/a/b/c.htm"));
}

#[tokio::test]
async fn css_files_are_rewritten_with_imports_and_image_sets() {
    let (up, _) = upstream(site()).await;
    let mirror = mirror(&config(up, "")).await;
    let (status, headers, css) = get_text(mirror, "/css/site.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.contains("@import \"/css/print.css\";"), "{css}");
    assert!(css.contains("@import url(\"/css/more.css\");"));
    assert!(css.contains("background: url(\"/img/bg.png\")"));
    assert!(css.contains("url(\"/_/asset/img.u.test/logo.png\")"));
    assert!(
        css.contains("src: url(\"/_/img/"),
        "fonts from other hosts go through signed URLs: {css}"
    );
    assert!(css.contains("image-set(\"/_/img/"));
    assert!(css.contains("\"/h2.jpg\" 2x"));
}

#[tokio::test]
async fn style_text_cut_into_pieces_is_rewritten_whole() {
    let html = rewritten("", "/slow-style.htm").await;
    assert!(
        html.contains(".x{background:url(\"/_/asset/img.u.test/split/image.png\")}"),
        "{html}"
    );
}

#[tokio::test]
async fn base_element_is_honoured_and_mapped() {
    let html = rewritten("", "/base.htm").await;
    assert_eq!(attr(&html, "base", "href").as_deref(), Some("/other/dir/"));
    assert_eq!(
        attr(&html, "#l", "href").as_deref(),
        Some("/other/dir/x.htm")
    );
}

#[tokio::test]
async fn response_headers_are_mapped_and_cleaned() {
    let (up, _) = upstream(site()).await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/headers.htm").await;
    let h = r.headers();
    assert!(h.get(header::SET_COOKIE).is_none());
    assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none());
    assert!(h.get("alt-svc").is_none());
    // Upstream's policy (naming its hosts) is replaced by the mirror's own.
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("u.test"), "{csp}");
    assert_eq!(h[header::LINK], "</css/site.css>; rel=preload; as=style");
    assert_eq!(h["refresh"], "10; url=/next");
    assert_eq!(h[header::CONTENT_LOCATION], "/headers.htm");
}

#[tokio::test]
async fn redirects_to_upstream_and_asset_hosts_stay_on_the_mirror() {
    let (up, _) = upstream(site()).await;
    let mirror = mirror(&config(up, "")).await;
    let r = fetch(mirror, "/redirect-site").await;
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.headers()[header::LOCATION], "/target?a=1");
    let r = fetch(mirror, "/redirect-asset").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        r.headers()[header::LOCATION],
        "/_/asset/img.u.test/p/moved.jpg"
    );
    let r = fetch(mirror, "/redirect-relative").await;
    assert_eq!(r.headers()[header::LOCATION], "/news/today.htm");
    let r = fetch(mirror, "/redirect-external").await;
    assert_eq!(r.headers()[header::LOCATION], "https://www.example.org/");
}

#[tokio::test]
async fn rewritten_pages_carry_no_upstream_url_in_url_places() {
    let html = rewritten(REMOVE, "/a/b/page.htm").await;
    // Outside the footer's original link and the JSON-LD data, no URL place
    // may point at upstream or its asset host.
    let footer_at = html.find("<footer id=\"newsmirror-footer\">").unwrap();
    for attr_name in [
        "href",
        "src",
        "srcset",
        "content",
        "poster",
        "action",
        "formaction",
        "style",
        "data-src",
        "data-original",
        "imagesrcset",
    ] {
        for v in attr_values(&html[..footer_at], attr_name) {
            for host in [
                "//www.u.test",
                "//u.test",
                "//img.u.test",
                "//cdn.other.test",
            ] {
                assert!(!v.contains(host), "{attr_name}={v}");
            }
        }
    }
}
