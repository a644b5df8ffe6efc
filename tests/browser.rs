//! The demo through the mirror in a real browser: headless Chromium driven
//! over WebDriver (chromedriver). Opens the section page `/news/`, clicks
//! into the top story, and checks what a reader sees: the nav bar is
//! visible, every image loaded, the footer links to the original, and every
//! request the browser made (Resource Timing, plus DevTools' network events
//! from chromedriver's performance log, which also list requests that
//! failed) went to the mirror's own origin. Saves a screenshot to
//! `target/browser/article.png`.
//!
//! The WebDriver client is the few W3C endpoints below over reqwest (already
//! a dev-dependency): fantoccini would add the webdriver crate and its
//! dependency tree, chromiumoxide a large generated DevTools binding, for
//! the same seven calls.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them), or the paths
//! in `CHROMIUM` and `CHROMEDRIVER`. Without them the test fails and says so.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use url::Url;

/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn binary(env: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.exists(),
        "{} not found: the browser test needs Debian's `{package}` package \
         (apt-get install chromium chromium-driver; .ci/run installs them), \
         or set {env} to its path",
        path.display()
    );
    path
}

/// A chromedriver process and one browser session; both end on drop.
struct Browser {
    http: reqwest::Client,
    base: String,
    session: Option<String>,
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        let chromium = binary("CHROMIUM", "/usr/bin/chromium", "chromium");
        let chromedriver = binary("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..300 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not become ready on {base}");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            http,
            base,
            session: None,
            driver,
            _profile: profile,
        };
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--hide-scrollbars",
            // A reader behind a censor: nothing but the mirror resolves.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!(
            "--user-data-dir={}",
            browser._profile.path().display()
        )])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"performance": "ALL"},
        }}});
        let v = browser.call("POST", "/session", caps).await;
        browser.session = Some(
            v["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("no session: {v}"))
                .to_owned(),
        );
        browser
    }

    /// One WebDriver command; returns its `value`, panics on an error.
    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = match &self.session {
            Some(id) => format!("{}/session/{id}{path}", self.base),
            None => format!("{}{path}", self.base),
        };
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let r = req.send().await.expect("chromedriver answers");
        let status = r.status();
        let v: Value = r.json().await.expect("chromedriver answers JSON");
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {v}"
        );
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    async fn run(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Waits (bounded) until the document has loaded, images included.
    /// Runs `script` until its value satisfies `done` (at most ~10 s);
    /// returns the last value.
    async fn poll(&self, script: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut value = Value::Null;
        for _ in 0..200 {
            value = self.run(script).await;
            if done(&value) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        value
    }

    async fn wait_loaded(&self) {
        for _ in 0..600 {
            if self.run("return document.readyState").await == "complete" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page never finished loading");
    }

    /// URLs of every request the browser sent since the last call, from
    /// DevTools network events (requests that failed are included).
    async fn network_log(&self) -> Vec<String> {
        let entries = self
            .call("POST", "/se/log", json!({"type": "performance"}))
            .await;
        let mut urls = Vec::new();
        for e in entries.as_array().into_iter().flatten() {
            let Some(message) = e["message"].as_str() else {
                continue;
            };
            let Ok(m) = serde_json::from_str::<Value>(message) else {
                continue;
            };
            if m["message"]["method"] == "Network.requestWillBeSent"
                && let Some(u) = m["message"]["params"]["request"]["url"].as_str()
            {
                urls.push(u.to_owned());
            }
        }
        urls
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver ends the browser with the session; the driver itself
        // is killed with its handle (kill_on_drop).
        if let Some(id) = self.session.take() {
            let url = format!("{}/session/{id}", self.base);
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    reqwest::Client::new()
                        .delete(url)
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await
                        .ok()
                })
            })
            .join();
        }
        let _ = self.driver.start_kill();
    }
}

/// Requests that left the mirror's origin. `data:`/`blob:` URLs are not
/// requests, and `chrome:`/`about:` ones are the browser's own pages (its
/// start tab), not the mirror's.
fn foreign(origin: &str, urls: &[String]) -> Vec<String> {
    const LOCAL: [&str; 5] = ["data:", "blob:", "about:", "chrome:", "chrome-untrusted:"];
    urls.iter()
        .filter(|u| !LOCAL.iter().any(|s| u.starts_with(s)))
        .filter(|u| {
            Url::parse(u)
                .map(|p| p.origin().ascii_serialization() != origin)
                .unwrap_or(true)
        })
        .cloned()
        .collect()
}

