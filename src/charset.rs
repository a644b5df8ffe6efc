//! Character encodings: every page, stylesheet and feed leaves the mirror
//! as UTF-8.
//!
//! The encoding is decided as a browser would: byte-order mark, then the
//! `Content-Type` charset, then (HTML) `<meta charset>` in the first 1024
//! bytes, (CSS) a leading `@charset` or (XML) the XML declaration's
//! `encoding`, then, for HTML with no declaration
//! at all, chardetng's guess over the first bytes. Deciding may hold back
//! the first bytes of a body, never more than [`SNIFF_LIMIT`].

use encoding_rs::{Decoder, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};

/// Bytes the HTML prescan looks at for `<meta charset>`.
const PRESCAN_BYTES: usize = 1024;
/// Most bytes held back while guessing an undeclared encoding.
pub const SNIFF_LIMIT: usize = 64 * 1024;
/// Non-ASCII bytes that are enough to guess from.
const ENOUGH_NON_ASCII: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocKind {
    Html,
    Css,
    /// XML (feeds): the encoding of the XML declaration, else UTF-8.
    Xml,
}

/// Turns a body in any encoding into UTF-8, piece by piece.
pub struct Transcoder {
    kind: DocKind,
    header: Option<&'static Encoding>,
    tld: Option<Vec<u8>>,
    /// Bytes held while the encoding is being decided.
    held: Vec<u8>,
    /// How many of `held` already went out: an ASCII prefix reads the same
    /// in every ASCII-compatible encoding, so it need not wait.
    emitted: usize,
    /// HTML only: still in the body's leading run of plain ASCII (see
    /// [`is_plain_ascii`]). That run goes out as it is, whenever the
    /// encoding is decided, so the output does not depend on how the body
    /// was cut into pieces.
    leading: bool,
    /// How many of `held` the sniffer has counted, and the non-ASCII bytes among them.
    counted: usize,
    non_ascii: usize,
    state: State,
}

enum State {
    Deciding,
    /// UTF-8 in, UTF-8 out: bytes pass as they are, without validation.
    Utf8,
    Decoding(Decoder),
}

impl Transcoder {
    /// `header` is the charset named in the response's `Content-Type`;
    /// `host` (the upstream host) gives chardetng its TLD hint.
    pub fn new(kind: DocKind, header: Option<&str>, host: Option<&str>) -> Self {
        let header = header
            .and_then(|l| Encoding::for_label(l.trim().as_bytes()))
            .map(html_equivalent);
        let tld = host
            .and_then(|h| h.rsplit('.').next())
            .map(|t| t.to_ascii_lowercase().into_bytes())
            .filter(|t| {
                !t.is_empty()
                    && t.iter()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            });
        Transcoder {
            kind,
            header,
            tld,
            held: Vec::new(),
            emitted: 0,
            leading: kind == DocKind::Html,
            counted: 0,
            non_ascii: 0,
            state: State::Deciding,
        }
    }

