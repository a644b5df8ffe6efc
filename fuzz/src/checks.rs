//! The fuzz targets' bodies: each takes the fuzzer's raw bytes, decodes
//! them into the arguments of one part of newsmirror, runs it and asserts
//! what must hold. A panic (ours or the code's) is a finding.
//!
//! This file is compiled twice: by the fuzz crate (`fuzz/src/lib.rs`) and,
//! through `#[path]`, by `tests/regressions.rs`, so every crasher the
//! fuzzers found is replayed by a plain `cargo test` with the very same
//! checks and no cargo-fuzz. It uses only newsmirror, its dependencies and
//! std.
//!
//! Input layout: a few control bytes first (which site, place, charset,
//! how to cut the input into chunks), the payload after them. A seed is
//! therefore a control prefix followed by a page, a stylesheet or URLs.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use newsmirror::charset::{DocKind, Transcoder, prescan};
use newsmirror::config::Config;
use newsmirror::css::{self, CssRewriter};
use newsmirror::escape::{decode_attr, escape_attr, escape_text};
use newsmirror::html::{PageContext, SiteRules};
use newsmirror::pipeline::Rewrite;
use newsmirror::site::{Site, SiteId};
use newsmirror::url_map::{ASSET_PREFIX, IMAGE_PREFIX, Mapped, Place, UrlMapper, srcset};
use url::Url;

/// The small fixed configuration every target runs against: a site at the
/// mirror's root with aliases, an asset host and proxied images; a second
/// site under `/v/`; a third with an upstream path prefix on its own
/// mirror host name.
pub const CONFIG: &str = r#"
[server]
signing_key = "fuzz-signing-key-0123456789"
[upstream]
max_body_bytes = "16MiB"
[[site]]
name = "u"
upstream = "https://www.u.test"
aliases = ["u.test", "m.u.test"]
mount = "/"
asset_hosts = ["img.u.test"]
proxy_all_images = true
external_links = "mark"
remove = ["script:not([type='application/ld+json'])", ".ad", "iframe"]
nav = [ { label = "Home", href = "/" }, { label = "World & <News>", href = "/world/" } ]
footer = "原文链接：{original_url}"
[[site]]
name = "v"
upstream = "https://www.v.test"
mount = "/v/"
external_links = "unlink"
footer = "Original: {original_url}"
[[site]]
name = "w"
upstream = "https://www.w.test/news/"
mount = "/w/"
hosts = ["w.mirror.test"]
"#;

/// Every upstream host name (and alias) of [`CONFIG`]: none may appear in
/// a URL place of a rewritten page.
pub const UPSTREAM_HOSTS: &[&str] = &["www.u.test", "u.test", "m.u.test", "www.v.test"];
/// The mirror host names of [`CONFIG`] (the `hosts` of its sites).
pub const MIRROR_HOSTS: &[&str] = &["w.mirror.test"];
/// The asset host of [`CONFIG`].
pub const ASSET_HOST: &str = "img.u.test";

/// What the targets share, built once from [`CONFIG`].
pub struct Fixture {
    pub sites: Vec<Arc<Site>>,
    pub rules: Vec<std::sync::Arc<SiteRules>>,
    pub mapper: Arc<UrlMapper>,
    pub limit: u64,
}

/// The fixture (built on first use).
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| fixture_from(CONFIG))
}

/// A fixture from any valid configuration text.
pub fn fixture_from(text: &str) -> Fixture {
    let config = Config::parse(text, "fuzz.toml").expect("the fixed config is valid");
    let sites = Site::all_from(&config).expect("the fixed sites are valid");
    let rules = sites
        .iter()
        .map(|s| {
            std::sync::Arc::new(SiteRules::new(s, "", "").expect("the fixed selectors compile"))
        })
        .collect();
    let mapper = Arc::new(UrlMapper::for_server(&sites, &config.server));
    Fixture {
        sites,
        rules,
        mapper,
        limit: config.upstream.max_body_bytes.get(),
    }
}

/// Page URLs the targets pick from (by a control byte).
pub const PAGES: &[&str] = &[
    "https://www.u.test/news/2026/11/page.html?x=1",
    "https://www.u.test/",
    "https://www.v.test/a/b/",
    "https://www.w.test/news/2024/a.htm",
];

