//! The outbound proxy of upstream fetches (`[upstream] proxy`): when the
//! news site blocks the mirror server's own address, its fetches go
//! through Tor or another proxy. SOCKS5 with the name resolved by the
//! proxy (`socks5h://`, what Tor needs) or here (`socks5://`), and HTTP
//! `CONNECT` (`http://`); user and password from the URL. The proxy only
//! carries bytes: TLS to the origin runs inside the tunnel and still
//! verifies the site's name (`crate::upstream`), which also decides what
//! may be dialled (the public-address guard) before the proxy is asked.

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// How the proxy is spoken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SOCKS5, addresses resolved by the mirror.
    Socks5,
    /// SOCKS5, names resolved by the proxy (Tor: `socks5h://127.0.0.1:9050`).
    Socks5h,
    /// HTTP `CONNECT`.
    HttpConnect,
}

/// A configured outbound proxy.
#[derive(Clone, Debug)]
pub struct Proxy {
    pub kind: Kind,
    host: String,
    port: u16,
    auth: Option<(String, String)>,
}

/// Where the tunnel should lead.
#[derive(Clone, Debug)]
pub enum Target<'a> {
    /// An address the mirror resolved (and checked).
    Addr(SocketAddr),
    /// A name for the proxy to resolve (`socks5h`).
    Name(&'a str, u16),
}

