//! The group's members as the application sees them, and this client's own membership.

use canopy_crypto::SignaturePublicKey;

use super::{Group, GroupError};
use crate::tree::math::LeafIndex;
use crate::tree::{RatchetTree, TreeRead};
use crate::wire::{Credential, LeafNode};

/// One member of the group (RFC 9420 §7.1): the leaf it occupies and who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Member<'a> {
    /// The member's leaf: what a Remove names and what a message's sender is.
    pub leaf: LeafIndex,
    /// The member's credential, as its leaf carries it.
    pub credential: &'a Credential,
    /// The member's signature key.
    pub signature_key: &'a SignaturePublicKey,
}

/// Whether this client still takes part in the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MembershipStatus {
    /// A member of the current epoch: it can send, commit and process.
    Member,
    /// RFC 9420 §12.1.3: removed by the commit that started `epoch`. The group keeps the
    /// secrets of epoch `epoch - 1` (and earlier retained epochs), so messages sent before
    /// the removal can still be read; anything of `epoch` or later is
    /// [`GroupError::Removed`](super::GroupError::Removed), and sending is refused.
    Removed {
        /// The first epoch this client is not a member of.
        epoch: u64,
    },
    /// RFC 9420 §11.2: the group ended with a ReInit ([`Group::reinit`]); nothing more may be
    /// sent in it, and a successor group continues it.
    Ended,
}

impl Group {
    /// The members, in leaf order. O(n) to iterate; [`member_count`](Self::member_count) is
    /// O(1).
    pub fn roster(&self) -> impl Iterator<Item = Member<'_>> + '_ {
        members_of(&self.tree)
    }

    /// The member at `leaf`, if the leaf is not blank.
    pub fn member(&self, leaf: LeafIndex) -> Option<Member<'_>> {
        member_of(&self.tree, leaf)
    }

    /// Whether this client is still a member, was removed, or the group ended.
    ///
    /// A member that processes the commit removing it gets
    /// [`Merged::Removed`](super::Merged::Removed); from then on this says
    /// [`MembershipStatus::Removed`] (also after saving and loading the group), while
    /// [`epoch`](Self::epoch) stays the last epoch whose secrets this client holds.
    pub fn status(&self) -> MembershipStatus {
        if self.is_removed() {
            MembershipStatus::Removed {
                epoch: self.removed_epoch(),
            }
        } else if self.ended.is_some() {
            MembershipStatus::Ended
        } else {
            MembershipStatus::Member
        }
    }

    /// Our leaf node, or [`GroupError::NotAMember`] if we were removed.
    pub(crate) fn own_leaf_node(&self) -> Result<&LeafNode, GroupError> {
        if self.removed.is_some() {
            return Err(GroupError::NotAMember);
        }
        self.tree
            .leaf(self.own_leaf())
            .filter(|leaf| &leaf.signature_key == self.signer.public_key())
            .ok_or(GroupError::NotAMember)
    }

    /// Our leaf no longer holds our signature key: a commit removed us (and may have put a new
    /// member at our old leaf).
    pub(crate) fn is_removed(&self) -> bool {
        self.own_leaf_node().is_err()
    }

    /// The first epoch we are not a member of.
    fn removed_epoch(&self) -> u64 {
        self.removed
            .unwrap_or_else(|| self.context.epoch.saturating_add(1))
    }

    /// [`GroupError::Removed`] for a message of `epoch` if that epoch is past the one whose
    /// commit removed us.
    pub(crate) fn check_not_removed_before(&self, epoch: u64) -> Result<(), GroupError> {
        if epoch > self.context.epoch && self.is_removed() {
            return Err(GroupError::Removed {
                epoch: self.removed_epoch(),
            });
        }
        Ok(())
    }
}

/// The members of `tree`, in leaf order (a member's roster, and a public group's).
pub(crate) fn members_of(tree: &RatchetTree) -> impl Iterator<Item = Member<'_>> + '_ {
    (0..tree.leaf_count().value()).filter_map(move |i| member_of(tree, LeafIndex::new(i)?))
}

