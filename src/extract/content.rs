//! Finding the article body.
//!
//! Readability's method, done without mutating the DOM: boilerplate is marked in a
//! side table, text statistics are summed bottom-up in one pass over the nodes in
//! reverse document order, every paragraph scores its ancestors, and the best
//! candidate is taken together with those siblings that look like more of the same.
//! Inside the chosen nodes, containers that look like link lists, forms or galleries
//! of furniture are then dropped ("conditional cleaning").
//!
//! Every pass is a loop over a vector of node ids, so the work is linear in the page
//! and no deep tree can overflow the stack.

use html5ever::{LocalName, local_name};

use super::ExtractError;
use super::body::Body;
use super::clean;
use super::dom::{Dom, NIL, NodeData, NodeId};
use super::limits::Budget;
use super::selector::CompiledSelectors;
use super::text::TextSize;
use super::tuning::{self, K};

/// Which of Readability's heuristics are on. Pages where the strict pass finds too
/// little are retried with them switched off one by one.
#[derive(Debug, Clone, Copy)]
struct Flags {
    strip_unlikely: bool,
    weight_classes: bool,
    clean_conditionally: bool,
}

const ATTEMPTS: [Flags; 4] = [
    Flags {
        strip_unlikely: true,
        weight_classes: true,
        clean_conditionally: true,
    },
    Flags {
        strip_unlikely: false,
        weight_classes: true,
        clean_conditionally: true,
    },
    Flags {
        strip_unlikely: false,
        weight_classes: false,
        clean_conditionally: true,
    },
    Flags {
        strip_unlikely: false,
        weight_classes: false,
        clean_conditionally: false,
    },
];

/// Weighted characters below which a result is retried with looser heuristics
/// (knob `enough_text`, 500).
fn enough_text() -> f32 {
    tuning::get(K::EnoughText)
}

/// Per-node sums over the subtree, boilerplate excluded.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    text: TextSize,
    /// Text outside block-level descendants: what a "virtual paragraph" would hold.
    inline: TextSize,
    link_chars: u32,
    heading_chars: u32,
    list_chars: u32,
    has_block_child: bool,
    paragraphs: u32,
    images: u32,
    list_items: u32,
    inputs: u32,
    embeds: u32,
}

impl Stats {
    fn link_density(&self) -> f32 {
        if self.text.chars == 0 {
            0.0
        } else {
            self.link_chars as f32 / self.text.chars as f32
        }
    }

    fn absorb(&mut self, child: &Stats, child_is_block: bool) {
        self.text.add(child.text);
        if child_is_block {
            self.has_block_child = true;
        } else {
            self.inline.add(child.inline);
        }
        self.link_chars = self.link_chars.saturating_add(child.link_chars);
        self.heading_chars = self.heading_chars.saturating_add(child.heading_chars);
        self.list_chars = self.list_chars.saturating_add(child.list_chars);
        self.paragraphs = self.paragraphs.saturating_add(child.paragraphs);
        self.images = self.images.saturating_add(child.images);
        self.list_items = self.list_items.saturating_add(child.list_items);
        self.inputs = self.inputs.saturating_add(child.inputs);
        self.embeds = self.embeds.saturating_add(child.embeds);
    }
}

pub(crate) fn is_block(tag: &LocalName) -> bool {
    matches!(
        *tag,
        local_name!("address")
            | local_name!("article")
            | local_name!("aside")
            | local_name!("blockquote")
            | local_name!("center")
            | local_name!("dd")
            | local_name!("details")
            | local_name!("dialog")
            | local_name!("dir")
            | local_name!("div")
            | local_name!("dl")
            | local_name!("dt")
            | local_name!("fieldset")
            | local_name!("figcaption")
            | local_name!("figure")
            | local_name!("footer")
            | local_name!("form")
            | local_name!("h1")
            | local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6")
            | local_name!("header")
            | local_name!("hgroup")
            | local_name!("hr")
            | local_name!("li")
            | local_name!("main")
            | local_name!("menu")
            | local_name!("nav")
            | local_name!("ol")
            | local_name!("p")
            | local_name!("pre")
            | local_name!("section")
            | local_name!("table")
            | local_name!("tbody")
            | local_name!("thead")
            | local_name!("tfoot")
            | local_name!("tr")
            | local_name!("td")
            | local_name!("th")
            | local_name!("ul")
            | local_name!("img")
            | local_name!("picture")
            | local_name!("body")
    )
}

