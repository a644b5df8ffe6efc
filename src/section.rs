//! Section pages as data: `GET /_/api/section?url=U` (the articles a
//! section page lists, as JSON), `GET /_/feed?url=U&format=atom|rss|json`
//! (the same as a feed, for sections whose site has none), and
//! `GET /_/api/popular?site=S&window=1h|1d&limit=N` (the most read
//! articles, from `crate::popular`'s counts, titled from the articles).
//!
//! The page is read as the mirror serves it (`api::fetch_page`: same
//! cache, same rewriting), so every URL is already the mirror's; the
//! articles are found by `extract::section`. For a feed, the first
//! [`ENRICHED`] articles the listing gives no date, image or summary for
//! are read too (through the cache, [`ENRICH_AT_ONCE`] at a time, each
//! bounded by the extractor's deadline), and the feed is kept for
//! [`crate::feed::FEED_TTL`].

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use http::{HeaderValue, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{self, ApiError};
use crate::app::App;
use crate::escape::{escape_attr, escape_text};
use crate::extract::{self, Limits};
use crate::feed::Format;
use crate::forwarded::ClientView;

/// Articles of a feed whose missing fields come from the article itself.
pub const ENRICHED: usize = 10;
/// Articles read at once for that.
pub const ENRICH_AT_ONCE: usize = 3;

/// The articles of a section page (`GET /_/api/section`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectionJson {
    /// The mirrored site's configured name.
    pub site: String,
    /// The section page's mirror URL (absolute when `public_url` is set).
    pub url: String,
    /// The section page on the original site.
    pub original_url: String,
    pub title: String,
    pub articles: Vec<TeaserJson>,
}

/// One article a section lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SectionArticle)]
pub struct TeaserJson {
    pub title: String,
    /// Mirror URL of the article.
    pub url: String,
    #[schema(required = true)]
    pub original_url: Option<String>,
    /// RFC 3339 date-time, or a full-date when the page gives no time zone.
    #[schema(required = true)]
    pub published: Option<String>,
    /// Mirror URL of the teaser's image.
    #[schema(required = true)]
    pub lead_image: Option<String>,
    #[schema(required = true)]
    pub excerpt: Option<String>,
}

/// The query of `GET /_/api/section`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SectionQuery {
    /// An original URL of a mirrored site's section page, a mirror path,
    /// or a mirror URL.
    #[param(required = true, example = "/news/")]
    url: Option<String>,
}

/// The query of `GET /_/feed`.
#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    url: Option<String>,
    /// `atom` (the default), `rss` or `json`.
    format: Option<String>,
}

/// The section API's part of `/_/api/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(section, popular),
    components(schemas(SectionJson, TeaserJson, PopularJson, PopularArticleJson)),
    tags((name = "section", description = "The articles of section pages"))
)]
pub struct SectionDoc;

