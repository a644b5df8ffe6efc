//! The one place that builds outgoing headers: what the mirror sends
//! upstream on a reader's behalf, and what it passes back to the reader.
//!
//! Upstream sees no cookie, no credentials, no `Referer` of the mirror and
//! no address of the reader: a mirror for readers in censored networks must
//! not tell the site, or anyone watching its traffic, who is reading.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::site::SiteKind;
use crate::url_map::Place;

/// The mirror's own response headers.
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");
/// Every answer's id (`crate::request_id`).
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Tags for a CDN's purge by key (Fastly, Varnish `xkey`).
pub const SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");

/// A `Content-Length` value, if it is one number.
pub fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// What the mirror accepts from upstream; it decodes all of them.
pub const UPSTREAM_ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// Request headers of the reader passed on to a mirror site's upstream as
/// they are. `Accept-Language` only as [`first_language`] made it, and it is
/// in every mirror entry's key (`cache::vary_names`); not `Accept`: what
/// upstream negotiates on must be the same for every reader
/// ([`MIRROR_ACCEPT`]). Never a framing header: hyper frames the body the
/// mirror actually sends ([`FRAMING`]).
const FORWARDED_REQUEST: &[HeaderName] = &[
    header::ACCEPT_LANGUAGE,
    header::RANGE,
    header::IF_RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
];

/// The `Accept` every request to a mirror site's upstream carries (a
/// browser's navigation `Accept`: pages, and the image formats every
/// current browser shows).
pub const MIRROR_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8";

/// Headers that say how a request body is framed (or that one follows).
/// Never copied from the reader: a `Content-Length` on a GET whose body the
/// mirror does not send makes upstream read the next request on the pooled
/// connection as that body (request smuggling).
const FRAMING: &[HeaderName] = &[
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::EXPECT,
];

/// Headers that carry forwarding information (who the reader is, which host
/// or URL they asked for, which method to use): passed to a plain upstream
/// only from `server.trusted_proxies`. An upstream that reflects them would
/// otherwise store a reader's choice for every reader.
const FORWARDING: &[&str] = &[
    "forwarded",
    "via",
    "x-real-ip",
    "x-host",
    "x-original-url",
    "x-original-uri",
    "x-original-host",
    "x-rewrite-url",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "true-client-ip",
    "cf-connecting-ip",
    "client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
    "x-originating-ip",
    "x-remote-ip",
    "x-remote-addr",
    "x-proxyuser-ip",
    "x-envoy-external-address",
];

fn is_forwarding(name: &HeaderName) -> bool {
    let n = name.as_str();
    n.starts_with("x-forwarded-") || FORWARDING.contains(&n)
}

/// What the mirror knows of the reader's request when it builds the
/// upstream one.
pub struct ReaderRequest<'a> {
    /// The reader's request headers.
    pub headers: &'a HeaderMap,
    /// The peer is a trusted proxy (`server.trusted_proxies`).
    pub trusted_peer: bool,
    /// The mirror sends a request body upstream (methods other than GET/HEAD).
    pub sends_body: bool,
}

/// Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded either way.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-authentication-info",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Response headers that would bind the reader's browser to upstream's
/// hosts or state: cookies, HSTS/pins for the mirror's own name, upstream's
/// alternative endpoints, reporting to upstream.
const DROPPED_RESPONSE: &[&str] = &[
    // Directives for upstream's own surrogates; the mirror sends its own.
    "surrogate-control",
    "set-cookie",
    "set-cookie2",
    "alt-svc",
    "strict-transport-security",
    "public-key-pins",
    "public-key-pins-report-only",
    "expect-ct",
    "report-to",
    "reporting-endpoints",
    "nel",
];

/// Headers that describe the upstream bytes, wrong once the body is rewritten.
const BODY_DESCRIBING: &[&str] = &[
    "content-length",
    "content-encoding",
    "etag",
    "content-md5",
    "digest",
    "content-digest",
    "repr-digest",
    "accept-ranges",
];

