//! The stateful target: carol (a member of the prepared three-member group) processes up to
//! [`MAX_STEPS`] messages taken from the pool of valid messages and mutated as the input says.
//!
//! Input: one byte selecting the receiver [`Snapshot`], then steps of
//! `kind: u8, pool: u8, length: u16 (big endian), payload[length]`:
//!
//! | `kind % 6` | message processed |
//! |---|---|
//! | [`AS_IS`] | the pool message unchanged |
//! | [`RAW`] | the payload itself (the pool message if the payload is empty) |
//! | [`MUTATE`] | the pool message after the payload's byte mutations (flip, set, insert, delete, truncate, splice; 4 bytes each) |
//! | [`RESIGN`] | the payload decoded as a FramedContent, its leaves and KeyPackages re-signed by their owners, then signed as its claimed sender (the insecure provider lets the harness sign for any public key) with the epoch-2 GroupContext, given the pool message's confirmation tag, membership-tagged with the epoch-2 membership key: a malicious insider's message |
//! | [`MERGE`] | the pool message unchanged; a staged commit is then merged and the state round-tripped |
//! | 5 | the pool message after one bit flip at the payload's position |
//!
//! After every step:
//! - no panic;
//! - an error leaves carol's state record byte-identical;
//! - an accepted message has a content that was signed: an outcome the unmodified pool gives
//!   ([`Fixture::known`](crate::world::Fixture::known)), or, for a re-signed content, that
//!   content itself (a proposal or a past epoch's handshake with exactly its sender and
//!   body, or a commit that removes carol, which she cannot confirm; a re-signed commit
//!   that changes anything else fails its confirmation tag);
//! - at the end, a state that changed loads back to the same record.

use canopy_core::advanced::framing::protect_public;
use canopy_core::group::{Group, Merged, ProcessedMessage};
use canopy_core::wire::{
    AuthenticatedContent, FramedContent, FramedContentAuthData, FramedContentBody, MlsMessage,
    Proposal, ProposalOrRef, PublicMessage, Sender, WireFormat,
};
use canopy_crypto::{CryptoProvider as _, SignaturePublicKey, SuiteOps};

use super::decode::state_round_trip;
use super::mutate::{Reader, must, mutate, pick, resign_key_package, resign_leaf, signer_of};
use crate::world::{self, Fixture, Outcome, SUITE, Snapshot, World, fixture};

/// At most this many messages per input.
pub const MAX_STEPS: usize = 4;
/// Step kind: the pool message as it is.
pub const AS_IS: u8 = 0;
/// Step kind: the payload as the message.
pub const RAW: u8 = 1;
/// Step kind: byte mutations of the pool message.
pub const MUTATE: u8 = 2;
/// Step kind: the payload as FramedContent, re-signed and re-tagged.
pub const RESIGN: u8 = 3;
/// Step kind: the pool message; merge if it is a commit.
pub const MERGE: u8 = 4;

/// The stateful target; see the module documentation.
pub fn process_message(data: &[u8]) {
    let f = fixture();
    let w = World::new(world::SEED);
    let mut r = Reader::new(data);
    let snapshot = Snapshot::ALL
        .get(pick(usize::from(r.u8()), Snapshot::ALL.len()))
        .copied()
        .unwrap_or(Snapshot::Fresh);
    let mut group = must(f.receiver(&w, snapshot), "loading a snapshot");
    let mut merged = false;
    let mut accepted = false;
    // Carol's record before the next step.
    let mut before = must(group.to_bytes(), "to_bytes");
    for _ in 0..MAX_STEPS {
        if r.is_empty() {
            break;
        }
        let kind = r.u8() % 6;
        let Some(base) = f.pool.get(pick(usize::from(r.u8()), f.pool.len())) else {
            return;
        };
        let len = usize::from(r.u16());
        let payload = r.bytes(len);
        let mut signed_content = None;
        let message = match kind {
            RAW if !payload.is_empty() => payload.to_vec(),
            MUTATE => {
                let donors: Vec<&[u8]> = f.pool.iter().map(|m| m.bytes.as_slice()).collect();
                let mut bytes = base.bytes.clone();
                mutate(&mut bytes, payload, &donors);
                bytes
            }
            RESIGN => {
                let Some((bytes, content)) = resign(&w, f, &group, &base.bytes, payload) else {
                    continue;
                };
                signed_content = Some(content);
                bytes
            }
            5 => {
                let mut bytes = base.bytes.clone();
                let mut p = Reader::new(payload);
                let at = pick(usize::from(p.u16()), bytes.len());
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << (p.u8() % 8);
                }
                bytes
            }
            _ => base.bytes.clone(),
        };
        match group.process_message(&w.env(), &message) {
            Err(e) => {
                let after = must(group.to_bytes(), "to_bytes");
                assert!(
                    after == before,
                    "process_message failed with {e:?} and changed the state"
                );
            }
            Ok(processed) => {
                check_accepted(f, &group, &processed, signed_content.as_ref());
                if kind == MERGE
                    && !merged
                    && let ProcessedMessage::Commit(staged) = processed
                {
                    merged = true;
                    let removed = staged.summary().self_removed;
                    let result = must(
                        group.merge_staged_commit(*staged),
                        "merging a staged commit",
                    );
                    assert!(
                        (result == Merged::Removed) == removed,
                        "merge disagrees with the staged summary"
                    );
                }
                accepted = true;
                before = must(group.to_bytes(), "to_bytes");
            }
        }
    }
    if accepted {
        state_round_trip(&w.provider, &group);
    }
}

