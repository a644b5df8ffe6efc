//! `newsmirror export`: a static snapshot of a mirrored site, made through
//! the mirror's own router in this process (same cache, limits, rewriting
//! and URL mapping as readers get), that works from any static host.
//!
//! - Crawl: from `--from` (default: the site's mount and its nav items),
//!   breadth first, `--depth` link levels, at most `--max-pages` pages of
//!   the site; at most `--concurrency` requests at once and `--rate` a
//!   second; redirects on the mirror followed.
//! - `--format html`: every page and what it loads (images, style sheets
//!   and the files they name) written under `--out`; links between
//!   exported files made relative, links to what was not exported pointed
//!   at the live mirror (`--mirror-url`, else `server.public_url`) or, with
//!   neither, at the original site.
//! - `--format markdown`: each article in the seed's Markdown form (what
//!   `/_/api/article?format=markdown` gives), one file per article, and a
//!   `README.md` index per directory.
//! - Re-running writes only files whose bytes changed (a manifest of
//!   SHA-256 digests, `.newsmirror-export.json`, remembers them).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use futures_util::StreamExt;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sha2::Digest;
use tower::ServiceExt;
use url::Url;

use crate::app::App;
use crate::config::Config;
use crate::site::Site;
use crate::url_map::{Mapped, Place};

/// The manifest of an export directory.
pub const MANIFEST: &str = ".newsmirror-export.json";
/// Redirects followed for one URL.
const MAX_REDIRECTS: usize = 5;
/// Largest file written.
const MAX_FILE: usize = 32 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Html,
    Markdown,
}

/// What `export` was asked.
pub struct Options {
    pub site: String,
    pub from: Vec<String>,
    pub depth: usize,
    pub max_pages: usize,
    pub out: PathBuf,
    pub format: Format,
    pub concurrency: usize,
    /// Requests a second.
    pub rate: f64,
    /// Where links to pages not exported go (the live mirror).
    pub mirror_url: Option<Url>,
}

/// What an export did.
#[derive(Debug, Default)]
pub struct Report {
    pub pages: usize,
    pub written: usize,
    pub unchanged: usize,
    pub failed: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Start(#[from] crate::app::StartError),
    #[error("no site is named {0:?}")]
    NoSite(String),
    #[error("{0:?} is neither a mirror path nor a URL of site {1}")]
    BadFrom(String, String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One answer of the router (after redirects on the mirror).
struct Got {
    content_type: String,
    body: bytes::Bytes,
}

struct Exporter {
    app: Arc<App>,
    router: crate::router::Public,
    site: Arc<Site>,
    pace: tokio::sync::Mutex<tokio::time::Interval>,
    progress: Progress,
}

pub async fn run(config: Config, opts: Options) -> Result<Report, ExportError> {
    let app = App::new(config)?;
    let site = app
        .sites
        .iter()
        .find(|s| s.name == opts.site)
        .cloned()
        .ok_or_else(|| ExportError::NoSite(opts.site.clone()))?;
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / opts.rate.max(0.01)));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ex = Exporter {
        router: crate::router::public(app.clone()),
        app,
        site,
        pace: tokio::sync::Mutex::new(pace),
        progress: Progress::new(opts.max_pages),
    };
    let starts = ex.starts(&opts)?;
    let mut report = Report::default();
    let pages = ex.crawl(starts, &opts, &mut report).await;
    report.pages = pages.len();
    let files = match opts.format {
        Format::Html => ex.html_files(&pages, &opts, &mut report).await,
        Format::Markdown => ex.markdown_files(&pages, &opts, &mut report).await,
    };
    ex.progress.done();
    write_all(&opts.out, files, &mut report)?;
    Ok(report)
}

impl Exporter {
    /// Mirror paths to start from.
    fn starts(&self, opts: &Options) -> Result<Vec<String>, ExportError> {
        if opts.from.is_empty() {
            let mut s = vec![self.site.mount.clone()];
            s.extend(
                self.site
                    .nav
                    .iter()
                    .map(|n| n.href.trim().to_owned())
                    .filter(|h| h.starts_with('/') && !h.starts_with("//")),
            );
            return Ok(s);
        }
        opts.from
            .iter()
            .map(|f| {
                if f.starts_with('/') && !f.starts_with("//") {
                    return Ok(f.clone());
                }
                let url = Url::parse(f)
                    .map_err(|_| ExportError::BadFrom(f.clone(), self.site.name.clone()))?;
                match self.app.mapper.map_url(self.site.id, &url, Place::Link) {
                    Mapped::Mirror(p) if p.starts_with('/') => Ok(p),
                    _ => Err(ExportError::BadFrom(f.clone(), self.site.name.clone())),
                }
            })
            .collect()
    }

