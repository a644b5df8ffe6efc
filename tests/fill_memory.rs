//! What a fill may hold: bodies of unknown length past `max_object_bytes`
//! are not kept, a body nobody reads any more is not fetched any further,
//! and a reader that reads nothing holds the upstream back instead of
//! making the mirror buffer. The upstream here writes chunked bytes for as
//! long as anyone takes them and counts what it wrote.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Counts what an endless upstream wrote, and whether it is still writing.
#[derive(Clone, Default)]
struct Endless {
    written: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
}

/// An upstream answering every request with an endless chunked body of
/// `media` (64 KiB chunks, at most `cap` bytes), and no length.
async fn endless_upstream(media: &'static str, cap: u64) -> (SocketAddr, Endless) {
    let endless = Endless::default();
    let e = endless.clone();
    let (addr, _) = raw_upstream(move |mut socket| {
        let e = e.clone();
        async move {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {media}\r\nCache-Control: max-age=600\r\n\
                 Transfer-Encoding: chunked\r\n\r\n"
            );
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'a'; 64 * 1024];
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            let mut sent = 0;
            while sent < cap {
                if socket.write_all(&framed).await.is_err() {
                    e.stopped.store(true, Ordering::SeqCst);
                    return;
                }
                sent += chunk.len() as u64;
                e.written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
            let _ = socket.flush().await;
            e.stopped.store(true, Ordering::SeqCst);
        }
    })
    .await;
    (addr, endless)
}

fn small_objects(toml: String) -> String {
    toml.replacen(
        "[upstream]",
        "[cache]\nmax_bytes = \"64MiB\"\nmax_object_bytes = \"1MiB\"\n[upstream]",
        1,
    )
}

async fn send_get(mirror: SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(mirror).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: mirror.test\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

/// Waits (bounded) until `cond` holds.
async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cond()
}

#[tokio::test]
async fn an_endless_body_whose_reader_left_is_not_fetched_any_further() {
    let (up, endless) = endless_upstream("audio/mpeg", 1 << 32).await;
    let mirror = mirror(&small_objects(config(up, ""))).await;
    let mut s = send_get(mirror, "/live.mp3").await;
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0;
    while read < 2 << 20 {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        read += n;
    }
    drop(s);
    assert!(
        eventually(|| endless.stopped.load(Ordering::SeqCst)).await,
        "the upstream connection was dropped (wrote {} bytes)",
        endless.written.load(Ordering::SeqCst)
    );
    let written = endless.written.load(Ordering::SeqCst);
    assert!(
        written < 64 << 20,
        "wrote {written} bytes after the reader left"
    );
}

#[tokio::test]
async fn a_reader_that_reads_nothing_holds_the_upstream_back() {
    let (up, endless) = endless_upstream("application/octet-stream", 1 << 32).await;
    let mirror = mirror(&small_objects(config(up, ""))).await;
    let s = send_get(mirror, "/big.bin").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first = endless.written.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = endless.written.load(Ordering::SeqCst);
    // max_object_bytes (1 MiB), the reader window (256 KiB) and the socket
    // buffers on both sides of the mirror: far below what an unbounded
    // fill reads in three seconds.
    assert!(
        later < 48 << 20,
        "upstream wrote {later} bytes to a reader that reads nothing"
    );
    assert_eq!(first, later, "and it is held back, not still going");
    drop(s);
}

#[tokio::test]
async fn a_body_without_length_past_max_object_bytes_is_not_stored() {
    let (up, endless) = endless_upstream("text/plain", 3 << 20).await;
    let mirror = mirror(&small_objects(config(up, ""))).await;
    for _ in 0..2 {
        let r = fetch(mirror, "/three-mib.txt").await;
        assert_ne!(r.headers()["x-cache"], "HIT");
        assert_eq!(
            r.bytes().await.unwrap().len(),
            3 << 20,
            "every byte arrives"
        );
    }
    assert!(endless.written.load(Ordering::SeqCst) >= 3 << 20);
}

/// Readers that joined a fill before it gave up keeping the body read it
/// to the end; requests after that fetch for themselves.
#[tokio::test]
async fn readers_of_a_fill_that_stopped_keeping_still_get_the_whole_body() {
    let (up, _) = endless_upstream("application/octet-stream", 4 << 20).await;
    let mirror = mirror(&small_objects(config(up, ""))).await;
    let reads = (0..3).map(|_| async move {
        fetch(mirror, "/four-mib.bin")
            .await
            .bytes()
            .await
            .unwrap()
            .len()
    });
    for len in futures_util::future::join_all(reads).await {
        assert_eq!(len, 4 << 20);
    }
}
