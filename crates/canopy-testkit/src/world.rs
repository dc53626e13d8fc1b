//! The deterministic groups and messages the fuzz targets start from, built once with the
//! [`InsecureFuzzProvider`]. All the group-building code of the testkit is in this file, so
//! that a change of canopy-core's API is one place to update.
//!
//! The story (suite 0x0001, group id `fuzz`):
//!
//! - epoch 0: alice creates the group; epoch 1: alice adds bob and carol (bob frames his
//!   handshake messages as PrivateMessage, alice as PublicMessage). In epoch 1 alice sends an
//!   application message and an Add proposal that are never delivered (they arrive late).
//! - epoch 2: bob commits an update (a path, PrivateMessage); everyone merges it. Alice,
//!   bob and carol store the external PSK `fuzz-psk`.
//! - the **pool**: from fresh copies of the epoch-2 members, one message of each kind, all
//!   valid alternatives for carol in epoch 2 (see [`Fixture::pool`]).
//! - the **receiver snapshots**: carol's state in epoch 2 as it is
//!   ([`Snapshot::Fresh`]), and after receiving the two proposals the by-reference commit
//!   refers to ([`Snapshot::Proposals`]).

use canopy_core::group::CreateParams;
use canopy_core::group::JoinParams;
use std::sync::Arc;
use std::sync::OnceLock;

use canopy_core::LeafIndex;
use canopy_core::advanced::codec::VarBytes;
use canopy_core::advanced::framing::{protect_public, sign_content};
use canopy_core::advanced::schedule::JoinerSecrets;
use canopy_core::group::{
    CommitOptions, CommitSummary, Env, Group, GroupConfig, HandshakeFormat, Merged,
    ProcessedMessage,
};
use canopy_core::join::{open_group_info, open_group_secrets};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{
    self, Add, AuthenticatedContent, Credential, CredentialType, ExtensionView, Extensions,
    FramedContent, FramedContentBody, GroupInfo, GroupSecrets, Lifetime, MlsMessage,
    PreSharedKeyId, Proposal, Psk, PublicMessage, ReInit, Remove, RequiredCapabilities, Sender,
    Welcome, WireFormat,
};
use canopy_crypto::{CipherSuite, CryptoProvider, Secret, SignatureKeyPair, SuiteOps};

use crate::InsecureFuzzProvider;

/// The cipher suite of every fixture.
pub const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
/// The seed of the fixtures' provider.
pub const SEED: u64 = 0x00C0_FFEE;
/// The group id.
pub const GROUP_ID: &[u8] = b"fuzz";
/// The external PSK every member has.
pub const PSK_ID: &[u8] = b"fuzz-psk";

/// What building the fixtures can fail with (a bug of this file or a core API change).
pub type BuildError = Box<dyn std::error::Error + Send + Sync>;

/// A provider and a credential validator: what every group operation needs.
pub struct World {
    /// The provider of every fixture.
    pub provider: InsecureFuzzProvider,
    /// Accepts every basic credential.
    pub validator: BasicCredentialValidator,
}

impl Default for World {
    fn default() -> Self {
        Self::new(SEED)
    }
}

/// The time of every fuzzed group.
pub const NOW: u64 = 1_700_000_000;

