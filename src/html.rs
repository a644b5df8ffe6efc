//! The streaming HTML rewriter: lol_html with one small handler per kind of
//! URL place, the operator's removals, and the injected nav bar and footer.
//!
//! Handlers do no URL reasoning of their own: they decode the attribute,
//! ask the [`UrlMapper`], and escape what it answers. Everything a handler
//! needs for one page lives in a [`PageContext`].

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, MutexGuard};

use lol_html::html_content::{ContentType, DocumentEnd, EndTag, TextChunk};
use lol_html::send::{DocumentContentHandlers, Element, ElementContentHandlers, HtmlRewriter};
use lol_html::{HandlerResult, MemorySettings, OutputSink, Selector};
use url::Url;

use crate::config::ExternalLinks;
use crate::css::{self, CssRewriter};
use crate::escape::{decode_attr, escape_attr};
use crate::site::Site;
use crate::upstream::BodyError;
use crate::url_map::{Mapped, Place, UrlMapper, srcset};

/// The stylesheet that styles the injected nav bar and footer.
pub const STYLESHEET_PATH: &str = "/_/static/newsmirror.css";
const STYLESHEET_LINK: &str = "<link rel=\"stylesheet\" href=\"/_/static/newsmirror.css\">";
/// First in `<head>`: the page leaves the mirror as UTF-8, whatever it was.
const HEAD_START: &str =
    "<meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/_/static/newsmirror.css\">";
/// Memory one page's rewriter may use for its buffers (tags cut across
/// chunks, long attributes). Past it, the rest of the page passes unrewritten
/// rather than being cut off.
pub const MEMORY_LIMIT: usize = 8 * 1024 * 1024;
const EXTERNAL_CLASS: &str = "newsmirror-external";

/// Selectors compiled once per site at start.
pub struct SiteRules {
    remove: Vec<Selector>,
    builtin: Vec<(Selector, Rule)>,
}

