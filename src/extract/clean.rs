//! What is boilerplate: tags, roles, hidden nodes and class/id names that mark
//! navigation, ads, sharing widgets and the like.
//!
//! The class and id vocabulary follows Readability's (it has been tuned on many
//! sites for a decade), plus names common on Chinese news sites and ad slots.

use std::sync::LazyLock;

use html5ever::{LocalName, local_name};
use regex::Regex;

use super::dom::{Dom, NodeId};

fn regex(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

/// Names that make a node unlikely to be (part of) the article.
static UNLIKELY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"(?i)-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote|newsletter|subscribe|recommend|recirc|navbar|toolbar|copyright",
    )
});

/// Names that rescue an unlikely-looking node: "main-header-and-content".
static MAYBE_CANDIDATE: LazyLock<Option<Regex>> =
    LazyLock::new(|| regex(r"(?i)and|article|body|column|content|main|mathjax|shadow"));

static POSITIVE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"(?i)article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story|zhengwen|neirong|wenzhang",
    )
});

static NEGATIVE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"(?i)-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget|newsletter|subscribe|recommend|taboola",
    )
});

/// Ad slots: `ad`, `ads`, `advert...` as a whole word of a class or id.
static AD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(r"(?i)(^|[\s_-])(ads?|advert\w*|adv|adsbygoogle|dfp|sponsored)([\s_-]|$)")
});

static SHARE: LazyLock<Option<Regex>> =
    LazyLock::new(|| regex(r"(?i)share|sharing|social|sns|addthis"));

static BYLINE: LazyLock<Option<Regex>> =
    LazyLock::new(|| regex(r"(?i)byline|author|dateline|writtenby|p-author"));

/// Short lines that credit or date the article: "来源：新华网", "责任编辑：李琳",
/// "2005-04-05 06:40更新", "本报记者 王燕平", paging links.
static META_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"(?x)^[\s【\[(（-]*(?:
            (?:文章|新闻|信息|稿件)?(?:来源|来自|出处|稿源)\s*[:：|｜/]
          | (?:编辑|责编|责任编辑|编审|审核|校对|作者|撰文|记者|本报记者|特约记者|通讯员|
               摄影|图片|图|文|原标题|发布时间|发表时间|更新时间|发布日期|时间|日期|点击|浏览|访问统计)
            \s*[:：|｜/]
          | (?:本报|本刊|本台|新华社|中新社|中新网)?(?:实习生|记者|通讯员)\s*\S
          | \d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}
          | .*(?:上一页|下一页|查看更多|责任编辑|发表评论|件评论|条评论)
          | .*\d{3,4}-\d{7,8}
        )",
    )
});

/// Copyright and reprint notices ("版权所有", "未经授权禁止转载", "免责声明").
static NOTICE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"(?i)版权所有|版权归|著作权|侵权|未经.{0,12}(?:许可|授权|同意)|禁止.{0,4}转载|不得.{0,4}转载|转载请|免责声明|声明[:：]|仅代表作者|all rights reserved|subject to copyright|copyright\s*(?:©|\(c\)|\d{4})|©\s*\d{4}|reproduced without|without (?:the )?(?:prior )?(?:express )?written permission",
    )
});

// Word boundaries in these patterns are ASCII (`(?-u:\b)`): a Unicode `\b` makes the
// regex crate leave its fast DFA on non-ASCII text, and every such word is ASCII.

/// Calls to action and cross-links: "Related: …", "SEE MORE:", "Click here to …",
/// "Subscribe to …", "Follow us on …", "About the Author".
static PROMO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"(?ix)^\W*(?:
            (?:related|more|see\ more|read\ more|also|don'?t\ miss|recommended|trending|watch|listen)\s*(?:[:：]|\.\.\.|…)
          | (?:click|tap)\ here(?-u:\b) | subscribe\ (?:to|now)(?-u:\b) | sign\ up\ (?:for|to|now)(?-u:\b)
          | follow\ (?:us|@) | get\ the\ latest(?-u:\b) | download\ (?:the|our)\ app
          | about\ the\ author\W*$ | share\ this\ (?:article|story)
          | .*(?-u:\b)by\ clicking\ here(?-u:\b)
        )",
    )
});

/// A call to action or cross-link line (see [`PROMO`]).
pub(crate) fn is_promo_line(text: &str) -> bool {
    matches(&PROMO, text)
}

/// A short credit, date or paging line (see [`META_LINE`]), or a line that is
/// little more than a date ("Saturday, September 10th, 2005 10:56 am").
pub(crate) fn is_meta_line(text: &str) -> bool {
    let len = text.chars().count();
    len <= 80 && matches(&META_LINE, text)
        || (len <= 60
            && super::text::word_count(text) <= 10
            && super::dates::normalize(text).is_some())
}

/// A copyright or reprint notice of paragraph size.
pub(crate) fn is_notice(text: &str) -> bool {
    text.chars().count() <= 300 && matches(&NOTICE, text)
}

fn matches(re: &LazyLock<Option<Regex>>, s: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(s))
}

