//! Welcome messages (RFC 9420 §12.4.3.1): sealing GroupSecrets to each new member and the
//! GroupInfo under the welcome key, and opening them as a joiner.

use canopy_crypto::{HpkePrivateKey, HpkePublicKey, Secret, SuiteOps};

use super::JoinError;
use crate::codec::{self, VarBytes, VarVec};
use crate::crypto::{
    MlsCryptoError, decrypt_with_keys, encrypt_with_prepared, prepare_encrypt_context,
};
use crate::schedule::{JoinerSecrets, PskInput, psk_secret};
use crate::wire::{
    EncryptedGroupSecrets, GroupInfo, GroupSecrets, PathSecret, PreSharedKeyId, Welcome,
};

/// The label of `EncryptWithLabel` for GroupSecrets (RFC 9420 §12.4.3.1).
const WELCOME_LABEL: &[u8] = b"Welcome";

/// One new member of a Welcome.
#[derive(Clone, Debug)]
pub struct WelcomeRecipient<'a> {
    /// The KeyPackageRef of the KeyPackage it was added with (§5.2).
    pub key_package_ref: &'a [u8],
    /// That KeyPackage's `init_key`.
    pub init_key: &'a HpkePublicKey,
    /// The path secret of the lowest common ancestor of the committer and the new member,
    /// if the commit had a path.
    pub path_secret: Option<&'a Secret>,
}

/// RFC 9420 §8.4: the PSK secret of `ids` with their values `psks`, in order.
///
/// # Errors
/// [`JoinError::PskCount`] if the lengths differ; encoding and backend errors.
pub fn psk_secret_of(
    ops: &dyn SuiteOps,
    ids: &[PreSharedKeyId],
    psks: &[Secret],
) -> Result<Secret, JoinError> {
    if ids.len() != psks.len() {
        return Err(JoinError::PskCount {
            expected: ids.len(),
            given: psks.len(),
        });
    }
    let encoded = ids
        .iter()
        .map(codec::encode)
        .collect::<Result<Vec<_>, _>>()?;
    let inputs: Vec<PskInput<'_>> = encoded
        .iter()
        .zip(psks)
        .map(|(id, psk)| PskInput { id, psk })
        .collect();
    Ok(psk_secret(ops, &inputs)?)
}

/// Seals a Welcome (RFC 9420 §12.4.3.1): the signed `group_info` under the welcome key of
/// `joiner`, and to each recipient its GroupSecrets (`joiner_secret`, its path secret and
/// the commit's `psks`) with `EncryptWithLabel(init_key, "Welcome", encrypted_group_info)`.
///
/// The HPKE context over the encrypted GroupInfo is prepared once for all recipients, and
/// many recipients are sealed in parallel.
///
/// # Errors
/// Encoding errors, [`JoinError::Crypto`] for an invalid init key.
pub fn seal_welcome(
    ops: &dyn SuiteOps,
    group_info: &GroupInfo,
    joiner: &JoinerSecrets,
    psks: &[PreSharedKeyId],
    recipients: &[WelcomeRecipient<'_>],
) -> Result<Welcome, JoinError> {
    let key = joiner.welcome_key(ops)?;
    let encrypted_group_info = ops
        .aead_seal(
            key.key.as_bytes(),
            key.nonce.as_bytes(),
            b"",
            &group_info.to_bytes()?,
        )
        .map_err(MlsCryptoError::from)?;
    let prepared = prepare_encrypt_context(ops, WELCOME_LABEL, &encrypted_group_info)?;
    let psks: VarVec<PreSharedKeyId> = psks.to_vec().into();

    let seal_one = |r: &WelcomeRecipient<'_>| -> Result<EncryptedGroupSecrets, JoinError> {
        let secrets = GroupSecrets {
            joiner_secret: joiner.joiner_secret().clone(),
            path_secret: r.path_secret.map(|s| PathSecret {
                path_secret: s.clone(),
            }),
            psks: psks.clone(),
        };
        let plaintext = Secret::new(secrets.to_bytes()?);
        let ct = encrypt_with_prepared(ops, r.init_key, &prepared, plaintext.as_bytes())?;
        Ok(EncryptedGroupSecrets {
            new_member: VarBytes(r.key_package_ref.to_vec()),
            encrypted_group_secrets: ct.into(),
        })
    };
    #[cfg(feature = "parallel")]
    let secrets: Vec<EncryptedGroupSecrets> = if recipients.len() < crate::parallel::SEALS {
        recipients.iter().map(seal_one).collect::<Result<_, _>>()?
    } else {
        use rayon::prelude::*;
        recipients
            .par_iter()
            .map(seal_one)
            .collect::<Result<_, _>>()?
    };
    #[cfg(not(feature = "parallel"))]
    let secrets: Vec<EncryptedGroupSecrets> =
        recipients.iter().map(seal_one).collect::<Result<_, _>>()?;
    Ok(Welcome {
        cipher_suite: ops.suite(),
        secrets: secrets.into(),
        encrypted_group_info: VarBytes(encrypted_group_info),
    })
}

