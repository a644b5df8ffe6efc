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

use crate::body::{BodyError, Cause};
use crate::config::ExternalLinks;
use crate::css::{self, CssRewriter};
use crate::escape::{decode_attr, escape_attr};
use crate::site::Site;
use crate::text_urls::{TextUrls, UrlSource};
use crate::url_map::{Mapped, Place, UrlMapper, srcset};

/// The stylesheet that styles the injected nav bar and footer.
const STYLESHEET_LINK: &str = "<link rel=\"stylesheet\" href=\"/_/static/newsmirror.css\">";
/// First in `<head>`: the page leaves the mirror as UTF-8, whatever it was.
const HEAD_START: &str =
    "<meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/_/static/newsmirror.css\">";
/// Memory one page's rewriter may use for its buffers (tags cut across
/// chunks, long attributes). Past it, the rest of the page passes unrewritten
/// rather than being cut off.
pub const MEMORY_LIMIT: usize = 8 * 1024 * 1024;
const EXTERNAL_CLASS: &str = "newsmirror-external";

/// Hides nothing that a script would have shown: lazy-loading libraries
/// hide images until a script swaps in the real URL (no-script mode has
/// already done that).
const NO_SCRIPT_STYLE: &str = "<style>img[data-src],img[data-lazy-src],img[data-srcset],\
img.lazyload,img.lazy,img.lazyloaded,img.b-lazy{opacity:1!important;visibility:visible!important}</style>";

/// Attributes that hold a lazy image's real URL (in the order preferred),
/// and its real srcset. Other `data-*` attributes whose value is an image
/// URL count too ([`PageContext::promote_lazy`]).
const LAZY_SRC: &[&str] = &[
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-hi-res-src",
    "data-original-src",
    "data-lazy",
    "data-normal",
    "data-echo",
    "data-full-src",
    "data-img-src",
    "data-image",
    "data-url",
];
const LAZY_SRCSET: &[&str] = &["data-srcset", "data-lazy-srcset", "data-original-srcset"];

/// `data-*` attributes that rules of their own map; the generic rule leaves them.
const DATA_WITH_RULES: &[&str] = &["data-src", "data-srcset", "data-original", "data-lazy-src"];

/// More attributes than any real element has (the widest in the 91 `aeb`
/// pages has 64); an element with more is removed
/// ([`PageContext::on_element`]).
const MAX_ATTRIBUTES: usize = 256;

/// Selectors compiled once per site at start.
///
/// The built-in rules are one handler on `*` that looks at the tag name and
/// the attribute names itself ([`PageContext::on_element`]), plus the three
/// elements whose text is rewritten: an attribute selector (`[src]`,
/// `[srcset]`, ...) makes lol_html's selector VM read the attributes of
/// every start tag, and each selector matched calls a handler of its own;
/// one handler that reads the names once costs less (the article rewrite:
/// `cargo bench --bench pipeline -- rewrite`, BENCHMARKS.md).
pub struct SiteRules {
    remove: Vec<Selector>,
    every: Selector,
    style: Selector,
    script: Selector,
    noscript: Selector,
    /// Put first in `<head>` after [`HEAD_START`]: the page script's tag
    /// when the site's scripts run (`crate::worker`), the no-script style
    /// otherwise.
    head: String,
}

/// A selector (a site's `remove` entry or a built-in one) that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("selector {selector:?}: {error}")]
pub struct BadSelector {
    pub selector: String,
    #[source]
    pub error: lol_html::errors::SelectorError,
}

