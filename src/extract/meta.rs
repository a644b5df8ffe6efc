//! Page metadata: JSON-LD, OpenGraph and other `<meta>`, `<title>`, `<html lang>`.
//!
//! The order of preference follows what publishers fill in most carefully: JSON-LD
//! (it feeds search engines), then Dublin Core / OpenGraph / Twitter meta, then the
//! document itself. The title falls back to Readability's well-tested `<title>`
//! clean-up (site names after `|`, `-`, `»`...), so results agree with reader views.

use html5ever::local_name;
use serde_json::Value;

use super::ExtractError;
use super::body::Body;
use super::dom::{Dom, NodeId};
use super::limits::Budget;
use super::selector::CompiledSelectors;
use super::text::collapse_whitespace;
use super::{dates, text};

/// Schema.org types that describe an article.
const ARTICLE_TYPES: &[&str] = &[
    "Article",
    "NewsArticle",
    "Report",
    "BlogPosting",
    "SocialMediaPosting",
    "DiscussionForumPosting",
    "TechArticle",
    "APIReference",
    "ScholarlyArticle",
];

/// What the page says about itself, read once.
#[derive(Debug, Default)]
pub(crate) struct PageMeta {
    /// `<meta>` (key, content) in document order; keys lower-cased from `property`,
    /// `name`, `itemprop` or `http-equiv`.
    metas: Vec<(String, String)>,
    pub jsonld: JsonLd,
    /// `<title>`, whitespace collapsed.
    pub doc_title: String,
    html_lang: Option<String>,
    html_dir: Option<String>,
}

/// Fields of the page's first article-typed JSON-LD object.
#[derive(Debug, Default)]
pub(crate) struct JsonLd {
    pub found: bool,
    pub name: Option<String>,
    pub headline: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub description: Option<String>,
    pub publisher: Option<String>,
    pub language: Option<String>,
    pub keywords: Vec<String>,
    pub image: Option<String>,
}

/// The resolved metadata fields of an [`super::Article`].
pub(crate) struct Fields {
    pub title: String,
    pub byline: Option<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub lang: Option<String>,
    pub dir: String,
    pub excerpt: String,
    pub site_name: Option<String>,
}

impl PageMeta {
    /// Whether the page says it is an article: article-typed JSON-LD,
    /// `og:type=article`, or an `article:published_time`.
    pub(crate) fn declares_article(&self) -> bool {
        self.jsonld.found
            || self.metas.iter().any(|(k, v)| {
                (k == "og:type" && v.trim().eq_ignore_ascii_case("article"))
                    || k == "article:published_time"
            })
    }
}

impl PageMeta {
    pub(crate) fn read(dom: &Dom, budget: &mut Budget) -> Result<PageMeta, ExtractError> {
        let mut page = PageMeta::default();
        let html = dom.html_element();
        page.html_lang = dom.attr(html, "lang").map(str::to_string);
        page.html_dir = dom
            .attr(html, "dir")
            .or_else(|| dom.attr(dom.body(), "dir"))
            .map(str::to_ascii_lowercase);
        for id in dom.descendants(Dom::ROOT) {
            budget.tick()?;
            let Some(tag) = dom.tag(id) else { continue };
            if *tag == local_name!("meta") {
                page.add_meta(dom, id);
            } else if *tag == local_name!("title") && page.doc_title.is_empty() {
                page.doc_title = dom.text_content(id);
            } else if *tag == local_name!("script")
                && !page.jsonld.found
                && dom
                    .attr(id, "type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
            {
                page.jsonld = JsonLd::parse(&dom.text_content(id));
            }
        }
        Ok(page)
    }

    fn add_meta(&mut self, dom: &Dom, id: NodeId) {
        let Some(content) = dom.attr(id, "content").or_else(|| dom.attr(id, "value")) else {
            return;
        };
        let content = content.trim();
        if content.is_empty() {
            return;
        }
        // RDFa allows several space-separated properties on one element.
        for key in dom
            .attr(id, "property")
            .unwrap_or_default()
            .split_whitespace()
        {
            self.metas
                .push((key.to_ascii_lowercase(), content.to_string()));
        }
        for attr in ["name", "itemprop", "http-equiv"] {
            if let Some(key) = dom.attr(id, attr) {
                let key = key.trim().to_ascii_lowercase();
                if !key.is_empty() {
                    self.metas.push((key, content.to_string()));
                }
            }
        }
    }

    /// The first `<meta>` content for any of `keys` (in `keys` order of preference).
    pub(crate) fn meta(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| {
            self.metas
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        })
    }

