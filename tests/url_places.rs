//! Every place real pages put URLs, the mirror's own Content-Security-Policy
//! and the no-script reading mode: the reader's browser is given nothing
//! that reaches another host (issue 12). Pages come from an upstream made
//! here; the mirror is the real server.

mod common;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use common::*;

fn page(body: &'static str) -> Router {
    Router::new().fallback(move || async move {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self' https://www.u.test; script-src 'unsafe-inline'",
                ),
            ],
            body,
        )
            .into_response()
    })
}

/// The site mounted at `/m/`, so that root-relative URLs show their mapping.
fn mounted(toml: String) -> String {
    toml.replace("mount = \"/\"", "mount = \"/m/\"")
}

async fn served(body: &'static str, extra: &str) -> (reqwest::header::HeaderMap, String) {
    let (up, _) = upstream(page(body)).await;
    let mut toml = mounted(config(up, extra));
    if extra.contains("proxy_all_images") {
        toml = toml.replacen("proxy_all_images = true\n", "", 1);
    }
    let mirror = mirror(&toml).await;
    let (status, headers, html) = get_text(mirror, "/m/a.htm").await;
    assert_eq!(status, StatusCode::OK);
    (headers, html)
}

/// No URL of an upstream or third-party host is left in `html` (but the
/// footer's link to the original, which is meant to name it).
fn assert_no_host(html: &str, hosts: &[&str]) {
    let page = html
        .split("<footer id=\"newsmirror-footer\">")
        .next()
        .unwrap_or(html);
    for host in hosts {
        for form in [format!("//{host}"), format!("\\/\\/{host}")] {
            assert!(!page.contains(&form), "{form} is still named:\n{html}");
        }
    }
}

#[tokio::test]
async fn rewritten_pages_carry_the_mirrors_policy_instead_of_upstreams() {
    let (h, _) = served("<p>x</p>", "").await;
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "report-uri /_/csp-report",
    ] {
        assert!(csp.contains(directive), "{directive}: {csp}");
    }
    assert!(
        !csp.contains("www.u.test"),
        "upstream's policy is replaced: {csp}"
    );
    assert_eq!(h["x-dns-prefetch-control"], "off");
    assert_eq!(h[header::REFERRER_POLICY], "same-origin");
    assert!(
        h["reporting-endpoints"]
            .to_str()
            .unwrap()
            .contains("/_/csp-report")
    );

    let (h, _) = served("<p>x</p>", "javascript = \"remove\"").await;
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'none'"), "{csp}");

    let (h, _) = served("<p>x</p>", "csp = false").await;
    assert!(
        h.get(header::CONTENT_SECURITY_POLICY)
            .is_none_or(|v| !v.to_str().unwrap().contains("report-uri"))
    );
    assert_eq!(h["x-dns-prefetch-control"], "off");
}

#[tokio::test]
async fn meta_policies_of_upstream_are_replaced_too() {
    let (_, html) = served(
        "<head><meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\"></head><p>x</p>",
        "",
    )
    .await;
    assert!(!html.contains("Content-Security-Policy"), "{html}");
}