/// Headers for a request to upstream made for `reader`'s request.
/// `referer` is the reader's referring page, already mapped back to its
/// original URL (or `None`). `plain`: a plain reverse proxy
/// (`rewrite = false`), which passes end-to-end headers on.
pub fn upstream_request(
    reader: &ReaderRequest<'_>,
    user_agent: &HeaderValue,
    referer: Option<HeaderValue>,
    kind: SiteKind,
) -> HeaderMap {
    let client = reader.headers;
    let mut out = HeaderMap::new();
    // This cache is a surrogate (Edge Architecture 1.0): origins may target it.
    out.insert(
        HeaderName::from_static("surrogate-capability"),
        HeaderValue::from_static(concat!("newsmirror", "=\"Surrogate/1.0\"")),
    );
    if kind == SiteKind::Plain {
        // A plain reverse proxy: end-to-end headers as sent, but neither
        // framing nor (from untrusted peers) forwarding information.
        for (name, value) in client {
            if name == header::HOST
                || FRAMING.contains(name)
                || is_hop_by_hop(client, name)
                || (!reader.trusted_peer && is_forwarding(name))
                || (!reader.sends_body && name == header::CONTENT_TYPE)
            {
                continue;
            }
            out.append(name.clone(), value.clone());
        }
        return out;
    }
    for name in FORWARDED_REQUEST {
        for value in client.get_all(name) {
            out.append(name.clone(), value.clone());
        }
    }
    if reader.sends_body
        && let Some(ct) = client.get(header::CONTENT_TYPE)
    {
        out.insert(header::CONTENT_TYPE, ct.clone());
    }
    out.insert(header::ACCEPT, HeaderValue::from_static(MIRROR_ACCEPT));
    out.insert(header::USER_AGENT, user_agent.clone());
    // A byte range is a range of the encoded body: keep the reader's own
    // encodings for it so that the bytes can be passed as they come.
    let encoding = if client.contains_key(header::RANGE) {
        client
            .get(header::ACCEPT_ENCODING)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("identity"))
    } else {
        HeaderValue::from_static(UPSTREAM_ACCEPT_ENCODING)
    };
    out.insert(header::ACCEPT_ENCODING, encoding);
    if let Some(r) = referer {
        out.insert(header::REFERER, r);
    }
    out
}

/// A reader's `Accept-Language` as a mirror site sees it: its first
/// language tag (`zh-TW,zh;q=0.9,en;q=0.8` → `zh-TW`), or
/// nothing when that is not a plain tag. What upstream gets, and what the
/// cache keys on: one entry per language readers ask first, not one per
/// browser's list.
pub fn first_language(headers: &mut HeaderMap) {
    let Some(value) = headers.get(header::ACCEPT_LANGUAGE) else {
        return;
    };
    let tag = first_tag(value.as_bytes());
    let one_line = headers.get_all(header::ACCEPT_LANGUAGE).iter().count() == 1;
    if one_line && tag.is_some_and(|t| t.len() == value.len()) {
        // Already one plain tag (the common case): nothing to copy.
        return;
    }
    let tag = tag.and_then(|t| HeaderValue::from_bytes(t).ok());
    headers.remove(header::ACCEPT_LANGUAGE);
    if let Some(tag) = tag {
        headers.insert(header::ACCEPT_LANGUAGE, tag);
    }
}

/// The first language tag of an `Accept-Language` value, if it is a plain
/// tag (letters, digits, `-`; 2 to 35 bytes, starting with a letter).
fn first_tag(value: &[u8]) -> Option<&[u8]> {
    let item = value.split(|b| *b == b',').next()?;
    let tag = item.split(|b| *b == b';').next()?.trim_ascii();
    let plain = (2..=35).contains(&tag.len())
        && tag.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && tag.first().is_some_and(u8::is_ascii_alphabetic);
    plain.then_some(tag)
}

fn is_hop_by_hop(headers: &HeaderMap, name: &HeaderName) -> bool {
    if HOP_BY_HOP.contains(&name.as_str()) {
        return true;
    }
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case(name.as_str()))
}

