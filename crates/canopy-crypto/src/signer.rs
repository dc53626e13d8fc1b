//! Signing as a capability (RFC 9420 §5.1.2): a [`Signer`] holds, or stands for, the
//! signature private key of one identity, so that the key can live in a keystore, a hardware
//! token or another process instead of being copied into every group's state.

use crate::{CryptoError, SignatureKeyPair, SignaturePublicKey, SuiteOps};

/// The signature key of one identity. Groups hold it (shared, `Arc<dyn Signer>`) and call it
/// for every signature they make: leaves, KeyPackages, messages, GroupInfos.
///
/// An implementation signs `message` as it is (MLS has already applied its label,
/// `SignWithLabel`, RFC 9420 §5.1.2) with the signature scheme of the suite `ops` belongs to;
/// ECDSA signatures are DER-encoded. `ops` is there for signers that keep the private key in
/// memory ([`SignatureKeyPair`] signs with [`SuiteOps::sign`]); one backed by a keystore or a
/// token ignores it.
pub trait Signer: Send + Sync {
    /// The public key that verifies this signer's signatures.
    fn public_key(&self) -> &SignaturePublicKey;

    /// Signs `message`.
    ///
    /// # Errors
    /// [`CryptoError`] if the key cannot sign (a malformed key, an unavailable token).
    fn sign(&self, ops: &dyn SuiteOps, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

/// A key pair held in memory (zeroized on drop) signs with the suite's primitives.
impl Signer for SignatureKeyPair {
    fn public_key(&self) -> &SignaturePublicKey {
        &self.public
    }

    fn sign(&self, ops: &dyn SuiteOps, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        ops.sign(&self.private, message)
    }
}

/// A shared signer signs as the signer it shares.
impl<T: Signer + ?Sized> Signer for std::sync::Arc<T> {
    fn public_key(&self) -> &SignaturePublicKey {
        (**self).public_key()
    }

    fn sign(&self, ops: &dyn SuiteOps, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        (**self).sign(ops, message)
    }
}

/// A borrowed signer signs as the signer it borrows.
impl<T: Signer + ?Sized> Signer for &T {
    fn public_key(&self) -> &SignaturePublicKey {
        (**self).public_key()
    }

    fn sign(&self, ops: &dyn SuiteOps, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        (**self).sign(ops, message)
    }
}

impl SignatureKeyPair {
    /// The key pair of `private`, its public key derived with the suite's primitives.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPrivateKey`] if `private` is not a key of the suite's scheme.
    pub fn from_private(
        ops: &dyn SuiteOps,
        private: crate::SignaturePrivateKey,
    ) -> Result<Self, CryptoError> {
        let public = ops.signature_public_key(&private)?;
        Ok(Self { private, public })
    }
}
