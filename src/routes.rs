//! The mirror's own paths: everything under [`RESERVED`], which no site may
//! mount (`config` refuses it). Part of the contract (`DESIGN.md`, routes);
//! the router, the mapper, the rewriter and the metrics labels all name
//! them from here.

/// The prefix of every path the mirror answers itself.
pub const RESERVED: &str = "/_/";
/// Liveness: `ok`.
pub const HEALTHZ: &str = "/_/healthz";
/// Prefix of the built-in static files.
pub const STATIC_PREFIX: &str = "/_/static/";
/// The stylesheet of the injected nav bar, footer and error pages.
pub const STYLESHEET: &str = "/_/static/newsmirror.css";
/// The service worker.
pub const WORKER: &str = "/_/sw.js";
/// The page script.
pub const PAGE_SCRIPT: &str = "/_/rt.js";
/// The empty answer (204) to a request for another host, where the page
/// script sends such requests.
pub const VOID: &str = "/_/void";
/// The mirror list, signed, for apps and other mirrors (CORS).
pub const MIRRORS_JSON: &str = "/_/mirrors.json";
/// The mirror list for readers.
pub const MIRRORS_PAGE: &str = "/_/mirrors";
/// Prefix of the programs' API.
pub const API_PREFIX: &str = "/_/api/";
/// The article API.
pub const API_ARTICLE: &str = "/_/api/article";
/// The section API.
pub const API_SECTION: &str = "/_/api/section";
/// The most read articles.
pub const API_POPULAR: &str = "/_/api/popular";
/// The most read articles, for readers (a page the nav can link).
pub const POPULAR_PAGE: &str = "/_/popular";
/// A feed generated from a section page.
pub const FEED: &str = "/_/feed";
/// The API's OpenAPI document.
pub const API_OPENAPI: &str = "/_/api/openapi.json";
/// Where browsers send CSP violation reports.
pub const CSP_REPORT: &str = "/_/csp-report";
/// Prefix of the asset route (`/_/asset/<host>/<path>`).
pub const ASSET_PREFIX: &str = "/_/asset/";
/// Prefix of the signed-image route (`/_/img/<sig>/<b64url>`).
pub const IMAGE_PREFIX: &str = "/_/img/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_under_the_reserved_prefix() {
        for path in [
            HEALTHZ,
            STATIC_PREFIX,
            STYLESHEET,
            WORKER,
            PAGE_SCRIPT,
            VOID,
            API_PREFIX,
            API_ARTICLE,
            API_OPENAPI,
            CSP_REPORT,
            ASSET_PREFIX,
            IMAGE_PREFIX,
            MIRRORS_JSON,
            MIRRORS_PAGE,
            API_SECTION,
            API_POPULAR,
            POPULAR_PAGE,
            FEED,
        ] {
            assert!(path.starts_with(RESERVED), "{path}");
        }
        assert!(STYLESHEET.starts_with(STATIC_PREFIX));
        assert!(API_ARTICLE.starts_with(API_PREFIX) && API_OPENAPI.starts_with(API_PREFIX));
    }
}
