//! The extractor on whole pages: an English news article, a Chinese article in the
//! seed page's layout, a section page, and `[site.article]` selectors.

mod extract_fixtures;

use extract_fixtures::*;
use newsmirror::extract::{ExtractError, Limits, Selectors, word_count};

#[test]
fn english_page_metadata_comes_from_json_ld_and_meta() {
    let a = article(&english_news_page(), ENGLISH_URL);
    assert_eq!(a.title, "Council approves new river bridge");
    assert_eq!(a.byline.as_deref(), Some("Jane Reporter"));
    assert_eq!(a.published.as_deref(), Some("2024-03-05T09:30:00Z"));
    assert_eq!(a.modified.as_deref(), Some("2024-03-05T11:00:00Z"));
    assert_eq!(a.lang.as_deref(), Some("en-GB"));
    assert_eq!(a.dir, "ltr");
    assert_eq!(a.site_name.as_deref(), Some("Example News"));
    assert_eq!(
        a.excerpt,
        "The city council voted 7-2 to approve a new bridge across the river."
    );
}

#[test]
fn english_page_body_keeps_prose_and_drops_furniture() {
    let a = article(&english_news_page(), ENGLISH_URL);
    assert!(
        a.text.starts_with("The city council voted seven to two"),
        "{}",
        a.text
    );
    assert!(a.text.contains("public consultation on the design"));
    for junk in [
        "Advertisement",
        "tracking-code",
        "Most read",
        "Home",
        "Copyright",
        "Post comment",
        "color: red",
    ] {
        assert!(!a.text.contains(junk), "{junk:?} in text: {}", a.text);
        assert!(
            !a.content_html.contains(junk),
            "{junk:?} in html: {}",
            a.content_html
        );
    }
    assert!(!a.content_html.contains("<script"));
    assert!(!a.content_html.contains("<form"));
}

#[test]
fn text_separates_paragraphs_with_one_blank_line() {
    let a = article(&english_news_page(), ENGLISH_URL);
    assert!(
        a.text
            .contains("ending a debate that has run for more than a decade.\n\nSupporters said")
    );
    assert!(!a.text.contains("\n\n\n"));
    assert_eq!(a.word_count, word_count(&a.text));
}

