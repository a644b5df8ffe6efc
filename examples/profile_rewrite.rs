//! Rewrites the benchmark article N times (default 20): a steady workload
//! for profilers.
//!
//!   cargo build --release --example profile_rewrite
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
    let page = workload::article();
    let app = workload::app(workload::CONFIG);
    let url = Url::parse(workload::ARTICLE_URL).expect("url");
    let total: usize = (0..n)
        .map(|_| workload::rewrite(&app, &url, &page, 16 * 1024))
        .sum();
    println!("{n} rewrites of {} bytes, {total} bytes out", page.len());
}
