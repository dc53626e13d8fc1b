//! Feeds hostile inputs to the decoders and to `Group::join_external`, for measuring time and
//! peak memory (run under `/usr/bin/time -v`):
//!
//! ```text
//! cargo run --release -p canopy-core --example hostile_input -- tree|from-wire|join-external [MiB, default 4]
//! ```
//!
//! - `tree`: decodes a ratchet tree of `MiB` MiB (default 4) that is all blank nodes but its
//!   last leaf;
//! - `from-wire`: the same, then builds the padded, hashed tree from it;
//! - `join-external`: a GroupInfo (a real group's, re-signed by nobody) whose `ratchet_tree`
//!   extension is that tree, decoded and given to `Group::join_external`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods
)]

use canopy_core::group::CreateParams;
use std::time::Instant;

use canopy_core::LeafIndex;
use canopy_core::advanced::codec::VarBytes;
use canopy_core::advanced::tree::{RatchetTree, TreeRead};
use canopy_core::group::{Env, Group, GroupConfig};
use canopy_core::key_package::{BasicCredentialValidator, LeafNodeParams};
use canopy_core::wire::{self, Credential, Extension, ExtensionType, Extensions, MlsMessage};
use canopy_crypto::{CipherSuite, CryptoProvider};
use canopy_crypto_rustcrypto::RustCryptoProvider;

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

fn credential() -> Credential {
    Credential::Basic {
        identity: VarBytes(b"hostile".to_vec()),
    }
}

/// A 4-byte varint header for `len` (RFC 9420 §2.1.2), `len < 2^30`.
fn header(len: usize) -> [u8; 4] {
    let v = u32::try_from(len).unwrap() | 0x8000_0000;
    v.to_be_bytes()
}

/// An encoded `optional<Node> ratchet_tree<V>` of about `size` bytes: blanks, then `leaf`.
fn hostile_tree(size: usize, leaf: &wire::LeafNode) -> Vec<u8> {
    let leaf = leaf.to_bytes().unwrap();
    let mut blanks = size.saturating_sub(leaf.len() + 6);
    blanks -= blanks % 2; // the leaf must land on an even index
    let mut body = vec![0u8; blanks];
    body.extend_from_slice(&[1, 1]);
    body.extend_from_slice(&leaf);
    let mut out = header(body.len()).to_vec();
    out.extend_from_slice(&body);
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "join-external".to_string());
    let mib: f64 = args.next().map_or(4.0, |s| s.parse().unwrap());
    let provider = RustCryptoProvider::new();
    let validator = BasicCredentialValidator::new();
    let env = Env::new(&provider, &validator).at(1_700_000_000);
    let ops = provider.suite(SUITE).unwrap();
    let group = Group::create(
        &env,
        CreateParams::new(
            SUITE,
            b"victim".to_vec(),
            &LeafNodeParams::new(credential(), SUITE),
            std::sync::Arc::new(ops.signature_generate_key_pair().unwrap()),
        ),
    )
    .unwrap();
    let leaf = group
        .tree()
        .leaf(LeafIndex::new(0).unwrap())
        .unwrap()
        .clone();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let tree_bytes = hostile_tree((mib * 1_048_576.0) as usize, &leaf);
    eprintln!("hostile tree: {} bytes", tree_bytes.len());

    let start = Instant::now();
    match mode.as_str() {
        "tree" => {
            let result = wire::RatchetTree::from_bytes(&tree_bytes);
            eprintln!("decode: {:?}", result.as_ref().map(|_| ()));
        }
        "from-wire" => {
            let result = wire::RatchetTree::from_bytes(&tree_bytes)
                .map_err(|e| e.to_string())
                .and_then(|t| RatchetTree::from_wire(ops, t).map_err(|e| e.to_string()));
            eprintln!("decode + from_wire: {:?}", result.as_ref().map(|_| ()));
        }
        "join-external" => {
            let MlsMessage::GroupInfo(mut info) =
                MlsMessage::from_bytes(&group.group_info(&env, false).unwrap()).unwrap()
            else {
                panic!("not a GroupInfo")
            };
            let mut extensions = vec![Extension::new(ExtensionType::RATCHET_TREE, tree_bytes)];
            extensions.extend(info.extensions.as_slice().iter().cloned());
            info.extensions = Extensions::new(extensions).unwrap();
            let bytes = MlsMessage::GroupInfo(info).to_bytes().unwrap();
            eprintln!("hostile GroupInfo: {} bytes", bytes.len());
            let start = Instant::now();
            let result = MlsMessage::from_bytes(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|m| match m {
                    MlsMessage::GroupInfo(info) => Group::join_external(
                        &env,
                        GroupConfig::default(),
                        &info,
                        None,
                        &LeafNodeParams::new(credential(), SUITE),
                        std::sync::Arc::new(ops.signature_generate_key_pair().unwrap()),
                        None,
                        &[],
                    )
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                    _ => Err("not a GroupInfo".to_string()),
                });
            eprintln!(
                "decode + join_external: {:?} in {:.1} ms",
                result,
                start.elapsed().as_secs_f64() * 1e3
            );
        }
        other => panic!("unknown mode {other}"),
    }
    eprintln!("elapsed {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
}