    /// All contents for `key`, in document order.
    pub(crate) fn meta_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.metas
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The article title from metadata alone, as Readability prefers it.
    fn meta_title(&self, doc_title: &str) -> Option<String> {
        let ld = &self.jsonld;
        let from_ld = match (&ld.name, &ld.headline) {
            (Some(name), Some(headline)) if name != headline => {
                let name_ok = similarity(name, doc_title) > 0.75;
                let headline_ok = similarity(headline, doc_title) > 0.75;
                Some(if headline_ok && !name_ok {
                    headline
                } else {
                    name
                })
            }
            (Some(name), _) => Some(name),
            (None, Some(headline)) => Some(headline),
            _ => None,
        };
        from_ld
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| {
                self.meta(&[
                    "dc:title",
                    "dcterm:title",
                    "og:title",
                    "weibo:article:title",
                    "weibo:webpage:title",
                    "title",
                    "twitter:title",
                    "parsely-title",
                ])
                .map(str::to_string)
            })
    }
}

impl JsonLd {
    fn parse(script: &str) -> JsonLd {
        let script = script
            .trim()
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>");
        // serde_json refuses nesting deeper than 128, so hostile JSON cannot recurse far.
        let Ok(value) = serde_json::from_str::<Value>(script) else {
            return JsonLd::default();
        };
        let Some(article) = find_article(&value) else {
            return JsonLd::default();
        };
        let string = |key: &str| {
            article
                .get(key)
                .and_then(Value::as_str)
                .map(|s| unescape_entities(s.trim()))
                .filter(|s| !s.is_empty())
        };
        JsonLd {
            found: true,
            name: string("name"),
            headline: string("headline"),
            authors: names(article.get("author")),
            published: string("datePublished"),
            modified: string("dateModified"),
            description: string("description"),
            publisher: names(article.get("publisher")).into_iter().next(),
            language: string("inLanguage"),
            keywords: keywords(article.get("keywords")),
            image: image_url(article.get("image")),
        }
    }
}

fn is_article_type(v: &Value) -> bool {
    let matches = |t: &str| ARTICLE_TYPES.iter().any(|a| t.ends_with(a));
    match v.get("@type") {
        Some(Value::String(t)) => matches(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(matches),
        _ => false,
    }
}

fn find_article(v: &Value) -> Option<&Value> {
    let candidates: Box<dyn Iterator<Item = &Value>> = match v {
        Value::Array(items) => Box::new(items.iter().flat_map(graph_or_self)),
        other => Box::new(graph_or_self(other).into_iter()),
    };
    candidates.into_iter().find(|c| is_article_type(c))
}

fn graph_or_self(v: &Value) -> Vec<&Value> {
    match v.get("@graph").and_then(Value::as_array) {
        Some(graph) => graph.iter().chain(std::iter::once(v)).collect(),
        None => vec![v],
    }
}

/// Names from a schema.org Person/Organization, a list of them, or plain strings.
fn names(v: Option<&Value>) -> Vec<String> {
    let one = |v: &Value| -> Option<String> {
        let s = match v {
            Value::String(s) => s.as_str(),
            Value::Object(_) => v.get("name")?.as_str()?,
            _ => return None,
        };
        let s = collapse_whitespace(&unescape_entities(s));
        (!s.is_empty() && !s.starts_with("http")).then_some(s)
    };
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => vec![],
    }
}

fn keywords(v: Option<&Value>) -> Vec<String> {
    let split = |s: &str| -> Vec<String> {
        s.split([',', '，', ';'])
            .map(collapse_whitespace)
            .filter(|k| !k.is_empty())
            .collect()
    };
    match v {
        Some(Value::String(s)) => split(s),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(split)
            .collect(),
        _ => vec![],
    }
}

