//! The life of a mirrored request, phase by phase:
//! route → cache lookup (fresh: answer; stale: answer and refresh, or
//! revalidate; miss: one fill per key, others wait on it) → fetch and
//! prepare ([`fetch`]) → store → respond.
//!
//! Pages under a site's mount, `/_/asset/` and `/_/img/` all go through
//! [`serve`]; they differ only in how the target is found and in what they
//! may answer with ([`Target`]).

pub mod fetch;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, header};
use tokio::sync::oneshot;
use url::Url;

use crate::app::App;
use crate::cache::policy::{self, CacheControl, Defaults, SurrogateControl};
use crate::cache::variants::{self, Coding, Variants};
use crate::cache::{
    self, CacheKey, Entry, Fill, FillHead, Freshness, StreamHead, Validators, respond,
};
use crate::error::MirrorError;
use crate::forwarded::ClientView;
use crate::metrics::CacheResult;
use crate::site::{Site, SiteKind};
use crate::upstream::BodyError;
use crate::url_map::{ASSET_PREFIX, IMAGE_PREFIX, RouteError};
use fetch::{FetchRequest, Fetched, Mode, Prepared};

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
    fn label(self) -> &'static str {
        match self {
            Target::Page => "page",
            Target::Asset => "asset",
            Target::Image => "img",
        }
    }
}

/// `GET/HEAD <mount><path>`: the handler for everything not under `/_/`.
pub async fn page(State(app): State<Arc<App>>, req: Request) -> Response {
    let host = request_host(&req);
    let route = match app.mapper.route(host.as_deref(), path_and_query(&req)) {
        Ok(r) => r,
        Err(e) => return MirrorError::from(e).page(None),
    };
    let Some(site) = app.site(route.site).cloned() else {
        return MirrorError::Route(RouteError::NoSite).page(None);
    };
    if !site.allows(req.method()) {
        let e = MirrorError::MethodNotAllowed {
            method: req.method().clone(),
            allow: site.methods.clone(),
        };
        return e.page(Some(&site));
    }
    let controlled = req.headers().contains_key(crate::worker::WORKER_HEADER);
    let mut response = serve(app.clone(), site.clone(), route.upstream, Target::Page, req)
        .await
        .unwrap_or_else(|e| e.page(Some(&site)));
    if controlled {
        worker_policy(&app, &mut response);
    }
    response
}

/// A page the mirror's service worker fetched (and so controls): the
/// scripts-kept policy, widened to the mapped hosts, whose requests the
/// worker sends to the mirror (see [`crate::worker`]).
fn worker_policy(app: &App, response: &mut Response) {
    let headers = response.headers_mut();
    let is_kept_policy = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v.as_bytes() == crate::headers::CSP_SCRIPTS_KEPT.as_bytes());
    if is_kept_policy && let Ok(v) = HeaderValue::from_str(&app.worker.policy_for_controlled_pages)
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// `GET/HEAD /_/asset/<host>/<path>`.
pub async fn asset(State(app): State<Arc<App>>, req: Request) -> Response {
    let rest = path_and_query(&req)
        .strip_prefix(ASSET_PREFIX)
        .unwrap_or("")
        .to_owned();
    let url = match app.mapper.asset_target(&rest) {
        Ok(u) => u,
        Err(e) => return MirrorError::from(e).page(None),
    };
    let host = url.host_str().unwrap_or_default();
    let site = app
        .sites
        .iter()
        .find(|s| s.asset_hosts.iter().any(|h| h == host))
        .cloned();
    media_route(app, site, url, Target::Asset, req).await
}

/// `GET/HEAD /_/img/<sig>/<b64url>`.
pub async fn image(State(app): State<Arc<App>>, req: Request) -> Response {
    let rest = path_and_query(&req)
        .strip_prefix(IMAGE_PREFIX)
        .unwrap_or("")
        .to_owned();
    let url = match app.mapper.image_target(&rest) {
        Ok(u) => u,
        Err(e) => return MirrorError::from(e).page(None),
    };
    let site = app.sites.iter().find(|s| s.proxy_all_images).cloned();
    media_route(app, site, url, Target::Image, req).await
}

