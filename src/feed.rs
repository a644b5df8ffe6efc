//! Upstream feeds (RSS 2.0, Atom, RSS 1.0/RDF), rewritten as they stream:
//! every URL place through the mapper, and the HTML inside `description`,
//! `content:encoded` and Atom's `type="html"` text constructs through the
//! page rules (a fragment rewriter: no nav bar, no footer).
//!
//! Our own small XML tokenizer rather than lol_html: lol_html parses HTML,
//! where `<link>` is a void element and `<![CDATA[` is a bogus comment that
//! ends at the first `>`, so a feed's links and CDATA HTML would come out
//! wrong. The tokenizer holds back at most one unfinished token
//! ([`MAX_TOKEN`]; a longer one passes as is) and the text of one URL
//! element; HTML content streams through its fragment rewriter.
//!
//! | place | mapped as |
//! |---|---|
//! | `link`, `guid` (unless `isPermaLink="false"`), `comments`, `docs`, `uri` text | a link |
//! | `url`, `icon`, `logo` text; `url` and `src` attributes (`enclosure`, `media:content`, `media:thumbnail`) | media |
//! | `href` (a link; media with `rel="enclosure"`), `xml:base`, `rdf:about`, `rdf:resource`, `uri` attributes | a link |
//! | `<?xml-stylesheet href?>` | a resource |
//!
//! Relative URLs are resolved against the feed's URL and `xml:base`. Mirror
//! paths are written absolute on `server.public_url` when it is set (feed
//! readers want absolute URLs). A document whose root is not `rss`, `feed`
//! or `rdf:RDF` (`text/xml` answers can be anything) passes as is, but for
//! its encoding: every answer leaves as UTF-8, and an XML declaration that
//! names another encoding is changed to say UTF-8.

use std::sync::Arc;

use url::Url;

use crate::body::BodyError;
use crate::escape::{decode_attr, escape_attr, escape_text};
use crate::html::{PageContext, PageRewriter, SiteRules};
use crate::url_map::{Mapped, Place};

/// The longest unfinished token (a tag, comment, CDATA section or
/// declaration) held back; a longer one is written as it is.
pub const MAX_TOKEN: usize = 64 * 1024;
/// The longest URL element text held until its end tag.
const MAX_URL_TEXT: usize = 8 * 1024;
/// Open elements tracked; deeper ones are treated as plain content.
const MAX_DEPTH: usize = 256;

/// What the text of the open element is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Text {
    Plain,
    Url(Place),
    Html,
}

struct Frame {
    /// The element's name as written (prefix included).
    name: String,
    /// `xml:base` in effect inside it (the original, for resolving).
    base: Url,
    text: Text,
}

/// Whether the document is a feed (decided at its root element).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Root {
    Undecided,
    Feed,
    Other,
}

/// One feed's rewriter.
pub struct FeedRewriter {
    ctx: Arc<PageContext>,
    rules: Arc<SiteRules>,
    carry: String,
    stack: Vec<Frame>,
    root: Root,
    /// The text of the open URL element, decoded.
    url_text: String,
    /// The open HTML element's fragment rewriter.
    html: Option<PageRewriter>,
    /// Scratch for the fragment rewriter's output.
    html_out: Vec<u8>,
}

impl FeedRewriter {
    pub fn new(ctx: Arc<PageContext>, rules: Arc<SiteRules>) -> FeedRewriter {
        FeedRewriter {
            ctx,
            rules,
            carry: String::new(),
            stack: Vec::new(),
            root: Root::Undecided,
            url_text: String::new(),
            html: None,
            html_out: Vec::new(),
        }
    }

    /// Takes the next UTF-8 text; appends what is complete to `out`.
    pub fn feed(&mut self, input: &str, out: &mut String) -> Result<(), BodyError> {
        if self.root == Root::Other && self.carry.is_empty() {
            out.push_str(input);
            return Ok(());
        }
        self.carry.push_str(input);
        let carry = std::mem::take(&mut self.carry);
        let used = self.run(&carry, false, out)?;
        self.carry = carry[used..].to_owned();
        Ok(())
    }

