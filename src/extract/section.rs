//! The articles a section page lists: its teasers, found by their links.
//!
//! A link is an article's when it leads to another page of the site
//! (not `/_/`, not a fragment, not another host), its path looks like a
//! page rather than a section (a digit in it, or not ending in `/`), and
//! its text reads like a headline (at least 8 characters of CJK text or
//! 4 words), outside the page's furniture (`nav`, `header`, `footer`,
//! `aside`, the mirror's own bar and footer). Links to the same URL are one
//! article: the headline from its first good link, the image from any.
//! Each article's teaser is the largest ancestor of its link that holds no
//! other article's link (at most [`MAX_CLIMB`] levels up); its first image,
//! first paragraph that is not the headline, and `<time>` (or a date in
//! its text) are the article's lead image, excerpt and date.

use super::dom::{Dom, NodeId};
use super::limits::{self, Budget};
use super::{ExtractError, Input, dates, urls};

/// Most articles a section gives.
pub const MAX_ARTICLES: usize = 100;
/// Levels a teaser may climb above its link.
const MAX_CLIMB: usize = 4;

/// A section page's title and articles.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Section {
    pub title: String,
    pub articles: Vec<Teaser>,
}

/// One article as the section lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Teaser {
    pub title: String,
    /// As the page links it (a mirror path on a rewritten page).
    pub url: String,
    pub published: Option<String>,
    pub lead_image: Option<String>,
    pub excerpt: Option<String>,
}