async fn media_route(
    app: Arc<App>,
    site: Option<Arc<Site>>,
    url: Url,
    target: Target,
    req: Request,
) -> Response {
    let Some(site) = site else {
        return MirrorError::Route(RouteError::NoSite).page(None);
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let e = MirrorError::MethodNotAllowed {
            method: req.method().clone(),
            allow: vec![Method::GET, Method::HEAD],
        };
        return e.page(None);
    }
    serve(app, site, url, target, req)
        .await
        .unwrap_or_else(|e| e.page(None))
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
}

/// Answers `req` for `url` of `site`: from the cache when it can, else
/// through one shared fill, else straight from upstream.
pub async fn serve(
    app: Arc<App>,
    site: Arc<Site>,
    url: Url,
    target: Target,
    req: Request,
) -> Result<Response, MirrorError> {
    let (mut parts, body) = req.into_parts();
    if site.kind == SiteKind::Mirror {
        // What upstream may negotiate on: the first language tag, in the key.
        crate::headers::first_language(&mut parts.headers);
    }
    // The exchange owns copies of the request's headers and path: made only
    // when the answer is not a fresh hit, which needs none of them.
    let exchange = |site: Arc<Site>, url: Url| Exchange {
        referer: original_referer(&app, &parts),
        trusted_peer: parts
            .extensions
            .get::<ClientView>()
            .is_some_and(|v| v.trusted_peer),
        app: app.clone(),
        site,
        url,
        target,
        headers: parts.headers.clone(),
        mirror_path: parts.uri.path().to_owned(),
    };
    let cache = match app.cache.as_ref() {
        Some(cache) if matches!(parts.method, Method::GET | Method::HEAD) => cache,
        _ => {
            let ex = exchange(site, url);
            let response = bypass(&ex, &parts, body).await?;
            if !parts.method.is_safe() {
                let (status, headers) = (response.status(), response.headers().clone());
                invalidate_after_unsafe(&ex, &parts.method, status, &headers).await;
            }
            return Ok(response);
        }
    };
    let primary = CacheKey::primary(&site.name, target.label(), url.as_str());
    if cache.is_pass(&primary).await {
        return bypass(&exchange(site, url), &parts, body).await;
    }
    let key = cache.key(primary, &parts.headers).await;
    let now = Instant::now();
    let stale = match cache.get(&key).await {
        Some(entry) => match entry.freshness(now) {
            Freshness::Fresh => {
                if entry.compressible {
                    compress_in_background(&app, key.clone(), entry.clone());
                }
                return Ok(answer(&app, &entry, &parts, CacheResult::Hit));
            }
            Freshness::Stale {
                serve_while_revalidating: true,
                ..
            } => {
                refresh_in_background(&exchange(site, url), &key, entry.clone());
                return Ok(answer(&app, &entry, &parts, CacheResult::Stale));
            }
            Freshness::Stale { .. } => Some(entry),
        },
        None => None,
    };
    let ex = exchange(site, url);
    if parts.headers.contains_key(header::RANGE) && stale.is_none() {
        // A range of something not stored: fetch just that range.
        return bypass(&ex, &parts, body).await;
    }
    let (fill, started) = cache.join_or_start(&key);
    let mut leader = None;
    if started {
        let (tx, rx) = oneshot::channel();
        leader = Some(rx);
        let task_ex = ex.clone();
        let task_key = key.clone();
        let task_fill = fill.clone();
        let task_stale = stale.clone();
        tokio::spawn(
            async move { run_fill(task_ex, task_key, task_fill, task_stale, Some(tx)).await },
        );
    }
    match fill.head().await {
        FillHead::Stream(head)
            if cache::vary_values(&head.vary, &parts.headers) != head.vary_values =>
        {
            // The response varies on a header this request sends differently.
            bypass(&ex, &parts, Body::empty()).await
        }
        FillHead::Stream(head) => match stream_answer(&head, &fill, &parts) {
            Some(response) => {
                app.metrics.cache_result(CacheResult::Miss);
                Ok(response)
            }
            None => bypass(&ex, &parts, Body::empty()).await,
        },
        FillHead::Entry(entry, result) => Ok(answer(&app, &entry, &parts, result)),
        FillHead::Pass => match leader {
            Some(rx) => match rx.await {
                Ok(prepared) => {
                    app.metrics.cache_result(CacheResult::Bypass);
                    Ok(prepared
                        .into_response(CacheResult::Bypass.header(), parts.method == Method::HEAD))
                }
                Err(_) => bypass(&ex, &parts, Body::empty()).await,
            },
            None => bypass(&ex, &parts, Body::empty()).await,
        },
        FillHead::Failed(error) => Ok(error.page(Some(&ex.site))),
    }
}

