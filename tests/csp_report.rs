//! `POST /_/csp-report` as browsers send it (both formats), its bounds
//! (body size, content type, JSON, the rate limit), and what the operator
//! reads of it: `/metrics` and the admin `/csp` view.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Two sites: `u` at `/`, `v` at `/v/`. Nothing is fetched upstream.
fn two_sites() -> String {
    let unused: SocketAddr = "127.0.0.1:9".parse().unwrap();
    config(
        unused,
        "[[site]]\nname = \"v\"\nupstream = \"https://www.v.test\"\nmount = \"/v/\"\n",
    )
}

async fn post(mirror: SocketAddr, content_type: Option<&str>, body: String) -> reqwest::Response {
    let mut r = client()
        .post(format!("http://{mirror}/_/csp-report"))
        .body(body);
    if let Some(t) = content_type {
        r = r.header("content-type", t);
    }
    r.send().await.unwrap()
}

/// The value of the sample `series` (name and labels, exactly) in the
/// Prometheus text; 0 when absent.
fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0)
}

fn csp_series(site: &str, directive: &str, host: &str) -> String {
    format!(
        "newsmirror_csp_reports_total{{site=\"{site}\",directive=\"{directive}\",blocked_host=\"{host}\"}}"
    )
}

fn reporting_entry(document: &str, blocked: &str, directive: &str) -> String {
    serde_json::json!({
        "type": "csp-violation",
        "age": 10,
        "url": document,
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": document,
            "blockedURL": blocked,
            "effectiveDirective": directive,
            "originalPolicy": "default-src 'self'",
            "disposition": "enforce",
            "statusCode": 200
        }
    })
    .to_string()
}

/// A Reporting API entry with only the fields that are read (more fit in
/// 16 KiB).
fn slim_entry(document: &str, blocked: &str, directive: &str) -> String {
    serde_json::json!({
        "type": "csp-violation",
        "url": document,
        "body": {"blockedURL": blocked, "effectiveDirective": directive}
    })
    .to_string()
}

