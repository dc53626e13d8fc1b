//! `key-schedule.json`: RFC 9420 §8 over five chained epochs per suite, with the exporter and
//! the external public key.

use canopy_core::advanced::codec::VarBytes;
use canopy_core::advanced::schedule::{EpochSecrets, JoinerSecrets};
use canopy_core::wire::{Extensions, GroupContext, ProtocolVersion};
use canopy_crypto::{CipherSuite, CryptoProvider, Secret, SuiteOps};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    group_id: Hex,
    initial_init_secret: Hex,
    epochs: Vec<Epoch>,
}

#[derive(Deserialize)]
struct Epoch {
    tree_hash: Hex,
    commit_secret: Hex,
    psk_secret: Hex,
    confirmed_transcript_hash: Hex,
    group_context: Hex,
    joiner_secret: Hex,
    welcome_secret: Hex,
    init_secret: Hex,
    sender_data_secret: Hex,
    encryption_secret: Hex,
    exporter_secret: Hex,
    epoch_authenticator: Hex,
    external_secret: Hex,
    confirmation_key: Hex,
    membership_key: Hex,
    resumption_psk: Hex,
    external_pub: Hex,
    exporter: Exporter,
}

#[derive(Deserialize)]
struct Exporter {
    /// Used verbatim as ASCII, although it looks like hex (NOTES.md, trap 1).
    label: String,
    context: Hex,
    length: usize,
    secret: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(provider, c.cipher_suite, String::new, |ops| run(c, ops))
}

/// `GroupContext` (RFC 9420 §8.1) with no extensions, serialized.
fn group_context(
    suite: u16,
    group_id: &[u8],
    epoch: u64,
    tree_hash: &[u8],
    cth: &[u8],
) -> Result<Vec<u8>, String> {
    GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite(suite),
        group_id: VarBytes::from(group_id.to_vec()),
        epoch,
        tree_hash: VarBytes::from(tree_hash.to_vec()),
        confirmed_transcript_hash: VarBytes::from(cth.to_vec()),
        extensions: Extensions::default(),
    }
    .to_bytes()
    .map_err(|e| e.to_string())
}

fn run(c: &Case, ops: &dyn SuiteOps) -> Result<(), String> {
    let mut init_secret = Secret::from_slice(&c.initial_init_secret);
    for (epoch, e) in (0u64..).zip(&c.epochs) {
        let at = |what: &str| format!("epoch {epoch} {what}");
        let gc = group_context(
            c.cipher_suite,
            &c.group_id,
            epoch,
            &e.tree_hash,
            &e.confirmed_transcript_hash,
        )?;
        expect_eq(&at("group_context"), &e.group_context, &gc)?;
        let psk = Secret::from_slice(&e.psk_secret);
        let commit = Secret::from_slice(&e.commit_secret);
        let joiner = JoinerSecrets::from_commit(ops, &init_secret, &commit, &psk, &gc)
            .map_err(|x| at(&x.to_string()))?;
        expect_eq(
            &at("joiner_secret"),
            &e.joiner_secret,
            joiner.joiner_secret().as_bytes(),
        )?;
        let welcome = joiner.welcome_secret(ops).map_err(|x| at(&x.to_string()))?;
        expect_eq(&at("welcome_secret"), &e.welcome_secret, welcome.as_bytes())?;
        let s: EpochSecrets = joiner
            .epoch_secrets(ops, &gc)
            .map_err(|x| at(&x.to_string()))?;
        let pairs: [(&str, &Hex, &Secret); 9] = [
            ("init_secret", &e.init_secret, &s.init_secret),
            (
                "sender_data_secret",
                &e.sender_data_secret,
                &s.sender_data_secret,
            ),
            (
                "encryption_secret",
                &e.encryption_secret,
                &s.encryption_secret,
            ),
            ("exporter_secret", &e.exporter_secret, &s.exporter_secret),
            (
                "epoch_authenticator",
                &e.epoch_authenticator,
                &s.epoch_authenticator,
            ),
            ("external_secret", &e.external_secret, &s.external_secret),
            ("confirmation_key", &e.confirmation_key, &s.confirmation_key),
            ("membership_key", &e.membership_key, &s.membership_key),
            ("resumption_psk", &e.resumption_psk, &s.resumption_psk),
        ];
        for (name, expected, got) in pairs {
            expect_eq(&at(name), expected, got.as_bytes())?;
        }
        let external = s.external_key_pair(ops).map_err(|x| at(&x.to_string()))?;
        expect_eq(
            &at("external_pub"),
            &e.external_pub,
            external.public.as_bytes(),
        )?;
        let x = &e.exporter;
        let exported = s
            .export(ops, x.label.as_bytes(), &x.context, x.length)
            .map_err(|err| at(&err.to_string()))?;
        expect_eq(&at("exporter"), &x.secret, exported.as_bytes())?;
        init_secret = s.init_secret.clone();
    }
    Ok(())
}
