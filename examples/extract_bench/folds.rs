//! Site identity of a corpus page, and folds that keep each site in one fold.
//!
//! A site's pages share a template, so a rule tuned on one of them is tuned on
//! all of them: splitting by page would let the template leak into the held-out
//! fold. Pages are therefore grouped by site and whole sites are dealt to folds:
//!
//! - `aeb/`: the registrable domain of the page's `url` in `ground-truth.json`;
//! - `zh/`: the registrable domain of the wrapper's `<text id="URL">`, else of the
//!   page's `<link rel=canonical>` or `og:url`, else the registrable domain most
//!   of the page's own `href` links point to (its navigation; `src` is left out,
//!   as images and scripts often come from CDNs);
//! - `readability/`: the case's directory name without a trailing `-N`
//!   (`nytimes-1`, `nytimes-3` and `nytimes-5` are one site), since the corpus
//!   replaced the pages' URLs with `fakehost`.
//!
//! The registrable domain is the last two labels of the host, or three when the
//! second-to-last is a generic second level under a two-letter country code
//! (`sina.com.cn`, `bbc.co.uk`): a small stand-in for the public-suffix list that
//! is right for every host in these corpora.
//!
//! Folds: sites in decreasing page count (ties in a fixed hash order of the name)
//! each go to the fold with the fewest pages so far, so the folds come out nearly
//! equal and the same on every run and machine.

use std::collections::HashMap;

/// The registrable domain of a host ("news.sina.com.cn" -> "sina.com.cn").
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let generic = [
        "com", "net", "org", "gov", "edu", "co", "ac", "or", "ne", "go",
    ];
    let keep = match labels.as_slice() {
        [.., second, tld] if tld.len() == 2 && generic.contains(second) => 3,
        _ => 2,
    };
    labels[labels.len().saturating_sub(keep)..].join(".")
}

fn host_of(url: &str) -> Option<String> {
    let url = url.trim();
    let absolute = if let Some(rest) = url.strip_prefix("//") {
        format!("http://{rest}")
    } else if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else if url.starts_with("www.") {
        format!("http://{url}")
    } else {
        return None;
    };
    url::Url::parse(&absolute)
        .ok()
        .and_then(|u| u.host_str().map(registrable_domain))
}

/// The value of `attr="…"` in one tag's text.
fn attr_value<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let lower = tag.to_ascii_lowercase();
    let at = lower.find(&format!("{attr}="))? + attr.len() + 1;
    let rest = tag.get(at..)?;
    let quote = rest.chars().next()?;
    if quote == '"' || quote == '\'' {
        let rest = rest.get(1..)?;
        rest.get(..rest.find(quote)?)
    } else {
        rest.get(..rest.find([' ', '>', '/']).unwrap_or(rest.len()))
    }
}

/// Tags named `name` in the page (`<link …>`), as text, in order.
fn tags<'a>(html: &'a str, name: &str) -> impl Iterator<Item = &'a str> {
    let open = format!("<{name}");
    let lower = html.to_ascii_lowercase();
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some(i) = lower.get(from..).and_then(|s| s.find(&open)) {
        starts.push(from + i);
        from += i + open.len();
    }
    starts.into_iter().filter_map(move |s| {
        let rest = html.get(s..)?;
        rest.get(..rest.find('>')? + 1)
    })
}

/// The site a saved page says it belongs to: canonical link, `og:url`, else the
/// domain most of its `href` links point to.
pub fn page_site(html: &str) -> Option<String> {
    let canonical = tags(html, "link")
        .filter(|t| attr_value(t, "rel").is_some_and(|r| r.eq_ignore_ascii_case("canonical")))
        .find_map(|t| attr_value(t, "href").and_then(host_of));
    let og = || {
        tags(html, "meta")
            .filter(|t| attr_value(t, "property").is_some_and(|p| p == "og:url"))
            .find_map(|t| attr_value(t, "content").and_then(host_of))
    };
    canonical.or_else(og).or_else(|| {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for tag in tags(html, "a") {
            if let Some(host) = attr_value(tag, "href").and_then(host_of) {
                *counts.entry(host).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
            .map(|(host, _)| host)
    })
}

/// A readability case's site: its directory name without a trailing `-N`.
pub fn case_site(dir_name: &str) -> String {
    match dir_name.rsplit_once('-') {
        Some((stem, n)) if !stem.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            stem.to_string()
        }
        _ => dir_name.to_string(),
    }
}

/// FNV-1a: a hash that is the same on every platform and Rust version.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The fold (0..k) of every page, whole sites per fold.
pub fn assign(sites: &[String], k: usize) -> Vec<usize> {
    let k = k.max(1);
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for s in sites {
        *sizes.entry(s.as_str()).or_default() += 1;
    }
    let mut order: Vec<(&str, usize)> = sizes.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(fnv(a.0).cmp(&fnv(b.0))));
    let mut load = vec![0usize; k];
    let mut fold_of: HashMap<&str, usize> = HashMap::new();
    for (site, n) in order {
        let fold = (0..k).min_by_key(|f| (load[*f], *f)).unwrap_or(0);
        load[fold] += n;
        fold_of.insert(site, fold);
    }
    sites
        .iter()
        .map(|s| fold_of.get(s.as_str()).copied().unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable_domain("news.sina.com.cn"), "sina.com.cn");
        assert_eq!(registrable_domain("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registrable_domain("www.cnbc.com"), "cnbc.com");
        assert_eq!(registrable_domain("cn.biz.yahoo.com"), "yahoo.com");
        assert_eq!(registrable_domain("www.rfi.fr"), "rfi.fr");
    }

    #[test]
    fn page_site_prefers_canonical_then_links() {
        let page = r#"<link rel="canonical" href="//www.hanspub.org/x"><a href="http://a.com/">"#;
        assert_eq!(page_site(page).as_deref(), Some("hanspub.org"));
        let page = r#"<a href="http://www.x.com.cn/1"><a href='http://y.x.com.cn/2'><a href="http://z.org/">"#;
        assert_eq!(page_site(page).as_deref(), Some("x.com.cn"));
    }

    #[test]
    fn case_sites_drop_the_number() {
        assert_eq!(case_site("nytimes-3"), "nytimes");
        assert_eq!(
            case_site("003-metadata-preferred"),
            "003-metadata-preferred"
        );
        assert_eq!(case_site("001"), "001");
    }

    #[test]
    fn folds_keep_sites_whole_and_balanced() {
        let sites: Vec<String> = ["a", "a", "b", "c", "d", "d", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let folds = assign(&sites, 3);
        assert_eq!(folds[0], folds[1]);
        assert_eq!(folds[4], folds[5]);
        let mut load = [0; 3];
        folds.iter().for_each(|f| load[*f] += 1);
        assert!(load.iter().all(|n| (2..=3).contains(n)));
    }
}
