//! Content codings (RFC 9110 §8.4): the one vocabulary for what upstream's
//! `Content-Encoding` says was applied, what a reader's `Accept-Encoding`
//! takes, and which stored form of a body goes out. The decoder
//! ([`crate::pipeline::decoded`]), the pass-through decision
//! ([`crate::mirror::plan`]) and the cache's variants
//! ([`crate::cache::variants`]) all read these.

use http::{HeaderMap, header};

/// A content coding the mirror knows. `Identity` is the body as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Deflate,
    Br,
    Zstd,
}

impl Coding {
    /// A coding token, case-insensitive; `x-gzip` is gzip (RFC 9110 §8.4.1.3).
    pub fn parse(token: &str) -> Option<Coding> {
        let token = token.trim();
        let is = |name: &str| token.eq_ignore_ascii_case(name);
        Some(if is("gzip") || is("x-gzip") {
            Coding::Gzip
        } else if is("deflate") {
            Coding::Deflate
        } else if is("br") {
            Coding::Br
        } else if is("zstd") {
            Coding::Zstd
        } else if is("identity") || token.is_empty() {
            Coding::Identity
        } else {
            return None;
        })
    }

    pub fn token(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Br => "br",
            Coding::Zstd => "zstd",
        }
    }

    /// The `Content-Encoding` value for a body in this coding (none for
    /// identity).
    pub fn header(self) -> Option<&'static str> {
        (self != Coding::Identity).then(|| self.token())
    }
}

/// A `Content-Encoding` names a coding the mirror cannot undo.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported Content-Encoding {token:?}")]
pub struct UnsupportedCoding {
    pub token: String,
}

/// The codings of a `Content-Encoding` value, in the order applied
/// (identity left out).
pub fn content_codings(value: Option<&str>) -> Result<Vec<Coding>, UnsupportedCoding> {
    let mut out = Vec::new();
    for token in value.unwrap_or("").split(',') {
        match Coding::parse(token) {
            Some(Coding::Identity) => {}
            Some(c) => out.push(c),
            None => {
                return Err(UnsupportedCoding {
                    token: token.trim().to_owned(),
                });
            }
        }
    }
    Ok(out)
}

/// A reader's `Accept-Encoding`, every field line combined, read in place
/// (a hit asks it up to three questions; allocating its items cost more
/// than scanning a short header three times).
pub struct AcceptEncoding<'a> {
    values: http::header::GetAll<'a, http::HeaderValue>,
}

