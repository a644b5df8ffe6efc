//! Memory benchmark for what fills in flight may hold: the mirror (the real
//! `newsmirror serve` binary, a child process, so that only its memory is
//! measured) under a mix of hostile bodies and readers, for a fixed time,
//! with its cache filled to the budget by ordinary pages at the same time.
//!
//!   cargo build --release --bin newsmirror --example fill_memory
//!   target/release/examples/fill_memory [SECONDS] [BUDGET_MIB] [MIRROR_BINARY]
//!
//! Defaults: 20 s, a 64 MiB cache (`max_object_bytes` 8 MiB), the
//! `newsmirror` binary beside this example's folder (for a binary from
//! before `upstream.max_connections_per_host`, set
//! `FILL_MEMORY_NO_CAP_KEY=1`). `bench/fill_memory.sh`
//! builds and runs it. The loads, all on loopback at once:
//!
//! - **stalled**: 40 readers each ask for their own endless chunked
//!   `application/octet-stream` (no length) and read nothing;
//! - **departed**: 20 readers in a loop ask for an endless `audio/mpeg`
//!   stream, read 1 MiB and leave;
//! - **slow**: 20 readers of endless bodies read 16 KiB every 100 ms;
//! - **shared**: 10 readers of one endless URL (one fill), one fast and the
//!   others slow;
//! - **pages**: one reader fetching distinct 200 KB pages for the whole
//!   run (more than the budget holds), so that stored entries take the
//!   whole `max_bytes`.
//!
//! Every 250 ms it reads the mirror's `VmRSS` and at the end its `VmHWM`
//! (from `/proc/<pid>/status`), and prints them against the bound the
//! README states: `max_bytes` + the baseline (RSS before any load) +
//! [`PER_CONNECTION`] per open reader connection. It also reports how many
//! bytes the endless upstreams wrote, which an unbounded fill turns into
//! memory. Exit status 1 when the peak is over the bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The documented memory a reader connection may cost on top of the cache
/// budget: the fill's window (256 KiB) plus an upstream chunk, hyper's
/// buffers on both sides, and the allocator's slack for them.
const PER_CONNECTION: u64 = 1024 * 1024;

static WRITTEN: AtomicU64 = AtomicU64::new(0);
static OPEN: AtomicUsize = AtomicUsize::new(0);

fn proc_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Endless chunked bodies for `/endless/*` and `/live/*`, a 200 KB page
/// for anything else.
async fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve_upstream(socket));
        }
    });
    addr
}

async fn serve_upstream(mut socket: TcpStream) {
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match socket.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
        if path.starts_with("/endless/") || path.starts_with("/live/") {
            let media = if path.starts_with("/live/") {
                "audio/mpeg"
            } else {
                "application/octet-stream"
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {media}\r\nCache-Control: max-age=600\r\n\
                 Transfer-Encoding: chunked\r\n\r\n"
            );
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'z'; 32 * 1024];
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            while socket.write_all(&framed).await.is_ok() {
                WRITTEN.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            return;
        }
        let mut body = format!("<html><head><title>{path}</title></head><body>");
        let mut x = path.bytes().map(u64::from).sum::<u64>() | 1;
        while body.len() < 200 * 1024 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            body.push_str(&format!("<p>paragraph {x:x} of the story {}</p>", x % 977));
        }
        body.push_str("</body></html>");
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: max-age=3600\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if socket.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Opens a reader connection for `path`; counted while it is open.
async fn open(mirror: SocketAddr, path: &str) -> Option<Reader> {
    let mut s = TcpStream::connect(mirror).await.ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    OPEN.fetch_add(1, Ordering::Relaxed);
    Some(Reader(s))
}

struct Reader(TcpStream);

impl Drop for Reader {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Reader {
    /// Reads up to `n` bytes; `false` at the end or on an error.
    async fn take(&mut self, n: usize) -> bool {
        let mut buf = vec![0u8; 16 * 1024];
        let mut got = 0;
        while got < n {
            match self.0.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(k) => got += k,
            }
        }
        true
    }
}

