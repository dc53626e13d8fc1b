//! Negotiating the draft's extensions and components (draft-ietf-mls-extensions
//! §Negotiating Extensions and Components): the `supported_wire_formats` and
//! `required_wire_formats` extensions, the `app_components` and `safe_aad` components
//! (`ComponentsList`), and the check that a member's LeafNode supports what the group's
//! GroupContext requires (rules XT-01 to XT-03).
//!
//! A requirement is what the GroupContext lists; a leaf meets it when its own LeafNode lists
//! the same values:
//!
//! | GroupContext | LeafNode | rule |
//! |---|---|---|
//! | `required_wire_formats` extension | `supported_wire_formats` extension | XT-01 |
//! | `app_components` and `safe_aad` components of `app_data_dictionary` | the same components of its own `app_data_dictionary` | XT-02 |
//! | `content_media_types` component | its `content_media_types` component (by media type, parameters aside) | XT-03 |
//!
//! Every path that accepts a leaf checks it against the group's requirements (an Add, an
//! Update, a commit's path, a tree received on joining), and a commit that changes the
//! requirements is checked against every member, once.

use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::ComponentId;
use super::app_data::AppDataDictionary;
use super::media_types::MediaTypeList;
use crate::codec::{CodecError, VarVec};
use crate::rules::{Rule, Violation};
use crate::wire::{ExtensionType, Extensions, LeafNode};

/// `app_components` (0x0001): in a LeafNode the components the client supports, in the
/// GroupContext those every member must support.
pub const APP_COMPONENTS: ComponentId = 0x0001;
/// `safe_aad` (0x0002): the components that use Safe AAD (supported in a LeafNode, required
/// in the GroupContext); present in the GroupContext, `authenticated_data` is a `SafeAAD`.
pub const SAFE_AAD: ComponentId = 0x0002;
/// `content_media_types` (0x0003): the media types a client can receive (LeafNode) or every
/// member must (GroupContext, which also frames `application_data` as `ApplicationFraming`).
pub const CONTENT_MEDIA_TYPES: ComponentId = 0x0003;
/// `last_resort_key_package` (0x0004): marks a KeyPackage of last resort (empty data).
pub const LAST_RESORT_KEY_PACKAGE: ComponentId = 0x0004;
/// `app_ack` (0x0005): an `AppAck` carried in an AppEphemeral proposal.
pub const APP_ACK: ComponentId = 0x0005;

/// `supported_wire_formats` (0x0007, suggested): the non-default wire formats a client
/// supports (LeafNode).
pub const SUPPORTED_WIRE_FORMATS: ExtensionType = ExtensionType(0x0007);
/// `required_wire_formats` (0x0008, suggested): the non-default wire formats every member
/// must support (GroupContext).
pub const REQUIRED_WIRE_FORMATS: ExtensionType = ExtensionType(0x0008);

/// `ComponentsList`: a list of component ids (`app_components`, `safe_aad`).
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ComponentsList {
    /// `ComponentID component_ids<V>`.
    pub component_ids: VarVec<ComponentId>,
}

/// `WireFormats`: the body of `supported_wire_formats` and `required_wire_formats`. The
/// values are kept as numbers: unknown wire formats are what these lists are for.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct WireFormats {
    /// `WireFormat wire_formats<V>`.
    pub wire_formats: VarVec<u16>,
}

/// `supported_wire_formats` in a LeafNode.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct SupportedWireFormats(pub WireFormats);

/// `required_wire_formats` in a GroupContext.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct RequiredWireFormats(pub WireFormats);

crate::wire::extension_view!(SupportedWireFormats, SUPPORTED_WIRE_FORMATS);
crate::wire::extension_view!(RequiredWireFormats, REQUIRED_WIRE_FORMATS);

impl AppDataDictionary {
    /// The `ComponentsList` stored under `component` (`app_components` or `safe_aad`), if
    /// there is an entry.
    ///
    /// # Errors
    /// [`CodecError`] if the entry is not a `ComponentsList`.
    pub fn components_list(
        &self,
        component: ComponentId,
    ) -> Result<Option<ComponentsList>, CodecError> {
        self.get(component)
            .map(crate::codec::decode_exact)
            .transpose()
    }

    /// The `content_media_types` entry, if there is one.
    ///
    /// # Errors
    /// [`CodecError`] if the entry is not a `MediaTypeList`.
    pub fn media_types(&self) -> Result<Option<MediaTypeList>, CodecError> {
        self.get(CONTENT_MEDIA_TYPES)
            .map(crate::codec::decode_exact)
            .transpose()
    }
}

