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
    // The second mirror, each the other's alternate ([mirrors]): the next
    // port when it is free, any free port otherwise.
    let second = match TcpListener::bind((addr.ip(), addr.port().wrapping_add(1))).await {
        Ok(l) if addr.port() != 0 && addr.port() != u16::MAX => l,
        _ => TcpListener::bind((addr.ip(), 0)).await?,
    };
    let second_addr = second.local_addr()?;
    let mut second_config = config.clone();
    second_config.server.admin_listen = None;
    config.mirrors.alternates = vec![origin(second_addr)?];
    second_config.mirrors.alternates = vec![origin(addr)?];
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
    let second_app = App::new(second_config)?;
    println!(
        "newsmirror demo: the sample news site runs on http://{upstream_addr} (host names *.test),"
    );
    println!("and its mirror on http://{addr}/ -- open that in a browser.");
    println!("Try http://{addr}/news/ and an article; press Ctrl-C to stop.");
    println!(
        "A second mirror, the first one's alternate, runs at http://{second_addr}/: type a \
         and Enter to stop the first (b for the second), and the browser moves to the other."
    );
    if let Some(a) = admin_addr {
        println!("Metrics: http://{a}/metrics");
    }
    if let Some(why) = admin_refused {
        // Another demo (or something else) has the admin port: say so
        // rather than run without metrics silently.
        println!("No metrics: the admin port is taken ({why}); the mirror runs without it.");
    }
    let (stop_first, first_stopped) = tokio::sync::watch::channel(false);
    let (stop_second, second_stopped) = tokio::sync::watch::channel(false);
    // A thread, not the runtime's stdin: a read blocked on the terminal
    // must not hold up the process's exit on Ctrl-C.
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            match line.trim() {
                "a" => {
                    println!("stopping the first mirror (http://{addr}/)");
                    let _ = stop_first.send(true);
                }
                "b" => {
                    println!("stopping the second mirror (http://{second_addr}/)");
                    let _ = stop_second.send(true);
                }
                _ => {}
            }
        }
        // No terminal (or it closed): the mirrors run until Ctrl-C. The
        // senders must outlive them ("stopped" is never signalled).
        std::mem::forget((stop_first, stop_second));
    });
    let until = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        tokio::select! {
            _ = server::shutdown_signal() => {}
            _ = stopped.wait_for(|s| *s) => {}
        }
    };
    let (first, second) = tokio::join!(
        server::run(app, listener, admin, until(first_stopped)),
        server::run(second_app, second, None, until(second_stopped)),
    );
    first?;
    second?;
    Ok(())
}

fn origin(addr: SocketAddr) -> Result<Url, DemoError> {
    Url::parse(&format!("http://{addr}"))
        .map_err(|e| DemoError::Io(std::io::Error::other(format!("demo mirror origin: {e}"))))
}
