//! A public view of a group (RFC 9420 §6.1, §7, §8.2, §12): what a party without any of the
//! group's secrets, such as a Delivery Service, can know and check of it.
//!
//! A [`PublicGroup`] holds the GroupContext, the ratchet tree, the interim transcript hash
//! and the proposals of the current epoch. It starts from a signed GroupInfo
//! ([`PublicGroup::from_group_info`]), from a member's group ([`Group::public_view`]), or from
//! its own saved state ([`PublicGroup::from_bytes`]), and follows the group through the
//! PublicMessage proposals and commits it is given ([`PublicGroup::process_message`]).
//!
//! ```text
//!   GroupInfo ──from_group_info──┐   (WE-03 signature, TR- and LN- rules of the tree, TR-06)
//!   Group ──public_view──────────┤
//!   to_bytes ──from_bytes────────┤
//!                                v
//!                      PublicGroup (epoch n) ◄──────────────────────────────┐
//!     process_message ─┤  PublicMessage proposal: FR-03 signature, PR-, LN-, │
//!                      │     KP- rules, AP-02 policy ─> cached by reference │
//!                      │  PublicMessage commit: FR-03, CM-, EX-, PR-, LN-    │
//!                      │     rules, UpdatePath applied (CM-13..16) ─> epoch n+1
//!                      │  PrivateMessage proposal/commit ─> PrivateHandshake error
//!                      └  PrivateMessage application ─> passed on, unread
//! ```
//!
//! ```
//! use std::sync::Arc;
//!
//! use canopy_core::advanced::codec::VarBytes;
//! use canopy_core::group::{CommitOptions, CreateParams, Env, Group, GroupConfig};
//! use canopy_core::key_package::{
//!     BasicCredentialValidator, KeyPackageParams, LeafNodeParams, create_key_package,
//! };
//! use canopy_core::public::{PublicGroup, PublicProcessed};
//! use canopy_core::wire::{Credential, Lifetime};
//! use canopy_crypto::{CipherSuite, CryptoProvider};
//! use canopy_crypto_rustcrypto::RustCryptoProvider;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let suite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
//! let provider = RustCryptoProvider::new();
//! let credentials = BasicCredentialValidator::new();
//! let env = Env::new(&provider, &credentials).at(1_700_000_000);
//! let ops = provider.suite(suite)?;
//! let leaf = |name: &str| {
//!     LeafNodeParams::new(Credential::Basic { identity: VarBytes(name.into()) }, suite)
//! };
//! let alice_key = Arc::new(ops.signature_generate_key_pair()?);
//! let mut alice =
//!     Group::create(&env, CreateParams::new(suite, b"example".to_vec(), &leaf("alice"), alice_key))?;
//!
//! // The Delivery Service starts from a GroupInfo that Alice publishes.
//! let info = alice.group_info(&env, true)?;
//! let mut ds = PublicGroup::from_group_info(&env, &GroupConfig::default(), &info, None)?;
//!
//! // Alice adds Bob: the Delivery Service checks the commit before passing it on, and
//! // follows the group into the new epoch.
//! let lifetime = Lifetime { not_before: 0, not_after: u64::MAX };
//! let bob_key = ops.signature_generate_key_pair()?;
//! let bob_kp =
//!     create_key_package(&provider, suite, &KeyPackageParams::new(leaf("bob"), lifetime), &bob_key)?;
//! let add = CommitOptions { add: vec![bob_kp.key_package], ..CommitOptions::default() };
//! let out = alice.commit(&env, add)?;
//! let PublicProcessed::Commit(summary) = ds.process_message(&env, &out.commit)? else {
//!     unreachable!()
//! };
//! assert_eq!(summary.added.len(), 1);
//! let _merged = alice.merge_pending_commit()?;
//! assert_eq!(ds.context(), alice.context());
//! assert_eq!(ds.roster().count(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! # What a public group checks
//!
//! Everything a member checks that needs no secret, with the same functions (the rules of
//! [`crate::rules`], the join's tree validation, the member's epoch transition):
//!
//! - a GroupInfo's signature with its signer's leaf (WE-03, RFC 9420 §12.4.3), its tree with
//!   every rule a joiner applies (the TR- and LN- rules, the application's
//!   [`CredentialValidator`](crate::key_package::CredentialValidator) included, §7.3,
//!   §12.4.3.1) and the tree hash against the GroupContext (TR-06);
//! - a message's group, epoch, sender and content type (FR-01, FR-02, FR-05, FR-06, FR-07) and
//!   its signature under the sender's key (FR-03, §6.1): a member's leaf, an external sender
//!   of the `external_senders` extension, or a new member's own key;
//! - a proposal with the rules a member applies on receipt (§12.1; KeyPackages of Adds §10.1,
//!   LeafNodes §7.3, credential types and key uniqueness) and the application's
//!   [`ProposalPolicy`](crate::group::ProposalPolicy); it is then kept under its ProposalRef
//!   (§5.2);
//! - a commit with the proposal-list rules (§12.2, §12.4.3.2 for external commits), every
//!   proposal it carries by value, its UpdatePath's leaf (§7.3) and the public keys and parent
//!   hashes of its path (§7.9.2, CM-13 to CM-16), and the new tree's key uniqueness; then the
//!   new GroupContext: epoch + 1, the new tree hash, the confirmed transcript hash (§8.2) and
//!   the extensions of a GroupContextExtensions proposal.
//!
//! # What it cannot check
//!
//! - The **membership tag** of a member's PublicMessage (FR-04, §6.2) is a MAC under the
//!   epoch's `membership_key`. A public group only requires it to be present; it relies on
//!   the signature, which binds the message to a leaf of the tree.
//! - The **confirmation tag** of a commit (CM-19, §6.1, §8.2) and of a GroupInfo (WE-07)
//!   are MACs under the new epoch's `confirmation_key`. A public group takes the commit's
//!   tag into the interim transcript hash as the (signed) commit carries it; a member that
//!   finds it wrong rejects the commit, and the public group has then moved to an epoch the
//!   members are not in. A Delivery Service that must not diverge waits for a member's
//!   acknowledgement (or a GroupInfo of the new epoch, [`PublicGroup::check_group_info`]).
//! - **PrivateMessages**: their content is encrypted. A proposal or commit in a
//!   PrivateMessage is refused with [`PublicGroupError::PrivateHandshake`] (the group
//!   handshakes in private and cannot be followed); application messages are passed on
//!   unread ([`PublicProcessed::Application`]).
//! - The **secrets a commit uses**: whether an UpdatePath's encrypted path secrets decrypt
//!   to its public keys (CM-17, CM-18), whether an external commit's `kem_output` opens under
//!   the epoch's external key (EX-03), and whether the PSKs a commit injects exist (§8.4).
//! - The encrypted parts of a Welcome (its GroupInfo and GroupSecrets), and any GroupInfo
//!   extension only a Welcome carries: a public group learns a new member's tree position
//!   from the commit's Add, not from the Welcome.
//!
//! # Cost
//!
//! A message costs what it costs a member, without the HPKE work: a commit changes the tree
//! through a diff of the nodes it touches (O(log n) for a path, plus the nodes its proposals
//! change) and is merged in place; the tree is never copied per message. Building from a
//! GroupInfo or from saved bytes hashes the whole tree once (O(n)), as a joiner does.

