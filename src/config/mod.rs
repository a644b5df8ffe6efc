//! The configuration file (TOML), exactly as DESIGN.md's contract gives it.
//!
//! Loading is two steps: serde reads the file into the structs below (unknown
//! keys and unparsable values fail here, with the key's path and line), then
//! [`Config::validate`] checks what serde cannot (an upstream that is not
//! http(s), two sites on one mount, a selector lol_html cannot parse, ...).
//! Both report `file: key: reason`.

mod units;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use url::Url;

pub use units::{ByteSize, Cidr, Dur, Secret, ed25519_seed, resolve_env};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub cache: CacheConfig,
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub upstream: UpstreamConfig,
    #[serde(default)]
    pub cdn: CdnConfig,
    #[serde(default)]
    pub mirrors: MirrorsConfig,
    #[serde(rename = "site", default)]
    pub sites: Vec<SiteConfig>,
}

/// `[mirrors]`: the other origins that serve this same mirror (same
/// paths, same `server.signing_key`), listed at `/_/mirrors.json` and
/// `/_/mirrors`, checked by this server, and where the service worker
/// goes when this origin does not answer (`crate::mirrors`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MirrorsConfig {
    /// Other origins of this mirror: `https://host[:port]`, no path.
    pub alternates: Vec<Url>,
    /// Static copies (`newsmirror export` trees on a static host), any
    /// http(s) URL: listed and checked, never a failover target (added key).
    #[serde(rename = "static")]
    pub static_copies: Vec<Url>,
    /// `http://<56 characters>.onion`: rewritten pages carry
    /// `Onion-Location` with the same path there.
    pub onion: Option<Url>,
    /// Ed25519 secret key (the 32-byte seed, hex or base64): the list is
    /// signed with it.
    pub signing_key: Option<Secret>,
    /// How often each alternate's `/_/healthz` is asked (added key).
    pub check_interval: Dur,
    /// How long one check may take (added key).
    pub check_timeout: Dur,
    /// The language of the mirror list's page and the failover banner:
    /// `en`, `zh`, `ru`, `fa`, `es`; by default guessed from the first
    /// site's nav labels and footer (added key).
    pub lang: Option<String>,
}

impl Default for MirrorsConfig {
    fn default() -> Self {
        MirrorsConfig {
            alternates: Vec::new(),
            static_copies: Vec::new(),
            onion: None,
            signing_key: None,
            check_interval: Dur::secs(60),
            check_timeout: Dur::secs(5),
            lang: None,
        }
    }
}