/// After a successful unsafe request (POST, PUT, DELETE, ...), stored
/// answers for its URL and for the `Location`/`Content-Location` it names
/// on the same site are stale by definition (RFC 9111 §4.4).
async fn invalidate_after_unsafe(
    ex: &Exchange,
    method: &Method,
    status: http::StatusCode,
    headers: &HeaderMap,
) {
    let Some(cache) = ex.app.cache.as_ref() else {
        return;
    };
    if method.is_safe() || !(status.is_success() || status.is_redirection()) {
        return;
    }
    let mut urls = vec![ex.url.clone()];
    for name in [header::LOCATION, header::CONTENT_LOCATION] {
        let Some(value) = headers.get(&name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let absolute = ex
            .url
            .join(value)
            .ok()
            .map(|u| u.to_string())
            .unwrap_or_else(|| value.to_owned());
        if let Some((Some(site), url)) = ex
            .app
            .mapper
            .original_of(None, &absolute)
            .or_else(|| ex.app.mapper.original_of(None, value))
            && site == ex.site.id
        {
            urls.push(url);
        }
    }
    for url in urls {
        cache
            .invalidate(CacheKey::primary(
                &ex.site.name,
                ex.target.label(),
                url.as_str(),
            ))
            .await;
    }
}

/// Straight to upstream and back, nothing stored.
async fn bypass(ex: &Exchange, parts: &Parts, body: Body) -> Result<Response, MirrorError> {
    let fetched = fetch::fetch(
        &ex.app,
        FetchRequest {
            site: &ex.site,
            url: &ex.url,
            target: ex.target,
            method: parts.method.clone(),
            headers: &parts.headers,
            body,
            referer: ex.referer.clone(),
            trusted_peer: ex.trusted_peer,
            mode: Mode::Bypass,
            conditional: None,
        },
    )
    .await?;
    ex.app.metrics.cache_result(CacheResult::Bypass);
    match fetched {
        Fetched::Full(p) => Ok(p.into_response(CacheResult::Bypass.header(), false)),
        // Only a conditional fill asks conditionally; a bypass never gets here.
        Fetched::NotModified { .. } => Err(MirrorError::Upstream(
            crate::upstream::UpstreamError::Protocol {
                host: ex.url.host_str().unwrap_or_default().to_owned(),
                reason: "unexpected 304".into(),
            },
        )),
    }
}

fn answer(app: &App, entry: &Entry, parts: &Parts, result: CacheResult) -> Response {
    app.metrics.cache_result(result);
    respond::respond(entry, parts, result, Instant::now())
}

/// A reader's answer from a fill still streaming; `None` when the fill
/// streams a body too large to keep and can take no new reader.
fn stream_answer(head: &StreamHead, fill: &Arc<Fill>, parts: &Parts) -> Option<Response> {
    let mut headers = head.headers.clone();
    headers.insert(
        "x-cache",
        HeaderValue::from_static(CacheResult::Miss.header()),
    );
    let body = if head.no_body || parts.method == Method::HEAD {
        fetch::no_body()
    } else {
        Body::from_stream(fill.reader()?)
    };
    let mut response = Response::new(body);
    *response.status_mut() = head.status;
    *response.headers_mut() = headers;
    Some(response)
}

/// Starts one background refresh of a stale entry (none if one is running).
fn refresh_in_background(ex: &Exchange, key: &CacheKey, entry: Arc<Entry>) {
    let Some(cache) = ex.app.cache.as_ref() else {
        return;
    };
    if cache.fill_running(key) {
        return;
    }
    let (fill, started) = cache.join_or_start(key);
    if started {
        let ex = ex.clone();
        let key = key.clone();
        tokio::spawn(async move { run_fill(ex, key, fill, Some(entry), None).await });
    }
}

/// The fill task: fetch (conditionally when a stale entry has validators),
/// publish the head, stream the body to every reader, store it if it may
/// be stored. Runs to the end whatever the readers do.
async fn run_fill(
    ex: Exchange,
    key: CacheKey,
    fill: Arc<Fill>,
    stale: Option<Arc<Entry>>,
    leader: Option<oneshot::Sender<Prepared>>,
) {
    let Some(cache) = ex.app.cache.as_ref() else {
        fill.set_head(FillHead::Pass);
        return;
    };
    // However this task ends, waiting readers are released and the key
    // is free for the next fill.
    let _guard = FillGuard {
        cache,
        key: &key,
        fill: &fill,
    };
    let conditional = stale
        .as_ref()
        .map(|e| e.validators.clone())
        .filter(Validators::any);
    let fetched = fetch::fetch(
        &ex.app,
        FetchRequest {
            site: &ex.site,
            url: &ex.url,
            target: ex.target,
            method: Method::GET,
            headers: &ex.headers,
            body: Body::empty(),
            referer: ex.referer.clone(),
            trusted_peer: ex.trusted_peer,
            mode: Mode::Fill,
            conditional: conditional.as_ref(),
        },
    )
    .await;
    // A stale copy may stand in when upstream fails: within the error
    // window for a 5xx, within the (wider) unreachable window otherwise.
    let now = Instant::now();
    let stale_when = |unreachable: bool| {
        stale.clone().filter(|e| match e.freshness(now) {
            Freshness::Stale {
                serve_on_error,
                serve_on_unreachable,
                ..
            } => {
                if unreachable {
                    serve_on_unreachable
                } else {
                    serve_on_error
                }
            }
            Freshness::Fresh => false,
        })
    };
    let stale_on_error = stale_when(false);
    match fetched {
        Err(error) => match stale_when(true) {
            Some(entry) => fill.set_head(FillHead::Entry(entry, CacheResult::Stale)),
            None => fill.set_head(FillHead::Failed(Arc::new(error))),
        },
        Ok(Fetched::NotModified {
            upstream_headers,
            request_time,
            response_time,
        }) => match stale {
            Some(old) => {
                let entry = Arc::new(revalidated(
                    &ex,
                    &old,
                    &upstream_headers,
                    request_time,
                    response_time,
                ));
                cache
                    .store(key.primary.clone(), &ex.headers, entry.clone())
                    .await;
                fill.set_head(FillHead::Entry(entry, CacheResult::Revalidated));
            }
            None => fill.set_head(FillHead::Pass),
        },
        Ok(Fetched::Full(prepared))
            if prepared.status.is_server_error() && stale_on_error.is_some() =>
        {
            // stale-if-error covers 5xx answers too (RFC 5861 §4).
            if let Some(entry) = stale_on_error {
                fill.set_head(FillHead::Entry(entry, CacheResult::Stale));
            }
        }
        Ok(Fetched::Full(prepared)) => {
            let policy = StorePolicy::for_response(&ex, &prepared);
            match policy {
                None => {
                    cache.mark_pass(key.primary.clone()).await;
                    fill.set_head(FillHead::Pass);
                    if let Some(tx) = leader {
                        let _ = tx.send(prepared);
                    }
                }
                Some(policy) => stream_and_store(&ex, cache, &key, &fill, prepared, policy).await,
            }
        }
    }
}

struct FillGuard<'a> {
    cache: &'a cache::Cache,
    key: &'a CacheKey,
    fill: &'a Arc<Fill>,
}

