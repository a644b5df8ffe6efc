//! The bundled sample news site that `newsmirror demo` serves on a loopback
//! port, behind the mirror.
//!
//! Everything is fictional and compiled into the binary (`include_bytes!`):
//! no file I/O at run time. One [`router`] answers for every host in
//! [`HOSTS`] and picks the site by the `Host` header (port ignored):
//!
//! * `www.demo-news.test` (aliases `demo-news.test`, `m.demo-news.test`): a
//!   Chinese/English news site with a section page, articles, tag pages,
//!   search, redirects, a GBK-encoded article and ads and trackers to strip.
//! * `img.demo-news.test`: the news site's asset host (images, video).
//! * `photos.wirefeed.test`: an outside photo agency, not an asset host.
//! * `www.demo-weekly.test`: a second, small site that links back.
//!
//! The HTML lives under `demo/<host>/` in the repository; the pictures are
//! drawn by `demo/tools/make_images.py`. Pages that list articles (section,
//! tags, search) are built here from the article table, so they never go out
//! of step with the articles.

use std::io::Write;

use axum::Router;
use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Every host name the bundled site answers for (the demo runner points each at the loopback port).
pub const HOSTS: &[&str] = &[
    NEWS,
    "demo-news.test",
    "m.demo-news.test",
    IMG,
    WIRE,
    WEEKLY,
];

/// The demo configuration (TOML), with no `[upstream.origins]`: the runner fills those in with the bound port.
pub const CONFIG: &str = include_str!("../../../config/demo.toml");

/// Paths of the articles (on www.demo-news.test), for tests.
pub const ARTICLES: &[&str] = &[
    "/news/2026/11/first-snow-north.html",
    "/news/2026/11/electric-ferry-trial.html",
    "/news/2026/11/river-bridge-opens.html",
    "/news/2026/11/mountain-school-solar.html",
    "/news/2026/11/old-street-market-reopens.html",
    "/news/2026/11/winter-concert-season.html",
    "/news/2026/11/gbk-undeclared.html",
];

const NEWS: &str = "www.demo-news.test";
const IMG: &str = "img.demo-news.test";
const WIRE: &str = "photos.wirefeed.test";
const WEEKLY: &str = "www.demo-weekly.test";

/// Host names that serve the news site's pages.
const NEWS_ALIASES: &[&str] = &[NEWS, "demo-news.test", "m.demo-news.test"];

const HTML_UTF8: &str = "text/html; charset=utf-8";
const PAGE_MAX_AGE: &str = "max-age=60";
const IMAGE_MAX_AGE: &str = "max-age=86400";
const STATIC_MAX_AGE: &str = "max-age=3600";

/// The bundled sample site as an axum Router (dispatches on Host).
pub fn router() -> Router {
    Router::new().fallback(dispatch)
}

// ---------------------------------------------------------------------------
// Content tables
// ---------------------------------------------------------------------------

/// How an article's bytes go out on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charset {
    /// UTF-8, declared in the `Content-Type` header and in `<meta charset>`.
    Utf8,
    /// GBK bytes; the page says `<meta charset="gbk">`, the header says nothing.
    GbkDeclared,
    /// GBK bytes with no declaration anywhere: only a sniffer can tell.
    GbkUndeclared,
}

/// One article on www.demo-news.test, with what list pages show of it.
struct Article {
    path: &'static str,
    title: &'static str,
    teaser: &'static str,
    /// Lead image (600x400) and thumbnail (200x133) on the asset host.
    lead: &'static str,
    thumb: &'static str,
    lang: &'static str,
    /// Shown on list pages.
    date: &'static str,
    /// `Last-Modified` (the article's modification time, as an HTTP date).
    last_modified: &'static str,
    /// Tag names, as in the page's tag links (decoded).
    tags: &'static [&'static str],
    charset: Charset,
    /// The page, as UTF-8 source (GBK pages are encoded when served).
    html: &'static str,
}

macro_rules! article_html {
    ($slug:literal) => {
        include_str!(concat!(
            "../../../demo/www.demo-news.test/news/2026/11/",
            $slug,
            ".html"
        ))
    };
}

