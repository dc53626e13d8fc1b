//! The MLS cryptographic functions of RFC 9420 §5, built on a [`SuiteOps`] backend.
//!
//! | function | RFC 9420 |
//! |---|---|
//! | [`ref_hash`], [`key_package_ref`], [`proposal_ref`] | §5.2 |
//! | [`expand_with_label`], [`derive_secret`] | §8 |
//! | [`derive_tree_secret`] | §9 |
//! | [`sign_with_label`], [`verify_with_label`] | §5.1.2 |
//! | [`encrypt_with_label`], [`decrypt_with_label`], [`prepare_encrypt_context`] | §5.1.3 |
//!
//! Every label is prefixed with `"MLS 1.0 "` here; callers pass the bare label
//! (`"epoch"`, `"FramedContentTBS"`, ...). The labelled structs (`KDFLabel`, `SignContent`,
//! `EncryptContext`, `RefHashInput`) are serialized by hand with the §2.1.2 variable-length
//! header, so that large contents are copied once.

use canopy_crypto::{
    CryptoError, HpkeCiphertext, HpkePrivateKey, HpkePublicKey, PreparedInfo, Secret,
    SignaturePublicKey, Signer, SuiteOps,
};

use crate::codec::{CodecError, encode_varint};

/// The prefix of every MLS label (RFC 9420 §5.1.2, §5.1.3, §8).
pub const LABEL_PREFIX: &[u8] = b"MLS 1.0 ";

/// Label of a KeyPackageRef (RFC 9420 §5.2).
pub const KEY_PACKAGE_REF_LABEL: &[u8] = b"MLS 1.0 KeyPackage Reference";

/// Label of a ProposalRef (RFC 9420 §5.2).
pub const PROPOSAL_REF_LABEL: &[u8] = b"MLS 1.0 Proposal Reference";

/// A failure of one of the MLS cryptographic functions.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MlsCryptoError {
    /// A labelled structure could not be encoded (a field longer than 2^30-1 bytes).
    #[error("encoding a labelled structure: {0}")]
    Codec(#[from] CodecError),
    /// The backend reported an error.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A requested output length does not fit the `uint16 length` of `KDFLabel`.
    #[error("ExpandWithLabel length {0} exceeds 65535")]
    LengthTooLarge(usize),
}

/// Appends `opaque data<V>` to `out`.
fn put_opaque(out: &mut Vec<u8>, parts: &[&[u8]]) -> Result<(), CodecError> {
    let len = parts
        .iter()
        .map(|p| p.len())
        .fold(0usize, usize::saturating_add);
    encode_varint(len, out)?;
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(())
}

/// Serializes `struct { opaque a<V>; opaque b<V>; }` where `a = prefix || label`.
fn labelled_pair(prefix: &[u8], label: &[u8], content: &[u8]) -> Result<Vec<u8>, CodecError> {
    let cap = prefix
        .len()
        .saturating_add(label.len())
        .saturating_add(content.len())
        .saturating_add(8);
    let mut out = Vec::with_capacity(cap);
    put_opaque(&mut out, &[prefix, label])?;
    put_opaque(&mut out, &[content])?;
    Ok(out)
}

/// RFC 9420 §5.1.1; RFC 9180 §7.1.1, §7.1.4: whether `key`, received from a peer, is a
/// valid public key of the suite's KEM that Diffie-Hellman can use
/// ([`SuiteOps::hpke_validate_public_key`]: the length, the point encoding, not a low-order
/// X25519/X448 point). Every place that accepts a KeyPackage `init_key`, a leaf, parent or
/// UpdatePath `encryption_key`, or a GroupInfo's `external_pub` checks it, so that no member
/// holds a key that makes every later encryption to it fail. The
/// [`Detail`](crate::rules::Detail) is the length of a key of the wrong length, nothing for
/// an invalid point.
pub(crate) fn check_hpke_public_key(
    ops: &dyn SuiteOps,
    key: &HpkePublicKey,
) -> Result<(), crate::rules::Detail> {
    let len = key.as_bytes().len();
    if ops.params().kem.public_key_len() != len {
        return Err(crate::rules::Detail::Length(len));
    }
    ops.hpke_validate_public_key(key)
        .map_err(|_| crate::rules::Detail::None)
}