    /// The encoding, once decided.
    pub fn encoding(&self) -> Option<&'static Encoding> {
        match &self.state {
            State::Deciding => None,
            State::Utf8 => Some(UTF_8),
            State::Decoding(d) => Some(d.encoding()),
        }
    }

    /// Transcodes the next piece; UTF-8 goes to `out`. While deciding, only
    /// the leading ASCII is written and the rest is held.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if let State::Deciding = self.state {
            self.held.extend_from_slice(input);
            if let Some(enc) = self.decide(false) {
                self.start(enc, out);
            } else {
                self.emit_ascii_prefix(out);
            }
            return;
        }
        self.convert(input, false, out);
    }

    /// Writes held ASCII up to the first byte that is not plain ASCII. Not
    /// for a body that starts with a byte-order mark (its first bytes are
    /// not ASCII) nor for CSS (decided within its first bytes).
    fn emit_ascii_prefix(&mut self, out: &mut Vec<u8>) {
        if !self.leading {
            return;
        }
        let rest = &self.held[self.emitted..];
        let ascii = leading_plain_ascii(rest);
        out.extend_from_slice(&rest[..ascii]);
        self.emitted += ascii;
        if ascii < rest.len() {
            self.leading = false;
        }
    }

    /// Ends the input.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if let State::Deciding = self.state {
            let enc = self.decide(true).unwrap_or(UTF_8);
            self.start(enc, out);
        }
        self.convert(&[], true, out);
    }

    fn start(&mut self, enc: &'static Encoding, out: &mut Vec<u8>) {
        // The rest of the leading ASCII run goes out as it is too, also when
        // the encoding was decided at the first piece: for every
        // ASCII-compatible encoding that is what decoding gives, and for
        // the others (ISO-2022-JP's escapes end the run; "replacement")
        // it keeps the output the same however the body was cut.
        self.emit_ascii_prefix(out);
        // A byte-order mark is one only at the very start of the body.
        let at_start = self.emitted == 0;
        let mut held = std::mem::take(&mut self.held);
        held.drain(..self.emitted.min(held.len()));
        // HTML goes to lol_html, which copes with stray bytes: UTF-8 passes
        // unvalidated. CSS is cut into `&str`, so it is always decoded.
        let passthrough = enc == UTF_8 && self.kind == DocKind::Html;
        self.state = if passthrough {
            State::Utf8
        } else {
            State::Decoding(enc.new_decoder_with_bom_removal())
        };
        let body = if passthrough && at_start {
            held.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&held)
        } else {
            &held[..]
        };
        self.convert(body, false, out);
    }

    fn convert(&mut self, mut input: &[u8], last: bool, out: &mut Vec<u8>) {
        if self.leading {
            let ascii = leading_plain_ascii(input);
            out.extend_from_slice(&input[..ascii]);
            input = &input[ascii..];
            self.leading = input.is_empty();
        }
        match &mut self.state {
            State::Deciding => {}
            State::Utf8 => out.extend_from_slice(input),
            State::Decoding(decoder) => {
                let mut rest = input;
                loop {
                    let need = decoder
                        .max_utf8_buffer_length(rest.len())
                        .unwrap_or(rest.len().saturating_mul(3) + 16);
                    let start = out.len();
                    out.resize(start + need, 0);
                    let (result, read, written, _) =
                        decoder.decode_to_utf8(rest, &mut out[start..], last);
                    out.truncate(start + written);
                    rest = &rest[read..];
                    if matches!(result, encoding_rs::CoderResult::InputEmpty) {
                        break;
                    }
                }
            }
        }
    }

    /// The encoding, if the held bytes are enough to tell (always at `eof`).
    fn decide(&mut self, eof: bool) -> Option<&'static Encoding> {
        let held = &self.held[..];
        if held.len() < 3 && !eof && is_bom_prefix(held) {
            return None;
        }
        if let Some((enc, _)) = Encoding::for_bom(held) {
            return Some(enc);
        }
        if let Some(enc) = self.header {
            return Some(enc);
        }
        match self.kind {
            DocKind::Css => {
                if let Some(enc) = css_charset_rule(held) {
                    return Some(enc);
                }
                // "@charset " is short: undecided only while it could still come.
                if !eof
                    && held.len() < 64
                    && b"@charset \"".starts_with(&held[..held.len().min(10)])
                {
                    return None;
                }
                Some(UTF_8)
            }
            DocKind::Xml => {
                if let Some(enc) = xml_declared(held) {
                    return Some(enc);
                }
                // Undecided only while a declaration could still be coming.
                let could_be = b"<?xml".starts_with(&held[..held.len().min(5)]);
                if !eof && could_be && held.len() < PRESCAN_BYTES && !held.contains(&b'>') {
                    return None;
                }
                Some(UTF_8)
            }
            DocKind::Html => {
                if held.len() < PRESCAN_BYTES && !eof {
                    return None;
                }
                if let Some(enc) = prescan(&held[..held.len().min(PRESCAN_BYTES)]) {
                    return Some(enc);
                }
                // The guess is made on the bytes up to the ENOUGH_NON_ASCII-th
                // non-ASCII byte (or the first SNIFF_LIMIT), never on more:
                // a guess over whatever had arrived when the threshold was
                // crossed would depend on how the body was cut.
                while self.counted < held.len()
                    && self.non_ascii < ENOUGH_NON_ASCII
                    && self.counted < SNIFF_LIMIT
                {
                    self.non_ascii += usize::from(!held[self.counted].is_ascii());
                    self.counted += 1;
                }
                let enough = self.non_ascii >= ENOUGH_NON_ASCII || self.counted >= SNIFF_LIMIT;
                if !eof && !enough {
                    return None;
                }
                let sample = &held[..self.counted];
                Some(self.guess(sample, eof && !enough, self.non_ascii))
            }
        }
    }

    fn guess(&self, held: &[u8], eof: bool, non_ascii: usize) -> &'static Encoding {
        if non_ascii == 0 {
            return UTF_8;
        }
        // Valid UTF-8 so far (a cut-off last character aside) is UTF-8.
        let valid = match std::str::from_utf8(held) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none() && !eof,
        };
        if valid {
            return UTF_8;
        }
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(held, eof);
        detector.guess(self.tld.as_deref(), chardetng::Utf8Detection::Allow)
    }
}

