//! The `newsmirror` command line (DESIGN.md, "Command line").

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use newsmirror::app::App;
use newsmirror::config::Config;
use newsmirror::server;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "newsmirror",
    version,
    about = "Streaming reverse-proxy mirror server for news sites"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text or as JSON objects.
    #[arg(long, value_enum, default_value = "text", global = true)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Html,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bundled demo news site and the mirror in front of it, offline.
    Demo {
        /// Address for the mirror (default 127.0.0.1:8080).
        #[arg(long, env = "NEWSMIRROR_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Run the mirror.
    Serve {
        #[arg(
            long,
            env = "NEWSMIRROR_CONFIG",
            default_value = "config/newsmirror.toml"
        )]
        config: PathBuf,
        /// Overrides server.listen.
        #[arg(long, env = "NEWSMIRROR_LISTEN")]
        listen: Option<SocketAddr>,
        /// Overrides server.admin_listen (metrics, readiness, purge).
        #[arg(long, env = "NEWSMIRROR_ADMIN_LISTEN")]
        admin_listen: Option<SocketAddr>,
    },
    /// GET a health URL; exit 0 on a 2xx answer (for container health checks).
    Healthcheck {
        /// Default: http://127.0.0.1:<port of NEWSMIRROR_LISTEN, or 8080>/_/healthz.
        #[arg(long)]
        url: Option<String>,
        /// Accept any certificate on https:// URLs (like curl -k).
        #[arg(long)]
        insecure: bool,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
    /// Validate a configuration file; exit 1 with the reason if it is refused.
    Check {
        #[arg(
            long,
            env = "NEWSMIRROR_CONFIG",
            default_value = "config/newsmirror.toml"
        )]
        config: PathBuf,
    },
    /// Print the cleaned-article JSON of a saved page (any charset).
    Extract {
        /// With a configuration, the page is rewritten as the mirror serves it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The site the page belongs to (default: found from --url).
        #[arg(long)]
        site: Option<String>,
        /// The page's original URL (or mirror path), for resolving links.
        #[arg(long)]
        url: Option<String>,
        /// The saved page, or - for standard input.
        file: PathBuf,
    },
    /// Write a static snapshot of a mirrored site (HTML that works from any
    /// static host, or the seed's Markdown form), fetched through the mirror.
    Export {
        #[arg(
            long,
            env = "NEWSMIRROR_CONFIG",
            default_value = "config/newsmirror.toml"
        )]
        config: PathBuf,
        /// The site's configured name.
        #[arg(long)]
        site: String,
        /// Where to start: mirror paths or original URLs (default: the
        /// site's mount and its nav items). May be given more than once.
        #[arg(long)]
        from: Vec<String>,
        /// Link levels followed from the start pages.
        #[arg(long, default_value_t = 1)]
        depth: usize,
        /// Most pages exported.
        #[arg(long, default_value_t = 100)]
        max_pages: usize,
        /// The directory written.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "html")]
        format: ExportFormat,
        /// Requests at once.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        /// Requests a second, at most.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// The live mirror, for links to pages not exported (default:
        /// server.public_url; without either, the original site).
        #[arg(long)]
        mirror_url: Option<url::Url>,
    },
    /// List the hosts a rewritten page still names that the configuration
    /// does not map, and suggest asset_hosts.
    Audit {
        #[arg(
            long,
            env = "NEWSMIRROR_CONFIG",
            default_value = "config/newsmirror.toml"
        )]
        config: PathBuf,
        /// A saved page's site (default: found from --url, or the only site).
        #[arg(long)]
        site: Option<String>,
        /// A saved page's original URL or mirror path (default: the site's upstream).
        #[arg(long)]
        url: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// An http(s) URL (original or mirror) fetched as the mirror would,
        /// or a saved page (- for standard input).
        target: String,
    },
}

/// The log filter when `RUST_LOG` is unset.
const DEFAULT_LOG_FILTER: &str = "info,html5ever=error";

fn init_logs(format: LogFormat) {
    // html5ever reports every parse error it recovers from ("foster
    // parenting not implemented", ...) as a warning through `log`: on real
    // pages that is a line per extraction, and nothing an operator can act on.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    // Colours only for a person at a terminal, never in a file or a journal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    use newsmirror::access_log::{EventFormat, Format};
    match format {
        LogFormat::Text => builder.event_format(EventFormat(Format::Text)).init(),
        LogFormat::Json => builder
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(EventFormat(Format::Json))
            .init(),
    }
    newsmirror::access_log::init(match format {
        LogFormat::Text => newsmirror::access_log::Format::Text,
        LogFormat::Json => newsmirror::access_log::Format::Json,
    });
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    let result = match cli.command {
        Command::Demo { listen } => newsmirror::cli::demo::run(listen)
            .await
            .map_err(|e| e.to_string()),
        Command::Serve {
            config,
            listen,
            admin_listen,
        } => serve(config, listen, admin_listen).await,
        Command::Healthcheck {
            url,
            insecure,
            timeout,
        } => healthcheck(url, insecure, timeout).await,
        Command::Check { config } => check(config),
        Command::Extract {
            config,
            site,
            url,
            file,
        } => extract(config, site, url, file),
        Command::Audit {
            config,
            site,
            url,
            json,
            target,
        } => audit(config, site, url, json, target).await,
        Command::Export {
            config,
            site,
            from,
            depth,
            max_pages,
            out,
            format,
            concurrency,
            rate,
            mirror_url,
        } => {
            let options = newsmirror::cli::export::Options {
                site,
                from,
                depth,
                max_pages,
                out,
                format: match format {
                    ExportFormat::Html => newsmirror::cli::export::Format::Html,
                    ExportFormat::Markdown => newsmirror::cli::export::Format::Markdown,
                },
                concurrency,
                rate,
                mirror_url,
            };
            export(config, options).await
        }
    };
    // Access lines still waiting for the writer thread.
    newsmirror::access_log::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("newsmirror: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn export(path: PathBuf, options: newsmirror::cli::export::Options) -> Result<(), String> {
    let config = Config::load(&path).map_err(|e| e.to_string())?;
    let out = options.out.clone();
    let report = newsmirror::cli::export::run(config, options)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}: {} pages; {} files written, {} unchanged",
        out.display(),
        report.pages,
        report.written,
        report.unchanged
    );
    for (path, why) in &report.failed {
        eprintln!("newsmirror export: {path}: {why}");
    }
    Ok(())
}

