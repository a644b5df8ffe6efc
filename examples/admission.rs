//! Admission of new pages (issue 14, item 6): moka's TinyLFU against LRU
//! on a synthetic news trace, replayed against a cache built like the
//! mirror's stored entries (`src/cache/mod.rs`: `max_capacity` in bytes,
//! `cache.max_bytes` less the fills' share, a weigher counting every
//! variant).
//!
//!   cargo run --release --example admission -- [REQUESTS] [SEED]
//!
//! Default: 1,000,000 requests per run, the first 10 % not counted (the
//! cache filling). Deterministic: one seeded splitmix64 makes the trace,
//! and the caches hash keys with a fixed hasher (the real one uses
//! `RandomState`; only collisions in the frequency sketch differ).
//!
//! The trace, one request at a time:
//!
//! - **articles**: a new one every [`ARTICLE_EVERY`] requests. An article's
//!   share of article requests is `pop × exp(-age / tau)` (age counted in
//!   articles published since), `pop` drawn once from a Pareto tail so that
//!   popularity by rank is Zipf-like (`rank^-0.9`): the newest articles are
//!   the hottest, and a few of them far more than the rest.
//! - **fronts**: the home page and 29 section fronts, popular for ever
//!   (Zipf, s = 1, among them).
//! - **archive**: old articles reached from search and links, uniform over
//!   a back catalogue of 200,000: nearly every one asked once (the case
//!   TinyLFU's admission is made for).
//!
//! Five traces: three mixes of those (fronts / articles / archive, in % of
//! requests), two of them also with articles fading eight times as fast
//! (`tau` 5 articles instead of 40). Each also counts, for articles, whether
//! an article's second request was a hit (the issue: the page just fetched
//! is fetched again for its second reader).
//!
//! Page sizes: the identity body is log-normal, median 117 KB, clamped to
//! 20 KB-1.5 MB: the 91 news pages of `../shared/corpora/aeb/` (126
//! domains) have median 117 KB, p10 54 KB, p90 309 KB, and gzip level 6
//! makes 21.5 % of them (measured with Python's zlib). An entry counts like
//! `Entry::weight()`: identity + gzip + br + headers + 512; gzip at 21.5 %,
//! br at 18 % (assumed: brotli 6 a little under gzip 6), 700 bytes of
//! headers. It is stored identity-only first and upgraded to its full
//! weight once the variants are made, as `mirror::fill` does.
//!
//! Each request is a `get`; a miss is an upstream fetch, then `insert`.
//! moka admits and evicts in pending tasks (run when 64 operations are
//! queued, or after 300 ms): here `run_pending_tasks()` runs after every
//! insert, so that what is measured is the policy and not the timing of
//! those tasks (reads queued between inserts are applied, in order, before
//! the next insert's admission, as moka does). Time is not simulated:
//! entries leave by size only (expiry and revalidation are the same under
//! both policies).

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

use moka::policy::EvictionPolicy;

/// A new article every this many requests.
const ARTICLE_EVERY: usize = 250;
/// Zipf exponent of article popularity by rank.
const ZIPF_S: f64 = 0.9;
/// Home page and section fronts.
const FRONTS: usize = 30;
/// Old articles that archive requests pick from, uniformly.
const BACK_CATALOGUE: u64 = 200_000;
/// `cache.max_object_bytes`'s default: with `max_bytes`, the fills' share.
const MAX_OBJECT_BYTES: u64 = 8 * 1024 * 1024;
const GZIP_RATIO: f64 = 0.215;
const BR_RATIO: f64 = 0.18;
const HEADER_BYTES: f64 = 700.0;
/// `ENTRY_OVERHEAD` in `src/cache/entry.rs`.
const ENTRY_OVERHEAD: f64 = 512.0;
const SEED: u64 = 0x6e65_7773_6d69_7272;
const MIB: u64 = 1024 * 1024;

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        scramble(self.0)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn scramble(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An identity body size, from the corpus's spread.
fn identity_bytes(rng: &mut Rng) -> f64 {
    (117_000.0 * (0.68 * rng.normal()).exp()).clamp(20_000.0, 1_500_000.0)
}

/// One request: the page, and what its entry weighs identity-only and with
/// its variants.
#[derive(Clone, Copy)]
struct Request {
    key: u64,
    first: u32,
    full: u32,
}

impl Request {
    fn new(key: u64, identity: f64) -> Request {
        let base = identity + HEADER_BYTES + ENTRY_OVERHEAD;
        Request {
            key,
            first: base as u32,
            full: (base + identity * (GZIP_RATIO + BR_RATIO)) as u32,
        }
    }
}

/// A Fenwick tree of article weights, for sampling in proportion to them.
struct Fenwick(Vec<f64>);

impl Fenwick {
    fn add(&mut self, mut i: usize, w: f64) {
        i += 1;
        while i <= self.0.len() {
            self.0[i - 1] += w;
            i += i & i.wrapping_neg();
        }
    }

    fn total(&self) -> f64 {
        let mut i = self.0.len();
        let mut sum = 0.0;
        while i > 0 {
            sum += self.0[i - 1];
            i &= i - 1;
        }
        sum
    }

    /// The index where the running sum passes `target`.
    fn find(&self, mut target: f64) -> usize {
        let mut pos = 0;
        let mut step = self.0.len().next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= self.0.len() && self.0[next - 1] <= target {
                target -= self.0[next - 1];
                pos = next;
            }
            step >>= 1;
        }
        pos.min(self.0.len() - 1)
    }
}