fn image_url(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => image_url(items.first()),
        obj @ Value::Object(_) => obj.get("url").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Decodes entities that survive in metadata written double-escaped (`&amp;#39;`).
pub(crate) fn unescape_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    html_escape::decode_html_entities(s).into_owned()
}

/// Readability's token similarity: the share of `b`'s text made of tokens also in `a`.
fn similarity(a: &str, b: &str) -> f32 {
    let tokens = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    let ta = tokens(a);
    let tb = tokens(b);
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    let uniq_b: Vec<&str> = tb
        .iter()
        .filter(|t| !ta.contains(t))
        .map(String::as_str)
        .collect();
    let distance = uniq_b.join(" ").chars().count() as f32 / tb.join(" ").chars().count() as f32;
    1.0 - distance
}

const TITLE_SEPARATORS: &[char] = &['|', '-', '–', '—', '\\', '/', '>', '»'];
const HIERARCHICAL_SEPARATORS: &[char] = &['\\', '/', '>', '»'];

/// Readability's clean-up of `<title>`: drop the site name after a separator unless
/// what is left is too short to be a headline.
pub(crate) fn title_from_document(dom: &Dom, doc_title: &str) -> String {
    let orig = doc_title.trim();
    // Words as a reader counts them: a Chinese headline is not "one word".
    let words = text::word_count;
    let separators = separator_positions(orig);
    let mut hierarchical = false;
    let mut cur = orig.to_string();
    if let Some(&(last, _)) = separators.last() {
        hierarchical = separators
            .iter()
            .any(|(_, c)| HIERARCHICAL_SEPARATORS.contains(c));
        cur = orig.get(..last).unwrap_or(orig).to_string();
        if words(&cur) < 3 {
            // "Site | Headline": take everything after the first separator.
            cur = orig
                .find(TITLE_SEPARATORS)
                .and_then(|i| orig.get(i..))
                .map(|s| s.trim_start_matches(TITLE_SEPARATORS).to_string())
                .unwrap_or_else(|| orig.to_string());
        }
    } else if orig.contains(": ") {
        let headings_match = [local_name!("h1"), local_name!("h2")].iter().any(|name| {
            dom.elements_named(name)
                .any(|h| dom.text_content(h) == orig)
        });
        if !headings_match {
            let after_last = orig
                .rfind(':')
                .map_or(orig, |i| orig.get(i + 1..).unwrap_or(orig));
            cur = after_last.to_string();
            let before_first = orig.find(':').map_or("", |i| orig.get(..i).unwrap_or(""));
            if words(&cur) < 3 {
                cur = orig
                    .find(':')
                    .map_or(orig, |i| orig.get(i + 1..).unwrap_or(orig))
                    .to_string();
            } else if words(before_first) > 5 {
                cur = orig.to_string();
            }
        }
    } else if orig.chars().count() > 150 || orig.chars().count() < 15 {
        let h1s: Vec<NodeId> = dom.elements_named(&local_name!("h1")).take(2).collect();
        if let [only] = h1s.as_slice() {
            cur = dom.text_content(*only);
        }
    }
    let cur = collapse_whitespace(&cur);
    let cur_words = words(&cur);
    let orig_words_without_separators =
        words(&orig.replace(TITLE_SEPARATORS, "")).saturating_sub(1);
    if cur_words <= 4 && (!hierarchical || cur_words != orig_words_without_separators) {
        return orig.to_string();
    }
    cur
}

/// Byte offsets of " <sep> " occurrences (a separator with a space on each side).
fn separator_positions(s: &str) -> Vec<(usize, char)> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    chars
        .windows(3)
        .filter_map(|w| match w {
            [(i, ' '), (_, c), (_, ' ')] if TITLE_SEPARATORS.contains(c) => Some((*i, *c)),
            _ => None,
        })
        .collect()
}