/// `GET /_/api/section`.
#[utoipa::path(
    get,
    path = "/_/api/section",
    tag = "section",
    summary = "The articles a section page lists",
    description = "Fetches the section page exactly as a reader would and lists the articles it links to, with what the listing shows of each (title, date, image, excerpt). Every URL is a mirror URL.",
    params(SectionQuery),
    responses(
        (status = 200, description = "The section", body = SectionJson),
        (status = 400, description = "url missing, not a URL, or an asset/image URL", body = api::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The URL's host is not a mirrored site", body = api::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Upstream says the page does not exist", body = api::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an HTML page, or reading it timed out", body = api::Problem, content_type = "application/problem+json"),
        (status = 502, description = "Upstream failed or answered another error", body = api::Problem, content_type = "application/problem+json"),
        (status = 504, description = "Upstream timed out", body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn section(
    State(app): State<Arc<App>>,
    view: Option<axum::Extension<ClientView>>,
    Query(query): Query<SectionQuery>,
) -> Result<Response, ApiError> {
    let host = view.and_then(|axum::Extension(v)| v.host);
    let given = required(query.url)?;
    let s = read(&app, &given, host.as_deref()).await?;
    let mut r = axum::Json(s).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(r)
}

/// `GET /_/feed`.
pub async fn feed(
    State(app): State<Arc<App>>,
    view: Option<axum::Extension<ClientView>>,
    headers: http::HeaderMap,
    Query(query): Query<FeedQuery>,
) -> Result<Response, ApiError> {
    let view = view.map(|axum::Extension(v)| v);
    let format = Format::parse(query.format.as_deref()).map_err(ApiError::BadFeedFormat)?;
    let given = required(query.url)?;
    let host_header = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = origin(&app, view.as_ref(), host_header);
    // Per origin: a mirror under two names writes each its own URLs.
    let key = (format!("{origin} {given}"), format);
    let made = match app.feeds.get(&key).await {
        Some(made) => made,
        None => {
            let host = view.as_ref().and_then(|v| v.host.clone());
            let mut s = read(&app, &given, host.as_deref()).await?;
            enrich(&app, &mut s).await;
            let self_url = format!(
                "{origin}{}?url={}&format={}",
                crate::routes::FEED,
                percent_encoding::utf8_percent_encode(&given, percent_encoding::NON_ALPHANUMERIC),
                format.name()
            );
            let body = render(format, &s, &origin, &self_url, SystemTime::now());
            let made = Arc::new((HeaderValue::from_static(format.media_type()), body));
            app.feeds.insert(key, made.clone()).await;
            made
        }
    };
    let mut r = made.1.clone().into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, made.0.clone());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::mirror::plan::FEED_CSP),
    );
    Ok(r)
}

/// Most articles `/_/api/popular` gives.
pub const POPULAR_MAX: usize = 50;

/// The most read articles of a site (`GET /_/api/popular`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Popular)]
pub struct PopularJson {
    pub site: String,
    /// `1h` or `1d`.
    pub window: &'static str,
    pub articles: Vec<PopularArticleJson>,
}

/// One of the most read articles.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PopularArticle)]
pub struct PopularArticleJson {
    /// Mirror URL of the article.
    pub url: String,
    #[schema(required = true)]
    pub original_url: Option<String>,
    /// The article's title; the path when it cannot be read.
    pub title: String,
    /// Views in the window.
    pub views: u64,
}

/// The query of `GET /_/api/popular`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PopularQuery {
    /// A site's configured name; the first site when absent.
    #[param(example = "demo-news")]
    site: Option<String>,
    /// `1h` or `1d` (the default).
    #[param(example = "1d")]
    window: Option<String>,
    /// How many, 1 to 50 (10 by default).
    #[param(example = 10)]
    limit: Option<usize>,
}

