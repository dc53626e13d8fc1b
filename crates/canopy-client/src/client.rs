//! [`Client`]: one store, one crypto provider, one clock, several identities, and the groups
//! of those identities, loaded from the store on first use.
//!
//! This file holds the client itself (opening, configuration), identities, KeyPackages and
//! the group directory; sending and receiving are in `messages.rs`, our own commits in
//! `commits.rs`, joining in `join.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use canopy_core::group::{CreateParams, Env, Group, GroupConfig, Member, MembershipStatus};
use canopy_core::key_package::{
    BasicCredentialValidator, CredentialValidator, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{Credential, Lifetime, MlsMessage};
use canopy_crypto::{CipherSuite, CryptoProvider, Signer, SuiteOps};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_store::{Store, Table};

use crate::group_handle::{IndexRow, Slot};
use crate::identity::Identity;
use crate::key_packages::{KeyPackageInfo, StoredKeyPackage};
use crate::persist::{TableOp, write};
use crate::routing::{Peeked, peek};
use crate::{ClientError, Clock, SystemClock};

/// How a client makes groups and KeyPackages.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The configuration of every group the client creates, joins or loads (the group's
    /// limits are not stored: loaded groups get these). Its limits also apply to every
    /// message the client decodes (`peek`, `process_incoming`, `join`, `add_members`).
    pub group: GroupConfig,
    /// How long a KeyPackage is valid (seconds from now; RFC 9420 §7.2). Its lifetime
    /// starts an hour before now, for clocks that run behind.
    pub key_package_lifetime: u64,
    /// The length of the random group ids [`Client::create_group`] makes.
    pub group_id_len: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            group: GroupConfig::default(),
            key_package_lifetime: canopy_core::group::DEFAULT_LEAF_LIFETIME,
            group_id_len: 16,
        }
    }
}

/// What every operation needs besides the store: crypto, the Authentication Service, the
/// clock and the configuration.
pub(crate) struct Ctx {
    pub(crate) crypto: Arc<dyn CryptoProvider>,
    pub(crate) validator: Arc<dyn CredentialValidator>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: ClientConfig,
}

impl Ctx {
    /// The environment of an operation now: lifetimes are always checked.
    pub(crate) fn env(&self) -> Env<'_> {
        Env::new(&*self.crypto, &*self.validator).at(self.clock.now())
    }

    pub(crate) fn ops(&self, suite: CipherSuite) -> Result<&dyn SuiteOps, ClientError> {
        Ok(self.crypto.suite(suite)?)
    }
}

/// Builds a [`Client`]: the store is required, everything else has a default (the
/// RustCrypto provider with OS randomness, the system clock, [`BasicCredentialValidator`],
/// [`ClientConfig::default`]).
pub struct ClientBuilder<S> {
    store: S,
    crypto: Option<Arc<dyn CryptoProvider>>,
    validator: Option<Arc<dyn CredentialValidator>>,
    clock: Option<Arc<dyn Clock>>,
    config: ClientConfig,
}

impl<S: Store> ClientBuilder<S> {
    /// Uses `crypto` (for example a provider with seeded randomness in tests).
    #[must_use]
    pub fn crypto(mut self, crypto: Arc<dyn CryptoProvider>) -> Self {
        self.crypto = Some(crypto);
        self
    }

    /// Uses `validator` as the Authentication Service (RFC 9420 §5.3.1).
    #[must_use]
    pub fn validator(mut self, validator: Arc<dyn CredentialValidator>) -> Self {
        self.validator = Some(validator);
        self
    }

