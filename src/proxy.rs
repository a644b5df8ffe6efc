//! The life of a mirrored request, phase by phase:
//! route → forward (request headers) → fetch → plan the body → respond
//! (response headers, then the body streamed through the pipeline).
//!
//! Pages under a site's mount, `/_/asset/` and `/_/img/` all go through
//! [`forward`]; they differ only in how the target is found and in what
//! they are allowed to answer with ([`Target`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use url::Url;

use crate::app::App;
use crate::error::MirrorError;
use crate::headers::{self, BodyHandling};
use crate::html::PageContext;
use crate::pipeline::{self, Rewrite};
use crate::site::Site;
use crate::upstream::{BodyError, UpstreamRequest, UpstreamResponse};
use crate::url_map::{ASSET_PREFIX, IMAGE_PREFIX};

/// What kind of mirror route a request came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A page (or any resource) under a site's mount.
    Page,
    /// `/_/asset/<host>/<path>`.
    Asset,
    /// `/_/img/<sig>/<b64url>`: media only, never a third party's page.
    Image,
}

/// `GET/HEAD <mount><path>`: the handler for everything not under `/_/`.
pub async fn page(State(app): State<Arc<App>>, req: Request) -> Response {
    let host = request_host(&req);
    let route = match app.mapper.route(host.as_deref(), path_and_query(&req)) {
        Ok(r) => r,
        Err(e) => return MirrorError::from(e).into_page(None),
    };
    let Some(site) = app.site(route.site) else {
        return MirrorError::Route(crate::url_map::RouteError::NoSite).into_page(None);
    };
    if !site.allows(req.method()) {
        let e = MirrorError::MethodNotAllowed {
            method: req.method().clone(),
            allow: site.methods.clone(),
        };
        return e.into_page(Some(site));
    }
    forward(&app, site, route.upstream, Target::Page, req)
        .await
        .unwrap_or_else(|e| e.into_page(Some(site)))
}

/// `GET/HEAD /_/asset/<host>/<path>`.
pub async fn asset(State(app): State<Arc<App>>, req: Request) -> Response {
    let rest = path_and_query(&req)
        .strip_prefix(ASSET_PREFIX)
        .unwrap_or("")
        .to_owned();
    let url = match app.mapper.asset_target(&rest) {
        Ok(u) => u,
        Err(e) => return MirrorError::from(e).into_page(None),
    };
    let host = url.host_str().unwrap_or_default();
    let site = app
        .sites
        .iter()
        .find(|s| s.asset_hosts.iter().any(|h| h == host));
    media_route(&app, site, url, Target::Asset, req).await
}

/// `GET/HEAD /_/img/<sig>/<b64url>`.
pub async fn image(State(app): State<Arc<App>>, req: Request) -> Response {
    let rest = path_and_query(&req)
        .strip_prefix(IMAGE_PREFIX)
        .unwrap_or("")
        .to_owned();
    let url = match app.mapper.image_target(&rest) {
        Ok(u) => u,
        Err(e) => return MirrorError::from(e).into_page(None),
    };
    let site = app.sites.iter().find(|s| s.proxy_all_images);
    media_route(&app, site, url, Target::Image, req).await
}

async fn media_route(
    app: &Arc<App>,
    site: Option<&Arc<Site>>,
    url: Url,
    target: Target,
    req: Request,
) -> Response {
    let Some(site) = site else {
        return MirrorError::Route(crate::url_map::RouteError::NoSite).into_page(None);
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let e = MirrorError::MethodNotAllowed {
            method: req.method().clone(),
            allow: vec![Method::GET, Method::HEAD],
        };
        return e.into_page(None);
    }
    forward(app, site, url, target, req)
        .await
        .unwrap_or_else(|e| e.into_page(None))
}

/// Fetches `url` for the reader's `req` and answers with the result.
pub async fn forward(
    app: &App,
    site: &Arc<Site>,
    url: Url,
    target: Target,
    req: Request,
) -> Result<Response, MirrorError> {
    let (parts, body) = req.into_parts();
    let referer = original_referer(app, &parts);
    let headers =
        headers::upstream_request(&parts.headers, &app.user_agent, referer, !site.rewrite);
    let body = if matches!(parts.method, Method::GET | Method::HEAD) {
        Body::empty()
    } else {
        body
    };
    let upstream = app
        .upstream
        .fetch(UpstreamRequest {
            method: parts.method.clone(),
            url: url.clone(),
            headers,
            body,
        })
        .await?;
    respond(app, site, &url, target, &parts, upstream).await
}

/// The reader's `Referer`, if it is a mirror page, as that page's original
/// URL: image hosts that check the referrer see their own site, and nothing
/// of the mirror.
fn original_referer(app: &App, parts: &Parts) -> Option<HeaderValue> {
    let referer = Url::parse(parts.headers.get(header::REFERER)?.to_str().ok()?).ok()?;
    let host = host_of(&parts.uri, &parts.headers)?;
    if referer.host_str()? != host {
        return None;
    }
    let path = &referer[url::Position::BeforePath..url::Position::AfterQuery];
    let (_, original) = app.mapper.original_of(Some(&host), path)?;
    HeaderValue::from_str(original.as_str()).ok()
}

/// How the body will be handled: the kind of rewriting, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rewriting {
    Html,
    Css,
}

