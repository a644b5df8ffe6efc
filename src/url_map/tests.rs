use super::*;
use crate::config::Config;
use crate::escape::decode_attr;
use crate::site::Site;

const CONFIG: &str = r#"
[server]
signing_key = "test-signing-key-0123456789"

[[site]]
name = "u"
upstream = "https://www.u.com"
aliases = ["u.com", "m.u.com"]
mount = "/m/"
asset_hosts = ["i.u.com"]
proxy_all_images = true

[[site]]
name = "v"
upstream = "https://www.v.com"
mount = "/v/"

[[site]]
name = "w"
upstream = "https://www.w.com/news/"
mount = "/w/"
hosts = ["w.mirror.org"]
"#;

fn mapper() -> UrlMapper {
    mapper_with(CONFIG)
}

fn mapper_with(text: &str) -> UrlMapper {
    let config = Config::parse(text, "test.toml").unwrap();
    let sites = Site::all_from(&config).unwrap();
    UrlMapper::for_server(&sites, &config.server)
}

const U: SiteId = SiteId(0);

fn page() -> Url {
    Url::parse("https://www.u.com/a/b/page.htm?x=1").unwrap()
}

fn link(raw: &str) -> Mapped {
    mapper().map(U, &page(), raw, Place::Link)
}

fn mirror(s: &str) -> Mapped {
    Mapped::Mirror(s.to_owned())
}

#[test]
fn absolute_upstream_url_maps_under_mount() {
    assert_eq!(link("https://www.u.com/a/b.htm"), mirror("/m/a/b.htm"));
    assert_eq!(link("http://www.u.com/a/b.htm"), mirror("/m/a/b.htm"));
    assert_eq!(link("HTTPS://WWW.U.COM/a/b.htm"), mirror("/m/a/b.htm"));
    assert_eq!(link("https://www.u.com:443/a"), mirror("/m/a"));
}

#[test]
fn protocol_relative_url_maps_under_mount() {
    assert_eq!(link("//www.u.com/a/b.htm"), mirror("/m/a/b.htm"));
}

#[test]
fn root_relative_url_maps_under_mount() {
    assert_eq!(link("/a/b.htm"), mirror("/m/a/b.htm"));
    assert_eq!(link("/"), mirror("/m/"));
}

#[test]
fn relative_urls_resolve_against_the_page() {
    assert_eq!(link("c.htm"), mirror("/m/a/b/c.htm"));
    assert_eq!(link("../c.htm"), mirror("/m/a/c.htm"));
    assert_eq!(link("../../../../c.htm"), mirror("/m/c.htm"));
    assert_eq!(link("./"), mirror("/m/a/b/"));
    assert_eq!(link("?page=2"), mirror("/m/a/b/page.htm?page=2"));
}

#[test]
fn relative_urls_resolve_against_base_element() {
    let base = Url::parse("https://www.u.com/x/y/").unwrap();
    assert_eq!(
        mapper().map(U, &base, "z.htm", Place::Link),
        mirror("/m/x/y/z.htm")
    );
}

#[test]
fn query_and_fragment_are_kept() {
    assert_eq!(
        link("https://www.u.com/s?q=a&page=2#top"),
        mirror("/m/s?q=a&page=2#top")
    );
}

#[test]
fn alias_hosts_map_like_the_upstream() {
    assert_eq!(link("https://u.com/a"), mirror("/m/a"));
    assert_eq!(link("//m.u.com/a"), mirror("/m/a"));
}

#[test]
fn other_sites_host_maps_to_its_mount() {
    assert_eq!(link("https://www.v.com/p.htm"), mirror("/v/p.htm"));
}

#[test]
fn other_site_on_its_own_host_gets_an_absolute_url() {
    assert_eq!(
        link("https://www.w.com/news/2024/a.htm"),
        mirror("//w.mirror.org/w/2024/a.htm")
    );
}

#[test]
fn url_outside_an_upstream_path_prefix_is_external() {
    assert!(matches!(
        link("https://www.w.com/about.htm"),
        Mapped::External(_)
    ));
}

#[test]
fn asset_host_maps_to_asset_route() {
    assert_eq!(
        mapper().map(U, &page(), "https://i.u.com/p/x.jpg?w=1", Place::Image),
        mirror("/_/asset/i.u.com/p/x.jpg?w=1")
    );
    assert_eq!(
        link("//i.u.com/p/x.jpg"),
        mirror("/_/asset/i.u.com/p/x.jpg")
    );
}