/// The document's URL and every Resource Timing entry of the current page.
const RESOURCES: &str = "return [document.URL].concat(\
    performance.getEntriesByType('resource').map(e => e.name))";

#[tokio::test]
async fn a_reader_clicks_from_the_section_page_into_an_article() {
    let mirror = common::demo_mirror().await;
    let origin = format!("http://{mirror}");
    let browser = Browser::start().await;

    // Forget the start tab's own requests.
    browser.goto("about:blank").await;
    browser.network_log().await;

    // The section page.
    browser.goto(&format!("{origin}/news/")).await;
    browser.wait_loaded().await;
    let section: Vec<String> = serde_json::from_value(browser.run(RESOURCES).await).unwrap();
    assert!(section.len() > 3, "too few requests seen: {section:?}");
    assert_eq!(
        foreign(&origin, &section),
        Vec::<String>::new(),
        "section page"
    );

    // Click into the top story.
    let link = browser.find(".top-story h2 a").await;
    let href = browser
        .run("return document.querySelector('.top-story h2 a').getAttribute('href')")
        .await;
    let href = href.as_str().unwrap().to_owned();
    assert!(href.starts_with("/news/2026/"), "{href}");
    browser
        .call("POST", &format!("/element/{link}/click"), json!({}))
        .await;
    let mut arrived = false;
    for _ in 0..600 {
        let url = browser.call("GET", "/url", json!({})).await;
        if url.as_str().is_some_and(|u| u.ends_with(&href)) {
            arrived = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(arrived, "the click did not open {href}");
    browser.wait_loaded().await;

    // The nav bar is visible.
    let nav = browser.find("#newsmirror-nav").await;
    assert_eq!(
        browser
            .call("GET", &format!("/element/{nav}/displayed"), json!({}))
            .await,
        true
    );
    let nav_box = browser
        .run(
            "const r = document.getElementById('newsmirror-nav').getBoundingClientRect();\
             return [r.width, r.height, r.top]",
        )
        .await;
    assert!(
        nav_box[0].as_f64().unwrap() > 0.0 && nav_box[1].as_f64().unwrap() > 0.0,
        "{nav_box}"
    );
    assert!(
        nav_box[2].as_f64().unwrap() < 200.0,
        "the bar is at the top: {nav_box}"
    );

    // Every image loaded.
    let images = browser
        .run(
            "return Array.from(document.images).map(i => \
             [i.currentSrc || i.src, i.complete, i.naturalWidth])",
        )
        .await;
    let images = images.as_array().unwrap();
    assert!(images.len() >= 2, "the article has images: {images:?}");
    let broken: Vec<&Value> = images
        .iter()
        .filter(|i| i[1] != true || i[2].as_u64().unwrap_or(0) == 0)
        .collect();
    assert!(broken.is_empty(), "images that did not load: {broken:?}");

    // The footer shows the original link.
    let original = format!("https://www.demo-news.test{href}");
    let footer = browser
        .run(
            "const f = document.getElementById('newsmirror-footer');\
             const a = f && f.querySelector('a');\
             return f ? [f.innerText, a ? a.href : null, f.getBoundingClientRect().height] : null",
        )
        .await;
    assert!(footer.is_array(), "no #newsmirror-footer");
    assert_eq!(footer[1], original.as_str(), "{footer}");
    assert!(footer[0].as_str().unwrap().contains(&original), "{footer}");
    assert!(footer[2].as_f64().unwrap() > 0.0, "the footer is rendered");

    // Every request the page made went to the mirror.
    let article: Vec<String> = serde_json::from_value(browser.run(RESOURCES).await).unwrap();
    assert!(
        article.iter().any(|u| u.contains("/_/asset/")),
        "the article's images come through /_/asset/: {article:?}"
    );
    assert_eq!(
        foreign(&origin, &article),
        Vec::<String>::new(),
        "article page"
    );
    let network = browser.network_log().await;
    assert!(
        network.iter().any(|u| u.ends_with(&href)),
        "DevTools saw the article's request: {network:?}"
    );
    assert_eq!(
        foreign(&origin, &network),
        Vec::<String>::new(),
        "DevTools network events, both pages"
    );

    // The screenshot, for people (README's picture comes from here).
    let png = browser.call("GET", "/screenshot", json!({})).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("browser"))
        .unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("article.png"), &png).unwrap();
    // And the end of the page, with the footer.
    browser
        .run("document.getElementById('newsmirror-footer').scrollIntoView(false); return 0")
        .await;
    let png = browser.call("GET", "/screenshot", json!({})).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap())
        .unwrap();
    std::fs::write(dir.join("article-footer.png"), &png).unwrap();
    eprintln!("screenshots: {}", dir.display());
}

