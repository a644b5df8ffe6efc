//! newsmirror: a streaming reverse-proxy mirror server for news sites.
//!
//! The major components, in the order a request meets them:
//!
//! - [`config`]: the TOML configuration, parsed and validated at start.
//! - [`site`]: a mirrored site as the server sees it.
//! - [`url_map`]: the one URL mapper (upstream ⇄ mirror); pure, no I/O.
//! - [`escape`]: HTML escaping and attribute decoding.
//! - [`text_urls`]: URLs of served hosts inside script and JSON text, streaming.

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
pub mod forwarded;
pub mod headers;
pub mod html;
pub mod metrics;
pub mod mirror;
pub mod pipeline;
pub mod request_id;
pub mod router;
pub mod routes;
pub mod server;
pub mod site;
pub mod text_urls;
pub mod tls;
pub mod upstream;
pub mod url_map;
pub mod worker;
