//! The public side: [`Public`], one service in front of every public
//! request (request ids, the reader's view of the connection, what is
//! refused before any route), which sends a page straight to the mirror and
//! the mirror's own paths under `/_/` to their axum router.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use http::{HeaderValue, Method, StatusCode, Version, header};
use tower::ServiceExt;

use crate::app::App;
use crate::error::{BadRequest, MirrorError};
use crate::forwarded::ClientView;
use crate::metrics::Route;
use crate::mirror;
use crate::routes;

/// The stylesheet for the injected nav bar and footer, built into the binary.
pub const STYLESHEET: &str = include_str!("../static/newsmirror.css");

/// The public side of the mirror: every request, through [`Public`].
pub fn public(app: Arc<App>) -> Public {
    Public {
        shared: Arc::new(Shared {
            routes: own_routes(app.clone()),
            app,
        }),
        peer: None,
    }
}

/// The service that answers every public request: the front steps, then a
/// page straight to [`mirror::page`] or a path under `/_/` to the router of
/// the mirror's own routes. Written by hand rather than as an axum layer
/// over one router, because the layer and the router boxed and cloned a
/// service and a future several times per request, which showed in the
/// instructions of a cache hit (`bench/hit_cost.sh`).
#[derive(Clone)]
pub struct Public {
    shared: Arc<Shared>,
    /// The connection's peer (none for requests made in process, as
    /// `newsmirror export` makes them).
    peer: Option<SocketAddr>,
}

struct Shared {
    app: Arc<App>,
    /// The routes under `/_/`.
    routes: Router,
}

impl Public {
    /// This service for the requests of one connection from `peer`.
    pub fn for_peer(&self, peer: SocketAddr) -> Self {
        Self {
            shared: self.shared.clone(),
            peer: Some(peer),
        }
    }

    /// In order: the request id and access log, the refusal of
    /// forward-proxy requests, the reader's [`ClientView`], the route, and
    /// the count of answers by route and status.
    async fn answer(self, mut req: Request) -> Response {
        let app = &self.shared.app;
        let access = crate::request_id::begin(&app.trusted, self.peer, &req);
        let route = route_of(req.uri().path());
        let cors = app.mirrors.fails_over() && matches!(*req.method(), Method::GET | Method::HEAD);
        let mut response = match refused(&req) {
            Err(refusal) => refusal_page(refusal),
            Ok(own_host) => {
                let view = client_view(app, self.peer, own_host, &req);
                if route == Route::Page {
                    let head = req.method() == Method::HEAD;
                    // The view as an argument: an extension would cost the
                    // request a map, a box and their drop. The page's future
                    // is made in the call, not bound first: bound, it kept a
                    // slot of its own beside the scope's in this future
                    // (6.6 KB, now 3.9 KB).
                    let response = access
                        .scope(mirror::page(app.clone(), req, Some(view)))
                        .await;
                    if head {
                        without_body(response)
                    } else {
                        response
                    }
                } else {
                    req.extensions_mut().insert(view);
                    match access.scope(self.shared.routes.clone().oneshot(req)).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    }
                }
            }
        };
        app.metrics.request(route, response.status().as_u16());
        if cors {
            allow_other_mirrors(&mut response);
        }
        access.finish(response)
    }
}

impl<B> tower::Service<http::Request<B>> for Public
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.answer(req.map(Body::new)).await) })
    }
}