impl SiteRules {
    /// Compiles the built-in selectors and the site's `remove` list
    /// (validated at config load, so a failure here is a bug in the list);
    /// `page_script_tag` is what pages whose scripts run load first.
    /// `register_tag`: what pages whose scripts are removed load instead
    /// (the service worker's registration when it fails over, or nothing).
    pub fn new(
        site: &Site,
        page_script_tag: &str,
        register_tag: &str,
    ) -> Result<SiteRules, BadSelector> {
        let compile = |s: &str| {
            Selector::from_str(s).map_err(|error| BadSelector {
                selector: s.to_owned(),
                error,
            })
        };
        let remove = site
            .remove
            .iter()
            .map(|s| compile(s))
            .collect::<Result<_, _>>()?;
        let head = if site.scripts_removed() {
            format!("{NO_SCRIPT_STYLE}{register_tag}")
        } else {
            page_script_tag.to_owned()
        };
        Ok(SiteRules {
            remove,
            every: compile("*")?,
            style: compile("style")?,
            script: compile("script")?,
            noscript: compile("noscript")?,
            head: format!("{HEAD_START}{head}"),
        })
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
    /// The text of the `<script>` being read (its URLs are mapped as it streams).
    script_text: Mutex<TextUrls>,
    /// Inside a `<noscript>`'s content (a fragment rewriter is running).
    in_noscript: AtomicBool,
    /// `src` values of lazy images promoted lately (no-script mode): the
    /// same image in the `<noscript>` that follows is not shown twice.
    promoted: Mutex<std::collections::VecDeque<String>>,
}

/// How many promoted image URLs are remembered for the `<noscript>` after them.
const PROMOTED_KEPT: usize = 32;

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
            script_text: Mutex::new(TextUrls::new()),
            in_noscript: AtomicBool::new(false),
            promoted: Mutex::new(std::collections::VecDeque::new()),
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
        let Some(raw) = el.get_attribute(name) else {
            return Ok(());
        };
        let value = decode_attr(&raw);
        if name.starts_with("data-") && is_json(&value) {
            return self.rewrite_json_attr(el, name, &value);
        }
        match self.map(&value, place) {
            Mapped::Mirror(new) => el.set_attribute(name, &escape_attr(&new))?,
            // A subresource on a host the mirror does not serve would be
            // fetched from the reader's network (or blocked by the CSP):
            // not named at all.
            Mapped::External(_) if place != Place::Link => el.remove_attribute(name),
            _ => {}
        }
        Ok(())
    }

    fn rewrite_srcset(&self, el: &mut Element, name: &str) -> HandlerResult {
        let Some(raw) = el.get_attribute(name) else {
            return Ok(());
        };
        let mut external = false;
        let new = srcset::rewrite(&decode_attr(&raw), |u| match self.map(u, Place::Image) {
            Mapped::Mirror(m) => Some(m),
            Mapped::External(_) => {
                external = true;
                None
            }
            Mapped::Unchanged => None,
        });
        if external {
            // Candidates on hosts the mirror does not serve: the set is
            // not offered (`src`, mapped, still shows the image).
            el.remove_attribute(name);
        } else if let Some(new) = new {
            el.set_attribute(name, &escape_attr(&new))?;
        }
        Ok(())
    }

    /// Every element of the page: the rules of its tag, then those of the
    /// URL attributes that have rules of their own, then the generic rule
    /// ([`Self::on_any`]), which sees the attributes as the others left
    /// them. An element a rule removed is not looked at further.
    /// `fragment`: a `<noscript>`'s content or an `srcdoc`, where what
    /// happens once per document (head, nav bar, footer) does not.
    fn on_element(
        self: &Arc<Self>,
        el: &mut Element,
        rules: &Arc<SiteRules>,
        fragment: bool,
    ) -> HandlerResult {
        if el.attributes().len() > MAX_ATTRIBUTES {
            // Not a page's markup: looking up each of its attributes would
            // cost their number squared, and any of them may name a host.
            el.remove();
            return Ok(());
        }
        let tag = el.tag_name();
        let names: Vec<String> = el.attributes().iter().map(|a| a.name()).collect();
        match tag.as_str() {
            "base" => self.on_base(el)?,
            "a" | "area" => self.on_anchor(el, &tag, &names)?,
            "link" => self.on_link_element(el)?,
            "form" => self.rewrite_attr(el, "action", Place::Link)?,
            "object" => self.rewrite_attr(el, "data", Place::Resource)?,
            "meta" => self.on_meta(el)?,
            "head" if !fragment => self.on_head(el, &rules.head)?,
            "body" if !fragment => self.on_body(el, &rules.head)?,
            _ => {}
        }
        if el.removed() {
            return Ok(());
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                // A repeated attribute: the first is the one that counts
                // (and the one already mapped).
                continue;
            }
            match name.as_str() {
                "src" => self.on_src(el, &tag)?,
                "srcset" | "data-srcset" => self.rewrite_srcset(el, name)?,
                "data-src" | "data-original" | "data-lazy-src" | "poster" | "background" => {
                    self.rewrite_attr(el, name, Place::Image)?
                }
                "formaction" => self.rewrite_attr(el, name, Place::Link)?,
                "style" => self.on_style_attr(el)?,
                "srcdoc" if tag == "iframe" => on_srcdoc(self, rules, el)?,
                _ => {}
            }
            if el.removed() {
                return Ok(());
            }
        }
        self.on_any(el, &tag, &names)
    }

    /// `src`, by the element it is on.
    fn on_src(&self, el: &mut Element, tag: &str) -> HandlerResult {
        let place = match tag {
            "img" | "input" | "video" | "audio" | "source" | "track" | "image" => Place::Image,
            "iframe" | "frame" => {
                if let Some(raw) = el.get_attribute("src")
                    && matches!(
                        self.map(&decode_attr(&raw), Place::Link),
                        Mapped::External(_)
                    )
                {
                    // A frame of a host the mirror does not serve would
                    // load from the reader's network (the CSP refuses
                    // it): not named.
                    el.remove_attribute("src");
                    return Ok(());
                }
                Place::Link
            }
            "embed" | "object" => Place::Resource,
            "script" => {
                // A rewritten script no longer matches its hash.
                el.remove_attribute("integrity");
                if let Some(raw) = el.get_attribute("src")
                    && matches!(
                        self.map(&decode_attr(&raw), Place::Resource),
                        Mapped::External(_)
                    )
                {
                    // A script the mirror cannot serve is not asked for.
                    el.remove();
                    return Ok(());
                }
                Place::Resource
            }
            // Custom elements (`<amp-img>`, `<lazy-image>`, ...) show
            // media: an image host goes through `/_/img/`, which serves
            // nothing else.
            _ => Place::Image,
        };
        self.rewrite_attr(el, "src", place)
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
    fn on_anchor(&self, el: &mut Element, tag: &str, names: &[String]) -> HandlerResult {
        // Tracking beacons to upstream: gone.
        if names.iter().any(|n| n == "ping") {
            el.remove_attribute("ping");
        }
        let Some(raw) = el.get_attribute("href") else {
            return Ok(());
        };
        match self.map(&decode_attr(&raw), Place::Link) {
            Mapped::Mirror(new) => el.set_attribute("href", &escape_attr(&new))?,
            Mapped::External(_) if tag == "area" => {}
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
            // Hints to resolve or dial hosts from the reader's network: a
            // DNS lookup of a blocked host is what a censor logs, and a
            // mapped host is the mirror itself, already connected. A `rel`
            // that also names something fetched keeps that part.
            let rest: Vec<&str> = rels
                .iter()
                .copied()
                .filter(|r| !matches!(*r, "dns-prefetch" | "preconnect"))
                .collect();
            if rest.is_empty() {
                el.remove();
                return Ok(());
            }
            el.set_attribute("rel", &rest.join(" "))?;
            return self.on_link_element(el);
        }
        let fetches = has("stylesheet")
            || has("preload")
            || has("modulepreload")
            || has("prefetch")
            || has("prerender")
            || has("manifest")
            || rels.iter().any(|r| r.contains("icon"));
        if self.site.scripts_removed()
            && (has("modulepreload")
                || el
                    .get_attribute("as")
                    .is_some_and(|a| a.eq_ignore_ascii_case("script")))
        {
            el.remove();
            return Ok(());
        }
        if fetches
            && let Some(href) = el.get_attribute("href")
            && matches!(
                self.map(&decode_attr(&href), Place::Resource),
                Mapped::External(_)
            )
            && !self.is_image_link(el)
        {
            // A stylesheet, hint or icon on a host the mirror does not serve.
            el.remove();
            return Ok(());
        }
        let as_attr = el
            .get_attribute("as")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let place =
            if rels.iter().any(|r| r.contains("icon")) || has("image_src") || as_attr == "image" {
                Place::Image
            } else if has("stylesheet")
                || has("preload")
                || has("modulepreload")
                || has("prefetch")
                || has("prerender")
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

    /// `<link rel=icon>` or `as=image`: mapped as an image (signed
    /// `/_/img/` for other hosts when the site proxies all images).
    fn is_image_link(&self, el: &Element) -> bool {
        el.get_attribute("rel")
            .is_some_and(|r| r.to_ascii_lowercase().contains("icon"))
            || el
                .get_attribute("as")
                .is_some_and(|a| a.eq_ignore_ascii_case("image"))
    }

    /// `<script>`: gone in no-script mode (JSON-LD stays: it is data);
    /// otherwise its text's URLs are mapped as they stream.
    fn on_script(&self, el: &mut Element) -> HandlerResult {
        if self.site.scripts_removed() && !is_json_ld(el) {
            el.remove();
            return Ok(());
        }
        *lock(&self.script_text) = TextUrls::new();
        Ok(())
    }

    fn on_script_text(&self, chunk: &mut TextChunk) -> HandlerResult {
        let mut out = String::with_capacity(chunk.as_str().len() + 16);
        {
            let mut text = lock(&self.script_text);
            text.feed(chunk.as_str(), self, &mut out);
            if chunk.last_in_text_node() {
                text.finish(self, &mut out);
            }
        }
        if out != chunk.as_str() {
            chunk.replace(&out, ContentType::Html);
        }
        Ok(())
    }

    /// The generic rule, on every element, after the others ([`Self::on_element`]).
    fn on_any(&self, el: &mut Element, tag: &str, names: &[String]) -> HandlerResult {
        let scripts_removed = self.site.scripts_removed();
        // `href` of these is their own rule's.
        let own_href = matches!(tag, "a" | "area" | "link" | "base");
        for (i, name) in names.iter().enumerate() {
            let n = name.as_str();
            if names[..i].contains(name) {
                continue;
            }
            if scripts_removed && n.starts_with("on") {
                el.remove_attribute(n);
                continue;
            }
            let data = n.starts_with("data-");
            // What this rule maps (the other URL attributes have rules of
            // their own, which ran before).
            let mapped = (data && !DATA_WITH_RULES.contains(&n))
                || (n == "href" && !own_href)
                || n == "xlink:href"
                || names_a_url(n)
                || may_hold_a_url(n);
            // Where a `javascript:` URL goes in no-script mode.
            let checked = scripts_removed
                && (mapped || data || matches!(n, "href" | "src" | "action" | "formaction"));
            if !mapped && !checked {
                continue;
            }
            let Some(raw) = el.get_attribute(n) else {
                continue;
            };
            let value = decode_attr(&raw);
            if checked && is_javascript_url(&value) {
                el.remove_attribute(n);
                continue;
            }
            if !mapped {
                continue;
            }
            match n {
                "href" | "xlink:href" => self.rewrite_attr(el, n, svg_place(tag))?,
                n if data => self.rewrite_data_attr(el, n, &value)?,
                // `cite`, `addthis:url`, `st_url`, `organizationurl`, ...: a
                // URL on a served host is mapped like a link.
                n if names_a_url(n) => {
                    if looks_like_url(&value)
                        && let Some(new) = self.replacement(&value, Place::Link)
                    {
                        el.set_attribute(n, &escape_attr(&new))?;
                    }
                }
                // Any other attribute, decided by its value: an absolute URL
                // (`img[datasrc]`, `img[src-orig]`, `img[rel:bf_image_src]`,
                // `span[guid]`) is an image on an image element or under an
                // image-like name, else a link.
                n => {
                    if is_absolute_url(&value) {
                        let image = matches!(tag, "img" | "source" | "picture" | "image")
                            || image_like(n, "");
                        let place = if image { Place::Image } else { Place::Link };
                        if let Some(new) = self.replacement(&value, place) {
                            el.set_attribute(n, &escape_attr(&new))?;
                        }
                    }
                }
            }
        }
        if scripts_removed && matches!(tag, "img" | "source" | "iframe" | "video") {
            self.promote_lazy(el, tag)?;
        }
        if scripts_removed
            && tag == "img"
            && self.in_noscript.load(Ordering::Relaxed)
            && let Some(src) = el.get_attribute("src")
            && lock(&self.promoted).contains(&src)
        {
            // The lazy image before this `<noscript>` already shows it.
            el.remove();
        }
        Ok(())
    }

    /// A `data-*` attribute holding JSON (a widget's settings): the URLs of
    /// served hosts inside it, as in script text.
    fn rewrite_json_attr(&self, el: &mut Element, name: &str, value: &str) -> HandlerResult {
        let new = if image_like(name, "") {
            crate::text_urls::rewrite_all(value, &JsonImages(self))
        } else {
            crate::text_urls::rewrite_all(value, self)
        };
        if let Some(new) = new {
            el.set_attribute(name, &escape_attr(&new))?;
        }
        Ok(())
    }

    /// A `data-*` attribute whose value is a URL or a srcset on a host the
    /// mirror serves (or an image URL, when the site proxies all images).
    fn rewrite_data_attr(&self, el: &mut Element, name: &str, value: &str) -> HandlerResult {
        if is_json(value) {
            return self.rewrite_json_attr(el, name, value);
        }
        let v = value.trim();
        if v.len() > 8192 {
            return Ok(());
        }
        if !looks_like_url(v) {
            // A URL inside a longer value (`data-dsqidentifier="600475
            // https://www.site/?p=600475"`): served hosts' URLs, as in text.
            if v.contains("//")
                && let Some(new) = crate::text_urls::rewrite_all(value, self)
            {
                el.set_attribute(name, &escape_attr(&new))?;
            }
            return Ok(());
        }
        let map = |u: &str| match self.map(u, Place::Link) {
            Mapped::Mirror(m) => Some(m),
            Mapped::External(url) if image_like(name, url.path()) => {
                self.replacement(u, Place::Image)
            }
            _ => None,
        };
        let new = if v.contains(|c: char| c.is_ascii_whitespace()) {
            srcset::rewrite(v, map)
        } else {
            map(v)
        };
        if let Some(new) = new {
            el.set_attribute(name, &escape_attr(&new))?;
        }
        Ok(())
    }

    /// No-script mode: the real URL of a lazy image becomes its `src` (and
    /// `srcset`), as the page's script would have done.
    fn promote_lazy(&self, el: &mut Element, tag: &str) -> HandlerResult {
        if tag != "source" {
            let real = LAZY_SRC
                .iter()
                .find_map(|n| {
                    el.get_attribute(n)
                        .filter(|v| !v.trim().is_empty() && !is_json(&decode_attr(v)))
                })
                .or_else(|| {
                    el.attributes()
                        .iter()
                        .filter(|a| a.name().starts_with("data-"))
                        .map(|a| a.value())
                        .find(|v| {
                            let d = decode_attr(v);
                            looks_like_url(&d) && image_like("", &d)
                        })
                });
            if let Some(real) = real {
                el.set_attribute("src", &real)?;
                let mut promoted = lock(&self.promoted);
                if promoted.len() == PROMOTED_KEPT {
                    promoted.pop_front();
                }
                promoted.push_back(real);
            }
        }
        if let Some(real) = LAZY_SRCSET.iter().find_map(|n| {
            el.get_attribute(n)
                .filter(|v| !v.trim().is_empty() && !is_json(&decode_attr(v)))
        }) {
            el.set_attribute("srcset", &real)?;
        }
        Ok(())
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
        // The page leaves as UTF-8: one declaration says so. Once the
        // mirror's own `<meta charset>` opened `<head>`, the page's goes.
        let injected =
            self.head_done.load(Ordering::Relaxed) && !self.in_noscript.load(Ordering::Relaxed);
        if el.has_attribute("charset") {
            if injected {
                el.remove();
                return Ok(());
            }
            el.set_attribute("charset", "utf-8")?;
        }
        if let Some(equiv) = el.get_attribute("http-equiv") {
            match equiv.trim().to_ascii_lowercase().as_str() {
                "content-type" if injected => el.remove(),
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
                    // The mirror's own policy replaces upstream's (header);
                    // one that names upstream hosts goes in any case.
                    let policy = el.get_attribute("content").unwrap_or_default();
                    if self.site.csp || crate::headers::csp_names_hosts(&decode_attr(&policy)) {
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
        let place = match meta_url_place(&key) {
            Some(place) => Some(place),
            // Any other meta whose content is a URL (`itemprop=contentUrl`,
            // `logo`, `embedUrl`, ...): mapped when it is on a served host.
            None if !key.is_empty() => el
                .get_attribute("content")
                .filter(|c| looks_like_url(&decode_attr(c)))
                .map(|_| {
                    if ["image", "logo", "thumbnail", "icon"]
                        .iter()
                        .any(|w| key.contains(w))
                    {
                        Place::Image
                    } else {
                        Place::Link
                    }
                }),
            _ => None,
        };
        if let Some(place) = place
            && let Some(content) = el.get_attribute("content")
            && let Some(new) = self.replacement(&decode_attr(&content), place)
        {
            el.set_attribute("content", &escape_attr(&self.mapper.absolute(&new)))?;
        } else if let Some(content) = el.get_attribute("content")
            && let Some(new) = crate::text_urls::rewrite_all(&decode_attr(&content), self)
        {
            // URLs inside a structured value (`msapplication-task`:
            // `name=..;action-uri=https://www.site/feed/;icon-uri=...`, or
            // JSON: `{"url":"https:\/\/www.site\/a"}`).
            el.set_attribute("content", &escape_attr(&new))?;
        }
        Ok(())
    }

    fn on_head(&self, el: &mut Element, head: &str) -> HandlerResult {
        if !self.head_done.swap(true, Ordering::Relaxed) {
            el.prepend(&self.with_feed_link(head), ContentType::Html);
        }
        Ok(())
    }

    /// `head`, and on a section page (one the nav bar links: the nav items
    /// are the site's sections) a link to the feed the mirror makes of it
    /// (`/_/feed`), so that feed readers find one.
    fn with_feed_link<'a>(&self, head: &'a str) -> std::borrow::Cow<'a, str> {
        if self.site.nav.is_empty() {
            return head.into();
        }
        let Mapped::Mirror(path) = self.mapper.map(
            self.site.id,
            &self.page_url,
            self.page_url.as_str(),
            Place::Link,
        ) else {
            return head.into();
        };
        let Some(item) = self.site.nav.iter().find(|n| n.href.trim() == path) else {
            return head.into();
        };
        let query: String =
            percent_encoding::utf8_percent_encode(&path, percent_encoding::NON_ALPHANUMERIC)
                .collect();
        format!(
            "{head}<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{}\" href=\"{}?url={query}\">",
            escape_attr(&item.label),
            crate::routes::FEED
        )
        .into()
    }

    /// `head`: what `<head>` would have got, for a page without one.
    fn on_body(self: &Arc<Self>, el: &mut Element, head: &str) -> HandlerResult {
        if self.nav_done.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        let mut top = String::new();
        if !self.head_done.swap(true, Ordering::Relaxed) {
            top.push_str(&self.with_feed_link(head));
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

/// URLs in script and JSON text: those of served hosts, and, when the
/// site proxies all images, photo URLs of any host (by their extension:
/// `"https:\/\/cdn.other\/a.jpg"` in a gallery's state), which become
/// signed image URLs that the page's scripts then load from the mirror.
impl UrlSource for PageContext {
    fn is_mapped_host(&self, host: &str) -> bool {
        self.site.proxy_all_images || self.mapper.is_mapped_host(host)
    }

    fn map(&self, url: &str) -> Mapped {
        // Every URL of script text comes here when all images are proxied:
        // another host's URL that does not even end like a photo is left
        // before it is parsed.
        if self.site.proxy_all_images
            && !photo_like(url.split(['?', '#']).next().unwrap_or(url))
            && !self.mapper.is_mapped_host(&raw_host(url))
        {
            return Mapped::Unchanged;
        }
        match PageContext::map(self, url, Place::Resource) {
            Mapped::External(u) if self.site.proxy_all_images && photo_like(u.path()) => {
                PageContext::map(self, url, Place::Image)
            }
            other => other,
        }
    }
}

/// The host of an absolute or protocol-relative URL as written, lower-case
/// (a cheap look before the URL parser's).
fn raw_host(url: &str) -> String {
    let rest = url.split_once("//").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#', ':', '\\'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The URLs inside a JSON attribute whose name says image (msn's
/// `data-src='{"default":"//img-s-msn-com.akamaized.net/…/BBX.img?h=…"}'`):
/// every one is an image, whatever its extension.
struct JsonImages<'a>(&'a PageContext);

impl UrlSource for JsonImages<'_> {
    fn is_mapped_host(&self, host: &str) -> bool {
        self.0.is_mapped_host(host)
    }

    fn map(&self, url: &str) -> Mapped {
        match PageContext::map(self.0, url, Place::Resource) {
            Mapped::External(_) => PageContext::map(self.0, url, Place::Image),
            other => other,
        }
    }
}

/// The URL place of a `<meta>` whose `property`/`name`/`itemprop` is `key`
/// (lower-case) and whose `content` is always a URL: the page's own URL or
/// an image. Shared by the rewriter and `newsmirror audit`.
pub fn meta_url_place(key: &str) -> Option<Place> {
    match key {
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
    }
}

/// SVG's `<use>`, `<image>` and `<feImage>` fetch what they name; an SVG
/// `<a>` (or a custom element's `href`) is a link.
fn svg_place(tag: &str) -> Place {
    match tag {
        "use" | "image" | "feimage" => Place::Image,
        _ => Place::Link,
    }
}

/// An absolute, protocol-relative or root-relative URL (a lazy attribute's
/// value; other `data-*` values are left alone).
fn looks_like_url(v: &str) -> bool {
    let v = v.trim_start();
    let lower = v.get(..8).unwrap_or(v).to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || v.starts_with("//")
        || (v.starts_with('/') && v.len() > 1)
}

/// Attribute names (besides `href`/`src`/`data-*`) that hold a URL.
fn names_a_url(name: &str) -> bool {
    !name.starts_with("data-")
        && !matches!(
            name,
            "href" | "src" | "srcset" | "action" | "formaction" | "poster"
        )
        && (name.contains("url")
            || name.contains("uri")
            || matches!(name, "cite" | "itemid" | "longdesc" | "app-argument"))
}

/// An attribute the generic rule reads the value of, to see whether it is
/// a URL: any but those of the other rules and those that never hold a
/// URL to map (the common ones are not even read: this runs on every
/// element).
fn may_hold_a_url(name: &str) -> bool {
    !(name.starts_with("data-")
        || name.starts_with("aria-")
        || name.ends_with("srcset")
        || name.starts_with("on")
        || name.starts_with("xmlns")
        || names_a_url(name)
        || matches!(
            name,
            // Mapped by rules of their own.
            "href" | "xlink:href" | "src" | "srcset" | "poster" | "background" | "action"
                | "formaction" | "data" | "style" | "content" | "srcdoc"
                // Text, identifiers, vocabulary and presentation.
                | "class" | "id" | "name" | "type" | "rel" | "rev" | "lang" | "dir" | "role"
                | "title" | "alt" | "value" | "placeholder" | "label" | "for" | "width"
                | "height" | "sizes" | "media" | "loading" | "decoding" | "fetchpriority"
                | "target" | "tabindex" | "hidden" | "async" | "defer" | "crossorigin"
                | "integrity" | "referrerpolicy" | "charset" | "http-equiv" | "property"
                | "itemprop" | "itemtype" | "itemscope" | "prefix" | "typeof" | "vocab"
                | "method" | "enctype" | "autocomplete" | "maxlength" | "checked"
                | "selected" | "disabled" | "readonly" | "required" | "colspan" | "rowspan"
                | "border" | "align" | "valign" | "cellpadding" | "cellspacing" | "scope"
                | "headers" | "nonce" | "translate" | "draggable" | "spellcheck"
                | "contenteditable" | "frameborder" | "allowfullscreen" | "allow"
                | "scrolling" | "sandbox" | "viewbox" | "d" | "fill" | "stroke"
                | "stroke-width" | "transform" | "points" | "x" | "y" | "cx" | "cy" | "r"
                | "rx" | "ry" | "x1" | "x2" | "y1" | "y2" | "version" | "focusable"
        ))
}

/// One `http://…`, `https://…` or `//host…` URL: what the generic rule
/// maps in an attribute of unknown meaning (a root-relative value there
/// may be anything, and a value with spaces is more than a URL).
fn is_absolute_url(v: &str) -> bool {
    let v = v.trim();
    if v.contains(|c: char| c.is_ascii_whitespace()) {
        return false;
    }
    let lower = v.get(..8).unwrap_or(v).to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || (v.starts_with("//") && v.as_bytes().get(2).is_some_and(u8::is_ascii_alphanumeric))
}

/// A value that is JSON rather than a URL (`{...}`, `[...]`).
fn is_json(v: &str) -> bool {
    let v = v.trim_start();
    v.starts_with('{') || v.starts_with('[')
}

/// Whether a `data-*` attribute or a URL path names an image.
fn image_like(name: &str, path: &str) -> bool {
    let path = path
        .split(['?', '#', ' '])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg"]
        .iter()
        .any(|e| path.ends_with(e))
        || [
            "src", "img", "image", "poster", "thumb", "media", "original", "lazy", "bg",
        ]
        .iter()
        .any(|w| name.contains(w))
}

/// A path that names a photograph (`.jpg`, `.png`, `.webp`, `.avif`): what a
/// script's state holds for a gallery. Not `.gif` (the usual tracking
/// pixel, which the mirror would otherwise fetch for every reader) nor
/// `.svg`.
fn photo_like(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".webp", ".avif"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// `javascript:` as the URL parser reads it (tabs, newlines and leading
/// controls or spaces do not hide it).
fn is_javascript_url(v: &str) -> bool {
    let mut chars = v
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    "javascript:"
        .chars()
        .all(|want| chars.next().is_some_and(|c| c.to_ascii_lowercase() == want))
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

/// `<noscript>`: lol_html hands its content as text (it parses as a
/// browser with scripts does), but a browser without them, and the
/// no-script mode, read it as markup. The text is fed, as it streams, to a
/// fragment rewriter with the page's rules, and its output replaces it. In
/// no-script mode the element itself goes, its content staying live.
fn noscript_handlers(
    ctx: Arc<PageContext>,
    rules: Arc<SiteRules>,
) -> ElementContentHandlers<'static> {
    let current: Arc<Mutex<Option<PageRewriter>>> = Arc::default();
    let (c, cur) = (ctx.clone(), current.clone());
    ElementContentHandlers::default()
        .element(move |el: &mut Element| {
            if c.site.scripts_removed() {
                el.remove_and_keep_content();
            }
            *lock(&cur) = Some(PageRewriter::fragment(c.clone(), &rules));
            Ok(())
        })
        .text(move |chunk: &mut TextChunk| {
            let mut guard = lock(&current);
            let Some(fragment) = guard.as_mut() else {
                return Ok(());
            };
            let mut out = Vec::with_capacity(chunk.as_str().len() + 64);
            ctx.in_noscript.store(true, Ordering::Relaxed);
            let mut result = fragment.write(chunk.as_str().as_bytes(), &mut out);
            if chunk.last_in_text_node() && result.is_ok() {
                result = fragment.end(&mut out);
                *guard = None;
            }
            ctx.in_noscript.store(false, Ordering::Relaxed);
            result?;
            chunk.replace(&String::from_utf8_lossy(&out), ContentType::Html);
            Ok(())
        })
}

/// `<iframe srcdoc>`: the document in the attribute, rewritten with the
/// page's rules (it is shown on the mirror's origin, under its policy).
fn on_srcdoc(ctx: &Arc<PageContext>, rules: &Arc<SiteRules>, el: &mut Element) -> HandlerResult {
    let Some(raw) = el.get_attribute("srcdoc") else {
        return Ok(());
    };
    let markup = decode_attr(&raw);
    let mut fragment = PageRewriter::fragment(ctx.clone(), rules);
    let mut out = Vec::with_capacity(markup.len() + 64);
    fragment.write(markup.as_bytes(), &mut out)?;
    fragment.end(&mut out)?;
    el.set_attribute("srcdoc", &escape_attr(&String::from_utf8_lossy(&out)))?;
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
    /// The rewriter of a whole page.
    pub fn new(ctx: Arc<PageContext>, rules: &Arc<SiteRules>) -> PageRewriter {
        Self::build(ctx, rules, false)
    }

    /// The rewriter of a fragment of a page (a `<noscript>`'s content, an
    /// `srcdoc`): the page's rules, without what happens once per document
    /// (head, nav bar, footer).
    pub fn fragment(ctx: Arc<PageContext>, rules: &Arc<SiteRules>) -> PageRewriter {
        Self::build(ctx, rules, true)
    }

    fn build(ctx: Arc<PageContext>, rules: &Arc<SiteRules>, fragment: bool) -> PageRewriter {
        let mut settings = lol_html::send::Settings::new_send()
            .with_memory_settings(
                MemorySettings::new()
                    .with_max_allowed_memory_usage(MEMORY_LIMIT)
                    .with_graceful_bail_out_on_memory_limit_exceeded(true),
            )
            // Non-strict: a page with ambiguous markup is rewritten, not refused.
            .with_strict(false);
        // The elements whose text is rewritten, then every element (an
        // element's handlers run in this order: a `<script>` removed in
        // no-script mode is not looked at further), then the removals.
        let c = ctx.clone();
        settings = settings.append_element_content_handler((
            Cow::Borrowed(&rules.style),
            ElementContentHandlers::default().text(move |t: &mut TextChunk| c.on_style_text(t)),
        ));
        let (c, t) = (ctx.clone(), ctx.clone());
        settings = settings.append_element_content_handler((
            Cow::Borrowed(&rules.script),
            ElementContentHandlers::default()
                .element(move |el: &mut Element| c.on_script(el))
                .text(move |chunk: &mut TextChunk| t.on_script_text(chunk)),
        ));
        if !fragment {
            settings = settings.append_element_content_handler((
                Cow::Borrowed(&rules.noscript),
                noscript_handlers(ctx.clone(), rules.clone()),
            ));
        }
        let (c, r) = (ctx.clone(), rules.clone());
        settings = settings.append_element_content_handler((
            Cow::Borrowed(&rules.every),
            ElementContentHandlers::default()
                .element(move |el: &mut Element| c.on_element(el, &r, fragment)),
        ));
        for selector in &rules.remove {
            let handlers = ElementContentHandlers::default().element(|el: &mut Element| {
                if !is_json_ld(el) {
                    el.remove();
                }
                Ok(())
            });
            settings = settings.append_element_content_handler((Cow::Borrowed(selector), handlers));
        }
        if !fragment {
            let c = ctx.clone();
            settings = settings.append_document_content_handler(
                DocumentContentHandlers::default().end(move |end: &mut DocumentEnd| c.on_end(end)),
            );
        }
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
            other => Err(BodyError::Rewrite(Cause::new(other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_links_name_the_stylesheet_route() {
        let href = format!("href=\"{}\"", crate::routes::STYLESHEET);
        for tag in [STYLESHEET_LINK, HEAD_START] {
            assert!(tag.contains(&href), "{tag}");
        }
    }
}