/// Why a tunnel could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot reach the proxy {proxy}: {source}")]
    Unreachable {
        proxy: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the proxy {proxy} broke off: {source}")]
    Io {
        proxy: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the proxy {proxy} refused: {reason}")]
    Refused { proxy: String, reason: String },
}

/// Longest proxy answer head (HTTP `CONNECT`) read before giving up.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

impl Proxy {
    /// `socks5h://host:port`, `socks5://user:pass@host:port` or
    /// `http://host:port`; anything else is a configuration error.
    pub fn parse(url: &Url) -> Result<Proxy, String> {
        let kind = match url.scheme() {
            "socks5h" => Kind::Socks5h,
            "socks5" => Kind::Socks5,
            "http" => Kind::HttpConnect,
            other => {
                return Err(format!(
                    "scheme {other:?} is not a proxy this server speaks: use socks5h://, socks5:// or http://"
                ));
            }
        };
        let host = url
            .host_str()
            .ok_or("must name the proxy's host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let port = url
            .port_or_known_default()
            .or(match kind {
                Kind::Socks5 | Kind::Socks5h => Some(1080),
                Kind::HttpConnect => None,
            })
            .ok_or("must name the proxy's port")?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err("must be scheme, host and port only, without a path".into());
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| "user and password must be UTF-8".to_owned())
        };
        let auth = if url.username().is_empty() {
            None
        } else {
            let user = decode(url.username())?;
            let pass = decode(url.password().unwrap_or(""))?;
            if kind != Kind::HttpConnect && (user.len() > 255 || pass.len() > 255) {
                return Err("SOCKS5 user and password are 255 bytes at most".into());
            }
            Some((user, pass))
        };
        Ok(Proxy {
            kind,
            host,
            port,
            auth,
        })
    }

    /// Whether names go to the proxy unresolved.
    pub fn resolves_names(&self) -> bool {
        self.kind == Kind::Socks5h
    }

    /// `host:port` of the proxy, for messages (never its password).
    fn label(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// A TCP stream to the proxy that now leads to `target`.
    pub async fn connect(&self, target: Target<'_>) -> Result<TcpStream, ProxyError> {
        let mut stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|source| ProxyError::Unreachable {
                proxy: self.label(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let io = |source| ProxyError::Io {
            proxy: self.label(),
            source,
        };
        match self.kind {
            Kind::Socks5 | Kind::Socks5h => self.socks5(&mut stream, &target).await,
            Kind::HttpConnect => self.http_connect(&mut stream, &target).await,
        }
        .map_err(|e| match e {
            Step::Io(source) => io(source),
            Step::Refused(reason) => ProxyError::Refused {
                proxy: self.label(),
                reason,
            },
        })?;
        Ok(stream)
    }

    fn refused(reason: impl Into<String>) -> Step {
        Step::Refused(reason.into())
    }

    /// RFC 1928 (and RFC 1929 for a user and password), `CONNECT` only.
    async fn socks5(&self, s: &mut TcpStream, target: &Target<'_>) -> Result<(), Step> {
        let methods: &[u8] = if self.auth.is_some() {
            &[0x00, 0x02]
        } else {
            &[0x00]
        };
        let mut hello = vec![0x05, methods.len() as u8];
        hello.extend_from_slice(methods);
        s.write_all(&hello).await?;
        let mut choice = [0u8; 2];
        s.read_exact(&mut choice).await?;
        if choice[0] != 0x05 {
            return Err(Self::refused("not a SOCKS5 proxy"));
        }
        match (choice[1], &self.auth) {
            (0x00, _) => {}
            (0x02, Some((user, pass))) => {
                let mut m = vec![0x01, user.len() as u8];
                m.extend_from_slice(user.as_bytes());
                m.push(pass.len() as u8);
                m.extend_from_slice(pass.as_bytes());
                s.write_all(&m).await?;
                let mut status = [0u8; 2];
                s.read_exact(&mut status).await?;
                if status[1] != 0x00 {
                    return Err(Self::refused("user or password not accepted"));
                }
            }
            _ => return Err(Self::refused("no authentication method in common")),
        }
        let mut req = vec![0x05, 0x01, 0x00];
        let port = match target {
            Target::Addr(SocketAddr::V4(a)) => {
                req.push(0x01);
                req.extend_from_slice(&a.ip().octets());
                a.port()
            }
            Target::Addr(SocketAddr::V6(a)) => {
                req.push(0x04);
                req.extend_from_slice(&a.ip().octets());
                a.port()
            }
            Target::Name(name, port) => {
                let name = name.as_bytes();
                let len = u8::try_from(name.len())
                    .map_err(|_| Self::refused("host name longer than 255 bytes"))?;
                req.push(0x03);
                req.push(len);
                req.extend_from_slice(name);
                *port
            }
        };
        req.extend_from_slice(&port.to_be_bytes());
        s.write_all(&req).await?;
        let mut head = [0u8; 4];
        s.read_exact(&mut head).await?;
        if head[0] != 0x05 {
            return Err(Self::refused("not a SOCKS5 answer"));
        }
        if head[1] != 0x00 {
            return Err(Self::refused(socks5_reply(head[1])));
        }
        // The bound address, which the tunnel does not need.
        let rest = match head[3] {
            0x01 => 4 + 2,
            0x04 => 16 + 2,
            0x03 => {
                let mut len = [0u8; 1];
                s.read_exact(&mut len).await?;
                usize::from(len[0]) + 2
            }
            _ => return Err(Self::refused("unknown address type in the answer")),
        };
        let mut skip = vec![0u8; rest];
        s.read_exact(&mut skip).await?;
        Ok(())
    }

    /// `CONNECT host:port HTTP/1.1`; the tunnel is open on a 2xx. The
    /// answer's head is read a byte at a time so that nothing after it is
    /// taken from the tunnel.
    async fn http_connect(&self, s: &mut TcpStream, target: &Target<'_>) -> Result<(), Step> {
        let authority = match target {
            Target::Addr(a) => a.to_string(),
            Target::Name(name, port) => format!("{name}:{port}"),
        };
        let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some((user, pass)) = &self.auth {
            let token = STANDARD.encode(format!("{user}:{pass}"));
            req.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await?;
        let mut head = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= MAX_CONNECT_HEAD {
                return Err(Self::refused("answer head too long"));
            }
            if s.read(&mut byte).await? == 0 {
                return Err(Self::refused("closed before answering"));
            }
            head.push(byte[0]);
        }
        let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let mut parts = line.split_ascii_whitespace();
        let version = parts.next().unwrap_or("");
        let status = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return Err(Self::refused("not an HTTP answer"));
        }
        if !status.starts_with('2') || status.len() != 3 {
            return Err(Self::refused(format!("CONNECT answered {}", line.trim())));
        }
        Ok(())
    }
}

/// A failed step of a handshake.
enum Step {
    Io(std::io::Error),
    Refused(String),
}

impl From<std::io::Error> for Step {
    fn from(e: std::io::Error) -> Self {
        Step::Io(e)
    }
}

/// RFC 1928 §6's reply codes.
fn socks5_reply(code: u8) -> String {
    match code {
        0x01 => "general failure".into(),
        0x02 => "connection not allowed by its rules".into(),
        0x03 => "network unreachable".into(),
        0x04 => "host unreachable".into(),
        0x05 => "connection refused by the destination".into(),
        0x06 => "TTL expired".into(),
        0x07 => "command not supported".into(),
        0x08 => "address type not supported".into(),
        other => format!("reply code {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Proxy, String> {
        Proxy::parse(&Url::parse(s).expect("url"))
    }

    #[test]
    fn the_three_schemes_parse_and_others_do_not() {
        let tor = parse("socks5h://127.0.0.1:9050").expect("socks5h");
        assert_eq!((tor.kind, tor.port), (Kind::Socks5h, 9050));
        assert!(tor.resolves_names());
        let s = parse("socks5://u:p%40ss@[::1]").expect("socks5");
        assert_eq!(
            (s.kind, s.port, s.host.as_str()),
            (Kind::Socks5, 1080, "::1")
        );
        assert_eq!(s.auth, Some(("u".into(), "p@ss".into())));
        let h = parse("http://proxy.example:3128").expect("http");
        assert_eq!(h.kind, Kind::HttpConnect);
        assert!(parse("https://proxy.example:3128").is_err());
        assert!(parse("socks4://127.0.0.1:1080").is_err());
        assert!(parse("http://proxy.example:3128/path").is_err());
    }

    #[test]
    fn the_label_never_shows_the_password() {
        let p = parse("http://user:secret@proxy.example:3128").expect("http");
        assert!(!p.label().contains("secret"));
    }
}