fn is_heading(tag: &LocalName) -> bool {
    matches!(
        *tag,
        local_name!("h1")
            | local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6")
    )
}

/// Elements whose whole text is one paragraph for scoring.
fn is_paragraph_tag(tag: &LocalName) -> bool {
    matches!(
        *tag,
        local_name!("p")
            | local_name!("pre")
            | local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6")
    )
}

/// Containers that become a paragraph when they hold only inline content, and
/// otherwise get their loose inline text scored as a paragraph of their own.
fn is_container_tag(tag: &LocalName) -> bool {
    matches!(
        *tag,
        local_name!("div")
            | local_name!("section")
            | local_name!("article")
            | local_name!("main")
            | local_name!("td")
            | local_name!("blockquote")
            | local_name!("center")
            | local_name!("font")
            | local_name!("span")
            | local_name!("body")
    )
}

/// Readability's starting score by element kind.
fn base_score(tag: &LocalName) -> f32 {
    match *tag {
        local_name!("div") => 5.0,
        local_name!("pre") | local_name!("td") | local_name!("blockquote") => 3.0,
        local_name!("address")
        | local_name!("ol")
        | local_name!("ul")
        | local_name!("dl")
        | local_name!("dd")
        | local_name!("dt")
        | local_name!("li")
        | local_name!("form") => -3.0,
        local_name!("h1")
        | local_name!("h2")
        | local_name!("h3")
        | local_name!("h4")
        | local_name!("h5")
        | local_name!("h6")
        | local_name!("th") => -5.0,
        _ => 0.0,
    }
}

/// One page's analysis under one set of flags.
struct Analysis<'a> {
    dom: &'a Dom,
    flags: Flags,
    /// All nodes in document order.
    order: &'a [NodeId],
    junk: Vec<bool>,
    stats: Vec<Stats>,
    score: Vec<f32>,
    candidate: Vec<bool>,
    byline: Option<NodeId>,
}

/// Finds the article body, by `[site.article] body` when it matches, else by scoring.
pub(crate) fn find_body(
    dom: &Dom,
    title: &str,
    selectors: Option<&CompiledSelectors>,
    budget: &mut Budget,
) -> Result<Body, ExtractError> {
    let mut order = Vec::with_capacity(dom.len());
    for id in dom.descendants(Dom::ROOT) {
        budget.tick()?;
        order.push(id);
    }
    let raw = raw_text_sizes(dom, &order);
    let chosen = selectors
        .and_then(|s| s.body.as_ref())
        .map(|sel| outermost(dom, sel.select_all(dom, Dom::ROOT)))
        .filter(|roots| !roots.is_empty());
    let mut best: Option<Body> = None;
    for flags in ATTEMPTS {
        let protected = chosen.as_deref().unwrap_or_default();
        let mut analysis = Analysis::new(dom, &order, flags, &raw, protected, budget)?;
        let roots = match &chosen {
            Some(roots) => roots.clone(),
            None => analysis.choose_roots(budget)?,
        };
        let body = analysis.finish(roots, title, budget)?;
        let enough = body.size.weighted() >= enough_text() || chosen.is_some();
        if best
            .as_ref()
            .is_none_or(|b| body.size.weighted() > b.size.weighted())
        {
            best = Some(body);
        }
        if enough {
            break;
        }
    }
    best.ok_or(ExtractError::NoArticle)
}

/// Whether the extracted body reads like an article rather than an index page.
///
/// A section page that survives cleaning is a run of teasers: a headline that is
/// all link, then maybe a summary. So: several stand-alone links holding a third
/// of the text mean an index; so does a body that is mostly the text of
/// several links, or only link text, or no text. One link in a line of text (a
/// short notice pointing somewhere) is readable text, not an index.
///
/// A page that does not declare itself an article (no article JSON-LD,
/// `og:type`, or publication time) is held to a stricter bar: five teaser
/// headlines holding a fifth of the text already make it a listing.
pub(crate) fn looks_like_article(text: &str, body: &Body, declared: bool) -> bool {
    if text.trim().is_empty() || !body.unlinked_text {
        return false;
    }
    if body.link_density > 0.5 && body.links > 1 {
        return false;
    }
    let share = if declared { 3 } else { 5 };
    !(body.standalone_links >= 5 && body.standalone_chars.saturating_mul(share) >= body.size.chars)
}

