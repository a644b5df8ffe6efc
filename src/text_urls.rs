//! URLs of mapped hosts inside script and JSON text (inline `<script>`,
//! JSON-LD, `__NEXT_DATA__`-style state, JavaScript and JSON responses),
//! in their plain and JSON-escaped forms: `https://www.site/a`,
//! `//www.site/a`, `https:\/\/www.site\/a`. Streaming: text comes in
//! pieces cut anywhere, and the output does not depend on where.
//!
//! Only URLs on a host the mirror serves (a site's upstream host or alias,
//! an asset host) are touched, and each is mapped by the one URL mapper;
//! everything else (other hosts, code, comments) passes as it is. A URL
//! ends at a quote, backtick, whitespace, `<`, `>`, `(`, `)`, `{`, `}`,
//! `$` (template literals, concatenations: the rest is the script's own),
//! `;`, or a backslash that does not escape a slash. Ending early is safe:
//! what follows the end is kept as it is, after the mapped start.

use crate::url_map::Mapped;

/// The longest URL held back across pieces; a longer one is left as is.
const MAX_URL: usize = 4096;

/// How a URL is mapped, and which hosts are worth a look.
pub trait UrlSource {
    /// Whether `host` (lower-case) is served by the mirror.
    fn is_mapped_host(&self, host: &str) -> bool;
    /// The mapping of an absolute or protocol-relative URL.
    fn map(&self, url: &str) -> Mapped;
}

/// One text's rewriter (one script element, one response body).
#[derive(Default)]
pub struct TextUrls {
    /// Text not yet written out: it may end inside a URL.
    held: String,
}

impl TextUrls {
    pub fn new() -> TextUrls {
        TextUrls::default()
    }

    /// Rewrites the next piece, appending what is settled to `out`.
    pub fn feed(&mut self, piece: &str, urls: &impl UrlSource, out: &mut String) {
        self.held.push_str(piece);
        let settled = rewrite(&self.held, urls, false, out);
        self.held.drain(..settled);
    }

    /// Ends the text: everything held goes out.
    pub fn finish(&mut self, urls: &impl UrlSource, out: &mut String) {
        let settled = rewrite(&self.held, urls, true, out);
        debug_assert_eq!(settled, self.held.len());
        self.held.clear();
    }
}

/// The whole of `text`, rewritten (for a text known at once).
pub fn rewrite_all(text: &str, urls: &impl UrlSource) -> Option<String> {
    if !text.contains("//") && !text.contains("\\/\\/") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    rewrite(text, urls, true, &mut out);
    (out != text).then_some(out)
}

/// Rewrites `text` into `out` up to the returned byte index; the rest may
/// be the start of a URL that continues in the next piece (never when
/// `last`).
fn rewrite(text: &str, urls: &impl UrlSource, last: bool, out: &mut String) -> usize {
    let bytes = text.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while let Some(found) = find_slashes(bytes, i) {
        let (at, escaped) = found;
        let slashes = if escaped { 4 } else { 2 };
        let host_start = at + slashes;
        let host_end = host_start
            + bytes[host_start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'.' || **b == b'-')
                .count();
        if host_end == bytes.len() && !last {
            // The host may go on in the next piece.
            return hold_from(text, copied, scheme_start(bytes, at), out);
        }
        let host = &text[host_start..host_end];
        if host.is_empty() || !urls.is_mapped_host(&host.to_ascii_lowercase()) {
            i = host_end.max(at + 1);
            continue;
        }
        let start = scheme_start(bytes, at);
        // At the end of the text, a URL may end with it.
        let end = url_end(bytes, host_end, escaped).or(last.then_some(bytes.len()));
        let Some(end) = end else {
            if !last && bytes.len() - start <= MAX_URL {
                return hold_from(text, copied, start, out);
            }
            i = host_end;
            continue;
        };
        let found_url = &text[start..end];
        let plain = if escaped {
            found_url.replace("\\/", "/")
        } else {
            found_url.to_owned()
        };
        if let Mapped::Mirror(new) = urls.map(&plain) {
            out.push_str(&text[copied..start]);
            if escaped {
                out.push_str(&new.replace('/', "\\/"));
            } else {
                out.push_str(&new);
            }
            copied = end;
        }
        i = end.max(at + 1);
    }
    if last {
        out.push_str(&text[copied..]);
        return text.len();
    }
    // Keep a tail that could be the start of `https:\/\/` or `//`.
    let keep_from = tail_start(text);
    hold_from(text, copied, keep_from.max(copied), out)
}

/// Writes `text[copied..from]` and reports `from` as settled.
fn hold_from(text: &str, copied: usize, from: usize, out: &mut String) -> usize {
    let from = from.max(copied);
    out.push_str(&text[copied..from]);
    from
}

/// The next `//` or `\/\/` at or after `from`: its index and whether escaped.
fn find_slashes(bytes: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut i = from;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'/' {
            return Some((i, false));
        }
        if bytes[i] == b'\\'
            && bytes.get(i + 1) == Some(&b'/')
            && bytes.get(i + 2) == Some(&b'\\')
            && bytes.get(i + 3) == Some(&b'/')
        {
            return Some((i, true));
        }
        i += 1;
    }
    None
}

