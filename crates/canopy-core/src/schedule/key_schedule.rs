//! The epoch key schedule (RFC 9420 §8), the Welcome key (§12.4.3.1), the exporter (§8.5) and
//! the external key pair (§8.3).

use canopy_crypto::{HpkeKeyPair, Secret, SuiteOps};

use crate::crypto::{MlsCryptoError, derive_secret, expand_with_label};

/// The secrets between a commit and its epoch secret: `joiner_secret`, and the output of
/// `Extract(joiner_secret, psk_secret)` from which the welcome and epoch secrets come.
#[derive(Clone, Debug)]
pub struct JoinerSecrets {
    joiner_secret: Secret,
    /// `KDF.Extract(joiner_secret, psk_secret)`.
    member_secret: Secret,
}

impl JoinerSecrets {
    /// From the previous epoch's `init_secret` and a commit (RFC 9420 §8):
    /// `joiner_secret = ExpandWithLabel(Extract(init_secret, commit_secret), "joiner",
    /// GroupContext_[n], Nh)`.
    ///
    /// `group_context` is the serialized GroupContext of the new epoch; `psk_secret` is the
    /// §8.4 chain (all zeros without PSKs).
    ///
    /// # Errors
    /// Backend errors (wrong secret lengths).
    pub fn from_commit(
        ops: &dyn SuiteOps,
        init_secret: &Secret,
        commit_secret: &Secret,
        psk_secret: &Secret,
        group_context: &[u8],
    ) -> Result<Self, MlsCryptoError> {
        let nh = ops.params().kdf_len();
        let prk = ops.kdf_extract(init_secret.as_bytes(), commit_secret.as_bytes());
        let joiner_secret = expand_with_label(ops, prk.as_bytes(), b"joiner", group_context, nh)?;
        Ok(Self::from_joiner_secret(ops, joiner_secret, psk_secret))
    }

    /// From a `joiner_secret` received in a Welcome's GroupSecrets (RFC 9420 §12.4.3.1).
    pub fn from_joiner_secret(
        ops: &dyn SuiteOps,
        joiner_secret: Secret,
        psk_secret: &Secret,
    ) -> Self {
        let member_secret = ops.kdf_extract(joiner_secret.as_bytes(), psk_secret.as_bytes());
        Self {
            joiner_secret,
            member_secret,
        }
    }

    /// The `joiner_secret`, sent to new members in GroupSecrets.
    pub fn joiner_secret(&self) -> &Secret {
        &self.joiner_secret
    }

    /// `welcome_secret = DeriveSecret(Extract(joiner_secret, psk_secret), "welcome")`.
    ///
    /// # Errors
    /// Backend errors.
    pub fn welcome_secret(&self, ops: &dyn SuiteOps) -> Result<Secret, MlsCryptoError> {
        derive_secret(ops, self.member_secret.as_bytes(), b"welcome")
    }

    /// The AEAD key and nonce that encrypt a Welcome's GroupInfo (RFC 9420 §12.4.3.1).
    ///
    /// # Errors
    /// Backend errors.
    pub fn welcome_key(&self, ops: &dyn SuiteOps) -> Result<WelcomeKey, MlsCryptoError> {
        let welcome_secret = self.welcome_secret(ops)?;
        let p = ops.params();
        Ok(WelcomeKey {
            key: expand_with_label(
                ops,
                welcome_secret.as_bytes(),
                b"key",
                b"",
                p.aead_key_len(),
            )?,
            nonce: expand_with_label(
                ops,
                welcome_secret.as_bytes(),
                b"nonce",
                b"",
                p.aead_nonce_len(),
            )?,
        })
    }

    /// The epoch's secrets: `epoch_secret = ExpandWithLabel(., "epoch", GroupContext_[n], Nh)`
    /// and everything derived from it (RFC 9420 §8, Table 4).
    ///
    /// # Errors
    /// Backend errors.
    pub fn epoch_secrets(
        &self,
        ops: &dyn SuiteOps,
        group_context: &[u8],
    ) -> Result<EpochSecrets, MlsCryptoError> {
        let nh = ops.params().kdf_len();
        let epoch = expand_with_label(
            ops,
            self.member_secret.as_bytes(),
            b"epoch",
            group_context,
            nh,
        )?;
        EpochSecrets::from_epoch_secret(ops, &epoch)
    }
}