/// Decrypts our GroupSecrets from `welcome` (RFC 9420 §12.4.3.1): the entry whose
/// `new_member` is our `key_package_ref`, opened with the KeyPackage's `init_private` key.
///
/// The GroupSecrets list the PSKs the joiner must supply to [`open_group_info`].
///
/// # Errors
/// [`JoinError::CipherSuiteMismatch`], [`JoinError::NotForUs`],
/// [`JoinError::GroupSecretsUndecryptable`], decoding errors.
pub fn open_group_secrets(
    ops: &dyn SuiteOps,
    welcome: &Welcome,
    key_package_ref: &[u8],
    init_private: &HpkePrivateKey,
) -> Result<GroupSecrets, JoinError> {
    open_group_secrets_with(ops, welcome, key_package_ref, init_private, None)
}

/// [`open_group_secrets`] by a joiner that also holds the KeyPackage's `init_key`, which the
/// HPKE open then need not compute again ([`SuiteOps::hpke_open_with_public_key`]).
pub(crate) fn open_group_secrets_with(
    ops: &dyn SuiteOps,
    welcome: &Welcome,
    key_package_ref: &[u8],
    init_private: &HpkePrivateKey,
    init_public: Option<&HpkePublicKey>,
) -> Result<GroupSecrets, JoinError> {
    if welcome.cipher_suite != ops.suite() {
        return Err(JoinError::CipherSuiteMismatch);
    }
    let ours = welcome
        .secrets
        .as_slice()
        .iter()
        .find(|s| s.new_member.as_slice() == key_package_ref)
        .ok_or(JoinError::NotForUs)?;
    let plaintext = decrypt_with_keys(
        ops,
        init_private,
        init_public,
        WELCOME_LABEL,
        welcome.encrypted_group_info.as_slice(),
        &ours.encrypted_group_secrets.clone().into(),
    )
    .map_err(|_| JoinError::GroupSecretsUndecryptable)?;
    Ok(GroupSecrets::from_bytes(plaintext.as_bytes())?)
}

/// Decrypts the Welcome's GroupInfo with the welcome key derived from `group_secrets` and the
/// values `psks` of the PSKs it lists, in order (RFC 9420 §12.4.3.1).
///
/// The GroupInfo is not verified yet: check its signature with [`super::verify_group_info`]
/// once the signer's key is known (it is in the ratchet tree), then its confirmation tag
/// with [`super::verify_confirmation_tag`].
///
/// # Errors
/// [`JoinError::PskCount`], [`JoinError::GroupInfoUndecryptable`],
/// [`JoinError::GroupInfoSuiteMismatch`], decoding and backend errors.
pub fn open_group_info(
    ops: &dyn SuiteOps,
    welcome: &Welcome,
    group_secrets: &GroupSecrets,
    psks: &[Secret],
) -> Result<(GroupInfo, JoinerSecrets), JoinError> {
    let psk_secret = psk_secret_of(ops, group_secrets.psks.as_slice(), psks)?;
    let joiner =
        JoinerSecrets::from_joiner_secret(ops, group_secrets.joiner_secret.clone(), &psk_secret);
    let key = joiner.welcome_key(ops)?;
    let plaintext = ops
        .aead_open(
            key.key.as_bytes(),
            key.nonce.as_bytes(),
            b"",
            welcome.encrypted_group_info.as_slice(),
        )
        .map_err(|_| JoinError::GroupInfoUndecryptable)?;
    let group_info = GroupInfo::from_bytes(plaintext.as_bytes())?;
    if group_info.group_context.cipher_suite != welcome.cipher_suite {
        return Err(JoinError::GroupInfoSuiteMismatch);
    }
    Ok((group_info, joiner))
}
