//! The mirror list (`[mirrors]`): the other origins that serve this same
//! mirror, what this server last saw of each, published as
//! `GET /_/mirrors.json` (signed with Ed25519 when a key is configured) and
//! as a page for readers (`GET /_/mirrors`); the service worker
//! (`crate::worker`) carries the same origins and goes to them when this
//! one does not answer.
//!
//! The health checks ask each alternate's `/_/healthz` every
//! `mirrors.check_interval` (bounded by `mirrors.check_timeout`), through
//! the upstream client (and so through `upstream.proxy` when one is set:
//! the only way an onion alternate can be reached; without a proxy onion
//! alternates are listed unchecked). Every change of state is logged, the
//! state is in `/metrics` (`newsmirror_mirror_up`), and the list is
//! re-signed after each round.
//!
//! The signature is detached: `X-Mirrors-Signature` carries the base64
//! Ed25519 signature of the answer's exact body bytes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use parking_lot::{Mutex, RwLock};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::Serialize;

use crate::config::Config;
use crate::escape::{escape_attr, escape_text};
use crate::lang::{Lang, Words};
use crate::metrics::Metrics;
use crate::upstream::{Reach, Upstream, UpstreamRequest};

/// The header that carries the list's signature.
pub const SIGNATURE_HEADER: &str = "x-mirrors-signature";

/// How a reader reaches a mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Https,
    /// Plain HTTP (a loopback or private deployment).
    Http,
    /// A Tor onion service.
    Onion,
    /// A static copy (`newsmirror export`) on a static host: other paths,
    /// so listed but never a failover target.
    Static,
}

/// One other origin of this mirror.
pub struct Mirror {
    /// `scheme://host[:port]`, no trailing slash (a static copy: its URL).
    pub origin: String,
    pub kind: Kind,
    /// Whether this server checks it (an onion only through a proxy).
    checked: bool,
    health: Mutex<Health>,
}

#[derive(Clone, Copy, Default)]
struct Health {
    up: Option<bool>,
    last_checked: Option<SystemTime>,
    last_up: Option<SystemTime>,
}

/// The list as published: the exact bytes and their signature.
pub struct Published {
    pub body: Bytes,
    pub signature: Option<HeaderValue>,
}

/// Why the mirror list cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum MirrorsError {
    #[error("mirrors.signing_key: {0}")]
    Key(String),
}

/// The mirror list of this server.
pub struct Mirrors {
    /// This server's own origin (`server.public_url`), when known.
    pub this: Option<String>,
    pub alternates: Vec<Mirror>,
    key: Option<Ed25519KeyPair>,
    /// The public key, base64 (what readers and apps verify with).
    pub public_key: Option<String>,
    pub lang: Lang,
    /// There is an http(s) alternate ([`Mirrors::fails_over`]).
    fails_over: bool,
    interval: Duration,
    timeout: Duration,
    published: RwLock<Arc<Published>>,
}

