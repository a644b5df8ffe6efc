//! `newsmirror extract`: the article JSON of a saved page, through the same
//! rewrite and extraction as `/_/api/article`.

use std::sync::Arc;

use url::Url;

use crate::api::{ArticleJson, PLACEHOLDER_ORIGIN, mirrored_images, page_url, selectors};
use crate::app::App;
use crate::extract::{self, ExtractError, Limits};
use crate::site::Site;
use crate::url_map::{Mapped, Place, UrlMapper};

/// Why `newsmirror extract` could not produce an article.
#[derive(Debug, thiserror::Error)]
pub enum ExtractCommandError {
    #[error("no site named {0:?} in the configuration")]
    UnknownSite(String),
    #[error("{0:?} is not a URL or a mirror path")]
    BadUrl(String),
    #[error("rewriting the page failed: {0}")]
    Rewrite(#[from] crate::body::BodyError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
}

/// `newsmirror extract`: the article JSON of a saved page (`bytes`, in any
/// charset). With an `app` (a configuration) and a known site, the page is
/// rewritten exactly as the mirror would serve it first; `url` (an original
/// URL, or a mirror path or URL) says where the page came from.
pub fn extract_saved_page(
    app: Option<&App>,
    site_name: Option<&str>,
    url: Option<&str>,
    bytes: &[u8],
) -> Result<ArticleJson, ExtractCommandError> {
    let empty_mapper;
    let mapper = match app {
        Some(a) => a.mapper.as_ref(),
        None => {
            empty_mapper = UrlMapper::new(&[], None, None);
            &empty_mapper
        }
    };
    let located = match (app, url) {
        (Some(a), Some(u)) => a.mapper.original_of(None, u),
        _ => None,
    };
    let site = match (app, site_name) {
        (Some(a), Some(name)) => Some(
            a.sites
                .iter()
                .find(|s| s.name == name)
                .cloned()
                .ok_or_else(|| ExtractCommandError::UnknownSite(name.to_owned()))?,
        ),
        (Some(a), None) => located
            .as_ref()
            .and_then(|(id, _)| id.and_then(|id| a.site(id).cloned())),
        (None, Some(name)) => return Err(ExtractCommandError::UnknownSite(name.to_owned())),
        (None, None) => None,
    };
    let original = match (&located, url) {
        (Some((_, u)), _) => Some(u.clone()),
        (None, Some(u)) if Url::parse(u).is_ok() => Url::parse(u).ok(),
        (None, Some(u)) if u.starts_with('/') => None,
        (None, Some(u)) => return Err(ExtractCommandError::BadUrl(u.to_owned())),
        (None, None) => None,
    };
    let (html, mirror_path) = match (app, &site, &original) {
        (Some(a), Some(site), Some(orig)) => {
            let html = rewrite_saved_page(a, site, orig, None, bytes)?;
            let path = match a.mapper.map_url(site.id, orig, Place::Link) {
                Mapped::Mirror(p) => p,
                _ => orig.path().to_owned(),
            };
            (html, path)
        }
        _ => {
            let mut transcoder =
                crate::charset::Transcoder::new(crate::charset::DocKind::Html, None, None);
            let mut out = Vec::with_capacity(bytes.len());
            transcoder.push(bytes, &mut out);
            transcoder.finish(&mut out);
            let path = match (&original, url) {
                (Some(o), _) => o.to_string(),
                (None, Some(u)) => u.to_owned(),
                (None, None) => "/".to_owned(),
            };
            (String::from_utf8_lossy(&out).into_owned(), path)
        }
    };
    let page = if mirror_path.starts_with('/') {
        page_url(mapper, &mirror_path)
    } else {
        Url::parse(&mirror_path).unwrap_or_else(|_| PLACEHOLDER_ORIGIN.clone())
    };
    let selectors = site.as_deref().and_then(selectors);
    let article = extract::extract(extract::Input {
        html: &html,
        page_url: &page,
        selectors: selectors.as_ref(),
        limits: Limits::default(),
    })?;
    let article = mirrored_images(mapper, site.as_deref(), article);
    Ok(ArticleJson::new(
        mapper,
        site.as_deref(),
        &mirror_path,
        original.as_ref(),
        article,
    ))
}

/// A saved page (`bytes`, in any charset; `charset` as upstream's
/// `Content-Type` says, if known) rewritten exactly as the mirror serves
/// `original` of `site`: the server's rewrite pipeline (transcode, lol_html
/// with the site's rules), as UTF-8. For `newsmirror extract` and
/// `newsmirror audit`.
pub fn rewrite_saved_page(
    app: &App,
    site: &Arc<Site>,
    original: &Url,
    charset: Option<&str>,
    bytes: &[u8],
) -> Result<String, crate::body::BodyError> {
    let ctx = crate::html::PageContext::new(app.mapper.clone(), site.clone(), original.clone());
    let mut rewrite = crate::pipeline::Rewrite::html(
        ctx,
        app.rules(site),
        charset,
        app.config.upstream.max_body_bytes.get(),
    );
    let mut out = Vec::with_capacity(bytes.len() + 1024);
    rewrite.push(bytes, &mut out)?;
    rewrite.finish(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