fn site_of_page(i: usize) -> SiteId {
    match i % PAGES.len() {
        0 | 1 => SiteId(0),
        2 => SiteId(1),
        _ => SiteId(2),
    }
}

fn place(b: u8) -> Place {
    match b % 3 {
        0 => Place::Link,
        1 => Place::Image,
        _ => Place::Resource,
    }
}

/// Splits `data` into `n` control bytes (zero-padded) and the payload.
fn split_control<const N: usize>(data: &[u8]) -> ([u8; N], &[u8]) {
    let mut ctl = [0u8; N];
    let n = data.len().min(N);
    ctl[..n].copy_from_slice(&data[..n]);
    (ctl, &data[n..])
}

/// Chunk lengths drawn from two control bytes: the first picks the
/// largest chunk, both seed a xorshift. Now and then a chunk is empty.
pub struct Chunker {
    state: u64,
    max: usize,
}

impl Chunker {
    pub fn new(a: u8, b: u8) -> Self {
        const MAX: [usize; 8] = [1, 2, 3, 7, 16, 64, 500, 4096];
        Chunker {
            state: 0x9E37_79B9_7F4A_7C15
                ^ (u64::from(a) << 8 | u64::from(b)).wrapping_mul(0x2545_F491_4F6C_DD1D),
            max: MAX[usize::from(a & 7)],
        }
    }

    pub fn next_len(&mut self) -> usize {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        if x.is_multiple_of(23) {
            0
        } else {
            1 + (x >> 8) as usize % self.max
        }
    }

    /// `data` cut into pieces (empty ones included).
    pub fn cut<'a>(&mut self, data: &'a [u8]) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let end = (at + self.next_len()).min(data.len());
            out.push(&data[at..end]);
            at = end;
        }
        out
    }

    /// `text` cut into pieces at character boundaries.
    pub fn cut_str<'a>(&mut self, text: &'a str) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let mut end = (at + self.next_len()).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            out.push(&text[at..end]);
            at = end;
        }
        out
    }
}

// ---------------------------------------------------------------------------
// URL mapper
// ---------------------------------------------------------------------------

/// `map` on an arbitrary base, raw URL and place; `route`, `asset_target`,
/// `image_target` and `original_of` on arbitrary paths and hosts.
///
/// Layout: 1 control byte (site, place), then UTF-8 (lossy) fields
/// separated by `\n`: raw URL, base URL, a mirror path, a host.
pub fn url_map(data: &[u8]) {
    let ([flags], rest) = split_control::<1>(data);
    let text = String::from_utf8_lossy(rest);
    let mut fields = text.split('\n');
    let raw = fields.next().unwrap_or("");
    let base_text = fields.next();
    let path = fields.next().unwrap_or(raw);
    let host = fields.next();
    let f = fixture();
    let m = &f.mapper;
    let page = usize::from(flags & 3);
    let site = site_of_page(page);
    let base = base_text
        .and_then(|b| Url::parse(PAGES[page]).ok()?.join(b).ok())
        .unwrap_or_else(|| Url::parse(PAGES[page]).expect("fixed page URL"));
    let place = place(flags >> 2);

    let mapped = m.map(site, &base, raw, place);
    check_mapped(m, site, &base, raw, place, &mapped);

    // Mirror → upstream on arbitrary input: never panics, and never leads
    // anywhere but a configured upstream or asset host.
    for h in [None, host, Some("w.mirror.test")] {
        if let Ok(r) = m.route(h, path) {
            let s = &f.sites[r.site.0];
            let text = r.upstream.as_str().to_owned();
            let upstream = r
                .upstream
                .into_url()
                .unwrap_or_else(|e| panic!("route({path:?}) made {text:?}, not a URL: {e}"));
            assert_eq!(
                upstream.as_str(),
                text,
                "route({path:?}): text and URL differ"
            );
            assert_eq!(
                upstream.host_str(),
                s.upstream.host_str(),
                "route({h:?}, {path:?}) left the site's upstream: {upstream}"
            );
            assert!(
                upstream.path().starts_with(s.upstream.path()),
                "route({path:?}) left the upstream prefix: {upstream}"
            );
        }
        let _ = m.original_of(h, path);
    }
    if let Ok(u) = m.asset_target(path) {
        assert_eq!(
            u.host_str(),
            Some(ASSET_HOST),
            "asset_target({path:?}) = {u}"
        );
    }
    if let Ok(u) = m.image_target(path) {
        // Only a URL this mirror signed can come out: the path must be
        // exactly what the mapper writes for it.
        let again = m.map_url(SiteId(0), &u, Place::Image);
        assert_eq!(
            again,
            Mapped::Mirror(format!(
                "{IMAGE_PREFIX}{}",
                path.split('?').next().unwrap_or("")
            )),
            "image_target({path:?}) accepted a path the mapper did not write"
        );
    }
    let _ = m.absolute(path);
}

