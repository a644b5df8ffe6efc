//! Rewrites every page of a corpus (`../shared/corpora/aeb`: gzipped
//! pages and `ground-truth.json` with their URLs) as the mirror would, each
//! as a page of a site whose upstream is the page's origin, with scripts
//! kept and with scripts removed; reports the rewrite's throughput over the
//! corpus and, with an output directory, writes every result there (diff
//! two such directories to see what a rewriter change changed).
//!
//!   cargo run --release --example rewrite_corpus -- ../shared/corpora/aeb [OUT_DIR] [ROUNDS]

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use newsmirror::app::App;
use newsmirror::config::Config;
use newsmirror::html::PageContext;
use newsmirror::pipeline::Rewrite;
use url::Url;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let corpus = args
        .next()
        .ok_or("usage: rewrite_corpus CORPUS [OUT_DIR] [ROUNDS]")?;
    let out_dir = args.next().filter(|d| d != "-");
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(1);
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(
        Path::new(&corpus).join("ground-truth.json"),
    )?)?;
    let truth = truth
        .as_object()
        .ok_or("ground-truth.json: not an object")?;
    let mut pages = Vec::new();
    for (id, entry) in truth {
        let Some(url) = entry.get("url").and_then(|u| u.as_str()) else {
            continue;
        };
        let path = Path::new(&corpus)
            .join("html")
            .join(format!("{id}.html.gz"));
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        let mut html = Vec::new();
        flate2::read::GzDecoder::new(file).read_to_end(&mut html)?;
        pages.push((id.clone(), Url::parse(url)?, html));
    }
    pages.sort_by(|a, b| a.0.cmp(&b.0));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _guard = rt.enter();
    for javascript in ["keep", "remove"] {
        let mut bytes = 0usize;
        let mut elapsed = std::time::Duration::ZERO;
        for (id, url, html) in &pages {
            let origin = url.origin().ascii_serialization();
            let config = format!(
                "[server]\nsigning_key = \"corpus-signing-key-0123456789\"\n\
                 [[site]]\nname = \"corpus\"\nupstream = \"{origin}\"\n\
                 javascript = \"{javascript}\"\nproxy_all_images = true\n"
            );
            let app = App::new(Config::parse(&config, "corpus")?)?;
            let mut out = Vec::new();
            let start = Instant::now();
            for _ in 0..rounds {
                out.clear();
                let site = app.sites[0].clone();
                let ctx = PageContext::new(app.mapper.clone(), site.clone(), url.clone());
                let mut rw = Rewrite::html(ctx, app.rules(&site), None, u64::MAX);
                for piece in html.chunks(16 * 1024) {
                    rw.push(piece, &mut out)?;
                }
                rw.finish(&mut out)?;
            }
            elapsed += start.elapsed();
            bytes += html.len() * rounds;
            if let Some(dir) = &out_dir {
                std::fs::create_dir_all(Path::new(dir).join(javascript))?;
                std::fs::write(
                    Path::new(dir).join(javascript).join(format!("{id}.html")),
                    &out,
                )?;
            }
        }
        println!(
            "javascript={javascript}: {} pages, {:.1} MB in {:.3} s: {:.1} MB/s",
            pages.len(),
            bytes as f64 / 1e6,
            elapsed.as_secs_f64(),
            bytes as f64 / 1e6 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}