impl World {
    /// A world whose provider has `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            provider: InsecureFuzzProvider::seeded(seed),
            validator: BasicCredentialValidator::new(),
        }
    }

    /// The environment of group operations, at the fixed time [`NOW`] (inside every test
    /// KeyPackage's lifetime), committing outsiders' proposals too (the pool has them).
    pub fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator)
            .with_policy(&canopy_core::group::IncludeAll)
            .at(NOW)
    }

    /// The suite's operations.
    ///
    /// # Errors
    /// Never for [`SUITE`].
    pub fn ops(&self) -> Result<&dyn SuiteOps, BuildError> {
        Ok(self.provider.suite(SUITE)?)
    }

    /// A fresh signature key pair.
    ///
    /// # Errors
    /// Provider errors.
    pub fn signer(&self) -> Result<SignatureKeyPair, BuildError> {
        Ok(self.ops()?.signature_generate_key_pair()?)
    }

    /// A basic credential `name` with the default capabilities.
    pub fn leaf(name: &str) -> LeafNodeParams {
        LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(name.as_bytes().to_vec()),
            },
            SUITE,
        )
    }

    /// A KeyPackage of `name` and its signature key pair.
    ///
    /// # Errors
    /// Core errors.
    pub fn key_package(
        &self,
        name: &str,
    ) -> Result<(KeyPackageBundle, SignatureKeyPair), BuildError> {
        let signer = self.signer()?;
        let params = KeyPackageParams::new(
            Self::leaf(name),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        let bundle = create_key_package(&self.provider, SUITE, &params, &signer)?;
        Ok((bundle, signer))
    }

    /// A copy of `group` (through its state record).
    ///
    /// # Errors
    /// Core errors.
    pub fn copy(&self, group: &Group) -> Result<Group, BuildError> {
        Ok(Group::from_bytes(
            &self.provider,
            group.to_bytes()?.as_bytes(),
            Some(group.signer().clone()),
        )?)
    }

    /// `group` processes a commit from another member and merges it.
    fn merge(&self, group: &mut Group, commit: &[u8]) -> Result<(), BuildError> {
        match group.process_message(&self.env(), commit)? {
            ProcessedMessage::Commit(staged) => match group.merge_staged_commit(*staged)? {
                Merged::Member { .. } => Ok(()),
                Merged::Removed => Err("removed".into()),
            },
            ProcessedMessage::OwnCommit => match group.merge_pending_commit()? {
                Merged::Member { .. } => Ok(()),
                Merged::Removed => Err("removed".into()),
            },
            other => Err(format!("not a commit: {other:?}").into()),
        }
    }
}

/// Which of carol's epoch-2 states a pool message is meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Snapshot {
    /// Carol as she entered epoch 2.
    Fresh = 0,
    /// Carol after receiving bob's Update proposal and alice's Add proposal.
    Proposals = 1,
}

impl Snapshot {
    /// Both snapshots, in index order.
    pub const ALL: [Self; 2] = [Self::Fresh, Self::Proposals];
}

/// What carol makes of a message she accepts, in a comparable form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Application data.
    Application {
        /// The sender's leaf.
        sender: u32,
        /// The epoch it was sent in.
        epoch: u64,
        /// The data.
        data: Vec<u8>,
        /// The authenticated data.
        authenticated_data: Vec<u8>,
    },
    /// A cached proposal.
    Proposal {
        /// Who proposed it.
        sender: Sender,
        /// The proposal.
        proposal: Proposal,
    },
    /// A staged commit.
    Commit {
        /// What it changes.
        summary: CommitSummary,
        /// The new epoch's authenticator (`None` if carol is removed).
        epoch_authenticator: Option<Vec<u8>>,
    },
    /// Our own pending commit.
    OwnCommit,
    /// A proposal or commit of a past epoch.
    PastHandshake {
        /// Its epoch.
        epoch: u64,
        /// Its sender.
        sender: Sender,
        /// Its body.
        body: FramedContentBody,
    },
}

impl Outcome {
    /// The comparable form of `processed`.
    pub fn of(processed: &ProcessedMessage) -> Option<Self> {
        Some(match processed {
            ProcessedMessage::Application {
                sender,
                epoch,
                data,
                authenticated_data,
            } => Self::Application {
                sender: sender.value(),
                epoch: *epoch,
                data: data.clone(),
                authenticated_data: authenticated_data.clone(),
            },
            ProcessedMessage::Proposal { sender, proposal } => Self::Proposal {
                sender: *sender,
                proposal: proposal.clone(),
            },
            ProcessedMessage::Commit(staged) => Self::Commit {
                summary: staged.summary().clone(),
                epoch_authenticator: staged.epoch_authenticator().map(<[u8]>::to_vec),
            },
            ProcessedMessage::OwnCommit => Self::OwnCommit,
            ProcessedMessage::PastHandshake {
                epoch,
                sender,
                body,
            } => Self::PastHandshake {
                epoch: *epoch,
                sender: *sender,
                body: body.clone(),
            },
            _ => return None,
        })
    }
}

