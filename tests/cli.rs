//! The command line as a user runs it: the real binary, real files, real ports.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_newsmirror");

fn write_config(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn check_accepts_the_demo_and_example_configs() {
    for path in [
        "config/demo.toml",
        "config/newsmirror.toml",
        "deploy/tor/newsmirror-tor.toml",
    ] {
        let out = Command::new(BIN)
            .args(["check", "--config", path])
            .env("NEWSMIRROR_SIGNING_KEY", "0123456789abcdef0123")
            .env("NEWSMIRROR_PURGE_TOKEN", "token")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    }
}

/// With a key for the mirror list, `check` prints the public key that
/// readers and apps verify `/_/mirrors.json` with.
#[test]
fn check_prints_the_mirror_lists_public_key() {
    let f = write_config(
        "[mirrors]\nalternates = [\"https://m2.example.net\"]\n\
         signing_key = \"env:NEWSMIRROR_TEST_MIRRORS_KEY\"\n\
         [[site]]\nname = \"u\"\nupstream = \"https://u.test\"\n",
    );
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(f.path())
        .env(
            "NEWSMIRROR_TEST_MIRRORS_KEY",
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("mirror list: 1 alternate\n"), "{stdout}");
    // RFC 8032's first test vector: this seed's public key.
    assert!(
        stdout
            .contains("public key (Ed25519, base64): 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
        "{stdout}"
    );
}

#[test]
fn check_refuses_a_bad_config_naming_file_line_key_and_reason() {
    let f = write_config("[[site]]\nname = \"u\"\nupstream = \"ftp://u.test\"\n");
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(f.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = f.path().display().to_string();
    assert!(err.contains(&format!("{file}:3:")), "{err}");
    assert!(err.contains("site[0].upstream"), "{err}");
    assert!(err.contains("http"), "{err}");
}

#[test]
fn check_refuses_unknown_keys_and_missing_files() {
    let f = write_config(
        "[server]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n[[site]]\nname = \"u\"\nupstream = \"https://u.test\"\n",
    );
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(f.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lisen"), "{err}");
    assert!(err.contains(":3:"), "{err}");
    let out = Command::new(BIN)
        .args(["check", "--config", "/nonexistent/x.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// Kills the child when the test ends, however it ends.
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the child's stdout until a line has an `http://` URL; returns it.
fn printed_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("mirror on http://") {
                let url = line[at + "mirror on ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let _ = tx.send(url);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("demo printed its URL")
}

#[tokio::test]
async fn demo_command_serves_the_sample_site_and_prints_its_url() {
    let child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let url = printed_url(&mut running.0);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let r = client().get(format!("{url}news/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("newsmirror-nav"));
    assert!(html.contains("/news/2026/11/"));
}

/// The demo runs two mirrors, each the other's alternate; typing `a`
/// stops the first, and the second goes on serving.
#[tokio::test]
async fn the_demo_runs_two_mirrors_and_stops_the_first_when_asked() {
    let child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let mut stdin = running.0.stdin.take().expect("piped stdin");
    let stdout = running.0.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            for marker in ["mirror on http://", "runs at http://"] {
                if let Some(at) = line.find(marker) {
                    let from = at + marker.len() - "http://".len();
                    let url = line[from..].split_whitespace().next().unwrap_or("");
                    let _ = tx.send(url.trim_end_matches([':', '/']).to_owned());
                }
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(30)).expect("first URL");
    let second = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("second URL");
    let list: serde_json::Value = client()
        .get(format!("{first}/_/mirrors.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["mirrors"][0]["url"], second.as_str(), "{list}");
    let r = client()
        .get(format!("{second}/news/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    stdin.write_all(b"a\n").unwrap();
    stdin.flush().unwrap();
    let mut down = false;
    for _ in 0..100 {
        if client().get(format!("{first}/news/")).send().await.is_err() {
            down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(down, "the first mirror stopped");
    let r = client()
        .get(format!("{second}/news/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the second goes on");
}

/// Starts `newsmirror serve` with `config_text` on a free port (given in
/// `NEWSMIRROR_LISTEN`), its standard error to `stderr`; returns the child
/// and the first answer to `GET /x`, once it serves.
async fn serve_and_get(config_text: &str, stderr: Stdio) -> (Running, Option<String>) {
    let f = write_config(config_text);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(f.path())
        .env("NEWSMIRROR_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let running = Running(child);
    for _ in 0..100 {
        if let Ok(r) = client()
            .get(format!("http://127.0.0.1:{port}/x"))
            .send()
            .await
        {
            return (running, Some(r.text().await.unwrap()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (running, None)
}

#[tokio::test]
async fn serve_command_reads_config_and_listen_override() {
    let (up, hits) = upstream(Router::new().fallback(|| async { "from upstream" })).await;
    let (_running, answer) = serve_and_get(&config(up, ""), Stdio::null()).await;
    assert_eq!(answer.as_deref(), Some("from upstream"));
    assert_eq!(hits.get(), 1);
}

/// Logs written to a file (not a terminal) carry no colour codes, and the
/// access line's `duration_ms` is a plain number of milliseconds.
#[tokio::test]
async fn logs_to_a_file_have_no_colour_codes_and_short_durations() {
    let (up, _) = upstream(Router::new().fallback(|| async { "from upstream" })).await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let (running, answer) = serve_and_get(&config(up, ""), log.reopen().unwrap().into()).await;
    let served = answer.is_some();
    assert!(served);
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(running);
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        !text.contains('\x1b'),
        "colour codes in a log file: {text:?}"
    );
    let duration = text
        .split("duration_ms=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no access line: {text}"));
    let decimals = duration.split('.').nth(1).map_or(0, str::len);
    assert!(decimals <= 3, "duration_ms={duration}");
}

/// A demo whose admin port is taken says so, and still serves.
#[tokio::test]
async fn a_demo_whose_admin_port_is_taken_says_so() {
    let demo =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml")).unwrap();
    let admin = demo
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin_listen"))
        .and_then(|rest| rest.split('"').nth(1))
        .expect("the demo config has an admin port")
        .to_owned();
    // Hold the port (if another test's demo has it, it is taken all the same).
    let _held = std::net::TcpListener::bind(&admin);
    let child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = false;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        if line.contains("admin port is taken") {
            said = true;
            break;
        }
        if line.starts_with("Metrics:") {
            break;
        }
    }
    assert!(said, "the demo says it runs without its admin port");
}

/// `check` reports every problem it finds, each with its line, in file order.
#[test]
fn check_reports_every_error_in_file_order() {
    let f = write_config(
        "[server]\nmax_connections = 0\n\
         [upstream]\nidle_timeout = \"0\"\n\
         [[site]]\nname = \"bad name\"\nupstream = \"https://www.u.test\"\nmount = \"/_/x/\"\n",
    );
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(f.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    let keys = [
        "server.max_connections",
        "upstream.idle_timeout",
        "site[0].name",
        "site[0].mount",
    ];
    let at: Vec<usize> = keys
        .iter()
        .map(|k| {
            text.find(k)
                .unwrap_or_else(|| panic!("{k} not reported:\n{text}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "not in file order:\n{text}"
    );
    assert!(text.contains(":2:"), "with its line: {text}");
}

/// html5ever's recovered parse errors ("foster parenting not implemented")
/// are not warnings for the operator: extracting a page whose table holds
/// stray text prints the article and nothing on standard error.
#[test]
fn extracting_a_page_with_misnested_tables_logs_nothing() {
    let page = "<html><head><title>Notice</title></head><body><article><h1>Notice</h1>\
        <table><tr>stray text<td>cell</td></tr>loose</table>\
        <p>The bridge over the river opens to traffic on Monday morning, the city said, \
        after three years of building and two delays caused by floods.</p>\
        <p>Buses will use it from the first day; cyclists get their own lane on the north side.</p>\
        </article></body></html>";
    let mut child = Command::new(BIN)
        .args(["extract", "-"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("cyclists get their own lane"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "standard error: {stderr}");
}

/// A warning logged while a request is handled carries the request's id,
/// in text (`request{id=…}:`) and in JSON (`"span":{"id":…,"name":"request"}`),
/// the same id as the access line's and the `X-Request-Id` header's.
#[tokio::test]
async fn warnings_during_a_request_carry_its_id_in_text_and_json() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    for format in ["text", "json"] {
        let f = write_config(&config(closed, ""));
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(BIN)
            .args(["serve", "--log-format", format, "--config"])
            .arg(f.path())
            .env("NEWSMIRROR_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.reopen().unwrap()))
            .spawn()
            .unwrap();
        let running = Running(child);
        let mut id = None;
        for _ in 0..100 {
            if let Ok(r) = client()
                .get(format!("http://127.0.0.1:{port}/x.html"))
                .send()
                .await
            {
                assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
                id = r
                    .headers()
                    .get("x-request-id")
                    .map(|v| v.to_str().unwrap().to_owned());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let id = id.expect("an answer with an id");
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(running);
        let text = std::fs::read_to_string(log.path()).unwrap();
        let warning = text
            .lines()
            .find(|l| l.contains("WARN") && l.contains("request failed"))
            .unwrap_or_else(|| panic!("no warning for the failed request: {text}"));
        match format {
            "text" => assert!(
                warning.contains(&format!(" WARN request{{id={id}}}: newsmirror")),
                "{warning}"
            ),
            _ => {
                let v: serde_json::Value = serde_json::from_str(warning).unwrap();
                assert_eq!(v["level"], "WARN");
                assert_eq!(v["span"]["id"], id.as_str(), "{warning}");
                assert_eq!(v["span"]["name"], "request");
                assert_eq!(v["spans"][0]["id"], id.as_str());
                assert_eq!(v["fields"]["message"], "request failed");
            }
        }
        assert!(text.contains(&id), "the access line names it too: {text}");
        // A line outside any request has no id.
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.contains("newsmirror listening") && !first.contains("request"),
            "{first}"
        );
    }
}
