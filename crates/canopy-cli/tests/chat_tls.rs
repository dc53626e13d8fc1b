//! `canopy serve --tls-cert --tls-key` with a self-signed certificate made here, and two homes
//! that talk to it over HTTPS trusting that certificate (`CANOPY_DS_CA`); a home that does
//! not trust it is refused with an error that says so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn canopy(home: &Path, ca: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_canopy"));
    cmd.arg("--home").arg(home).args(args);
    cmd.env_remove("CANOPY_DS_CA");
    if let Some(ca) = ca {
        cmd.env("CANOPY_DS_CA", ca);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn two_homes_chat_over_https_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_file, key_file) = (dir.path().join("ds.pem"), dir.path().join("ds.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("ds.db"))
        .arg("--tls-cert")
        .arg(&cert_file)
        .arg("--tls-key")
        .arg(&key_file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Server(child);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no https address in {line:?}"))
        .to_owned();

    let (alice, bob, eve) = (
        dir.path().join("alice"),
        dir.path().join("bob"),
        dir.path().join("eve"),
    );
    let ca = Some(cert_file.as_path());
    for (home, user) in [(&alice, "alice"), (&bob, "bob"), (&eve, "eve")] {
        ok(&canopy(
            home,
            ca,
            &["init", "--user", user, "--server", &url],
        ));
    }
    ok(&canopy(&alice, ca, &["register", "--key-packages", "2"]));
    ok(&canopy(&bob, ca, &["register", "--key-packages", "2"]));
    ok(&canopy(&alice, ca, &["create", "tls"]));
    ok(&canopy(&alice, ca, &["invite", "tls", "bob"]));
    ok(&canopy(&alice, ca, &["send", "tls", "over https"]));
    let read = ok(&canopy(&bob, ca, &["read"]));
    assert!(read.contains("over https"), "{read}");

    // Without the certificate to trust, the client refuses the server.
    let refused = canopy(&eve, None, &["register", "--key-packages", "1"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("not trusted") && err.contains("CANOPY_DS_CA"),
        "{err}"
    );
}
