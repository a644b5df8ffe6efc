//! The subcommands besides `serve` (DESIGN.md, "Command line"), on top of
//! the server library: nothing in the server imports them.
//!
//! - [`demo`]: the bundled offline news site and a mirror in front of it.
//! - [`healthcheck`]: one GET of `/_/healthz`, for container health checks.
//! - [`extract`]: the article JSON of a saved page.
//! - [`audit`]: what a page served by the mirror would still load from
//!   other hosts.

pub mod audit;
pub mod demo;
pub mod extract;
pub mod healthcheck;
