//! Compressed variants made once at fill, and the choice among them per
//! request: a hit never compresses anything.

use std::io::Write;

use bytes::Bytes;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::coding::AcceptEncoding;
pub use crate::coding::Coding;

/// Bodies smaller than this are not worth compressing.
const MIN_COMPRESS: usize = 256;

/// A body and its compressed forms, each decoding to exactly `identity`.
#[derive(Clone, Debug)]
pub struct Variants {
    pub identity: Bytes,
    pub gzip: Option<Bytes>,
    pub br: Option<Bytes>,
}

impl Variants {
    /// Compresses `identity` to br and gzip when its type is text-like and
    /// compression saves something. CPU-bound: call off the async runtime.
    pub fn build(identity: Bytes, media_type: &str) -> Variants {
        if identity.len() < MIN_COMPRESS || !compressible(media_type) {
            return Variants {
                identity,
                gzip: None,
                br: None,
            };
        }
        let gzip = gzip(&identity).filter(|g| g.len() < identity.len());
        let br = brotli(&identity).filter(|b| b.len() < identity.len());
        Variants { identity, gzip, br }
    }

    pub fn get(&self, coding: Coding) -> &Bytes {
        match coding {
            Coding::Gzip => self.gzip.as_ref().unwrap_or(&self.identity),
            Coding::Br => self.br.as_ref().unwrap_or(&self.identity),
            // The forms held are identity, gzip and br.
            Coding::Identity | Coding::Deflate | Coding::Zstd => &self.identity,
        }
    }

    pub fn has_alternatives(&self) -> bool {
        self.gzip.is_some() || self.br.is_some()
    }

    /// Bytes held, all forms counted.
    pub fn weight(&self) -> usize {
        self.identity.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.br.as_ref().map_or(0, Bytes::len)
    }

    /// The best form the request's `Accept-Encoding` takes (`None` if it
    /// refuses every form held, identity included).
    pub fn choose(&self, request: &HeaderMap) -> Option<Coding> {
        let forms = [Coding::Br, Coding::Gzip, Coding::Identity];
        let qs = AcceptEncoding::parse(request).qs(forms);
        let held = [self.br.is_some(), self.gzip.is_some(), true];
        let mut best: Option<(f32, Coding)> = None;
        for ((coding, held), q) in forms.into_iter().zip(held).zip(qs) {
            if !held {
                continue;
            }
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, coding));
            }
        }
        best.map(|(_, c)| c)
    }
}

/// Text-like media types, worth compressing.
pub fn compressible(media_type: &str) -> bool {
    media_type.starts_with("text/")
        || media_type.ends_with("+xml")
        || media_type.ends_with("+json")
        || matches!(
            media_type,
            "application/javascript"
                | "application/json"
                | "application/xml"
                | "application/xhtml+xml"
                | "image/svg+xml"
                | "application/manifest+json"
                | "application/rss+xml"
                | "application/atom+xml"
        )
}

fn gzip(data: &[u8]) -> Option<Bytes> {
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::new(6),
    );
    e.write_all(data).ok()?;
    e.finish().ok().map(exact)
}

fn brotli(data: &[u8]) -> Option<Bytes> {
    let mut out = Vec::with_capacity(data.len() / 3);
    {
        // A window no larger than the body: the encoder's buffers scale with
        // it (a 4 MiB window for a 60 KB page costs megabytes per call).
        let lgwin = (usize::BITS - data.len().max(1).leading_zeros()).clamp(18, 22);
        let mut w = brotli::CompressorWriter::new(&mut out, 16 * 1024, 6, lgwin);
        w.write_all(data).ok()?;
        w.flush().ok()?;
    }
    Some(exact(out))
}

/// Bytes that hold no spare capacity: what the cache counts is what it holds.
pub fn exact(mut v: Vec<u8>) -> Bytes {
    v.shrink_to_fit();
    Bytes::from(v)
}

/// A strong validator from the identity body's hash; compressed forms get
/// their own (a strong ETag names one exact byte sequence).
pub fn etag(identity: &[u8], coding: Coding) -> String {
    let digest = Sha256::digest(identity);
    let mut hex = String::with_capacity(40);
    for b in &digest[..16] {
        hex.push_str(&format!("{b:02x}"));
    }
    match coding {
        Coding::Gzip => format!("\"{hex}-gz\""),
        Coding::Br => format!("\"{hex}-br\""),
        Coding::Identity | Coding::Deflate | Coding::Zstd => format!("\"{hex}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, header};
    use std::io::Read;

    fn ae(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    fn page() -> Variants {
        Variants::build(
            Bytes::from("<p>hello world, hello mirror</p>".repeat(100)),
            "text/html",
        )
    }

    #[test]
    fn every_variant_decodes_to_the_identity_body() {
        let v = page();
        let mut gunzipped = Vec::new();
        flate2::read::GzDecoder::new(&v.gzip.as_ref().unwrap()[..])
            .read_to_end(&mut gunzipped)
            .unwrap();
        assert_eq!(gunzipped, v.identity);
        let mut unbrotli = Vec::new();
        brotli::Decompressor::new(&v.br.as_ref().unwrap()[..], 4096)
            .read_to_end(&mut unbrotli)
            .unwrap();
        assert_eq!(unbrotli, v.identity);
    }

    #[test]
    fn negotiation_follows_accept_encoding() {
        let v = page();
        assert_eq!(v.choose(&ae("gzip, deflate, br")), Some(Coding::Br));
        assert_eq!(v.choose(&ae("gzip")), Some(Coding::Gzip));
        assert_eq!(v.choose(&ae("br;q=0.5, gzip;q=0.8")), Some(Coding::Gzip));
        assert_eq!(v.choose(&ae("identity")), Some(Coding::Identity));
        assert_eq!(v.choose(&HeaderMap::new()), Some(Coding::Identity));
        assert_eq!(v.choose(&ae("*")), Some(Coding::Br));
        assert_eq!(v.choose(&ae("br;q=0, gzip;q=0")), Some(Coding::Identity));
        assert_eq!(v.choose(&ae("identity;q=0, *;q=0")), None);
    }

    #[test]
    fn images_and_tiny_bodies_are_not_compressed() {
        let v = Variants::build(Bytes::from(vec![1u8; 10_000]), "image/jpeg");
        assert!(!v.has_alternatives());
        let v = Variants::build(Bytes::from_static(b"<p>x</p>"), "text/html");
        assert!(!v.has_alternatives());
        assert_eq!(v.choose(&ae("br")), Some(Coding::Identity));
    }

    #[test]
    fn etags_differ_per_form_and_content() {
        assert_ne!(etag(b"a", Coding::Identity), etag(b"b", Coding::Identity));
        assert_ne!(etag(b"a", Coding::Identity), etag(b"a", Coding::Gzip));
        assert!(etag(b"a", Coding::Br).starts_with('"'));
    }
}
