//! Cleaned-article extraction from an (already rewritten) HTML page.
//!
//! The pipeline, one file per step:
//! - `limits`: cheap pre-scan of size and nesting depth, and the cooperative deadline,
//!   so hostile pages are refused before any DOM exists (the same pass lets the
//!   parser skip script and style bodies).
//! - `dom`: html5ever into a flat arena (no recursion anywhere, so deep trees cannot
//!   overflow the stack); `selector` is a small CSS selector engine for `[site.article]`.
//! - `meta`: title, byline, dates, language, site name, excerpt from JSON-LD,
//!   OpenGraph, `<meta>` and `<time>`; `dates` normalises dates to RFC 3339.
//! - `content`: finds the article body (readability-style scoring) and decides
//!   which nodes inside it are boilerplate, with `clean`'s vocabulary of furniture
//!   (tags, roles, class names, credit and notice lines); `output` writes
//!   `content_html` and `text`.
//! - `media` (lead image, captions, images) and `tags`; `urls` applies the
//!   mirror's URL rule to every link and image.
//! - [`markdown`]: the seed page's Markdown form of an [`Article`].
//! - `tuning`: named thresholds and switches, at their shipped values unless a
//!   benchmark sets them on its thread (`docs/extraction.md`).
//!
//! Dates without a zone: RFC 3339 has no date-time without an offset, and guessing
//! the site's zone would be wrong as often as right, so such dates are given as an
//! RFC 3339 `full-date` (`2023-10-06`); dates with a zone keep it (`+08:00`, `Z`).

mod body;
mod clean;
mod content;
mod dates;
mod dom;
mod limits;
pub mod markdown;
mod media;
mod meta;
mod output;
pub mod section;
mod selector;
mod tags;
mod text;
#[doc(hidden)]
pub mod tuning;
mod urls;

use std::time::Instant;

use serde::Serialize;
use url::Url;

pub use selector::SelectorError;
pub use text::{is_cjk, word_count};

/// CSS selectors from the site's `[site.article]` config; every field is optional.
///
/// Supported syntax: type, `#id`, `.class`, `[attr]`, `[attr=v]` (also `~= ^= $= *= |=`),
/// `*`, descendant and `>` child combinators, and `,` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selectors {
    pub title: Option<String>,
    pub body: Option<String>,
    pub byline: Option<String>,
    pub published: Option<String>,
    pub lead_image: Option<String>,
    pub caption: Option<String>,
    pub tags: Option<String>,
}

impl Selectors {
    /// Checks that every selector given is one this extractor understands, so a
    /// config can be refused at start instead of silently falling back per page.
    pub fn validate(&self) -> Result<(), SelectorError> {
        let all = [
            &self.title,
            &self.body,
            &self.byline,
            &self.published,
            &self.lead_image,
            &self.caption,
            &self.tags,
        ];
        for sel in all.into_iter().flatten() {
            selector::SelectorList::parse(sel)?;
        }
        Ok(())
    }
}

/// Work bounds for one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest page accepted, in bytes of UTF-8.
    pub max_bytes: usize,
    /// Deepest element nesting accepted. Real news pages stay well under 100; 512
    /// leaves room for generated markup while keeping the parser's work linear.
    pub max_depth: usize,
    /// Give up with [`ExtractError::Timeout`] after this instant.
    pub deadline: Option<Instant>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 5 * 1024 * 1024,
            max_depth: 512,
            deadline: None,
        }
    }
}

/// One page to extract from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub html: &'a str,
    /// The page's (mirror) URL: relative links resolve against it.
    pub page_url: &'a Url,
    pub selectors: Option<&'a Selectors>,
    pub limits: Limits,
}

/// The cleaned article (the API adds `site`, `url` and `original_url`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Article {
    pub title: String,
    pub byline: Option<String>,
    /// RFC 3339 date-time, or `full-date` when the page gives no zone.
    pub published: Option<String>,
    pub modified: Option<String>,
    /// BCP 47 tag, as declared by the page or detected from its text.
    pub lang: Option<String>,
    /// `"ltr"` or `"rtl"`.
    pub dir: String,
    pub excerpt: String,
    pub site_name: Option<String>,
    pub lead_image: Option<Image>,
    /// The lead image first (when there is one), then the body's images in order.
    pub images: Vec<Image>,
    pub tags: Vec<Tag>,
    pub content_html: String,
    /// Plain text: paragraphs separated by one blank line.
    pub text: String,
    pub word_count: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Image {
    /// Root-relative when on the page's origin, absolute for other hosts.
    pub url: String,
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    /// The tag's link; empty when the page names the tag without linking it
    /// (`article:tag` meta, JSON-LD `keywords`).
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("page is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("page nests elements deeper than {limit}")]
    TooDeep { limit: usize },
    #[error("extraction ran past its deadline")]
    Timeout,
    #[error("no article found on the page")]
    NoArticle,
}

/// Extracts the cleaned article from `input.html`.
pub fn extract(input: Input<'_>) -> Result<Article, ExtractError> {
    let mut budget = limits::Budget::new(input.limits.deadline);
    let unread = limits::prescan(input.html, &input.limits)?;
    let dom = dom::Dom::parse(&limits::without(input.html, &unread), &mut budget)?;
    let selectors = input.selectors.map(selector::CompiledSelectors::compile);
    let resolver = urls::Resolver::new(input.page_url, dom.base_href());
    let page = meta::PageMeta::read(&dom, &mut budget)?;
    let title = meta::title(&dom, &page, selectors.as_ref());
    let body = content::find_body(&dom, &title, selectors.as_ref(), &mut budget)?;
    let rendered = output::render(&dom, &body, &resolver, &mut budget)?;
    if !content::looks_like_article(&rendered.text, &body, page.declares_article()) {
        return Err(ExtractError::NoArticle);
    }
    let lead_image = media::lead_image(
        &dom,
        &page,
        &body,
        selectors.as_ref(),
        &resolver,
        &rendered.images,
    );
    let images = media::merge_images(lead_image.as_ref(), &rendered.images);
    let tags = tags::collect(&dom, &page, &body, selectors.as_ref(), &resolver);
    let meta = meta::resolve_fields(
        &dom,
        &page,
        &body,
        selectors.as_ref(),
        title,
        &rendered.text,
    );
    Ok(Article {
        word_count: word_count(&rendered.text),
        title: meta.title,
        byline: meta.byline,
        published: meta.published,
        modified: meta.modified,
        lang: meta.lang,
        dir: meta.dir,
        excerpt: meta.excerpt,
        site_name: meta.site_name,
        lead_image,
        images,
        tags,
        content_html: rendered.html,
        text: rendered.text,
    })
}
