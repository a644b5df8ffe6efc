//! HTML escaping and attribute-value decoding: the one place text crosses
//! between "what the page means" and "what the markup says".
//!
//! lol_html hands attribute values as written, entities and all (`&amp;`),
//! and writes back what it is given, escaping only `"`. So a URL is decoded
//! with [`decode_attr`] before it is parsed and escaped with [`escape_attr`]
//! before it is written.

use std::borrow::Cow;

/// Escapes text for an HTML text node.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Escapes text for a double- or single-quoted HTML attribute value.
pub fn escape_attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, attr: bool) -> Cow<'_, str> {
    let needs = |b: u8| matches!(b, b'&' | b'<' | b'>') || attr && matches!(b, b'"' | b'\'');
    if !s.bytes().any(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Decodes character references in an attribute value as a browser would for
/// a URL: numeric references, and named references that end in `;`.
///
/// A name without `;` is left alone, which is what browsers do inside
/// attributes when the name is followed by `=` or an alphanumeric, the usual
/// case in query strings (`?a=1&not=2` keeps `&not=2`).
pub fn decode_attr(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match decode_reference(rest) {
            Some((decoded, used)) => {
                out.push_str(&decoded);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `s` starts with '&'. Returns the decoded text and how many bytes it used.
fn decode_reference(s: &str) -> Option<(Cow<'static, str>, usize)> {
    let body = s.get(1..)?;
    if let Some(num) = body.strip_prefix('#') {
        let (digits, radix, skip) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 3),
            None => (num, 10, 2),
        };
        let len = digits
            .bytes()
            .take_while(|&b| (b as char).is_digit(radix))
            .count();
        if len == 0 {
            return None;
        }
        let value = u32::from_str_radix(&digits[..len.min(8)], radix).unwrap_or(0xFFFD);
        let c = match value {
            0 => '\u{FFFD}',
            0x80..=0x9F => windows_1252_c1(value),
            v => char::from_u32(v).unwrap_or('\u{FFFD}'),
        };
        let mut used = skip + len;
        if digits[len..].starts_with(';') {
            used += 1;
        }
        return Some((Cow::Owned(c.to_string()), used));
    }
    let name_len = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if name_len == 0 || !body[name_len..].starts_with(';') {
        return None;
    }
    let reference = &s[..name_len + 2];
    match html_escape::decode_html_entities(reference) {
        Cow::Owned(decoded) if decoded != reference => Some((Cow::Owned(decoded), reference.len())),
        _ => None,
    }
}

/// Numeric references to C1 controls mean the windows-1252 characters (HTML spec).
fn windows_1252_c1(v: u32) -> char {
    const TABLE: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    TABLE
        .get((v - 0x80) as usize)
        .copied()
        .unwrap_or('\u{FFFD}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_amp_and_numeric_references() {
        assert_eq!(decode_attr("/s?q=a&amp;page=2"), "/s?q=a&page=2");
        assert_eq!(decode_attr("&#47;a&#x2F;b"), "/a/b");
        assert_eq!(decode_attr("a&quot;b&lt;"), "a\"b<");
        assert_eq!(decode_attr("&#128;"), "€");
    }

    #[test]
    fn leaves_bare_names_in_query_strings() {
        assert_eq!(decode_attr("?a=1&not=2&copy=3"), "?a=1&not=2&copy=3");
        assert_eq!(decode_attr("a & b"), "a & b");
        assert_eq!(decode_attr("&unknownname;"), "&unknownname;");
        assert_eq!(decode_attr("&"), "&");
        assert_eq!(decode_attr("&#;"), "&#;");
    }

    #[test]
    fn escapes_for_attribute_and_text() {
        assert_eq!(escape_attr("a&b\"c<d>'"), "a&amp;b&quot;c&lt;d&gt;&#39;");
        assert_eq!(escape_text("a&b\"<"), "a&amp;b\"&lt;");
        assert!(matches!(escape_attr("/plain/path"), Cow::Borrowed(_)));
    }

    #[test]
    fn decode_then_escape_round_trips() {
        for s in ["/a?b=1&amp;c=2", "x&quot;y", "&#60;script&#62;"] {
            let once = escape_attr(&decode_attr(s)).into_owned();
            assert_eq!(decode_attr(&once), decode_attr(s));
        }
    }
}