/// The demo reads its site with `javascript = "remove"`: lazy images, whose
/// real URL waits in `data-src`/`data-srcset` for a script, are shown all
/// the same, and nothing runs or leaves the mirror.
#[tokio::test]
async fn lazy_images_of_the_demo_appear_without_scripts() {
    let mirror = common::demo_mirror().await;
    let origin = format!("http://{mirror}");
    let browser = Browser::start().await;
    browser.goto("about:blank").await;
    browser.network_log().await;
    for path in [
        "/news/2026/11/mountain-school-solar.html",
        "/news/2026/11/old-street-market-reopens.html",
        "/news/2026/11/first-snow-north.html",
        "/news/2026/11/winter-concert-season.html",
    ] {
        browser.goto(&format!("{origin}{path}")).await;
        browser.wait_loaded().await;
        // Images load lazily only when near the viewport: bring each in.
        browser
            .run(
                "for (const i of document.images) { i.loading = 'eager'; i.scrollIntoView(); }\
                 window.scrollTo(0, 0); return 0",
            )
            .await;
        let images = browser
            .poll(
                "return Array.from(document.querySelectorAll('article img, figure img, main img')).map(i => \
                 [i.currentSrc || i.src, i.complete, i.naturalWidth])",
                |v| v.as_array().is_some_and(|a| a.iter().all(|i| i[1] == true)),
            )
            .await;
        let images = images.as_array().cloned().unwrap_or_default();
        assert!(!images.is_empty(), "{path}: the article has images");
        for i in &images {
            let src = i[0].as_str().unwrap_or("");
            assert!(
                i[2].as_u64().unwrap_or(0) > 1,
                "{path}: an article image is not visible (placeholder or not loaded): {i}"
            );
            assert!(
                !src.starts_with("data:") && !src.ends_with("/px.gif"),
                "{path}: still the placeholder: {src}"
            );
        }
        let scripts = browser
            .run("return document.scripts.length - document.querySelectorAll('script[type=\"application/ld+json\"]').length")
            .await;
        assert_eq!(scripts, 0, "{path}: no script is left");
    }
    let network = browser.network_log().await;
    assert_eq!(foreign(&origin, &network), Vec::<String>::new());
}

