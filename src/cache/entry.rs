//! A stored response ([`Entry`]): made in one place ([`Entry::new`]),
//! upgraded with compressed variants ([`Entry::with_variants`]), renewed
//! by a 304 ([`Entry::revalidated`], RFC 9111 §4.3.4); where it stands in
//! its life ([`Entry::freshness`]) and whether it may stand in for a
//! failed upstream ([`Entry::stands_in`]).

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

use super::policy::{self, CacheControl, SurrogateControl, Validators};
use super::store::{StorePolicy, window};
use super::variants::{self, Coding, Variants};
use super::{CacheSettings, detach, vary_names};
use crate::headers::{X_CACHE, X_REQUEST_ID};
use crate::site::SiteKind;

/// Fixed cost counted per entry on top of its bytes (key, headers, bookkeeping).
const ENTRY_OVERHEAD: usize = 512;
/// How long past its freshness an entry with validators is kept for
/// conditional revalidation (beyond the stale windows).
const REVALIDATION_KEEP: Duration = Duration::from_secs(3600);

/// A stored response.
#[derive(Debug)]
pub struct Entry {
    pub status: StatusCode,
    /// Headers as sent to readers, without the per-answer ones (`Age`,
    /// `X-Cache`, `Date`) and, for the mirror, without `ETag`,
    /// `Content-Length` and `Content-Encoding`, which depend on the variant.
    pub headers: HeaderMap,
    pub variants: Variants,
    /// ETags of the identity, gzip and br forms (mirror entries).
    pub etags: [HeaderValue; 3],
    /// `Plain`: upstream's bytes, encoding and validators, passed as they
    /// are (`rewrite = false`).
    pub kind: SiteKind,
    pub surrogate_keys: Vec<String>,
    pub stored_at: Instant,
    pub initial_age: Duration,
    pub lifetime: Duration,
    pub stale_while_revalidate: Duration,
    /// How long past freshness a stale copy may answer when upstream answers 5xx.
    pub stale_if_error: Duration,
    /// ... and when upstream cannot be reached at all (RFC 9111 §4.2.4
    /// allows a disconnected cache more than a 5xx does).
    pub stale_if_unreachable: Duration,
    /// `must-revalidate`, `proxy-revalidate`, `s-maxage` or `no-cache`:
    /// never answered stale.
    pub must_revalidate: bool,
    pub validators: Validators,
    /// Request header names the response varies on (besides Accept-Encoding).
    pub vary: Vec<HeaderName>,
    /// Text-like and ours to encode: compressed variants are (or will be) made.
    pub compressible: bool,
    /// Upstream's freshness headers (Cache-Control, Expires, Date, ...),
    /// merged with a 304's on revalidation.
    pub upstream: HeaderMap,
    /// The reader's response head per form (identity, gzip, br), made on
    /// first use by [`Entry::head`].
    pub heads: Heads,
    /// The compression job of a `compressible` entry, once queued.
    pub pending: super::compress::Pending,
}

/// The response heads of an entry's forms, each made once (`headers` may
/// still change between construction and storing, so not at construction).
#[derive(Debug, Default)]
pub struct Heads([std::sync::OnceLock<HeaderMap>; 3]);

/// Where an entry stands in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Stale; `serve_while_revalidating`: may be answered at once while one
    /// background refresh runs; `serve_on_error`: may be answered if
    /// upstream fails.
    Stale {
        serve_while_revalidating: bool,
        serve_on_error: bool,
        serve_on_unreachable: bool,
    },
}

/// How upstream failed, for [`Entry::stands_in`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A 5xx answer (stale-if-error, RFC 5861 §4).
    ServerError,
    /// No answer at all: connect error, timeout.
    Unreachable,
}

/// A validator of a mirror answer known before its body streams: made from
/// upstream's own validator (a strong `ETag`, else a weak one or
/// `Last-Modified`, which make it weak), the configuration and version that
/// rewrote it, and the page URL. The same inputs give the same rewritten
/// bytes, so a MISS can carry it and every later answer of the entry does
/// too: a CDN in front (whose misses are mostly the mirror's) can revalidate
/// what it stored. Without an upstream validator there is none, and stored
/// entries use their body's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Derived {
    hex: String,
    weak: bool,
}

