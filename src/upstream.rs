//! The upstream client: hyper-util's pooled client over our own connector.
//!
//! The connector is ours because `[upstream.origins]` must be able to send
//! a host to another address *and* another scheme (a loopback test server,
//! an internal origin, a pinned IP) while TLS still checks the original
//! host name; neither reqwest's `resolve` (no port, no scheme) nor
//! hyper-rustls's connector (scheme from the URI) can express that.
//! Connect, response-header and between-chunk timeouts come from config.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri};
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::Url;

use crate::body::{BodyError, Cause};
use crate::config::UpstreamConfig;

/// A request to an upstream.
pub struct UpstreamRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Body,
    pub reach: Reach,
}

/// Which addresses a request may connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// A configured site's upstream: wherever DNS or `[upstream.origins]` says.
    Any,
    /// Images and assets, whose URLs pages name: only public addresses
    /// (no loopback, private, link-local, ... ranges), unless the host is
    /// pinned in `[upstream.origins]`. A page cannot make the mirror fetch
    /// from its own network.
    PublicOnly,
}

/// An upstream's answer, body still streaming.
pub struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: IdleTimeoutBody,
}

/// Why an upstream gave no usable response head.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("could not connect to {host}: {reason}")]
    Connect { host: String, reason: String },
    #[error("connecting to {host} timed out")]
    ConnectTimeout { host: String },
    #[error("{host} sent no response headers within {after:?}")]
    HeaderTimeout { host: String, after: Duration },
    #[error("{host} broke the exchange: {reason}")]
    Protocol { host: String, reason: String },
    #[error("{host} is not at a public address; the mirror does not fetch from it")]
    NotPublic { host: String },
    #[error("too many requests to {host} are in flight; try again shortly")]
    Busy { host: String },
}

#[derive(Clone)]
pub struct Upstream {
    client: Client<OriginConnector, Body>,
    /// The same, connecting to public addresses only ([`Reach::PublicOnly`]).
    public: Client<OriginConnector, Body>,
    header_timeout: Duration,
    idle_timeout: Duration,
    body_timeout: Duration,
    hosts: Arc<HostLimits>,
}

/// At most `upstream.max_connections_per_host` requests in flight to one
/// upstream host and port (head and body: a permit goes with the body);
/// the excess waits up to `upstream.connection_wait`, then is refused.
/// 400 slow requests for 400 distinct pages open 64 connections, not 400.
struct HostLimits {
    per_host: usize,
    wait: Duration,
    hosts: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Hosts remembered before idle ones are forgotten.
const HOSTS_KEPT: usize = 4096;

impl HostLimits {
    async fn acquire(&self, host: &str, port: u16) -> Result<OwnedSemaphorePermit, UpstreamError> {
        let key = format!("{host}:{port}");
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            if hosts.len() >= HOSTS_KEPT && !hosts.contains_key(&key) {
                // A permit or a waiter holds a clone: the others are idle.
                hosts.retain(|_, s| Arc::strong_count(s) > 1);
            }
            hosts
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
                .clone()
        };
        match tokio::time::timeout(self.wait, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(UpstreamError::Busy {
                host: host.to_owned(),
            }),
        }
    }
}

/// Request headers hyper derives from the body it sends; never taken from
/// the caller (a stale `Content-Length` on a body-less GET smuggles the next
/// request on a pooled connection into this one's body).
const FRAMING: &[http::header::HeaderName] = &[
    http::header::CONTENT_LENGTH,
    http::header::TRANSFER_ENCODING,
    http::header::EXPECT,
    http::header::CONNECTION,
    http::header::TE,
    http::header::UPGRADE,
];

impl Upstream {
    pub fn new(config: &UpstreamConfig) -> Self {
        Self::with_roots(config, webpki_root_store())
    }

