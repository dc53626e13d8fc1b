//! A Delivery Service on loopback and devices that sign their requests, for the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code,
    unreachable_pub
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use canopy_core::advanced::codec::VarBytes;
use canopy_core::key_package::{
    KeyPackageBundle, KeyPackageParams, LeafNodeParams, create_key_package,
};
use canopy_core::wire::{Credential, Lifetime};
use canopy_crypto::{CipherSuite, CryptoProvider, SignatureKeyPair};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_ds::{AppState, Limits, Service};
use canopy_ds_api::auth::{self, RequestSignature};
use canopy_ds_api::{ErrorBody, ErrorCode, hex};
use canopy_store::ds::{DsStore, SqliteDs};

pub const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
pub const NOW: u64 = 1_800_000_000;

/// A server on 127.0.0.1 with its own runtime and a settable clock.
pub struct Server {
    pub base: String,
    pub clock: Arc<AtomicU64>,
    /// The service (for its counters).
    #[allow(dead_code)]
    pub service: Arc<Service>,
    /// The HTTP client of the tests (trusting the server's certificate if it has one).
    pub agent: ureq::Agent,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A server's TLS: its configuration, and the certificate its clients trust.
pub struct TestTls {
    pub config: Arc<rustls::ServerConfig>,
    pub trusted: Vec<u8>,
}

/// The PostgreSQL server of this run, if the suite runs against PostgreSQL
/// (`CANOPY_DS_BACKEND=postgres` with `CANOPY_TEST_POSTGRES`, as `.ci/run` sets them).
pub fn postgres() -> Option<String> {
    (std::env::var("CANOPY_DS_BACKEND").ok().as_deref() == Some("postgres")).then(|| {
        std::env::var("CANOPY_TEST_POSTGRES")
            .expect("CANOPY_TEST_POSTGRES is set with CANOPY_DS_BACKEND=postgres")
    })
}

/// A fresh PostgreSQL schema name for one test's database.
pub fn fresh_schema() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut r = [0u8; 6];
    getrandom::fill(&mut r).unwrap();
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        hex::encode(&r)
    )
}

impl Server {
    /// A server on the backend of this run: SQLite in memory, or a fresh PostgreSQL schema.
    pub fn start(limits: Limits) -> Self {
        match postgres() {
            Some(url) => Self::on_postgres(&url, &fresh_schema(), limits),
            None => Self::with_store(Arc::new(SqliteDs::in_memory().unwrap()), limits),
        }
    }

    /// A server (a process of the DS) on PostgreSQL `schema`; several may share one.
    pub fn on_postgres(url: &str, schema: &str, limits: Limits) -> Self {
        let pg = Arc::new(canopy_ds::pg::PgDs::connect(url, Some(schema), 4).unwrap());
        Self::with_backend(pg.clone(), limits, Some(pg))
    }

    pub fn with_store(store: Arc<dyn DsStore>, limits: Limits) -> Self {
        Self::with_backend(store, limits, None)
    }

    /// A server on SQLite in memory speaking HTTPS with `tls`, at `https://localhost:port`.
    pub fn with_tls(tls: TestTls) -> Self {
        let store = Arc::new(SqliteDs::in_memory().unwrap());
        Self::serving(store, Limits::default(), None, Some(tls))
    }

    fn with_backend(
        store: Arc<dyn DsStore>,
        limits: Limits,
        pg: Option<Arc<canopy_ds::pg::PgDs>>,
    ) -> Self {
        Self::serving(store, limits, pg, None)
    }

    fn serving(
        store: Arc<dyn DsStore>,
        limits: Limits,
        pg: Option<Arc<canopy_ds::pg::PgDs>>,
        tls: Option<TestTls>,
    ) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let clock = Arc::new(AtomicU64::new(NOW));
        let c = Arc::clone(&clock);
        let service = Service::new(store, limits, Arc::new(move || c.load(Ordering::SeqCst)));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (base, agent) = match &tls {
            Some(t) => (
                format!("https://localhost:{port}"),
                agent_trusting(Some(&t.trusted)),
            ),
            None => (format!("http://127.0.0.1:{port}"), agent()),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(service);
        let service = Arc::clone(&state.service);
        if let Some(pg) = pg {
            pg.listen(Arc::clone(&state.live)).unwrap();
        }
        let stopped = async move {
            let _ = stopped.await;
        };
        match tls {
            Some(t) => runtime.spawn(canopy_ds::serve_tls(listener, state, t.config, stopped)),
            None => runtime.spawn(canopy_ds::serve(listener, state, stopped)),
        };
        Self {
            base,
            clock,
            service,
            agent,
            runtime: Some(runtime),
            stop: Some(stop),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}

/// An answer: status and body.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{e}: {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn code(&self) -> ErrorCode {
        assert!(
            self.status >= 400,
            "expected a refusal, got {}",
            self.status
        );
        self.json::<ErrorBody>().code
    }

    pub fn ok(self) -> Self {
        assert!(
            self.status < 300,
            "expected success, got {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        self
    }
}

fn agent() -> ureq::Agent {
    agent_trusting(None)
}

/// A client that trusts only `cert` (DER) for HTTPS, or Mozilla's roots without it.
pub fn agent_trusting(cert: Option<&[u8]>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder().http_status_as_error(false);
    if let Some(der) = cert {
        let roots = vec![ureq::tls::Certificate::from_der(der).to_owned()];
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
                .build(),
        );
    }
    config.build().into()
}