/// The answer to a HEAD: its head, with the length its body would have had
/// (what axum's router does for the routes it serves).
fn without_body(mut response: Response) -> Response {
    use http_body::Body as _;
    if !response.headers().contains_key(header::CONTENT_LENGTH)
        && let Some(len) = response.body().size_hint().exact()
    {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    *response.body_mut() = Body::empty();
    response
}

/// The mirror's own routes, every one under [`routes::RESERVED`].
fn own_routes(app: Arc<App>) -> Router {
    Router::new()
        .route(routes::HEALTHZ, get(healthz))
        .route(routes::STYLESHEET, get(stylesheet))
        .route(routes::WORKER, get(service_worker))
        .route(routes::PAGE_SCRIPT, get(page_script))
        .route(routes::VOID, any(void))
        .route(routes::MIRRORS_JSON, get(mirrors_json))
        .route(routes::MIRRORS_PAGE, get(mirrors_page))
        .route(routes::API_ARTICLE, get(crate::api::article))
        .route(routes::API_OPENAPI, get(openapi))
        .route(routes::API_SECTION, get(crate::section::section))
        .route(routes::API_POPULAR, get(crate::section::popular))
        .route(routes::POPULAR_PAGE, get(crate::section::popular_page))
        .route(routes::FEED, get(crate::section::feed))
        .route(routes::CSP_REPORT, post(csp_report))
        .route(routes::ASSET_PREFIX, any(mirror::asset))
        .route(
            &format!("{}{{*rest}}", routes::ASSET_PREFIX),
            any(mirror::asset),
        )
        .route(routes::IMAGE_PREFIX, any(mirror::image))
        .route(
            &format!("{}{{*rest}}", routes::IMAGE_PREFIX),
            any(mirror::image),
        )
        .route(&format!("{}{{*rest}}", routes::RESERVED), any(not_found))
        .route(routes::RESERVED, any(not_found))
        .fallback(not_found)
        .with_state(app)
}

/// With alternates configured, the mirror's answers may be read by the
/// service worker of another origin of this mirror (its failover fetches
/// the same path here, without credentials). `*` rather than the listed
/// origins: the answers are the same for everyone, and a CDN in front
/// needs no `Vary: Origin`. The exposed headers let that worker keep this
/// page's Content-Security-Policy.
fn allow_other_mirrors(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("*"),
    );
}

/// `GET /_/api/openapi.json`: the article and section APIs.
async fn openapi() -> Response {
    use utoipa::OpenApi;
    static JSON: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        crate::api::openapi_json([crate::section::SectionDoc::openapi()])
    });
    crate::api::openapi_answer(JSON.as_str())
}

/// `GET /_/mirrors.json`: the list as last published, its signature in
/// [`crate::mirrors::SIGNATURE_HEADER`]; readable from any origin.
async fn mirrors_json(State(app): State<Arc<App>>) -> Response {
    let published = app.mirrors.published();
    let mut r = static_answer(
        published.body.clone(),
        "application/json",
        "public, max-age=60",
    );
    let h = r.headers_mut();
    if let Some(sig) = &published.signature {
        h.insert(
            http::HeaderName::from_static(crate::mirrors::SIGNATURE_HEADER),
            sig.clone(),
        );
    }
    allow_other_mirrors(&mut r);
    r
}

/// `GET /_/mirrors`: the list for readers, in the nav's language.
async fn mirrors_page(State(app): State<Arc<App>>) -> Response {
    let nav = app.sites.first().map(|s| s.nav_html.as_str()).unwrap_or("");
    let mut r = static_answer(
        app.mirrors.page(nav),
        "text/html; charset=utf-8",
        "public, max-age=60",
    );
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::headers::CSP_SCRIPTS_REMOVED),
    );
    r
}

/// Works out, once per request, what it says about its reader
/// ([`ClientView`]), believing forwarding headers only from trusted proxies.
fn client_view(
    app: &App,
    peer: Option<SocketAddr>,
    own_host: Option<String>,
    req: &Request,
) -> ClientView {
    let tls = req.uri().scheme_str() == Some("https");
    ClientView::of(peer, own_host, req.headers(), tls, &app.trusted)
}

/// The metrics route of a request path.
fn route_of(path: &str) -> Route {
    if !path.starts_with(routes::RESERVED) {
        Route::Page
    } else if path.starts_with(routes::ASSET_PREFIX) {
        Route::Asset
    } else if path.starts_with(routes::IMAGE_PREFIX) {
        Route::Image
    } else if path.starts_with(routes::API_PREFIX) {
        Route::Api
    } else if path.starts_with(routes::STATIC_PREFIX) {
        Route::Static
    } else if path == routes::HEALTHZ {
        Route::Health
    } else {
        Route::Other
    }
}

