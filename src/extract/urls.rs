//! The mirror's URL rule for links and images in an article.
//!
//! The page is already rewritten, so most URLs are root-relative mirror URLs: those
//! stay exactly as they are. Truly relative ones resolve against the page (or its
//! `<base href>`) and come back root-relative when they land on the page's own
//! origin; URLs on other hosts stay absolute.

use url::Url;

pub(crate) struct Resolver {
    base: Url,
    page_origin: url::Origin,
}

impl Resolver {
    pub(crate) fn new(page_url: &Url, base_href: Option<&str>) -> Resolver {
        let base = base_href
            .and_then(|b| page_url.join(b.trim()).ok())
            .filter(|b| matches!(b.scheme(), "http" | "https"))
            .unwrap_or_else(|| page_url.clone());
        Resolver {
            base,
            page_origin: page_url.origin(),
        }
    }

    /// The URL to publish for `raw`, or `None` for ones a reader cannot follow
    /// (`javascript:`, inline `data:`, empty).
    pub(crate) fn resolve(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let lower_scheme: String = raw
            .chars()
            .take(11)
            .collect::<String>()
            .to_ascii_lowercase();
        if ["javascript:", "data:", "vbscript:"]
            .iter()
            .any(|s| lower_scheme.starts_with(s))
        {
            return None;
        }
        if raw.starts_with('#') || (raw.starts_with('/') && !raw.starts_with("//")) {
            return Some(raw.to_string());
        }
        let url = self.base.join(raw).ok()?;
        if url.origin() == self.page_origin {
            Some(root_relative(&url))
        } else {
            Some(url.to_string())
        }
    }
}

fn root_relative(url: &Url) -> String {
    let mut out = url.path().to_string();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = url.fragment() {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(base: Option<&str>) -> Option<Resolver> {
        let page = Url::parse("https://mirror.example.org/gb/23/10/6/n1.htm").ok()?;
        Some(Resolver::new(&page, base))
    }

    fn resolve(raw: &str) -> Option<String> {
        resolver(None)?.resolve(raw)
    }

    #[test]
    fn root_relative_urls_stay_root_relative() {
        assert_eq!(
            resolve("/_/asset/i.example.com/x.jpg").as_deref(),
            Some("/_/asset/i.example.com/x.jpg")
        );
    }

    #[test]
    fn relative_urls_resolve_to_root_relative_on_the_same_origin() {
        assert_eq!(
            resolve("../5/n2.htm").as_deref(),
            Some("/gb/23/10/5/n2.htm")
        );
        assert_eq!(
            resolve("n3.htm?x=1#c").as_deref(),
            Some("/gb/23/10/6/n3.htm?x=1#c")
        );
        assert_eq!(
            resolve("https://mirror.example.org/a").as_deref(),
            Some("/a")
        );
    }

    #[test]
    fn other_hosts_stay_absolute() {
        assert_eq!(
            resolve("https://other.example/x").as_deref(),
            Some("https://other.example/x")
        );
        assert_eq!(
            resolve("//cdn.example/y.png").as_deref(),
            Some("https://cdn.example/y.png")
        );
    }

    #[test]
    fn script_and_data_urls_are_dropped() {
        assert_eq!(resolve("javascript:void(0)"), None);
        assert_eq!(resolve("DATA:image/png;base64,AAAA"), None);
        assert_eq!(resolve("  "), None);
    }

    #[test]
    fn base_href_is_used_for_relative_urls() {
        let r = resolver(Some("https://other.example/dir/"));
        assert_eq!(
            r.and_then(|r| r.resolve("x.htm")).as_deref(),
            Some("https://other.example/dir/x.htm")
        );
    }
}
