//! Generates passive-client test vectors (the IETF working group's format,
//! `testdata/vectors/FORMAT.md` "Passive Client Scenarios") with **mls-rs only**: every
//! KeyPackage, Welcome, ratchet tree, proposal, commit, private key and epoch authenticator in
//! the output comes from mls-rs 0.57 (`mls-rs-crypto-rustcrypto` 0.23). Canopy produces nothing.
//!
//! ```text
//! cargo run -p canopy-interop --features mls-rs-grease --example passive_client_vectors -- OUT_DIR
//! ```
//!
//! (optionally followed by a seed and a number of epochs for the random cases; the defaults are
//! `1592590336` and `8`) writes `OUT_DIR/passive-client-welcome.json`, `OUT_DIR/passive-client-handling-commit.json`
//! and `OUT_DIR/passive-client-random.json` for suites 0x0001, 0x0002, 0x0003 and 0x0007.
//!
//! mls-rs must be built with its `grease` feature (this crate's `mls-rs-grease`): every
//! KeyPackage then carries a GREASE extension in `KeyPackage.extensions` that its leaf's
//! `capabilities.extensions` does not list (RFC 9420 §13.5; the peer behaviour documented in
//! `docs/interop.md`). The generator checks that for every KeyPackage it emits and fails
//! otherwise. Some passive clients also advertise capabilities without the group's cipher suite:
//! mls-rs takes `capabilities.cipher_suites` from its `CryptoProvider::supported_cipher_suites`,
//! so a provider that runs the suite but does not advertise it makes mls-rs sign such a leaf.
//!
//! The passive client is itself an mls-rs client in its scenario: it joins from the recorded
//! Welcome (and tree) and processes every recorded message, and after every commit all members,
//! the passive client included, must agree on the epoch authenticator that is recorded. The choice of operations
//! is seeded; mls-rs's key generation is not, so each run writes different bytes.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mls_rs::client_builder::{
    BaseConfig, PaddingMode, WithCryptoProvider, WithIdentityProvider, WithMlsRules,
};
use mls_rs::crypto::{HpkePublicKey, SignatureSecretKey};
use mls_rs::extension::built_in::RequiredCapabilitiesExt;
use mls_rs::group::{CommitEffect, ExportedTree, GroupContext, LeafNode, ReceivedMessage, Roster};
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::mls_rs_codec::{MlsDecode, MlsEncode};
use mls_rs::mls_rules::{
    CommitDirection, CommitOptions, CommitSource, EncryptionOptions, ProposalBundle,
};
use mls_rs::psk::{ExternalPskId, PreSharedKey};
use mls_rs::{
    CipherSuite, CipherSuiteProvider, Client, CryptoProvider, ExtensionList, Group, MlsMessage,
    MlsRules,
};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;
use serde::Serialize;

type Res<T> = Result<T, Box<dyn Error>>;

/// The suites mls-rs's pure-Rust provider runs.
const SUITES: [u16; 4] = [0x0001, 0x0002, 0x0003, 0x0007];

/// RFC 9420 §13.5: the GREASE values.
const GREASE: [u16; 15] = [
    0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A, 0x8A8A, 0x9A9A, 0xAAAA, 0xBABA,
    0xCACA, 0xDADA, 0xEAEA,
];

// ---------------------------------------------------------------------------------------------
// mls-rs configuration

/// What the next commit or proposal of a client looks like: an UpdatePath even where MLS does
/// not require one, PrivateMessage framing, the ratchet tree in the Welcome.
#[derive(Clone, Debug, Default)]
struct Knobs {
    path: Arc<AtomicBool>,
    encrypt: Arc<AtomicBool>,
    no_tree_ext: Arc<AtomicBool>,
}

/// mls-rs rules: every proposal passes, the knobs decide the rest.
#[derive(Clone, Debug)]
struct Rules(Knobs);

impl MlsRules for Rules {
    type Error = Infallible;

    fn filter_proposals(
        &self,
        _direction: CommitDirection,
        _source: CommitSource,
        _roster: &Roster<'_>,
        _context: &GroupContext,
        proposals: ProposalBundle,
    ) -> Result<ProposalBundle, Self::Error> {
        Ok(proposals)
    }

    fn commit_options(
        &self,
        _roster: &Roster<'_>,
        _context: &GroupContext,
        _proposals: &ProposalBundle,
    ) -> Result<CommitOptions, Self::Error> {
        Ok(CommitOptions::new()
            .with_path_required(self.0.path.load(Ordering::Relaxed))
            .with_ratchet_tree_extension(!self.0.no_tree_ext.load(Ordering::Relaxed))
            .with_single_welcome_message(true))
    }

    fn encryption_options(
        &self,
        _roster: &Roster<'_>,
        _context: &GroupContext,
    ) -> Result<EncryptionOptions, Self::Error> {
        Ok(EncryptionOptions::new(
            self.0.encrypt.load(Ordering::Relaxed),
            PaddingMode::None,
        ))
    }
}

