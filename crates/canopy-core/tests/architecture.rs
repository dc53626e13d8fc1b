//! The dependency rules of STYLE.md B.3, checked against `cargo metadata`: the protocol core
//! stays sans-IO and backend-free, and the provider-trait crate stays tiny.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Normal (non-dev, non-build) dependency edges of every package in the resolved graph.
fn normal_graph() -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, String>) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut graph = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap().to_owned();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap().to_owned())
            .collect();
        graph.insert(id, deps);
    }
    (graph, names)
}

fn reachable(name: &str) -> BTreeSet<String> {
    let (graph, names) = normal_graph();
    let start = names
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(id, _)| id.clone())
        .expect("package exists");
    let mut seen = BTreeSet::new();
    let mut stack = vec![start];
    while let Some(id) = stack.pop() {
        for dep in graph.get(&id).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen.iter().map(|id| names[id].clone()).collect()
}

#[test]
fn the_graph_walk_sees_real_edges() {
    let cli = reachable("canopy-cli");
    for expected in [
        "canopy-core",
        "canopy-crypto-rustcrypto",
        "tls_codec",
        "p256",
    ] {
        assert!(
            cli.contains(expected),
            "canopy-cli should reach {expected}: {cli:?}"
        );
    }
}

#[test]
fn core_stays_sans_io_and_backend_free() {
    let deps = reachable("canopy-core");
    for banned in [
        "tokio",
        "rusqlite",
        "axum",
        "ureq",
        "canopy-crypto-rustcrypto",
        "getrandom",
        "rand",
    ] {
        assert!(
            !deps.contains(banned),
            "canopy-core must not depend on {banned}: {deps:?}"
        );
    }
}

#[test]
fn provider_traits_crate_is_tiny() {
    let direct: BTreeSet<String> = {
        let (graph, names) = normal_graph();
        let id = names
            .iter()
            .find(|(_, n)| *n == "canopy-crypto")
            .map(|(id, _)| id.clone())
            .unwrap();
        graph[&id].iter().map(|d| names[d].clone()).collect()
    };
    let allowed: BTreeSet<String> = ["zeroize", "subtle", "thiserror"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert!(
        direct.is_subset(&allowed),
        "canopy-crypto depends on {direct:?}"
    );
}

#[test]
fn backend_does_not_depend_on_the_protocol_core() {
    assert!(!reachable("canopy-crypto-rustcrypto").contains("canopy-core"));
}
