//! Bounds on the work one page may cause.
//!
//! [`prescan`] runs before any DOM exists: a single pass over the bytes that tracks a
//! stack of open tag names the way the HTML tree builder would (closely enough), so a
//! page of 50,000 nested `<div>`s is refused in well under a millisecond and the
//! parser never sees it. [`Budget`] carries the caller's deadline through every loop.

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

/// Refuses pages over `max_bytes` or nested deeper than `max_depth`.
pub(crate) fn prescan(html: &str, limits: &super::Limits) -> Result<(), ExtractError> {
    if html.len() > limits.max_bytes {
        return Err(ExtractError::TooLarge {
            size: html.len(),
            limit: limits.max_bytes,
        });
    }
    if max_nesting(html.as_bytes(), limits.max_depth) > limits.max_depth {
        return Err(ExtractError::TooDeep {
            limit: limits.max_depth,
        });
    }
    Ok(())
}

/// Approximate element nesting depth of `html`, stopping as soon as it exceeds `cap`.
fn max_nesting(html: &[u8], cap: usize) -> usize {
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
            pos = skip_raw_text(html, pos, name);
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
        open.push(name);
        deepest = deepest.max(open.len());
        if deepest > cap {
            break;
        }
    }
    deepest
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

fn skip_raw_text(html: &[u8], from: usize, name: &[u8]) -> usize {
    let mut pos = from;
    while let Some(e) = find(html, pos, b"</") {
        let after = html.get(e + 2..e + 2 + name.len()).unwrap_or_default();
        if after.eq_ignore_ascii_case(name) {
            return e + 2;
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
        if self.ticks % Self::CHECK_EVERY == 0 {
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
        assert_eq!(max_nesting(b"<div><div><span>x</span></div></div>", 100), 3);
    }

    #[test]
    fn unclosed_paragraphs_and_list_items_do_not_count_as_depth() {
        let page = "<ul>".to_string() + &"<li><p>item".repeat(5000) + "</ul>";
        assert_eq!(max_nesting(page.as_bytes(), 100), 1);
    }

    #[test]
    fn stray_end_tags_do_not_hide_nesting() {
        let page = "<div></span>".repeat(1000);
        assert!(max_nesting(page.as_bytes(), 100) > 100);
    }

    #[test]
    fn self_closing_div_still_nests_but_svg_paths_do_not() {
        assert!(max_nesting("<div/>".repeat(200).as_bytes(), 100) > 100);
        let svg = "<svg>".to_string() + &"<path d='M0 0'/>".repeat(500) + "</svg>";
        assert_eq!(max_nesting(svg.as_bytes(), 100), 1);
    }

    #[test]
    fn script_and_comment_content_is_skipped() {
        let page = "<script>".to_string() + &"<div>".repeat(1000) + "</script><!-- <div><div> -->";
        assert_eq!(max_nesting(page.as_bytes(), 100), 0);
    }

    #[test]
    fn quoted_angle_brackets_do_not_end_a_tag() {
        assert_eq!(max_nesting(br#"<div title="a>b"><b>x</b></div>"#, 100), 2);
    }
}
