//! The dependency rules of STYLE.md B.3, checked on `cargo metadata` so that a forbidden edge
//! fails `cargo test` without extra tools. Rules for crates that do not exist yet apply once
//! they do.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

struct Metadata {
    /// Workspace package name -> its declared dependencies (name, kind: "normal", "dev",
    /// "build").
    declared: BTreeMap<String, Vec<(String, String)>>,
    /// Package id -> (name, normal and build dependency ids), from the resolved graph with
    /// all features on.
    graph: BTreeMap<String, (String, Vec<String>)>,
    /// Workspace package name -> package id.
    ids: BTreeMap<String, String>,
    /// Workspace package name -> its `publish` list (`Some(vec![])` for `publish = false`).
    publish: BTreeMap<String, Option<Vec<Value>>>,
}

fn metadata() -> Metadata {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--all-features",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let members: BTreeSet<&str> = json["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let mut declared = BTreeMap::new();
    let mut ids = BTreeMap::new();
    let mut publish = BTreeMap::new();
    for p in json["packages"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        if !members.contains(id) {
            continue;
        }
        let name = p["name"].as_str().unwrap().to_string();
        let deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let kind = d["kind"].as_str().unwrap_or("normal").to_string();
                (d["name"].as_str().unwrap().to_string(), kind)
            })
            .collect();
        declared.insert(name.clone(), deps);
        ids.insert(name.clone(), id.to_string());
        publish.insert(name, p["publish"].as_array().cloned());
    }
    let names: BTreeMap<&str, &str> = json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut graph = BTreeMap::new();
    for node in json["resolve"]["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].as_str() != Some("dev"))
            })
            .map(|d| d["pkg"].as_str().unwrap().to_string())
            .collect();
        graph.insert(id.to_string(), (names[id].to_string(), deps));
    }
    Metadata {
        declared,
        graph,
        ids,
        publish,
    }
}

impl Metadata {
    /// The names of `package`'s declared normal and build dependencies.
    fn direct(&self, package: &str) -> Option<BTreeSet<&str>> {
        self.declared.get(package).map(|deps| {
            deps.iter()
                .filter(|(_, kind)| kind != "dev")
                .map(|(name, _)| name.as_str())
                .collect()
        })
    }

    /// The names of every crate `package` links in a normal build (all features on).
    fn closure(&self, package: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut stack = vec![self.ids[package].clone()];
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let (name, deps) = &self.graph[&id];
            names.insert(name.clone());
            stack.extend(deps.iter().cloned());
        }
        names.remove(package);
        names
    }
}

/// `package`'s direct normal dependencies are all in `allowed`.
fn only(m: &Metadata, package: &str, allowed: &[&str]) {
    let Some(direct) = m.direct(package) else {
        return;
    };
    let extra: Vec<&&str> = direct.iter().filter(|d| !allowed.contains(d)).collect();
    assert!(
        extra.is_empty(),
        "STYLE.md B.3: {package} must not depend on {extra:?}"
    );
}

/// No crate of `forbidden` (or whose name starts with one ending in `*`) is linked into
/// `package`.
fn never_links(m: &Metadata, package: &str, forbidden: &[&str]) {
    if !m.ids.contains_key(package) {
        return;
    }
    let linked = m.closure(package);
    for name in &linked {
        let hit = forbidden.iter().any(|f| match f.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == f,
        });
        assert!(!hit, "STYLE.md B.3: {package} links {name}");
    }
}

/// Backends, async runtimes, storage, HTTP, and OS randomness.
const NOT_IN_CORE: &[&str] = &[
    "canopy-crypto-rustcrypto",
    "canopy-store",
    "canopy-client",
    "canopy-ds",
    "canopy-ds-api",
    "canopy-cli",
    "canopy-testkit",
    "tokio*",
    "async-std",
    "futures*",
    "rusqlite",
    "libsqlite3-sys",
    "sqlx*",
    "hyper*",
    "http",
    "reqwest",
    "ureq",
    "axum*",
    "getrandom",
    "rand",
    "rand_core",
    "sha2",
    "hmac",
    "hkdf",
    "aes-gcm",
    "chacha20poly1305",
    "p256",
    "p384",
    "p521",
    "ed25519-dalek",
    "x25519-dalek",
    "ed448-goldilocks",
    "x448",
    "hpke",
    "openmls*",
    "mls-rs*",
];

#[test]
fn canopy_crypto_depends_only_on_zeroize_subtle_and_thiserror() {
    let m = metadata();
    assert!(m.declared.contains_key("canopy-crypto"));
    only(&m, "canopy-crypto", &["zeroize", "subtle", "thiserror"]);
}

#[test]
fn canopy_core_depends_on_no_backend_runtime_storage_or_http_crate() {
    let m = metadata();
    assert!(m.declared.contains_key("canopy-core"));
    // `rayon` serves the optional `parallel` feature (threads, no I/O).
    only(
        &m,
        "canopy-core",
        &[
            "canopy-crypto",
            "tls_codec",
            "thiserror",
            "zeroize",
            "subtle",
            "tracing",
            "rayon",
        ],
    );
    never_links(&m, "canopy-core", NOT_IN_CORE);
    never_links(&m, "canopy-crypto", NOT_IN_CORE);
}

