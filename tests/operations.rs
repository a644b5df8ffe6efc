//! Operations: request ids and the access log, the OpenAPI description of
//! the article API (checked against a real answer, so the two cannot
//! drift), and `newsmirror healthcheck` over plain HTTP.

mod common;

use std::collections::BTreeSet;

use axum::Router;
use axum::routing::get;
use common::*;

async fn small_upstream() -> std::net::SocketAddr {
    upstream(Router::new().route(
        "/a.html",
        get(|| async {
            (
                [
                    ("content-type", "text/html; charset=utf-8"),
                    ("cache-control", "max-age=60"),
                ],
                "<html><body><p>a</p></body></html>",
            )
        }),
    ))
    .await
    .0
}

fn request_id(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-request-id")
        .expect("every answer has X-Request-Id")
        .to_str()
        .unwrap()
        .to_owned()
}

fn is_generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_readers_cannot_choose_it() {
    let up = small_upstream().await;
    let (mirror, admin) = mirror_with_admin(&config(up, "")).await;
    let c = client();
    let mut ids = BTreeSet::new();
    for (base, path) in [
        (mirror, "/a.html"),
        (mirror, "/a.html"),
        (mirror, "/_/healthz"),
        (mirror, "/_/nothing-here"),
        (mirror, "/_/api/article"),
        (mirror, "/_/asset/evil.test/x.png"),
        (admin, "/metrics"),
        (admin, "/readyz"),
    ] {
        let r = c.get(format!("http://{base}{path}")).send().await.unwrap();
        let id = request_id(&r);
        assert!(is_generated(&id), "{path}: {id}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 8, "ids are unique");

    // 127.0.0.1 is not a trusted proxy here: its id is replaced.
    let r = c
        .get(format!("http://{mirror}/a.html"))
        .header("x-request-id", "reader-chosen-id")
        .send()
        .await
        .unwrap();
    let id = request_id(&r);
    assert_ne!(id, "reader-chosen-id");
    assert!(is_generated(&id));
}

#[tokio::test]
async fn a_trusted_proxy_passes_its_request_id_through() {
    let up = small_upstream().await;
    let mirror = mirror(&config(up, "").replacen(
        "[server]",
        "[server]\ntrusted_proxies = [\"127.0.0.0/8\"]",
        1,
    ))
    .await;
    let c = client();
    let r = c
        .get(format!("http://{mirror}/a.html"))
        .header("x-request-id", "cdn-4f2a:77")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&r), "cdn-4f2a:77");
    // A malformed one is replaced even from a trusted proxy.
    let r = c
        .get(format!("http://{mirror}/a.html"))
        .header("x-request-id", "bad id <with> spaces")
        .send()
        .await
        .unwrap();
    assert!(is_generated(&request_id(&r)));
    // None sent: one is made.
    let r = c
        .get(format!("http://{mirror}/a.html"))
        .send()
        .await
        .unwrap();
    assert!(is_generated(&request_id(&r)));
}

/// `newsmirror serve --log-format json`, as operators run it: one access
/// line per request on standard error.
#[tokio::test]
async fn each_request_is_logged_with_id_method_path_status_cache_and_duration() {
    let up = small_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let path = dir.path().join("newsmirror.toml");
    std::fs::write(
        &path,
        config(up, "").replacen(
            "[server]",
            &format!("[server]\nlisten = \"127.0.0.1:{port}\""),
            1,
        ),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_newsmirror"))
        .args(["--log-format", "json", "serve", "--config"])
        .arg(&path)
        .env_remove("NEWSMIRROR_LISTEN")
        .env_remove("NEWSMIRROR_ADMIN_LISTEN")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mirror = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let c = client();
    let mut up_yet = false;
    for _ in 0..300 {
        if c.get(format!("http://{mirror}/_/healthz"))
            .send()
            .await
            .is_ok()
        {
            up_yet = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up_yet, "newsmirror serve did not start");
    let first = fetch(mirror, "/a.html?x=1").await;
    let first_id = request_id(&first);
    let _ = first.bytes().await;
    let second = fetch(mirror, "/a.html?x=1").await;
    let second_id = request_id(&second);
    let _ = second.bytes().await;
    // SIGHUP (systemctl reload) without [tls] does not stop the server.
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut alive = false;
    for _ in 0..250 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if fetch(mirror, "/_/healthz").await.status() == 200 {
            alive = true;
            break;
        }
    }
    assert!(
        alive && child.try_wait().unwrap().is_none(),
        "SIGHUP stopped the server"
    );
    let _ = child.start_kill();
    let out = child.wait_with_output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["target"] == "newsmirror::access")
        .collect();
    let find = |id: &str| {
        lines
            .iter()
            .find(|v| v["fields"]["request_id"] == id)
            .unwrap_or_else(|| panic!("no access log line for {id} in:\n{text}"))
            .clone()
    };
    let a = find(&first_id);
    assert_eq!(a["level"], "INFO");
    assert_eq!(a["fields"]["method"], "GET");
    assert_eq!(a["fields"]["path"], "/a.html", "the query is not logged");
    assert_eq!(a["fields"]["status"], 200);
    assert_eq!(a["fields"]["cache"], "MISS");
    assert!(a["fields"]["duration_ms"].as_f64().unwrap() >= 0.0);
    let b = find(&second_id);
    assert_eq!(b["fields"]["cache"], "HIT");
}

