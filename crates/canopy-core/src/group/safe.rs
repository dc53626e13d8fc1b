//! The safe application interface on a group's own keys (draft-ietf-mls-extensions §Hybrid
//! Public Key Encryption (HPKE) Keys, §Signature Keys): a component signs with this member's
//! signature key and verifies another member's, encrypts to another member's leaf key and
//! decrypts with this member's.

use canopy_crypto::{HpkeCiphertext, Secret};

use super::{Env, Group, GroupError};
use crate::extensions::component::{
    ComponentId, safe_decrypt_with_label, safe_encrypt_with_label, safe_sign_with_label,
    safe_verify_with_label,
};
use crate::rules::{At, Rule, Violation};
use crate::tree::TreeRead;
use crate::tree::math::LeafIndex;
use crate::wire::LeafNode;

impl Group {
    fn member_leaf(&self, leaf: LeafIndex) -> Result<&LeafNode, GroupError> {
        self.tree.leaf(leaf).ok_or_else(|| {
            Violation::new(Rule::FramingSender)
                .at(At::Leaf(leaf.value()))
                .into()
        })
    }

    /// `SafeSignWithLabel` with this member's signature key, for `component`.
    ///
    /// # Errors
    /// [`GroupError::Crypto`] if the signer fails.
    pub fn safe_sign(
        &self,
        env: &Env<'_>,
        component: ComponentId,
        label: &[u8],
        content: &[u8],
    ) -> Result<Vec<u8>, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        Ok(safe_sign_with_label(
            ops,
            self.signer.as_ref(),
            component,
            label,
            content,
        )?)
    }

    /// `SafeVerifyWithLabel` with the signature key of the member at `leaf`.
    ///
    /// # Errors
    /// FR-03 (no member at `leaf`), [`GroupError::Crypto`] if the signature does not verify.
    pub fn safe_verify(
        &self,
        env: &Env<'_>,
        leaf: LeafIndex,
        component: ComponentId,
        label: &[u8],
        content: &[u8],
        signature: &[u8],
    ) -> Result<(), GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let key = &self.member_leaf(leaf)?.signature_key;
        Ok(safe_verify_with_label(
            ops, key, component, label, content, signature,
        )?)
    }

    /// `SafeEncryptWithLabel` to the leaf encryption key of the member at `leaf` (only that
    /// member can decrypt it, until its leaf key changes).
    ///
    /// # Errors
    /// FR-03 (no member at `leaf`), [`GroupError::Crypto`].
    pub fn safe_encrypt_to(
        &self,
        env: &Env<'_>,
        leaf: LeafIndex,
        component: ComponentId,
        label: &[u8],
        context: &[u8],
        plaintext: &[u8],
    ) -> Result<HpkeCiphertext, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let key = &self.member_leaf(leaf)?.encryption_key;
        Ok(safe_encrypt_with_label(
            ops, key, component, label, context, plaintext,
        )?)
    }

    /// `SafeDecryptWithLabel` with this member's leaf private key, for `component` (a
    /// component decrypts only what was encrypted to it).
    ///
    /// # Errors
    /// [`GroupError::Crypto`] if the ciphertext does not authenticate (another component,
    /// label, context or key).
    pub fn safe_decrypt(
        &self,
        env: &Env<'_>,
        component: ComponentId,
        label: &[u8],
        context: &[u8],
        ciphertext: &HpkeCiphertext,
    ) -> Result<Secret, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let key = &self.private.leaf_key().private;
        Ok(safe_decrypt_with_label(
            ops, key, component, label, context, ciphertext,
        )?)
    }
}
