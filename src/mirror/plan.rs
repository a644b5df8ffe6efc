//! Plan: what an upstream answer becomes for the reader (or the cache):
//! which routes may answer with it, the mapped headers, and whether the
//! body passes through, is decoded, or is rewritten (HTML, CSS, script
//! text) as it streams.

use std::pin::Pin;
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};

use super::Target;
use super::{FetchRequest, Mode};
use crate::app::App;
use crate::body::BodyError;
use crate::coding::{self, AcceptEncoding};
use crate::error::MirrorError;
use crate::headers::{self, BodyHandling};
use crate::html::PageContext;
use crate::pipeline::{self, Rewrite};
use crate::site::SiteKind;
use crate::upstream::UpstreamResponse;
use crate::url_map::{Mapped, Place};

pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BodyError>> + Send>>;

/// An upstream response, prepared for the reader.
pub struct Prepared {
    pub status: StatusCode,
    /// Reader-facing headers (mapped, cleaned; no `X-Cache` yet).
    pub headers: HeaderMap,
    /// Upstream's own headers, for cache decisions.
    pub upstream_headers: HeaderMap,
    pub body: BodyStream,
    /// The status has no body (204, 304, 1xx) or the request was HEAD.
    pub no_body: bool,
    pub media_type: String,
    /// The body leaves as upstream encoded it (`Content-Encoding` kept).
    pub encoded_as_is: bool,
    pub request_time: SystemTime,
    pub response_time: SystemTime,
}

/// How the body will be handled: the kind of rewriting, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rewriting {
    Html,
    Css,
    /// JavaScript and JSON: URLs of served hosts in the text.
    Text,
    /// RSS, Atom, RSS 1.0 (and XML that may be one: `crate::feed` looks
    /// at the root element).
    Feed,
}

/// Feed types, and the generic XML ones a feed is often served as.
fn is_feed_or_xml(media: &str) -> bool {
    matches!(
        media,
        "application/rss+xml"
            | "application/atom+xml"
            | "application/rdf+xml"
            | "application/feed+xml"
            | "text/xml"
            | "application/xml"
            | "text/rss+xml"
    )
}

/// JavaScript and JSON types (web app manifests, JSON-LD, API answers).
fn is_script_or_json(media: &str) -> bool {
    matches!(
        media,
        "application/javascript"
            | "text/javascript"
            | "application/x-javascript"
            | "application/ecmascript"
            | "text/ecmascript"
            | "application/json"
            | "text/json"
    ) || media.ends_with("+json")
}

