//! The Markdown form of an article, as the seed mirror published it:
//!
//! ```text
//! ### Title
//!
//! ---
//!
//! #### [Home](/gb/) &nbsp;|&nbsp; [Opinion](/gb/nsc413.htm)
//!
//!
//! ![Title](/_/asset/i.example.com/lead.jpg)
//! Caption of the lead image
//!
//! Body as Markdown...
//!
//! ---
//!
//! Original: https://...
//! ```

use html5ever::local_name;

use super::Article;
use super::dom::{Dom, NIL, NodeData, NodeId};
use super::limits::Budget;

/// Renders `article` with the operator's navigation links and footer line.
pub fn render(article: &Article, nav: &[(String, String)], footer: &str) -> String {
    let mut out = String::new();
    out.push_str("### ");
    out.push_str(&escape_inline(&article.title));
    out.push_str("\n\n---\n\n");
    if !nav.is_empty() {
        let links: Vec<String> = nav
            .iter()
            .map(|(label, href)| format!("[{}]({})", escape_inline(label), escape_url(href)))
            .collect();
        out.push_str("#### ");
        out.push_str(&links.join(" &nbsp;|&nbsp; "));
        out.push_str("\n\n\n");
    }
    if let Some(lead) = &article.lead_image {
        out.push_str(&format!(
            "![{}]({})\n",
            escape_inline(&article.title),
            escape_url(&lead.url)
        ));
        if let Some(caption) = &lead.caption {
            out.push_str(&escape_inline(caption));
            out.push('\n');
        }
        out.push('\n');
    }
    let skip_image = article.lead_image.as_ref().map(|i| i.url.as_str());
    let body = body_markdown(&article.content_html, skip_image);
    if !body.is_empty() {
        out.push_str(&body);
        out.push_str("\n\n");
    }
    out.push_str("---\n\n");
    out.push_str(footer);
    out.push('\n');
    out
}

/// Converts the extractor's own clean `content_html` to Markdown.
fn body_markdown(content_html: &str, skip_image: Option<&str>) -> String {
    // The HTML was written by `output`: small, well-formed, and already within limits.
    let Ok(dom) = Dom::parse(content_html, &mut Budget::new(None)) else {
        return String::new();
    };
    let mut md = Converter {
        dom: &dom,
        blocks: Vec::new(),
        cur: String::new(),
        contexts: Vec::new(),
        skip_image,
        heading: None,
    };
    md.convert(dom.body());
    md.flush();
    md.blocks.join("\n\n")
}

/// Enclosing constructs that shape each line's prefix.
enum Context {
    Quote,
    List {
        ordered: bool,
        next: u32,
    },
    /// An open list item; `marker` is written before its first line, then spaces.
    Item {
        marker: String,
        used: bool,
    },
}

enum Step {
    Enter(NodeId),
    Exit(NodeId),
}

struct Converter<'a> {
    dom: &'a Dom,
    blocks: Vec<String>,
    cur: String,
    contexts: Vec<Context>,
    skip_image: Option<&'a str>,
    /// Level of the heading being written, if any.
    heading: Option<usize>,
}

