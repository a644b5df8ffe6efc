//! The bundled demo site (`newsmirror::cli::demo::site`), over real TCP: the router
//! is bound on a loopback port and asked with `reqwest`, the `Host` header set
//! by hand as the mirror will set it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Read;

use flate2::read::GzDecoder;
use lol_html::{RewriteStrSettings, element, rewrite_str, text};
use newsmirror::cli::demo::site::{ARTICLES, HOSTS, router};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

const NEWS: &str = "www.demo-news.test";

struct DemoSite {
    base: String,
    client: reqwest::Client,
}

struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl DemoSite {
    async fn start() -> DemoSite {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        tokio::spawn(async move { axum::serve(listener, router()).await });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        DemoSite {
            base: format!("http://{addr}"),
            client,
        }
    }

    async fn request(
        &self,
        method: reqwest::Method,
        host: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Fetched {
        let mut request = self
            .client
            .request(method, format!("{}{path_and_query}", self.base))
            .header(header::HOST, host);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        Fetched {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, host: &str, path_and_query: &str) -> Fetched {
        self.request(reqwest::Method::GET, host, path_and_query, &[])
            .await
    }

    async fn get_with(&self, host: &str, path: &str, headers: &[(&str, &str)]) -> Fetched {
        self.request(reqwest::Method::GET, host, path, headers)
            .await
    }

    async fn get_url(&self, url: &Url) -> Fetched {
        let host = url.host_str().unwrap_or("");
        let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
        self.get(host, path).await
    }
}

fn utf8(body: &[u8]) -> &str {
    std::str::from_utf8(body).expect("UTF-8 body")
}

#[tokio::test]
async fn every_article_answers_200_html_with_freshness_headers() {
    let site = DemoSite::start().await;
    for path in ARTICLES {
        let page = site.get(NEWS, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
        assert_eq!(page.header(header::CACHE_CONTROL), "max-age=60", "{path}");
        assert!(
            page.header(header::LAST_MODIFIED).ends_with(" GMT"),
            "{path}"
        );
        assert!(page.body.len() > 2000, "{path} is suspiciously short");
    }
}

#[tokio::test]
async fn aliases_serve_the_news_site_and_unknown_hosts_do_not() {
    let site = DemoSite::start().await;
    let www = site.get(NEWS, ARTICLES[0]).await;
    for alias in [
        "demo-news.test",
        "m.demo-news.test",
        "M.Demo-News.test:8080",
    ] {
        let page = site.get(alias, ARTICLES[0]).await;
        assert_eq!(page.status, StatusCode::OK, "{alias}");
        assert_eq!(page.body, www.body, "{alias}");
    }
    let stranger = site.get("www.example.org", "/").await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unchanged_article_answers_304_to_if_modified_since() {
    let site = DemoSite::start().await;
    let page = site.get(NEWS, ARTICLES[0]).await;
    let stamp = page.header(header::LAST_MODIFIED).to_owned();
    let again = site
        .get_with(NEWS, ARTICLES[0], &[("if-modified-since", stamp.as_str())])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
}

#[tokio::test]
async fn gbk_pages_are_gbk_bytes_not_utf8() {
    let site = DemoSite::start().await;
    let cases = [
        (
            "/news/2026/11/old-street-market-reopens.html",
            "老街市集改造后重新开放",
            true,
        ),
        (
            "/news/2026/11/gbk-undeclared.html",
            "乡村流动图书馆开进山村",
            false,
        ),
    ];
    for (path, title, declared) in cases {
        let page = site.get(NEWS, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.header(header::CONTENT_TYPE), "text/html", "{path}");
        assert!(
            std::str::from_utf8(&page.body).is_err(),
            "{path} is valid UTF-8"
        );
        let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&page.body);
        assert!(!had_errors, "{path} is not clean GBK");
        assert!(text.contains(title), "{path}");
        assert_eq!(text.contains("<meta charset=\"gbk\">"), declared, "{path}");
        assert_eq!(
            text.to_ascii_lowercase().contains("charset"),
            declared,
            "{path}"
        );
    }
}

#[tokio::test]
async fn images_answer_with_image_types_and_long_caching() {
    let site = DemoSite::start().await;
    let cases = [
        (
            "img.demo-news.test",
            "/photos/2026/11/river-bridge_600.jpg",
            "image/jpeg",
        ),
        (
            "img.demo-news.test",
            "/photos/2026/11/bridge,night_800.jpg",
            "image/jpeg",
        ),
        (
            "img.demo-news.test",
            "/thumbs/2026/11/first-snow_200.jpg",
            "image/jpeg",
        ),
        ("img.demo-news.test", "/bg/paper.png", "image/png"),
        (
            "photos.wirefeed.test",
            "/2026/11/wf-20261111-001.jpg",
            "image/jpeg",
        ),
        (NEWS, "/img/logo.png", "image/png"),
    ];
    for (host, path, content_type) in cases {
        let image = site.get(host, path).await;
        assert_eq!(image.status, StatusCode::OK, "{host}{path}");
        assert_eq!(
            image.header(header::CONTENT_TYPE),
            content_type,
            "{host}{path}"
        );
        assert!(image.body.len() > 100, "{host}{path}");
    }
    let lead = site
        .get("img.demo-news.test", "/photos/2026/11/first-snow_600.jpg")
        .await;
    assert_eq!(lead.header(header::CACHE_CONTROL), "max-age=86400");
    assert!(lead.body.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    assert!(lead.body.len() <= 40 * 1024, "lead image over 40 KB");
}

#[tokio::test]
async fn byte_ranges_answer_206_with_content_range() {
    let site = DemoSite::start().await;
    let host = "img.demo-news.test";
    let path = "/video/2026/11/solar-roof.mp4";
    let whole = site.get(host, path).await;
    assert_eq!(whole.header(header::CONTENT_TYPE), "video/mp4");
    assert_eq!(whole.header(header::ACCEPT_RANGES), "bytes");
    let len = whole.body.len();

    let head = site.get_with(host, path, &[("range", "bytes=0-99")]).await;
    assert_eq!(head.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        head.header(header::CONTENT_RANGE),
        format!("bytes 0-99/{len}")
    );
    assert_eq!(head.body, whole.body[..100]);

    let tail = site.get_with(host, path, &[("range", "bytes=-10")]).await;
    assert_eq!(tail.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.body, whole.body[len - 10..]);

    let open = site.get_with(host, path, &[("range", "bytes=100-")]).await;
    assert_eq!(open.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(open.body, whole.body[100..]);

    let beyond = format!("bytes={len}-");
    let refused = site
        .get_with(host, path, &[("range", beyond.as_str())])
        .await;
    assert_eq!(refused.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        refused.header(header::CONTENT_RANGE),
        format!("bytes */{len}")
    );
}

#[tokio::test]
async fn section_page_is_gzip_only_when_asked() {
    let site = DemoSite::start().await;
    for path in ["/", "/news/"] {
        let zipped = site
            .get_with(NEWS, path, &[("accept-encoding", "br, gzip")])
            .await;
        assert_eq!(zipped.status, StatusCode::OK);
        assert_eq!(zipped.header(header::CONTENT_ENCODING), "gzip");
        assert_eq!(zipped.header(header::VARY), "Accept-Encoding");
        let mut html = String::new();
        GzDecoder::new(zipped.body.as_slice())
            .read_to_string(&mut html)
            .expect("valid gzip");

        let plain = site.get(NEWS, path).await;
        assert_eq!(plain.header(header::CONTENT_ENCODING), "");
        assert_eq!(html, utf8(&plain.body));
        for article in ARTICLES {
            assert!(html.contains(article), "{path} does not list {article}");
        }
    }
}

#[tokio::test]
async fn head_answers_headers_without_body() {
    let site = DemoSite::start().await;
    let head = site
        .request(reqwest::Method::HEAD, NEWS, ARTICLES[0], &[])
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    let post = site
        .request(reqwest::Method::POST, NEWS, ARTICLES[0], &[])
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn unknown_paths_answer_404_html() {
    let site = DemoSite::start().await;
    for (host, path) in [
        (NEWS, "/no/such/page.html"),
        (NEWS, "/tag/no-such-tag.html"),
        (NEWS, "/tag/%FF.html"),
        (NEWS, "/news/2026/11/missing.html"),
        ("www.demo-weekly.test", "/2026/11/missing.html"),
        ("img.demo-news.test", "/photos/missing.jpg"),
    ] {
        let page = site.get(host, path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{host}{path}");
        assert!(
            page.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{host}{path}"
        );
        assert!(utf8(&page.body).contains("404"), "{host}{path}");
    }
}

#[tokio::test]
async fn old_paths_redirect_absolutely_and_latest_relatively() {
    let site = DemoSite::start().await;
    let old = site.get(NEWS, "/old/2019/river-bridge-opens.html").await;
    assert_eq!(old.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        old.header(header::LOCATION),
        "https://www.demo-news.test/news/2026/11/river-bridge-opens.html"
    );
    let anything = site.get(NEWS, "/old/whatever?id=7").await;
    assert_eq!(anything.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        anything.header(header::LOCATION),
        "https://www.demo-news.test/news/"
    );

    let latest = site.get(NEWS, "/latest").await;
    assert_eq!(latest.status, StatusCode::FOUND);
    let location = latest.header(header::LOCATION);
    assert!(
        !location.starts_with('/') && !location.contains("://"),
        "{location}"
    );
    let target = Url::parse("https://www.demo-news.test/latest")
        .and_then(|u| u.join(location))
        .expect("resolvable");
    assert_eq!(target.path(), ARTICLES[0]);
}

#[tokio::test]
async fn search_answers_any_query_with_a_result_list() {
    let site = DemoSite::start().await;
    let hit = site.get(NEWS, "/search?q=%E5%A4%A7%E6%A1%A5&page=2").await;
    assert_eq!(hit.status, StatusCode::OK);
    let html = utf8(&hit.body);
    assert!(html.contains("/news/2026/11/river-bridge-opens.html"));
    assert!(html.contains("第 2 页"));
    let odd = site.get(NEWS, "/search?q=%3Cscript%3E&page=x").await;
    assert_eq!(odd.status, StatusCode::OK);
    assert!(utf8(&odd.body).contains("&lt;script&gt;"));
}

#[tokio::test]
async fn css_imports_fonts_and_backgrounds_resolve() {
    let site = DemoSite::start().await;
    let css = site.get(NEWS, "/css/site.css").await;
    assert_eq!(css.header(header::CONTENT_TYPE), "text/css; charset=utf-8");
    let css = utf8(&css.body);
    assert!(css.contains("@import url(\"/css/print.css\")"));
    assert!(css.contains("@font-face"));
    let font = site.get(NEWS, "/fonts/demo-icons.woff").await;
    assert_eq!(font.header(header::CONTENT_TYPE), "font/woff");
    assert!(font.body.starts_with(b"wOFF"));
}

// ---------------------------------------------------------------------------
// No broken links: crawl everything the pages point at on the demo hosts.
// ---------------------------------------------------------------------------

/// URLs a page or stylesheet refers to, unresolved, and the page's `<base>`.
#[derive(Default)]
struct References {
    base: Option<String>,
    urls: Vec<String>,
}

const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "poster",
    "action",
    "formaction",
    "data-src",
    "data-original",
];

fn html_references(html: &str) -> References {
    let refs = std::cell::RefCell::new(References::default());
    let style_text = std::cell::RefCell::new(String::new());
    let attribute_handlers = URL_ATTRIBUTES.iter().map(|name| {
        let selector = format!("[{name}]");
        element!(selector, |el| {
            if let Some(value) = el.get_attribute(name) {
                refs.borrow_mut().urls.push(value);
            }
            Ok(())
        })
    });
    let mut handlers: Vec<_> = attribute_handlers.collect();
    for name in ["srcset", "data-srcset"] {
        handlers.push(element!(format!("[{name}]"), |el| {
            if let Some(value) = el.get_attribute(name) {
                refs.borrow_mut().urls.extend(srcset_urls(&value));
            }
            Ok(())
        }));
    }
    handlers.push(element!("[style]", |el| {
        if let Some(style) = el.get_attribute("style") {
            refs.borrow_mut().urls.extend(css_urls(&style));
        }
        Ok(())
    }));
    handlers.push(element!("meta[content]", |el| {
        let content = el.get_attribute("content").unwrap_or_default();
        let lower = content.to_ascii_lowercase();
        if let Some(at) = lower.find("url=") {
            refs.borrow_mut()
                .urls
                .push(content[at + 4..].trim().to_owned());
        } else if content.starts_with("https://") || content.starts_with("//") {
            refs.borrow_mut().urls.push(content);
        }
        Ok(())
    }));
    handlers.push(element!("base[href]", |el| {
        refs.borrow_mut().base = el.get_attribute("href");
        Ok(())
    }));
    handlers.push(text!("style", |chunk| {
        style_text.borrow_mut().push_str(chunk.as_str());
        Ok(())
    }));
    let settings = handlers
        .into_iter()
        .fold(RewriteStrSettings::new(), |settings, handler| {
            settings.append_element_content_handler(handler)
        });
    rewrite_str(html, settings).expect("parsable HTML");
    let mut refs = refs.into_inner();
    refs.urls.extend(css_urls(&style_text.into_inner()));
    for url in &mut refs.urls {
        *url = html_escape::decode_html_entities(url).into_owned();
    }
    refs
}

/// The URLs of a `srcset`, split the way browsers do: a URL runs up to
/// whitespace (so it may hold a comma), and candidates are separated by commas.
fn srcset_urls(srcset: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            return urls;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (url, after) = rest.split_at(end);
        let url = url.trim_end_matches(',');
        urls.push(url.to_owned());
        if url.len() < end {
            rest = after;
            continue;
        }
        rest = after.find(',').map_or("", |comma| &after[comma + 1..]);
    }
}

fn css_urls(css: &str) -> Vec<String> {
    css.split("url(")
        .skip(1)
        .filter_map(|rest| rest.split_once(')'))
        .map(|(inner, _)| inner.trim().trim_matches(['"', '\'']).to_owned())
        .collect()
}

fn decode_page(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::GBK
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
    }
}

fn is_demo_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| HOSTS.contains(&host))
}

#[test]
fn srcset_split_keeps_commas_inside_urls() {
    let urls = srcset_urls("a_400.jpg 400w, https://x.test/a,b_800.jpg 800w,c.jpg 2x , d.jpg");
    assert_eq!(
        urls,
        ["a_400.jpg", "https://x.test/a,b_800.jpg", "c.jpg", "d.jpg"]
    );
}

#[tokio::test]
async fn no_broken_links_on_the_demo_hosts() {
    let site = DemoSite::start().await;
    let mut queue: VecDeque<(Url, String)> = VecDeque::new();
    let mut seeds = vec![
        "https://www.demo-news.test/".to_owned(),
        "https://www.demo-weekly.test/".to_owned(),
        "https://www.demo-news.test/search?q=snow".to_owned(),
    ];
    seeds.extend(ARTICLES.iter().map(|p| format!("https://{NEWS}{p}")));
    for seed in seeds {
        queue.push_back((Url::parse(&seed).expect("seed"), "(seed)".to_owned()));
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut broken: BTreeMap<String, String> = BTreeMap::new();
    while let Some((mut url, referrer)) = queue.pop_front() {
        url.set_fragment(None);
        if !seen.insert(url.to_string()) {
            continue;
        }
        assert!(seen.len() < 500, "crawl runs away");
        let fetched = site.get_url(&url).await;
        if fetched.status.is_redirection() {
            let target = url
                .join(fetched.header(header::LOCATION))
                .expect("Location");
            queue.push_back((target, url.to_string()));
            continue;
        }
        if fetched.status != StatusCode::OK {
            broken.insert(
                url.to_string(),
                format!("{} (from {referrer})", fetched.status),
            );
            continue;
        }
        let content_type = fetched.header(header::CONTENT_TYPE);
        let (base, found) = if content_type.starts_with("text/html") {
            let refs = html_references(&decode_page(&fetched.body));
            let base = refs
                .base
                .and_then(|b| url.join(&b).ok())
                .unwrap_or(url.clone());
            (base, refs.urls)
        } else if content_type.starts_with("text/css") {
            (url.clone(), css_urls(utf8(&fetched.body)))
        } else {
            continue;
        };
        for link in found {
            match base.join(&link) {
                Ok(target) if is_demo_url(&target) => {
                    queue.push_back((target, url.to_string()));
                }
                Ok(_) => {}
                Err(e) => {
                    broken.insert(link, format!("unparsable: {e} (from {url})"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
    assert!(seen.len() > 100, "only {} URLs crawled", seen.len());
    for article in ARTICLES {
        let url = format!("https://{NEWS}{article}");
        assert!(seen.contains(&url), "{article} was not reached");
    }
    for must in [
        "https://img.demo-news.test/photos/2026/11/bridge,night_800.jpg",
        "https://www.demo-news.test/css/print.css",
        "https://www.demo-news.test/fonts/demo-icons.woff",
        "https://www.demo-news.test/img/pattern.png",
        "https://photos.wirefeed.test/2026/11/wf-20261111-002.jpg",
        "https://www.demo-weekly.test/2026/11/free-concerts.html",
        "https://www.demo-news.test/tag/transport.html",
        "https://www.demo-news.test/tag/%E6%96%87%E5%8C%96.html",
    ] {
        assert!(seen.contains(must), "the crawl never reached {must}");
    }
}
