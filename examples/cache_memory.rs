//! Memory benchmark for the cache's byte budget: fills far more distinct
//! pages than `cache.max_bytes` holds and reports the cache's own count
//! (moka's weighted size, from `/metrics`) and the process's resident
//! memory (`VmRSS`, `VmHWM`), against the budget plus 64 MB.
//!
//!   cargo run --release --example cache_memory -- [PAGES] [PAGE_KB] [BUDGET_MIB]
//!
//! Defaults: 6000 pages of 60 KB (about 360 MB of pages) through a 32 MiB
//! budget. Everything runs in this one process on loopback: a test upstream
//! serving distinct compressible pages, the real mirror, and the client.
//! A counting allocator also reports the live heap (and the blocks of
//! 16 KiB or more) before and after purging every entry, which tells what
//! the entries really hold from what the allocator keeps. Linux only (reads
//! /proc/self/status). `BENCH_CONTENT_TYPE` changes the pages' type.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live heap bytes, to tell the cache's own count, the allocator's
/// live bytes and the process's resident memory apart.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static BIG: AtomicUsize = AtomicUsize::new(0);
static BIG_BYTES: AtomicUsize = AtomicUsize::new(0);
fn track(size: usize, add: bool) {
    if size >= 16 * 1024 {
        if add {
            BIG.fetch_add(1, Ordering::Relaxed);
            BIG_BYTES.fetch_add(size, Ordering::Relaxed);
        } else {
            BIG.fetch_sub(1, Ordering::Relaxed);
            BIG_BYTES.fetch_sub(size, Ordering::Relaxed);
        }
    }
}
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        track(l.size(), true);
        unsafe { std::alloc::System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        track(l.size(), false);
        unsafe { std::alloc::System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        track(n, true);
        track(l.size(), false);
        unsafe { std::alloc::System.realloc(p, l, n) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use newsmirror::app::App;
use newsmirror::config::Config;
use tokio::net::TcpListener;

fn proc_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pages = args.first().copied().unwrap_or(6000);
    let page_kb = args.get(1).copied().unwrap_or(60) as usize;
    let budget_mib = args.get(2).copied().unwrap_or(32);

    let upstream = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let up: SocketAddr = upstream.local_addr().expect("addr");
    let router = Router::new().fallback(move |req: Request| async move {
        // Distinct text per page: compressible like a real article, not a repeat.
        let seed =
            req.uri().path().len() as u64 ^ req.uri().path().bytes().map(u64::from).sum::<u64>();
        let mut body = format!("<html><head><title>{}</title></head><body>", req.uri());
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        while body.len() < page_kb * 1024 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            body.push_str(&format!(
                "<p>paragraph {x:x} of the story about {} </p>",
                x % 977
            ));
        }
        body.push_str("</body></html>");
        (
            [
                ("content-type", content_type()),
                ("cache-control", "max-age=3600"),
            ],
            body,
        )
            .into_response()
    });
    tokio::spawn(async move { axum::serve(upstream, router).await });

    let toml = format!(
        r#"
[cache]
max_bytes = "{budget_mib}MiB"
max_object_bytes = "1MiB"
[cdn]
purge_token = "bench-token"
[upstream.origins]
"www.bench.test" = "http://{up}"
[[site]]
name = "bench"
upstream = "https://www.bench.test"
"#
    );
    let config = Config::parse(&toml, "bench").expect("config");
    let app = App::new(config).expect("app");
    let public = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (mirror, admin_addr) = (
        public.local_addr().expect("addr"),
        admin.local_addr().expect("addr"),
    );
    tokio::spawn(newsmirror::server::run(
        app,
        public,
        Some(admin),
        std::future::pending(),
    ));

    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let rss_start = proc_kib("VmRSS:");
    let started = Instant::now();
    let mut fetched_bytes = 0u64;
    for i in 0..pages {
        let r = client
            .get(format!("http://{mirror}/story/{i}.html"))
            .header("accept-encoding", "br, gzip")
            .send()
            .await
            .expect("mirror answers");
        fetched_bytes += r.bytes().await.expect("body").len() as u64;
        if std::env::var_os("BENCH_TRACE").is_some() && i % 250 == 0 {
            eprintln!(
                "  after {i} pages: RSS {:.1} MiB",
                proc_kib("VmRSS:") as f64 / 1024.0
            );
        }
    }
    // Let the last variants be swapped in, then read the cache's own count.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let metrics = client
        .get(format!("http://{admin_addr}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let stored = metric(&metrics, "newsmirror_cache_stored_bytes");
    let entries = metric(&metrics, "newsmirror_cache_entries");
    let evicted = metric(&metrics, "newsmirror_cache_evicted_bytes_total");
    let rss = proc_kib("VmRSS:");
    let hwm = proc_kib("VmHWM:");
    let budget = budget_mib * 1024 * 1024;
    let bound_kib = budget / 1024 + 64 * 1024;
    println!(
        "cache_memory: {pages} pages of ~{page_kb} KB, budget {budget_mib} MiB, {:.1}s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  page bytes through the mirror : {:.1} MB",
        fetched_bytes as f64 / 1e6
    );
    println!(
        "  cache stored (weighted)        : {:.1} MiB in {entries} entries ({:.1}% of budget)",
        stored / 1048576.0,
        stored * 100.0 / budget as f64
    );
    println!(
        "  evicted                         : {:.1} MiB",
        evicted / 1048576.0
    );
    println!(
        "  process RSS at start / now / peak: {:.1} / {:.1} / {:.1} MiB",
        rss_start as f64 / 1024.0,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    println!(
        "  live heap bytes (allocator)    : {:.1} MiB",
        LIVE.load(Ordering::Relaxed) as f64 / 1048576.0
    );
    println!(
        "  live blocks >= 16 KiB          : {} holding {:.1} MiB",
        BIG.load(Ordering::Relaxed),
        BIG_BYTES.load(Ordering::Relaxed) as f64 / 1048576.0
    );
    let live_before_purge = LIVE.load(Ordering::Relaxed);
    let _ = client
        .post(format!("http://{admin_addr}/purge"))
        .header("authorization", "Bearer bench-token")
        .body("{\"keys\": [\"bench\"]}")
        .send()
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    println!(
        "  live heap after purging all    : {:.1} MiB (was {:.1})",
        LIVE.load(Ordering::Relaxed) as f64 / 1048576.0,
        live_before_purge as f64 / 1048576.0
    );
    println!(
        "  bound (budget + 64 MiB)        : {:.1} MiB -> peak {} the bound",
        bound_kib as f64 / 1024.0,
        if hwm <= bound_kib { "within" } else { "OVER" }
    );
}

/// `BENCH_CONTENT_TYPE` overrides the pages' type (to separate rewriting and
/// compression from storing).
fn content_type() -> &'static str {
    static CT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CT.get_or_init(|| {
        std::env::var("BENCH_CONTENT_TYPE")
            .unwrap_or_else(|_| "text/html; charset=utf-8".to_owned())
    })
}