impl Derived {
    /// `None` when upstream gave no validator.
    pub fn of(upstream: &HeaderMap, rules: &[u8], url: &str) -> Option<Derived> {
        use sha2::{Digest, Sha256};
        let etag = upstream.get(header::ETAG).map(HeaderValue::as_bytes);
        let last_modified = upstream
            .get(header::LAST_MODIFIED)
            .map(HeaderValue::as_bytes);
        let (basis, weak): (&[u8], bool) = match (etag, last_modified) {
            (Some(e), _) if !e.starts_with(b"W/") => (e, false),
            (Some(e), _) => (e, true),
            (None, Some(lm)) => (lm, true),
            (None, None) => return None,
        };
        let mut h = Sha256::new();
        for part in [basis, rules, url.as_bytes()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        let digest = h.finalize();
        let mut hex = String::with_capacity(33);
        hex.push('m');
        for b in &digest[..16] {
            hex.push_str(&format!("{b:02x}"));
        }
        Some(Derived { hex, weak })
    }

    /// The `ETag` of the `coding` form.
    pub fn etag(&self, coding: Coding) -> HeaderValue {
        let suffix = match coding {
            Coding::Gzip => "-gz",
            Coding::Br => "-br",
            Coding::Identity | Coding::Deflate | Coding::Zstd => "",
        };
        let weak = if self.weak { "W/" } else { "" };
        HeaderValue::from_str(&format!("{weak}\"{}{suffix}\"", self.hex))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
    }
}

/// What a complete, storable upstream answer becomes an entry from.
pub struct NewEntry<'a> {
    pub status: StatusCode,
    /// The headers as readers get them (mapped, with the CDN's view).
    pub headers: HeaderMap,
    /// Upstream's own headers: validators, Vary, freshness.
    pub upstream: &'a HeaderMap,
    /// The whole body, as readers get it uncompressed.
    pub identity: Bytes,
    pub kind: SiteKind,
    pub surrogate_keys: Vec<String>,
    /// Compressed variants are to be made of it.
    pub compressible: bool,
    /// The validator its first answer carried, if it had one.
    pub derived: Option<Derived>,
}

impl Entry {
    /// The one constructor of a stored answer.
    pub fn new(
        new: NewEntry<'_>,
        policy: &StorePolicy,
        settings: &CacheSettings,
        now: Instant,
    ) -> Entry {
        let NewEntry {
            status,
            headers,
            upstream,
            identity,
            kind,
            surrogate_keys,
            compressible,
            derived,
        } = new;
        let cc = &policy.cc;
        Entry {
            status,
            etags: [Coding::Identity, Coding::Gzip, Coding::Br].map(|c| match &derived {
                Some(d) => d.etag(c),
                None => etag_value(&identity, c),
            }),
            headers: detach(&stored_headers(headers, kind)),
            variants: Variants {
                identity,
                gzip: None,
                br: None,
            },
            kind,
            surrogate_keys,
            stored_at: now,
            initial_age: policy.initial_age,
            lifetime: policy.lifetime,
            stale_while_revalidate: window(
                cc.stale_while_revalidate,
                settings.stale_while_revalidate,
                kind,
            ),
            stale_if_error: window(cc.stale_if_error, settings.stale_if_error, kind),
            // Unreachable upstream: the configured window, as for the
            // mirror, for plain sites too.
            stale_if_unreachable: window(
                cc.stale_if_error,
                settings.stale_if_error,
                SiteKind::Mirror,
            ),
            must_revalidate: cc.must_revalidate
                || cc.proxy_revalidate
                || cc.s_maxage.is_some()
                || cc.no_cache,
            validators: Validators::from_headers(upstream),
            vary: vary_names(upstream, kind),
            upstream: detach(&freshness_headers(upstream)),
            compressible,
            heads: Heads::default(),
            pending: Default::default(),
        }
    }

