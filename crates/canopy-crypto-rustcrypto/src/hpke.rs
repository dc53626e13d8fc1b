//! HPKE base mode, single shot (RFC 9180 §5.1, §6.1), with a reusable `info` preparation.
//!
//! The `info`-dependent part of the key schedule (`info_hash`) is computed once by
//! [`prepare_info`], so sealing one Welcome's GroupSecrets to many recipients hashes the
//! (possibly multi-megabyte) encrypted GroupInfo once instead of once per recipient.

use canopy_crypto::{CryptoError, HpkeCiphertext, PreparedInfo, Secret, SuiteParams};

use crate::aead;
use crate::kem::{Kem, labeled_expand, labeled_extract};

/// RFC 9180 §5: `mode_base`.
const MODE_BASE: u8 = 0x00;

/// `key_schedule_context = mode || psk_id_hash || info_hash` for base mode (empty `psk_id`).
pub(crate) fn prepare_info(params: &SuiteParams, info: &[u8]) -> PreparedInfo {
    let suite_id = params.hpke_suite_id();
    let psk_id_hash = labeled_extract(params.kdf, &suite_id, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(params.kdf, &suite_id, b"", b"info_hash", info);
    let mut ctx = Vec::with_capacity(1 + 2 * params.kdf.output_len());
    ctx.push(MODE_BASE);
    ctx.extend_from_slice(psk_id_hash.as_bytes());
    ctx.extend_from_slice(info_hash.as_bytes());
    PreparedInfo::new(params.suite, ctx)
}

/// The key schedule's `secret` (RFC 9180 §5.1) for `psk = ""`, checking the suite of
/// `info`.
fn schedule_secret(
    params: &SuiteParams,
    shared_secret: &Secret,
    info: &PreparedInfo,
) -> Result<Secret, CryptoError> {
    if info.suite() != params.suite {
        return Err(CryptoError::WrongSuite {
            prepared: info.suite(),
            used: params.suite,
        });
    }
    let suite_id = params.hpke_suite_id();
    Ok(labeled_extract(
        params.kdf,
        &suite_id,
        shared_secret.as_bytes(),
        b"secret",
        b"",
    ))
}

/// `Export(exporter_context, length)` of the context whose key schedule used
/// `shared_secret` and `info` (RFC 9180 §5.3): `exporter_secret = LabeledExpand(secret,
/// "exp", key_schedule_context, Nh)`, then `LabeledExpand(exporter_secret, "sec",
/// exporter_context, length)`.
fn export(
    params: &SuiteParams,
    shared_secret: &Secret,
    info: &PreparedInfo,
    exporter_context: &[u8],
    length: usize,
) -> Result<Secret, CryptoError> {
    let secret = schedule_secret(params, shared_secret, info)?;
    let suite_id = params.hpke_suite_id();
    let exporter_secret = labeled_expand(
        params.kdf,
        &suite_id,
        secret.as_bytes(),
        b"exp",
        info.key_schedule_context(),
        params.kdf.output_len(),
    )?;
    labeled_expand(
        params.kdf,
        &suite_id,
        exporter_secret.as_bytes(),
        b"sec",
        exporter_context,
        length,
    )
}

/// `SetupBaseS(pkR, info)` then `Export`, with the ephemeral key derived from
/// `encap_randomness`.
pub(crate) fn export_seal(
    params: &SuiteParams,
    recipient: &[u8],
    info: &PreparedInfo,
    exporter_context: &[u8],
    length: usize,
    encap_randomness: &[u8],
) -> Result<(Vec<u8>, Secret), CryptoError> {
    let (shared_secret, kem_output) = Kem::for_suite(params).encap(recipient, encap_randomness)?;
    let exported = export(params, &shared_secret, info, exporter_context, length)?;
    Ok((kem_output, exported))
}

/// `SetupBaseR(enc, skR, info)` then `Export`.
pub(crate) fn export_open(
    params: &SuiteParams,
    private_key: &[u8],
    kem_output: &[u8],
    info: &PreparedInfo,
    exporter_context: &[u8],
    length: usize,
) -> Result<Secret, CryptoError> {
    let shared_secret = Kem::for_suite(params).decap(kem_output, private_key)?;
    export(params, &shared_secret, info, exporter_context, length)
}

/// The AEAD key and base nonce of the key schedule (RFC 9180 §5.1), for `psk = ""`.
fn key_and_nonce(
    params: &SuiteParams,
    shared_secret: &Secret,
    info: &PreparedInfo,
) -> Result<(Secret, Secret), CryptoError> {
    let secret = schedule_secret(params, shared_secret, info)?;
    let suite_id = params.hpke_suite_id();
    let ctx = info.key_schedule_context();
    let key = labeled_expand(
        params.kdf,
        &suite_id,
        secret.as_bytes(),
        b"key",
        ctx,
        params.aead_key_len(),
    )?;
    let nonce = labeled_expand(
        params.kdf,
        &suite_id,
        secret.as_bytes(),
        b"base_nonce",
        ctx,
        params.aead_nonce_len(),
    )?;
    Ok((key, nonce))
}

/// `SealBase(pkR, info, aad, pt)` with the ephemeral key derived from `encap_randomness`.
pub(crate) fn seal(
    params: &SuiteParams,
    recipient: &[u8],
    info: &PreparedInfo,
    aad: &[u8],
    plaintext: &[u8],
    encap_randomness: &[u8],
) -> Result<HpkeCiphertext, CryptoError> {
    let (shared_secret, kem_output) = Kem::for_suite(params).encap(recipient, encap_randomness)?;
    let (key, nonce) = key_and_nonce(params, &shared_secret, info)?;
    let ciphertext = aead::seal(
        params.aead,
        key.as_bytes(),
        nonce.as_bytes(),
        aad,
        plaintext,
    )?;
    Ok(HpkeCiphertext {
        kem_output,
        ciphertext,
    })
}

/// `OpenBase(enc, skR, info, aad, ct)`; `public_key`, when the caller holds it, is `pkR`.
pub(crate) fn open(
    params: &SuiteParams,
    private_key: &[u8],
    public_key: Option<&[u8]>,
    ct: &HpkeCiphertext,
    info: &PreparedInfo,
    aad: &[u8],
) -> Result<Secret, CryptoError> {
    let kem = Kem::for_suite(params);
    let shared_secret = match public_key {
        Some(pk_r) => kem.decap_with_public_key(&ct.kem_output, private_key, pk_r)?,
        None => kem.decap(&ct.kem_output, private_key)?,
    };
    let (key, nonce) = key_and_nonce(params, &shared_secret, info)?;
    aead::open(
        params.aead,
        key.as_bytes(),
        nonce.as_bytes(),
        aad,
        &ct.ciphertext,
    )
}