/// `RefHash(label, value) = Hash(RefHashInput)` (RFC 9420 §5.2). `label` is used verbatim
/// (it already carries "MLS 1.0 ").
///
/// # Errors
/// [`MlsCryptoError::Codec`] if `value` is longer than 2^30-1 bytes.
pub fn ref_hash(ops: &dyn SuiteOps, label: &[u8], value: &[u8]) -> Result<Vec<u8>, MlsCryptoError> {
    let mut head = Vec::with_capacity(label.len().saturating_add(8));
    put_opaque(&mut head, &[label])?;
    encode_varint(value.len(), &mut head)?;
    Ok(ops.hash_parts(&[&head, value]))
}

/// `KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)` over the serialized
/// KeyPackage (RFC 9420 §5.2).
///
/// # Errors
/// As [`ref_hash`].
pub fn key_package_ref(ops: &dyn SuiteOps, key_package: &[u8]) -> Result<Vec<u8>, MlsCryptoError> {
    ref_hash(ops, KEY_PACKAGE_REF_LABEL, key_package)
}

/// `ProposalRef = RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent)` over the
/// serialized AuthenticatedContent (RFC 9420 §5.2).
///
/// # Errors
/// As [`ref_hash`].
pub fn proposal_ref(
    ops: &dyn SuiteOps,
    authenticated_content: &[u8],
) -> Result<Vec<u8>, MlsCryptoError> {
    ref_hash(ops, PROPOSAL_REF_LABEL, authenticated_content)
}

/// `ExpandWithLabel(secret, label, context, length)` (RFC 9420 §8):
/// `KDF.Expand(secret, KDFLabel{length, "MLS 1.0 " + label, context}, length)`.
///
/// # Errors
/// [`MlsCryptoError::LengthTooLarge`] if `length` exceeds 65535; a backend error if
/// `secret` is shorter than `Nh` or `length` exceeds 255 hash outputs.
pub fn expand_with_label(
    ops: &dyn SuiteOps,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    length: usize,
) -> Result<Secret, MlsCryptoError> {
    let len16 = u16::try_from(length).map_err(|_| MlsCryptoError::LengthTooLarge(length))?;
    let mut info = Vec::with_capacity(
        LABEL_PREFIX
            .len()
            .saturating_add(label.len())
            .saturating_add(context.len())
            .saturating_add(10),
    );
    info.extend_from_slice(&len16.to_be_bytes());
    put_opaque(&mut info, &[LABEL_PREFIX, label])?;
    put_opaque(&mut info, &[context])?;
    Ok(ops.kdf_expand(secret, &info, length)?)
}

/// `DeriveSecret(secret, label) = ExpandWithLabel(secret, label, "", Nh)` (RFC 9420 §8).
///
/// # Errors
/// As [`expand_with_label`].
pub fn derive_secret(
    ops: &dyn SuiteOps,
    secret: &[u8],
    label: &[u8],
) -> Result<Secret, MlsCryptoError> {
    expand_with_label(ops, secret, label, b"", ops.params().kdf_len())
}

/// `DeriveTreeSecret(secret, label, generation, length) =
/// ExpandWithLabel(secret, label, uint32 generation, length)` (RFC 9420 §9).
///
/// # Errors
/// As [`expand_with_label`].
pub fn derive_tree_secret(
    ops: &dyn SuiteOps,
    secret: &[u8],
    label: &[u8],
    generation: u32,
    length: usize,
) -> Result<Secret, MlsCryptoError> {
    expand_with_label(ops, secret, label, &generation.to_be_bytes(), length)
}

/// `SignContent` for `label` and `content` (RFC 9420 §5.1.2): the bytes a `SignWithLabel`
/// signature covers.
pub(crate) fn sign_content(label: &[u8], content: &[u8]) -> Result<Vec<u8>, CodecError> {
    labelled_pair(LABEL_PREFIX, label, content)
}

/// The start of a `SignContent` (RFC 9420 §5.1.2) whose content is `content_len` bytes long:
/// the label and the content's length. With the content appended, `out` holds exactly what
/// [`sign_content`] returns; callers lay a large content out once this way instead of
/// copying it.
///
/// # Errors
/// [`CodecError::LengthTooLarge`] if `content_len` is above 2^30-1.
pub(crate) fn sign_content_head(
    label: &[u8],
    content_len: usize,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    put_opaque(out, &[LABEL_PREFIX, label])?;
    encode_varint(content_len, out)
}

