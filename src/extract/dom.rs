//! A flat, read-only DOM built by html5ever.
//!
//! Nodes live in one `Vec` and point at each other by index, so the extractor keeps
//! per-node side tables as plain vectors and walks the tree with loops: nothing here
//! recurses, and dropping the tree is dropping a vector, whatever the nesting.

use std::borrow::Cow;
use std::cell::{Ref, RefCell};
use std::sync::LazyLock;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::TreeBuilderOpts;
use html5ever::{Attribute, LocalName, ParseOpts, QualName, local_name, ns, parse_document};

use super::ExtractError;
use super::limits::Budget;

pub(crate) type NodeId = u32;
/// "No node": the arena's null pointer.
pub(crate) const NIL: NodeId = u32::MAX;

pub(crate) struct Node {
    pub parent: NodeId,
    pub prev: NodeId,
    pub next: NodeId,
    pub first: NodeId,
    pub last: NodeId,
    pub data: NodeData,
}

pub(crate) enum NodeData {
    Document,
    Element(Element),
    Text(StrTendril),
    /// Comments, doctypes, processing instructions: kept only so handles stay valid.
    Other,
}

pub(crate) struct Element {
    pub name: QualName,
    pub attrs: Vec<Attribute>,
    template_contents: NodeId,
}

impl Element {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| &*a.name.local == name)
            .map(|a| a.value.as_ref())
    }
}

pub(crate) struct Dom {
    nodes: Vec<Node>,
    /// Returned for out-of-range ids, so lookups never panic.
    detached: Node,
}

/// Bytes fed to the parser between two deadline checks.
const PARSE_CHUNK: usize = 64 * 1024;

impl Dom {
    pub(crate) const ROOT: NodeId = 0;