/// How the body of a response leaves the mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyHandling {
    /// Bytes exactly as upstream sent them.
    AsIs,
    /// Content-Encoding removed, bytes otherwise unchanged.
    Decoded,
    /// Decoded, transcoded to UTF-8 and rewritten.
    Rewritten,
}

/// Response headers for the reader, from upstream's `headers`. `map` maps a
/// URL found in a header (against the request's upstream URL).
pub fn client_response(
    upstream: &HeaderMap,
    body: BodyHandling,
    kind: SiteKind,
    mut map: impl FnMut(&str, Place) -> Option<String>,
) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(upstream.len() + 4);
    for (name, value) in upstream {
        let n = name.as_str();
        if is_hop_by_hop(upstream, name) {
            continue;
        }
        if kind == SiteKind::Mirror && DROPPED_RESPONSE.contains(&n) {
            continue;
        }
        if body != BodyHandling::AsIs && BODY_DESCRIBING.contains(&n) {
            let keep = body == BodyHandling::Decoded
                && !matches!(n, "content-length" | "content-encoding");
            if !keep {
                continue;
            }
        }
        let mapped = match n {
            "location" | "content-location" => map_value(value, |v| map(v.trim(), Place::Link)),
            "refresh" => map_value(value, |v| map_refresh(v, |u| map(u, Place::Link))),
            "link" => map_value(value, |v| map_link_header(v, &mut map)),
            "content-security-policy" | "content-security-policy-report-only"
                if kind == SiteKind::Mirror =>
            {
                match value.to_str() {
                    Ok(policy) if !csp_names_hosts(policy) => None,
                    // Names upstream hosts (or is unreadable): the mirrored
                    // page's assets come from the mirror now, so drop it.
                    _ => continue,
                }
            }
            _ => None,
        };
        out.append(name.clone(), mapped.unwrap_or_else(|| value.clone()));
    }
    if body == BodyHandling::Rewritten
        && let Some(ct) = upstream.get(header::CONTENT_TYPE)
    {
        out.insert(header::CONTENT_TYPE, with_utf8_charset(ct));
    }
    out
}

fn map_value(value: &HeaderValue, f: impl FnOnce(&str) -> Option<String>) -> Option<HeaderValue> {
    let text = value.to_str().ok()?;
    let new = f(text)?;
    HeaderValue::from_str(&new).ok()
}

/// `text/html; charset=gbk` → `text/html; charset=utf-8`.
fn with_utf8_charset(ct: &HeaderValue) -> HeaderValue {
    let text = ct.to_str().unwrap_or("text/html");
    let essence = text.split(';').next().unwrap_or("text/html").trim();
    let mut out = String::from(essence);
    for param in text.split(';').skip(1) {
        let p = param.trim();
        if !p.is_empty() && !p.to_ascii_lowercase().starts_with("charset") {
            out.push_str("; ");
            out.push_str(p);
        }
    }
    out.push_str("; charset=utf-8");
    HeaderValue::from_str(&out)
        .unwrap_or_else(|_| HeaderValue::from_static("text/html; charset=utf-8"))
}

/// The charset parameter of a `Content-Type`.
pub fn charset_of(ct: Option<&HeaderValue>) -> Option<String> {
    let text = ct?.to_str().ok()?;
    text.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// The media type of a `Content-Type`, lower-case, without parameters.
pub fn media_type(ct: Option<&HeaderValue>) -> String {
    ct.and_then(|v| v.to_str().ok())
        .and_then(|s| s.split(';').next())
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Maps the URL of a `Refresh` header or `<meta http-equiv=refresh>`
/// (`5; url=/x`, `0;URL='x'`, `3, x`). `None` when there is nothing to change.
pub fn map_refresh(content: &str, map: impl FnOnce(&str) -> Option<String>) -> Option<String> {
    let digits_end = content
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c.is_ascii_whitespace()))
        .unwrap_or(content.len());
    let (delay, rest) = content.split_at(digits_end);
    let rest = rest.trim_start_matches([';', ',']).trim_start();
    // `get`, not `[..3]`: the value is page data, and its third byte may
    // fall inside a character (`0;Åèurl=...` panicked here).
    let url_part = if rest.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("url")) {
        let after = rest[3..].trim_start();
        after.strip_prefix('=').map(str::trim_start).unwrap_or(rest)
    } else {
        rest
    };
    let url = match url_part.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let body = &url_part[1..];
            body.find(q).map_or(body, |end| &body[..end])
        }
        Some(_) => url_part.trim_end(),
        None => return None,
    };
    let new = map(url)?;
    Some(format!("{}; url={new}", delay.trim()))
}

