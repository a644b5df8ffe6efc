//! The URL mapper: the one place that knows how upstream URLs and mirror
//! URLs correspond. Pure: no I/O, no clock, no randomness.
//!
//! Upstream → mirror ([`UrlMapper::map`]) is what the rewriter calls for
//! every URL in a page, a stylesheet or a header. Mirror → upstream
//! ([`UrlMapper::route`], [`UrlMapper::asset_target`],
//! [`UrlMapper::image_target`], [`UrlMapper::original_of`]) is what the
//! request handlers call to find out what to fetch, and refuse what they must
//! not fetch.
//!
//! For a site with upstream `https://www.u.com` mounted at `/m/`:
//! `https://www.u.com/a/b.htm`, `//www.u.com/a/b.htm`, `/a/b.htm` and
//! `b.htm` (resolved against the page and any `<base>`) all become
//! `/m/a/b.htm`; an `asset_hosts` URL becomes `/_/asset/<host>/<path>`;
//! another image URL becomes `/_/img/<sig>/<b64url>` when the site proxies
//! all images; links to another configured site go to that site's mount;
//! everything else is external and left to the caller's policy.

mod signing;
pub mod srcset;

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

pub use signing::ImageSigner;

use crate::site::{Site, SiteId};

pub use crate::routes::{ASSET_PREFIX, IMAGE_PREFIX};

/// What kind of place a URL was found in; it decides what may be proxied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Navigation: `<a href>`, forms, frames, redirects, canonical links.
    Link,
    /// Media a page displays: `<img>`, `srcset`, `poster`, CSS `url()`,
    /// `og:image`. Other hosts' media go through signed `/_/img/` URLs when
    /// the site proxies all images.
    Image,
    /// Other subresources: scripts, stylesheets, `@import`.
    Resource,
}

/// The answer for one URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mapped {
    /// Write this instead (a mirror path, or an absolute URL on another mirror host).
    Mirror(String),
    /// An http(s) URL the mirror does not serve; the caller applies its policy.
    External(Url),
    /// Not an http(s) URL (`data:`, `mailto:`, `javascript:`, `#top`, empty, unparsable): leave it.
    Unchanged,
}

impl Mapped {
    /// The replacement text, if the URL is to be replaced.
    pub fn into_replacement(self) -> Option<String> {
        match self {
            Mapped::Mirror(s) => Some(s),
            Mapped::External(_) | Mapped::Unchanged => None,
        }
    }
}

/// Why a mirror path cannot be turned into an upstream URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no mirrored site answers for this host and path")]
    NoSite,
    #[error("this server does not answer for the host {0:?}")]
    UnknownHost(String),
    #[error("the path is not allowed: {0}")]
    BadPath(&'static str),
    #[error("host {0:?} is not an asset host of any mirrored site")]
    HostNotAllowed(String),
    #[error("the image signature is missing or does not match")]
    BadSignature,
}

/// The result of routing a request path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub site: SiteId,
    /// The upstream URL to fetch.
    pub upstream: UpstreamUrl,
}

/// An upstream URL the mapper made: either parsed, or only its text when
/// that text is already what the URL standard serialises (most request
/// paths). A cache hit needs only the text (its key); the `Url` is parsed
/// when something goes upstream ([`UpstreamUrl::into_url`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamUrl(UpstreamRepr);

#[derive(Clone, Debug, PartialEq, Eq)]
enum UpstreamRepr {
    Text(String),
    Parsed(Url),
}

impl UpstreamUrl {
    /// The URL's serialisation.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            UpstreamRepr::Text(t) => t,
            UpstreamRepr::Parsed(u) => u.as_str(),
        }
    }

    /// The URL, parsed now if it was not before.
    pub fn into_url(self) -> Result<Url, RouteError> {
        match self.0 {
            UpstreamRepr::Parsed(u) => Ok(u),
            UpstreamRepr::Text(t) => {
                Url::parse(&t).map_err(|_| RouteError::BadPath("not a valid URL path"))
            }
        }
    }
}