mod error;
mod state;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use canopy_crypto::{CipherSuite, SignaturePublicKey, SuiteOps};

pub use error::PublicGroupError;
pub use state::PUBLIC_STATE_FORMAT_VERSION;

use crate::codec::{Limits, with_limits};
use crate::crypto::proposal_ref;
use crate::framing::open_public_without_membership_key_alongside;
use crate::group::{
    Base, CachedProposal, CommitSummary, Env, Group, GroupConfig, GroupError, Member, Transcript,
    accept_received, commit_transcript_hash, committer_of, group_info_signer, member_of,
    members_of, receive_and_seal, received_tree, sender_key_with, start_commit,
};
use crate::join::verify_group_info;
use crate::key_package::LifetimePolicy;
use crate::rules::leaf::CredentialTypes;
use crate::rules::proposal::{Committer, Scope};
use crate::rules::{Rule, Violation};
use crate::schedule::interim_transcript_hash;
use crate::tree::math::LeafIndex;
use crate::tree::{RatchetTree, StagedTree, TreeRead};
use crate::wire::{
    self, AuthenticatedContent, Commit, ContentType, Extensions, FramedContentBody, GroupContext,
    GroupInfo, MlsMessage, Proposal, PublicMessage, Sender,
};

/// A group as a party without its secrets sees it (RFC 9420 §6.1, §7, §8.2, §12): the
/// GroupContext, the ratchet tree, the interim transcript hash and the current epoch's
/// proposals. See the [module documentation](self) for what it checks and what it cannot.
///
/// Processing is all-or-nothing: a rejected message leaves the public group exactly as it
/// was. Cloning copies the tree (O(n)); processing never does.
#[derive(Clone)]
pub struct PublicGroup {
    context: GroupContext,
    tree: RatchetTree,
    /// RFC 9420 §8.2: `interim_transcript_hash` of the current epoch.
    interim_transcript_hash: Vec<u8>,
    /// The proposals of the current epoch, by ProposalRef (§5.2), in the order received.
    proposals: Vec<CachedProposal>,
    /// Ceilings on received messages; not saved (see [`GroupConfig::limits`]).
    limits: Limits,
    /// [`GroupConfig::max_leaf_lifetime`].
    max_leaf_lifetime: Option<u64>,
    /// RFC 9420 §7.3: the members' credential types, computed once per epoch when needed.
    credential_types: OnceLock<CredentialTypes>,
}

