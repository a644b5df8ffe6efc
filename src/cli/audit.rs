//! `newsmirror audit`: what a page, as the mirror serves it, still names
//! outside the mirror, and which hosts the configuration is missing.
//!
//! The page is fetched as the server fetches it (the same upstream client
//! and request headers, content codings undone, redirects followed while
//! they stay on mirrored sites) or read from a saved file, and rewritten by
//! the server's pipeline (`cli::extract::rewrite_saved_page`: transcode, lol_html
//! with the site's rules). Both the original and the rewritten page are
//! then read once more with lol_html ([`scan`]): every attribute, the text
//! of `<style>` and `<script>`, and `<noscript>` content scanned as markup.
//! Every `http://`, `https://` and protocol-relative `//host` URL found
//! whose host the configuration does not map (not a site's upstream or
//! alias, not an asset host: [`UrlMapper::is_mapped_host`]; not the
//! mirror's own `hosts` or `public_url`) is reported:
//!
//! - what the rewritten page still names: what a reader's browser may
//!   fetch or follow outside the mirror;
//! - what the original page loads as images, stylesheets, fonts, scripts or
//!   media from such hosts and the mapper does not proxy either (signed
//!   `/_/img/` URLs): the mirror leaves them or drops them (the page then
//!   lacks them), and they make the `asset_hosts` suggestion.
//!
//! Namespace and vocabulary identifiers (`xmlns`, `prefix`, `profile`,
//! `itemtype`, `vocab`, JSON-LD's `schema.org`) are never fetched and are
//! not listed.
//!
//! [`UrlMapper::is_mapped_host`]: crate::url_map::UrlMapper::is_mapped_host

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use http::{HeaderMap, Method, StatusCode, header};
use lol_html::html_content::{Element, TextChunk};
use lol_html::{HtmlRewriter, Settings, element, text};
use serde::Serialize;
use tokio::io::AsyncReadExt;
use url::Url;

use crate::api::{self, ApiError};
use crate::app::App;
use crate::body::{BodyError, Cause};
use crate::charset::{DocKind, Transcoder};
use crate::escape::decode_attr;
use crate::headers;
use crate::pipeline;
use crate::site::{Site, SiteKind};
use crate::upstream::{Reach, UpstreamError, UpstreamRequest};
use crate::url_map::{Mapped, Place};

/// Characters of a URL kept as the example of a host.
const EXAMPLE_CHARS: usize = 120;
/// Upstream redirects followed while they stay on mirrored sites.
const MAX_REDIRECTS: usize = 5;

/// Why a page could not be audited.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("no site named {0:?} in the configuration")]
    UnknownSite(String),
    #[error("the configuration has several sites: say which with --site or --url")]
    WhichSite,
    #[error("the configuration has no site")]
    NoSite,
    #[error("{0:?} is an asset or image URL, not a page")]
    NotAPage(String),
    #[error("{0:?} is not a page of a mirrored site")]
    NotMirrored(String),
    #[error(transparent)]
    Resolve(#[from] ApiError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("upstream answered {0}")]
    Status(StatusCode),
    #[error("upstream redirects off the mirrored sites, to {0}")]
    OffMirrorRedirect(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("the page is not HTML but {0:?}")]
    NotHtml(String),
    #[error(transparent)]
    Encoding(#[from] crate::coding::UnsupportedCoding),
    #[error("reading or rewriting the page failed: {0}")]
    Body(#[from] BodyError),
}

/// What a URL found in a page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    Css,
    Font,
    Script,
    Media,
    /// `<iframe>`, `<frame>`, `<embed>`: another document.
    Frame,
    /// Navigation: `<a href>`, forms, canonical and alternate links.
    Link,
    /// Named, use unknown (data attributes, meta content, script text).
    Other,
}

impl Kind {
    /// What an asset host can serve.
    fn is_asset(self) -> bool {
        matches!(
            self,
            Kind::Image | Kind::Css | Kind::Font | Kind::Script | Kind::Media
        )
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Css => "css",
            Kind::Font => "font",
            Kind::Script => "script",
            Kind::Media => "media",
            Kind::Frame => "frame",
            Kind::Link => "link",
            Kind::Other => "other",
        }
    }
}

