//! What creating and joining a group take, as builders: the required values in `new`, the
//! rest with defaults.

use std::collections::BTreeMap;
use std::sync::Arc;

use canopy_crypto::{CipherSuite, Secret, Signer};

use super::GroupConfig;
use crate::key_package::{KeyPackageBundle, LeafNodeParams};
use crate::wire::{self, Extensions, Welcome};

/// No external PSKs.
static NO_PSKS: BTreeMap<Vec<u8>, Secret> = BTreeMap::new();

/// What [`Group::create`](super::Group::create) needs (RFC 9420 §11).
///
/// ```
/// # use std::sync::Arc;
/// # use canopy_core::advanced::codec::VarBytes;
/// # use canopy_core::group::{CreateParams, GroupConfig};
/// # use canopy_core::key_package::LeafNodeParams;
/// # use canopy_core::wire::Credential;
/// # use canopy_crypto::{CipherSuite, CryptoProvider};
/// # let provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
/// # let suite = CipherSuite(1);
/// # let signer = Arc::new(provider.suite(suite).unwrap().signature_generate_key_pair().unwrap());
/// let leaf = LeafNodeParams::new(Credential::Basic { identity: VarBytes(b"alice".to_vec()) }, suite);
/// let params = CreateParams::new(suite, b"group".to_vec(), &leaf, signer)
///     .config(GroupConfig::default());
/// # let _ = params;
/// ```
#[must_use]
pub struct CreateParams<'a> {
    pub(super) suite: CipherSuite,
    pub(super) group_id: Vec<u8>,
    pub(super) leaf: &'a LeafNodeParams,
    pub(super) signer: Arc<dyn Signer>,
    pub(super) config: GroupConfig,
    pub(super) extensions: Extensions,
}

impl<'a> CreateParams<'a> {
    /// A group of `suite` with id `group_id`, whose creator's leaf is built from `leaf` and
    /// signed by `signer`; the default [`GroupConfig`] and no GroupContext extensions.
    pub fn new(
        suite: CipherSuite,
        group_id: Vec<u8>,
        leaf: &'a LeafNodeParams,
        signer: Arc<dyn Signer>,
    ) -> Self {
        Self {
            suite,
            group_id,
            leaf,
            signer,
            config: GroupConfig::default(),
            extensions: Extensions::default(),
        }
    }

    /// The group's configuration.
    pub fn config(mut self, config: GroupConfig) -> Self {
        self.config = config;
        self
    }

    /// The GroupContext extensions of epoch 0 (RFC 9420 §8.1: required capabilities,
    /// external senders...).
    pub fn extensions(mut self, extensions: Extensions) -> Self {
        self.extensions = extensions;
        self
    }
}

/// What [`Group::join`](super::Group::join) needs (RFC 9420 §12.4.3.1): the Welcome, the
/// KeyPackage it was sent to with its private keys, and our signer; optionally the ratchet
/// tree (when the Welcome carries none), the PSKs the Welcome names and a configuration.
#[must_use]
pub struct JoinParams<'a> {
    pub(super) welcome: &'a Welcome,
    pub(super) key_package: &'a KeyPackageBundle,
    pub(super) signer: Arc<dyn Signer>,
    pub(super) config: GroupConfig,
    pub(super) ratchet_tree: Option<wire::RatchetTree>,
    pub(super) external_psks: &'a BTreeMap<Vec<u8>, Secret>,
    pub(super) resumption_psks: &'a [(Vec<u8>, u64, Secret)],
}

impl<'a> JoinParams<'a> {
    /// A join from `welcome` with `key_package`, signing with `signer` (which must hold the
    /// KeyPackage's signature key); the default [`GroupConfig`], no tree and no PSKs.
    pub fn new(
        welcome: &'a Welcome,
        key_package: &'a KeyPackageBundle,
        signer: Arc<dyn Signer>,
    ) -> Self {
        Self {
            welcome,
            key_package,
            signer,
            config: GroupConfig::default(),
            ratchet_tree: None,
            external_psks: &NO_PSKS,
            resumption_psks: &[],
        }
    }

    /// The group's configuration.
    pub fn config(mut self, config: GroupConfig) -> Self {
        self.config = config;
        self
    }

    /// The ratchet tree, for a Welcome without the `ratchet_tree` extension (RFC 9420
    /// §12.4.3.3). `None` leaves it to the Welcome.
    pub fn ratchet_tree(mut self, tree: impl Into<Option<wire::RatchetTree>>) -> Self {
        self.ratchet_tree = tree.into();
        self
    }

    /// External PSKs by PSK id (RFC 9420 §8.4), for a Welcome that names some.
    pub fn external_psks(mut self, psks: &'a BTreeMap<Vec<u8>, Secret>) -> Self {
        self.external_psks = psks;
        self
    }

    /// Resumption PSKs with usage `application`, as `(group_id, epoch, psk)`.
    pub fn resumption_psks(mut self, psks: &'a [(Vec<u8>, u64, Secret)]) -> Self {
        self.resumption_psks = psks;
        self
    }
}