    /// Parses a whole document, checking the deadline between chunks.
    pub(crate) fn parse(html: &str, budget: &mut Budget) -> Result<Dom, ExtractError> {
        let opts = ParseOpts {
            tree_builder: TreeBuilderOpts {
                // Parse <noscript> content as markup, as a reader without scripts sees it.
                scripting_enabled: false,
                ..Default::default()
            },
            ..Default::default()
        };
        let mut parser = parse_document(Sink::default(), opts);
        let mut rest = html;
        while !rest.is_empty() {
            let cut = char_boundary_at_or_before(rest, PARSE_CHUNK);
            let (chunk, tail) = rest.split_at(cut);
            parser.process(StrTendril::from_slice(chunk));
            budget.check()?;
            rest = tail;
        }
        Ok(parser.finish())
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id as usize).unwrap_or(&self.detached)
    }

    pub(crate) fn element(&self, id: NodeId) -> Option<&Element> {
        match &self.node(id).data {
            NodeData::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The element's local name (HTML elements only: an `<a>` inside SVG is not a link).
    pub(crate) fn tag(&self, id: NodeId) -> Option<&LocalName> {
        self.element(id)
            .filter(|e| e.name.ns == ns!(html))
            .map(|e| &e.name.local)
    }

    pub(crate) fn is(&self, id: NodeId, name: &LocalName) -> bool {
        self.tag(id) == Some(name)
    }

    pub(crate) fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.element(id).and_then(|e| e.attr(name))
    }

    pub(crate) fn text(&self, id: NodeId) -> Option<&str> {
        match &self.node(id).data {
            NodeData::Text(t) => Some(t.as_ref()),
            _ => None,
        }
    }

    pub(crate) fn parent(&self, id: NodeId) -> NodeId {
        self.node(id).parent
    }

    pub(crate) fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            dom: self,
            next: self.node(id).first,
        }
    }

    pub(crate) fn element_children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(|c| self.element(*c).is_some())
    }

    /// Ancestors of `id`, nearest first, not including `id`.
    pub(crate) fn ancestors(&self, id: NodeId) -> Ancestors<'_> {
        Ancestors {
            dom: self,
            next: self.parent(id),
        }
    }

    pub(crate) fn is_ancestor(&self, ancestor: NodeId, of: NodeId) -> bool {
        self.ancestors(of).any(|a| a == ancestor)
    }

    /// Walks the subtree of `root` in document order (root included).
    pub(crate) fn descendants(&self, root: NodeId) -> Descendants<'_> {
        Descendants {
            dom: self,
            root,
            next: if (root as usize) < self.nodes.len() {
                root
            } else {
                NIL
            },
        }
    }

    /// The next node in document order after the subtree of `id`.
    pub(crate) fn next_outside(&self, id: NodeId, root: NodeId) -> NodeId {
        let mut cur = id;
        while cur != root && cur != NIL {
            let next = self.node(cur).next;
            if next != NIL {
                return next;
            }
            cur = self.parent(cur);
        }
        NIL
    }

    /// Text content of the subtree, whitespace collapsed and trimmed.
    pub(crate) fn text_content(&self, root: NodeId) -> String {
        let mut out = String::new();
        for id in self.descendants(root) {
            if let Some(t) = self.text(id) {
                out.push_str(t);
            }
        }
        super::text::collapse_whitespace(&out)
    }

    pub(crate) fn html_element(&self) -> NodeId {
        self.element_children(Self::ROOT)
            .find(|c| self.is(*c, &local_name!("html")))
            .unwrap_or(NIL)
    }

    pub(crate) fn body(&self) -> NodeId {
        self.child_named(self.html_element(), &local_name!("body"))
    }

    fn child_named(&self, parent: NodeId, name: &LocalName) -> NodeId {
        self.element_children(parent)
            .find(|c| self.is(*c, name))
            .unwrap_or(NIL)
    }

    /// All elements with the given name, in document order.
    pub(crate) fn elements_named<'a>(
        &'a self,
        name: &'a LocalName,
    ) -> impl Iterator<Item = NodeId> + 'a {
        self.descendants(Self::ROOT)
            .filter(move |id| self.is(*id, name))
    }

    /// The first `<base href>`, which relative URLs resolve against.
    pub(crate) fn base_href(&self) -> Option<&str> {
        self.elements_named(&local_name!("base"))
            .find_map(|b| self.attr(b, "href"))
    }
}

pub(crate) struct Children<'a> {
    dom: &'a Dom,
    next: NodeId,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next;
        if cur == NIL {
            return None;
        }
        self.next = self.dom.node(cur).next;
        Some(cur)
    }
}

pub(crate) struct Ancestors<'a> {
    dom: &'a Dom,
    next: NodeId,
}

impl Iterator for Ancestors<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next;
        if cur == NIL {
            return None;
        }
        self.next = self.dom.parent(cur);
        Some(cur)
    }
}

pub(crate) struct Descendants<'a> {
    dom: &'a Dom,
    root: NodeId,
    next: NodeId,
}

impl Descendants<'_> {
    /// Do not descend into the children of the node last returned.
    pub(crate) fn skip_children_of(&mut self, id: NodeId) {
        // `next` already moved to the first child, if `id` has children.
        if self.next != NIL && self.next == self.dom.node(id).first {
            self.next = self.dom.next_outside(id, self.root);
        }
    }
}

impl Iterator for Descendants<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next;
        if cur == NIL {
            return None;
        }
        let first = self.dom.node(cur).first;
        self.next = if first != NIL {
            first
        } else {
            self.dom.next_outside(cur, self.root)
        };
        Some(cur)
    }
}

fn char_boundary_at_or_before(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut i = max;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    if i == 0 {
        // A chunk must make progress; the first char is never longer than 4 bytes.
        s.char_indices().nth(1).map_or(s.len(), |(i, _)| i)
    } else {
        i
    }
}

/// html5ever's view of the arena while parsing.
struct Sink {
    nodes: RefCell<Vec<Node>>,
}

