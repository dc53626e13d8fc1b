//! Capabilities (RFC 9420 §7.2), default types, the extension types this layer recognises, and
//! GREASE (§13.5).
//!
//! A client's *own* capabilities ([`default_capabilities`], [`LeafNodeParams`]) never hold
//! GREASE values (§13.5: "representations of a client's own capabilities MUST NOT contain
//! GREASE values"); GREASE is added only to the copy that is signed and sent.
//!
//! [`LeafNodeParams`]: super::LeafNodeParams

use canopy_crypto::{CipherSuite, CryptoProvider};

use super::KeyPackageError;
use crate::codec::VarVec;
use crate::wire::{
    Capabilities, CredentialType, Extension, ExtensionType, ExtensionView, Extensions,
    ProposalType, ProtocolVersion,
};

impl ExtensionType {
    /// `last_resort` (0x000A): marks a KeyPackage as a "last resort" KeyPackage that may be
    /// used more than once (RFC 9420 §16.8). RFC 9420 defines no code point for it; 0x000A with
    /// empty `extension_data` is the value of draft-ietf-mls-extensions-03 that deployed
    /// implementations use. The current extensions draft instead carries it as component
    /// 0x0004 of `app_data_dictionary`, which this layer does not parse.
    pub const LAST_RESORT: Self = Self(0x000A);
}

/// The GREASE values of RFC 9420 §13.5, reserved in every registry that allows them.
pub const GREASE_VALUES: [u16; 15] = [
    0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A, 0x8A8A, 0x9A9A, 0xAAAA, 0xBABA,
    0xCACA, 0xDADA, 0xEAEA,
];

/// RFC 9420 §7.2: whether `t` is a "default" extension type (0x0001 to 0x0005), assumed
/// supported by every client and never listed in capabilities.
pub fn is_default_extension(t: ExtensionType) -> bool {
    (0x0001..=0x0005).contains(&t.0)
}

/// RFC 9420 §7.2: whether `t` is a "default" proposal type (0x0001 to 0x0007), assumed
/// supported by every client and never listed in capabilities.
pub fn is_default_proposal(t: ProposalType) -> bool {
    (0x0001..=0x0007).contains(&t.0)
}

/// Where a recognised extension type may appear (RFC 9420 §17.3 "Message(s)").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// LeafNode `extensions`.
    LeafNode,
    /// KeyPackage `extensions`.
    KeyPackage,
}

/// RFC 9420 §17.3: whether an extension of type `t` may appear at `place`. Only types this
/// layer recognises are restricted (RFC 9420's five and `last_resort`); unknown types,
/// GREASE included, may appear anywhere and are subject to the capabilities check instead.
pub(crate) fn allowed_in(t: ExtensionType, place: Place) -> bool {
    match t {
        ExtensionType::APPLICATION_ID => place == Place::LeafNode,
        ExtensionType::LAST_RESORT => place == Place::KeyPackage,
        #[cfg(feature = "extensions")]
        crate::extensions::SUPPORTED_WIRE_FORMATS => place == Place::LeafNode,
        #[cfg(feature = "extensions")]
        crate::extensions::REQUIRED_WIRE_FORMATS => false,
        t if is_default_extension(t) => false,
        _ => true,
    }
}

/// RFC 9420 §7.2: the capabilities of a client that runs `suite` with basic credentials and
/// no non-default extensions or proposals: versions `[mls10]`, cipher suites `[suite]`,
/// credentials `[basic]`. No GREASE (this is the client's own view, §13.5); set
/// [`LeafNodeParams::grease`](super::LeafNodeParams::grease) to send GREASE.
pub fn default_capabilities(suite: CipherSuite) -> Capabilities {
    Capabilities {
        versions: VarVec(vec![ProtocolVersion::MLS10]),
        cipher_suites: vec![suite],
        extensions: default_extensions(),
        proposals: default_proposals(),
        credentials: VarVec(vec![CredentialType::BASIC]),
    }
}

/// The non-default extension types Canopy supports: none for RFC 9420; with the
/// `extensions` feature, `app_data_dictionary` (whose `app_components` and `safe_aad`
/// components it understands), `supported_wire_formats` and `required_wire_formats`.
fn default_extensions() -> VarVec<ExtensionType> {
    #[cfg(feature = "extensions")]
    {
        VarVec(vec![
            crate::extensions::APP_DATA_DICTIONARY,
            crate::extensions::SUPPORTED_WIRE_FORMATS,
            crate::extensions::REQUIRED_WIRE_FORMATS,
        ])
    }
    #[cfg(not(feature = "extensions"))]
    {
        VarVec::default()
    }
}

