//! Properties of the URL mapper, escaping, the CSS rewriter and the whole
//! HTML rewrite, checked with proptest over generated URLs, strings,
//! stylesheets and pages, against the fuzz targets' fixed configuration
//! (`fuzz/src/checks.rs`: site `u` at `/` with aliases, asset host and
//! proxied images; site `v` at `/v/`; site `w` under an upstream prefix on
//! its own mirror host name).
//!
//! Case counts are modest so that `cargo test` stays fast; set
//! `PROPTEST_CASES` to run more (e.g. `PROPTEST_CASES=5000 cargo test --test properties`).

#[path = "../fuzz/src/checks.rs"]
mod checks;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use lol_html::{RewriteStrSettings, element, rewrite_str, text};
use newsmirror::charset::DocKind;
use newsmirror::css::{self, CssRewriter};
use newsmirror::escape::{decode_attr, escape_attr};
use newsmirror::site::SiteId;
use newsmirror::url_map::{ASSET_PREFIX, IMAGE_PREFIX, Mapped, Place, UrlMapper};
use proptest::prelude::*;
use url::Url;

const U: SiteId = SiteId(0);

/// `cases` unless `PROPTEST_CASES` says otherwise.
fn cases(cases: u32) -> ProptestConfig {
    let config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        config
    } else {
        ProptestConfig { cases, ..config }
    }
}

fn mapper() -> &'static UrlMapper {
    &checks::fixture().mapper
}

fn page() -> Url {
    Url::parse(checks::PAGES[0]).expect("page URL")
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/// One path segment: URL-safe characters, and some that need encoding.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9_~!$'()*+,;=:@-]{1,8}",
        1 => Just("中文".to_owned()),
        1 => Just("a b".to_owned()),
        1 => Just("%E4%B8%AD".to_owned()),
        1 => Just("x.y".to_owned()),
        1 => Just("a\"b<c>".to_owned()),
        1 => Just("é`{}|^".to_owned()),
        // An empty segment: `//` in the path (at its start, the case that
        // once became a protocol-relative `//host/...` mirror URL).
        1 => Just(String::new()),
    ]
}

/// `/seg/seg...` (maybe with a trailing slash), `?query`, `#fragment`.
fn path_query_fragment() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(segment(), 0..5),
        any::<bool>(),
        prop::option::of("[a-zA-Z0-9=&%+/:.,中-]{0,12}"),
        prop::option::of("[a-z0-9]{0,6}"),
    )
        .prop_map(|(segments, slash, query, fragment)| {
            let mut s = format!("/{}", segments.join("/"));
            if slash && !segments.is_empty() {
                s.push('/');
            }
            if let Some(q) = query {
                s.push('?');
                s.push_str(&q);
            }
            if let Some(f) = fragment {
                s.push('#');
                s.push_str(&f);
            }
            s
        })
}

/// Ways of writing an http(s) origin of `host`.
fn origin_of(host: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        Just(format!("https://{host}")),
        Just(format!("http://{host}")),
        Just(format!("HTTPS://{}", host.to_ascii_uppercase())),
        Just(format!("//{host}")),
        Just(format!("https://{host}:443")),
    ]
}

fn u_origin() -> impl Strategy<Value = String> {
    prop_oneof![
        origin_of("www.u.test"),
        origin_of("u.test"),
        origin_of("m.u.test")
    ]
}

/// A path the site at `/` owns: not under `/v/` (site v) or `/_/` (the mirror's own routes).
fn own_path() -> impl Strategy<Value = String> {
    path_query_fragment().prop_filter("shadowed by another mount", |p| {
        // The mirror drops the slashes that start a path (`//v` is `/v`
        // there), so a path shadowed after that is shadowed too.
        let p = &format!("/{}", p.trim_start_matches('/'));
        !(p.starts_with("/v/") || p == "/v" || p.starts_with("/v?") || p.starts_with("/v#"))
            && !(p.starts_with("/_/") || p == "/_" || p.starts_with("/_?") || p.starts_with("/_#"))
    })
}

/// A host the configuration knows nothing of.
fn other_host() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}\\.(com|org|test|net)".prop_filter("a configured host", |h| {
        !(h.ends_with("u.test") || h.ends_with("v.test") || h.ends_with("w.test"))
    })
}

