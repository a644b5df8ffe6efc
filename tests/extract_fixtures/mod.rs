//! Pages built for the extractor's tests, and a helper to run it on them.
#![allow(dead_code)] // each test crate uses a different part

use newsmirror::extract::{Article, ExtractError, Input, Limits, Selectors, extract};
use url::Url;

pub fn url(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|e| panic!("test URL {s}: {e}"))
}

pub fn run(html: &str, page_url: &str) -> Result<Article, ExtractError> {
    run_with(html, page_url, None, Limits::default())
}

pub fn run_with(
    html: &str,
    page_url: &str,
    selectors: Option<&Selectors>,
    limits: Limits,
) -> Result<Article, ExtractError> {
    let page_url = url(page_url);
    extract(Input {
        html,
        page_url: &page_url,
        selectors,
        limits,
    })
}

pub fn article(html: &str, page_url: &str) -> Article {
    run(html, page_url).unwrap_or_else(|e| panic!("expected an article, got {e}"))
}

pub const ENGLISH_URL: &str = "https://mirror.example.org/news/2024/03/bridge.html";

/// An English news article with the usual furniture around it.
pub fn english_news_page() -> String {
    let paragraphs = [
        "The city council voted seven to two on Tuesday to approve a new bridge across the river, ending a debate that has run for more than a decade.",
        "Supporters said the crossing would cut commuting times for thousands of residents on the east bank, who now face a detour of several miles each way.",
        "Opponents, including two members of the council, argued that the cost had been underestimated and that the money would be better spent on buses.",
        "Construction is expected to begin next spring, according to the city's <a href=\"/news/2024/02/plan.html\">published plan</a>, and to take about three years.",
        "The council also agreed to hold a public consultation on the design of the approach roads, which will cross a protected wetland.",
    ];
    let body: String = paragraphs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let ad = if i == 2 {
                "<div class=\"ad-slot\" id=\"ad-top\">Advertisement: Buy one, get one free!</div>"
            } else {
                ""
            };
            format!("<p>{p}</p>{ad}\n")
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="en-GB"><head>
<title>Council approves new river bridge - Example News</title>
<meta property="og:site_name" content="Example News">
<meta name="description" content="The city council voted 7-2 to approve a new bridge across the river.">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
 "headline":"Council approves new river bridge","datePublished":"2024-03-05T09:30:00+00:00",
 "dateModified":"2024-03-05T11:00:00Z","author":[{{"@type":"Person","name":"Jane Reporter"}}],
 "publisher":{{"@type":"Organization","name":"Example News"}}}}</script>
<script>var tracking = "tracking-code-should-not-appear";</script>
<style>.x {{ color: red }}</style>
</head><body>
<nav id="site-nav"><a href="/">Home</a> <a href="/world/">World</a> <a href="/sport/">Sport</a></nav>
<header class="site-header"><a href="/"><img src="/logo.png" alt="Example News"></a></header>
<main><article>
<h1>Council approves new river bridge</h1>
<p class="byline">By <a rel="author" href="/authors/jane">Jane Reporter</a></p>
<time datetime="2024-03-05T09:30:00Z">5 March 2024</time>
<figure><img src="../images/bridge.jpg" alt="The river crossing"><figcaption>The planned crossing, seen from the east bank.</figcaption></figure>
{body}
<ul class="tags"><li><a href="/tag/transport" rel="tag">Transport</a></li><li><a href="/tag/city-council" rel="tag">City council</a></li></ul>
<form class="comment-form"><input name="comment"><button>Post comment</button></form>
</article></main>
<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/a.html">Other story one</a></li><li><a href="/b.html">Other story two</a></li></ul></aside>
<footer>Copyright 2024 Example News</footer>
</body></html>"#
    )
}

pub const CHINESE_URL: &str = "https://mirror.example.org/gb/23/10/6/n14089442.htm";
pub const CHINESE_TITLE: &str = "消息：拜登计划11月与习近平于加州会面";
pub const LEAD_IMAGE: &str =
    "/_/asset/i.epochtimes.com/assets/uploads/2022/11/id13866350-585304-600x400.jpg";
pub const LEAD_CAPTION: &str =
    "2022年11月14日，拜登与习近平在巴厘岛进行面对面会晤。(Saul Loeb/AFP via Getty Images)";

