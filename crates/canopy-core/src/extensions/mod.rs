//! What Canopy implements of the MLS extensions draft (draft-ietf-mls-extensions), behind the
//! `extensions` feature while the draft moves; with the feature off, RFC 9420 behaviour is
//! unchanged.
//!
//! | module | draft section | what |
//! |---|---|---|
//! | [`component`] | §Component IDs, §Safe HPKE, §Signature Keys | component ids, `ComponentOperationLabel`, `SafeEncryptWithLabel`, `SafeDecryptWithLabel`, `SafeSignWithLabel`, `SafeVerifyWithLabel` |
//! | [`app_data`] | §Attaching Application Data to MLS Messages | the `app_data_dictionary` extension |
//! | [`safe_aad`] | §Safe AAD | `SafeAAD`, the framing of `authenticated_data` |
//!
//! The SelfRemove proposal is [`Proposal::SelfRemove`](crate::wire::Proposal) with
//! [`Group::propose_self_remove`](crate::group::Group::propose_self_remove) and rules SR-01
//! to SR-07.

pub mod app_data;
pub mod component;
pub mod safe_aad;

pub use app_data::{APP_DATA_DICTIONARY, AppDataDictionary, ComponentData};
pub use component::{
    ComponentId, component_operation_label, safe_decrypt_with_label, safe_encrypt_with_label,
    safe_sign_with_label, safe_verify_with_label,
};
pub use safe_aad::{SafeAad, SafeAadItem};

use crate::codec::CodecError;

/// Checks that `ids` are strictly increasing (sorted, none repeated), as the draft requires
/// of `app_data_dictionary` entries and `SafeAAD` items.
fn strictly_increasing(ids: impl Iterator<Item = ComponentId>) -> Result<(), CodecError> {
    let mut last: Option<ComponentId> = None;
    for id in ids {
        if last.is_some_and(|l| id <= l) {
            return Err(CodecError::ComponentOrder(id));
        }
        last = Some(id);
    }
    Ok(())
}