/// One URL found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Lower-case, without port.
    pub host: String,
    /// `img[src]`, `style`, `script`, `noscript > img[src]`, ...
    pub place: String,
    pub kind: Kind,
    /// The URL as written (cut at [`EXAMPLE_CHARS`]).
    pub url: String,
}

/// One host of the report.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub host: String,
    /// URLs naming it.
    pub count: usize,
    pub kinds: Vec<Kind>,
    /// Where it was seen, and how often.
    pub places: BTreeMap<String, usize>,
    /// The first URL naming it.
    pub example: String,
    /// Whether it is in the `asset_hosts` suggestion.
    pub suggested: bool,
}

/// The audit of one page.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub site: String,
    /// The page's original URL.
    pub url: String,
    /// Hosts the rewritten page still names that the configuration does
    /// not map, most named first.
    pub hosts: Vec<HostReport>,
    /// Hosts the configuration does not map that the original page loads
    /// images, stylesheets, fonts, scripts or media from (left as they are
    /// or dropped by the mirror), most named first.
    pub upstream_assets: Vec<HostReport>,
    /// The site's `asset_hosts` with the suggested hosts added.
    pub asset_hosts: Vec<String>,
    /// The hosts added.
    pub suggested: Vec<String>,
}

/// Audits a page fetched as the server fetches it: `url` is an original
/// URL of a mirrored site, or a mirror URL or path.
pub async fn audit_url(app: &App, url: &str) -> Result<Audit, AuditError> {
    let (mut site, mut original) = api::resolve(app, url.trim())?;
    for _ in 0..=MAX_REDIRECTS {
        let request = headers::ReaderRequest {
            headers: &HeaderMap::new(),
            trusted_peer: false,
            sends_body: false,
        };
        let response = app
            .upstream_for(site.id)
            .fetch(UpstreamRequest {
                method: Method::GET,
                url: original.clone(),
                headers: headers::upstream_request(&request, &app.user_agent, None, site.kind),
                body: Body::empty(),
                reach: Reach::Any,
            })
            .await?;
        if response.status.is_redirection()
            && let Some(location) = response
                .headers
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
        {
            let next = original
                .join(location)
                .map_err(|_| AuditError::OffMirrorRedirect(location.to_owned()))?;
            match app.mapper.original_of(None, next.as_str()) {
                Some((Some(id), u)) => {
                    site = app.site(id).cloned().ok_or(AuditError::NoSite)?;
                    original = u;
                    continue;
                }
                _ => return Err(AuditError::OffMirrorRedirect(next.to_string())),
            }
        }
        if response.status != StatusCode::OK {
            return Err(AuditError::Status(response.status));
        }
        let content_type = response.headers.get(header::CONTENT_TYPE);
        let media = headers::media_type(content_type);
        if !matches!(media.as_str(), "text/html" | "application/xhtml+xml") {
            return Err(AuditError::NotHtml(media));
        }
        let charset = headers::charset_of(content_type);
        let codings = crate::coding::content_codings(
            response
                .headers
                .get(header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok()),
        )
        .map_err(AuditError::Encoding)?;
        let limit = app.config.upstream.max_body_bytes.get();
        let mut bytes = Vec::new();
        pipeline::decoded(response.body, &codings)
            .await?
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| BodyError::Decode(Cause::new(e)))?;
        if bytes.len() as u64 > limit {
            return Err(BodyError::TooLarge(limit).into());
        }
        return audit_bytes(app, &site, &original, charset.as_deref(), &bytes);
    }
    Err(AuditError::TooManyRedirects)
}

/// Audits a saved page (`bytes`, any charset) of `site_name` (default: the
/// site of `url`, or the only site); `url` (an original URL, a mirror path
/// or URL) says where it came from (default: the site's upstream).
pub fn audit_saved_page(
    app: &App,
    site_name: Option<&str>,
    url: Option<&str>,
    bytes: &[u8],
) -> Result<Audit, AuditError> {
    let located = match url {
        Some(u) => Some(
            app.mapper
                .original_of(None, u)
                .ok_or_else(|| AuditError::NotMirrored(u.to_owned()))?,
        ),
        None => None,
    };
    let site = match (site_name, &located) {
        (Some(name), _) => app
            .sites
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| AuditError::UnknownSite(name.to_owned()))?,
        (None, Some((Some(id), _))) => app.site(*id).cloned().ok_or(AuditError::NoSite)?,
        (None, Some((None, _))) => {
            return Err(AuditError::NotAPage(url.unwrap_or_default().to_owned()));
        }
        (None, None) => match app.sites.as_slice() {
            [only] => only.clone(),
            [] => return Err(AuditError::NoSite),
            _ => return Err(AuditError::WhichSite),
        },
    };
    let original = match located {
        Some((_, u)) => u,
        None => site.upstream.clone(),
    };
    audit_bytes(app, &site, &original, None, bytes)
}