impl Converter<'_> {
    fn convert(&mut self, root: NodeId) {
        let mut stack = vec![Step::Enter(root)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(id) => {
                    if let Some(t) = self.dom.text(id) {
                        self.text(t);
                        continue;
                    }
                    if !self.enter(id) {
                        continue;
                    }
                    stack.push(Step::Exit(id));
                    let mut child = self.dom.node(id).last;
                    while child != NIL {
                        stack.push(Step::Enter(child));
                        child = self.dom.node(child).prev;
                    }
                }
                Step::Exit(id) => self.exit(id),
            }
        }
    }

    /// Opens an element; `false` when its children are not to be visited.
    fn enter(&mut self, id: NodeId) -> bool {
        let dom = self.dom;
        let Some(tag) = dom.tag(id) else {
            return matches!(dom.node(id).data, NodeData::Document);
        };
        match *tag {
            local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6") => {
                self.flush();
                self.heading = Some(match *tag {
                    local_name!("h2") => 4,
                    local_name!("h3") => 5,
                    _ => 6,
                });
            }
            local_name!("figure") if self.holds_skipped_image(id) => return false,
            local_name!("pre") => {
                self.flush();
                let code = self.dom_text_raw(id);
                let fence = if code.contains("```") { "~~~" } else { "```" };
                self.cur = format!("{fence}\n{}\n{fence}", code.trim_end_matches('\n'));
                self.flush_raw();
                return false;
            }
            local_name!("blockquote") => {
                self.flush();
                self.contexts.push(Context::Quote);
            }
            local_name!("ul") | local_name!("ol") => {
                self.flush();
                let start = dom
                    .attr(id, "start")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(1);
                self.contexts.push(Context::List {
                    ordered: *tag == local_name!("ol"),
                    next: start,
                });
            }
            local_name!("li") => {
                self.flush();
                let marker = match self.contexts.iter_mut().rev().find_map(|c| match c {
                    Context::List { ordered, next } => Some((ordered, next)),
                    _ => None,
                }) {
                    Some((true, next)) => {
                        let m = format!("{next}. ");
                        *next += 1;
                        m
                    }
                    _ => "- ".to_string(),
                };
                self.contexts.push(Context::Item {
                    marker,
                    used: false,
                });
            }
            local_name!("br") => self.cur.push_str("  \n"),
            local_name!("hr") => {
                self.flush();
                self.cur.push_str("* * *");
                self.flush();
            }
            local_name!("img") => {
                if let Some(src) = dom.attr(id, "src").filter(|s| Some(*s) != self.skip_image) {
                    let alt = dom.attr(id, "alt").unwrap_or_default();
                    self.cur
                        .push_str(&format!("![{}]({})", escape_inline(alt), escape_url(src)));
                }
            }
            local_name!("a") => self.cur.push('['),
            local_name!("strong") => self.cur.push_str("**"),
            local_name!("em") => self.cur.push('*'),
            local_name!("code") => self.cur.push('`'),
            local_name!("td") | local_name!("th") => self.cur.push_str("| "),
            local_name!("p")
            | local_name!("div")
            | local_name!("figure")
            | local_name!("figcaption")
            | local_name!("table")
            | local_name!("tr")
            | local_name!("dl")
            | local_name!("dt")
            | local_name!("dd")
            | local_name!("caption") => self.flush(),
            _ => {}
        }
        true
    }

    fn exit(&mut self, id: NodeId) {
        let dom = self.dom;
        let Some(tag) = dom.tag(id) else { return };
        match *tag {
            local_name!("a") => {
                let href = dom.attr(id, "href").unwrap_or_default();
                self.cur.push_str(&format!("]({})", escape_url(href)));
            }
            local_name!("strong") => self.cur.push_str("**"),
            local_name!("em") => self.cur.push('*'),
            local_name!("code") => self.cur.push('`'),
            local_name!("td") | local_name!("th") => self.cur.push(' '),
            local_name!("img") => {}
            local_name!("tr") => {
                self.cur.push('|');
                let is_first_row = dom.node(id).prev == NIL
                    || dom
                        .children(dom.parent(id))
                        .find(|c| dom.element(*c).is_some())
                        == Some(id);
                if is_first_row {
                    let cells = dom.element_children(id).count();
                    self.cur.push('\n');
                    self.cur.push_str(&"| --- ".repeat(cells));
                    self.cur.push('|');
                }
                self.flush();
            }
            local_name!("blockquote")
            | local_name!("ul")
            | local_name!("ol")
            | local_name!("li") => {
                self.flush();
                self.contexts.pop();
            }
            _ => {
                if super::content::is_block(tag) {
                    self.flush();
                }
            }
        }
    }

    fn text(&mut self, t: &str) {
        let mut last_space = self.cur.is_empty() || self.cur.ends_with([' ', '\n']);
        for c in t.chars() {
            if c.is_whitespace() {
                if !last_space {
                    self.cur.push(' ');
                    last_space = true;
                }
                continue;
            }
            last_space = false;
            if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|') {
                self.cur.push('\\');
            }
            self.cur.push(c);
        }
    }

    /// A figure around the lead image, already written (with its caption) at the top.
    fn holds_skipped_image(&self, figure: NodeId) -> bool {
        let Some(skip) = self.skip_image else {
            return false;
        };
        self.dom
            .descendants(figure)
            .any(|d| self.dom.is(d, &local_name!("img")) && self.dom.attr(d, "src") == Some(skip))
    }

    fn dom_text_raw(&self, id: NodeId) -> String {
        self.dom
            .descendants(id)
            .filter_map(|d| self.dom.text(d))
            .collect()
    }

    /// Ends the current block, prefixing its lines for enclosing quotes and lists.
    fn flush(&mut self) {
        let block = std::mem::take(&mut self.cur);
        let block = block.trim();
        let heading = self.heading.take();
        if block.is_empty() {
            return;
        }
        let mut block = escape_line_starts(block);
        if let Some(level) = heading {
            block = format!("{} {}", "#".repeat(level), block.replace('\n', " "));
        }
        self.push_block(&block);
    }

    /// Like `flush`, for text that must not be escaped (code fences).
    fn flush_raw(&mut self) {
        let block = std::mem::take(&mut self.cur);
        self.push_block(&block);
    }

    fn push_block(&mut self, block: &str) {
        let mut lines = Vec::new();
        for (i, line) in block.lines().enumerate() {
            let mut prefix = String::new();
            for ctx in &mut self.contexts {
                match ctx {
                    Context::Quote => prefix.push_str("> "),
                    Context::List { .. } => {}
                    Context::Item { marker, used } => {
                        if i == 0 && !*used {
                            prefix.push_str(marker);
                        } else {
                            prefix.push_str(&" ".repeat(marker.len()));
                        }
                    }
                }
            }
            lines.push(format!("{prefix}{line}"));
        }
        for ctx in &mut self.contexts {
            if let Context::Item { used, .. } = ctx {
                *used = true;
            }
        }
        self.blocks.push(lines.join("\n"));
    }
}