impl MirrorsConfig {
    /// Whether there is any other origin to name.
    pub fn any(&self) -> bool {
        !self.alternates.is_empty() || self.onion.is_some() || !self.static_copies.is_empty()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Metrics, purge and readiness; never the public port. `None` when absent.
    pub admin_listen: Option<SocketAddr>,
    pub public_url: Option<Url>,
    pub trusted_proxies: Vec<Cidr>,
    pub signing_key: Option<Secret>,
    /// How long a client may take to send its request headers; also how
    /// long an idle keep-alive connection waits for its next request.
    pub header_read_timeout: Dur,
    /// Connections served at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// On SIGTERM/Ctrl-C, how long in-flight requests may take to finish.
    pub shutdown_grace: Dur,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: None,
            public_url: None,
            trusted_proxies: Vec::new(),
            signing_key: None,
            header_read_timeout: Dur::secs(10),
            max_connections: 10_000,
            shutdown_grace: Dur::secs(10),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    pub max_bytes: ByteSize,
    pub max_object_bytes: ByteSize,
    pub default_ttl: Dur,
    #[serde(rename = "override")]
    pub override_ttl: bool,
    pub stale_while_revalidate: Dur,
    pub stale_if_error: Dur,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: ByteSize::mib(256),
            max_object_bytes: ByteSize::mib(8),
            default_ttl: Dur::secs(300),
            override_ttl: false,
            stale_while_revalidate: Dur::secs(60),
            stale_if_error: Dur::secs(86_400),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    pub connect_timeout: Dur,
    pub header_timeout: Dur,
    pub idle_timeout: Dur,
    pub max_body_bytes: ByteSize,
    /// Time waiting for a response body's bytes, added up over the body.
    pub body_timeout: Dur,
    /// Requests in flight to one upstream host at most (the rest wait).
    pub max_connections_per_host: usize,
    /// How long a request waits for one of those before it is refused (503).
    pub connection_wait: Dur,
    pub user_agent: String,
    /// Host name → origin URL to fetch it from instead of DNS.
    pub origins: BTreeMap<String, Url>,
    /// Every upstream and asset fetch through this proxy
    /// (`socks5h://`, `socks5://`, `http://` CONNECT; `crate::outbound_proxy`).
    pub proxy: Option<Url>,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Dur::secs(5),
            header_timeout: Dur::secs(15),
            idle_timeout: Dur::secs(30),
            max_body_bytes: ByteSize::mib(32),
            body_timeout: Dur::secs(15),
            max_connections_per_host: 64,
            connection_wait: Dur::secs(5),
            user_agent: concat!("newsmirror/", env!("CARGO_PKG_VERSION")).to_owned(),
            origins: BTreeMap::new(),
            proxy: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CdnConfig {
    pub max_age: Dur,
    pub s_maxage: Dur,
    pub purge_token: Option<Secret>,
}

impl Default for CdnConfig {
    fn default() -> Self {
        Self {
            max_age: Dur::secs(60),
            s_maxage: Dur::secs(600),
            purge_token: None,
        }
    }
}

/// What happens to links that leave every mirrored site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExternalLinks {
    /// Left as they are.
    #[default]
    Keep,
    /// Kept, with `class="newsmirror-external"`.
    Mark,
    /// The `<a>` becomes a `<span class="newsmirror-external">` with the same text.
    Unlink,
}

/// `[[site]] javascript`: whether the site's scripts run on the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Javascript {
    #[default]
    Keep,
    /// Every script, `on*=` handler and `javascript:` URL dropped; the page
    /// as a browser without JavaScript shows it (`<noscript>` unwrapped,
    /// lazy images given their real `src`).
    Remove,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NavItem {
    pub label: String,
    pub href: String,
}

/// `[site.article]`: selectors for the article extractor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleSelectors {
    pub title: Option<String>,
    pub body: Option<String>,
    pub byline: Option<String>,
    pub published: Option<String>,
    pub lead_image: Option<String>,
    pub caption: Option<String>,
    pub tags: Option<String>,
}

impl ArticleSelectors {
    /// The extractor's form of these selectors.
    pub fn selectors(&self) -> crate::extract::Selectors {
        crate::extract::Selectors {
            title: self.title.clone(),
            body: self.body.clone(),
            byline: self.byline.clone(),
            published: self.published.clone(),
            lead_image: self.lead_image.clone(),
            caption: self.caption.clone(),
            tags: self.tags.clone(),
        }
    }
}

fn default_mount() -> String {
    "/".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_methods() -> Vec<String> {
    vec!["GET".to_owned(), "HEAD".to_owned()]
}
fn default_footer() -> String {
    "Original: {original_url}".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub name: String,
    pub upstream: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default = "default_mount")]
    pub mount: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub asset_hosts: Vec<String>,
    #[serde(default)]
    pub proxy_all_images: bool,
    #[serde(default)]
    pub external_links: ExternalLinks,
    #[serde(default = "default_true")]
    pub rewrite: bool,
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    /// `keep`: the site's scripts run (the mirror's CSP still confines
    /// them to the mirror); `remove`: no script runs, `<noscript>` is
    /// unwrapped, lazy images are promoted.
    #[serde(default)]
    pub javascript: Javascript,
    /// The mirror's own Content-Security-Policy on rewritten HTML.
    #[serde(default = "default_true")]
    pub csp: bool,
    #[serde(default = "default_footer")]
    pub footer: String,
    #[serde(default)]
    pub nav: Vec<NavItem>,
    pub article: Option<ArticleSelectors>,
    /// This site's fetches (its pages, assets and images) through this
    /// proxy instead of `[upstream] proxy`.
    pub proxy: Option<Url>,
}

