//! The life of a mirrored request, one file per phase, in the order a
//! request meets them:
//!
//! | phase | file | what it decides |
//! |---|---|---|
//! | route | [`route`] | which site and upstream URL (`page`, `asset`, `image`) |
//! | lookup | `crate::cache::lookup` | fresh, stale, revalidate, miss or pass |
//! | fetch | [`fetch`] | the upstream request, and the exchange itself |
//! | plan | [`plan`] | what the answer becomes: headers, body handling, rewriting |
//! | fill | [`fill`] | one fetch per key, streamed to every reader, stored |
//! | respond | [`respond`] | the reader's answer from an entry, a fill or a pass |
//! | cdn | [`cdn`] | `Cache-Control` and `Surrogate-Key` for the CDN in front |
//!
//! [`serve`] drives them: a short match on the cache's [`Lookup`]. Pages
//! under a site's mount, `/_/asset/` and `/_/img/` all go through it; they
//! differ only in how the target is found and in what they may answer with
//! ([`Target`]).

pub mod cdn;
pub mod fetch;
pub mod fill;
pub mod plan;
pub mod respond;
pub mod route;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method};
use url::Url;

use crate::app::{App, MirrorCache};
use crate::cache::{self, CacheKey, Lookup, Validators};
use crate::error::MirrorError;
use crate::forwarded::ClientView;
use crate::metrics::CacheResult;
use crate::site::{Site, SiteKind};
use crate::url_map::UpstreamUrl;
use fetch::Fetched;

pub use route::{asset, image, page};

/// Whether the exchange serves one reader or fills the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// For one reader: its conditionals and range go upstream; a compressed
    /// pass-through body stays compressed if the reader takes that coding.
    Bypass,
    /// For the cache: a full GET, no reader conditionals, bodies decoded so
    /// the cache can make its own variants.
    Fill,
}

/// What is fetched, for whom.
pub struct FetchRequest<'a> {
    pub site: &'a Arc<Site>,
    pub url: &'a Url,
    pub target: Target,
    pub method: Method,
    /// The reader's request headers.
    pub headers: &'a HeaderMap,
    pub referer: Option<HeaderValue>,
    /// The reader's peer is a trusted proxy (forwarding headers may go on).
    pub trusted_peer: bool,
    pub mode: Mode,
    /// Validators of a stored entry, for a conditional fill.
    pub conditional: Option<&'a Validators>,
    /// The reader came in under the onion name (`[mirrors] onion`): the
    /// answer's absolute URLs are on the onion origin.
    pub onion: bool,
}

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

impl Target {
    /// Its part of the cache key. A page answered under the onion name
    /// is stored apart: its absolute URLs (canonical, `og:url`) differ.
    fn key_label(self, onion: bool) -> &'static str {
        match (self, onion) {
            (Target::Page, false) => "page",
            (Target::Page, true) => "page-onion",
            (Target::Asset, _) => "asset",
            (Target::Image, _) => "img",
        }
    }
}

/// Everything one mirrored request needs, owned (fills outlive the request).
#[derive(Clone)]
struct Exchange {
    app: Arc<App>,
    site: Arc<Site>,
    url: Url,
    target: Target,
    /// The reader's request headers.
    headers: HeaderMap,
    referer: Option<HeaderValue>,
    /// The reader's peer is a trusted proxy.
    trusted_peer: bool,
    /// The path the reader asked for (for `Surrogate-Key`).
    mirror_path: String,
    /// Under the onion name ([`FetchRequest::onion`]).
    onion: bool,
}

impl Exchange {
    fn cache(&self) -> Option<&MirrorCache> {
        self.app.cache.as_ref()
    }
}

