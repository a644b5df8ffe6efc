//! newsmirror: a streaming reverse-proxy mirror server for news sites.
//!
//! Every module, in the order a request meets it (ARCHITECTURE.md has the
//! phase table and the code map; no module imports one above it):
//!
//! - [`server`]: the accept loop, connection limits and timeouts, TLS by [`tls`].
//! - [`router`]: the public routes ([`routes`]: every `/_/` path) and the
//!   `front` layer: [`request_id`] and the access log ([`access_log`]), refusals
//!   ([`error::BadRequest`]), the reader's view ([`forwarded`]); [`admin`]
//!   is the admin listener's router.
//! - [`app`]: the state built once at start that every handler reads.
//! - [`mirror`]: a mirrored request, one file per phase: route (by
//!   [`url_map`], for a [`site`]), cache lookup ([`cache`]), fetch
//!   ([`upstream`], its request headers from [`headers`], through an
//!   [`outbound_proxy`] when one is set), plan, fill,
//!   respond, CDN headers.
//! - The body on its way: [`pipeline`] (decode by [`coding`], limit,
//!   transcode by [`charset`], rewrite by [`html`], [`css`] and
//!   [`text_urls`], escaping by [`escape`]); [`worker`] holds the scripts
//!   that map URLs at run time in the browser; [`body`] says why a body
//!   stopped.
//! - [`api`]: the article API, on [`extract`] (pure extraction) over a page
//!   from [`mirror`]; [`csp_report`]: the browsers' CSP reports.
//! - [`error`]: the mirror's errors, their statuses and the error page;
//!   [`metrics`]: Prometheus counters every layer above writes.
//! - [`config`]: the TOML configuration, parsed and validated at start.
//! - [`cli`]: the subcommands besides `serve` (demo, healthcheck, extract,
//!   audit), on top of all of it.

pub mod access_log;
pub mod admin;
pub mod api;
pub mod app;
pub mod body;
pub mod cache;
pub mod charset;
pub mod cli;
pub mod coding;
pub mod config;
pub mod csp_report;
pub mod css;
pub mod error;
pub mod escape;
pub mod extract;
pub mod feed;
pub mod forwarded;
pub mod headers;
pub mod html;
pub mod lang;
pub mod metrics;
pub mod mirror;
pub mod mirrors;
pub mod outbound_proxy;
pub mod pipeline;
pub mod popular;
pub mod request_id;
pub mod router;
pub mod routes;
pub mod section;
pub mod server;
pub mod site;
pub mod text_urls;
pub mod tls;
pub mod upstream;
pub mod url_map;
pub mod worker;