impl From<Url> for UpstreamUrl {
    fn from(url: Url) -> Self {
        UpstreamUrl(UpstreamRepr::Parsed(url))
    }
}

#[derive(Debug)]
struct SiteMap {
    id: SiteId,
    scheme_port: u16,
    upstream_hosts: Vec<String>,
    /// Upstream path prefix, ends with '/'.
    prefix: String,
    mount: String,
    hosts: Vec<String>,
    proxy_all_images: bool,
    upstream: Url,
}

/// Maps URLs between upstream and mirror. Built once at start.
#[derive(Debug)]
pub struct UrlMapper {
    sites: Vec<SiteMap>,
    /// Upstream host → sites on that host, longest path prefix first.
    by_host: HashMap<String, Vec<usize>>,
    /// Every configured asset host (the asset route serves them for any site).
    asset_hosts: Vec<String>,
    signer: Option<ImageSigner>,
    /// `https://mirror.example.org` (no trailing slash) when configured.
    public_origin: Option<String>,
}

impl UrlMapper {
    /// The mapper of `sites` with `[server]`'s signing key and public URL.
    pub fn for_server(sites: &[Arc<Site>], server: &crate::config::ServerConfig) -> Self {
        let signer = server
            .signing_key
            .as_ref()
            .map(|k| ImageSigner::new(k.expose().as_bytes()));
        UrlMapper::new(sites, signer, server.public_url.as_ref())
    }