/// Where the URL whose slashes are at `at` starts: at `http:`/`https:`
/// just before them, else at the slashes (protocol-relative).
fn scheme_start(bytes: &[u8], at: usize) -> usize {
    for scheme in [&b"https:"[..], b"http:"] {
        if at >= scheme.len() && bytes[at - scheme.len()..at].eq_ignore_ascii_case(scheme) {
            return at - scheme.len();
        }
    }
    at
}

/// The end of a URL whose host ends at `from`: `None` if the text ends first.
fn url_end(bytes: &[u8], from: usize, escaped: bool) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' | b'<' | b'>' | b'(' | b')' | b'{' | b'}' | b'$' | b';' => {
                return Some(i);
            }
            b if b.is_ascii_whitespace() => return Some(i),
            b'\\' => match bytes.get(i + 1) {
                Some(b'/') if escaped => i += 2,
                Some(_) => return Some(i),
                None => return None,
            },
            _ => i += 1,
        }
    }
    None
}

/// The start of the last few bytes, which may begin a URL's scheme or
/// slashes (kept for the next piece), on a character boundary.
fn tail_start(text: &str) -> usize {
    let mut from = text.len().saturating_sub("https:\\/\\".len());
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    from
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Site;

    impl UrlSource for Site {
        fn is_mapped_host(&self, host: &str) -> bool {
            matches!(host, "www.site.com" | "img.site.com")
        }
        fn map(&self, url: &str) -> Mapped {
            let rest = url
                .trim_start_matches("https:")
                .trim_start_matches("http:")
                .trim_start_matches("//");
            match rest.split_once('/') {
                Some(("www.site.com", path)) => Mapped::Mirror(format!("/m/{path}")),
                None if rest == "www.site.com" => Mapped::Mirror("/m/".into()),
                Some(("img.site.com", path)) => {
                    Mapped::Mirror(format!("/_/asset/img.site.com/{path}"))
                }
                _ => Mapped::Unchanged,
            }
        }
    }

    fn all(text: &str) -> String {
        rewrite_all(text, &Site).unwrap_or_else(|| text.to_owned())
    }

    #[test]
    fn plain_protocol_relative_and_escaped_forms_are_mapped() {
        assert_eq!(
            all(r#"var a="https://www.site.com/a/b.htm?x=1",b='//img.site.com/p.jpg';"#),
            r#"var a="/m/a/b.htm?x=1",b='/_/asset/img.site.com/p.jpg';"#
        );
        assert_eq!(
            all(
                r#"{"url":"https:\/\/www.site.com\/a\/b.htm","img":"http:\/\/img.site.com\/x.png"}"#
            ),
            r#"{"url":"\/m\/a\/b.htm","img":"\/_\/asset\/img.site.com\/x.png"}"#
        );
        assert_eq!(all(r#"base = "https://www.site.com";"#), r#"base = "/m/";"#);
        assert_eq!(
            all("icon=https://img.site.com/i.ico"),
            "icon=/_/asset/img.site.com/i.ico"
        );
    }

    #[test]
    fn other_hosts_code_and_lookalikes_are_left() {
        for text in [
            r#"load("//www.google-analytics.com/analytics.js")"#,
            r#"x = "https://www.site.com.evil.test/a""#,
            "// a comment about www.other.org\nvar a = 1;",
            r#"u = "https://www.site.com/api/" + id"#,
        ] {
            let expected = text.replace("\"https://www.site.com/api/\"", "\"/m/api/\"");
            assert_eq!(all(text), expected, "{text}");
        }
        assert_eq!(
            all("fetch(`https://www.site.com/api/${id}`)"),
            "fetch(`/m/api/${id}`)"
        );
        assert_eq!(
            all(r#""https:\/\/www.site.com\/a?x=1\u0026y=2""#),
            r#""\/m\/a?x=1\u0026y=2""#
        );
    }

    #[test]
    fn the_output_does_not_depend_on_where_the_text_is_cut() {
        let text = r#"a="https://www.site.com/one.htm"; b="https:\/\/img.site.com\/two.jpg"; c='//www.site.com'; d="//cdn.other.test/x.js"; é"#;
        let whole = all(text);
        for cut in 0..text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let mut r = TextUrls::new();
            let mut out = String::new();
            r.feed(&text[..cut], &Site, &mut out);
            r.feed(&text[cut..], &Site, &mut out);
            r.finish(&Site, &mut out);
            assert_eq!(out, whole, "cut at {cut}");
        }
        // And byte by byte.
        let mut r = TextUrls::new();
        let mut out = String::new();
        for (i, c) in text.char_indices() {
            r.feed(&text[i..i + c.len_utf8()], &Site, &mut out);
        }
        r.finish(&Site, &mut out);
        assert_eq!(out, whole);
    }

    #[test]
    fn an_endless_url_is_not_held_for_ever() {
        let mut r = TextUrls::new();
        let mut out = String::new();
        r.feed("x=\"https://www.site.com/", &Site, &mut out);
        let long = "a".repeat(MAX_URL * 2);
        r.feed(&long, &Site, &mut out);
        assert!(r.held.len() <= MAX_URL + 16, "{}", r.held.len());
        r.finish(&Site, &mut out);
        assert!(out.ends_with('a'));
    }
}