/// Prepares the answer `upstream` gave to `req`.
pub(super) async fn prepare(
    app: &App,
    req: &FetchRequest<'_>,
    upstream: UpstreamResponse,
    request_time: SystemTime,
    response_time: SystemTime,
) -> Result<Prepared, MirrorError> {
    let FetchRequest {
        site,
        url,
        target,
        ref method,
        headers: reader_headers,
        mode,
        onion,
        ..
    } = *req;
    let mapper = app.mapper_for(onion);
    let UpstreamResponse {
        status,
        headers: up_headers,
        body,
    } = upstream;
    let media = headers::media_type(up_headers.get(header::CONTENT_TYPE));
    // What /_/img/ and /_/asset/ may answer with (never a document).
    let bodiless = match media_answer(target, status, &media) {
        MediaAnswer::Serve => false,
        MediaAnswer::Bodiless => true,
        MediaAnswer::Refuse(e) => return Err(e),
    };
    let rewriting = if site.kind.is_plain() || status == StatusCode::PARTIAL_CONTENT || bodiless {
        None
    } else if matches!(media.as_str(), "text/html" | "application/xhtml+xml") {
        Some(Rewriting::Html)
    } else if media == "text/css" {
        Some(Rewriting::Css)
    } else if is_script_or_json(&media) {
        Some(Rewriting::Text)
    } else if is_feed_or_xml(&media) {
        Some(Rewriting::Feed)
    } else {
        None
    };
    let encoding = up_headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let codings = coding::content_codings(encoding);
    let handling = match (&rewriting, &codings) {
        (Some(_), Err(e)) => return Err(MirrorError::UnsupportedEncoding(e.clone())),
        (Some(_), Ok(_)) => BodyHandling::Rewritten,
        (None, Ok(c)) if !c.is_empty() && site.kind == SiteKind::Mirror && mode == Mode::Fill => {
            BodyHandling::Decoded
        }
        (None, Ok(c)) if !c.is_empty() && !AcceptEncoding::parse(reader_headers).takes_all(c) => {
            BodyHandling::Decoded
        }
        (None, _) => BodyHandling::AsIs,
    };
    let limit = app.config.upstream.max_body_bytes.get();
    if handling != BodyHandling::AsIs
        && let Some(len) = headers::content_length(&up_headers)
        && len > limit
    {
        return Err(BodyError::TooLarge(limit).into());
    }
    // A redirect of an image or asset leads to media, not to a page: on
    // another host, to its signed /_/img/ URL (which serves media only).
    let redirect_place = match target {
        Target::Page => Place::Link,
        Target::Image | Target::Asset => Place::Image,
    };
    let mut leaves_the_mirror = false;
    let mut out_headers = headers::client_response(&up_headers, handling, site.kind, |u, place| {
        let place = if place == Place::Link {
            redirect_place
        } else {
            place
        };
        let mapped = mapper.map(site.id, url, u, place);
        leaves_the_mirror |= matches!(mapped, Mapped::External(_));
        mapped.into_replacement()
    });
    if rewriting == Some(Rewriting::Feed) {
        // Opened in a browser, a feed runs nothing and loads only from the
        // mirror (its XSLT included, mapped there by `crate::feed`).
        out_headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(FEED_CSP),
        );
    }
    if rewriting == Some(Rewriting::Html) {
        headers::mirror_page_headers(
            &mut out_headers,
            site.csp,
            site.scripts_removed(),
            &app.worker.policy_scripts_removed,
        );
        // The same page at the onion address (Tor Browser offers it),
        // unless this is that address.
        if let Some(onion_url) = &app.config.mirrors.onion
            && !onion
            && let Mapped::Mirror(path) = mapper.map(site.id, url, url.as_str(), Place::Link)
            && path.starts_with('/')
            && let Ok(v) = HeaderValue::from_str(&format!(
                "{}{path}",
                onion_url.as_str().trim_end_matches('/')
            ))
        {
            out_headers.insert(HeaderName::from_static("onion-location"), v);
        }
    }
    if target != Target::Page {
        if leaves_the_mirror {
            // A media route sends the browser nowhere but the mirror.
            out_headers.remove(header::LOCATION);
            out_headers.remove(header::CONTENT_LOCATION);
            out_headers.remove(header::LINK);
            out_headers.remove("refresh");
        }
        out_headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if needs_sandbox(&media) {
            // Opened on its own, it runs no script on the mirror's origin.
            out_headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(SANDBOX_CSP),
            );
        }
        if bodiless {
            for name in [
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::CONTENT_ENCODING,
                header::CONTENT_SECURITY_POLICY,
            ] {
                out_headers.remove(name);
            }
        }
    }
    let no_body = *method == Method::HEAD
        || bodiless
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let body: BodyStream = if no_body {
        Box::pin(futures_util::stream::empty())
    } else {
        match (handling, rewriting, codings) {
            (BodyHandling::Decoded, _, Ok(c)) => {
                let reader = pipeline::decoded(body, &c).await?;
                Box::pin(pipeline::decoded_stream(reader, limit))
            }
            (BodyHandling::Rewritten, Some(kind), Ok(c)) => {
                let reader = pipeline::decoded(body, &c).await?;
                let charset = headers::charset_of(up_headers.get(header::CONTENT_TYPE));
                let ctx = PageContext::new(mapper.clone(), site.clone(), url.clone());
                let rewrite = match kind {
                    Rewriting::Html => {
                        Rewrite::html(ctx, app.rules(site), charset.as_deref(), limit)
                    }
                    Rewriting::Css => Rewrite::css(ctx, charset.as_deref(), limit),
                    Rewriting::Text => Rewrite::text(ctx, charset.as_deref(), limit),
                    Rewriting::Feed => {
                        Rewrite::feed(ctx, app.rules(site), charset.as_deref(), limit)
                    }
                };
                let mut rx = pipeline::spawn_rewrite(reader, rewrite);
                // The first chunk decides the status: a body that fails
                // before any byte is ready is answered 502/504, not 200.
                match rx.recv().await {
                    None => Box::pin(futures_util::stream::empty()),
                    Some(Err(e)) => return Err(e.into()),
                    Some(Ok(first)) => Box::pin(pipeline::chunk_stream(first, rx)),
                }
            }
            _ => Box::pin(http_body_util::BodyDataStream::new(body).map_err(|e| e)),
        }
    };
    Ok(Prepared {
        status,
        headers: out_headers,
        upstream_headers: up_headers,
        body,
        no_body,
        media_type: media,
        encoded_as_is: handling == BodyHandling::AsIs,
        request_time,
        response_time,
    })
}