/// `GET /_/api/popular`.
#[utoipa::path(
    get,
    path = "/_/api/popular",
    tag = "section",
    summary = "The most read articles of a site",
    description = "Counted in memory from the article pages the mirror answered, by site and path only: no address, cookie or identifier of a reader is kept. Titles come from the articles, read through the cache.",
    params(PopularQuery),
    responses(
        (status = 200, description = "The most read articles, most first", body = PopularJson),
        (status = 400, description = "An unknown window or a limit out of range", body = api::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn popular(
    State(app): State<Arc<App>>,
    Query(query): Query<PopularQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(10);
    if !(1..=POPULAR_MAX).contains(&limit) {
        return Err(ApiError::BadQuery(format!(
            "limit must be 1 to {POPULAR_MAX}"
        )));
    }
    let read = most_read(&app, &query, limit).await?;
    let articles = read
        .articles
        .into_iter()
        .map(|a| PopularArticleJson {
            url: app.mapper.absolute(&a.path),
            original_url: a.original.map(|u| u.to_string()),
            title: a.title,
            views: a.views,
        })
        .collect();
    let mut r = axum::Json(PopularJson {
        site: read.site.name.clone(),
        window: read.window.name(),
        articles,
    })
    .into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(r)
}

/// The most read articles of the query's site and window, titled.
struct MostRead {
    site: Arc<crate::site::Site>,
    window: crate::popular::Window,
    articles: Vec<ReadArticle>,
}

struct ReadArticle {
    path: String,
    original: Option<url::Url>,
    title: String,
    views: u64,
}

async fn most_read(
    app: &Arc<App>,
    query: &PopularQuery,
    limit: usize,
) -> Result<MostRead, ApiError> {
    let site = match &query.site {
        Some(name) => app.sites.iter().find(|s| &s.name == name),
        None => app.sites.first(),
    }
    .cloned()
    .ok_or_else(|| ApiError::NoSuchSite(query.site.clone().unwrap_or_default()))?;
    let window = crate::popular::Window::parse(query.window.as_deref())
        .ok_or_else(|| ApiError::BadQuery("window must be 1h or 1d".into()))?;
    let top = app.views.top(site.id.0, window, limit, SystemTime::now());
    let articles = futures_util::stream::iter(top)
        .map(|(path, views)| {
            let app = app.clone();
            let site = site.clone();
            async move {
                let original = app.mapper.original_of(None, &path).map(|(_, u)| u);
                let title = title_of(&app, &site, &path, original.as_ref()).await;
                ReadArticle {
                    path,
                    original,
                    title,
                    views,
                }
            }
        })
        .buffered(ENRICH_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    Ok(MostRead {
        site,
        window,
        articles,
    })
}

/// `GET /_/popular`: the same list for readers, as a page in the nav's
/// language with the site's nav bar (an operator may link it from `nav`).
pub async fn popular_page(
    State(app): State<Arc<App>>,
    Query(query): Query<PopularQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(20).clamp(1, POPULAR_MAX);
    let MostRead {
        site,
        window,
        articles,
    } = most_read(&app, &query, limit).await?;
    let w = app.mirrors.words();
    let items: String = articles
        .iter()
        .map(|a| {
            format!(
                "<li><a href=\"{}\">{}</a></li>",
                escape_attr(&a.path),
                escape_text(&a.title)
            )
        })
        .collect();
    let other = match window {
        crate::popular::Window::Hour => ("1d", w.last_day),
        crate::popular::Window::Day => ("1h", w.last_hour),
    };
    let heading = match window {
        crate::popular::Window::Hour => w.last_hour,
        crate::popular::Window::Day => w.last_day,
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"{css}\"></head><body>{nav}\
         <main class=\"newsmirror-mirrors\" id=\"newsmirror-popular\"><h1>{title}</h1>\
         <p>{heading} · <a href=\"{route}?site={site}&amp;window={other_code}\">{other_label}</a></p>\
         <ol>{items}</ol></main></body></html>\n",
        code = w.code,
        dir = w.dir,
        title = escape_text(w.most_read),
        css = crate::routes::STYLESHEET,
        nav = site.nav_html,
        heading = escape_text(heading),
        route = crate::routes::POPULAR_PAGE,
        site = escape_attr(&site.name),
        other_code = other.0,
        other_label = escape_text(other.1),
    );
    let mut r = html.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::headers::CSP_SCRIPTS_REMOVED),
    );
    Ok(r)
}

/// An article's title, read once an hour at most (the path when it cannot be).
async fn title_of(
    app: &Arc<App>,
    site: &Arc<crate::site::Site>,
    path: &str,
    original: Option<&url::Url>,
) -> String {
    let key = (site.id.0, path.to_owned());
    if let Some(t) = app.titles.get(&key).await {
        return t.to_string();
    }
    let read = async {
        let (site, _, mirror_path, html) =
            api::fetch_page(app, site, original?.clone()).await.ok()?;
        let page_url = api::page_url(&app.mapper, &mirror_path);
        let article = api::extract_off_runtime(html, page_url, api::selectors(&site))
            .await
            .ok()?;
        Some(article.title).filter(|t| !t.is_empty())
    };
    match read.await {
        Some(title) => {
            app.titles.insert(key, Arc::from(title.as_str())).await;
            title
        }
        None => path.to_owned(),
    }
}

fn required(url: Option<String>) -> Result<String, ApiError> {
    url.map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .ok_or(ApiError::MissingUrl)
}

/// The origin absolute URLs in a feed are on: `public_url` (the onion one
/// under the onion name), else the one the request came to (its `Host`,
/// port included, or the host a trusted proxy names).
fn origin(app: &App, view: Option<&ClientView>, host_header: Option<&str>) -> String {
    let onion = app.is_onion_host(view.and_then(|v| v.host.as_deref()));
    let absolute = app.mapper_for(onion).absolute("/");
    if absolute != "/" {
        return absolute.trim_end_matches('/').to_owned();
    }
    let Some((proto, host)) = view.and_then(|v| v.host.as_deref().map(|h| (v.proto, h))) else {
        return String::new();
    };
    let authority = host_header
        .filter(|raw| {
            raw.parse::<http::uri::Authority>()
                .is_ok_and(|a| a.host().eq_ignore_ascii_case(host))
        })
        .unwrap_or(host);
    format!("{proto}://{authority}")
}

/// The section page behind `given`, read.
async fn read(app: &Arc<App>, given: &str, host: Option<&str>) -> Result<SectionJson, ApiError> {
    let (site, original) = api::resolve_on(app, given, host)?;
    let (site, original, mirror_path, html) = api::fetch_page(app, &site, original).await?;
    let mapper = app.mapper_for(app.is_onion_host(host)).clone();
    let page_url = api::page_url(&mapper, &mirror_path);
    let deadline = Instant::now() + api::EXTRACT_DEADLINE;
    let work = tokio::task::spawn_blocking(move || {
        extract::section::section(extract::Input {
            html: &html,
            page_url: &page_url,
            selectors: None,
            limits: Limits {
                deadline: Some(deadline),
                ..Limits::default()
            },
        })
    });
    let found = match tokio::time::timeout(api::EXTRACT_DEADLINE + Duration::from_millis(500), work)
        .await
    {
        Ok(Ok(result)) => result?,
        Ok(Err(_)) | Err(_) => return Err(ApiError::Extract(extract::ExtractError::Timeout)),
    };
    // Only the section's own site's articles (not a promoted link to
    // another site mounted on the same mirror).
    let articles = found
        .articles
        .into_iter()
        .filter_map(|t| {
            let (of, original) = mapper.original_of(None, &t.url)?;
            (of == Some(site.id)).then_some((t, original))
        })
        .map(|(t, original)| TeaserJson {
            original_url: Some(original.to_string()),
            url: mapper.absolute(&t.url),
            title: t.title,
            published: t.published,
            lead_image: t.lead_image.map(|i| mapper.absolute(&i)),
            excerpt: t.excerpt,
        })
        .collect();
    Ok(SectionJson {
        site: site.name.clone(),
        url: mapper.absolute(&mirror_path),
        original_url: original.to_string(),
        title: found.title,
        articles,
    })
}

/// Fills in what the listing did not show, from the articles themselves.
async fn enrich(app: &Arc<App>, s: &mut SectionJson) {
    let wanted: Vec<usize> = s
        .articles
        .iter()
        .enumerate()
        .filter(|(_, a)| a.published.is_none() || a.lead_image.is_none() || a.excerpt.is_none())
        .map(|(i, _)| i)
        .take(ENRICHED)
        .collect();
    let reads = futures_util::stream::iter(wanted.into_iter().map(|i| {
        let a = &s.articles[i];
        (i, a.original_url.clone().unwrap_or_else(|| a.url.clone()))
    }))
    .map(|(i, given)| {
        let app = app.clone();
        async move {
            let (site, original) = api::resolve_on(&app, &given, None).ok()?;
            let (site, _, path, html) = api::fetch_page(&app, &site, original).await.ok()?;
            let page_url = api::page_url(&app.mapper, &path);
            let article = api::extract_off_runtime(html, page_url, api::selectors(&site))
                .await
                .ok()?;
            Some((i, api::mirrored_images(&app.mapper, Some(&site), article)))
        }
    })
    .buffer_unordered(ENRICH_AT_ONCE)
    .collect::<Vec<_>>()
    .await;
    for (i, article) in reads.into_iter().flatten() {
        let a = &mut s.articles[i];
        if a.published.is_none() {
            a.published = article.published;
        }
        if a.lead_image.is_none() {
            a.lead_image = article.lead_image.map(|i| app.mapper.absolute(&i.url));
        }
        if a.excerpt.is_none() && !article.excerpt.is_empty() {
            a.excerpt = Some(article.excerpt);
        }
    }
}

/// `url` absolute on `origin` when it is a path.
fn on(origin: &str, url: &str) -> String {
    if url.starts_with('/') && !url.starts_with("//") {
        format!("{origin}{url}")
    } else {
        url.to_owned()
    }
}

/// The feed's bytes.
pub fn render(
    format: Format,
    s: &SectionJson,
    origin: &str,
    self_url: &str,
    now: SystemTime,
) -> String {
    let home = on(origin, &s.url);
    match format {
        Format::Atom => {
            let updated = s
                .articles
                .iter()
                .filter_map(|a| a.published.as_deref().and_then(to_rfc3339))
                .max()
                .unwrap_or_else(|| crate::access_log::rfc3339(now));
            let mut out = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
                 <title>{}</title>\n<id>{}</id>\n<updated>{updated}</updated>\n\
                 <link rel=\"self\" href=\"{}\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
                 <generator>newsmirror</generator>\n",
                escape_text(&s.title),
                escape_text(&home),
                escape_attr(self_url),
                escape_attr(&home),
            );
            for a in &s.articles {
                let url = on(origin, &a.url);
                let date = a
                    .published
                    .as_deref()
                    .and_then(to_rfc3339)
                    .unwrap_or_else(|| updated.clone());
                out.push_str(&format!(
                    "<entry><title>{}</title><id>{}</id><link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\
                     <updated>{date}</updated>",
                    escape_text(&a.title),
                    escape_text(&url),
                    escape_attr(&url)
                ));
                if a.published.is_some() {
                    out.push_str(&format!("<published>{date}</published>"));
                }
                if let Some(e) = &a.excerpt {
                    out.push_str(&format!("<summary>{}</summary>", escape_text(e)));
                }
                if let Some(i) = &a.lead_image {
                    out.push_str(&format!(
                        "<link rel=\"enclosure\" type=\"{}\" href=\"{}\"/>",
                        image_type(i),
                        escape_attr(&on(origin, i))
                    ));
                }
                out.push_str("</entry>\n");
            }
            out.push_str("</feed>\n");
            out
        }
        Format::Rss => {
            let mut out = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
                 <rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>\n\
                 <title>{}</title>\n<link>{}</link>\n<description>{}</description>\n\
                 <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n\
                 <generator>newsmirror</generator>\n",
                escape_text(&s.title),
                escape_text(&home),
                escape_text(&s.title),
                escape_attr(self_url),
            );
            for a in &s.articles {
                let url = on(origin, &a.url);
                out.push_str(&format!(
                    "<item><title>{}</title><link>{}</link><guid isPermaLink=\"true\">{}</guid>",
                    escape_text(&a.title),
                    escape_text(&url),
                    escape_text(&url)
                ));
                if let Some(d) = a.published.as_deref().and_then(to_http_date) {
                    out.push_str(&format!("<pubDate>{d}</pubDate>"));
                }
                if let Some(e) = &a.excerpt {
                    out.push_str(&format!("<description>{}</description>", escape_text(e)));
                }
                if let Some(i) = &a.lead_image {
                    out.push_str(&format!(
                        "<enclosure url=\"{}\" type=\"{}\" length=\"0\"/>",
                        escape_attr(&on(origin, i)),
                        image_type(i)
                    ));
                }
                out.push_str("</item>\n");
            }
            out.push_str("</channel></rss>\n");
            out
        }
        Format::Json => {
            let items: Vec<serde_json::Value> = s
                .articles
                .iter()
                .map(|a| {
                    let url = on(origin, &a.url);
                    let mut item = serde_json::json!({"id": url, "url": url, "title": a.title});
                    if let Some(e) = &a.excerpt {
                        item["summary"] = e.clone().into();
                        item["content_text"] = e.clone().into();
                    } else {
                        item["content_text"] = a.title.clone().into();
                    }
                    if let Some(i) = &a.lead_image {
                        item["image"] = on(origin, i).into();
                    }
                    if let Some(d) = a.published.as_deref().and_then(to_rfc3339) {
                        item["date_published"] = d.into();
                    }
                    if let Some(o) = &a.original_url {
                        item["external_url"] = o.clone().into();
                    }
                    item
                })
                .collect();
            let feed = serde_json::json!({
                "version": "https://jsonfeed.org/version/1.1",
                "title": s.title,
                "home_page_url": home,
                "feed_url": self_url,
                "items": items,
            });
            serde_json::to_string_pretty(&feed).unwrap_or_default() + "\n"
        }
    }
}

