//! newsmirror: a streaming reverse-proxy mirror server for news sites.
pub mod extract;