#[test]
fn other_image_hosts_get_signed_image_urls() {
    let m = mapper();
    let Mapped::Mirror(path) = m.map(U, &page(), "https://cdn.other.com/x.jpg", Place::Image)
    else {
        panic!("not proxied")
    };
    assert!(path.starts_with("/_/img/"), "{path}");
    let rest = &path["/_/img/".len()..];
    assert_eq!(
        m.image_target(rest).unwrap().as_str(),
        "https://cdn.other.com/x.jpg"
    );
}

#[test]
fn images_of_sites_without_proxy_all_images_stay_external() {
    let m = mapper();
    let base = Url::parse("https://www.v.com/").unwrap();
    assert!(matches!(
        m.map(
            SiteId(1),
            &base,
            "https://cdn.other.com/x.jpg",
            Place::Image
        ),
        Mapped::External(_)
    ));
}

#[test]
fn external_links_are_reported_external() {
    match link("https://www.example.org/x") {
        Mapped::External(u) => assert_eq!(u.as_str(), "https://www.example.org/x"),
        other => panic!("{other:?}"),
    }
    // A link is not an image: never proxied through /_/img/.
    assert!(matches!(
        link("https://cdn.other.com/x.jpg"),
        Mapped::External(_)
    ));
}

#[test]
fn non_http_urls_are_unchanged() {
    for raw in [
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:void(0)",
        "JavaScript:alert(1)",
        "mailto:a@b.com",
        "tel:+123",
        "#top",
        "#",
        "",
        "   ",
        "about:blank",
    ] {
        assert_eq!(link(raw), Mapped::Unchanged, "{raw}");
    }
}

#[test]
fn entities_are_decoded_before_mapping() {
    assert_eq!(
        link(&decode_attr("/s?q=a&amp;page=2")),
        mirror("/m/s?q=a&page=2")
    );
    assert_eq!(
        link(&decode_attr("https&#58;//www.u.com/a")),
        mirror("/m/a")
    );
}

#[test]
fn whitespace_around_urls_is_ignored() {
    assert_eq!(link("  /a/b.htm\n"), mirror("/m/a/b.htm"));
}

#[test]
fn srcset_with_commas_in_urls_maps_every_candidate() {
    let m = mapper();
    let out = srcset::rewrite(
        "https://i.u.com/a,b_400.jpg 400w, /img/w_800,h_600/x.jpg 800w",
        |u| m.map(U, &page(), u, Place::Image).into_replacement(),
    )
    .unwrap();
    assert_eq!(
        out,
        "/_/asset/i.u.com/a,b_400.jpg 400w, /m/img/w_800,h_600/x.jpg 800w"
    );
}

#[test]
fn mapping_a_mirror_path_again_changes_nothing_meaningful() {
    // A page that already holds mirror paths (e.g. the nav bar) keeps them.
    let m = mapper();
    let base = Url::parse("https://www.u.com/").unwrap();
    assert_eq!(m.map(U, &base, "/m/a", Place::Link), mirror("/m/m/a"));
    // ...which is why injected markup is never run through the mapper.
}

#[test]
fn routing_picks_the_longest_mount_and_builds_the_upstream_url() {
    let m = mapper();
    let r = m.route(Some("mirror.org"), "/m/a/b.htm?x=1&y=2").unwrap();
    assert_eq!(r.site, SiteId(0));
    assert_eq!(r.upstream.as_str(), "https://www.u.com/a/b.htm?x=1&y=2");
    let r = m.route(Some("mirror.org"), "/v/").unwrap();
    assert_eq!(r.upstream.as_str(), "https://www.v.com/");
    let r = m.route(Some("mirror.org"), "/m").unwrap();
    assert_eq!(r.upstream.as_str(), "https://www.u.com/");
    assert_eq!(
        m.route(Some("mirror.org"), "/other"),
        Err(RouteError::NoSite)
    );
}

#[test]
fn routing_honours_site_hosts() {
    let m = mapper();
    assert_eq!(m.route(Some("mirror.org"), "/w/x"), Err(RouteError::NoSite));
    let r = m.route(Some("w.mirror.org"), "/w/2024/a.htm").unwrap();
    assert_eq!(r.site, SiteId(2));
    assert_eq!(r.upstream.as_str(), "https://www.w.com/news/2024/a.htm");
    // Sites without hosts answer on every host.
    assert_eq!(
        m.route(Some("w.mirror.org"), "/m/a").unwrap().site,
        SiteId(0)
    );
}

