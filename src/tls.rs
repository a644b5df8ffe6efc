//! Serving HTTPS directly (`[tls]`): rustls with the ring provider (as the
//! upstream client), HTTP/2 and HTTP/1.1 offered by ALPN, and the
//! certificate reloaded on SIGHUP without dropping a connection.
//!
//! The certificate lives in a [`CertResolver`] that rustls asks on every
//! handshake; [`Tls::reload`] reads the PEM files again and swaps the
//! certified key behind a lock. Established connections keep the session
//! they negotiated; new handshakes get the new certificate. A reload that
//! fails (missing file, bad PEM, key not matching the certificate) keeps the
//! old certificate and says why.
//!
//! The accept loop stays `server::serve`'s: with `ServeOptions::tls` set it
//! hands each accepted socket to [`spawn_connection`], which does the
//! handshake (bounded by `header_read_timeout`) inside the connection's own
//! task and then serves it like any other.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::TcpStream;

use crate::config::TlsConfig;

/// ALPN protocols offered, in order of preference.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.cert: cannot read certificates from {path}: {reason}")]
    Cert { path: PathBuf, reason: String },
    #[error("tls.cert: {0} holds no certificate")]
    NoCert(PathBuf),
    #[error("tls.key: cannot read a private key from {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("tls: the key in {key} does not belong to the certificate in {cert}: {reason}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("tls: {0}")]
    Config(#[from] rustls::Error),
}

/// The served certificate, replaced by [`Tls::reload`].
pub struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertResolver").finish_non_exhaustive()
    }
}

impl CertResolver {
    fn get(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, key: Arc<CertifiedKey>) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = key;
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// A loaded `[tls]`: the acceptor and the means to reload its certificate.
#[derive(Clone)]
pub struct Tls {
    paths: TlsConfig,
    provider: Arc<CryptoProvider>,
    resolver: Arc<CertResolver>,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("cert", &self.paths.cert)
            .field("key", &self.paths.key)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads the certificate chain and key named by `[tls]`.
    pub fn load(paths: &TlsConfig) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = load_certified_key(&paths.cert, &paths.key, &provider)?;
        let resolver = Arc::new(CertResolver {
            current: RwLock::new(Arc::new(key)),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(Tls {
            paths: paths.clone(),
            provider,
            resolver,
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Reads the files again and serves the new certificate to new
    /// handshakes. On error the current certificate stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = load_certified_key(&self.paths.cert, &self.paths.key, &self.provider)?;
        self.resolver.set(Arc::new(key));
        Ok(())
    }

    /// The end-entity certificate served now.
    pub fn certificate(&self) -> Option<CertificateDer<'static>> {
        self.resolver.get().cert.first().cloned()
    }

    pub fn acceptor(&self) -> &tokio_rustls::TlsAcceptor {
        &self.acceptor
    }
}

fn load_certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Cert {
            path: cert.to_owned(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCert(cert.to_owned()));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.to_owned(),
        reason: e.to_string(),
    })?;
    let certified =
        CertifiedKey::from_der(chain, private, provider).map_err(|e| TlsError::Mismatch {
            cert: cert.to_owned(),
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(certified)
}

/// Handles SIGHUP for as long as the process runs: reloads the certificate
/// when there is one, and in any case keeps the signal from ending the
/// process (its default action), so `systemctl reload` is always safe.
pub fn reload_on_sighup(tls: Option<Tls>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered before this returns: a SIGHUP right after start is
        // handled, not fatal.
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; certificate reload is off");
                return;
            }
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match &tls {
                    None => tracing::info!("SIGHUP: nothing to reload (no [tls])"),
                    Some(tls) => match tls.reload() {
                        Ok(()) => {
                            tracing::info!(cert = %tls.paths.cert.display(), "TLS certificate reloaded")
                        }
                        Err(e) => tracing::error!(
                            error = %e,
                            "TLS certificate reload failed; the previous certificate stays"
                        ),
                    },
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = tls;
}

/// The TLS handshake of one accepted socket, within `timeout` (a client
/// that never finishes it would hold its connection slot); `None` when it
/// fails or times out (logged at debug: scanners do this all day).
pub async fn handshake(
    tls: &Tls,
    stream: TcpStream,
    peer: SocketAddr,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(timeout, tls.acceptor().accept(stream)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}
