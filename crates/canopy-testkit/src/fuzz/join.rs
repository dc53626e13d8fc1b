//! Joining from a fuzzed Welcome (RFC 9420 §12.4.3.1) with a prepared KeyPackage (dave's,
//! from [`world`](crate::world)).

use canopy_core::group::JoinParams;

use canopy_core::advanced::schedule::confirmation_tag;
use canopy_core::advanced::tree::RatchetTree;
use canopy_core::group::Group;
use canopy_core::join::{WelcomeRecipient, seal_welcome};
use canopy_core::wire::{GroupInfo, MlsMessage, Node, RatchetTree as WireTree, Welcome};
use canopy_crypto::CryptoProvider;

use super::decode::state_round_trip;
use super::mutate::{Reader, must, resign_group_info};
use crate::world::{self, SUITE, World, fixture};

/// What [`join_from_welcome`]'s first byte selects: bit 0 set means the rest is a GroupInfo
/// that the harness seals into a Welcome for dave, after the repairs of bits 1 to 3.
const SEAL: u8 = 1;
/// Recompute the GroupContext's tree hash from the GroupInfo's tree.
pub const FIX_TREE_HASH: u8 = 1 << 1;
/// Re-sign the GroupInfo as the member it names as signer.
pub const FIX_SIGNATURE: u8 = 1 << 2;
/// Recompute the confirmation tag from the joiner secrets and the (new) GroupContext.
pub const FIX_CONFIRMATION_TAG: u8 = 1 << 3;

/// Joins as dave from `data`:
/// - first byte even: the rest is a Welcome MLSMessage. A mutated Welcome that is accepted
///   must give the group of the original one (the same epoch authenticator): the GroupInfo
///   is encrypted and signed, so a change can only touch what does not matter.
/// - first byte odd: the rest is a GroupInfo; the harness, acting as the committer, repairs
///   what the first byte's flags say ([`FIX_TREE_HASH`], [`FIX_SIGNATURE`],
///   [`FIX_CONFIRMATION_TAG`]) and seals it for dave with the original joiner secrets and
///   path secret, so that the joiner's checks of tree and GroupInfo run on fuzzed content.
///
/// Either way a group that joins must survive a state round trip.
pub fn join_from_welcome(data: &[u8]) {
    let f = fixture();
    let w = World::new(world::SEED);
    let mut r = Reader::new(data);
    let mode = r.u8();
    let rest = r.bytes(data.len());
    let (welcome, original) = if mode & SEAL == 0 {
        let Ok(MlsMessage::Welcome(welcome)) = MlsMessage::from_bytes(rest) else {
            return;
        };
        (welcome, true)
    } else {
        let Ok(info) = GroupInfo::from_bytes(rest) else {
            return;
        };
        let Some(welcome) = seal(&w, info, mode) else {
            return;
        };
        (welcome, false)
    };
    let joined = Group::join(
        &w.env(),
        JoinParams::new(
            &welcome,
            &f.joiner.bundle,
            std::sync::Arc::new(f.joiner.signer.clone()),
        ),
    );
    if let Ok(group) = joined {
        if original {
            assert!(
                group.epoch_authenticator() == f.joiner.epoch_authenticator.as_slice(),
                "a mutated Welcome was accepted with another GroupInfo"
            );
        }
        state_round_trip(&w.provider, &group);
    }
}

/// `info`, repaired as `flags` say, in a Welcome for dave.
fn seal(w: &World, mut info: GroupInfo, flags: u8) -> Option<Welcome> {
    let f = fixture();
    let ops = w.provider.suite(SUITE).ok()?;
    let tree = info.extensions.typed::<WireTree>().ok().flatten();
    if flags & FIX_TREE_HASH != 0
        && let Some(t) = &tree
        && let Ok(built) = RatchetTree::from_wire(ops, t.clone())
    {
        info.group_context.tree_hash = built.tree_hash().to_vec().into();
    }
    if flags & FIX_CONFIRMATION_TAG != 0 {
        let context = info.group_context.to_bytes().ok()?;
        let secrets = f.joiner.joiner_secrets.epoch_secrets(ops, &context).ok()?;
        info.confirmation_tag = confirmation_tag(
            ops,
            &secrets.confirmation_key,
            info.group_context.confirmed_transcript_hash.as_slice(),
        )
        .into();
    }
    if flags & FIX_SIGNATURE != 0
        && let Some(t) = &tree
    {
        let signer = usize::try_from(info.signer).ok()?.checked_mul(2)?;
        if let Some(Node::Leaf(leaf)) = t.node(signer) {
            let key = leaf.signature_key.clone();
            resign_group_info(ops, &mut info, &key);
        }
    }
    let key_package = &f.joiner.bundle.key_package;
    let path_secret = f
        .joiner
        .group_secrets
        .path_secret
        .as_ref()
        .map(|p| &p.path_secret);
    let recipient = WelcomeRecipient {
        key_package_ref: &f.joiner.key_package_ref,
        init_key: &key_package.init_key,
        path_secret,
    };
    let psks = f.joiner.group_secrets.psks.as_slice();
    Some(must(
        seal_welcome(ops, &info, &f.joiner.joiner_secrets, psks, &[recipient]),
        "sealing a Welcome",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sealed_original_group_info_joins_and_a_changed_one_is_repaired() {
        let f = fixture();
        let w = World::new(world::SEED);
        let all = FIX_TREE_HASH | FIX_SIGNATURE | FIX_CONFIRMATION_TAG;
        let join = |info: GroupInfo, flags| {
            let welcome = seal(&w, info, flags).unwrap();
            Group::join(
                &w.env(),
                JoinParams::new(
                    &welcome,
                    &f.joiner.bundle,
                    std::sync::Arc::new(f.joiner.signer.clone()),
                ),
            )
        };
        let group = join(f.joiner.group_info.clone(), all).unwrap();
        assert_eq!(group.epoch_authenticator(), f.joiner.epoch_authenticator);
        // A changed GroupContext extension list is signed and confirmed again, so the
        // joiner gets past the signature and the tag and joins the changed group.
        let mut changed = f.joiner.group_info.clone();
        // (An empty external_senders: a default extension, which no leaf needs to list.)
        changed.group_context.extensions = canopy_core::wire::Extensions::new(vec![
            canopy_core::wire::ExtensionView::to_extension(&canopy_core::wire::ExternalSenders {
                senders: Vec::new().into(),
            })
            .unwrap(),
        ])
        .unwrap();
        assert!(join(changed.clone(), all & !FIX_SIGNATURE).is_err());
        assert!(join(changed.clone(), all & !FIX_CONFIRMATION_TAG).is_err());
        let group = join(changed, all).unwrap();
        assert_ne!(group.epoch_authenticator(), f.joiner.epoch_authenticator);
    }
}
