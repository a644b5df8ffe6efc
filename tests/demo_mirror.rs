//! The demo as a reader meets it: the bundled site behind the mirror,
//! crawled from the section page. Every page carries the nav bar and the
//! footer, every link and image on the mirror answers, and no URL place
//! points at the sample site's own hosts.

mod common;

use std::collections::{BTreeSet, VecDeque};

use axum::http::{StatusCode, header};
use common::*;
use lol_html::{RewriteStrSettings, element, rewrite_str};
use newsmirror::cli::demo;

/// URL-bearing attributes the crawler follows.
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "srcset",
    "data-src",
    "data-srcset",
    "data-original",
    "poster",
    "action",
    "formaction",
    "imagesrcset",
];

struct Found {
    urls: Vec<String>,
    /// Attribute values that name a sample-site host (a leak).
    leaks: Vec<String>,
}

fn urls_in_html(html: &str) -> Found {
    let found = std::cell::RefCell::new(Found {
        urls: Vec::new(),
        leaks: Vec::new(),
    });
    let _ = rewrite_str(
        html,
        RewriteStrSettings::new().append_element_content_handler(element!("*", |el| {
            let mut f = found.borrow_mut();
            // The footer's link to the original is meant to point there.
            let in_footer_link = el.get_attribute("rel").as_deref() == Some("nofollow noopener");
            for name in URL_ATTRS {
                if let Some(v) = el.get_attribute(name) {
                    let v = v.replace("&amp;", "&");
                    let http_like = !v.starts_with("mailto:");
                    if http_like
                        && v.contains(".test")
                        && !in_footer_link
                        && !v.contains("/_/asset/")
                    {
                        f.leaks.push(format!("<{} {name}={v}>", el.tag_name()));
                    }
                    if name.ends_with("srcset") {
                        f.urls.extend(
                            v.split(", ")
                                .filter_map(|c| c.split_whitespace().next())
                                .map(str::to_owned),
                        );
                    } else {
                        f.urls.push(v);
                    }
                }
            }
            if let Some(style) = el.get_attribute("style") {
                f.urls.extend(css_urls(&style.replace("&quot;", "\"")));
            }
            Ok(())
        })),
    );
    found.into_inner()
}

fn css_urls(css: &str) -> Vec<String> {
    css.split("url(\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn demo_site_through_the_mirror_has_no_broken_links_and_no_leaks() {
    let mirror = demo_mirror().await;

    let client = client();
    let mut queue: VecDeque<String> = VecDeque::from(["/".to_owned()]);
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut pages = 0;
    let mut leaks = Vec::new();
    while let Some(path) = queue.pop_front() {
        let r = client
            .get(format!("http://{mirror}{path}"))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let ct = r
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = r.bytes().await.unwrap();
        let mut next = Vec::new();
        if status.is_redirection() {
            let loc = location.expect("a redirect has a Location");
            assert!(
                loc.starts_with('/'),
                "{path} redirects off the mirror: {loc}"
            );
            next.push(loc);
        } else {
            assert_eq!(status, StatusCode::OK, "{path} is broken");
        }
        if ct.starts_with("text/html") {
            pages += 1;
            let html = String::from_utf8(body.to_vec()).expect("pages are UTF-8");
            assert!(
                html.contains("<nav id=\"newsmirror-nav\">"),
                "{path} lacks the nav bar"
            );
            assert!(
                html.contains("<footer id=\"newsmirror-footer\">"),
                "{path} lacks the footer"
            );
            let found = urls_in_html(&html);
            leaks.extend(found.leaks.into_iter().map(|l| format!("{path}: {l}")));
            next.extend(found.urls);
        } else if ct.starts_with("text/css") {
            let css = String::from_utf8_lossy(&body).into_owned();
            next.extend(css_urls(&css));
        }
        for url in next {
            // Same-origin paths only; fragments and other schemes are not fetched.
            let url = url.split('#').next().unwrap_or("").to_owned();
            if url.starts_with('/') && !url.starts_with("//") && seen.insert(url.clone()) {
                queue.push_back(url);
            }
        }
        assert!(seen.len() < 2000, "crawl does not end");
    }
    assert!(
        leaks.is_empty(),
        "URL places pointing at the sample hosts: {leaks:#?}"
    );
    assert!(pages >= 15, "only {pages} pages reached");
    for article in demo::site::ARTICLES {
        assert!(
            seen.contains(*article),
            "{article} not reachable from the section page"
        );
    }
}

/// The demo site's RSS feed: the section page names it (on the mirror),
/// and through the mirror every entry links to the mirror and every image
/// in it is the mirror's.
#[tokio::test]
async fn the_demo_section_names_its_feed_and_the_feed_is_the_mirrors() {
    let mirror = demo_mirror().await;
    let (_, _, section) = get_text(mirror, "/news/").await;
    assert!(
        section.contains(
            "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"演示新闻网\" href=\"/news/feed.xml\">"
        ),
        "the feed link, mapped: {section}"
    );
    let (status, h, body) = get_text(mirror, "/news/feed.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/rss+xml")
    );
    for host in demo::site::HOSTS {
        assert!(
            !body.contains(&format!("//{host}")),
            "{host} left in: {body}"
        );
    }
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("a valid feed");
    assert_eq!(feed.entries.len(), demo::site::ARTICLES.len());
    for (entry, path) in feed.entries.iter().zip(demo::site::ARTICLES) {
        assert_eq!(entry.links[0].href, *path);
        let summary = &entry.summary.as_ref().expect("a description").content;
        assert!(
            summary.contains("<img src=\"/_/asset/img.demo-news.test/"),
            "{summary}"
        );
        let (status, _, _) = get_text(mirror, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

/// The demo's section page through the section API: every article it
/// lists, in order, with its teaser image; and its generated feed.
#[tokio::test]
async fn the_demo_section_as_data_and_as_a_generated_feed() {
    let mirror = demo_mirror().await;
    let (status, _, body) = get_text(mirror, "/_/api/section?url=/news/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let s: serde_json::Value = serde_json::from_str(&body).unwrap();
    let urls: Vec<&str> = s["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["url"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = demo::site::ARTICLES.to_vec();
    assert_eq!(urls, expected, "{s}");
    for a in s["articles"].as_array().unwrap() {
        assert!(
            a["lead_image"]
                .as_str()
                .is_some_and(|i| i.starts_with("/_/asset/img.demo-news.test/")),
            "{a}"
        );
        assert!(a["excerpt"].is_string(), "{a}");
    }
    let (status, _, feed) = get_text(mirror, "/_/feed?url=/news/&format=rss").await;
    assert_eq!(status, StatusCode::OK);
    let feed = feed_rs::parser::parse(feed.as_bytes()).expect("a valid feed");
    assert_eq!(feed.entries.len(), expected.len());
}
