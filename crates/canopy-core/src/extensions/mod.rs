//! What Canopy implements of the MLS extensions draft (draft-ietf-mls-extensions), behind the
//! `extensions` feature while the draft moves; with the feature off, RFC 9420 behaviour is
//! unchanged.
//!
//! | module | draft section | what |
//! |---|---|---|
//! | [`exporter`] | §Exported Secrets | the safe exporter: `application_export_secret` and its Exporter Tree, [`Group::safe_export_secret`](crate::group::Group::safe_export_secret) |
//! | [`component`] | §Component IDs, §Safe HPKE, §Signature Keys | component ids, `ComponentOperationLabel`, `SafeEncryptWithLabel`, `SafeDecryptWithLabel`, `SafeSignWithLabel`, `SafeVerifyWithLabel` |
//! | [`app_data`] | §Attaching Application Data to MLS Messages | the `app_data_dictionary` extension |
//! | [`safe_aad`] | §Safe AAD | `SafeAAD`, the framing of `authenticated_data` |
//! | [`negotiation`] | §Negotiating Extensions and Components | `supported_wire_formats`, `required_wire_formats`, `app_components`, `safe_aad`; a leaf meets the group's requirements (XT-01 to XT-03) |
//! | [`media_types`] | §Content Advertisement | `content_media_types`' `MediaTypeList`, `ApplicationFraming` |
//! | [`registry`] | §AppDataUpdate, §AppEphemeral | [`AppComponents`], the application's logic per component |
//! | [`grease`] | §GREASE | GREASE component ids in a LeafNode's or KeyPackage's `app_data_dictionary` |
//! | [`app_ack`] | §AppAck | `AppAck`, and [`AckLog`], what a member received this epoch |
//! | [`multi_credential`] | §Multi-Credentials | [`CredentialBinding`], the `multi` and `weak-multi` credentials' checks (MC-01 to MC-05) |
//!
//! The proposals are [`Proposal::SelfRemove`](crate::wire::Proposal) (rules SR-01 to SR-07,
//! [`Group::propose_self_remove`](crate::group::Group::propose_self_remove)),
//! [`Proposal::AppDataUpdate`](crate::wire::Proposal) (AD-01 to AD-06, applied after the
//! RFC 9420 proposals and the AppEphemerals) and
//! [`Proposal::AppEphemeral`](crate::wire::Proposal) (AE-01, AE-02, reported in
//! [`CommitSummary::app_ephemeral`](crate::group::CommitSummary::app_ephemeral)).

pub mod app_ack;
pub mod app_data;
pub mod component;
pub(crate) mod data_update;
pub mod exporter;
pub mod grease;
pub mod media_types;
pub mod multi_credential;
pub mod negotiation;
pub mod registry;
pub mod safe_aad;

pub use app_ack::{AckLog, AppAck, MessageRange};
pub use app_data::{APP_DATA_DICTIONARY, AppDataDictionary, ComponentData};
pub use component::{
    ComponentId, component_operation_label, safe_decrypt_with_label, safe_encrypt_with_label,
    safe_sign_with_label, safe_verify_with_label,
};
pub use exporter::{APPLICATION_EXPORT_LABEL, ExportError};
pub use media_types::{ApplicationFraming, MediaType, MediaTypeList, Parameter};
pub use multi_credential::{CREDENTIAL_BINDING_LABEL, CredentialBinding};
pub use negotiation::{
    APP_ACK, APP_COMPONENTS, CONTENT_MEDIA_TYPES, ComponentsList, LAST_RESORT_KEY_PACKAGE,
    REQUIRED_WIRE_FORMATS, RequiredWireFormats, SAFE_AAD, SUPPORTED_WIRE_FORMATS,
    SupportedWireFormats, WireFormats,
};
pub use registry::{AppComponents, NoComponents, ReplacingComponents};
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
