//! newsmirror: a streaming reverse-proxy mirror server for news sites.