#[tokio::test]
async fn noscript_content_is_rewritten_like_the_page() {
    let (_, html) = served(
        r#"<p><img data-src="https://www.u.test/big.jpg" src="data:image/gif;base64,R0lGOD">
        <noscript><img src="https://www.u.test/big.jpg" srcset="https://img.u.test/b.jpg 2x">
        <iframe src="https://www.u.test/embed.htm"></iframe><link rel="stylesheet" href="/s.css"></noscript></p>"#,
        "",
    )
    .await;
    assert_no_host(&html, &["www.u.test", "img.u.test"]);
    assert!(html.contains("<noscript>"), "kept with scripts: {html}");
    assert!(html.contains(r#"src="/m/big.jpg""#), "{html}");
    assert!(
        html.contains(r#"srcset="/_/asset/img.u.test/b.jpg 2x""#),
        "{html}"
    );
    assert!(html.contains(r#"src="/m/embed.htm""#), "{html}");
    assert!(html.contains(r#"href="/m/s.css""#), "{html}");
}

#[tokio::test]
async fn resource_hints_are_dropped_or_mapped() {
    let (_, html) = served(
        r#"<head><link rel="dns-prefetch" href="//www.google-analytics.com">
        <link rel="preconnect" href="https://www.u.test">
        <link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
        <link rel="preload" as="font" href="https://fonts.gstatic.com/x.woff2">
        <link rel="preload" as="style" href="https://www.u.test/a.css">
        <link rel="prefetch" href="https://img.u.test/next.js">
        <link rel="modulepreload" href="https://cdn.elsewhere.test/m.js">
        <link rel="stylesheet" href="https://cdn.elsewhere.test/x.css"></head><p>x</p>"#,
        "",
    )
    .await;
    assert_no_host(
        &html,
        &[
            "www.google-analytics.com",
            "fonts.gstatic.com",
            "www.u.test",
            "cdn.elsewhere.test",
            "img.u.test",
        ],
    );
    assert!(
        !html.contains("dns-prefetch") && !html.contains("preconnect"),
        "{html}"
    );
    assert!(html.contains(r#"href="/m/a.css""#), "{html}");
    assert!(
        html.contains(r#"href="/_/asset/img.u.test/next.js""#),
        "{html}"
    );
}

#[tokio::test]
async fn href_and_src_on_any_element_and_in_svg_are_mapped() {
    let (_, html) = served(
        r#"<span href="https://www.u.test/x.htm">a</span>
        <comments-count href="/c/1.htm"></comments-count>
        <phoenix-super-link href="//www.u.test/y.htm"></phoenix-super-link>
        <svg><use xlink:href="/sprite.svg#logo"></use><use href="/sprite.svg#menu"></use>
        <image xlink:href="https://img.u.test/i.png"></image></svg>
        <object data="/f.swf"></object><embed src="https://www.u.test/e.swf">
        <video><track src="/subs.vtt"></video><input type="image" src="/go.png">
        <meta itemprop="contentUrl" content="https://www.u.test/v.mp4">
        <div itemscope><meta itemprop="logo" content="https://img.u.test/logo.png"></div>"#,
        "",
    )
    .await;
    assert_no_host(&html, &["www.u.test", "img.u.test"]);
    for expected in [
        r#"href="/m/x.htm""#,
        r#"href="/m/c/1.htm""#,
        r#"href="/m/y.htm""#,
        r#"xlink:href="/m/sprite.svg#logo""#,
        r#"href="/m/sprite.svg#menu""#,
        r#"xlink:href="/_/asset/img.u.test/i.png""#,
        r#"data="/m/f.swf""#,
        r#"src="/m/e.swf""#,
        r#"src="/m/subs.vtt""#,
        r#"src="/m/go.png""#,
        r#"content="/m/v.mp4""#,
    ] {
        assert!(html.contains(expected), "{expected}:\n{html}");
    }
}

#[tokio::test]
async fn lazy_attributes_are_mapped_by_their_value_not_their_name() {
    let (_, html) = served(
        r#"<img data-lazy-srcset="https://www.u.test/a.jpg 1x, https://img.u.test/b.jpg 2x"
             data-hi-res-src="https://img.u.test/hi.jpg" data-normal="/n.jpg"
             data-pin-media="https://cdn.other.test/pin.jpg" data-original-mos="https://www.u.test/mos.jpg"
             data-count="3" data-title="Not/a url" data-share="https://twitter.com/intent">"#,
        "",
    )
    .await;
    assert_no_host(&html, &["www.u.test", "img.u.test", "cdn.other.test"]);
    assert!(
        html.contains(r#"data-lazy-srcset="/m/a.jpg 1x, /_/asset/img.u.test/b.jpg 2x""#),
        "{html}"
    );
    assert!(html.contains(r#"data-normal="/m/n.jpg""#), "{html}");
    assert!(
        html.contains(r#"data-pin-media="/_/img/"#),
        "signed: {html}"
    );
    assert!(html.contains(r#"data-count="3""#) && html.contains(r#"data-title="Not/a url""#));
    assert!(
        html.contains(r#"data-share="https://twitter.com/intent""#),
        "not an image: {html}"
    );
}

#[tokio::test]
async fn urls_of_served_hosts_in_inline_scripts_and_json_are_mapped() {
    let (_, html) = served(
        r#"<script>var cfg = {api: "https://www.u.test/api/", img: '//img.u.test/x.png', ga: "//www.google-analytics.com/analytics.js"};</script>
        <script type="application/ld+json">{"url":"https://www.u.test/a.htm","image":"https:\/\/img.u.test\/lead.jpg"}</script>
        <script id="__NEXT_DATA__" type="application/json">{"props":{"href":"https:\/\/www.u.test\/next.htm"}}</script>"#,
        "",
    )
    .await;
    assert_no_host(&html, &["www.u.test", "img.u.test"]);
    assert!(html.contains(r#"api: "/m/api/""#), "{html}");
    assert!(
        html.contains(r#"img: '/_/asset/img.u.test/x.png'"#),
        "{html}"
    );
    assert!(
        html.contains(r#""image":"\/_\/asset\/img.u.test\/lead.jpg""#),
        "{html}"
    );
    assert!(html.contains(r#""href":"\/m\/next.htm""#), "{html}");
    assert!(
        html.contains("//www.google-analytics.com/analytics.js"),
        "other hosts are left (the CSP blocks them): {html}"
    );
}

/// A script whose URL is cut across the upstream's chunks is mapped whole.
#[tokio::test]
async fn script_urls_cut_across_chunks_are_mapped() {
    let (up, _) = raw_upstream(|mut socket| async move {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
        write_all(&mut socket, head.as_bytes()).await;
        for piece in [
            "<script>var a=\"https://www.u",
            ".test/cut/here.htm\";var b=\"https:\\/",
            "\\/img.u.test\\/p.jpg\";</script><p>end</p>",
        ] {
            write_all(
                &mut socket,
                format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes(),
            )
            .await;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        write_all(&mut socket, b"0\r\n\r\n").await;
    })
    .await;
    let mirror = mirror(&mounted(no_cache(config(up, "")))).await;
    let (_, _, html) = get_text(mirror, "/m/a.htm").await;
    assert!(html.contains(r#"var a="/m/cut/here.htm";"#), "{html}");
    assert!(
        html.contains(r#"var b="\/_\/asset\/img.u.test\/p.jpg";"#),
        "{html}"
    );
}

#[tokio::test]
async fn iframe_srcdoc_markup_is_rewritten() {
    let (_, html) = served(
        r#"<iframe srcdoc="&lt;img src=&quot;https://www.u.test/in.jpg&quot;&gt;&lt;a href=&quot;/x.htm&quot;&gt;x&lt;/a&gt;"></iframe>"#,
        "",
    )
    .await;
    assert_no_host(&html, &["www.u.test"]);
    assert!(
        html.contains("/m/in.jpg") && html.contains("/m/x.htm"),
        "{html}"
    );
}

#[tokio::test]
async fn subresources_on_hosts_the_mirror_does_not_serve_are_not_named() {
    let (_, html) = served(
        r#"<script src="https://tags.tracker.test/t.js"></script>
        <script async src="//cdn.ads.test/ads.js"></script>
        <img src="https://img.u.test/ok.jpg" srcset="https://pics.other.test/a.jpg 2x">
        <iframe src="https://video.other.test/embed/1"></iframe>"#,
        "proxy_all_images = false",
    )
    .await;
    assert_no_host(
        &html,
        &["tags.tracker.test", "cdn.ads.test", "pics.other.test"],
    );
    assert!(
        html.contains(r#"src="/_/asset/img.u.test/ok.jpg""#),
        "{html}"
    );
}

#[tokio::test]
async fn no_script_mode_reads_the_page_as_a_browser_without_javascript() {
    let (_, html) = served(
        r#"<head><script src="/app.js"></script><script>track()</script>
        <script type="application/ld+json">{"headline":"h"}</script></head>
        <body onload="init()"><a href="javascript:void(0)" onclick="go()">menu</a>
        <a href="java&#9;script:alert(1)">x</a>
        <figure><img class="lazyload" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="https://www.u.test/photo.jpg" data-srcset="https://www.u.test/photo-2x.jpg 2x">
        <noscript><img src="https://www.u.test/photo.jpg"></noscript></figure>
        <picture><source data-srcset="https://img.u.test/p.webp" type="image/webp"><img data-lazy-src="https://img.u.test/p.jpg" src="/blank.gif"></picture>
        <noscript><p class="warn">Enable JavaScript</p><img src="https://img.u.test/only-here.jpg"></noscript></body>"#,
        "javascript = \"remove\"",
    )
    .await;
    assert!(
        !html.contains("<script src") && !html.contains("track()"),
        "{html}"
    );
    assert!(
        html.contains("application/ld+json"),
        "JSON-LD stays: {html}"
    );
    assert!(
        !html.contains("onload") && !html.contains("onclick"),
        "{html}"
    );
    assert!(
        !html.to_ascii_lowercase().contains("javascript:") && !html.contains("java\tscript"),
        "{html}"
    );
    assert!(!html.contains("noscript"), "unwrapped: {html}");
    assert!(
        html.contains(r#"<p class="warn">Enable JavaScript</p>"#),
        "live markup: {html}"
    );
    assert!(
        html.contains(r#"src="/_/asset/img.u.test/only-here.jpg""#),
        "{html}"
    );
    assert!(html.contains(r#"src="/m/photo.jpg""#), "promoted: {html}");
    assert!(html.contains(r#"srcset="/m/photo-2x.jpg 2x""#), "{html}");
    assert_eq!(
        html.matches("/m/photo.jpg\"").count(),
        2,
        "once in src, once in data-src (the noscript copy is dropped): {html}"
    );
    assert!(html.contains(r#"<source data-srcset="/_/asset/img.u.test/p.webp" type="image/webp" srcset="/_/asset/img.u.test/p.webp">"#) || html.contains(r#"srcset="/_/asset/img.u.test/p.webp""#), "{html}");
    assert!(
        html.contains(r#"src="/_/asset/img.u.test/p.jpg""#),
        "{html}"
    );
    assert!(
        !html.contains("data:image/gif") && !html.contains("/blank.gif\""),
        "placeholders gone: {html}"
    );
    assert_no_host(&html, &["www.u.test", "img.u.test"]);
}

#[tokio::test]
async fn the_old_remove_list_keeps_working() {
    let (_, html) = served(
        r#"<script>x()</script><iframe src="/f.htm"></iframe><p>text</p>"#,
        "remove = [\"script\", \"iframe\"]",
    )
    .await;
    assert!(!html.contains("x()") && !html.contains("iframe"), "{html}");
    assert!(html.contains("<p>text</p>"));
}

#[tokio::test]
async fn scripts_and_manifests_from_served_hosts_are_rewritten() {
    let router = Router::new()
        .route(
            "/manifest.webmanifest",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/manifest+json")],
                    r#"{"start_url":"https://www.u.test/","icons":[{"src":"https://img.u.test/i.png"}]}"#,
                )
            }),
        )
        .fallback(|| async { "" });
    let (up, _) = upstream(router).await;
    let mirror = mirror(&mounted(config(up, ""))).await;
    let (_, _, body) = get_text(mirror, "/m/manifest.webmanifest").await;
    assert_eq!(
        body,
        r#"{"start_url":"/m/","icons":[{"src":"/_/asset/img.u.test/i.png"}]}"#
    );
}

#[tokio::test]
async fn a_hint_beside_a_stylesheet_keeps_the_stylesheet_mapped() {
    let (_, html) = served(
        r#"<head><link rel="dns-prefetch stylesheet" href="https://www.u.test/main.css"></head><p>x</p>"#,
        "",
    )
    .await;
    assert_no_host(&html, &["www.u.test"]);
    assert!(
        html.contains(r#"<link rel="stylesheet" href="/m/main.css">"#),
        "{html}"
    );
}

#[tokio::test]
async fn custom_elements_src_is_media_and_json_in_data_attributes_is_script_text() {
    let (_, html) = served(
        r#"<amp-img src="https://cdn.other.test/amp.jpg" width="600"></amp-img>
        <lazy-image src="https://img.u.test/lazy.jpg"></lazy-image>
        <div data-src='{"url":"https://www.u.test/api/x","img":"https:\/\/img.u.test\/y.jpg"}'></div>"#,
        "",
    )
    .await;
    assert_no_host(&html, &["www.u.test", "img.u.test", "cdn.other.test"]);
    assert!(html.contains(r#"<amp-img src="/_/img/"#), "signed: {html}");
    assert!(
        html.contains(r#"src="/_/asset/img.u.test/lazy.jpg""#),
        "{html}"
    );
    assert!(
        html.contains("&quot;url&quot;:&quot;/m/api/x&quot;"),
        "{html}"
    );
}

#[tokio::test]
async fn a_lazy_attribute_holding_json_is_not_promoted_to_src() {
    let (_, html) = served(
        r#"<img data-src='{"default":"//img.u.test/a.jpg"}' src="/p.gif">"#,
        "javascript = \"remove\"",
    )
    .await;
    assert!(html.contains(r#"src="/m/p.gif""#), "{html}");
    assert!(!html.contains(" src=\"{"), "{html}");
}

#[tokio::test]
async fn urls_in_other_attributes_and_structured_meta_values_are_mapped() {
    let (_, html) = served(
        r#"<blockquote cite="https://www.u.test/quoted.htm">q</blockquote>
        <div addthis:url="https://www.u.test/share.htm"></div>
        <meta name="msapplication-task" content="name=Feed;action-uri=https://www.u.test/feed/;icon-uri=https://img.u.test/i.ico">
        <meta name="apple-itunes-app" content="app-id=1" app-argument="//www.u.test/id/1">
        <meta name="contextly-page" content='{"url":"https:\/\/www.u.test\/page.htm"}'>
        <span data-dsqidentifier="600475 https://www.u.test/?p=600475"></span>
        <link rel="image_src" href="https://cdn.other.test/lead.jpg">
        <img datasrc="https://img.u.test/lazy.jpg" src-orig="//cdn.other.test/orig.jpg" alt="https://www.u.test/ is text">
        <span guid="http://www.u.test/story.htm"></span>
        <div rel:link="https://www.u.test/x.htm" tw:text="see https://www.u.test/ now"></div>"#,
        "",
    )
    .await;
    assert_no_host(
        &html
            .replace(r#"alt="https://www.u.test/ is text""#, "")
            .replace(r#"tw:text="see https://www.u.test/ now""#, ""),
        &["www.u.test", "img.u.test", "cdn.other.test"],
    );
    assert!(html.contains(r#"app-argument="/m/id/1""#), "{html}");
    assert!(
        html.contains(r#"&quot;url&quot;:&quot;\/m\/page.htm&quot;"#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-dsqidentifier="600475 /m/?p=600475""#),
        "{html}"
    );
    assert!(
        html.contains(r#"<link rel="image_src" href="/_/img/"#),
        "{html}"
    );
    // Attributes of no known meaning, decided by their value.
    assert!(
        html.contains(r#"datasrc="/_/asset/img.u.test/lazy.jpg""#),
        "{html}"
    );
    assert!(html.contains(r#"src-orig="/_/img/"#), "{html}");
    assert!(html.contains(r#"guid="/m/story.htm""#), "{html}");
    assert!(html.contains(r#"rel:link="/m/x.htm""#), "{html}");
    // Text is text (`alt`), and a value with spaces is not a URL.
    assert!(
        html.contains(r#"alt="https://www.u.test/ is text""#),
        "{html}"
    );
    assert!(
        html.contains(r#"tw:text="see https://www.u.test/ now""#),
        "{html}"
    );
    assert!(html.contains(r#"cite="/m/quoted.htm""#), "{html}");
    assert!(
        html.contains("action-uri=/m/feed/;icon-uri=/_/asset/img.u.test/i.ico"),
        "{html}"
    );
}

#[tokio::test]
async fn other_hosts_images_in_json_and_script_state_are_signed_when_all_images_are_proxied() {
    let (_, html) = served(
        r#"<img data-src='{"default":"//img-s-msn-com.akamaized.net/tenant/BBX9.img?h=100"}' src="/p.gif">
        <div data-sources='[{"size":"648x365","url":"https:\/\/cdn.other.test\/a\/b.jpg"}]'></div>
        <script>window.__STATE__ = {"lead":"https:\/\/cdn.other.test\/lead.webp","pixel":"https://pixel.other.test/p.gif","page":"https://news.other.test/story"};</script>"#,
        "",
    )
    .await;
    // Images of any host: signed mirror URLs (an msn `.img`, by the
    // attribute's name; the others by their extension).
    assert_no_host(&html, &["img-s-msn-com.akamaized.net", "cdn.other.test"]);
    assert!(html.contains("&quot;default&quot;:&quot;/_/img/"), "{html}");
    assert!(html.contains(r#""lead":"\/_\/img\/"#), "{html}");
    // A pixel and a page of another host are not the mirror's to fetch.
    assert!(html.contains("https://pixel.other.test/p.gif"), "{html}");
    assert!(html.contains("https://news.other.test/story"), "{html}");
    // Without proxy_all_images, another host's image is left as it is.
    let (_, html) = served(
        r#"<script>window.__STATE__ = {"lead":"https:\/\/cdn.other.test\/lead.webp"};</script>"#,
        "proxy_all_images = false",
    )
    .await;
    assert!(
        html.contains(r#"https:\/\/cdn.other.test\/lead.webp"#),
        "{html}"
    );
}

/// Pages whose scripts run load the mirror's page script first (it maps
/// what scripts build at run time; tests/browser.rs shows it in Chromium);
/// it is cached for good under a versioned URL, and `/_/void` is the
/// empty answer it sends other hosts' requests to.
#[tokio::test]
async fn scripts_kept_pages_load_the_page_script_first() {
    let (up, _) = upstream(page(
        "<html><head><script>var first = 1;</script></head><body>x</body></html>",
    ))
    .await;
    let toml = config(up, "");
    let mirror = mirror(&toml).await;
    let (_, _, html) = get_text(mirror, "/a.htm").await;
    let tag = html
        .split("<script src=\"/_/rt.js?v=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no page script tag: {html}"));
    assert!(
        html.find("/_/rt.js").unwrap_or(usize::MAX) < html.find("var first").unwrap_or(0),
        "the page script comes before the site's: {html}"
    );
    let r = reqwest::Client::new()
        .get(format!("http://{mirror}/_/rt.js?v={tag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // Another version (another instance's configuration): not kept.
    let other = reqwest::get(format!("http://{mirror}/_/rt.js?v=0000000000000000"))
        .await
        .unwrap();
    assert_eq!(other.headers()[header::CACHE_CONTROL], "no-cache");
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let script = r.text().await.unwrap();
    assert!(
        script.contains(r#"var ROUTES = [["www.u.test","/","/"],["u.test","/","/"]];"#),
        "{script}"
    );
    assert!(
        script.contains(r#"var ASSETS = ["img.u.test"];"#),
        "{script}"
    );
    assert!(
        !script.contains("//www.u.test"),
        "no upstream URL in the script"
    );
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let r = reqwest::Client::new()
            .request(method.clone(), format!("http://{mirror}/_/void"))
            .body(if method == reqwest::Method::POST {
                "beacon"
            } else {
                ""
            })
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{method}");
        assert!(r.bytes().await.unwrap().is_empty());
    }
    // No page script without the site's scripts.
    let mirror = common::mirror(&config(up, "javascript = \"remove\"")).await;
    let (_, _, html) = get_text(mirror, "/a.htm").await;
    assert!(!html.contains("/_/rt.js"), "{html}");
}