    pub fn new(sites: &[Arc<Site>], signer: Option<ImageSigner>, public_url: Option<&Url>) -> Self {
        let maps: Vec<SiteMap> = sites
            .iter()
            .map(|s| SiteMap {
                id: s.id,
                scheme_port: s.upstream.port_or_known_default().unwrap_or(443),
                upstream_hosts: s.upstream_hosts.clone(),
                prefix: s.upstream.path().to_owned(),
                mount: s.mount.clone(),
                hosts: s.hosts.clone(),
                proxy_all_images: s.proxy_all_images,
                upstream: s.upstream.clone(),
            })
            .collect();
        let mut by_host: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, m) in maps.iter().enumerate() {
            for h in &m.upstream_hosts {
                by_host.entry(h.clone()).or_default().push(i);
            }
        }
        for list in by_host.values_mut() {
            list.sort_by_key(|&i| std::cmp::Reverse(maps[i].prefix.len()));
        }
        let mut asset_hosts: Vec<String> = sites
            .iter()
            .flat_map(|s| s.asset_hosts.iter().cloned())
            .collect();
        asset_hosts.sort();
        asset_hosts.dedup();
        let public_origin = public_url.map(|u| u.as_str().trim_end_matches('/').to_owned());
        UrlMapper {
            sites: maps,
            by_host,
            asset_hosts,
            signer,
            public_origin,
        }
    }

    /// Whether the mirror serves `host` (lower-case): a site's upstream
    /// host or alias, or an asset host.
    pub fn is_mapped_host(&self, host: &str) -> bool {
        self.by_host.contains_key(host) || self.asset_hosts.iter().any(|h| h == host)
    }

    /// Whether `host` (any case) is one of the mirror's own host names
    /// (a site's `hosts`).
    pub fn is_mirror_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.sites.iter().any(|s| s.hosts.contains(&host))
    }

    fn site(&self, id: SiteId) -> Option<&SiteMap> {
        self.sites.get(id.0)
    }

    /// Maps a URL as written in a page (attribute value already
    /// entity-decoded) found on a page of `site` whose base URL is `base`.
    pub fn map(&self, site: SiteId, base: &Url, raw: &str, place: Place) -> Mapped {
        let trimmed = raw.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{0C}');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Mapped::Unchanged;
        }
        if let Some(mapped) = self.map_fast(site, base, trimmed) {
            return mapped;
        }
        match base.join(trimmed) {
            Ok(url) => self.map_url(site, &url, place),
            Err(_) => Mapped::Unchanged,
        }
    }

    /// Maps an absolute URL.
    pub fn map_url(&self, site: SiteId, url: &Url, place: Place) -> Mapped {
        if !matches!(url.scheme(), "http" | "https") {
            return Mapped::Unchanged;
        }
        let Some(host) = url.host_str() else {
            return Mapped::Unchanged;
        };
        let host = host.to_ascii_lowercase();
        if let Some(target) = self.site_for_url(&host, url) {
            return Mapped::Mirror(self.mirror_path(site, target, url));
        }
        if url.port().is_none() && self.asset_hosts.contains(&host) {
            return Mapped::Mirror(asset_path(&host, url));
        }
        if place == Place::Image
            && self.site(site).is_some_and(|s| s.proxy_all_images)
            && let Some(signer) = &self.signer
        {
            return Mapped::Mirror(image_path(signer, url));
        }
        Mapped::External(url.clone())
    }

    /// The configured site whose upstream serves `url`, if any.
    fn site_for_url(&self, host: &str, url: &Url) -> Option<&SiteMap> {
        let candidates = self.by_host.get(host)?;
        let port = url.port_or_known_default();
        candidates
            .iter()
            .filter_map(|&i| self.sites.get(i))
            .find(|m| {
                let port_ok = url.port().is_none() || port == Some(m.scheme_port);
                port_ok && url.path().starts_with(&m.prefix)
            })
    }

    /// The common forms, without parsing: an absolute, protocol-relative or
    /// root-relative URL on a site's upstream or asset host, whose text is
    /// already what the URL standard would serialise (see [`canonical_rest`]).
    /// `None` sends the URL down the general path, which gives the same
    /// answer for these (a test compares both).
    fn map_fast(&self, site: SiteId, base: &Url, raw: &str) -> Option<Mapped> {
        let (host, rest) = if let Some(r) = strip_scheme(raw).or_else(|| raw.strip_prefix("//")) {
            let slash = r.find('/')?;
            (&r[..slash], &r[slash..])
        } else if raw.starts_with('/') {
            if !matches!(base.scheme(), "http" | "https") || base.port().is_some() {
                return None;
            }
            (base.host_str()?, raw)
        } else {
            return None;
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return None;
        }
        if !canonical_rest(rest) {
            return None;
        }
        // A few hosts at most: comparing them beats hashing.
        if let Some(target) = self
            .sites
            .iter()
            .filter(|m| m.upstream_hosts.iter().any(|h| h == host))
            .filter(|m| rest.starts_with(m.prefix.as_str()))
            .max_by_key(|m| m.prefix.len())
        {
            return Some(Mapped::Mirror(self.mirror_path_of(site, target, rest)));
        }
        if self.asset_hosts.iter().any(|h| h == host) {
            return Some(Mapped::Mirror(asset_path_of(host, rest)));
        }
        None
    }

    /// Mirror URL of `url` (served by `target`) as written on a page of `from`.
    fn mirror_path(&self, from: SiteId, target: &SiteMap, url: &Url) -> String {
        self.mirror_path_of(from, target, &url[url::Position::BeforePath..])
    }

    /// Mirror URL of an upstream path, query and fragment `rest` (served by
    /// `target`) as written on a page of `from`.
    fn mirror_path_of(&self, from: SiteId, target: &SiteMap, rest: &str) -> String {
        // Leading slashes after the prefix are dropped: `https://u.com//evil.com/x`
        // under mount `/` would otherwise become `//evil.com/x`, which a
        // browser reads as another host. `route` drops them too, so the
        // mirror path still leads to the same upstream URL.
        let rest = rest
            .get(target.prefix.len()..)
            .unwrap_or("")
            .trim_start_matches('/');
        let mut path = String::with_capacity(target.mount.len() + rest.len());
        path.push_str(&target.mount);
        path.push_str(rest);
        let from_hosts = self.site(from).map(|s| s.hosts.as_slice()).unwrap_or(&[]);
        // A root-relative path lands on the right site only if the host the
        // reader is on also selects the target site.
        let same_hosts = target.hosts.is_empty()
            || (!from_hosts.is_empty() && from_hosts.iter().all(|h| target.hosts.contains(h)));
        if same_hosts {
            return path;
        }
        let host = &target.hosts[0];
        match self
            .public_origin
            .as_deref()
            .and_then(|o| o.split_once("://"))
        {
            Some((scheme, _)) => format!("{scheme}://{host}{path}"),
            None => format!("//{host}{path}"),
        }
    }

    /// An absolute form of a mirror path when `server.public_url` is set
    /// (for `og:url`, canonical links and the API); the path itself otherwise.
    pub fn absolute(&self, mirror: &str) -> String {
        match &self.public_origin {
            Some(origin) if mirror.starts_with('/') && !mirror.starts_with("//") => {
                format!("{origin}{mirror}")
            }
            _ => mirror.to_owned(),
        }
    }

    /// Which site serves a request for `host` (the request's host name,
    /// lower-case, without port) and `path_and_query`, and the upstream URL
    /// to fetch. The site with the longest matching mount wins among those
    /// listing `host` and those listing no hosts.
    pub fn route(&self, host: Option<&str>, path_and_query: &str) -> Result<Route, RouteError> {
        let (path, query) = split_query(path_and_query);
        check_path(path)?;
        // When every site is chosen by host name, a request for any other
        // host is not ours at all (RFC 9110 §15.5.20: 421).
        if self.sites.iter().all(|s| !s.hosts.is_empty())
            && !host.is_some_and(|h| self.sites.iter().any(|s| s.hosts.iter().any(|x| x == h)))
        {
            return Err(RouteError::UnknownHost(host.unwrap_or_default().to_owned()));
        }
        let site = self
            .sites
            .iter()
            .filter(|s| s.hosts.is_empty() || host.is_some_and(|h| s.hosts.iter().any(|x| x == h)))
            .filter(|s| path.starts_with(&s.mount) || s.mount.strip_suffix('/') == Some(path))
            .max_by_key(|s| s.mount.len())
            .ok_or(RouteError::NoSite)?;
        let rest = path.get(site.mount.len()..).unwrap_or("");
        let upstream = match upstream_text(&site.upstream, &site.prefix, rest, query) {
            Some(text) => UpstreamUrl(UpstreamRepr::Text(text)),
            None => join_upstream(&site.upstream, &site.prefix, rest, query)?.into(),
        };
        Ok(Route {
            site: site.id,
            upstream,
        })
    }

    /// `/_/asset/<host>/<path>?<query>` (given without the prefix) → the
    /// upstream URL, only for configured asset hosts.
    pub fn asset_target(&self, rest: &str) -> Result<Url, RouteError> {
        let (path, query) = split_query(rest);
        let (host, path) = path.split_once('/').unwrap_or((path, ""));
        let host = host.to_ascii_lowercase();
        if !self.asset_hosts.contains(&host) {
            return Err(RouteError::HostNotAllowed(host));
        }
        check_path(path)?;
        let base = Url::parse(&format!("https://{host}/"))
            .map_err(|_| RouteError::BadPath("invalid host"))?;
        join_upstream(&base, "/", path, query)
    }

    /// `/_/img/<sig>/<b64url>` (given without the prefix) → the image URL,
    /// only when the signature is the one this mirror made for it.
    pub fn image_target(&self, rest: &str) -> Result<Url, RouteError> {
        let signer = self.signer.as_ref().ok_or(RouteError::BadSignature)?;
        let (path, _query) = split_query(rest);
        let (sig, encoded) = path.split_once('/').ok_or(RouteError::BadSignature)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| RouteError::BadPath("the image address is not base64url"))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| RouteError::BadPath("the image address is not UTF-8"))?;
        if !signer.verify(&text, sig) {
            return Err(RouteError::BadSignature);
        }
        let url = Url::parse(&text).map_err(|_| RouteError::BadPath("not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(RouteError::BadPath("not an http(s) URL"));
        }
        Ok(url)
    }

    /// The original (upstream) URL behind a URL given by a user or found in
    /// a rewritten page: a mirror path (page, asset or signed image), an
    /// absolute mirror URL on `public_url`, or an original URL of a mirrored
    /// site. `None` when it belongs to no mirrored site.
    pub fn original_of(&self, host: Option<&str>, url: &str) -> Option<(Option<SiteId>, Url)> {
        let url = url.trim();
        let path = match &self.public_origin {
            Some(origin) => url
                .strip_prefix(origin.as_str())
                .filter(|p| p.starts_with('/')),
            None => None,
        }
        .or_else(|| (url.starts_with('/') && !url.starts_with("//")).then_some(url));
        if let Some(path) = path {
            if let Some(rest) = path.strip_prefix(ASSET_PREFIX) {
                return self.asset_target(rest).ok().map(|u| (None, u));
            }
            if let Some(rest) = path.strip_prefix(IMAGE_PREFIX) {
                return self.image_target(rest).ok().map(|u| (None, u));
            }
            let route = self.route(host, path).ok()?;
            return route
                .upstream
                .into_url()
                .ok()
                .map(|u| (Some(route.site), u));
        }
        let parsed = Url::parse(url).ok()?;
        let h = parsed.host_str()?.to_ascii_lowercase();
        if let Some(site) = self.site_for_url(&h, &parsed) {
            return Some((Some(site.id), parsed));
        }
        // An absolute URL on one of the mirror's own host names (`hosts`).
        // Sites that list no hosts answer any host, but a URL on some other
        // host is not theirs: it is someone else's page.
        if self.sites.iter().any(|s| s.hosts.contains(&h)) {
            let path = &parsed[url::Position::BeforePath..url::Position::AfterQuery];
            return self.original_of(Some(&h), path);
        }
        None
    }
}