impl<'a> AcceptEncoding<'a> {
    pub fn parse(request: &'a HeaderMap) -> AcceptEncoding<'a> {
        AcceptEncoding {
            values: request.get_all(header::ACCEPT_ENCODING),
        }
    }

    /// Calls `f` with every listed (name, q); `x-gzip` is named `gzip`.
    /// Plain loops over bytes, not a chain of string iterators: a hit reads
    /// this header, and the chain's nested folds, searchers and Unicode
    /// trims cost more than the short scan itself. (A value is read only if
    /// it is visible ASCII, as `to_str` checks, so ASCII trims are the
    /// whole of whitespace here.)
    fn each_item(&self, mut f: impl FnMut(&[u8], f32)) {
        for value in self.values.iter() {
            let Ok(text) = value.to_str() else {
                continue;
            };
            for item in text.as_bytes().split(|&b| b == b',') {
                let (name, params) = match item.iter().position(|&b| b == b';') {
                    Some(i) => (item.get(..i).unwrap_or_default(), item.get(i + 1..)),
                    None => (item, None),
                };
                let name = name.trim_ascii();
                if name.is_empty() {
                    continue;
                }
                let name: &[u8] = if name.eq_ignore_ascii_case(b"x-gzip") {
                    b"gzip"
                } else {
                    name
                };
                let q = params
                    .and_then(|params| {
                        params
                            .split(|&b| b == b';')
                            .filter_map(|p| p.trim_ascii().strip_prefix(b"q="))
                            .find_map(|q| {
                                std::str::from_utf8(q.trim_ascii())
                                    .ok()?
                                    .parse::<f32>()
                                    .ok()
                            })
                    })
                    .unwrap_or(1.0)
                    .clamp(0.0, 1.0);
                f(name, q);
            }
        }
    }

    /// How much the reader wants `coding` (0: not at all).
    pub fn q(&self, coding: Coding) -> f32 {
        let [q] = self.qs([coding]);
        q
    }

    /// [`Self::q`] of each of `codings`, in one pass over the header (a
    /// hit asks for three).
    pub fn qs<const N: usize>(&self, codings: [Coding; N]) -> [f32; N] {
        let mut listed: [Option<f32>; N] = [None; N];
        let mut star = None;
        self.each_item(|name, q| {
            for (c, slot) in codings.iter().zip(listed.iter_mut()) {
                if slot.is_none() && name.eq_ignore_ascii_case(c.token().as_bytes()) {
                    *slot = Some(q);
                }
            }
            if name == b"*" && star.is_none() {
                star = Some(q);
            }
        });
        std::array::from_fn(|i| match (listed[i], codings[i]) {
            (Some(q), _) => q,
            // Identity is acceptable unless refused outright (RFC 9110 §12.5.3);
            // slightly below any coding the client listed, so those win.
            (None, Coding::Identity) => {
                if star == Some(0.0) {
                    0.0
                } else {
                    0.001
                }
            }
            (None, _) => star.unwrap_or(0.0),
        })
    }

    /// Whether the reader takes a body with every one of `codings` applied.
    pub fn takes_all(&self, codings: &[Coding]) -> bool {
        codings.iter().all(|c| self.q(*c) > 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// The request headers of a reader sending `v`.
    fn ae(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    fn takes(v: &str, codings: &[Coding]) -> bool {
        AcceptEncoding::parse(&ae(v)).takes_all(codings)
    }

    fn q(v: &str, coding: Coding) -> f32 {
        AcceptEncoding::parse(&ae(v)).q(coding)
    }

    #[test]
    fn content_encoding_lists_codings_in_order_and_names_an_unknown_one() {
        assert_eq!(
            content_codings(Some("gzip, identity, BR")),
            Ok(vec![Coding::Gzip, Coding::Br])
        );
        assert_eq!(content_codings(Some("x-gzip")), Ok(vec![Coding::Gzip]));
        assert_eq!(
            content_codings(Some("deflate, br")),
            Ok(vec![Coding::Deflate, Coding::Br])
        );
        assert_eq!(content_codings(Some("identity")), Ok(vec![]));
        assert_eq!(
            content_codings(Some("deflate, zstd")),
            Ok(vec![Coding::Deflate, Coding::Zstd])
        );
        assert_eq!(content_codings(None), Ok(vec![]));
        assert_eq!(
            content_codings(Some("gzip, compress")).unwrap_err().token,
            "compress"
        );
    }

    #[test]
    fn a_reader_takes_what_it_lists_or_a_star_covers() {
        assert!(takes("gzip, deflate, br", &[Coding::Gzip]));
        assert!(!takes("gzip;q=0, br", &[Coding::Gzip]));
        assert!(takes("*", &[Coding::Zstd]));
        assert!(!takes("identity", &[Coding::Br]));
        assert!(!AcceptEncoding::parse(&HeaderMap::new()).takes_all(&[Coding::Gzip]));
        // The same answer for the alias in either header.
        assert!(takes("x-gzip", &[Coding::Gzip]));
        assert!(takes("gzip, br", &[Coding::Gzip, Coding::Br]));
        assert!(!takes("gzip", &[Coding::Gzip, Coding::Br]));
    }

    #[test]
    fn identity_is_taken_unless_refused() {
        assert!(AcceptEncoding::parse(&HeaderMap::new()).q(Coding::Identity) > 0.0);
        assert!(q("br", Coding::Identity) > 0.0);
        assert_eq!(q("*;q=0", Coding::Identity), 0.0);
        assert_eq!(q("identity;q=0", Coding::Identity), 0.0);
    }

    #[test]
    fn q_values_are_read_whatever_the_spacing_case_and_field_lines() {
        assert_eq!(q("GZIP ; q=0.5", Coding::Gzip), 0.5);
        assert_eq!(q("deflate,\tbr ;level=1; q=0.25 ", Coding::Br), 0.25);
        assert_eq!(q("br;q=2", Coding::Br), 1.0);
        assert_eq!(q("br;q=oops", Coding::Br), 1.0);
        assert_eq!(q(" , ,gzip", Coding::Gzip), 1.0);
        assert_eq!(q("x-gzip;q=0.1", Coding::Gzip), 0.1);
        assert_eq!(q("*;q=0.3", Coding::Zstd), 0.3);
        let mut h = HeaderMap::new();
        h.append(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=0.2"),
        );
        h.append(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0.7"),
        );
        let ae = AcceptEncoding::parse(&h);
        assert_eq!(
            ae.qs([Coding::Br, Coding::Gzip, Coding::Zstd]),
            [0.2, 0.7, 0.0]
        );
    }
}
