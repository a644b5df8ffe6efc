//! The mirror's service worker (`GET /_/sw.js`): URLs that a page's
//! scripts build at run time, to a mirrored site or asset host, are sent to
//! their mirror URL; anything else the worker sees is answered locally with
//! an empty response. It can reach only routes the mirror already serves:
//! it only rewrites a URL's origin and path prefix, from a table made from
//! the configuration at start, and fetches the result from its own origin.
//!
//! The browser checks the page's Content-Security-Policy *before* a request
//! reaches a service worker, so with the mirror's policy (`'self'` only) a
//! script's request to the site itself would never get to the worker. The
//! worker therefore marks the navigations it forwards ([`WORKER_HEADER`]),
//! and only those pages, whose every request the worker is known to
//! handle, get a policy that also names the mapped hosts
//! ([`Worker::policy_for_controlled_pages`]). A page loaded without the
//! worker (the first visit, a browser without service workers) keeps the
//! `'self'`-only policy: the guarantee does not depend on the worker.

use crate::headers::CSP_SCRIPTS_KEPT;
use crate::site::Site;

/// Set by the worker on the navigations it forwards to the mirror.
pub const WORKER_HEADER: &str = "x-newsmirror-worker";

/// The path the worker is served at.
pub const WORKER_PATH: &str = "/_/sw.js";

/// Registers the worker (scripts-kept pages, first in `<head>`).
pub const REGISTRATION: &str = "<script>if(navigator.serviceWorker)\
navigator.serviceWorker.register('/_/sw.js',{scope:'/'}).catch(function(){});</script>";

/// The worker's script and the policy of the pages it controls, made once.
pub struct Worker {
    pub script: String,
    pub policy_for_controlled_pages: String,
}

impl Worker {
    pub fn new(sites: &[std::sync::Arc<Site>]) -> Worker {
        // [host, upstream path prefix, mirror mount], longest prefix first.
        let mut routes: Vec<(String, String, String)> = sites
            .iter()
            .filter(|s| s.rewrite)
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
        let script = format!(
            "// newsmirror service worker: run-time URLs of the mirrored sites go to\n\
             // the mirror; nothing else leaves the page.\n\
             const ROUTES = {routes_json};\n\
             const ASSETS = {assets_json};\n{WORKER_BODY}"
        );
        let mut hosts: Vec<String> = routes.iter().map(|r| r.0.clone()).collect();
        hosts.extend(assets);
        hosts.sort();
        hosts.dedup();
        Worker {
            script,
            policy_for_controlled_pages: policy_naming(&hosts),
        }
    }
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

const WORKER_BODY: &str = r#"
function mirrorPath(u) {
  for (const [host, prefix, mount] of ROUTES) {
    if (u.hostname === host && u.pathname.startsWith(prefix)) {
      return mount + u.pathname.slice(prefix.length) + u.search;
    }
  }
  if (ASSETS.includes(u.hostname)) {
    return '/_/asset/' + u.hostname + u.pathname + u.search;
  }
  return null;
}

async function forward(request, path) {
  const init = {
    method: request.method,
    headers: request.headers,
    credentials: 'same-origin',
    redirect: 'follow',
  };
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    init.body = await request.blob();
  }
  return fetch(path, init);
}

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin === self.location.origin) {
    if (request.mode === 'navigate' && request.method === 'GET') {
      const headers = new Headers(request.headers);
      headers.set('X-Newsmirror-Worker', '1');
      event.respondWith(fetch(new Request(request, { headers })));
    }
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return;
  }
  const path = mirrorPath(url);
  if (path === null) {
    event.respondWith(new Response(null, { status: 204 }));
    return;
  }
  event.respondWith(forward(request, path));
});
"#;

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
}
