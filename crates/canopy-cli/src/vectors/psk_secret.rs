//! `psk_secret.json`: the RFC 9420 §8.4 PSK chain over 0 to 10 external PSKs per suite.

use canopy_core::advanced::schedule::{PskInput, external_psk_id, psk_secret};
use canopy_crypto::{CryptoProvider, Secret, SuiteOps};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    psks: Vec<Psk>,
    psk_secret: Hex,
}

#[derive(Deserialize)]
struct Psk {
    psk_id: Hex,
    psk: Hex,
    psk_nonce: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(
        provider,
        c.cipher_suite,
        || format!(", {} PSKs", c.psks.len()),
        |ops| run(c, ops),
    )
}

fn run(c: &Case, ops: &dyn SuiteOps) -> Result<(), String> {
    let ids = c
        .psks
        .iter()
        .map(|p| external_psk_id(&p.psk_id, &p.psk_nonce))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let secrets: Vec<Secret> = c.psks.iter().map(|p| Secret::from_slice(&p.psk)).collect();
    let inputs: Vec<PskInput<'_>> = ids
        .iter()
        .zip(&secrets)
        .map(|(id, psk)| PskInput { id, psk })
        .collect();
    let got = psk_secret(ops, &inputs).map_err(|e| e.to_string())?;
    expect_eq("psk_secret", &c.psk_secret, got.as_bytes())
}