impl core::fmt::Debug for PublicGroup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PublicGroup")
            .field("group_id", &self.context.group_id)
            .field("epoch", &self.context.epoch)
            .field("members", &self.tree.member_count())
            .field("proposals", &self.proposals.len())
            .finish_non_exhaustive()
    }
}

/// What a message processed by a [`PublicGroup`] was.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicProcessed {
    /// A valid proposal, now kept until a commit of this epoch references it (RFC 9420
    /// §12.1).
    Proposal {
        /// Who proposed it.
        sender: Sender,
        /// The proposal.
        proposal: Proposal,
        /// Its ProposalRef (RFC 9420 §5.2), by which a commit names it.
        reference: Vec<u8>,
    },
    /// A valid commit, applied: the public group is in the new epoch. What it changed, as a
    /// member's [`StagedCommit::summary`](crate::group::StagedCommit::summary) says it
    /// (`self_removed` is always false).
    Commit(CommitSummary),
    /// A PrivateMessage carrying application data for this group: it cannot be read or
    /// authenticated without the group's secrets, and changes nothing. Only its group id was
    /// checked.
    Application {
        /// The epoch it was sent in (in the clear).
        epoch: u64,
    },
}

/// A commit checked by a public group, not applied yet.
struct PublicStaged {
    context: GroupContext,
    tree: StagedTree,
    interim_transcript_hash: Vec<u8>,
    summary: CommitSummary,
}

impl PublicGroup {
    /// A public group from a GroupInfo (`group_info`: the bytes of an MLSMessage carrying
    /// one, RFC 9420 §12.4.3), with the ratchet tree of its `ratchet_tree` extension or, if it
    /// has none, `ratchet_tree`. The checks are those of a joiner ([`Group::join_external`]):
    /// the GroupInfo's signature under its signer's leaf (WE-03, first: hashing the tree costs
    /// O(n)), the tree within `config`'s limits, hashed and compared with the GroupContext
    /// (TR-06) and validated with every tree and LeafNode rule (the application's validator
    /// included), and the credentials of the `external_senders` extension (PR-08). The
    /// GroupInfo's confirmation tag cannot be checked (it needs the epoch's confirmation
    /// key); it is taken, as signed, into the interim transcript hash (§8.2).
    ///
    /// Of `config`, only [`GroupConfig::limits`] and [`GroupConfig::max_leaf_lifetime`] apply.
    ///
    /// # Errors
    /// [`PublicGroupError::NotAGroupInfo`] for another kind of message;
    /// [`PublicGroupError::Group`] with [`GroupError::MissingRatchetTree`], a codec error
    /// (limits included), [`GroupError::Join`] for a bad signature (WE-03), or
    /// [`GroupError::Invalid`] naming the tree rule broken.
    pub fn from_group_info(
        env: &Env<'_>,
        config: &GroupConfig,
        group_info: &[u8],
        ratchet_tree: Option<wire::RatchetTree>,
    ) -> Result<Self, PublicGroupError> {
        with_limits(config.limits, || {
            let MlsMessage::GroupInfo(info) = MlsMessage::from_bytes(group_info)? else {
                return Err(PublicGroupError::NotAGroupInfo);
            };
            Ok(Self::from_group_info_value(
                env,
                config,
                &info,
                ratchet_tree,
            )?)
        })
    }