/// Newest first, which is the order of the section page.
static ARTICLE_TABLE: &[Article] = &[
    Article {
        path: "/news/2026/11/first-snow-north.html",
        title: "北方多地迎来今冬首场降雪 气象部门提醒注意交通安全",
        teaser: "11月10日夜间至11日，北方多地出现今冬首场降雪，部分山区积雪深度超过十厘米。",
        lead: "https://img.demo-news.test/photos/2026/11/first-snow_600.jpg",
        thumb: "https://img.demo-news.test/thumbs/2026/11/first-snow_200.jpg",
        lang: "zh-CN",
        date: "2026-11-11 07:45",
        last_modified: "Tue, 10 Nov 2026 23:45:00 GMT",
        tags: &["天气", "交通"],
        charset: Charset::Utf8,
        html: article_html!("first-snow-north"),
    },
    Article {
        path: "/news/2026/11/electric-ferry-trial.html",
        title: "Harbor City trials electric ferries on the river route",
        teaser: "Two battery-powered ferries began a three-month trial between the old town and the north bank.",
        lead: "https://img.demo-news.test/photos/2026/11/electric-ferry_600.jpg",
        thumb: "https://img.demo-news.test/thumbs/2026/11/electric-ferry_200.jpg",
        lang: "en",
        date: "2026-11-10 14:00",
        last_modified: "Tue, 10 Nov 2026 06:00:00 GMT",
        tags: &["english", "transport"],
        charset: Charset::Utf8,
        html: article_html!("electric-ferry-trial"),
    },
    Article {
        path: "/news/2026/11/river-bridge-opens.html",
        title: "河湾市跨江大桥正式通车 两岸通行时间缩短至十分钟",
        teaser: "历时三年建设的跨江大桥11月10日清晨通车，两岸车程由约四十分钟缩短到十分钟左右。",
        lead: "https://img.demo-news.test/photos/2026/11/river-bridge_600.jpg",
        thumb: "https://img.demo-news.test/thumbs/2026/11/river-bridge_200.jpg",
        lang: "zh-CN",
        date: "2026-11-10 08:30",
        last_modified: "Tue, 10 Nov 2026 03:05:00 GMT",
        tags: &["交通", "城市"],
        charset: Charset::Utf8,
        html: article_html!("river-bridge-opens"),
    },
    Article {
        path: "/news/2026/11/mountain-school-solar.html",
        title: "山区小学用上太阳能 屋顶电站让教室冬天也明亮温暖",
        teaser: "青岭县一所山区小学的屋顶太阳能电站本月并网发电，照明和取暖用电基本自给。",
        lead: "https://img.demo-news.test/photos/2026/11/mountain-school_600.jpg",
        thumb: "https://img.demo-news.test/thumbs/2026/11/mountain-school_200.jpg",
        lang: "zh-CN",
        date: "2026-11-09 10:00",
        last_modified: "Mon, 09 Nov 2026 02:00:00 GMT",
        tags: &["能源", "教育"],
        charset: Charset::Utf8,
        html: article_html!("mountain-school-solar"),
    },
    Article {
        path: "/news/2026/11/old-street-market-reopens.html",
        title: "老街市集改造后重新开放 百年骑楼换新颜",
        teaser: "老城区的老街市集经过一年多的改造重新开放，保留了传统骑楼的立面。（本页以 GBK 编码发送）",
        lead: "https://img.demo-news.test/photos/2026/11/old-street_600.jpg",
        thumb: "https://img.demo-news.test/thumbs/2026/11/old-street_200.jpg",
        lang: "zh-CN",
        date: "2026-11-08 09:00",
        last_modified: "Sun, 08 Nov 2026 01:00:00 GMT",
        tags: &["城市", "文化"],
        charset: Charset::GbkDeclared,
        html: article_html!("old-street-market-reopens"),
    },
    Article {
        path: "/news/2026/11/winter-concert-season.html",
        title: "Regional orchestra opens its winter season with free concerts",
        teaser: "Six free concerts in libraries, schools and the reopened old town market.",
        lead: "https://img.demo-news.test/photos/2026/11/winter-concert_600.jpg",
        thumb: "https://img.demo-news.test/thumbs/2026/11/winter-concert_200.jpg",
        lang: "en",
        date: "2026-11-07 18:30",
        last_modified: "Sat, 07 Nov 2026 10:30:00 GMT",
        tags: &["english", "culture", "文化"],
        charset: Charset::Utf8,
        html: article_html!("winter-concert-season"),
    },
    Article {
        path: "/news/2026/11/gbk-undeclared.html",
        title: "乡村流动图书馆开进山村 孩子们在家门口借到新书",
        teaser: "一辆改装的流动图书车每周两次开进山村。（本页以 GBK 编码发送，且没有声明字符集）",
        lead: "https://img.demo-news.test/photos/2026/11/village-library_600.jpg",
        thumb: "https://img.demo-news.test/thumbs/2026/11/village-library_200.jpg",
        lang: "zh-CN",
        date: "2026-11-06 16:20",
        last_modified: "Fri, 06 Nov 2026 08:20:00 GMT",
        tags: &["教育", "文化"],
        charset: Charset::GbkUndeclared,
        html: article_html!("gbk-undeclared"),
    },
];

/// Every tag that a page links to: (name in the URL, decoded; label shown).
static TAGS: &[(&str, &str)] = &[
    ("交通", "交通"),
    ("城市", "城市"),
    ("能源", "能源"),
    ("教育", "教育"),
    ("天气", "天气"),
    ("文化", "文化"),
    ("english", "English"),
    ("transport", "Transport"),
    ("culture", "Culture"),
];