#[tokio::test]
async fn openapi_describes_the_article_route_its_parameters_and_every_json_field() {
    let mirror = demo_mirror().await;
    let r = fetch(mirror, "/_/api/openapi.json").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    let op = &doc["paths"]["/_/api/article"]["get"];
    assert!(op.is_object(), "no GET /_/api/article in {doc:#}");
    let params = op["parameters"].as_array().unwrap();
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
    };
    assert_eq!(param("url")["in"], "query");
    assert_eq!(param("url")["required"], true);
    assert_eq!(param("format")["in"], "query");
    assert_ne!(param("format")["required"], true);

    let ok = &op["responses"]["200"]["content"];
    assert_eq!(
        ok["application/json"]["schema"]["$ref"],
        "#/components/schemas/Article"
    );
    assert!(ok["text/markdown"].is_object());
    for status in ["400", "403", "404", "422", "502", "504"] {
        assert_eq!(
            op["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{status}"
        );
    }

    // The schema's fields are exactly those of a real answer, and the
    // required ones are all there.
    let schemas = &doc["components"]["schemas"];
    let article = fetch(
        mirror,
        "/_/api/article?url=/news/2026/11/river-bridge-opens.html",
    )
    .await;
    assert_eq!(article.status(), 200);
    let article: serde_json::Value = article.json().await.unwrap();
    let keys = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    };
    let declared = keys(&schemas["Article"]["properties"]);
    assert_eq!(declared, keys(&article), "Article schema vs a real article");
    let required: BTreeSet<String> = schemas["Article"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(required, declared, "every field is always present");
    assert_eq!(
        schemas["Article"]["properties"]["lead_image"]["oneOf"][1]["$ref"],
        "#/components/schemas/Image",
        "{:#}",
        schemas["Article"]["properties"]["lead_image"]
    );
    let image = &article["images"][0];
    assert_eq!(keys(&schemas["Image"]["properties"]), keys(image));
    assert_eq!(
        keys(&schemas["Tag"]["properties"]),
        keys(&article["tags"][0])
    );

    let problem = fetch(mirror, "/_/api/article").await;
    assert_eq!(problem.status(), 400);
    let problem: serde_json::Value = problem.json().await.unwrap();
    assert_eq!(keys(&schemas["Problem"]["properties"]), keys(&problem));
}

#[tokio::test]
async fn healthcheck_command_exits_zero_only_on_a_2xx() {
    let up = small_upstream().await;
    let mirror = mirror(&config(up, "")).await;
    let run = |url: String| async move {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_newsmirror"))
            .args(["healthcheck", "--url", &url])
            .output()
            .await
            .unwrap()
    };
    let ok = run(format!("http://{mirror}/_/healthz")).await;
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("200"));
    let missing = run(format!("http://{mirror}/_/nothing")).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let refused = run(format!("http://{closed}/_/healthz")).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cannot connect"));
    let bad = run("ftp://x/".to_owned()).await;
    assert!(!bad.status.success());

    // The default URL follows NEWSMIRROR_LISTEN's port.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_newsmirror"))
        .arg("healthcheck")
        .env("NEWSMIRROR_LISTEN", format!("0.0.0.0:{}", mirror.port()))
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// docs/operations.md's metrics table names exactly the metrics `/metrics`
/// serves, with their types.
#[tokio::test]
async fn the_metrics_table_matches_what_metrics_serves() {
    let up = small_upstream().await;
    // An alternate that never answers: its checks make the mirror series.
    let toml = format!(
        "{}\n[cdn]\npurge_token = \"metrics-doc-token\"\n\
         [mirrors]\nalternates = [\"http://127.0.0.1:1\"]\n\
         check_interval = \"1s\"\ncheck_timeout = \"1s\"\n",
        config(up, "")
    );
    let (mirror, admin) = mirror_with_admin(&toml).await;
    for _ in 0..50 {
        if admin_metrics(admin).await.contains("newsmirror_mirror_up{") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let c = client();
    let _ = fetch(mirror, "/a.html").await.bytes().await;
    let purge = c
        .post(format!("http://{admin}/purge"))
        .bearer_auth("metrics-doc-token")
        .body(r#"{"keys": ["u"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(purge.status(), 200);
    // Families appear after their first sample: one CSP report too.
    let report = c
        .post(format!("http://{mirror}/_/csp-report"))
        .header("content-type", "application/csp-report")
        .body(r#"{"csp-report": {"document-uri": "http://m.test/a.html", "blocked-uri": "inline", "violated-directive": "script-src"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 204);
    let text = admin_metrics(admin).await;
    let served: BTreeSet<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next().unwrap().to_owned();
            let kind = it.next().unwrap().to_owned();
            let name = if kind == "counter" {
                format!("{name}_total")
            } else {
                name
            };
            (name, kind)
        })
        .collect();
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md"))
        .unwrap();
    let documented: BTreeSet<(String, String)> = doc
        .lines()
        .filter(|l| l.starts_with("| `newsmirror_"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[2].to_owned())
        })
        .collect();
    assert_eq!(documented, served);
}