/// Drops matches nested inside other matches.
fn outermost(dom: &Dom, ids: Vec<NodeId>) -> Vec<NodeId> {
    ids.iter()
        .copied()
        .filter(|id| {
            !ids.iter()
                .any(|other| other != id && dom.is_ancestor(*other, *id))
        })
        .collect()
}

/// Text size of every subtree, counting only what a reader could ever see: the
/// guard that stops a name-based rule from discarding most of the page.
fn raw_text_sizes(dom: &Dom, order: &[NodeId]) -> Vec<u32> {
    let mut sizes = vec![0u32; dom.len()];
    for &id in order.iter().rev() {
        let own = match &dom.node(id).data {
            NodeData::Text(t) => TextSize::of(t).chars,
            NodeData::Element(_) if dom.tag(id).is_none_or(clean::is_junk_tag) => continue,
            _ => sizes.get(id as usize).copied().unwrap_or(0),
        };
        if let Some(slot) = sizes.get_mut(id as usize) {
            *slot = own;
        }
        if let Some(parent) = sizes.get_mut(dom.parent(id) as usize) {
            *parent = parent.saturating_add(own);
        }
    }
    sizes
}

impl<'a> Analysis<'a> {
    fn new(
        dom: &'a Dom,
        order: &'a [NodeId],
        flags: Flags,
        raw: &[u32],
        protected: &[NodeId],
        budget: &mut Budget,
    ) -> Result<Self, ExtractError> {
        let n = dom.len();
        let mut analysis = Analysis {
            dom,
            flags,
            order,
            junk: vec![false; n],
            stats: vec![Stats::default(); n],
            score: vec![0.0; n],
            candidate: vec![false; n],
            byline: None,
        };
        analysis.mark_junk(raw, protected, budget)?;
        analysis.sum_stats(budget)?;
        Ok(analysis)
    }

    fn junk(&self, id: NodeId) -> bool {
        self.junk.get(id as usize).copied().unwrap_or(true)
    }

    fn stats(&self, id: NodeId) -> Stats {
        self.stats.get(id as usize).copied().unwrap_or_default()
    }

    fn score(&self, id: NodeId) -> f32 {
        self.score.get(id as usize).copied().unwrap_or(0.0)
    }

    fn is_candidate(&self, id: NodeId) -> bool {
        self.candidate.get(id as usize).copied().unwrap_or(false)
    }

    /// Marks boilerplate subtrees (preorder, so a junk parent makes its subtree junk).
    /// `protected` nodes (the configured body) start clean whatever their ancestors are.
    fn mark_junk(
        &mut self,
        raw: &[u32],
        protected: &[NodeId],
        budget: &mut Budget,
    ) -> Result<(), ExtractError> {
        let dom = self.dom;
        let body_text = raw.get(dom.body() as usize).copied().unwrap_or(0).max(1);
        for &id in self.order {
            budget.tick()?;
            let junk = if protected.contains(&id) {
                false
            } else {
                let parent_junk = self
                    .junk
                    .get(dom.parent(id) as usize)
                    .copied()
                    .unwrap_or(false);
                parent_junk || self.is_junk_element(id, raw, body_text)
            };
            if let Some(slot) = self.junk.get_mut(id as usize) {
                *slot = junk;
            }
        }
        Ok(())
    }