/// A file served as is.
struct StaticFile {
    host: &'static str,
    path: &'static str,
    body: &'static [u8],
}

macro_rules! embed {
    ($host:literal, $path:literal) => {
        StaticFile {
            host: $host,
            path: $path,
            body: include_bytes!(concat!("../../../demo/", $host, $path)),
        }
    };
}

/// Every file under `demo/<host>/` except the articles (a unit test checks
/// that none is forgotten).
static FILES: &[StaticFile] = &[
    embed!("img.demo-news.test", "/ads/box_300x250.png"),
    embed!("img.demo-news.test", "/ads/leaderboard_728x90.png"),
    embed!("img.demo-news.test", "/bg/2026/11/snow-banner.jpg"),
    embed!("img.demo-news.test", "/bg/masthead.png"),
    embed!("img.demo-news.test", "/bg/paper.png"),
    embed!("img.demo-news.test", "/photos/2026/11/bridge,night_800.jpg"),
    embed!("img.demo-news.test", "/photos/2026/11/bridge_400.jpg"),
    embed!("img.demo-news.test", "/photos/2026/11/bridge_600.jpg"),
    embed!(
        "img.demo-news.test",
        "/photos/2026/11/electric-ferry_1200.jpg"
    ),
    embed!(
        "img.demo-news.test",
        "/photos/2026/11/electric-ferry_600.jpg"
    ),
    embed!("img.demo-news.test", "/photos/2026/11/first-snow_600.jpg"),
    embed!("img.demo-news.test", "/photos/2026/11/lanterns_300.jpg"),
    embed!(
        "img.demo-news.test",
        "/photos/2026/11/mountain-school_600.jpg"
    ),
    embed!("img.demo-news.test", "/photos/2026/11/old-street_600.jpg"),
    embed!("img.demo-news.test", "/photos/2026/11/river-bridge_600.jpg"),
    embed!("img.demo-news.test", "/photos/2026/11/solar-panels_600.jpg"),
    embed!(
        "img.demo-news.test",
        "/photos/2026/11/village-library_600.jpg"
    ),
    embed!(
        "img.demo-news.test",
        "/photos/2026/11/winter-concert_600.jpg"
    ),
    embed!(
        "img.demo-news.test",
        "/thumbs/2026/11/electric-ferry_200.jpg"
    ),
    embed!("img.demo-news.test", "/thumbs/2026/11/first-snow_200.jpg"),
    embed!(
        "img.demo-news.test",
        "/thumbs/2026/11/mountain-school_200.jpg"
    ),
    embed!("img.demo-news.test", "/thumbs/2026/11/old-street_200.jpg"),
    embed!("img.demo-news.test", "/thumbs/2026/11/river-bridge_200.jpg"),
    embed!(
        "img.demo-news.test",
        "/thumbs/2026/11/village-library_200.jpg"
    ),
    embed!(
        "img.demo-news.test",
        "/thumbs/2026/11/winter-concert_200.jpg"
    ),
    embed!("img.demo-news.test", "/video/2026/11/solar-roof.mp4"),
    embed!("img.demo-news.test", "/video/2026/11/solar-roof_poster.jpg"),
    embed!("photos.wirefeed.test", "/2026/11/wf-20261110-017.jpg"),
    embed!("photos.wirefeed.test", "/2026/11/wf-20261111-001.jpg"),
    embed!("photos.wirefeed.test", "/2026/11/wf-20261111-002.jpg"),
    embed!("www.demo-news.test", "/about.html"),
    embed!("www.demo-news.test", "/archive.html"),
    embed!("www.demo-news.test", "/css/print.css"),
    embed!("www.demo-news.test", "/css/site.css"),
    embed!("www.demo-news.test", "/favicon.ico"),
    embed!("www.demo-news.test", "/fonts/demo-icons.woff"),
    embed!("www.demo-news.test", "/img/logo.png"),
    embed!("www.demo-news.test", "/img/pattern.png"),
    embed!("www.demo-news.test", "/js/app.js"),
    embed!("www.demo-news.test", "/px.gif"),
    embed!("www.demo-weekly.test", "/2026/11/free-concerts.html"),
    embed!("www.demo-weekly.test", "/2026/11/rivers-and-ferries.html"),
    embed!("www.demo-weekly.test", "/images/week45.jpg"),
    embed!("www.demo-weekly.test", "/images/week46.jpg"),
    embed!("www.demo-weekly.test", "/index.html"),
    embed!("www.demo-weekly.test", "/style.css"),
];

// ---------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------

/// What a handler needs to know about the request.
struct DemoRequest<'a> {
    method: &'a Method,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
}

async fn dispatch(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let Some(host) = request_host(&headers, &uri) else {
        return unknown_host();
    };
    let req = DemoRequest {
        method: &method,
        path: uri.path(),
        query: uri.query(),
        headers: &headers,
    };
    if !method_allowed(&req) {
        return method_not_allowed();
    }
    match host {
        IMG | WIRE => static_file(host, &req).unwrap_or_else(|| not_found(host)),
        WEEKLY => weekly(&req),
        _ => news(&req),
    }
}

