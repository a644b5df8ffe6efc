//! `GET /_/api/article?url=U[&format=markdown]`: the cleaned article of a
//! mirrored page as JSON (DESIGN.md's shape) or in the seed page's Markdown
//! form, and the `application/problem+json` errors (RFC 9457) around it.
//!
//! The page is fetched exactly as a reader's request would be (same
//! upstream client, same cache, same rewriting), so the article's links and
//! images are mirror URLs; extraction runs off the async runtime with a
//! deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::app::App;
use crate::error::MirrorError;
use crate::extract::{self, Article, ExtractError, Limits, Selectors};
use crate::forwarded::ClientView;
use crate::mirror::{self, Target};
use crate::site::Site;
use crate::url_map::{Mapped, Place, UrlMapper};

/// How long one extraction may run before the API answers 422.
pub const EXTRACT_DEADLINE: Duration = Duration::from_secs(3);
/// Redirects followed from page to page inside the mirror.
const MAX_REDIRECTS: usize = 5;

/// The cleaned-article JSON (DESIGN.md, contract). The doc comments are
/// the descriptions in `/_/api/openapi.json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Article)]
pub struct ArticleJson {
    /// The mirrored site's configured name.
    #[schema(required = true)]
    pub site: Option<String>,
    /// The page's mirror URL (absolute when `public_url` is set).
    pub url: String,
    /// The page's URL on the original site.
    #[schema(required = true)]
    pub original_url: Option<String>,
    pub title: String,
    #[schema(required = true)]
    pub byline: Option<String>,
    /// RFC 3339 date-time, or a full-date when the page gives no time zone.
    #[schema(required = true)]
    pub published: Option<String>,
    /// RFC 3339 date-time, or a full-date when the page gives no time zone.
    #[schema(required = true)]
    pub modified: Option<String>,
    /// BCP 47 language tag, declared by the page or detected.
    #[schema(required = true, example = "zh-CN")]
    pub lang: Option<String>,
    /// Text direction.
    #[schema(example = "ltr")]
    pub dir: String,
    pub excerpt: String,
    #[schema(required = true)]
    pub site_name: Option<String>,
    #[schema(required = true)]
    pub lead_image: Option<ImageJson>,
    pub images: Vec<ImageJson>,
    pub tags: Vec<TagJson>,
    /// Cleaned article HTML with mirror URLs; no script, style or ads.
    pub content_html: String,
    /// Plain text, paragraphs separated by blank lines.
    pub text: String,
    /// Words, each CJK character counting as one.
    pub word_count: usize,
}

/// An image of the article.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Image)]
pub struct ImageJson {
    /// Mirror URL (`/_/asset/...` or `/_/img/...`).
    pub url: String,
    /// The image's URL on its original host.
    #[schema(required = true)]
    pub original_url: Option<String>,
    #[schema(required = true)]
    pub caption: Option<String>,
}

/// A tag of the article.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Tag)]
pub struct TagJson {
    pub name: String,
    /// Mirror URL of the tag's page; empty for tags named only in metadata.
    pub url: String,
}

impl ArticleJson {
    /// The JSON for `article`, found at mirror URL `url` (original `original`).
    pub fn new(
        mapper: &UrlMapper,
        site: Option<&Site>,
        url: &str,
        original: Option<&Url>,
        article: Article,
    ) -> ArticleJson {
        let image = |i: extract::Image| ImageJson {
            original_url: mapper.original_of(None, &i.url).map(|(_, u)| u.to_string()),
            url: mapper.absolute(&i.url),
            caption: i.caption,
        };
        ArticleJson {
            site: site.map(|s| s.name.clone()),
            url: mapper.absolute(url),
            original_url: original.map(Url::to_string),
            title: article.title,
            byline: article.byline,
            published: article.published,
            modified: article.modified,
            lang: article.lang,
            dir: article.dir,
            excerpt: article.excerpt,
            site_name: article.site_name,
            lead_image: article.lead_image.map(image),
            images: article.images.into_iter().map(image).collect(),
            tags: article
                .tags
                .into_iter()
                .map(|t| TagJson {
                    url: if t.url.is_empty() {
                        t.url
                    } else {
                        mapper.absolute(&t.url)
                    },
                    name: t.name,
                })
                .collect(),
            content_html: article.content_html,
            text: article.text,
            word_count: article.word_count,
        }
    }
}