    /// Ends the input: what is held goes out as it is.
    pub fn finish(&mut self, out: &mut String) -> Result<(), BodyError> {
        let carry = std::mem::take(&mut self.carry);
        let used = self.run(&carry, true, out)?;
        out.push_str(&carry[used..]);
        while let Some(frame) = self.stack.pop() {
            self.close(frame.text, out)?;
        }
        Ok(())
    }

    /// Processes the complete tokens of `s`; returns the bytes used.
    fn run(&mut self, s: &str, eof: bool, out: &mut String) -> Result<usize, BodyError> {
        let mut i = 0;
        while i < s.len() {
            if self.root == Root::Other {
                out.push_str(&s[i..]);
                return Ok(s.len());
            }
            let rest = &s[i..];
            if !rest.starts_with('<') {
                let end = rest.find('<').unwrap_or(rest.len());
                // Hold back an entity that may be cut, unless at the end.
                let end = if end == rest.len() && !eof {
                    safe_text_end(rest)
                } else {
                    end
                };
                if end == 0 {
                    break;
                }
                self.text(&rest[..end], false, out)?;
                i += end;
                continue;
            }
            let Some(len) = token_len(rest) else {
                if rest.len() > MAX_TOKEN || eof {
                    // Too long to hold (or cut off at the end): as it is.
                    out.push_str(rest);
                    return Ok(s.len());
                }
                break;
            };
            self.token(&rest[..len], out)?;
            i += len;
        }
        Ok(i)
    }

    fn token(&mut self, t: &str, out: &mut String) -> Result<(), BodyError> {
        if let Some(inner) = t
            .strip_prefix("<![CDATA[")
            .and_then(|r| r.strip_suffix("]]>"))
        {
            return self.text(inner, true, out);
        }
        if t.starts_with("<!") {
            out.push_str(t);
            return Ok(());
        }
        if let Some(pseudo) = t
            .strip_prefix("<?xml-stylesheet")
            .and_then(|r| r.strip_suffix("?>"))
        {
            // Its pseudo-attributes read as a tag's: `href` is a resource.
            let base = self.base().clone();
            if let Some(tag) = parse_tag(&format!("<x{pseudo}>")) {
                out.push_str("<?xml-stylesheet");
                for a in &tag.attrs {
                    let value = decode_attr(a.value);
                    let mapped = (a.name == "href")
                        .then(|| self.map(&value, &base, Place::Resource))
                        .flatten();
                    let value = mapped.map_or(value, std::borrow::Cow::Owned);
                    out.push_str(&format!(" {}=\"{}\"", a.name, escape_attr(&value)));
                }
                out.push_str("?>");
            } else {
                out.push_str(t);
            }
            return Ok(());
        }
        if t.starts_with("<?") {
            out.push_str(&declared_utf8(t));
            return Ok(());
        }
        if let Some(name) = t.strip_prefix("</") {
            let name = name.trim_end_matches('>').trim();
            self.end_tag(name, out)?;
            out.push_str(t);
            return Ok(());
        }
        self.start_tag(t, out)
    }

    fn base(&self) -> &Url {
        self.stack
            .last()
            .map(|f| &f.base)
            .unwrap_or_else(|| self.ctx.page_url())
    }