    fn is_junk_element(&mut self, id: NodeId, raw: &[u32], body_text: u32) -> bool {
        let dom = self.dom;
        let Some(tag) = dom.tag(id) else {
            // SVG/MathML: drawings and formulas, no prose.
            return dom.element(id).is_some();
        };
        if clean::is_junk_tag(tag) {
            return true;
        }
        if matches!(*tag, local_name!("html") | local_name!("body")) {
            return false;
        }
        // Never throw away most of the page on the strength of a name.
        let text = raw.get(id as usize).copied().unwrap_or(0);
        if text * 2 > body_text {
            return false;
        }
        if clean::is_hidden(dom, id)
            || clean::is_furniture_tag(tag)
            || clean::has_furniture_role(dom, id)
        {
            return true;
        }
        let names = clean::names_of(dom, id);
        if names.is_empty() && dom.attr(id, "rel").is_none() && dom.attr(id, "itemprop").is_none() {
            return false;
        }
        if text < 100 && clean::is_byline(dom, id, &names) && *tag != local_name!("a") {
            self.byline.get_or_insert(id);
            return true;
        }
        if text < 500 && clean::is_share_widget(&names) {
            return true;
        }
        if clean::is_ad_slot(&names) {
            return true;
        }
        self.flags.strip_unlikely
            && clean::has_unlikely_names(&names)
            && !matches!(
                *tag,
                local_name!("a") | local_name!("article") | local_name!("main")
            )
            && !dom
                .ancestors(id)
                .any(|a| dom.is(a, &local_name!("table")) || dom.is(a, &local_name!("code")))
    }

    /// Sums text and element counts bottom-up (reverse document order visits every
    /// child before its parent).
    fn sum_stats(&mut self, budget: &mut Budget) -> Result<(), ExtractError> {
        let dom = self.dom;
        for &id in self.order.iter().rev() {
            budget.tick()?;
            if self.junk(id) {
                continue;
            }
            let mut s = self.stats(id);
            let block = match &dom.node(id).data {
                NodeData::Text(t) => {
                    s.text = TextSize::of(t);
                    s.inline = s.text;
                    false
                }
                NodeData::Element(_) => match dom.tag(id) {
                    Some(tag) => {
                        add_own_counts(&mut s, tag);
                        is_block(tag)
                    }
                    None => false,
                },
                _ => continue,
            };
            if let Some(slot) = self.stats.get_mut(id as usize) {
                *slot = s;
            }
            if let Some(parent) = self.stats.get_mut(dom.parent(id) as usize) {
                parent.absorb(&s, block);
            }
        }
        Ok(())
    }

    /// Scores paragraphs into their ancestors and picks the article's top-level nodes.
    fn choose_roots(&mut self, budget: &mut Budget) -> Result<Vec<NodeId>, ExtractError> {
        let candidates = self.score_paragraphs(budget)?;
        let body = self.dom.body();
        let Some(top) = self.best_candidate(&candidates) else {
            return Ok(if body == NIL { vec![] } else { vec![body] });
        };
        let top = self.refine_top(top, &candidates);
        Ok(self.with_siblings(top))
    }

    fn score_paragraphs(&mut self, budget: &mut Budget) -> Result<Vec<NodeId>, ExtractError> {
        let dom = self.dom;
        let mut candidates = Vec::new();
        for &id in self.order {
            budget.tick()?;
            if self.junk(id) {
                continue;
            }
            let Some(tag) = dom.tag(id) else { continue };
            let s = self.stats(id);
            let (text, first_scored) =
                if is_paragraph_tag(tag) || (is_container_tag(tag) && !s.has_block_child) {
                    (s.text, dom.parent(id))
                } else if is_container_tag(tag) {
                    (s.inline, id)
                } else {
                    continue;
                };
            if text.weighted() < 25.0 {
                continue;
            }
            let points = 1.0 + text.commas as f32 + (text.weighted() / 100.0).floor().min(3.0);
            let mut target = first_scored;
            for level in 0..5 {
                if target == NIL || dom.tag(target).is_none() {
                    break;
                }
                if !self.is_candidate(target) {
                    self.init_candidate(target);
                    candidates.push(target);
                }
                let divider = match level {
                    0 => 1.0,
                    1 => 2.0,
                    _ => level as f32 * 3.0,
                };
                if let Some(slot) = self.score.get_mut(target as usize) {
                    *slot += points / divider;
                }
                target = dom.parent(target);
            }
        }
        // Link-heavy candidates are navigation, whatever their text.
        for &c in &candidates {
            let density = self.stats(c).link_density();
            if let Some(slot) = self.score.get_mut(c as usize) {
                *slot *= 1.0 - density;
            }
        }
        Ok(candidates)
    }