/// `SignWithLabel(key, label, content)` (RFC 9420 §5.1.2).
///
/// # Errors
/// A backend error for a malformed key; [`MlsCryptoError::Codec`] for oversized content.
pub fn sign_with_label(
    ops: &dyn SuiteOps,
    key: &dyn Signer,
    label: &[u8],
    content: &[u8],
) -> Result<Vec<u8>, MlsCryptoError> {
    let tbs = sign_content(label, content)?;
    Ok(key.sign(ops, &tbs)?)
}

/// `VerifyWithLabel(key, label, content, signature)` (RFC 9420 §5.1.2).
///
/// # Errors
/// [`CryptoError::InvalidSignature`] (wrapped) if the signature does not verify,
/// [`CryptoError::InvalidPublicKey`] for a malformed key.
pub fn verify_with_label(
    ops: &dyn SuiteOps,
    key: &SignaturePublicKey,
    label: &[u8],
    content: &[u8],
    signature: &[u8],
) -> Result<(), MlsCryptoError> {
    let tbs = sign_content(label, content)?;
    Ok(ops.verify(key, &tbs, signature)?)
}

/// Prepares the HPKE `info` of `EncryptWithLabel` once: `EncryptContext{"MLS 1.0 " + label,
/// context}` (RFC 9420 §5.1.3). Use it with [`encrypt_with_prepared`] for many recipients
/// (a Welcome's GroupSecrets all share the encrypted GroupInfo as context).
///
/// # Errors
/// [`MlsCryptoError::Codec`] if `context` is longer than 2^30-1 bytes.
pub fn prepare_encrypt_context(
    ops: &dyn SuiteOps,
    label: &[u8],
    context: &[u8],
) -> Result<PreparedInfo, MlsCryptoError> {
    let info = labelled_pair(LABEL_PREFIX, label, context)?;
    Ok(ops.hpke_prepare_info(&info))
}

/// `EncryptWithLabel` with a context prepared by [`prepare_encrypt_context`].
///
/// # Errors
/// A backend error for an invalid public key.
pub fn encrypt_with_prepared(
    ops: &dyn SuiteOps,
    public_key: &HpkePublicKey,
    prepared: &PreparedInfo,
    plaintext: &[u8],
) -> Result<HpkeCiphertext, MlsCryptoError> {
    Ok(ops.hpke_seal(public_key, prepared, b"", plaintext)?)
}

/// `EncryptWithLabel(public_key, label, context, plaintext) =
/// SealBase(public_key, EncryptContext, "", plaintext)` (RFC 9420 §5.1.3).
///
/// # Errors
/// As [`prepare_encrypt_context`] and [`encrypt_with_prepared`].
pub fn encrypt_with_label(
    ops: &dyn SuiteOps,
    public_key: &HpkePublicKey,
    label: &[u8],
    context: &[u8],
    plaintext: &[u8],
) -> Result<HpkeCiphertext, MlsCryptoError> {
    let prepared = prepare_encrypt_context(ops, label, context)?;
    encrypt_with_prepared(ops, public_key, &prepared, plaintext)
}

/// `DecryptWithLabel(private_key, label, context, kem_output, ciphertext)` (RFC 9420 §5.1.3).
///
/// # Errors
/// [`CryptoError::AeadOpenFailed`] (wrapped) if the ciphertext does not authenticate, or a
/// key error.
pub fn decrypt_with_label(
    ops: &dyn SuiteOps,
    private_key: &HpkePrivateKey,
    label: &[u8],
    context: &[u8],
    ciphertext: &HpkeCiphertext,
) -> Result<Secret, MlsCryptoError> {
    decrypt_with_keys(ops, private_key, None, label, context, ciphertext)
}

/// [`decrypt_with_label`] by a recipient that may also hold its public key, which then need
/// not be computed from the private key again for the KEM context
/// ([`SuiteOps::hpke_open_with_public_key`]). TreeKEM opens path secrets this way (RFC 9420
/// §7.6), with a pair whose public key is the node's in the tree, and a joiner its
/// GroupSecrets (§12.4.3.1), with its KeyPackage's init key.
///
/// # Errors
/// As [`decrypt_with_label`].
pub(crate) fn decrypt_with_keys(
    ops: &dyn SuiteOps,
    private_key: &HpkePrivateKey,
    public_key: Option<&HpkePublicKey>,
    label: &[u8],
    context: &[u8],
    ciphertext: &HpkeCiphertext,
) -> Result<Secret, MlsCryptoError> {
    let prepared = prepare_encrypt_context(ops, label, context)?;
    Ok(match public_key {
        Some(public) => {
            ops.hpke_open_with_public_key(private_key, public, ciphertext, &prepared, b"")?
        }
        None => ops.hpke_open(private_key, ciphertext, &prepared, b"")?,
    })
}