    /// Whether a mirror path is one of this site's pages.
    fn is_own_page(&self, path: &str) -> bool {
        !path.starts_with(crate::routes::RESERVED)
            && self
                .app
                .mapper
                .route(None, path)
                .is_ok_and(|r| r.site == self.site.id)
    }

    /// GET `path` through the router, redirects on the mirror followed.
    async fn get(&self, path: &str) -> Result<Got, String> {
        let mut path = path.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            self.pace.lock().await.tick().await;
            let request = Request::builder()
                .uri(path.as_str())
                .header(header::ACCEPT_ENCODING, "identity")
                .header(header::USER_AGENT, "newsmirror-export")
                .body(Body::empty())
                .map_err(|e| e.to_string())?;
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .filter(|l| l.starts_with('/') && !l.starts_with("//"))
                    .ok_or_else(|| format!("{status}, off the mirror"))?;
                path = next.to_owned();
                continue;
            }
            if status != StatusCode::OK {
                return Err(status.to_string());
            }
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = http_body_util::Limited::new(response.into_body(), MAX_FILE)
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            return Ok(Got { content_type, body });
        }
        Err("too many redirects".into())
    }

    /// Each of `paths` through [`Exporter::get`], `--concurrency` at once,
    /// in order.
    async fn get_all(
        &self,
        paths: impl IntoIterator<Item = String>,
        opts: &Options,
    ) -> Vec<(String, Result<Got, String>)> {
        futures_util::stream::iter(paths)
            .map(|p| async move {
                let r = self.get(&p).await;
                (p, r)
            })
            .buffered(opts.concurrency.max(1))
            .collect()
            .await
    }

    /// The site's pages, breadth first: requested path → the page.
    async fn crawl(
        &self,
        starts: Vec<String>,
        opts: &Options,
        report: &mut Report,
    ) -> BTreeMap<String, Got> {
        let mut pages: BTreeMap<String, Got> = BTreeMap::new();
        let mut seen: BTreeSet<String> = starts.iter().cloned().collect();
        let mut level = starts;
        for depth in 0..=opts.depth {
            let room = opts.max_pages.saturating_sub(pages.len());
            level.truncate(room);
            if level.is_empty() {
                break;
            }
            let got = self.get_all(level, opts).await;
            let mut next = Vec::new();
            for (path, result) in got {
                match result {
                    Ok(page) if page.content_type.starts_with("text/html") => {
                        self.progress.page(&path);
                        if depth < opts.depth {
                            for link in links_of(&String::from_utf8_lossy(&page.body)).pages {
                                let link = strip_fragment(&link).to_owned();
                                if self.is_own_page(&link) && seen.insert(link.clone()) {
                                    next.push(link);
                                }
                            }
                        }
                        pages.insert(path, page);
                    }
                    Ok(_) => {}
                    Err(e) => report.failed.push((path, e)),
                }
            }
            level = next;
        }
        pages
    }

    async fn html_files(
        &self,
        pages: &BTreeMap<String, Got>,
        opts: &Options,
        report: &mut Report,
    ) -> BTreeMap<PathBuf, Vec<u8>> {
        // What the pages load, then what the style sheets among them load.
        let mut assets: BTreeMap<String, Got> = BTreeMap::new();
        let mut wanted: BTreeSet<String> = pages
            .values()
            .flat_map(|p| links_of(&String::from_utf8_lossy(&p.body)).assets)
            .map(|a| strip_fragment(&a).to_owned())
            .filter(|a| a.starts_with('/') && !a.starts_with("//") && !pages.contains_key(a))
            .collect();
        for _ in 0..2 {
            let got = self.get_all(wanted.iter().cloned(), opts).await;
            let mut more = BTreeSet::new();
            for (path, r) in got {
                match r {
                    Ok(a) => {
                        if a.content_type.starts_with("text/css") {
                            more.extend(
                                css_urls(&String::from_utf8_lossy(&a.body))
                                    .into_iter()
                                    .filter(|u| !assets.contains_key(u)),
                            );
                        }
                        self.progress.file();
                        assets.insert(path, a);
                    }
                    Err(e) => report.failed.push((path, e)),
                }
            }
            wanted = more;
        }
        let exported: HashMap<&str, PathBuf> = pages
            .keys()
            .map(|p| (p.as_str(), file_for(p, true)))
            .chain(assets.keys().map(|p| (p.as_str(), file_for(p, false))))
            .collect();
        let live = self.live_origin(opts);
        let mut files = BTreeMap::new();
        for (path, page) in pages {
            let file = file_for(path, true);
            let html = relink_html(&String::from_utf8_lossy(&page.body), &|u| {
                self.target(u, &file, &exported, live.as_deref())
            });
            files.insert(file, html.into_bytes());
        }
        for (path, asset) in &assets {
            let file = file_for(path, false);
            if files.contains_key(&file) {
                continue; // a page's file already
            }
            let body = if asset.content_type.starts_with("text/css") {
                relink_css(&String::from_utf8_lossy(&asset.body), &|u| {
                    self.target(u, &file, &exported, live.as_deref())
                })
                .into_bytes()
            } else {
                asset.body.to_vec()
            };
            files.insert(file, body);
        }
        files
    }

    /// The live origin for what is not exported: `--mirror-url`, else
    /// `public_url`.
    fn live_origin(&self, opts: &Options) -> Option<String> {
        opts.mirror_url
            .as_ref()
            .or(self.app.config.server.public_url.as_ref())
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
    }

    /// What a mirror path on an exported page becomes: a relative path
    /// when it was exported, the live mirror's URL, or the original's.
    fn target(
        &self,
        url: &str,
        from: &Path,
        exported: &HashMap<&str, PathBuf>,
        live: Option<&str>,
    ) -> Option<String> {
        if !url.starts_with('/') || url.starts_with("//") {
            return None;
        }
        let (path, fragment) = match url.find('#') {
            Some(at) => (&url[..at], &url[at..]),
            None => (url, ""),
        };
        if let Some(file) = exported.get(path) {
            return Some(format!("{}{fragment}", relative(from, file)));
        }
        if let Some(origin) = live {
            return Some(format!("{origin}{url}"));
        }
        self.app
            .mapper
            .original_of(None, url)
            .map(|(_, u)| u.to_string())
    }

    async fn markdown_files(
        &self,
        pages: &BTreeMap<String, Got>,
        opts: &Options,
        report: &mut Report,
    ) -> BTreeMap<PathBuf, Vec<u8>> {
        let articles_of: Vec<&String> = pages.keys().filter(|p| !p.ends_with('/')).collect();
        let api_urls = articles_of.iter().map(|p| {
            let q: String =
                percent_encoding::utf8_percent_encode(p, percent_encoding::NON_ALPHANUMERIC)
                    .collect();
            format!("{}?url={q}&format=markdown", crate::routes::API_ARTICLE)
        });
        // `get_all` keeps the order: each answer is its page's.
        let got: Vec<(String, Result<Got, String>)> = articles_of
            .iter()
            .map(|p| (*p).clone())
            .zip(
                self.get_all(api_urls, opts)
                    .await
                    .into_iter()
                    .map(|(_, r)| r),
            )
            .collect();
        let articles: BTreeMap<String, String> = got
            .into_iter()
            .filter_map(|(p, r)| match r {
                Ok(g) => Some((p, String::from_utf8_lossy(&g.body).into_owned())),
                // A page that is not an article (a section, a list): no file.
                Err(e) if e.starts_with("422") => None,
                Err(e) => {
                    report.failed.push((p, e));
                    None
                }
            })
            .collect();
        let exported: HashMap<&str, PathBuf> = articles
            .keys()
            .map(|p| (p.as_str(), markdown_file(p)))
            .collect();
        let live = self.live_origin(opts);
        let mut files = BTreeMap::new();
        let mut indexes: BTreeMap<PathBuf, Vec<(String, PathBuf)>> = BTreeMap::new();
        for (path, md) in &articles {
            let file = markdown_file(path);
            let title = md
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("### "))
                .unwrap_or(path)
                .to_owned();
            let body = relink_markdown(md, &|u| self.target(u, &file, &exported, live.as_deref()));
            let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
            indexes.entry(dir).or_default().push((title, file.clone()));
            self.progress.file();
            files.insert(file, body.into_bytes());
        }
        for (dir, list) in indexes {
            let mut index = format!("# {}\n\n", self.site.name);
            for (title, file) in list {
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                index.push_str(&format!(
                    "- [{}]({})\n",
                    title.replace(['[', ']'], ""),
                    name.unwrap_or_default()
                ));
            }
            files.insert(dir.join("README.md"), index.into_bytes());
        }
        files
    }
}

