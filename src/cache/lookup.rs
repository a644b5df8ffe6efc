//! The cache's answer to a request, before anything is fetched: the
//! analogue of pingora's `CachePhase`. The mirror drives it: a short match
//! on [`Lookup`] in `crate::mirror::serve`.

use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, Method, header};

use super::entry::{Entry, Freshness};
use super::{Cache, CacheKey};
use crate::site::SiteKind;

/// What the cache can do for a request.
#[derive(Debug)]
pub enum Lookup {
    /// Fresh: answered from the entry.
    Fresh { key: CacheKey, entry: Arc<Entry> },
    /// Stale within `stale-while-revalidate`: answered from the entry at
    /// once, while one background fill refreshes it.
    Stale { key: CacheKey, entry: Arc<Entry> },
    /// Stale and not to be answered as is: fetched again (conditionally
    /// when it has validators), the stale copy standing in if upstream fails.
    Revalidate { key: CacheKey, stale: Arc<Entry> },
    /// Nothing stored: one fill for every request of this key.
    Miss { key: CacheKey },
    /// Not the cache's to answer: straight to upstream and back.
    Pass(Pass),
}

/// Why a request passes the cache by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Caching is off (`cache.max_bytes = "0"`).
    Off,
    /// Not GET or HEAD (an unsafe one invalidates the URL after, §4.4).
    Method,
    /// This URL recently gave an answer that could not be shared ("hit-for-pass").
    NotShared,
    /// A range of something not stored: just that range is fetched.
    Range,
}

impl<E> Cache<E> {
    /// Decides what the cache does for a request with `method` and
    /// `request` headers whose primary key is `primary` (on a site of
    /// `kind`), at `now`.
    pub async fn lookup(
        &self,
        primary: Arc<str>,
        kind: SiteKind,
        method: &Method,
        request: &HeaderMap,
        now: Instant,
    ) -> Lookup {
        if !matches!(*method, Method::GET | Method::HEAD) {
            return Lookup::Pass(Pass::Method);
        }
        let key = self.key(primary, kind, request).await;
        let stored = self.get(&key).await.map(|e| {
            let freshness = e.freshness(now);
            (e, freshness)
        });
        // A fresh entry answers even while its URL is marked to pass (an
        // answer for other values of its Vary headers could not be shared;
        // this one could). So a hit reads no marker, which costs a hash and
        // a lookup whenever any URL of the mirror is marked.
        if let Some((entry, Freshness::Fresh)) = stored {
            return Lookup::Fresh { key, entry };
        }
        if self.is_pass(&key.primary).await {
            return Lookup::Pass(Pass::NotShared);
        }
        match stored {
            Some((entry, Freshness::Fresh)) => Lookup::Fresh { key, entry },
            Some((
                entry,
                Freshness::Stale {
                    serve_while_revalidating: true,
                    ..
                },
            )) => Lookup::Stale { key, entry },
            Some((stale, Freshness::Stale { .. })) => Lookup::Revalidate { key, stale },
            None if request.contains_key(header::RANGE) => Lookup::Pass(Pass::Range),
            None => Lookup::Miss { key },
        }
    }
}
