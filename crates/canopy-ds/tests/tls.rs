//! HTTPS with rustls: a self-signed certificate made here (rcgen), a client that trusts it,
//! and the refusals: a client that does not trust it, plain HTTP to the TLS port, PEM files
//! that do not hold a matching certificate and key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};

use canopy_ds::TlsFiles;
use common::{Device, Server, TestTls, agent_trusting};

/// A self-signed certificate for `localhost` and 127.0.0.1, and its key (PEM and DER).
fn self_signed() -> (String, String, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

fn tls_server() -> (Server, Vec<u8>, tempfile::TempDir) {
    let (cert_pem, key_pem, der) = self_signed();
    let dir = tempfile::tempdir().unwrap();
    let files = TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, cert_pem).unwrap();
    std::fs::write(&files.key, key_pem).unwrap();
    let config = files.server_config().unwrap();
    let server = Server::with_tls(TestTls {
        config,
        trusted: der.clone(),
    });
    (server, der, dir)
}

#[test]
fn signed_requests_work_over_https_with_a_self_signed_certificate() {
    let (server, _, _dir) = tls_server();
    assert!(server.base.starts_with("https://localhost:"));
    let alice = Device::new("alice/laptop");
    assert_eq!(alice.register(&server).status, 200);
    let kp = alice.key_package().key_package.to_message_bytes().unwrap();
    assert_eq!(
        alice.call(&server, "POST", "/v1/key-packages", &kp).status,
        200
    );
    let count = alice.call(&server, "GET", "/v1/key-packages/count", b"");
    assert_eq!(
        count.status,
        200,
        "{}",
        String::from_utf8_lossy(&count.body)
    );
    let doc = server
        .agent
        .get(format!("{}/v1/openapi.json", server.base))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(doc.contains("\"openapi\""));
}

#[test]
fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let (server, _, _dir) = tls_server();
    // Mozilla's roots do not include a certificate made a moment ago.
    let err = agent_trusting(None)
        .get(format!("{}/v1/openapi.json", server.base))
        .call()
        .unwrap_err();
    assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");
    // Nor does a client that trusts another self-signed certificate (of the same name:
    // its signature does not verify).
    let (_, _, other) = self_signed();
    let err = agent_trusting(Some(&other))
        .get(format!("{}/v1/openapi.json", server.base))
        .call()
        .unwrap_err();
    assert!(format!("{err:?}").contains("InvalidCertificate"), "{err:?}");
}

#[test]
fn plain_http_to_the_tls_port_gets_no_http_answer() {
    let (server, _, _dir) = tls_server();
    let port = server.base.rsplit(':').next().unwrap();
    let mut tcp = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    tcp.write_all(b"GET /v1/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(!String::from_utf8_lossy(&answer).contains("openapi"));
}

#[test]
fn files_without_a_matching_certificate_and_key_are_refused() {
    let (cert_a, _, _) = self_signed();
    let (_, key_b, _) = self_signed();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let mismatched = TlsFiles {
        cert: write("a.pem", &cert_a),
        key: write("b.key", &key_b),
    };
    assert!(mismatched.server_config().is_err());
    let no_cert = TlsFiles {
        cert: write("empty.pem", ""),
        key: write("b2.key", &key_b),
    };
    let err = no_cert.server_config().unwrap_err();
    assert!(err.to_string().contains("no certificate"), "{err}");
    let missing = TlsFiles {
        cert: dir.path().join("absent.pem"),
        key: dir.path().join("absent.key"),
    };
    assert!(missing.server_config().is_err());
}