    /// A client trusting `roots` (tests add their own CA).
    pub fn with_roots(config: &UpstreamConfig, roots: rustls::RootCertStore) -> Self {
        let build = |public_only: bool| {
            Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .timer(TokioTimer::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(32)
                .http1_max_headers(256)
                // hyper grows a connection's read buffer up to 400 KiB by
                // default when upstream sends fast; with a fill window of
                // 256 KiB per reader that was most of a connection's memory
                // allowance (`bench/fill_memory.sh`). 64 KiB, as on the
                // public side; a response head must fit in it.
                .http1_max_buf_size(64 * 1024)
                .build(OriginConnector::new(config, roots.clone(), public_only))
        };
        Upstream {
            client: build(false),
            public: build(true),
            header_timeout: config.header_timeout.get(),
            idle_timeout: config.idle_timeout.get(),
            body_timeout: config.body_timeout.get(),
            hosts: Arc::new(HostLimits {
                per_host: config.max_connections_per_host.max(1),
                wait: config.connection_wait.get(),
                hosts: std::sync::Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Sends `req` and waits for the response head (not the body).
    pub async fn fetch(&self, req: UpstreamRequest) -> Result<UpstreamResponse, UpstreamError> {
        let host = req.url.host_str().unwrap_or_default().to_owned();
        let uri: Uri = req
            .url
            .as_str()
            .parse()
            .map_err(|e: http::uri::InvalidUri| UpstreamError::Protocol {
                host: host.clone(),
                reason: format!("invalid URL: {e}"),
            })?;
        let client = match req.reach {
            Reach::Any => &self.client,
            Reach::PublicOnly => &self.public,
        };
        let mut headers = req.headers;
        for name in FRAMING {
            headers.remove(name);
        }
        // GET and HEAD carry no body upstream, at this depth too.
        let body = if matches!(req.method, Method::GET | Method::HEAD) {
            Body::empty()
        } else {
            req.body
        };
        let port = req.url.port_or_known_default().unwrap_or(0);
        let permit = self.hosts.acquire(&host, port).await?;
        let mut request = http::Request::new(body);
        *request.method_mut() = req.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        let response =
            match tokio::time::timeout(self.header_timeout, client.request(request)).await {
                Err(_) => {
                    return Err(UpstreamError::HeaderTimeout {
                        host,
                        after: self.header_timeout,
                    });
                }
                Ok(Err(e)) => return Err(classify(host, &e)),
                Ok(Ok(r)) => r,
            };
        let (parts, body) = response.into_parts();
        Ok(UpstreamResponse {
            status: parts.status,
            headers: parts.headers,
            body: IdleTimeoutBody::new(body, self.idle_timeout, self.body_timeout, permit),
        })
    }
}

fn classify(host: String, e: &hyper_util::client::legacy::Error) -> UpstreamError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(c) = s.downcast_ref::<ConnectError>() {
            return match c {
                ConnectError::Timeout => UpstreamError::ConnectTimeout { host },
                ConnectError::NotPublic => UpstreamError::NotPublic { host },
                other => UpstreamError::Connect {
                    host,
                    reason: other.to_string(),
                },
            };
        }
        source = s.source();
    }
    let reason = match std::error::Error::source(e) {
        Some(s) => s.to_string(),
        None => e.to_string(),
    };
    if e.is_connect() {
        UpstreamError::Connect { host, reason }
    } else {
        UpstreamError::Protocol { host, reason }
    }
}

fn webpki_root_store() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// The body of an upstream response, failing with [`BodyError::IdleTimeout`]
/// when nothing arrives for the idle timeout, and with
/// [`BodyError::BodyTimeout`] when the time spent waiting for it adds up to
/// more than `upstream.body_timeout` plus one second per
/// [`BYTES_PER_SECOND_OWED`] received: a body dripping a byte a second
/// (which never trips the idle timeout) is cut after `body_timeout`, while
/// a long video from an upstream faster than 32 KiB/s is never cut. Only
/// time the mirror waits on upstream counts: a reader that reads slowly (so
/// the body is not polled) costs none of it. Holds the host's connection
/// permit until it is dropped.
pub struct IdleTimeoutBody {
    inner: Incoming,
    idle: Duration,
    budget: Duration,
    /// Bytes received so far (each [`BYTES_PER_SECOND_OWED`] adds a second).
    received: u64,
    /// Waited on upstream so far, and since when the current wait runs.
    waited: Duration,
    waiting_since: Option<tokio::time::Instant>,
    sleep: Pin<Box<tokio::time::Sleep>>,
    _permit: OwnedSemaphorePermit,
}

impl IdleTimeoutBody {
    fn new(
        inner: Incoming,
        idle: Duration,
        budget: Duration,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        IdleTimeoutBody {
            inner,
            idle,
            budget,
            received: 0,
            waited: Duration::ZERO,
            waiting_since: None,
            sleep: Box::pin(tokio::time::sleep(idle)),
            _permit: permit,
        }
    }
}

/// A body earns one more second of waiting per this many bytes received
/// (a minimum average rate of 32 KiB/s past `upstream.body_timeout`).
pub const BYTES_PER_SECOND_OWED: u64 = 32 * 1024;

impl IdleTimeoutBody {
    /// The waiting this body may have done by now.
    fn allowed(&self) -> Duration {
        self.budget + Duration::from_secs(self.received / BYTES_PER_SECOND_OWED)
    }
}

impl http_body::Body for IdleTimeoutBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(since) = this.waiting_since.take() {
                    this.waited += since.elapsed();
                }
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref))
                    && let Some(d) = data
                {
                    this.received += d.len() as u64;
                }
                Poll::Ready(frame.map(|f| f.map_err(|e| BodyError::Broken(Cause::new(e)))))
            }
            Poll::Pending => {
                let now = tokio::time::Instant::now();
                let allowed = this.allowed();
                let since = *this.waiting_since.get_or_insert_with(|| {
                    let left = allowed.saturating_sub(this.waited);
                    this.sleep.as_mut().reset(now + this.idle.min(left));
                    now
                });
                match this.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) if this.waited + since.elapsed() >= allowed => {
                        Poll::Ready(Some(Err(BodyError::BodyTimeout(this.budget))))
                    }
                    Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::IdleTimeout(this.idle)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Why a connection to an upstream could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("timed out")]
    Timeout,
    #[error("the URL has no host")]
    NoHost,
    #[error("name resolution failed: {0}")]
    Resolve(io::Error),
    #[error("connection failed: {0}")]
    Tcp(io::Error),
    #[error("TLS handshake failed: {0}")]
    Tls(io::Error),
    #[error("invalid TLS server name {0:?}")]
    ServerName(String),
    #[error("no public address")]
    NotPublic,
    #[error(transparent)]
    Proxy(#[from] crate::outbound_proxy::ProxyError),
}