/// Rewrites the page as the server would and audits both forms.
fn audit_bytes(
    app: &App,
    site: &Arc<Site>,
    original: &Url,
    charset: Option<&str>,
    bytes: &[u8],
) -> Result<Audit, AuditError> {
    let mut transcoder = Transcoder::new(DocKind::Html, charset, original.host_str());
    let mut utf8 = Vec::with_capacity(bytes.len());
    transcoder.push(bytes, &mut utf8);
    transcoder.finish(&mut utf8);
    let upstream_html = String::from_utf8_lossy(&utf8);
    let rewritten = if site.kind == SiteKind::Mirror {
        super::extract::rewrite_saved_page(app, site, original, charset, bytes)?
    } else {
        // A `rewrite = false` site's pages are served as they are.
        upstream_html.clone().into_owned()
    };
    Ok(audit_html(app, site, original, &upstream_html, &rewritten))
}

/// The audit of a page of `site`: `upstream_html` as upstream sent it (in
/// UTF-8), `rewritten` as the mirror serves it.
pub fn audit_html(
    app: &App,
    site: &Site,
    original: &Url,
    upstream_html: &str,
    rewritten: &str,
) -> Audit {
    let unmapped = |f: &Finding| !is_ours(app, &f.host);
    let still_named: Vec<Finding> = scan(rewritten).into_iter().filter(unmapped).collect();
    let loaded: Vec<Finding> = scan(upstream_html)
        .into_iter()
        .filter(|f| unmapped(f) && f.kind.is_asset() && !proxied(app, site, f))
        .collect();
    let mut suggested: Vec<String> = Vec::new();
    let upstream_assets = by_host(loaded);
    let mut hosts = by_host(still_named);
    for h in upstream_assets.iter().chain(hosts.iter()) {
        if h.kinds.iter().any(|k| k.is_asset()) && !suggested.contains(&h.host) {
            suggested.push(h.host.clone());
        }
    }
    for h in &mut hosts {
        h.suggested = suggested.contains(&h.host);
    }
    let mut upstream_assets = upstream_assets;
    for h in &mut upstream_assets {
        h.suggested = true;
    }
    let mut asset_hosts = site.asset_hosts.clone();
    asset_hosts.extend(suggested.iter().cloned());
    Audit {
        site: site.name.clone(),
        url: original.to_string(),
        hosts,
        upstream_assets,
        asset_hosts,
        suggested,
    }
}

/// Whether the mirror serves this URL anyway (an image through a signed
/// `/_/img/` URL when the site proxies all images): the mapper's answer.
fn proxied(app: &App, site: &Site, f: &Finding) -> bool {
    let text = f.url.replace("\\/", "/");
    let absolute = match text.strip_prefix("//") {
        Some(rest) => format!("https://{rest}"),
        None => text,
    };
    let place = match f.kind {
        Kind::Css | Kind::Script => Place::Resource,
        _ => Place::Image,
    };
    Url::parse(&absolute)
        .is_ok_and(|u| matches!(app.mapper.map_url(site.id, &u, place), Mapped::Mirror(_)))
}

/// Findings grouped by host, most named first.
fn by_host(findings: Vec<Finding>) -> Vec<HostReport> {
    let mut map: BTreeMap<String, HostReport> = BTreeMap::new();
    for f in findings {
        let entry = map.entry(f.host.clone()).or_insert_with(|| HostReport {
            host: f.host.clone(),
            count: 0,
            kinds: Vec::new(),
            places: BTreeMap::new(),
            example: f.url.clone(),
            suggested: false,
        });
        entry.count += 1;
        if !entry.kinds.contains(&f.kind) {
            entry.kinds.push(f.kind);
        }
        *entry.places.entry(f.place).or_default() += 1;
    }
    let mut hosts: Vec<HostReport> = map.into_values().collect();
    for h in &mut hosts {
        h.kinds.sort();
    }
    hosts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.host.cmp(&b.host)));
    hosts
}

