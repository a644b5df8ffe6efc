//! Views counted without tracking: how often each article was read in the
//! last hour and the last day, per site, from counts that identify no
//! reader (no address, no cookie, no identifier: a view is its site and
//! mirror path and the time, rounded to its bucket, nothing else).
//!
//! Counts live in time buckets (12 of five minutes for the hour, 24 of an
//! hour for the day); each bucket holds at most [`MAX_PATHS`] paths, views
//! of further paths in a full bucket are counted only in the site's total.
//! Memory is bounded by `36 × MAX_PATHS` entries whatever the traffic.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

use hashbrown::HashTable;

use parking_lot::Mutex;

/// Paths one bucket keeps.
pub const MAX_PATHS: usize = 4096;
const FIVE_MINUTES: u64 = 300;
const HOUR: u64 = 3600;

/// A window of the popular list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Hour,
    Day,
}

impl Window {
    pub fn parse(s: Option<&str>) -> Option<Window> {
        match s {
            None | Some("1d") => Some(Window::Day),
            Some("1h") => Some(Window::Hour),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "1d",
        }
    }
}

/// One time bucket: its start (seconds since the epoch) and its counts by
/// site index, then mirror path.
struct Bucket {
    start: u64,
    /// By site index (a handful of sites: a vector, not a hashed map),
    /// then path: a table found by a hash the caller gives, so that a view
    /// hashes its path once for both rings (keyed SipHash: paths are what
    /// readers ask for).
    counts: Vec<HashTable<(Box<str>, u32)>>,
    paths: usize,
}

struct Ring {
    /// Bucket length in seconds, and how many are kept.
    width: u64,
    kept: usize,
    buckets: VecDeque<Bucket>,
}

impl Ring {
    fn new(width: u64, kept: usize) -> Ring {
        Ring {
            width,
            kept,
            buckets: VecDeque::new(),
        }
    }

    /// One view of `path` on `site`, whose hash under `state` is `hash`.
    fn add(&mut self, now: u64, site: usize, path: &str, hash: u64, state: &RandomState) {
        let start = now - now % self.width;
        if self.buckets.back().is_none_or(|b| b.start != start) {
            self.buckets.push_back(Bucket {
                start,
                counts: Vec::new(),
                paths: 0,
            });
        }
        let oldest = start.saturating_sub(self.width * (self.kept as u64 - 1));
        while self.buckets.front().is_some_and(|b| b.start < oldest) {
            self.buckets.pop_front();
        }
        if let Some(b) = self.buckets.back_mut() {
            let full = b.paths >= MAX_PATHS;
            if b.counts.len() <= site {
                b.counts.resize_with(site + 1, HashTable::new);
            }
            let Some(of_site) = b.counts.get_mut(site) else {
                return;
            };
            if let Some((_, c)) = of_site.find_mut(hash, |(p, _)| &**p == path) {
                *c = c.saturating_add(1);
            } else if !full {
                of_site.insert_unique(hash, (Box::from(path), 1), |(p, _)| state.hash_one(&**p));
                b.paths += 1;
            }
        }
    }

    fn top(&self, now: u64, site: usize, limit: usize) -> Vec<(String, u64)> {
        let oldest = (now - now % self.width).saturating_sub(self.width * (self.kept as u64 - 1));
        let mut sum: HashMap<&str, u64> = HashMap::new();
        for b in self.buckets.iter().filter(|b| b.start >= oldest) {
            for (path, n) in b.counts.get(site).into_iter().flat_map(HashTable::iter) {
                *sum.entry(&**path).or_default() += u64::from(*n);
            }
        }
        let mut all: Vec<(String, u64)> = sum.into_iter().map(|(p, n)| (p.to_owned(), n)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(limit);
        all
    }
}

/// The view counts of every site.
pub struct Views {
    /// The last hour in five-minute buckets and the last day in hours,
    /// under one lock: a view takes it once.
    rings: Mutex<Rings>,
}

struct Rings {
    hour: Ring,
    day: Ring,
    /// The key of the paths' hashes.
    state: RandomState,
}

impl Default for Views {
    fn default() -> Self {
        Self::new()
    }
}

impl Views {
    pub fn new() -> Views {
        Views {
            rings: Mutex::new(Rings {
                hour: Ring::new(FIVE_MINUTES, 12),
                day: Ring::new(HOUR, 24),
                state: RandomState::new(),
            }),
        }
    }

