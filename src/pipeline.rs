//! The body pipeline: upstream bytes → decompress → count → UTF-8 → rewrite,
//! one chunk at a time, pushed to the reader as soon as each is ready.
//!
//! [`Rewrite`] is the synchronous part (after decompression), shared by the
//! server and by `newsmirror extract`. [`spawn_rewrite`] runs it in its own
//! task behind a bounded channel: the task reads upstream only as fast as
//! the reader takes chunks, so memory per request is a few buffers, never a
//! page.

use std::io;
use std::pin::Pin;
use std::sync::Arc;

use async_compression::tokio::bufread::{
    BrotliDecoder, DeflateDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http_body_util::BodyDataStream;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::io::{ReaderStream, StreamReader};

use crate::body::{BodyError, Cause};
use crate::charset::{DocKind, Transcoder};
use crate::coding::Coding;
use crate::css::CssRewriter;
use crate::html::{PageContext, PageRewriter, SiteRules};
use crate::text_urls::TextUrls;
use crate::upstream::IdleTimeoutBody;
use crate::url_map::Place;

/// Size of one read from the (decompressed) upstream body.
const READ_CHUNK: usize = 16 * 1024;
/// Chunks waiting for a slow reader before the producer stops reading upstream.
const CHANNEL_CHUNKS: usize = 4;

type BoxRead = Pin<Box<dyn AsyncBufRead + Send>>;

/// The upstream body with its content codings undone, as a buffered reader.
pub async fn decoded(body: IdleTimeoutBody, codings: &[Coding]) -> Result<BoxRead, BodyError> {
    let stream = BodyDataStream::new(body).map_err(io::Error::other);
    let mut reader: BoxRead = Box::pin(StreamReader::new(stream));
    // Applied in order, so undone in reverse.
    for coding in codings.iter().rev() {
        reader = match coding {
            Coding::Gzip => {
                let mut d = GzipDecoder::new(reader);
                d.multiple_members(true);
                Box::pin(BufReader::new(d))
            }
            Coding::Deflate => {
                // "deflate" is zlib-wrapped by the standard, raw by some servers.
                let head = reader.fill_buf().await.map_err(body_error)?;
                if looks_like_zlib(head) {
                    Box::pin(BufReader::new(ZlibDecoder::new(reader)))
                } else {
                    Box::pin(BufReader::new(DeflateDecoder::new(reader)))
                }
            }
            Coding::Br => Box::pin(BufReader::new(BrotliDecoder::new(reader))),
            Coding::Zstd => Box::pin(BufReader::new(ZstdDecoder::new(reader))),
            Coding::Identity => reader,
        };
    }
    Ok(reader)
}

fn looks_like_zlib(head: &[u8]) -> bool {
    match head {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// An I/O error from the decoding reader, as what really happened: the
/// upstream body's own failure, or bytes that do not decode.
fn body_error(e: io::Error) -> BodyError {
    let inner_is_body = e.get_ref().is_some_and(|i| i.is::<BodyError>());
    if inner_is_body {
        if let Some(inner) = e.into_inner()
            && let Ok(b) = inner.downcast::<BodyError>()
        {
            return *b;
        }
        return BodyError::Decode(Cause::new(io::Error::other("upstream body failed")));
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => BodyError::Truncated,
        _ => BodyError::Decode(Cause::new(e)),
    }
}

/// What to do with decompressed bytes.
pub enum Stage {
    Html(Box<PageRewriter>),
    Css {
        rewriter: CssRewriter,
        ctx: Arc<PageContext>,
    },
    /// JavaScript and JSON: the URLs of served hosts in the text.
    Text {
        urls: TextUrls,
        ctx: Arc<PageContext>,
    },
    /// RSS, Atom, RDF (`crate::feed`).
    Feed(Box<crate::feed::FeedRewriter>),
}

/// Decompressed bytes in, rewritten UTF-8 out; synchronous.
pub struct Rewrite {
    transcoder: Transcoder,
    stage: Stage,
    seen: u64,
    limit: u64,
    utf8: Vec<u8>,
}

impl Rewrite {
    pub fn html(
        ctx: Arc<PageContext>,
        rules: &Arc<SiteRules>,
        charset: Option<&str>,
        limit: u64,
    ) -> Self {
        let host = ctx.page_url().host_str().map(str::to_owned);
        Rewrite {
            transcoder: Transcoder::new(DocKind::Html, charset, host.as_deref()),
            stage: Stage::Html(Box::new(PageRewriter::new(ctx, rules))),
            seen: 0,
            limit,
            utf8: Vec::new(),
        }
    }

    pub fn css(ctx: Arc<PageContext>, charset: Option<&str>, limit: u64) -> Self {
        Rewrite {
            transcoder: Transcoder::new(DocKind::Css, charset, None),
            stage: Stage::Css {
                rewriter: CssRewriter::new(),
                ctx,
            },
            seen: 0,
            limit,
            utf8: Vec::new(),
        }
    }

    /// A script or JSON body (`application/javascript`, `application/json`,
    /// a web app manifest, ...): the URLs of served hosts in it mapped.
    pub fn text(ctx: Arc<PageContext>, charset: Option<&str>, limit: u64) -> Self {
        Rewrite {
            // Decodes by the header's charset (else a BOM, else UTF-8).
            transcoder: Transcoder::new(DocKind::Css, charset, None),
            stage: Stage::Text {
                urls: TextUrls::new(),
                ctx,
            },
            seen: 0,
            limit,
            utf8: Vec::new(),
        }
    }

    /// A feed (RSS, Atom, RSS 1.0), or any XML answer that might be one.
    pub fn feed(
        ctx: Arc<PageContext>,
        rules: &Arc<SiteRules>,
        charset: Option<&str>,
        limit: u64,
    ) -> Self {
        Rewrite {
            transcoder: Transcoder::new(DocKind::Xml, charset, None),
            stage: Stage::Feed(Box::new(crate::feed::FeedRewriter::new(ctx, rules.clone()))),
            seen: 0,
            limit,
            utf8: Vec::new(),
        }
    }

    /// Takes the next decompressed bytes; appends rewritten output to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), BodyError> {
        self.seen += input.len() as u64;
        if self.seen > self.limit {
            return Err(BodyError::TooLarge(self.limit));
        }
        self.utf8.clear();
        self.transcoder.push(input, &mut self.utf8);
        let utf8 = std::mem::take(&mut self.utf8);
        let result = self.stage_write(&utf8, out);
        self.utf8 = utf8;
        result
    }

    /// Ends the input.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), BodyError> {
        self.utf8.clear();
        self.transcoder.finish(&mut self.utf8);
        let utf8 = std::mem::take(&mut self.utf8);
        self.stage_write(&utf8, out)?;
        match &mut self.stage {
            Stage::Html(r) => r.end(out),
            Stage::Css { rewriter, ctx } => {
                let mut text = String::new();
                let mut map = |u: &str, p: Place| ctx.map(u, p).into_replacement();
                rewriter.finish(&mut map, &mut text);
                out.extend_from_slice(text.as_bytes());
                Ok(())
            }
            Stage::Text { urls, ctx } => {
                let mut text = String::new();
                urls.finish(&**ctx, &mut text);
                out.extend_from_slice(text.as_bytes());
                Ok(())
            }
            Stage::Feed(feed) => {
                let mut text = String::new();
                feed.finish(&mut text)?;
                out.extend_from_slice(text.as_bytes());
                Ok(())
            }
        }
    }

    fn stage_write(&mut self, utf8: &[u8], out: &mut Vec<u8>) -> Result<(), BodyError> {
        if utf8.is_empty() {
            return Ok(());
        }
        match &mut self.stage {
            Stage::Html(r) => r.write(utf8, out),
            Stage::Css { rewriter, ctx } => {
                // The CSS transcoder always decodes, so this is valid UTF-8
                // cut at character boundaries; lossy only as a safety net.
                let text = String::from_utf8_lossy(utf8);
                let mut s = String::with_capacity(text.len());
                let mut map = |u: &str, p: Place| ctx.map(u, p).into_replacement();
                rewriter.feed(&text, &mut map, &mut s);
                out.extend_from_slice(s.as_bytes());
                Ok(())
            }
            Stage::Text { urls, ctx } => {
                let text = String::from_utf8_lossy(utf8);
                let mut s = String::with_capacity(text.len());
                urls.feed(&text, &**ctx, &mut s);
                out.extend_from_slice(s.as_bytes());
                Ok(())
            }
            Stage::Feed(feed) => {
                let text = String::from_utf8_lossy(utf8);
                let mut s = String::with_capacity(text.len() + text.len() / 8);
                feed.feed(&text, &mut s)?;
                out.extend_from_slice(s.as_bytes());
                Ok(())
            }
        }
    }
}

/// A body's chunks as they are produced, or the error that ended it.
pub type ChunkReceiver = mpsc::Receiver<Result<Bytes, BodyError>>;

/// Runs `rewrite` over `reader` in its own task; chunks arrive on the
/// returned channel. The task stops when the reader of the channel goes away.
pub fn spawn_rewrite(mut reader: BoxRead, mut rewrite: Rewrite) -> ChunkReceiver {
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::spawn(async move {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut out = Vec::with_capacity(READ_CHUNK + READ_CHUNK / 4);
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = tx.send(Err(body_error(e))).await;
                    return;
                }
            };
            let result = if n == 0 {
                rewrite.finish(&mut out)
            } else {
                rewrite.push(&buf[..n], &mut out)
            };
            if let Err(e) = result {
                let _ = tx.send(Err(e)).await;
                return;
            }
            if !out.is_empty() {
                let chunk =
                    Bytes::from(std::mem::replace(&mut out, Vec::with_capacity(READ_CHUNK)));
                if tx.send(Ok(chunk)).await.is_err() {
                    return; // the reader left
                }
            }
            if n == 0 {
                return;
            }
        }
    });
    rx
}

/// A decoded body passed through unchanged but for its coding, counted
/// against `limit`.
pub fn decoded_stream(
    reader: BoxRead,
    limit: u64,
) -> impl Stream<Item = Result<Bytes, BodyError>> + Send {
    let mut seen = 0u64;
    ReaderStream::with_capacity(reader.take(limit.saturating_add(1)), READ_CHUNK).map(move |r| {
        let chunk = r.map_err(body_error)?;
        seen += chunk.len() as u64;
        if seen > limit {
            return Err(BodyError::TooLarge(limit));
        }
        Ok(chunk)
    })
}

/// The channel as a stream, starting with `first`.
pub fn chunk_stream(
    first: Bytes,
    rx: ChunkReceiver,
) -> impl Stream<Item = Result<Bytes, BodyError>> + Send {
    futures_util::stream::once(async move { Ok(first) })
        .chain(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zlib_header_is_recognised() {
        assert!(looks_like_zlib(&[0x78, 0x9c]));
        assert!(looks_like_zlib(&[0x78, 0x01]));
        assert!(!looks_like_zlib(&[0xcb, 0x48]));
        assert!(!looks_like_zlib(&[]));
    }
}