fn image_type(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if path.ends_with(".png") {
        "image/png"
    } else if path.ends_with(".gif") {
        "image/gif"
    } else if path.ends_with(".webp") {
        "image/webp"
    } else {
        "image/jpeg"
    }
}

/// A full-date becomes midnight UTC; a date-time stays.
fn to_rfc3339(d: &str) -> Option<String> {
    let t = parse_date(d)?;
    if d.len() == 10 {
        Some(crate::access_log::rfc3339(t))
    } else {
        Some(d.to_owned())
    }
}

fn to_http_date(d: &str) -> Option<String> {
    parse_date(d).map(httpdate::fmt_http_date)
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS][.frac](Z|±HH:MM)`.
fn parse_date(d: &str) -> Option<SystemTime> {
    let num = |s: &str| s.parse::<i64>().ok();
    let (y, m, day) = (num(d.get(0..4)?)?, num(d.get(5..7)?)?, num(d.get(8..10)?)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(y, m, day) * 86_400;
    if d.len() > 10 {
        let time = d.get(11..)?;
        let (h, min) = (num(time.get(0..2)?)?, num(time.get(3..5)?)?);
        let s = time
            .get(5..8)
            .filter(|s| s.starts_with(':'))
            .and_then(|s| num(&s[1..]))
            .unwrap_or(0);
        secs += h * 3600 + min * 60 + s;
        let zone = time
            .find(['Z', '+', '-'])
            .map(|at| &time[at..])
            .unwrap_or("Z");
        if zone != "Z" {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (zh, zm) = (num(zone.get(1..3)?)?, num(zone.get(4..6)?)?);
            secs -= sign * (zh * 3600 + zm * 60);
        }
    }
    let secs = u64::try_from(secs).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert() {
        assert_eq!(
            to_http_date("2026-11-20").as_deref(),
            Some("Fri, 20 Nov 2026 00:00:00 GMT")
        );
        assert_eq!(
            to_http_date("2026-11-20T08:30:00+08:00").as_deref(),
            Some("Fri, 20 Nov 2026 00:30:00 GMT")
        );
        assert_eq!(
            to_rfc3339("2026-11-20").as_deref(),
            Some("2026-11-20T00:00:00Z")
        );
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("x"), None);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
    }
}