#[derive(Clone, Copy, Debug)]
enum Rule {
    Base,
    Anchor,
    LinkElement,
    Srcset(&'static str),
    Attr(&'static str, Place),
    Style,
    StyleText,
    Meta,
    Head,
    Body,
    Src,
}

const BUILTIN: &[(&str, Rule)] = &[
    // Tag names alone where the handler looks at the attributes anyway:
    // cheaper to match than attribute selectors, on every start tag.
    ("base", Rule::Base),
    ("a", Rule::Anchor),
    ("area", Rule::Anchor),
    ("link", Rule::LinkElement),
    // One selector for every `src` (each selector costs on every start tag;
    // the tag name is only read for the few elements that have a `src`).
    ("[src]", Rule::Src),
    ("[srcset]", Rule::Srcset("srcset")),
    ("[data-srcset]", Rule::Srcset("data-srcset")),
    ("[data-src]", Rule::Attr("data-src", Place::Image)),
    ("[data-original]", Rule::Attr("data-original", Place::Image)),
    ("[data-lazy-src]", Rule::Attr("data-lazy-src", Place::Image)),
    ("[poster]", Rule::Attr("poster", Place::Image)),
    ("[background]", Rule::Attr("background", Place::Image)),
    ("form", Rule::Attr("action", Place::Link)),
    ("[formaction]", Rule::Attr("formaction", Place::Link)),
    ("object", Rule::Attr("data", Place::Resource)),
    ("[style]", Rule::Style),
    ("style", Rule::StyleText),
    ("meta", Rule::Meta),
    ("head", Rule::Head),
    ("body", Rule::Body),
];

impl SiteRules {
    /// Compiles the built-in selectors and the site's `remove` list
    /// (validated at config load, so a failure here is a bug in the list).
    pub fn new(site: &Site) -> Result<SiteRules, String> {
        let remove = site
            .remove
            .iter()
            .map(|s| Selector::from_str(s).map_err(|e| format!("remove selector {s:?}: {e}")))
            .collect::<Result<_, _>>()?;
        let builtin = BUILTIN
            .iter()
            .map(|(s, r)| {
                Selector::from_str(s)
                    .map(|sel| (sel, *r))
                    .map_err(|e| format!("{s}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(SiteRules { remove, builtin })
    }
}

/// What the handlers of one page share.
pub struct PageContext {
    mapper: Arc<UrlMapper>,
    site: Arc<Site>,
    /// The upstream URL of the page.
    page_url: Url,
    /// The page URL, or the `<base href>` once seen.
    base: Mutex<Url>,
    style: Mutex<CssRewriter>,
    head_done: AtomicBool,
    nav_done: AtomicBool,
    footer_done: AtomicBool,
}

/// parking_lot: no poisoning, and a cheaper uncontended lock (these are
/// taken for every URL and every output chunk, never contended).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}

impl PageContext {
    pub fn new(mapper: Arc<UrlMapper>, site: Arc<Site>, page_url: Url) -> Arc<Self> {
        Arc::new(PageContext {
            mapper,
            site,
            base: Mutex::new(page_url.clone()),
            page_url,
            style: Mutex::new(CssRewriter::new()),
            head_done: AtomicBool::new(false),
            nav_done: AtomicBool::new(false),
            footer_done: AtomicBool::new(false),
        })
    }

    pub fn page_url(&self) -> &Url {
        &self.page_url
    }

    pub fn site(&self) -> &Arc<Site> {
        &self.site
    }

    pub fn mapper(&self) -> &Arc<UrlMapper> {
        &self.mapper
    }

    /// Maps a URL found on this page (already entity-decoded).
    pub fn map(&self, raw: &str, place: Place) -> Mapped {
        let base = lock(&self.base);
        self.mapper.map(self.site.id, &base, raw, place)
    }

    fn replacement(&self, raw: &str, place: Place) -> Option<String> {
        self.map(raw, place).into_replacement()
    }

    fn rewrite_attr(&self, el: &mut Element, name: &str, place: Place) -> HandlerResult {
        if let Some(raw) = el.get_attribute(name)
            && let Some(new) = self.replacement(&decode_attr(&raw), place)
        {
            el.set_attribute(name, &escape_attr(&new))?;
        }
        Ok(())
    }

    fn rewrite_srcset(&self, el: &mut Element, name: &str) -> HandlerResult {
        if let Some(raw) = el.get_attribute(name)
            && let Some(new) =
                srcset::rewrite(&decode_attr(&raw), |u| self.replacement(u, Place::Image))
        {
            el.set_attribute(name, &escape_attr(&new))?;
        }
        Ok(())
    }

    fn on_element(self: &Arc<Self>, rule: Rule, el: &mut Element) -> HandlerResult {
        match rule {
            Rule::Base => self.on_base(el),
            Rule::Anchor => self.on_anchor(el),
            Rule::LinkElement => self.on_link_element(el),
            Rule::Srcset(name) => self.rewrite_srcset(el, name),
            Rule::Attr(name, place) => self.rewrite_attr(el, name, place),
            Rule::Style => self.on_style_attr(el),
            Rule::Meta => self.on_meta(el),
            Rule::Head => self.on_head(el),
            Rule::Body => self.on_body(el),
            Rule::Src => {
                let place = match el.tag_name().as_str() {
                    "img" | "input" | "video" | "audio" | "source" | "track" | "image" => {
                        Place::Image
                    }
                    "iframe" | "frame" => Place::Link,
                    "script" => {
                        // A rewritten script no longer matches its hash.
                        el.remove_attribute("integrity");
                        Place::Resource
                    }
                    _ => Place::Resource,
                };
                self.rewrite_attr(el, "src", place)
            }
            Rule::StyleText => Ok(()),
        }
    }

    fn on_base(&self, el: &mut Element) -> HandlerResult {
        if let Some(raw) = el.get_attribute("href") {
            let decoded = decode_attr(&raw);
            let resolved = self.page_url.join(decoded.trim()).ok();
            if let Some(new) = self.replacement(&decoded, Place::Link) {
                el.set_attribute("href", &escape_attr(&new))?;
            }
            if let Some(url) = resolved {
                *lock(&self.base) = url;
            }
        }
        Ok(())
    }

    /// `<a>` and `<area>`: the link, tracking pings, the external-link policy.
    fn on_anchor(&self, el: &mut Element) -> HandlerResult {
        // Tracking beacons to upstream: gone.
        el.remove_attribute("ping");
        let Some(raw) = el.get_attribute("href") else {
            return Ok(());
        };
        match self.map(&decode_attr(&raw), Place::Link) {
            Mapped::Mirror(new) => el.set_attribute("href", &escape_attr(&new))?,
            Mapped::External(_) if el.tag_name() == "area" => {}
            Mapped::External(_) => match self.site.external_links {
                ExternalLinks::Keep => {}
                ExternalLinks::Mark => add_class(el, EXTERNAL_CLASS)?,
                ExternalLinks::Unlink => {
                    el.set_tag_name("span")?;
                    for attr in [
                        "href",
                        "target",
                        "rel",
                        "ping",
                        "download",
                        "hreflang",
                        "type",
                        "referrerpolicy",
                    ] {
                        el.remove_attribute(attr);
                    }
                    add_class(el, EXTERNAL_CLASS)?;
                }
            },
            Mapped::Unchanged => {}
        }
        Ok(())
    }

    fn on_link_element(&self, el: &mut Element) -> HandlerResult {
        // A rewritten stylesheet no longer matches its hash.
        el.remove_attribute("integrity");
        let rel = el
            .get_attribute("rel")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
        let has = |r: &str| rels.contains(&r);
        if has("dns-prefetch") || has("preconnect") {
            // Hints to resolve or dial upstream hosts from the reader's
            // network: useless through a mirror, and they leak the visit.
            if let Some(href) = el.get_attribute("href")
                && matches!(
                    self.map(&decode_attr(&href), Place::Resource),
                    Mapped::External(_)
                )
            {
                el.remove();
            }
            return Ok(());
        }
        let as_attr = el
            .get_attribute("as")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let place = if rels.iter().any(|r| r.contains("icon")) || as_attr == "image" {
            Place::Image
        } else if has("stylesheet")
            || has("preload")
            || has("modulepreload")
            || has("prefetch")
            || has("manifest")
        {
            Place::Resource
        } else {
            Place::Link
        };
        if has("canonical") {
            if let Some(raw) = el.get_attribute("href")
                && let Some(new) = self.replacement(&decode_attr(&raw), Place::Link)
            {
                el.set_attribute("href", &escape_attr(&self.mapper.absolute(&new)))?;
            }
        } else {
            self.rewrite_attr(el, "href", place)?;
        }
        self.rewrite_srcset(el, "imagesrcset")
    }

    fn on_style_attr(&self, el: &mut Element) -> HandlerResult {
        if let Some(raw) = el.get_attribute("style") {
            let decoded = decode_attr(&raw);
            let mut map = |u: &str, p: Place| self.replacement(u, p);
            if let Some(new) = css::rewrite_all(&decoded, &mut map) {
                el.set_attribute("style", &escape_attr(&new))?;
            }
        }
        Ok(())
    }

    fn on_style_text(&self, chunk: &mut TextChunk) -> HandlerResult {
        let mut out = String::with_capacity(chunk.as_str().len() + 16);
        {
            let mut map = |u: &str, p: Place| self.replacement(u, p);
            let mut style = lock(&self.style);
            style.feed(chunk.as_str(), &mut map, &mut out);
            if chunk.last_in_text_node() {
                style.finish(&mut map, &mut out);
            }
        }
        if out != chunk.as_str() {
            chunk.replace(&out, ContentType::Html);
        }
        Ok(())
    }

    fn on_meta(&self, el: &mut Element) -> HandlerResult {
        if el.has_attribute("charset") {
            el.set_attribute("charset", "utf-8")?;
        }
        if let Some(equiv) = el.get_attribute("http-equiv") {
            match equiv.trim().to_ascii_lowercase().as_str() {
                "content-type" => el.set_attribute("content", "text/html; charset=utf-8")?,
                "refresh" => {
                    if let Some(content) = el.get_attribute("content")
                        && let Some(new) =
                            crate::headers::map_refresh(&decode_attr(&content), |u| {
                                self.replacement(u, Place::Link)
                            })
                    {
                        el.set_attribute("content", &escape_attr(&new))?;
                    }
                }
                "content-security-policy" | "content-security-policy-report-only" => {
                    let policy = el.get_attribute("content").unwrap_or_default();
                    if crate::headers::csp_names_hosts(&decode_attr(&policy)) {
                        el.remove();
                    }
                }
                "set-cookie" => el.remove(),
                _ => {}
            }
        }
        let key = el
            .get_attribute("property")
            .or_else(|| el.get_attribute("name"))
            .or_else(|| el.get_attribute("itemprop"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let place = match key.as_str() {
            "og:url" | "twitter:url" => Some(Place::Link),
            "og:image"
            | "og:image:url"
            | "og:image:secure_url"
            | "twitter:image"
            | "twitter:image:src"
            | "image"
            | "thumbnail"
            | "msapplication-tileimage" => Some(Place::Image),
            _ => None,
        };
        if let Some(place) = place
            && let Some(content) = el.get_attribute("content")
            && let Some(new) = self.replacement(&decode_attr(&content), place)
        {
            el.set_attribute("content", &escape_attr(&self.mapper.absolute(&new)))?;
        }
        Ok(())
    }

    fn on_head(&self, el: &mut Element) -> HandlerResult {
        if !self.head_done.swap(true, Ordering::Relaxed) {
            el.prepend(HEAD_START, ContentType::Html);
        }
        Ok(())
    }

    fn on_body(self: &Arc<Self>, el: &mut Element) -> HandlerResult {
        if self.nav_done.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        let mut top = String::new();
        if !self.head_done.swap(true, Ordering::Relaxed) {
            top.push_str(STYLESHEET_LINK);
        }
        top.push_str(&self.site.nav_html);
        el.prepend(&top, ContentType::Html);
        let ctx = self.clone();
        // Footer before </body>. lol_html runs no end-tag handler for a body
        // closed implicitly; the document-end handler covers that case.
        let _ = el.on_end_tag(Box::new(move |end: &mut EndTag<'_>| {
            if !ctx.footer_done.swap(true, Ordering::Relaxed) {
                end.before(&ctx.footer(), ContentType::Html);
            }
            Ok(())
        }));
        Ok(())
    }

    fn on_end(&self, end: &mut DocumentEnd) -> HandlerResult {
        if !self.nav_done.swap(true, Ordering::Relaxed) {
            if !self.head_done.swap(true, Ordering::Relaxed) {
                end.append(STYLESHEET_LINK, ContentType::Html);
            }
            end.append(&self.site.nav_html, ContentType::Html);
        }
        if !self.footer_done.swap(true, Ordering::Relaxed) {
            end.append(&self.footer(), ContentType::Html);
        }
        Ok(())
    }

    fn footer(&self) -> String {
        self.site.footer_html(self.page_url.as_str())
    }
}

fn add_class(el: &mut Element, class: &str) -> HandlerResult {
    let value = match el.get_attribute("class") {
        Some(existing) if existing.split_ascii_whitespace().any(|c| c == class) => return Ok(()),
        Some(existing) if !existing.trim().is_empty() => format!("{} {class}", existing.trim()),
        _ => class.to_owned(),
    };
    el.set_attribute("class", &value)?;
    Ok(())
}

/// JSON-LD is data, not code: the article API reads it, browsers never run it.
fn is_json_ld(el: &Element) -> bool {
    el.tag_name() == "script"
        && el
            .get_attribute("type")
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
}

/// Collects lol_html's output until the pipeline takes it.
#[derive(Clone, Default)]
pub struct SharedSink(Arc<Mutex<Vec<u8>>>);

impl SharedSink {
    /// Moves what has been written so far to the end of `out`.
    pub fn drain_into(&self, out: &mut Vec<u8>) {
        let mut buf = lock(&self.0);
        if out.is_empty() {
            std::mem::swap(&mut *buf, out);
        } else {
            out.extend_from_slice(&buf);
            buf.clear();
        }
    }
}

impl OutputSink for SharedSink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        lock(&self.0).extend_from_slice(chunk);
    }
}

/// One page's rewriter.
pub struct PageRewriter {
    inner: Option<HtmlRewriter<'static, SharedSink>>,
    sink: SharedSink,
    /// Set once lol_html gave up (memory limit): the rest passes as is.
    bailed_out: bool,
}

impl PageRewriter {
    pub fn new(ctx: Arc<PageContext>, rules: &SiteRules) -> PageRewriter {
        let mut settings = lol_html::send::Settings::new_send()
            .with_memory_settings(
                MemorySettings::new()
                    .with_max_allowed_memory_usage(MEMORY_LIMIT)
                    .with_graceful_bail_out_on_memory_limit_exceeded(true),
            )
            // Non-strict: a page with ambiguous markup is rewritten, not refused.
            .with_strict(false);
        for (selector, rule) in &rules.builtin {
            let c = ctx.clone();
            let rule = *rule;
            let handlers = match rule {
                Rule::StyleText => ElementContentHandlers::default()
                    .text(move |t: &mut TextChunk| c.on_style_text(t)),
                _ => ElementContentHandlers::default()
                    .element(move |el: &mut Element| c.on_element(rule, el)),
            };
            settings = settings.append_element_content_handler((Cow::Borrowed(selector), handlers));
        }
        for selector in &rules.remove {
            let handlers = ElementContentHandlers::default().element(|el: &mut Element| {
                if !is_json_ld(el) {
                    el.remove();
                }
                Ok(())
            });
            settings = settings.append_element_content_handler((Cow::Borrowed(selector), handlers));
        }
        let c = ctx.clone();
        settings = settings.append_document_content_handler(
            DocumentContentHandlers::default().end(move |end: &mut DocumentEnd| c.on_end(end)),
        );
        let sink = SharedSink::default();
        PageRewriter {
            inner: Some(HtmlRewriter::new(settings, sink.clone())),
            sink,
            bailed_out: false,
        }
    }

    /// Rewrites the next piece of UTF-8 HTML, appending output to `out`.
    pub fn write(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), BodyError> {
        match self.inner.as_mut() {
            Some(r) => {
                let result = r.write(input);
                self.sink.drain_into(out);
                if let Err(e) = result {
                    self.give_up(e)?;
                }
            }
            None if self.bailed_out => out.extend_from_slice(input),
            None => {}
        }
        Ok(())
    }

    /// Ends the page (appending the footer if `</body>` never came).
    pub fn end(&mut self, out: &mut Vec<u8>) -> Result<(), BodyError> {
        if let Some(r) = self.inner.take() {
            let result = r.end();
            self.sink.drain_into(out);
            if let Err(e) = result {
                self.give_up(e)?;
            }
        }
        Ok(())
    }

    fn give_up(&mut self, e: lol_html::errors::RewritingError) -> Result<(), BodyError> {
        self.inner = None;
        match e {
            lol_html::errors::RewritingError::MemoryLimitExceeded(_) => {
                tracing::warn!(
                    "page exceeds the rewriter's memory limit; the rest passes unrewritten"
                );
                self.bailed_out = true;
                Ok(())
            }
            other => Err(BodyError::Rewrite(other.to_string())),
        }
    }
}
