//! What a request says about its reader (address, host, scheme), believed
//! only from `server.trusted_proxies`.
//!
//! Behind a CDN or load balancer, the peer is the proxy and the reader's own
//! address and the host they asked for come in `X-Forwarded-For`/`-Host`/
//! `-Proto` or `Forwarded` (RFC 7239). From anyone else those headers are
//! ignored: they change neither routing, nor the cache key, nor any URL in a
//! body (nothing in a body depends on them at all).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::{HeaderMap, Uri, header};

use crate::config::Cidr;

/// The reader as far as this request can be believed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientView {
    /// The reader's address (the peer's, or the nearest untrusted hop).
    pub ip: Option<IpAddr>,
    /// The host name the reader asked for, lower-case, without port.
    pub host: Option<String>,
    /// `http` or `https`.
    pub proto: &'static str,
    /// The peer is one of `server.trusted_proxies`: only then may
    /// forwarding headers go on to a plain (`rewrite = false`) upstream.
    pub trusted_peer: bool,
}

/// `server.trusted_proxies`: the peers whose forwarding headers and
/// `X-Request-Id` are believed. Built once at start, shared by the request
/// front ([`ClientView::of`]) and the request ids ([`crate::request_id`]).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[Cidr]>);

impl TrustedProxies {
    pub fn new(ranges: &[Cidr]) -> TrustedProxies {
        TrustedProxies(ranges.into())
    }

    /// Whether `ip` (IPv4-mapped IPv6 read as IPv4) is one of them.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|c| c.contains(&ip))
    }

    /// Whether the TCP peer is one of them.
    pub fn peer(&self, peer: Option<SocketAddr>) -> bool {
        peer.is_some_and(|p| self.contains(p.ip()))
    }
}

impl ClientView {
    /// `peer` is the TCP peer; `own_host` the request's own host, as
    /// [`own_host`] parsed it; `tls` whether this connection is TLS.
    pub fn of(
        peer: Option<SocketAddr>,
        own_host: Option<String>,
        headers: &HeaderMap,
        tls: bool,
        proxies: &TrustedProxies,
    ) -> ClientView {
        let mut view = ClientView {
            ip: peer.map(|p| p.ip()),
            host: own_host,
            proto: if tls { "https" } else { "http" },
            trusted_peer: false,
        };
        let Some(peer) = peer.filter(|p| proxies.contains(p.ip())) else {
            return view;
        };
        view.trusted_peer = true;
        let forwarded = Forwarded::parse(headers);
        // The reader is the last address in the chain that is not one of ours.
        let chain: Vec<IpAddr> = if forwarded.for_.is_empty() {
            list(headers, "x-forwarded-for")
                .filter_map(|v| parse_ip(&v))
                .collect()
        } else {
            forwarded.for_.clone()
        };
        view.ip = chain
            .iter()
            .rev()
            .copied()
            .find(|ip| !proxies.contains(*ip))
            .or_else(|| chain.first().copied())
            .or(Some(peer.ip()));
        if let Some(host) = forwarded
            .host
            .or_else(|| list(headers, "x-forwarded-host").next())
        {
            let host = host
                .parse::<http::uri::Authority>()
                .map(|a| a.host().to_owned())
                .unwrap_or(host);
            view.host = Some(normalise_host(&host));
        }
        if let Some(proto) = forwarded
            .proto
            .or_else(|| list(headers, "x-forwarded-proto").next())
        {
            if proto.eq_ignore_ascii_case("http") {
                view.proto = "http";
            } else if proto.eq_ignore_ascii_case("https") {
                view.proto = "https";
            }
        }
        view
    }
}

/// The host a request names itself (the URI's authority in HTTP/2, else
/// `Host`), lower-case, without port or trailing dot; no forwarding header
/// is read. `None` also for a malformed `Host`.
pub fn host_of(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    own_host(uri, headers).ok().flatten()
}