/// The policy sent with anything but plain media from `/_/img/` and
/// `/_/asset/`: a script inside an SVG (or a stylesheet, a script, a PDF
/// opened as a page) cannot run on the mirror's origin.
pub const SANDBOX_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'";

/// The policy of a rewritten feed (or XML) answer.
pub const FEED_CSP: &str = "sandbox; default-src 'self'; script-src 'none'; object-src 'none'";

/// What `/_/img/` and `/_/asset/` do with an upstream answer.
#[derive(Debug)]
enum MediaAnswer {
    Serve,
    /// The status (and a redirect's `Location`) without the body.
    Bodiless,
    Refuse(MirrorError),
}

/// A third party's host answers on the mirror's origin only with media (or,
/// for asset hosts, stylesheets, scripts, fonts, data), never with a
/// document: a redirect loses its body (browsers render a 3xx body that has
/// no `Location`), an error status is the mirror's own error page, HTML and
/// XML are refused whatever the status.
fn media_answer(target: Target, status: StatusCode, media: &str) -> MediaAnswer {
    if target == Target::Page {
        return MediaAnswer::Serve;
    }
    if status.is_redirection() || status.is_informational() {
        return MediaAnswer::Bodiless;
    }
    if !status.is_success() {
        return MediaAnswer::Refuse(MirrorError::MediaStatus(status));
    }
    let allowed = match target {
        Target::Image => is_media(media),
        _ => !is_document(media),
    };
    if allowed {
        MediaAnswer::Serve
    } else {
        MediaAnswer::Refuse(MirrorError::NotMedia(media.to_owned()))
    }
}

/// Types a browser renders as a page with scripts (SVG is media, sandboxed).
fn is_document(media: &str) -> bool {
    matches!(
        media,
        "text/html" | "application/xhtml+xml" | "text/xml" | "application/xml" | "text/xsl"
    ) || (media.ends_with("+xml") && media != "image/svg+xml")
}

/// Whether a type from `/_/img/` or `/_/asset/` gets [`SANDBOX_CSP`].
fn needs_sandbox(media: &str) -> bool {
    media == "image/svg+xml" || !is_media(media)
}

/// Media types `/_/img/` may serve.
pub fn is_media(media: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn media_routes_never_answer_with_a_document() {
        use MediaAnswer::*;
        let ok = StatusCode::OK;
        for target in [Target::Image, Target::Asset] {
            assert!(matches!(media_answer(target, ok, "image/png"), Serve));
            for status in [300, 301, 302, 307, 399] {
                let s = StatusCode::from_u16(status).unwrap();
                assert!(matches!(media_answer(target, s, "text/html"), Bodiless));
            }
            for status in [400, 404, 500, 599] {
                let s = StatusCode::from_u16(status).unwrap();
                assert!(matches!(media_answer(target, s, "text/html"), Refuse(_)));
            }
            for doc in [
                "text/html",
                "application/xhtml+xml",
                "text/xml",
                "application/rss+xml",
            ] {
                assert!(matches!(media_answer(target, ok, doc), Refuse(_)), "{doc}");
            }
        }
        assert!(matches!(media_answer(Target::Asset, ok, "text/css"), Serve));
        assert!(matches!(
            media_answer(Target::Image, ok, "text/css"),
            Refuse(_)
        ));
        assert!(needs_sandbox("image/svg+xml") && needs_sandbox("text/css"));
        assert!(!needs_sandbox("image/jpeg") && !needs_sandbox("font/woff2"));
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