/// The canonical host a request is for: the `Host` header (or the URI's
/// authority), without port, lower-cased, with the news aliases folded into
/// `www.demo-news.test`.
fn request_host(headers: &HeaderMap, uri: &Uri) -> Option<&'static str> {
    let raw = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.host())?;
    let name = strip_port(raw).trim_end_matches('.').to_ascii_lowercase();
    if NEWS_ALIASES.contains(&name.as_str()) {
        return Some(NEWS);
    }
    HOSTS.iter().copied().find(|known| *known == name)
}

fn strip_port(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// GET and HEAD everywhere; the newsletter form also takes POST.
fn method_allowed(req: &DemoRequest<'_>) -> bool {
    matches!(*req.method, Method::GET | Method::HEAD)
        || (*req.method == Method::POST && req.path == "/newsletter")
}

fn news(req: &DemoRequest<'_>) -> Response {
    match req.path {
        "/" | "/news/" => section_page(req),
        "/news/feed.xml" => news_feed(),
        "/news" => redirect(StatusCode::MOVED_PERMANENTLY, "/news/"),
        "/latest" => latest_redirect(),
        "/search" => search_page(req.query),
        "/newsletter" => newsletter_page(),
        path if path.starts_with("/old/") => old_redirect(path),
        path if path.starts_with("/tag/") => tag_page(path),
        _ => article(req)
            .or_else(|| static_file(NEWS, req))
            .unwrap_or_else(|| not_found(NEWS)),
    }
}

fn weekly(req: &DemoRequest<'_>) -> Response {
    let path = if req.path == "/" {
        "/index.html"
    } else {
        req.path
    };
    let req = DemoRequest { path, ..*req };
    static_file(WEEKLY, &req).unwrap_or_else(|| not_found(WEEKLY))
}

// ---------------------------------------------------------------------------
// News pages
// ---------------------------------------------------------------------------

fn find_article(path: &str) -> Option<&'static Article> {
    ARTICLE_TABLE.iter().find(|article| article.path == path)
}

fn article(req: &DemoRequest<'_>) -> Option<Response> {
    let article = find_article(req.path)?;
    if not_modified_since(req.headers, article.last_modified) {
        let mut response = empty(StatusCode::NOT_MODIFIED);
        set(&mut response, header::LAST_MODIFIED, article.last_modified);
        set(&mut response, header::CACHE_CONTROL, PAGE_MAX_AGE);
        return Some(response);
    }
    let (content_type, body) = article_bytes(article);
    let mut response = ok(content_type, PAGE_MAX_AGE, body);
    set(&mut response, header::LAST_MODIFIED, article.last_modified);
    let canonical = format!("https://{NEWS}{}", article.path);
    set(&mut response, header::CONTENT_LOCATION, &canonical);
    set(
        &mut response,
        header::LINK,
        "<https://www.demo-news.test/css/site.css>; rel=preload; as=style",
    );
    Some(response)
}

/// The article as it goes out: UTF-8 as stored, or encoded to GBK (with a
/// header that names no charset, so only the page or a sniffer can tell).
fn article_bytes(article: &Article) -> (&'static str, Vec<u8>) {
    match article.charset {
        Charset::Utf8 => (HTML_UTF8, article.html.as_bytes().to_vec()),
        Charset::GbkDeclared | Charset::GbkUndeclared => {
            let (bytes, _, _) = encoding_rs::GBK.encode(article.html);
            ("text/html", bytes.into_owned())
        }
    }
}

/// Exact match against our own `Last-Modified`, which is what caches echo.
fn not_modified_since(headers: &HeaderMap, last_modified: &str) -> bool {
    headers
        .get(header::IF_MODIFIED_SINCE)
        .is_some_and(|value| value.as_bytes() == last_modified.as_bytes())
}

/// `/` and `/news/`: every article, newest first. Gzip-compressed when the
/// client accepts it; sets a cookie and a CSP naming the upstream hosts, which
/// the mirror must not pass on as they are.
fn section_page(req: &DemoRequest<'_>) -> Response {
    let (title, heading) = if req.path == "/" {
        ("演示新闻网 Demo News：首页", "头条新闻")
    } else {
        ("新闻 | 演示新闻网", "新闻")
    };
    let main = format!(
        "<h1 class=\"title\">{heading}</h1>\n{}\n{}",
        top_story(&ARTICLE_TABLE[0]),
        article_list(ARTICLE_TABLE.iter().skip(1)),
    ) + WEEKLY_BOX;
    let head = "<meta http-equiv=\"refresh\" content=\"300\">\n\
        <link rel=\"canonical\" href=\"https://www.demo-news.test/news/\">\n\
        <link rel=\"alternate\" type=\"application/rss+xml\" title=\"演示新闻网\" \
        href=\"https://www.demo-news.test/news/feed.xml\">\n";
    let html = page(title, "zh-CN", head, &main);
    let mut response = if accepts_gzip(req.headers) {
        gzip_html(html)
    } else {
        ok(HTML_UTF8, PAGE_MAX_AGE, html)
    };
    set(&mut response, header::VARY, "Accept-Encoding");
    set(
        &mut response,
        header::SET_COOKIE,
        "demo_session=3f2a9c; Path=/; HttpOnly",
    );
    set(
        &mut response,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data: https://img.demo-news.test https://photos.wirefeed.test",
    );
    response
}