    /// Uses `clock` for "now".
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Uses `config`.
    #[must_use]
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// Opens the client: reads its identities from the store (built-in ones get their
    /// signers back; external ones wait for [`Client::attach_signer`]). Groups are loaded
    /// when first used.
    ///
    /// # Errors
    /// [`ClientError::Store`] if the store cannot be read, [`ClientError::Corrupt`] or
    /// [`ClientError::Crypto`] for an identity row that does not decode.
    pub fn open(self) -> Result<Client<S>, ClientError> {
        let ctx = Ctx {
            crypto: self
                .crypto
                .unwrap_or_else(|| Arc::new(RustCryptoProvider::new())),
            validator: self
                .validator
                .unwrap_or_else(|| Arc::new(BasicCredentialValidator::new())),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            config: self.config,
        };
        let mut identities = BTreeMap::new();
        for (key, row) in self.store.list(Table::Identity)? {
            let name = String::from_utf8(key).map_err(|_| ClientError::Corrupt("identity name"))?;
            let identity = Identity::decode(name.clone(), row.as_bytes(), &*ctx.crypto)?;
            identities.insert(name, identity);
        }
        Ok(Client {
            store: self.store,
            ctx,
            identities,
            groups: BTreeMap::new(),
        })
    }
}

/// An MLS client: identities, KeyPackages, groups, over one [`Store`].
///
/// Every operation that changes state writes it to the store in one transaction before it
/// returns anything (see the crate's *Persistence contract*). Several `Client`s may share one
/// SQLite database (several processes, or several connections in one): the store's group
/// versions make the loser of a race fail with [`StoreError::Conflict`] before it releases a
/// ciphertext.
///
/// [`StoreError::Conflict`]: canopy_store::StoreError::Conflict
pub struct Client<S: Store> {
    pub(crate) store: S,
    pub(crate) ctx: Ctx,
    pub(crate) identities: BTreeMap<String, Identity>,
    pub(crate) groups: BTreeMap<Vec<u8>, Slot>,
}