/// What is wrong with a request's `Host` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostError {
    /// Two `Host` field lines.
    Duplicate,
    /// Not a host and port (userinfo, a path, bad characters).
    Malformed,
}

/// [`host_of`], telling a malformed or repeated `Host` from none (RFC 9112
/// §3.2: either is a 400): the one place a request's host is parsed. The
/// `Host` header is checked even when the URI has the authority (HTTP/2).
pub fn own_host(uri: &Uri, headers: &HeaderMap) -> Result<Option<String>, HostError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let from_header = match hosts.next() {
        None => None,
        Some(_) if hosts.next().is_some() => return Err(HostError::Duplicate),
        // A name with an optional port, as nearly every Host is, is read in
        // place; anything else goes through the URI parser (this is on
        // every hit's path, and the parser copies the value).
        Some(value) => match plain_host(value.as_bytes()) {
            Some(host) => Some(HeaderHost::Plain(host)),
            None => {
                let authority = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.parse::<http::uri::Authority>().ok())
                    .filter(|a| !a.as_str().contains('@'))
                    .ok_or(HostError::Malformed)?;
                Some(HeaderHost::Parsed(authority))
            }
        },
    };
    Ok(match uri.host() {
        Some(h) => Some(normalise_host(h)),
        None => from_header.map(|h| match &h {
            // Letters, digits, dots and hyphens only: nothing to trim but dots.
            HeaderHost::Plain(host) => host.trim_end_matches('.').to_ascii_lowercase(),
            HeaderHost::Parsed(a) => normalise_host(a.host()),
        }),
    })
}

/// A `Host` field's host, read in place or parsed.
enum HeaderHost<'a> {
    Plain(&'a str),
    Parsed(http::uri::Authority),
}

/// The host of a `Host` value made only of letters, digits, dots and
/// hyphens, with an optional port of 1 to 5 digits: a value the URI parser
/// takes as that same host. `None` for anything else (IPv6, user info,
/// other characters), which the parser then decides on.
fn plain_host(value: &[u8]) -> Option<&str> {
    let (host, port) = match value.iter().position(|&b| b == b':') {
        Some(i) => (value.get(..i)?, Some(value.get(i + 1..)?)),
        None => (value, None),
    };
    let name = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
    if host.is_empty() || !host.iter().all(name) {
        return None;
    }
    if let Some(port) = port
        && (!(1..=5).contains(&port.len()) || !port.iter().all(u8::is_ascii_digit))
    {
        return None;
    }
    std::str::from_utf8(host).ok()
}