/// HPKE public keys of the right length that every suite must refuse: low-order X25519 and
/// X448 points (in canonical and non-canonical encodings), and for the NIST curves points off
/// the curve, with wrong SEC1 prefixes, and all-zero coordinates.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub(crate) fn invalid_hpke_keys(ops: &dyn SuiteOps) -> Vec<HpkePublicKey> {
    use canopy_crypto::KemAlgorithm;
    let keys: Vec<Vec<u8>> = match ops.params().kem {
        KemAlgorithm::DhKemX25519 => {
            let mut p = vec![0xff; 32];
            p[0] = 0xed;
            p[31] = 0x7f;
            let mut zero_top = vec![0; 32];
            zero_top[31] = 0x80;
            let mut one = vec![0; 32];
            one[0] = 1;
            vec![vec![0; 32], zero_top, one, p]
        }
        KemAlgorithm::DhKemX448 => {
            let mut p_plus_1 = vec![0xff; 56];
            p_plus_1[..28].fill(0);
            let mut one = vec![0; 56];
            one[0] = 1;
            vec![vec![0; 56], one, p_plus_1]
        }
        _ => {
            let good = ops.hpke_generate_key_pair().unwrap().public.into_bytes();
            let mut off_curve = good.clone();
            let last = off_curve.len() - 1;
            off_curve[last] ^= 1;
            let mut compressed_prefix = good.clone();
            compressed_prefix[0] = 0x02;
            let mut zeros = vec![0; good.len()];
            zeros[0] = 0x04;
            vec![off_curve, compressed_prefix, zeros]
        }
    };
    let keys: Vec<HpkePublicKey> = keys.into_iter().map(HpkePublicKey::new).collect();
    for k in &keys {
        assert!(ops.hpke_validate_public_key(k).is_err(), "{k:?}");
    }
    keys
}

#[cfg(test)]
mod tests {
    use canopy_crypto::{CipherSuite, CryptoProvider};
    use canopy_crypto_rustcrypto::RustCryptoProvider;

    use super::*;

    #[test]
    fn labelled_structs_are_serialized_with_varint_headers() {
        let s = labelled_pair(LABEL_PREFIX, b"x", b"abc").unwrap();
        assert_eq!(s, b"\x09MLS 1.0 x\x03abc");
        let big = vec![0u8; 100];
        let s = labelled_pair(b"", b"", &big).unwrap();
        assert_eq!(&s[..3], &[0x00, 0x40, 100]);
    }

    #[test]
    fn sign_and_encrypt_with_label_round_trip_and_bind_the_label() {
        let p = RustCryptoProvider::new();
        for suite in CipherSuite::ALL {
            let ops = p.suite(suite).unwrap();
            let kp = ops.signature_generate_key_pair().unwrap();
            let sig = sign_with_label(ops, &kp, b"L", b"content").unwrap();
            verify_with_label(ops, &kp.public, b"L", b"content", &sig).unwrap();
            assert!(verify_with_label(ops, &kp.public, b"M", b"content", &sig).is_err());

            let hk = ops.hpke_generate_key_pair().unwrap();
            let ct = encrypt_with_label(ops, &hk.public, b"L", b"ctx", b"pt").unwrap();
            let pt = decrypt_with_label(ops, &hk.private, b"L", b"ctx", &ct).unwrap();
            assert_eq!(pt.as_bytes(), b"pt");
            assert!(decrypt_with_label(ops, &hk.private, b"L", b"ctX", &ct).is_err());
            assert!(decrypt_with_label(ops, &hk.private, b"K", b"ctx", &ct).is_err());
        }
    }

    #[test]
    fn expand_with_label_rejects_lengths_beyond_u16() {
        let p = RustCryptoProvider::new();
        let ops = p.suite(CipherSuite(1)).unwrap();
        assert_eq!(
            expand_with_label(ops, &[0; 32], b"x", b"", 70_000).unwrap_err(),
            MlsCryptoError::LengthTooLarge(70_000)
        );
    }
}
