//! The accept loop: hyper-util's connection builder with a timer, so that
//! header-read timeouts fire (`axum::serve` sets none, which leaves a
//! slowloris client holding connections forever), a cap on concurrent
//! connections, and graceful shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::app::App;
use crate::config::ServerConfig;

/// Connection-level limits, from `[server]`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
    /// `[tls]`: serve HTTPS on this listener (see `crate::tls`).
    pub tls: Option<crate::tls::Tls>,
}

impl From<&ServerConfig> for ServeOptions {
    fn from(c: &ServerConfig) -> Self {
        ServeOptions {
            header_read_timeout: c.header_read_timeout.get(),
            max_connections: c.max_connections,
            shutdown_grace: c.shutdown_grace.get(),
            tls: None,
        }
    }
}

/// What a listener serves: a service made for each accepted connection,
/// which knows the connection's peer.
pub trait Serve: Send + 'static {
    type Conn: Handler;
    fn for_peer(&self, peer: SocketAddr) -> Self::Conn;
}

/// The public side: the peer is a field of the service.
impl Serve for crate::router::Public {
    type Conn = crate::router::Public;
    fn for_peer(&self, peer: SocketAddr) -> Self::Conn {
        crate::router::Public::for_peer(self, peer)
    }
}

/// An axum router (the admin listener's): the peer is put in each request's
/// extensions, as `ConnectInfo`.
impl Serve for Router {
    type Conn = axum::middleware::AddExtension<Router, ConnectInfo<SocketAddr>>;
    fn for_peer(&self, peer: SocketAddr) -> Self::Conn {
        tower::Layer::layer(&axum::Extension(ConnectInfo(peer)), self.clone())
    }
}

/// Serves `service` on `listener` until `shutdown` completes, then lets
/// in-flight requests finish for up to `shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    service: impl Serve,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        // At most 100 request headers (more: 431) is hyper's default, kept
        // by not setting `max_headers`: set, even to 100, hyper fills a
        // header array element by element on every request.
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(128)
        .max_header_list_size(64 * 1024)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    let setup = Arc::new(ConnectionSetup {
        builder,
        tls: options.tls.clone(),
        first_byte: options.header_read_timeout,
    });
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = service.for_peer(peer);
        spawn_connection(&setup, stream, peer, service, graceful.watcher(), permit);
    }
    drop(listener);
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within the shutdown grace period");
    }
    Ok(())
}

/// What every connection of one listener is served with.
struct ConnectionSetup {
    builder: auto::Builder<TokioExecutor>,
    /// `[tls]`: a handshake first.
    tls: Option<crate::tls::Tls>,
    /// How long a new connection may take to send its first byte (plain)
    /// or to finish its handshake (TLS): hyper's header-read timer starts
    /// only with the first byte, so a connection that never sends one would
    /// hold its slot forever.
    first_byte: Duration,
}

/// What serves one connection's requests.
pub trait Handler:
    tower::Service<
        http::Request<Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<S> Handler for S where
    S: tower::Service<
            http::Request<Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// Serves one accepted connection in its own task: its first byte or its
/// TLS handshake, then HTTP/1.1 or HTTP/2 (the auto builder reads the
/// preface; ALPN chose over TLS) until it ends, watched for graceful
/// shutdown. `permit` (the connection cap) is held until the end.
fn spawn_connection<S>(
    setup: &Arc<ConnectionSetup>,
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    watcher: Watcher,
    permit: OwnedSemaphorePermit,
) where
    S: Handler,
{
    let setup = setup.clone();
    tokio::spawn(async move {
        match &setup.tls {
            Some(tls) => {
                if let Some(stream) =
                    crate::tls::handshake(tls, stream, peer, setup.first_byte).await
                {
                    serve_io(&setup.builder, stream, service, watcher, peer).await;
                }
            }
            None => {
                let mut byte = [0u8; 1];
                match tokio::time::timeout(setup.first_byte, stream.peek(&mut byte)).await {
                    Ok(Ok(n)) if n > 0 => {
                        serve_io(&setup.builder, stream, service, watcher, peer).await
                    }
                    _ => {} // silent, closed or failed: never served
                }
            }
        }
        drop(permit);
    });
}

/// HTTP over one connection's byte stream (TCP or TLS).
async fn serve_io<I, S>(
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    service: S,
    watcher: Watcher,
    peer: SocketAddr,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Handler,
{
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
        .into_owned();
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Serves the public router on `public` and the admin router on `admin`
/// (if any) until `shutdown` completes.
pub async fn run(
    app: Arc<App>,
    public: TcpListener,
    admin: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    run_with_tls(app, public, admin, None, shutdown).await
}

/// [`run`], with HTTPS on the public listener when `tls` is given (the
/// admin listener stays plain HTTP).
pub async fn run_with_tls(
    app: Arc<App>,
    public: TcpListener,
    admin: Option<TcpListener>,
    tls: Option<crate::tls::Tls>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut options = ServeOptions::from(&app.config.server);
    let checks = app.mirrors.spawn_checks(
        app.upstream.clone(),
        app.user_agent.clone(),
        app.metrics.clone(),
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let admin_task = admin.map(|listener| {
        let router = crate::admin::router(app.clone());
        let options = ServeOptions {
            max_connections: 64,
            tls: None,
            ..options.clone()
        };
        tokio::spawn(serve(listener, router, options, stopped(stop_rx.clone())))
    });
    options.tls = tls;
    let public_task = tokio::spawn(serve(
        public,
        crate::router::public(app),
        options,
        stopped(stop_rx),
    ));
    shutdown.await;
    if let Some(checks) = checks {
        checks.abort();
    }
    let _ = stop_tx.send(true);
    if let Some(task) = admin_task {
        task.await.map_err(io::Error::other)??;
    }
    public_task.await.map_err(io::Error::other)?
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