/// Whether the configuration maps `host` (any site's upstream and aliases,
/// asset hosts: the URL mapper's answer) or it is one of the mirror's own
/// names (`hosts`, `public_url`).
fn is_ours(app: &App, host: &str) -> bool {
    app.mapper.is_mapped_host(host)
        || app.sites.iter().any(|s| s.hosts.iter().any(|h| h == host))
        || app
            .config
            .server
            .public_url
            .as_ref()
            .and_then(|u| u.host_str())
            .is_some_and(|h| h.eq_ignore_ascii_case(host))
}

/// The audit as text for a person.
pub fn render_text(audit: &Audit) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} (site {:?})", audit.url, audit.site);
    let count = |n: usize| format!("{n} host{}", if n == 1 { "" } else { "s" });
    if audit.hosts.is_empty() {
        let _ = writeln!(
            out,
            "\nThe rewritten page names no host the configuration does not map."
        );
    } else {
        let _ = writeln!(
            out,
            "\nStill named by the rewritten page, not mapped by the configuration ({}):\n",
            count(audit.hosts.len())
        );
        render_hosts(&mut out, &audit.hosts);
    }
    if !audit.upstream_assets.is_empty() {
        let _ = writeln!(
            out,
            "\nLoaded by the original page (images, stylesheets, fonts, scripts, media) from hosts\n\
             the configuration does not map ({}); the mirror leaves them or drops them:\n",
            count(audit.upstream_assets.len())
        );
        render_hosts(&mut out, &audit.upstream_assets);
    }
    if audit.suggested.is_empty() {
        let _ = writeln!(out, "\nNo host to add to asset_hosts.");
    } else {
        let list = audit
            .asset_hosts
            .iter()
            .map(|h| format!("{h:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "\nFor [[site]] name = {:?}:\n\nasset_hosts = [{list}]",
            audit.site
        );
    }
    out
}

fn render_hosts(out: &mut String, hosts: &[HostReport]) {
    let kinds_of = |h: &HostReport| {
        h.kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(",")
    };
    let width = hosts.iter().map(|h| h.host.len()).max().unwrap_or(0);
    let kinds_width = hosts.iter().map(|h| kinds_of(h).len()).max().unwrap_or(0);
    for h in hosts {
        let mut places: Vec<(&String, &usize)> = h.places.iter().collect();
        places.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let places = places
            .iter()
            .map(|(p, c)| format!("{p} ×{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "  {host:<width$}  {count:>4}  {kinds:<kinds_width$}  {places}",
            host = h.host,
            count = h.count,
            kinds = kinds_of(h),
        );
        let _ = writeln!(out, "  {:<width$}        e.g. {}", "", h.example);
    }
}

/// Every http(s) and protocol-relative URL in `html` (attributes, `<style>`,
/// `<script>`, `<noscript>` markup), with where it was seen.
pub fn scan(html: &str) -> Vec<Finding> {
    let found = RefCell::new(Vec::new());
    scan_into(html, "", true, &found);
    found.into_inner()
}

fn scan_into(html: &str, prefix: &str, noscript: bool, found: &RefCell<Vec<Finding>>) {
    let script_text = RefCell::new(String::new());
    let style_text = RefCell::new(String::new());
    let noscript_text = RefCell::new(String::new());
    let json_ld = Cell::new(false);
    let mut settings = Settings::new()
        .with_strict(false)
        .append_element_content_handler(element!("*", |el: &mut Element| {
            scan_attributes(el, prefix, &mut found.borrow_mut());
            Ok(())
        }))
        .append_element_content_handler(element!("script", |el: &mut Element| {
            json_ld.set(
                el.get_attribute("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json")),
            );
            Ok(())
        }))
        .append_element_content_handler(text!("script", |t: &mut TextChunk| {
            let mut buf = script_text.borrow_mut();
            buf.push_str(t.as_str());
            if t.last_in_text_node() {
                let ld = json_ld.get();
                let place = if ld { "json-ld" } else { "script" };
                for (host, url) in find_urls(&buf, false) {
                    if ld && host == "schema.org" {
                        continue;
                    }
                    found.borrow_mut().push(Finding {
                        kind: kind_by_extension(&url).unwrap_or(Kind::Other),
                        host,
                        place: format!("{prefix}{place}"),
                        url,
                    });
                }
                buf.clear();
            }
            Ok(())
        }))
        .append_element_content_handler(text!("style", |t: &mut TextChunk| {
            let mut buf = style_text.borrow_mut();
            buf.push_str(t.as_str());
            if t.last_in_text_node() {
                push_css(&buf, &format!("{prefix}style"), &mut found.borrow_mut());
                buf.clear();
            }
            Ok(())
        }));
    if noscript {
        settings =
            settings.append_element_content_handler(text!("noscript", |t: &mut TextChunk| {
                let mut buf = noscript_text.borrow_mut();
                buf.push_str(t.as_str());
                if t.last_in_text_node() {
                    // What a reader without scripts gets: markup.
                    scan_into(&buf, "noscript > ", false, found);
                    buf.clear();
                }
                Ok(())
            }));
    }
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // Non-strict and never refusing: a scan of what was already served.
    let _ = rewriter.write(html.as_bytes());
    let _ = rewriter.end();
}