/// The mirror URL of an image the extractor found, or `None` when it has
/// none: a mirror path (or a URL on `public_url`) stays; an absolute URL
/// (what an upstream URL in metadata or unrewritten markup resolves to) is
/// mapped as the page's images are (`Place::Image`), and dropped when the
/// mirror does not serve it. Without a site (`newsmirror extract` without a
/// configuration) there is no mirror and every URL stays.
fn mirror_image_url(mapper: &UrlMapper, site: Option<&Site>, url: &str) -> Option<String> {
    let Some(site) = site else {
        return Some(url.to_owned());
    };
    let absolute = mapper.absolute("/");
    let on_mirror = (url.starts_with('/') && !url.starts_with("//"))
        || (absolute != "/" && url.starts_with(absolute.as_str()));
    if on_mirror {
        return Some(url.to_owned());
    }
    let parsed = Url::parse(url).ok()?;
    match mapper.map_url(site.id, &parsed, Place::Image) {
        Mapped::Mirror(p) => Some(p),
        // An absolute URL on one of the mirror's own host names (`hosts`).
        _ if mapper.is_mirror_host(parsed.host_str()?) => Some(url.to_owned()),
        _ => None,
    }
}

/// `article` with every image URL a mirror URL ([`mirror_image_url`]): the
/// lead image, the image list and the `<img>`s of `content_html` (an image
/// the mirror cannot serve is left out).
pub fn mirrored_images(mapper: &UrlMapper, site: Option<&Site>, mut article: Article) -> Article {
    let map = |i: extract::Image| -> Option<extract::Image> {
        Some(extract::Image {
            url: mirror_image_url(mapper, site, &i.url)?,
            caption: i.caption,
        })
    };
    article.lead_image = article.lead_image.and_then(map);
    let mut images: Vec<extract::Image> = Vec::with_capacity(article.images.len());
    for image in article.images.into_iter().filter_map(map) {
        if !images.iter().any(|i| i.url == image.url) {
            images.push(image);
        }
    }
    article.images = images;
    if site.is_some() {
        article.content_html = mirrored_content_images(mapper, site, &article.content_html);
    }
    article
}

/// `content_html` with each `<img src>` mapped by [`mirror_image_url`], or
/// the `<img>` removed.
fn mirrored_content_images(mapper: &UrlMapper, site: Option<&Site>, html: &str) -> String {
    let settings = lol_html::RewriteStrSettings::new().append_element_content_handler(
        lol_html::element!("img", |el| {
            let src = el
                .get_attribute("src")
                .map(|v| crate::escape::decode_attr(&v).into_owned());
            match src.and_then(|u| mirror_image_url(mapper, site, &u).map(|m| (u, m))) {
                Some((given, mapped)) if given == mapped => {}
                Some((_, mapped)) => {
                    el.set_attribute("src", &crate::escape::escape_attr(&mapped))?;
                }
                None => el.remove(),
            }
            Ok(())
        }),
    );
    lol_html::rewrite_str(html, settings).unwrap_or_else(|_| html.to_owned())
}

/// `[site.article]` as the extractor's selectors.
pub fn selectors(site: &Site) -> Option<Selectors> {
    site.article
        .as_ref()
        .map(crate::config::ArticleSelectors::selectors)
}

/// Runs the extractor off the async runtime, bounded by [`EXTRACT_DEADLINE`].
pub async fn extract_off_runtime(
    html: String,
    page_url: Url,
    selectors: Option<Selectors>,
) -> Result<Article, ExtractError> {
    let deadline = Instant::now() + EXTRACT_DEADLINE;
    let work = tokio::task::spawn_blocking(move || {
        extract::extract(extract::Input {
            html: &html,
            page_url: &page_url,
            selectors: selectors.as_ref(),
            limits: Limits {
                deadline: Some(deadline),
                ..Limits::default()
            },
        })
    });
    // The extractor checks its deadline itself; this is the backstop.
    match tokio::time::timeout(EXTRACT_DEADLINE + Duration::from_millis(500), work).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) | Err(_) => Err(ExtractError::Timeout),
    }
}