/// What must hold of one `map` answer.
pub fn check_mapped(
    m: &UrlMapper,
    site: SiteId,
    base: &Url,
    raw: &str,
    place: Place,
    mapped: &Mapped,
) {
    let Mapped::Mirror(p) = mapped else {
        if let Mapped::External(u) = mapped {
            assert!(matches!(u.scheme(), "http" | "https"));
        }
        return;
    };
    // A mirror URL is root-relative or protocol-relative (no public_url
    // here), and nothing in it can end an attribute or a CSS string.
    assert!(p.starts_with('/'), "map({raw:?}) = {p:?}");
    assert!(
        !p.contains(|c: char| c.is_ascii_whitespace()
            || c.is_control()
            || matches!(c, '"' | '<' | '>')),
        "map({raw:?}) = {p:?} has a character that breaks out of markup"
    );
    // Browsers read `\` as `/` in http(s) URLs: `/\host` is another host.
    assert!(!p.starts_with("/\\"), "map({raw:?}) = {p:?}");
    let Ok(url) = base.join(raw.trim_matches(|c: char| c.is_ascii_whitespace())) else {
        panic!("map({raw:?}) gave {p:?} for a URL that does not parse");
    };
    // What a browser asks for: the mirror URL without its fragment.
    let request = p.split('#').next().unwrap_or("");
    let want = without_fragment(&url);
    let upstream_host = url
        .host_str()
        .is_some_and(|h| UPSTREAM_HOSTS.contains(&h) || h == "www.w.test");
    if upstream_host && request.starts_with("/_/") {
        // An upstream page under `/_/` of the site mounted at `/`: the
        // mirror's own routes shadow it (like another site's mount would).
        return;
    }
    if let Some(rest) = request.strip_prefix(ASSET_PREFIX) {
        let got = m
            .asset_target(rest)
            .unwrap_or_else(|e| panic!("asset {p:?}: {e}"));
        assert_eq!(got.host_str(), url.host_str(), "asset {p:?}");
        // The asset route collapses leading slashes of the path, like the page route.
        // Assets are fetched over https (or as `[upstream.origins]` says).
        let at = |u: &Url| u[..url::Position::BeforePath].len();
        assert_eq!(
            collapse(&got)[at(&got)..],
            collapse(&want)[at(&want)..],
            "asset {p:?} for {url}"
        );
        return;
    }
    if let Some(rest) = request.strip_prefix(IMAGE_PREFIX) {
        assert_eq!(place, Place::Image, "only images are signed: {raw:?}");
        let got = m
            .image_target(rest)
            .unwrap_or_else(|e| panic!("image {p:?}: {e}"));
        assert_eq!(got.as_str(), want.as_str(), "image {p:?}");
        let (_, orig) = m
            .original_of(None, request)
            .expect("original_of a signed image");
        assert_eq!(orig.as_str(), want.as_str());
        return;
    }
    // A page of a mirrored site: on another mirror host, or root-relative.
    let (host, path) = match request.strip_prefix("//") {
        Some(hp) => {
            let (h, path) = hp.split_at(hp.find('/').unwrap_or(hp.len()));
            (Some(h), path)
        }
        None => (None, request),
    };
    // `//host/...` only for a mirror host name of the configuration.
    if let Some(h) = host {
        assert!(
            MIRROR_HOSTS.contains(&h),
            "map({raw:?}) = {p:?}: a mirror path that a browser reads as host {h:?}"
        );
    }
    let _ = site;
    match m.route(host, path) {
        Ok(r) => {
            // The site whose upstream serves the URL (hosts and aliases).
            let owner = fixture().sites.iter().find(|s| {
                url.host_str()
                    .is_some_and(|h| s.upstream_hosts.iter().any(|x| x == h))
                    && url.path().starts_with(s.upstream.path())
            });
            let Some(owner) = owner else {
                panic!("map({raw:?}) = {p:?} for a URL of no site");
            };
            if r.site != owner.id {
                // The path lies under another site's longer mount (`/v/...` of
                // the site at `/`): a configuration overlap, not a mapping error.
                return;
            }
            let routed = r
                .upstream
                .into_url()
                .unwrap_or_else(|e| panic!("route({path:?}) made no URL: {e}"));
            assert_eq!(routed.host_str(), owner.upstream.host_str());
            assert_eq!(
                collapse(&routed)[routed[..url::Position::BeforePath].len()..],
                collapse(&want)[want[..url::Position::BeforePath].len()..],
                "route({host:?}, {path:?}) for {url}"
            );
        }
        // Encoded dot segments (`a%2f..%2fb`) are refused by the router.
        Err(newsmirror::url_map::RouteError::BadPath(_)) => {}
        Err(e) => panic!("map({raw:?}) = {p:?}, which does not route: {e}"),
    }
}

