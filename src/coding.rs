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

/// A reader's `Accept-Encoding`, every field line combined.
pub struct AcceptEncoding {
    /// (lower-case name, q) per listed item; `x-gzip` counts as `gzip`.
    items: Vec<(String, f32)>,
    present: bool,
}

impl AcceptEncoding {
    pub fn parse(request: &HeaderMap) -> AcceptEncoding {
        let mut items = Vec::new();
        let mut present = false;
        for value in request.get_all(header::ACCEPT_ENCODING) {
            present = true;
            let Ok(text) = value.to_str() else { continue };
            for item in text.split(',') {
                let mut parts = item.split(';');
                let mut name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                if name.is_empty() {
                    continue;
                }
                if name == "x-gzip" {
                    name = "gzip".to_owned();
                }
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0)
                    .clamp(0.0, 1.0);
                items.push((name, q));
            }
        }
        AcceptEncoding { items, present }
    }

    /// How much the reader wants `coding` (0: not at all).
    pub fn q(&self, coding: Coding) -> f32 {
        if let Some((_, q)) = self.items.iter().find(|(n, _)| n == coding.token()) {
            return *q;
        }
        let star = self.items.iter().find(|(n, _)| n == "*").map(|(_, q)| *q);
        match coding {
            // Identity is acceptable unless refused outright (RFC 9110 §12.5.3);
            // slightly below any coding the client listed, so those win.
            Coding::Identity => {
                if star == Some(0.0) {
                    0.0
                } else {
                    0.001
                }
            }
            _ if !self.present => 0.0,
            _ => star.unwrap_or(0.0),
        }
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

    fn ae(v: &str) -> AcceptEncoding {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        AcceptEncoding::parse(&h)
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
        assert!(ae("gzip, deflate, br").takes_all(&[Coding::Gzip]));
        assert!(!ae("gzip;q=0, br").takes_all(&[Coding::Gzip]));
        assert!(ae("*").takes_all(&[Coding::Zstd]));
        assert!(!ae("identity").takes_all(&[Coding::Br]));
        assert!(!AcceptEncoding::parse(&HeaderMap::new()).takes_all(&[Coding::Gzip]));
        // The same answer for the alias in either header.
        assert!(ae("x-gzip").takes_all(&[Coding::Gzip]));
        assert!(ae("gzip, br").takes_all(&[Coding::Gzip, Coding::Br]));
        assert!(!ae("gzip").takes_all(&[Coding::Gzip, Coding::Br]));
    }

    #[test]
    fn identity_is_taken_unless_refused() {
        assert!(AcceptEncoding::parse(&HeaderMap::new()).q(Coding::Identity) > 0.0);
        assert!(ae("br").q(Coding::Identity) > 0.0);
        assert_eq!(ae("*;q=0").q(Coding::Identity), 0.0);
        assert_eq!(ae("identity;q=0").q(Coding::Identity), 0.0);
    }
}