    /// The same answer with its compressed variants made.
    pub fn with_variants(&self, variants: Variants) -> Entry {
        Entry {
            compressible: false,
            variants,
            headers: self.headers.clone(),
            etags: self.etags.clone(),
            surrogate_keys: self.surrogate_keys.clone(),
            vary: self.vary.clone(),
            upstream: self.upstream.clone(),
            validators: self.validators.clone(),
            heads: Heads::default(),
            pending: Default::default(),
            ..*self
        }
    }

    /// This entry confirmed by a 304 with headers `fresh`: new freshness
    /// from the merged headers, the same body (RFC 9111 §4.3.4). A plain
    /// entry takes the 304's headers (but those describing the stored body);
    /// a mirror entry keeps its reader headers, whose `Cache-Control` the
    /// caller sets anew from the returned [`CacheControl`].
    pub fn revalidated(
        &self,
        fresh: &HeaderMap,
        settings: &CacheSettings,
        request_time: SystemTime,
        response_time: SystemTime,
        now: Instant,
    ) -> (Entry, CacheControl) {
        let mut upstream = self.upstream.clone();
        update_headers(&mut upstream, fresh, Some(FRESHNESS_HEADERS), &["etag"]);
        if !fresh.contains_key(header::AGE) {
            upstream.remove(header::AGE);
        }
        let cc = CacheControl::parse(&upstream);
        let sc = SurrogateControl::parse(&upstream);
        let lifetime = policy::freshness_lifetime(
            self.status,
            &upstream,
            &cc,
            &sc,
            settings.defaults(self.kind),
        );
        let mut headers = self.headers.clone();
        if self.kind.is_plain() {
            update_headers(&mut headers, fresh, None, NOT_UPDATED_BY_304);
        }
        let upstream = detach(&upstream);
        let entry = Entry {
            status: self.status,
            headers: detach(&headers),
            variants: self.variants.clone(),
            etags: self.etags.clone(),
            kind: self.kind,
            surrogate_keys: self.surrogate_keys.clone(),
            stored_at: now,
            initial_age: policy::initial_age(&upstream, request_time, response_time),
            lifetime,
            stale_while_revalidate: self.stale_while_revalidate,
            stale_if_error: self.stale_if_error,
            stale_if_unreachable: self.stale_if_unreachable,
            must_revalidate: self.must_revalidate,
            validators: Validators::from_headers(&upstream),
            vary: self.vary.clone(),
            compressible: self.compressible,
            upstream,
            heads: Heads::default(),
            pending: Default::default(),
        };
        (entry, cc)
    }

    pub fn age(&self, now: Instant) -> Duration {
        self.initial_age + now.saturating_duration_since(self.stored_at)
    }

    pub fn freshness(&self, now: Instant) -> Freshness {
        let age = self.age(now);
        if age < self.lifetime {
            return Freshness::Fresh;
        }
        let over = age - self.lifetime;
        let may = !self.must_revalidate;
        Freshness::Stale {
            serve_while_revalidating: may && over < self.stale_while_revalidate,
            serve_on_error: may && over < self.stale_if_error,
            serve_on_unreachable: may && over < self.stale_if_error.max(self.stale_if_unreachable),
        }
    }

    /// Whether this (stale) entry may answer in place of an upstream that
    /// failed this way: within the error window for a 5xx, within the
    /// (wider) unreachable window otherwise.
    pub fn stands_in(&self, now: Instant, failure: Failure) -> bool {
        match self.freshness(now) {
            Freshness::Fresh => false,
            Freshness::Stale {
                serve_on_error,
                serve_on_unreachable,
                ..
            } => match failure {
                Failure::ServerError => serve_on_error,
                Failure::Unreachable => serve_on_unreachable,
            },
        }
    }

    pub fn etag(&self, coding: Coding) -> &HeaderValue {
        match coding {
            Coding::Gzip => &self.etags[1],
            Coding::Br => &self.etags[2],
            // The forms held are identity, gzip and br.
            Coding::Identity | Coding::Deflate | Coding::Zstd => &self.etags[0],
        }
    }