    fn init_candidate(&mut self, id: NodeId) {
        let mut score = self.dom.tag(id).map_or(0.0, base_score);
        if self.flags.weight_classes {
            score += clean::class_weight(self.dom, id);
        }
        if let Some(slot) = self.score.get_mut(id as usize) {
            *slot = score;
        }
        if let Some(slot) = self.candidate.get_mut(id as usize) {
            *slot = true;
        }
    }

    fn best_candidate(&self, candidates: &[NodeId]) -> Option<NodeId> {
        candidates
            .iter()
            .copied()
            .filter(|c| !matches!(self.dom.tag(*c), Some(&local_name!("html"))))
            .max_by(|a, b| self.score(*a).total_cmp(&self.score(*b)))
    }

    /// Readability's moves from the best-scoring node to the one holding the whole
    /// article: a shared ancestor of several strong candidates, a parent scoring
    /// higher, and a parent whose only child the node is.
    fn refine_top(&self, mut top: NodeId, candidates: &[NodeId]) -> NodeId {
        let dom = self.dom;
        let body = dom.body();
        let top_score = self.score(top);
        let mut strong: Vec<NodeId> = candidates
            .iter()
            .copied()
            .filter(|c| *c != top && self.score(*c) >= top_score * 0.75)
            .collect();
        strong.sort_by(|a, b| self.score(*b).total_cmp(&self.score(*a)));
        strong.truncate(4);
        if strong.len() >= 3 {
            let mut ancestor = dom.parent(top);
            while ancestor != NIL && ancestor != body && dom.tag(ancestor).is_some() {
                let containing = strong
                    .iter()
                    .filter(|s| dom.is_ancestor(ancestor, **s))
                    .count();
                if containing >= 3 {
                    top = ancestor;
                    break;
                }
                ancestor = dom.parent(ancestor);
            }
        }
        let mut last = self.score(top);
        let threshold = last / 3.0;
        let mut parent = dom.parent(top);
        while parent != NIL && parent != body && dom.tag(parent).is_some() {
            if !self.is_candidate(parent) {
                parent = dom.parent(parent);
                continue;
            }
            let score = self.score(parent);
            if score < threshold {
                break;
            }
            if score > last {
                top = parent;
                break;
            }
            last = score;
            parent = dom.parent(parent);
        }
        loop {
            let parent = dom.parent(top);
            if parent == NIL || parent == body || dom.tag(parent).is_none() {
                break;
            }
            let mut children = dom.element_children(parent).filter(|c| !self.junk(*c));
            if children.next().is_some() && children.next().is_none() {
                top = parent;
            } else {
                break;
            }
        }
        top
    }

    /// The top node plus siblings that score well or read like paragraphs.
    fn with_siblings(&self, top: NodeId) -> Vec<NodeId> {
        let dom = self.dom;
        let parent = dom.parent(top);
        if parent == NIL || dom.tag(top) == Some(&local_name!("body")) {
            return vec![top];
        }
        let top_score = self.score(top);
        let threshold = (top_score * 0.2).max(10.0);
        let top_class = dom.attr(top, "class").unwrap_or_default();
        dom.element_children(parent)
            .filter(|sib| !self.junk(*sib))
            .filter(|&sib| {
                if sib == top {
                    return true;
                }
                let bonus = if !top_class.is_empty() && dom.attr(sib, "class") == Some(top_class) {
                    top_score * 0.2
                } else {
                    0.0
                };
                if self.is_candidate(sib) && self.score(sib) + bonus >= threshold {
                    return true;
                }
                self.is_paragraph_like(sib) && self.reads_like_prose(sib)
            })
            .collect()
    }

    fn is_paragraph_like(&self, id: NodeId) -> bool {
        match self.dom.tag(id) {
            Some(&local_name!("p")) => true,
            Some(tag) => is_container_tag(tag) && !self.stats(id).has_block_child,
            None => false,
        }
    }

    fn reads_like_prose(&self, id: NodeId) -> bool {
        let s = self.stats(id);
        let len = s.text.weighted();
        let density = s.link_density();
        if len > 80.0 {
            return density < tuning::get(K::SiblingLinkDensity);
        }
        len > 0.0 && density == 0.0 && {
            let text = self.dom.text_content(id);
            text.ends_with(['.', '。', '!', '?', '！', '？']) || text.contains(". ")
        }
    }