/// Attributes that identify vocabularies: never fetched.
const VOCABULARY: &[&str] = &["xmlns", "prefix", "profile", "itemtype", "vocab"];

fn scan_attributes(el: &Element, prefix: &str, found: &mut Vec<Finding>) {
    let tag = el.tag_name();
    for attr in el.attributes() {
        let name = attr.name();
        if VOCABULARY.contains(&name.as_str()) || name.starts_with("xmlns:") {
            continue;
        }
        let raw = attr.value();
        if !raw.contains('/') && !raw.contains('&') {
            continue;
        }
        let value = decode_attr(&raw);
        let place = format!("{prefix}{tag}[{name}]");
        if name == "style" {
            push_css(&value, &place, found);
            continue;
        }
        let kind = attr_kind(el, &tag, &name);
        for (host, url) in find_urls(&value, true) {
            let kind = kind.unwrap_or_else(|| kind_by_extension(&url).unwrap_or(Kind::Other));
            found.push(Finding {
                host,
                place: place.clone(),
                kind,
                url,
            });
        }
    }
}

/// CSS text (a `style` attribute or element): `url()` and `@import` are
/// mapped by the rewriter; a URL without a telling extension is taken for
/// an image (what `url()` mostly loads).
fn push_css(css: &str, place: &str, found: &mut Vec<Finding>) {
    for (host, url) in find_urls(css, true) {
        found.push(Finding {
            kind: kind_by_extension(&url).unwrap_or(Kind::Image),
            host,
            place: place.to_owned(),
            url,
        });
    }
}

/// What an attribute's URL is for; `None`: judge by its extension.
fn attr_kind(el: &Element, tag: &str, name: &str) -> Option<Kind> {
    let lower = |n: &str| el.get_attribute(n).unwrap_or_default().to_ascii_lowercase();
    match name {
        "src" => match tag {
            "img" | "input" | "image" => Some(Kind::Image),
            "video" | "audio" | "source" | "track" => Some(Kind::Media),
            "script" => Some(Kind::Script),
            "iframe" | "frame" | "embed" => Some(Kind::Frame),
            _ => None,
        },
        "srcset" | "data-srcset" | "imagesrcset" | "data-src" | "data-original"
        | "data-lazy-src" | "poster" | "background" => Some(Kind::Image),
        "href" if matches!(tag, "a" | "area" | "base") => Some(Kind::Link),
        "href" if tag == "link" => {
            let rel = lower("rel");
            let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
            if rels.iter().any(|r| r.contains("icon")) {
                Some(Kind::Image)
            } else if rels.contains(&"stylesheet") {
                Some(Kind::Css)
            } else if rels.contains(&"modulepreload") {
                Some(Kind::Script)
            } else if rels.iter().any(|r| matches!(*r, "preload" | "prefetch")) {
                match lower("as").as_str() {
                    "style" => Some(Kind::Css),
                    "script" => Some(Kind::Script),
                    "font" => Some(Kind::Font),
                    "image" => Some(Kind::Image),
                    "video" | "audio" | "track" => Some(Kind::Media),
                    _ => None,
                }
            } else if rels.contains(&"manifest") {
                Some(Kind::Other)
            } else {
                Some(Kind::Link)
            }
        }
        "action" if tag == "form" => Some(Kind::Link),
        "formaction" => Some(Kind::Link),
        "content" if tag == "meta" => {
            let key = [lower("property"), lower("name"), lower("itemprop")]
                .into_iter()
                .find(|k| !k.is_empty())
                .unwrap_or_default();
            match crate::html::meta_url_place(&key) {
                Some(crate::url_map::Place::Image) => Some(Kind::Image),
                Some(_) => Some(Kind::Link),
                None if lower("http-equiv") == "refresh" => Some(Kind::Link),
                None => None,
            }
        }
        _ => None,
    }
}