/// A trace's shape: shares of fronts and archive requests (articles take
/// the rest), and how fast articles fade.
struct Shape {
    name: &'static str,
    fronts: f64,
    archive: f64,
    /// Popularity decay, in articles published since: exp(-age / tau).
    tau: f64,
}

const SHAPES: [Shape; 5] = [
    Shape {
        name: "news 25/65/10",
        fronts: 0.25,
        archive: 0.10,
        tau: 40.0,
    },
    Shape {
        name: "news 25/65/10, fast decay",
        fronts: 0.25,
        archive: 0.10,
        tau: 5.0,
    },
    Shape {
        name: "no archive 25/75/0",
        fronts: 0.25,
        archive: 0.0,
        tau: 40.0,
    },
    Shape {
        name: "no archive 25/75/0, fast decay",
        fronts: 0.25,
        archive: 0.0,
        tau: 5.0,
    },
    Shape {
        name: "archive-heavy 20/50/30",
        fronts: 0.20,
        archive: 0.30,
        tau: 40.0,
    },
];

fn trace(shape: &Shape, requests: usize, seed: u64) -> Vec<Request> {
    let mut rng = Rng(seed);
    let fronts: Vec<Request> = (0..FRONTS)
        .map(|i| Request::new(i as u64, identity_bytes(&mut rng)))
        .collect();
    let front_cum: Vec<f64> = (1..=FRONTS)
        .scan(0.0, |sum, r| {
            *sum += 1.0 / r as f64;
            Some(*sum)
        })
        .collect();
    let articles = requests / ARTICLE_EVERY + 1;
    let mut pops = Vec::with_capacity(articles);
    let mut sizes = Vec::with_capacity(articles);
    let mut tree = Fenwick(vec![0.0; articles]);
    // Weights are pop × exp((published - base) / tau): the common factor
    // exp(-now / tau) cancels, so a weight never changes once added. The
    // base moves (and the tree is rebuilt) before exp() could overflow.
    let mut base = 0usize;
    let mut out = Vec::with_capacity(requests);
    for r in 0..requests {
        if r % ARTICLE_EVERY == 0 {
            let j = pops.len();
            if (j - base) as f64 / shape.tau > 500.0 {
                base = j;
                tree = Fenwick(vec![0.0; articles]);
                for (i, p) in pops.iter().enumerate() {
                    tree.add(i, p * ((i as f64 - base as f64) / shape.tau).exp());
                }
            }
            let pop = rng.unit().powf(-ZIPF_S);
            pops.push(pop);
            sizes.push(identity_bytes(&mut rng));
            tree.add(j, pop * ((j - base) as f64 / shape.tau).exp());
        }
        let u = rng.unit();
        let request = if u <= shape.fronts {
            let target = rng.unit() * front_cum[FRONTS - 1];
            fronts[front_cum.partition_point(|c| *c < target).min(FRONTS - 1)]
        } else if u <= shape.fronts + shape.archive {
            let k = rng.next_u64() % BACK_CATALOGUE;
            // The same old page always has the same size.
            let mut page = Rng(scramble(k ^ seed));
            Request::new((2 << 40) | k, identity_bytes(&mut page))
        } else {
            let j = tree.find(rng.unit() * tree.total()).min(pops.len() - 1);
            Request::new((1 << 40) | j as u64, sizes[j])
        };
        out.push(request);
    }
    out
}

type Store = moka::future::Cache<u64, u32, BuildHasherDefault<DefaultHasher>>;

/// Built like `Cache::new`'s `entries`.
fn store(max_bytes: u64, policy: EvictionPolicy) -> Store {
    let for_fills = newsmirror::cache::fill_budget(max_bytes, MAX_OBJECT_BYTES);
    moka::future::Cache::builder()
        .max_capacity(max_bytes - for_fills)
        .weigher(|_: &u64, w: &u32| *w)
        .eviction_policy(policy)
        .build_with_hasher(BuildHasherDefault::default())
}

/// A miss: fetched, stored identity-only, then with its variants if kept.
async fn fill(cache: &Store, r: Request) {
    cache.insert(r.key, r.first).await;
    cache.run_pending_tasks().await;
    if cache.contains_key(&r.key) {
        cache.insert(r.key, r.full).await;
        cache.run_pending_tasks().await;
    }
}

/// What a replay counts, after the warm-up.
#[derive(Default)]
struct Outcome {
    requests: u64,
    hits: u64,
    /// Articles asked at least twice, and those whose second request hit.
    seconds: u64,
    second_hits: u64,
}

impl Outcome {
    fn fetches(&self) -> u64 {
        self.requests - self.hits
    }
}