impl Default for Sink {
    fn default() -> Self {
        Sink {
            nodes: RefCell::new(vec![new_node(NodeData::Document)]),
        }
    }
}

fn new_node(data: NodeData) -> Node {
    Node {
        parent: NIL,
        prev: NIL,
        next: NIL,
        first: NIL,
        last: NIL,
        data,
    }
}

/// Stands in for the name of a non-element, which html5ever promises never to ask for.
static NOT_AN_ELEMENT: LazyLock<QualName> =
    LazyLock::new(|| QualName::new(None, ns!(html), local_name!("")));

impl Sink {
    fn push(&self, data: NodeData) -> NodeId {
        let mut nodes = self.nodes.borrow_mut();
        let id = u32::try_from(nodes.len()).unwrap_or(NIL);
        if id != NIL {
            nodes.push(new_node(data));
        }
        id
    }

    fn with_node<R>(nodes: &mut [Node], id: NodeId, f: impl FnOnce(&mut Node) -> R) -> Option<R> {
        nodes.get_mut(id as usize).map(f)
    }

    fn detach(nodes: &mut [Node], id: NodeId) {
        let Some((parent, prev, next)) = Self::with_node(nodes, id, |n| {
            let links = (n.parent, n.prev, n.next);
            n.parent = NIL;
            n.prev = NIL;
            n.next = NIL;
            links
        }) else {
            return;
        };
        if prev != NIL {
            Self::with_node(nodes, prev, |n| n.next = next);
        } else {
            Self::with_node(nodes, parent, |n| n.first = next);
        }
        if next != NIL {
            Self::with_node(nodes, next, |n| n.prev = prev);
        } else {
            Self::with_node(nodes, parent, |n| n.last = prev);
        }
    }

    /// Links the detached `child` under `parent`, before `before` (or last when NIL).
    fn link(nodes: &mut [Node], parent: NodeId, child: NodeId, before: NodeId) {
        let prev = if before == NIL {
            Self::with_node(nodes, parent, |n| n.last).unwrap_or(NIL)
        } else {
            Self::with_node(nodes, before, |n| n.prev).unwrap_or(NIL)
        };
        Self::with_node(nodes, child, |n| {
            n.parent = parent;
            n.prev = prev;
            n.next = before;
        });
        if prev != NIL {
            Self::with_node(nodes, prev, |n| n.next = child);
        } else {
            Self::with_node(nodes, parent, |n| n.first = child);
        }
        if before != NIL {
            Self::with_node(nodes, before, |n| n.prev = child);
        } else {
            Self::with_node(nodes, parent, |n| n.last = child);
        }
    }

    /// Appends text to the text node `id` if it is one; html5ever wants adjacent
    /// text merged.
    fn try_merge_text(nodes: &mut [Node], id: NodeId, text: &StrTendril) -> bool {
        Self::with_node(nodes, id, |n| match &mut n.data {
            NodeData::Text(t) => {
                t.push_tendril(text);
                true
            }
            _ => false,
        })
        .unwrap_or(false)
    }

    fn insert(&self, parent: NodeId, before: NodeId, child: NodeOrText<NodeId>) {
        match child {
            NodeOrText::AppendNode(id) => {
                let mut nodes = self.nodes.borrow_mut();
                Self::detach(&mut nodes, id);
                Self::link(&mut nodes, parent, id, before);
            }
            NodeOrText::AppendText(text) => {
                let prev = {
                    let nodes = self.nodes.borrow();
                    let node = |id: NodeId| nodes.get(id as usize);
                    if before == NIL {
                        node(parent).map_or(NIL, |n| n.last)
                    } else {
                        node(before).map_or(NIL, |n| n.prev)
                    }
                };
                if prev != NIL && Self::try_merge_text(&mut self.nodes.borrow_mut(), prev, &text) {
                    return;
                }
                let id = self.push(NodeData::Text(text));
                Self::link(&mut self.nodes.borrow_mut(), parent, id, before);
            }
        }
    }
}