/// Why the API cannot answer with an article. The one place these map to statuses.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the url parameter is missing")]
    MissingUrl,
    #[error("{0:?} is not an http(s) URL or a mirror path")]
    BadUrl(String),
    #[error("unknown format {0:?}: use json or markdown")]
    BadFormat(String),
    #[error("unknown feed format {0:?}: use atom, rss or json")]
    BadFeedFormat(String),
    #[error("{0}")]
    BadQuery(String),
    #[error("no site is named {0:?}")]
    NoSuchSite(String),
    #[error("{0:?} is not a mirrored site")]
    NotMirrored(String),
    #[error("an asset or image URL is not an article page")]
    NotAPage,
    #[error("upstream answered {0} for this page")]
    UpstreamStatus(StatusCode),
    #[error("upstream failed ({0})")]
    UpstreamFailed(StatusCode),
    /// The page path failed (upstream unreachable or busy, a bad body, ...):
    /// its status is the mirror's, from the one table (`MirrorError::status`).
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error("upstream redirects off the mirror, to {0}")]
    OffMirrorRedirect(String),
    #[error("too many redirects")]
    TooManyRedirects,
    #[error("reading the page failed: {0}")]
    Read(crate::body::Cause),
    #[error("the page is not HTML")]
    NotHtml,
    #[error(transparent)]
    Extract(#[from] ExtractError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingUrl
            | ApiError::BadUrl(_)
            | ApiError::BadFormat(_)
            | ApiError::BadFeedFormat(_)
            | ApiError::BadQuery(_)
            | ApiError::NotAPage => StatusCode::BAD_REQUEST,
            ApiError::NoSuchSite(_) => StatusCode::NOT_FOUND,
            ApiError::NotMirrored(_) => StatusCode::FORBIDDEN,
            ApiError::UpstreamStatus(s) if matches!(s.as_u16(), 404 | 410) => *s,
            ApiError::UpstreamFailed(s) => *s,
            ApiError::Mirror(e) => e.status(),
            ApiError::UpstreamStatus(_)
            | ApiError::OffMirrorRedirect(_)
            | ApiError::TooManyRedirects
            | ApiError::Read(_) => StatusCode::BAD_GATEWAY,
            ApiError::NotHtml | ApiError::Extract(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// An RFC 9457 problem (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what happened.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: &'static str,
    /// The status code's reason phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
        };
        let mut r = (status, axum::Json(body)).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

/// The query of `GET /_/api/article`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// An original URL of a mirrored site, a mirror path, or a mirror URL.
    #[param(required = true, example = "/news/2026/11/river-bridge-opens.html")]
    url: Option<String>,
    /// `json` (the default) or `markdown`.
    #[param(example = "json")]
    format: Option<String>,
}

