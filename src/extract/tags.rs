//! Article tags: configured selector, else `rel=tag` links, `/tag/` links in or next
//! to the body, links in tag-named containers, then `article:tag` meta and JSON-LD
//! `keywords` (which name tags without linking them).

use std::sync::LazyLock;

use html5ever::local_name;
use regex::Regex;

use super::Tag;
use super::body::Body;
use super::clean;
use super::dom::{Dom, NodeId};
use super::meta::PageMeta;
use super::selector::CompiledSelectors;
use super::text::collapse_whitespace;
use super::urls::Resolver;

/// More than this is a tag cloud, not an article's tags.
const MAX_TAGS: usize = 50;

static TAG_CONTAINER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(^|[\s_-])(tags?|tagsdiv|tag-?list|tagcloud|keywords?|topics?)([\s_-]|$)").ok()
});

static TAG_PATH: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)/(tags?|topics?|keywords?|tagged)/[^/?#]").ok());

pub(crate) fn collect(
    dom: &Dom,
    page: &PageMeta,
    body: &Body,
    selectors: Option<&CompiledSelectors>,
    resolver: &Resolver,
) -> Vec<Tag> {
    let mut tags = Tags::default();
    if let Some(sel) = selectors.and_then(|s| s.tags.as_ref()) {
        for found in sel.select_all(dom, Dom::ROOT) {
            for link in dom
                .descendants(found)
                .filter(|d| dom.is(*d, &local_name!("a")))
            {
                tags.add_link(dom, link, resolver);
            }
            if !dom.is(found, &local_name!("a"))
                && !dom.descendants(found).any(|d| dom.is(d, &local_name!("a")))
            {
                tags.add(&dom.text_content(found), String::new());
            }
        }
        if !tags.0.is_empty() {
            return tags.0;
        }
    }
    for link in dom.elements_named(&local_name!("a")) {
        let rel_tag = dom
            .attr(link, "rel")
            .is_some_and(|r| r.split_whitespace().any(|t| t.eq_ignore_ascii_case("tag")));
        if rel_tag
            || (is_tag_path(dom, link) && in_article_area(dom, body, link))
            || in_tag_container(dom, link)
        {
            tags.add_link(dom, link, resolver);
        }
    }
    for name in page.meta_all("article:tag") {
        tags.add(name, String::new());
    }
    for name in &page.jsonld.keywords {
        tags.add(name, String::new());
    }
    tags.0.truncate(MAX_TAGS);
    tags.0
}

#[derive(Default)]
struct Tags(Vec<Tag>);

impl Tags {
    fn add_link(&mut self, dom: &Dom, link: NodeId, resolver: &Resolver) {
        let url = dom
            .attr(link, "href")
            .and_then(|h| resolver.resolve(h))
            .unwrap_or_default();
        self.add(&dom.text_content(link), url);
    }

    /// Adds a tag unless one of the same name is there; a linked duplicate gives its
    /// URL to an unlinked one.
    fn add(&mut self, name: &str, url: String) {
        let name = collapse_whitespace(name.trim_start_matches('#'));
        if name.is_empty() || name.chars().count() > 60 {
            return;
        }
        match self
            .0
            .iter_mut()
            .find(|t| t.name.to_lowercase() == name.to_lowercase())
        {
            Some(existing) if existing.url.is_empty() => existing.url = url,
            Some(_) => {}
            None => self.0.push(Tag { name, url }),
        }
    }
}

fn is_tag_path(dom: &Dom, link: NodeId) -> bool {
    dom.attr(link, "href")
        .is_some_and(|h| TAG_PATH.as_ref().is_some_and(|re| re.is_match(h)))
}

/// Inside the body, or inside the element that holds it.
fn in_article_area(dom: &Dom, body: &Body, id: NodeId) -> bool {
    body.roots
        .iter()
        .any(|r| dom.is_ancestor(*r, id) || dom.is_ancestor(dom.parent(*r), id))
        && !in_furniture(dom, id)
}

fn in_tag_container(dom: &Dom, link: NodeId) -> bool {
    let Some(re) = TAG_CONTAINER.as_ref() else {
        return false;
    };
    dom.ancestors(link)
        .take(4)
        .any(|a| re.is_match(&clean::names_of(dom, a)))
        && !in_furniture(dom, link)
}

/// Navigation, sidebars and footers hold site-wide tag clouds.
fn in_furniture(dom: &Dom, id: NodeId) -> bool {
    dom.ancestors(id).any(|a| {
        dom.tag(a)
            .is_some_and(|t| clean::is_furniture_tag(t) || *t == local_name!("header"))
            || clean::has_furniture_role(dom, a)
            || clean::names_of(dom, a)
                .to_ascii_lowercase()
                .contains("sidebar")
    })
}