/// Maps every `<URL>` of a `Link` header.
pub fn map_link_header(
    value: &str,
    map: &mut impl FnMut(&str, Place) -> Option<String>,
) -> Option<String> {
    let mut out = String::with_capacity(value.len() + 16);
    let mut changed = false;
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let url = &rest[open + 1..open + close];
        // The parameters up to the next link decide the place.
        let params_end = rest[open + close..]
            .find(",")
            .map_or(rest.len(), |p| open + close + p);
        let params = rest[open + close + 1..params_end].to_ascii_lowercase();
        let place = if params.contains("as=image") || params.contains("icon") {
            Place::Image
        } else if params.contains("preload")
            || params.contains("stylesheet")
            || params.contains("modulepreload")
        {
            Place::Resource
        } else {
            Place::Link
        };
        out.push_str(&rest[..=open]);
        match map(url, place) {
            Some(new) => {
                changed = true;
                out.push_str(&new);
            }
            None => out.push_str(url),
        }
        out.push('>');
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The mirror's policy for a rewritten page when the site's scripts run:
/// every fetch stays on the mirror ('self', and `data:`/`blob:` where pages
/// build images, fonts, media and workers in memory), inline scripts and
/// styles as the site wrote them, violations reported to the mirror.
pub const CSP_SCRIPTS_KEPT: &str = "default-src 'self'; \
script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; \
media-src 'self' data: blob:; frame-src 'self'; worker-src 'self' blob:; manifest-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; \
report-uri /_/csp-report; report-to newsmirror";

/// The same with no script at all (`javascript = "remove"`).
pub const CSP_SCRIPTS_REMOVED: &str = "default-src 'self'; \
script-src 'none'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; \
media-src 'self' data: blob:; frame-src 'self'; worker-src 'none'; manifest-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; \
report-uri /_/csp-report; report-to newsmirror";

/// The headers every rewritten page carries: no DNS prefetching of the
/// hosts it names, no referrer to another origin, and (unless the site
/// sets `csp = false`) the mirror's Content-Security-Policy, which
/// replaces upstream's: the browser itself refuses every other origin.
/// `removed_policy`: the policy of pages whose scripts are removed
/// (`crate::worker::Worker::policy_scripts_removed`).
pub fn mirror_page_headers(
    out: &mut HeaderMap,
    csp: bool,
    scripts_removed: bool,
    removed_policy: &HeaderValue,
) {
    out.insert(
        HeaderName::from_static("x-dns-prefetch-control"),
        HeaderValue::from_static("off"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !csp {
        return;
    }
    out.remove(header::CONTENT_SECURITY_POLICY_REPORT_ONLY);
    let policy = if scripts_removed {
        removed_policy.clone()
    } else {
        HeaderValue::from_static(CSP_SCRIPTS_KEPT)
    };
    out.insert(header::CONTENT_SECURITY_POLICY, policy);
    if !scripts_removed {
        // Pages the service worker fetched get a wider policy (worker.rs):
        // every cache on the way, the browser's own included, must keep
        // the two answers apart.
        out.append(
            header::VARY,
            HeaderValue::from_static("X-Newsmirror-Worker"),
        );
    }
    out.insert(
        HeaderName::from_static("reporting-endpoints"),
        HeaderValue::from_static("newsmirror=\"/_/csp-report\""),
    );
}

/// Whether a Content-Security-Policy names hosts (as opposed to only
/// keywords, schemes, nonces and hashes). Such a policy pins the page to
/// upstream's hosts and would block the mirror's own rewritten assets.
pub fn csp_names_hosts(policy: &str) -> bool {
    policy.split(';').any(|directive| {
        directive.split_ascii_whitespace().skip(1).any(|source| {
            let s = source.to_ascii_lowercase();
            let keyword = s.starts_with('\'');
            let scheme_only = s.ends_with(':') && !s.contains('/');
            !(keyword || scheme_only || s == "*")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(headers: &HeaderMap) -> ReaderRequest<'_> {
        ReaderRequest {
            headers,
            trusted_peer: false,
            sends_body: false,
        }
    }

    #[test]
    fn only_the_first_language_tag_is_kept() {
        let lang = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
            first_language(&mut h);
            h.get(header::ACCEPT_LANGUAGE)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(lang("zh-TW,zh;q=0.9,en;q=0.8").as_deref(), Some("zh-TW"));
        assert_eq!(lang("en;q=0.5").as_deref(), Some("en"));
        assert_eq!(lang("*"), None);
        assert_eq!(lang("GET /attacker.html HTTP/1.1"), None);
        assert_eq!(lang(""), None);
    }

    #[test]
    fn framing_headers_never_go_upstream() {
        let mut c = HeaderMap::new();
        c.insert(header::CONTENT_LENGTH, HeaderValue::from_static("85"));
        c.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        c.insert(header::EXPECT, HeaderValue::from_static("100-continue"));
        c.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let ua = HeaderValue::from_static("ua");
        for kind in [SiteKind::Mirror, SiteKind::Plain] {
            for sends_body in [false, true] {
                let r = ReaderRequest {
                    headers: &c,
                    trusted_peer: true,
                    sends_body,
                };
                let out = upstream_request(&r, &ua, None, kind);
                for gone in ["content-length", "transfer-encoding", "expect"] {
                    assert!(!out.contains_key(gone), "{gone} ({kind:?})");
                }
                assert_eq!(out.contains_key(header::CONTENT_TYPE), sends_body);
            }
        }
    }

    #[test]
    fn forwarding_headers_reach_a_plain_upstream_only_from_trusted_proxies() {
        let mut c = HeaderMap::new();
        for name in [
            "x-forwarded-host",
            "x-forwarded-for",
            "x-host",
            "forwarded",
            "x-original-url",
            "x-http-method-override",
        ] {
            c.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static("evil"),
            );
        }
        c.insert(header::COOKIE, HeaderValue::from_static("a=b"));
        let ua = HeaderValue::from_static("ua");
        let untrusted = upstream_request(&reader(&c), &ua, None, SiteKind::Plain);
        assert_eq!(untrusted.len(), 2, "{untrusted:?}"); // cookie, surrogate-capability
        let trusted = ReaderRequest {
            headers: &c,
            trusted_peer: true,
            sends_body: false,
        };
        assert!(
            upstream_request(&trusted, &ua, None, SiteKind::Plain).contains_key("x-forwarded-host")
        );
    }

    fn mapper(url: &str, _: Place) -> Option<String> {
        url.starts_with("https://u.com")
            .then(|| url.replacen("https://u.com", "/m", 1))
    }

    #[test]
    fn refresh_forms_are_mapped() {
        let m = |u: &str| mapper(u, Place::Link);
        assert_eq!(
            map_refresh("5; url=https://u.com/a", m).as_deref(),
            Some("5; url=/m/a")
        );
        assert_eq!(
            map_refresh("0;URL='https://u.com/a'", m).as_deref(),
            Some("0; url=/m/a")
        );
        assert_eq!(
            map_refresh("3, https://u.com/b", m).as_deref(),
            Some("3; url=/m/b")
        );
        assert_eq!(map_refresh("30", m), None);
        assert_eq!(map_refresh("1; url=https://other.com/", m), None);
    }

    #[test]
    fn link_header_urls_are_mapped() {
        let v = "<https://u.com/a.css>; rel=preload; as=style, <https://other.com/x>; rel=next";
        let out = map_link_header(v, &mut mapper).unwrap();
        assert_eq!(
            out,
            "</m/a.css>; rel=preload; as=style, <https://other.com/x>; rel=next"
        );
        assert_eq!(
            map_link_header("<https://x.org/>; rel=next", &mut mapper),
            None
        );
    }

    #[test]
    fn csp_with_hosts_is_recognised() {
        assert!(csp_names_hosts(
            "default-src 'self' https://u.com; img-src *.u.com"
        ));
        assert!(!csp_names_hosts(
            "default-src 'self' data: 'unsafe-inline'; img-src * blob:"
        ));
        assert!(!csp_names_hosts("upgrade-insecure-requests"));
    }

    #[test]
    fn response_headers_drop_cookies_and_map_locations() {
        let mut h = HeaderMap::new();
        h.insert(
            header::LOCATION,
            HeaderValue::from_static("https://u.com/next"),
        );
        h.append(header::SET_COOKIE, HeaderValue::from_static("a=b"));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("100"));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=GBK"),
        );
        h.insert(header::ETAG, HeaderValue::from_static("\"x\""));
        h.insert(header::CONNECTION, HeaderValue::from_static("x-private"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=1"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("img-src https://u.com"),
        );
        let out = client_response(&h, BodyHandling::Rewritten, SiteKind::Mirror, mapper);
        assert_eq!(out.get(header::LOCATION).unwrap(), "/m/next");
        assert_eq!(
            out.get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        for gone in [
            "set-cookie",
            "content-length",
            "etag",
            "x-private",
            "connection",
            "strict-transport-security",
            "content-security-policy",
        ] {
            assert!(!out.contains_key(gone), "{gone}");
        }
        let out = client_response(&h, BodyHandling::AsIs, SiteKind::Mirror, mapper);
        assert_eq!(out.get(header::CONTENT_LENGTH).unwrap(), "100");
        assert_eq!(out.get(header::ETAG).unwrap(), "\"x\"");
    }

    #[test]
    fn request_headers_carry_nothing_about_the_reader() {
        let mut c = HeaderMap::new();
        c.insert(header::COOKIE, HeaderValue::from_static("session=1"));
        c.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic x"));
        c.insert("x-forwarded-for", HeaderValue::from_static("10.1.2.3"));
        c.insert(
            header::REFERER,
            HeaderValue::from_static("https://mirror/x"),
        );
        c.insert(
            header::USER_AGENT,
            HeaderValue::from_static("reader-browser"),
        );
        c.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN"));
        let ua = HeaderValue::from_static("newsmirror/0.1");
        let out = upstream_request(&reader(&c), &ua, None, SiteKind::Mirror);
        assert_eq!(out.get(header::USER_AGENT).unwrap(), "newsmirror/0.1");
        assert_eq!(out.get(header::ACCEPT_LANGUAGE).unwrap(), "zh-CN");
        assert_eq!(out.get(header::ACCEPT).unwrap(), MIRROR_ACCEPT);
        assert_eq!(
            out.get(header::ACCEPT_ENCODING).unwrap(),
            UPSTREAM_ACCEPT_ENCODING
        );
        for gone in ["cookie", "authorization", "x-forwarded-for", "referer"] {
            assert!(!out.contains_key(gone), "{gone}");
        }
    }

    #[test]
    fn range_requests_keep_the_readers_encodings() {
        let mut c = HeaderMap::new();
        c.insert(header::RANGE, HeaderValue::from_static("bytes=0-99"));
        let ua = HeaderValue::from_static("ua");
        let out = upstream_request(&reader(&c), &ua, None, SiteKind::Mirror);
        assert_eq!(out.get(header::RANGE).unwrap(), "bytes=0-99");
        assert_eq!(out.get(header::ACCEPT_ENCODING).unwrap(), "identity");
    }

    #[test]
    fn content_type_params_survive_charset_change() {
        let v = HeaderValue::from_static("text/css;charset=gb2312");
        assert_eq!(with_utf8_charset(&v), "text/css; charset=utf-8");
        assert_eq!(charset_of(Some(&v)).as_deref(), Some("gb2312"));
        assert_eq!(media_type(Some(&v)), "text/css");
    }
}