/// The kind a URL's path extension tells.
fn kind_by_extension(url: &str) -> Option<Kind> {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .replace("\\/", "/");
    let last = path.rsplit('/').next().unwrap_or("");
    let ext = last.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" | "png" | "gif" | "webp" | "avif" | "svg" | "ico" | "bmp" => Kind::Image,
        "css" => Kind::Css,
        "woff" | "woff2" | "ttf" | "otf" | "eot" => Kind::Font,
        "js" | "mjs" => Kind::Script,
        "mp4" | "webm" | "mp3" | "m4a" | "ogg" | "m3u8" | "vtt" => Kind::Media,
        _ => return None,
    })
}

/// The hosts of the URLs in `text`, with each URL as written: after
/// `http:` or `https:` (any case), `//` or JavaScript's `\/\/`; with
/// `relative`, also a `//host` at the start or after a space, comma,
/// parenthesis, quote or `=` (protocol-relative URLs in attributes and CSS;
/// not in scripts, where `//` starts comments).
pub fn find_urls(text: &str, relative: bool) -> Vec<(String, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'/', b.get(i..).unwrap_or_default()) {
        let at = i + off;
        let (slashes, after) = if b.get(at + 1) == Some(&b'/') {
            (at, at + 2)
        } else if at >= 1
            && b[at - 1] == b'\\'
            && b.get(at + 1) == Some(&b'\\')
            && b.get(at + 2) == Some(&b'/')
        {
            (at - 1, at + 3)
        } else {
            i = at + 1;
            continue;
        };
        let before = &b[..slashes];
        let scheme = ["https:", "http:"]
            .iter()
            .find(|s| ends_with_ignore_case(before, s.as_bytes()))
            .map(|s| s.len());
        let start = match scheme {
            Some(len) => slashes - len,
            None if relative
                && matches!(
                    before.last(),
                    None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b'(' | b'"' | b'\'' | b'=')
                ) =>
            {
                slashes
            }
            None => {
                i = after;
                continue;
            }
        };
        match host_at(b, after) {
            Some((host, end)) => {
                let url_end = b[end..]
                    .iter()
                    .position(|c| {
                        c.is_ascii_whitespace()
                            || matches!(c, b'"' | b'\'' | b'(' | b')' | b'<' | b'>' | b'`')
                    })
                    .map_or(b.len(), |p| end + p);
                let url = text.get(start..url_end).unwrap_or_default();
                let cut = url
                    .char_indices()
                    .nth(EXAMPLE_CHARS)
                    .map_or(url, |(p, _)| &url[..p]);
                out.push((host, cut.to_owned()));
                i = end.max(after);
            }
            None => i = after,
        }
    }
    out
}