/// What a group's GroupContext extensions require of every member's LeafNode, decoded once.
#[derive(Clone, Debug, Default)]
pub(crate) struct Requirements {
    wire_formats: Vec<u16>,
    components: Vec<ComponentId>,
    safe_aad: Vec<ComponentId>,
    media_types: Vec<Vec<u8>>,
}

impl Requirements {
    /// The requirements of the GroupContext `extensions` (a malformed requirement breaks the
    /// rule it states).
    pub(crate) fn of(extensions: &Extensions) -> Result<Self, Violation> {
        let mut out = Self::default();
        if let Some(required) = extensions
            .typed::<RequiredWireFormats>()
            .map_err(|_| Violation::new(Rule::LeafWireFormats))?
        {
            out.wire_formats = required.0.wire_formats.0;
        }
        let Some(dictionary) = extensions
            .typed::<AppDataDictionary>()
            .map_err(|_| Violation::new(Rule::LeafComponents))?
        else {
            return Ok(out);
        };
        let list = |c| {
            dictionary
                .components_list(c)
                .map(|l| l.map(|l| l.component_ids.0).unwrap_or_default())
                .map_err(|_| Violation::new(Rule::LeafComponents))
        };
        out.components = list(APP_COMPONENTS)?;
        out.safe_aad = list(SAFE_AAD)?;
        if let Some(types) = dictionary
            .media_types()
            .map_err(|_| Violation::new(Rule::LeafMediaTypes))?
        {
            out.media_types = types.normalized_types();
        }
        Ok(out)
    }

    /// Whether nothing is required.
    pub(crate) fn is_empty(&self) -> bool {
        self.wire_formats.is_empty()
            && self.components.is_empty()
            && self.safe_aad.is_empty()
            && self.media_types.is_empty()
    }

    /// XT-01 to XT-03: `leaf` supports every requirement.
    pub(crate) fn check(&self, leaf: &LeafNode) -> Result<(), Violation> {
        if self.is_empty() {
            return Ok(());
        }
        if !self.wire_formats.is_empty() {
            let supported = leaf
                .extensions
                .typed::<SupportedWireFormats>()
                .ok()
                .flatten()
                .map(|s| s.0.wire_formats.0)
                .unwrap_or_default();
            if let Some(w) = self.wire_formats.iter().find(|w| !supported.contains(w)) {
                return Err(Violation::new(Rule::LeafWireFormats).with(
                    crate::rules::Detail::Reason(format!("wire format 0x{w:04x}")),
                ));
            }
        }
        if self.components.is_empty() && self.safe_aad.is_empty() && self.media_types.is_empty() {
            return Ok(());
        }
        let dictionary = leaf
            .extensions
            .typed::<AppDataDictionary>()
            .ok()
            .flatten()
            .unwrap_or_default();
        for (component, required) in [
            (APP_COMPONENTS, &self.components),
            (SAFE_AAD, &self.safe_aad),
        ] {
            if required.is_empty() {
                continue;
            }
            let listed = dictionary
                .components_list(component)
                .ok()
                .flatten()
                .map(|l| l.component_ids.0)
                .unwrap_or_default();
            if let Some(c) = required.iter().find(|c| !listed.contains(c)) {
                return Err(Violation::new(Rule::LeafComponents).with(
                    crate::rules::Detail::Reason(format!("component 0x{c:04x} of {component}")),
                ));
            }
        }
        if !self.media_types.is_empty() {
            let listed = dictionary
                .media_types()
                .ok()
                .flatten()
                .map(|l| l.normalized_types())
                .unwrap_or_default();
            if let Some(t) = self.media_types.iter().find(|t| !listed.contains(t)) {
                return Err(Violation::new(Rule::LeafMediaTypes).with(
                    crate::rules::Detail::Reason(String::from_utf8_lossy(t).into_owned()),
                ));
            }
        }
        Ok(())
    }
}

/// XT-01 to XT-03 for one leaf against the GroupContext `extensions`.
pub(crate) fn check_leaf(leaf: &LeafNode, extensions: &Extensions) -> Result<(), Violation> {
    Requirements::of(extensions)?.check(leaf)
}

/// Whether the extensions `a` and `b` state the same requirements (a commit that changes
/// them is checked against every member).
pub(crate) fn same_requirements(a: &Extensions, b: &Extensions) -> bool {
    let dictionary = |e: &Extensions| {
        e.typed::<AppDataDictionary>().ok().flatten().map(|d| {
            [APP_COMPONENTS, SAFE_AAD, CONTENT_MEDIA_TYPES].map(|c| d.get(c).map(<[u8]>::to_vec))
        })
    };
    a.find(REQUIRED_WIRE_FORMATS) == b.find(REQUIRED_WIRE_FORMATS) && dictionary(a) == dictionary(b)
}