/// The text of the first element `sel` matches, if any and non-empty.
fn selected_text(dom: &Dom, sel: Option<&super::selector::SelectorList>) -> Option<String> {
    let id = sel?.select_first(dom, Dom::ROOT)?;
    let text = dom.text_content(id);
    (!text.is_empty()).then_some(text)
}

/// The article title: configured selector, else metadata, else the cleaned `<title>`.
pub(crate) fn title(dom: &Dom, page: &PageMeta, selectors: Option<&CompiledSelectors>) -> String {
    selected_text(dom, selectors.and_then(|s| s.title.as_ref()))
        .or_else(|| page.meta_title(&page.doc_title))
        .map(|t| collapse_whitespace(&unescape_entities(&t)))
        .unwrap_or_else(|| title_from_document(dom, &page.doc_title))
}

pub(crate) fn resolve_fields(
    dom: &Dom,
    page: &PageMeta,
    body: &Body,
    selectors: Option<&CompiledSelectors>,
    title: String,
    article_text: &str,
) -> Fields {
    let lang = language(page, article_text);
    let dir = direction(page, lang.as_deref());
    Fields {
        byline: byline(dom, page, body, selectors),
        published: published(dom, page, body, selectors, article_text),
        modified: modified(dom, page),
        excerpt: excerpt(page, article_text),
        site_name: page
            .jsonld
            .publisher
            .clone()
            .or_else(|| page.meta(&["og:site_name"]).map(unescape_entities)),
        title,
        lang,
        dir,
    }
}

fn byline(
    dom: &Dom,
    page: &PageMeta,
    body: &Body,
    selectors: Option<&CompiledSelectors>,
) -> Option<String> {
    if let Some(by) = selected_text(dom, selectors.and_then(|s| s.byline.as_ref())) {
        return Some(by);
    }
    if !page.jsonld.authors.is_empty() {
        return Some(page.jsonld.authors.join(", "));
    }
    let from_meta = page
        .meta(&["dc:creator", "dcterm:creator", "author", "parsely-author"])
        .or_else(|| {
            page.meta(&["article:author"])
                .filter(|a| !a.starts_with("http"))
        })
        .map(|a| collapse_whitespace(&unescape_entities(a)));
    from_meta.or_else(|| {
        body.byline
            .map(|id| dom.text_content(id))
            .filter(|t| !t.is_empty())
    })
}

/// A date from an element: `content`, `datetime`, or its text.
fn date_of_element(dom: &Dom, id: NodeId) -> Option<String> {
    ["content", "datetime"]
        .iter()
        .filter_map(|a| dom.attr(id, a))
        .find_map(dates::normalize)
        .or_else(|| dates::normalize(&dom.text_content(id)))
}

fn published(
    dom: &Dom,
    page: &PageMeta,
    body: &Body,
    selectors: Option<&CompiledSelectors>,
    article_text: &str,
) -> Option<String> {
    if let Some(sel) = selectors.and_then(|s| s.published.as_ref())
        && let Some(date) = sel
            .select_all(dom, Dom::ROOT)
            .into_iter()
            .find_map(|id| date_of_element(dom, id))
    {
        return Some(date);
    }
    let from_meta = page
        .jsonld
        .published
        .as_deref()
        .and_then(dates::normalize)
        .or_else(|| {
            [
                "article:published_time",
                "og:published_time",
                "datepublished",
                "parsely-pub-date",
                "pubdate",
                "publishdate",
                "publish-date",
                "publish_date",
                "sailthru.date",
                "dc.date.issued",
                "dc.date",
                "dcterms.created",
                "date",
            ]
            .iter()
            .filter_map(|k| page.meta(&[k]))
            .find_map(dates::normalize)
        });
    from_meta
        .or_else(|| time_element(dom, body))
        .or_else(|| {
            body.byline
                .and_then(|id| dates::find_in_text(&dom.text_content(id)))
        })
        .or_else(|| dates::find_in_text(article_text))
        .or_else(|| dateline(dom, body))
}