fn is_article(key: u64) -> bool {
    key >> 40 == 1
}

async fn replay(
    trace: &[Request],
    max_bytes: u64,
    policy: EvictionPolicy,
    warmup: usize,
) -> Outcome {
    let cache = store(max_bytes, policy);
    let mut asked: HashMap<u64, u32> = HashMap::new();
    let mut out = Outcome::default();
    for (i, r) in trace.iter().enumerate() {
        let hit = cache.get(&r.key).await.is_some();
        if i >= warmup {
            out.requests += 1;
            out.hits += u64::from(hit);
        }
        if is_article(r.key) {
            let n = asked.entry(r.key).or_default();
            *n += 1;
            if *n == 2 && i >= warmup {
                out.seconds += 1;
                out.second_hits += u64::from(hit);
            }
        }
        if !hit {
            fill(&cache, *r).await;
        }
    }
    out
}

/// "Fill 1,500 distinct pages into 64 MiB, then request the last page
/// fetched again": whether it is a hit; of the pages fetched with the
/// cache full, how many were held right after their fetch (what the next
/// request of each would have found: `contains_key` records no read, so it
/// changes nothing); and how many of the last 50 are held at the end.
async fn scenario(policy: EvictionPolicy, seed: u64) -> (bool, usize, usize, usize) {
    const PAGES: u64 = 1_500;
    let mut rng = Rng(seed ^ 1);
    let pages: Vec<Request> = (0..PAGES)
        .map(|k| Request::new(k, identity_bytes(&mut rng)))
        .collect();
    let capacity = 64 * MIB - newsmirror::cache::fill_budget(64 * MIB, MAX_OBJECT_BYTES);
    let cache = store(64 * MIB, policy);
    let (mut full, mut with_full, mut held_after) = (false, 0, 0);
    for r in &pages {
        // Full from the first page that does not fit beside the others.
        full |= cache.weighted_size() + u64::from(r.full) > capacity;
        if cache.get(&r.key).await.is_none() {
            fill(&cache, *r).await;
        }
        if full {
            with_full += 1;
            held_after += usize::from(cache.contains_key(&r.key));
        }
    }
    let held = pages[pages.len() - 50..]
        .iter()
        .filter(|r| cache.contains_key(&r.key))
        .count();
    let last = pages[pages.len() - 1];
    let last_hit = cache.get(&last.key).await.is_some();
    (last_hit, held_after, with_full, held)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let requests: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("REQUESTS is a number"))
        .unwrap_or(1_000_000);
    let seed: u64 = std::env::args()
        .nth(2)
        .map(|a| a.parse().expect("SEED is a number"))
        .unwrap_or(SEED);
    let warmup = requests / 10;
    println!(
        "{requests} requests per run ({warmup} warm-up not counted); a new article every \
         {ARTICLE_EVERY} requests, article popularity Zipf s={ZIPF_S} by rank × exp(-age/tau), \
         tau in articles published since (40; fast decay: 5); shares fronts/articles/archive in %.\n"
    );
    println!(
        "| trace | max_bytes (entries) | hit ratio TinyLFU | hit ratio LRU | upstream fetches TinyLFU | upstream fetches LRU | LRU vs TinyLFU fetches | article's 2nd request a hit, TinyLFU | LRU |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for shape in &SHAPES {
        let t = trace(shape, requests, seed);
        for max in [16, 64, 256] {
            let max_bytes = max * MIB;
            let entries =
                (max_bytes - newsmirror::cache::fill_budget(max_bytes, MAX_OBJECT_BYTES)) / MIB;
            let lfu = replay(&t, max_bytes, EvictionPolicy::tiny_lfu(), warmup).await;
            let lru = replay(&t, max_bytes, EvictionPolicy::lru(), warmup).await;
            let ratio = |o: &Outcome| 100.0 * o.hits as f64 / o.requests as f64;
            let second = |o: &Outcome| 100.0 * o.second_hits as f64 / o.seconds as f64;
            println!(
                "| {} | {max} MiB ({entries} MiB) | {:.2} % | {:.2} % | {} | {} | {:+.1} % | {:.1} % | {:.1} % |",
                shape.name,
                ratio(&lfu),
                ratio(&lru),
                lfu.fetches(),
                lru.fetches(),
                100.0 * (lru.fetches() as f64 - lfu.fetches() as f64) / lfu.fetches() as f64,
                second(&lfu),
                second(&lru),
            );
        }
    }
    println!(
        "\nFill 1,500 distinct pages (median 117 KB) into 64 MiB, then ask again:\n\n\
         | policy | page 1,500 asked again | pages fetched with the cache full, held right after | of the last 50, held at the end |\n\
         |---|---|---:|---:|"
    );
    for (name, policy) in [
        ("TinyLFU", EvictionPolicy::tiny_lfu()),
        ("LRU", EvictionPolicy::lru()),
    ] {
        let (last_hit, held_after, with_full, held) = scenario(policy, seed).await;
        println!(
            "| {name} | {} | {held_after} of {with_full} | {held} of 50 |",
            if last_hit { "HIT" } else { "MISS" }
        );
    }
}