impl Mirrors {
    pub fn new(config: &Config) -> Result<Mirrors, MirrorsError> {
        let m = &config.mirrors;
        let key = match &m.signing_key {
            None => None,
            Some(secret) => {
                let seed =
                    crate::config::ed25519_seed(secret.expose()).map_err(MirrorsError::Key)?;
                Some(
                    Ed25519KeyPair::from_seed_unchecked(&seed)
                        .map_err(|e| MirrorsError::Key(e.to_string()))?,
                )
            }
        };
        let proxied = config.upstream.proxy.is_some();
        let this = config.server.public_url.as_ref().map(origin_of);
        // One list for every mirror is fine: this server's own origin in
        // it is this server, not an alternate.
        let mut alternates: Vec<Mirror> = m
            .alternates
            .iter()
            .filter(|u| this.as_deref() != Some(origin_of(u).as_str()))
            .map(|u| {
                let kind = if is_onion(u) {
                    Kind::Onion
                } else if u.scheme() == "https" {
                    Kind::Https
                } else {
                    Kind::Http
                };
                Mirror::new(u, kind, kind != Kind::Onion || proxied)
            })
            .collect();
        if let Some(onion) = &m.onion
            && !alternates.iter().any(|a| a.origin == origin_of(onion))
        {
            alternates.push(Mirror::new(onion, Kind::Onion, proxied));
        }
        alternates.extend(m.static_copies.iter().map(|u| Mirror {
            origin: u.as_str().to_owned(),
            kind: Kind::Static,
            checked: true,
            health: Mutex::new(Health::default()),
        }));
        let lang = lang_of(config);
        let public_key = key.as_ref().map(|k| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(k.public_key().as_ref())
        });
        let mirrors = Mirrors {
            fails_over: alternates
                .iter()
                .any(|a| matches!(a.kind, Kind::Https | Kind::Http)),
            this,
            alternates,
            key,
            public_key,
            lang,
            interval: m.check_interval.get(),
            timeout: m.check_timeout.get(),
            published: RwLock::new(Arc::new(Published {
                body: Bytes::new(),
                signature: None,
            })),
        };
        mirrors.publish(SystemTime::now());
        Ok(mirrors)
    }

    /// Whether there is any other origin (the nav links the list then).
    pub fn any(&self) -> bool {
        !self.alternates.is_empty()
    }

    /// Whether another mirror's worker may fail over to this one (its
    /// answers then carry CORS headers); decided once, read per request.
    pub fn fails_over(&self) -> bool {
        self.fails_over
    }

    /// The origins the service worker may go to: those a browser reaches
    /// without Tor.
    pub fn failover_origins(&self) -> Vec<String> {
        self.alternates
            .iter()
            .filter(|a| matches!(a.kind, Kind::Https | Kind::Http))
            .map(|a| a.origin.clone())
            .collect()
    }

    /// The static copies' URLs (the offline page names them).
    pub fn static_copies(&self) -> Vec<String> {
        self.alternates
            .iter()
            .filter(|a| a.kind == Kind::Static)
            .map(|a| a.origin.clone())
            .collect()
    }

    pub fn words(&self) -> &'static Words {
        self.lang.words()
    }

    /// The list as last published.
    pub fn published(&self) -> Arc<Published> {
        self.published.read().clone()
    }

    /// Asks every checked alternate's `/_/healthz` once, at the same time,
    /// then publishes the list again.
    pub async fn check_all(
        &self,
        upstream: &Upstream,
        user_agent: &HeaderValue,
        metrics: &Metrics,
    ) {
        let checks = self
            .alternates
            .iter()
            .filter(|a| a.checked)
            .map(|a| async move {
                let result = self.check(upstream, user_agent, a).await;
                (a, result)
            });
        let now = SystemTime::now();
        for (alt, result) in futures_util::future::join_all(checks).await {
            let up = result.is_ok();
            let was = {
                let mut h = alt.health.lock();
                let was = h.up;
                h.up = Some(up);
                h.last_checked = Some(now);
                if up {
                    h.last_up = Some(now);
                }
                was
            };
            metrics.mirror_checked(&alt.origin, up);
            match (&result, was) {
                (Err(reason), Some(true) | None) => {
                    tracing::warn!(mirror = %alt.origin, %reason, "alternate mirror does not answer")
                }
                (Ok(()), Some(false)) => {
                    tracing::info!(mirror = %alt.origin, "alternate mirror answers again")
                }
                (Ok(()), None) => tracing::info!(mirror = %alt.origin, "alternate mirror answers"),
                (Err(reason), Some(false)) => {
                    tracing::debug!(mirror = %alt.origin, %reason, "alternate mirror still down")
                }
                (Ok(()), Some(true)) => {
                    tracing::debug!(mirror = %alt.origin, "alternate mirror up")
                }
            }
        }
        self.publish(SystemTime::now());
    }

    async fn check(
        &self,
        upstream: &Upstream,
        user_agent: &HeaderValue,
        alt: &Mirror,
    ) -> Result<(), String> {
        // A static copy has no /_/healthz: its own URL answering is health.
        let url = if alt.kind == Kind::Static {
            url::Url::parse(&alt.origin)
        } else {
            url::Url::parse(&format!("{}{}", alt.origin, crate::routes::HEALTHZ))
        }
        .map_err(|e| e.to_string())?;
        let mut headers = HeaderMap::new();
        headers.insert(http::header::USER_AGENT, user_agent.clone());
        let request = UpstreamRequest {
            method: Method::GET,
            url,
            headers,
            body: axum::body::Body::empty(),
            reach: Reach::Any,
        };
        let asked = request.url.path().to_owned();
        let status = match tokio::time::timeout(self.timeout, upstream.fetch(request)).await {
            Err(_) => return Err(format!("no answer within {:?}", self.timeout)),
            Ok(Err(e)) => return Err(e.to_string()),
            Ok(Ok(r)) => r.status,
        };
        if status == http::StatusCode::OK
            || (alt.kind == Kind::Static && (status.is_success() || status.is_redirection()))
        {
            Ok(())
        } else {
            Err(format!("{asked} answered {status}"))
        }
    }

    /// Checks every `check_interval` until the task is dropped or aborted;
    /// `None` when nothing is to be checked.
    pub fn spawn_checks(
        self: &Arc<Self>,
        upstream: Upstream,
        user_agent: HeaderValue,
        metrics: Arc<Metrics>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if !self.alternates.iter().any(|a| a.checked) {
            return None;
        }
        let mirrors = self.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(mirrors.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                mirrors.check_all(&upstream, &user_agent, &metrics).await;
            }
        }))
    }

    fn publish(&self, now: SystemTime) {
        let entries: Vec<Entry<'_>> = self
            .this
            .iter()
            .map(|origin| Entry {
                url: origin,
                kind: if origin.starts_with("https:") {
                    Kind::Https
                } else if origin.ends_with(".onion") {
                    Kind::Onion
                } else {
                    Kind::Http
                },
                this: true,
                healthy: Some(true),
                last_checked: None,
                last_seen_healthy: Some(crate::access_log::rfc3339(now)),
            })
            .chain(self.alternates.iter().map(|a| {
                let h = *a.health.lock();
                Entry {
                    url: &a.origin,
                    kind: a.kind,
                    this: false,
                    healthy: h.up,
                    last_checked: h.last_checked.map(crate::access_log::rfc3339),
                    last_seen_healthy: h.last_up.map(crate::access_log::rfc3339),
                }
            }))
            .collect();
        let list = List {
            version: 1,
            generated_at: crate::access_log::rfc3339(now),
            public_key: self.public_key.as_deref(),
            mirrors: entries,
        };
        let mut body = serde_json::to_vec_pretty(&list).unwrap_or_default();
        body.push(b'\n');
        let signature = self.key.as_ref().and_then(|k| {
            use base64::Engine;
            let sig = base64::engine::general_purpose::STANDARD.encode(k.sign(&body).as_ref());
            HeaderValue::from_str(&sig).ok()
        });
        *self.published.write() = Arc::new(Published {
            body: body.into(),
            signature,
        });
    }

    /// The readers' page: every origin, its state, the key.
    pub fn page(&self, nav_html: &str) -> String {
        let w = self.words();
        let mut items = String::new();
        if let Some(this) = &self.this {
            items.push_str(&format!(
                "<li><a href=\"{0}/\">{1}</a> ({2})</li>",
                escape_attr(this),
                escape_text(this),
                escape_text(w.this_mirror)
            ));
        }
        for a in &self.alternates {
            let h = *a.health.lock();
            let state = match h.up {
                Some(true) => w.answering.to_owned(),
                Some(false) => match h.last_up {
                    Some(t) => format!(
                        "{}; {} {}",
                        w.not_answering,
                        w.last_answered,
                        crate::access_log::rfc3339(t)
                    ),
                    None => w.not_answering.to_owned(),
                },
                None => w.not_checked.to_owned(),
            };
            let href = if a.kind == Kind::Static {
                a.origin.clone()
            } else {
                format!("{}/", a.origin)
            };
            items.push_str(&format!(
                "<li class=\"newsmirror-mirror-{kind}\"><a href=\"{0}\" rel=\"noreferrer\">{1}</a> ({2})</li>",
                escape_attr(&href),
                escape_text(&a.origin),
                escape_text(&state),
                kind = match a.kind {
                    Kind::Https => "https",
                    Kind::Http => "http",
                    Kind::Onion => "onion",
                    Kind::Static => "static",
                }
            ));
        }
        let key = match &self.public_key {
            Some(k) => format!(
                "<p>{}: <code>{}</code> (<a href=\"{}\">mirrors.json</a>)</p>",
                escape_text(w.signed),
                escape_text(k),
                crate::routes::MIRRORS_JSON
            ),
            None => format!(
                "<p><a href=\"{}\">mirrors.json</a></p>",
                crate::routes::MIRRORS_JSON
            ),
        };
        format!(
            "<!DOCTYPE html>\n<html lang=\"{code}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><link rel=\"stylesheet\" href=\"{css}\"></head>\
             <body>{nav}<main class=\"newsmirror-mirrors\"><h1>{title}</h1><p>{intro}</p>\
             <ul>{items}</ul>{key}</main></body></html>\n",
            code = w.code,
            dir = w.dir,
            title = escape_text(w.title),
            intro = escape_text(w.intro),
            css = crate::routes::STYLESHEET,
            nav = nav_html,
        )
    }
}

