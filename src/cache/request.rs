//! What a fill asks upstream for: the whole representation, whatever the
//! reader's conditionals and range (the cache answers those itself, from
//! the full response), conditionally only on the stored entry's validators.

use http::{HeaderMap, HeaderName, header};

use super::policy::Validators;

/// The reader request headers a fill must not forward.
const READER_ONLY: &[HeaderName] = &[
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
    header::IF_RANGE,
    header::RANGE,
];

/// The reader's headers as a fill forwards them: without conditionals and range.
pub fn fill_request_headers(reader: &HeaderMap) -> HeaderMap {
    let mut h = reader.clone();
    for name in READER_ONLY {
        h.remove(name);
    }
    h
}

/// Makes an upstream request conditional on a stored entry's validators.
pub fn add_conditionals(upstream: &mut HeaderMap, validators: &Validators) {
    if let Some(etag) = &validators.etag {
        upstream.insert(header::IF_NONE_MATCH, etag.clone());
    }
    if let Some(lm) = &validators.last_modified {
        upstream.insert(header::IF_MODIFIED_SINCE, lm.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn a_fill_forwards_no_reader_conditional_or_range_and_asks_with_the_stored_validators() {
        let mut reader = HeaderMap::new();
        for name in READER_ONLY {
            reader.insert(name.clone(), HeaderValue::from_static("x"));
        }
        reader.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en"));
        let mut h = fill_request_headers(&reader);
        assert_eq!(h.len(), 1);
        let v = Validators {
            etag: Some(HeaderValue::from_static("\"e\"")),
            last_modified: Some(HeaderValue::from_static("Tue, 01 Dec 2026 00:00:00 GMT")),
        };
        add_conditionals(&mut h, &v);
        assert_eq!(h[header::IF_NONE_MATCH], "\"e\"");
        assert!(h.contains_key(header::IF_MODIFIED_SINCE));
        assert!(!h.contains_key(header::RANGE));
    }
}