fn strip_fragment(s: &str) -> &str {
    s.split('#').next().unwrap_or("")
}

fn no_fragment(u: &Url) -> Url {
    let mut u = u.clone();
    u.set_fragment(None);
    u
}

/// `origin_and_prefix` + the path and query of `url` after `prefix`, with
/// the slashes that start the rest dropped, as the mirror's routes do
/// (`/a//b` keeps its `//`, `//a` on the mirror is `/a` upstream).
fn routed(url: &Url, prefix: &str, origin_and_prefix: &str) -> String {
    let pq = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let rest = pq.strip_prefix(prefix).expect("under the prefix");
    format!("{origin_and_prefix}{}", rest.trim_start_matches('/'))
}

/// The upstream URL of site `u` that `url` (on an alias, over http, ...) means.
fn canonical_u(url: &Url) -> String {
    routed(url, "/", "https://www.u.test/")
}

// ---------------------------------------------------------------------------
// The mapper: what it writes routes back to what it read
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(256))]

    /// A page URL of site `u`, written any way (alias host, http, upper
    /// case, `//`, root-relative, default port): its mirror path routes
    /// back to the upstream URL; `original_of` agrees; mapping that
    /// upstream URL again gives the same mirror path (idempotent).
    #[test]
    fn page_urls_route_back_to_their_upstream_url(
        origin in prop_oneof![u_origin(), Just(String::new())],
        path in own_path(),
        place in prop_oneof![Just(Place::Link), Just(Place::Image), Just(Place::Resource)],
    ) {
        // Without an origin, `//...` is another host.
        prop_assume!(!(origin.is_empty() && path.starts_with("//")));
        let raw = format!("{origin}{path}");
        let url = page().join(&raw).expect("valid URL");
        let Mapped::Mirror(p) = mapper().map(U, &page(), &raw, place) else {
            panic!("{raw:?} is not mapped");
        };
        prop_assert!(p.starts_with('/') && !p.starts_with("//"), "{raw:?} → {p:?}");
        let request = strip_fragment(&p);
        let route = mapper().route(None, request).expect("routes");
        prop_assert_eq!(route.site, U);
        prop_assert_eq!(route.upstream.as_str(), canonical_u(&url));
        let (site, original) = mapper().original_of(None, request).expect("original_of");
        prop_assert_eq!(site, Some(U));
        prop_assert_eq!(original.as_str(), canonical_u(&url));
        // map(route(p).upstream) == p.
        prop_assert_eq!(
            mapper().map(U, &page(), route.upstream.as_str(), place),
            Mapped::Mirror(request.to_owned())
        );
        // And a mirror path is never read as the reader's own upstream URL.
        prop_assert!(!p.contains("//www.u.test"));
    }

    /// A URL of site `w` (upstream prefix `/news/`, own mirror host) on a
    /// page of `u` becomes `//w.mirror.test/w/...`, which routes back on that host.
    #[test]
    fn other_site_urls_route_back_on_their_host(path in path_query_fragment()) {
        let raw = format!("https://www.w.test/news{path}");
        let url = Url::parse(&raw).expect("valid URL");
        let Mapped::Mirror(p) = mapper().map(U, &page(), &raw, Place::Link) else {
            panic!("{raw:?} is not mapped");
        };
        let rest = p.strip_prefix("//w.mirror.test/w/").expect("on w's host and mount");
        let route = mapper()
            .route(Some("w.mirror.test"), &format!("/w/{}", strip_fragment(rest)))
            .expect("routes");
        prop_assert_eq!(route.site, SiteId(2));
        prop_assert_eq!(route.upstream.as_str(), routed(&url, "/news/", "https://www.w.test/news/"));
    }

    /// An asset host URL maps to `/_/asset/<host>/...`, and `asset_target`
    /// and `original_of` give the URL back (over https).
    #[test]
    fn asset_urls_route_back_to_the_asset(
        origin in origin_of(checks::ASSET_HOST),
        path in path_query_fragment(),
        place in prop_oneof![Just(Place::Link), Just(Place::Image), Just(Place::Resource)],
    ) {
        let raw = format!("{origin}{path}");
        let url = page().join(&raw).expect("valid URL");
        let Mapped::Mirror(p) = mapper().map(U, &page(), &raw, place) else {
            panic!("{raw:?} is not mapped");
        };
        let request = strip_fragment(&p);
        let rest = request.strip_prefix(ASSET_PREFIX).expect("asset route");
        let want = routed(&url, "/", &format!("https://{}/", checks::ASSET_HOST));
        let target = mapper().asset_target(rest).expect("asset");
        prop_assert_eq!(target.as_str(), &want);
        let (site, original) = mapper().original_of(None, request).expect("original_of");
        prop_assert_eq!(site, None);
        prop_assert_eq!(original.as_str(), &want);
        prop_assert_eq!(
            mapper().map(U, &page(), &want, place),
            Mapped::Mirror(request.to_owned())
        );
    }

    /// An image on any other host becomes a signed `/_/img/` URL that
    /// `image_target` and `original_of` accept and turn back into the URL;
    /// as a link it stays external.
    #[test]
    fn signed_image_urls_route_back_to_the_image(
        host in other_host(),
        https in any::<bool>(),
        path in path_query_fragment(),
    ) {
        let raw = format!("{}://{host}{path}", if https { "https" } else { "http" });
        let url = Url::parse(&raw).expect("valid URL");
        let Mapped::Mirror(p) = mapper().map(U, &page(), &raw, Place::Image) else {
            panic!("{raw:?} is not proxied");
        };
        let rest = p.strip_prefix(IMAGE_PREFIX).expect("image route");
        prop_assert!(!rest.contains(['#', '?']), "{p:?}");
        prop_assert_eq!(mapper().image_target(rest).expect("signed"), no_fragment(&url));
        let (_, original) = mapper().original_of(None, &p).expect("original_of");
        prop_assert_eq!(original, no_fragment(&url));
        prop_assert!(matches!(mapper().map(U, &page(), &raw, Place::Link), Mapped::External(_)));
    }

    /// Whatever the input, a mirror URL has nothing that ends an attribute
    /// or a tag, starts with `/`, and is never a `javascript:` URL; escaped
    /// for an attribute it has no quote or `<` at all.
    #[test]
    fn mapped_urls_cannot_break_out_of_an_attribute(
        raw in prop_oneof![
            any::<String>(),
            "(https?:)?(//)?(www\\.u\\.test|img\\.u\\.test|x\\.com)?(/|[a-z\"'<> &#;:%]){0,20}",
            "(javascript|java\tscript|javascript%3A|jav&#x61;script)[:a-z()]{0,8}",
        ],
        place in prop_oneof![Just(Place::Link), Just(Place::Image), Just(Place::Resource)],
    ) {
        let decoded = decode_attr(&raw);
        if let Mapped::Mirror(p) = mapper().map(U, &page(), &decoded, place) {
            prop_assert!(p.starts_with('/'), "{raw:?} → {p:?}");
            prop_assert!(!p.contains(['"', '<', '>', ' ', '\n', '\t']), "{raw:?} → {p:?}");
            let escaped = escape_attr(&p);
            prop_assert!(!escaped.contains(['"', '\'', '<', '>']));
            prop_assert_eq!(decode_attr(&escaped), p.as_str());
        }
    }
}

