//! Invalidation after an unsafe request (RFC 9111 §4.4): a successful
//! POST, PUT, DELETE, ... makes stored answers for its URL, and for the
//! `Location` and `Content-Location` it names on the same site, stale.

use http::{HeaderMap, Method, StatusCode, header};
use url::Url;

/// The upstream URLs whose stored answers an unsafe request to
/// `request_url` invalidated, given its answer. `same_site` turns a
/// `Location`-like value (as the reader got it: a mirror URL or path)
/// into an upstream URL of the same site, or `None`.
pub fn invalidated_urls(
    method: &Method,
    status: StatusCode,
    response: &HeaderMap,
    request_url: &Url,
    same_site: impl Fn(&str) -> Option<Url>,
) -> Vec<Url> {
    if method.is_safe() || !(status.is_success() || status.is_redirection()) {
        return Vec::new();
    }
    let mut urls = vec![request_url.clone()];
    for name in [header::LOCATION, header::CONTENT_LOCATION] {
        let Some(value) = response.get(&name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let absolute = request_url
            .join(value)
            .map(String::from)
            .unwrap_or_else(|_| value.to_owned());
        if let Some(url) = same_site(&absolute).or_else(|| same_site(value)) {
            urls.push(url);
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    /// The test's mapper: mirror paths under `/news/` are the site's.
    fn same_site(v: &str) -> Option<Url> {
        let path = v.strip_prefix("http://mirror.test").unwrap_or(v);
        path.strip_prefix("/news/")
            .map(|rest| url(&format!("https://up.test/{rest}")))
    }

    #[test]
    fn a_successful_unsafe_request_invalidates_its_url_and_same_site_locations() {
        let mut h = HeaderMap::new();
        h.insert(header::LOCATION, HeaderValue::from_static("/news/a/1"));
        h.insert(
            header::CONTENT_LOCATION,
            HeaderValue::from_static("https://other.test/x"),
        );
        let req = url("https://up.test/a");
        let got = invalidated_urls(&Method::POST, StatusCode::SEE_OTHER, &h, &req, same_site);
        assert_eq!(got, [req.clone(), url("https://up.test/a/1")]);
    }

    #[test]
    fn safe_methods_and_failures_invalidate_nothing() {
        let req = url("https://up.test/a");
        let h = HeaderMap::new();
        assert!(invalidated_urls(&Method::GET, StatusCode::OK, &h, &req, same_site).is_empty());
        assert!(invalidated_urls(&Method::OPTIONS, StatusCode::OK, &h, &req, same_site).is_empty());
        for s in [400, 404, 500] {
            let status = StatusCode::from_u16(s).expect("status");
            assert!(invalidated_urls(&Method::DELETE, status, &h, &req, same_site).is_empty());
        }
    }
}
