//! Shared state built once at start ([`App`]): configuration, sites and
//! their rules, the URL mapper, the upstream client, the cache, metrics,
//! the run-time scripts and the CSP report table. It names no handler:
//! the routes are in `crate::router`.

use std::sync::Arc;

use http::HeaderValue;

use crate::cache::Cache;
use crate::config::Config;
use crate::error::MirrorError;
use crate::html::SiteRules;
use crate::metrics::Metrics;
use crate::site::{Site, SiteId};
use crate::upstream::Upstream;
use crate::url_map::UrlMapper;

/// The cache of a mirror: its fills fail with a [`MirrorError`].
pub type MirrorCache = Cache<MirrorError>;

/// Everything a request handler needs; one per process.
pub struct App {
    /// What, besides upstream's bytes and the page URL, decides the bytes of
    /// a rewritten page: this binary's version and the configuration that
    /// rewrites (sites, public URL, the signing key, the page script). Part
    /// of every derived validator (`cache::Derived`), so that a new release
    /// or configuration never answers 304 for bytes it would write otherwise.
    pub rules_version: Vec<u8>,
    pub config: Config,
    pub sites: Vec<Arc<Site>>,
    rules: Vec<Arc<SiteRules>>,
    pub mapper: Arc<UrlMapper>,
    /// With `[mirrors] onion`: the same mapper, its absolute URLs on the
    /// onion origin, for requests that came in under the onion name.
    onion: Option<(String, Arc<UrlMapper>)>,
    pub upstream: Upstream,
    /// By site: the client of a site with a `proxy` of its own.
    site_upstreams: Vec<Option<Upstream>>,
    pub user_agent: HeaderValue,
    /// `None` when `cache.max_bytes = "0"`.
    pub cache: Option<MirrorCache>,
    pub metrics: Arc<Metrics>,
    /// `server.trusted_proxies`, for request ids.
    pub trusted: crate::forwarded::TrustedProxies,
    /// The service worker's script and the policy of the pages it controls.
    pub worker: crate::worker::Worker,
    /// CSP violation reports: the rate limit and the blocked-host table.
    pub csp: crate::csp_report::CspReports,
    /// `[mirrors]`: the other origins, their health, the signed list.
    pub mirrors: Arc<crate::mirrors::Mirrors>,
    /// Feeds made from section pages, kept for a few minutes.
    pub feeds: crate::feed::FeedCache,
    /// Article views, counted without identifying readers, and the titles
    /// of the viewed articles.
    pub views: crate::popular::Views,
    /// By site: its `newsmirror_article_views` counter.
    pub view_counters: Vec<prometheus_client::metrics::counter::Counter>,
    pub titles: crate::popular::TitleCache,
}

/// Why the server cannot start with a (valid) configuration.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Sites(#[from] crate::config::ConfigError),
    #[error("site {site}: {error}")]
    Rules {
        site: String,
        #[source]
        error: crate::html::BadSelector,
    },
    #[error("upstream.user_agent is not a valid header value")]
    UserAgent,
    #[error(transparent)]
    Mirrors(#[from] crate::mirrors::MirrorsError),
}

impl App {
    pub fn new(config: Config) -> Result<Arc<App>, StartError> {
        Self::with_upstream(config.clone(), Upstream::new(&config.upstream))
    }

    /// An app whose upstream client was built by the caller (tests trust their own CA).
    pub fn with_upstream(config: Config, upstream: Upstream) -> Result<Arc<App>, StartError> {
        let sites = Site::all_from(&config)?;
        let mirrors = Arc::new(crate::mirrors::Mirrors::new(&config)?);
        let worker = crate::worker::Worker::new(&sites, &mirrors);
        let rules = sites
            .iter()
            .map(|s| {
                SiteRules::new(s, &worker.page_tag, &worker.register_tag)
                    .map(Arc::new)
                    .map_err(|error| StartError::Rules {
                        site: s.name.clone(),
                        error,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mapper = Arc::new(UrlMapper::for_server(&sites, &config.server));
        let onion = config.mirrors.onion.as_ref().and_then(|onion| {
            let host = onion.host_str()?.to_ascii_lowercase();
            let server = crate::config::ServerConfig {
                public_url: Some(onion.clone()),
                ..config.server.clone()
            };
            Some((host, Arc::new(UrlMapper::for_server(&sites, &server))))
        });
        let user_agent = HeaderValue::from_str(&config.upstream.user_agent)
            .map_err(|_| StartError::UserAgent)?;
        let metrics = Arc::new(Metrics::new());
        let cache = MirrorCache::new(&config.cache, metrics.clone());
        let trusted = crate::forwarded::TrustedProxies::new(&config.server.trusted_proxies);
        let csp = crate::csp_report::CspReports::new(&metrics, &sites);
        let rules_version = rules_version(&config, &worker.page_version);
        let site_upstreams = config
            .sites
            .iter()
            .map(|s| {
                s.proxy.as_ref().map(|proxy| {
                    Upstream::new(&crate::config::UpstreamConfig {
                        proxy: Some(proxy.clone()),
                        ..config.upstream.clone()
                    })
                })
            })
            .collect();
        Ok(Arc::new(App {
            feeds: crate::feed::feed_cache(),
            views: crate::popular::Views::new(),
            view_counters: sites
                .iter()
                .map(|s| {
                    metrics
                        .page_views
                        .get_or_create(&crate::metrics::SiteLabels {
                            site: s.name.clone(),
                        })
                        .clone()
                })
                .collect(),
            titles: crate::popular::title_cache(),
            onion,
            mirrors,
            site_upstreams,
            rules_version,
            worker,
            csp,
            cache,
            metrics,
            config,
            sites,
            rules,
            mapper,
            upstream,
            user_agent,
            trusted,
        }))
    }

    /// The client for `site`'s fetches: its own when it has a `proxy`.
    pub fn upstream_for(&self, site: SiteId) -> &Upstream {
        self.site_upstreams
            .get(site.0)
            .and_then(Option::as_ref)
            .unwrap_or(&self.upstream)
    }

    /// Whether `host` (the reader's, lower-case, no port) is the onion name.
    pub fn is_onion_host(&self, host: Option<&str>) -> bool {
        matches!((&self.onion, host), (Some((onion, _)), Some(h)) if onion == h)
    }

    /// The mapper whose absolute URLs are on the origin the reader came
    /// in on: the onion one under the onion name, `mapper` otherwise.
    pub fn mapper_for(&self, onion: bool) -> &Arc<UrlMapper> {
        match &self.onion {
            Some((_, m)) if onion => m,
            _ => &self.mapper,
        }
    }

    pub fn site(&self, id: SiteId) -> Option<&Arc<Site>> {
        self.sites.get(id.0)
    }

    /// The compiled rewrite rules of `site`.
    pub fn rules(&self, site: &Site) -> &Arc<SiteRules> {
        // Built from the same list at start: the index always exists.
        &self.rules[site.id.0]
    }
}

/// A digest of what decides a rewritten page's bytes ([`App::rules_version`]).
fn rules_version(config: &Config, page_version: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    // Debug of a secret prints no value: the key goes in as its bytes.
    h.update(format!(
        "{:?}|{:?}|{page_version}",
        config.sites, config.server.public_url
    ));
    if let Some(key) = &config.server.signing_key {
        h.update(Sha256::digest(key.expose().as_bytes()));
    }
    h.finalize()[..16].to_vec()
}