impl Drop for FillGuard<'_> {
    fn drop(&mut self) {
        self.fill.abandon();
        self.cache.fill_done(self.key, self.fill);
    }
}

/// Freshness facts of a storable response.
struct StorePolicy {
    lifetime: std::time::Duration,
    initial_age: std::time::Duration,
    cc: CacheControl,
}

impl StorePolicy {
    fn defaults(ex: &Exchange) -> Defaults {
        match ex.app.cache.as_ref() {
            Some(c) if ex.site.kind == SiteKind::Mirror => Defaults::Mirror {
                default_ttl: c.settings.default_ttl,
                force: c.settings.override_ttl,
            },
            _ => Defaults::Plain,
        }
    }
}

impl StorePolicy {
    /// `None` when the response may not be stored (and so not shared).
    fn for_response(ex: &Exchange, p: &Prepared) -> Option<StorePolicy> {
        let cache = ex.app.cache.as_ref()?;
        let cc = CacheControl::parse(&p.upstream_headers);
        let sc = SurrogateControl::parse(&p.upstream_headers);
        let request_cc = if ex.site.kind == SiteKind::Mirror {
            // A public mirror ignores readers' Cache-Control: any reader
            // could otherwise make every request go upstream.
            CacheControl::default()
        } else {
            CacheControl::parse(&ex.headers)
        };
        if !policy::storable(
            &Method::GET,
            p.status,
            &p.upstream_headers,
            &cc,
            &sc,
            &request_cc,
        ) {
            return None;
        }
        if ex.site.kind.is_plain()
            && ex.headers.contains_key(header::AUTHORIZATION)
            && !(cc.public || cc.s_maxage.is_some() || cc.must_revalidate)
        {
            return None;
        }
        let too_big = p
            .upstream_headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > cache.settings.max_object_bytes);
        if too_big {
            return None;
        }
        let lifetime = if policy::age_is_valid(&p.upstream_headers) {
            policy::freshness_lifetime(p.status, &p.upstream_headers, &cc, &sc, Self::defaults(ex))
        } else {
            // An Age that cannot be read cannot be trusted to be young.
            std::time::Duration::ZERO
        };
        let initial_age = policy::initial_age(&p.upstream_headers, p.request_time, p.response_time);
        let validators = Validators::from_headers(&p.upstream_headers);
        // Nothing to gain from storing what is stale at once and cannot be revalidated.
        if lifetime <= initial_age && !validators.any() && ex.site.kind.is_plain() {
            return None;
        }
        Some(StorePolicy {
            lifetime,
            initial_age,
            cc,
        })
    }
}