/// The key and nonce of a Welcome's `encrypted_group_info`.
#[derive(Clone, Debug)]
pub struct WelcomeKey {
    /// `ExpandWithLabel(welcome_secret, "key", "", AEAD.Nk)`.
    pub key: Secret,
    /// `ExpandWithLabel(welcome_secret, "nonce", "", AEAD.Nn)`.
    pub nonce: Secret,
}

/// The secrets derived from one epoch secret (RFC 9420 §8, Table 4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochSecrets {
    /// `"sender data"`: keys the sender-data encryption of PrivateMessages (§6.3.2).
    pub sender_data_secret: Secret,
    /// `"encryption"`: the root of the secret tree (§9).
    pub encryption_secret: Secret,
    /// `"exporter"`: the root of [`mls_exporter`] (§8.5).
    pub exporter_secret: Secret,
    /// `"external"`: seeds the external key pair (§8.3).
    pub external_secret: Secret,
    /// `"confirm"`: keys the confirmation tag (§8.1).
    pub confirmation_key: Secret,
    /// `"membership"`: keys the membership tag of PublicMessages (§6.2).
    pub membership_key: Secret,
    /// `"resumption"`: this epoch's resumption PSK (§8.6).
    pub resumption_psk: Secret,
    /// `"authentication"`: the epoch authenticator (§8.7).
    pub epoch_authenticator: Secret,
    /// `"init"`: the next epoch's `init_secret`.
    pub init_secret: Secret,
    /// `"application_export"` (draft-ietf-mls-extensions §Exported Secrets): the root of the
    /// epoch's Exporter Tree. A group moves it into its safe exporter when the epoch starts
    /// and keeps no other copy.
    #[cfg(feature = "extensions")]
    pub application_export_secret: Secret,
}

impl EpochSecrets {
    /// Derives every epoch secret from `epoch_secret`.
    ///
    /// # Errors
    /// Backend errors.
    pub fn from_epoch_secret(
        ops: &dyn SuiteOps,
        epoch_secret: &Secret,
    ) -> Result<Self, MlsCryptoError> {
        let d = |label: &[u8]| derive_secret(ops, epoch_secret.as_bytes(), label);
        Ok(Self {
            sender_data_secret: d(b"sender data")?,
            encryption_secret: d(b"encryption")?,
            exporter_secret: d(b"exporter")?,
            external_secret: d(b"external")?,
            confirmation_key: d(b"confirm")?,
            membership_key: d(b"membership")?,
            resumption_psk: d(b"resumption")?,
            epoch_authenticator: d(b"authentication")?,
            init_secret: d(b"init")?,
            #[cfg(feature = "extensions")]
            application_export_secret: d(crate::extensions::APPLICATION_EXPORT_LABEL)?,
        })
    }

    /// `MLS-Exporter(label, context, length)` over this epoch's exporter secret (§8.5).
    ///
    /// # Errors
    /// Backend errors (a `length` beyond 255 hash outputs).
    pub fn export(
        &self,
        ops: &dyn SuiteOps,
        label: &[u8],
        context: &[u8],
        length: usize,
    ) -> Result<Secret, MlsCryptoError> {
        mls_exporter(ops, &self.exporter_secret, label, context, length)
    }

    /// The external key pair `KEM.DeriveKeyPair(external_secret)` (RFC 9420 §8.3), whose
    /// public half goes in the `external_pub` extension.
    ///
    /// # Errors
    /// Backend errors.
    pub fn external_key_pair(&self, ops: &dyn SuiteOps) -> Result<HpkeKeyPair, MlsCryptoError> {
        Ok(ops.hpke_derive_key_pair(self.external_secret.as_bytes())?)
    }
}

/// `MLS-Exporter(label, context, length) = ExpandWithLabel(DeriveSecret(exporter_secret,
/// label), "exported", Hash(context), length)` (RFC 9420 §8.5).
///
/// # Errors
/// Backend errors (a `length` beyond 255 hash outputs).
pub fn mls_exporter(
    ops: &dyn SuiteOps,
    exporter_secret: &Secret,
    label: &[u8],
    context: &[u8],
    length: usize,
) -> Result<Secret, MlsCryptoError> {
    let derived = derive_secret(ops, exporter_secret.as_bytes(), label)?;
    expand_with_label(
        ops,
        derived.as_bytes(),
        b"exported",
        &ops.hash(context),
        length,
    )
}