fn normalise_host(h: &str) -> String {
    h.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Every comma-separated item of every field line of `name`, trimmed.
fn list<'a>(headers: &'a HeaderMap, name: &'static str) -> impl Iterator<Item = String> + 'a {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// `1.2.3.4`, `[2001:db8::1]`, `1.2.3.4:5678`, `"[2001:db8::1]:80"`.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|inner| inner.parse().ok())
}

/// The parts of RFC 7239 `Forwarded` the mirror uses.
#[derive(Default)]
struct Forwarded {
    for_: Vec<IpAddr>,
    host: Option<String>,
    proto: Option<String>,
}

impl Forwarded {
    fn parse(headers: &HeaderMap) -> Forwarded {
        let mut f = Forwarded::default();
        for element in list(headers, "forwarded") {
            for pair in element.split(';') {
                let Some((key, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"').to_owned();
                match key.trim().to_ascii_lowercase().as_str() {
                    "for" => {
                        if let Some(ip) = parse_ip(&value) {
                            f.for_.push(ip);
                        }
                    }
                    // The first hop's host and proto are the reader's.
                    "host" if f.host.is_none() => f.host = Some(value),
                    "proto" if f.proto.is_none() => f.proto = Some(value),
                    _ => {}
                }
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(&["10.0.0.0/8".parse().unwrap()])
    }

    fn uri() -> Uri {
        Uri::from_static("/a")
    }

    #[test]
    fn untrusted_peers_cannot_claim_anything() {
        let h = headers(&[
            ("host", "mirror.org"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-host", "evil.org"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "for=5.6.7.8;host=evil.org;proto=https"),
        ]);
        let v = ClientView::of(
            Some("203.0.113.9:5000".parse().unwrap()),
            host_of(&uri(), &h),
            &h,
            false,
            &proxies(),
        );
        assert_eq!(v.ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(v.host.as_deref(), Some("mirror.org"));
        assert_eq!(v.proto, "http");
    }

    #[test]
    fn trusted_proxies_tell_the_readers_address_host_and_scheme() {
        let h = headers(&[
            ("host", "origin.internal:8080"),
            ("x-forwarded-for", "198.51.100.7, 10.1.1.1"),
            ("x-forwarded-host", "Mirror.Example.org"),
            ("x-forwarded-proto", "https"),
        ]);
        let v = ClientView::of(
            Some("10.0.0.2:5000".parse().unwrap()),
            host_of(&uri(), &h),
            &h,
            false,
            &proxies(),
        );
        assert_eq!(v.ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(v.host.as_deref(), Some("mirror.example.org"));
        assert_eq!(v.proto, "https");
    }

    #[test]
    fn forwarded_header_takes_precedence() {
        let h = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8::9]:4711\";proto=https;host=m.example.org, for=10.2.2.2",
            ),
            ("x-forwarded-for", "192.0.2.99"),
        ]);
        let v = ClientView::of(
            Some("10.0.0.2:5000".parse().unwrap()),
            host_of(&uri(), &h),
            &h,
            false,
            &proxies(),
        );
        assert_eq!(v.ip, Some("2001:db8::9".parse().unwrap()));
        assert_eq!(v.host.as_deref(), Some("m.example.org"));
        assert_eq!(v.proto, "https");
    }

    #[test]
    fn a_spoofed_leftmost_address_does_not_win() {
        // The reader sent "X-Forwarded-For: 1.1.1.1" itself; the trusted proxy appended the real one.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7")]);
        let v = ClientView::of(
            Some("10.0.0.2:5000".parse().unwrap()),
            host_of(&uri(), &h),
            &h,
            false,
            &proxies(),
        );
        assert_eq!(v.ip, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn the_own_host_is_lower_case_without_port_and_a_bad_host_is_told_from_none() {
        let own = |pairs: &[(&'static str, &'static str)], u: &'static str| {
            own_host(&Uri::from_static(u), &headers(pairs))
        };
        assert_eq!(
            own(&[("host", "Mirror.ORG.:8080")], "/a"),
            Ok(Some("mirror.org".into()))
        );
        assert_eq!(own(&[], "/a"), Ok(None));
        assert_eq!(
            own(&[("host", "a.org"), ("host", "b.org")], "/a"),
            Err(HostError::Duplicate)
        );
        assert_eq!(
            own(&[("host", "user@a.org")], "/a"),
            Err(HostError::Malformed)
        );
        assert_eq!(own(&[("host", "a.org/x")], "/a"), Err(HostError::Malformed));
        // HTTP/2: the URI's authority names the host, and `Host` is still checked.
        assert_eq!(
            own(&[("host", "a.org")], "https://B.org/a"),
            Ok(Some("b.org".into()))
        );
        assert_eq!(
            own(&[("host", "u@a.org")], "https://b.org/a"),
            Err(HostError::Malformed)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// Whatever `Host` the in-place reading takes, the URI parser takes
        /// too, as the same host.
        #[test]
        fn a_host_read_in_place_is_the_one_the_parser_reads(
            value in "[a-zA-Z0-9.:@\\[\\]_-]{0,12}"
        ) {
            if let Some(host) = plain_host(value.as_bytes()) {
                let parsed = value.parse::<http::uri::Authority>();
                proptest::prop_assert!(parsed.is_ok(), "{value:?} is not an authority");
                let parsed = parsed.unwrap();
                proptest::prop_assert!(!parsed.as_str().contains('@'));
                proptest::prop_assert_eq!(parsed.host(), host);
            }
        }
    }
}