    /// A URL found in the feed, mapped: relative ones against the base,
    /// mirror paths absolute on the public origin.
    fn map(&self, raw: &str, base: &Url, place: Place) -> Option<String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let resolved = base.join(raw).ok()?;
        match self.ctx.map(resolved.as_str(), place) {
            Mapped::Mirror(path) => Some(self.ctx.mapper().absolute(&path)),
            Mapped::External(u) if !is_absolute(raw) => Some(u.to_string()),
            _ => None,
        }
    }

    fn start_tag(&mut self, t: &str, out: &mut String) -> Result<(), BodyError> {
        let Some(tag) = parse_tag(t) else {
            out.push_str(t);
            return Ok(());
        };
        if self.root == Root::Undecided {
            self.root = if matches!(local(tag.name), "rss" | "feed" | "RDF") {
                Root::Feed
            } else {
                Root::Other
            };
            if self.root == Root::Other {
                out.push_str(t);
                return Ok(());
            }
        }
        let parent_base = self.base().clone();
        let mut base = parent_base.clone();
        let name = local(tag.name);
        let rel = tag
            .attr("rel")
            .map(|v| decode_attr(v).trim().to_ascii_lowercase());
        let mut rebuilt = String::with_capacity(t.len() + 32);
        rebuilt.push('<');
        rebuilt.push_str(tag.name);
        let mut changed = false;
        for a in &tag.attrs {
            let place = match a.name {
                "xml:base" | "rdf:about" | "rdf:resource" | "uri" => Some(Place::Link),
                "href" if rel.as_deref() == Some("enclosure") => Some(Place::Image),
                "href" => Some(Place::Link),
                "url" | "src" => Some(Place::Image),
                _ => None,
            };
            let value = decode_attr(a.value);
            if a.name == "xml:base"
                && let Ok(b) = parent_base.join(value.trim())
            {
                base = b;
            }
            let mapped = place.and_then(|p| self.map(&value, &parent_base, p));
            rebuilt.push(' ');
            rebuilt.push_str(a.name);
            rebuilt.push_str("=\"");
            match mapped {
                Some(m) => {
                    changed = true;
                    rebuilt.push_str(&escape_attr(&m));
                }
                None => rebuilt.push_str(&escape_attr(&value)),
            }
            rebuilt.push('"');
        }
        rebuilt.push_str(if tag.empty { "/>" } else { ">" });
        out.push_str(if changed { &rebuilt } else { t });
        if tag.empty {
            return Ok(());
        }
        let kind = tag
            .attr("type")
            .map(|v| decode_attr(v).trim().to_ascii_lowercase());
        let text = match name {
            "link" | "comments" | "docs" | "uri" => Text::Url(Place::Link),
            "guid"
                if !tag
                    .attr("isPermaLink")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("false")) =>
            {
                Text::Url(Place::Link)
            }
            "url" | "icon" | "logo" => Text::Url(Place::Image),
            "description" | "encoded" => Text::Html,
            "summary" | "content" | "title" | "subtitle" | "rights"
                if kind.as_deref() == Some("html") =>
            {
                Text::Html
            }
            _ => Text::Plain,
        };
        // Only the innermost element's text is read as URL or HTML.
        let text = match self.stack.last().map(|f| f.text) {
            Some(Text::Url(_) | Text::Html) => Text::Plain,
            _ => text,
        };
        if self.stack.len() >= MAX_DEPTH {
            return Ok(());
        }
        self.url_text.clear();
        if text == Text::Html {
            self.html = Some(PageRewriter::fragment(self.ctx.clone(), &self.rules));
        }
        self.stack.push(Frame {
            name: tag.name.to_owned(),
            base,
            text,
        });
        Ok(())
    }

    fn end_tag(&mut self, name: &str, out: &mut String) -> Result<(), BodyError> {
        let Some(at) = self.stack.iter().rposition(|f| f.name == name) else {
            return Ok(());
        };
        while self.stack.len() > at {
            if let Some(frame) = self.stack.pop() {
                self.close(frame.text, out)?;
            }
        }
        Ok(())
    }

    /// The open element ends: its held URL text or HTML goes out.
    fn close(&mut self, text: Text, out: &mut String) -> Result<(), BodyError> {
        match text {
            Text::Plain => {}
            Text::Url(place) => {
                let raw = std::mem::take(&mut self.url_text);
                let base = self.base().clone();
                match self.map(&raw, &base, place) {
                    Some(m) => {
                        let lead = &raw[..raw.len() - raw.trim_start().len()];
                        let trail = &raw[raw.trim_end().len()..];
                        out.push_str(&escape_text(lead));
                        out.push_str(&escape_text(&m));
                        out.push_str(&escape_text(trail));
                    }
                    None => out.push_str(&escape_text(&raw)),
                }
            }
            Text::Html => {
                if let Some(mut r) = self.html.take() {
                    self.html_out.clear();
                    r.end(&mut self.html_out)?;
                    push_escaped(&String::from_utf8_lossy(&self.html_out), out);
                }
            }
        }
        Ok(())
    }

    /// Text or CDATA content.
    fn text(&mut self, raw: &str, cdata: bool, out: &mut String) -> Result<(), BodyError> {
        let text = self.stack.last().map(|f| f.text).unwrap_or(Text::Plain);
        let decoded = if cdata {
            std::borrow::Cow::Borrowed(raw)
        } else {
            decode_attr(raw)
        };
        match text {
            Text::Plain => {
                if cdata {
                    out.push_str("<![CDATA[");
                    out.push_str(raw);
                    out.push_str("]]>");
                } else {
                    out.push_str(raw);
                }
            }
            Text::Url(_) => {
                if self.url_text.len() + decoded.len() > MAX_URL_TEXT {
                    // Not a URL: what was held, and this, as text.
                    out.push_str(&escape_text(&std::mem::take(&mut self.url_text)));
                    out.push_str(&escape_text(&decoded));
                    if let Some(f) = self.stack.last_mut() {
                        f.text = Text::Plain;
                    }
                } else {
                    self.url_text.push_str(&decoded);
                }
            }
            Text::Html => {
                if let Some(r) = self.html.as_mut() {
                    self.html_out.clear();
                    r.write(decoded.as_bytes(), &mut self.html_out)?;
                    push_escaped(&String::from_utf8_lossy(&self.html_out), out);
                }
            }
        }
        Ok(())
    }
}

