//! Writes the chosen body as clean HTML and as plain text, in one walk.
//!
//! Only a fixed set of structural and phrasing elements survives, with only the
//! attributes a reader needs (`href`, `src`, `alt`, spans of table cells); every URL
//! goes through the mirror's URL rule. Unknown elements (custom tags such as the
//! `<ok>` some mirrors leave behind, `<span>`, `<font>`) are unwrapped.
//!
//! Captions stay in the HTML (inside their `<figure>`) but not in the text: the text
//! is the article's running prose, and captions are given with each image.

use html5ever::{LocalName, local_name};

use super::body::Body;
use super::dom::{Dom, NodeData, NodeId};
use super::limits::Budget;
use super::urls::Resolver;
use super::{ExtractError, Image, media};

pub(crate) struct Rendered {
    pub html: String,
    pub text: String,
    pub images: Vec<Image>,
}

/// How an element appears in `content_html`.
#[derive(Clone, Copy)]
enum Shape {
    /// Written as this element; the bool says whether it breaks the text into a new
    /// paragraph.
    Element(&'static str, bool),
    /// Only its children are written; the bool as above.
    Unwrapped(bool),
}

fn shape(tag: &LocalName) -> Shape {
    use Shape::{Element, Unwrapped};
    match *tag {
        local_name!("p") => Element("p", true),
        local_name!("h1") | local_name!("h2") => Element("h2", true),
        local_name!("h3") => Element("h3", true),
        local_name!("h4") => Element("h4", true),
        local_name!("h5") => Element("h5", true),
        local_name!("h6") => Element("h6", true),
        local_name!("ul") => Element("ul", true),
        local_name!("ol") => Element("ol", true),
        local_name!("li") => Element("li", true),
        local_name!("dl") => Element("dl", true),
        local_name!("dt") => Element("dt", true),
        local_name!("dd") => Element("dd", true),
        local_name!("blockquote") => Element("blockquote", true),
        local_name!("pre") => Element("pre", true),
        local_name!("table") => Element("table", true),
        local_name!("caption") => Element("caption", true),
        local_name!("thead") => Element("thead", true),
        local_name!("tbody") => Element("tbody", true),
        local_name!("tfoot") => Element("tfoot", true),
        local_name!("tr") => Element("tr", true),
        local_name!("td") => Element("td", false),
        local_name!("th") => Element("th", false),
        local_name!("figure") => Element("figure", true),
        local_name!("figcaption") => Element("figcaption", true),
        local_name!("hr") => Element("hr", true),
        local_name!("br") => Element("br", false),
        local_name!("img") => Element("img", false),
        local_name!("a") => Element("a", false),
        local_name!("code") => Element("code", false),
        local_name!("em") | local_name!("i") | local_name!("cite") | local_name!("dfn") => {
            Element("em", false)
        }
        local_name!("strong") | local_name!("b") => Element("strong", false),
        local_name!("u") | local_name!("ins") => Element("u", false),
        local_name!("s") | local_name!("del") | local_name!("strike") => Element("s", false),
        local_name!("sub") => Element("sub", false),
        local_name!("sup") => Element("sup", false),
        local_name!("small") => Element("small", false),
        local_name!("mark") => Element("mark", false),
        local_name!("q") => Element("q", false),
        local_name!("abbr") => Element("abbr", false),
        local_name!("time") => Element("time", false),
        local_name!("kbd") | local_name!("samp") | local_name!("var") | local_name!("tt") => {
            Element("code", false)
        }
        local_name!("div")
        | local_name!("section")
        | local_name!("article")
        | local_name!("main")
        | local_name!("center")
        | local_name!("header")
        | local_name!("address")
        | local_name!("details")
        | local_name!("summary")
        | local_name!("hgroup")
        | local_name!("body") => Element("div", true),
        _ => Unwrapped(super::content::is_block(tag)),
    }
}

/// Renders `body.roots` (less `body.skip`) to HTML, text and the list of images.
pub(crate) fn render(
    dom: &Dom,
    body: &Body,
    resolver: &Resolver,
    budget: &mut Budget,
) -> Result<Rendered, ExtractError> {
    let mut w = Writer {
        dom,
        resolver,
        html: String::new(),
        text: TextBuilder::default(),
        images: Vec::new(),
        pre: 0,
        at_block_edge: true,
        caption: 0,
        tables: 0,
    };
    for &root in &body.roots {
        w.subtree(root, body, budget)?;
    }
    w.text.break_paragraph();
    Ok(Rendered {
        html: w.html,
        text: w.text.out,
        images: w.images,
    })
}

enum Step {
    Enter(NodeId),
    /// Close what entering opened: the tag written (if any), whether it was a block,
    /// and whether it was a caption.
    Exit(Option<&'static str>, bool, bool),
}

struct Writer<'a> {
    dom: &'a Dom,
    resolver: &'a Resolver,
    html: String,
    text: TextBuilder,
    images: Vec<Image>,
    /// Open `<pre>` elements: whitespace is kept inside them.
    pre: u32,
    /// The HTML just opened or closed a block: whitespace here means nothing.
    at_block_edge: bool,
    /// Open captions (`<figcaption>`, small caption-named elements): their text goes
    /// to the HTML only.
    caption: u32,
    /// Open `<table>` elements: a row or cell outside one (a body found in
    /// a layout table's cell) is written as a `<div>`, never as a bare `<tr>`.
    tables: u32,
}

impl Writer<'_> {
    /// Walks one subtree with an explicit stack, so depth costs heap, not stack.
    fn subtree(
        &mut self,
        root: NodeId,
        body: &Body,
        budget: &mut Budget,
    ) -> Result<(), ExtractError> {
        let mut stack = vec![Step::Enter(root)];
        while let Some(step) = stack.pop() {
            budget.tick()?;
            match step {
                Step::Exit(tag, block, caption) => {
                    if caption {
                        self.caption = self.caption.saturating_sub(1);
                    }
                    if let Some(tag) = tag {
                        if block && self.pre == 0 && self.html.ends_with(' ') {
                            self.html.pop();
                        }
                        self.html.push_str("</");
                        self.html.push_str(tag);
                        self.html.push('>');
                        self.at_block_edge = block;
                    }
                    if tag == Some("pre") {
                        self.pre = self.pre.saturating_sub(1);
                    }
                    if tag == Some("table") {
                        self.tables = self.tables.saturating_sub(1);
                    }
                    if block {
                        self.text.break_paragraph();
                    }
                }
                Step::Enter(id) if body.skipped(id) => {}
                Step::Enter(id) => match &self.dom.node(id).data {
                    NodeData::Text(t) => self.write_text(t),
                    NodeData::Element(_) => {
                        let Some(tag) = self.dom.tag(id) else {
                            continue;
                        };
                        if *tag == local_name!("figure") && !self.figure_keeps_media(id, body) {
                            continue;
                        }
                        let Some(mut exit) = self.open(id, tag) else {
                            continue;
                        };
                        if *tag == local_name!("figcaption") || body.is_caption(id) {
                            self.caption += 1;
                            if let Step::Exit(_, _, caption) = &mut exit {
                                *caption = true;
                            }
                        }
                        stack.push(exit);
                        let mut child = self.dom.node(id).last;
                        while child != super::dom::NIL {
                            stack.push(Step::Enter(child));
                            child = self.dom.node(child).prev;
                        }
                    }
                    _ => {}
                },
            }
        }
        Ok(())
    }

