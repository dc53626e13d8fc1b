//! GroupInfo signing and verification (RFC 9420 §12.4.3) and the joiner's confirmation-tag
//! check (§12.4.3.1).

use canopy_crypto::{CryptoError, SignaturePublicKey, Signer, SuiteOps};

use super::JoinError;
use crate::codec::VarBytes;
use crate::crypto::{MlsCryptoError, sign_with_label, verify_with_label};
use crate::schedule::{EpochSecrets, JoinerSecrets, confirmation_tag, verify_mac};
use crate::wire::{Extensions, GroupContext, GroupInfo};

/// The label of a GroupInfo signature (RFC 9420 §12.4.3).
const GROUP_INFO_LABEL: &[u8] = b"GroupInfoTBS";

/// Builds and signs a GroupInfo (RFC 9420 §12.4.3): `SignWithLabel(signer_key,
/// "GroupInfoTBS", GroupInfoTBS)` by the member at leaf `signer`.
///
/// # Errors
/// Encoding errors, backend errors for a malformed key.
pub fn sign_group_info(
    ops: &dyn SuiteOps,
    group_context: GroupContext,
    extensions: Extensions,
    confirmation_tag: Vec<u8>,
    signer: u32,
    signer_key: &dyn Signer,
) -> Result<GroupInfo, JoinError> {
    let mut group_info = GroupInfo {
        group_context,
        extensions,
        confirmation_tag: VarBytes(confirmation_tag),
        signer,
        signature: VarBytes(Vec::new()),
    };
    let tbs = group_info.tbs_bytes()?;
    group_info.signature = VarBytes(sign_with_label(ops, signer_key, GROUP_INFO_LABEL, &tbs)?);
    Ok(group_info)
}

/// Verifies a GroupInfo's signature with the key of the leaf it names as `signer`
/// (RFC 9420 §12.4.3).
///
/// # Errors
/// [`JoinError::BadGroupInfoSignature`]; [`JoinError::Crypto`] for a malformed key.
pub fn verify_group_info(
    ops: &dyn SuiteOps,
    group_info: &GroupInfo,
    signer_key: &SignaturePublicKey,
) -> Result<(), JoinError> {
    let tbs = group_info.tbs_bytes()?;
    verify_with_label(
        ops,
        signer_key,
        GROUP_INFO_LABEL,
        &tbs,
        group_info.signature.as_slice(),
    )
    .map_err(|e| match e {
        MlsCryptoError::Crypto(CryptoError::InvalidSignature) => JoinError::BadGroupInfoSignature,
        other => JoinError::Crypto(other),
    })
}

/// Derives the epoch's secrets from `joiner` and the GroupInfo's GroupContext, and checks
/// that the GroupInfo's confirmation tag is `MAC(confirmation_key, confirmed_transcript_hash)`
/// (RFC 9420 §12.4.3.1).
///
/// # Errors
/// [`JoinError::BadConfirmationTag`], encoding and backend errors.
pub fn verify_confirmation_tag(
    ops: &dyn SuiteOps,
    group_info: &GroupInfo,
    joiner: &JoinerSecrets,
) -> Result<EpochSecrets, JoinError> {
    let context = group_info.group_context.to_bytes()?;
    let secrets = joiner.epoch_secrets(ops, &context)?;
    let expected = confirmation_tag(
        ops,
        &secrets.confirmation_key,
        group_info
            .group_context
            .confirmed_transcript_hash
            .as_slice(),
    );
    if !verify_mac(&expected, group_info.confirmation_tag.as_slice()) {
        return Err(JoinError::BadConfirmationTag);
    }
    Ok(secrets)
}