/// Bytes that mean the same ASCII character in every encoding a page can
/// be in before its first non-ASCII byte: ASCII, except ISO-2022-JP's
/// escape and shift bytes.
fn is_plain_ascii(b: u8) -> bool {
    b.is_ascii() && !matches!(b, 0x1B | 0x0E | 0x0F)
}

/// Length of the run of plain ASCII at the start of `bytes`.
fn leading_plain_ascii(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| !is_plain_ascii(b))
        .unwrap_or(bytes.len())
}

fn is_bom_prefix(held: &[u8]) -> bool {
    [&b"\xEF\xBB\xBF"[..], b"\xFE\xFF", b"\xFF\xFE"]
        .iter()
        .any(|bom| bom.starts_with(held) || held.starts_with(bom))
}

/// What a declared label means in HTML: UTF-16 declarations in a byte
/// stream that reached the prescan are really UTF-8; x-user-defined is windows-1252.
fn html_equivalent(enc: &'static Encoding) -> &'static Encoding {
    if enc == UTF_16LE || enc == UTF_16BE {
        UTF_8
    } else if enc == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        enc
    }
}

/// `<?xml ... encoding="label"?>` at the very start of an XML document.
fn xml_declared(held: &[u8]) -> Option<&'static Encoding> {
    let decl = held.strip_prefix(b"<?xml")?;
    let end = decl.iter().take(PRESCAN_BYTES).position(|&b| b == b'>')?;
    let decl = &decl[..end];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let rest = &decl[at + 8..];
    let eq = rest.iter().position(|&b| b == b'=')?;
    let rest = &rest[eq + 1..];
    let start = rest.iter().position(|&b| b == b'"' || b == b'\'')?;
    let q = rest[start];
    let value = &rest[start + 1..];
    let close = value.iter().position(|&b| b == q)?;
    Encoding::for_label(&value[..close]).map(html_equivalent)
}

/// `@charset "label";` at the very start of a stylesheet.
fn css_charset_rule(held: &[u8]) -> Option<&'static Encoding> {
    let rest = held.strip_prefix(b"@charset \"")?;
    let end = rest.iter().take(40).position(|&b| b == b'"')?;
    if rest.get(end + 1) != Some(&b';') {
        return None;
    }
    Encoding::for_label(&rest[..end]).map(html_equivalent)
}

