//! A blocking client of the Delivery Service: every request signed by this device
//! ([`canopy_ds_api::auth`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use canopy_crypto::{CipherSuite, CryptoProvider, Signer};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_ds_api::auth::{self, RequestSignature};
use canopy_ds_api::error::Conflict;
use canopy_ds_api::{Delivery, ErrorBody, ErrorCode, hex};

/// A refusal of the Delivery Service, with its code.
#[derive(Debug, thiserror::Error)]
#[error("the delivery service refused ({code}): {message}", code = .code.as_str())]
pub struct Refused {
    /// The stable code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// Where the group is, for epoch conflicts.
    pub conflict: Option<Conflict>,
}

/// The client.
pub struct DsClient {
    base: String,
    device: String,
    suite: CipherSuite,
    signer: Arc<dyn Signer>,
    crypto: Arc<RustCryptoProvider>,
    agent: ureq::Agent,
}

/// A successful answer.
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// The environment variable naming a PEM file of the certificates HTTPS trusts.
pub const CA_VAR: &str = "CANOPY_DS_CA";

/// The certificates of the PEM file at `path`, as the only roots HTTPS trusts.
fn trust_anchors(path: &std::path::Path) -> anyhow::Result<ureq::tls::RootCerts> {
    let pem =
        std::fs::read(path).with_context(|| format!("{CA_VAR}: reading {}", path.display()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let ureq::tls::PemItem::Certificate(c) =
            item.with_context(|| format!("{CA_VAR}: {} is not PEM", path.display()))?
        {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        anyhow::bail!("{CA_VAR}: {} holds no certificate", path.display());
    }
    Ok(ureq::tls::RootCerts::Specific(Arc::new(certs)))
}

impl DsClient {
    /// A client of the DS at `base` (`http://host:port` or `https://host:port`) for `device`.
    /// HTTPS trusts the Mozilla roots, or only the certificates of the PEM file named by
    /// `CANOPY_DS_CA` (a private DS's own certificate or CA).
    ///
    /// # Errors
    /// `CANOPY_DS_CA` names a file that does not read or holds no certificate.
    pub fn new(
        base: &str,
        device: &str,
        suite: CipherSuite,
        signer: Arc<dyn Signer>,
        crypto: Arc<RustCryptoProvider>,
    ) -> anyhow::Result<Self> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)));
        if let Some(ca) = std::env::var_os(CA_VAR) {
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(trust_anchors(std::path::Path::new(&ca))?)
                    .build(),
            );
        }
        let agent = config.build().into();
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            device: device.to_owned(),
            suite,
            signer,
            crypto,
            agent,
        })
    }

    /// The server's address.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Signs `content` with this device's key.
    pub fn sign(&self, content: &[u8]) -> anyhow::Result<Vec<u8>> {
        let ops = self.crypto.suite(self.suite)?;
        Ok(self.signer.sign(ops, content)?)
    }

    /// Sends a signed request; a refusal is a [`Refused`] error.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Answer> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut nonce = [0u8; auth::NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| anyhow!("random nonce: {e}"))?;
        let nonce = hex::encode(&nonce);
        let content = RequestSignature {
            method,
            path_and_query: path,
            device: &self.device,
            timestamp,
            nonce: &nonce,
            body,
        }
        .signed_content();
        let signature = hex::encode(&self.sign(&content)?);
        let url = format!("{}{path}", self.base);
        let headers = [
            (auth::DEVICE, self.device.as_str()),
            (auth::TIMESTAMP, &timestamp.to_string()),
            (auth::NONCE, nonce.as_str()),
            (auth::SIGNATURE, signature.as_str()),
        ]
        .map(|(k, v)| (k, v.to_owned()));
        let response = if method == "GET" {
            let mut r = self.agent.get(&url);
            for (k, v) in headers
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .chain(extra.iter().copied())
            {
                r = r.header(k, v);
            }
            r.call()
        } else {
            let mut r = self.agent.post(&url);
            for (k, v) in headers
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .chain(extra.iter().copied())
            {
                r = r.header(k, v);
            }
            r.send(body)
        };
        let mut response = response.map_err(|e| {
            let text = format!("{e:?}");
            let hint = if text.contains("Certificate") || text.contains("certificate") {
                format!(
                    "its TLS certificate is not trusted ({text}); for a server with its own \
                     certificate, set {CA_VAR} to a PEM file of it"
                )
            } else {
                format!("{e}; is `canopy serve` running?")
            };
            anyhow!("cannot reach the delivery service at {}: {hint}", self.base)
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .context("reading the delivery service's answer")?;
        if status >= 400 {
            let err: ErrorBody = serde_json::from_slice(&body)
                .map_err(|_| anyhow!("the delivery service answered {status}"))?;
            return Err(Refused {
                code: err.code,
                message: err.message,
                conflict: err.conflict,
            }
            .into());
        }
        Ok(Answer { status, body })
    }

    /// A JSON request and answer.
    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> anyhow::Result<T> {
        let body = serde_json::to_vec(body)?;
        let answer = self.call(method, path, &body, &[])?;
        Ok(serde_json::from_slice(&answer.body)?)
    }

    /// The device's deliveries, waiting up to `wait` seconds for one; first acknowledges
    /// `ack` (an `AckRequest`, JSON) if given, in the same request.
    pub fn inbox(&self, wait: u64, max: u32, ack: Option<&[u8]>) -> anyhow::Result<Vec<Delivery>> {
        let path = format!("/v1/inbox?wait={wait}&max={max}");
        let answer = match ack {
            Some(body) => self.call("POST", &path, body, &[])?,
            None => self.call("GET", &path, b"", &[])?,
        };
        Delivery::decode_all(&answer.body).map_err(|e| anyhow!("a malformed delivery batch: {e:?}"))
    }
}

/// The refusal behind `e`, if it is one.
pub fn refusal(e: &anyhow::Error) -> Option<&Refused> {
    e.downcast_ref::<Refused>()
}