    /// The head of a `coding` answer, every header but the per-answer
    /// ones: `headers` with, for the mirror, the form's `ETag`,
    /// `Content-Encoding` and `Vary: Accept-Encoding`; `Content-Length` of
    /// the form; and `Age`, `X-Cache` and `X-Request-Id` already in place
    /// (their values are the answer's to set), so that an answer is one clone of a map that
    /// does not grow. A hit built these header by header (clone, then five
    /// inserts, the map growing twice): 7.5 % of a small page's hit.
    pub fn head(&self, coding: Coding) -> &HeaderMap {
        let slot = match coding {
            Coding::Gzip => 1,
            Coding::Br => 2,
            Coding::Identity | Coding::Deflate | Coding::Zstd => 0,
        };
        self.heads.0[slot].get_or_init(|| {
            let mut h = HeaderMap::with_capacity(self.headers.len() + 8);
            for (name, value) in &self.headers {
                h.append(name.clone(), value.clone());
            }
            if !self.kind.is_plain() {
                h.insert(header::ETAG, self.etag(coding).clone());
                if self.variants.has_alternatives() {
                    super::respond::add_vary_accept_encoding(&mut h);
                }
                if let Some(token) = coding.header() {
                    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
                }
            }
            h.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(self.variants.get(coding).len()),
            );
            h.insert(header::AGE, HeaderValue::from_static("0"));
            h.insert(X_CACHE, HeaderValue::from_static("HIT"));
            // The answer's id replaces it (`request_id::Access::finish`):
            // inserted new, it grew the cloned map on every hit.
            h.insert(X_REQUEST_ID, HeaderValue::from_static("-"));
            h
        })
    }

    /// Bytes this entry is counted for.
    pub fn weight(&self) -> u32 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 8)
            .sum();
        // The heads ([`Entry::head`]) are counted as made for every form.
        let forms =
            1 + usize::from(self.variants.gzip.is_some()) + usize::from(self.variants.br.is_some());
        let total = self.variants.weight() + headers * (1 + forms) + ENTRY_OVERHEAD;
        u32::try_from(total).unwrap_or(u32::MAX)
    }

    /// How long to keep it: while fresh, then as long as it may still be
    /// served stale or revalidated.
    pub(super) fn retain_for(&self) -> Duration {
        let fresh_left = self.lifetime.saturating_sub(self.initial_age);
        let mut after = self
            .stale_while_revalidate
            .max(self.stale_if_error)
            .max(self.stale_if_unreachable);
        if self.validators.any() {
            after = after.max(REVALIDATION_KEEP);
        }
        fresh_left + after
    }
}