/// A date on one of the short lines just before the body: the dateline of
/// pages that put it in no meta tag or `<time>`, as text under the title
/// (`2005-04-05 06:40 来源：…`, `2026年11月20日 09:30`). The nearest such
/// line wins, so that a date in the site's header bar (often today's)
/// loses to the article's own. Captions are not lines: they date photos.
fn dateline(dom: &Dom, body: &Body) -> Option<String> {
    /// Lines looked at, counted back from the body's start.
    const LINES: usize = 8;
    /// Longer text is a paragraph or a teaser, not a dateline.
    const LINE_CHARS: usize = 120;
    let start = *body.roots.first()?;
    // A body that is not inside `<body>` has no lines before it to walk
    // to: the walk would reach the page's end (its footer's dates).
    if !dom.is_ancestor(dom.body(), start) {
        return None;
    }
    let mut lines: std::collections::VecDeque<&str> = std::collections::VecDeque::new();
    for id in dom.descendants(dom.body()) {
        if id == start {
            break;
        }
        let Some(t) = dom.text(id).map(str::trim) else {
            continue;
        };
        let parent = dom.parent(id);
        if dom.is(parent, &local_name!("script")) || dom.is(parent, &local_name!("style")) {
            continue;
        }
        // A photo's caption dates the photo ("…leaves port on Aug. 31"),
        // and often sits between the byline and the body.
        if dom
            .ancestors(id)
            .any(|a| dom.is(a, &local_name!("figcaption")) || dom.is(a, &local_name!("figure")))
        {
            continue;
        }
        if t.is_empty() || t.chars().nth(LINE_CHARS).is_some() {
            continue;
        }
        if lines.len() == LINES {
            lines.pop_front();
        }
        lines.push_back(t);
    }
    lines.iter().rev().find_map(|t| dates::find_in_text(t))
}

/// The `<time datetime>` most likely to be the publication time.
fn time_element(dom: &Dom, body: &Body) -> Option<String> {
    let times: Vec<NodeId> = dom
        .elements_named(&local_name!("time"))
        .filter(|t| dom.attr(*t, "datetime").is_some())
        .collect();
    let marked = times.iter().find(|t| {
        dom.attr(**t, "pubdate").is_some()
            || dom
                .attr(**t, "itemprop")
                .is_some_and(|p| p.contains("datePublished"))
    });
    let near_body = times.iter().find(|t| {
        body.roots
            .iter()
            .any(|r| dom.is_ancestor(dom.parent(*r), **t))
    });
    marked
        .or(near_body)
        .or(times.first())
        .and_then(|t| dom.attr(*t, "datetime"))
        .and_then(dates::normalize)
}

fn modified(dom: &Dom, page: &PageMeta) -> Option<String> {
    page.jsonld
        .modified
        .as_deref()
        .and_then(dates::normalize)
        .or_else(|| {
            [
                "article:modified_time",
                "og:updated_time",
                "datemodified",
                "dc.date.modified",
                "dcterms.modified",
                "last-modified",
            ]
            .iter()
            .filter_map(|k| page.meta(&[k]))
            .find_map(dates::normalize)
        })
        .or_else(|| {
            dom.descendants(Dom::ROOT)
                .filter(|id| {
                    dom.attr(*id, "itemprop")
                        .is_some_and(|p| p.contains("dateModified"))
                })
                .find_map(|id| date_of_element(dom, id))
        })
}

fn excerpt(page: &PageMeta, article_text: &str) -> String {
    page.jsonld
        .description
        .clone()
        .or_else(|| {
            page.meta(&[
                "dc:description",
                "dcterm:description",
                "og:description",
                "weibo:article:description",
                "weibo:webpage:description",
                "description",
                "twitter:description",
            ])
            .map(|d| collapse_whitespace(&unescape_entities(d)))
        })
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| {
            article_text
                .split("\n\n")
                .map(str::trim)
                .find(|p| !p.is_empty())
                .unwrap_or_default()
                .to_string()
        })
}

/// The page's declared language as a BCP 47 tag, else one detected from the text.
fn language(page: &PageMeta, article_text: &str) -> Option<String> {
    let declared = page
        .html_lang
        .as_deref()
        .or_else(|| page.meta(&["content-language", "language", "dc.language"]))
        .or(page.jsonld.language.as_deref())
        .or_else(|| page.meta(&["og:locale"]))
        .and_then(normalize_lang_tag);
    declared.or_else(|| detect_language(article_text))
}

