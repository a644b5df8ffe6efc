//! `newsmirror demo`: the bundled sample news site on a loopback port and
//! the mirror in front of it, in one process, with no network.

pub mod site;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use url::Url;

use crate::app::App;
use crate::config::Config;
use crate::server;

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the bundled demo configuration is invalid: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Start(#[from] crate::app::StartError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The demo configuration with every sample host pointed at `upstream`.
pub fn config(upstream: SocketAddr) -> Result<Config, DemoError> {
    let mut config = Config::parse(site::CONFIG, "config/demo.toml")?;
    for host in site::HOSTS {
        let origin = Url::parse(&format!("http://{upstream}"))
            .map_err(|e| std::io::Error::other(format!("demo origin: {e}")))?;
        config.upstream.origins.insert((*host).to_owned(), origin);
    }
    Ok(config)
}

/// Starts the sample site and the mirror; returns when the process is told to stop.
pub async fn run(listen: Option<SocketAddr>) -> Result<(), DemoError> {
    let upstream = TcpListener::bind(("127.0.0.1", 0)).await?;
    let upstream_addr = upstream.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(upstream, site::router()).await {
            tracing::error!(error = %e, "demo site stopped");
        }
    });
    let mut config = config(upstream_addr)?;
    if let Some(addr) = listen {
        config.server.listen = addr;
    }
    let wanted = config.server.listen;
    let listener = match TcpListener::bind(wanted).await {
        Ok(l) => l,
        // The default port is often taken; the demo should still start.
        Err(e) if listen.is_none() && e.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!("newsmirror demo: {wanted} is in use, picking a free port instead");
            TcpListener::bind((wanted.ip(), 0))
                .await
                .map_err(|source| DemoError::Listen {
                    addr: wanted,
                    source,
                })?
        }
        Err(source) => {
            return Err(DemoError::Listen {
                addr: wanted,
                source,
            });
        }
    };
    let addr = listener.local_addr()?;
    // The admin port is optional for a demo: if it is taken, go without.
    let mut admin_refused = None;
    let admin = match config.server.admin_listen {
        Some(a) => match TcpListener::bind(a).await {
            Ok(l) => Some(l),
            Err(e) => {
                admin_refused = Some(format!("{a}: {e}"));
                None
            }
        },
        None => None,
    };
    let admin_addr = admin.as_ref().and_then(|l| l.local_addr().ok());
    let app = App::new(config)?;
    println!(
        "newsmirror demo: the sample news site runs on http://{upstream_addr} (host names *.test),"
    );
    println!("and its mirror on http://{addr}/ -- open that in a browser.");
    println!("Try http://{addr}/news/ and an article; press Ctrl-C to stop.");
    if let Some(a) = admin_addr {
        println!("Metrics: http://{a}/metrics");
    }
    if let Some(why) = admin_refused {
        // Another demo (or something else) has the admin port: say so
        // rather than run without metrics silently.
        println!("No metrics: the admin port is taken ({why}); the mirror runs without it.");
    }
    server::run(app, listener, admin, server::shutdown_signal()).await?;
    Ok(())
}
