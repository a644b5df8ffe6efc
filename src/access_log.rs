//! The access log line, written by our own code: one line per request, in
//! the same shape as the `tracing` lines around it (text, or JSON with
//! `--log-format json`), formatted straight into a shared buffer and written
//! to standard error in batches by one writer thread.
//!
//! Why not `tracing::info!`: on a cache hit the formatting layer (field
//! visitors, `Display` per field, the timestamp) and a `write` per line cost
//! 16-29 % of the throughput (BENCHMARKS.md, "Logging"). Here a line costs
//! one short lock and a few hundred bytes of `push_str`; the first line of
//! a batch wakes the writer thread, which gathers lines for
//! [`FLUSH_EVERY`] (or until [`FLUSH_BYTES`] wait) and writes them with one
//! system call. (A thread per line, as
//! tracing-appender's non-blocking writer does, competed with the server
//! for the two cores and was not kept.)
//!
//! Whether a line is written is still the `tracing` filter's decision
//! (`RUST_LOG=info,newsmirror::access=warn` silences it): [`enabled`] asks
//! it. Memory is bounded: past [`MAX_PENDING`] bytes waiting (standard
//! error blocked), lines are dropped and counted, and the count is written
//! when the writer catches up. [`flush`] writes what is waiting (at
//! shutdown); a process killed outright loses at most [`FLUSH_EVERY`] of
//! lines.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Condvar, LazyLock, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first line of a batch wakes the writer thread, which waits this
/// long for more before it writes them all (at most this late, and one
/// wake-up per batch however many lines come).
pub const FLUSH_EVERY: Duration = Duration::from_millis(5);
/// ... or writes at once when this many bytes wait.
pub const FLUSH_BYTES: usize = 64 * 1024;
/// Bytes waiting beyond which new lines are dropped (and counted).
pub const MAX_PENDING: usize = 4 * 1024 * 1024;

/// The shape of log lines, as `--log-format` chose for `tracing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

static FORMAT: OnceLock<Format> = OnceLock::new();

/// Sets the line shape (once, where the `tracing` subscriber is installed).
pub fn init(format: Format) {
    let _ = FORMAT.set(format);
}

/// Whether the filter lets access lines through.
pub fn enabled() -> bool {
    tracing::enabled!(target: "newsmirror::access", tracing::Level::INFO)
}

/// One request's line.
pub struct Line<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub cache: &'a str,
    pub duration: Duration,
    pub peer: Option<SocketAddr>,
}

struct Pending {
    buf: Vec<u8>,
    dropped: u64,
}

struct Sink {
    pending: Mutex<Pending>,
    wake: Condvar,
}

static SINK: LazyLock<&'static Sink> = LazyLock::new(|| {
    let sink: &'static Sink = Box::leak(Box::new(Sink {
        pending: Mutex::new(Pending {
            buf: Vec::with_capacity(FLUSH_BYTES * 2),
            dropped: 0,
        }),
        wake: Condvar::new(),
    }));
    let spawned = std::thread::Builder::new()
        .name("access-log".into())
        .spawn(move || {
            let mut out = Vec::with_capacity(FLUSH_BYTES * 2);
            loop {
                take(sink, &mut out, true);
                write_out(&out);
                out.clear();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("no access log writer thread ({e}); lines are written at shutdown");
    }
    sink
});

/// Swaps what waits into `out`; when `wait`, first waits for a line and
/// then [`FLUSH_EVERY`] for more.
fn take(sink: &Sink, out: &mut Vec<u8>, wait: bool) {
    let Ok(mut pending) = sink.pending.lock() else {
        return;
    };
    if wait {
        while pending.buf.is_empty() {
            let Ok(p) = sink.wake.wait(pending) else {
                return;
            };
            pending = p;
        }
        if pending.buf.len() < FLUSH_BYTES {
            drop(pending);
            std::thread::sleep(FLUSH_EVERY);
            let Ok(p) = sink.pending.lock() else {
                return;
            };
            pending = p;
        }
    }
    std::mem::swap(&mut pending.buf, out);
    if pending.dropped > 0 {
        let dropped = std::mem::take(&mut pending.dropped);
        let _ = writeln!(
            out,
            "{} access log lines dropped: standard error did not keep up",
            dropped
        );
    }
}

fn write_out(bytes: &[u8]) {
    if !bytes.is_empty() {
        let _ = std::io::stderr().lock().write_all(bytes);
    }
}

/// Writes what waits now (at shutdown, and in tests).
pub fn flush() {
    let mut out = Vec::new();
    take(&SINK, &mut out, false);
    write_out(&out);
}

