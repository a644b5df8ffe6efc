//! Upstream feeds through the mirror (`crate::feed`): RSS 2.0 with CDATA
//! HTML, Atom with `xml:base` and escaped HTML, a GBK RSS feed, and XML
//! that is not a feed. Every answer is read back by a feed parser
//! (feed-rs), and the URLs it finds are the mirror's.

mod common;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use common::*;

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="https://www.u.test/feed.xsl"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>U News &amp; More</title>
  <link>https://www.u.test/</link>
  <atom:link href="https://www.u.test/feed.xml" rel="self" type="application/rss+xml"/>
  <description>All the news</description>
  <image><url>https://img.u.test/logo.png</url><title>U</title><link>https://www.u.test/</link></image>
  <item>
    <title><![CDATA[A <story>]]></title>
    <link>
      https://www.u.test/news/a.html?x=1&amp;y=2
    </link>
    <guid isPermaLink="true">https://www.u.test/news/a.html</guid>
    <description><![CDATA[<p>Lead <img src="https://img.u.test/a.jpg"> <a href="https://www.u.test/news/b.html">b</a></p><script src="https://ads.test/x.js"></script>]]></description>
    <content:encoded><![CDATA[<p><img src="https://cdn.other.test/p.jpg" alt="p"></p>]]></content:encoded>
    <enclosure url="https://img.u.test/a.mp3" length="1234" type="audio/mpeg"/>
    <media:thumbnail url="https://cdn.other.test/t.jpg"/>
    <comments>https://www.u.test/news/a.html#comments</comments>
  </item>
  <item>
    <title>Second</title>
    <link>https://www.u.test/news/c.html</link>
    <guid isPermaLink="false">https://www.u.test/news/c.html</guid>
    <description>&lt;p&gt;escaped &lt;a href="https://www.u.test/news/d.html"&gt;d&lt;/a&gt;&lt;/p&gt;</description>
  </item>
</channel>
</rss>
"#;

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://www.u.test/news/">
  <title>U Atom</title>
  <id>tag:u.test,2026:feed</id>
  <updated>2026-12-07T10:00:00Z</updated>
  <link rel="self" href="atom.xml"/>
  <link rel="alternate" href="/"/>
  <icon>/icon.png</icon>
  <entry>
    <title type="html">Bold &lt;b&gt;news&lt;/b&gt;</title>
    <id>tag:u.test,2026:a</id>
    <updated>2026-12-07T10:00:00Z</updated>
    <link href="a.html"/>
    <link rel="enclosure" href="https://img.u.test/a.mp3" type="audio/mpeg"/>
    <author><name>R</name><uri>https://www.u.test/people/r</uri></author>
    <summary>Plain text, https://www.u.test/not-a-link stays text</summary>
    <content type="html">&lt;p&gt;&lt;img src="i.png"&gt; &lt;a href="b.html"&gt;b&lt;/a&gt;&lt;/p&gt;</content>
  </entry>
</feed>
"#;

fn gbk_rss() -> Vec<u8> {
    let text = "<?xml version=\"1.0\" encoding=\"GBK\"?>\n<rss version=\"2.0\"><channel>\
                <title>新闻频道</title><link>https://www.u.test/</link><description>最新</description>\
                <item><title>头条新闻</title><link>https://www.u.test/news/g.html</link>\
                <description><![CDATA[<p>正文 <a href=\"https://www.u.test/news/h.html\">链接</a></p>]]></description>\
                </item></channel></rss>";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    bytes.into_owned()
}

fn site() -> Router {
    Router::new()
        .route(
            "/feed.xml",
            get(|| async { ([(header::CONTENT_TYPE, "application/rss+xml")], RSS) }),
        )
        .route(
            "/news/atom.xml",
            get(|| async { ([(header::CONTENT_TYPE, "application/atom+xml")], ATOM) }),
        )
        .route(
            "/gbk.xml",
            get(|| async { ([(header::CONTENT_TYPE, "text/xml")], gbk_rss()) }),
        )
        .route(
            "/sitemap.xml",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/xml")],
                    "<?xml version=\"1.0\"?><urlset><url><loc>https://www.u.test/news/a.html</loc></url></urlset>",
                )
            }),
        )
}

const PUBLIC: &str = "https://mirror.example";

async fn mirror_of_site() -> std::net::SocketAddr {
    let (up, _) = upstream(site()).await;
    let text = config(up, "").replacen(
        "[server]\n",
        &format!("[server]\npublic_url = \"{PUBLIC}\"\n"),
        1,
    );
    mirror(&text).await
}

