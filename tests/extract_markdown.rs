//! The Markdown form of an article, as the seed page shows it.

mod extract_fixtures;

use extract_fixtures::*;
use newsmirror::extract::markdown;

const FOOTER: &str = "原文链接（需翻墙）：https://www.epochtimes.com/gb/23/10/6/n14089442.htm";

fn nav() -> Vec<(String, String)> {
    vec![
        ("首页".into(), "/gb/".into()),
        ("评论".into(), "/gb/nsc413.htm".into()),
    ]
}

#[test]
fn markdown_has_the_seed_page_header_nav_and_lead_image() {
    let a = article(&chinese_seed_page(), CHINESE_URL);
    let md = markdown::render(&a, &nav(), FOOTER);
    let expected_head = format!(
        "### {CHINESE_TITLE}\n\n---\n\n#### [首页](/gb/) &nbsp;|&nbsp; [评论](/gb/nsc413.htm)\n\n\n![{CHINESE_TITLE}]({LEAD_IMAGE})\n{LEAD_CAPTION}\n\n"
    );
    assert!(md.starts_with(&expected_head), "{md}");
}

#[test]
fn markdown_body_is_real_markdown_with_links() {
    let a = article(&chinese_seed_page(), CHINESE_URL);
    let md = markdown::render(&a, &nav(), FOOTER);
    assert!(
        md.contains("白宫正为[拜登](/gb/tag/拜登.html)与[习近平](/gb/tag/习近平.html)的会晤"),
        "{md}"
    );
    assert!(!md.contains("<p>"));
    assert!(md.contains("多方进行尝试，希望稳定美中关系。\n\n然而，"));
}

#[test]
fn markdown_ends_with_a_rule_and_the_footer_line() {
    let a = article(&chinese_seed_page(), CHINESE_URL);
    let md = markdown::render(&a, &nav(), FOOTER);
    assert!(md.ends_with(&format!("\n\n---\n\n{FOOTER}\n")), "{md}");
}

#[test]
fn markdown_escapes_specials_and_converts_structure() {
    let mut a = article(&english_news_page(), ENGLISH_URL);
    a.lead_image = None;
    a.content_html = "<h2>Why *this* matters</h2><p>Use [brackets] and_underscores.</p>\
        <ul><li>one</li><li>two</li></ul><blockquote><p>quoted</p></blockquote>\
        <p><img src=\"/i.png\" alt=\"pic\"> <em>em</em> <strong>bold</strong></p>"
        .into();
    let md = markdown::render(&a, &[], "footer");
    let body = "#### Why \\*this\\* matters\n\nUse \\[brackets\\] and\\_underscores.\n\n- one\n\n- two\n\n> quoted\n\n![pic](/i.png) *em* **bold**";
    assert_eq!(
        md,
        format!("### {}\n\n---\n\n{body}\n\n---\n\nfooter\n", a.title)
    );
}