    /// Whether a `<figure>` still has what it frames once dropped media
    /// (`<video>`, `<iframe>`, placeholders, tracking pixels) are gone: an
    /// image that will be written, or text outside its captions. A caption
    /// alone goes with the media it described.
    fn figure_keeps_media(&self, figure: NodeId, body: &Body) -> bool {
        let mut walk = self.dom.descendants(figure);
        while let Some(id) = walk.next() {
            if id == figure {
                continue;
            }
            if body.skipped(id)
                || body.is_caption(id)
                || self.dom.is(id, &local_name!("figcaption"))
            {
                walk.skip_children_of(id);
                continue;
            }
            match &self.dom.node(id).data {
                NodeData::Text(t) if !t.trim().is_empty() => return true,
                NodeData::Element(_)
                    if self.dom.is(id, &local_name!("img"))
                        && media::image_source(self.dom, id)
                            .and_then(|s| self.resolver.resolve(s))
                            .is_some() =>
                {
                    return true;
                }
                _ => {}
            }
        }
        false
    }

    /// Writes an element's start; returns the matching exit step, or `None` when the
    /// element is void or left out (and its children with it).
    fn open(&mut self, id: NodeId, tag: &LocalName) -> Option<Step> {
        let shape = match shape(tag) {
            Shape::Element("tr" | "td" | "th" | "thead" | "tbody" | "tfoot" | "caption", _)
                if self.tables == 0 =>
            {
                Shape::Element("div", true)
            }
            shape => shape,
        };
        let (name, block) = match shape {
            Shape::Unwrapped(block) => {
                if block {
                    self.text.break_paragraph();
                }
                return Some(Step::Exit(None, block, false));
            }
            // A wrapper holding only blocks adds nothing but nesting.
            Shape::Element("div", _) if !holds_inline(self.dom, id) => {
                self.text.break_paragraph();
                return Some(Step::Exit(None, true, false));
            }
            Shape::Element(name, block) => (name, block),
        };
        if block {
            self.text.break_paragraph();
            if self.html.ends_with(' ') {
                self.html.pop();
            }
        }
        self.at_block_edge = block;
        match name {
            "img" => {
                self.image(id);
                None
            }
            "br" => {
                self.html.push_str("<br>");
                self.text.line_break();
                None
            }
            "hr" => {
                self.html.push_str("<hr>");
                None
            }
            "a" => {
                let Some(href) = self
                    .dom
                    .attr(id, "href")
                    .and_then(|h| self.resolver.resolve(h))
                else {
                    return Some(Step::Exit(None, false, false));
                };
                self.html.push_str("<a href=\"");
                push_escaped(&mut self.html, &href, true);
                self.html.push_str("\">");
                Some(Step::Exit(Some("a"), false, false))
            }
            _ => {
                self.html.push('<');
                self.html.push_str(name);
                self.copy_attributes(id, name);
                self.html.push('>');
                if name == "td" || name == "th" {
                    self.text.space();
                }
                if name == "pre" {
                    self.pre += 1;
                }
                if name == "table" {
                    self.tables += 1;
                }
                Some(Step::Exit(Some(name), block, false))
            }
        }
    }

