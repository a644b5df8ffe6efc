//! Rewrites the benchmark article (or the page in FILE, as a page of the
//! benchmark site) N times (default 20): a steady workload for profilers;
//! prints the time per rewrite.
//!
//!   cargo build --release --example profile_rewrite
//!   target/release/examples/profile_rewrite 1000 [FILE]
//!   valgrind --tool=callgrind target/release/examples/profile_rewrite 20
//!   callgrind_annotate callgrind.out.* | head -60

#[path = "../benches/workload/mod.rs"]
mod workload;

use url::Url;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let page = match std::env::args().nth(2) {
        Some(file) => std::fs::read(&file).expect("the page file"),
        None => workload::article(),
    };
    let config = std::env::var("PROFILE_CONFIG").unwrap_or_else(|_| workload::CONFIG.to_owned());
    let app = workload::app(&config);
    let url = Url::parse(workload::ARTICLE_URL).expect("url");
    let start = std::time::Instant::now();
    let total: usize = (0..n)
        .map(|_| workload::rewrite(&app, &url, &page, 16 * 1024))
        .sum();
    let each = start.elapsed().as_secs_f64() / n.max(1) as f64;
    println!(
        "{n} rewrites of {} bytes, {total} bytes out: {:.1} us each, {:.1} MB/s",
        page.len(),
        each * 1e6,
        page.len() as f64 / each / 1e6
    );
}