/// One valid message for carol.
#[derive(Clone, Debug)]
pub struct PoolMessage {
    /// What it is (for corpus file names and reports).
    pub name: &'static str,
    /// The MLSMessage bytes.
    pub bytes: Vec<u8>,
    /// The receiver state it is valid for.
    pub snapshot: Snapshot,
    /// What carol makes of it in that state (`None`: she rejects it, as for her own message).
    pub outcome: Option<Outcome>,
}

/// The joiner of the Welcome fixture: dave, added by alice's commit without a path.
pub struct Joiner {
    /// Dave's KeyPackage bundle.
    pub bundle: KeyPackageBundle,
    /// Dave's signature key pair.
    pub signer: SignatureKeyPair,
    /// The Welcome (an MLSMessage).
    pub welcome: Vec<u8>,
    /// The decoded Welcome.
    pub decoded: Welcome,
    /// Dave's GroupSecrets, opened by the harness.
    pub group_secrets: GroupSecrets,
    /// The GroupInfo inside the Welcome, decrypted by the harness.
    pub group_info: GroupInfo,
    /// The joiner secrets that seal and check that GroupInfo.
    pub joiner_secrets: JoinerSecrets,
    /// Dave's KeyPackageRef.
    pub key_package_ref: Vec<u8>,
    /// The epoch authenticator dave's group has after joining from the Welcome.
    pub epoch_authenticator: Vec<u8>,
}

/// Everything the fuzz targets start from.
pub struct Fixture {
    /// Carol's epoch-2 states, by [`Snapshot`] index.
    pub snapshots: Vec<Vec<u8>>,
    /// Carol's signer, to load her snapshots with.
    pub carol_signer: Arc<dyn canopy_crypto::Signer>,
    /// One message of each kind for carol; see the module docs.
    pub pool: Vec<PoolMessage>,
    /// Every outcome of a pool message in a snapshot, or in a snapshot that then merged one
    /// of the pool's commits: what an accepted message that was not re-signed may give.
    pub known: Vec<Outcome>,
    /// The membership key of epoch 2, found in carol's state record, so that the harness
    /// can protect re-signed content as a member would.
    pub membership_key: Secret,
    /// The Welcome fixture.
    pub joiner: Joiner,
    /// Encoded KeyPackages (MLSMessage-free `KeyPackage` bytes).
    pub key_packages: Vec<Vec<u8>>,
    /// Encoded GroupInfos (`GroupInfo` bytes, with and without the tree).
    pub group_infos: Vec<Vec<u8>>,
    /// Encoded ratchet trees (`RatchetTree` bytes).
    pub ratchet_trees: Vec<Vec<u8>>,
    /// Group state records of several members and epochs.
    pub states: Vec<Vec<u8>>,
}

impl Fixture {
    /// Carol's state for `snapshot`, as a group.
    ///
    /// # Errors
    /// Core errors (none for the stored snapshots).
    pub fn receiver(&self, world: &World, snapshot: Snapshot) -> Result<Group, BuildError> {
        let bytes = self
            .snapshots
            .get(snapshot as usize)
            .ok_or("no such snapshot")?;
        Ok(Group::from_bytes(
            &world.provider,
            bytes,
            Some(self.carol_signer.clone()),
        )?)
    }
}

/// The fixtures, built on first use.
#[expect(
    clippy::panic,
    reason = "test support: a fixture that cannot be built is a bug of the harness"
)]
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| build().unwrap_or_else(|e| panic!("building the fuzz fixture: {e}")))
}

fn config(handshake: HandshakeFormat) -> GroupConfig {
    GroupConfig {
        handshake,
        ..GroupConfig::default()
    }
}

fn psk_id() -> PreSharedKeyId {
    PreSharedKeyId {
        psk: Psk::External {
            psk_id: VarBytes(PSK_ID.to_vec()),
        },
        psk_nonce: VarBytes(vec![7; 32]),
    }
}

fn welcome_of(bytes: &[u8]) -> Result<Welcome, BuildError> {
    match MlsMessage::from_bytes(bytes)? {
        MlsMessage::Welcome(w) => Ok(w),
        _ => Err("not a Welcome".into()),
    }
}

