//! `newsmirror export` of the demo site: as HTML, every link and image of
//! every exported page resolves inside the tree or goes to the live mirror
//! (nothing root-relative is left, nothing names the demo's own hosts); as
//! Markdown, each article is in the seed's form with an index per
//! directory; and a second run writes nothing.

mod common;

use std::path::Path;

use lol_html::{RewriteStrSettings, element, rewrite_str};
use newsmirror::cli::demo;
use newsmirror::cli::export::{self, Format, Options};
use tokio::net::TcpListener;

async fn demo_config() -> newsmirror::config::Config {
    let site = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = site.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(site, demo::site::router()).await });
    demo::config(addr).unwrap()
}

fn options(out: &Path, format: Format) -> Options {
    Options {
        site: "demo-news".into(),
        from: vec![],
        depth: 1,
        max_pages: 40,
        out: out.to_path_buf(),
        format,
        concurrency: 2,
        rate: 200.0,
        mirror_url: Some("https://mirror.example".parse().unwrap()),
    }
}

fn url_values(html: &str) -> Vec<(String, String)> {
    let found = std::cell::RefCell::new(Vec::new());
    let settings = RewriteStrSettings::new().append_element_content_handler(element!("*", |el| {
        for a in el.attributes() {
            if matches!(
                a.name().as_str(),
                "href" | "src" | "srcset" | "poster" | "action"
            ) {
                found.borrow_mut().push((a.name(), a.value()));
            }
        }
        Ok(())
    }));
    rewrite_str(html, settings).unwrap();
    found.into_inner()
}

fn files(root: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn the_demo_exported_as_html_works_from_any_static_host() {
    let out = tempfile::tempdir().unwrap();
    let report = export::run(demo_config().await, options(out.path(), Format::Html))
        .await
        .unwrap();
    assert!(report.pages >= 8, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(out.path().join("news/index.html").is_file());
    let pages = files(out.path(), "html");
    assert!(pages.len() >= 8, "{pages:?}");
    let mut relative = 0;
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        // The footer links the original page: that one is meant to.
        let html = match (
            html.find("<footer id=\"newsmirror-footer\">"),
            html.rfind("</footer>"),
        ) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b..]),
            _ => html,
        };
        for (name, value) in url_values(&html) {
            let urls: Vec<String> = if name == "srcset" {
                newsmirror::url_map::srcset::parse(&value)
                    .into_iter()
                    .map(|c| c.url.to_owned())
                    .collect()
            } else {
                vec![value.clone()]
            };
            for u in urls {
                let plain = u.split(['#', '?']).next().unwrap_or("");
                if u.starts_with('#') || u.starts_with("mailto:") || u.starts_with("data:") {
                    continue;
                }
                if u.starts_with("http:") || u.starts_with("https:") || u.starts_with("//") {
                    // Not exported: to the live mirror, never the demo's hosts.
                    let host = url::Url::parse(&u)
                        .ok()
                        .and_then(|p| p.host_str().map(str::to_owned));
                    assert!(
                        !demo::site::HOSTS
                            .iter()
                            .any(|h| host.as_deref() == Some(*h)),
                        "{}: {name}={u} goes to the site itself",
                        page.display()
                    );
                    continue;
                }
                assert!(
                    !u.starts_with('/'),
                    "{}: {name}={u} is root-relative",
                    page.display()
                );
                let target = page.parent().unwrap().join(plain);
                assert!(
                    target.is_file(),
                    "{}: {name}={u} does not resolve in the tree ({})",
                    page.display(),
                    target.display()
                );
                relative += 1;
            }
        }
    }
    assert!(relative > 50, "links between exported files: {relative}");
    // The style sheet's own references resolve too.
    for css in files(out.path(), "css") {
        let text = std::fs::read_to_string(&css).unwrap();
        assert!(!text.contains("url(/"), "{}: {text}", css.display());
    }
    // A second run changes nothing.
    let again = export::run(demo_config().await, options(out.path(), Format::Html))
        .await
        .unwrap();
    assert_eq!(again.written, 0, "{again:?}");
    assert_eq!(again.unchanged, report.written, "{again:?}");
}

#[tokio::test]
async fn the_demo_exported_as_markdown_is_in_the_seeds_form() {
    let out = tempfile::tempdir().unwrap();
    let report = export::run(demo_config().await, options(out.path(), Format::Markdown))
        .await
        .unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    let mds: Vec<_> = files(out.path(), "md")
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    assert!(mds.len() >= demo::site::ARTICLES.len(), "{mds:?}");
    for path in demo::site::ARTICLES {
        let md = out
            .path()
            .join(path.trim_start_matches('/'))
            .with_extension("md");
        let text = std::fs::read_to_string(&md).unwrap_or_else(|e| panic!("{}: {e}", md.display()));
        assert!(text.starts_with("### "), "{}", md.display());
        let mut lines = text.lines();
        lines.next();
        assert_eq!(lines.next(), Some(""), "{text}");
        assert_eq!(lines.next(), Some("---"), "{text}");
        assert!(
            text.contains("](https://mirror.example/") || text.contains("](../"),
            "{text}"
        );
        assert!(!text.contains("](/"), "no root-relative link: {text}");
    }
    let index =
        std::fs::read_to_string(out.path().join("news/2026/11/README.md")).expect("an index");
    assert!(index.contains("(first-snow-north.md)"), "{index}");
}