fn without_fragment(u: &Url) -> Url {
    let mut u = u.clone();
    u.set_fragment(None);
    u
}

/// The URL with runs of `/` at the start of its path collapsed (the router
/// does that: `//a` on the mirror is `/a` upstream).
fn collapse(u: &Url) -> String {
    let s = u.as_str();
    let at = u[..url::Position::BeforePath].len();
    let (head, tail) = s.split_at(at);
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, after) = tail.split_at(path_end);
    let mut p = String::new();
    let mut prev_slash = false;
    for c in path.chars() {
        if c == '/' && prev_slash {
            continue;
        }
        prev_slash = c == '/';
        p.push(c);
    }
    format!("{head}{p}{after}")
}

// ---------------------------------------------------------------------------
// srcset
// ---------------------------------------------------------------------------

/// Layout: 1 control byte (page, which mapper), then the srcset value.
/// Parsing never panics, rewriting keeps every candidate and descriptor,
/// and what it writes parses back to the same candidates.
pub fn srcset(data: &[u8]) {
    let ([flags], rest) = split_control::<1>(data);
    let value = String::from_utf8_lossy(rest);
    let f = fixture();
    let page = usize::from(flags & 3);
    let base = Url::parse(PAGES[page]).expect("fixed page URL");
    let site = site_of_page(page);
    let candidates = srcset::parse(&value);
    for c in &candidates {
        assert!(!c.url.is_empty(), "empty candidate URL in {value:?}");
        assert!(!c.url.contains(|c: char| c.is_ascii_whitespace()));
    }
    // What each candidate's URL must read as in the output.
    let mut expected = Vec::new();
    let out = srcset::rewrite(&value, |u| {
        let r = if flags & 4 == 0 {
            f.mapper
                .map(site, &base, u, Place::Image)
                .into_replacement()
        } else {
            // A mapper that answers with commas, the hard case.
            Some(format!("/x,{},", u.len()))
        };
        expected.push(match &r {
            Some(m) => {
                let trimmed = m.trim_end_matches(',');
                format!("{trimmed}{}", "%2C".repeat(m.len() - trimmed.len()))
            }
            None => u.to_owned(),
        });
        r
    });
    assert_eq!(expected.len(), candidates.len());
    let Some(out) = out else {
        assert!(expected.iter().zip(&candidates).all(|(e, c)| e == c.url));
        return;
    };
    let again = srcset::parse(&out);
    assert_eq!(again.len(), candidates.len(), "{value:?} → {out:?}");
    for ((a, c), e) in again.iter().zip(&candidates).zip(&expected) {
        assert_eq!(a.descriptor, c.descriptor, "{value:?} → {out:?}");
        assert_eq!(a.url, e, "{value:?} → {out:?}");
    }
}