impl<S: Store> core::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("identities", &self.identities.keys().collect::<Vec<_>>())
            .field("loaded_groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

impl<S: Store> Client<S> {
    /// A builder over `store`, with the defaults.
    pub fn builder(store: S) -> ClientBuilder<S> {
        ClientBuilder {
            store,
            crypto: None,
            validator: None,
            clock: None,
            config: ClientConfig::default(),
        }
    }

    /// Opens a client over `store` with the defaults (see [`ClientBuilder::open`]).
    ///
    /// # Errors
    /// As [`ClientBuilder::open`].
    pub fn open(store: S) -> Result<Self, ClientError> {
        Self::builder(store).open()
    }

    /// Creates an identity `name` with `credential` and a fresh signature key pair of
    /// `suite`'s scheme, kept in the store ([`Table::Identity`]).
    ///
    /// # Errors
    /// [`ClientError::IdentityExists`]; [`ClientError::Crypto`] for an unsupported suite;
    /// [`ClientError::Store`].
    pub fn create_identity(
        &mut self,
        name: &str,
        credential: Credential,
        suite: CipherSuite,
    ) -> Result<&Identity, ClientError> {
        self.check_new_identity(name)?;
        let key_pair = self.ctx.ops(suite)?.signature_generate_key_pair()?;
        let identity = Identity::built_in(name.to_owned(), suite, credential, key_pair.clone());
        let row = identity.row(Some(&key_pair))?;
        self.insert_identity(identity, row)
    }

    /// Registers an identity `name` whose signature key the application holds: only
    /// `signer`'s public key and `credential` are stored. After a restart, attach the signer
    /// again with [`Client::attach_signer`] before using the identity's groups.
    ///
    /// # Errors
    /// [`ClientError::IdentityExists`]; [`ClientError::Store`].
    pub fn register_external_identity(
        &mut self,
        name: &str,
        credential: Credential,
        suite: CipherSuite,
        signer: Arc<dyn Signer>,
    ) -> Result<&Identity, ClientError> {
        self.check_new_identity(name)?;
        let identity = Identity::external(name.to_owned(), suite, credential, signer);
        let row = identity.row(None)?;
        self.insert_identity(identity, row)
    }

    /// Attaches the external `signer` of identity `name` (after a restart).
    ///
    /// # Errors
    /// [`ClientError::UnknownIdentity`]; [`ClientError::SignerMismatch`] if its public key
    /// is not the identity's.
    pub fn attach_signer(
        &mut self,
        name: &str,
        signer: Arc<dyn Signer>,
    ) -> Result<(), ClientError> {
        self.identities
            .get_mut(name)
            .ok_or_else(|| ClientError::UnknownIdentity(name.to_owned()))?
            .attach(signer)
    }

    /// The identity `name`.
    pub fn identity(&self, name: &str) -> Option<&Identity> {
        self.identities.get(name)
    }

    /// Every identity, by name.
    pub fn identities(&self) -> impl Iterator<Item = &Identity> {
        self.identities.values()
    }

    /// Generates `count` KeyPackages of identity `identity` for `suite` (RFC 9420 §10),
    /// stores their private keys in one transaction, and returns them as encoded
    /// `MLSMessage`s, ready to publish.
    ///
    /// # Errors
    /// [`ClientError::UnknownIdentity`], [`ClientError::SignerNotAttached`],
    /// [`ClientError::SuiteMismatch`], [`ClientError::KeyPackage`], [`ClientError::Store`]
    /// (then none of them is stored, and none is returned).
    pub fn generate_key_packages(
        &mut self,
        identity: &str,
        suite: CipherSuite,
        count: usize,
    ) -> Result<Vec<Vec<u8>>, ClientError> {
        let mut ops = Vec::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let (stored, message) = self.new_key_package(identity, suite, false)?;
            ops.push(TableOp::Put(
                Table::KeyPackage,
                stored.info.reference.as_bytes().to_vec(),
                stored.row()?,
            ));
            out.push(message);
        }
        write(&mut self.store, None, &ops, |_| Ok(()))?;
        Ok(out)
    }

    /// The last-resort KeyPackage of `identity` for `suite` (RFC 9420 §16.8), marked with
    /// the `last_resort` extension: the stored one, or a new one. Its private keys are kept
    /// after a Welcome uses it, so it can be used by several joins when the ordinary
    /// KeyPackages run out.
    ///
    /// # Errors
    /// As [`Client::generate_key_packages`].
    pub fn last_resort_key_package(
        &mut self,
        identity: &str,
        suite: CipherSuite,
    ) -> Result<Vec<u8>, ClientError> {
        for (key, row) in self.store.list(Table::KeyPackage)? {
            let stored = StoredKeyPackage::from_row(&key, row.as_bytes())?;
            if stored.info.last_resort
                && stored.info.identity == identity
                && stored.info.suite == suite
            {
                let message = MlsMessage::KeyPackage(Box::new(stored.bundle.key_package));
                return Ok(message.to_bytes()?);
            }
        }
        let (stored, message) = self.new_key_package(identity, suite, true)?;
        let op = TableOp::Put(
            Table::KeyPackage,
            stored.info.reference.as_bytes().to_vec(),
            stored.row()?,
        );
        write(&mut self.store, None, &[op], |_| Ok(()))?;
        Ok(message)
    }

    /// The KeyPackages whose private keys the client holds.
    ///
    /// # Errors
    /// [`ClientError::Store`], [`ClientError::Corrupt`].
    pub fn key_packages(&self) -> Result<Vec<KeyPackageInfo>, ClientError> {
        self.store
            .list(Table::KeyPackage)?
            .into_iter()
            .map(|(key, row)| StoredKeyPackage::from_row(&key, row.as_bytes()).map(|s| s.info))
            .collect()
    }

    /// Creates a one-member group of identity `identity` in `suite` (RFC 9420 §11), with
    /// `group_id` or a random one, stored before it is returned. Returns the group id.
    ///
    /// # Errors
    /// [`ClientError::GroupExists`], the identity errors of
    /// [`Client::generate_key_packages`], [`ClientError::Group`], [`ClientError::Store`].
    pub fn create_group(
        &mut self,
        identity: &str,
        suite: CipherSuite,
        group_id: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, ClientError> {
        let (credential, signer) = self.signer_for(identity, suite)?;
        let group_id = match group_id {
            Some(id) => id,
            None => {
                let mut id = vec![0u8; self.ctx.config.group_id_len];
                self.ctx.crypto.fill_random(&mut id)?;
                id
            }
        };
        if self.store.get(Table::GroupIndex, &group_id)?.is_some() {
            return Err(ClientError::GroupExists);
        }
        let leaf = LeafNodeParams::new(credential, suite);
        let params =
            CreateParams::new(suite, group_id.clone(), &leaf, signer).config(self.ctx.config.group);
        let mut group = Group::create(&self.ctx.env(), params)?;
        let delta = group.take_delta()?;
        let index = TableOp::Put(
            Table::GroupIndex,
            group_id.clone(),
            IndexRow::member(identity).encode()?,
        );
        let (version, ()) = write(&mut self.store, Some((&delta, None)), &[index], |_| Ok(()))?;
        let version = version.ok_or(ClientError::Corrupt("no version"))?;
        self.groups
            .insert(group_id.clone(), Slot { group, version });
        Ok(group_id)
    }

    /// The ids of every group the client holds (those it was removed from included), in
    /// byte order.
    ///
    /// # Errors
    /// [`ClientError::Store`].
    pub fn group_ids(&self) -> Result<Vec<Vec<u8>>, ClientError> {
        Ok(self
            .store
            .list(Table::GroupIndex)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    /// The group `group_id`, loaded from the store if it is not in memory yet
    /// ([`Group::from_records`]).
    ///
    /// # Errors
    /// [`ClientError::UnknownGroup`], [`ClientError::SignerNotAttached`],
    /// [`ClientError::Group`] for records that do not load, [`ClientError::Store`].
    pub fn group(&mut self, group_id: &[u8]) -> Result<&Group, ClientError> {
        self.ensure_loaded(group_id)?;
        self.groups
            .get(group_id)
            .map(|s| &s.group)
            .ok_or(ClientError::UnknownGroup)
    }

    /// The GroupInfo of group `group_id`'s current epoch (RFC 9420 §12.4.3), signed by us,
    /// with the ratchet tree in an extension if `with_tree`: what a Delivery Service serves
    /// for external joins, or checks a public group against.
    ///
    /// # Errors
    /// As [`Self::group`]; [`ClientError::Group`] if signing fails.
    pub fn group_info(&mut self, group_id: &[u8], with_tree: bool) -> Result<Vec<u8>, ClientError> {
        self.ensure_loaded(group_id)?;
        let env = self.ctx.env();
        let group = self
            .groups
            .get(group_id)
            .map(|s| &s.group)
            .ok_or(ClientError::UnknownGroup)?;
        Ok(group.group_info(&env, with_tree)?)
    }

    /// Forgets the in-memory copy of group `group_id` (it is loaded again from the store on
    /// next use). Returns whether it was loaded.
    pub fn unload_group(&mut self, group_id: &[u8]) -> bool {
        self.groups.remove(group_id).is_some()
    }

    /// Our membership status in group `group_id` ([`Group::status`]): a member, removed
    /// (by the commit that started the epoch it names: [`Incoming::Removed`] reported it),
    /// or the group ended (RFC 9420 §11.2).
    ///
    /// [`Incoming::Removed`]: crate::Incoming::Removed
    ///
    /// # Errors
    /// As [`Client::group`].
    pub fn status(&mut self, group_id: &[u8]) -> Result<MembershipStatus, ClientError> {
        Ok(self.group(group_id)?.status())
    }

    /// The members of group `group_id`, in leaf order (RFC 9420 §7.1).
    ///
    /// # Errors
    /// As [`Client::group`].
    pub fn roster(&mut self, group_id: &[u8]) -> Result<Vec<Member<'_>>, ClientError> {
        Ok(self.group(group_id)?.roster().collect())
    }

    /// What `bytes` is and where it goes, without processing it (see [`Peeked`]). For a
    /// Welcome, looks its recipients up among the client's stored KeyPackages.
    ///
    /// # Errors
    /// [`ClientError::Codec`] for bytes that are not one MLSMessage; [`ClientError::Store`].
    pub fn peek(&self, bytes: &[u8]) -> Result<Peeked, ClientError> {
        let message = MlsMessage::from_bytes_with_limits(bytes, &self.ctx.config.group.limits)?;
        let mut peeked = peek(&message);
        for r in &peeked.recipients {
            if self.store.get(Table::KeyPackage, r.as_bytes())?.is_some() {
                peeked.key_package = Some(r.clone());
                break;
            }
        }
        Ok(peeked)
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, for the application's own transactions. Writing a group's records
    /// through it behind the client's back makes the client's next write of that group a
    /// [`StoreError::Conflict`](canopy_store::StoreError::Conflict).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Closes the client, returning its store.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Loads group `group_id` into memory if it is not there.
    pub(crate) fn ensure_loaded(&mut self, group_id: &[u8]) -> Result<(), ClientError> {
        if self.groups.contains_key(group_id) {
            return Ok(());
        }
        let index = self.index_row(group_id)?;
        let identity = self
            .identities
            .get(&index.identity)
            .ok_or_else(|| ClientError::UnknownIdentity(index.identity.clone()))?;
        let signer = identity.signer()?;
        let loaded = self
            .store
            .load_group(group_id)?
            .ok_or(ClientError::UnknownGroup)?;
        let mut group = Group::from_records(
            &*self.ctx.crypto,
            loaded.records.iter().map(|(k, v)| (*k, v.as_bytes())),
            signer,
        )?;
        group.set_limits(self.ctx.config.group.limits);
        self.groups.insert(
            group_id.to_vec(),
            Slot {
                group,
                version: loaded.version,
            },
        );
        Ok(())
    }

    /// The group index row of `group_id`.
    pub(crate) fn index_row(&self, group_id: &[u8]) -> Result<IndexRow, ClientError> {
        let row = self
            .store
            .get(Table::GroupIndex, group_id)?
            .ok_or(ClientError::UnknownGroup)?;
        IndexRow::decode(row.as_bytes())
    }

    /// The credential and signer of `identity`, checked to sign for `suite`.
    pub(crate) fn signer_for(
        &self,
        identity: &str,
        suite: CipherSuite,
    ) -> Result<(Credential, Arc<dyn Signer>), ClientError> {
        let id = self
            .identities
            .get(identity)
            .ok_or_else(|| ClientError::UnknownIdentity(identity.to_owned()))?;
        let wanted = self.ctx.ops(suite)?.params().signature;
        let have = self.ctx.ops(id.suite())?.params().signature;
        if wanted != have {
            return Err(ClientError::SuiteMismatch {
                identity: identity.to_owned(),
                suite,
            });
        }
        Ok((id.credential().clone(), id.signer()?))
    }

    fn check_new_identity(&self, name: &str) -> Result<(), ClientError> {
        if self.identities.contains_key(name)
            || self.store.get(Table::Identity, name.as_bytes())?.is_some()
        {
            return Err(ClientError::IdentityExists(name.to_owned()));
        }
        Ok(())
    }

    fn insert_identity(
        &mut self,
        identity: Identity,
        row: Vec<u8>,
    ) -> Result<&Identity, ClientError> {
        let name = identity.name().to_owned();
        let op = TableOp::Put(Table::Identity, name.as_bytes().to_vec(), row);
        write(&mut self.store, None, &[op], |_| Ok(()))?;
        Ok(self.identities.entry(name).or_insert(identity))
    }

    /// A new KeyPackage of `identity` for `suite`, and its encoded MLSMessage.
    fn new_key_package(
        &self,
        identity: &str,
        suite: CipherSuite,
        last_resort: bool,
    ) -> Result<(StoredKeyPackage, Vec<u8>), ClientError> {
        let (credential, signer) = self.signer_for(identity, suite)?;
        let now = self.ctx.clock.now();
        let not_before = now.saturating_sub(3_600);
        let mut params = KeyPackageParams::new(
            LeafNodeParams::new(credential, suite),
            Lifetime {
                not_before,
                not_after: now.saturating_add(self.ctx.config.key_package_lifetime),
            },
        );
        params.last_resort = last_resort;
        let bundle = create_key_package(&*self.ctx.crypto, suite, &params, &*signer)?;
        let reference = bundle.reference(self.ctx.ops(suite)?)?;
        let message = MlsMessage::KeyPackage(Box::new(bundle.key_package.clone())).to_bytes()?;
        let stored = StoredKeyPackage {
            info: KeyPackageInfo {
                reference,
                identity: identity.to_owned(),
                suite,
                last_resort,
                created: now,
            },
            bundle,
        };
        Ok((stored, message))
    }
}