fn public_of(bytes: &[u8]) -> Result<PublicMessage, BuildError> {
    match MlsMessage::from_bytes(bytes)? {
        MlsMessage::PublicMessage(m) => Ok(*m),
        _ => Err("not a PublicMessage".into()),
    }
}

/// Builds every fixture.
///
/// # Errors
/// A core error if the API changed under the harness.
pub fn build() -> Result<Fixture, BuildError> {
    let w = World::default();
    let env = w.env();
    let ops = w.ops()?;

    // Epoch 0 -> 1: alice adds bob and carol.
    let mut alice = Group::create(
        &env,
        CreateParams::new(
            SUITE,
            GROUP_ID.to_vec(),
            &World::leaf("alice"),
            Arc::new(w.signer()?),
        )
        .config(config(HandshakeFormat::Public)),
    )?;
    let (bob_kp, bob_sig) = w.key_package("bob")?;
    let (carol_kp, carol_sig) = w.key_package("carol")?;
    let out = alice.commit(
        &env,
        CommitOptions {
            add: vec![bob_kp.key_package.clone(), carol_kp.key_package.clone()],
            ..CommitOptions::default()
        },
    )?;
    w.merge(&mut alice, &out.commit)?;
    let welcome = welcome_of(out.welcome.as_deref().ok_or("no Welcome")?)?;
    let join = |bundle: &KeyPackageBundle, signer: &SignatureKeyPair, handshake| {
        Group::join(
            &env,
            JoinParams::new(&welcome, bundle, Arc::new(signer.clone())).config(config(handshake)),
        )
    };
    let mut bob = join(&bob_kp, &bob_sig, HandshakeFormat::Private)?;
    let mut carol = join(&carol_kp, &carol_sig, HandshakeFormat::Public)?;
    let mut states = vec![alice.to_bytes()?.as_bytes().to_vec()];

    // Epoch 1 leftovers, delivered late.
    let late_application =
        w.copy(&alice)?
            .encrypt_application(&env, b"late from alice", b"epoch 1")?;
    let (frank_kp, _) = w.key_package("frank")?;
    let late_proposal = w.copy(&alice)?.propose(
        &env,
        Proposal::Add(Box::new(Add {
            key_package: frank_kp.key_package.clone(),
        })),
    )?;

    // Epoch 1 -> 2: bob's update, as a PrivateMessage.
    let update = bob.commit(
        &env,
        CommitOptions {
            force_path: true,
            ..CommitOptions::default()
        },
    )?;
    w.merge(&mut bob, &update.commit)?;
    w.merge(&mut alice, &update.commit)?;
    w.merge(&mut carol, &update.commit)?;
    for g in [&mut alice, &mut bob, &mut carol] {
        g.add_external_psk(PSK_ID.to_vec(), Secret::from_slice(b"the fuzz psk value"));
    }
    states.push(bob.to_bytes()?.as_bytes().to_vec());

    // The pool of epoch 2.
    let mut pool: Vec<(&'static str, Vec<u8>, Snapshot)> = Vec::new();
    let mut add = |name, bytes, snapshot| pool.push((name, bytes, snapshot));
    add(
        "application_alice",
        w.copy(&alice)?
            .encrypt_application(&env, b"hello from alice", b"a")?,
        Snapshot::Fresh,
    );
    add(
        "application_bob",
        w.copy(&bob)?
            .encrypt_application(&env, b"hello from bob", b"")?,
        Snapshot::Fresh,
    );
    add(
        "application_carol_own",
        // Sent by carol herself, so her snapshots have used its key: the echo is rejected.
        carol.encrypt_application(&env, b"carol's own", b"")?,
        Snapshot::Fresh,
    );
    add("application_late", late_application, Snapshot::Fresh);
    add("proposal_late", late_proposal, Snapshot::Fresh);
    add(
        "commit_path_alice",
        w.copy(&alice)?
            .commit(
                &env,
                CommitOptions {
                    force_path: true,
                    authenticated_data: b"update".to_vec(),
                    ..CommitOptions::default()
                },
            )?
            .commit,
        Snapshot::Fresh,
    );
    let (dave_kp, dave_sig) = w.key_package("dave")?;
    let add_dave = w.copy(&alice)?.commit(
        &env,
        CommitOptions {
            add: vec![dave_kp.key_package.clone()],
            ..CommitOptions::default()
        },
    )?;
    add(
        "commit_add_no_path",
        add_dave.commit.clone(),
        Snapshot::Fresh,
    );
    add(
        "commit_remove_private_bob",
        w.copy(&bob)?
            .commit(
                &env,
                CommitOptions {
                    remove: vec![LeafIndex::new(0).ok_or("leaf")?],
                    ..CommitOptions::default()
                },
            )?
            .commit,
        Snapshot::Fresh,
    );
    add(
        "commit_remove_receiver",
        w.copy(&alice)?
            .commit(
                &env,
                CommitOptions {
                    remove: vec![LeafIndex::new(2).ok_or("leaf")?],
                    ..CommitOptions::default()
                },
            )?
            .commit,
        Snapshot::Fresh,
    );
    add(
        "commit_psk",
        w.copy(&alice)?
            .commit(
                &env,
                CommitOptions {
                    psks: vec![psk_id()],
                    ..CommitOptions::default()
                },
            )?
            .commit,
        Snapshot::Fresh,
    );
    add(
        "commit_extensions",
        w.copy(&alice)?
            .commit(
                &env,
                CommitOptions {
                    extensions: Some(Extensions::new(vec![
                        RequiredCapabilities {
                            credential_types: vec![CredentialType::BASIC].into(),
                            ..RequiredCapabilities::default()
                        }
                        .to_extension()?,
                    ])?),
                    ..CommitOptions::default()
                },
            )?
            .commit,
        Snapshot::Fresh,
    );
    add(
        "commit_reinit",
        w.copy(&alice)?
            .commit(
                &env,
                CommitOptions {
                    reinit: Some(ReInit {
                        group_id: VarBytes(b"fuzz-next".to_vec()),
                        version: wire::ProtocolVersion::MLS10,
                        cipher_suite: SUITE,
                        extensions: Extensions::default(),
                    }),
                    ..CommitOptions::default()
                },
            )?
            .commit,
        Snapshot::Fresh,
    );
    // Proposals, and a commit of them by reference.
    let mut bob_copy = w.copy(&bob)?;
    let bob_update = bob_copy.propose_update(&env, None)?;
    let (erin_kp, _) = w.key_package("erin")?;
    let mut alice_copy = w.copy(&alice)?;
    let alice_add = alice_copy.propose(
        &env,
        Proposal::Add(Box::new(Add {
            key_package: erin_kp.key_package.clone(),
        })),
    )?;
    let alice_remove = w
        .copy(&alice)?
        .propose(&env, Proposal::Remove(Remove { removed: 1 }))?;
    let _ = alice_copy.process_message(&env, &bob_update)?;
    let by_reference = alice_copy.commit(&env, CommitOptions::default())?;
    add(
        "proposal_update_private_bob",
        bob_update.clone(),
        Snapshot::Fresh,
    );
    add("proposal_add_alice", alice_add.clone(), Snapshot::Fresh);
    add("proposal_remove_alice", alice_remove, Snapshot::Fresh);
    add(
        "commit_by_reference",
        by_reference.commit,
        Snapshot::Proposals,
    );
    // An outsider's self-add (new_member_proposal) and an external commit.
    let (grace_kp, grace_sig) = w.key_package("grace")?;
    let content = FramedContent {
        group_id: VarBytes(GROUP_ID.to_vec()),
        epoch: carol.epoch(),
        sender: Sender::NewMemberProposal,
        authenticated_data: VarBytes(Vec::new()),
        body: FramedContentBody::Proposal(Proposal::Add(Box::new(Add {
            key_package: grace_kp.key_package.clone(),
        }))),
    };
    let signed = sign_content(ops, WireFormat::PublicMessage, content, &grace_sig, None)?;
    let self_add = MlsMessage::PublicMessage(Box::new(protect_public(
        ops,
        signed,
        carol.context(),
        None,
    )?))
    .to_bytes()?;
    add("proposal_new_member", self_add, Snapshot::Fresh);
    let group_info_bytes = alice.group_info(&env, true)?;
    let MlsMessage::GroupInfo(group_info) = MlsMessage::from_bytes(&group_info_bytes)? else {
        return Err("not a GroupInfo".into());
    };
    let (henry, external) = Group::join_external(
        &env,
        config(HandshakeFormat::Public),
        &group_info,
        None,
        &World::leaf("henry"),
        Arc::new(w.signer()?),
        None,
        &[],
    )?;
    add("commit_external", external, Snapshot::Fresh);

    // Carol's snapshots, and what she makes of every pool message.
    let fresh = carol.to_bytes()?.as_bytes().to_vec();
    let mut with_proposals = w.copy(&carol)?;
    with_proposals.process_message(&env, &bob_update)?;
    with_proposals.process_message(&env, &alice_add)?;
    let snapshots = vec![fresh, with_proposals.to_bytes()?.as_bytes().to_vec()];
    let mut messages = Vec::new();
    for (name, bytes, snapshot) in pool {
        let mut receiver = Group::from_bytes(
            &w.provider,
            snapshots.get(snapshot as usize).ok_or("snapshot")?,
            Some(carol.signer().clone()),
        )?;
        let outcome = receiver
            .process_message(&env, &bytes)
            .ok()
            .and_then(|p| Outcome::of(&p));
        messages.push(PoolMessage {
            name,
            bytes,
            snapshot,
            outcome,
        });
    }

    let mut known: Vec<Outcome> = Vec::new();
    let mut note = |o: Outcome| {
        if !known.contains(&o) {
            known.push(o);
        }
    };
    for snapshot in &snapshots {
        let receiver = Group::from_bytes(&w.provider, snapshot, Some(carol.signer().clone()))?;
        for m in &messages {
            if let Ok(p) = w.copy(&receiver)?.process_message(&env, &m.bytes) {
                Outcome::of(&p).map(&mut note);
            }
        }
        for c in &messages {
            let mut merged = w.copy(&receiver)?;
            let Ok(ProcessedMessage::Commit(staged)) = merged.process_message(&env, &c.bytes)
            else {
                continue;
            };
            if merged.merge_staged_commit(*staged)? != (Merged::Member { epoch: 3 }) {
                continue;
            }
            for m in &messages {
                if let Ok(p) = w.copy(&merged)?.process_message(&env, &m.bytes) {
                    Outcome::of(&p).map(&mut note);
                }
            }
        }
    }

    let membership_key = find_membership_key(
        ops,
        &carol,
        &public_of(
            &messages
                .iter()
                .find(|m| m.name == "commit_path_alice")
                .ok_or("pool")?
                .bytes,
        )?,
    )?;

    // The Welcome fixture: dave, from alice's add commit.
    let welcome_bytes = add_dave.welcome.ok_or("no Welcome for dave")?;
    let decoded = welcome_of(&welcome_bytes)?;
    let key_package_ref = dave_kp.reference(ops)?.as_bytes().to_vec();
    let group_secrets = open_group_secrets(ops, &decoded, &key_package_ref, &dave_kp.init_private)?;
    let (inner_info, joiner_secrets) = open_group_info(ops, &decoded, &group_secrets, &[])?;
    let dave = Group::join(
        &env,
        JoinParams::new(&decoded, &dave_kp, Arc::new(dave_sig.clone()))
            .config(config(HandshakeFormat::Public)),
    )?;
    states.push(carol.to_bytes()?.as_bytes().to_vec());
    states.push(with_proposals.to_bytes()?.as_bytes().to_vec());
    states.push(dave.to_bytes()?.as_bytes().to_vec());
    states.push(henry.to_bytes()?.as_bytes().to_vec());
    let mut pending = w.copy(&alice)?;
    pending.commit(
        &env,
        CommitOptions {
            force_path: true,
            ..CommitOptions::default()
        },
    )?;
    states.push(pending.to_bytes()?.as_bytes().to_vec());

    let bare_info = alice.group_info(&env, false)?;
    let MlsMessage::GroupInfo(bare_info) = MlsMessage::from_bytes(&bare_info)? else {
        return Err("not a GroupInfo".into());
    };
    Ok(Fixture {
        carol_signer: carol.signer().clone(),
        snapshots,
        pool: messages,
        known,
        membership_key,
        joiner: Joiner {
            bundle: dave_kp,
            signer: dave_sig,
            welcome: welcome_bytes,
            decoded,
            group_secrets,
            group_info: inner_info.clone(),
            joiner_secrets,
            key_package_ref,
            epoch_authenticator: dave.epoch_authenticator().to_vec(),
        },
        key_packages: [&bob_kp, &erin_kp, &grace_kp, &frank_kp]
            .iter()
            .map(|b| b.key_package.to_bytes())
            .collect::<Result<_, _>>()?,
        group_infos: vec![
            group_info.to_bytes()?,
            bare_info.to_bytes()?,
            inner_info.to_bytes()?,
        ],
        ratchet_trees: vec![
            alice.tree().to_wire()?.to_bytes()?,
            dave.tree().to_wire()?.to_bytes()?,
            henry.tree().to_wire()?.to_bytes()?,
        ],
        states,
    })
}

/// The membership key of `group`'s epoch: the secret in its state record that gives
/// `sample` (a member's PublicMessage of that epoch) its membership tag. Found by trying
/// every window of the record, so that it does not depend on the record's layout.
fn find_membership_key(
    ops: &dyn SuiteOps,
    group: &Group,
    sample: &PublicMessage,
) -> Result<Secret, BuildError> {
    let state = group.to_bytes()?;
    let expected = sample.membership_tag.as_ref().ok_or("no membership tag")?;
    let content = AuthenticatedContent {
        wire_format: WireFormat::PublicMessage,
        content: sample.content.clone(),
        auth: sample.auth.clone(),
    };
    state
        .as_bytes()
        .windows(ops.params().kdf_len())
        .map(Secret::from_slice)
        .find(|key| {
            protect_public(ops, content.clone(), group.context(), Some(key))
                .is_ok_and(|m| m.membership_tag.as_ref() == Some(expected))
        })
        .ok_or_else(|| "no membership key in the state record".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pool_message_but_carols_own_is_accepted() {
        let f = fixture();
        for m in &f.pool {
            assert_eq!(
                m.outcome.is_some(),
                m.name != "application_carol_own",
                "{}",
                m.name
            );
        }
        assert!(f.pool.len() >= 15);
    }

    #[test]
    fn known_outcomes_cover_every_kind_and_merged_epochs() {
        let f = fixture();
        let has = |p: &dyn Fn(&Outcome) -> bool| f.known.iter().any(p);
        assert!(has(&|o| matches!(o, Outcome::Application { epoch: 1, .. })));
        assert!(has(&|o| matches!(o, Outcome::Application { epoch: 2, .. })));
        assert!(has(&|o| matches!(
            o,
            Outcome::Proposal {
                sender: Sender::NewMemberProposal,
                ..
            }
        )));
        assert!(has(&|o| matches!(
            o,
            Outcome::Commit { epoch_authenticator: None, summary } if summary.self_removed
        )));
        assert!(has(&|o| matches!(
            o,
            Outcome::Commit { epoch_authenticator: Some(_), summary }
                if summary.committer == Some(Sender::NewMemberCommit)
        )));
        // Epoch-2 handshake messages seen after a merge into epoch 3.
        assert!(has(&|o| matches!(
            o,
            Outcome::PastHandshake { epoch: 2, .. }
        )));
        assert!(has(&|o| matches!(
            o,
            Outcome::PastHandshake { epoch: 1, .. }
        )));
    }

    #[test]
    fn the_fixture_is_deterministic() {
        let (a, b) = (build().unwrap(), build().unwrap());
        assert_eq!(a.snapshots, b.snapshots);
        assert_eq!(a.joiner.welcome, b.joiner.welcome);
        let bytes = |f: &Fixture| f.pool.iter().map(|m| m.bytes.clone()).collect::<Vec<_>>();
        assert_eq!(bytes(&a), bytes(&b));
    }
}
