//! Valid inputs for every target, from the [`world`](crate::world) fixtures: the seed corpus
//! (`fuzz/corpus/<target>/`), written by the ignored test `write_seed_corpus` of
//! `tests/fuzz_corpus.rs`.

use canopy_core::wire::{MlsMessage, PublicMessage};

use super::join::{FIX_CONFIRMATION_TAG, FIX_SIGNATURE, FIX_TREE_HASH};
use super::process::{AS_IS, MERGE, RESIGN};
use crate::world::{BuildError, Fixture, fixture};

/// A named seed input.
pub type Seed = (String, Vec<u8>);

/// The seeds of `target`, or `None` for an unknown target.
///
/// # Errors
/// Encoding errors (a bug of the fixtures).
pub fn seeds(target: &str) -> Result<Option<Vec<Seed>>, BuildError> {
    let f = fixture();
    let named = |prefix: &str, items: &[Vec<u8>]| -> Vec<Seed> {
        items
            .iter()
            .enumerate()
            .map(|(i, b)| (format!("{prefix}_{i}"), b.clone()))
            .collect()
    };
    Ok(Some(match target {
        "decode_message" => {
            let mut out: Vec<Seed> = f
                .pool
                .iter()
                .map(|m| (m.name.to_string(), m.bytes.clone()))
                .collect();
            out.push(("welcome".into(), f.joiner.welcome.clone()));
            out.push((
                "key_package".into(),
                MlsMessage::KeyPackage(Box::new(f.joiner.bundle.key_package.clone())).to_bytes()?,
            ));
            if let Some(info) = f.group_infos.first() {
                let info = canopy_core::wire::GroupInfo::from_bytes(info)?;
                out.push((
                    "group_info".into(),
                    MlsMessage::GroupInfo(Box::new(info)).to_bytes()?,
                ));
            }
            out
        }
        "decode_key_package" => named("key_package", &f.key_packages),
        "decode_welcome" => {
            vec![("welcome".into(), f.joiner.decoded.to_bytes()?)]
        }
        "decode_group_info" => named("group_info", &f.group_infos),
        "decode_ratchet_tree" => named("tree", &f.ratchet_trees),
        "decode_group_state" => named("state", &f.states),
        "join_from_welcome" => {
            let mut welcome = vec![0];
            welcome.extend_from_slice(&f.joiner.welcome);
            let mut sealed = vec![1 | FIX_TREE_HASH | FIX_SIGNATURE | FIX_CONFIRMATION_TAG];
            sealed.extend_from_slice(&f.joiner.group_info.to_bytes()?);
            vec![("welcome".into(), welcome), ("group_info".into(), sealed)]
        }
        "process_message" => process_seeds(f)?,
        // A leaf, its intermediate and the root (made with rcgen by canopy-x509's
        // `write_fuzz_seed` test, valid 2020-2099) and the leaf's key, with 0, 1 and 2 of
        // the chain's last certificates trusted.
        "validate_x509" => {
            let chain = include_bytes!("../../../canopy-x509/testdata/fuzz_seed.bin");
            (0u8..3)
                .map(|mode| {
                    let mut input = vec![mode];
                    input.extend_from_slice(chain);
                    (format!("chain_{mode}"), input)
                })
                .collect()
        }
        "pq_kem" => pq_seeds(),
        _ => return Ok(None),
    }))
}

/// One step of a `process_message` input.
fn step(kind: u8, pool: usize, payload: &[u8]) -> Result<Vec<u8>, BuildError> {
    let mut out = vec![kind, u8::try_from(pool)?];
    out.extend_from_slice(&u16::try_from(payload.len())?.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

fn index(f: &Fixture, name: &str) -> Result<usize, BuildError> {
    f.pool
        .iter()
        .position(|m| m.name == name)
        .ok_or_else(|| format!("no pool message {name}").into())
}

fn process_seeds(f: &Fixture) -> Result<Vec<Seed>, BuildError> {
    let mut out = Vec::new();
    for (i, m) in f.pool.iter().enumerate() {
        let snapshot = m.snapshot as u8;
        // The message as it is, and (a merge for commits).
        let mut as_is = vec![snapshot];
        as_is.extend(step(MERGE, i, &[])?);
        out.push((m.name.to_string(), as_is));
        // Its content, re-signed, when it is a PublicMessage.
        if let Ok(MlsMessage::PublicMessage(p)) = MlsMessage::from_bytes(&m.bytes) {
            let PublicMessage { content, .. } = *p;
            let mut resigned = vec![snapshot];
            resigned.extend(step(RESIGN, i, &content.to_bytes()?)?);
            out.push((format!("{}_resigned", m.name), resigned));
        }
    }
    // Proposals, then the commit of them by reference; a merge, then late messages.
    let update = index(f, "proposal_update_private_bob")?;
    let add = index(f, "proposal_add_alice")?;
    let by_ref = index(f, "commit_by_reference")?;
    let mut sequence = vec![0];
    for i in [update, add] {
        sequence.extend(step(AS_IS, i, &[])?);
    }
    sequence.extend(step(MERGE, by_ref, &[])?);
    out.push(("sequence_proposals_then_commit".into(), sequence));
    let commit = index(f, "commit_path_alice")?;
    let app = index(f, "application_bob")?;
    let late = index(f, "proposal_late")?;
    let external = index(f, "commit_external")?;
    let mut sequence = vec![0];
    sequence.extend(step(MERGE, commit, &[])?);
    for i in [app, late, external] {
        sequence.extend(step(AS_IS, i, &[])?);
    }
    out.push(("sequence_merge_then_late".into(), sequence));
    Ok(out)
}

/// For each of the eight suites: a valid key, a KEM output and ciphertext sealed to the
/// target's key pair, and two `ikm`s.
fn pq_seeds() -> Vec<Seed> {
    use canopy_crypto::CryptoProvider;
    let mut out = Vec::new();
    for index in 0u8..8 {
        let Some((provider, suite)) = super::pq::provider_for_seeds(usize::from(index)) else {
            continue;
        };
        let Ok(ops) = provider.suite(suite) else {
            continue;
        };
        let info = ops.hpke_prepare_info(b"fuzz");
        let ikm = super::pq::target_ikm(ops);
        if let Ok(pair) = ops.hpke_derive_key_pair(&ikm) {
            let mut validate = vec![index];
            validate.extend_from_slice(pair.public.as_bytes());
            out.push((format!("validate_{index}"), validate));
        }
        if let Ok(pair) = ops.hpke_derive_key_pair(&ikm)
            && let Ok(ct) = ops.hpke_seal(&pair.public, &info, b"", b"hello")
        {
            let mut open = vec![0x10 | index];
            open.extend_from_slice(&ct.kem_output);
            open.extend_from_slice(&ct.ciphertext);
            out.push((format!("open_{index}"), open));
        }
        let mut derive = vec![0x20 | index];
        derive.extend_from_slice(&ikm);
        out.push((format!("derive_{index}"), derive));
        let mut round_trip = vec![0x30 | index];
        round_trip.extend_from_slice(&ikm);
        out.push((format!("round_trip_{index}"), round_trip));
    }
    out
}