    /// [`Self::from_group_info`] of a decoded GroupInfo, under the active limits.
    fn from_group_info_value(
        env: &Env<'_>,
        config: &GroupConfig,
        info: &GroupInfo,
        ratchet_tree: Option<wire::RatchetTree>,
    ) -> Result<Self, GroupError> {
        let context = &info.group_context;
        let ops = env.ops(context.cipher_suite)?;
        let wire_tree = match info.extensions.typed::<wire::RatchetTree>()? {
            Some(t) => t,
            None => ratchet_tree.ok_or(GroupError::MissingRatchetTree)?,
        };
        // The signature first: padding and hashing the tree costs O(width).
        let signer_leaf = group_info_signer(&wire_tree, info.signer)?;
        verify_group_info(ops, info, &signer_leaf.signature_key)?;
        let tree = received_tree(env, ops, config, context, wire_tree)?;
        let interim = interim_transcript_hash(
            ops,
            context.confirmed_transcript_hash.as_slice(),
            info.confirmation_tag.as_slice(),
        )?;
        Ok(Self::from_parts(
            config,
            context.clone(),
            tree,
            interim,
            Vec::new(),
        ))
    }

    /// A public group of the given parts (a member's own, or a saved state's).
    pub(crate) fn from_parts(
        config: &GroupConfig,
        context: GroupContext,
        tree: RatchetTree,
        interim_transcript_hash: Vec<u8>,
        proposals: Vec<CachedProposal>,
    ) -> Self {
        Self {
            context,
            tree,
            interim_transcript_hash,
            proposals,
            limits: config.limits,
            max_leaf_lifetime: config.max_leaf_lifetime,
            credential_types: OnceLock::new(),
        }
    }

    /// Sets the limits applied to the messages this public group receives from now on (they
    /// are not saved: see [`GroupConfig::limits`]).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Processes a message sent to the group (RFC 9420 §6, §12), under the public group's
    /// limits: a PublicMessage proposal is checked and kept for the epoch's commit; a
    /// PublicMessage commit is checked and applied, and the public group moves to the next
    /// epoch; a PrivateMessage with application data is passed on unread. On any error the
    /// public group is unchanged.
    ///
    /// The membership tag and a commit's confirmation tag are not checked (they need the
    /// epoch's secrets, see the [module documentation](self)).
    ///
    /// # Errors
    /// [`PublicGroupError::PrivateHandshake`] for a proposal or commit in a PrivateMessage;
    /// [`PublicGroupError::Group`] with [`GroupError::WrongGroup`] (FR-01),
    /// [`GroupError::UnknownEpoch`] for another epoch (FR-02), [`GroupError::Framing`] for a
    /// bad signature (FR-03), [`GroupError::NotAGroupMessage`] for a Welcome, GroupInfo or
    /// KeyPackage, codec errors, and [`GroupError::Invalid`] for every rule of a proposal or
    /// commit ([`PublicGroupError::rule`] names it).
    pub fn process_message(
        &mut self,
        env: &Env<'_>,
        bytes: &[u8],
    ) -> Result<PublicProcessed, PublicGroupError> {
        let limits = self.limits;
        with_limits(limits, || self.process_within_limits(env, bytes))
    }

    /// [`Self::process_message`], under the limits.
    fn process_within_limits(
        &mut self,
        env: &Env<'_>,
        bytes: &[u8],
    ) -> Result<PublicProcessed, PublicGroupError> {
        match MlsMessage::from_bytes_with_content(bytes)? {
            (MlsMessage::PublicMessage(m), content_bytes) => {
                Ok(self.process_public(env, *m, content_bytes)?)
            }
            (MlsMessage::PrivateMessage(m), _) => {
                if m.group_id.as_slice() != self.context.group_id.as_slice() {
                    return Err(GroupError::WrongGroup.into());
                }
                match m.content_type {
                    ContentType::Application => Ok(PublicProcessed::Application { epoch: m.epoch }),
                    content_type => Err(PublicGroupError::PrivateHandshake {
                        epoch: m.epoch,
                        content_type,
                    }),
                }
            }
            _ => Err(GroupError::NotAGroupMessage.into()),
        }
    }

