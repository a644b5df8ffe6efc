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

    /// The URL to publish for `raw` (an attribute value, entities already
    /// decoded), or `None` for ones a reader cannot or must not follow: empty,
    /// or any scheme but http, https and mailto (`javascript:`, `data:`, ...).
    ///
    /// The scheme is read on the parsed URL, never on the text: the URL
    /// standard drops ASCII tabs and newlines anywhere and C0 controls at the
    /// ends, so `java\tscript:` is `javascript:` to a browser.
    pub(crate) fn resolve(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        // Mirror paths and fragments as written, when the parser would read
        // them exactly so: no tab, newline, control or backslash in them.
        if (raw.starts_with('#') || (raw.starts_with('/') && !raw.starts_with("//")))
            && !raw.bytes().any(|b| b.is_ascii_control() || b == b'\\')
        {
            return Some(raw.to_string());
        }
        let url = self.base.join(raw).ok()?;
        match url.scheme() {
            "http" | "https" => {}
            "mailto" => return Some(url.to_string()),
            _ => return None,
        }
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
    fn script_and_data_urls_broken_by_tabs_newlines_or_controls_are_dropped() {
        for raw in [
            "java\tscript:alert(1)",
            "jav\nascript:alert(1)",
            "java\r\nscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "\u{1f}JavaScript:alert(1)",
            "da\tta:text/html,<script>alert(1)</script>",
            "vb\tscript:msgbox(1)",
            "\tjavascript:alert(1)",
        ] {
            assert_eq!(resolve(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn only_http_https_and_mailto_schemes_are_kept() {
        assert_eq!(
            resolve("mailto:desk@example.org").as_deref(),
            Some("mailto:desk@example.org")
        );
        for raw in [
            "ftp://example.org/x",
            "file:///etc/passwd",
            "blob:https://example.org/1",
            "filesystem:https://example.org/x",
            "about:blank",
            "tel:+123",
        ] {
            assert_eq!(resolve(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn root_relative_and_fragment_urls_with_controls_or_backslashes_are_parsed() {
        // "/\tx" is not a mirror path as written: parsed, it is "/x".
        assert_eq!(resolve("/\tx").as_deref(), Some("/x"));
        assert_eq!(resolve("#a\tb").as_deref(), Some("/gb/23/10/6/n1.htm#ab"));
        // A backslash is a slash to the parser: "/\\evil.example" is another host.
        assert_eq!(
            resolve("/\\evil.example/x").as_deref(),
            Some("https://evil.example/x")
        );
        assert_eq!(
            resolve("/\u{1}javascript:alert(1)").as_deref(),
            Some("/%01javascript:alert(1)")
        );
        assert_eq!(resolve("#top").as_deref(), Some("#top"));
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
