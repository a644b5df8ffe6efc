//! Run-time URL mapping, for pages whose scripts are kept: what a page's
//! scripts build after the mirror rewrote its markup.
//!
//! - **The page script** (`GET /_/rt.js`, the first script in `<head>`):
//!   hooks the places a script hands the browser a URL (element
//!   properties and attributes, `fetch`, XHR, beacons, `EventSource`,
//!   `WebSocket`, markup written with `innerHTML`/`document.write`, style
//!   `url()`), on the first visit already. A URL of a mirrored site or
//!   asset host becomes its mirror URL; another host's subresource becomes
//!   [`routes::VOID`], the mirror's empty answer, so that the page asks
//!   nothing of another host and does not wait on a blocked one.
//! - **The service worker** (`GET /_/sw.js`, registered by the page
//!   script): the requests the hooks cannot see (a style sheet's fonts, a
//!   `location` assignment, ...), once it controls the page.
//!
//! - **Failover** (`[mirrors] alternates`, `js/failover.js`): the worker
//!   also answers this origin's own requests, and when this origin does
//!   not answer it asks the same path of the alternates ([`crate::mirrors`]),
//!   serves that answer with a banner, keeps pages read in the Cache API
//!   and, when no mirror answers, serves those. Pages whose scripts are
//!   removed register the worker too: one inline script, allowed by its
//!   hash alone ([`Worker::policy_scripts_removed`]).
//!
//! Both take their tables (host, upstream path prefix, mount; asset
//! hosts) from the configuration at start and share one mapping function
//! (`js/mapper.js`), the run-time form of `url_map`'s rules for
//! absolute URLs. Neither can reach anything the mirror does not serve:
//! they only change a URL's origin and path prefix to the mirror's own.
//!
//! The browser checks the page's Content-Security-Policy *before* a request
//! reaches a service worker, so with the mirror's policy (`'self'` only) a
//! script's request to the site itself would never get to the worker. The
//! worker therefore marks the navigations it forwards ([`WORKER_HEADER`]),
//! and only those pages, whose every request the worker is known to
//! handle, get a policy that also names the mapped hosts
//! ([`Worker::policy_for_controlled_pages`]). A page loaded without the
//! worker (the first visit, a browser without service workers) keeps the
//! `'self'`-only policy: the guarantee depends on neither script.

use crate::headers::{CSP_SCRIPTS_KEPT, CSP_SCRIPTS_REMOVED};
use crate::site::{Site, SiteKind};

/// Set by the worker on the navigations it forwards to the mirror.
/// (A `HeaderName`, not a `&str`: a name given as text is parsed again
/// on every lookup.)
pub const WORKER_HEADER: http::HeaderName = http::HeaderName::from_static("x-newsmirror-worker");

use crate::routes;

/// The two scripts and the policy of the pages the worker controls, made
/// once at start.
pub struct Worker {
    /// `/_/sw.js` (bytes shared by every answer).
    pub script: bytes::Bytes,
    pub policy_for_controlled_pages: String,
    /// `/_/rt.js`.
    pub page_script: bytes::Bytes,
    /// `<script src="/_/rt.js?v=…">`: versioned by the script's content,
    /// so that the script is cached for good and a new configuration is
    /// a new URL.
    pub page_tag: String,
    /// The query of the page script's URL (`v=…`).
    pub page_version: String,
    /// What pages whose scripts are removed get in `<head>` so that the
    /// worker (and its failover) installs: the inline registration, or
    /// nothing without alternates.
    pub register_tag: String,
    /// The policy of those pages: `'none'` for scripts, or, with the
    /// registration, its hash alone and `worker-src 'self'`.
    pub policy_scripts_removed: http::HeaderValue,
}