/// HTML as XML text: `&`, `<` and `>` escaped (stateless, so it streams;
/// the same to a feed reader as CDATA).
fn push_escaped(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

fn is_absolute(raw: &str) -> bool {
    Url::parse(raw.trim()).is_ok()
}

/// The name without its namespace prefix.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Where text without a `<` may be cut: before a trailing `&...` that has
/// no `;` yet (an entity that may continue in the next piece).
fn safe_text_end(s: &str) -> usize {
    match s.rfind('&') {
        Some(at) if !s[at..].contains(';') && s.len() - at < 16 => at,
        _ => s.len(),
    }
}

/// The length of the complete token at the start of `s` (which starts
/// with `<`), or `None` while it is unfinished.
fn token_len(s: &str) -> Option<usize> {
    let ends = |prefix: &str, end: &str| -> Option<usize> {
        s.starts_with(prefix)
            .then(|| {
                s[prefix.len()..]
                    .find(end)
                    .map(|at| prefix.len() + at + end.len())
            })
            .flatten()
    };
    if s.starts_with("<!--") {
        return ends("<!--", "-->");
    }
    if s.starts_with("<![CDATA[") {
        return ends("<![CDATA[", "]]>");
    }
    if s.len() < 9 && ("<![CDATA[".starts_with(s) || "<!--".starts_with(s)) {
        return None;
    }
    if s.starts_with("<?") {
        return ends("<?", "?>");
    }
    if s.starts_with("<!") {
        // A DOCTYPE, with an internal subset in brackets maybe.
        let mut depth = 0usize;
        for (i, b) in s.bytes().enumerate() {
            match b {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b'>' if depth == 0 => return Some(i + 1),
                _ => {}
            }
        }
        return None;
    }
    // A tag: the first `>` outside quotes.
    let mut quote = None;
    for (i, b) in s.bytes().enumerate().skip(1) {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

struct Attr<'a> {
    name: &'a str,
    /// As written, entities and all.
    value: &'a str,
}

struct Tag<'a> {
    name: &'a str,
    attrs: Vec<Attr<'a>>,
    empty: bool,
}

impl<'a> Tag<'a> {
    fn attr(&self, name: &str) -> Option<&'a str> {
        self.attrs.iter().find(|a| a.name == name).map(|a| a.value)
    }
}

/// A start tag `<name a="v" b='w'>` or `<name .../>`; `None` when it is
/// not one we can read (it then passes as is).
fn parse_tag(t: &str) -> Option<Tag<'_>> {
    let inner = t.strip_prefix('<')?.strip_suffix('>')?;
    let (inner, empty) = match inner.strip_suffix('/') {
        Some(i) => (i, true),
        None => (inner, false),
    };
    let name_end = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || "_:-.".contains(c))
    {
        return None;
    }
    let mut attrs = Vec::new();
    let mut rest = inner[name_end..].trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let aname = rest[..eq].trim();
        if aname.is_empty() || aname.contains(char::is_whitespace) {
            return None;
        }
        let after = rest[eq + 1..].trim_start();
        let q = after.chars().next()?;
        if q != '"' && q != '\'' {
            return None;
        }
        let close = after[1..].find(q)?;
        attrs.push(Attr {
            name: aname,
            value: &after[1..1 + close],
        });
        rest = after[close + 2..].trim_start();
    }
    Some(Tag { name, attrs, empty })
}