// ---------------------------------------------------------------------------
// CSS
// ---------------------------------------------------------------------------

fn css_map_for(flags: u8) -> impl FnMut(&str, Place) -> Option<String> {
    let f = fixture();
    let page = usize::from(flags & 3);
    let base = Url::parse(PAGES[page]).expect("fixed page URL");
    let site = site_of_page(page);
    let tagged = flags & 4 != 0;
    move |u: &str, p: Place| {
        if tagged {
            // Echo the URL (quotes, backslashes, newlines and all) to test
            // that what is written is read back as the same URL.
            Some(format!("/M[{p:?}]{u}"))
        } else {
            f.mapper.map(site, &base, u, p).into_replacement()
        }
    }
}

/// Layout: 3 control bytes (mapper, chunking), then the stylesheet.
/// `CssRewriter` fed in any chunking writes exactly what `rewrite_all` does.
pub fn css(data: &[u8]) {
    let ([flags, a, b], rest) = split_control::<3>(data);
    let text = String::from_utf8_lossy(rest);
    let mut map = css_map_for(flags);
    let whole = css::rewrite_all(&text, &mut map).unwrap_or_else(|| text.clone().into_owned());
    let mut r = CssRewriter::new();
    let mut out = String::new();
    for piece in Chunker::new(a, b).cut_str(&text) {
        r.feed(piece, &mut map, &mut out);
    }
    r.finish(&mut map, &mut out);
    assert_eq!(out, whole, "chunked CSS differs from whole for {text:?}");
    // Nothing of the input is lost when no URL is mapped.
    let mut none = |_: &str, _: Place| None;
    assert_eq!(css::rewrite_all(&text, &mut none), None);
    let mut r = CssRewriter::new();
    let mut out = String::new();
    r.feed(&text, &mut none, &mut out);
    r.finish(&mut none, &mut out);
    assert_eq!(out, text, "CSS without mapped URLs changed");
}

// ---------------------------------------------------------------------------
// charset
// ---------------------------------------------------------------------------

/// `Content-Type` charsets the target picks from.
pub const CHARSETS: &[Option<&str>] = &[
    None,
    None,
    None,
    None,
    Some("utf-8"),
    Some("gbk"),
    Some("shift_jis"),
    Some("iso-2022-jp"),
    Some("utf-16le"),
    Some("utf-16be"),
    Some("windows-1252"),
    Some("x-user-defined"),
    Some("iso-2022-kr"),
    Some("big5"),
    Some("euc-kr"),
    Some("no-such-charset"),
];

const HOSTS: &[Option<&str>] = &[None, Some("www.u.test"), Some("www.x.com.tw"), Some("a.jp")];

/// Layout: 3 control bytes (kind, charset, host, chunking), then the body.
/// Never panics; the output is UTF-8 for CSS (it is cut into `&str`) and
/// for HTML whenever the input is; for both, chunking changes nothing.
pub fn charset(data: &[u8]) {
    let ([flags, a, b], body) = split_control::<3>(data);
    let kind = match (flags & 1, flags & 0x80) {
        (0, _) => DocKind::Html,
        (_, 0) => DocKind::Css,
        _ => DocKind::Xml,
    };
    let header = CHARSETS[usize::from(flags >> 1) % CHARSETS.len()];
    let host = HOSTS[usize::from(flags >> 5) % HOSTS.len()];
    let _ = prescan(body);

    let mut t = Transcoder::new(kind, header, host);
    let mut whole = Vec::new();
    t.push(body, &mut whole);
    t.finish(&mut whole);
    let whole_enc = t.encoding();

    let mut t = Transcoder::new(kind, header, host);
    let mut chunked = Vec::new();
    for piece in Chunker::new(a, b).cut(body) {
        t.push(piece, &mut chunked);
    }
    t.finish(&mut chunked);
    assert_eq!(
        t.encoding().map(|e| e.name()),
        whole_enc.map(|e| e.name()),
        "chunking changed the encoding ({kind:?}, header {header:?})"
    );
    if kind != DocKind::Html || std::str::from_utf8(body).is_ok() && header.is_none() {
        assert!(
            std::str::from_utf8(&chunked).is_ok(),
            "{kind:?} output is not UTF-8 (header {header:?})"
        );
    }
    assert!(
        chunked == whole,
        "chunking changed the output ({kind:?}, header {header:?}, {:?}):\n whole   {:?}\n chunked {:?}",
        whole_enc.map(|e| e.name()),
        String::from_utf8_lossy(&whole),
        String::from_utf8_lossy(&chunked)
    );
}