#[derive(Clone, Debug)]
struct Origin {
    tls: bool,
    host: String,
    port: u16,
}

/// Connects to upstream hosts, honouring `[upstream.origins]`.
#[derive(Clone)]
pub struct OriginConnector {
    inner: Arc<ConnectorInner>,
}

struct ConnectorInner {
    origins: HashMap<String, Origin>,
    tls: TlsConnector,
    connect_timeout: Duration,
    public_only: bool,
    /// `[upstream] proxy`: every connection is a tunnel through it.
    proxy: Option<crate::outbound_proxy::Proxy>,
}

impl OriginConnector {
    fn new(config: &UpstreamConfig, roots: rustls::RootCertStore, public_only: bool) -> Self {
        let origins = config
            .origins
            .iter()
            .filter_map(|(host, url)| {
                Some((
                    host.to_ascii_lowercase(),
                    Origin {
                        tls: url.scheme() == "https",
                        host: url.host_str()?.trim_matches(['[', ']']).to_owned(),
                        port: url.port_or_known_default()?,
                    },
                ))
            })
            .collect();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            .unwrap_or_else(|_| unreachable!("ring supports the default protocol versions"));
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        OriginConnector {
            inner: Arc::new(ConnectorInner {
                origins,
                tls: TlsConnector::from(Arc::new(tls)),
                connect_timeout: config.connect_timeout.get(),
                public_only,
                // Validated with the configuration.
                proxy: config
                    .proxy
                    .as_ref()
                    .and_then(|u| crate::outbound_proxy::Proxy::parse(u).ok()),
            }),
        }
    }
}

impl tower::Service<Uri> for OriginConnector {
    type Response = TokioIo<UpstreamIo>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move {
            let timeout = inner.connect_timeout;
            match tokio::time::timeout(timeout, inner.connect(uri)).await {
                Ok(result) => result.map(TokioIo::new),
                Err(_) => Err(ConnectError::Timeout),
            }
        })
    }
}