async fn csp_view(admin: SocketAddr) -> serde_json::Value {
    let r = client()
        .get(format!("http://{admin}/csp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn both_report_formats_are_counted_by_site_directive_and_blocked_host() {
    let (mirror, admin) = mirror_with_admin(&two_sites()).await;
    // report-uri (CSP 2): one object.
    let report_uri = serde_json::json!({"csp-report": {
        "document-uri": "http://mirror.test/news/2026/a.htm?from=reader-secret",
        "referrer": "http://mirror.test/news/",
        "violated-directive": "img-src 'self'",
        "effective-directive": "img-src",
        "original-policy": "default-src 'self'; report-uri /_/csp-report",
        "blocked-uri": "https://cdn.other.test/pic.jpg?reader=secret",
        "status-code": 200
    }});
    let r = post(
        mirror,
        Some("application/csp-report"),
        report_uri.to_string(),
    )
    .await;
    assert_eq!(r.status(), 204);
    // report-to (Reporting API): an array, other report types ignored.
    let batch = format!(
        "[{},{},{},{}]",
        reporting_entry(
            "http://mirror.test/v/world/b.html",
            "inline",
            "script-src-elem"
        ),
        reporting_entry(
            "http://mirror.test/news/c.html",
            "https://Tracker.Test:8443/t.js",
            "script-src-elem"
        ),
        reporting_entry("http://mirror.test/news/d.html", "eval", "script-src"),
        r#"{"type": "deprecation", "url": "http://mirror.test/x", "body": {"id": "x"}}"#,
    );
    let r = post(mirror, Some("application/reports+json"), batch).await;
    assert_eq!(r.status(), 204);
    // An older browser's application/json, and a document on no site.
    let r = post(
        mirror,
        Some("application/json; charset=utf-8"),
        serde_json::json!({"csp-report": {
            "document-uri": "https://somewhere-else.test/",
            "blocked-uri": "data",
            "violated-directive": "font-src"
        }})
        .to_string(),
    )
    .await;
    assert_eq!(r.status(), 204);

    let metrics = admin_metrics(admin).await;
    assert_eq!(
        sample(&metrics, &csp_series("u", "img-src", "cdn.other.test")),
        1,
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, &csp_series("v", "script-src-elem", "inline")),
        1
    );
    assert_eq!(
        sample(
            &metrics,
            &csp_series("u", "script-src-elem", "tracker.test")
        ),
        1
    );
    assert_eq!(sample(&metrics, &csp_series("u", "script-src", "eval")), 1);
    // The mirror routes "/" for any host to site u: a document elsewhere
    // still has a path. What matters is that nothing of the URL is kept.
    assert_eq!(
        sample(&metrics, &csp_series("u", "font-src", "data"))
            + sample(&metrics, &csp_series("unknown", "font-src", "data")),
        1
    );
    assert_eq!(sample(&metrics, "newsmirror_csp_reports_dropped_total"), 0);
    let view = csp_view(admin).await.to_string();
    for text in [metrics.as_str(), view.as_str()] {
        for secret in [
            "reader-secret",
            "reader=secret",
            "a.htm",
            "b.html",
            "Mozilla",
        ] {
            assert!(!text.contains(secret), "{secret} kept: {text}");
        }
    }
}

#[tokio::test]
async fn the_admin_csp_view_lists_the_top_blocked_hosts_of_each_site_by_count() {
    let (mirror, admin) = mirror_with_admin(&two_sites()).await;
    let mut entries = Vec::new();
    for (host, n) in [("a.test", 3), ("b.test", 1), ("c.test", 2)] {
        for _ in 0..n {
            entries.push(reporting_entry(
                "http://mirror.test/news/x.html",
                &format!("https://{host}/x.png"),
                "img-src",
            ));
        }
    }
    entries.push(reporting_entry(
        "http://mirror.test/news/x.html",
        "https://a.test/f.woff2",
        "font-src",
    ));
    let r = post(
        mirror,
        Some("application/reports+json"),
        format!("[{}]", entries.join(",")),
    )
    .await;
    assert_eq!(r.status(), 204);
    let view = csp_view(admin).await;
    let rows: Vec<(String, String, u64)> = view["sites"]["u"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["host"].as_str().unwrap().to_owned(),
                r["directive"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let row = |h: &str, d: &str, c: u64| (h.to_owned(), d.to_owned(), c);
    assert_eq!(
        rows,
        [
            row("a.test", "img-src", 3),
            row("c.test", "img-src", 2),
            row("a.test", "font-src", 1),
            row("b.test", "img-src", 1),
        ]
    );
    assert_eq!(view["sites"]["v"], serde_json::json!([]), "{view}");

    // At most 50 rows a site.
    let many: Vec<String> = (0..60)
        .map(|i| {
            slim_entry(
                "http://mirror.test/v/x.html",
                &format!("https://h{i}.test/x"),
                "img-src",
            )
        })
        .collect();
    let r = post(
        mirror,
        Some("application/reports+json"),
        format!("[{}]", many.join(",")),
    )
    .await;
    assert_eq!(r.status(), 204);
    let view = csp_view(admin).await;
    assert_eq!(view["sites"]["v"].as_array().unwrap().len(), 50);
}

/// Sends a head declaring `head_extra` and then `body`, without finishing
/// the body; returns the status answered within 5 s (0 if none).
async fn status_of_partial_post(mirror: SocketAddr, head_extra: &str, body: &[u8]) -> u16 {
    let mut s = TcpStream::connect(mirror).await.unwrap();
    let head = format!(
        "POST /_/csp-report HTTP/1.1\r\nHost: mirror.test\r\nContent-Type: application/csp-report\r\n{head_extra}\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before it has taken all of it.
    let _ = s.write_all(body).await;
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    while !response.windows(4).any(|w| w == b"\r\n\r\n") && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => response.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn an_oversized_report_is_refused_with_413_without_being_read() {
    let (mirror, admin) = mirror_with_admin(&two_sites()).await;
    // A declared length over 16 KiB: refused at once, with 10 MB never sent.
    let started = Instant::now();
    let status =
        status_of_partial_post(mirror, "Content-Length: 10000000\r\n", b"{\"csp-report\":").await;
    assert_eq!(status, 413);
    assert!(started.elapsed() < Duration::from_secs(3));
    // Chunked, endless: refused once 16 KiB have come, the rest unread.
    let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
    let body = chunk.repeat(5);
    let status =
        status_of_partial_post(mirror, "Transfer-Encoding: chunked\r\n", body.as_bytes()).await;
    assert_eq!(status, 413);
    // Just under the limit is read (and refused for not being JSON).
    let padded = format!(
        "{{\"csp-report\": {{\"blocked-uri\": \"inline\", \"x\": \"{}\"}}}}",
        "y".repeat(16 * 1024 - 60)
    );
    assert!(padded.len() <= 16 * 1024);
    let r = post(mirror, Some("application/csp-report"), padded).await;
    assert_eq!(r.status(), 204);
    let metrics = admin_metrics(admin).await;
    assert_eq!(
        sample(&metrics, &csp_series("unknown", "other", "inline")),
        1
    );
}

#[tokio::test]
async fn reports_of_another_type_or_not_json_are_refused() {
    let (mirror, admin) = mirror_with_admin(&two_sites()).await;
    let valid = r#"{"csp-report": {"document-uri": "http://m.test/a", "blocked-uri": "inline", "violated-directive": "script-src"}}"#;
    for t in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let r = post(mirror, t, valid.to_owned()).await;
        assert_eq!(r.status(), 415, "{t:?}");
    }
    for (t, body) in [
        ("application/csp-report", "{not json"),
        ("application/csp-report", r#"{"something": "else"}"#),
        ("application/csp-report", "[]"),
        ("application/reports+json", r#"{"csp-report": {}}"#),
        ("application/reports+json", ""),
    ] {
        let r = post(mirror, Some(t), body.to_owned()).await;
        assert_eq!(r.status(), 400, "{t} {body}");
    }
    let r = fetch(mirror, "/_/csp-report").await;
    assert_eq!(r.status(), 405);
    let metrics = admin_metrics(admin).await;
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("newsmirror_csp_reports_total{")),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_report_flood_is_answered_204_and_dropped_past_the_rate_limit() {
    let (mirror, admin) = mirror_with_admin(&two_sites()).await;
    let entry = slim_entry(
        "http://mirror.test/news/a.html",
        "https://flood.test/x",
        "img-src",
    );
    let batch = format!("[{}]", vec![entry; 100].join(","));
    assert!(batch.len() <= 16 * 1024, "{}", batch.len());
    let started = Instant::now();
    for _ in 0..8 {
        let r = post(mirror, Some("application/reports+json"), batch.clone()).await;
        assert_eq!(r.status(), 204);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let metrics = admin_metrics(admin).await;
    let counted = sample(&metrics, &csp_series("u", "img-src", "flood.test"));
    let dropped = sample(&metrics, "newsmirror_csp_reports_dropped_total");
    // A burst of 500, then 50 a second.
    assert!(counted >= 500, "{counted}");
    assert!(
        counted as f64 <= 500.0 + 50.0 * elapsed + 1.0,
        "{counted} in {elapsed}s"
    );
    assert_eq!(counted + dropped, 800, "{metrics}");
}
