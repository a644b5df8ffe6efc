//! A mirrored site as the running server sees it: the validated `[[site]]`
//! entry with its derived values (normalised upstream, parsed methods, the
//! injected markup built once).

use std::sync::Arc;

use http::Method;
use url::Url;

use crate::config::{
    ArticleSelectors, Config, ConfigError, ExternalLinks, Javascript, NavItem, SiteConfig,
};
use crate::escape::{escape_attr, escape_text};

/// What the mirror does with a site's answers: the one switch between the
/// two products in one binary (`[[site]] rewrite`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteKind {
    /// Pages rewritten onto the mirror, compressed by it, cached by its
    /// own defaults (`rewrite = true`).
    Mirror,
    /// A plain reverse proxy: upstream's bytes, encoding, validators and
    /// caching rules, passed as they are (`rewrite = false`).
    Plain,
}

impl SiteKind {
    pub fn is_plain(self) -> bool {
        self == SiteKind::Plain
    }
}

/// Index of a site in the configuration, stable for the life of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteId(pub usize);

#[derive(Debug)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    /// Scheme, host, port and path prefix (always ending in '/').
    pub upstream: Url,
    /// The upstream host and its aliases, lower-case.
    pub upstream_hosts: Vec<String>,
    pub mount: String,
    /// Mirror host names that select this site (empty: any host).
    pub hosts: Vec<String>,
    pub asset_hosts: Vec<String>,
    pub proxy_all_images: bool,
    pub external_links: ExternalLinks,
    pub kind: SiteKind,
    pub methods: Vec<Method>,
    pub remove: Vec<String>,
    pub javascript: Javascript,
    pub csp: bool,
    pub footer: String,
    pub nav: Vec<NavItem>,
    pub article: Option<ArticleSelectors>,
    /// `<nav id="newsmirror-nav">…</nav>`, operator text escaped.
    pub nav_html: String,
}

impl Site {
    /// `mirrors_label`: the nav bar's link to the mirror list, when there is one.
    fn from_config(
        id: SiteId,
        c: &SiteConfig,
        mirrors_label: Option<&str>,
    ) -> Result<Site, String> {
        let mut upstream = Url::parse(&c.upstream).map_err(|e| e.to_string())?;
        if !upstream.path().ends_with('/') {
            let path = format!("{}/", upstream.path());
            upstream.set_path(&path);
        }
        let host = upstream
            .host_str()
            .ok_or("upstream has no host")?
            .to_ascii_lowercase();
        let mut upstream_hosts = vec![host];
        upstream_hosts.extend(c.aliases.iter().map(|a| a.to_ascii_lowercase()));
        let methods = c
            .methods
            .iter()
            .filter_map(|m| m.parse::<Method>().ok())
            .collect();
        Ok(Site {
            id,
            name: c.name.clone(),
            upstream,
            upstream_hosts,
            mount: c.mount.clone(),
            hosts: c.hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            asset_hosts: c
                .asset_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            proxy_all_images: c.proxy_all_images,
            external_links: c.external_links,
            kind: if c.rewrite {
                SiteKind::Mirror
            } else {
                SiteKind::Plain
            },
            methods,
            remove: c.remove.clone(),
            javascript: c.javascript,
            csp: c.csp,
            footer: c.footer.clone(),
            nav: c.nav.clone(),
            article: c.article.clone(),
            nav_html: nav_html(&c.nav, mirrors_label),
        })
    }

    /// Builds every site of a validated configuration.
    pub fn all_from(config: &Config) -> Result<Vec<Arc<Site>>, ConfigError> {
        let mirrors_label = config
            .mirrors
            .any()
            .then(|| crate::mirrors::lang_of(config).words().nav_label);
        config
            .sites
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Site::from_config(SiteId(i), c, mirrors_label)
                    .map(Arc::new)
                    .map_err(|reason| ConfigError {
                        file: String::new(),
                        key: format!("site[{i}]"),
                        reason,
                        line: None,
                    })
            })
            .collect()
    }

    /// No script of the site runs on the mirror.
    pub fn scripts_removed(&self) -> bool {
        self.javascript == Javascript::Remove
    }

    pub fn allows(&self, method: &Method) -> bool {
        self.methods.iter().any(|m| m == method)
    }

    /// `<footer id="newsmirror-footer">` for a page whose original is `original`.
    pub fn footer_html(&self, original: &str) -> String {
        if self.footer.is_empty() {
            return String::new();
        }
        let link = format!(
            "<a href=\"{}\" rel=\"nofollow noopener\">{}</a>",
            escape_attr(original),
            escape_text(original)
        );
        let mut out = String::from("<footer id=\"newsmirror-footer\">");
        let mut parts = self.footer.split("{original_url}");
        if let Some(first) = parts.next() {
            out.push_str(&escape_text(first));
        }
        for part in parts {
            out.push_str(&link);
            out.push_str(&escape_text(part));
        }
        out.push_str("</footer>");
        out
    }

    /// The footer's text with `{original_url}` filled in (for Markdown).
    pub fn footer_text(&self, original: &str) -> String {
        self.footer.replace("{original_url}", original)
    }
}

fn nav_html(items: &[NavItem], mirrors_label: Option<&str>) -> String {
    let mut out = String::from("<nav id=\"newsmirror-nav\">");
    for item in items {
        out.push_str(&format!(
            "<a href=\"{}\">{}</a>",
            escape_attr(item.href.trim()),
            escape_text(&item.label)
        ));
    }
    if let Some(label) = mirrors_label {
        out.push_str(&format!(
            "<a class=\"newsmirror-mirrors-link\" href=\"{}\">{}</a>",
            crate::routes::MIRRORS_PAGE,
            escape_text(label)
        ));
    }
    out.push_str("</nav>");
    out
}