// ---------------------------------------------------------------------------
// escaping
// ---------------------------------------------------------------------------

/// Layout: the text. `decode_attr(escape_attr(s)) == s`; what `escape_attr`
/// writes has no quote or angle bracket; decoding never panics.
pub fn escape(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let escaped = escape_attr(&s);
    assert!(
        !escaped.contains(['"', '\'', '<', '>']),
        "escape_attr({s:?}) = {escaped:?}"
    );
    assert_eq!(decode_attr(&escaped), s, "escape_attr({s:?}) = {escaped:?}");
    let text = escape_text(&s);
    assert!(!text.contains(['<', '>']));
    let decoded = decode_attr(&s);
    // Decoding only ever shortens (every reference is longer than what it means,
    // counted in bytes: at most 4 bytes for one character of at least 4).
    assert!(
        decoded.len() <= s.len() + 2 * s.matches('&').count(),
        "{s:?} → {decoded:?}"
    );
    // Escaping what was decoded and decoding again is stable.
    let once = escape_attr(&decoded).into_owned();
    assert_eq!(decode_attr(&once), decoded);
}

// ---------------------------------------------------------------------------
// the whole rewrite pipeline
// ---------------------------------------------------------------------------

/// Runs the pipeline over `pieces`; the output, or the error's text.
pub fn run_pipeline<'a>(
    kind: DocKind,
    page: usize,
    charset: Option<&str>,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, String> {
    let f = fixture();
    let page_url = Url::parse(PAGES[page % PAGES.len()]).expect("fixed page URL");
    let site = f.sites[site_of_page(page).0].clone();
    let rules = &f.rules[site.id.0];
    let ctx = PageContext::new(f.mapper.clone(), site, page_url);
    let mut rewrite = match kind {
        DocKind::Html => Rewrite::html(ctx, rules, charset, f.limit),
        DocKind::Css => Rewrite::css(ctx, charset, f.limit),
        DocKind::Xml => Rewrite::feed(ctx, rules, charset, f.limit),
    };
    let mut out = Vec::new();
    for piece in pieces {
        rewrite.push(piece, &mut out).map_err(|e| e.to_string())?;
    }
    rewrite.finish(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Layout: 3 control bytes (kind, page, charset, chunking), then the body.
/// `Rewrite::html` / `Rewrite::css` never panic, and chunking does not
/// change the output.
pub fn pipeline(data: &[u8]) {
    let ([flags, a, b], body) = split_control::<3>(data);
    let kind = match (flags & 1, flags & 0x80) {
        (0, _) => DocKind::Html,
        (_, 0) => DocKind::Css,
        _ => DocKind::Xml,
    };
    let page = usize::from(flags >> 1) & 3;
    let charset = CHARSETS[usize::from(flags >> 3) % CHARSETS.len()];
    let whole = run_pipeline(kind, page, charset, [body]);
    let chunked = run_pipeline(kind, page, charset, Chunker::new(a, b).cut(body));
    if matches!(kind, DocKind::Css | DocKind::Xml)
        && let Ok(out) = &whole
    {
        assert!(
            std::str::from_utf8(out).is_ok(),
            "{kind:?} output is not UTF-8"
        );
    }
    assert!(
        whole == chunked,
        "chunking changed the output ({kind:?}, page {page}, charset {charset:?}):\n whole   {:?}\n chunked {:?}",
        whole.as_ref().map(|o| String::from_utf8_lossy(o)),
        chunked.as_ref().map(|o| String::from_utf8_lossy(o)),
    );
}