/// Queues `line` for standard error.
pub fn write(line: &Line<'_>) {
    let format = FORMAT.get().copied().unwrap_or(Format::Text);
    let sink = *SINK;
    let Ok(mut pending) = sink.pending.lock() else {
        return;
    };
    if pending.buf.len() > MAX_PENDING {
        pending.dropped += 1;
        return;
    }
    let first = pending.buf.is_empty();
    format_line(&mut pending.buf, format, line, SystemTime::now());
    if first {
        sink.wake.notify_one();
    }
}

/// Appends `line` as `format` says, ending in a newline. Numbers and
/// addresses are written digit by digit rather than through `fmt`, which
/// was most of a line's cost in the profile of a hit.
fn format_line(out: &mut Vec<u8>, format: Format, line: &Line<'_>, now: SystemTime) {
    let micros = line.duration.as_micros();
    // Milliseconds with microsecond precision: `0.258`, never `0.25801399999999997`.
    let (ms, frac) = (micros / 1000, (micros % 1000) as u64);
    match format {
        Format::Text => {
            timestamp(out, now);
            out.extend_from_slice(b"  INFO newsmirror::access: request request_id=");
            out.extend_from_slice(line.request_id.as_bytes());
            out.extend_from_slice(b" method=");
            out.extend_from_slice(line.method.as_bytes());
            out.extend_from_slice(b" path=");
            out.extend_from_slice(line.path.as_bytes());
            out.extend_from_slice(b" status=");
            number(out, u64::from(line.status), 1);
            out.extend_from_slice(b" cache=");
            out.extend_from_slice(line.cache.as_bytes());
            out.extend_from_slice(b" duration_ms=");
            number(out, u64::try_from(ms).unwrap_or(u64::MAX), 1);
            out.push(b'.');
            number(out, frac, 3);
            out.extend_from_slice(b" peer=");
            peer(out, line.peer);
        }
        Format::Json => {
            out.extend_from_slice(b"{\"timestamp\":\"");
            timestamp(out, now);
            out.extend_from_slice(
                b"\",\"level\":\"INFO\",\"fields\":{\"message\":\"request\",\"request_id\":\"",
            );
            json_str(out, line.request_id);
            out.extend_from_slice(b"\",\"method\":\"");
            json_str(out, line.method);
            out.extend_from_slice(b"\",\"path\":\"");
            json_str(out, line.path);
            out.extend_from_slice(b"\",\"status\":");
            number(out, u64::from(line.status), 1);
            out.extend_from_slice(b",\"cache\":\"");
            json_str(out, line.cache);
            out.extend_from_slice(b"\",\"duration_ms\":");
            number(out, u64::try_from(ms).unwrap_or(u64::MAX), 1);
            out.push(b'.');
            number(out, frac, 3);
            out.extend_from_slice(b",\"peer\":\"");
            peer(out, line.peer);
            out.extend_from_slice(b"\"},\"target\":\"newsmirror::access\"}");
        }
    }
    out.push(b'\n');
}

tokio::task_local! {
    static CURRENT: http::HeaderValue;
}

/// Runs `handler` with `id` as the request id its log lines carry.
pub fn scope<F: std::future::Future>(
    id: http::HeaderValue,
    handler: F,
) -> impl std::future::Future<Output = F::Output> {
    // A `HeaderValue` clone shares its bytes: nothing is copied per request.
    CURRENT.scope(id, handler)
}

/// The id of the request this task is handling (inside [`scope`]).
pub fn current() -> Option<http::HeaderValue> {
    CURRENT.try_with(http::HeaderValue::clone).ok()
}

/// The shape of every other log line: `tracing`'s own (text, or JSON
/// objects), with the request id of the request being handled, if any
/// ([`current`]), where `tracing` would put a `request`
/// span: `request{id=…}:` in text, `"span"` and `"spans"` in JSON. The id
/// is a task-local rather than a span because a span per request was what
/// the access log cost (BENCHMARKS.md, "Logging"): the fmt layer formats
/// its fields and files it in its registry for every request.
pub struct EventFormat(pub Format);

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for EventFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let mut head = Vec::with_capacity(64);
        timestamp(&mut head, SystemTime::now());
        let stamp = std::str::from_utf8(&head).unwrap_or("");
        let current = current();
        let id = current.as_ref().map(|v| v.to_str().unwrap_or("-"));
        match self.0 {
            Format::Text => {
                write!(writer, "{stamp} {:>5} ", meta.level().as_str())?;
                if let Some(id) = id {
                    write!(writer, "request{{id={id}}}: ")?;
                }
                write!(writer, "{}: ", meta.target())?;
                ctx.field_format().format_fields(writer.by_ref(), event)?;
                writeln!(writer)
            }
            Format::Json => {
                let mut target = Vec::new();
                json_str(&mut target, meta.target());
                write!(
                    writer,
                    "{{\"timestamp\":\"{stamp}\",\"level\":\"{}\",\"fields\":",
                    meta.level().as_str()
                )?;
                ctx.field_format().format_fields(writer.by_ref(), event)?;
                write!(
                    writer,
                    ",\"target\":\"{}\"",
                    std::str::from_utf8(&target).unwrap_or("")
                )?;
                if let Some(id) = id {
                    let mut escaped = Vec::new();
                    json_str(&mut escaped, id);
                    let id = std::str::from_utf8(&escaped).unwrap_or("");
                    write!(
                        writer,
                        ",\"span\":{{\"id\":\"{id}\",\"name\":\"request\"}},\"spans\":[{{\"id\":\"{id}\",\"name\":\"request\"}}]"
                    )?;
                }
                writeln!(writer, "}}")
            }
        }
    }
}