/// `https://` or `http://` (any case) stripped.
fn strip_scheme(raw: &str) -> Option<&str> {
    for scheme in ["https://", "http://"] {
        // `get`: the text is page data, and a cut inside a character is no scheme.
        if raw
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        {
            return raw.get(scheme.len()..);
        }
    }
    None
}

/// Whether `rest` (a path starting with '/', then query and fragment) is
/// exactly what the URL standard would serialise for it: only characters it
/// leaves alone in every component, and no dot segments (also
/// percent-encoded ones, which the standard resolves).
fn canonical_rest(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    if bytes.first() != Some(&b'/') {
        return false;
    }
    // One pass: every byte in the set left alone, and no segment of the
    // path (before '?' or '#') starting with '.' or an encoded '.'.
    let mut in_path = true;
    let mut prev = 0u8;
    for (i, &b) in bytes.iter().enumerate() {
        if !URL_PLAIN[usize::from(b)] {
            return false;
        }
        if in_path {
            match b {
                b'?' | b'#' => in_path = false,
                b'.' if prev == b'/' => return false,
                b'%' if bytes.get(i + 1) == Some(&b'2')
                    && matches!(bytes.get(i + 2), Some(b'e' | b'E')) =>
                {
                    return false;
                }
                _ => {}
            }
        }
        prev = b;
    }
    true
}