    /// A PublicMessage: group and epoch (FR-01, FR-02), the sender's key (FR-07), framing and
    /// signature (FR-03, FR-05, FR-06), then the proposal or commit.
    fn process_public(
        &mut self,
        env: &Env<'_>,
        message: PublicMessage,
        content_bytes: Option<&[u8]>,
    ) -> Result<PublicProcessed, GroupError> {
        let ops = env.ops(self.context.cipher_suite)?;
        if message.content.group_id.as_slice() != self.context.group_id.as_slice() {
            return Err(GroupError::WrongGroup);
        }
        if message.content.epoch != self.context.epoch {
            return Err(GroupError::UnknownEpoch {
                epoch: message.content.epoch,
                current: self.context.epoch,
            });
        }
        let key = sender_key_with(&message.content, &self.context.extensions, |leaf| {
            self.member_key(leaf)
        })?;
        // While the signature is verified: the transcript hash of a commit, public data only.
        let interim = &self.interim_transcript_hash;
        let (verified, transcript) = open_public_without_membership_key_alongside(
            ops,
            message,
            content_bytes,
            &self.context,
            &key,
            |content| commit_transcript_hash(ops, interim, content, content_bytes),
        )?;
        let confirmed = transcript.transpose()?;
        let content = verified.content();
        let sender = content.content.sender;
        #[cfg(feature = "extensions")]
        crate::extensions::safe_aad::check(
            &self.context.extensions,
            content.content.authenticated_data.as_slice(),
        )?;
        match &content.content.body {
            FramedContentBody::Proposal(proposal) => {
                let scope = self.scope(env, ops);
                let reference = proposal_ref(ops, &content.to_bytes()?)?;
                #[cfg(feature = "extensions")]
                crate::group::self_remove_received(
                    proposal,
                    &sender,
                    content.wire_format,
                    &reference,
                    &self.proposals,
                )?;
                accept_received(env, &scope, &self.credential_types, proposal, &sender)?;
                // A proposal seen twice (a resend, an echo) is kept once.
                if !self.proposals.iter().any(|p| p.reference == reference) {
                    self.proposals.push(CachedProposal {
                        reference: reference.clone(),
                        proposal: proposal.clone(),
                        sender,
                    });
                }
                Ok(PublicProcessed::Proposal {
                    sender,
                    proposal: proposal.clone(),
                    reference,
                })
            }
            FramedContentBody::Commit(commit) => {
                let staged = self.stage_commit(
                    env,
                    ops,
                    content,
                    commit,
                    content_bytes,
                    confirmed.as_deref(),
                )?;
                self.merge(staged)
            }
            // FR-05: refused by the framing checks already.
            FramedContentBody::Application(_) => {
                Err(Violation::new(Rule::FramingPublicApplication).into())
            }
        }
    }