/// Reads the section page in `input.html`.
pub fn section(input: Input<'_>) -> Result<Section, ExtractError> {
    let mut budget = Budget::new(input.limits.deadline);
    let unread = limits::prescan(input.html, &input.limits)?;
    let dom = Dom::parse(&limits::without(input.html, &unread), &mut budget)?;
    let resolver = urls::Resolver::new(input.page_url, dom.base_href());
    let body = dom.body();
    // Candidate links, in document order: (anchor, url, headline).
    let mut links: Vec<(NodeId, String, String)> = Vec::new();
    for id in dom.descendants(body) {
        budget.tick()?;
        if !dom.is(id, &html5ever::local_name!("a")) || in_furniture(&dom, id) {
            continue;
        }
        let Some(href) = dom.attr(id, "href") else {
            continue;
        };
        let Some(url) = article_url(&resolver, input.page_url, href) else {
            continue;
        };
        let text = collapse(&dom.text_content(id));
        links.push((id, url, text));
    }
    let mut order: Vec<String> = Vec::new();
    let mut listed: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (_, url, text) in &links {
        if reads_like_headline(text) && listed.insert(url.as_str()) {
            order.push(url.clone());
        }
    }
    order.truncate(MAX_ARTICLES);
    // Which articles' headline links each element holds: one, or several
    // (then it is a list, not a teaser). Up to MAX_CLIMB + 1 levels above
    // each link, so this is linear in the links.
    let mut owners: std::collections::HashMap<NodeId, Owner<'_>> = std::collections::HashMap::new();
    for (id, url, text) in &links {
        if !reads_like_headline(text) {
            continue;
        }
        for a in dom.ancestors(*id).take(MAX_CLIMB + 1) {
            owners
                .entry(a)
                .and_modify(|o| {
                    if *o != Owner::One(url.as_str()) {
                        *o = Owner::Many;
                    }
                })
                .or_insert(Owner::One(url.as_str()));
        }
    }
    let mut articles = Vec::with_capacity(order.len());
    for url in &order {
        budget.tick()?;
        let anchors: Vec<NodeId> = links
            .iter()
            .filter(|(_, u, _)| u == url)
            .map(|(id, _, _)| *id)
            .collect();
        let title = links
            .iter()
            .find(|(_, u, t)| u == url && reads_like_headline(t))
            .map(|(_, _, t)| t.clone())
            .unwrap_or_default();
        let teaser = teaser_of(&dom, anchors[0], &owners);
        let image = anchors
            .iter()
            .chain(std::iter::once(&teaser))
            .find_map(|a| first_image(&dom, *a, &resolver));
        articles.push(Teaser {
            excerpt: excerpt(&dom, teaser, &title),
            published: date_of(&dom, teaser),
            lead_image: image,
            title,
            url: url.clone(),
        });
    }
    let title = dom
        .elements_named(&html5ever::local_name!("h1"))
        .map(|h| collapse(&dom.text_content(h)))
        .find(|t| !t.is_empty())
        .or_else(|| {
            dom.elements_named(&html5ever::local_name!("title"))
                .map(|t| collapse(&dom.text_content(t)))
                .find(|t| !t.is_empty())
        })
        .unwrap_or_default();
    Ok(Section { title, articles })
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn reads_like_headline(text: &str) -> bool {
    let cjk = text.chars().filter(|c| super::is_cjk(*c)).count();
    cjk >= 8 || text.split_whitespace().count() >= 4
}

/// Inside the page's furniture (or the mirror's own bar and footer).
fn in_furniture(dom: &Dom, id: NodeId) -> bool {
    dom.ancestors(id).any(|a| {
        let Some(tag) = dom.tag(a) else {
            return false;
        };
        matches!(&**tag, "nav" | "header" | "footer" | "aside")
            || dom
                .attr(a, "id")
                .is_some_and(|i| i == "newsmirror-nav" || i == "newsmirror-footer")
    })
}

/// The link's URL when it leads to an article page of this site: a path
/// on the page's own origin (as `Resolver` gives it), not the mirror's own
/// routes, not a section-like path, fragment dropped.
fn article_url(resolver: &urls::Resolver, page: &url::Url, href: &str) -> Option<String> {
    let resolved = resolver.resolve(href)?;
    let mut u = page.join(&resolved).ok()?;
    if u.origin() != page.origin() {
        return None;
    }
    u.set_fragment(None);
    let path = u.path();
    if path.starts_with("/_/") || path == page.path() && u.query() == page.query() {
        return None;
    }
    let page_like = path.bytes().any(|b| b.is_ascii_digit()) || !path.ends_with('/');
    if !page_like {
        return None;
    }
    Some(u[url::Position::BeforePath..].to_owned())
}

/// Whose headline links an element holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner<'a> {
    One(&'a str),
    Many,
}

/// The largest ancestor of `anchor` (up to [`MAX_CLIMB`] levels) that
/// holds no other article's headline link.
fn teaser_of(
    dom: &Dom,
    anchor: NodeId,
    owners: &std::collections::HashMap<NodeId, Owner<'_>>,
) -> NodeId {
    let mut best = anchor;
    for (level, a) in dom.ancestors(anchor).enumerate() {
        if level >= MAX_CLIMB || dom.tag(a).is_some_and(|t| &**t == "body") {
            break;
        }
        if owners.get(&a) == Some(&Owner::Many) {
            break;
        }
        best = a;
    }
    best
}

fn first_image(dom: &Dom, root: NodeId, resolver: &urls::Resolver) -> Option<String> {
    std::iter::once(root)
        .chain(dom.descendants(root))
        .filter(|id| dom.is(*id, &html5ever::local_name!("img")))
        .find_map(|id| {
            let src = dom
                .attr(id, "src")
                .filter(|s| !s.trim().is_empty() && !s.starts_with("data:"))?;
            resolver.resolve(src)
        })
}

fn excerpt(dom: &Dom, teaser: NodeId, title: &str) -> Option<String> {
    dom.descendants(teaser)
        .filter(|id| dom.is(*id, &html5ever::local_name!("p")))
        .map(|p| collapse(&dom.text_content(p)))
        .find(|t| t.chars().count() >= 8 && t != title && !title.contains(t.as_str()))
}

fn date_of(dom: &Dom, teaser: NodeId) -> Option<String> {
    dom.descendants(teaser)
        .filter(|id| dom.is(*id, &html5ever::local_name!("time")))
        .find_map(|t| {
            dom.attr(t, "datetime")
                .and_then(dates::normalize)
                .or_else(|| dates::normalize(&dom.text_content(t)))
        })
        .or_else(|| dates::find_in_text(&dom.text_content(teaser)))
}