/// A device: its id and signature key.
pub struct Device {
    pub id: String,
    pub key: SignatureKeyPair,
    pub provider: RustCryptoProvider,
    nonce: AtomicU64,
}

impl Device {
    pub fn new(id: &str) -> Self {
        let provider = RustCryptoProvider::new();
        let key = provider
            .suite(SUITE)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap();
        Self {
            id: id.to_owned(),
            key,
            provider,
            nonce: AtomicU64::new(1),
        }
    }

    pub fn user(&self) -> &str {
        self.id.split_once('/').unwrap().0
    }

    pub fn sign(&self, content: &[u8]) -> Vec<u8> {
        self.provider
            .suite(SUITE)
            .unwrap()
            .sign(&self.key.private, content)
            .unwrap()
    }

    pub fn next_nonce(&self) -> String {
        let n = self.nonce.fetch_add(1, Ordering::SeqCst);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        bytes[8..].copy_from_slice(&self.key.public.as_bytes()[..8]);
        hex::encode(&bytes)
    }

    /// A request signed now (by the server's clock) with a fresh nonce.
    pub fn call(&self, server: &Server, method: &str, path: &str, body: &[u8]) -> Answer {
        let ts = server.clock.load(Ordering::SeqCst);
        self.call_with(server, method, path, body, ts, &self.next_nonce(), None)
    }

    /// A request with the given timestamp and nonce, and optionally a signature made by
    /// another key.
    #[allow(clippy::too_many_arguments)]
    pub fn call_with(
        &self,
        server: &Server,
        method: &str,
        path: &str,
        body: &[u8],
        timestamp: u64,
        nonce: &str,
        signer: Option<&Self>,
    ) -> Answer {
        let content = RequestSignature {
            method,
            path_and_query: path,
            device: &self.id,
            timestamp,
            nonce,
            body,
        }
        .signed_content();
        let signature = signer.unwrap_or(self).sign(&content);
        raw(
            server,
            method,
            path,
            body,
            &[
                (auth::DEVICE, self.id.clone()),
                (auth::TIMESTAMP, timestamp.to_string()),
                (auth::NONCE, nonce.to_owned()),
                (auth::SIGNATURE, hex::encode(&signature)),
            ],
        )
    }

    pub fn register(&self, server: &Server) -> Answer {
        let body = serde_json::json!({
            "device": self.id,
            "suite": SUITE.0,
            "signature_key": hex::encode(self.key.public.as_bytes()),
        });
        self.call(server, "POST", "/v1/users", body.to_string().as_bytes())
    }

    /// Registers this device as a further device of its user, endorsed by `by`.
    pub fn add_to_user(&self, server: &Server, by: &Self) -> Answer {
        let endorsement = by.sign(&auth::endorsement_content(
            &self.id,
            SUITE.0,
            self.key.public.as_bytes(),
        ));
        let body = serde_json::json!({
            "device": self.id,
            "suite": SUITE.0,
            "signature_key": hex::encode(self.key.public.as_bytes()),
            "endorsed_by": by.id,
            "endorsement": hex::encode(&endorsement),
        });
        self.call(
            server,
            "POST",
            &format!("/v1/users/{}/devices", self.user()),
            body.to_string().as_bytes(),
        )
    }

    pub fn leaf_params(&self) -> LeafNodeParams {
        LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(self.id.as_bytes().to_vec()),
            },
            SUITE,
        )
    }

    /// A KeyPackage of this device.
    pub fn key_package(&self) -> KeyPackageBundle {
        let params = KeyPackageParams::new(
            self.leaf_params(),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        create_key_package(&self.provider, SUITE, &params, &self.key).unwrap()
    }
}

/// A request signed by `device` now, with extra headers.
pub fn raw_signed(
    server: &Server,
    device: &Device,
    method: &str,
    path: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Answer {
    let timestamp = server.clock.load(Ordering::SeqCst);
    let nonce = device.next_nonce();
    let content = RequestSignature {
        method,
        path_and_query: path,
        device: &device.id,
        timestamp,
        nonce: &nonce,
        body,
    }
    .signed_content();
    let mut headers = vec![
        (auth::DEVICE, device.id.clone()),
        (auth::TIMESTAMP, timestamp.to_string()),
        (auth::NONCE, nonce),
        (auth::SIGNATURE, hex::encode(&device.sign(&content))),
    ];
    headers.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    raw(server, method, path, body, &headers)
}

/// A request with the given headers, unsigned unless they sign it.
pub fn raw(
    server: &Server,
    method: &str,
    path: &str,
    body: &[u8],
    headers: &[(&str, String)],
) -> Answer {
    let url = format!("{}{path}", server.base);
    let agent = server.agent.clone();
    let result = match method {
        "GET" => {
            let mut r = agent.get(&url);
            for (k, v) in headers {
                r = r.header(*k, v.as_str());
            }
            r.call()
        }
        _ => {
            let mut r = agent.post(&url);
            for (k, v) in headers {
                r = r.header(*k, v.as_str());
            }
            r.send(body)
        }
    };
    let mut resp = result.unwrap();
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap();
    Answer { status, body }
}
