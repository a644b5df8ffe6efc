//! The cache in front: rewritten responses in memory (moka, LRU, bounded
//! in bytes by `cache.max_bytes`, every compressed variant counted), one
//! upstream fetch per key at a time, stale answers within the windows the
//! response and the config allow.
//!
//! Every rule of HTTP caching is here, taking plain values (status,
//! headers, a [`SiteKind`], settings, `now`), in the order a request meets
//! them:
//!
//! - [`lookup`]: what the cache does for a request ([`Lookup`]: fresh,
//!   stale and refresh, revalidate, miss, pass).
//! - [`request`]: what a fill asks upstream (no reader conditionals or
//!   range; the stored validators).
//! - [`fill`]: one fetch shared by every request that missed the same key.
//! - [`store`]: whether an answer is stored, and for how long
//!   ([`policy`]: the RFC 9111 rules underneath).
//! - [`entry`]: a stored answer, its one constructor, the 304 merge, the
//!   stale windows.
//! - [`variants`], [`compress`]: br and gzip made off the runtime; the
//!   choice per request.
//! - [`respond`]: a stored entry as an HTTP response (304, ranges, HEAD).
//! - [`invalidate`]: what an unsafe request makes stale (§4.4).
//! - [`clock`]: the one reading of `now`.

pub mod clock;
pub mod compress;
pub mod entry;
pub mod fill;
pub mod invalidate;
pub mod lookup;
pub mod policy;
pub mod request;
pub mod respond;
pub mod store;
pub mod variants;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, header};
use moka::Expiry;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;

pub use clock::Clock;
pub use compress::Pending;
pub use entry::{Derived, Entry, Failure, Freshness, NewEntry};
pub use fill::{Fill, FillBudget, FillHead, StreamHead};
pub use lookup::{Lookup, Pass};
pub use policy::Validators;
pub use store::{StorePolicy, Upstream, store_policy};

use crate::config::CacheConfig;
use crate::metrics::Metrics;
use crate::site::SiteKind;

/// How long a key whose response could not be shared is fetched without
/// waiting on other requests ("hit-for-pass").
const PASS_TTL: Duration = Duration::from_secs(30);

/// The share of `cache.max_bytes` set aside for fills in flight (the bytes
/// they keep to store at the end): an eighth, at least one largest object,
/// at most half. Stored entries get the rest, so that entries and fills
/// together stay within `max_bytes`.
pub fn fill_budget(max_bytes: u64, max_object_bytes: u64) -> u64 {
    (max_bytes / 8).max(max_object_bytes).min(max_bytes / 2)
}

/// What a stored response is found by: the route and upstream URL
/// (`primary`), plus the values of the request headers the response varies on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub primary: Arc<str>,
    pub vary: Option<Arc<str>>,
}

impl CacheKey {
    /// The primary key: which site and route, and the upstream URL. Nothing
    /// from the request's headers is in it: no header outside the key can
    /// change what is stored.
    pub fn primary(site: &str, route: &str, upstream_url: &str) -> Arc<str> {
        shared_str(|key| {
            key.push_str(site);
            key.push(' ');
            key.push_str(route);
            key.push(' ');
            key.push_str(upstream_url);
        })
    }

    /// The upstream URL part of a primary key.
    pub fn url(primary: &str) -> &str {
        primary.splitn(3, ' ').nth(2).unwrap_or("")
    }
}

struct EntryExpiry;

impl Expiry<CacheKey, Arc<Entry>> for EntryExpiry {
    fn expire_after_create(
        &self,
        _: &CacheKey,
        entry: &Arc<Entry>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(entry.retain_for())
    }
    fn expire_after_update(
        &self,
        _: &CacheKey,
        entry: &Arc<Entry>,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.retain_for())
    }
}

/// The cache's settings, from `[cache]`.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    pub max_object_bytes: u64,
    pub default_ttl: Duration,
    pub override_ttl: bool,
    pub stale_while_revalidate: Duration,
    pub stale_if_error: Duration,
}