#[test]
fn links_and_images_follow_the_mirror_url_rule() {
    let a = article(&english_news_page(), ENGLISH_URL);
    // Root-relative stays as it is; the relative image resolves against the page.
    assert!(
        a.content_html
            .contains(r#"<a href="/news/2024/02/plan.html">published plan</a>"#)
    );
    assert!(
        a.content_html
            .contains(r#"<img src="/news/2024/images/bridge.jpg""#),
        "{}",
        a.content_html
    );
}

#[test]
fn content_html_is_compact_clean_markup() {
    let html = r#"<html><body><article class="story"><div><div>
        <p style="color:red" onclick="x()">First paragraph with enough words to be the article body, and some commas, too, to score.</p>
      </div>
      <div><p>Second <b>bold</b> paragraph with <a href="x.htm" class="l">a link</a>, also long enough to count as prose here.</p></div>
      <my-widget>Custom <span>tags</span> are unwrapped, keeping their text in the flow of the article.</my-widget>
    </div></article></body></html>"#;
    let a = article(html, ENGLISH_URL);
    assert_eq!(
        a.content_html,
        "<div><p>First paragraph with enough words to be the article body, and some commas, too, to score.</p>\
         <p>Second <strong>bold</strong> paragraph with <a href=\"/news/2024/03/x.htm\">a link</a>, also long enough to count as prose here.</p>\
         Custom tags are unwrapped, keeping their text in the flow of the article.</div>"
    );
}

#[test]
fn figure_image_is_the_lead_image_with_its_caption() {
    let a = article(&english_news_page(), ENGLISH_URL);
    let lead = a.lead_image.unwrap_or_else(|| panic!("no lead image"));
    assert_eq!(lead.url, "/news/2024/images/bridge.jpg");
    assert_eq!(
        lead.caption.as_deref(),
        Some("The planned crossing, seen from the east bank.")
    );
    assert_eq!(
        a.images.first().map(|i| i.url.as_str()),
        Some("/news/2024/images/bridge.jpg")
    );
}

#[test]
fn rel_tag_links_become_tags_with_their_urls() {
    let a = article(&english_news_page(), ENGLISH_URL);
    let tags: Vec<(&str, &str)> = a
        .tags
        .iter()
        .map(|t| (t.name.as_str(), t.url.as_str()))
        .collect();
    assert_eq!(
        tags,
        [
            ("Transport", "/tag/transport"),
            ("City council", "/tag/city-council")
        ]
    );
}

#[test]
fn chinese_page_body_is_the_artbody_without_its_ad() {
    let a = article(&chinese_seed_page(), CHINESE_URL);
    assert_eq!(a.title, CHINESE_TITLE);
    assert!(
        a.text.starts_with("【大纪元2023年10月06日讯】"),
        "{}",
        a.text
    );
    assert!(a.text.contains("届时将进一步为“拜习会”铺路。"));
    assert!(!a.text.contains("广告"));
    assert!(!a.text.contains("首页"));
    assert!(!a.text.contains("原文链接"));
    assert!(!a.text.contains(LEAD_CAPTION));
}

#[test]
fn chinese_page_metadata_and_language() {
    let a = article(&chinese_seed_page(), CHINESE_URL);
    assert_eq!(a.published.as_deref(), Some("2023-10-06T12:00:00+08:00"));
    assert_eq!(a.lang.as_deref(), Some("zh-Hans"));
    assert_eq!(a.dir, "ltr");
    assert_eq!(a.site_name.as_deref(), Some("大纪元"));
}

#[test]
fn chinese_page_lead_image_takes_the_caption_div() {
    let a = article(&chinese_seed_page(), CHINESE_URL);
    let lead = a.lead_image.unwrap_or_else(|| panic!("no lead image"));
    assert_eq!(lead.url, LEAD_IMAGE);
    assert_eq!(lead.caption.as_deref(), Some(LEAD_CAPTION));
}

#[test]
fn chinese_page_tags_come_from_tag_links_and_meta() {
    let a = article(&chinese_seed_page(), CHINESE_URL);
    let tags: Vec<(&str, &str)> = a
        .tags
        .iter()
        .map(|t| (t.name.as_str(), t.url.as_str()))
        .collect();
    for expected in [
        ("拜登", "/gb/tag/拜登.html"),
        ("习近平", "/gb/tag/习近平.html"),
        ("峰会", "/gb/tag/峰会.html"),
        ("拜习会", "/gb/tag/拜习会.html"),
    ] {
        assert!(tags.contains(&expected), "{expected:?} not in {tags:?}");
    }
    assert_eq!(tags.iter().filter(|(n, _)| *n == "拜登").count(), 1);
}

#[test]
fn chinese_page_word_count_counts_each_han_character() {
    let a = article(&chinese_seed_page(), CHINESE_URL);
    let han = a
        .text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    // Besides the Han characters the text has the numbers 2023/10/06/5/11/20 and APEC, G20.
    let others = a
        .text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .count();
    assert_eq!(a.word_count, han + others);
}

#[test]
fn section_page_is_not_an_article() {
    assert_eq!(
        run(&section_page(), "https://mirror.example.org/world/").err(),
        Some(ExtractError::NoArticle)
    );
}

#[test]
fn section_page_of_cards_with_linked_headings_is_not_an_article() {
    assert_eq!(
        run(&card_section_page(), "https://mirror.example.org/local/").err(),
        Some(ExtractError::NoArticle)
    );
}

#[test]
fn empty_page_is_not_an_article() {
    for html in [
        "",
        "<html><body></body></html>",
        "<nav><a href='/'>Home</a></nav><footer>x</footer>",
    ] {
        assert_eq!(
            run(html, ENGLISH_URL).err(),
            Some(ExtractError::NoArticle),
            "{html:?}"
        );
    }
}

fn story_page() -> String {
    r#"<html><head><title>Site</title></head><body>
<div class="promo"><p>This long promotional paragraph about our newsletter, which readers really should subscribe to, goes on and on to look like prose, and has commas, many commas, to score well.</p></div>
<div class="hero"><img src="/img/hero.jpg"><span class="credit">Photo: A. Photographer</span></div>
<h1 class="headline">The configured headline</h1>
<p class="writer">Sam Writer</p><span class="date">2023年10月06日 12:00</span>
<div id="story-text"><p>Short story body.</p></div>
<div id="tagsdiv"><a href="/t/one">One</a><a href="/t/two">Two</a></div>
</body></html>"#
        .to_string()
}

#[test]
fn configured_selectors_take_precedence() {
    let selectors = Selectors {
        title: Some("h1.headline".into()),
        body: Some("#story-text".into()),
        byline: Some(".writer".into()),
        published: Some("span.date".into()),
        lead_image: Some(".hero img".into()),
        caption: Some(".hero .credit".into()),
        tags: Some("#tagsdiv a".into()),
    };
    assert_eq!(selectors.validate(), Ok(()));
    let a = run_with(
        &story_page(),
        "https://mirror.example.org/s/1.html",
        Some(&selectors),
        Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.title, "The configured headline");
    assert_eq!(a.text, "Short story body.");
    assert_eq!(a.byline.as_deref(), Some("Sam Writer"));
    assert_eq!(a.published.as_deref(), Some("2023-10-06"));
    let lead = a.lead_image.unwrap_or_else(|| panic!("no lead image"));
    assert_eq!(
        (lead.url.as_str(), lead.caption.as_deref()),
        ("/img/hero.jpg", Some("Photo: A. Photographer"))
    );
    let tags: Vec<&str> = a.tags.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(tags, ["/t/one", "/t/two"]);
}

#[test]
fn body_selector_matching_nothing_falls_back_to_generic_extraction() {
    let selectors = Selectors {
        body: Some("#no-such-id".into()),
        ..Selectors::default()
    };
    let a = run_with(
        &english_news_page(),
        ENGLISH_URL,
        Some(&selectors),
        Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(a.text.starts_with("The city council voted seven to two"));
}

#[test]
fn unsupported_selectors_are_reported_by_validate() {
    let selectors = Selectors {
        body: Some("div:has(p)".into()),
        ..Selectors::default()
    };
    assert!(selectors.validate().is_err());
}

#[test]
fn word_count_counts_english_words_and_each_cjk_character() {
    assert_eq!(word_count("The council voted seven to two."), 6);
    assert_eq!(word_count("白宫正为拜登与习近平的会晤制定计划"), 17);
    assert_eq!(word_count("拜登在APEC峰会"), 6);
}

#[test]
fn legacy_document_write_scripts_do_not_leak_into_the_text() {
    let page = english_news_page().replace(
        "<main>",
        r#"<main><script><!-- document.write("<script src='/ad.js'></script>"); leaked = 1; --></script>"#,
    );
    let a = article(&page, ENGLISH_URL);
    assert!(!a.text.contains("leaked"), "{}", a.text);
    assert!(!a.content_html.contains("leaked"));
}

#[test]
fn a_body_in_a_layout_tables_cell_is_written_as_a_div_not_a_bare_row() {
    let paragraphs = [
        "本报讯（记者 王明）昨日上午，市政府召开新闻发布会，宣布全市新建的跨江大桥将于下周一正式通车，这座大桥历时三年建成。",
        "据介绍，大桥通车后，两岸之间的通行时间将由原来的四十分钟缩短到十分钟左右，市民出行将更加方便。",
        "市交通局有关负责人表示，通车初期将实行交通管制，货车暂不允许通行，请广大市民提前规划出行路线。",
    ];
    let nav: String = (0..12)
        .map(|i| format!(r#"<td><a href="/c{i}.html">栏目{i}</a></td>"#))
        .collect();
    let html = format!(
        r#"<html><head><title>跨江大桥下周一通车</title></head><body>
        <table><tr>{nav}</tr></table>
        <table><tr><td valign=top><table>
          <tr><td><b>跨江大桥下周一通车</b></td></tr>
          <tr><td class=content><font size=3>{}<table><tr><td>票价</td><td>免费</td></tr></table></font></td></tr>
        </table></td></tr></table></body></html>"#,
        paragraphs.join("<br><br>")
    );
    let a = article(&html, "https://news.example.cn/2026/11/bridge.html");
    for p in paragraphs {
        assert!(a.text.contains(p), "{}", a.text);
    }
    // Every row and cell is inside a table the HTML opens.
    let mut open_tables = 0i32;
    let mut rest = a.content_html.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let tag: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        match tag.as_str() {
            "table" => open_tables += 1,
            "/table" => open_tables -= 1,
            "tr" | "td" | "th" | "tbody" | "thead" | "tfoot" => {
                assert!(open_tables > 0, "a bare <{tag}>: {}", a.content_html)
            }
            _ => {}
        }
    }
    // A table inside the body stays a table.
    assert!(
        a.content_html
            .contains("<table><tr><td>票价</td><td>免费</td></tr></table>")
            || a.content_html
                .contains("<table><tbody><tr><td>票价</td><td>免费</td></tr></tbody></table>"),
        "{}",
        a.content_html
    );
}

/// The measured-and-off `tail_links` rule (docs/extraction.md), switched on
/// for this thread: a trailing "You may also like..." list goes, the prose
/// stays; switched off (as shipped), the list is part of the body.
#[test]
fn tail_links_knob_drops_a_trailing_list_of_headline_links() {
    let prose: String = (0..5)
        .map(|i| format!("<p>Paragraph {i} of the story, with enough words, commas, and clauses to be prose that a reader reads.</p>"))
        .collect();
    let html = format!(
        r#"<html><body><article>{prose}<p>You may also like...</p>
        <p><a href="/a.html">Who will make the Rock Hall in 2020?</a></p>
        <p><a href="/b.html">Dave Matthews Band takes over the fan vote</a></p>
        </article></body></html>"#
    );
    newsmirror::extract::tuning::set("tail_links", 1.0).unwrap();
    let on = article(&html, ENGLISH_URL);
    newsmirror::extract::tuning::reset();
    let off = article(&html, ENGLISH_URL);
    assert!(on.text.contains("Paragraph 4 of the story"), "{}", on.text);
    assert!(!on.text.contains("You may also like"), "{}", on.text);
    assert!(!on.text.contains("Rock Hall"), "{}", on.text);
    assert!(off.text.contains("Rock Hall"), "{}", off.text);
}

/// An old portal page: the date is a text line under the title, in no meta
/// tag or `<time>`, and the header bar shows another (today's) date.
#[test]
fn a_dateline_under_the_title_is_the_publication_date_not_the_header_bars() {
    let para = "市政府今天宣布，新的跨河大桥将于明年春天正式通车，工程历时三年，耗资十二亿元。\
                大桥全长一千二百米，双向六车道，并设有人行道和自行车道，方便市民出行。";
    let html = format!(
        "<html><head><meta charset=\"utf-8\"><title>新大桥明年通车</title></head><body>\
         <table><tr><td>2026年12月7日 星期一</td><td><a href=\"/\">首页</a></td></tr></table>\
         <h1>新大桥明年通车</h1>\
         <table><tr><td>2005-04-05 06:40</td><td>来源：本报</td></tr></table>\
         <div id=\"content\"><p>{para}</p><p>{para}</p><p>{para}</p></div>\
         </body></html>"
    );
    let a = article(&html, "http://news.example.cn/2005/04/05/a.html");
    assert_eq!(a.published.as_deref(), Some("2005-04-05"));
}

#[test]
fn a_photo_caption_between_the_byline_and_the_body_does_not_date_the_article() {
    let para = "Tariffs are taxes on imported goods, paid by the companies that import them, \
                and economists broadly agree that most of the cost is passed on to buyers.";
    let html = format!(
        "<html><head><meta charset=\"utf-8\"><title>A guide to tariffs</title></head><body>\
         <h1>A guide to tariffs</h1>\
         <div class=\"info\"><a href=\"/staff/lj/\">L. J.</a>, Monday, November 18th, 2019 at 11:04 a.m.</div>\
         <figure><img src=\"/p/ship.jpg\" alt=\"\"><figcaption>A cargo ship leaves port on Aug. 31, 2019. (AP)</figcaption></figure>\
         <div id=\"story\"><p>{para}</p><p>{para}</p><p>{para}</p></div>\
         </body></html>"
    );
    let a = article(&html, "http://news.example.com/article/guide/");
    assert_eq!(a.published.as_deref(), Some("2019-11-18"));
}

#[test]
fn a_page_written_in_divs_keeps_its_short_lines() {
    let para = "自本通告发布之日起，在工程建设征占地范围内，禁止任何单位和个人新建、扩建和改建项目，\
                禁止擅自开发土地、修建房屋及新建其他设施，相关部门要立即停止办理有关证照。";
    let html = format!(
        "<html><head><meta charset=\"utf-8\"><title>关于工程建设的通告</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a></div>\
         <div class=\"contents\">\
         <div>　　{para}</div><div>　　{para}</div>\
         <div>　　特此通告。</div>\
         <div>　　{para}</div>\
         </div></body></html>"
    );
    let a = article(&html, "http://gov.example.cn/notice.html");
    assert!(a.text.contains("特此通告。"), "{}", a.text);
}