fn parse(body: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn an_rss_feed_names_the_mirror_everywhere_and_its_html_is_rewritten() {
    let m = mirror_of_site().await;
    let (status, h, body) = get_text(m, "/feed.xml").await;
    assert_eq!(status, 200);
    assert_eq!(
        h[header::CONTENT_TYPE],
        "application/rss+xml; charset=utf-8"
    );
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'none'"), "{csp}");
    assert!(
        body.contains("href=\"https://mirror.example/feed.xsl\""),
        "the stylesheet: {body}"
    );
    let ids = "<guid isPermaLink=\"false\">https://www.u.test/news/c.html</guid>";
    assert!(body.contains(ids), "{body}");
    assert!(
        !body.replace(ids, "").contains("https://www.u.test"),
        "no upstream URL left but the id: {body}"
    );
    assert!(!body.contains("ads.test"), "the script went: {body}");
    let feed = parse(&body);
    assert_eq!(feed.title.as_ref().unwrap().content, "U News & More");
    assert_eq!(feed.links[0].href, format!("{PUBLIC}/"));
    assert_eq!(
        feed.logo.as_ref().unwrap().uri,
        format!("{PUBLIC}/_/asset/img.u.test/logo.png")
    );
    let a = &feed.entries[0];
    assert_eq!(a.title.as_ref().unwrap().content, "A <story>");
    assert_eq!(a.links[0].href, format!("{PUBLIC}/news/a.html?x=1&y=2"));
    let summary = &a.summary.as_ref().unwrap().content;
    assert!(
        summary.contains(&format!("src=\"{PUBLIC}/_/asset/img.u.test/a.jpg\""))
            || summary.contains("src=\"/_/asset/img.u.test/a.jpg\""),
        "{summary}"
    );
    assert!(summary.contains("href=\"/news/b.html\""), "{summary}");
    assert!(!summary.contains("script"), "{summary}");
    let content = a.content.as_ref().and_then(|c| c.body.clone()).unwrap();
    assert!(content.contains("src=\"/_/img/"), "signed image: {content}");
    let media: Vec<String> = a
        .media
        .iter()
        .flat_map(|m| {
            m.content
                .iter()
                .filter_map(|c| c.url.as_ref().map(|u| u.to_string()))
                .chain(m.thumbnails.iter().map(|t| t.image.uri.clone()))
        })
        .collect();
    assert!(
        media.contains(&format!("{PUBLIC}/_/asset/img.u.test/a.mp3")),
        "the enclosure: {media:?}"
    );
    // (feed-rs reads no item-level thumbnail: the markup, then.)
    assert!(
        body.contains(&format!("<media:thumbnail url=\"{PUBLIC}/_/img/")),
        "the thumbnail, signed: {body}"
    );
    assert!(body.contains(&format!(
        "<comments>{PUBLIC}/news/a.html#comments</comments>"
    )));
    let c = &feed.entries[1];
    assert_eq!(c.links[0].href, format!("{PUBLIC}/news/c.html"));
    assert_eq!(
        c.id, "https://www.u.test/news/c.html",
        "an id, not a permalink: kept"
    );
    let d = &c.summary.as_ref().unwrap().content;
    assert!(d.contains("href=\"/news/d.html\""), "escaped HTML too: {d}");
}

#[tokio::test]
async fn an_atom_feed_resolves_against_xml_base() {
    let m = mirror_of_site().await;
    let (status, _, body) = get_text(m, "/news/atom.xml").await;
    assert_eq!(status, 200);
    let feed = parse(&body);
    let hrefs: Vec<&str> = feed.links.iter().map(|l| l.href.as_str()).collect();
    assert!(
        hrefs.contains(&"https://mirror.example/news/atom.xml"),
        "{hrefs:?}"
    );
    assert!(hrefs.contains(&"https://mirror.example/"), "{hrefs:?}");
    assert_eq!(
        feed.icon.as_ref().unwrap().uri,
        format!("{PUBLIC}/icon.png")
    );
    let e = &feed.entries[0];
    assert_eq!(e.links[0].href, format!("{PUBLIC}/news/a.html"));
    assert_eq!(
        e.links[1].href,
        format!("{PUBLIC}/_/asset/img.u.test/a.mp3"),
        "the enclosure is media"
    );
    assert_eq!(
        e.authors[0].uri.as_deref(),
        Some("https://mirror.example/people/r")
    );
    assert_eq!(e.id, "tag:u.test,2026:a", "ids are not URLs to map");
    let content = e.content.as_ref().and_then(|c| c.body.clone()).unwrap();
    assert!(content.contains("src=\"/news/i.png\""), "{content}");
    assert!(content.contains("href=\"/news/b.html\""), "{content}");
    assert_eq!(e.title.as_ref().unwrap().content, "Bold <b>news</b>");
    // Text constructs of type text are text.
    assert!(
        body.contains("https://www.u.test/not-a-link stays text"),
        "{body}"
    );
}

#[tokio::test]
async fn a_gbk_feed_leaves_as_utf8_and_says_so() {
    let m = mirror_of_site().await;
    let (status, h, body) = get_text(m, "/gbk.xml").await;
    assert_eq!(status, 200);
    assert_eq!(h[header::CONTENT_TYPE], "text/xml; charset=utf-8");
    assert!(
        body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{body}"
    );
    let feed = parse(&body);
    assert_eq!(feed.title.as_ref().unwrap().content, "新闻频道");
    let e = &feed.entries[0];
    assert_eq!(e.title.as_ref().unwrap().content, "头条新闻");
    assert_eq!(e.links[0].href, format!("{PUBLIC}/news/g.html"));
    let summary = &e.summary.as_ref().unwrap().content;
    assert!(
        summary.contains("href=\"/news/h.html\">链接</a>"),
        "{summary}"
    );
}

#[tokio::test]
async fn xml_that_is_not_a_feed_passes_as_it_is() {
    let m = mirror_of_site().await;
    let (status, _, body) = get_text(m, "/sitemap.xml").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<loc>https://www.u.test/news/a.html</loc>"),
        "{body}"
    );
}