/// The store, the keys that pass, and the fills in flight. `E` is what a
/// fill that gets no response head fails with (the mirror's error: the
/// cache only hands it on).
pub struct Cache<E> {
    entries: moka::future::Cache<CacheKey, Arc<Entry>>,
    /// Primary key → the header names its responses vary on.
    vary: moka::future::Cache<Arc<str>, Arc<[HeaderName]>>,
    /// Primary keys whose responses could not be shared, recently.
    pass: moka::future::Cache<Arc<str>, ()>,
    /// Until when (milliseconds after `started`) a pass marker may exist,
    /// and whether any Vary names were ever stored: a hit reads neither
    /// map when they cannot hold its key (each read hashes the key and
    /// records the access; most sites never pass and vary on nothing the
    /// cache keys on).
    pass_until_ms: AtomicU64,
    vary_stored: AtomicBool,
    started: std::time::Instant,
    fills: Mutex<HashMap<CacheKey, Arc<Fill<E>>>>,
    /// What fills in flight may keep, together (see [`fill_budget`]).
    fill_budget: Arc<FillBudget>,
    pub settings: CacheSettings,
    metrics: Arc<Metrics>,
    /// Makes compressed variants off the async runtime.
    pub compressor: compress::Compressor,
    /// The time every freshness decision is made at.
    pub clock: Clock,
}

impl<E> Cache<E> {
    /// `None` when `max_bytes = "0"` (caching off).
    pub fn new(config: &CacheConfig, metrics: Arc<Metrics>) -> Option<Cache<E>> {
        if config.max_bytes.get() == 0 {
            return None;
        }
        let evicted = metrics.clone();
        let for_fills = fill_budget(config.max_bytes.get(), config.max_object_bytes.get());
        let entries = moka::future::Cache::builder()
            .max_capacity(config.max_bytes.get() - for_fills)
            .weigher(|_: &CacheKey, e: &Arc<Entry>| e.weight())
            // LRU, not moka's default TinyLFU, which lets a new entry into a
            // full cache only if its frequency sketch counts it more often
            // than the entries it would evict: the page just fetched (on a
            // news site the newest article, the hottest) was refused and
            // its second reader went upstream again. On synthetic news
            // traces (`cargo run --release --example admission`,
            // BENCHMARKS.md "Cache admission"), at 64 and 256 MiB an
            // article's second request hits 90-100 % of the time with LRU
            // against 24-57 % with TinyLFU once the cache is full; at the
            // default 256 MiB LRU fetches 5.3 % less to 1.4 % more from
            // upstream. TinyLFU is ahead where one-off archive pages would
            // flush a smaller cache (64 MiB, 10-30 % of requests: LRU
            // fetches 8.5-12.9 % more) and far behind where articles fade
            // fast (16 MiB: 6.8 times LRU's fetches).
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(EntryExpiry)
            .support_invalidation_closures()
            .eviction_listener(move |_k, e: Arc<Entry>, cause| {
                if matches!(cause, RemovalCause::Size | RemovalCause::Expired) {
                    evicted.evicted_bytes.inc_by(u64::from(e.weight()));
                }
            })
            .build();
        let vary = moka::future::Cache::builder()
            .max_capacity(100_000)
            .time_to_idle(Duration::from_secs(86_400))
            .build();
        let pass = moka::future::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(PASS_TTL)
            .build();
        Some(Cache {
            entries,
            vary,
            pass,
            pass_until_ms: AtomicU64::new(0),
            vary_stored: AtomicBool::new(false),
            started: std::time::Instant::now(),
            fills: Mutex::new(HashMap::new()),
            fill_budget: FillBudget::new(for_fills),
            settings: CacheSettings {
                max_object_bytes: config.max_object_bytes.get(),
                default_ttl: config.default_ttl.get(),
                override_ttl: config.override_ttl,
                stale_while_revalidate: config.stale_while_revalidate.get(),
                stale_if_error: config.stale_if_error.get(),
            },
            metrics,
            compressor: {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                compress::Compressor::new(cores, cores)
            },
            clock: Clock::default(),
        })
    }

