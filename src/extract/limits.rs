//! Bounds on the work one page may cause.
//!
//! [`prescan`] runs before any DOM exists: a single pass over the bytes that tracks a
//! stack of open tag names the way the HTML tree builder would (closely enough), so a
//! page of 50,000 nested `<div>`s is refused in well under a millisecond and the
//! parser never sees it. [`Budget`] carries the caller's deadline through every loop.
//!
//! The same pass notes where `<script>` and `<style>` bodies lie: on news pages they
//! are about half the bytes, the extractor never reads them, and handing the parser
//! the page without them ([`without`]) halves its work. JSON-LD scripts are kept.

use std::borrow::Cow;
use std::ops::Range;
use std::time::Instant;

use super::ExtractError;

/// Elements the parser closes by itself (or that never nest in practice): counting
/// them would make ordinary pages with unclosed `<p>`/`<li>` look deep.
const IMPLICITLY_CLOSED: &[&[u8]] = &[
    b"p",
    b"li",
    b"dt",
    b"dd",
    b"option",
    b"optgroup",
    b"tr",
    b"td",
    b"th",
    b"thead",
    b"tbody",
    b"tfoot",
    b"colgroup",
    b"caption",
    b"rb",
    b"rt",
    b"rp",
    b"rtc",
    b"html",
    b"head",
    b"body",
];

const VOID: &[&[u8]] = &[
    b"area",
    b"base",
    b"br",
    b"col",
    b"embed",
    b"hr",
    b"img",
    b"input",
    b"link",
    b"meta",
    b"param",
    b"source",
    b"track",
    b"wbr",
    b"keygen",
    b"basefont",
    b"bgsound",
    b"frame",
    b"image",
];

/// Elements whose content is raw text up to the matching end tag.
const RAW_TEXT: &[&[u8]] = &[
    b"script",
    b"style",
    b"textarea",
    b"title",
    b"xmp",
    b"iframe",
    b"noembed",
    b"noframes",
    b"plaintext",
];

/// Refuses pages over `max_bytes` or nested deeper than `max_depth`; otherwise
/// returns the byte ranges of script and style bodies the parser can do without.
pub(crate) fn prescan(
    html: &str,
    limits: &super::Limits,
) -> Result<Vec<Range<usize>>, ExtractError> {
    if html.len() > limits.max_bytes {
        return Err(ExtractError::TooLarge {
            size: html.len(),
            limit: limits.max_bytes,
        });
    }
    let scan = scan(html.as_bytes(), limits.max_depth);
    if scan.depth > limits.max_depth {
        return Err(ExtractError::TooDeep {
            limit: limits.max_depth,
        });
    }
    Ok(scan.unread)
}

/// `html` without the byte ranges in `unread` (which must lie between ASCII bytes).
pub(crate) fn without<'a>(html: &'a str, unread: &[Range<usize>]) -> Cow<'a, str> {
    if unread.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    for range in unread {
        let (Some(kept), Some(_)) = (html.get(from..range.start), html.get(range.clone())) else {
            return Cow::Borrowed(html);
        };
        out.push_str(kept);
        from = range.end;
    }
    out.push_str(html.get(from..).unwrap_or_default());
    Cow::Owned(out)
}

struct Scan {
    /// Approximate element nesting depth, counted until it passes the cap.
    depth: usize,
    /// Script (other than JSON-LD) and style bodies.
    unread: Vec<Range<usize>>,
}

fn scan(html: &[u8], cap: usize) -> Scan {
    let mut unread = Vec::new();
    let mut open: Vec<&[u8]> = Vec::new();
    let mut foreign = 0usize; // open <svg>/<math>: there `/>` really self-closes
    let mut deepest = 0usize;
    let mut pos = 0usize;
    while let Some(lt) = memchr::memchr(b'<', html.get(pos..).unwrap_or_default()) {
        let at = pos + lt;
        let rest = html.get(at..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            pos = find(html, at + 4, b"-->").map_or(html.len(), |e| e + 3);
            continue;
        }
        let Some(tag) = read_tag(html, at) else {
            pos = at + 1;
            continue;
        };
        pos = tag.end;
        if tag.closing {
            if let Some(i) = open.iter().rposition(|n| n.eq_ignore_ascii_case(tag.name)) {
                let closed = open.get(i..).unwrap_or_default();
                foreign = foreign.saturating_sub(closed.iter().filter(|n| is_foreign(n)).count());
                open.truncate(i);
            }
            continue;
        }
        let name = tag.name;
        if contains(RAW_TEXT, name) {
            let body_end = raw_text_end(html, pos, name);
            let body = html.get(pos..body_end).unwrap_or_default();
            // `<!--` inside a script switches the tokenizer to its "escaped" states, where
            // `</script>` may not end the script: such bodies go to the parser as they are.
            if is_unread_body(name, html.get(at..pos).unwrap_or_default())
                && !body.is_empty()
                && memchr::memmem::find(body, b"<!--").is_none()
            {
                unread.push(pos..body_end);
            }
            pos = body_end;
            continue;
        }
        if contains(VOID, name) || contains(IMPLICITLY_CLOSED, name) {
            continue;
        }
        if tag.self_closing && foreign > 0 {
            continue;
        }
        if is_foreign(name) {
            foreign += 1;
        }
        // A new <a> or <nobr> closes an open one (the adoption agency algorithm), so
        // sloppy pages that never close their links do not nest them.
        if (name.eq_ignore_ascii_case(b"a") || name.eq_ignore_ascii_case(b"nobr"))
            && let Some(i) = open.iter().rposition(|n| n.eq_ignore_ascii_case(name))
        {
            open.truncate(i);
        }
        open.push(name);
        deepest = deepest.max(open.len());
        if deepest > cap {
            break;
        }
    }
    Scan {
        depth: deepest,
        unread,
    }
}

