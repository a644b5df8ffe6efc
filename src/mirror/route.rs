//! Route: which site and which upstream URL a request is for. `page` for
//! everything under a site's mount, `asset` for `/_/asset/<host>/<path>`,
//! `image` for signed `/_/img/` URLs; the host the reader asked for and
//! the reader's `Referer` as the original page's URL.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use http::request::Parts;
use http::{HeaderValue, Method, header};
use url::Url;

use super::{Target, serve};
use crate::app::App;
use crate::error::MirrorError;
use crate::forwarded::{self, ClientView};
use crate::site::Site;
use crate::url_map::{ASSET_PREFIX, IMAGE_PREFIX, RouteError};

/// `GET/HEAD <mount><path>`: the answer for everything not under `/_/`
/// (`router::Public` calls it with the request's [`ClientView`]).
pub async fn page(app: Arc<App>, req: Request, view: Option<ClientView>) -> Response {
    let parsed;
    let host = match &view {
        Some(v) => v.host.as_deref(),
        None => {
            parsed = forwarded::host_of(req.uri(), req.headers());
            parsed.as_deref()
        }
    };
    let route = match app.mapper.route(host, path_and_query(&req)) {
        Ok(r) => r,
        Err(e) => return MirrorError::from(e).page(None),
    };
    let Some(site) = app.site(route.site).cloned() else {
        return MirrorError::Route(RouteError::NoSite).page(None);
    };
    if !site.allows(req.method()) {
        let e = MirrorError::MethodNotAllowed {
            method: req.method().clone(),
            allow: site.methods.clone(),
        };
        return e.page(Some(&site));
    }
    let controlled = req.headers().contains_key(&crate::worker::WORKER_HEADER);
    // (A `Uri` clone shares its bytes: nothing is copied per request.)
    let viewed = (req.method() == Method::GET && site.kind == crate::site::SiteKind::Mirror)
        .then(|| req.uri().clone())
        .filter(|u| crate::popular::is_article_path(u.path()));
    let mut response = serve(
        app.clone(),
        site.clone(),
        route.upstream,
        Target::Page,
        req,
        view,
    )
    .await
    .unwrap_or_else(|e| e.page(Some(&site)));
    if let Some(uri) = viewed
        && matches!(response.status().as_u16(), 200 | 304)
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|ct| ct.as_bytes().starts_with(b"text/html"))
    {
        // Its site and path, nothing of the reader.
        app.views
            .record(site.id.0, uri.path(), std::time::SystemTime::now());
        if let Some(counter) = app.view_counters.get(site.id.0) {
            counter.inc();
        }
    }
    if controlled {
        worker_policy(&app, &mut response);
    }
    response
}

/// A page the mirror's service worker fetched (and so controls): the
/// scripts-kept policy, widened to the mapped hosts, whose requests the
/// worker sends to the mirror (see [`crate::worker`]).
fn worker_policy(app: &App, response: &mut Response) {
    let headers = response.headers_mut();
    let is_kept_policy = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v.as_bytes() == crate::headers::CSP_SCRIPTS_KEPT.as_bytes());
    if is_kept_policy && let Ok(v) = HeaderValue::from_str(&app.worker.policy_for_controlled_pages)
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// `GET/HEAD /_/asset/<host>/<path>`.
pub async fn asset(State(app): State<Arc<App>>, req: Request) -> Response {
    let rest = path_and_query(&req)
        .strip_prefix(ASSET_PREFIX)
        .unwrap_or("")
        .to_owned();
    let url = match app.mapper.asset_target(&rest) {
        Ok(u) => u,
        Err(e) => return MirrorError::from(e).page(None),
    };
    let host = url.host_str().unwrap_or_default();
    let site = app
        .sites
        .iter()
        .find(|s| s.asset_hosts.iter().any(|h| h == host))
        .cloned();
    media_route(app, site, url, Target::Asset, req).await
}

/// `GET/HEAD /_/img/<sig>/<b64url>`.
pub async fn image(State(app): State<Arc<App>>, req: Request) -> Response {
    let rest = path_and_query(&req)
        .strip_prefix(IMAGE_PREFIX)
        .unwrap_or("")
        .to_owned();
    let url = match app.mapper.image_target(&rest) {
        Ok(u) => u,
        Err(e) => return MirrorError::from(e).page(None),
    };
    let site = app.sites.iter().find(|s| s.proxy_all_images).cloned();
    media_route(app, site, url, Target::Image, req).await
}

async fn media_route(
    app: Arc<App>,
    site: Option<Arc<Site>>,
    url: Url,
    target: Target,
    mut req: Request,
) -> Response {
    let Some(site) = site else {
        return MirrorError::Route(RouteError::NoSite).page(None);
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let e = MirrorError::MethodNotAllowed {
            method: req.method().clone(),
            allow: vec![Method::GET, Method::HEAD],
        };
        return e.page(None);
    }
    let view = req.extensions_mut().remove::<ClientView>();
    serve(app, site, url, target, req, view)
        .await
        .unwrap_or_else(|e| e.page(None))
}

/// The reader's `Referer`, if it is a mirror page, as that page's original
/// URL: image hosts that check the referrer see their own site, and nothing
/// of the mirror.
pub(super) fn original_referer(
    app: &App,
    parts: &Parts,
    view: Option<&ClientView>,
) -> Option<HeaderValue> {
    let referer = Url::parse(parts.headers.get(header::REFERER)?.to_str().ok()?).ok()?;
    let host = match view {
        Some(view) => view.host.clone()?,
        None => forwarded::host_of(&parts.uri, &parts.headers)?,
    };
    if referer.host_str()? != host {
        return None;
    }
    let path = &referer[url::Position::BeforePath..url::Position::AfterQuery];
    let (_, original) = app.mapper.original_of(Some(&host), path)?;
    HeaderValue::from_str(original.as_str()).ok()
}

fn path_and_query(req: &Request) -> &str {
    req.uri().path_and_query().map_or("/", |pq| pq.as_str())
}