    /// RFC 9420 §12.4.2 without secrets: the member's epoch transition up to the new tree
    /// (the same [`start_commit`] and [`receive_and_seal`]), then the new GroupContext's
    /// confirmed transcript hash and the next interim transcript hash (§8.2) with the
    /// commit's confirmation tag as sent. Changes nothing.
    fn stage_commit(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        content: &AuthenticatedContent,
        commit: &Commit,
        encoded: Option<&[u8]>,
        confirmed: Option<&[u8]>,
    ) -> Result<PublicStaged, GroupError> {
        let sender = content.content.sender;
        let committer = committer_of(sender)?;
        let scope = self.scope(env, ops);
        let base = Base {
            ops,
            context: &self.context,
            tree: &self.tree,
        };
        let mut transition = start_commit(
            env,
            base,
            &scope,
            &self.limits,
            &self.proposals,
            commit,
            sender,
            committer,
        )?;
        let path_leaf = receive_and_seal(&mut transition, &scope, commit.path.as_ref())?;
        let mut added = transition.applied.new_leaves();
        if committer == Committer::NewMember {
            added.extend(path_leaf);
        }
        let (tree, mut context, applied) = transition.stage()?;
        let transcript = Transcript {
            content,
            encoded,
            confirmed,
        };
        let confirmed = transcript.confirmed_hash(ops, &self.interim_transcript_hash)?;
        // A commit always carries a confirmation tag (RFC 9420 §6.1); it cannot be verified
        // here, only carried into the transcript.
        let tag = content
            .auth
            .confirmation_tag
            .as_ref()
            .ok_or_else(|| Violation::new(Rule::CommitConfirmationTag))?;
        let interim = interim_transcript_hash(ops, &confirmed, tag.as_slice())?;
        context.confirmed_transcript_hash = confirmed.into();
        let summary = CommitSummary {
            committer: Some(sender),
            added,
            removed: applied.removed,
            updated: applied.updated,
            psks: applied.psks,
            reinit: applied.reinit,
            extensions_changed: applied.extensions.is_some(),
            has_path: commit.path.is_some(),
            self_removed: false,
            new_epoch: context.epoch,
            #[cfg(feature = "extensions")]
            app_ephemeral: applied.app_ephemeral.clone(),
            #[cfg(feature = "extensions")]
            app_data_updated: applied.app_data_updated,
        };
        Ok(PublicStaged {
            context,
            tree,
            interim_transcript_hash: interim,
            summary,
        })
    }

    /// Moves to the epoch of `staged`: O(changed nodes).
    fn merge(&mut self, staged: PublicStaged) -> Result<PublicProcessed, GroupError> {
        // Fails only before any write (a diff of another tree state).
        self.tree.merge(staged.tree)?;
        self.context = staged.context;
        self.interim_transcript_hash = staged.interim_transcript_hash;
        self.proposals.clear();
        self.credential_types = OnceLock::new();
        Ok(PublicProcessed::Commit(staged.summary))
    }

    /// The group's id.
    pub fn group_id(&self) -> &[u8] {
        self.context.group_id.as_slice()
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.context.epoch
    }

    /// The cipher suite.
    pub fn cipher_suite(&self) -> CipherSuite {
        self.context.cipher_suite
    }

    /// The current GroupContext (RFC 9420 §8.1): what a GroupInfo of this epoch carries.
    pub fn context(&self) -> &GroupContext {
        &self.context
    }

    /// The GroupContext extensions.
    pub fn extensions(&self) -> &Extensions {
        &self.context.extensions
    }

    /// The tree hash of the current epoch (RFC 9420 §7.8).
    pub fn tree_hash(&self) -> &[u8] {
        self.tree.tree_hash()
    }

    /// The confirmed transcript hash of the current epoch (RFC 9420 §8.2).
    pub fn confirmed_transcript_hash(&self) -> &[u8] {
        self.context.confirmed_transcript_hash.as_slice()
    }

    /// The interim transcript hash of the current epoch (RFC 9420 §8.2), which the next
    /// commit's confirmed transcript hash starts from.
    pub fn interim_transcript_hash(&self) -> &[u8] {
        &self.interim_transcript_hash
    }

    /// The ratchet tree.
    pub fn tree(&self) -> &RatchetTree {
        &self.tree
    }

    /// The ratchet tree in its wire form (RFC 9420 §12.4.3.3), for joiners that get the tree
    /// out of band. O(n).
    ///
    /// # Errors
    /// [`PublicGroupError::Group`] with a tree error if the tree cannot be encoded.
    pub fn export_tree(&self) -> Result<wire::RatchetTree, PublicGroupError> {
        Ok(self.tree.to_wire().map_err(GroupError::from)?)
    }

    /// The members, in leaf order (as [`Group::roster`]). O(n) to iterate;
    /// [`member_count`](Self::member_count) is O(1).
    pub fn roster(&self) -> impl Iterator<Item = Member<'_>> + '_ {
        members_of(&self.tree)
    }