/// A Chinese article laid out like the seed page (`#artbody`, `.caption`, tag links),
/// as the mirror serves it: nav bar and footer injected, URLs rewritten.
pub fn chinese_seed_page() -> String {
    format!(
        r#"<html><head><meta charset="utf-8">
<title>{CHINESE_TITLE} | 大纪元</title>
<meta property="og:site_name" content="大纪元">
<meta property="article:published_time" content="2023-10-06T12:00:00+08:00">
<meta property="article:tag" content="拜登">
</head><body>
<nav id="newsmirror-nav"><a href="/gb/">首页</a><a href="/gb/nsc413.htm">评论</a></nav>
<div id="main" class="row">
<h1 class="title">{CHINESE_TITLE}</h1>
<div class="mbottom10"><span class="time">更新: 2023-10-06 12:00 AM</span></div>
<div class="featured_image"><img alt="{CHINESE_TITLE}" src="{LEAD_IMAGE}"/>
<div class="caption">
 {LEAD_CAPTION}
</div></div><hr/>
<div class="post_content" id="artbody" itemprop="articleBody">
 <!-- article content begin -->
 <p>【大纪元2023年10月06日讯】（大纪元记者陈霆综合报导）知情官员周四（10月5日）表示，白宫正为<a href="/gb/tag/拜登.html">拜登</a>与<a href="/gb/tag/习近平.html">习近平</a>的会晤制定计划。预计在11月，两位领导人可能在旧金山<a href="/gb/tag/亚太经合组织.html">亚太经合组织</a>（APEC）峰会时会面。</p>
 <p>不过，北京尚未对参加此次会议做出承诺，计划中的会议仍可能破局。上个月，习近平也缺席了在印度举行的20国集团（G20）峰会。</p>
 <p>近几年，美中关系因为一系列事件陷入僵局，白宫正为此多方进行尝试，希望稳定美中关系。</p>
 <p>然而，中共近期多次在台湾周围军演，美国也加强了与盟国在南海的联合演习。因为美中军事热线已中断多时，许多观察家都担忧误判的风险升高。</p>
 <p>美国官员周四表示，他们相信两人即将再次进行面对面会谈。中共外长王毅本月计划访问华盛顿，届时将进一步为“拜习会”铺路。</p>
 <p>责任编辑：李琳#</p>
 <!-- article content end -->
 <div id="below_article_ad"><script>show_ad();</script>广告</div>
</div>
<div id="tagsdiv"><a href="/gb/tag/峰会.html">峰会</a> <a href="/gb/tag/拜习会.html">拜习会</a></div>
</div>
<footer id="newsmirror-footer">原文链接（需翻墙）：https://www.epochtimes.com/gb/23/10/6/n14089442.htm</footer>
</body></html>"#
    )
}

/// A section page: a list of teasers, no article.
pub fn section_page() -> String {
    let teasers: String = (1..=10)
        .map(|i| format!(
            "<div class=\"story\"><h2><a href=\"/world/story-{i}.html\">Headline number {i} about events somewhere far away</a></h2>\
             <p>Short summary of story {i}, with a few words of context.</p></div>\n"
        ))
        .collect();
    format!(
        r#"<html><head><title>World news - Example News</title></head><body>
<nav><a href="/">Home</a> <a href="/world/">World</a></nav>
<h1>World news</h1>
<div class="stories">{teasers}</div>
<footer>Copyright 2024 Example News</footer>
</body></html>"#
    )
}

/// A section page of teaser cards whose links wrap the headline heading, with images.
pub fn card_section_page() -> String {
    let cards: String = (1..=12)
        .map(|i| format!(
            "<article class=\"card\"><a href=\"/news/story-{i}.html\"><img src=\"/img/{i}.jpg\" alt=\"\">\
             <h3>Story {i}: officials announce a new plan for the city centre</h3></a>\
             <p>Residents react to the announcement, number {i} in a series.</p>\
             <span class=\"date\">2 hours ago</span></article>\n"
        ))
        .collect();
    format!(
        r#"<html><head><title>Local news | Example News</title></head><body>
<header><nav><a href="/">Home</a> <a href="/local/">Local</a></nav></header>
<main><h1>Local news</h1><section class="grid">{cards}</section></main>
<footer>Copyright 2024 Example News</footer>
</body></html>"#
    )
}