/// The file a mirror path is written to, relative to the export's root:
/// `/news/` → `news/index.html`, `/a` (a page) → `a.html`, a query as a
/// short digest before the extension.
pub fn file_for(path: &str, page: bool) -> PathBuf {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut rel: String = path.trim_start_matches('/').to_owned();
    if rel.is_empty() || rel.ends_with('/') {
        rel.push_str("index.html");
    } else if page && !has_extension(&rel, &["html", "htm", "shtml", "xhtml"]) {
        rel.push_str(".html");
    }
    if let Some(q) = query {
        let digest = sha2::Sha256::digest(q.as_bytes());
        let tag: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        rel = match rel.rfind('.') {
            Some(dot) if !rel[dot..].contains('/') => {
                format!("{}__{tag}{}", &rel[..dot], &rel[dot..])
            }
            _ => format!("{rel}__{tag}"),
        };
    }
    // Only plain components: nothing can leave the export's root.
    Path::new(&rel)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_owned()),
            _ => None,
        })
        .collect()
}

/// An article's Markdown file: its page file with `.md`.
fn markdown_file(path: &str) -> PathBuf {
    file_for(path, true).with_extension("md")
}

fn has_extension(rel: &str, exts: &[&str]) -> bool {
    let last = rel.rsplit('/').next().unwrap_or(rel);
    last.rsplit_once('.')
        .is_some_and(|(_, e)| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// `to` relative to the directory of `from` (both relative to the root).
pub fn relative(from: &Path, to: &Path) -> String {
    let from_dir: Vec<_> = from
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    let to_parts: Vec<_> = to.components().collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out: Vec<String> = vec!["..".to_owned(); from_dir.len() - common];
    out.extend(
        to_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    let joined = out.join("/");
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

fn strip_fragment(u: &str) -> &str {
    u.split('#').next().unwrap_or(u)
}

struct Links {
    pages: Vec<String>,
    assets: Vec<String>,
}

/// The links (`a[href]`) and what a page loads (`src`, `srcset`, style
/// sheets and icons, `poster`) in a rewritten page.
fn links_of(html: &str) -> Links {
    let pages = std::cell::RefCell::new(Vec::new());
    let assets = std::cell::RefCell::new(Vec::new());
    let settings = lol_html::RewriteStrSettings::new().append_element_content_handler(
        lol_html::element!("*", |el| {
            let tag = el.tag_name();
            // A `<link>` loads something only as these (not canonical,
            // alternate, next, ...).
            let loads = el.get_attribute("rel").is_some_and(|r| {
                r.split_ascii_whitespace().any(|t| {
                    matches!(
                        t.to_ascii_lowercase().as_str(),
                        "stylesheet" | "icon" | "apple-touch-icon" | "preload" | "manifest"
                    )
                })
            });
            for (name, value) in el.attributes().iter().map(|a| (a.name(), a.value())) {
                let value = crate::escape::decode_attr(&value).into_owned();
                match (tag.as_str(), name.as_str()) {
                    ("a" | "area", "href") => pages.borrow_mut().push(value),
                    ("link", "href") if loads => assets.borrow_mut().push(value),
                    ("link", "href") => pages.borrow_mut().push(value),
                    (_, "src" | "poster") => assets.borrow_mut().push(value),
                    (_, "srcset") => assets.borrow_mut().extend(
                        crate::url_map::srcset::parse(&value)
                            .into_iter()
                            .map(|c| c.url.to_owned()),
                    ),
                    _ => {}
                }
            }
            Ok(())
        }),
    );
    let _ = lol_html::rewrite_str(html, settings);
    Links {
        pages: pages.into_inner(),
        assets: assets.into_inner(),
    }
}

/// Every URL place of `links_of`, through `target` (unchanged when it gives `None`).
fn relink_html(html: &str, target: &dyn Fn(&str) -> Option<String>) -> String {
    let settings = lol_html::RewriteStrSettings::new().append_element_content_handler(
        lol_html::element!("*", |el| {
            let names: Vec<String> = el.attributes().iter().map(|a| a.name()).collect();
            for name in names {
                if !matches!(
                    name.as_str(),
                    "href" | "src" | "poster" | "srcset" | "action" | "formaction"
                ) {
                    continue;
                }
                let Some(raw) = el.get_attribute(&name) else {
                    continue;
                };
                let value = crate::escape::decode_attr(&raw).into_owned();
                let new = if name == "srcset" {
                    crate::url_map::srcset::rewrite(&value, |u| target(u))
                } else {
                    target(&value)
                };
                if let Some(new) = new {
                    el.set_attribute(&name, &crate::escape::escape_attr(&new))?;
                }
            }
            Ok(())
        }),
    );
    lol_html::rewrite_str(html, settings).unwrap_or_else(|_| html.to_owned())
}

/// `url(...)` and `@import "..."` references of a style sheet.
fn css_urls(css: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut out = String::new();
    let mut r = crate::css::CssRewriter::new();
    let mut map = |u: &str, _p: Place| {
        if u.starts_with('/') && !u.starts_with("//") {
            found.push(strip_fragment(u).to_owned());
        }
        None
    };
    r.feed(css, &mut map, &mut out);
    r.finish(&mut map, &mut out);
    found
}

fn relink_css(css: &str, target: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut r = crate::css::CssRewriter::new();
    let mut map = |u: &str, _p: Place| target(u);
    r.feed(css, &mut map, &mut out);
    r.finish(&mut map, &mut out);
    out
}

/// Markdown link and image targets `](/...)` through `target`.
fn relink_markdown(md: &str, target: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(md.len());
    let mut rest = md;
    while let Some(at) = rest.find("](/") {
        out.push_str(&rest[..at + 2]);
        rest = &rest[at + 2..];
        let end = rest.find([')', ' ']).unwrap_or(rest.len());
        let url = &rest[..end];
        match target(url) {
            Some(new) => out.push_str(&new),
            None => out.push_str(url),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Writes the files whose bytes changed since the manifest's export, and
/// the manifest.
fn write_all(
    out: &Path,
    files: BTreeMap<PathBuf, Vec<u8>>,
    report: &mut Report,
) -> Result<(), ExportError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Write { path, source }
    };
    std::fs::create_dir_all(out).map_err(err(out))?;
    let manifest_path = out.join(MANIFEST);
    let mut manifest: BTreeMap<String, String> = std::fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    for (rel, bytes) in files {
        let digest: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let key = rel.to_string_lossy().replace('\\', "/");
        let path = out.join(&rel);
        if manifest.get(&key) == Some(&digest) && path.exists() {
            report.unchanged += 1;
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err(dir))?;
        }
        std::fs::write(&path, &bytes).map_err(err(&path))?;
        manifest.insert(key, digest);
        report.written += 1;
    }
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    std::fs::write(&manifest_path, json).map_err(err(&manifest_path))?;
    Ok(())
}

/// Progress on standard error: a bar at a terminal, a line a page otherwise.
struct Progress {
    tty: bool,
    max: usize,
    pages: std::sync::atomic::AtomicUsize,
    files: std::sync::atomic::AtomicUsize,
}

impl Progress {
    fn new(max: usize) -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            max: max.max(1),
            pages: Default::default(),
            files: Default::default(),
        }
    }

    fn page(&self, path: &str) {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.pages.fetch_add(1, Relaxed) + 1;
        let mut err = std::io::stderr().lock();
        if self.tty {
            let done = (n * 30 / self.max).min(30);
            let _ = write!(
                err,
                "\r[{}{}] {n}/{} pages, {} files ",
                "#".repeat(done),
                ".".repeat(30 - done),
                self.max,
                self.files.load(Relaxed)
            );
        } else {
            let _ = writeln!(err, "[{n}/{}] {path}", self.max);
        }
    }

    fn file(&self) {
        self.files
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn done(&self) {
        if self.tty {
            let _ = writeln!(std::io::stderr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_for_paths() {
        assert_eq!(file_for("/", true), PathBuf::from("index.html"));
        assert_eq!(file_for("/news/", true), PathBuf::from("news/index.html"));
        assert_eq!(file_for("/news/a.html", true), PathBuf::from("news/a.html"));
        assert_eq!(file_for("/about", true), PathBuf::from("about.html"));
        assert_eq!(
            file_for("/_/asset/h/x.png", false),
            PathBuf::from("_/asset/h/x.png")
        );
        let q = file_for("/search?q=1", true);
        assert!(q.to_string_lossy().starts_with("search__"), "{q:?}");
        assert!(q.to_string_lossy().ends_with(".html"), "{q:?}");
        assert_eq!(
            file_for("/a/../../etc/passwd", false),
            PathBuf::from("a/etc/passwd")
        );
    }

    #[test]
    fn relative_paths() {
        let r = |a: &str, b: &str| relative(Path::new(a), Path::new(b));
        assert_eq!(r("news/a.html", "news/b.html"), "b.html");
        assert_eq!(r("news/a.html", "index.html"), "../index.html");
        assert_eq!(r("index.html", "_/asset/h/x.png"), "_/asset/h/x.png");
        assert_eq!(r("news/2026/a.html", "news/b.html"), "../b.html");
    }

    #[test]
    fn markdown_targets_are_replaced() {
        let md = "[a](/x.html) ![i](/_/img/s) [b](https://o/)";
        let out = relink_markdown(md, &|u| Some(format!("R{u}")));
        assert_eq!(out, "[a](R/x.html) ![i](R/_/img/s) [b](https://o/)");
    }
}
