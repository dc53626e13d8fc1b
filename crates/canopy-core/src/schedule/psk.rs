//! The PSK secret of RFC 9420 §8.4, chained over any number of pre-shared keys.

use canopy_crypto::{Secret, SuiteOps};

use crate::codec::{CodecError, encode_varint};
use crate::crypto::{MlsCryptoError, expand_with_label};

/// One PSK of a commit: its serialized `PreSharedKeyID` (type, id or resumption reference, and
/// nonce) and its secret value.
#[derive(Clone, Debug)]
pub struct PskInput<'a> {
    /// The TLS serialization of the `PreSharedKeyID` (RFC 9420 §8.4).
    pub id: &'a [u8],
    /// The PSK itself.
    pub psk: &'a Secret,
}

/// `PSKLabel { PreSharedKeyID id; uint16 index; uint16 count; }` (RFC 9420 §8.4).
fn psk_label(id: &[u8], index: u16, count: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(id.len().saturating_add(4));
    out.extend_from_slice(id);
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out
}

/// RFC 9420 §8.4: `psk_secret` over `psks` in order; all zeros (length `Nh`) when there are
/// none.
///
/// ```text
/// psk_extracted_[i] = KDF.Extract(0, psk_[i])
/// psk_input_[i]     = ExpandWithLabel(psk_extracted_[i], "derived psk", PSKLabel, Nh)
/// psk_secret_[i]    = KDF.Extract(psk_input_[i], psk_secret_[i-1])
/// ```
///
/// # Errors
/// [`MlsCryptoError::Codec`] if there are more than 65535 PSKs; backend errors.
pub fn psk_secret(ops: &dyn SuiteOps, psks: &[PskInput<'_>]) -> Result<Secret, MlsCryptoError> {
    let nh = ops.params().kdf_len();
    let count = u16::try_from(psks.len()).map_err(|_| CodecError::LengthTooLarge)?;
    let zero = vec![0u8; nh];
    let mut secret = Secret::zero(nh);
    for (index, psk) in (0u16..).zip(psks) {
        let extracted = ops.kdf_extract(&zero, psk.psk.as_bytes());
        let label = psk_label(psk.id, index, count);
        let input = expand_with_label(ops, extracted.as_bytes(), b"derived psk", &label, nh)?;
        secret = ops.kdf_extract(input.as_bytes(), secret.as_bytes());
    }
    Ok(secret)
}

/// Serializes an external `PreSharedKeyID` (`psktype = external`, RFC 9420 §8.4).
///
/// # Errors
/// [`CodecError`] if a field is longer than 2^30-1 bytes.
pub fn external_psk_id(psk_id: &[u8], psk_nonce: &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(
        psk_id
            .len()
            .saturating_add(psk_nonce.len())
            .saturating_add(9),
    );
    out.push(1);
    encode_varint(psk_id.len(), &mut out)?;
    out.extend_from_slice(psk_id);
    encode_varint(psk_nonce.len(), &mut out)?;
    out.extend_from_slice(psk_nonce);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use canopy_crypto::{CipherSuite, CryptoProvider};
    use canopy_crypto_rustcrypto::RustCryptoProvider;

    use super::*;

    #[test]
    fn no_psks_give_zero_and_order_matters() {
        let p = RustCryptoProvider::new();
        let ops = p.suite(CipherSuite(1)).unwrap();
        assert_eq!(psk_secret(ops, &[]).unwrap(), Secret::zero(32));
        let (a, b) = (Secret::from_slice(&[1; 32]), Secret::from_slice(&[2; 32]));
        let ia = external_psk_id(b"a", b"n").unwrap();
        let ib = external_psk_id(b"b", b"n").unwrap();
        let ab = psk_secret(
            ops,
            &[PskInput { id: &ia, psk: &a }, PskInput { id: &ib, psk: &b }],
        )
        .unwrap();
        let ba = psk_secret(
            ops,
            &[PskInput { id: &ib, psk: &b }, PskInput { id: &ia, psk: &a }],
        )
        .unwrap();
        assert_ne!(ab, ba);
        assert_ne!(ab, Secret::zero(32));
    }
}