    /// The full key for a request: the primary key plus the values of the
    /// headers that responses under it vary on (those of its kind of site,
    /// [`default_vary`], unless one of its answers named others).
    pub async fn key(&self, primary: Arc<str>, kind: SiteKind, request: &HeaderMap) -> CacheKey {
        let stored = if self.vary_stored.load(Ordering::Acquire) {
            self.vary.get(&primary).await
        } else {
            None
        };
        let names = stored.as_deref().unwrap_or(default_vary(kind));
        let vary = (!names.is_empty()).then(|| vary_key(names, request));
        CacheKey { primary, vary }
    }

    /// Milliseconds since the cache was made (the pass markers' time, which
    /// is moka's: real time, not [`Clock`]).
    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub async fn get(&self, key: &CacheKey) -> Option<Arc<Entry>> {
        self.entries.get(key).await
    }

    /// Whether this primary key recently produced a response that could not be shared.
    pub async fn is_pass(&self, primary: &Arc<str>) -> bool {
        self.elapsed_ms() <= self.pass_until_ms.load(Ordering::Acquire)
            && self.pass.contains_key(primary)
    }

    pub async fn mark_pass(&self, primary: Arc<str>) {
        // Set before the marker goes in: a reader that sees the marker
        // sees the deadline. A second past the TTL covers moka's rounding.
        let until = self.elapsed_ms() + u64::try_from(PASS_TTL.as_millis()).unwrap_or(0) + 1000;
        self.pass_until_ms.fetch_max(until, Ordering::AcqRel);
        self.pass.insert(primary, ()).await;
    }

    /// Stores `entry` for a request with `request` headers; returns the key used.
    pub async fn store(
        &self,
        primary: Arc<str>,
        request: &HeaderMap,
        entry: Arc<Entry>,
    ) -> CacheKey {
        let names = &entry.vary[..];
        if names == default_vary(entry.kind) {
            // Only names other than the default are kept (a hit reads the
            // map only once there are some): a primary that named others
            // before forgets them.
            if self.vary_stored.load(Ordering::Acquire) {
                self.vary.invalidate(&primary).await;
            }
        } else {
            self.vary_stored.store(true, Ordering::Release);
            self.vary.insert(primary.clone(), Arc::from(names)).await;
        }
        let key = CacheKey {
            vary: (!names.is_empty()).then(|| vary_key(names, request)),
            primary,
        };
        self.entries.insert(key.clone(), entry).await;
        self.update_gauges();
        key
    }

    /// Replaces the entry under `key` with `new` only if it is still `old`
    /// (a purge or a newer fill in between wins).
    pub async fn upgrade(&self, key: CacheKey, old: &Arc<Entry>, new: Arc<Entry>) {
        let old = old.clone();
        self.entries
            .entry(key)
            .and_compute_with(|current| async move {
                match current {
                    Some(c) if Arc::ptr_eq(c.value(), &old) => moka::ops::compute::Op::Put(new),
                    _ => moka::ops::compute::Op::Nop,
                }
            })
            .await;
        self.update_gauges();
    }

    /// Forgets every entry stored under `primary` (all its Vary variants):
    /// after an unsafe request changed the resource (RFC 9111 §4.4).
    pub async fn invalidate(&self, primary: Arc<str>) {
        self.pass.invalidate(&primary).await;
        let target = primary.clone();
        if self
            .entries
            .invalidate_entries_if(move |k, _| k.primary == target)
            .is_err()
        {
            // Closures are enabled at build time; fall back to a scan anyway.
            let keys: Vec<_> = self
                .entries
                .iter()
                .filter(|(k, _)| k.primary == primary)
                .map(|(k, _)| k)
                .collect();
            for k in keys {
                self.entries.invalidate(k.as_ref()).await;
            }
        }
    }