#[test]
fn routing_refuses_dot_segments_also_encoded() {
    let m = mapper();
    for p in [
        "/m/../etc",
        "/m/%2e%2e/x",
        "/m/%2E%2E/x",
        "/m/.%2e/x",
        "/m/a/./b",
        "/m/a%2f..%2fb",
    ] {
        assert!(
            matches!(m.route(None, p), Err(RouteError::BadPath(_))),
            "{p}"
        );
    }
}

#[test]
fn routing_refuses_dot_segments_with_path_parameters() {
    let m = mapper();
    for p in [
        "/m/a/..;/admin",
        "/m/..;x=1/etc",
        "/m/a/%2e%2e;/admin",
        "/m/a/%2E%2E%3B/admin",
        "/m/a/.%2e;jsessionid=1/b",
        "/m/a/.;/b",
        "/m/a/%2e;x/b",
        "/m/a/..;",
        "/m/a%2f..;%2fb",
    ] {
        assert!(
            matches!(m.route(None, p), Err(RouteError::BadPath(_))),
            "{p}"
        );
    }
    for p in ["i.u.com/p/..;/x.jpg", "i.u.com/p/.;/x.jpg"] {
        assert!(
            matches!(m.asset_target(p), Err(RouteError::BadPath(_))),
            "{p}"
        );
    }
    // Segments that only start with dots, or carry parameters, are fine.
    for p in [
        "/m/a/...;/b",
        "/m/a/..x;/b",
        "/m/a/b;v=1",
        "/m/a/.well-known/x",
    ] {
        assert!(m.route(None, p).is_ok(), "{p}");
    }
}

#[test]
fn mapping_then_routing_returns_the_original() {
    let m = mapper();
    for raw in [
        "https://www.u.com/a/b.htm",
        "https://www.u.com/s?q=%E4%B8%AD&p=2",
        "https://www.u.com/tag/%E6%8B%9C%E7%99%BB.html",
    ] {
        let Mapped::Mirror(path) = link(raw) else {
            panic!("{raw}")
        };
        assert_eq!(m.route(None, &path).unwrap().upstream.as_str(), raw);
    }
}