/// The rewrite is the same however the body is cut (one byte at a time
/// here): tokens, entities, CDATA and multi-byte characters held across
/// pieces.
#[test]
fn the_output_does_not_depend_on_where_the_body_is_cut() {
    use std::sync::Arc;
    let text = config("127.0.0.1:9".parse().unwrap(), "");
    let config = newsmirror::config::Config::parse(&text, "t.toml").unwrap();
    let sites = newsmirror::site::Site::all_from(&config).unwrap();
    let mapper = Arc::new(newsmirror::url_map::UrlMapper::for_server(
        &sites,
        &config.server,
    ));
    let rules = Arc::new(newsmirror::html::SiteRules::new(&sites[0], "", "").unwrap());
    let run = |body: &[u8], piece: usize, charset: Option<&str>| {
        let url = url::Url::parse("https://www.u.test/news/feed.xml").unwrap();
        let ctx = newsmirror::html::PageContext::new(mapper.clone(), sites[0].clone(), url);
        let mut r = newsmirror::pipeline::Rewrite::feed(ctx, &rules, charset, u64::MAX);
        let mut out = Vec::new();
        for chunk in body.chunks(piece) {
            r.push(chunk, &mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    for (body, charset) in [
        (RSS.as_bytes().to_vec(), None),
        (ATOM.as_bytes().to_vec(), Some("utf-8")),
        (gbk_rss(), None),
    ] {
        let whole = run(&body, body.len(), charset);
        assert!(whole.contains("/news/"), "{whole}");
        for piece in [1, 2, 3, 7, 64] {
            assert_eq!(run(&body, piece, charset), whole, "cut every {piece} bytes");
        }
    }
}

const RDF: &str = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="https://www.u.test/rdf.xml">
    <title>U RDF</title><link>https://www.u.test/</link><description>d</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://www.u.test/news/r.html"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://www.u.test/news/r.html">
    <title>R</title><link>https://www.u.test/news/r.html</link>
    <description>&lt;a href="https://www.u.test/news/s.html"&gt;s&lt;/a&gt;</description>
  </item>
</rdf:RDF>
"#;

/// RSS 1.0 (RDF), served as `text/xml`: found by its root element.
#[tokio::test]
async fn an_rdf_feed_is_found_by_its_root_and_rewritten() {
    let router = Router::new().route(
        "/rdf.xml",
        get(|| async { ([(header::CONTENT_TYPE, "text/xml")], RDF) }),
    );
    let (up, _) = upstream(router).await;
    let m = mirror(&config(up, "")).await;
    let (status, _, body) = get_text(m, "/rdf.xml").await;
    assert_eq!(status, 200);
    assert!(!body.contains("https://www.u.test"), "{body}");
    assert!(body.contains("<channel rdf:about=\"/rdf.xml\">"), "{body}");
    assert!(
        body.contains("<rdf:li rdf:resource=\"/news/r.html\"/>"),
        "{body}"
    );
    let feed = parse(&body);
    assert_eq!(feed.entries[0].links[0].href, "/news/r.html");
    let summary = &feed.entries[0].summary.as_ref().unwrap().content;
    assert!(summary.contains("href=\"/news/s.html\""), "{summary}");
}
