//! Fill: one upstream fetch per cache key, whatever the number of readers
//! waiting on it. The task that runs it fetches (conditionally when a stale
//! entry has validators), publishes the head, streams the body to every
//! reader, and stores it if [`crate::cache::store`] says it may; a stale
//! entry stands in when upstream fails within its windows. It runs to the
//! end whatever the readers do.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use futures_util::StreamExt;
use http::request::Parts;
use http::{Method, header};
use tokio::sync::oneshot;

use super::Mode;
use super::fetch::Fetched;
use super::plan::Prepared;
use super::{Exchange, MirrorCache, bypass, cdn, respond};
use crate::app::App;
use crate::body::BodyError;
use crate::cache::variants;
use crate::cache::{
    self, CacheKey, Entry, Failure, Fill, FillHead, NewEntry, StorePolicy, StreamHead, Upstream,
};
use crate::error::MirrorError;
use crate::metrics::CacheResult;
use crate::site::SiteKind;

/// Joins the fill of `key` (starting it if none runs) and answers from it:
/// its stream, the entry it stood in with or revalidated, its failure, or,
/// when it could not be shared, a fetch of this request's own.
pub(super) async fn join(
    ex: &Exchange,
    key: CacheKey,
    stale: Option<Arc<Entry>>,
    parts: &Parts,
) -> Result<Response, MirrorError> {
    let Some(cache) = ex.cache() else {
        return bypass(ex, parts, Body::empty()).await;
    };
    let (fill, started) = cache.join_or_start(&key);
    let mut leader = None;
    if started {
        let (tx, rx) = oneshot::channel();
        leader = Some(rx);
        let task = (ex.clone(), key.clone(), fill.clone());
        tokio::spawn(async move { run(task.0, task.1, task.2, stale, Some(tx)).await });
    }
    let app = &ex.app;
    match fill.head().await {
        FillHead::Stream(head)
            if cache::vary_values(&head.vary, &parts.headers) != head.vary_values =>
        {
            // The response varies on a header this request sends differently.
            bypass(ex, parts, Body::empty()).await
        }
        FillHead::Stream(head) => match respond::from_fill(&head, &fill, parts) {
            Some(response) => {
                app.metrics.cache_result(CacheResult::Miss);
                Ok(response)
            }
            None => bypass(ex, parts, Body::empty()).await,
        },
        FillHead::Entry(entry, result) => Ok(respond::from_entry(app, &entry, parts, result)),
        FillHead::Pass => match leader {
            Some(rx) => match rx.await {
                Ok(prepared) => {
                    app.metrics.cache_result(CacheResult::Bypass);
                    let head_only = parts.method == Method::HEAD;
                    Ok(respond::prepared(prepared, CacheResult::Bypass, head_only))
                }
                Err(_) => bypass(ex, parts, Body::empty()).await,
            },
            None => bypass(ex, parts, Body::empty()).await,
        },
        FillHead::Failed(error) => Ok(error.page(Some(&ex.site))),
        FillHead::Abandoned => {
            let error = MirrorError::Body(BodyError::FillStopped);
            Ok(error.page(Some(&ex.site)))
        }
    }
}

/// Starts one background refresh of a stale entry (none if one is running).
pub(super) fn refresh_in_background(ex: &Exchange, key: &CacheKey, entry: Arc<Entry>) {
    let Some(cache) = ex.cache() else {
        return;
    };
    if cache.fill_running(key) {
        return;
    }
    let (fill, started) = cache.join_or_start(key);
    if started {
        let ex = ex.clone();
        let key = key.clone();
        tokio::spawn(async move { run(ex, key, fill, Some(entry), None).await });
    }
}

