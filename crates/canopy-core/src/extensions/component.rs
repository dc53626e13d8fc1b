//! Component ids and the safe labelled operations (draft-ietf-mls-extensions §Component IDs,
//! §Hybrid Public Key Encryption (HPKE) Keys, §Signature Keys): MLS's labelled encryption and
//! signatures with a label that names the application component, so that one component's
//! ciphertexts and signatures are never valid for another, nor for MLS itself.

use canopy_crypto::{HpkeCiphertext, HpkePrivateKey, HpkePublicKey, Secret, SignaturePublicKey};
use canopy_crypto::{Signer, SuiteOps};

use crate::codec::CodecError;
use crate::crypto::{
    MlsCryptoError, decrypt_with_label, encrypt_with_label, sign_with_label, verify_with_label,
};

/// `uint16 ComponentID`: an application component (0x8000 and above are for private use).
pub type ComponentId = u16;

/// The fixed `base_label` of every `ComponentOperationLabel`.
const BASE_LABEL: &[u8] = b"MLS Component";

/// The encoding of `ComponentOperationLabel { base_label = "MLS Component", component_id,
/// label }`, the label the safe operations pass to their MLS counterparts.
///
/// # Errors
/// [`CodecError::LengthTooLarge`] for a `label` of 2^30 bytes or more.
pub fn component_operation_label(
    component_id: ComponentId,
    label: &[u8],
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(BASE_LABEL.len() + label.len() + 8);
    crate::codec::encode_varint(BASE_LABEL.len(), &mut out)?;
    out.extend_from_slice(BASE_LABEL);
    out.extend_from_slice(&component_id.to_be_bytes());
    crate::codec::encode_varint(label.len(), &mut out)?;
    out.extend_from_slice(label);
    Ok(out)
}

/// `SafeEncryptWithLabel(PublicKey, ComponentID, Label, Context, Plaintext)` =
/// `EncryptWithLabel(PublicKey, ComponentOperationLabel, Context, Plaintext)`.
///
/// # Errors
/// As [`encrypt_with_label`].
pub fn safe_encrypt_with_label(
    ops: &dyn SuiteOps,
    public_key: &HpkePublicKey,
    component_id: ComponentId,
    label: &[u8],
    context: &[u8],
    plaintext: &[u8],
) -> Result<HpkeCiphertext, MlsCryptoError> {
    let label = component_operation_label(component_id, label)?;
    encrypt_with_label(ops, public_key, &label, context, plaintext)
}

/// `SafeDecryptWithLabel(PrivateKey, ComponentID, Label, Context, KEMOutput, Ciphertext)`.
/// The draft requires `component_id` to be the decrypting component's own.
///
/// # Errors
/// As [`decrypt_with_label`]: a ciphertext made for another component, label or context
/// does not authenticate.
pub fn safe_decrypt_with_label(
    ops: &dyn SuiteOps,
    private_key: &HpkePrivateKey,
    component_id: ComponentId,
    label: &[u8],
    context: &[u8],
    ciphertext: &HpkeCiphertext,
) -> Result<Secret, MlsCryptoError> {
    let label = component_operation_label(component_id, label)?;
    decrypt_with_label(ops, private_key, &label, context, ciphertext)
}

/// `SafeSignWithLabel(SignatureKey, ComponentID, Label, Content)` =
/// `SignWithLabel(SignatureKey, ComponentOperationLabel, Content)`. The draft requires
/// `component_id` to be the signing component's own.
///
/// # Errors
/// As [`sign_with_label`].
pub fn safe_sign_with_label(
    ops: &dyn SuiteOps,
    key: &dyn Signer,
    component_id: ComponentId,
    label: &[u8],
    content: &[u8],
) -> Result<Vec<u8>, MlsCryptoError> {
    let label = component_operation_label(component_id, label)?;
    sign_with_label(ops, key, &label, content)
}

/// `SafeVerifyWithLabel(VerificationKey, ComponentID, Label, Content, SignatureValue)`.
///
/// # Errors
/// As [`verify_with_label`]: a signature made for another component or label does not
/// verify.
pub fn safe_verify_with_label(
    ops: &dyn SuiteOps,
    key: &SignaturePublicKey,
    component_id: ComponentId,
    label: &[u8],
    content: &[u8],
    signature: &[u8],
) -> Result<(), MlsCryptoError> {
    let label = component_operation_label(component_id, label)?;
    verify_with_label(ops, key, &label, content, signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use canopy_crypto::{CipherSuite, CryptoProvider};
    use canopy_crypto_rustcrypto::RustCryptoProvider;

    #[test]
    fn the_label_is_the_draft_struct() {
        let label = component_operation_label(0x0102, b"op").unwrap();
        assert_eq!(
            label,
            [&[13u8][..], b"MLS Component", &[0x01, 0x02], &[2], b"op"].concat()
        );
    }

    #[test]
    fn components_cannot_use_each_others_ciphertexts_or_signatures() {
        let provider = RustCryptoProvider::new();
        for &suite in provider.supported() {
            let ops = provider.suite(suite).unwrap();
            let kp = ops.hpke_generate_key_pair().unwrap();
            let ct =
                safe_encrypt_with_label(ops, &kp.public, 7, b"seal", b"ctx", b"secret").unwrap();
            let pt = safe_decrypt_with_label(ops, &kp.private, 7, b"seal", b"ctx", &ct).unwrap();
            assert_eq!(pt.as_bytes(), b"secret", "{suite:?}");
            for (component, label, context) in [
                (8, &b"seal"[..], &b"ctx"[..]),
                (7, b"Seal", b"ctx"),
                (7, b"seal", b"ctX"),
            ] {
                assert!(
                    safe_decrypt_with_label(ops, &kp.private, component, label, context, &ct)
                        .is_err()
                );
            }
            // Nor with MLS's own EncryptWithLabel under the bare label.
            assert!(decrypt_with_label(ops, &kp.private, b"seal", b"ctx", &ct).is_err());

            let key = ops.signature_generate_key_pair().unwrap();
            let sig = safe_sign_with_label(ops, &key, 7, b"sign", b"content").unwrap();
            safe_verify_with_label(ops, &key.public, 7, b"sign", b"content", &sig).unwrap();
            assert!(
                safe_verify_with_label(ops, &key.public, 8, b"sign", b"content", &sig).is_err()
            );
            assert!(
                safe_verify_with_label(ops, &key.public, 7, b"sign", b"Content", &sig).is_err()
            );
            assert!(verify_with_label(ops, &key.public, b"sign", b"content", &sig).is_err());
        }
        let _ = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
    }
}