// ---------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(512))]

    /// `decode_attr(escape_attr(s)) == s`, for any text and for text made
    /// of reference-like pieces.
    #[test]
    fn escaping_an_attribute_round_trips(
        s in prop_oneof![any::<String>(), "(&|#|x|;|amp|quot|lt|[0-9]|[a-f]|\"|'|<|>|€)*"],
    ) {
        let escaped = escape_attr(&s);
        prop_assert!(!escaped.contains(['"', '\'', '<', '>']), "{escaped:?}");
        prop_assert_eq!(decode_attr(&escaped), s.as_str());
    }
}

// ---------------------------------------------------------------------------
// CSS
// ---------------------------------------------------------------------------

/// Stylesheets made of the tokens the rewriter cares about.
fn stylesheet() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("url("),
            Just("URL( "),
            Just(")"),
            Just("'"),
            Just("\""),
            Just("\\"),
            Just("/*"),
            Just("*/"),
            Just("@import "),
            Just("image-set("),
            Just("-webkit-image-set("),
            Just("a.png"),
            Just("https://www.u.test/x.png"),
            Just("//img.u.test/i.jpg"),
            Just("https://cdn.other.test/c.jpg"),
            Just("data:image/png;base64,AA=="),
            Just(" "),
            Just("\n"),
            Just("{"),
            Just("}"),
            Just(";"),
            Just(":"),
            Just(","),
            Just("u"),
            Just("r"),
            Just("l"),
            Just("("),
            Just("é"),
            Just("中"),
            Just("\\75rl("),
            Just(".a{background:"),
            Just("1x"),
            Just("x"),
        ],
        0..40,
    )
    .prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(cases(256))]

    /// `CssRewriter` fed in any chunking writes what `rewrite_all` writes.
    #[test]
    fn css_rewriting_does_not_depend_on_chunking(
        css_text in stylesheet(),
        sizes in prop::collection::vec(1usize..24, 1..12),
        empty_feeds in any::<bool>(),
    ) {
        let base = page();
        let mut map = |u: &str, p: Place| mapper().map(U, &base, u, p).into_replacement();
        let whole = css::rewrite_all(&css_text, &mut map).unwrap_or_else(|| css_text.clone());
        let mut r = CssRewriter::new();
        let mut out = String::new();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at >= css_text.len() {
                break;
            }
            let mut end = (at + size).min(css_text.len());
            while !css_text.is_char_boundary(end) {
                end += 1;
            }
            r.feed(&css_text[at..end], &mut map, &mut out);
            if empty_feeds {
                r.feed("", &mut map, &mut out);
            }
            at = end;
        }
        r.finish(&mut map, &mut out);
        prop_assert_eq!(out, whole);
    }
}