/// The non-default proposal types Canopy supports: none for RFC 9420; with the
/// `extensions` feature, SelfRemove under both its code points, AppDataUpdate and
/// AppEphemeral.
fn default_proposals() -> VarVec<ProposalType> {
    #[cfg(feature = "extensions")]
    {
        VarVec(vec![
            ProposalType::SELF_REMOVE,
            ProposalType::SELF_REMOVE_F003,
            ProposalType::APP_DATA_UPDATE,
            ProposalType::APP_EPHEMERAL,
        ])
    }
    #[cfg(not(feature = "extensions"))]
    {
        VarVec::default()
    }
}

/// RFC 9420 §13.5: `capabilities` without any GREASE value, the form a client keeps as its
/// own view.
pub fn strip_grease(capabilities: &Capabilities) -> Capabilities {
    Capabilities {
        versions: keep(&capabilities.versions, |v| !v.is_grease()),
        cipher_suites: capabilities
            .cipher_suites
            .iter()
            .copied()
            .filter(|s| !GREASE_VALUES.contains(&s.0))
            .collect(),
        extensions: keep(&capabilities.extensions, |t| !t.is_grease()),
        proposals: keep(&capabilities.proposals, |t| !t.is_grease()),
        credentials: keep(&capabilities.credentials, |t| !t.is_grease()),
    }
}

/// RFC 9420 §13.5: whether `capabilities` were GREASEd, that is whether the cipher-suite,
/// proposal or credential list holds a GREASE value. The extension list is not consulted: it
/// also lists the types of GREASE extensions carried, which [`LeafNodeParams::grease`]
/// does not control.
///
/// [`LeafNodeParams::grease`]: super::LeafNodeParams::grease
pub(crate) fn has_grease(capabilities: &Capabilities) -> bool {
    capabilities
        .cipher_suites
        .iter()
        .any(|s| GREASE_VALUES.contains(&s.0))
        || capabilities
            .proposals
            .as_slice()
            .iter()
            .any(|t| t.is_grease())
        || capabilities
            .credentials
            .as_slice()
            .iter()
            .any(|t| t.is_grease())
}

fn keep<T: Copy>(list: &VarVec<T>, f: impl Fn(&T) -> bool) -> VarVec<T> {
    VarVec(list.as_slice().iter().copied().filter(|x| f(x)).collect())
}

fn push_unique<T: Copy + PartialEq>(list: &mut VarVec<T>, value: T) {
    if !list.as_slice().contains(&value) {
        list.0.push(value);
    }
}

/// The capabilities a new leaf is signed with (RFC 9420 §7.2): `own`, completed so that it
/// lists the group's `suite`, `mls10`, the credential type in use and every non-default
/// extension type in `carried`, with default proposal and extension types removed ("MUST
/// NOT be listed") and duplicates dropped.
pub(crate) fn complete_capabilities<'a>(
    own: &Capabilities,
    suite: CipherSuite,
    credential_type: CredentialType,
    carried: impl Iterator<Item = &'a Extension>,
) -> Capabilities {
    let mut caps = Capabilities {
        versions: VarVec::default(),
        cipher_suites: Vec::new(),
        extensions: VarVec::default(),
        proposals: VarVec::default(),
        credentials: VarVec::default(),
    };
    for &v in own.versions.as_slice() {
        push_unique(&mut caps.versions, v);
    }
    push_unique(&mut caps.versions, ProtocolVersion::MLS10);
    for &s in own.cipher_suites.iter().chain([&suite]) {
        if !caps.cipher_suites.contains(&s) {
            caps.cipher_suites.push(s);
        }
    }
    for &t in own.extensions.as_slice() {
        if !is_default_extension(t) {
            push_unique(&mut caps.extensions, t);
        }
    }
    for e in carried {
        if !is_default_extension(e.extension_type) {
            push_unique(&mut caps.extensions, e.extension_type);
        }
    }
    for &p in own.proposals.as_slice() {
        if !is_default_proposal(p) {
            push_unique(&mut caps.proposals, p);
        }
    }
    for &c in own.credentials.as_slice() {
        push_unique(&mut caps.credentials, c);
    }
    push_unique(&mut caps.credentials, credential_type);
    caps
}