/// An XML declaration that names an encoding now names UTF-8 (what the
/// body is, once transcoded).
fn declared_utf8(pi: &str) -> std::borrow::Cow<'_, str> {
    if !pi.starts_with("<?xml") {
        return pi.into();
    }
    let Some(at) = pi.find("encoding") else {
        return pi.into();
    };
    let after = &pi[at + "encoding".len()..];
    let Some(eq) = after.find('=') else {
        return pi.into();
    };
    let value = after[eq + 1..].trim_start();
    let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return pi.into();
    };
    let Some(close) = value[1..].find(q) else {
        return pi.into();
    };
    let start = pi.len() - value.len();
    format!("{}{q}UTF-8{q}{}", &pi[..start], &value[close + 2..]).into()
}

// ---------------------------------------------------------------------------
// Feeds the mirror makes (`crate::section`): their formats and where they
// are kept (here rather than there, so that `App` can hold them without
// naming the handlers' module).
// ---------------------------------------------------------------------------

/// How long a generated feed is kept (and what `Cache-Control` says).
pub const FEED_TTL: std::time::Duration = std::time::Duration::from_secs(300);
/// Generated feeds kept at once.
const FEEDS_KEPT: u64 = 256;

/// The generated feeds, by section URL and format.
pub type FeedCache =
    moka::future::Cache<(String, Format), std::sync::Arc<(http::HeaderValue, String)>>;

pub fn feed_cache() -> FeedCache {
    moka::future::Cache::builder()
        .max_capacity(FEEDS_KEPT)
        .time_to_live(FEED_TTL)
        .build()
}

/// A generated feed's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    /// `None` (the default) is Atom; an unknown name is `Err` with it.
    pub fn parse(s: Option<&str>) -> Result<Format, String> {
        match s {
            None | Some("atom") => Ok(Format::Atom),
            Some("rss") => Ok(Format::Rss),
            Some("json") => Ok(Format::Json),
            Some(other) => Err(other.to_owned()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_whole() {
        assert_eq!(token_len("<a href=\"x>y\">z"), Some(14));
        assert_eq!(token_len("<a href=\"x"), None);
        assert_eq!(token_len("<![CDATA[<p>a</p>]]>b"), Some(20));
        assert_eq!(token_len("<![CDA"), None);
        assert_eq!(token_len("<!-- a > b -->c"), Some(14));
        assert_eq!(token_len("<?xml version=\"1.0\"?>x"), Some(21));
    }

    #[test]
    fn the_declaration_says_utf8() {
        assert_eq!(
            declared_utf8("<?xml version=\"1.0\" encoding=\"GBK\"?>"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        );
        assert_eq!(
            declared_utf8("<?xml version='1.0' encoding='gb2312' standalone='yes'?>"),
            "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>"
        );
        assert_eq!(
            declared_utf8("<?xml version=\"1.0\"?>"),
            "<?xml version=\"1.0\"?>"
        );
    }

    #[test]
    fn tags_are_read_with_their_attributes() {
        let t = parse_tag("<enclosure url=\"http://a/b.mp3\" length='12' type=\"audio/mpeg\"/>")
            .expect("tag");
        assert_eq!(t.name, "enclosure");
        assert!(t.empty);
        assert_eq!(t.attr("url"), Some("http://a/b.mp3"));
        assert_eq!(t.attr("length"), Some("12"));
        assert!(parse_tag("<a b=c>").is_none());
    }

    #[test]
    fn a_cut_entity_is_held() {
        assert_eq!(safe_text_end("a &am"), 2);
        assert_eq!(safe_text_end("a &amp; b"), 9);
    }
}