fn mirror_binary(arg: Option<String>) -> PathBuf {
    if let Some(a) = arg {
        return PathBuf::from(a);
    }
    std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.join("newsmirror")))
        .unwrap_or_else(|| PathBuf::from("target/release/newsmirror"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let budget_mib: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let binary = mirror_binary(args.get(2).cloned());

    let up = upstream().await;
    let port = free_port();
    let dir = tempfile_dir();
    let config = dir.join("fill_memory.toml");
    std::fs::write(
        &config,
        format!(
            r#"[server]
listen = "127.0.0.1:{port}"
admin_listen = "127.0.0.1:{admin}"
max_connections = 4096
[cache]
max_bytes = "{budget_mib}MiB"
max_object_bytes = "8MiB"
[upstream]
idle_timeout = "10s"
{cap}
[upstream.origins]
"www.bench.test" = "http://{up}"
[[site]]
name = "bench"
upstream = "https://www.bench.test"
"#,
            admin = free_port(),
            // A binary from before the per-host cap refuses the key.
            cap = if std::env::var_os("FILL_MEMORY_NO_CAP_KEY").is_some() {
                ""
            } else {
                "max_connections_per_host = 1024"
            },
        ),
    )
    .expect("write config");
    let child = Command::new(&binary)
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let child = Killed(child);
    let pid = child.0.id();
    let mirror: SocketAddr = ([127, 0, 0, 1], port).into();
    for _ in 0..100 {
        if TcpStream::connect(mirror).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let baseline_kib = proc_kib(pid, "VmRSS:");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let most_open = Arc::new(AtomicUsize::new(0));

    let mut tasks = Vec::new();
    // stalled: ask and never read.
    for i in 0..40 {
        tasks.push(tokio::spawn(async move {
            let _r = open(mirror, &format!("/endless/stalled-{i}.bin")).await;
            tokio::time::sleep_until(deadline.into()).await;
        }));
    }
    // departed: read 1 MiB, leave, again.
    for i in 0..20 {
        tasks.push(tokio::spawn(async move {
            let mut round = 0;
            while Instant::now() < deadline {
                if let Some(mut r) = open(mirror, &format!("/live/departed-{i}-{round}.mp3")).await
                {
                    r.take(1 << 20).await;
                }
                round += 1;
            }
        }));
    }
    // slow: 16 KiB every 100 ms.
    for i in 0..20 {
        tasks.push(tokio::spawn(async move {
            if let Some(mut r) = open(mirror, &format!("/endless/slow-{i}.bin")).await {
                while Instant::now() < deadline && r.take(16 * 1024).await {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    // shared: one fast and nine slow readers of one fill.
    for i in 0..10 {
        tasks.push(tokio::spawn(async move {
            if let Some(mut r) = open(mirror, "/endless/shared.bin").await {
                while Instant::now() < deadline && r.take(64 * 1024).await {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        }));
    }
    // pages: fill the cache to its budget.
    tasks.push(tokio::spawn(async move {
        let mut i = 0;
        while Instant::now() < deadline {
            if let Some(mut r) = open(mirror, &format!("/story/{i}.html")).await {
                while r.take(64 * 1024).await {}
            }
            i += 1;
        }
    }));

    let mut peak_rss = 0;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak_rss = peak_rss.max(proc_kib(pid, "VmRSS:"));
        most_open.fetch_max(OPEN.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    let hwm = proc_kib(pid, "VmHWM:");
    for t in tasks {
        t.abort();
    }
    let connections = most_open.load(Ordering::Relaxed) as u64;
    let bound_kib = budget_mib * 1024 + baseline_kib + connections * PER_CONNECTION / 1024;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "fill_memory: {seconds} s, cache {budget_mib} MiB, binary {}",
        binary.display()
    );
    println!("  reader connections open (most) : {connections}");
    println!(
        "  upstream bytes written         : {:.1} MiB",
        WRITTEN.load(Ordering::Relaxed) as f64 / 1048576.0
    );
    println!(
        "  mirror RSS before the load     : {:.1} MiB",
        mib(baseline_kib)
    );
    println!(
        "  mirror peak RSS (VmHWM)        : {:.1} MiB",
        mib(hwm.max(peak_rss))
    );
    println!(
        "  bound (max_bytes + baseline + {} KiB x connections): {:.1} MiB",
        PER_CONNECTION / 1024,
        mib(bound_kib)
    );
    let within = hwm.max(peak_rss) <= bound_kib;
    println!(
        "  within the bound               : {}",
        if within { "yes" } else { "NO" }
    );
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
    if !within {
        std::process::exit(1);
    }
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fill_memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