#[test]
fn the_backend_does_not_depend_on_the_protocol_library() {
    let m = metadata();
    never_links(
        &m,
        "canopy-crypto-rustcrypto",
        &[
            "canopy-core",
            "canopy-testkit",
            "canopy-store",
            "canopy-cli",
        ],
    );
}

#[test]
fn x509_credentials_parse_with_x509_cert_and_verify_through_the_provider_traits() {
    let m = metadata();
    assert!(m.declared.contains_key("canopy-x509"));
    only(
        &m,
        "canopy-x509",
        &["canopy-core", "canopy-crypto", "thiserror", "x509-cert"],
    );
    never_links(&m, "canopy-x509", NOT_IN_CORE);
}

#[test]
fn store_and_ds_api_keep_to_their_dependencies() {
    let m = metadata();
    never_links(
        &m,
        "canopy-store",
        &["tokio*", "axum*", "hyper*", "reqwest", "ureq"],
    );
    only(&m, "canopy-ds-api", &["serde"]);
}

/// The client layer composes core, crypto, the default backend and the store, and nothing
/// that does I/O on its own (no async runtime, no HTTP): applications bring the transport.
#[test]
fn the_client_depends_on_core_crypto_backend_and_store_only() {
    let m = metadata();
    assert!(m.declared.contains_key("canopy-client"));
    only(
        &m,
        "canopy-client",
        &[
            "canopy-core",
            "canopy-crypto",
            "canopy-crypto-rustcrypto",
            "canopy-store",
            "thiserror",
        ],
    );
    never_links(
        &m,
        "canopy-client",
        // (Not `futures*`: the metadata graph covers every target, and getrandom's wasm
        // backend reaches futures-util through js-sys.)
        &[
            "tokio*",
            "async-std",
            "axum*",
            "hyper*",
            "http",
            "reqwest",
            "ureq",
            "tonic*",
            "openmls*",
            "mls-rs*",
            "canopy-testkit",
            "canopy-cli",
            "canopy-interop*",
        ],
    );
    let client = m.closure("canopy-client");
    assert!(client.contains("canopy-store") && client.contains("canopy-core"));
    // Core stays below the client.
    assert!(!m.closure("canopy-core").contains("canopy-client"));
    assert!(!m.closure("canopy-store").contains("canopy-client"));
}

/// STYLE.md B.1/B.3: `canopy-store` is the only crate that links SQLite directly; its own
/// dependencies are the protocol library, the AEAD that seals values at rest and OS
/// randomness for the nonces.
#[test]
fn only_the_store_links_sqlite() {
    let m = metadata();
    assert!(m.declared.contains_key("canopy-store"));
    only(
        &m,
        "canopy-store",
        &[
            "canopy-core",
            "canopy-crypto",
            "rusqlite",
            "thiserror",
            "zeroize",
            "chacha20poly1305",
            "getrandom",
        ],
    );
    assert!(m.closure("canopy-store").contains("libsqlite3-sys"));
    for package in m.declared.keys() {
        if package == "canopy-store" {
            continue;
        }
        let direct = m.direct(package).unwrap_or_default();
        for sqlite in ["rusqlite", "libsqlite3-sys", "sqlx"] {
            assert!(
                !direct.contains(sqlite),
                "STYLE.md B.1: {package} depends on {sqlite} directly; only canopy-store may"
            );
        }
    }
}

/// COMMON rules: other MLS implementations are dependencies of test crates only; the interop
/// client and the CLI that serves it link none of them (nor the test crates).
#[test]
fn the_interop_server_and_the_cli_link_no_other_mls_implementation() {
    let m = metadata();
    assert!(m.declared.contains_key("canopy-interop-server"));
    let forbidden = ["openmls*", "mls-rs*", "canopy-interop", "canopy-testkit"];
    never_links(&m, "canopy-interop-server", &forbidden);
    never_links(&m, "canopy-cli", &forbidden);
    assert!(m.closure("canopy-cli").contains("canopy-interop-server"));
}

#[test]
fn nothing_depends_on_the_testkit_except_as_a_dev_dependency() {
    let m = metadata();
    assert!(
        m.publish.get("canopy-testkit") == Some(&Some(Vec::new())),
        "canopy-testkit must be publish = false"
    );
    for (package, deps) in &m.declared {
        for (name, kind) in deps {
            assert!(
                !(name == "canopy-testkit" && kind != "dev"),
                "STYLE.md B.3: {package} has canopy-testkit as a {kind} dependency"
            );
        }
        if package != "canopy-testkit" {
            assert!(
                !m.closure(package).contains("canopy-testkit"),
                "{package} links canopy-testkit"
            );
        }
    }
}

/// The checks can fail: the closure of the testkit itself contains what core must not link.
#[test]
fn the_checks_see_forbidden_edges() {
    let m = metadata();
    let testkit = m.closure("canopy-testkit");
    assert!(testkit.contains("canopy-crypto-rustcrypto"));
    assert!(testkit.contains("canopy-core"));
    assert!(m.closure("canopy-core").contains("canopy-crypto"));
}