/// mls-rs's RustCrypto provider, advertising `advertised` as its cipher suites (mls-rs copies
/// that list into `capabilities.cipher_suites` of every leaf it signs) while running all of them.
#[derive(Clone, Debug)]
struct Provider {
    inner: RustCryptoProvider,
    advertised: Vec<CipherSuite>,
}

impl CryptoProvider for Provider {
    type CipherSuiteProvider = <RustCryptoProvider as CryptoProvider>::CipherSuiteProvider;

    fn supported_cipher_suites(&self) -> Vec<CipherSuite> {
        self.advertised.clone()
    }

    fn cipher_suite_provider(&self, suite: CipherSuite) -> Option<Self::CipherSuiteProvider> {
        self.inner.cipher_suite_provider(suite)
    }
}

type Cfg = WithMlsRules<
    Rules,
    WithCryptoProvider<Provider, WithIdentityProvider<BasicIdentityProvider, BaseConfig>>,
>;

// ---------------------------------------------------------------------------------------------
// Output format (FORMAT.md, "Passive Client Scenarios")

#[derive(Serialize)]
struct Case {
    cipher_suite: u16,
    external_psks: Vec<PskOut>,
    key_package: String,
    signature_priv: String,
    encryption_priv: String,
    init_priv: String,
    welcome: String,
    ratchet_tree: Option<String>,
    initial_epoch_authenticator: String,
    epochs: Vec<EpochOut>,
    /// Not part of the format: whether the passive client's capabilities omit the suite.
    #[serde(skip)]
    omits_suite: bool,
}

#[derive(Clone, Serialize)]
struct PskOut {
    psk_id: String,
    psk: String,
}

#[derive(Serialize)]
struct EpochOut {
    proposals: Vec<String>,
    commit: String,
    epoch_authenticator: String,
}

// ---------------------------------------------------------------------------------------------
// A small deterministic generator for the choice of operations (not for key material).

struct Choice(u64);