/// Streams the body to every reader of `fill` and, if it arrives whole and
/// within `max_object_bytes`, stores it.
async fn stream_and_store(
    ex: &Exchange,
    cache: &cache::Cache,
    key: &CacheKey,
    fill: &Arc<Fill>,
    prepared: Prepared,
    policy: StorePolicy,
) {
    let mut headers = prepared.headers;
    if ex.site.kind == SiteKind::Mirror {
        headers.remove(header::ETAG);
        set_cdn_headers(ex, &mut headers, &policy);
        if !prepared.encoded_as_is && variants::compressible(&prepared.media_type) {
            // Hits of this entry will vary by encoding: say so from the first answer.
            respond::add_vary_accept_encoding(&mut headers);
        }
    }
    let vary = cache::vary_names(&prepared.upstream_headers, ex.site.kind);
    fill.set_head(FillHead::Stream(Arc::new(StreamHead {
        status: prepared.status,
        headers: headers.clone(),
        no_body: prepared.no_body,
        vary_values: cache::vary_values(&vary, &ex.headers),
        vary,
    })));
    let mut body = prepared.body;
    let mut storing = true;
    // How long a reader may take nothing before it is cut off.
    let stall = ex.app.config.upstream.idle_timeout.get();
    while let Some(item) = body.next().await {
        match item {
            Ok(chunk) => {
                if fill.push(chunk) {
                    continue;
                }
                if storing {
                    // Past max_object_bytes or the fills' budget, whatever
                    // the headers said: not stored, and nobody new joins.
                    storing = false;
                    cache.mark_pass(key.primary.clone()).await;
                    cache.fill_done(key, fill);
                }
                if !fill.wait_for_room(stall).await {
                    // Nobody reads any more: stop fetching (the upstream
                    // connection goes with `body`).
                    fill.finish(Err(BodyError::Read("every reader left".into())));
                    return;
                }
            }
            Err(e) => {
                // Cut short or failed: the readers see the error; nothing is stored.
                fill.finish(Err(e));
                return;
            }
        }
    }
    drop(body);
    let Some(identity) = fill.kept_body().filter(|_| storing) else {
        fill.finish(Ok(()));
        return;
    };
    let kind = ex.site.kind;
    let entry = Arc::new(Entry {
        status: prepared.status,
        etags: [
            etag_value(&identity, Coding::Identity),
            etag_value(&identity, Coding::Gzip),
            etag_value(&identity, Coding::Br),
        ],
        headers: cache::detach(&entry_headers(headers, kind)),
        variants: Variants {
            identity,
            gzip: None,
            br: None,
        },
        kind,
        surrogate_keys: surrogate_keys(ex),
        stored_at: Instant::now(),
        initial_age: policy.initial_age,
        lifetime: policy.lifetime,
        stale_while_revalidate: window(
            policy.cc.stale_while_revalidate,
            cache.settings.stale_while_revalidate,
            kind,
        ),
        stale_if_error: window(
            policy.cc.stale_if_error,
            cache.settings.stale_if_error,
            kind,
        ),
        // Unreachable upstream: the configured window, as for the mirror,
        // for plain sites too.
        stale_if_unreachable: window(
            policy.cc.stale_if_error,
            cache.settings.stale_if_error,
            SiteKind::Mirror,
        ),
        must_revalidate: policy.cc.must_revalidate
            || policy.cc.proxy_revalidate
            || policy.cc.s_maxage.is_some()
            || policy.cc.no_cache,
        validators: Validators::from_headers(&prepared.upstream_headers),
        vary: cache::vary_names(&prepared.upstream_headers, kind),
        upstream: cache::detach(&freshness_headers(&prepared.upstream_headers)),
        compressible: kind == SiteKind::Mirror
            && !prepared.encoded_as_is
            && variants::compressible(&prepared.media_type),
    });
    // Stored before the readers see the end, so that a request arriving
    // after any of them finished is a hit.
    let stored_key = cache
        .store(key.primary.clone(), &ex.headers, entry.clone())
        .await;
    fill.finish(Ok(()));
    cache.fill_done(key, fill);
    if entry.compressible {
        compress_in_background(&ex.app, stored_key, entry);
    }
}