/// Every problem of a configuration, in file order (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    fn into_first(self) -> ConfigError {
        self.0.into_iter().next().unwrap_or_else(|| ConfigError {
            file: String::new(),
            key: String::new(),
            reason: "invalid configuration".into(),
            line: None,
        })
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A configuration the server refuses: which file, which key, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub reason: String,
    pub line: Option<(usize, usize)>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, col)) = self.line {
            write!(f, ":{line}:{col}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": key `{}`", self.key)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads, parses and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            key: String::new(),
            reason: format!("cannot read the file: {e}"),
            line: None,
        })?;
        Self::parse(&text, &file)
    }

    /// Like [`Config::load`], with every problem found (`newsmirror check`).
    pub fn load_all(path: &Path) -> Result<Config, ConfigErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: file.clone(),
                key: String::new(),
                reason: format!("cannot read the file: {e}"),
                line: None,
            }])
        })?;
        Self::parse_all(&text, &file)
    }

    /// Parses and validates configuration text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let err = |key: String, reason: String, span: Option<std::ops::Range<usize>>| ConfigError {
            file: file.to_owned(),
            key,
            reason,
            line: span.map(|s| line_col(text, s.start)),
        };
        let de = toml::de::Deserializer::parse(text)
            .map_err(|e| err(String::new(), e.message().to_owned(), e.span()))?;
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            let key = if key == "." { String::new() } else { key };
            err(key, inner.message().to_owned(), inner.span())
        })?;
        let mut problems: Vec<ConfigError> = config
            .validate()
            .into_iter()
            .map(|(key, reason)| {
                let span = find_key_span(text, &key);
                err(key, reason, span)
            })
            .collect();
        if problems.is_empty() {
            return Ok(config);
        }
        // In file order (keys that are not written, such as a missing
        // [[site]], last).
        problems.sort_by_key(|p| p.line.map_or((usize::MAX, 0), |l| l));
        Err(ConfigErrors(problems).into_first())
    }

    /// Like [`Config::parse`], with every problem the validation finds, in
    /// file order (a syntax or type error stops at the first).
    pub fn parse_all(text: &str, file: &str) -> Result<Config, ConfigErrors> {
        match Self::parse(text, file) {
            Ok(c) => Ok(c),
            Err(first) => {
                let err = |key: String, reason: String| ConfigError {
                    file: file.to_owned(),
                    line: find_key_span(text, &key).map(|s| line_col(text, s.start)),
                    key,
                    reason,
                };
                // Parsing again to reach the validation step: only when
                // serde itself accepted the text.
                let Ok(de) = toml::de::Deserializer::parse(text) else {
                    return Err(ConfigErrors(vec![first]));
                };
                let Ok(config) = serde_path_to_error::deserialize::<_, Config>(de) else {
                    return Err(ConfigErrors(vec![first]));
                };
                let mut all: Vec<ConfigError> = config
                    .validate()
                    .into_iter()
                    .map(|(k, r)| err(k, r))
                    .collect();
                all.sort_by_key(|p| p.line.map_or((usize::MAX, 0), |l| l));
                Err(ConfigErrors(all))
            }
        }
    }

    /// The checks serde cannot make: every offending key and its reason.
    fn validate(&self) -> Vec<(String, String)> {
        let mut errors: Vec<(String, String)> = Vec::new();
        let s = &self.server;
        if let Some(url) = &s.public_url {
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                errors.push(("server.public_url".into(), "must be an http(s) URL".into()));
            }
            if url.path() != "/" || url.query().is_some() {
                errors.push((
                    "server.public_url".into(),
                    "must be an origin without a path (use a site's mount for a path prefix)"
                        .into(),
                ));
            }
        }
        if s.admin_listen == Some(s.listen) {
            errors.push((
                "server.admin_listen".into(),
                "must differ from server.listen: the admin listener is not public".into(),
            ));
        }
        if s.max_connections == 0 {
            errors.push(("server.max_connections".into(), "must be at least 1".into()));
        }
        for (key, d) in [
            ("server.header_read_timeout", s.header_read_timeout),
            ("upstream.connect_timeout", self.upstream.connect_timeout),
            ("upstream.header_timeout", self.upstream.header_timeout),
            ("upstream.idle_timeout", self.upstream.idle_timeout),
            ("upstream.body_timeout", self.upstream.body_timeout),
            ("upstream.connection_wait", self.upstream.connection_wait),
        ] {
            if d.get().is_zero() {
                errors.push((key.into(), "must be longer than 0".into()));
            }
        }
        if self.upstream.max_connections_per_host == 0 {
            errors.push((
                "upstream.max_connections_per_host".into(),
                "must be at least 1".into(),
            ));
        }
        if self.upstream.max_body_bytes.get() == 0 {
            errors.push((
                "upstream.max_body_bytes".into(),
                "must be larger than 0".into(),
            ));
        }
        if self.upstream.user_agent.trim().is_empty()
            || http::HeaderValue::from_str(&self.upstream.user_agent).is_err()
        {
            errors.push((
                "upstream.user_agent".into(),
                "must be a non-empty header value".into(),
            ));
        }
        for (host, origin) in &self.upstream.origins {
            let key = format!("upstream.origins.\"{host}\"");
            if let Err(r) = check_host(host) {
                errors.push((key.clone(), r));
            }
            if !matches!(origin.scheme(), "http" | "https") || origin.host_str().is_none() {
                errors.push((
                    key.clone(),
                    "must be an http(s) URL such as \"http://127.0.0.1:9001\"".into(),
                ));
            }
            if origin.path() != "/" || origin.query().is_some() || !origin.username().is_empty() {
                errors.push((
                    key,
                    "must be scheme, host and port only, without a path".into(),
                ));
            }
        }
        if let Some(onion) = &self.mirrors.onion
            && !(matches!(onion.scheme(), "http" | "https")
                && onion.host_str().is_some_and(|h| h.ends_with(".onion"))
                && onion.path() == "/"
                && onion.query().is_none()
                && onion.username().is_empty())
        {
            errors.push((
                "mirrors.onion".into(),
                "must be an http(s) origin on a .onion host, such as \"http://<address>.onion\""
                    .into(),
            ));
        }
        errors.extend(validate_mirrors(&self.mirrors));
        if let Some(proxy) = &self.upstream.proxy
            && let Err(reason) = crate::outbound_proxy::Proxy::parse(proxy)
        {
            errors.push(("upstream.proxy".into(), reason));
        }
        let c = &self.cache;
        if c.max_bytes.get() > 0 && c.max_object_bytes > c.max_bytes {
            errors.push((
                "cache.max_object_bytes".into(),
                "must not exceed cache.max_bytes".into(),
            ));
        }
        if let Some(tls) = &self.tls {
            for (key, path) in [("tls.cert", &tls.cert), ("tls.key", &tls.key)] {
                if let Err(e) = std::fs::metadata(path) {
                    errors.push((key.into(), format!("cannot read {}: {e}", path.display())));
                }
            }
        }
        if self.sites.is_empty() {
            errors.push(("site".into(), "at least one [[site]] is needed".into()));
        }
        let needs_key = self.sites.iter().any(|s| s.proxy_all_images);
        match &s.signing_key {
            Some(k) if k.expose().len() < 16 => {
                errors.push((
                    "server.signing_key".into(),
                    "must be at least 16 bytes long".into(),
                ));
            }
            None if needs_key => {
                errors.push((
                    "server.signing_key".into(),
                    "is required when a site sets proxy_all_images = true (signed /_/img/ URLs)"
                        .into(),
                ));
            }
            _ => {}
        }
        for (i, site) in self.sites.iter().enumerate() {
            for (k, r) in validate_site(site) {
                errors.push((format!("site[{i}].{k}"), r));
            }
            for (j, other) in self.sites[..i].iter().enumerate() {
                if other.name == site.name {
                    errors.push((
                        format!("site[{i}].name"),
                        format!("site[{j}] already has the name {:?}", site.name),
                    ));
                }
                let hosts_overlap = site.hosts.is_empty() && other.hosts.is_empty()
                    || site
                        .hosts
                        .iter()
                        .any(|h| other.hosts.iter().any(|o| o.eq_ignore_ascii_case(h)));
                if other.mount == site.mount && hosts_overlap {
                    errors.push((
                        format!("site[{i}].mount"),
                        format!(
                            "site[{j}] ({:?}) is already mounted at {:?} for the same hosts",
                            other.name, site.mount
                        ),
                    ));
                }
            }
        }
        errors
    }
}