impl ConnectorInner {
    async fn connect(&self, uri: Uri) -> Result<UpstreamIo, ConnectError> {
        let name = uri
            .host()
            .ok_or(ConnectError::NoHost)?
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        // A host pinned in [upstream.origins] is the operator's choice;
        // anything else is checked when public addresses are required.
        let pinned = self.origins.contains_key(&name);
        let origin = match self.origins.get(&name) {
            Some(o) => o.clone(),
            None => {
                let tls = uri.scheme_str() == Some("https");
                Origin {
                    tls,
                    host: name.clone(),
                    port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
                }
            }
        };
        let public_only = self.public_only && !pinned;
        let tcp = match &self.proxy {
            None => connect_tcp(&origin.host, origin.port, public_only).await?,
            Some(proxy) => connect_via(proxy, &origin.host, origin.port, public_only).await?,
        };
        let _ = tcp.set_nodelay(true);
        if !origin.tls {
            return Ok(UpstreamIo::Plain(tcp));
        }
        // TLS checks the name the page asked for, whatever address we dialled.
        let server_name = match name.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => {
                ServerName::try_from(name.clone()).map_err(|_| ConnectError::ServerName(name))?
            }
        };
        let stream = self
            .tls
            .connect(server_name, tcp)
            .await
            .map_err(ConnectError::Tls)?;
        Ok(UpstreamIo::Tls(Box::new(stream)))
    }
}

/// A tunnel to `host:port` through `proxy`. The guard applies as without
/// one: a SOCKS5 or CONNECT proxy is given an address resolved and checked
/// here; `socks5h` (Tor) resolves names itself, so a name goes unresolved
/// (the mirror only asks for configured hosts and signed image URLs) but
/// an address or a local name that is not public is refused.
async fn connect_via(
    proxy: &crate::outbound_proxy::Proxy,
    host: &str,
    port: u16,
    public_only: bool,
) -> Result<TcpStream, ConnectError> {
    use crate::outbound_proxy::Target;
    if proxy.resolves_names() && host.parse::<IpAddr>().is_err() {
        if public_only && is_local_name(host) {
            return Err(ConnectError::NotPublic);
        }
        return Ok(proxy.connect(Target::Name(host, port)).await?);
    }
    let mut last = None;
    for addr in resolve(host, port, public_only).await? {
        match proxy.connect(Target::Addr(addr)).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or(ConnectError::NotPublic, ConnectError::Proxy))
}

/// Names that never lead to a public host (RFC 6761 `localhost`, mDNS).
fn is_local_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local")
}

async fn connect_tcp(host: &str, port: u16, public_only: bool) -> Result<TcpStream, ConnectError> {
    let addrs = resolve(host, port, public_only).await?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no addresses");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(ConnectError::Tcp(last))
}

/// The addresses of `host` (or the address it is), only public ones when
/// `public_only`.
async fn resolve(
    host: &str,
    port: u16,
    public_only: bool,
) -> Result<Vec<SocketAddr>, ConnectError> {
    let mut addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(ConnectError::Resolve)?
            .collect(),
    };
    if public_only {
        // Checked on the addresses actually dialled, after resolution: a
        // name that resolves to a private address is refused like the address.
        addrs.retain(|a| is_public(a.ip()));
        if addrs.is_empty() {
            return Err(ConnectError::NotPublic);
        }
    }
    Ok(addrs)
}

/// Whether `ip` is a globally routable unicast address: not loopback,
/// private, shared (CGNAT), link-local, unspecified, multicast, broadcast,
/// documentation, benchmarking or reserved space, in IPv4 or IPv6 (IPv6
/// forms that embed an IPv4 address are judged by that address).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let v4 = std::net::Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                );
                return is_public(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])
                || s[0..6] == [0, 0, 0, 0, 0, 0])
        }
    }
}

/// A connection to an upstream, plain or TLS.
pub enum UpstreamIo {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection for UpstreamIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for UpstreamIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Plain(s) => Pin::new(s).poll_read(cx, buf),
            UpstreamIo::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpstreamIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamIo::Plain(s) => Pin::new(s).poll_write(cx, buf),
            UpstreamIo::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Plain(s) => Pin::new(s).poll_flush(cx),
            UpstreamIo::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Plain(s) => Pin::new(s).poll_shutdown(cx),
            UpstreamIo::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamIo::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            UpstreamIo::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            UpstreamIo::Plain(s) => s.is_write_vectored(),
            UpstreamIo::Tls(s) => s.is_write_vectored(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_globally_routable_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "203.0.114.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
