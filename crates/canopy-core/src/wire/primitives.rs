//! Code points and small shared field types of RFC 9420: protocol versions, wire formats,
//! content and sender types (§6), and the IANA-registered `uint16` types that a receiver must
//! carry even when it does not know them (extension, proposal and credential types, §17).
//!
//! Two shapes, chosen by what RFC 9420 lets a receiver do with an unknown value:
//! - **closed** enums ([`WireFormat`], [`ContentType`], [`SenderType`] and the ones built with
//!   `closed_enum!` elsewhere in `wire`) are Rust enums; an undefined or `reserved(0)` value is
//!   a decode error, [`CodecError::InvalidCode`] naming the [`CodeKind`];
//! - **open** types ([`ProtocolVersion`], [`ExtensionType`], [`ProposalType`],
//!   [`CredentialType`]) are `u16` newtypes with named constants, because capabilities lists and
//!   extension lists carry unknown and GREASE values (§13.5) that MUST be ignored, not rejected.
//!
//! [`CodecError::InvalidCode`]: crate::codec::CodecError::InvalidCode
//! [`CodeKind`]: crate::codec::CodeKind

use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

/// Declares a closed RFC 9420 enum of `u8` or `u16` code points together with its codec: an
/// undefined value decodes to [`CodecError::InvalidCode`](crate::codec::CodecError::InvalidCode)
/// with the given [`CodeKind`](crate::codec::CodeKind).
macro_rules! closed_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $repr:ident, $kind:ident {
            $($(#[$vmeta:meta])* $variant:ident = $value:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr($repr)]
        $vis enum $name {
            $($(#[$vmeta])* $variant = $value,)+
        }

        impl $name {
            /// The code point as carried on the wire.
            pub const fn value(self) -> $repr {
                self as $repr
            }

            /// The variant for a wire value, or `None` for a reserved or undefined value.
            pub const fn from_value(value: $repr) -> Option<Self> {
                match value {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl tls_codec::Size for $name {
            fn tls_serialized_len(&self) -> usize {
                core::mem::size_of::<$repr>()
            }
        }

        impl tls_codec::Serialize for $name {
            fn tls_serialize<W: std::io::Write>(
                &self,
                writer: &mut W,
            ) -> Result<usize, tls_codec::Error> {
                tls_codec::Serialize::tls_serialize(&self.value(), writer)
            }
        }

        impl tls_codec::DeserializeBytes for $name {
            fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
                let (value, rest) = <$repr as tls_codec::DeserializeBytes>::tls_deserialize_bytes(bytes)?;
                match Self::from_value(value) {
                    Some(v) => Ok((v, rest)),
                    None => Err($crate::codec::CodecError::InvalidCode {
                        kind: $crate::codec::CodeKind::$kind,
                        value: $crate::wire::primitives::widen(value),
                    }
                    .into_tls_decoding()),
                }
            }
        }
    };
}

pub(crate) use closed_enum;

/// Widens a `u8` or `u16` code point for [`CodecError::InvalidCode`](crate::codec::CodecError).
pub(crate) fn widen(value: impl Into<u16>) -> u16 {
    value.into()
}

/// Declares an open `uint16` code point as a newtype with named constants.
macro_rules! open_code {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$cmeta:meta])* $constant:ident = $value:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(TlsDeserializeBytes, TlsSerialize, TlsSize)]
        pub struct $name(pub u16);

        impl $name {
            $($(#[$cmeta])* pub const $constant: Self = Self($value);)*

            /// Whether this is one of the GREASE values of RFC 9420 §13.5 (`0x_A_A` with equal
            /// high nibbles, `0x0A0A` to `0xEAEA`).
            pub const fn is_grease(self) -> bool {
                let [hi, lo] = self.0.to_be_bytes();
                hi == lo && hi & 0x0F == 0x0A && hi != 0xFA
            }
        }
    };
}

open_code!(
    /// RFC 9420 §6 `ProtocolVersion`. Open, because a ReInit (§12.1.5) and capabilities
    /// (§7.2) name versions this implementation may not know; only [`MlsMessage`] requires
    /// [`ProtocolVersion::MLS10`].
    ///
    /// [`MlsMessage`]: super::MlsMessage
    ProtocolVersion {
        /// `mls10(1)`, the version RFC 9420 defines.
        MLS10 = 1,
    }
);

open_code!(
    /// RFC 9420 §13.4 and §17.3 `ExtensionType`. Unknown and GREASE values are carried.
    ExtensionType {
        /// RFC 9420 §5.3.3 `application_id` (0x0001).
        APPLICATION_ID = 0x0001,
        /// RFC 9420 §12.4.3.3 `ratchet_tree` (0x0002).
        RATCHET_TREE = 0x0002,
        /// RFC 9420 §11.1 `required_capabilities` (0x0003).
        REQUIRED_CAPABILITIES = 0x0003,
        /// RFC 9420 §12.4.3.2 `external_pub` (0x0004).
        EXTERNAL_PUB = 0x0004,
        /// RFC 9420 §12.1.8.1 `external_senders` (0x0005).
        EXTERNAL_SENDERS = 0x0005,
    }
);

open_code!(
    /// RFC 9420 §12.1 and §17.4 `ProposalType`. Open inside capabilities and
    /// required_capabilities; a [`Proposal`](super::Proposal) with an unknown type cannot be
    /// decoded.
    ProposalType {
        /// `add` (0x0001), RFC 9420 §12.1.1.
        ADD = 0x0001,
        /// `update` (0x0002), RFC 9420 §12.1.2.
        UPDATE = 0x0002,
        /// `remove` (0x0003), RFC 9420 §12.1.3.
        REMOVE = 0x0003,
        /// `psk` (0x0004), RFC 9420 §12.1.4.
        PSK = 0x0004,
        /// `reinit` (0x0005), RFC 9420 §12.1.5.
        REINIT = 0x0005,
        /// `external_init` (0x0006), RFC 9420 §12.1.6.
        EXTERNAL_INIT = 0x0006,
        /// `group_context_extensions` (0x0007), RFC 9420 §12.1.7.
        GROUP_CONTEXT_EXTENSIONS = 0x0007,
    }
);

#[cfg(feature = "extensions")]
impl ProposalType {
    /// `self_remove` (0x000a), draft-ietf-mls-extensions §SelfRemove (the value the draft
    /// suggests, used by OpenMLS).
    pub const SELF_REMOVE: Self = Self(0x000a);
    /// The private-use value RCS (GSMA UP 3.0) and mls-rs use for SelfRemove (0xF003).
    pub const SELF_REMOVE_F003: Self = Self(0xF003);
    /// `app_data_update` (0x0008), draft-ietf-mls-extensions §AppDataUpdate (suggested).
    pub const APP_DATA_UPDATE: Self = Self(0x0008);
    /// `app_ephemeral` (0x0009), draft-ietf-mls-extensions §AppEphemeral (suggested).
    pub const APP_EPHEMERAL: Self = Self(0x0009);
}

open_code!(
    /// RFC 9420 §5.3 and §17.5 `CredentialType`. Open inside capabilities; a
    /// [`Credential`](super::Credential) with an unknown type cannot be decoded.
    CredentialType {
        /// `basic` (0x0001).
        BASIC = 0x0001,
        /// `x509` (0x0002).
        X509 = 0x0002,
        /// `multi` (0x0003), draft-ietf-mls-extensions §Multi-Credentials (suggested).
        MULTI = 0x0003,
        /// `weak-multi` (0x0004), draft-ietf-mls-extensions §Multi-Credentials (suggested).
        WEAK_MULTI = 0x0004,
    }
);

closed_enum!(
    /// RFC 9420 §6 and §17.2 `WireFormat`: which message an [`MlsMessage`](super::MlsMessage)
    /// carries. The registry is open, but a body of an unknown format cannot be delimited, so
    /// only the five RFC 9420 formats decode (private-use values are rejected).
    #[non_exhaustive]
    pub enum WireFormat: u16, WireFormat {
        /// `mls_public_message` (0x0001).
        PublicMessage = 1,
        /// `mls_private_message` (0x0002).
        PrivateMessage = 2,
        /// `mls_welcome` (0x0003).
        Welcome = 3,
        /// `mls_group_info` (0x0004).
        GroupInfo = 4,
        /// `mls_key_package` (0x0005).
        KeyPackage = 5,
    }
);

closed_enum!(
    /// RFC 9420 §6 `ContentType`: what a FramedContent or PrivateMessage carries.
    pub enum ContentType: u8, ContentType {
        /// `application(1)`: application data.
        Application = 1,
        /// `proposal(2)`: a Proposal.
        Proposal = 2,
        /// `commit(3)`: a Commit.
        Commit = 3,
    }
);

closed_enum!(
    /// RFC 9420 §6 `SenderType`: the kind of [`Sender`](super::Sender).
    pub enum SenderType: u8, SenderType {
        /// `member(1)`: a member, identified by leaf index.
        Member = 1,
        /// `external(2)`: an external sender from the `external_senders` extension.
        External = 2,
        /// `new_member_proposal(3)`: a joiner proposing its own Add.
        NewMemberProposal = 3,
        /// `new_member_commit(4)`: a joiner sending an external Commit.
        NewMemberCommit = 4,
    }
);

/// `#[tls_codec(with = ...)]` adapter for a [`CipherSuite`](canopy_crypto::CipherSuite)
/// field: RFC 9420 §5.1 `uint16 CipherSuite`. Any value is carried; suite support is checked
/// by the protocol layers.
pub(crate) mod cipher_suite {
    use std::io::Write;

    use canopy_crypto::CipherSuite;
    use tls_codec::{DeserializeBytes, Serialize};

    /// Always 2.
    pub(crate) fn tls_serialized_len(_: &CipherSuite) -> usize {
        2
    }

    /// Writes the `uint16`.
    pub(crate) fn tls_serialize<W: Write>(
        suite: &CipherSuite,
        writer: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        suite.0.tls_serialize(writer)
    }

    /// Reads the `uint16`.
    pub(crate) fn tls_deserialize_bytes(
        bytes: &[u8],
    ) -> Result<(CipherSuite, &[u8]), tls_codec::Error> {
        let (value, rest) = u16::tls_deserialize_bytes(bytes)?;
        Ok((CipherSuite(value), rest))
    }
}

/// `#[tls_codec(with = ...)]` adapter for `CipherSuite cipher_suites<V>` (RFC 9420 §7.2
/// Capabilities) held as a `Vec<CipherSuite>`. Unknown and GREASE suites are carried.
pub(crate) mod cipher_suite_list {
    use std::io::Write;

    use canopy_crypto::CipherSuite;
    use tls_codec::{DeserializeBytes, Serialize, Size};

    use crate::codec::VarVec;

    fn as_codes(suites: &[CipherSuite]) -> VarVec<u16> {
        VarVec(suites.iter().map(|s| s.0).collect())
    }

    /// The varint header plus two bytes per suite.
    pub(crate) fn tls_serialized_len(suites: &[CipherSuite]) -> usize {
        as_codes(suites).tls_serialized_len()
    }

    /// Writes the `<V>` vector of `uint16`s.
    pub(crate) fn tls_serialize<W: Write>(
        suites: &[CipherSuite],
        writer: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        as_codes(suites).tls_serialize(writer)
    }

    /// Reads the `<V>` vector of `uint16`s.
    pub(crate) fn tls_deserialize_bytes(
        bytes: &[u8],
    ) -> Result<(Vec<CipherSuite>, &[u8]), tls_codec::Error> {
        let (codes, rest) = VarVec::<u16>::tls_deserialize_bytes(bytes)?;
        Ok((codes.0.into_iter().map(CipherSuite).collect(), rest))
    }
}