fn validate_mirrors(m: &MirrorsConfig) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for (i, alt) in m.alternates.iter().enumerate() {
        if !matches!(alt.scheme(), "http" | "https")
            || alt.host_str().is_none()
            || alt.path() != "/"
            || alt.query().is_some()
            || alt.fragment().is_some()
            || !alt.username().is_empty()
            || alt.password().is_some()
        {
            errors.push((
                format!("mirrors.alternates[{i}]"),
                "must be an http(s) origin without a path, such as \"https://m2.example.net\""
                    .into(),
            ));
        }
        if m.alternates[..i].contains(alt) {
            errors.push((format!("mirrors.alternates[{i}]"), "is listed twice".into()));
        }
    }
    for (i, u) in m.static_copies.iter().enumerate() {
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            errors.push((
                format!("mirrors.static[{i}]"),
                "must be an http(s) URL".into(),
            ));
        }
    }
    if let Some(key) = &m.signing_key
        && let Err(reason) = units::ed25519_seed(key.expose())
    {
        errors.push(("mirrors.signing_key".into(), reason));
    }
    if m.check_interval.get() < std::time::Duration::from_secs(1) {
        errors.push((
            "mirrors.check_interval".into(),
            "must be at least 1s".into(),
        ));
    }
    if m.check_timeout.get().is_zero() || m.check_timeout.get() > m.check_interval.get() {
        errors.push((
            "mirrors.check_timeout".into(),
            "must be more than 0 and at most mirrors.check_interval".into(),
        ));
    }
    if let Some(lang) = &m.lang
        && crate::lang::Lang::from_code(lang).is_none()
    {
        errors.push((
            "mirrors.lang".into(),
            format!("must be one of {}", crate::lang::Lang::CODES.join(", ")),
        ));
    }
    errors
}

