//! Streaming rewriter for the URLs in CSS: `url(...)`, `@import "..."` and
//! the strings of `image-set(...)`, in stylesheets, `<style>` blocks and
//! `style` attributes.
//!
//! Input arrives in pieces (network chunks, lol_html text chunks). The
//! rewriter emits everything it is sure of and holds back only an
//! unfinished token: a `url(` whose `)` has not arrived, a string, a keyword
//! cut in half. A held token longer than [`MAX_TOKEN`] (an inline font as a
//! `data:` URL, say) is let through unmapped, so memory stays bounded.

use std::borrow::Cow;

use crate::url_map::Place;

/// Longest token held back waiting for its end.
pub const MAX_TOKEN: usize = 64 * 1024;

/// Maps one URL found in CSS; `None` keeps it as written.
pub trait CssUrlMap {
    fn map(&mut self, url: &str, place: Place) -> Option<String>;
}

impl<F: FnMut(&str, Place) -> Option<String>> CssUrlMap for F {
    fn map(&mut self, url: &str, place: Place) -> Option<String> {
        self(url, place)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Normal,
    Comment,
    /// Inside a long string that is passed through unmapped.
    StringPass {
        quote: u8,
    },
    /// Inside a long `url(...)` passed through unmapped; `quote` while in a string.
    UrlPass {
        quote: Option<u8>,
    },
}

#[derive(Debug)]
pub struct CssRewriter {
    pending: String,
    state: State,
    /// Whether the last byte emitted in `Normal` state belongs to an identifier.
    prev_ident: bool,
    /// Saw `@import`; the next string is a URL.
    after_import: bool,
    paren_depth: usize,
    /// Paren depth at which an `image-set(` opened; its strings are URLs.
    image_set_at: Option<usize>,
}

impl Default for CssRewriter {
    fn default() -> Self {
        Self::new()
    }
}

/// What scanning a held token found.
enum Scan {
    /// The token ends at this offset (exclusive).
    Done(usize),
    /// The input ends before the token does.
    NeedMore,
}

impl CssRewriter {
    pub fn new() -> Self {
        CssRewriter {
            pending: String::new(),
            state: State::Normal,
            prev_ident: false,
            after_import: false,
            paren_depth: 0,
            image_set_at: None,
        }
    }

    /// Rewrites the next piece of CSS, appending what is ready to `out`.
    pub fn feed(&mut self, input: &str, map: &mut impl CssUrlMap, out: &mut String) {
        if self.pending.is_empty() {
            let used = self.run(input, false, map, out);
            self.pending.push_str(&input[used..]);
        } else {
            self.pending.push_str(input);
            let pending = std::mem::take(&mut self.pending);
            let used = self.run(&pending, false, map, out);
            self.pending = pending[used..].to_owned();
        }
    }

    /// Ends the input: emits whatever is held (unfinished tokens as written).
    pub fn finish(&mut self, map: &mut impl CssUrlMap, out: &mut String) {
        let pending = std::mem::take(&mut self.pending);
        let used = self.run(&pending, true, map, out);
        out.push_str(&pending[used..]);
        *self = CssRewriter::new();
    }