/// A page whose own scripts build URLs at run time, as real pages' tag
/// managers, pixels and widgets do: on the first load already (no service
/// worker yet), the mirror's page script sends those of the site to the
/// mirror and answers the others' with the mirror's empty answer; DevTools
/// sees no request to any other host.
#[tokio::test]
async fn run_time_urls_stay_on_the_mirror_from_the_first_load() {
    use axum::Router;
    use axum::http::header;
    use axum::routing::get;
    // Every host name is put together at run time, so that only the page
    // script (not the server's rewrite of the script text) can map them.
    let page = r#"<html><head><title>rt</title>
<script>
function h() { return Array.prototype.join.call(arguments, '.'); }
// A tag manager's loader, a pixel, written markup.
(function (w, d, s) {
  var j = d.createElement(s); j.async = true;
  j.src = 'https://' + h('www', 'googletagmanager', 'com') + '/gtm.js?id=GTM-X';
  d.head.appendChild(j);
})(window, document, 'script');
new Image().src = 'https://' + h('sb', 'scorecardresearch', 'com') + '/p?c1=2';
document.write('<script src="//' + h('connect', 'facebook', 'net') + '/en_US/fbevents.js"><\/script>');
// An ad server's tag, written in pieces.
document.write("<scr" + "ipt src='https://" + h('advintage', 'net') + "/ajs.php");
document.write("?zoneid=574&amp;cb=1");
document.write("'><\/scr" + "ipt>");
</script></head><body><p id="out">waiting</p><div id="w"></div><div id="bg"></div>
<script>
const host = h('www', 'u', 'test');
navigator.sendBeacon('https://' + h('beacon', 'krxd', 'net') + '/event', 'x');
document.getElementById('w').innerHTML = '<img id="own" src="https://' + host +
  '/own.png"><img src="//' + h('pixel', 'quantserve', 'com') + '/pixel">';
const a = document.createElement('img');
a.setAttribute('srcset', 'https://' + host + '/two.png 1x, https://' + h('cdn', 'taboola', 'com') + '/a 2x');
document.body.appendChild(a);
document.getElementById('bg').style.backgroundImage =
  'url(https://' + h('c', 'amazon-adsystem', 'com') + '/bg)';
// Loaders that work in an about:blank frame of their own (its own
// prototypes): one writes its document, one builds a script element there.
const f = document.createElement('iframe');
document.body.appendChild(f);
const fd = f.contentWindow.document;
fd.open();
fd.write('<body><script src="https://' + h('jsc', 'mgid', 'com') + '/m.js"><\/script></body>');
fd.close();
const s2 = f.contentDocument.createElement('script');
s2.src = 'https://' + h('s', 'go-mpulse', 'net') + '/boomerang/X';
f.contentDocument.body.appendChild(s2);
const x = new XMLHttpRequest();
x.open('GET', 'https://' + h('js-agent', 'newrelic', 'com') + '/x');
x.send();
fetch('https://' + h('samizdat-graphql', 'example', 'com') + '/graphql').then(r => r.status).then(s => {
  return fetch('https://' + host + '/data.json?n=' + Date.now()).then(r => r.text());
}).then(t => { document.getElementById('out').textContent = t; })
  .catch(e => { document.getElementById('out').textContent = 'failed: ' + e; });
</script></body></html>"#;
    let png = || async {
        (
            [(header::CONTENT_TYPE, "image/png")],
            common::tiny_png().to_vec(),
        )
    };
    let router = Router::new()
        .route(
            "/page.htm",
            get(move || async move { ([(header::CONTENT_TYPE, "text/html")], page) }),
        )
        .route("/own.png", get(png))
        .route("/two.png", get(png))
        .route(
            "/data.json",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"ok":"through the mirror"}"#,
                )
            }),
        );
    let (up, _hits) = common::upstream(router).await;
    let mirror = common::mirror(&common::config(up, "")).await;
    let origin = format!("http://{mirror}");
    let browser = Browser::start().await;
    browser.goto("about:blank").await;
    browser.network_log().await;
    browser.goto(&format!("{origin}/page.htm")).await;
    browser.wait_loaded().await;
    const OUT: &str = "return document.getElementById('out').textContent";
    let out = browser.poll(OUT, |v| v != "waiting").await;
    assert_eq!(
        out, r#"{"ok":"through the mirror"}"#,
        "the script-built request to the site was answered through the mirror"
    );
    let own = browser
        .poll(
            "const i = document.getElementById('own'); return i && i.complete ? i.naturalWidth : -1",
            |v| v != -1,
        )
        .await;
    assert!(
        own.as_i64().unwrap_or(0) > 0,
        "the written image of the site loaded: {own}"
    );
    let network = browser.network_log().await;
    assert_eq!(
        foreign(&origin, &network),
        Vec::<String>::new(),
        "DevTools saw no request to another host (refused ones included)"
    );
    for path in ["/own.png", "/two.png", "/data.json", "/_/void"] {
        assert!(
            network.iter().any(|u| u.contains(path)),
            "{path} was asked of the mirror: {network:?}"
        );
    }
}

