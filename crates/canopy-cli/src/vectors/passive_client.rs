//! The passive-client format (`passive-client-welcome.json`,
//! `passive-client-handling-commit.json`, `passive-client-random.json`, and any other file in
//! that format): a client joins from a Welcome with its KeyPackage's private keys, then
//! processes each epoch's proposals and commit, and must reach every epoch authenticator.

use canopy_core::group::JoinParams;
use std::collections::BTreeMap;

use canopy_core::group::{Env, Group, GroupError, Merged, ProcessedMessage};
use canopy_core::key_package::KeyPackageBundle;
use canopy_core::wire::{self, MlsMessage};
use canopy_crypto::{
    CryptoProvider, HpkePrivateKey, Secret, SignatureKeyPair, SignaturePrivateKey, SuiteOps,
};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    external_psks: Vec<ExternalPsk>,
    key_package: Hex,
    signature_priv: Hex,
    encryption_priv: Hex,
    init_priv: Hex,
    welcome: Hex,
    ratchet_tree: Option<Hex>,
    initial_epoch_authenticator: Hex,
    epochs: Vec<Epoch>,
}

#[derive(Deserialize)]
struct ExternalPsk {
    psk_id: Hex,
    psk: Hex,
}

#[derive(Deserialize)]
struct Epoch {
    proposals: Vec<Hex>,
    commit: Hex,
    epoch_authenticator: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(
        provider,
        c.cipher_suite,
        || format!(", {} epochs", c.epochs.len()),
        |ops| run(c, provider, ops),
    )
}

fn run(c: &Case, provider: &dyn CryptoProvider, ops: &dyn SuiteOps) -> Result<(), String> {
    let env = Env::new(provider, &super::AcceptAll);
    let MlsMessage::KeyPackage(key_package) =
        MlsMessage::from_bytes(&c.key_package).map_err(|e| format!("key_package: {e}"))?
    else {
        return Err("key_package is not a KeyPackage".into());
    };
    let MlsMessage::Welcome(welcome) =
        MlsMessage::from_bytes(&c.welcome).map_err(|e| format!("welcome: {e}"))?
    else {
        return Err("welcome is not a Welcome".into());
    };
    let init_private = HpkePrivateKey::from_slice(&c.init_priv);
    let encryption_private = HpkePrivateKey::from_slice(&c.encryption_priv);
    let signer = SignaturePrivateKey::from_slice(&c.signature_priv);
    check_keys(
        ops,
        &key_package,
        &init_private,
        &encryption_private,
        &signer,
    )?;
    let bundle = KeyPackageBundle {
        key_package: *key_package,
        init_private,
        encryption_private,
    };
    let tree = c
        .ratchet_tree
        .as_ref()
        .map(|t| wire::RatchetTree::from_bytes(t))
        .transpose()
        .map_err(|e| format!("ratchet_tree: {e}"))?;
    let psks: BTreeMap<Vec<u8>, Secret> = c
        .external_psks
        .iter()
        .map(|p| (p.psk_id.to_vec(), Secret::from_slice(&p.psk)))
        .collect();
    let mut group = Group::join(
        &env,
        JoinParams::new(
            &welcome,
            &bundle,
            std::sync::Arc::new(
                SignatureKeyPair::from_private(ops, signer)
                    .map_err(|e| format!("signature key: {e}"))?,
            ),
        )
        .ratchet_tree(tree)
        .external_psks(&psks),
    )
    .map_err(|e| format!("join: {e}"))?;
    expect_eq(
        "initial_epoch_authenticator",
        &c.initial_epoch_authenticator,
        group.epoch_authenticator(),
    )?;
    for (i, epoch) in c.epochs.iter().enumerate() {
        process_epoch(&env, &mut group, epoch).map_err(|e| format!("epoch {i}: {e}"))?;
    }
    Ok(())
}

/// RFC 9420 §10: the three private keys belong to the KeyPackage.
fn check_keys(
    ops: &dyn SuiteOps,
    key_package: &wire::KeyPackage,
    init: &HpkePrivateKey,
    encryption: &HpkePrivateKey,
    signer: &SignaturePrivateKey,
) -> Result<(), String> {
    let init_pub = ops.hpke_public_key(init).map_err(|e| e.to_string())?;
    let enc_pub = ops.hpke_public_key(encryption).map_err(|e| e.to_string())?;
    let sig_pub = ops
        .signature_public_key(signer)
        .map_err(|e| e.to_string())?;
    if init_pub != key_package.init_key {
        return Err("init_priv does not match the KeyPackage".into());
    }
    if enc_pub != key_package.leaf_node.encryption_key {
        return Err("encryption_priv does not match the KeyPackage".into());
    }
    if sig_pub != key_package.leaf_node.signature_key {
        return Err("signature_priv does not match the KeyPackage".into());
    }
    Ok(())
}

fn process_epoch(env: &Env<'_>, group: &mut Group, epoch: &Epoch) -> Result<(), String> {
    for (k, proposal) in epoch.proposals.iter().enumerate() {
        match group.process_message(env, proposal) {
            Ok(ProcessedMessage::Proposal { .. }) => {}
            Ok(other) => return Err(format!("proposal {k}: processed as {other:?}")),
            Err(e) => return Err(format!("proposal {k}: {e}")),
        }
    }
    let staged = match group.process_message(env, &epoch.commit) {
        Ok(ProcessedMessage::Commit(staged)) => staged,
        Ok(other) => return Err(format!("commit: processed as {other:?}")),
        Err(e) => return Err(format!("commit: {}", describe(&e))),
    };
    match group
        .merge_staged_commit(*staged)
        .map_err(|e| format!("merge: {e}"))?
    {
        Merged::Member { .. } => {}
        Merged::Removed => return Err("the passive client was removed".into()),
    }
    expect_eq(
        "epoch_authenticator",
        &epoch.epoch_authenticator,
        group.epoch_authenticator(),
    )
}

fn describe(e: &GroupError) -> String {
    format!("{e} ({e:?})")
}