fn validate_site(site: &SiteConfig) -> Vec<(String, String)> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let e = |k: &str, r: String| (k.to_owned(), r);
    if site.name.is_empty()
        || !site
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        errors.push(e(
            "name",
            "must be non-empty and use only letters, digits, '-' and '_'".into(),
        ));
    }
    if let Some(proxy) = &site.proxy
        && let Err(reason) = crate::outbound_proxy::Proxy::parse(proxy)
    {
        errors.push(e("proxy", reason));
    }
    match Url::parse(&site.upstream) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            if u.query().is_some() || u.fragment().is_some() || !u.username().is_empty() {
                errors.push(e(
                    "upstream",
                    "must be scheme, host and an optional path, without query, fragment or user"
                        .into(),
                ));
            }
        }
        Ok(u) => {
            errors.push(e(
                "upstream",
                format!("must be an http or https URL, not {:?}", u.scheme()),
            ));
        }
        Err(err) => errors.push(e("upstream", format!("not a URL: {err}"))),
    }
    if !site.mount.starts_with('/') || !site.mount.ends_with('/') {
        errors.push(e(
            "mount",
            "must start and end with '/' (e.g. \"/\" or \"/news/\")".into(),
        ));
    }
    if site.mount.starts_with("/_/") {
        errors.push(e(
            "mount",
            "paths under /_/ belong to the mirror itself".into(),
        ));
    }
    if site.mount.contains("//")
        || site
            .mount
            .split('/')
            .any(|seg| seg == "." || seg == ".." || seg.contains('%') || seg.contains('?'))
    {
        errors.push(e(
            "mount",
            "must be a plain path (no '//', '.', '..', '%', '?')".into(),
        ));
    }
    for (key, list) in [
        ("aliases", &site.aliases),
        ("hosts", &site.hosts),
        ("asset_hosts", &site.asset_hosts),
    ] {
        for (n, host) in list.iter().enumerate() {
            if let Err(r) = check_host(host) {
                errors.push((format!("{key}[{n}]"), r));
            }
        }
    }
    if site.methods.is_empty() {
        errors.push(e("methods", "must list at least one method".into()));
    }
    for (n, m) in site.methods.iter().enumerate() {
        // Any token (RFC 9110 §9.1), e.g. M-SEARCH; CONNECT is never forwarded.
        let token = !m.is_empty()
            && m.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        let ok = token && http::Method::from_str(m).is_ok_and(|m| m != http::Method::CONNECT);
        if !ok {
            errors.push((
                format!("methods[{n}]"),
                format!("{m:?} is not an HTTP method the mirror forwards"),
            ));
        }
    }
    for (n, sel) in site.remove.iter().enumerate() {
        if let Err(err) = lol_html::Selector::from_str(sel) {
            errors.push((
                format!("remove[{n}]"),
                format!("selector {sel:?} cannot be used: {err}"),
            ));
        }
    }
    if let Err(r) = check_template(&site.footer) {
        errors.push(("footer".to_owned(), r));
    }
    for (n, item) in site.nav.iter().enumerate() {
        if item.label.trim().is_empty() {
            errors.push((format!("nav[{n}].label"), "must not be empty".into()));
        }
        let href = item.href.trim();
        if href.is_empty() || href.to_ascii_lowercase().starts_with("javascript:") {
            errors.push((
                format!("nav[{n}].href"),
                "must be a URL or a path on the mirror".into(),
            ));
        }
    }
    if let Some(a) = &site.article {
        if let Err(e) = a.selectors().validate() {
            errors.push((
                "article".to_owned(),
                format!("a selector cannot be used: {e}"),
            ));
        }
        for (key, sel) in [
            ("title", &a.title),
            ("body", &a.body),
            ("byline", &a.byline),
            ("published", &a.published),
            ("lead_image", &a.lead_image),
            ("caption", &a.caption),
            ("tags", &a.tags),
        ] {
            if sel.as_deref().is_some_and(|s| s.trim().is_empty()) {
                errors.push((format!("article.{key}"), "must not be empty".into()));
            }
        }
    }
    errors
}

