//! Why a response body stopped before its end: raised by the upstream client
//! (timeouts, a broken connection), the decoder, the rewriter, the size cap
//! and the cache's fill, and read by the error table
//! ([`crate::error::MirrorError::status`]) and the access log. Its own module
//! so that none of those layers depends on another to name it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The lower-level error under a [`BodyError`], kept whole (its source chain
/// prints in the log) and shared: a fill's error reaches every waiting reader.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Cause {
        Cause(Arc::new(e))
    }

    pub fn boxed(e: Box<dyn std::error::Error + Send + Sync>) -> Cause {
        Cause(Arc::from(e))
    }
}

impl fmt::Display for Cause {
    /// The error and each source that adds something to it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&chain(&*self.0))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `e: its source: its source's source`, leaving out sources whose text the
/// outer message already holds (hyper repeats them).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Why a body stopped before its end.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BodyError {
    #[error("upstream sent nothing for {0:?}")]
    IdleTimeout(Duration),
    #[error("upstream took longer than {0:?} in all to send the body")]
    BodyTimeout(Duration),
    #[error("upstream body broke off: {0}")]
    Broken(Cause),
    /// A compressed body that ends before its coding's end marker.
    #[error("upstream body broke off: compressed body ends early")]
    Truncated,
    #[error("upstream body is not what its Content-Encoding says: {0}")]
    Decode(Cause),
    #[error("upstream body exceeds {0} bytes")]
    TooLarge(u64),
    #[error("rewriting failed: {0}")]
    Rewrite(Cause),
    #[error("the reader took nothing for too long and was cut off")]
    ReaderStalled,
    /// The fill feeding this reader ended without finishing the body (its
    /// task was cancelled or panicked).
    #[error("the upstream fetch stopped")]
    FillStopped,
    /// Every reader left, so the fill stopped reading upstream.
    #[error("every reader left")]
    Abandoned,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_prints_its_sources_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer: inner")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(Cause::new(e).to_string(), "outer: inner");
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Plain(#[source] std::io::Error);
        let e = Plain(std::io::Error::other("reset"));
        assert_eq!(
            BodyError::Broken(Cause::new(e)).to_string(),
            "upstream body broke off: outer: reset"
        );
    }
}