/// The fill task.
async fn run(
    ex: Exchange,
    key: CacheKey,
    fill: Arc<Fill<MirrorError>>,
    stale: Option<Arc<Entry>>,
    leader: Option<oneshot::Sender<Prepared>>,
) {
    let Some(cache) = ex.cache() else {
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
        .filter(cache::Validators::any);
    let request = ex.fetch_request(Method::GET, &ex.headers, Mode::Fill, conditional.as_ref());
    let fetched = super::fetch::fetch(&ex.app, request, Body::empty()).await;
    let now = cache.clock.now();
    let stand_in = |failure| stale.clone().filter(|e| e.stands_in(now, failure));
    match fetched {
        Err(error) => match stand_in(Failure::Unreachable) {
            Some(entry) => fill.set_head(FillHead::Entry(entry, CacheResult::Stale)),
            None => fill.set_head(FillHead::Failed(Arc::new(error))),
        },
        Ok(Fetched::NotModified {
            upstream_headers,
            request_time,
            response_time,
        }) => match stale {
            Some(old) => {
                let (mut entry, cc) = old.revalidated(
                    &upstream_headers,
                    &cache.settings,
                    request_time,
                    response_time,
                    now,
                );
                if entry.kind == SiteKind::Mirror {
                    // Upstream may have made it private (or public) since.
                    let config = (&ex.app.config.cdn, &ex.app.config.cache);
                    cdn::set_cache_control(config, &mut entry.headers, entry.lifetime, &cc);
                }
                let entry = Arc::new(entry);
                cache
                    .store(key.primary.clone(), &ex.headers, entry.clone())
                    .await;
                fill.set_head(FillHead::Entry(entry, CacheResult::Revalidated));
            }
            None => fill.set_head(FillHead::Pass),
        },
        Ok(Fetched::Full(prepared)) => {
            if prepared.status.is_server_error()
                && let Some(entry) = stand_in(Failure::ServerError)
            {
                // stale-if-error covers 5xx answers too (RFC 5861 §4).
                fill.set_head(FillHead::Entry(entry, CacheResult::Stale));
                return;
            }
            let response = Upstream {
                status: prepared.status,
                headers: &prepared.upstream_headers,
                request_time: prepared.request_time,
                response_time: prepared.response_time,
            };
            match cache::store_policy(ex.site.kind, &cache.settings, &ex.headers, response) {
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
    cache: &'a MirrorCache,
    key: &'a CacheKey,
    fill: &'a Arc<Fill<MirrorError>>,
}

impl Drop for FillGuard<'_> {
    fn drop(&mut self) {
        self.fill.abandon();
        self.cache.fill_done(self.key, self.fill);
    }
}

/// Streams the body to every reader of `fill` and, if it arrives whole and
/// within `max_object_bytes`, stores it.
async fn stream_and_store(
    ex: &Exchange,
    cache: &MirrorCache,
    key: &CacheKey,
    fill: &Arc<Fill<MirrorError>>,
    prepared: Prepared,
    policy: StorePolicy,
) {
    let kind = ex.site.kind;
    let surrogate_keys = cdn::surrogate_keys(&ex.site.name, &ex.mirror_path);
    let compressible = kind == SiteKind::Mirror
        && !prepared.encoded_as_is
        && variants::compressible(&prepared.media_type);
    let mut headers = prepared.headers;
    if kind == SiteKind::Mirror {
        headers.remove(header::ETAG);
        let config = (&ex.app.config.cdn, &ex.app.config.cache);
        cdn::set_headers(config, &mut headers, &policy, &surrogate_keys);
        if compressible {
            // Hits of this entry will vary by encoding: say so from the first answer.
            cache::respond::add_vary_accept_encoding(&mut headers);
        }
    }
    let vary = cache::vary_names(&prepared.upstream_headers, kind);
    // A validator on the first answer too, when upstream gave one
    // (`cache::Derived`); the entry's answers carry the same.
    let derived = (kind == SiteKind::Mirror)
        .then(|| {
            cache::Derived::of(
                &prepared.upstream_headers,
                &ex.app.rules_version,
                ex.url.as_str(),
            )
        })
        .flatten();
    let mut first = headers.clone();
    if let Some(d) = &derived {
        first.insert(header::ETAG, d.etag(crate::coding::Coding::Identity));
    }
    fill.set_head(FillHead::Stream(Arc::new(StreamHead {
        status: prepared.status,
        headers: first,
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
                    fill.finish(Err(BodyError::Abandoned));
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
    let new = NewEntry {
        status: prepared.status,
        headers,
        upstream: &prepared.upstream_headers,
        identity,
        kind,
        surrogate_keys,
        compressible,
        derived,
    };
    let entry = Arc::new(Entry::new(new, &policy, &cache.settings, cache.clock.now()));
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
/// later hit. Work never queues up behind a slow compressor, and one entry
/// has at most one job ([`cache::Pending`]).
pub(super) fn compress_in_background(app: &Arc<App>, key: CacheKey, entry: Arc<Entry>) {
    let Some(cache) = app.cache.as_ref() else {
        return;
    };
    if entry.pending.queued() {
        return;
    }
    let media = crate::headers::media_type(entry.headers.get(header::CONTENT_TYPE));
    let Some(done) = cache
        .compressor
        .try_submit(entry.variants.identity.clone(), media)
    else {
        return;
    };
    let Some(done) = entry.pending.start(done) else {
        return;
    };
    let app = app.clone();
    tokio::spawn(async move {
        let (Ok(built), Some(cache)) = (done.await, app.cache.as_ref()) else {
            return;
        };
        let upgraded = Arc::new(entry.with_variants(built));
        cache.upgrade(key, &entry, upgraded).await;
    });
}

/// How long a hit waits for its entry's compression job. The article's
/// br and gzip take 0.57 ms together on this machine (`cargo bench --bench pipeline --
/// variants`); a page at `max_object_bytes` far longer, and then the hit
/// gets the identity body as before.
const VARIANT_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// `entry`, or, when the reader takes br or gzip and the entry's variants
/// are still being made, the entry with them (waiting for the job that
/// makes them, at most [`VARIANT_WAIT`]). Waiting costs the few hits that
/// come within milliseconds of a fill; each of them then gets 5-10 KB
/// instead of 80 KB, which on the slow links the mirror's readers often
/// have takes longer than the wait.
pub(super) async fn with_variants_when_ready(
    entry: Arc<Entry>,
    request: &http::HeaderMap,
) -> Arc<Entry> {
    if !entry.compressible || !entry.pending.queued() {
        return entry;
    }
    let accept = crate::coding::AcceptEncoding::parse(request);
    let wants = |c| accept.q(c) > accept.q(crate::coding::Coding::Identity);
    if !wants(crate::coding::Coding::Gzip) && !wants(crate::coding::Coding::Br) {
        return entry;
    }
    match entry.pending.wait(VARIANT_WAIT).await {
        Some(built) => Arc::new(entry.with_variants(built)),
        None => entry,
    }
}