    /// The fill in flight for `key`, or a new one registered by this caller
    /// (`true`): the caller must then run it and call [`Cache::fill_done`].
    pub fn join_or_start(&self, key: &CacheKey) -> (Arc<Fill<E>>, bool) {
        let mut fills = self.fills.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = fills.get(key) {
            return (f.clone(), false);
        }
        let fill = Fill::new(self.fill_budget.clone(), self.settings.max_object_bytes);
        fills.insert(key.clone(), fill.clone());
        self.metrics.fills_in_flight.set(fills.len() as i64);
        (fill, true)
    }

    /// Whether a fill for `key` is running.
    pub fn fill_running(&self, key: &CacheKey) -> bool {
        self.fills
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(key)
    }

    /// Takes `fill` out of the fills in flight (new requests for `key` no
    /// longer join it). Only that fill: one started for the same key since
    /// (after this one gave up storing, say) stays.
    pub fn fill_done(&self, key: &CacheKey, fill: &Arc<Fill<E>>) {
        let mut fills = self.fills.lock().unwrap_or_else(|p| p.into_inner());
        if fills.get(key).is_some_and(|f| Arc::ptr_eq(f, fill)) {
            fills.remove(key);
        }
        self.metrics.fills_in_flight.set(fills.len() as i64);
    }

    /// Removes every entry stored for one of `urls` (upstream URLs) or
    /// tagged with one of `keys`; returns how many went.
    pub async fn purge(&self, urls: &[String], keys: &[String]) -> (usize, usize) {
        let mut by_url = Vec::new();
        let mut by_key = Vec::new();
        for (k, e) in self.entries.iter() {
            let url = CacheKey::url(&k.primary);
            if urls.iter().any(|u| u == url) {
                by_url.push(k);
            } else if e.surrogate_keys.iter().any(|s| keys.contains(s)) {
                by_key.push(k);
            }
        }
        for k in by_url.iter().chain(by_key.iter()) {
            self.entries.invalidate(k.as_ref()).await;
        }
        self.entries.run_pending_tasks().await;
        self.update_gauges();
        (by_url.len(), by_key.len())
    }

    /// Bytes counted now (after pending evictions are applied).
    pub async fn weighted_size(&self) -> u64 {
        self.entries.run_pending_tasks().await;
        self.update_gauges();
        self.entries.weighted_size()
    }

    fn update_gauges(&self) {
        self.metrics
            .stored_bytes
            .set(i64::try_from(self.entries.weighted_size()).unwrap_or(i64::MAX));
        self.metrics
            .stored_entries
            .set(i64::try_from(self.entries.entry_count()).unwrap_or(i64::MAX));
    }
}

/// A header value in an allocation of its own. Values parsed by hyper are
/// slices of the connection's read buffer: keeping one in a stored entry
/// would keep that whole buffer (often most of the body) alive, twice the
/// memory the entry is counted for (measured with examples/cache_memory.rs).
pub fn detach_value(v: &HeaderValue) -> HeaderValue {
    let mut copy = HeaderValue::from_bytes(v.as_bytes()).unwrap_or_else(|_| v.clone());
    copy.set_sensitive(v.is_sensitive());
    copy
}

/// Every value of `headers` in its own allocation (see [`detach_value`]).
pub fn detach(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        out.append(name.clone(), detach_value(value));
    }
    out
}

/// The request's values of `names`, normalised (combined field lines,
/// whitespace around commas removed), as one string.
pub fn vary_values(names: &[HeaderName], request: &HeaderMap) -> String {
    let mut out = String::with_capacity(64);
    write_vary_values(names, request, &mut out);
    out
}

/// [`vary_values`] as a key part: one allocation (the `Arc`), not two.
fn vary_key(names: &[HeaderName], request: &HeaderMap) -> Arc<str> {
    shared_str(|out| write_vary_values(names, request, out))
}

fn write_vary_values(names: &[HeaderName], request: &HeaderMap, out: &mut String) {
    for name in names {
        out.push_str(name.as_str());
        out.push('=');
        let mut first = true;
        for value in request.get_all(name) {
            for item in String::from_utf8_lossy(value.as_bytes()).split(',') {
                if !first {
                    out.push(',');
                }
                out.push_str(item.trim());
                first = false;
            }
        }
        out.push('\n');
    }
}

