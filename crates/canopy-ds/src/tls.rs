//! TLS for the Delivery Service: rustls with the ring provider, from a PEM certificate chain
//! and private key. Without them the server speaks plain HTTP (meant for loopback).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate chain (leaf first) and its private key, PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

fn invalid(path: &Path, what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{} ({what}): {e}", path.display()),
    )
}

impl TlsFiles {
    /// The server configuration: TLS 1.2 and 1.3 with rustls's safe defaults, HTTP/1.1.
    ///
    /// # Errors
    /// A file does not read, holds no certificate or key, or the key does not match.
    pub fn server_config(&self) -> io::Result<Arc<ServerConfig>> {
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| invalid(&self.cert, "certificate", e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(&self.cert, "certificate", e))?;
        if certs.is_empty() {
            return Err(invalid(&self.cert, "certificate", "no certificate in it"));
        }
        let key =
            PrivateKeyDer::from_pem_file(&self.key).map_err(|e| invalid(&self.key, "key", e))?;
        server_config(certs, key)
    }
}

/// The server configuration for `certs` (leaf first) and `key`.
///
/// # Errors
/// The key does not match the certificate, or rustls refuses them.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