// ---------------------------------------------------------------------------
// The whole HTML rewrite: generated pages
// ---------------------------------------------------------------------------

/// A URL as written in a page: on the upstream host, an alias, the asset
/// host, another image host, site v, relative, near-`javascript:`.
fn page_url() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (u_origin(), own_path()).prop_map(|(o, p)| format!("{o}{p}")),
        1 => (origin_of("www.v.test"), path_query_fragment()).prop_map(|(o, p)| format!("{o}{p}")),
        1 => (origin_of(checks::ASSET_HOST), path_query_fragment()).prop_map(|(o, p)| format!("{o}{p}")),
        1 => path_query_fragment().prop_map(|p| format!("https://cdn.other.test{p}")),
        1 => own_path().prop_map(|p| format!("  https://www.u.test{p}\n")),
        1 => own_path().prop_map(|p| p.trim_start_matches('/').to_owned()),
        1 => Just("https://www.u.test/a?x=1&amp;y=2".to_owned()),
        1 => Just("javascript%3Aalert(1)".to_owned()),
        1 => Just("java script:alert(1)".to_owned()),
        1 => Just("#top".to_owned()),
    ]
}

/// An attribute value as written in markup: `"` and `&` as references.
fn attr(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;")
}

/// A CSS string: quoted, with what would end it (or the `<style>`) escaped.
fn css_string(value: &str) -> String {
    let mut s = String::from("'");
    for c in value.chars() {
        match c {
            '\'' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\a "),
            '<' => s.push_str("\\3c "),
            c => s.push(c),
        }
    }
    s.push('\'');
    s
}

/// A URL as a srcset candidate: whitespace ends a candidate's URL, so a
/// page writes it encoded (a raw space would make the rest a descriptor,
/// which browsers do not load).
fn candidate(url: &str) -> String {
    url.trim().replace(' ', "%20")
}

