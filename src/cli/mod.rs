//! The subcommands besides `serve` (DESIGN.md, "Command line"), on top of
//! the server library: nothing in the server imports them.
//!
//! - [`demo`]: the bundled offline news site and a mirror in front of it.
//! - [`healthcheck`]: one GET of `/_/healthz`, for container health checks.
//! - [`extract`]: the article JSON of a saved page.
//! - [`audit`]: what a page served by the mirror would still load from
//!   other hosts.
//! - [`export`]: a static snapshot of a site, as HTML or as Markdown.

pub mod audit;
pub mod demo;
pub mod export;
pub mod extract;
pub mod healthcheck;