    /// Scans `s`, writes the rewritten prefix it is sure of to `out`, and
    /// returns how many bytes of `s` it consumed.
    fn run(&mut self, s: &str, eof: bool, map: &mut impl CssUrlMap, out: &mut String) -> usize {
        let b = s.as_bytes();
        let mut i = 0;
        // Start of the run of bytes not yet copied to `out`.
        let mut copied = 0;
        // Emits up to `$to` and stops: the rest is held for more input.
        macro_rules! hold_from {
            ($to:expr) => {{
                out.push_str(&s[copied..$to]);
                return $to;
            }};
        }
        while i < b.len() {
            match self.state {
                State::Comment => match memchr::memmem::find(&b[i..], b"*/") {
                    Some(at) => {
                        i += at + 2;
                        self.state = State::Normal;
                        self.prev_ident = false;
                    }
                    None => {
                        // Hold a trailing '*': it may start the "*/".
                        let end = if !eof && b.last() == Some(&b'*') {
                            b.len() - 1
                        } else {
                            b.len()
                        };
                        hold_from!(end)
                    }
                },
                State::StringPass { quote } => match string_end(b, i, quote) {
                    Scan::Done(end) => {
                        i = end;
                        self.state = State::Normal;
                        self.prev_ident = false;
                    }
                    Scan::NeedMore => {
                        let end = if !eof && b.last() == Some(&b'\\') {
                            b.len() - 1
                        } else {
                            b.len()
                        };
                        hold_from!(end)
                    }
                },
                State::UrlPass { mut quote } => {
                    let mut j = i;
                    let mut closed = false;
                    while j < b.len() {
                        let c = b[j];
                        match quote {
                            Some(q) if c == q => quote = None,
                            Some(_) | None if c == b'\\' => j += 1,
                            None if c == b'"' || c == b'\'' => quote = Some(c),
                            None if c == b')' => {
                                closed = true;
                                j += 1;
                                break;
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    if closed {
                        i = j;
                        self.state = State::Normal;
                        self.prev_ident = false;
                    } else {
                        self.state = State::UrlPass { quote };
                        let end = if !eof && j > b.len() {
                            b.len() - 1
                        } else {
                            b.len()
                        };
                        let end = end.min(b.len());
                        hold_from!(end)
                    }
                }
                State::Normal => {
                    let c = b[i];
                    match c {
                        b'/' => {
                            if i + 1 >= b.len() {
                                if eof {
                                    i += 1;
                                    continue;
                                }
                                hold_from!(i)
                            }
                            if b[i + 1] == b'*' {
                                i += 2;
                                self.state = State::Comment;
                            } else {
                                i += 1;
                                self.prev_ident = false;
                            }
                        }
                        b'"' | b'\'' => {
                            let is_url = self.after_import || self.image_set_at.is_some();
                            match string_end(b, i + 1, c) {
                                Scan::Done(end) => {
                                    // Only a string closed by its quote is mapped
                                    // (one cut by a newline is a CSS "bad string").
                                    let closed = end > i + 1 && b[end - 1] == c;
                                    if is_url && closed {
                                        let place = if self.after_import {
                                            Place::Resource
                                        } else {
                                            Place::Image
                                        };
                                        let inner = &s[i + 1..end - 1];
                                        if let Some(new) = map.map(&unescape(inner), place) {
                                            out.push_str(&s[copied..i]);
                                            push_quoted(out, &new, c);
                                            copied = end;
                                        }
                                    }
                                    self.after_import = false;
                                    self.prev_ident = false;
                                    i = end;
                                }
                                Scan::NeedMore if eof => {
                                    i = b.len();
                                }
                                Scan::NeedMore if b.len() - i > MAX_TOKEN => {
                                    self.state = State::StringPass { quote: c };
                                    hold_from!(b.len())
                                }
                                Scan::NeedMore => {
                                    hold_from!(i)
                                }
                            }
                        }
                        b'\\' => {
                            if i + 1 >= b.len() && !eof {
                                hold_from!(i)
                            }
                            i = (i + 2).min(b.len());
                            self.prev_ident = true;
                        }
                        b'(' => {
                            self.paren_depth += 1;
                            self.prev_ident = false;
                            i += 1;
                        }
                        b')' => {
                            self.paren_depth = self.paren_depth.saturating_sub(1);
                            if self.image_set_at.is_some_and(|d| self.paren_depth < d) {
                                self.image_set_at = None;
                            }
                            self.prev_ident = false;
                            i += 1;
                        }
                        b';' | b'{' | b'}' => {
                            self.after_import = false;
                            self.prev_ident = false;
                            i += 1;
                        }
                        b'u' | b'U' if !self.prev_ident => match keyword(b, i, b"url(", eof) {
                            Some(true) => match url_end(b, i + 4) {
                                Scan::Done(end) => {
                                    let inner = &s[i + 4..end - 1];
                                    if let Some(new) =
                                        url_value(inner).and_then(|v| map.map(&v, Place::Image))
                                    {
                                        out.push_str(&s[copied..i]);
                                        out.push_str("url(");
                                        push_quoted(out, &new, b'"');
                                        out.push(')');
                                        copied = end;
                                    }
                                    self.after_import = false;
                                    self.prev_ident = false;
                                    i = end;
                                }
                                Scan::NeedMore if eof => i = b.len(),
                                Scan::NeedMore if b.len() - i > MAX_TOKEN => {
                                    self.state = State::UrlPass { quote: None };
                                    i += 4;
                                }
                                Scan::NeedMore => {
                                    hold_from!(i)
                                }
                            },
                            Some(false) => {
                                i += 1;
                                self.prev_ident = true;
                            }
                            None => {
                                hold_from!(i)
                            }
                        },
                        b'@' => match keyword(b, i, b"@import", eof) {
                            Some(true) => {
                                self.after_import = true;
                                self.prev_ident = true;
                                i += 7;
                            }
                            Some(false) => {
                                i += 1;
                                self.prev_ident = false;
                            }
                            None => {
                                hold_from!(i)
                            }
                        },
                        b'i' | b'I' => match keyword(b, i, b"image-set(", eof) {
                            Some(true) => {
                                self.paren_depth += 1;
                                if self.image_set_at.is_none() {
                                    self.image_set_at = Some(self.paren_depth);
                                }
                                self.prev_ident = false;
                                i += 10;
                            }
                            Some(false) => {
                                i += 1;
                                self.prev_ident = true;
                            }
                            None => {
                                hold_from!(i)
                            }
                        },
                        _ => {
                            // A run of bytes none of the arms above looks
                            // at, in one tight loop (most of a stylesheet):
                            // only whether its last byte continues an
                            // identifier matters (`url(` after one is not a
                            // URL).
                            let run = b[i..]
                                .iter()
                                .position(|&c| SPECIAL[usize::from(c)])
                                .unwrap_or(b.len() - i);
                            let last = b[i + run.max(1) - 1];
                            self.prev_ident = last.is_ascii_alphanumeric()
                                || last == b'-'
                                || last == b'_'
                                || last >= 0x80;
                            i += run.max(1);
                        }
                    }
                }
            }
        }
        hold_from!(b.len())
    }
}

/// The bytes that [`CssRewriter::run`]'s normal state acts on; any other
/// byte only sets whether an identifier is open.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let bytes = b"/\"'\\();{}uU@iI";
    let mut k = 0;
    while k < bytes.len() {
        t[bytes[k] as usize] = true;
        k += 1;
    }
    t
};

/// Whether `b[i..]` starts with `word` (ASCII case-insensitive): `Some(true)`
/// yes, `Some(false)` no, `None` cannot tell yet (input ends inside it).
fn keyword(b: &[u8], i: usize, word: &[u8], eof: bool) -> Option<bool> {
    let avail = &b[i..];
    let n = avail.len().min(word.len());
    if !avail[..n].eq_ignore_ascii_case(&word[..n]) {
        return Some(false);
    }
    if n == word.len() {
        Some(true)
    } else if eof {
        Some(false)
    } else {
        None
    }
}

/// End (exclusive) of a string whose opening quote precedes `from`.
/// An unescaped newline also ends a CSS string (a "bad string").
fn string_end(b: &[u8], from: usize, quote: u8) -> Scan {
    let mut j = from;
    while j < b.len() {
        match b[j] {
            c if c == quote => return Scan::Done(j + 1),
            b'\\' => j += 2,
            b'\n' => return Scan::Done(j),
            _ => j += 1,
        }
    }
    Scan::NeedMore
}

/// End (exclusive, after the `)`) of a `url(` whose contents start at `from`.
fn url_end(b: &[u8], from: usize) -> Scan {
    let mut j = from;
    let mut quote: Option<u8> = None;
    while j < b.len() {
        let c = b[j];
        match quote {
            Some(q) if c == q => quote = None,
            _ if c == b'\\' => j += 1,
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b')' => return Scan::Done(j + 1),
            _ => {}
        }
        j += 1;
    }
    Scan::NeedMore
}

/// The URL inside `url(...)`: whitespace trimmed, quotes removed, escapes
/// resolved. `None` for an empty value.
fn url_value(inner: &str) -> Option<String> {
    let t = inner.trim_matches(|c: char| c.is_ascii_whitespace());
    let t = match t.as_bytes().first() {
        Some(&q @ (b'"' | b'\'')) => {
            let body = &t[1..];
            body.strip_suffix(q as char).unwrap_or(body)
        }
        Some(_) => t,
        None => return None,
    };
    (!t.is_empty()).then(|| unescape(t).into_owned())
}

/// Resolves CSS escapes: `\` + 1–6 hex digits (+ one whitespace), `\` + newline
/// (removed), `\` + any other character (that character).
fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let mut hex = String::new();
        while hex.len() < 6 {
            match chars.peek() {
                Some(h) if h.is_ascii_hexdigit() => {
                    hex.push(*h);
                    chars.next();
                }
                _ => break,
            }
        }
        if !hex.is_empty() {
            let v = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
            out.push(
                char::from_u32(v)
                    .filter(|&c| c != '\0')
                    .unwrap_or('\u{FFFD}'),
            );
            if chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                chars.next();
            }
        } else {
            match chars.next() {
                Some('\n') | None => {}
                Some(other) => out.push(other),
            }
        }
    }
    Cow::Owned(out)
}