/// `GET /_/api/article`.
#[utoipa::path(
    get,
    path = "/_/api/article",
    tag = "article",
    summary = "The cleaned article of a mirrored page",
    description = "Fetches the page exactly as a reader would (same cache, same rewriting; redirects followed while they stay on the mirror) and extracts the article. Every link and image in it is a mirror URL.",
    params(ArticleQuery),
    responses(
        (status = 200, description = "The article: JSON, or Markdown with format=markdown",
            content((ArticleJson = "application/json"), (String = "text/markdown"))),
        (status = 400, description = "url missing, not a URL, an asset/image URL, or an unknown format", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The URL's host is not a mirrored site", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Upstream says the page does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Upstream says the page is gone", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No article on the page (a section page, an empty, oversized or hostile page), or extraction timed out", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Upstream failed or answered another error", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Upstream timed out", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn article(
    State(app): State<Arc<App>>,
    view: Option<axum::Extension<ClientView>>,
    Query(query): Query<ArticleQuery>,
) -> Result<Response, ApiError> {
    let markdown = match query.format.as_deref() {
        None | Some("json") => false,
        Some("markdown" | "md") => true,
        Some(other) => return Err(ApiError::BadFormat(other.to_owned())),
    };
    let given = query
        .url
        .filter(|u| !u.trim().is_empty())
        .ok_or(ApiError::MissingUrl)?;
    let request_host = view.and_then(|axum::Extension(v)| v.host);
    let (site, original) = resolve_on(&app, given.trim(), request_host.as_deref())?;
    // After redirects, the page the article actually came from.
    let (site, original, mirror_path, html) = fetch_page(&app, &site, original).await?;
    // Absolute URLs on the origin the request came in on (the onion one
    // under the onion name).
    let mapper = app.mapper_for(app.is_onion_host(request_host.as_deref()));
    let page_url = page_url(mapper, &mirror_path);
    let article = extract_off_runtime(html, page_url, selectors(&site)).await?;
    let article = mirrored_images(mapper, Some(&site), article);
    if markdown {
        let nav: Vec<(String, String)> = site
            .nav
            .iter()
            .map(|n| (n.label.clone(), n.href.clone()))
            .collect();
        let text = extract::markdown::render(&article, &nav, &site.footer_text(original.as_str()));
        let mut r = text.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/markdown; charset=utf-8"),
        );
        return Ok(r);
    }
    Ok(axum::Json(ArticleJson::new(
        mapper,
        Some(&site),
        &mirror_path,
        Some(&original),
        article,
    ))
    .into_response())
}

/// A URL given to the API: an original URL of a mirrored site, a mirror
/// path, or an absolute mirror URL.
pub(crate) fn resolve(app: &App, given: &str) -> Result<(Arc<Site>, Url), ApiError> {
    resolve_on(app, given, None)
}

/// [`resolve`] for a request that came to `request_host` (the reader's view
/// of it, [`ClientView`]): an absolute URL on that host is a mirror URL, the
/// one the browser shows, even without `public_url` or `hosts`.
pub(crate) fn resolve_on(
    app: &App,
    given: &str,
    request_host: Option<&str>,
) -> Result<(Arc<Site>, Url), ApiError> {
    let parsed = Url::parse(given);
    let looks_like_path = given.starts_with('/') && !given.starts_with("//");
    match &parsed {
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            return Err(ApiError::BadUrl(given.to_owned()));
        }
        Err(_) if !looks_like_path => return Err(ApiError::BadUrl(given.to_owned())),
        _ => {}
    }
    let on_request_host = match (&parsed, request_host) {
        (Ok(u), Some(h)) => u
            .host_str()
            .is_some_and(|uh| uh.trim_end_matches('.').eq_ignore_ascii_case(h)),
        _ => false,
    };
    let located = app.mapper.original_of(None, given).or_else(|| {
        let u = parsed.as_ref().ok().filter(|_| on_request_host)?;
        let path = &u[url::Position::BeforePath..url::Position::AfterQuery];
        app.mapper.original_of(request_host, path)
    });
    match located {
        Some((Some(site), url)) => app
            .site(site)
            .cloned()
            .map(|s| (s, url))
            .ok_or_else(|| ApiError::NotMirrored(given.to_owned())),
        Some((None, _)) => Err(ApiError::NotAPage),
        None => {
            let host = parsed.ok().and_then(|u| u.host_str().map(str::to_owned));
            Err(ApiError::NotMirrored(
                host.unwrap_or_else(|| given.to_owned()),
            ))
        }
    }
}

/// Stands for the mirror's origin when `public_url` is not set: the
/// extractor keeps same-origin links root-relative, so it never shows.
pub static PLACEHOLDER_ORIGIN: std::sync::LazyLock<Url> = std::sync::LazyLock::new(|| {
    Url::parse("http://mirror.invalid/").unwrap_or_else(|_| unreachable!("constant URL"))
});

