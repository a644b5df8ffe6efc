//! Rewrites the benchmark article N times (default 20): a steady workload
//! for profilers.
//!
//!   cargo build --release --example profile_rewrite
//!   valgrind --tool=callgrind target/release/examples/profile_rewrite 20
//!   callgrind_annotate callgrind.out.* | head -60

use newsmirror::app::App;
use newsmirror::config::Config;
use newsmirror::html::PageContext;
use newsmirror::pipeline::Rewrite;
use url::Url;

const CONFIG: &str = r#"
[server]
signing_key = "bench-signing-key-0123456789"
[[site]]
name = "bench"
upstream = "https://www.bench-news.test"
asset_hosts = ["img.bench-news.test"]
proxy_all_images = true
remove = ["script:not([type='application/ld+json'])", "iframe", ".ad-slot"]
footer = "原文链接：{original_url}"
nav = [ { label = "首页", href = "/" }, { label = "新闻", href = "/news/" } ]
"#;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let src = include_str!("../demo/www.demo-news.test/news/2026/11/river-bridge-opens.html")
        .replace("demo-news.test", "bench-news.test");
    let block: String = (0..40)
        .map(|i| {
            format!(
                "<li><a href=\"https://www.bench-news.test/news/2026/11/story-{i}.html\">Story {i} headline about the city</a> \
                 <img src=\"https://img.bench-news.test/thumbs/2026/11/story-{i}_200.jpg\" alt=\"thumb {i}\"></li>\n"
            )
        })
        .collect();
    let mut pad = String::new();
    while src.len() + pad.len() < 85_000 {
        pad.push_str(&format!("<nav class=\"menu\"><ul>\n{block}</ul></nav>\n"));
    }
    let page = src
        .replace("</body>", &format!("{pad}</body>"))
        .into_bytes();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let app = App::new(Config::parse(CONFIG, "profile").expect("config")).expect("app");
    let site = app.sites[0].clone();
    let url = Url::parse("https://www.bench-news.test/news/2026/11/river-bridge-opens.html")
        .expect("url");
    let mut total = 0;
    for _ in 0..n {
        let ctx = PageContext::new(app.mapper.clone(), site.clone(), url.clone());
        let mut rw = Rewrite::html(ctx, app.rules(&site), Some("utf-8"), u64::MAX);
        let mut out = Vec::with_capacity(page.len() + 4096);
        for piece in page.chunks(16 * 1024) {
            rw.push(piece, &mut out).expect("rewrite");
        }
        rw.finish(&mut out).expect("finish");
        total += out.len();
    }
    println!("{n} rewrites of {} bytes, {total} bytes out", page.len());
}