/// `/news/feed.xml`: the section as RSS 2.0, every URL absolute on the
/// site's hosts (the mirror maps them), teasers as CDATA HTML.
fn news_feed() -> Response {
    let items: String = ARTICLE_TABLE
        .iter()
        .map(|a| {
            format!(
                "<item><title>{title}</title>\
                 <link>https://{NEWS}{path}</link>\
                 <guid isPermaLink=\"true\">https://{NEWS}{path}</guid>\
                 <pubDate>{date}</pubDate>\
                 <description><![CDATA[<p><img src=\"{thumb}\" alt=\"\"> {teaser}</p>]]></description>\
                 <enclosure url=\"{lead}\" type=\"image/jpeg\" length=\"0\"/>\
                 </item>\n",
                title = escape(a.title),
                path = a.path,
                date = a.last_modified,
                thumb = a.thumb,
                lead = a.lead,
                teaser = escape(a.teaser),
            )
        })
        .collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>\n\
         <title>演示新闻网 Demo News</title><link>https://{NEWS}/news/</link>\
         <atom:link href=\"https://{NEWS}/news/feed.xml\" rel=\"self\" type=\"application/rss+xml\"/>\
         <description>演示新闻网的最新新闻</description><language>zh-CN</language>\n{items}</channel></rss>\n"
    );
    ok("application/rss+xml; charset=utf-8", PAGE_MAX_AGE, body)
}

const WEEKLY_BOX: &str = "\n<section class=\"weekly-box\"><h2>Demo Weekly</h2>\
    <p>本周长文：<a href=\"https://www.demo-weekly.test/2026/11/rivers-and-ferries.html\">Rivers, bridges and ferries</a>\
     · <a href=\"https://www.demo-weekly.test/\">全部文章</a></p></section>\n";

fn top_story(article: &Article) -> String {
    format!(
        "<div class=\"top-story\"><a href=\"{path}\"><img src=\"{lead}\" \
         srcset=\"{thumb} 200w, {lead} 600w\" sizes=\"(max-width: 600px) 100vw, 600px\" \
         width=\"600\" height=\"400\" alt=\"\"></a>\n<h2 lang=\"{lang}\"><a href=\"{path}\">{title}</a></h2>\
         <p>{teaser}</p></div>",
        path = article.path,
        lead = article.lead,
        thumb = article.thumb,
        lang = article.lang,
        title = escape(article.title),
        teaser = escape(article.teaser),
    )
}

fn article_list<'a>(articles: impl Iterator<Item = &'a Article>) -> String {
    let items: String = articles.map(article_item).collect();
    format!("<ul class=\"article-list\">\n{items}</ul>")
}

fn article_item(article: &Article) -> String {
    format!(
        "<li class=\"teaser\" lang=\"{lang}\"><a href=\"{path}\"><img src=\"{thumb}\" width=\"200\" height=\"133\" alt=\"\"></a>\
         <div><h2><a href=\"{path}\">{title}</a></h2><p>{teaser}</p><p class=\"meta\">{date} · {tags}</p></div></li>\n",
        lang = article.lang,
        path = article.path,
        thumb = article.thumb,
        title = escape(article.title),
        teaser = escape(article.teaser),
        date = article.date,
        tags = tag_links(article.tags),
    )
}