/// `n` in decimal, zero-padded to at least `width` digits.
fn number(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    while digits.len() - i < width && i > 0 {
        i -= 1;
        digits[i] = b'0';
    }
    out.extend_from_slice(&digits[i..]);
}

fn peer(out: &mut Vec<u8>, peer: Option<SocketAddr>) {
    match peer {
        Some(SocketAddr::V4(a)) => {
            for (i, octet) in a.ip().octets().iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                number(out, u64::from(*octet), 1);
            }
            out.push(b':');
            number(out, u64::from(a.port()), 1);
        }
        Some(a) => {
            let _ = write!(out, "{a}");
        }
        None => out.push(b'-'),
    }
}

/// `s` inside a JSON string: quotes, backslashes and control characters escaped.
fn json_str(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b if b < 0x20 => {
                let _ = write!(out, "\\u{b:04x}");
            }
            b => out.push(b),
        }
    }
}

/// RFC 3339 in UTC with microseconds, as `tracing`'s lines have it:
/// `2026-11-26T15:23:35.216405Z`.
fn timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    number(out, u64::try_from(y).unwrap_or(0), 4);
    out.push(b'-');
    number(out, u64::from(m), 2);
    out.push(b'-');
    number(out, u64::from(d), 2);
    out.push(b'T');
    number(out, rem / 3600, 2);
    out.push(b':');
    number(out, rem % 3600 / 60, 2);
    out.push(b':');
    number(out, rem % 60, 2);
    out.push(b'.');
    number(out, u64::from(since.subsec_micros()), 6);
    out.push(b'Z');
}

/// RFC 3339 in UTC to the second: `2026-12-07T15:02:11Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Line<'static> {
        Line {
            request_id: "06eb12c6ed5d57418379135ad4bc2544",
            method: "GET",
            path: "/news/\"quoted\"\\",
            status: 200,
            cache: "HIT",
            duration: Duration::from_micros(301),
            peer: Some("127.0.0.1:35734".parse().unwrap()),
        }
    }

    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(1_764_170_615_216_405)
    }

    #[test]
    fn a_json_line_has_the_fields_operators_read() {
        let mut out = Vec::new();
        format_line(&mut out, Format::Json, &line(), at());
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["timestamp"], "2025-11-26T15:23:35.216405Z");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "newsmirror::access");
        let f = &v["fields"];
        assert_eq!(f["message"], "request");
        assert_eq!(f["request_id"], "06eb12c6ed5d57418379135ad4bc2544");
        assert_eq!(f["method"], "GET");
        assert_eq!(f["path"], "/news/\"quoted\"\\");
        assert_eq!(f["status"], 200);
        assert_eq!(f["cache"], "HIT");
        assert_eq!(f["duration_ms"].as_f64(), Some(0.301));
        assert_eq!(f["peer"], "127.0.0.1:35734");
    }

    #[test]
    fn a_text_line_reads_like_the_tracing_lines_around_it() {
        let mut out = Vec::new();
        let mut l = line();
        l.path = "/news/";
        l.duration = Duration::from_micros(12_345);
        l.peer = None;
        format_line(&mut out, Format::Text, &l, at());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2025-11-26T15:23:35.216405Z  INFO newsmirror::access: request \
             request_id=06eb12c6ed5d57418379135ad4bc2544 method=GET path=/news/ status=200 \
             cache=HIT duration_ms=12.345 peer=-\n"
        );
    }

    #[test]
    fn numbers_and_peers_are_written_as_fmt_would() {
        let mut out = Vec::new();
        number(&mut out, 7, 3);
        out.push(b' ');
        number(&mut out, 1234567, 2);
        out.push(b' ');
        number(&mut out, 0, 1);
        out.push(b' ');
        peer(&mut out, Some("[::1]:8080".parse().unwrap()));
        out.push(b' ');
        peer(&mut out, Some("10.0.0.255:65535".parse().unwrap()));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "007 1234567 0 [::1]:8080 10.0.0.255:65535"
        );
    }

    #[test]
    fn dates_are_civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_425), (2025, 12, 3));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
