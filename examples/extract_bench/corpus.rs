//! Loading the three corpora of `shared/corpora` into (page, truth) cases.

use std::fs;
use std::io::Read;
use std::path::Path;

/// One page to extract, with what the corpus says about it.
pub struct Case {
    pub id: String,
    pub url: url::Url,
    pub html: String,
    pub truth: Truth,
    /// The site the page belongs to, for folds (`folds.rs` says how it is found).
    pub site: String,
    /// The publication day the page is known to have, as `YYYY-MM-DD`: zh,
    /// the corpus' `date/<id>.txt` when it names a year, month and day; aeb,
    /// a date in the URL's path (`/2019/nov/18/`, `/2019-11-18`), which the
    /// extractor never reads, so the figure is not tuned on its labels.
    pub day: Option<String>,
}

pub enum Truth {
    /// aeb: the article body text.
    Body(String),
    /// zh: the cleaned body text (and the wrapper's title, a check only).
    ChineseBody(String),
    /// readability: Readability.js' title.
    Title(String),
}

type Result<T> = std::result::Result<T, String>;

fn parse_url(s: &str) -> Result<url::Url> {
    url::Url::parse(s).map_err(|e| format!("bad page URL {s:?}: {e}"))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn aeb(dir: &Path) -> Result<Vec<Case>> {
    let truth: serde_json::Value = serde_json::from_slice(&read(&dir.join("ground-truth.json"))?)
        .map_err(|e| format!("aeb ground truth: {e}"))?;
    let entries = truth
        .as_object()
        .ok_or("aeb ground truth is not an object")?;
    let mut cases = Vec::new();
    for (id, v) in entries {
        let gz = read(&dir.join("html").join(format!("{id}.html.gz")))?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{id}: {e}"))?;
        let url = v
            .get("url")
            .and_then(|u| u.as_str())
            .unwrap_or("http://example.com/");
        let url = parse_url(url)?;
        cases.push(Case {
            id: id.clone(),
            day: day_in_path(url.path()),
            site: super::folds::registrable_domain(url.host_str().unwrap_or(id)),
            url,
            html: String::from_utf8_lossy(&bytes).into_owned(),
            truth: Truth::Body(
                v.get("articleBody")
                    .and_then(|b| b.as_str())
                    .unwrap_or_default()
                    .to_string(),
            ),
        });
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

pub fn zh(dir: &Path) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    let entries = fs::read_dir(dir.join("original")).map_err(|e| format!("zh: {e}"))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(id) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let raw = read(&path)?;
        let (url, page) = unwrap_text_element(&raw);
        let truth = String::from_utf8_lossy(&read(&dir.join("cleaned").join(format!("{id}.txt")))?)
            .into_owned();
        let html = decode(page, declared_wrapper_encoding(&raw));
        let day = fs::read_to_string(dir.join("date").join(format!("{id}.txt")))
            .ok()
            .and_then(|d| day_of(&d));
        let wrapper_site = url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(super::folds::registrable_domain));
        cases.push(Case {
            url: parse_url(url.as_deref().unwrap_or("http://example.cn/"))?,
            site: wrapper_site
                .or_else(|| super::folds::page_site(&html))
                .unwrap_or_else(|| id.clone()),
            id,
            html,
            truth: Truth::ChineseBody(truth),
            day,
        });
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

pub fn readability(dir: &Path) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("readability: {e}"))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.join("source.html").exists() {
            continue;
        }
        let id = entry.file_name().to_string_lossy().into_owned();
        let meta: serde_json::Value =
            serde_json::from_slice(&read(&path.join("expected-metadata.json"))?)
                .map_err(|e| format!("{id}: {e}"))?;
        cases.push(Case {
            site: super::folds::case_site(&id),
            day: None,
            id,
            // The URL Readability's own test harness uses for these pages.
            url: parse_url("http://fakehost/test/page.html")?,
            html: String::from_utf8_lossy(&read(&path.join("source.html"))?).into_owned(),
            truth: Truth::Title(
                meta.get("title")
                    .and_then(|t| t.as_str())
                    .unwrap_or_default()
                    .to_string(),
            ),
        });
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

/// `/2019/nov/18/slug`, `/2019/11/18/`, `/news/2019-11-18-slug` -> `2019-11-18`.
fn day_in_path(path: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let re = regex::Regex::new(
        r"(?i)/((?:19|20)\d{2})([/-])(\d{1,2}|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*([/-])(\d{1,2})(?:[/\-._]|$)",
    )
    .ok()?;
    let caps = re.captures(path)?;
    let year: u32 = caps.get(1)?.as_str().parse().ok()?;
    let mon = caps.get(3)?.as_str().to_ascii_lowercase();
    let month = match mon.parse::<u32>() {
        Ok(m) => m,
        Err(_) => MONTHS.iter().position(|m| *m == mon)? as u32 + 1,
    };
    let day: u32 = caps.get(5)?.as_str().parse().ok()?;
    // The same separator twice: `/2019/11/18`, not `/2019/11-18`.
    if caps.get(2)?.as_str() != caps.get(4)?.as_str()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
    {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// `2005-5-7 21:23:57` -> `2005-05-07`; `None` for a year or month alone
/// (`1998-3`) and for `UNKNOWN`.
fn day_of(text: &str) -> Option<String> {
    let date = text.split_whitespace().next()?;
    let mut parts = date.split('-').map(|p| p.parse::<u32>().ok());
    let (Some(Some(y)), Some(Some(m)), Some(Some(d)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// Strips `<text id="URL" title="…" encoding="…">…</text>`, returning the URL and the page bytes.
fn unwrap_text_element(raw: &[u8]) -> (Option<String>, &[u8]) {
    if !raw.starts_with(b"<text") {
        return (None, raw);
    }
    let Some(open_end) = raw.iter().position(|b| *b == b'>') else {
        return (None, raw);
    };
    let open = raw.get(..open_end).unwrap_or_default();
    let url = attribute(open, b"id=\"").map(|u| String::from_utf8_lossy(u).into_owned());
    let inner = raw.get(open_end + 1..).unwrap_or_default();
    let end = find_last(inner, b"</text>").unwrap_or(inner.len());
    (url, inner.get(..end).unwrap_or(inner))
}

fn declared_wrapper_encoding(raw: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let open_end = raw.iter().position(|b| *b == b'>')?;
    let label = attribute(raw.get(..open_end)?, b"encoding=\"")?;
    encoding_rs::Encoding::for_label(label)
}

fn attribute<'a>(tag: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let start = find(tag, prefix)? + prefix.len();
    let rest = tag.get(start..)?;
    let end = rest.iter().position(|b| *b == b'"')?;
    rest.get(..end)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Decodes by the page's `<meta charset>` declaration, else the wrapper's, else a
/// sniff: what the mirror itself must do with upstream bytes.
fn decode(page: &[u8], wrapper: Option<&'static encoding_rs::Encoding>) -> String {
    let head = page.get(..page.len().min(4096)).unwrap_or(page);
    let declared = meta_charset(head).or(wrapper);
    let encoding = declared.unwrap_or_else(|| {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(page, true);
        detector.guess(None, chardetng::Utf8Detection::Allow)
    });
    encoding.decode(page).0.into_owned()
}

fn meta_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let lower = head.to_ascii_lowercase();
    let at = find(&lower, b"charset=")? + b"charset=".len();
    let rest = lower.get(at..)?;
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
        .unwrap_or(rest.len());
    encoding_rs::Encoding::for_label(rest.get(..end)?)
}