/// Makes the br and gzip variants of `entry` off the async runtime and swaps
/// them in, if a compression slot is free now; otherwise leaves it to a
/// later hit. Work never queues up behind a slow compressor.
fn compress_in_background(app: &Arc<App>, key: CacheKey, entry: Arc<Entry>) {
    let Some(cache) = app.cache.as_ref() else {
        return;
    };
    let media = crate::headers::media_type(entry.headers.get(header::CONTENT_TYPE));
    let Some(done) = cache
        .compressor
        .try_submit(entry.variants.identity.clone(), media)
    else {
        return;
    };
    let app = app.clone();
    tokio::spawn(async move {
        let (Ok(built), Some(cache)) = (done.await, app.cache.as_ref()) else {
            return;
        };
        let upgraded = Arc::new(Entry {
            compressible: false,
            variants: built,
            headers: entry.headers.clone(),
            etags: entry.etags.clone(),
            surrogate_keys: entry.surrogate_keys.clone(),
            vary: entry.vary.clone(),
            upstream: entry.upstream.clone(),
            validators: entry.validators.clone(),
            ..*entry
        });
        cache.upgrade(key, &entry, upgraded).await;
    });
}

/// A stale window: the response's own directive, else (for the mirror) the
/// configured one. A plain proxy serves stale only where the response allows.
fn window(
    directive: Option<u64>,
    configured: std::time::Duration,
    kind: SiteKind,
) -> std::time::Duration {
    match directive {
        Some(s) => std::time::Duration::from_secs(s),
        None if kind == SiteKind::Mirror => configured,
        None => std::time::Duration::ZERO,
    }
}

