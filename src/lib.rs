//! newsmirror: a streaming reverse-proxy mirror server for news sites.
//!
//! The major components, in the order a request meets them:
//!
//! - [`config`]: the TOML configuration, parsed and validated at start.
//! - [`site`]: a mirrored site as the server sees it.
//! - [`url_map`]: the one URL mapper (upstream ⇄ mirror); pure, no I/O.
//! - [`escape`]: HTML escaping and attribute decoding.

pub mod config;
pub mod demo;
pub mod escape;
pub mod site;
pub mod url_map;