#[test]
fn asset_route_accepts_only_asset_hosts() {
    let m = mapper();
    assert_eq!(
        m.asset_target("i.u.com/p/x.jpg?w=1").unwrap().as_str(),
        "https://i.u.com/p/x.jpg?w=1"
    );
    assert_eq!(
        m.asset_target("I.U.COM/p/x.jpg").unwrap().as_str(),
        "https://i.u.com/p/x.jpg"
    );
    for bad in [
        "evil.com/x.jpg",
        "127.0.0.1/x",
        "localhost/x",
        "www.u.com/x",
        "i.u.com.evil.com/x",
        "i.u.com:8080/x",
    ] {
        assert!(
            matches!(m.asset_target(bad), Err(RouteError::HostNotAllowed(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        m.asset_target("i.u.com/a/../../x"),
        Err(RouteError::BadPath(_))
    ));
    assert!(matches!(
        m.asset_target("i.u.com/%2e%2e/x"),
        Err(RouteError::BadPath(_))
    ));
}

#[test]
fn image_route_refuses_forged_or_swapped_signatures() {
    let m = mapper();
    let Mapped::Mirror(a) = m.map(U, &page(), "https://x.com/a.jpg", Place::Image) else {
        panic!()
    };
    let Mapped::Mirror(b) = m.map(U, &page(), "https://x.com/b.jpg", Place::Image) else {
        panic!()
    };
    let a = &a["/_/img/".len()..];
    let b = &b["/_/img/".len()..];
    let (sig_a, url_a) = a.split_once('/').unwrap();
    let (_sig_b, url_b) = b.split_once('/').unwrap();
    assert!(m.image_target(a).is_ok());
    assert_eq!(
        m.image_target(&format!("{sig_a}/{url_b}")),
        Err(RouteError::BadSignature)
    );
    assert_eq!(
        m.image_target(&format!("AAAAAAAAAAAAAAAAAAAAAA/{url_a}")),
        Err(RouteError::BadSignature)
    );
    assert_eq!(m.image_target(url_a), Err(RouteError::BadSignature));
    assert!(m.image_target("sig/%%%").is_err());
    let other =
        mapper_with(&CONFIG.replace("test-signing-key-0123456789", "another-key-abcdefghijk"));
    assert_eq!(other.image_target(a), Err(RouteError::BadSignature));
}

#[test]
fn original_of_understands_every_mirror_form() {
    let m = mapper();
    let orig = |s: &str| m.original_of(None, s).map(|(_, u)| u.to_string());
    assert_eq!(
        orig("/m/a/b.htm").as_deref(),
        Some("https://www.u.com/a/b.htm")
    );
    assert_eq!(
        orig("/_/asset/i.u.com/x.jpg").as_deref(),
        Some("https://i.u.com/x.jpg")
    );
    assert_eq!(orig("https://u.com/a").as_deref(), Some("https://u.com/a"));
    assert_eq!(orig("https://www.example.org/a"), None);
    // An absolute URL on a mirror host name selects by that host.
    assert_eq!(
        orig("https://w.mirror.org/w/2024/a.htm").as_deref(),
        Some("https://www.w.com/news/2024/a.htm")
    );
    assert_eq!(orig("https://other.mirror.org/w/2024/a.htm"), None);
    assert_eq!(orig("/nothing"), None);
    let Mapped::Mirror(img) = m.map(U, &page(), "https://x.com/a.jpg", Place::Image) else {
        panic!()
    };
    assert_eq!(orig(&img).as_deref(), Some("https://x.com/a.jpg"));
}

#[test]
fn public_url_makes_absolute_urls() {
    let m = mapper_with(&CONFIG.replace(
        "[server]\n",
        "[server]\npublic_url = \"https://mirror.example.org\"\n",
    ));
    assert_eq!(m.absolute("/m/a"), "https://mirror.example.org/m/a");
    assert_eq!(m.absolute("//w.mirror.org/w/a"), "//w.mirror.org/w/a");
    assert_eq!(
        m.original_of(None, "https://mirror.example.org/m/a")
            .map(|(_, u)| u.to_string()),
        Some("https://www.u.com/a".to_owned())
    );
    assert_eq!(
        m.map(U, &page(), "https://www.w.com/news/a", Place::Link),
        mirror("https://w.mirror.org/w/a")
    );
}

#[test]
fn when_every_site_has_hosts_other_hosts_are_misdirected() {
    let m = mapper_with(
        r#"
[[site]]
name = "a"
upstream = "https://www.a.com"
hosts = ["a.mirror.org"]
[[site]]
name = "b"
upstream = "https://www.b.com"
hosts = ["b.mirror.org"]
"#,
    );
    assert_eq!(m.route(Some("a.mirror.org"), "/x").unwrap().site, SiteId(0));
    assert_eq!(
        m.route(Some("evil.org"), "/x"),
        Err(RouteError::UnknownHost("evil.org".into()))
    );
    assert!(matches!(
        m.route(None, "/x"),
        Err(RouteError::UnknownHost(_))
    ));
}

#[test]
fn the_fast_path_agrees_with_the_url_standard() {
    let m = mapper();
    let bases = [
        Url::parse("https://www.u.com/a/b/page.htm?x=1").unwrap(),
        Url::parse("https://u.com/").unwrap(),
        Url::parse("https://www.u.com:8443/a/").unwrap(),
        Url::parse("https://other.org/z/").unwrap(),
    ];
    let raws = [
        "https://www.u.com/a/b.htm",
        "HTTPS://WWW.U.COM/a",
        "http://u.com/x?y=1&z=2#f",
        "//www.u.com/p",
        "/root",
        "/root?q=%E4%B8%AD",
        "/a/./b",
        "/a/../b",
        "/a/%2e%2e/b",
        "/a b",
        "/a'b",
        "/a\"b",
        "/中文",
        "https://img.u.com/p/x,y.jpg",
        "//i.u.com/p/x.jpg?w=1",
        "https://www.u.com",
        "https://www.u.com:443/a",
        "https://www.u.com:8443/a",
        "https://user@www.u.com/a",
        "/a#frag#again",
        "/%zz",
        "/a?x='y'",
        "/a/\\b",
        "https://www.v.com/p.htm",
        "https://www.w.com/news/x",
        "https://www.w.com/other",
        "/a\tb",
        "/~user/(x)*",
    ];
    for base in &bases {
        for raw in raws {
            let fast = m.map_fast(U, base, raw);
            let slow = match base.join(raw) {
                Ok(url) => m.map_url(U, &url, Place::Link),
                Err(_) => Mapped::Unchanged,
            };
            if let Some(fast) = fast {
                assert_eq!(fast, slow, "{raw} on {base}");
            }
            assert_eq!(m.map(U, base, raw, Place::Link), slow, "{raw} on {base}");
        }
    }
}

/// The upstream URL of a request is what parsing the joined text gives
/// (the route parses only the path and query; see `join_upstream`).
#[test]
fn joined_upstream_urls_equal_a_parse_of_the_joined_text() {
    let bases = [
        "https://u.test/",
        "https://u.test/en/",
        "http://u.test:8080/a/b/",
    ];
    let paths = [
        "",
        "/",
        "news/2026/a.html",
        "//double",
        "a b/ü/%E4%B8%AD",
        "a%2Fb;x=1/",
        "x\u{4e2d}\u{6587}.html",
        "q\"<>`{}|^",
        "%00%7F",
    ];
    // (No `#`: a request target has no fragment, and where the joined text
    // would start one, the query now keeps it encoded.)
    let queries = [None, Some(""), Some("a=1&b=%20 x"), Some("ü=中&;")];
    for base in bases {
        let base = Url::parse(base).unwrap();
        let prefix = base.path().to_owned();
        for path in paths {
            for query in queries {
                let mut text = base[..url::Position::BeforePath].to_owned();
                text.push_str(&prefix);
                text.push_str(path.trim_start_matches('/'));
                if let Some(q) = query {
                    text.push('?');
                    text.push_str(q);
                }
                let expected = Url::parse(&text).unwrap();
                let got = join_upstream(&base, &prefix, path, query).unwrap();
                assert_eq!(got, expected, "{base} + {path:?} ? {query:?}");
            }
        }
    }
}

/// A random path and query, from characters the URL standard leaves alone,
/// encodes, or resolves (dots, `%2e`, `#`, quotes, spaces, non-ASCII).
fn tricky() -> impl proptest::strategy::Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(vec![
            "a", "Z", "0", "/", "//", ".", "..", "%2e", "%2E", "%41", "%", "#", "?", "'", "\"",
            " ", "<", ">", "`", "{", "}", "^", "|", "[", "]", ";", "=", "&", "+", "~", "@", ":",
            "!", "$", "*", "(", ")", ",", "-", "_", "é", "中", "\t",
        ]),
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

use proptest::strategy::Strategy as _;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
    /// The text made by concatenation is exactly what `Url` serialises
    /// for the same parts, whenever the fast path takes them.
    #[test]
    fn upstream_text_is_what_the_url_parser_makes(
        rest in tricky(),
        query in proptest::option::of(tricky()),
        prefix in proptest::sample::select(vec!["/", "/news/", "/a;b/"]),
    ) {
        let base = Url::parse("https://www.u.com:8443/").unwrap();
        let query = query.as_deref().map(|q| q.replace('#', ""));
        if let Some(text) = upstream_text(&base, prefix, &rest, query.as_deref()) {
            let url = join_upstream(&base, prefix, &rest, query.as_deref()).unwrap();
            proptest::prop_assert_eq!(&text, url.as_str());
            let reparsed = Url::parse(&text).unwrap();
            proptest::prop_assert_eq!(reparsed.as_str(), url.as_str());
        }
    }
}

#[test]
fn routing_keeps_a_plain_path_as_text_and_parses_the_rest() {
    let m = mapper();
    let plain = m.route(None, "/m/a/b.htm?x=1").unwrap().upstream;
    assert!(matches!(plain.0, UpstreamRepr::Text(_)));
    assert_eq!(
        plain.into_url().unwrap().as_str(),
        "https://www.u.com/a/b.htm?x=1"
    );
    // A space is encoded by the parser: that path is parsed at once.
    let spaced = m.route(None, "/m/a b.htm").unwrap().upstream;
    assert!(matches!(spaced.0, UpstreamRepr::Parsed(_)));
    assert_eq!(spaced.as_str(), "https://www.u.com/a%20b.htm");
}
