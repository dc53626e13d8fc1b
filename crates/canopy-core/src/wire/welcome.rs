//! The Welcome (RFC 9420 §12.4.3.1) and the GroupSecrets it carries, HPKE-encrypted, to each
//! new member.
//!
//! `joiner_secret` and `path_secret` are held as [`Secret`]s: wiped on drop, compared in
//! constant time and never printed by `Debug`.

use canopy_crypto::{CipherSuite, Secret};
use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::proposals::PreSharedKeyId;
use super::tree::HpkeCiphertext;
use crate::codec::{VarBytes, VarVec};

/// RFC 9420 §12.4.3.1 `PathSecret`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct PathSecret {
    /// `opaque path_secret<V>`.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub path_secret: Secret,
}

/// RFC 9420 §12.4.3.1 `GroupSecrets`: what a new member decrypts from its
/// `EncryptedGroupSecrets`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct GroupSecrets {
    /// `opaque joiner_secret<V>`.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub joiner_secret: Secret,
    /// `optional<PathSecret> path_secret`: the secret of the lowest common ancestor of the
    /// committer and the new member, if the Commit had a path.
    #[tls_codec(with = "crate::codec::fields::optional")]
    pub path_secret: Option<PathSecret>,
    /// `PreSharedKeyID psks<V>`: the PSKs of the Commit, in order.
    pub psks: VarVec<PreSharedKeyId>,
}

/// RFC 9420 §12.4.3.1 `EncryptedGroupSecrets`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct EncryptedGroupSecrets {
    /// `KeyPackageRef new_member` (`opaque HashReference<V>`, §5.2).
    pub new_member: VarBytes,
    /// `HPKECiphertext encrypted_group_secrets`.
    pub encrypted_group_secrets: HpkeCiphertext,
}

/// RFC 9420 §12.4.3.1 `Welcome`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Welcome {
    /// `CipherSuite cipher_suite`.
    #[tls_codec(with = "super::primitives::cipher_suite")]
    pub cipher_suite: CipherSuite,
    /// `EncryptedGroupSecrets secrets<V>`: one entry per new member.
    pub secrets: VarVec<EncryptedGroupSecrets>,
    /// `opaque encrypted_group_info<V>`: the GroupInfo, AEAD-encrypted under the welcome key.
    pub encrypted_group_info: VarBytes,
}