/// What the page script cannot see (here a style element's text, written
/// by a script) the service worker maps, once it controls the page: the
/// first load's request is refused by the mirror's policy; the second,
/// worker-controlled load's arrives at the upstream through the mirror.
#[tokio::test]
async fn the_service_worker_sends_script_built_urls_to_the_mirror() {
    use axum::Router;
    use axum::http::header;
    use axum::routing::get;
    // A style element's text is not a place the page script looks at.
    let page = r#"<html><head><title>sw</title></head><body><p>sw</p>
<script>
const host = ['www', 'u', 'test'].join('.');
const st = document.createElement('style');
st.textContent = 'body { background: url(https://' + host + '/bg.png?n=' + Date.now() + ') }';
document.head.appendChild(st);
</script></body></html>"#;
    let bg = common::Hits::default();
    let counted = bg.clone();
    let router = Router::new()
        .route(
            "/page.htm",
            get(move || async move { ([(header::CONTENT_TYPE, "text/html")], page) }),
        )
        .route(
            "/bg.png",
            get(move || {
                counted.hit();
                async {
                    (
                        [(header::CONTENT_TYPE, "image/png")],
                        common::tiny_png().to_vec(),
                    )
                }
            }),
        );
    let (up, _hits) = common::upstream(router).await;
    let mirror = common::mirror(&common::config(up, "")).await;
    let origin = format!("http://{mirror}");
    let browser = Browser::start().await;
    browser.goto(&format!("{origin}/page.htm")).await;
    browser.wait_loaded().await;
    // The first load is not the worker's: the mirror's policy refuses the
    // request to another host, so nothing left the page.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bg.get(), 0, "refused by the policy on the first load");
    // Until the worker is active and controls the page.
    let controlled = browser
        .poll(
            "return !!(navigator.serviceWorker && navigator.serviceWorker.controller)",
            |v| v == true,
        )
        .await;
    assert_eq!(controlled, true, "the worker took control of the page");
    browser.goto(&format!("{origin}/page.htm")).await;
    browser.wait_loaded().await;
    let shown = browser
        .poll(
            "return performance.getEntriesByType('resource').some(e => e.name.includes('/bg.png'))",
            |v| v == true,
        )
        .await;
    assert_eq!(shown, true, "the style's image was answered");
    assert!(
        bg.get() > 0,
        "the request arrived at the upstream, through the mirror"
    );
}

/// A mirror on `listener` that stops (its listener closed, its connections
/// ended) when the sender is used or dropped.
fn stoppable_mirror(
    listener: tokio::net::TcpListener,
    toml: &str,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let config = newsmirror::config::Config::parse(toml, "test.toml").expect("valid config");
    let app = newsmirror::app::App::new(config).expect("app starts");
    let mut options = newsmirror::server::ServeOptions::from(&app.config.server);
    options.shutdown_grace = Duration::from_millis(500);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(newsmirror::server::serve(
        listener,
        newsmirror::router::public(app),
        options,
        async move {
            let _ = rx.await;
        },
    ));
    (tx, task)
}

#[tokio::test]
async fn a_reader_keeps_reading_on_another_mirror_when_this_one_stops() {
    failover("javascript = \"remove\"").await;
}

/// The same where the site's scripts run: the page script registers the
/// worker, and the failover is the same worker's.
#[tokio::test]
async fn a_reader_keeps_reading_on_another_mirror_with_the_sites_scripts_kept() {
    failover("").await;
}