/// Writes `value` as a CSS string in `quote`s.
fn push_quoted(out: &mut String, value: &str, quote: u8) {
    let q = quote as char;
    out.push(q);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\a "),
            '\r' => out.push_str("\\d "),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

/// Rewrites a whole piece of CSS at once (a `style` attribute).
/// Returns `None` when nothing changed.
pub fn rewrite_all(css: &str, map: &mut impl CssUrlMap) -> Option<String> {
    let mut changed = false;
    let mut wrapped = |u: &str, p: Place| {
        let r = map.map(u, p);
        changed |= r.is_some();
        r
    };
    let mut r = CssRewriter::new();
    let mut out = String::with_capacity(css.len() + 32);
    r.feed(css, &mut wrapped, &mut out);
    r.finish(&mut wrapped, &mut out);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapper(url: &str, place: Place) -> Option<String> {
        if url.starts_with("data:") {
            return None;
        }
        let tag = match place {
            Place::Image => "img",
            Place::Resource => "res",
            Place::Link => "link",
        };
        Some(format!("/M[{tag}]{url}"))
    }

    fn whole(css: &str) -> String {
        rewrite_all(css, &mut mapper).unwrap_or_else(|| css.to_owned())
    }

    fn chunked(css: &str, size: usize) -> String {
        let mut r = CssRewriter::new();
        let mut out = String::new();
        let mut m = mapper;
        let mut start = 0;
        while start < css.len() {
            let mut end = (start + size).min(css.len());
            while !css.is_char_boundary(end) {
                end += 1;
            }
            r.feed(&css[start..end], &mut m, &mut out);
            start = end;
        }
        r.finish(&mut m, &mut out);
        out
    }

    #[test]
    fn rewrites_url_forms() {
        assert_eq!(
            whole("a{background:url(x.png)}"),
            "a{background:url(\"/M[img]x.png\")}"
        );
        assert_eq!(
            whole("a{b:url( 'x y.png' )}"),
            "a{b:url(\"/M[img]x y.png\")}"
        );
        assert_eq!(whole("a{b:URL(\"x.png\")}"), "a{b:url(\"/M[img]x.png\")}");
        assert_eq!(
            whole("a{b:url(data:image/png;base64,AAA)}"),
            "a{b:url(data:image/png;base64,AAA)}"
        );
    }

    #[test]
    fn rewrites_import_strings_and_urls() {
        assert_eq!(whole("@import \"a.css\";"), "@import \"/M[res]a.css\";");
        assert_eq!(
            whole("@import 'a.css' screen;"),
            "@import '/M[res]a.css' screen;"
        );
        assert_eq!(
            whole("@import url(a.css);"),
            "@import url(\"/M[img]a.css\");"
        );
        // Strings elsewhere are not URLs.
        assert_eq!(
            whole("a::after{content:\"x.png\"}"),
            "a::after{content:\"x.png\"}"
        );
    }

    #[test]
    fn rewrites_image_set_strings() {
        assert_eq!(
            whole("a{b:image-set(\"a.png\" 1x, url(b.png) 2x)} c{d:\"e\"}"),
            "a{b:image-set(\"/M[img]a.png\" 1x, url(\"/M[img]b.png\") 2x)} c{d:\"e\"}"
        );
        assert_eq!(
            whole("a{b:-webkit-image-set('a.png' 1x)}"),
            "a{b:-webkit-image-set('/M[img]a.png' 1x)}"
        );
    }

    #[test]
    fn leaves_comments_and_other_functions_alone() {
        assert_eq!(whole("/* url(x.png) */a{}"), "/* url(x.png) */a{}");
        assert_eq!(whole("a{b:myurl(x)}"), "a{b:myurl(x)}");
        assert_eq!(whole("a{content:'url(x)'}"), "a{content:'url(x)'}");
    }

    #[test]
    fn escapes_in_urls_are_resolved_and_output_is_quoted() {
        assert_eq!(whole("a{b:url(x\\).png)}"), "a{b:url(\"/M[img]x).png\")}");
        assert_eq!(whole("a{b:url(\\78.png)}"), "a{b:url(\"/M[img]x.png\")}");
        let mut m = |_: &str, _: Place| Some("/a\"b".to_owned());
        assert_eq!(
            rewrite_all("x{y:url(z)}", &mut m).unwrap(),
            "x{y:url(\"/a\\\"b\")}"
        );
    }

    #[test]
    fn any_chunking_gives_the_same_output() {
        let css = "@import \"a.css\";/* c *//**/ .x{background:url( 'i/b g.png' ) no-repeat}\n\
                   .y{b:image-set(\"1.png\" 1x,'2.png' 2x)} .z::after{content:\"url(q)\\\"\"} \
                   @font-face{src:url(f.woff2) format('woff2')} .w{b:URL(  x  )}\\75rl(n)";
        let expected = whole(css);
        for size in 1..40 {
            assert_eq!(chunked(css, size), expected, "chunk size {size}");
        }
    }

    #[test]
    fn unterminated_tokens_are_emitted_at_the_end() {
        assert_eq!(whole("a{b:url(x.png"), "a{b:url(x.png");
        assert_eq!(whole("a{b:'x"), "a{b:'x");
        assert_eq!(whole("/* open"), "/* open");
        assert_eq!(whole("a{b:ur"), "a{b:ur");
        assert_eq!(chunked("a{b:url(x.png", 3), "a{b:url(x.png");
    }

    #[test]
    fn huge_data_url_passes_through_without_unbounded_holding() {
        let big = "A".repeat(MAX_TOKEN * 3);
        let css = format!("a{{b:url(data:font/woff2;base64,{big})}} c{{d:url(e.png)}}");
        let mut r = CssRewriter::new();
        let mut out = String::new();
        let mut m = mapper;
        for piece in css.as_bytes().chunks(4096) {
            r.feed(std::str::from_utf8(piece).unwrap(), &mut m, &mut out);
            assert!(r.pending.len() <= MAX_TOKEN + 4096);
        }
        r.finish(&mut m, &mut out);
        assert!(
            out.ends_with("c{d:url(\"/M[img]e.png\")}"),
            "{}",
            &out[out.len() - 40..]
        );
        assert_eq!(out.len(), css.len() + "/M[img]".len() + 2);
    }

    #[test]
    fn non_ascii_text_survives_any_chunking() {
        let css = ".标题::before{content:\"新闻\"} .x{b:url(图片.png)}";
        let expected = whole(css);
        assert!(expected.contains("/M[img]图片.png"));
        for size in 1..12 {
            assert_eq!(chunked(css, size), expected);
        }
    }
}
