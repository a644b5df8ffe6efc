//! `newsmirror healthcheck [--url URL]`: one GET, exit 0 on a 2xx answer.
//!
//! For container images without curl (distroless): Docker's `HEALTHCHECK`
//! runs the binary itself. The default URL is `/_/healthz` on the port of
//! `NEWSMIRROR_LISTEN` (or 8080) on 127.0.0.1. `https://` URLs verify the
//! certificate against the web PKI roots, unless `--insecure` (like
//! `curl -k`, and like Kubernetes' HTTPS probes, for a certificate made for
//! a public name while the check connects to 127.0.0.1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, StatusCode, header};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use url::Url;

/// Why the check failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("{0:?} is not an http(s) URL with a host")]
    BadUrl(String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("answered {0}")]
    Status(StatusCode),
}

/// The URL checked when none is given: `/_/healthz` on 127.0.0.1 and the
/// port of `listen` (`NEWSMIRROR_LISTEN`), 8080 without one.
pub fn default_url(listen: Option<SocketAddr>) -> String {
    let port = listen.map_or(8080, |a| a.port());
    format!("http://127.0.0.1:{port}/_/healthz")
}

/// GETs `url`; `Ok` with the status when it is 2xx.
pub async fn check(
    url: &str,
    timeout: Duration,
    insecure: bool,
) -> Result<StatusCode, HealthError> {
    match tokio::time::timeout(timeout, get(url, insecure)).await {
        Ok(r) => r,
        Err(_) => Err(HealthError::Timeout(timeout)),
    }
}

async fn get(url: &str, insecure: bool) -> Result<StatusCode, HealthError> {
    let bad = || HealthError::BadUrl(url.to_owned());
    let parsed = Url::parse(url).map_err(|_| bad())?;
    let https = match parsed.scheme() {
        "http" => false,
        "https" => true,
        _ => return Err(bad()),
    };
    let host = parsed.host_str().ok_or_else(bad)?.to_owned();
    let port = parsed.port_or_known_default().ok_or_else(bad)?;
    let connect_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tcp = TcpStream::connect((connect_host.as_str(), port))
        .await
        .map_err(|e| HealthError::Connect(format!("{host}:{port}"), e))?;
    let path = &parsed[url::Position::BeforePath..url::Position::AfterQuery];
    let authority = &parsed[url::Position::BeforeHost..url::Position::AfterPort];
    if !https {
        return exchange(tcp, authority, path).await;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| HealthError::Tls(e.to_string()))?;
    let config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    let name = ServerName::try_from(connect_host).map_err(|_| bad())?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| HealthError::Tls(e.to_string()))?;
    exchange(tls, authority, path).await
}

async fn exchange<S>(io: S, authority: &str, path: &str) -> Result<StatusCode, HealthError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(conn);
    let request = Request::get(path)
        .header(header::HOST, authority)
        .header(header::USER_AGENT, "newsmirror-healthcheck")
        .body(Empty::<Bytes>::new())
        .map_err(|_| HealthError::BadUrl(path.to_owned()))?;
    let status = sender.send_request(request).await?.status();
    if status.is_success() {
        Ok(status)
    } else {
        Err(HealthError::Status(status))
    }
}

/// `--insecure`: any certificate; signatures are still checked, so the
/// peer holds the key of the certificate it sent.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