    /// The member at `leaf`, if the leaf is not blank.
    pub fn member(&self, leaf: LeafIndex) -> Option<Member<'_>> {
        member_of(&self.tree, leaf)
    }

    /// The number of members.
    pub fn member_count(&self) -> u32 {
        self.tree.member_count()
    }

    /// The proposals of the current epoch not yet committed, with their senders and
    /// ProposalRefs.
    pub fn pending_proposals(&self) -> impl Iterator<Item = (&Sender, &Proposal, &[u8])> {
        self.proposals
            .iter()
            .map(|p| (&p.sender, &p.proposal, p.reference.as_slice()))
    }

    /// Checks a GroupInfo (the bytes of an MLSMessage carrying one) that a member published
    /// for the current epoch, before a Delivery Service hands it to external joiners: its
    /// GroupContext is this epoch's (so its tree, if it carries one, must be this tree, and
    /// its confirmed transcript hash this one), and its signature verifies under the key of
    /// the member it names (WE-03). Its confirmation tag and `external_pub` cannot be checked
    /// without the epoch's secrets. Returns the GroupInfo.
    ///
    /// # Errors
    /// [`PublicGroupError::NotAGroupInfo`]; [`PublicGroupError::GroupInfoMismatch`] for a
    /// GroupContext or tree other than this epoch's; [`PublicGroupError::Group`] with
    /// [`GroupError::WrongGroup`], [`GroupError::UnknownEpoch`], or a bad signature (WE-03).
    pub fn check_group_info(
        &self,
        env: &Env<'_>,
        group_info: &[u8],
    ) -> Result<GroupInfo, PublicGroupError> {
        with_limits(self.limits, || {
            let MlsMessage::GroupInfo(info) = MlsMessage::from_bytes(group_info)? else {
                return Err(PublicGroupError::NotAGroupInfo);
            };
            self.check_group_info_value(env, &info)?;
            Ok(*info)
        })
    }

    /// [`Self::check_group_info`] of a decoded GroupInfo.
    fn check_group_info_value(
        &self,
        env: &Env<'_>,
        info: &GroupInfo,
    ) -> Result<(), PublicGroupError> {
        let ops = env.ops(self.context.cipher_suite)?;
        let theirs = &info.group_context;
        if theirs.group_id != self.context.group_id {
            return Err(GroupError::WrongGroup.into());
        }
        if theirs.epoch != self.context.epoch {
            return Err(GroupError::UnknownEpoch {
                epoch: theirs.epoch,
                current: self.context.epoch,
            }
            .into());
        }
        if *theirs != self.context {
            return Err(PublicGroupError::GroupInfoMismatch);
        }
        if let Some(tree) = info
            .extensions
            .typed::<wire::RatchetTree>()
            .map_err(GroupError::from)?
            && tree != self.tree.to_wire().map_err(GroupError::from)?
        {
            return Err(PublicGroupError::GroupInfoMismatch);
        }
        let key = LeafIndex::new(info.signer)
            .and_then(|l| self.tree.leaf(l))
            .map(|l| &l.signature_key)
            .ok_or(GroupError::Join(
                crate::join::JoinError::BadGroupInfoSignature,
            ))?;
        verify_group_info(ops, info, key).map_err(GroupError::from)?;
        Ok(())
    }

    /// What proposals and commits of the current epoch are checked against: the members'
    /// [`Scope`], with no successor PSK (a public group never starts a successor group).
    fn scope<'a>(&'a self, env: &Env<'a>, ops: &'a dyn SuiteOps) -> Scope<'a> {
        Scope {
            ops,
            context: &self.context,
            tree: &self.tree,
            lifetime: LifetimePolicy {
                now: env.now,
                max_total: self.max_leaf_lifetime,
            },
            validator: env.credentials,
            crypto: env.crypto,
            #[cfg(feature = "extensions")]
            components: env.components,
            successor_psk: None,
        }
    }

    /// The signature key of the member at `leaf` (FR-07 if the leaf is blank).
    fn member_key(&self, leaf: LeafIndex) -> Result<SignaturePublicKey, GroupError> {
        self.tree
            .leaf(leaf)
            .map(|l| l.signature_key.clone())
            .ok_or_else(|| Violation::new(Rule::FramingSender).into())
    }
}

impl From<&Group> for PublicGroup {
    fn from(group: &Group) -> Self {
        group.public_view()
    }
}
