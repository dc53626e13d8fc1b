//! `secret-tree.json`: sender-data keys and the RFC 9420 §9 ratchets of trees of 1, 8 and 32
//! leaves, at generations 0 and 15.

use canopy_core::advanced::schedule::{ContentKind, OutOfOrderPolicy, SecretTree, sender_data_key};
use canopy_core::advanced::tree::math::{LeafCount, LeafIndex};
use canopy_crypto::{CryptoProvider, Secret, SuiteOps};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    encryption_secret: Hex,
    sender_data: SenderData,
    leaves: Vec<Vec<Generation>>,
}

#[derive(Deserialize)]
struct SenderData {
    sender_data_secret: Hex,
    ciphertext: Hex,
    key: Hex,
    nonce: Hex,
}

#[derive(Deserialize)]
struct Generation {
    generation: u32,
    handshake_key: Hex,
    handshake_nonce: Hex,
    application_key: Hex,
    application_nonce: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(
        provider,
        c.cipher_suite,
        || format!(", {} leaves", c.leaves.len()),
        |ops| run(c, ops),
    )
}

fn run(c: &Case, ops: &dyn SuiteOps) -> Result<(), String> {
    let sd = &c.sender_data;
    let k = sender_data_key(
        ops,
        &Secret::from_slice(&sd.sender_data_secret),
        &sd.ciphertext,
    )
    .map_err(|e| e.to_string())?;
    expect_eq("sender data key", &sd.key, k.key.as_bytes())?;
    expect_eq("sender data nonce", &sd.nonce, k.nonce.as_bytes())?;

    let n = u32::try_from(c.leaves.len())
        .ok()
        .and_then(LeafCount::new)
        .ok_or("leaf count is not a power of two")?;
    let mut tree = SecretTree::new(
        Secret::from_slice(&c.encryption_secret),
        n,
        OutOfOrderPolicy::default(),
    );
    for (i, generations) in (0u32..).zip(&c.leaves) {
        let leaf = LeafIndex::new(i).ok_or("leaf index")?;
        for g in generations {
            for (kind, key, nonce) in [
                (ContentKind::Handshake, &g.handshake_key, &g.handshake_nonce),
                (
                    ContentKind::Application,
                    &g.application_key,
                    &g.application_nonce,
                ),
            ] {
                let at = format!("leaf {i} {kind:?} generation {}", g.generation);
                let pending = tree
                    .prepare_decryption(ops, leaf, kind, g.generation)
                    .map_err(|e| format!("{at}: {e}"))?;
                expect_eq(&format!("{at} key"), key, pending.key().key.as_bytes())?;
                expect_eq(
                    &format!("{at} nonce"),
                    nonce,
                    pending.key().nonce.as_bytes(),
                )?;
                tree.commit_decryption(pending)
                    .map_err(|e| format!("{at}: {e}"))?;
            }
        }
    }
    Ok(())
}