/// Mirrors A and B, each the other's alternate, with `site` lines in the
/// `[[site]]`: read on A, stop A, read on (from B), stop B, read what was
/// saved.
async fn failover(site: &str) {
    use axum::Router;
    use axum::http::header;
    use axum::routing::get;
    fn article(
        title: &'static str,
        body: &'static str,
    ) -> ([(header::HeaderName, &'static str); 1], String) {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!(
                "<html><head><title>{title}</title></head><body>\
                 <p id=\"story\">{body}</p><a id=\"next\" href=\"/news/two.html\">next</a></body></html>"
            ),
        )
    }
    let router = Router::new()
        .route(
            "/news/one.html",
            get(|| async { article("One", "story one") }),
        )
        .route(
            "/news/two.html",
            get(|| async { article("Two", "story two") }),
        )
        .route(
            "/news/three.html",
            get(|| async { article("Three", "story three") }),
        );
    let (up, _) = common::upstream(router).await;
    let la = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (a, b) = (la.local_addr().unwrap(), lb.local_addr().unwrap());
    let config = |other: std::net::SocketAddr| {
        format!(
            "[mirrors]\nalternates = [\"http://{other}\"]\nlang = \"en\"\n\
             signing_key = \"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\"\n{}",
            common::config(up, site)
        )
    };
    let (stop_a, task_a) = stoppable_mirror(la, &config(b));
    let (stop_b, task_b) = stoppable_mirror(lb, &config(a));
    let (origin_a, origin_b) = (format!("http://{a}"), format!("http://{b}"));

    let browser = Browser::start().await;
    browser.goto(&format!("{origin_a}/news/one.html")).await;
    browser.wait_loaded().await;
    let controlled = browser
        .poll(
            "return !!(navigator.serviceWorker && navigator.serviceWorker.controller)",
            |v| v == true,
        )
        .await;
    assert_eq!(controlled, true, "the worker took control");
    // Read once under the worker: the page is kept.
    browser.goto(&format!("{origin_a}/news/one.html")).await;
    browser.wait_loaded().await;
    let saved = browser
        .poll(
            "return caches.open('newsmirror-saved-v1').then(c => c.keys()).then(k => k.map(r => r.url))",
            |v| v.as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    assert_eq!(saved, json!([format!("{origin_a}/news/one.html")]));
    assert!(
        browser
            .run("return document.getElementById('newsmirror-failover') === null")
            .await
            == true,
        "no banner while this mirror answers"
    );

    // A program in a browser verifies the list, by WebCrypto as the README
    // says, with the operator's public key (RFC 8032's first test vector:
    // the seed above); a changed byte does not verify. (The page's own
    // policy keeps its fetches to this origin.)
    let verified = browser
        .run(
            "return (async () => {\
               const r = await fetch('/_/mirrors.json');\
               const body = new Uint8Array(await r.arrayBuffer());\
               const b = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));\
               const sig = b(r.headers.get('x-mirrors-signature'));\
               const key = await crypto.subtle.importKey('raw',\
                 b('11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='), {name: 'Ed25519'}, false, ['verify']);\
               const ok = await crypto.subtle.verify('Ed25519', key, sig, body);\
               body[5] ^= 1;\
               const forged = await crypto.subtle.verify('Ed25519', key, sig, body);\
               return [ok, forged];\
             })()",
        )
        .await;
    assert_eq!(
        verified,
        json!([true, false]),
        "the list verifies in the browser"
    );

    // Mirror A stops: the next article comes from B, under A's address.
    let _ = stop_a.send(());
    task_a.await.unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(a).await.is_err(),
        "mirror A is down"
    );
    browser.network_log().await;
    let next = browser.find("#next").await;
    browser
        .call("POST", &format!("/element/{next}/click"), json!({}))
        .await;
    let story = browser
        .poll(
            "var s = document.getElementById('story'); return s ? s.textContent : null",
            |v| v == "story two",
        )
        .await;
    assert_eq!(story, "story two", "the article was served from mirror B");
    browser.wait_loaded().await;
    assert_eq!(
        browser.run("return document.URL").await,
        format!("{origin_a}/news/two.html")
    );
    let banner = browser
        .run("var b = document.getElementById('newsmirror-failover'); return b ? b.textContent : null")
        .await;
    let banner = banner.as_str().unwrap_or_default().to_owned();
    assert!(
        banner.contains(&b.to_string()),
        "the banner names mirror B: {banner:?}"
    );
    // Its style sheet came through the worker from B as well.
    let styled = browser
        .run("return getComputedStyle(document.getElementById('newsmirror-nav')).display")
        .await;
    assert_eq!(styled, "flex", "the nav bar's style sheet was served");
    let elsewhere: Vec<String> = foreign(&origin_a, &browser.network_log().await)
        .into_iter()
        .filter(|u| !u.starts_with(&origin_b))
        .collect();
    assert_eq!(
        elsewhere,
        Vec::<String>::new(),
        "only the two mirrors were asked"
    );

    // B stops too: the article read before is still readable, and any
    // other page lists the mirrors and what was saved.
    let _ = stop_b.send(());
    task_b.await.unwrap().unwrap();
    browser.goto(&format!("{origin_a}/news/one.html")).await;
    browser.wait_loaded().await;
    assert_eq!(
        browser
            .run("var s = document.getElementById('story'); return s ? s.textContent : null")
            .await,
        "story one"
    );
    let note = browser
        .run(
            "var b = document.getElementById('newsmirror-failover'); return b ? b.textContent : ''",
        )
        .await;
    assert!(
        note.as_str().unwrap_or_default().contains("copy saved"),
        "{note}"
    );
    browser.goto(&format!("{origin_a}/news/three.html")).await;
    browser.wait_loaded().await;
    let mirrors = browser
        .run("return Array.from(document.querySelectorAll('#newsmirror-offline-mirrors a')).map(a => a.href)")
        .await;
    assert_eq!(mirrors, json!([format!("{origin_b}/news/three.html")]));
    let pages = browser
        .run("return Array.from(document.querySelectorAll('#newsmirror-offline-saved a')).map(a => [a.getAttribute('href'), a.textContent])")
        .await;
    let pages = pages.as_array().cloned().unwrap_or_default();
    assert!(
        pages.contains(&json!(["/news/one.html", "One"])),
        "the page read before is listed: {pages:?}"
    );
}