fn check(path: PathBuf) -> Result<(), String> {
    // Every problem, in file order, not only the first.
    let config = Config::load_all(&path).map_err(|errors| {
        errors
            .0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\nnewsmirror: ")
    })?;
    println!(
        "{}: ok ({} site{})",
        path.display(),
        config.sites.len(),
        if config.sites.len() == 1 { "" } else { "s" }
    );
    if config.mirrors.any() || config.mirrors.signing_key.is_some() {
        let mirrors = newsmirror::mirrors::Mirrors::new(&config).map_err(|e| e.to_string())?;
        println!(
            "mirror list: {} alternate{}",
            mirrors.alternates.len(),
            if mirrors.alternates.len() == 1 {
                ""
            } else {
                "s"
            }
        );
        if let Some(key) = &mirrors.public_key {
            // What readers and apps verify /_/mirrors.json with: publish it.
            println!("mirror list public key (Ed25519, base64): {key}");
        }
    }
    Ok(())
}

async fn healthcheck(url: Option<String>, insecure: bool, timeout: u64) -> Result<(), String> {
    use newsmirror::cli::healthcheck;
    let url = url.unwrap_or_else(|| {
        let listen = std::env::var("NEWSMIRROR_LISTEN")
            .ok()
            .and_then(|l| l.parse().ok());
        healthcheck::default_url(listen)
    });
    let status = healthcheck::check(&url, std::time::Duration::from_secs(timeout), insecure)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    println!("{url}: {status}");
    Ok(())
}

async fn serve(
    path: PathBuf,
    listen: Option<SocketAddr>,
    admin_listen: Option<SocketAddr>,
) -> Result<(), String> {
    let mut config = Config::load(&path).map_err(|e| e.to_string())?;
    if let Some(addr) = listen {
        config.server.listen = addr;
    }
    if let Some(addr) = admin_listen {
        config.server.admin_listen = Some(addr);
    }
    if config.server.admin_listen == Some(config.server.listen) {
        return Err("server.admin_listen must differ from server.listen".into());
    }
    let tls = match &config.tls {
        Some(paths) => Some(newsmirror::tls::Tls::load(paths).map_err(|e| e.to_string())?),
        None => None,
    };
    newsmirror::tls::reload_on_sighup(tls.clone());
    let addr = config.server.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let admin =
        match config.server.admin_listen {
            Some(admin_addr) => Some(TcpListener::bind(admin_addr).await.map_err(|e| {
                format!("cannot listen on {admin_addr} (server.admin_listen): {e}")
            })?),
            None => None,
        };
    let app = App::new(config).map_err(|e| e.to_string())?;
    tracing::info!(%addr, admin = ?app.config.server.admin_listen, tls = tls.is_some(), sites = app.sites.len(), "newsmirror listening");
    server::run_with_tls(app, listener, admin, tls, server::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn audit(
    config: PathBuf,
    site: Option<String>,
    url: Option<String>,
    json: bool,
    target: String,
) -> Result<(), String> {
    use newsmirror::cli::audit;
    let app =
        App::new(Config::load(&config).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let lower = target.to_ascii_lowercase();
    let report = if lower.starts_with("http://") || lower.starts_with("https://") {
        if url.is_some() || site.is_some() {
            return Err("--url and --site are for saved pages; the URL says both".into());
        }
        audit::audit_url(&app, &target).await
    } else {
        let bytes = read_input(&PathBuf::from(&target))?;
        audit::audit_saved_page(&app, site.as_deref(), url.as_deref(), &bytes)
    }
    .map_err(|e| e.to_string())?;
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", audit::render_text(&report));
    }
    Ok(())
}

/// The bytes of `file`, or of standard input for `-`.
fn read_input(file: &PathBuf) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("reading standard input: {e}"))?;
        Ok(bytes)
    } else {
        std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    }
}

fn extract(
    config: Option<PathBuf>,
    site: Option<String>,
    url: Option<String>,
    file: PathBuf,
) -> Result<(), String> {
    let bytes = read_input(&file)?;
    let app = match config {
        Some(path) => Some(
            App::new(Config::load(&path).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let article = newsmirror::cli::extract::extract_saved_page(
        app.as_deref(),
        site.as_deref(),
        url.as_deref(),
        &bytes,
    )
    .map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&article).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