/// The HTML standard's "prescan a byte stream to determine its encoding",
/// over the first 1024 bytes: the first `<meta charset>` or
/// `<meta http-equiv=content-type content="...charset=...">` outside comments.
pub fn prescan(bytes: &[u8]) -> Option<&'static Encoding> {
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"<!--") {
            i += 4 + memchr::memmem::find(&rest[4..], b"-->").map_or(rest.len(), |p| p + 3);
        } else if rest.len() > 5
            && rest[..5].eq_ignore_ascii_case(b"<meta")
            && (rest[5].is_ascii_whitespace() || rest[5] == b'/')
        {
            let (found, used) = meta_charset(&rest[5..]);
            if found.is_some() {
                return found;
            }
            i += 5 + used;
        } else if rest.len() > 1
            && (rest[1].is_ascii_alphabetic() || rest[1] == b'/')
            && rest[0] == b'<'
        {
            // Another tag: skip its attributes so their values are not misread.
            let name_len = rest[1..]
                .iter()
                .position(|b| b.is_ascii_whitespace() || *b == b'>')
                .unwrap_or(rest.len() - 1);
            let mut j = 1 + name_len;
            loop {
                match attribute(&rest[j..]) {
                    Some((_, _, used)) if used > 0 => j += used,
                    _ => break,
                }
            }
            i += j.max(1);
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            i += memchr::memchr(b'>', rest).map_or(rest.len(), |p| p + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// Reads the attributes of a `<meta` tag; returns the encoding it declares
/// and the bytes used.
fn meta_charset(bytes: &[u8]) -> (Option<&'static Encoding>, usize) {
    let mut j = 0;
    let mut http_equiv_content_type = false;
    let mut content: Option<Vec<u8>> = None;
    let mut charset: Option<Vec<u8>> = None;
    while let Some((name, value, used)) = attribute(&bytes[j..]) {
        if used == 0 {
            break;
        }
        j += used;
        match name.as_slice() {
            b"http-equiv" => http_equiv_content_type = value.eq_ignore_ascii_case(b"content-type"),
            b"content" if content.is_none() => content = Some(value),
            b"charset" if charset.is_none() => charset = Some(value),
            _ => {}
        }
    }
    let label = match (charset, content) {
        (Some(c), _) => Some(c),
        (None, Some(content)) if http_equiv_content_type => charset_from_content(&content),
        _ => None,
    };
    let enc = label
        .and_then(|l| Encoding::for_label(trim_ascii(&l)))
        .map(html_equivalent);
    (enc, j)
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &b[start..end]
}

/// `text/html; charset=gbk` → `gbk` (the standard's "extract a character
/// encoding from a meta element").
fn charset_from_content(content: &[u8]) -> Option<Vec<u8>> {
    let lower = content.to_ascii_lowercase();
    let at = memchr::memmem::find(&lower, b"charset")?;
    let mut rest = &content[at + 7..];
    while let [b, tail @ ..] = rest {
        if b.is_ascii_whitespace() {
            rest = tail;
        } else {
            break;
        }
    }
    let rest = rest.strip_prefix(b"=")?;
    let rest = trim_ascii(rest);
    match rest.first() {
        Some(&q @ (b'"' | b'\'')) => {
            let body = &rest[1..];
            let end = body.iter().position(|&b| b == q)?;
            Some(body[..end].to_vec())
        }
        Some(_) => {
            let end = rest
                .iter()
                .position(|&b| b.is_ascii_whitespace() || b == b';')
                .unwrap_or(rest.len());
            Some(rest[..end].to_vec())
        }
        None => None,
    }
}

/// One attribute of a tag (the standard's "get an attribute"): lower-cased
/// name, value, and bytes used. `None` at `>` or the end of input.
fn attribute(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>, usize)> {
    let mut i = 0;
    while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
        i += 1;
    }
    if i >= bytes.len() || bytes[i] == b'>' {
        return None;
    }
    let mut name = Vec::new();
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'=' && !name.is_empty() {
            break;
        }
        if c.is_ascii_whitespace() || c == b'/' || c == b'>' {
            break;
        }
        name.push(c.to_ascii_lowercase());
        i += 1;
    }
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if i >= bytes.len() || bytes[i] != b'=' {
        return Some((name, Vec::new(), i));
    }
    i += 1;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    let mut value = Vec::new();
    match bytes.get(i) {
        Some(&q @ (b'"' | b'\'')) => {
            i += 1;
            while i < bytes.len() && bytes[i] != q {
                value.push(bytes[i].to_ascii_lowercase());
                i += 1;
            }
            i = (i + 1).min(bytes.len());
        }
        _ => {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                value.push(bytes[i].to_ascii_lowercase());
                i += 1;
            }
        }
    }
    Some((name, value, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{BIG5, GB18030, GBK, SHIFT_JIS};

    fn run(
        kind: DocKind,
        header: Option<&str>,
        host: Option<&str>,
        body: &[u8],
        chunk: usize,
    ) -> (String, &'static Encoding) {
        let mut t = Transcoder::new(kind, header, host);
        let mut out = Vec::new();
        for piece in body.chunks(chunk.max(1)) {
            t.push(piece, &mut out);
        }
        t.finish(&mut out);
        let enc = t.encoding().unwrap();
        (String::from_utf8(out).expect("output is UTF-8"), enc)
    }

    fn gbk_page(declaration: &str) -> (String, Vec<u8>) {
        let text = format!(
            "<!doctype html><html><head>{declaration}<title>美中关系缓和仍处于试探阶段</title></head><body>{}</body></html>",
            "<p>知情官员周四表示，白宫正为拜登与习近平的会晤制定计划。预计在十一月，两位领导人可能在旧金山峰会时会面。</p>".repeat(30)
        );
        let bytes = GBK.encode(&text).0.into_owned();
        (text, bytes)
    }

    #[test]
    fn header_charset_wins() {
        let (text, bytes) = gbk_page("");
        let (out, enc) = run(DocKind::Html, Some("gbk"), None, &bytes, 100);
        assert_eq!(enc, GBK);
        assert_eq!(out, text);
    }

    #[test]
    fn meta_charset_is_found_by_prescan() {
        let (text, bytes) = gbk_page("<meta charset=\"gb2312\">");
        let (out, enc) = run(DocKind::Html, None, None, &bytes, 7);
        assert_eq!(enc, GBK);
        assert_eq!(out, text);
        let (_, bytes) = gbk_page(
            "<!-- <meta charset=utf-8> --><meta http-equiv=\"Content-Type\" content=\"text/html; charset=GBK\">",
        );
        assert_eq!(run(DocKind::Html, None, None, &bytes, 50).1, GBK);
    }

    #[test]
    fn undeclared_gbk_is_detected() {
        let (text, bytes) = gbk_page("");
        for chunk in [1, 333, 100_000] {
            let (out, enc) = run(DocKind::Html, None, None, &bytes, chunk);
            assert!(enc == GBK || enc == GB18030, "{enc:?}");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn undeclared_big5_and_shift_jis_are_detected() {
        let text = "<html><body>".to_owned()
            + &"<p>台灣新聞報導，立法院今日三讀通過預算案。</p>".repeat(40);
        let (bytes, _, _) = BIG5.encode(&text);
        assert_eq!(
            run(DocKind::Html, None, Some("www.x.com.tw"), &bytes, 512).1,
            BIG5
        );
        let text = "<html><body>".to_owned()
            + &"<p>東京のニュースです。今日は晴れでしょう。</p>".repeat(40);
        let (bytes, _, _) = SHIFT_JIS.encode(&text);
        assert_eq!(
            run(DocKind::Html, None, Some("www.x.jp"), &bytes, 512).1,
            SHIFT_JIS
        );
    }

    #[test]
    fn undeclared_utf8_is_utf8_and_ascii_defaults_to_utf8() {
        let text = "<p>美中关系</p>".repeat(200);
        let (out, enc) = run(DocKind::Html, None, None, text.as_bytes(), 7);
        assert_eq!(enc, UTF_8);
        assert_eq!(out, text);
        assert_eq!(run(DocKind::Html, None, None, b"<p>hello</p>", 3).1, UTF_8);
    }

    #[test]
    fn bom_wins_over_header() {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice("<p>中文</p>".as_bytes());
        let (out, enc) = run(DocKind::Html, Some("gbk"), None, &body, 1);
        assert_eq!(enc, UTF_8);
        assert_eq!(out, "<p>中文</p>");
        let (bytes, _, _) = UTF_16LE.encode("x");
        assert!(!bytes.is_empty());
        let mut body = vec![0xFF, 0xFE];
        for u in "<p>中</p>".encode_utf16() {
            body.extend_from_slice(&u.to_le_bytes());
        }
        let (out, enc) = run(DocKind::Html, None, None, &body, 3);
        assert_eq!(enc, UTF_16LE);
        assert_eq!(out, "<p>中</p>");
    }

    #[test]
    fn css_charset_rule_is_honoured() {
        let css = "@charset \"gbk\";\n.a::before{content:\"新闻\"}";
        let (bytes, _, _) = GBK.encode(css);
        let (out, enc) = run(DocKind::Css, None, None, &bytes, 4);
        assert_eq!(enc, GBK);
        assert_eq!(out, css);
        assert_eq!(run(DocKind::Css, None, None, b".a{}", 1).1, UTF_8);
    }

    #[test]
    fn undeclared_pages_stream_their_ascii_prefix_while_deciding() {
        let mut t = Transcoder::new(DocKind::Html, None, None);
        let mut out = Vec::new();
        t.push(&b"<html><head><title>x</title>".repeat(100), &mut out);
        assert_eq!(out.len(), 2800, "the ASCII head goes out at once");
        let (gbk, _, _) = GBK.encode("<p>中文新闻报道</p>");
        t.push(&gbk, &mut out);
        assert_eq!(out.len(), 2803, "held from the first non-ASCII byte");
        t.finish(&mut out);
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with("<p>中文新闻报道</p>")
        );
    }

    #[test]
    fn small_holdback_for_declared_pages() {
        // A page with a header charset starts flowing at once.
        let mut t = Transcoder::new(DocKind::Html, Some("utf-8"), None);
        let mut out = Vec::new();
        t.push(b"<html>", &mut out);
        assert_eq!(out, b"<html>");
    }
}