/// The text `write` makes, as an `Arc<str>`, written first into a buffer
/// kept per thread: building a `String` and then copying it into the `Arc`
/// is two allocations, and keys are made on every hit.
fn shared_str(write: impl FnOnce(&mut String)) -> Arc<str> {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => {
            buffer.clear();
            write(&mut buffer);
            let text = Arc::from(buffer.as_str());
            if buffer.capacity() > 4096 {
                // One long key does not keep its buffer.
                *buffer = String::new();
            }
            text
        }
        // (Not reentrant; were it ever, a buffer of its own.)
        Err(_) => {
            let mut text = String::new();
            write(&mut text);
            Arc::from(text)
        }
    })
}

/// The request header names a response is keyed on: those its `Vary`
/// names and, for mirror entries, always `Accept-Language` (the mirror
/// sends the reader's first language tag upstream, and whatever upstream
/// does with it, no reader gets a page fetched for another language).
/// `Accept-Encoding` is left out for mirror entries: the mirror decodes
/// upstream bodies and negotiates encodings itself.
/// The names every answer of a kind of site varies on: none for a plain
/// site, the language for a mirror (see [`vary_names`]).
pub fn default_vary(kind: SiteKind) -> &'static [HeaderName] {
    static MIRROR: [HeaderName; 1] = [header::ACCEPT_LANGUAGE];
    if kind.is_plain() { &[] } else { &MIRROR }
}