/// The message of a [`RESIGN`] step, and the content it carries.
fn resign(
    w: &World,
    f: &Fixture,
    group: &Group,
    base: &[u8],
    payload: &[u8],
) -> Option<(Vec<u8>, FramedContent)> {
    let ops = w.provider.suite(SUITE).ok()?;
    let mut content = FramedContent::from_bytes(payload).ok()?;
    fix_inner_signatures(ops, group, &mut content);
    let key = sender_key(group, &content);
    let wire_format = WireFormat::PublicMessage;
    let signed = canopy_core::advanced::framing::sign_content(
        ops,
        wire_format,
        content.clone(),
        &signer_of(&key),
        Some(group.context()),
    )
    .ok()?;
    // The pool message's confirmation tag, if it is a PublicMessage commit.
    let tag = match MlsMessage::from_bytes(base) {
        Ok(MlsMessage::PublicMessage(m)) => m.auth.confirmation_tag,
        _ => None,
    };
    let is_commit = matches!(content.body, FramedContentBody::Commit(_));
    let auth = FramedContentAuthData {
        signature: signed.auth.signature,
        confirmation_tag: is_commit.then(|| tag.unwrap_or_else(|| vec![0; 32].into())),
    };
    let authenticated = AuthenticatedContent {
        wire_format,
        content: content.clone(),
        auth: auth.clone(),
    };
    let message = match protect_public(ops, authenticated, group.context(), Some(&f.membership_key))
    {
        Ok(m) => m,
        // Content a member may not send as a PublicMessage: framed anyway, for the receiver
        // to reject.
        Err(_) => PublicMessage {
            membership_tag: matches!(content.sender, Sender::Member(_)).then(|| vec![0; 32].into()),
            content: content.clone(),
            auth,
        },
    };
    let bytes = MlsMessage::PublicMessage(Box::new(message))
        .to_bytes()
        .ok()?;
    Some((bytes, content))
}

/// Signs again, as their owners would, the leaves and KeyPackages `content` carries: a
/// commit's path leaf (as the committer's leaf, or an external joiner's at the leftmost
/// blank leaf) and the KeyPackages of its Adds, an Update's leaf, an Add's KeyPackage.
/// A changed leaf then meets the checks behind its signature.
fn fix_inner_signatures(ops: &dyn SuiteOps, group: &Group, content: &mut FramedContent) {
    let group_id = content.group_id.as_slice().to_vec();
    let sender_leaf = match content.sender {
        Sender::Member(l) => l,
        _ => group
            .tree()
            .leftmost_blank_leaf()
            .map_or_else(|| group.member_count(), |l| l.value()),
    };
    let fix_proposal = |proposal: &mut Proposal| match proposal {
        Proposal::Add(add) => resign_key_package(ops, &mut add.key_package),
        Proposal::Update(update) => {
            resign_leaf(ops, &mut update.leaf_node, &group_id, sender_leaf);
        }
        _ => {}
    };
    match &mut content.body {
        FramedContentBody::Proposal(p) => fix_proposal(p),
        FramedContentBody::Commit(commit) => {
            for p in &mut commit.proposals.0 {
                if let ProposalOrRef::Proposal(p) = p {
                    fix_proposal(p);
                }
            }
            if let Some(path) = &mut commit.path {
                resign_leaf(ops, &mut path.leaf_node, &group_id, sender_leaf);
            }
        }
        FramedContentBody::Application(_) => {}
    }
}

/// The key a receiver verifies `content` with (RFC 9420 §6.1), as far as the harness can
/// tell; a dummy key when there is none.
fn sender_key(group: &Group, content: &FramedContent) -> SignaturePublicKey {
    let key = match (&content.sender, &content.body) {
        (Sender::Member(l), _) => canopy_core::LeafIndex::new(*l)
            .and_then(|l| canopy_core::advanced::tree::TreeRead::leaf(group.tree(), l))
            .map(|leaf| leaf.signature_key.clone()),
        (Sender::NewMemberProposal, FramedContentBody::Proposal(Proposal::Add(add))) => {
            Some(add.key_package.leaf_node.signature_key.clone())
        }
        (Sender::NewMemberCommit, FramedContentBody::Commit(c)) => {
            c.path.as_ref().map(|p| p.leaf_node.signature_key.clone())
        }
        _ => None,
    };
    key.unwrap_or_else(|| SignaturePublicKey::new(vec![0x5A; 32]))
}