async fn respond(
    app: &App,
    site: &Arc<Site>,
    url: &Url,
    target: Target,
    parts: &Parts,
    upstream: UpstreamResponse,
) -> Result<Response, MirrorError> {
    let UpstreamResponse {
        status,
        headers: up_headers,
        body,
    } = upstream;
    let media = headers::media_type(up_headers.get(header::CONTENT_TYPE));
    if target == Target::Image {
        // Only media from a third-party host, never its pages or error pages.
        if !status.is_success() && !status.is_redirection() {
            return Err(MirrorError::MediaStatus(status));
        }
        if status.is_success() && !is_media(&media) {
            return Err(MirrorError::NotMedia(media));
        }
    }
    let rewriting = if !site.rewrite || status == StatusCode::PARTIAL_CONTENT {
        None
    } else if matches!(media.as_str(), "text/html" | "application/xhtml+xml") {
        Some(Rewriting::Html)
    } else if media == "text/css" {
        Some(Rewriting::Css)
    } else {
        None
    };
    let encoding = up_headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let codings = pipeline::codings(encoding);
    let handling = match (&rewriting, &codings) {
        (Some(_), Err(e)) => return Err(MirrorError::UnsupportedEncoding(e.clone())),
        (Some(_), Ok(_)) => BodyHandling::Rewritten,
        (None, Ok(c)) if !c.is_empty() && !client_accepts(&parts.headers, c) => {
            BodyHandling::Decoded
        }
        (None, _) => BodyHandling::AsIs,
    };
    let limit = app.config.upstream.max_body_bytes.get();
    if handling != BodyHandling::AsIs
        && let Some(len) = content_length(&up_headers)
        && len > limit
    {
        return Err(BodyError::TooLarge(limit).into());
    }
    let mut out_headers =
        headers::client_response(&up_headers, handling, !site.rewrite, |u, place| {
            app.mapper.map(site.id, url, u, place).into_replacement()
        });
    out_headers.insert("x-cache", HeaderValue::from_static("BYPASS"));
    if target != Target::Page {
        out_headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    let no_body = parts.method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let body = if no_body {
        Body::empty()
    } else {
        match (handling, rewriting, codings) {
            (BodyHandling::AsIs, _, _) => Body::new(body),
            (BodyHandling::Decoded, _, Ok(c)) => {
                let reader = pipeline::decoded(body, &c).await?;
                Body::from_stream(pipeline::decoded_stream(reader, limit))
            }
            (BodyHandling::Rewritten, Some(kind), Ok(c)) => {
                let reader = pipeline::decoded(body, &c).await?;
                let charset = headers::charset_of(up_headers.get(header::CONTENT_TYPE));
                let ctx = PageContext::new(app.mapper.clone(), site.clone(), url.clone());
                let rewrite = match kind {
                    Rewriting::Html => {
                        Rewrite::html(ctx, app.rules(site), charset.as_deref(), limit)
                    }
                    Rewriting::Css => Rewrite::css(ctx, charset.as_deref(), limit),
                };
                let mut rx = pipeline::spawn_rewrite(reader, rewrite);
                // The first chunk decides the status: a body that fails
                // before any byte is ready is answered 502/504, not 200.
                match rx.recv().await {
                    None => Body::empty(),
                    Some(Err(e)) => return Err(e.into()),
                    Some(Ok(first)) => Body::from_stream(pipeline::chunk_stream(first, rx)),
                }
            }
            _ => Body::new(body),
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = out_headers;
    Ok(response)
}

fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Media types `/_/img/` may serve.
fn is_media(media: &str) -> bool {
    ["image/", "video/", "audio/", "font/"]
        .iter()
        .any(|p| media.starts_with(p))
        || matches!(
            media,
            "application/font-woff"
                | "application/font-woff2"
                | "application/x-font-woff"
                | "application/x-font-ttf"
                | "application/vnd.ms-fontobject"
        )
}

/// Whether the reader's `Accept-Encoding` takes every one of `codings`.
fn client_accepts(h: &HeaderMap, codings: &[pipeline::Coding]) -> bool {
    let accepted: Vec<(String, bool)> = h
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            (name, !refused)
        })
        .collect();
    codings.iter().all(|c| {
        let token = c.token();
        match accepted.iter().find(|(n, _)| n == token) {
            Some((_, ok)) => *ok,
            None => accepted.iter().any(|(n, ok)| n == "*" && *ok),
        }
    })
}

/// The request's host name, lower-case, without port: from the URI
/// (HTTP/2, absolute form) or the `Host` header.
pub fn request_host(req: &Request) -> Option<String> {
    host_of(req.uri(), req.headers())
}

fn host_of(uri: &http::Uri, headers: &HeaderMap) -> Option<String> {
    let raw = match uri.host() {
        Some(h) => h.to_owned(),
        None => {
            let value = headers.get(header::HOST)?.to_str().ok()?;
            let authority: http::uri::Authority = value.parse().ok()?;
            authority.host().to_owned()
        }
    };
    Some(raw.trim_end_matches('.').to_ascii_lowercase())
}

fn path_and_query(req: &Request) -> &str {
    req.uri().path_and_query().map_or("/", |pq| pq.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Coding;

    fn ae(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accept_encoding_is_read_with_q_values() {
        assert!(client_accepts(&ae("gzip, deflate, br"), &[Coding::Gzip]));
        assert!(!client_accepts(&ae("gzip;q=0, br"), &[Coding::Gzip]));
        assert!(client_accepts(&ae("*"), &[Coding::Zstd]));
        assert!(!client_accepts(&ae("identity"), &[Coding::Brotli]));
        assert!(!client_accepts(&HeaderMap::new(), &[Coding::Gzip]));
    }

    #[test]
    fn media_types_for_the_image_route() {
        assert!(is_media("image/jpeg"));
        assert!(is_media("video/mp4"));
        assert!(is_media("font/woff2"));
        assert!(!is_media("text/html"));
        assert!(!is_media("application/javascript"));
        assert!(!is_media(""));
    }
}