fn ends_with_ignore_case(text: &[u8], suffix: &[u8]) -> bool {
    text.len() >= suffix.len() && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The host of a URL whose authority starts at `at`: lower-case, without
/// userinfo or port; `None` unless it looks like a domain name or an IPv4
/// address.
fn host_at(b: &[u8], at: usize) -> Option<(String, usize)> {
    let is_host_byte = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_');
    let mut start = at;
    let mut end = start
        + b.get(start..)?
            .iter()
            .take_while(|c| is_host_byte(c))
            .count();
    if b.get(end) == Some(&b'@') {
        start = end + 1;
        end = start
            + b.get(start..)?
                .iter()
                .take_while(|c| is_host_byte(c))
                .count();
    }
    let host = std::str::from_utf8(&b[start..end])
        .ok()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let mut rest = end;
    if b.get(rest) == Some(&b':') {
        rest += 1 + b
            .get(rest + 1..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
    }
    let labels: Vec<&str> = host.split('.').collect();
    let ipv4 = labels.len() == 4
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 3 && l.bytes().all(|c| c.is_ascii_digit()));
    let domain = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && !l.starts_with('-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic()));
    (ipv4 || domain).then_some((host, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str, relative: bool) -> Vec<String> {
        find_urls(text, relative)
            .into_iter()
            .map(|(h, _)| h)
            .collect()
    }

    #[test]
    fn urls_are_found_absolute_protocol_relative_and_escaped() {
        assert_eq!(
            hosts(
                "see https://A.Example.com/x and http://b.example.org:8080/y",
                false
            ),
            ["a.example.com", "b.example.org"]
        );
        assert_eq!(
            hosts(
                r#"var u = "https:\/\/cdn.x.test\/a.js"; // not://c.x.test"#,
                false
            ),
            ["cdn.x.test"]
        );
        assert_eq!(
            hosts("//cdn.x.test/a.png 2x, //d.x.test/b.png", true),
            ["cdn.x.test", "d.x.test"]
        );
        assert_eq!(hosts("url(//bg.x.test/i.png)", true), ["bg.x.test"]);
        assert!(hosts("// a comment\n//cdn.x.test/x", false).is_empty());
        assert_eq!(hosts("https://user@h.x.test/", false), ["h.x.test"]);
        assert_eq!(hosts("http://10.0.0.1/x", false), ["10.0.0.1"]);
        assert!(hosts("https://localhost/ https:// http://x/ https://a.b1", false).is_empty());
        let (_, url) = &find_urls(r#"src="https://x.test/a b""#, false)[0];
        assert_eq!(url, "https://x.test/a");
    }

    #[test]
    fn places_and_kinds_come_from_the_markup() {
        let page = r#"<html xmlns="http://www.w3.org/1999/xhtml"><head>
            <link rel="stylesheet" href="https://static.x.test/site.css">
            <link rel="preload" as="font" href="https://fonts.x.test/f.woff2">
            <meta property="og:image" content="https://img.x.test/a.jpg">
            <meta name="description" content="from https://news.x.test/">
            <style>@font-face { src: url(//fonts.x.test/g.woff) } .a { background: url(https://bg.x.test/b) }</style>
            <script type="application/ld+json">{"@context": "https://schema.org", "logo": "https://img.x.test/l.png"}</script>
            </head><body itemscope itemtype="https://schema.org/Article">
            <img srcset="https://img.x.test/a.jpg 1x, https://img.x.test/b.jpg 2x">
            <a href="https://elsewhere.test/">x</a>
            <iframe src="https://video.x.test/embed/1"></iframe>
            <script>fetch("https://api.x.test/v1/x.json")</script>
            <noscript><img src="https://pixel.x.test/p.gif"></noscript>
            </body></html>"#;
        let found = scan(page);
        let has = |host: &str, place: &str, kind: Kind| {
            assert!(
                found
                    .iter()
                    .any(|f| f.host == host && f.place == place && f.kind == kind),
                "{host} {place} {kind:?} not in {found:#?}"
            );
        };
        has("static.x.test", "link[href]", Kind::Css);
        has("fonts.x.test", "link[href]", Kind::Font);
        has("img.x.test", "meta[content]", Kind::Image);
        has("news.x.test", "meta[content]", Kind::Other);
        has("fonts.x.test", "style", Kind::Font);
        has("bg.x.test", "style", Kind::Image);
        has("img.x.test", "json-ld", Kind::Image);
        has("img.x.test", "img[srcset]", Kind::Image);
        has("elsewhere.test", "a[href]", Kind::Link);
        has("video.x.test", "iframe[src]", Kind::Frame);
        has("api.x.test", "script", Kind::Other);
        has("pixel.x.test", "noscript > img[src]", Kind::Image);
        assert!(!found.iter().any(|f| f.host == "www.w3.org"));
        assert!(!found.iter().any(|f| f.host == "schema.org"));
        assert_eq!(found.iter().filter(|f| f.place == "img[srcset]").count(), 2);
    }
}