fn tag_links(tags: &[&str]) -> String {
    tags.iter()
        .map(|name| {
            format!(
                "<a href=\"{}\">{}</a>",
                tag_href(name),
                escape(tag_label(name))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn tag_href(name: &str) -> String {
    format!("/tag/{}.html", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

fn tag_label(name: &str) -> &str {
    TAGS.iter()
        .find(|(tag, _)| *tag == name)
        .map_or(name, |(_, label)| label)
}

/// `/tag/<name>.html`: the articles with that tag; 404 for a tag nobody uses.
fn tag_page(path: &str) -> Response {
    let name = path
        .strip_prefix("/tag/")
        .and_then(|rest| rest.strip_suffix(".html"))
        .and_then(|encoded| percent_decode_str(encoded).decode_utf8().ok());
    let Some(&(name, label)) = name.and_then(|name| TAGS.iter().find(|(tag, _)| *tag == name))
    else {
        return not_found(NEWS);
    };
    let tagged = ARTICLE_TABLE
        .iter()
        .filter(|article| article.tags.contains(&name));
    let main = format!(
        "<h1 class=\"title\">标签：{}</h1>\n{}",
        escape(label),
        article_list(tagged)
    );
    let html = page(&format!("{label} | 演示新闻网"), "zh-CN", "", &main);
    ok(HTML_UTF8, PAGE_MAX_AGE, html)
}

/// `/search?q=…&page=…`: articles whose title or teaser contain the query;
/// when none do, the latest articles instead. Any query answers 200.
fn search_page(query: Option<&str>) -> Response {
    let (q, page_number) = search_params(query);
    let needle = q.to_lowercase();
    let hits: Vec<&Article> = ARTICLE_TABLE
        .iter()
        .filter(|a| {
            !needle.is_empty()
                && (a.title.to_lowercase().contains(&needle)
                    || a.teaser.to_lowercase().contains(&needle))
        })
        .collect();
    let (note, list) = if hits.is_empty() {
        (
            "没有找到相关报道，以下是最新报道。",
            article_list(ARTICLE_TABLE.iter()),
        )
    } else {
        ("", article_list(hits.into_iter()))
    };
    let main = format!(
        "<h1 class=\"title\">搜索：{q_html}</h1>\n<p class=\"meta\">第 {page_number} 页 {note}</p>\n{list}\n{pager}",
        q_html = escape(&q),
        pager = search_pager(&q, page_number),
    );
    ok(
        HTML_UTF8,
        PAGE_MAX_AGE,
        page("搜索 | 演示新闻网", "zh-CN", "", &main),
    )
}

/// Three pages of results at most, so that a crawler following "next" stops.
const SEARCH_PAGES: u32 = 3;

fn search_pager(q: &str, page_number: u32) -> String {
    if page_number >= SEARCH_PAGES {
        return String::new();
    }
    format!(
        "<p><a href=\"/search?q={}&amp;page={}\">下一页</a></p>",
        utf8_percent_encode(q, NON_ALPHANUMERIC),
        page_number + 1
    )
}

fn search_params(query: Option<&str>) -> (String, u32) {
    let mut q = String::new();
    let mut page_number = 1;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "q" => q = value.trim().to_owned(),
            "page" => page_number = value.parse().unwrap_or(1).max(1),
            _ => {}
        }
    }
    (q, page_number)
}

fn newsletter_page() -> Response {
    let main = "<h1 class=\"title\">订阅</h1><p>这是演示网站，不会发送任何邮件。</p>\
                <p><a href=\"/\">返回首页</a></p>";
    ok(
        HTML_UTF8,
        "no-store",
        page("订阅 | 演示新闻网", "zh-CN", "", main),
    )
}

/// `/old/<anything>`: 301 to an absolute upstream URL (the article with the
/// same file name, or the section page).
fn old_redirect(path: &str) -> Response {
    let file = path.rsplit('/').next().unwrap_or("");
    let target = ARTICLE_TABLE
        .iter()
        .find(|article| !file.is_empty() && article.path.ends_with(&format!("/{file}")))
        .map_or("/news/", |article| article.path);
    redirect(
        StatusCode::MOVED_PERMANENTLY,
        &format!("https://{NEWS}{target}"),
    )
}

/// `/latest`: 302 to the newest article, as a path relative to `/latest`.
fn latest_redirect() -> Response {
    let newest = ARTICLE_TABLE[0].path.trim_start_matches('/');
    redirect(StatusCode::FOUND, newest)
}

/// The chrome every generated news page shares: header menu, ads, promo,
/// footer and scripts (which the demo config removes).
fn page(title: &str, lang: &str, head: &str, main: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{head}<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/css/site.css">
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{page: "list"}});</script>
<script src="https://www.demo-news.test/js/app.js" defer></script>
</head>
<body>
<header class="site-header">
  <div class="masthead"><a class="logo" href="/"><span class="icon">&#xE001;</span><img src="/img/logo.png" alt="演示新闻网" width="180" height="40"></a></div>
  <nav class="site-menu">
    <a href="/">首页</a>
    <a href="/news/">新闻</a>
    <a href="/tag/%E5%9F%8E%E5%B8%82.html">城市</a>
    <a href="/tag/english.html">English</a>
    <a href="https://www.demo-weekly.test/">周刊 Weekly</a>
    <a href="/about.html">关于我们</a>
  </nav>
  <form class="search" action="/search" method="get"><input type="search" name="q" placeholder="搜索新闻"> <button type="submit">搜索</button></form>
</header>
<div class="ad-slot ad-leaderboard"><a href="https://ads.example.net/click?id=demo-bank&amp;slot=top"><img src="https://img.demo-news.test/ads/leaderboard_728x90.png" width="728" height="90" alt="广告"></a></div>
<main>
{main}
<aside class="promo"><p>订阅演示新闻网早报，每天早上七点送到你的邮箱。<a href="/about.html#newsletter">立即订阅</a></p></aside>
<div class="ad-slot"><iframe src="https://ads.example.net/frame?slot=list&amp;site=demo-news" width="300" height="250" title="广告"></iframe></div>
</main>
<footer class="site-footer">
  <p>版权所有 演示新闻网（虚构网站，仅供演示）· <a href="/about.html">关于我们</a> · <a href="/archive.html">往期存档</a> · <a href="/latest">最新报道</a> · <a href="mailto:tips@demo-news.test">新闻线索</a></p>
</footer>
</body>
</html>
"#,
        title = escape(title),
    )
}

fn not_found(host: &str) -> Response {
    let home = if host == WEEKLY {
        "https://www.demo-weekly.test/"
    } else {
        "https://www.demo-news.test/"
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head><meta charset=\"utf-8\"><title>404 页面不存在</title></head>\n\
         <body><h1>404 页面不存在 / Page not found</h1>\
         <p><a href=\"{home}\">返回首页 / Home</a></p></body>\n</html>\n"
    );
    let mut response = ok(HTML_UTF8, PAGE_MAX_AGE, html);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn unknown_host() -> Response {
    let body = format!(
        "This is the newsmirror demo upstream. Ask for one of these hosts: {}\n",
        HOSTS.join(", ")
    );
    let mut response = ok("text/plain; charset=utf-8", "no-store", body);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn method_not_allowed() -> Response {
    let mut response = empty(StatusCode::METHOD_NOT_ALLOWED);
    set(&mut response, header::ALLOW, "GET, HEAD");
    response
}

// ---------------------------------------------------------------------------
// Static files, with byte ranges
// ---------------------------------------------------------------------------

fn static_file(host: &str, req: &DemoRequest<'_>) -> Option<Response> {
    // Compare decoded paths: `bridge%2Cnight_800.jpg` is `bridge,night_800.jpg`.
    let wanted = percent_decode_str(req.path).decode_utf8_lossy();
    let file = FILES
        .iter()
        .find(|file| file.host == host && file.path == wanted)?;
    let content_type = content_type(file.path);
    let max_age = if host == IMG || host == WIRE {
        IMAGE_MAX_AGE
    } else if content_type.starts_with("text/html") {
        PAGE_MAX_AGE
    } else {
        STATIC_MAX_AGE
    };
    let range = req
        .headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let mut response = match byte_range(range, file.body.len()) {
        ByteRange::Whole => ok(content_type, max_age, file.body),
        ByteRange::Part { start, end } => {
            let mut part = ok(content_type, max_age, &file.body[start..=end]);
            *part.status_mut() = StatusCode::PARTIAL_CONTENT;
            let content_range = format!("bytes {start}-{end}/{}", file.body.len());
            set(&mut part, header::CONTENT_RANGE, &content_range);
            part
        }
        ByteRange::Unsatisfiable => {
            let mut refused = empty(StatusCode::RANGE_NOT_SATISFIABLE);
            let content_range = format!("bytes */{}", file.body.len());
            set(&mut refused, header::CONTENT_RANGE, &content_range);
            refused
        }
    };
    set(&mut response, header::ACCEPT_RANGES, "bytes");
    Some(response)
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension {
        "html" => HTML_UTF8,
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// What a `Range` header asks of a body of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum ByteRange {
    Whole,
    /// Inclusive bounds, both within the body.
    Part {
        start: usize,
        end: usize,
    },
    Unsatisfiable,
}

/// Parses a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range. Anything
/// else (other units, several ranges, garbage) gets the whole body, which
/// RFC 9110 allows.
fn byte_range(header: Option<&str>, len: usize) -> ByteRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return ByteRange::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let last_byte = len.saturating_sub(1);
    let (start, end) = match (first.parse::<usize>(), last.parse::<usize>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.min(last_byte)),
        (Ok(start), Err(_)) if last.is_empty() => (start, last_byte),
        (Err(_), Ok(suffix)) if first.is_empty() && suffix > 0 => {
            (len.saturating_sub(suffix), last_byte)
        }
        _ => return ByteRange::Whole,
    };
    if start < len {
        ByteRange::Part { start, end }
    } else {
        ByteRange::Unsatisfiable
    }
}

// ---------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------

fn ok(content_type: &'static str, cache_control: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    set(&mut response, header::CONTENT_TYPE, content_type);
    set(&mut response, header::CACHE_CONTROL, cache_control);
    response
}

fn empty(status: StatusCode) -> Response {
    (status, Body::empty()).into_response()
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = empty(status);
    set(&mut response, header::LOCATION, location);
    set(&mut response, header::CACHE_CONTROL, PAGE_MAX_AGE);
    response
}

/// Sets a header; a value that is not a valid header value is left out
/// (every value here is ours, so that does not happen).
fn set(response: &mut Response, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused =
                parts.any(|param| matches!(param, "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// The page gzip-compressed, or plain if compression somehow fails.
fn gzip_html(html: String) -> Response {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder
        .write_all(html.as_bytes())
        .and_then(|()| encoder.finish());
    match compressed {
        Ok(bytes) => {
            let mut response = ok(HTML_UTF8, PAGE_MAX_AGE, bytes);
            set(&mut response, header::CONTENT_ENCODING, "gzip");
            response
        }
        Err(_) => ok(HTML_UTF8, PAGE_MAX_AGE, html),
    }
}

fn escape(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn articles_constant_lists_the_article_table() {
        let table: Vec<&str> = ARTICLE_TABLE.iter().map(|a| a.path).collect();
        assert_eq!(table, ARTICLES);
    }

    #[test]
    fn gbk_articles_encode_without_replacement() {
        for article in ARTICLE_TABLE.iter().filter(|a| a.charset != Charset::Utf8) {
            let (_, _, had_errors) = encoding_rs::GBK.encode(article.html);
            assert!(
                !had_errors,
                "{} has characters GBK cannot encode",
                article.path
            );
        }
    }

    #[test]
    fn undeclared_gbk_article_declares_no_charset() {
        let article = find_article("/news/2026/11/gbk-undeclared.html").map(|a| a.html);
        let html = article.unwrap_or_default().to_ascii_lowercase();
        assert!(!html.is_empty());
        assert!(!html.contains("charset"));
    }

    #[test]
    fn every_tag_of_every_article_has_a_tag_page() {
        for article in ARTICLE_TABLE {
            for tag in article.tags {
                assert!(TAGS.iter().any(|(name, _)| name == tag), "{tag}");
            }
        }
    }

    #[test]
    fn every_file_under_demo_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
        for host in [NEWS, IMG, WIRE, WEEKLY] {
            let mut stack = vec![root.join(host)];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let rel = path.strip_prefix(root.join(host)).unwrap_or(&path);
                    let url_path = format!("/{}", rel.to_string_lossy());
                    let embedded = FILES.iter().any(|f| f.host == host && f.path == url_path)
                        || (host == NEWS && find_article(&url_path).is_some());
                    assert!(embedded, "{host}{url_path} is not embedded");
                }
            }
        }
    }

    #[test]
    fn host_header_port_and_case_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_static("M.Demo-News.test:8443"),
        );
        assert_eq!(request_host(&headers, &Uri::from_static("/")), Some(NEWS));
        headers.insert(header::HOST, HeaderValue::from_static("img.demo-news.test"));
        assert_eq!(request_host(&headers, &Uri::from_static("/")), Some(IMG));
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:80"));
        assert_eq!(request_host(&headers, &Uri::from_static("/")), None);
    }

    #[test]
    fn byte_range_forms() {
        assert_eq!(byte_range(None, 10), ByteRange::Whole);
        assert_eq!(
            byte_range(Some("bytes=2-4"), 10),
            ByteRange::Part { start: 2, end: 4 }
        );
        assert_eq!(
            byte_range(Some("bytes=7-"), 10),
            ByteRange::Part { start: 7, end: 9 }
        );
        assert_eq!(
            byte_range(Some("bytes=-3"), 10),
            ByteRange::Part { start: 7, end: 9 }
        );
        assert_eq!(
            byte_range(Some("bytes=-30"), 10),
            ByteRange::Part { start: 0, end: 9 }
        );
        assert_eq!(
            byte_range(Some("bytes=5-99"), 10),
            ByteRange::Part { start: 5, end: 9 }
        );
        assert_eq!(byte_range(Some("bytes=10-"), 10), ByteRange::Unsatisfiable);
        assert_eq!(byte_range(Some("bytes=-0"), 10), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=4-2"), 10), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=0-1,4-5"), 10), ByteRange::Whole);
        assert_eq!(byte_range(Some("items=0-1"), 10), ByteRange::Whole);
    }

    #[test]
    fn gzip_is_recognised_unless_refused() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.8"));
        assert!(!with("br, gzip;q=0"));
        assert!(!with("identity"));
    }

    #[test]
    fn config_is_accepted_and_leaves_origins_to_the_runner() {
        let parsed = crate::config::Config::parse(CONFIG, "config/demo.toml");
        let config = parsed.unwrap_or_else(|e| panic!("{e}"));
        assert!(config.upstream.origins.is_empty());
        let mounts: Vec<(&str, &str)> = config
            .sites
            .iter()
            .map(|s| (s.name.as_str(), s.mount.as_str()))
            .collect();
        assert_eq!(mounts, [("demo-news", "/"), ("demo-weekly", "/weekly/")]);
        let news = &config.sites[0];
        for host in &news.aliases {
            assert!(HOSTS.contains(&host.as_str()), "{host}");
        }
        assert_eq!(news.asset_hosts, [IMG]);
    }
}