/// The member of `tree` at `leaf`, if the leaf is not blank.
pub(crate) fn member_of(tree: &RatchetTree, leaf: LeafIndex) -> Option<Member<'_>> {
    tree.leaf(leaf).map(|node| Member {
        leaf,
        credential: &node.credential,
        signature_key: &node.signature_key,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_world::{World, own_commit};
    use super::super::{CommitOptions, GroupConfig, Merged, ProcessedMessage};
    use super::*;

    fn merge(w: &World, g: &mut Group, commit: &[u8]) -> Merged {
        let ProcessedMessage::Commit(staged) = g.process_message(&w.env(), commit).unwrap() else {
            panic!("not a commit");
        };
        g.merge_staged_commit(*staged).unwrap()
    }

    #[test]
    fn the_roster_lists_every_member_with_its_leaf_and_credential() {
        let w = World::seeded(71);
        let (alice, bob, carol) = w.three_members(GroupConfig::default());
        let roster: Vec<Member<'_>> = alice.roster().collect();
        assert_eq!(roster.len(), 3);
        for (member, group) in roster.iter().zip([&alice, &bob, &carol]) {
            assert_eq!(member.leaf, group.own_leaf());
            assert_eq!(member.signature_key, group.signer().public_key());
            assert_eq!(
                Some(member.credential),
                alice.member_credential(member.leaf)
            );
            assert_eq!(alice.member(member.leaf), Some(*member));
        }
        assert_eq!(alice.status(), MembershipStatus::Member);
    }

    /// RFC 9420 §12.1.3: after the commit that removes it, a member says it was removed, and
    /// keeps saying so: a message of the new epoch is `Removed` (not `UnknownEpoch`), sending
    /// is refused, and its leaf re-filled by a new member in the same commit changes nothing.
    #[test]
    fn a_removed_member_knows_it_was_removed_even_when_its_leaf_is_refilled() {
        let w = World::seeded(72);
        let (mut alice, mut bob, mut carol) = w.three_members(GroupConfig::default());
        let (dave, _) = w.key_package("dave");
        let out = alice
            .commit(
                &w.env(),
                CommitOptions {
                    add: vec![dave.key_package],
                    remove: vec![bob.own_leaf()],
                    ..CommitOptions::default()
                },
            )
            .unwrap();
        own_commit(&w, &mut alice, &out.commit);
        let old_epoch = bob.epoch();
        assert_eq!(merge(&w, &mut bob, &out.commit), Merged::Removed);
        assert_eq!(
            merge(&w, &mut carol, &out.commit),
            Merged::Member { epoch: 2 }
        );
        // Dave took Bob's leaf.
        assert_eq!(
            alice.member(bob.own_leaf()).map(|m| m.credential),
            alice.member_credential(bob.own_leaf())
        );
        assert_ne!(
            alice.member(bob.own_leaf()).map(|m| m.signature_key),
            Some(bob.signer().public_key())
        );
        assert_eq!(
            bob.status(),
            MembershipStatus::Removed {
                epoch: old_epoch + 1
            }
        );
        assert_eq!(bob.epoch(), old_epoch);
        let later = alice.encrypt_application(&w.env(), b"after", b"").unwrap();
        assert!(matches!(
            bob.process_message(&w.env(), &later),
            Err(GroupError::Removed { epoch }) if epoch == old_epoch + 1
        ));
        assert!(matches!(
            bob.encrypt_application(&w.env(), b"still here?", b""),
            Err(GroupError::NotAMember)
        ));
        assert!(matches!(
            bob.commit(&w.env(), CommitOptions::default()),
            Err(GroupError::NotAMember)
        ));
        // The status survives saving and loading.
        let saved = bob.to_bytes().unwrap();
        let loaded =
            Group::from_bytes(w.env().crypto, saved.as_bytes(), Some(bob.signer().clone()))
                .unwrap();
        assert_eq!(loaded.status(), bob.status());
    }
}