    /// One view of `path` (a mirror path, query dropped) on site `site`.
    pub fn record(&self, site: usize, path: &str, now: SystemTime) {
        let now = secs(now);
        let mut rings = self.rings.lock();
        let Rings { hour, day, state } = &mut *rings;
        let hash = state.hash_one(path);
        hour.add(now, site, path, hash, state);
        day.add(now, site, path, hash, state);
    }

    /// The most viewed paths of `site` in `window`, most first (ties by
    /// path), at most `limit`.
    pub fn top(
        &self,
        site: usize,
        window: Window,
        limit: usize,
        now: SystemTime,
    ) -> Vec<(String, u64)> {
        let now = secs(now);
        let rings = self.rings.lock();
        match window {
            Window::Hour => rings.hour.top(now, site, limit),
            Window::Day => rings.day.top(now, site, limit),
        }
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Titles of viewed articles, by site index and mirror path, kept an hour.
pub type TitleCache = moka::future::Cache<(usize, String), std::sync::Arc<str>>;

pub fn title_cache() -> TitleCache {
    moka::future::Cache::builder()
        .max_capacity(MAX_PATHS as u64)
        .time_to_live(std::time::Duration::from_secs(HOUR))
        .build()
}

/// Whether a mirror path is an article's rather than a section's (the
/// section extractor's rule: a digit in it, or not ending in `/`). Never
/// one a browser would read as another host (`//host/...`, `/\\host`):
/// counted paths are written as links on `/_/popular`.
pub fn is_article_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && (path.bytes().any(|b| b.is_ascii_digit()) || !path.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn the_windows_count_what_is_inside_them() {
        let v = Views::new();
        let t0 = 1_000_000 * HOUR;
        for _ in 0..3 {
            v.record(0, "/a.html", at(t0));
        }
        v.record(0, "/b.html", at(t0 + 2 * HOUR));
        v.record(1, "/a.html", at(t0 + 2 * HOUR));
        v.record(0, "/b.html", at(t0 + 2 * HOUR + 10));
        let now = at(t0 + 2 * HOUR + 20);
        assert_eq!(
            v.top(0, Window::Day, 10, now),
            [("/a.html".to_owned(), 3), ("/b.html".to_owned(), 2)]
        );
        assert_eq!(v.top(0, Window::Hour, 10, now), [("/b.html".to_owned(), 2)]);
        assert_eq!(v.top(1, Window::Day, 10, now), [("/a.html".to_owned(), 1)]);
        assert_eq!(v.top(0, Window::Day, 1, now).len(), 1);
        // A day later, the first views are out of the day.
        let later = at(t0 + 25 * HOUR);
        v.record(0, "/c.html", later);
        assert_eq!(v.top(0, Window::Day, 10, later)[0].0, "/b.html");
        assert!(
            v.top(0, Window::Day, 10, later)
                .iter()
                .all(|(p, _)| p != "/a.html")
        );
    }

    #[test]
    fn only_paths_on_this_origin_are_articles() {
        assert!(is_article_path("/news/a.html"));
        assert!(is_article_path("/news/2026/"));
        assert!(!is_article_path("/news/"));
        assert!(!is_article_path("//evil.test/a.html"));
        assert!(!is_article_path("/\\evil.test/a.html"));
        assert!(!is_article_path("a.html"));
    }

    #[test]
    fn a_bucket_keeps_at_most_max_paths() {
        let v = Views::new();
        for i in 0..MAX_PATHS + 100 {
            v.record(0, &format!("/{i}.html"), at(0));
        }
        assert_eq!(v.top(0, Window::Hour, usize::MAX, at(0)).len(), MAX_PATHS);
    }
}