fn etag_value(identity: &Bytes, coding: Coding) -> HeaderValue {
    HeaderValue::from_str(&variants::etag(identity, coding))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Stored headers: without those computed per answer.
fn entry_headers(mut headers: HeaderMap, kind: SiteKind) -> HeaderMap {
    for h in [header::CONTENT_LENGTH, header::AGE] {
        headers.remove(h);
    }
    headers.remove("x-cache");
    if kind == SiteKind::Mirror {
        headers.remove(header::CONTENT_ENCODING);
        headers.remove(header::ETAG);
    }
    headers
}

/// Upstream headers that decide freshness, kept with an entry for revalidation.
const FRESHNESS_HEADERS: &[&str] = &[
    "cache-control",
    "surrogate-control",
    "expires",
    "date",
    "last-modified",
    "etag",
    "age",
];

/// Headers a 304 never updates (RFC 9111 §3.2): they describe the stored
/// body itself, or the connection.
const NOT_UPDATED_BY_304: &[&str] = &[
    "content-length",
    "content-encoding",
    "content-md5",
    "content-range",
    "etag",
    "transfer-encoding",
    "connection",
    "age",
];

fn freshness_headers(upstream: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in FRESHNESS_HEADERS {
        for v in upstream.get_all(*name) {
            out.append(*name, v.clone());
        }
    }
    out
}

/// Replaces in `target` every header `source` has (all its field lines),
/// except those in `skip`.
fn update_headers(
    target: &mut HeaderMap,
    source: &HeaderMap,
    only: Option<&[&str]>,
    skip: &[&str],
) {
    for name in source.keys() {
        let n = name.as_str();
        if skip.contains(&n) || only.is_some_and(|o| !o.contains(&n)) {
            continue;
        }
        target.remove(name);
        for v in source.get_all(name) {
            target.append(name.clone(), v.clone());
        }
    }
}

/// A stored entry confirmed by a 304: new freshness from the merged
/// headers, the same body (RFC 9111 §4.3.4).
fn revalidated(
    ex: &Exchange,
    old: &Entry,
    fresh: &HeaderMap,
    request_time: std::time::SystemTime,
    response_time: std::time::SystemTime,
) -> Entry {
    let mut upstream = old.upstream.clone();
    update_headers(&mut upstream, fresh, Some(FRESHNESS_HEADERS), &["etag"]);
    if !fresh.contains_key(header::AGE) {
        upstream.remove(header::AGE);
    }
    let cc = CacheControl::parse(&upstream);
    let sc = SurrogateControl::parse(&upstream);
    let lifetime =
        policy::freshness_lifetime(old.status, &upstream, &cc, &sc, StorePolicy::defaults(ex));
    let mut headers = old.headers.clone();
    if old.kind.is_plain() {
        update_headers(&mut headers, fresh, None, NOT_UPDATED_BY_304);
    } else {
        // Upstream may have made it private (or public) since.
        set_cdn_cache_control(ex, &mut headers, lifetime, &cc);
    }
    let headers = cache::detach(&headers);
    let upstream = cache::detach(&upstream);
    Entry {
        status: old.status,
        headers,
        variants: old.variants.clone(),
        etags: old.etags.clone(),
        kind: old.kind,
        surrogate_keys: old.surrogate_keys.clone(),
        stored_at: Instant::now(),
        initial_age: policy::initial_age(&upstream, request_time, response_time),
        lifetime,
        stale_while_revalidate: old.stale_while_revalidate,
        stale_if_error: old.stale_if_error,
        stale_if_unreachable: old.stale_if_unreachable,
        must_revalidate: old.must_revalidate,
        validators: Validators::from_headers(&upstream),
        vary: old.vary.clone(),
        compressible: old.compressible,
        upstream,
    }
}

/// The CDN's view of a cacheable mirror answer: `Cache-Control` from
/// `[cdn]` and `[cache]`, and the surrogate keys for tag purges.
fn set_cdn_headers(ex: &Exchange, headers: &mut HeaderMap, policy: &StorePolicy) {
    set_cdn_cache_control(ex, headers, policy.lifetime, &policy.cc);
    headers.remove(header::EXPIRES);
    headers.remove(header::PRAGMA);
    if let Ok(v) = HeaderValue::from_str(&surrogate_keys(ex).join(" ")) {
        headers.insert("surrogate-key", v);
    }
}

/// The `Cache-Control` readers and CDNs get for a stored mirror answer of
/// freshness `lifetime`, upstream's own directives being `cc`. An answer
/// upstream marked `private` or `no-store` is stored here only because
/// `Surrogate-Control` (which targets this cache alone) allowed it: no
/// other shared cache may keep it, so it never says `public` or `s-maxage`.
fn set_cdn_cache_control(
    ex: &Exchange,
    headers: &mut HeaderMap,
    lifetime: std::time::Duration,
    cc: &CacheControl,
) {
    let cdn = &ex.app.config.cdn;
    let value = if cc.no_store {
        "private, no-store".to_owned()
    } else if cc.private {
        let max_age = cc.max_age.map_or(cdn.max_age.get().as_secs(), |s| {
            s.min(cdn.max_age.get().as_secs())
        });
        if lifetime.is_zero() || max_age == 0 {
            "private, no-cache".to_owned()
        } else {
            format!("private, max-age={max_age}")
        }
    } else if lifetime.is_zero() {
        "public, no-cache".to_owned()
    } else {
        let cache = &ex.app.config.cache;
        format!(
            "public, max-age={}, s-maxage={}, stale-while-revalidate={}, stale-if-error={}",
            cdn.max_age.get().as_secs(),
            cdn.s_maxage.get().as_secs(),
            cache.stale_while_revalidate.get().as_secs(),
            cache.stale_if_error.get().as_secs()
        )
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(header::CACHE_CONTROL, v);
    }
}

/// `site`, `site:<article id>` (the last path segment's stem when it looks
/// like an id) and `site:<mirror path>`.
fn surrogate_keys(ex: &Exchange) -> Vec<String> {
    let site = &ex.site.name;
    let mut keys = vec![site.clone()];
    let last = ex.mirror_path.rsplit('/').next().unwrap_or("");
    let stem = last.split('.').next().unwrap_or("");
    if !stem.is_empty() && (last.contains('.') || stem.bytes().any(|b| b.is_ascii_digit())) {
        keys.push(format!("{site}:{stem}"));
    }
    keys.push(format!("{site}:{}", ex.mirror_path));
    keys.retain(|k| k.len() <= 1024 && !k.contains(char::is_whitespace));
    keys
}

/// The reader's `Referer`, if it is a mirror page, as that page's original
/// URL: image hosts that check the referrer see their own site, and nothing
/// of the mirror.
fn original_referer(app: &App, parts: &Parts) -> Option<HeaderValue> {
    let referer = Url::parse(parts.headers.get(header::REFERER)?.to_str().ok()?).ok()?;
    let host = match parts.extensions.get::<ClientView>() {
        Some(view) => view.host.clone()?,
        None => host_of(&parts.uri, &parts.headers)?,
    };
    if referer.host_str()? != host {
        return None;
    }
    let path = &referer[url::Position::BeforePath..url::Position::AfterQuery];
    let (_, original) = app.mapper.original_of(Some(&host), path)?;
    HeaderValue::from_str(original.as_str()).ok()
}

/// The host name the reader asked for, lower-case, without port: as the
/// request's [`ClientView`] has it (a trusted proxy's `X-Forwarded-Host`),
/// else from the URI (HTTP/2) or the `Host` header.
pub fn request_host(req: &Request) -> Option<String> {
    match req.extensions().get::<ClientView>() {
        Some(view) => view.host.clone(),
        None => host_of(req.uri(), req.headers()),
    }
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