/// Escapes what Markdown would read as block syntax at the start of a line.
fn escape_line_starts(block: &str) -> String {
    block
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let needs =
                trimmed.starts_with(['#', '+', '-', '=']) || ordered_marker_len(trimmed).is_some();
            if needs {
                match ordered_marker_len(trimmed) {
                    Some(n) => format!(
                        "{}\\{}",
                        trimmed.get(..n).unwrap_or(""),
                        trimmed.get(n..).unwrap_or("")
                    ),
                    None => format!("\\{trimmed}"),
                }
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `12. ` at the start of a line would start an ordered list: the digits' length.
fn ordered_marker_len(line: &str) -> Option<usize> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    (digits > 0 && line.get(digits..).is_some_and(|r| r.starts_with(". "))).then_some(digits)
}

fn escape_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// URLs go in `( )`: spaces and parentheses would end them early.
fn escape_url(url: &str) -> String {
    url.replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(html: &str) -> String {
        body_markdown(html, None)
    }

    #[test]
    fn paragraphs_links_and_emphasis_convert() {
        assert_eq!(
            md(r#"<p>Read <a href="/a">this <strong>now</strong></a>.</p><p>Two</p>"#),
            "Read [this **now**](/a).\n\nTwo"
        );
    }

    #[test]
    fn lists_and_quotes_get_prefixes() {
        assert_eq!(md("<ul><li>a</li><li>b</li></ul>"), "- a\n\n- b");
        assert_eq!(md("<ol start=3><li>a</li></ol>"), "3. a");
        assert_eq!(md("<blockquote><p>q</p></blockquote>"), "> q");
    }

    #[test]
    fn markdown_specials_in_text_are_escaped() {
        assert_eq!(
            md("<p>a*b_c [d]</p><p># not a heading</p>"),
            "a\\*b\\_c \\[d\\]\n\n\\# not a heading"
        );
    }

    #[test]
    fn headings_sit_below_the_title_level() {
        assert_eq!(md("<h2>Sub</h2><p>x</p>"), "#### Sub\n\nx");
    }
}