/// `zh_cn` → `zh-CN`, `EN-us` → `en-US`; `None` for values that are not tags.
pub(crate) fn normalize_lang_tag(raw: &str) -> Option<String> {
    let raw = raw.split([',', ';']).next()?.trim();
    let mut out = Vec::new();
    for (i, part) in raw.split(['-', '_']).enumerate() {
        if part.is_empty() || part.len() > 8 || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        out.push(match (i, part.len()) {
            (0, _) => part.to_ascii_lowercase(),
            (_, 2) => part.to_ascii_uppercase(),
            (_, 4) => {
                let mut s = part.to_ascii_lowercase();
                if let Some(first) = s.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                s
            }
            _ => part.to_ascii_lowercase(),
        });
    }
    let first = out.first()?;
    (first.len() >= 2 && first.len() <= 3 && first.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| out.join("-"))
}

/// Detects the language of the article text. CJK scripts decide by themselves
/// (kana means Japanese, Hangul Korean, Han alone Chinese); others go to whatlang.
fn detect_language(article_text: &str) -> Option<String> {
    let sample: String = article_text.chars().take(2000).collect();
    let (mut han, mut kana, mut hangul, mut letters) = (0usize, 0usize, 0usize, 0usize);
    for c in sample.chars() {
        match c as u32 {
            0x3040..=0x30FF => kana += 1,
            0xAC00..=0xD7AF | 0x1100..=0x11FF => hangul += 1,
            _ if text::is_cjk(c) => han += 1,
            _ if c.is_alphabetic() => letters += 1,
            _ => {}
        }
    }
    let cjk = han + kana + hangul;
    if cjk > letters / 3 && cjk >= 10 {
        return Some(
            if kana * 10 >= cjk {
                "ja"
            } else if hangul * 2 >= cjk {
                "ko"
            } else {
                chinese_script(&sample)
            }
            .to_string(),
        );
    }
    let info = whatlang::detect(&sample)?;
    if !info.is_reliable() && info.confidence() < 0.5 {
        return None;
    }
    Some(iso639_1(info.lang()).to_string())
}

/// Common characters written differently in the two Chinese scripts, paired.
const SIMPLIFIED: &str = "这们说时来国为会发对经过个与关还应进现实东车长门见问间听写书学习业后";
const TRADITIONAL: &str = "這們說時來國為會發對經過個與關還應進現實東車長門見問間聽寫書學習業後";

/// `zh-Hans` or `zh-Hant` by which script's distinctive characters dominate; plain
/// `zh` when the sample has too few of either to tell. Script, not region: a
/// traditional-character page may be from Taiwan, Hong Kong or anywhere.
fn chinese_script(sample: &str) -> &'static str {
    let simplified = sample.chars().filter(|c| SIMPLIFIED.contains(*c)).count();
    let traditional = sample.chars().filter(|c| TRADITIONAL.contains(*c)).count();
    if simplified >= 3 && simplified > traditional * 3 {
        "zh-Hans"
    } else if traditional >= 3 && traditional > simplified * 3 {
        "zh-Hant"
    } else {
        "zh"
    }
}