impl TreeSink for Sink {
    type Handle = NodeId;
    type Output = Dom;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Dom {
        Dom {
            nodes: self.nodes.into_inner(),
            detached: new_node(NodeData::Other),
        }
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> NodeId {
        Dom::ROOT
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Ref<'a, QualName> {
        Ref::map(self.nodes.borrow(), |nodes| {
            match nodes.get(*target as usize).map(|n| &n.data) {
                Some(NodeData::Element(e)) => &e.name,
                _ => &NOT_AN_ELEMENT,
            }
        })
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        let template_contents = if flags.template {
            self.push(NodeData::Document)
        } else {
            NIL
        };
        self.push(NodeData::Element(Element {
            name,
            attrs,
            template_contents,
        }))
    }

    fn create_comment(&self, _text: StrTendril) -> NodeId {
        self.push(NodeData::Other)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> NodeId {
        self.push(NodeData::Other)
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        self.insert(*parent, NIL, child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        let parent = self
            .nodes
            .borrow()
            .get(*element as usize)
            .map_or(NIL, |n| n.parent);
        if parent != NIL {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        match self.nodes.borrow().get(*target as usize).map(|n| &n.data) {
            Some(NodeData::Element(e)) => e.template_contents,
            _ => NIL,
        }
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        let parent = self
            .nodes
            .borrow()
            .get(*sibling as usize)
            .map_or(NIL, |n| n.parent);
        if parent != NIL {
            self.insert(parent, *sibling, new_node);
        }
    }

    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        let mut nodes = self.nodes.borrow_mut();
        if let Some(NodeData::Element(e)) = nodes.get_mut(*target as usize).map(|n| &mut n.data) {
            for attr in attrs {
                if !e.attrs.iter().any(|a| a.name == attr.name) {
                    e.attrs.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &NodeId) {
        Self::detach(&mut self.nodes.borrow_mut(), *target);
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        let mut nodes = self.nodes.borrow_mut();
        loop {
            let first = Self::with_node(&mut nodes, *node, |n| n.first).unwrap_or(NIL);
            if first == NIL {
                break;
            }
            Self::detach(&mut nodes, first);
            Self::link(&mut nodes, *new_parent, first, NIL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(html: &str) -> Dom {
        Dom::parse(html, &mut Budget::new(None)).unwrap_or_else(|_| Sink::default().finish())
    }

    #[test]
    fn parses_into_document_order_tree() {
        let dom = parse("<p>one <b>two</b></p><p>three");
        let body = dom.body();
        let names: Vec<_> = dom
            .descendants(body)
            .filter_map(|id| dom.tag(id).map(|t| t.to_string()))
            .collect();
        assert_eq!(names, ["body", "p", "b", "p"]);
        assert_eq!(dom.text_content(body), "one twothree");
    }

    #[test]
    fn misnested_formatting_is_repaired_without_losing_text() {
        let dom = parse("<p><b>bold <i>both</b> italic</i> end</p>");
        assert_eq!(dom.text_content(dom.body()), "bold both italic end");
    }

    #[test]
    fn chunked_parse_keeps_multibyte_characters_whole() {
        let page = format!("<p>{}</p>", "拜登".repeat(40_000));
        let dom = parse(&page);
        assert_eq!(dom.text_content(dom.body()).chars().count(), 80_000);
    }

    #[test]
    fn skip_children_jumps_over_a_subtree() {
        let dom = parse("<div><p>a</p></div><span>b</span>");
        let mut walk = dom.descendants(dom.body());
        let mut seen = vec![];
        while let Some(id) = walk.next() {
            if let Some(t) = dom.tag(id) {
                seen.push(t.to_string());
                if dom.is(id, &local_name!("div")) {
                    walk.skip_children_of(id);
                }
            }
        }
        assert_eq!(seen, ["body", "div", "span"]);
    }
}