    fn copy_attributes(&mut self, id: NodeId, name: &str) {
        let keep: &[&str] = match name {
            "td" | "th" => &["colspan", "rowspan"],
            "ol" => &["start"],
            "time" => &["datetime"],
            "abbr" => &["title"],
            _ => &[],
        };
        for attr in keep {
            if let Some(v) = self.dom.attr(id, attr) {
                self.html.push(' ');
                self.html.push_str(attr);
                self.html.push_str("=\"");
                push_escaped(&mut self.html, v, true);
                self.html.push('"');
            }
        }
    }

    fn image(&mut self, id: NodeId) {
        let Some(url) = media::image_source(self.dom, id).and_then(|s| self.resolver.resolve(s))
        else {
            return;
        };
        self.html.push_str("<img src=\"");
        push_escaped(&mut self.html, &url, true);
        self.html.push('"');
        if let Some(alt) = self.dom.attr(id, "alt").filter(|a| !a.trim().is_empty()) {
            self.html.push_str(" alt=\"");
            push_escaped(&mut self.html, alt.trim(), true);
            self.html.push('"');
        }
        self.html.push('>');
        if !self.images.iter().any(|i| i.url == url) {
            let caption = media::caption_of(self.dom, id);
            self.images.push(Image { url, caption });
        }
    }

    fn write_text(&mut self, t: &str) {
        let to_text = self.caption == 0;
        if self.pre > 0 {
            push_escaped(&mut self.html, t, false);
            if to_text {
                self.text.push_raw(t);
            }
            return;
        }
        let mut last_space = self.at_block_edge || self.html.ends_with(' ');
        for c in t.chars() {
            if c.is_whitespace() {
                if !last_space {
                    self.html.push(' ');
                    last_space = true;
                }
            } else {
                push_escaped_char(&mut self.html, c, false);
                last_space = false;
                self.at_block_edge = false;
            }
        }
        if to_text {
            self.text.push_collapsed(t);
        }
    }
}

/// Does the element have text or inline elements directly inside it?
fn holds_inline(dom: &Dom, id: NodeId) -> bool {
    dom.children(id).any(|c| match dom.tag(c) {
        Some(tag) => !super::content::is_block(tag),
        None => dom.text(c).is_some_and(|t| !t.trim().is_empty()),
    })
}

fn push_escaped(out: &mut String, s: &str, attribute: bool) {
    for c in s.chars() {
        push_escaped_char(out, c, attribute);
    }
}

fn push_escaped_char(out: &mut String, c: char, attribute: bool) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' if attribute => out.push_str("&quot;"),
        '\u{a0}' => out.push_str("&nbsp;"),
        c => out.push(c),
    }
}

/// Plain text with paragraphs separated by one blank line and `<br>` as a newline.
#[derive(Default)]
pub(crate) struct TextBuilder {
    out: String,
    cur: String,
    pending_space: bool,
}

impl TextBuilder {
    pub(crate) fn push_collapsed(&mut self, t: &str) {
        for c in t.chars() {
            if c.is_whitespace() {
                self.pending_space = true;
            } else {
                if self.pending_space && !self.cur.is_empty() && !self.cur.ends_with('\n') {
                    self.cur.push(' ');
                }
                self.pending_space = false;
                self.cur.push(c);
            }
        }
    }

    pub(crate) fn push_raw(&mut self, t: &str) {
        self.cur.push_str(t);
        self.pending_space = false;
    }

    pub(crate) fn space(&mut self) {
        self.pending_space = true;
    }

    pub(crate) fn line_break(&mut self) {
        let trimmed = self.cur.trim_end_matches([' ', '\t']).len();
        self.cur.truncate(trimmed);
        if !self.cur.is_empty() {
            self.cur.push('\n');
        }
        self.pending_space = false;
    }

    pub(crate) fn break_paragraph(&mut self) {
        let para = self.cur.trim();
        if !para.is_empty() {
            if !self.out.is_empty() {
                self.out.push_str("\n\n");
            }
            self.out.push_str(para);
        }
        self.cur.clear();
        self.pending_space = false;
    }

    #[cfg(test)]
    pub(crate) fn finish(mut self) -> String {
        self.break_paragraph();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_builder_separates_paragraphs_with_one_blank_line() {
        let mut t = TextBuilder::default();
        t.push_collapsed("  one \n two ");
        t.break_paragraph();
        t.break_paragraph();
        t.push_collapsed("three");
        t.line_break();
        t.push_collapsed(" four");
        assert_eq!(t.finish(), "one two\n\nthree\nfour");
    }
}