/// One element with URLs in one URL place, marked `data-k="k"`.
fn element_markup(kind: usize, k: usize, a: &str, b: &str) -> String {
    let (a_attr, b_attr) = (attr(a), attr(b));
    match kind % 17 {
        0 => format!("<a href=\"{a_attr}\" data-k=\"{k}\">link</a>"),
        1 => format!("<img src=\"{a_attr}\" data-k=\"{k}\">"),
        2 => format!(
            "<img srcset=\"{} 1x, {} 2x\" data-k=\"{k}\">",
            attr(&candidate(a)),
            attr(&candidate(b))
        ),
        3 => format!(
            "<img data-src=\"{a_attr}\" data-srcset=\"{} 480w\" data-k=\"{k}\">",
            attr(&candidate(b))
        ),
        4 => format!("<video poster=\"{a_attr}\" src=\"{b_attr}\" data-k=\"{k}\"></video>"),
        5 => format!(
            "<form action=\"{a_attr}\" data-k=\"{k}\"><button formaction=\"{b_attr}\">go</button></form>"
        ),
        6 => format!(
            "<div style=\"{}\" data-k=\"{k}\">s</div>",
            attr(&format!(
                "background:url({}) ;border-image:url({})",
                css_string(a),
                css_string(b)
            ))
        ),
        7 => format!(
            "<style>.c{k}{{background:url({})}} .d{{background:image-set({} 1x)}}</style>",
            css_string(a),
            css_string(b)
        ),
        8 => format!("<style>@import {};</style>", css_string(a)),
        9 => format!("<meta http-equiv=\"refresh\" content=\"5; url={a_attr}\" data-k=\"{k}\">"),
        10 => format!("<meta property=\"og:image\" content=\"{a_attr}\" data-k=\"{k}\">"),
        11 => format!("<link rel=\"stylesheet\" href=\"{a_attr}\" data-k=\"{k}\">"),
        12 => format!("<link rel=\"icon\" href=\"{a_attr}\" data-k=\"{k}\">"),
        13 => format!(
            "<link rel=\"preload\" as=\"image\" href=\"{a_attr}\" imagesrcset=\"{} 2x\" data-k=\"{k}\">",
            attr(&candidate(b))
        ),
        14 => format!(
            "<picture><source srcset=\"{}\" data-k=\"{k}\"></picture>",
            attr(&candidate(a))
        ),
        15 => format!("<object data=\"{a_attr}\" data-k=\"{k}\"></object>"),
        _ => format!("<div background=\"{a_attr}\" data-src=\"{b_attr}\" data-k=\"{k}\">b</div>"),
    }
}

fn generated_page() -> impl Strategy<Value = String> {
    prop::collection::vec((0usize..17, page_url(), page_url()), 1..12).prop_map(|elements| {
        let mut head = String::from("<!doctype html><html><head><title>t</title>");
        let mut body = String::from("</head><body><p>text</p>");
        for (k, (kind, a, b)) in elements.iter().enumerate() {
            let markup = element_markup(*kind, k, a, b);
            if markup.starts_with("<meta") || markup.starts_with("<link") {
                head.push_str(&markup);
            } else {
                body.push_str(&markup);
            }
        }
        format!("{head}{body}</body></html>")
    })
}

/// Attributes that hold URLs (or CSS with URLs) in what the rewriter handles.
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "srcset",
    "data-src",
    "data-srcset",
    "data-original",
    "data-lazy-src",
    "poster",
    "background",
    "action",
    "formaction",
    "data",
    "imagesrcset",
    "style",
    "content",
];

/// What a page says in its URL places, as parsed by lol_html.
#[derive(Default, Debug)]
struct Scan {
    /// (tag, attribute, value with references decoded)
    urls: Vec<(String, String, String)>,
    /// `<style>` text.
    style: String,
    /// `data-k` → (tag, attribute names).
    keyed: BTreeMap<String, (String, BTreeSet<String>)>,
}

fn scan(html: &str) -> Scan {
    let found = RefCell::new(Scan::default());
    let footer = page().to_string();
    let result = rewrite_str(
        html,
        RewriteStrSettings::new()
            .append_element_content_handler(element!("*", |el| {
                let tag = el.tag_name();
                let mut f = found.borrow_mut();
                let is_footer_link = el.get_attribute("rel").as_deref()
                    == Some("nofollow noopener")
                    && el
                        .get_attribute("href")
                        .is_some_and(|h| decode_attr(&h) == footer);
                for a in el.attributes() {
                    let name = a.name();
                    if URL_ATTRS.contains(&name.as_str()) && !is_footer_link {
                        f.urls.push((
                            tag.clone(),
                            name.clone(),
                            decode_attr(&a.value()).into_owned(),
                        ));
                    }
                }
                if let Some(k) = el.get_attribute("data-k") {
                    let names = el.attributes().iter().map(|a| a.name()).collect();
                    f.keyed.insert(k, (tag, names));
                }
                Ok(())
            }))
            .append_element_content_handler(text!("style", |t| {
                found.borrow_mut().style.push_str(t.as_str());
                Ok(())
            })),
    );
    assert!(result.is_ok(), "lol_html parses the page");
    found.into_inner()
}