/// Bytes the URL standard leaves as they are in a path, query and fragment.
static URL_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
                    | b'#'
                    | b'%'
            );
        b += 1;
    }
    t
};

fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (s, None),
    }
}

/// Refuses paths that climb with `..` (also percent-encoded, also with
/// path parameters: `..;x`, which Tomcat and Jetty read as `..`) or carry
/// control characters, backslashes or encoded slashes in dot segments.
fn check_path(path: &str) -> Result<(), RouteError> {
    // One pass over the bytes (this is on every hit's path): control
    // characters and backslashes anywhere, and each segment as it ends.
    let bytes = path.as_bytes();
    let mut start = 0;
    let mut encoded = false;
    for i in 0..=bytes.len() {
        match bytes.get(i) {
            Some(b'/') | None => {
                check_segment(path.get(start..i).unwrap_or(""), encoded)?;
                start = i + 1;
                encoded = false;
            }
            Some(b'%') => encoded = true,
            Some(&b) if b < 0x20 || b == 0x7f || b == b'\\' => {
                return Err(RouteError::BadPath("control characters or backslashes"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// One segment of [`check_path`]; `encoded` when it holds a `%`.
fn check_segment(segment: &str, encoded: bool) -> Result<(), RouteError> {
    const DOTS: RouteError = RouteError::BadPath("dot segments are not allowed");
    if !encoded {
        // Nothing to decode: the common case, without the decoder.
        return if segment.starts_with('.') && is_dot_segment(segment) {
            Err(DOTS)
        } else {
            Ok(())
        };
    }
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    if is_dot_segment(&decoded) {
        return Err(DOTS);
    }
    if decoded.contains(['/', '\\'])
        && decoded
            .split(['/', '\\'])
            .any(|p| p.split(';').next() == Some(".."))
    {
        return Err(DOTS);
    }
    Ok(())
}

/// `.` or `..`, alone or before path parameters (`..;x=1`, `.;`).
fn is_dot_segment(segment: &str) -> bool {
    matches!(segment.split(';').next(), Some("." | ".."))
}

/// What [`join_upstream`] would serialise, made by concatenation, when the
/// parts are already in the URL standard's form ([`canonical_rest`]; no
/// `?` or `#` in the path and no `#` in the query, which the parser would
/// encode); `None` otherwise. The base is a site's upstream: scheme, host
/// and a path, no query or fragment.
fn upstream_text(base: &Url, prefix: &str, rest: &str, query: Option<&str>) -> Option<String> {
    let rest = rest.trim_start_matches('/');
    if prefix.contains(['?', '#'])
        || rest.contains(['?', '#'])
        || query.is_some_and(|q| q.contains('#'))
    {
        return None;
    }
    let origin = &base[..url::Position::BeforePath];
    let query_len = query.map_or(0, |q| q.len() + 1);
    let mut text = String::with_capacity(origin.len() + prefix.len() + rest.len() + query_len);
    text.push_str(origin);
    text.push_str(prefix);
    text.push_str(rest);
    if let Some(q) = query {
        text.push('?');
        text.push_str(q);
    }
    canonical_rest(text.get(origin.len()..).unwrap_or("")).then_some(text)
}

/// upstream origin + prefix + rest (+ ?query), without re-normalising `rest`.
fn join_upstream(
    base: &Url,
    prefix: &str,
    rest: &str,
    query: Option<&str>,
) -> Result<Url, RouteError> {
    // The base's scheme and host are parsed once, at start: only the path
    // and query are parsed per request (by the same parser `Url::parse`
    // uses for them). This is on every hit's path.
    let rest = rest.trim_start_matches('/');
    let mut path = String::with_capacity(prefix.len() + rest.len());
    path.push_str(prefix);
    path.push_str(rest);
    let mut url = base.clone();
    url.set_fragment(None);
    url.set_path(&path);
    url.set_query(query);
    if url.cannot_be_a_base() {
        return Err(RouteError::BadPath("not a valid URL path"));
    }
    Ok(url)
}

fn asset_path(host: &str, url: &Url) -> String {
    asset_path_of(host, &url[url::Position::BeforePath..])
}

/// Mirror path of an asset host's path, query and fragment `rest`.
fn asset_path_of(host: &str, rest: &str) -> String {
    // Leading slashes dropped as in `mirror_path`: `asset_target` drops
    // them, so this is the one mirror path of the asset.
    let rest = rest.trim_start_matches('/');
    let mut path = String::with_capacity(ASSET_PREFIX.len() + host.len() + 1 + rest.len());
    path.push_str(ASSET_PREFIX);
    path.push_str(host);
    path.push('/');
    path.push_str(rest);
    path
}

fn image_path(signer: &ImageSigner, url: &Url) -> String {
    // The fragment never reaches a server: sign and fetch without it.
    let mut url = url.clone();
    url.set_fragment(None);
    let text = url.as_str();
    format!(
        "{IMAGE_PREFIX}{}/{}",
        signer.sign(text),
        URL_SAFE_NO_PAD.encode(text.as_bytes())
    )
}

#[cfg(test)]
mod tests;