pub fn vary_names(headers: &HeaderMap, kind: SiteKind) -> Vec<HeaderName> {
    let plain = kind.is_plain();
    let mut names: Vec<HeaderName> = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().to_ascii_lowercase().as_bytes()).ok())
        .filter(|n| plain || *n != header::ACCEPT_ENCODING)
        .collect();
    if !plain {
        names.push(header::ACCEPT_LANGUAGE);
    }
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> Cache<std::io::Error> {
        Cache::new(&CacheConfig::default(), Arc::new(Metrics::new())).expect("cache on")
    }

    /// The race issue 13 asked about: a fill's end (its guard) used to take
    /// whatever fill was registered for the key, also a newer one started
    /// after the first gave up storing, and the next request fetched again.
    #[test]
    fn a_fill_ending_leaves_a_newer_fill_for_the_same_key_in_flight() {
        let cache = cache();
        let key = CacheKey {
            primary: CacheKey::primary("s", "page", "https://u.test/a"),
            vary: None,
        };
        let (old, started) = cache.join_or_start(&key);
        assert!(started);
        cache.fill_done(&key, &old); // gave up storing: out of the map
        let (new, started) = cache.join_or_start(&key);
        assert!(started && !Arc::ptr_eq(&old, &new));
        cache.fill_done(&key, &old); // the old fill's task ends later
        assert!(cache.fill_running(&key), "the newer fill is still joined");
        let (joined, started) = cache.join_or_start(&key);
        assert!(!started && Arc::ptr_eq(&joined, &new));
        cache.fill_done(&key, &new);
        assert!(!cache.fill_running(&key));
    }

    #[test]
    fn entries_and_fills_share_max_bytes() {
        let mib = 1024 * 1024;
        assert_eq!(fill_budget(256 * mib, 8 * mib), 32 * mib);
        assert_eq!(fill_budget(32 * mib, 8 * mib), 8 * mib);
        assert_eq!(fill_budget(mib, 8 * mib), mib / 2, "at most half");
    }

    #[test]
    fn vary_values_normalise_whitespace_and_field_lines() {
        let mut a = HeaderMap::new();
        a.append("accept-language", HeaderValue::from_static("en, fr"));
        let mut b = HeaderMap::new();
        b.append("accept-language", HeaderValue::from_static("en"));
        b.append("accept-language", HeaderValue::from_static("fr"));
        let names = [HeaderName::from_static("accept-language")];
        assert_eq!(vary_values(&names, &a), vary_values(&names, &b));
        assert_ne!(
            vary_values(&names, &a),
            vary_values(&names, &HeaderMap::new())
        );
    }

    #[test]
    fn mirror_entries_are_always_keyed_on_the_language() {
        let none = HeaderMap::new();
        assert_eq!(
            vary_names(&none, SiteKind::Mirror),
            [HeaderName::from_static("accept-language")]
        );
        assert!(vary_names(&none, SiteKind::Plain).is_empty());
    }

    #[test]
    fn vary_names_skip_accept_encoding_for_the_mirror() {
        let mut h = HeaderMap::new();
        h.insert(
            header::VARY,
            HeaderValue::from_static("Accept-Encoding, Accept-Language"),
        );
        assert_eq!(
            vary_names(&h, SiteKind::Mirror),
            [HeaderName::from_static("accept-language")]
        );
        assert_eq!(vary_names(&h, SiteKind::Plain).len(), 2);
    }

    #[tokio::test]
    async fn a_pass_marker_is_seen_for_its_key_only_and_keys_vary_once_stored() {
        let metrics = Arc::new(Metrics::default());
        let cache = Cache::<()>::new(&CacheConfig::default(), metrics).expect("cache on");
        let (a, b) = (
            CacheKey::primary("s", "page", "a"),
            CacheKey::primary("s", "page", "b"),
        );
        assert!(!cache.is_pass(&a).await);
        cache.mark_pass(a.clone()).await;
        assert!(
            cache.is_pass(&a).await,
            "the marker is read once one was set"
        );
        assert!(!cache.is_pass(&b).await);
        let mut request = HeaderMap::new();
        request.insert("accept-language", HeaderValue::from_static("fr"));
        assert_eq!(
            cache.key(b.clone(), SiteKind::Plain, &request).await.vary,
            None
        );
        // A mirror's answers vary on the language before any was stored.
        let mirror = cache.key(b.clone(), SiteKind::Mirror, &request).await;
        assert_eq!(
            mirror.vary.as_deref(),
            Some(&*vary_values(default_vary(SiteKind::Mirror), &request))
        );
        let mut entry_head = HeaderMap::new();
        entry_head.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
        entry_head.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        let entry = Arc::new(entry::tests::stored(
            SiteKind::Plain,
            &entry_head,
            cache.clock.now(),
        ));
        let stored = cache.store(b.clone(), &request, entry).await;
        assert!(stored.vary.is_some());
        assert_eq!(
            cache.key(b, SiteKind::Plain, &request).await,
            stored,
            "the stored Vary names are read"
        );
    }

    #[tokio::test]
    async fn a_fresh_answer_is_served_while_another_variant_of_its_url_passes() {
        let metrics = Arc::new(Metrics::default());
        let cache = Cache::<()>::new(&CacheConfig::default(), metrics).expect("cache on");
        let primary = CacheKey::primary("s", "page", "a");
        let (mut fr, mut de) = (HeaderMap::new(), HeaderMap::new());
        fr.insert("accept-language", HeaderValue::from_static("fr"));
        de.insert("accept-language", HeaderValue::from_static("de"));
        let mut head = HeaderMap::new();
        head.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        let entry = Arc::new(entry::tests::stored(
            SiteKind::Mirror,
            &head,
            cache.clock.now(),
        ));
        cache.store(primary.clone(), &fr, entry).await;
        // The German answer could not be shared.
        cache.mark_pass(primary.clone()).await;
        let lookup = |request| {
            let (primary, now) = (primary.clone(), cache.clock.now());
            let cache = &cache;
            async move {
                cache
                    .lookup(primary, SiteKind::Mirror, &http::Method::GET, &request, now)
                    .await
            }
        };
        assert!(matches!(lookup(fr).await, Lookup::Fresh { .. }));
        assert!(matches!(
            lookup(de).await,
            Lookup::Pass(lookup::Pass::NotShared)
        ));
    }

    #[test]
    fn primary_key_gives_back_its_url() {
        let k = CacheKey::primary("site", "page", "https://u.com/a b?x");
        assert_eq!(CacheKey::url(&k), "https://u.com/a b?x");
    }
}