/// Where `text` names one of the hosts the mirror must hide, as `//host`.
fn names_hidden_host(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let hosts = checks::UPSTREAM_HOSTS.iter().chain([&checks::ASSET_HOST]);
    for host in hosts {
        let needle = format!("//{host}");
        for (at, _) in lower.match_indices(&needle) {
            let next = lower[at + needle.len()..].chars().next();
            if next.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')) {
                return Some(lower[at.saturating_sub(20)..].chars().take(80).collect());
            }
        }
    }
    None
}

/// Attributes the rewriter may drop: hashes and beacons, and URL places
/// of subresources on hosts the mirror does not serve.
const DROPPABLE: &[&str] = &[
    "integrity",
    "ping",
    "src",
    "srcset",
    "imagesrcset",
    "href",
    "xlink:href",
    "poster",
    "background",
    "data",
    "data-src",
    "data-srcset",
    "data-original",
    "data-lazy-src",
];

/// Whether a browser reads `value` as a `javascript:` URL.
fn is_javascript(value: &str) -> bool {
    let v: String = value
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    v.trim_start_matches(|c: char| c <= ' ')
        .get(..11)
        .is_some_and(|s| s.eq_ignore_ascii_case("javascript:"))
}

proptest! {
    #![proptest_config(cases(96))]

    /// The rewritten page names no upstream host (nor the asset host) in
    /// any URL place but the footer's link to the original; no element
    /// gains or loses an attribute (nothing broke out of one); and no
    /// `javascript:` URL appears unless the page had one.
    #[test]
    fn rewritten_pages_hide_upstream_hosts_in_every_url_place(
        html in generated_page(),
        sizes in prop::collection::vec(1usize..200, 1..6),
    ) {
        let whole = checks::run_pipeline(DocKind::Html, 0, Some("utf-8"), [html.as_bytes()])
            .expect("rewrites");
        // Chunking changes nothing (pieces of the given sizes, cycled).
        let mut pieces = Vec::new();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at >= html.len() {
                break;
            }
            let end = (at + size).min(html.len());
            pieces.push(&html.as_bytes()[at..end]);
            at = end;
        }
        let chunked = checks::run_pipeline(DocKind::Html, 0, Some("utf-8"), pieces).expect("rewrites");
        prop_assert!(whole == chunked, "chunking changed the output");

        let out = String::from_utf8(whole).expect("UTF-8 out");
        let input = scan(&html);
        let output = scan(&out);
        for (tag, name, value) in &output.urls {
            prop_assert!(
                names_hidden_host(value).is_none(),
                "<{} {}=\"{}\"> names an upstream host\npage: {}\nout: {}", tag, name, value, html, out
            );
        }
        prop_assert!(
            names_hidden_host(&output.style).is_none(),
            "<style> names an upstream host: {:?}", output.style
        );
        // The same elements and attributes (nothing broke out of one), but
        // for what the rewriter drops: the external-link class it adds,
        // integrity/ping, and subresources on hosts it does not serve
        // (a `<link>` or `<script>` whole, else the URL attribute).
        prop_assert!(output.keyed.len() <= input.keyed.len(), "\n{}\n{}", html, out);
        for (k, (tag, names)) in &input.keyed {
            let Some((out_tag, out_names)) = output.keyed.get(k) else {
                prop_assert!(
                    matches!(tag.as_str(), "link" | "script"),
                    "element {} <{}> removed: {}", k, tag, out
                );
                continue;
            };
            prop_assert_eq!(tag, out_tag);
            let mut out_names = out_names.clone();
            out_names.remove("class");
            prop_assert!(out_names.is_subset(names), "element {} gained attributes: {}", k, out);
            for gone in names.difference(&out_names) {
                prop_assert!(
                    DROPPABLE.contains(&gone.as_str()),
                    "element {}: {} dropped: {}", k, gone, out
                );
            }
        }
        let js_in = input.urls.iter().filter(|(_, _, v)| is_javascript(v)).count();
        let js_out = output.urls.iter().filter(|(_, _, v)| is_javascript(v)).count();
        prop_assert!(js_out <= js_in, "a javascript: URL appeared: {}", out);
    }
}