    /// Decides what inside the roots to leave out, and measures what is left.
    fn finish(
        self,
        roots: Vec<NodeId>,
        title: &str,
        budget: &mut Budget,
    ) -> Result<Body, ExtractError> {
        let dom = self.dom;
        let mut skip = self.junk.clone();
        let mut size = TextSize::default();
        let mut link_chars = 0u32;
        let mut leaves = Vec::new();
        let mut captions = Vec::new();
        let mut standalone_links = 0u32;
        let mut standalone_chars = 0u32;
        let mut links = 0u32;
        let mut title_heading_seen = false;
        for &root in &roots {
            let whole = self.stats(root);
            size.add(whole.text);
            link_chars = link_chars.saturating_add(whole.link_chars);
            let mut walk = dom.descendants(root);
            while let Some(id) = walk.next() {
                budget.tick()?;
                if id != root
                    && !self.junk(id)
                    && self.drop_inside(id, title, &mut title_heading_seen)
                {
                    if let Some(slot) = skip.get_mut(id as usize) {
                        *slot = true;
                    }
                    let dropped = self.stats(id);
                    size.sub(dropped.text);
                    link_chars = link_chars.saturating_sub(dropped.link_chars);
                    walk.skip_children_of(id);
                    continue;
                }
                if self.junk(id) {
                    walk.skip_children_of(id);
                    continue;
                }
                if self.is_caption(id) {
                    captions.push(id);
                    walk.skip_children_of(id);
                    continue;
                }
                if dom.is(id, &local_name!("a")) {
                    links = links.saturating_add(1);
                }
                if self.is_leaf_block(id) {
                    leaves.push(id);
                } else if dom.is(id, &local_name!("a")) && self.is_standalone_link(id) {
                    standalone_links += 1;
                    standalone_chars = standalone_chars.saturating_add(self.stats(id).text.chars);
                }
            }
        }
        for id in self.edge_lines(&leaves, title) {
            if let Some(slot) = skip.get_mut(id as usize) {
                *slot = true;
            }
            let dropped = self.stats(id);
            size.sub(dropped.text);
            link_chars = link_chars.saturating_sub(dropped.link_chars);
        }
        Ok(Body {
            roots,
            skip,
            byline: self.byline,
            size,
            link_density: if size.chars == 0 {
                0.0
            } else {
                link_chars as f32 / size.chars as f32
            },
            standalone_links,
            standalone_chars,
            links,
            unlinked_text: link_chars < size.chars,
            captions: {
                captions.sort_unstable();
                captions
            },
        })
    }

    /// A small caption-named element: a caption, not a wrapper that happens to have
    /// "caption" in its class.
    fn is_caption(&self, id: NodeId) -> bool {
        let s = self.stats(id);
        s.text.chars < 400 && s.paragraphs == 0 && super::media::is_caption(self.dom, id)
    }

    /// A block with text and no block inside: one line of the output.
    fn is_leaf_block(&self, id: NodeId) -> bool {
        let s = self.stats(id);
        self.dom.tag(id).is_some_and(is_block) && !s.has_block_child && s.text.chars > 0
    }