/// Elements that never carry article text.
pub(crate) fn is_junk_tag(tag: &LocalName) -> bool {
    matches!(
        *tag,
        local_name!("script")
            | local_name!("style")
            | local_name!("noscript")
            | local_name!("template")
            | local_name!("iframe")
            | local_name!("frame")
            | local_name!("frameset")
            | local_name!("object")
            | local_name!("embed")
            | local_name!("applet")
            | local_name!("canvas")
            | local_name!("select")
            | local_name!("option")
            | local_name!("textarea")
            | local_name!("input")
            | local_name!("button")
            | local_name!("dialog")
            | local_name!("audio")
            | local_name!("video")
            | local_name!("source")
            | local_name!("track")
            | local_name!("map")
            | local_name!("link")
            | local_name!("meta")
            | local_name!("head")
            | local_name!("title")
    )
}

/// Page furniture by element: navigation and asides around the article.
pub(crate) fn is_furniture_tag(tag: &LocalName) -> bool {
    matches!(
        *tag,
        local_name!("nav") | local_name!("aside") | local_name!("footer") | local_name!("menu")
    )
}

/// `class` and `id` joined, for name tests.
pub(crate) fn names_of(dom: &Dom, id: NodeId) -> String {
    let class = dom.attr(id, "class").unwrap_or_default();
    let ident = dom.attr(id, "id").unwrap_or_default();
    if ident.is_empty() {
        class.to_string()
    } else {
        format!("{class} {ident}")
    }
}

pub(crate) fn is_hidden(dom: &Dom, id: NodeId) -> bool {
    if dom.attr(id, "hidden").is_some() {
        return true;
    }
    if dom
        .attr(id, "aria-hidden")
        .is_some_and(|v| v.trim() == "true")
        && !dom
            .attr(id, "class")
            .is_some_and(|c| c.contains("fallback-image"))
    {
        return true;
    }
    dom.attr(id, "style").is_some_and(|style| {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

pub(crate) fn has_furniture_role(dom: &Dom, id: NodeId) -> bool {
    dom.attr(id, "role").is_some_and(|r| {
        matches!(
            r.trim(),
            "menu"
                | "menubar"
                | "complementary"
                | "navigation"
                | "alert"
                | "alertdialog"
                | "dialog"
        )
    })
}

/// Readability's "unlikely candidate" test on class and id.
pub(crate) fn has_unlikely_names(names: &str) -> bool {
    matches(&UNLIKELY, names) && !matches(&MAYBE_CANDIDATE, names)
}

pub(crate) fn is_ad_slot(names: &str) -> bool {
    matches(&AD, names)
}

pub(crate) fn is_share_widget(names: &str) -> bool {
    matches(&SHARE, names)
}

pub(crate) fn is_byline(dom: &Dom, id: NodeId, names: &str) -> bool {
    dom.attr(id, "rel").is_some_and(|r| r == "author")
        || dom
            .attr(id, "itemprop")
            .is_some_and(|p| p.contains("author"))
        || matches(&BYLINE, names)
}

/// +25 for article-like names, -25 for furniture-like ones, on class and id each.
pub(crate) fn class_weight(dom: &Dom, id: NodeId) -> f32 {
    let mut weight = 0.0;
    for attr in ["class", "id"] {
        let Some(v) = dom.attr(id, attr).filter(|v| !v.is_empty()) else {
            continue;
        };
        if matches(&NEGATIVE, v) || is_ad_slot(v) {
            weight -= 25.0;
        }
        if matches(&POSITIVE, v) {
            weight += 25.0;
        }
    }
    weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_slot_names_are_recognised_as_whole_words() {
        assert!(is_ad_slot("below_article_ad"));
        assert!(is_ad_slot("ad-slot top"));
        assert!(is_ad_slot("advertisement"));
        assert!(!is_ad_slot("header loaded shadow"));
        assert!(!is_ad_slot("adjacent"));
    }

    #[test]
    fn credit_and_date_lines_are_recognised() {
        assert!(is_meta_line("责任编辑：李琳#"));
        assert!(is_meta_line("文章来源：千龙网"));
        assert!(is_meta_line("本报记者 王燕平 方云凤"));
        // One site's or one engine's furniture is no rule (it helped only its own fold).
        assert!(!is_meta_line("返回搜狐"));
        assert!(!is_meta_line("Trackback"));
        assert!(is_meta_line(
            "Updated 5:27 am CST, Wednesday, November 20, 2019"
        ));
        assert!(!is_meta_line("白宫正为拜登与习近平的会晤制定计划。"));
        assert!(!is_meta_line(
            "On November 20, 2019 the council met to decide on the new bridge."
        ));
    }

    #[test]
    fn notices_and_calls_to_action_are_recognised() {
        assert!(is_notice("原创版权禁止商业转载"));
        assert!(is_notice("This document is subject to copyright."));
        assert!(!is_notice(
            "其次，播客使本来已经很麻烦的互联网版权问题更加复杂。"
        ));
        assert!(is_promo_line(
            "Related: The 15 Weirdest Galaxies in Our Universe"
        ));
        assert!(is_promo_line("READ MORE ON FOX BUSINESS BY CLICKING HERE"));
        assert!(!is_promo_line(
            "More than 4,000 people are expected to receive notice."
        ));
    }

    #[test]
    fn unlikely_names_are_rescued_by_content_words() {
        assert!(has_unlikely_names("sidebar-widgets"));
        assert!(!has_unlikely_names("main-header-and-content"));
    }
}