impl Choice {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn coin(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

// ---------------------------------------------------------------------------------------------
// The world: mls-rs clients, one group, and the recording of what the passive client sees.

struct Actor {
    knobs: Knobs,
    client: Client<Cfg>,
    group: Option<Group<Cfg>>,
    /// This client's signature private key, as mls-rs holds it.
    signer: SignatureSecretKey,
    /// Its capabilities do not list the group's cipher suite.
    omit_suite: bool,
}

/// What the passive client needs, recorded as the scenario runs.
struct Recording {
    key_package: Vec<u8>,
    signature_priv: Vec<u8>,
    encryption_priv: Vec<u8>,
    init_priv: Vec<u8>,
    welcome: Option<Vec<u8>>,
    ratchet_tree: Option<Vec<u8>>,
    initial_epoch_authenticator: Vec<u8>,
    /// Proposals sent in the current epoch (after the join).
    proposals: Vec<Vec<u8>>,
    epochs: Vec<(Vec<Vec<u8>>, Vec<u8>, Vec<u8>)>,
    /// Whether the passive client's KeyPackage omits the group's suite from its capabilities.
    omits_suite: bool,
}

/// A commit by value.
#[derive(Debug, Default)]
struct Commit {
    /// Actors to add by value (each generates a fresh KeyPackage).
    add: Vec<usize>,
    /// Actors to remove by value.
    remove: Vec<usize>,
    external_psk: bool,
    resumption_psk: bool,
    /// A GroupContextExtensions proposal by value (a `required_capabilities` extension).
    gce: bool,
    /// An UpdatePath even where none is required.
    path: bool,
    /// PrivateMessage framing.
    encrypt: bool,
    /// The tree out of band instead of in the Welcome.
    tree_out_of_band: bool,
}

/// A proposal by reference.
#[derive(Clone, Copy, Debug)]
enum Prop {
    Add(usize),
    Update,
    Remove(usize),
    ExternalPsk,
    ResumptionPsk,
    Gce,
}

struct World {
    suite: CipherSuite,
    actors: Vec<Actor>,
    /// The actor that is the passive client, once chosen.
    passive: Option<usize>,
    recording: Option<Recording>,
    /// Actors with a KeyPackage in flight: they join from the next commit's Welcome.
    joining: Vec<usize>,
    psk_id: Vec<u8>,
    psk: Vec<u8>,
    psk_used: bool,
    counter: usize,
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn encode(m: &MlsMessage) -> Res<Vec<u8>> {
    Ok(m.to_bytes()?)
}

impl World {
    fn new(suite: u16, tag: &str) -> Res<Self> {
        let suite = CipherSuite::from(suite);
        // The PSK itself is mls-rs random bytes.
        let cs = RustCryptoProvider::new()
            .cipher_suite_provider(suite)
            .ok_or("suite unsupported by mls-rs")?;
        let psk = cs.random_bytes_vec(32)?;
        Ok(Self {
            suite,
            actors: Vec::new(),
            passive: None,
            recording: None,
            joining: Vec::new(),
            psk_id: format!("mls-rs external psk {tag}").into_bytes(),
            psk,
            psk_used: false,
            counter: 0,
        })
    }

    /// A new mls-rs client (not yet in the group). `omit_suite`: its capabilities do not list
    /// the group's cipher suite.
    fn new_actor(&mut self, omit_suite: bool) -> Res<usize> {
        let inner = RustCryptoProvider::new();
        let mut advertised = RustCryptoProvider::all_supported_cipher_suites();
        if omit_suite {
            advertised.retain(|s| *s != self.suite);
        }
        let provider = Provider { inner, advertised };
        let cs = provider
            .cipher_suite_provider(self.suite)
            .ok_or("suite unsupported by mls-rs")?;
        let (secret, public) = cs.signature_key_generate()?;
        self.counter += 1;
        let name = format!("mls-rs member {}", self.counter);
        let identity = SigningIdentity::new(
            BasicCredential::new(name.into_bytes()).into_credential(),
            public,
        );
        let knobs = Knobs::default();
        let client: Client<Cfg> = Client::builder()
            .identity_provider(BasicIdentityProvider)
            .crypto_provider(provider)
            .mls_rules(Rules(knobs.clone()))
            .signing_identity(identity, secret.clone(), self.suite)
            .psk(
                ExternalPskId::new(self.psk_id.clone()),
                PreSharedKey::new(self.psk.clone()),
            )
            .build();
        self.actors.push(Actor {
            knobs,
            client,
            group: None,
            signer: secret,
            omit_suite,
        });
        Ok(self.actors.len() - 1)
    }

    fn actor(&mut self, i: usize) -> Res<&mut Actor> {
        Ok(self.actors.get_mut(i).ok_or("no such actor")?)
    }

    fn group(&mut self, i: usize) -> Res<&mut Group<Cfg>> {
        Ok(self
            .actor(i)?
            .group
            .as_mut()
            .ok_or("actor not in the group")?)
    }

    fn members(&self) -> Vec<usize> {
        (0..self.actors.len())
            .filter(|&i| self.actors.get(i).is_some_and(|a| a.group.is_some()))
            .collect()
    }

    fn leaf(&self, i: usize) -> Res<u32> {
        let a = self.actors.get(i).ok_or("no such actor")?;
        Ok(a.group
            .as_ref()
            .ok_or("actor not in the group")?
            .current_member_index())
    }

    fn create_group(&mut self, creator: usize) -> Res<()> {
        let group_id = format!("mls-rs passive-client group {}", self.counter).into_bytes();
        let actor = self.actor(creator)?;
        let group = actor.client.create_group_with_id(
            group_id,
            ExtensionList::new(),
            ExtensionList::new(),
            None,
        )?;
        actor.group = Some(group);
        Ok(())
    }

    /// A fresh KeyPackage of `who`, checked to carry an unlisted GREASE KeyPackage extension.
    /// mls-rs picks the KeyPackage's and the leaf's GREASE values independently, so it may pick
    /// the same one (then the KeyPackage extension is listed); such KeyPackages are discarded.
    fn key_package(&mut self, who: usize) -> Res<MlsMessage> {
        let suite = self.suite;
        for _ in 0..32 {
            let actor = self.actor(who)?;
            let m = actor.client.generate_key_package_message(
                ExtensionList::new(),
                ExtensionList::new(),
                None,
            )?;
            let (leaf, kp_extensions) = key_package_leaf(&m)?;
            let listed = &leaf.capabilities.extensions;
            let unlisted_grease = kp_extensions.iter().any(|e| {
                GREASE.contains(&*e.extension_type) && !listed.contains(&e.extension_type)
            });
            if unlisted_grease {
                let omit = self.actors.get(who).ok_or("no such actor")?.omit_suite;
                if leaf.capabilities.cipher_suites.contains(&suite) == omit {
                    return Err("the leaf's capabilities do not list the suites expected".into());
                }
                return Ok(m);
            }
        }
        Err("mls-rs made no KeyPackage with an unlisted GREASE extension: is mls-rs built with `grease`?".into())
    }

    /// Makes `who` the passive client: records its KeyPackage and private keys.
    fn make_passive(&mut self, who: usize) -> Res<MlsMessage> {
        let suite = self.suite;
        let kp = self.key_package(who)?;
        let (leaf, _) = key_package_leaf(&kp)?;
        let omits_suite = !leaf.capabilities.cipher_suites.contains(&suite);
        let kp_bytes = kp
            .as_key_package()
            .ok_or("not a KeyPackage")?
            .mls_encode_to_vec()?;
        let actor = self.actors.get(who).ok_or("no such actor")?;
        // mls-rs keeps the KeyPackage's two HPKE private keys in its KeyPackage store.
        let data = actor
            .client
            .key_package_store()
            .key_packages()
            .into_iter()
            .map(|(_, d)| d)
            .find(|d| d.key_package_bytes == kp_bytes)
            .ok_or("KeyPackage not in mls-rs's store")?;
        let signature_priv = signature_private_key(suite, &actor.signer, &leaf)?;
        self.passive = Some(who);
        self.recording = Some(Recording {
            key_package: encode(&kp)?,
            signature_priv,
            encryption_priv: data.leaf_node_key.to_vec(),
            init_priv: data.init_key.to_vec(),
            welcome: None,
            ratchet_tree: None,
            initial_epoch_authenticator: Vec::new(),
            proposals: Vec::new(),
            epochs: Vec::new(),
            omits_suite,
        });
        Ok(kp)
    }

    fn passive_joined(&self) -> bool {
        self.passive
            .is_some_and(|p| self.actors.get(p).is_some_and(|a| a.group.is_some()))
    }

    /// Delivers `m` from `from` to every other member. Returns the actors it removed.
    fn deliver(&mut self, from: usize, m: &MlsMessage) -> Res<Vec<usize>> {
        let mut removed = Vec::new();
        for i in self.members() {
            if i == from {
                continue;
            }
            let got = self.group(i)?.process_incoming_message(m.clone())?;
            if let ReceivedMessage::Commit(c) = got
                && matches!(c.effect, CommitEffect::Removed { .. })
            {
                removed.push(i);
            }
        }
        for &i in &removed {
            self.actor(i)?.group = None;
        }
        Ok(removed)
    }

    fn set_knobs(&mut self, who: usize, path: bool, encrypt: bool, no_tree_ext: bool) -> Res<()> {
        let k = &self.actor(who)?.knobs;
        k.path.store(path, Ordering::Relaxed);
        k.encrypt.store(encrypt, Ordering::Relaxed);
        k.no_tree_ext.store(no_tree_ext, Ordering::Relaxed);
        Ok(())
    }

    /// `from` sends a proposal; every other member receives it.
    fn propose(&mut self, from: usize, p: Prop, encrypt: bool) -> Res<()> {
        self.propose_inner(from, p, encrypt)
            .map_err(|e| format!("proposal {p:?} by actor {from}: {e}").into())
    }

    fn propose_inner(&mut self, from: usize, p: Prop, encrypt: bool) -> Res<()> {
        self.set_knobs(from, false, encrypt, false)?;
        let m = match p {
            Prop::Add(who) => {
                let kp = self.key_package(who)?;
                self.joining.push(who);
                self.group(from)?.propose_add(kp, Vec::new())?
            }
            Prop::Update => self.group(from)?.propose_update(Vec::new())?,
            Prop::Remove(who) => {
                let leaf = self.leaf(who)?;
                self.group(from)?.propose_remove(leaf, Vec::new())?
            }
            Prop::ExternalPsk => {
                self.psk_used = true;
                let id = ExternalPskId::new(self.psk_id.clone());
                self.group(from)?.propose_external_psk(id, Vec::new())?
            }
            Prop::ResumptionPsk => {
                let group = self.group(from)?;
                let epoch = group.current_epoch();
                group.propose_resumption_psk(epoch, Vec::new())?
            }
            Prop::Gce => self
                .group(from)?
                .propose_group_context_extensions(required_capabilities()?, Vec::new())?,
        };
        let bytes = encode(&m)?;
        if self.passive_joined()
            && let Some(r) = self.recording.as_mut()
        {
            r.proposals.push(bytes);
        }
        let removed = self.deliver(from, &m)?;
        if !removed.is_empty() {
            return Err("a proposal removed a member".into());
        }
        Ok(())
    }

    /// `from` commits `spec` and every cached proposal; everyone processes it, new members
    /// join from the Welcome, and all members must agree on the epoch authenticator.
    fn commit(&mut self, from: usize, spec: &Commit) -> Res<()> {
        self.commit_inner(from, spec)
            .map_err(|e| format!("commit {spec:?} by actor {from}: {e}").into())
    }

    fn commit_inner(&mut self, from: usize, spec: &Commit) -> Res<()> {
        let mut kps = Vec::new();
        for &who in &spec.add {
            if self.passive == Some(who) && !self.passive_joined() {
                kps.push(self.make_passive(who)?);
            } else {
                kps.push(self.key_package(who)?);
            }
            self.joining.push(who);
        }
        let mut leaves = Vec::new();
        for &who in &spec.remove {
            leaves.push(self.leaf(who)?);
        }
        if spec.external_psk {
            self.psk_used = true;
        }
        self.set_knobs(from, spec.path, spec.encrypt, spec.tree_out_of_band)?;
        let psk_id = ExternalPskId::new(self.psk_id.clone());
        let gce = required_capabilities()?;
        let group = self.group(from)?;
        let epoch = group.current_epoch();
        let mut b = group.commit_builder();
        for kp in kps {
            b = b.add_member(kp)?;
        }
        for leaf in leaves {
            b = b.remove_member(leaf)?;
        }
        if spec.external_psk {
            b = b.add_external_psk(psk_id)?;
        }
        if spec.resumption_psk {
            b = b.add_resumption_psk(epoch)?;
        }
        if spec.gce {
            b = b.set_group_context_ext(gce)?;
        }
        let out = b.build()?;
        group.apply_pending_commit()?;
        let tree = spec
            .tree_out_of_band
            .then(|| group.export_tree().to_bytes())
            .transpose()?;
        let commit_bytes = encode(&out.commit_message)?;
        let was_joined = self.passive_joined();
        let removed = self.deliver(from, &out.commit_message)?;
        if self.passive.is_some_and(|p| removed.contains(&p)) {
            return Err("the passive client was removed".into());
        }
        let joining = std::mem::take(&mut self.joining);
        if !joining.is_empty() {
            let welcome = out.welcome_messages.first().ok_or("no Welcome")?.clone();
            for who in joining {
                let tree_arg = tree
                    .as_ref()
                    .map(|t| ExportedTree::from_bytes(t))
                    .transpose()?;
                let actor = self.actor(who)?;
                let (group, _) = actor.client.join_group(tree_arg, &welcome, None)?;
                actor.group = Some(group);
                if self.passive == Some(who) {
                    let ea = self.group(who)?.epoch_authenticator()?.as_ref().to_vec();
                    let r = self.recording.as_mut().ok_or("no recording")?;
                    r.welcome = Some(encode(&welcome)?);
                    r.ratchet_tree.clone_from(&tree);
                    r.initial_epoch_authenticator = ea;
                }
            }
        }
        let ea = self.agree()?;
        if was_joined {
            let r = self.recording.as_mut().ok_or("no recording")?;
            let proposals = std::mem::take(&mut r.proposals);
            r.epochs.push((proposals, commit_bytes, ea));
        }
        Ok(())
    }

    /// Every member's epoch authenticator, which must all be equal.
    fn agree(&self) -> Res<Vec<u8>> {
        let mut seen: Option<(u64, Vec<u8>)> = None;
        for i in self.members() {
            let g = self
                .actors
                .get(i)
                .and_then(|a| a.group.as_ref())
                .ok_or("no group")?;
            let now = (
                g.current_epoch(),
                g.epoch_authenticator()?.as_ref().to_vec(),
            );
            match &seen {
                None => seen = Some(now),
                Some(s) if *s == now => {}
                Some(_) => return Err("members disagree on the epoch".into()),
            }
        }
        Ok(seen.ok_or("empty group")?.1)
    }

    /// The recorded case, after replaying it through a fresh mls-rs passive client.
    fn finish(self) -> Res<Case> {
        let r = self.recording.ok_or("no passive client")?;
        let welcome = r.welcome.ok_or("the passive client never joined")?;
        let external_psks = if self.psk_used {
            vec![PskOut {
                psk_id: hex(&self.psk_id),
                psk: hex(&self.psk),
            }]
        } else {
            Vec::new()
        };
        Ok(Case {
            cipher_suite: *self.suite,
            external_psks,
            key_package: hex(&r.key_package),
            signature_priv: hex(&r.signature_priv),
            encryption_priv: hex(&r.encryption_priv),
            init_priv: hex(&r.init_priv),
            welcome: hex(&welcome),
            ratchet_tree: r.ratchet_tree.as_deref().map(hex),
            initial_epoch_authenticator: hex(&r.initial_epoch_authenticator),
            epochs: r
                .epochs
                .iter()
                .map(|(p, c, ea)| EpochOut {
                    proposals: p.iter().map(|m| hex(m)).collect(),
                    commit: hex(c),
                    epoch_authenticator: hex(ea),
                })
                .collect(),
            omits_suite: r.omits_suite,
        })
    }
}

/// A `required_capabilities` GroupContext extension with empty lists (RFC 9420 §11.1).
fn required_capabilities() -> Res<ExtensionList> {
    let mut list = ExtensionList::new();
    list.set_from(RequiredCapabilitiesExt::default())?;
    Ok(list)
}

/// The leaf node and extensions of a KeyPackage message, decoded from mls-rs's own encoding
/// (mls-rs keeps `KeyPackage::leaf_node` crate-private).
fn key_package_leaf(m: &MlsMessage) -> Res<(LeafNode, ExtensionList)> {
    let kp = m.as_key_package().ok_or("not a KeyPackage")?;
    let bytes = kp.mls_encode_to_vec()?;
    let mut rest = bytes.as_slice();
    let _version = u16::mls_decode(&mut rest)?;
    let _suite = u16::mls_decode(&mut rest)?;
    let _init_key = HpkePublicKey::mls_decode(&mut rest)?;
    let leaf = LeafNode::mls_decode(&mut rest)?;
    let extensions = ExtensionList::mls_decode(&mut rest)?;
    if extensions != kp.extensions {
        return Err("KeyPackage re-decoding mismatch".into());
    }
    Ok((leaf, extensions))
}

/// The signature private key in the vector format (FORMAT.md: EdDSA keys in their native
/// 32-byte form, ECDSA keys as the big-endian scalar). mls-rs-crypto-rustcrypto holds Ed25519
/// keys as the 64-byte keypair (seed then public key), ECDSA keys as the scalar.
fn signature_private_key(
    suite: CipherSuite,
    key: &SignatureSecretKey,
    leaf: &LeafNode,
) -> Res<Vec<u8>> {
    let bytes = key.as_bytes();
    let public = leaf.signing_identity.signature_key.as_ref();
    match *suite {
        0x0001 | 0x0003 => {
            let (seed, pk) = bytes.split_at_checked(32).ok_or("short Ed25519 key")?;
            if pk != public {
                return Err("Ed25519 keypair bytes do not end with the leaf's public key".into());
            }
            Ok(seed.to_vec())
        }
        _ => Ok(bytes.to_vec()),
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// A group of `n` members made by `A` (actor 0), with a little history so that the tree has
/// blanks and parent nodes set by several members: adds, one removal, updates. Returns the
/// members, creator first.
fn grown_group(w: &mut World, n: usize) -> Res<Vec<usize>> {
    let creator = w.new_actor(false)?;
    w.create_group(creator)?;
    let mut members = vec![creator];
    if n <= 1 {
        return Ok(members);
    }
    // One more than needed, then one removed: a blank leaf where the tree is not trailing.
    let extra: Vec<usize> = (0..n).map(|_| w.new_actor(false)).collect::<Res<_>>()?;
    w.commit(
        creator,
        &Commit {
            add: extra.clone(),
            ..Commit::default()
        },
    )?;
    let gone = *extra.first().ok_or("no member")?;
    let rest: Vec<usize> = extra.iter().copied().skip(1).collect();
    let second = *rest.first().ok_or("no member")?;
    w.commit(
        second,
        &Commit {
            remove: vec![gone],
            ..Commit::default()
        },
    )?;
    members.extend(rest);
    let last = *members.last().ok_or("no member")?;
    w.commit(
        last,
        &Commit {
            path: true,
            ..Commit::default()
        },
    )?;
    Ok(members)
}

/// `passive-client-welcome`: joins only, 8 per suite: ratchet tree in the Welcome or out of
/// band, with or without an external PSK in the adding commit, and a passive client whose
/// capabilities list or omit the group's suite. Groups of 1 to 4 members before the join;
/// half the joins add a second member in the same commit.
fn welcome_cases(suite: u16) -> Res<Vec<Case>> {
    let mut cases = Vec::new();
    for i in 0..8_usize {
        let tree_out_of_band = i & 1 == 1;
        let external_psk = i & 2 == 2;
        let omit = i & 4 == 4;
        let mut w = World::new(suite, &format!("welcome {suite} {i}"))?;
        let members = grown_group(&mut w, 1 + (i * 3) % 4)?;
        let passive = w.new_actor(omit)?;
        w.passive = Some(passive);
        let mut add = vec![passive];
        if i % 3 != 2 {
            add.push(w.new_actor(false)?);
        }
        let committer = *members.get(i % members.len()).ok_or("no member")?;
        w.commit(
            committer,
            &Commit {
                add,
                external_psk,
                tree_out_of_band,
                path: i % 4 == 1,
                ..Commit::default()
            },
        )?;
        cases.push(w.finish()?);
    }
    Ok(cases)
}

/// A group of A, B, C, D and `more` others, and a passive client added by A (ratchet tree in
/// the Welcome unless `tree_out_of_band`).
fn with_passive(
    suite: u16,
    tag: &str,
    omit: bool,
    more: usize,
    tree_out_of_band: bool,
) -> Res<(World, Vec<usize>)> {
    let mut w = World::new(suite, tag)?;
    let members = grown_group(&mut w, 4 + more)?;
    let passive = w.new_actor(omit)?;
    w.passive = Some(passive);
    let a = *members.first().ok_or("no member")?;
    w.commit(
        a,
        &Commit {
            add: vec![passive],
            tree_out_of_band,
            ..Commit::default()
        },
    )?;
    Ok((w, members))
}

fn at(members: &[usize], i: usize) -> Res<usize> {
    Ok(*members.get(i).ok_or("no member")?)
}

/// `passive-client-handling-commit`: after the join, 4 cases per suite of 5 or 6 epochs, each
/// epoch one kind of commit (PublicMessage unless it says otherwise).
fn handling_commit_cases(suite: u16) -> Res<Vec<Case>> {
    let mut cases = Vec::new();
    let tag = |name: &str| format!("handling-commit {suite} {name}");

    // 1. By value: an empty commit with a path; Adds without a path (mls-rs's default), one
    // of a KeyPackage without the suite in its capabilities; the new member's first commit;
    // Removes (with the path MLS requires) including the group's creator; a PrivateMessage
    // commit with a path.
    let (mut w, m) = with_passive(suite, &tag("by value"), false, 0, false)?;
    w.commit(
        at(&m, 1)?,
        &Commit {
            path: true,
            ..Commit::default()
        },
    )?;
    let (x, y) = (w.new_actor(false)?, w.new_actor(true)?);
    w.commit(
        at(&m, 2)?,
        &Commit {
            add: vec![x, y],
            ..Commit::default()
        },
    )?;
    w.commit(
        y,
        &Commit {
            path: true,
            ..Commit::default()
        },
    )?;
    w.commit(
        at(&m, 1)?,
        &Commit {
            remove: vec![at(&m, 0)?, x],
            ..Commit::default()
        },
    )?;
    w.commit(
        at(&m, 3)?,
        &Commit {
            path: true,
            encrypt: true,
            ..Commit::default()
        },
    )?;
    cases.push(w.finish()?);

    // 2. By reference: one Add without and with a path; one Update; then Add, two Updates,
    // Remove, external PSK and GroupContextExtensions from several members in one commit; the
    // new member's first commit.
    let (mut w, m) = with_passive(suite, &tag("by reference"), false, 1, false)?;
    let x = w.new_actor(false)?;
    w.propose(at(&m, 1)?, Prop::Add(x), false)?;
    w.commit(at(&m, 2)?, &Commit::default())?;
    let y = w.new_actor(false)?;
    w.propose(at(&m, 3)?, Prop::Add(y), false)?;
    w.commit(
        at(&m, 0)?,
        &Commit {
            path: true,
            ..Commit::default()
        },
    )?;
    w.propose(at(&m, 3)?, Prop::Update, false)?;
    w.commit(at(&m, 0)?, &Commit::default())?;
    let z = w.new_actor(true)?;
    w.propose(at(&m, 1)?, Prop::Add(z), false)?;
    w.propose(at(&m, 2)?, Prop::Update, false)?;
    w.propose(y, Prop::Update, false)?;
    w.propose(at(&m, 0)?, Prop::Remove(at(&m, 4)?), false)?;
    w.propose(at(&m, 1)?, Prop::ExternalPsk, false)?;
    w.propose(at(&m, 3)?, Prop::Gce, false)?;
    w.commit(at(&m, 0)?, &Commit::default())?;
    w.commit(
        z,
        &Commit {
            path: true,
            ..Commit::default()
        },
    )?;
    cases.push(w.finish()?);

    // 3. PSKs and GroupContextExtensions, by value and by reference (no resumption PSK next to
    // an Add: the joiner could not have it), then PrivateMessage proposals and commits.
    let (mut w, m) = with_passive(suite, &tag("psk gce private"), false, 1, false)?;
    w.commit(
        at(&m, 1)?,
        &Commit {
            external_psk: true,
            gce: true,
            ..Commit::default()
        },
    )?;
    w.commit(
        at(&m, 2)?,
        &Commit {
            resumption_psk: true,
            path: true,
            ..Commit::default()
        },
    )?;
    w.propose(at(&m, 3)?, Prop::ExternalPsk, false)?;
    w.propose(at(&m, 3)?, Prop::ResumptionPsk, false)?;
    w.propose(at(&m, 4)?, Prop::Gce, false)?;
    w.commit(at(&m, 0)?, &Commit::default())?;
    let x = w.new_actor(false)?;
    w.propose(at(&m, 1)?, Prop::Add(x), true)?;
    w.propose(at(&m, 2)?, Prop::Update, true)?;
    w.propose(at(&m, 3)?, Prop::Remove(at(&m, 4)?), true)?;
    w.propose(at(&m, 3)?, Prop::ExternalPsk, true)?;
    w.commit(
        at(&m, 0)?,
        &Commit {
            encrypt: true,
            ..Commit::default()
        },
    )?;
    w.commit(
        x,
        &Commit {
            encrypt: true,
            path: true,
            ..Commit::default()
        },
    )?;
    cases.push(w.finish()?);

    // 4. A passive client whose capabilities omit the group's suite, joined with the ratchet
    // tree out of band; later joiners' capabilities omit it too; one commit with everything
    // by value and by reference; commits from leaves on both sides of the tree.
    let (mut w, m) = with_passive(suite, &tag("capabilities without the suite"), true, 2, true)?;
    let x = w.new_actor(true)?;
    w.propose(at(&m, 1)?, Prop::Add(x), false)?;
    w.propose(at(&m, 2)?, Prop::Update, false)?;
    w.propose(at(&m, 3)?, Prop::Remove(at(&m, 5)?), false)?;
    let y = w.new_actor(true)?;
    w.commit(
        at(&m, 0)?,
        &Commit {
            add: vec![y],
            remove: vec![at(&m, 4)?],
            external_psk: true,
            gce: true,
            ..Commit::default()
        },
    )?;
    w.commit(
        y,
        &Commit {
            path: true,
            ..Commit::default()
        },
    )?;
    w.commit(
        at(&m, 1)?,
        &Commit {
            path: true,
            ..Commit::default()
        },
    )?;
    w.commit(
        x,
        &Commit {
            path: true,
            encrypt: true,
            ..Commit::default()
        },
    )?;
    cases.push(w.finish()?);

    Ok(cases)
}

/// `passive-client-random`: one case per suite, `epochs` epochs of seeded random operations in
/// a group of 3 to 8 members: proposals by reference (Add, Update, Remove, external PSK) from
/// random members, by-value Adds and Removes, commits with and without a path, PublicMessage
/// and PrivateMessage framing.
fn random_case(suite: u16, epochs: usize, seed: u64) -> Res<Case> {
    let mut rng = Choice(seed.max(1));
    let mut w = World::new(suite, &format!("random {suite}"))?;
    grown_group(&mut w, 3)?;
    let passive = w.new_actor(rng.coin(50))?;
    w.passive = Some(passive);
    let first = *w.members().first().ok_or("no member")?;
    w.commit(
        first,
        &Commit {
            add: vec![passive],
            ..Commit::default()
        },
    )?;
    for _ in 0..epochs {
        // Members other than the passive client.
        let active: Vec<usize> = w.members().into_iter().filter(|&i| i != passive).collect();
        let committer = *active.get(rng.below(active.len())).ok_or("no member")?;
        let size = w.members().len();
        // Members that must not be touched twice in this epoch.
        let mut busy = vec![committer];
        let encrypt = rng.coin(40);
        let mut adds = 0_usize;
        let mut removes = 0_usize;
        for _ in 0..rng.below(4) {
            let from = *active.get(rng.below(active.len())).ok_or("no member")?;
            let target = active
                .iter()
                .copied()
                .filter(|t| !busy.contains(t) && *t != from)
                .nth(rng.below(active.len()));
            match rng.below(4) {
                0 if size + adds - removes < 8 => {
                    let x = w.new_actor(rng.coin(20))?;
                    w.propose(from, Prop::Add(x), encrypt)?;
                    adds += 1;
                }
                1 if !busy.contains(&from) => {
                    busy.push(from);
                    w.propose(from, Prop::Update, encrypt)?;
                }
                2 if size + adds - removes > 3 => {
                    if let Some(t) = target {
                        busy.push(t);
                        w.propose(from, Prop::Remove(t), encrypt)?;
                        removes += 1;
                    }
                }
                _ => w.propose(from, Prop::ExternalPsk, encrypt)?,
            }
        }
        let mut spec = Commit {
            path: rng.coin(50),
            encrypt,
            ..Commit::default()
        };
        if rng.coin(30) && size + adds - removes < 8 {
            spec.add.push(w.new_actor(rng.coin(20))?);
        }
        if rng.coin(30) && size + adds + spec.add.len() - removes > 3 {
            let t = active.iter().copied().find(|t| !busy.contains(t));
            spec.remove.extend(t);
        }
        w.commit(committer, &spec)?;
    }
    w.finish()
}

fn write(dir: &std::path::Path, name: &str, cases: &[Case]) -> Res<()> {
    let path = dir.join(name);
    let json = serde_json::to_string_pretty(cases)?;
    std::fs::write(&path, format!("{json}\n"))?;
    let mut per_suite: BTreeMap<u16, usize> = BTreeMap::new();
    for c in cases {
        *per_suite.entry(c.cipher_suite).or_default() += 1;
    }
    let epochs: usize = cases.iter().map(|c| c.epochs.len()).sum();
    let omitting = cases.iter().filter(|c| c.omits_suite).count();
    let per_suite: Vec<String> = per_suite
        .iter()
        .map(|(s, n)| format!("0x{s:04x}: {n}"))
        .collect();
    let per_suite = per_suite.join(", ");
    println!(
        "{}: {} cases ({per_suite}; {omitting} without the suite in the \
         passive client's capabilities), {epochs} epochs, {} bytes",
        path.display(),
        cases.len(),
        json.len() + 1
    );
    Ok(())
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: passive_client_vectors OUT_DIR [SEED [RANDOM_EPOCHS]]";
    let dir = std::path::PathBuf::from(args.next().ok_or(usage)?);
    let seed: u64 = args.next().map_or(Ok(0x5eed_0000), |a| a.parse())?;
    let random_epochs: usize = args.next().map_or(Ok(8), |a| a.parse())?;
    std::fs::create_dir_all(&dir)?;
    let mut welcome = Vec::new();
    let mut handling = Vec::new();
    let mut random = Vec::new();
    for (k, suite) in SUITES.into_iter().enumerate() {
        let at =
            |what: &'static str| move |e: Box<dyn Error>| format!("suite {suite}, {what}: {e}");
        welcome.extend(welcome_cases(suite).map_err(at("welcome"))?);
        handling.extend(handling_commit_cases(suite).map_err(at("handling-commit"))?);
        random.push(random_case(suite, random_epochs, seed + k as u64).map_err(at("random"))?);
    }
    write(&dir, "passive-client-welcome.json", &welcome)?;
    write(&dir, "passive-client-handling-commit.json", &handling)?;
    write(&dir, "passive-client-random.json", &random)?;
    Ok(())
}