/// The generator above covers the places the test claims: a page with one
/// of each, rewritten, names no upstream host (a fixed example, so a
/// generator change that drops a place shows up here).
#[test]
fn every_generated_url_place_is_rewritten() {
    let mut html = String::from("<html><head></head><body>");
    for kind in 0..17 {
        html.push_str(&element_markup(
            kind,
            kind,
            "https://www.u.test/a?b=1&c=2",
            "//m.u.test/x.png",
        ));
    }
    html.push_str("</body></html>");
    assert!(names_hidden_host(&html).is_some());
    let out = checks::run_pipeline(DocKind::Html, 0, None, [html.as_bytes()]).expect("rewrites");
    let out = String::from_utf8(out).expect("UTF-8");
    let scanned = scan(&out);
    for (tag, name, value) in &scanned.urls {
        assert!(
            names_hidden_host(value).is_none(),
            "<{tag} {name}={value:?}>\n{out}"
        );
    }
    assert!(names_hidden_host(&scanned.style).is_none(), "{out}");
    assert_eq!(scanned.keyed.len(), 15, "{out}");
}

/// An RSS feed of `items` (link, enclosure, description in CDATA or
/// escaped): every URL in a place `crate::feed` maps.
fn generated_feed() -> impl Strategy<Value = String> {
    prop::collection::vec((page_url(), page_url(), any::<bool>()), 1..6).prop_map(|items| {
        let mut feed = String::from(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t &amp; u</title>",
        );
        for (link, img, cdata) in items {
            let link = html_escape::encode_double_quoted_attribute(&link).into_owned();
            let img = html_escape::encode_double_quoted_attribute(&img).into_owned();
            let html = format!("<p><a href=\"{link}\">a</a><img src=\"{img}\"></p>");
            let description = if cdata {
                format!("<![CDATA[{html}]]>")
            } else {
                html_escape::encode_text(&html).into_owned()
            };
            feed.push_str(&format!(
                "<item><link>{link}</link><enclosure url=\"{img}\" type=\"image/png\"/>\
                 <description>{description}</description></item>"
            ));
        }
        feed.push_str("</channel></rss>");
        feed
    })
}

proptest! {
    #![proptest_config(cases(64))]

    /// A rewritten feed is the same however it is cut, names no upstream
    /// host anywhere (its links, enclosures and the HTML in its
    /// descriptions are all URL places), and is still XML a parser reads
    /// with every item.
    #[test]
    fn rewritten_feeds_hide_upstream_hosts_and_do_not_depend_on_cuts(
        feed in generated_feed(),
        sizes in prop::collection::vec(1usize..97, 1..6),
    ) {
        let whole = checks::run_pipeline(DocKind::Xml, 0, None, [feed.as_bytes()]).expect("rewrites");
        let mut pieces = Vec::new();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at >= feed.len() {
                break;
            }
            let end = (at + size).min(feed.len());
            pieces.push(&feed.as_bytes()[at..end]);
            at = end;
        }
        let chunked = checks::run_pipeline(DocKind::Xml, 0, None, pieces).expect("rewrites");
        prop_assert!(whole == chunked, "chunking changed the output");
        let out = String::from_utf8(whole).expect("UTF-8 out");
        prop_assert!(names_hidden_host(&out).is_none(), "an upstream host in\n{}\nfrom\n{}", out, feed);
        let parsed = feed_rs::parser::parse(out.as_bytes());
        prop_assert!(parsed.is_ok(), "not a feed any more: {:?}\n{}", parsed.err(), out);
    }
}
