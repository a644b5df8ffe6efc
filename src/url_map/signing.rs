//! HMAC-SHA256 signatures for `/_/img/` URLs: the mirror fetches an image
//! from a host it does not otherwise serve only if it wrote that URL itself.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Bytes of the HMAC kept in the URL: 128 bits, well beyond forging.
const TAG_BYTES: usize = 16;

#[derive(Clone)]
pub struct ImageSigner {
    key: Vec<u8>,
}

impl fmt::Debug for ImageSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ImageSigner(..)")
    }
}

impl ImageSigner {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, url: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length; new_from_slice cannot fail for it.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(url.as_bytes());
        mac
    }

    /// The signature for `url`, base64url without padding.
    pub fn sign(&self, url: &str) -> String {
        let tag = self.mac(url).finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
    }

    /// Whether `sig` is this mirror's signature for `url` (constant time).
    pub fn verify(&self, url: &str, sig: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(sig) {
            Ok(tag) if tag.len() == TAG_BYTES => self.mac(url).verify_truncated_left(&tag).is_ok(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_only_for_its_url_and_key() {
        let s = ImageSigner::new(b"0123456789abcdef");
        let sig = s.sign("https://a.com/x.jpg");
        assert_eq!(sig.len(), 22);
        assert!(s.verify("https://a.com/x.jpg", &sig));
        assert!(!s.verify("https://a.com/y.jpg", &sig));
        assert!(!ImageSigner::new(b"another key 1234").verify("https://a.com/x.jpg", &sig));
        assert!(!s.verify("https://a.com/x.jpg", ""));
        assert!(!s.verify("https://a.com/x.jpg", "!!"));
        assert!(!s.verify("https://a.com/x.jpg", &sig[..20]));
    }
}