/// A bare host name (no scheme, port or path), as written in `aliases`,
/// `hosts`, `asset_hosts` and `[upstream.origins]`.
fn check_host(host: &str) -> Result<(), String> {
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        && !host.starts_with('.')
        && !host.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{host:?} is not a host name (write e.g. \"i.example.com\": no scheme, port or path)"
        ))
    }
}

/// Footer templates know one placeholder, `{original_url}`.
fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("has a '{' without '}'".into());
        };
        let name = &after[..close];
        if name != "original_url" {
            return Err(format!(
                "unknown placeholder {{{name}}}: the only one is {{original_url}}"
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Best-effort location of a validated key in the text: the n-th `[[site]]`
/// table and the key's line inside it, so that semantic errors point at a line too.
fn find_key_span(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let (section_start, leaf) = if let Some(rest) = key.strip_prefix("site[") {
        let (index, tail) = rest.split_once("].")?;
        let index: usize = index.parse().ok()?;
        let start = text
            .match_indices("[[site]]")
            .nth(index)
            .map(|(pos, _)| pos)?;
        (start, tail)
    } else {
        let (table, leaf) = key.split_once('.')?;
        let header = format!("[{table}]");
        (text.find(&header)?, leaf)
    };
    let leaf = leaf.split(['[', '.']).next()?;
    let mut offset = section_start;
    for line in text[section_start..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(leaf) && trimmed[leaf.len()..].trim_start().starts_with('=') {
            let start = offset + (line.len() - trimmed.len());
            return Some(start..start + leaf.len());
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[site]]
name = "u"
upstream = "https://www.u.com"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "test.toml")
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.sites.len(), 1);
        assert_eq!(c.sites[0].mount, "/");
        assert_eq!(c.sites[0].methods, ["GET", "HEAD"]);
        assert_eq!(c.cache.max_bytes, ByteSize::mib(256));
        assert_eq!(c.upstream.idle_timeout, Dur::secs(30));
    }

    #[test]
    fn unknown_key_names_file_key_and_line() {
        let e = parse(&format!("{MINIMAL}colour = \"red\"\n")).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("test.toml:"), "{text}");
        assert!(text.contains("colour"), "{text}");
        assert!(e.line.is_some());
    }

    #[test]
    fn bad_size_names_its_key() {
        let e = parse(&format!("[cache]\nmax_bytes = \"12XB\"\n{MINIMAL}")).unwrap_err();
        assert_eq!(e.key, "cache.max_bytes");
        assert!(e.reason.contains("invalid size"), "{e}");
        assert_eq!(e.line.map(|l| l.0), Some(2));
    }

    #[test]
    fn non_http_upstream_is_refused() {
        let e = parse("[[site]]\nname = \"u\"\nupstream = \"ftp://u.com\"\n").unwrap_err();
        assert_eq!(e.key, "site[0].upstream");
        assert!(e.to_string().contains("http"), "{e}");
        assert_eq!(e.line.map(|l| l.0), Some(3));
    }

    #[test]
    fn two_sites_on_one_mount_are_refused() {
        let e = parse(&format!(
            "{MINIMAL}[[site]]\nname = \"v\"\nupstream = \"https://v.com\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.key, "site[1].mount");
    }

    #[test]
    fn same_mount_on_different_hosts_is_allowed() {
        let text = r#"
[[site]]
name = "u"
upstream = "https://www.u.com"
hosts = ["u.mirror.org"]
[[site]]
name = "v"
upstream = "https://www.v.com"
hosts = ["v.mirror.org"]
"#;
        assert!(parse(text).is_ok());
    }

    #[test]
    fn bad_remove_selector_is_refused() {
        let e = parse(&format!("{MINIMAL}remove = [\"div[\"]\n")).unwrap_err();
        assert_eq!(e.key, "site[0].remove[0]");
    }

    #[test]
    fn proxy_all_images_requires_signing_key() {
        let e = parse(&format!("{MINIMAL}proxy_all_images = true\n")).unwrap_err();
        assert_eq!(e.key, "server.signing_key");
        let ok = format!(
            "[server]\nsigning_key = \"0123456789abcdef0123\"\n{MINIMAL}proxy_all_images = true\n"
        );
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn env_secret_that_is_unset_is_refused() {
        let text = format!("[server]\nsigning_key = \"env:NEWSMIRROR_TEST_UNSET_VAR\"\n{MINIMAL}");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.key, "server.signing_key");
        assert!(e.reason.contains("NEWSMIRROR_TEST_UNSET_VAR"));
    }

    #[test]
    fn later_work_keys_parse_and_are_validated() {
        let text = r#"
[cache]
max_bytes = "1MiB"
max_object_bytes = "2MiB"
[[site]]
name = "u"
upstream = "https://www.u.com"
[site.article]
title = "h1.title"
"#;
        let e = parse(text).unwrap_err();
        assert_eq!(e.key, "cache.max_object_bytes");
        let e = parse(&format!("{MINIMAL}[site.article]\nauthor = \".x\"\n")).unwrap_err();
        assert!(e.key.contains("article"), "{e}");
    }

    #[test]
    fn footer_with_unknown_placeholder_is_refused() {
        let e = parse(&format!("{MINIMAL}footer = \"see {{url}}\"\n")).unwrap_err();
        assert_eq!(e.key, "site[0].footer");
    }

    #[test]
    fn external_links_takes_only_known_values() {
        let e = parse(&format!("{MINIMAL}external_links = \"hide\"\n")).unwrap_err();
        assert_eq!(e.key, "site[0].external_links");
    }

    #[test]
    fn mount_must_be_a_slash_delimited_path() {
        for bad in ["news", "/news", "/_/x/", "/a/../"] {
            let e = parse(&format!("{MINIMAL}mount = \"{bad}\"\n")).unwrap_err();
            assert_eq!(e.key, "site[0].mount", "{bad}");
        }
    }
}