    /// Lines at the very start or end of the body that are about the article rather
    /// than of it: the title again, source/author/editor lines, dates, paging links,
    /// copyright notices. Only the edges are looked at, so a line in the middle of
    /// the text is never taken for one of these.
    fn edge_lines(&self, leaves: &[NodeId], title: &str) -> Vec<NodeId> {
        const EDGE: usize = 4;
        if !tuning::on(K::EdgeLines) {
            return Vec::new();
        }
        let dom = self.dom;
        // Calls to action can sit anywhere ("Related: …", "READ MORE …").
        let mut dropped: Vec<NodeId> = leaves
            .iter()
            .copied()
            .filter(|&id| {
                self.stats(id).text.chars <= 150 && clean::is_promo_line(&dom.text_content(id))
            })
            .collect();
        for &id in leaves.iter().take(EDGE) {
            let text = dom.text_content(id);
            if repeats_title(&text, title) || clean::is_meta_line(&text) {
                dropped.push(id);
            } else if !dropped.contains(&id) {
                break;
            }
        }
        // The tail: from the first credit or notice line among the last few, drop it
        // and everything after it, if all of that is credits, notices or scraps
        // ("发表评论", "Share").
        let tail_start = leaves.len().saturating_sub(EDGE * 2);
        let tail = leaves.get(tail_start..).unwrap_or_default();
        let kinds: Vec<(bool, bool)> = tail
            .iter()
            .map(|&id| {
                let text = dom.text_content(id);
                let credit = clean::is_meta_line(&text)
                    || clean::is_notice(&text)
                    || clean::is_promo_line(&text);
                (credit, credit || text.chars().count() <= 6)
            })
            .collect();
        let first_credit = (0..kinds.len()).find(|&i| {
            kinds.get(i).is_some_and(|k| k.0)
                && kinds.get(i..).is_some_and(|rest| rest.iter().all(|k| k.1))
        });
        if let Some(i) = first_credit {
            for &id in tail.get(i..).unwrap_or_default() {
                if !dropped.contains(&id) {
                    dropped.push(id);
                }
            }
        }
        if tuning::on(K::TailLinks) {
            let kept: Vec<NodeId> = leaves
                .iter()
                .copied()
                .filter(|id| !dropped.contains(id))
                .collect();
            dropped.extend(self.trailing_link_list(&kept));
        }
        dropped
    }

    /// The end of the body when it is a list of other articles: two or more
    /// last lines that are each one headline link ("Who will make the Rock
    /// Hall in 2020?"), and the short line that introduces them ("You may
    /// also like...", "相关阅读："). Never most of the body: at least three
    /// lines stay before it.
    fn trailing_link_list(&self, lines: &[NodeId]) -> Vec<NodeId> {
        const KEPT_BEFORE: usize = 3;
        let is_link_line = |id: NodeId| {
            let s = self.stats(id);
            s.text.chars >= 12 && s.link_chars * 10 >= s.text.chars * 9
        };
        let run = lines
            .iter()
            .rev()
            .take_while(|&&id| is_link_line(id))
            .count();
        if run < 2 {
            return Vec::new();
        }
        let mut start = lines.len() - run;
        if let Some(&lead) = start.checked_sub(1).and_then(|i| lines.get(i)) {
            let text = self.dom.text_content(lead);
            let text = text.trim();
            let introduces = ["...", "\u{2026}", ":", "\u{ff1a}"]
                .iter()
                .any(|end| text.ends_with(end));
            if introduces && text.chars().count() <= 40 && self.stats(lead).link_chars == 0 {
                start -= 1;
            }
        }
        if start < KEPT_BEFORE {
            return Vec::new();
        }
        lines.get(start..).unwrap_or_default().to_vec()
    }

    /// A headline-sized link that is all the text of its block (a teaser's title).
    fn is_standalone_link(&self, link: NodeId) -> bool {
        let dom = self.dom;
        let s = self.stats(link);
        let own = s.text;
        if own.weighted() < 20.0 {
            return false;
        }
        // `<a><h3>headline</h3></a>`: a card's link around its heading.
        if s.heading_chars * 5 >= own.chars * 4 {
            return true;
        }
        let block = dom
            .ancestors(link)
            .find(|a| dom.tag(*a).is_none_or(is_block))
            .unwrap_or(NIL);
        self.stats(block).text.chars <= own.chars + 3
    }

    /// Inside the article: the title repeated as a heading, negatively named headings,
    /// and containers that fail conditional cleaning.
    fn drop_inside(&self, id: NodeId, title: &str, title_heading_seen: &mut bool) -> bool {
        let dom = self.dom;
        let Some(tag) = dom.tag(id) else {
            return false;
        };
        if is_heading(tag) {
            if !*title_heading_seen && !title.is_empty() {
                let text = dom.text_content(id);
                if !text.is_empty() && (title.contains(&text) || text.contains(title)) {
                    *title_heading_seen = true;
                    return true;
                }
            }
            return self.flags.weight_classes
                && matches!(*tag, local_name!("h1") | local_name!("h2"))
                && clean::class_weight(dom, id) < 0.0;
        }
        if *tag == local_name!("time") && self.stats(dom.parent(id)).has_block_child {
            // A date standing alone between blocks is the dateline, not the text.
            return true;
        }
        let s = self.stats(id);
        if s.text.chars == 0
            && s.images == 0
            && is_block(tag)
            && !matches!(
                *tag,
                local_name!("img")
                    | local_name!("hr")
                    | local_name!("td")
                    | local_name!("th")
                    | local_name!("tr")
            )
        {
            return true;
        }
        if *tag == local_name!("header") {
            return s.link_density() > 0.3 || s.text.weighted() < 400.0;
        }
        self.flags.clean_conditionally && self.fails_conditional_cleaning(id, tag, &s)
    }