fn etag_value(identity: &Bytes, coding: Coding) -> HeaderValue {
    HeaderValue::from_str(&variants::etag(identity, coding))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Stored headers: without those computed per answer.
fn stored_headers(mut headers: HeaderMap, kind: SiteKind) -> HeaderMap {
    for h in [header::CONTENT_LENGTH, header::AGE] {
        headers.remove(h);
    }
    headers.remove(X_CACHE);
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
/// except those in `skip` (and, given `only`, those not in it).
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cache::store::{Upstream, store_policy};

    fn settings() -> CacheSettings {
        CacheSettings {
            max_object_bytes: 1 << 20,
            default_ttl: Duration::from_secs(300),
            override_ttl: false,
            stale_while_revalidate: Duration::from_secs(30),
            stale_if_error: Duration::from_secs(3600),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    /// An entry stored at `now` from an upstream answer with `upstream` headers.
    pub(crate) fn stored(kind: SiteKind, upstream: &HeaderMap, now: Instant) -> Entry {
        let time = SystemTime::now();
        let policy = store_policy(
            kind,
            &settings(),
            &HeaderMap::new(),
            Upstream {
                status: StatusCode::OK,
                headers: upstream,
                request_time: time,
                response_time: time,
            },
        )
        .expect("storable");
        let mut reader = upstream.clone();
        reader.insert(X_CACHE, HeaderValue::from_static("MISS"));
        reader.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        Entry::new(
            NewEntry {
                status: StatusCode::OK,
                headers: reader,
                upstream,
                identity: Bytes::from_static(b"hello"),
                kind,
                surrogate_keys: vec!["s".into()],
                compressible: true,
                derived: None,
            },
            &policy,
            &settings(),
            now,
        )
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_derived_validator_follows_upstreams_and_the_rules() {
        let strong = headers(&[("etag", "\"v1\"")]);
        let d = Derived::of(&strong, b"rules", "https://u/a").unwrap();
        let id = d.etag(Coding::Identity);
        assert!(id.to_str().unwrap().starts_with("\"m"), "{id:?}");
        assert_ne!(id, d.etag(Coding::Gzip));
        assert!(d.etag(Coding::Br).to_str().unwrap().ends_with("-br\""));
        // Another upstream version, other rules, another page: another tag.
        for (h, rules, url) in [
            (headers(&[("etag", "\"v2\"")]), &b"rules"[..], "https://u/a"),
            (strong.clone(), &b"other"[..], "https://u/a"),
            (strong.clone(), &b"rules"[..], "https://u/b"),
        ] {
            assert_ne!(Derived::of(&h, rules, url).unwrap(), d);
        }
        // Weak upstream validators make a weak one; none make none.
        let weak = Derived::of(&headers(&[("etag", "W/\"v1\"")]), b"r", "u").unwrap();
        assert!(
            weak.etag(Coding::Identity)
                .to_str()
                .unwrap()
                .starts_with("W/\"")
        );
        let lm = headers(&[("last-modified", "Tue, 01 Dec 2026 10:00:00 GMT")]);
        assert!(
            Derived::of(&lm, b"r", "u")
                .unwrap()
                .etag(Coding::Identity)
                .to_str()
                .unwrap()
                .starts_with("W/")
        );
        assert_eq!(Derived::of(&HeaderMap::new(), b"r", "u"), None);
    }

    #[test]
    fn fresh_for_max_age_then_stale_within_the_windows() {
        let t0 = Instant::now();
        let e = stored(
            SiteKind::Mirror,
            &headers(&[("cache-control", "max-age=1")]),
            t0,
        );
        assert_eq!(e.freshness(t0), Freshness::Fresh);
        assert_eq!(e.age(t0 + 5 * SECOND), 5 * SECOND);
        assert_eq!(
            e.freshness(t0 + 2 * SECOND),
            Freshness::Stale {
                serve_while_revalidating: true,
                serve_on_error: true,
                serve_on_unreachable: true
            }
        );
        // Past stale-while-revalidate (30 s), within stale-if-error (1 h).
        assert!(matches!(
            e.freshness(t0 + 40 * SECOND),
            Freshness::Stale {
                serve_while_revalidating: false,
                serve_on_error: true,
                ..
            }
        ));
        assert!(
            !e.stands_in(t0, Failure::ServerError),
            "fresh needs no stand-in"
        );
        assert!(e.stands_in(t0 + 40 * SECOND, Failure::ServerError));
        assert!(!e.stands_in(t0 + 2 * 3600 * SECOND, Failure::Unreachable));
    }

    #[test]
    fn the_responses_own_windows_win_and_must_revalidate_serves_nothing_stale() {
        let t0 = Instant::now();
        let e = stored(
            SiteKind::Mirror,
            &headers(&[(
                "cache-control",
                "max-age=1, stale-while-revalidate=5, stale-if-error=0",
            )]),
            t0,
        );
        assert!(matches!(
            e.freshness(t0 + 7 * SECOND),
            Freshness::Stale {
                serve_while_revalidating: false,
                serve_on_error: false,
                ..
            }
        ));
        // The response's own stale-if-error bounds an unreachable upstream too.
        assert!(!e.stands_in(t0 + 7 * SECOND, Failure::Unreachable));
        let strict = stored(
            SiteKind::Mirror,
            &headers(&[("cache-control", "max-age=1, must-revalidate")]),
            t0,
        );
        assert!(!strict.stands_in(t0 + 2 * SECOND, Failure::Unreachable));
    }

    #[test]
    fn a_plain_entry_serves_stale_only_where_the_response_allows() {
        let t0 = Instant::now();
        let e = stored(
            SiteKind::Plain,
            &headers(&[("cache-control", "max-age=1"), ("etag", "\"a\"")]),
            t0,
        );
        assert!(matches!(
            e.freshness(t0 + 2 * SECOND),
            Freshness::Stale {
                serve_while_revalidating: false,
                serve_on_error: false,
                serve_on_unreachable: true
            }
        ));
    }

    #[test]
    fn stored_headers_leave_out_what_each_answer_computes() {
        let e = stored(
            SiteKind::Mirror,
            &headers(&[("cache-control", "max-age=60"), ("etag", "\"up\"")]),
            Instant::now(),
        );
        for name in ["x-cache", "content-length", "etag", "age"] {
            assert!(!e.headers.contains_key(name), "{name}");
        }
        assert_eq!(
            e.validators.etag.as_ref().map(|v| v.as_bytes()),
            Some(&b"\"up\""[..])
        );
        assert_ne!(e.etag(Coding::Identity), e.etag(Coding::Gzip));
        assert_eq!(e.vary, [header::ACCEPT_LANGUAGE]);
    }

    #[test]
    fn a_304_renews_freshness_and_keeps_the_body_and_the_stored_etag() {
        let t0 = Instant::now();
        let old = stored(
            SiteKind::Plain,
            &headers(&[
                ("cache-control", "max-age=1"),
                ("etag", "\"v1\""),
                ("x-note", "old"),
                ("content-length", "5"),
            ]),
            t0,
        );
        let fresh = headers(&[
            ("cache-control", "max-age=60"),
            ("etag", "\"v2\""),
            ("x-note", "new"),
            ("content-length", "0"),
        ]);
        let later = t0 + 10 * SECOND;
        let now = SystemTime::now();
        let (e, cc) = old.revalidated(&fresh, &settings(), now, now, later);
        assert_eq!(cc.max_age, Some(60));
        assert_eq!(e.lifetime, 60 * SECOND);
        assert_eq!(e.freshness(later), Freshness::Fresh);
        assert_eq!(e.variants.identity, old.variants.identity);
        assert_eq!(
            e.headers["x-note"], "new",
            "a plain entry takes the 304's headers"
        );
        assert_eq!(
            e.headers["etag"], "\"v1\"",
            "but not those describing the body"
        );
        assert!(!e.headers.contains_key("content-length"));
        assert_eq!(e.upstream["etag"], "\"v1\"", "the stored validator stays");
    }

    #[test]
    fn a_304_without_age_drops_the_stored_age() {
        let t0 = Instant::now();
        let old = stored(
            SiteKind::Mirror,
            &headers(&[
                ("cache-control", "max-age=100"),
                ("age", "90"),
                ("etag", "\"a\""),
            ]),
            t0,
        );
        assert_eq!(old.initial_age, 90 * SECOND);
        let now = SystemTime::now();
        let (e, _) = old.revalidated(&headers(&[("etag", "\"a\"")]), &settings(), now, now, t0);
        assert_eq!(e.initial_age, Duration::ZERO);
        assert_eq!(e.freshness(t0 + 50 * SECOND), Freshness::Fresh);
    }

    #[test]
    fn kept_while_stale_windows_or_validators_allow() {
        let t0 = Instant::now();
        let plain = stored(
            SiteKind::Plain,
            &headers(&[("cache-control", "max-age=10"), ("etag", "\"a\"")]),
            t0,
        );
        assert_eq!(plain.retain_for(), 10 * SECOND + REVALIDATION_KEEP);
        let mirror = stored(
            SiteKind::Mirror,
            &headers(&[("cache-control", "max-age=10")]),
            t0,
        );
        assert_eq!(mirror.retain_for(), 10 * SECOND + 3600 * SECOND);
    }
}