/// whatlang speaks ISO 639-3; BCP 47 wants the two-letter code where one exists.
fn iso639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang::*;
    match lang {
        Eng => "en",
        Rus => "ru",
        Cmn => "zh",
        Spa => "es",
        Por => "pt",
        Ita => "it",
        Ben => "bn",
        Fra => "fr",
        Deu => "de",
        Ukr => "uk",
        Kat => "ka",
        Ara => "ar",
        Hin => "hi",
        Jpn => "ja",
        Heb => "he",
        Yid => "yi",
        Pol => "pl",
        Amh => "am",
        Jav => "jv",
        Kor => "ko",
        Nob => "nb",
        Dan => "da",
        Swe => "sv",
        Fin => "fi",
        Tur => "tr",
        Nld => "nl",
        Hun => "hu",
        Ces => "cs",
        Ell => "el",
        Bul => "bg",
        Bel => "be",
        Mar => "mr",
        Kan => "kn",
        Ron => "ro",
        Slv => "sl",
        Hrv => "hr",
        Srp => "sr",
        Mkd => "mk",
        Lit => "lt",
        Lav => "lv",
        Est => "et",
        Tam => "ta",
        Vie => "vi",
        Urd => "ur",
        Tha => "th",
        Guj => "gu",
        Uzb => "uz",
        Pan => "pa",
        Aze => "az",
        Ind => "id",
        Tel => "te",
        Pes => "fa",
        Mal => "ml",
        Ori => "or",
        Mya => "my",
        Nep => "ne",
        Sin => "si",
        Khm => "km",
        Tuk => "tk",
        Aka => "ak",
        Zul => "zu",
        Sna => "sn",
        Afr => "af",
        Lat => "la",
        Slk => "sk",
        Cat => "ca",
        Tgl => "tl",
        Hye => "hy",
        Epo => "eo",
        _ => lang.code(),
    }
}

/// `rtl` when the page says so, or when its language is written right to left.
fn direction(page: &PageMeta, lang: Option<&str>) -> String {
    if let Some(dir) = page.html_dir.as_deref()
        && (dir == "rtl" || dir == "ltr")
    {
        return dir.to_string();
    }
    let primary = lang.and_then(|l| l.split('-').next()).unwrap_or_default();
    if ["ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb"].contains(&primary) {
        "rtl".to_string()
    } else {
        "ltr".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title_of(html: &str) -> String {
        let mut budget = Budget::new(None);
        let Ok(dom) = Dom::parse(html, &mut budget) else {
            return String::new();
        };
        let Ok(page) = PageMeta::read(&dom, &mut budget) else {
            return String::new();
        };
        page.meta_title(&page.doc_title)
            .unwrap_or_else(|| title_from_document(&dom, &page.doc_title))
    }

    #[test]
    fn site_name_after_separator_is_dropped_from_document_title() {
        assert_eq!(
            title_of("<title>Obama admits gun laws are his biggest frustration - BBC News</title>"),
            "Obama admits gun laws are his biggest frustration"
        );
    }

    #[test]
    fn short_titles_keep_the_site_name() {
        assert_eq!(
            title_of("<title>Lorem Ipsum | Site</title>"),
            "Lorem Ipsum | Site"
        );
    }

    #[test]
    fn json_ld_headline_and_og_title_win_over_document_title() {
        let ld = r#"<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},{"@type":"NewsArticle","headline":"From JSON-LD"}]}</script>"#;
        assert_eq!(title_of(&format!("<title>Doc</title>{ld}")), "From JSON-LD");
        assert_eq!(
            title_of(r#"<title>Doc</title><meta property="og:title" content="From OG">"#),
            "From OG"
        );
    }

    #[test]
    fn language_tags_are_normalised() {
        assert_eq!(normalize_lang_tag("zh_cn").as_deref(), Some("zh-CN"));
        assert_eq!(normalize_lang_tag("EN-us").as_deref(), Some("en-US"));
        assert_eq!(
            normalize_lang_tag("zh-hant-tw").as_deref(),
            Some("zh-Hant-TW")
        );
        assert_eq!(normalize_lang_tag("not a tag"), None);
    }

    #[test]
    fn language_is_detected_from_text() {
        assert_eq!(
            detect_language("白宫正为拜登与习近平的会晤制定计划，这是两国关系的进展。").as_deref(),
            Some("zh-Hans")
        );
        assert_eq!(
            detect_language("白宮正為拜登與習近平的會晤制定計劃，這是兩國關係的進展。").as_deref(),
            Some("zh-Hant")
        );
        assert_eq!(
            detect_language("白宫计划会晤美中首脑峰会").as_deref(),
            Some("zh")
        );
        assert_eq!(
            detect_language(
                "The White House is planning a meeting between the two leaders next month in \
                 San Francisco, officials said on Thursday, although the other side has not yet \
                 committed to attending and the plans could still fall through."
            )
            .as_deref(),
            Some("en")
        );
    }
}