/// The absolute URL the extractor resolves links against.
pub fn page_url(mapper: &UrlMapper, mirror_path: &str) -> Url {
    Url::parse(&mapper.absolute(mirror_path))
        .or_else(|_| PLACEHOLDER_ORIGIN.join(mirror_path))
        .unwrap_or_else(|_| PLACEHOLDER_ORIGIN.clone())
}

/// Fetches the mirror's rewritten page for `original` through the normal
/// page path (cache included), following redirects that stay on the mirror.
/// Returns the final page's site, original URL and mirror path, and its HTML.
pub(crate) async fn fetch_page(
    app: &Arc<App>,
    site: &Arc<Site>,
    original: Url,
) -> Result<(Arc<Site>, Url, String, String), ApiError> {
    let mut site = site.clone();
    let mut url = original;
    for _ in 0..=MAX_REDIRECTS {
        let mirror_path = match app.mapper.map_url(site.id, &url, Place::Link) {
            Mapped::Mirror(p) => p,
            _ => return Err(ApiError::NotMirrored(url.to_string())),
        };
        let request = Request::builder()
            .method(Method::GET)
            .uri(mirror_path.as_str())
            .header(header::ACCEPT_ENCODING, "identity")
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .map_err(|_| ApiError::BadUrl(mirror_path.clone()))?;
        let response = match mirror::serve(
            app.clone(),
            site.clone(),
            url.clone(),
            Target::Page,
            request,
            None,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => return Err(ApiError::Mirror(e)),
        };
        let status = response.status();
        if status.is_redirection()
            && let Some(next) = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
        {
            match app.mapper.original_of(None, next) {
                Some((Some(next_site), next_url)) => {
                    site = app.site(next_site).cloned().unwrap_or(site);
                    url = next_url;
                    continue;
                }
                _ => return Err(ApiError::OffMirrorRedirect(next.to_owned())),
            }
        }
        match status.as_u16() {
            200 => {}
            502 | 504 => return Err(ApiError::UpstreamFailed(status)),
            _ => return Err(ApiError::UpstreamStatus(status)),
        }
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/xhtml"));
        if !is_html {
            return Err(ApiError::NotHtml);
        }
        let limit = usize::try_from(app.config.upstream.max_body_bytes.get()).unwrap_or(usize::MAX);
        let body = http_body_util::Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| ApiError::Read(crate::body::Cause::boxed(e)))?
            .to_bytes();
        let html = String::from_utf8_lossy(&body).into_owned();
        return Ok((site, url, mirror_path, html));
    }
    Err(ApiError::TooManyRedirects)
}

/// The OpenAPI 3 description of the article API, generated from the types
/// and the handler above (so it cannot drift from them).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsmirror article API",
        description = "The cleaned article of a mirrored news page, as JSON or Markdown. Errors are RFC 9457 problem documents."
    ),
    paths(article),
    components(schemas(ArticleJson, ImageJson, TagJson, Problem)),
    tags((name = "article", description = "Cleaned articles"))
)]
pub struct ApiDoc;

/// The description as served at `/_/api/openapi.json`: this module's
/// paths and those in `more` (the section API's, which imports this one).
pub fn openapi_json(more: impl IntoIterator<Item = utoipa::openapi::OpenApi>) -> String {
    let mut doc = ApiDoc::openapi();
    for m in more {
        doc.merge(m);
    }
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned())
}

/// The answer of `GET /_/api/openapi.json` for a description.
pub fn openapi_answer(json: &'static str) -> Response {
    let mut r = json.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url_map::RouteError;

    /// A failure of the page path keeps the mirror's own status (one
    /// table, `MirrorError::status`), not one read back from a page.
    #[test]
    fn api_errors_from_the_page_path_keep_the_mirrors_status() {
        for e in [
            MirrorError::Route(RouteError::NoSite),
            MirrorError::Connect,
            MirrorError::ProxyRequest,
            MirrorError::MediaStatus(StatusCode::GONE),
        ] {
            let status = e.status();
            assert_eq!(ApiError::from(e).status(), status);
        }
        assert_eq!(
            MirrorError::Connect.status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