    /// Readability's `_cleanConditionally`: drop containers whose make-up (links,
    /// images, inputs, list items vs paragraphs) says they are not prose.
    fn fails_conditional_cleaning(&self, id: NodeId, tag: &LocalName, s: &Stats) -> bool {
        if !matches!(
            *tag,
            local_name!("form")
                | local_name!("fieldset")
                | local_name!("table")
                | local_name!("ul")
                | local_name!("ol")
                | local_name!("div")
                | local_name!("section")
                | local_name!("dl")
        ) {
            return false;
        }
        let dom = self.dom;
        let weight = if self.flags.weight_classes {
            clean::class_weight(dom, id)
        } else {
            0.0
        };
        let score = if self.is_candidate(id) {
            self.score(id)
        } else {
            0.0
        };
        if weight + score < 0.0 {
            return true;
        }
        if s.text.commas >= 10 {
            return false;
        }
        // A `<div>` holding only text and inline markup is a paragraph in
        // all but name (Readability turns such divs into `<p>` before it
        // cleans): pages written in divs ("特此通告。", a date line, a
        // document number) keep their short lines as pages written in
        // `<p>` do. Its class weight and score were checked above.
        if tuning::on(K::LeafDivParagraphs)
            && *tag == local_name!("div")
            && !s.has_block_child
            && s.link_density() < 0.5
        {
            return false;
        }
        let is_list = matches!(*tag, local_name!("ul") | local_name!("ol"))
            || (s.text.chars > 0 && s.list_chars as f32 / s.text.chars as f32 > 0.9);
        let in_figure = dom.ancestors(id).any(|a| dom.is(a, &local_name!("figure")));
        let paragraphs = s.paragraphs as f32;
        let images = s.images as f32;
        let list_items = s.list_items as f32 - 100.0;
        let length = s.text.weighted();
        let density = s.link_density();
        let heading_density = if s.text.chars == 0 {
            0.0
        } else {
            s.heading_chars as f32 / s.text.chars as f32
        };
        (images > 1.0 && paragraphs / images < 0.5 && !in_figure)
            || (!is_list && list_items > paragraphs)
            || (s.inputs as f32 > (paragraphs / 3.0).floor())
            || (!is_list
                && heading_density < 0.9
                && length < 25.0
                && (s.images == 0 || s.images > 2)
                && !in_figure)
            || (!is_list && weight < 25.0 && density > 0.2)
            || (weight >= 25.0 && density > 0.5)
            // A list that is mostly links is navigation ("You may also like").
            || (is_list && weight < 25.0 && density > 0.5)
            || (s.embeds == 1 && length < 75.0)
            || s.embeds > 1
    }
}

/// The article's title, alone or nearly, as a line of the body.
fn repeats_title(text: &str, title: &str) -> bool {
    let (t, title) = (text.trim(), title.trim());
    if t.is_empty() || title.is_empty() {
        return false;
    }
    let (tl, ll) = (t.chars().count(), title.chars().count());
    (title.contains(t) && tl * 2 >= ll) || (t.contains(title) && tl <= ll + 12)
}

fn add_own_counts(s: &mut Stats, tag: &LocalName) {
    match *tag {
        local_name!("p") => s.paragraphs += 1,
        local_name!("img") => s.images += 1,
        local_name!("li") => {
            s.list_items += 1;
            s.list_chars = s.text.chars;
        }
        local_name!("input") | local_name!("select") | local_name!("textarea") => s.inputs += 1,
        local_name!("object") | local_name!("embed") | local_name!("iframe") => s.embeds += 1,
        local_name!("a") => s.link_chars = s.text.chars,
        _ if is_heading(tag) => s.heading_chars = s.text.chars,
        _ => {}
    }
}
