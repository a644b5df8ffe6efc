//! The rewrite workload shared by `benches/pipeline.rs` and
//! `examples/profile_rewrite.rs`: the benchmark site's configuration, the
//! benchmark article (as `bench/pages.py` builds it for the load
//! benchmark), and one rewrite of it.

use std::sync::Arc;

use newsmirror::app::App;
use newsmirror::config::Config;
use newsmirror::html::PageContext;
use newsmirror::pipeline::Rewrite;
use url::Url;

pub const CONFIG: &str = r#"
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

/// The article's upstream address.
pub const ARTICLE_URL: &str = "https://www.bench-news.test/news/2026/11/river-bridge-opens.html";

/// The demo article padded with a news site's menus to ~85 KB.
pub fn article() -> Vec<u8> {
    let src = include_str!("../../demo/www.demo-news.test/news/2026/11/river-bridge-opens.html")
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
    src.replace("</body>", &format!("{pad}</body>"))
        .into_bytes()
}

/// The app for `config` (built inside a runtime: the upstream client needs one).
pub fn app(config: &str) -> Arc<App> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    App::new(Config::parse(config, "bench").expect("config")).expect("app")
}

/// Rewrites `page` (from `url`) for the first site, fed in `chunk`-byte
/// pieces; returns the output's length.
pub fn rewrite(app: &App, url: &Url, page: &[u8], chunk: usize) -> usize {
    let site = app.sites[0].clone();
    let ctx = PageContext::new(app.mapper.clone(), site.clone(), url.clone());
    let mut rw = Rewrite::html(ctx, app.rules(&site), Some("utf-8"), u64::MAX);
    let mut out = Vec::with_capacity(page.len() + 4096);
    for piece in page.chunks(chunk) {
        rw.push(piece, &mut out).expect("rewrite");
    }
    rw.finish(&mut out).expect("finish");
    out.len()
}