impl Mirror {
    fn new(url: &url::Url, kind: Kind, checked: bool) -> Mirror {
        Mirror {
            origin: origin_of(url),
            kind,
            checked,
            health: Mutex::new(Health::default()),
        }
    }
}

/// The language of the mirror's own words: `mirrors.lang`, or the one the
/// first site's nav labels (its footer when it has none) are written in.
pub fn lang_of(config: &Config) -> Lang {
    config
        .mirrors
        .lang
        .as_deref()
        .and_then(Lang::from_code)
        .unwrap_or_else(|| {
            let labels = config
                .sites
                .first()
                .map(|s| {
                    let nav: Vec<&str> = s.nav.iter().map(|n| n.label.as_str()).collect();
                    if nav.is_empty() {
                        s.footer.replace("{original_url}", "")
                    } else {
                        nav.join(" ")
                    }
                })
                .unwrap_or_default();
            Lang::guess(&labels)
        })
}

fn is_onion(u: &url::Url) -> bool {
    u.host_str().is_some_and(|h| h.ends_with(".onion"))
}

/// `scheme://host[:port]` of a URL, without the trailing slash.
fn origin_of(u: &url::Url) -> String {
    u.origin().ascii_serialization()
}

#[derive(Serialize)]
struct List<'a> {
    version: u32,
    generated_at: String,
    /// base64 Ed25519 public key that signed this list, when signed.
    public_key: Option<&'a str>,
    mirrors: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    url: &'a str,
    kind: Kind,
    /// The server that answered this list.
    this: bool,
    /// What the last check found; `null` before the first, or when not
    /// checked.
    healthy: Option<bool>,
    last_checked: Option<String>,
    last_seen_healthy: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!(
            "[server]\npublic_url = \"https://a.example\"\n[mirrors]\n{extra}\n\
             [[site]]\nname = \"s\"\nupstream = \"https://www.s.test\"\nmount = \"/\"\n\
             nav = [ {{ label = \"首页\", href = \"/\" }}, {{ label = \"国际新闻\", href = \"/world/\" }} ]\n"
        );
        Config::parse(&text, "t.toml").expect("valid")
    }

    #[test]
    fn the_list_names_every_origin_and_verifies_with_the_public_key() {
        let c = config(
            "alternates = [\"https://b.example\", \"https://a.example\", \"http://c.example:8080/\"]\n\
             onion = \"http://abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz2345.onion\"\n\
             signing_key = \"0101010101010101010101010101010101010101010101010101010101010101\"",
        );
        let m = Mirrors::new(&c).expect("list");
        assert_eq!(m.lang, Lang::Zh, "guessed from the nav labels");
        let p = m.published();
        let v: serde_json::Value = serde_json::from_slice(&p.body).expect("json");
        let urls: Vec<&str> = v["mirrors"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|e| e["url"].as_str())
            .collect();
        assert_eq!(urls.len(), 4, "this server once, as itself: {v}");
        assert_eq!(v["mirrors"][0]["this"], true);
        assert_eq!(urls[0], "https://a.example");
        assert_eq!(urls[2], "http://c.example:8080");
        assert_eq!(v["mirrors"][3]["kind"], "onion");
        assert_eq!(v["mirrors"][3]["healthy"], serde_json::Value::Null);
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = b64
            .decode(m.public_key.as_deref().expect("key"))
            .expect("b64");
        let sig = b64
            .decode(p.signature.as_ref().expect("signed").as_bytes())
            .expect("b64");
        let verifier = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key);
        assert!(verifier.verify(&p.body, &sig).is_ok());
        let mut tampered = p.body.to_vec();
        tampered[0] = b' ';
        assert!(verifier.verify(&tampered, &sig).is_err());
        assert_eq!(
            m.failover_origins(),
            ["https://b.example", "http://c.example:8080"]
        );
    }

    #[test]
    fn unsigned_without_a_key_and_the_page_escapes() {
        let m = Mirrors::new(&config(
            "alternates = [\"https://b.example\"]\nlang = \"en\"",
        ))
        .expect("list");
        assert!(m.published().signature.is_none());
        let page = m.page("<nav></nav>");
        assert!(page.contains("href=\"https://b.example/\""), "{page}");
        assert!(page.contains("Mirrors of this site"), "{page}");
        assert!(page.contains("(not checked)"), "{page}");
    }
}
