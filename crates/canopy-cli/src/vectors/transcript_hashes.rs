//! `transcript-hashes.json`: confirmed and interim transcript hashes and the confirmation tag
//! of one commit per suite (RFC 9420 §8.2, §6.1).

use canopy_core::advanced::schedule::{
    confirmation_tag, confirmed_transcript_hash, interim_transcript_hash, verify_mac,
};
use canopy_core::wire::AuthenticatedContent;
use canopy_crypto::{CryptoProvider, Secret, SuiteOps};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    confirmation_key: Hex,
    authenticated_content: Hex,
    interim_transcript_hash_before: Hex,
    confirmed_transcript_hash_after: Hex,
    interim_transcript_hash_after: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(provider, c.cipher_suite, String::new, |ops| run(c, ops))
}

fn run(c: &Case, ops: &dyn SuiteOps) -> Result<(), String> {
    let content = AuthenticatedContent::from_bytes(&c.authenticated_content)
        .map_err(|e| format!("authenticated_content: {e}"))?;
    let tag = content
        .auth
        .confirmation_tag
        .as_ref()
        .ok_or("the content is not a commit")?;
    let input = content
        .confirmed_transcript_hash_input()
        .map_err(|e| e.to_string())?;
    let confirmed = confirmed_transcript_hash(ops, &c.interim_transcript_hash_before, &input);
    expect_eq(
        "confirmed_transcript_hash_after",
        &c.confirmed_transcript_hash_after,
        &confirmed,
    )?;
    let expected_tag = confirmation_tag(ops, &Secret::from_slice(&c.confirmation_key), &confirmed);
    if !verify_mac(&expected_tag, tag.as_slice()) {
        return Err("confirmation tag does not verify".into());
    }
    let interim =
        interim_transcript_hash(ops, &confirmed, tag.as_slice()).map_err(|e| e.to_string())?;
    expect_eq(
        "interim_transcript_hash_after",
        &c.interim_transcript_hash_after,
        &interim,
    )
}