impl Worker {
    pub fn new(sites: &[std::sync::Arc<Site>], mirrors: &crate::mirrors::Mirrors) -> Worker {
        // [host, upstream path prefix, mirror mount], longest prefix first.
        let mut routes: Vec<(String, String, String)> = sites
            .iter()
            .filter(|s| s.kind == SiteKind::Mirror)
            .flat_map(|s| {
                s.upstream_hosts
                    .iter()
                    .map(|h| (h.clone(), s.upstream.path().to_owned(), s.mount.clone()))
            })
            .collect();
        routes.sort_by_key(|r| std::cmp::Reverse(r.1.len()));
        let mut assets: Vec<String> = sites
            .iter()
            .flat_map(|s| s.asset_hosts.iter().cloned())
            .collect();
        assets.sort();
        assets.dedup();
        let routes_json = serde_json::to_string(&routes).unwrap_or_else(|_| "[]".into());
        let assets_json = serde_json::to_string(&assets).unwrap_or_else(|_| "[]".into());
        let tables = format!("var ROUTES = {routes_json};\nvar ASSETS = {assets_json};\n{MAPPER}");
        let alternates = mirrors.failover_origins();
        let alternates_json = serde_json::to_string(&alternates).unwrap_or_else(|_| "[]".into());
        let static_json =
            serde_json::to_string(&mirrors.static_copies()).unwrap_or_else(|_| "[]".into());
        let words_json = serde_json::to_string(mirrors.words()).unwrap_or_else(|_| "{}".into());
        let script = format!(
            "// newsmirror service worker: run-time URLs of the mirrored sites go to\n\
             // the mirror; nothing else leaves the page, but for the mirror's own\n\
             // alternates when this origin does not answer.\n{tables}\
             var ALTERNATES = {alternates_json};\nvar STATIC_COPIES = {static_json};\n\
             var WORDS = {words_json};\n\
             {FAILOVER}{WORKER_BODY}"
        );
        let (register_tag, policy_scripts_removed) = if alternates.is_empty() {
            (
                String::new(),
                http::HeaderValue::from_static(CSP_SCRIPTS_REMOVED),
            )
        } else {
            let policy = policy_with_registration(REGISTER);
            (
                format!("<script>{REGISTER}</script>"),
                http::HeaderValue::from_str(&policy)
                    .unwrap_or_else(|_| http::HeaderValue::from_static(CSP_SCRIPTS_REMOVED)),
            )
        };
        let page_script = format!("(function () {{\n'use strict';\n{tables}{PAGE_BODY}}})();\n");
        let page_version = format!("v={:016x}", content_hash(&page_script));
        let page_tag = format!(
            "<script src=\"{}?{page_version}\"></script>",
            routes::PAGE_SCRIPT
        );
        let mut hosts: Vec<String> = routes.iter().map(|r| r.0.clone()).collect();
        hosts.extend(assets);
        hosts.sort();
        hosts.dedup();
        Worker {
            script: script.into(),
            policy_for_controlled_pages: policy_naming(&hosts),
            page_script: page_script.into(),
            page_tag,
            page_version,
            register_tag,
            policy_scripts_removed,
        }
    }
}

/// The registration script of pages whose scripts are removed.
const REGISTER: &str = "navigator.serviceWorker&&navigator.serviceWorker.register('/_/sw.js',{scope:'/'}).catch(function(){});";

/// The scripts-removed policy, allowing the one inline `script` by its
/// SHA-256 (no other script runs) and the worker's registration.
fn policy_with_registration(script: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    CSP_SCRIPTS_REMOVED
        .replace("script-src 'none'", &format!("script-src 'sha256-{hash}'"))
        .replace("worker-src 'none'", "worker-src 'self'")
}

/// The scripts-kept policy with `hosts` added to the directives whose
/// requests the worker answers (never frames, forms or the base URL).
fn policy_naming(hosts: &[String]) -> String {
    let sources: String = hosts
        .iter()
        .map(|h| format!(" https://{h} http://{h}"))
        .collect();
    CSP_SCRIPTS_KEPT
        .split("; ")
        .map(|directive| {
            let name = directive.split(' ').next().unwrap_or("");
            if matches!(
                name,
                "default-src"
                    | "script-src"
                    | "style-src"
                    | "img-src"
                    | "font-src"
                    | "connect-src"
                    | "media-src"
            ) {
                format!("{directive}{sources}")
            } else {
                directive.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A stable digest of a script (std's SipHash with its fixed keys: the same
/// text gives the same version in every process of one build).
fn content_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

const MAPPER: &str = include_str!("js/mapper.js");
const WORKER_BODY: &str = include_str!("js/sw.js");
const FAILOVER: &str = include_str!("js/failover.js");
const PAGE_BODY: &str = include_str!("js/page.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controlled_pages_may_name_the_mapped_hosts_in_fetch_directives_only() {
        let p = policy_naming(&["www.u.test".into()]);
        assert!(p.contains("connect-src 'self' https://www.u.test http://www.u.test"));
        assert!(p.contains("img-src 'self' data: blob: https://www.u.test"));
        assert!(p.contains("frame-src 'self';"), "{p}");
        assert!(p.contains("form-action 'self';"), "{p}");
        assert!(p.contains("base-uri 'self';"), "{p}");
    }

    #[test]
    fn the_registration_alone_may_run_on_pages_whose_scripts_are_removed() {
        let p = policy_with_registration(REGISTER);
        assert!(!p.contains("'none'; style"), "{p}");
        assert!(p.contains("script-src 'sha256-"), "{p}");
        assert!(p.contains("worker-src 'self'"), "{p}");
        assert!(!p.contains("unsafe-inline' 'unsafe-eval"), "{p}");
        assert_ne!(policy_with_registration("alert(1)"), p);
    }
}