/// Answers `req` for `url` of `site`: from the cache when it can, else
/// through one shared fill, else straight from upstream. `view` is what the
/// request says of its reader (none for requests the mirror makes itself,
/// as the article API's).
pub async fn serve(
    app: Arc<App>,
    site: Arc<Site>,
    url: impl Into<UpstreamUrl>,
    target: Target,
    req: Request,
    view: Option<ClientView>,
) -> Result<Response, MirrorError> {
    let url = url.into();
    let (mut parts, body) = req.into_parts();
    if site.kind == SiteKind::Mirror {
        // What upstream may negotiate on: the first language tag, in the key.
        crate::headers::first_language(&mut parts.headers);
    }
    let onion = app.is_onion_host(view.as_ref().and_then(|v| v.host.as_deref()));
    let lookup = match app.cache.as_ref() {
        Some(cache) => {
            let primary = CacheKey::primary(&site.name, target.key_label(onion), url.as_str());
            let now = cache.clock.now();
            cache
                .lookup(primary, site.kind, &parts.method, &parts.headers, now)
                .await
        }
        None => Lookup::Pass(cache::Pass::Off),
    };
    // A fresh hit needs none of the request's headers: the exchange (which
    // copies them) is made only for the other answers.
    // Its `Url` is parsed here too: a hit needs only the key's text.
    let ex = |site: Arc<Site>, url: UpstreamUrl| -> Result<Exchange, MirrorError> {
        Ok(Exchange {
            referer: route::original_referer(&app, &parts, view.as_ref()),
            trusted_peer: view.as_ref().is_some_and(|v| v.trusted_peer),
            app: app.clone(),
            site,
            url: url.into_url()?,
            target,
            headers: upstream_bound(&parts.headers),
            mirror_path: parts.uri.path().to_owned(),
            onion,
        })
    };
    match lookup {
        Lookup::Fresh { key, entry } => {
            let entry = if entry.compressible {
                fill::compress_in_background(&app, key, entry.clone());
                fill::with_variants_when_ready(entry, &parts.headers).await
            } else {
                entry
            };
            Ok(respond::from_entry(&app, &entry, &parts, CacheResult::Hit))
        }
        Lookup::Stale { key, entry } => {
            fill::refresh_in_background(&ex(site, url)?, &key, entry.clone());
            Ok(respond::from_entry(
                &app,
                &entry,
                &parts,
                CacheResult::Stale,
            ))
        }
        // The paths that go upstream are boxed: their futures are several
        // KB, and unboxed they would make every hit's future as large
        // (moved into the handler's box and copied per request).
        Lookup::Revalidate { key, stale } => {
            Box::pin(fill::join(&ex(site, url)?, key, Some(stale), &parts)).await
        }
        Lookup::Miss { key } => Box::pin(fill::join(&ex(site, url)?, key, None, &parts)).await,
        Lookup::Pass(_) => Box::pin(pass(ex(site, url)?, &parts, body)).await,
    }
}

/// The reader's headers as an exchange keeps them, with this request's id
/// (the mirror's, see [`crate::request_id`]) in place of any the reader
/// sent: a plain (`rewrite = false`) upstream gets the reader's end-to-end
/// headers, and must see one id through every hop, never one an untrusted
/// reader chose. Done here, for the requests that go upstream, rather
/// than on every request (a hit would pay for the insert).
fn upstream_bound(reader: &HeaderMap) -> HeaderMap {
    let mut headers = reader.clone();
    match crate::access_log::current() {
        Some(id) => {
            headers.insert(crate::headers::X_REQUEST_ID, id);
        }
        None => {
            headers.remove(crate::headers::X_REQUEST_ID);
        }
    }
    headers
}

/// A request the cache does not answer: to upstream and back, and after
/// an unsafe method the stored answers it made stale go.
async fn pass(ex: Exchange, parts: &Parts, body: Body) -> Result<Response, MirrorError> {
    let response = bypass(&ex, parts, body).await?;
    if !parts.method.is_safe() {
        let (status, headers) = (response.status(), response.headers().clone());
        invalidate_after_unsafe(&ex, &parts.method, status, &headers).await;
    }
    Ok(response)
}

/// After a successful unsafe request, the stored answers it made stale go
/// (see [`cache::invalidate`]).
async fn invalidate_after_unsafe(
    ex: &Exchange,
    method: &Method,
    status: http::StatusCode,
    headers: &HeaderMap,
) {
    let Some(cache) = ex.cache() else {
        return;
    };
    let mapper = &ex.app.mapper;
    let urls =
        cache::invalidate::invalidated_urls(method, status, headers, &ex.url, |value| match mapper
            .original_of(None, value)
        {
            Some((Some(site), url)) if site == ex.site.id => Some(url),
            _ => None,
        });
    for url in urls {
        for onion in [false, true] {
            let label = ex.target.key_label(onion);
            cache
                .invalidate(CacheKey::primary(&ex.site.name, label, url.as_str()))
                .await;
        }
    }
}

/// Straight to upstream and back, nothing stored.
async fn bypass(ex: &Exchange, parts: &Parts, body: Body) -> Result<Response, MirrorError> {
    let fetched = fetch::fetch(
        &ex.app,
        ex.fetch_request(parts.method.clone(), &ex.headers, Mode::Bypass, None),
        body,
    )
    .await?;
    ex.app.metrics.cache_result(CacheResult::Bypass);
    match fetched {
        Fetched::Full(p) => Ok(respond::prepared(p, CacheResult::Bypass, false)),
        // Only a conditional fill asks conditionally; a bypass never gets here.
        Fetched::NotModified { .. } => Err(MirrorError::Upstream(
            crate::upstream::UpstreamError::Protocol {
                host: ex.url.host_str().unwrap_or_default().to_owned(),
                reason: "unexpected 304".into(),
            },
        )),
    }
}

impl Exchange {
    fn fetch_request<'a>(
        &'a self,
        method: Method,
        headers: &'a HeaderMap,
        mode: Mode,
        conditional: Option<&'a Validators>,
    ) -> FetchRequest<'a> {
        FetchRequest {
            site: &self.site,
            url: &self.url,
            target: self.target,
            method,
            headers,
            referer: self.referer.clone(),
            trusted_peer: self.trusted_peer,
            mode,
            conditional,
            onion: self.onion,
        }
    }
}