/// Script bodies other than JSON-LD, and style bodies.
fn is_unread_body(name: &[u8], start_tag: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"style")
        || (name.eq_ignore_ascii_case(b"script")
            && !start_tag
                .to_ascii_lowercase()
                .windows(7)
                .any(|w| w == b"ld+json"))
}

struct RawTag<'a> {
    name: &'a [u8],
    closing: bool,
    self_closing: bool,
    /// Index just past the tag's `>`.
    end: usize,
}

/// Reads the tag starting at `html[at] == b'<'`, skipping quoted attribute values.
fn read_tag(html: &[u8], at: usize) -> Option<RawTag<'_>> {
    let mut i = at + 1;
    let closing = html.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while html
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b':')
    {
        i += 1;
    }
    if i == name_start || !html.get(name_start)?.is_ascii_alphabetic() {
        // `<!doctype>`, `<?xml>`, `</ >`, or a stray `<`: skip to the next `>`.
        let end = memchr::memchr(b'>', html.get(i..)?).map(|e| i + e + 1)?;
        return Some(RawTag {
            name: b"",
            closing: true,
            self_closing: false,
            end,
        });
    }
    let name = html.get(name_start..i)?;
    let mut quote = None;
    while let Some(&b) = html.get(i) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                let self_closing = i > name_start && html.get(i - 1) == Some(&b'/');
                return Some(RawTag {
                    name,
                    closing,
                    self_closing,
                    end: i + 1,
                });
            }
            (None, _) => {}
        }
        i += 1;
    }
    None
}

/// Where the raw text starting at `from` ends: the `<` of its end tag (`</name`
/// followed by whitespace, `/` or `>`, as the tokenizer requires), or the end.
fn raw_text_end(html: &[u8], from: usize, name: &[u8]) -> usize {
    let mut pos = from;
    while let Some(e) = find(html, pos, b"</") {
        let after = html.get(e + 2..e + 2 + name.len()).unwrap_or_default();
        let next = html.get(e + 2 + name.len()).copied();
        if after.eq_ignore_ascii_case(name)
            && next.is_none_or(|b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        {
            return e;
        }
        pos = e + 2;
    }
    html.len()
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|i| from + i)
}

fn contains(set: &[&[u8]], name: &[u8]) -> bool {
    set.iter().any(|n| n.eq_ignore_ascii_case(name))
}

fn is_foreign(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"svg") || name.eq_ignore_ascii_case(b"math")
}

/// The caller's deadline, checked cheaply from inside loops.
pub(crate) struct Budget {
    deadline: Option<Instant>,
    ticks: u32,
}

impl Budget {
    /// How many `tick`s pass between two clock reads: reading the clock per node would
    /// cost more than the work it guards.
    const CHECK_EVERY: u32 = 512;

    pub(crate) fn new(deadline: Option<Instant>) -> Self {
        Budget { deadline, ticks: 0 }
    }

    /// Counts one unit of work; fails once the deadline has passed.
    pub(crate) fn tick(&mut self) -> Result<(), ExtractError> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(Self::CHECK_EVERY) {
            self.check()
        } else {
            Ok(())
        }
    }

    /// Reads the clock now.
    pub(crate) fn check(&self) -> Result<(), ExtractError> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(ExtractError::Timeout),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_nesting_is_measured() {
        assert_eq!(depth(b"<div><div><span>x</span></div></div>"), 3);
    }

    fn depth(html: &[u8]) -> usize {
        scan(html, 100).depth
    }

    #[test]
    fn script_and_style_bodies_are_left_unread_but_json_ld_is_kept() {
        let html = r#"<script>var a = "<div>";</script><p>x</p><style>p{}</style><script type="application/ld+json">{}</script></scriptx>"#;
        let scanned = scan(html.as_bytes(), 100);
        assert_eq!(
            without(html, &scanned.unread),
            r#"<script></script><p>x</p><style></style><script type="application/ld+json">{}</script></scriptx>"#
        );
    }

    #[test]
    fn unclosed_paragraphs_and_list_items_do_not_count_as_depth() {
        let page = "<ul>".to_string() + &"<li><p>item".repeat(5000) + "</ul>";
        assert_eq!(depth(page.as_bytes()), 1);
    }

    #[test]
    fn scripts_with_comment_escapes_are_left_to_the_parser() {
        let html = r#"<script><!-- document.write("<script>x</script>") --></script><p>x</p>"#;
        assert!(scan(html.as_bytes(), 100).unread.is_empty());
    }

    #[test]
    fn unclosed_links_do_not_nest() {
        let page = "<p><a href=x>link".repeat(2000);
        assert_eq!(depth(page.as_bytes()), 1);
    }

    #[test]
    fn stray_end_tags_do_not_hide_nesting() {
        let page = "<div></span>".repeat(1000);
        assert!(depth(page.as_bytes()) > 100);
    }

    #[test]
    fn self_closing_div_still_nests_but_svg_paths_do_not() {
        assert!(depth("<div/>".repeat(200).as_bytes()) > 100);
        let svg = "<svg>".to_string() + &"<path d='M0 0'/>".repeat(500) + "</svg>";
        assert_eq!(depth(svg.as_bytes()), 1);
    }

    #[test]
    fn script_and_comment_content_is_skipped() {
        let page = "<script>".to_string() + &"<div>".repeat(1000) + "</script><!-- <div><div> -->";
        assert_eq!(depth(page.as_bytes()), 0);
    }

    #[test]
    fn quoted_angle_brackets_do_not_end_a_tag() {
        assert_eq!(depth(br#"<div title="a>b"><b>x</b></div>"#), 2);
    }
}
