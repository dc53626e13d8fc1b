//! Transcript hashes, the confirmation tag (RFC 9420 §8.2, §6.1) and the membership tag
//! (§6.2).

use canopy_crypto::{Secret, SuiteOps};
use subtle::ConstantTimeEq;

use tls_codec::Serialize;

use crate::codec::{CodecError, encode_varint};
use crate::wire::WireFormat;

/// `confirmed_transcript_hash_[n] = Hash(interim_transcript_hash_[n-1] ||
/// ConfirmedTranscriptHashInput_[n])` (RFC 9420 §8.2), where the input is the serialized
/// `wire_format || FramedContent || signature` of the commit.
pub fn confirmed_transcript_hash(
    ops: &dyn SuiteOps,
    interim_before: &[u8],
    confirmed_input: &[u8],
) -> Vec<u8> {
    ops.hash_parts(&[interim_before, confirmed_input])
}

/// [`confirmed_transcript_hash`] with the `ConfirmedTranscriptHashInput` given by its parts
/// (RFC 9420 §8.2): `wire_format`, the encoded `FramedContent` and the signature. A receiver
/// hashes the content bytes as they arrived instead of encoding the content again.
///
/// # Errors
/// [`CodecError`] only for a signature longer than 2^30-1 bytes.
pub fn confirmed_transcript_hash_of_parts(
    ops: &dyn SuiteOps,
    interim_before: &[u8],
    wire_format: WireFormat,
    framed_content: &[u8],
    signature: &[u8],
) -> Result<Vec<u8>, CodecError> {
    let mut head = Vec::with_capacity(2);
    wire_format.tls_serialize(&mut head)?;
    let mut signature_len = Vec::with_capacity(4);
    encode_varint(signature.len(), &mut signature_len)?;
    Ok(ops.hash_parts(&[
        interim_before,
        &head,
        framed_content,
        &signature_len,
        signature,
    ]))
}

/// `interim_transcript_hash_[n] = Hash(confirmed_transcript_hash_[n] ||
/// InterimTranscriptHashInput_[n])`, the input being `opaque confirmation_tag<V>` (§8.2).
///
/// # Errors
/// [`CodecError`] only for a tag longer than 2^30-1 bytes.
pub fn interim_transcript_hash(
    ops: &dyn SuiteOps,
    confirmed: &[u8],
    confirmation_tag: &[u8],
) -> Result<Vec<u8>, CodecError> {
    let mut header = Vec::with_capacity(4);
    encode_varint(confirmation_tag.len(), &mut header)?;
    Ok(ops.hash_parts(&[confirmed, &header, confirmation_tag]))
}

/// `confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash)` (RFC 9420 §6.1).
pub fn confirmation_tag(
    ops: &dyn SuiteOps,
    confirmation_key: &Secret,
    confirmed: &[u8],
) -> Vec<u8> {
    ops.mac(confirmation_key.as_bytes(), confirmed)
}

/// `membership_tag = MAC(membership_key, AuthenticatedContentTBM)` (RFC 9420 §6.2).
pub fn membership_tag(ops: &dyn SuiteOps, membership_key: &Secret, tbm: &[u8]) -> Vec<u8> {
    ops.mac(membership_key.as_bytes(), tbm)
}

/// Compares a received MAC with the expected one in constant time.
pub fn verify_mac(expected: &[u8], received: &[u8]) -> bool {
    expected.ct_eq(received).into()
}