/// Draws GREASE values (RFC 9420 §13.5) from the provider's random generator.
pub(crate) struct GreasePicker {
    bytes: Vec<u8>,
}

impl GreasePicker {
    /// Pre-draws enough randomness for one LeafNode and one KeyPackage.
    pub(crate) fn new(provider: &dyn CryptoProvider) -> Result<Self, KeyPackageError> {
        // With the extensions feature, component GREASE (a dictionary entry and two lists,
        // in a LeafNode and a KeyPackage) draws from the same bytes.
        let mut bytes = vec![0u8; 64];
        provider.fill_random(&mut bytes)?;
        Ok(Self { bytes })
    }

    /// A random GREASE value not in `taken` (there are 15 and every list here is short, so
    /// one is always free unless `taken` holds all of them).
    pub(crate) fn pick(&mut self, taken: &[u16]) -> Option<u16> {
        let r = usize::from(self.bytes.pop().unwrap_or(0));
        let free: Vec<u16> = GREASE_VALUES
            .iter()
            .copied()
            .filter(|g| !taken.contains(g))
            .collect();
        free.get(r.checked_rem(free.len())?).copied()
    }

    /// One random byte.
    #[cfg(feature = "extensions")]
    pub(crate) fn byte(&mut self) -> u8 {
        self.bytes.pop().unwrap_or(0)
    }

    /// A random number of random bytes (0 to 7) for a GREASE extension's data.
    pub(crate) fn data(&mut self) -> Vec<u8> {
        let n = usize::from(self.bytes.pop().unwrap_or(0) & 0x07);
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.bytes.pop().unwrap_or(0));
        }
        out
    }

    /// Adds one random GREASE value to each list of `caps` that §13.5 allows it in:
    /// cipher suites, extensions, proposals and credentials.
    pub(crate) fn grease_capabilities(&mut self, caps: &mut Capabilities) {
        let suites: Vec<u16> = caps.cipher_suites.iter().map(|s| s.0).collect();
        if let Some(g) = self.pick(&suites) {
            caps.cipher_suites.push(CipherSuite(g));
        }
        let taken: Vec<u16> = caps.extensions.as_slice().iter().map(|t| t.0).collect();
        if let Some(g) = self.pick(&taken) {
            caps.extensions.0.push(ExtensionType(g));
        }
        let taken: Vec<u16> = caps.proposals.as_slice().iter().map(|t| t.0).collect();
        if let Some(g) = self.pick(&taken) {
            caps.proposals.0.push(ProposalType(g));
        }
        let taken: Vec<u16> = caps.credentials.as_slice().iter().map(|t| t.0).collect();
        if let Some(g) = self.pick(&taken) {
            caps.credentials.0.push(CredentialType(g));
        }
    }

    /// `extensions` plus one GREASE extension of a type not yet in it, with random data
    /// (§13.5). The caller lists its type in the capabilities (§7.2 for LeafNode extensions,
    /// §10 for KeyPackage extensions).
    pub(crate) fn grease_extensions(
        &mut self,
        extensions: &Extensions,
    ) -> Result<Extensions, KeyPackageError> {
        let taken: Vec<u16> = extensions
            .as_slice()
            .iter()
            .map(|e| e.extension_type.0)
            .collect();
        let mut list = extensions.as_slice().to_vec();
        if let Some(g) = self.pick(&taken) {
            list.push(Extension::new(ExtensionType(g), self.data()));
        }
        Ok(Extensions::new(list)?)
    }
}

/// The `last_resort` KeyPackage extension (type [`ExtensionType::LAST_RESORT`], empty
/// `extension_data`): the KeyPackage may be used more than once (RFC 9420 §16.8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastResort;

impl ExtensionView for LastResort {
    const EXTENSION_TYPE: ExtensionType = ExtensionType::LAST_RESORT;

    fn from_extension_data(extension_data: &[u8]) -> Result<Self, crate::codec::CodecError> {
        if extension_data.is_empty() {
            Ok(Self)
        } else {
            Err(crate::codec::CodecError::TrailingBytes {
                count: extension_data.len(),
            })
        }
    }

    fn to_extension(&self) -> Result<Extension, crate::codec::CodecError> {
        Ok(Extension::new(Self::EXTENSION_TYPE, Vec::new()))
    }
}