async fn healthz() -> Response {
    let mut r = "ok\n".into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A body built into the binary or made at start, with its type and
/// caching.
fn static_answer(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    cache_control: &'static str,
) -> Response {
    let mut r = Response::new(body.into());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    r
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

async fn stylesheet() -> Response {
    static_answer(
        STYLESHEET,
        "text/css; charset=utf-8",
        "public, max-age=3600",
    )
}

/// `GET /_/sw.js`: scoped to the whole mirror, revalidated on every
/// update check so that a new configuration reaches readers.
async fn service_worker(State(app): State<Arc<App>>) -> Response {
    let mut r = static_answer(app.worker.script.clone(), JAVASCRIPT, "no-cache");
    r.headers_mut().insert(
        http::HeaderName::from_static("service-worker-allowed"),
        HeaderValue::from_static("/"),
    );
    r
}

/// `GET /_/rt.js?v=…`: the page script; its URL changes with its content.
/// Cached for good only under this instance's own version: during a
/// rolling change of configuration another instance's version may be
/// asked of this one, and a CDN must not keep this script under it.
async fn page_script(State(app): State<Arc<App>>, uri: http::Uri) -> Response {
    let own = uri.query() == Some(app.worker.page_version.as_str());
    let cache_control = if own {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    static_answer(app.worker.page_script.clone(), JAVASCRIPT, cache_control)
}

/// `/_/void`, any method: where the page script sends a request for a host
/// the mirror does not serve. Nothing is fetched; the empty answer lets
/// the page go on (a script's `load` fires, a beacon is accepted).
async fn void() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    r
}

/// `POST /_/csp-report` (`crate::csp_report::receive`).
async fn csp_report(State(app): State<Arc<App>>, req: Request) -> Response {
    crate::csp_report::receive(&app.csp, &app.mapper, &app.sites, req).await
}

async fn not_found() -> Response {
    MirrorError::Route(crate::url_map::RouteError::NoSite).page(None)
}

/// What is refused before anything else looks at a request:
///
/// - a mirror is not a forward proxy: absolute-form and authority-form
///   request targets (`GET http://other.host/ HTTP/1.1`,
///   `GET other.host:443 HTTP/1.1`) and `CONNECT`;
/// - two `Host` headers, or one with userinfo or anything but a host and
///   port (RFC 9112 §3.2: 400);
/// - a GET or HEAD with a body (`Content-Length` other than 0, or
///   `Transfer-Encoding`): the mirror would not send that body upstream,
///   and the connection closes so that its bytes are never read as the
///   next request either.
///
/// What passes is the request's own host ([`crate::forwarded::own_host`],
/// parsed once here for the [`ClientView`]).
fn refused(req: &Request) -> Result<Option<String>, MirrorError> {
    let h1 = req.version() <= Version::HTTP_11;
    if req.method() == Method::CONNECT {
        return Err(MirrorError::Connect);
    }
    if h1 && req.uri().authority().is_some() {
        return Err(MirrorError::ProxyRequest);
    }
    bad_head(req).map_err(MirrorError::BadRequest)
}

/// The answer to a [`refused`] request; after a malformed head the
/// connection closes.
fn refusal_page(refusal: MirrorError) -> Response {
    let close = matches!(refusal, MirrorError::BadRequest(_));
    let mut r = refusal.page(None);
    if close {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

fn bad_head(req: &Request) -> Result<Option<String>, BadRequest> {
    let headers = req.headers();
    let host = crate::forwarded::own_host(req.uri(), headers).map_err(|e| match e {
        crate::forwarded::HostError::Duplicate => BadRequest::DuplicateHost,
        crate::forwarded::HostError::Malformed => BadRequest::BadHost,
    })?;
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let declared = headers
            .get_all(header::CONTENT_LENGTH)
            .iter()
            .any(|v| v.as_bytes().iter().any(|b| *b != b'0'));
        if declared || headers.contains_key(header::TRANSFER_ENCODING) {
            return Err(BadRequest::BodyOnSafeMethod);
        }
    }
    Ok(host)
}