/// The invariant on an accepted message; see the module documentation.
fn check_accepted(
    f: &Fixture,
    group: &Group,
    processed: &ProcessedMessage,
    signed: Option<&FramedContent>,
) {
    let Some(outcome) = Outcome::of(processed) else {
        return;
    };
    if f.known.contains(&outcome) {
        return;
    }
    let explained = signed.is_some_and(|c| match &outcome {
        Outcome::Proposal { sender, proposal } => {
            *sender == c.sender
                && matches!(&c.body, FramedContentBody::Proposal(p) if p == proposal)
        }
        Outcome::PastHandshake {
            epoch,
            sender,
            body,
        } => *epoch == c.epoch && *sender == c.sender && *body == c.body,
        Outcome::Commit {
            summary,
            epoch_authenticator: None,
        } => {
            summary.self_removed
                && summary.removed.contains(&group.own_leaf())
                && summary.committer == Some(c.sender)
        }
        _ => false,
    });
    assert!(
        explained,
        "accepted with content that was not signed: {outcome:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The re-signing harness is faithful: an unchanged content, re-signed, is accepted
    /// with the outcome of the original message (so mutated contents get past signature and
    /// membership tag, and only the protocol's own checks stop them).
    #[test]
    fn a_resigned_unchanged_content_has_the_original_outcome() {
        let f = fixture();
        let w = World::new(world::SEED);
        let mut resigned = 0;
        for m in &f.pool {
            let Ok(MlsMessage::PublicMessage(p)) = MlsMessage::from_bytes(&m.bytes) else {
                continue;
            };
            let mut group = f.receiver(&w, m.snapshot).unwrap();
            let payload = p.content.to_bytes().unwrap();
            let (bytes, _) = resign(&w, f, &group, &m.bytes, &payload).unwrap();
            let outcome = group
                .process_message(&w.env(), &bytes)
                .ok()
                .and_then(|p| Outcome::of(&p));
            // Past-epoch content is signed with the current context, so only current ones.
            if p.content.epoch == group.epoch() {
                assert_eq!(outcome, m.outcome, "{}", m.name);
                resigned += 1;
            }
        }
        assert!(resigned >= 8, "{resigned}");
    }

    /// The invariant can fail: an application message the pool never sent, a proposal
    /// other than the one signed, and a commit nobody confirmed are findings.
    #[test]
    fn unsigned_outcomes_are_findings() {
        let f = fixture();
        let w = World::new(world::SEED);
        let group = f.receiver(&w, Snapshot::Fresh).unwrap();
        let forged = ProcessedMessage::Application {
            sender: group.own_leaf(),
            epoch: group.epoch(),
            data: b"never sent".to_vec(),
            authenticated_data: Vec::new(),
        };
        let finding = |p: &ProcessedMessage, signed: Option<&FramedContent>| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                check_accepted(f, &group, p, signed);
            }))
            .is_err()
        };
        assert!(finding(&forged, None));
        let proposal = |removed| ProcessedMessage::Proposal {
            sender: Sender::Member(0),
            proposal: Proposal::Remove(canopy_core::wire::Remove { removed }),
        };
        let signed = FramedContent {
            group_id: world::GROUP_ID.to_vec().into(),
            epoch: group.epoch(),
            sender: Sender::Member(0),
            authenticated_data: Vec::new().into(),
            body: FramedContentBody::Proposal(Proposal::Remove(canopy_core::wire::Remove {
                removed: 2,
            })),
        };
        assert!(!finding(&proposal(2), Some(&signed)));
        assert!(finding(&proposal(2), None));
        assert!(finding(&proposal(3), Some(&signed)));
        // Every pool outcome passes.
        let bob = f.pool.iter().find(|m| m.name == "application_bob").unwrap();
        let mut receiver = f.receiver(&w, Snapshot::Fresh).unwrap();
        let processed = receiver.process_message(&w.env(), &bob.bytes).unwrap();
        assert!(!finding(&processed, None));
    }

    #[test]
    fn a_changed_resigned_commit_is_rejected_and_a_changed_proposal_accepted() {
        let f = fixture();
        let w = World::new(world::SEED);
        let find = |name: &str| f.pool.iter().find(|m| m.name == name).unwrap();
        for (name, accepted) in [
            ("commit_path_alice", false),
            ("proposal_remove_alice", true),
        ] {
            let m = find(name);
            let Ok(MlsMessage::PublicMessage(p)) = MlsMessage::from_bytes(&m.bytes) else {
                panic!("{name} is not public");
            };
            let mut content = p.content.clone();
            content.authenticated_data = b"changed".to_vec().into();
            let mut group = f.receiver(&w, m.snapshot).unwrap();
            let (bytes, signed) =
                resign(&w, f, &group, &m.bytes, &content.to_bytes().unwrap()).unwrap();
            assert_eq!(signed, content);
            let result = group.process_message(&w.env(), &bytes);
            assert_eq!(result.is_ok(), accepted, "{name}: {result:?}");
        }
    }
}
