//! The decoder targets: each decodes its input and, where the codec promises exact decoding
//! (every wire struct, RFC 9420 §2.1), checks that re-encoding gives the input back. Values
//! that decode then go one layer further (validation), re-signed by their owner where a
//! signature would stop the fuzzer at the door.

use canopy_core::advanced::codec::CodecError;
use canopy_core::advanced::tree::{LifetimePolicy as TreeLifetime, RatchetTree, TreeChecks};
use canopy_core::group::{Group, GroupConfig};
use canopy_core::key_package::{
    BasicCredentialValidator, GroupRequirements, LifetimePolicy, validate_key_package,
};
use canopy_core::wire::{
    self, ExternalPub, FramedContent, GroupInfo, KeyPackage, LeafNodeSource, MlsMessage, Node,
    RatchetTree as WireTree, RequiredCapabilities, Welcome,
};
use canopy_crypto::CryptoProvider;

use super::mutate::{must, resign_group_info, resign_key_package, resign_leaf};
use crate::InsecureFuzzProvider;
use crate::world::{self, SUITE, World};

/// Decodes with `decode`; if that succeeds, `encode` must give `bytes` back.
fn round_trip<T>(
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, CodecError>,
    encode: impl Fn(&T) -> Result<Vec<u8>, CodecError>,
    what: &str,
) -> Option<T> {
    let value = decode(bytes).ok()?;
    let again = must(encode(&value), what);
    assert!(again == bytes, "{what}: re-encoding differs from the input");
    Some(value)
}

/// An MLSMessage (RFC 9420 §6), the network entry point: decode, round trip, and the
/// typed views of what it carries.
pub fn decode_message(bytes: &[u8]) {
    let Some(message) = round_trip(
        bytes,
        MlsMessage::from_bytes,
        MlsMessage::to_bytes,
        "MLSMessage",
    ) else {
        return;
    };
    match message {
        MlsMessage::PublicMessage(m) => {
            // The content alone is exact too (it is what signatures and transcripts cover).
            let content = must(m.content.to_bytes(), "FramedContent");
            assert!(FramedContent::from_bytes(&content).ok().as_ref() == Some(&m.content));
        }
        MlsMessage::GroupInfo(info) => group_info_views(&info),
        MlsMessage::KeyPackage(kp) => {
            validate(*kp);
        }
        _ => {}
    }
}

/// A KeyPackage (RFC 9420 §10): decode, round trip, then validation as received and as
/// re-signed by its owner, so that the checks after the signatures run on fuzzed content.
pub fn decode_key_package(bytes: &[u8]) {
    if let Some(kp) = round_trip(
        bytes,
        KeyPackage::from_bytes,
        KeyPackage::to_bytes,
        "KeyPackage",
    ) {
        validate(kp);
    }
}

/// Validates `kp` as received and re-signed; whether the re-signed one is valid.
fn validate(kp: KeyPackage) -> bool {
    let provider = InsecureFuzzProvider::seeded(world::SEED);
    let Ok(ops) = provider.suite(kp.cipher_suite) else {
        return false;
    };
    let validator = BasicCredentialValidator::new();
    let requirements = GroupRequirements::mls10();
    let lifetime = LifetimePolicy::unchecked();
    let _ = validate_key_package(ops, kp.clone(), &requirements, &lifetime, &validator);
    let mut signed = kp;
    resign_key_package(ops, &mut signed);
    let Ok(valid) = validate_key_package(ops, signed, &requirements, &lifetime, &validator) else {
        return false;
    };
    // A valid KeyPackage has a reference (RFC 9420 §5.2).
    assert!(!valid.reference().as_bytes().is_empty());
    true
}

/// A Welcome (RFC 9420 §12.4.3.1): decode and round trip.
pub fn decode_welcome(bytes: &[u8]) {
    let _ = round_trip(bytes, Welcome::from_bytes, Welcome::to_bytes, "Welcome");
}

/// A GroupInfo (RFC 9420 §12.4.3): decode, round trip, its extensions' typed views, then an
/// external join from it, re-signed by the member it names as signer.
pub fn decode_group_info(bytes: &[u8]) {
    let Some(info) = round_trip(
        bytes,
        GroupInfo::from_bytes,
        GroupInfo::to_bytes,
        "GroupInfo",
    ) else {
        return;
    };
    group_info_views(&info);
    external_join(info);
}

/// An external join from `info` re-signed by its signer; whether it succeeded.
fn external_join(mut info: GroupInfo) -> bool {
    // Another seed than the world's, so that the joiner's keys are not a member's.
    let w = World::new(world::SEED ^ 0x0E17);
    let Ok(ops) = w.provider.suite(info.group_context.cipher_suite) else {
        return false;
    };
    let Ok(Some(tree)) = info.extensions.typed::<WireTree>() else {
        return false;
    };
    // Leaf `signer` is node 2 * signer (RFC 9420 Appendix C).
    let signer_node = usize::try_from(info.signer)
        .ok()
        .and_then(|s| s.checked_mul(2));
    if let Some(Node::Leaf(leaf)) = signer_node.and_then(|x| tree.node(x)) {
        let key = leaf.signature_key.clone();
        resign_group_info(ops, &mut info, &key);
    }
    let joined = Group::join_external(
        &w.env(),
        GroupConfig::default(),
        &info,
        None,
        &World::leaf("fuzzer"),
        std::sync::Arc::new(fuzz_signer(&w)),
        None,
        &[],
    );
    let (group, commit) = match joined {
        Ok(joined) => joined,
        Err(e) => {
            if std::env::var_os("CANOPY_FUZZ_DEBUG").is_some() {
                eprintln!("external join refused: {e:?}");
            }
            return false;
        }
    };
    // An external join's group and commit are usable.
    assert!(MlsMessage::from_bytes(&commit).is_ok());
    state_round_trip(&w.provider, &group);
    true
}

fn group_info_views(info: &GroupInfo) {
    let e = &info.extensions;
    if let Ok(Some(tree)) = e.typed::<WireTree>() {
        let _ = ratchet_tree(tree, info.group_context.group_id.as_slice());
    }
    let _ = e.typed::<ExternalPub>();
    let _ = info
        .group_context
        .extensions
        .typed::<RequiredCapabilities>();
    let _ = info
        .group_context
        .extensions
        .typed::<wire::ExternalSenders>();
}

/// A ratchet tree (RFC 9420 §12.4.3.3): decode, round trip, then the tree built from it, its
/// wire form again, and validation with every leaf re-signed by its owner.
pub fn decode_ratchet_tree(bytes: &[u8]) {
    if let Some(tree) = round_trip(
        bytes,
        WireTree::from_bytes,
        WireTree::to_bytes,
        "RatchetTree",
    ) {
        let _ = ratchet_tree(tree, world::GROUP_ID);
    }
}

/// Builds and validates `tree`; whether it is valid with re-signed leaves.
fn ratchet_tree(tree: WireTree, group_id: &[u8]) -> bool {
    let provider = InsecureFuzzProvider::seeded(world::SEED);
    let Ok(ops) = provider.suite(SUITE) else {
        return false;
    };
    let encoded = must(tree.to_bytes(), "RatchetTree");
    let mut nodes: Vec<Option<Node>> = tree.clone().into_nodes();
    let Ok(built) = RatchetTree::from_wire(ops, tree) else {
        return false;
    };
    let again = must(built.to_wire(), "tree to wire");
    assert!(
        must(again.to_bytes(), "RatchetTree") == encoded,
        "a tree's wire form changed through RatchetTree"
    );
    let validator = BasicCredentialValidator::new();
    let checks = TreeChecks {
        group_id,
        group: GroupRequirements::mls10(),
        lifetime: TreeLifetime::unchecked(),
        validator: &validator,
    };
    let _ = built.validate(ops, &checks);
    // Re-signed leaves reach the parent-hash and key-uniqueness checks.
    let mut leaf_index = 0u32;
    for (i, node) in nodes.iter_mut().enumerate() {
        if i % 2 == 0 {
            if let Some(Node::Leaf(leaf)) = node {
                if !matches!(leaf.leaf_node_source, LeafNodeSource::KeyPackage(_)) {
                    resign_leaf(ops, leaf.as_mut(), group_id, leaf_index);
                } else {
                    resign_leaf(ops, leaf.as_mut(), &[], 0);
                }
            }
            leaf_index = leaf_index.saturating_add(1);
        }
    }
    RatchetTree::from_nodes(ops, nodes)
        .is_ok_and(|resigned| resigned.validate(ops, &checks).is_ok())
}

/// A group state record (`Group::from_bytes`, `group/state.rs`): load; a loaded group
/// encodes to a record that loads to the same record (and, for the current format version,
/// to the input itself), and survives sending and committing.
pub fn decode_group_state(bytes: &[u8]) {
    let w = World::new(world::SEED);
    // Formats before 5 hold their signature key; format 5 is loaded with a fixed one (a
    // state whose leaf has another key is refused, after everything else was decoded).
    let signer = (bytes.first() == Some(&canopy_core::group::STATE_FORMAT_VERSION))
        .then(|| std::sync::Arc::new(fuzz_signer(&w)) as std::sync::Arc<dyn canopy_crypto::Signer>);
    let Ok(group) = Group::from_bytes(&w.provider, bytes, signer) else {
        return;
    };
    let record = state_round_trip(&w.provider, &group);
    if bytes.first() == Some(&canopy_core::group::STATE_FORMAT_VERSION) {
        assert!(
            record.as_slice() == bytes,
            "a current-version record is not written back as it was read"
        );
    }
    let env = w.env();
    let mut sender = group;
    let _ = sender.encrypt_application(&env, b"fuzz", b"");
    let _ = sender.export_secret(&env, b"label", b"context", 32);
    let _ = sender.group_info(&env, true);
    let _ = sender.commit(
        &env,
        canopy_core::group::CommitOptions {
            force_path: true,
            ..canopy_core::group::CommitOptions::default()
        },
    );
}

/// `group`'s record, after checking that it loads back to the same record.
pub(crate) fn state_round_trip(provider: &dyn CryptoProvider, group: &Group) -> Vec<u8> {
    let record = must(group.to_bytes(), "to_bytes").as_bytes().to_vec();
    let loaded = must(
        Group::from_bytes(provider, &record, Some(group.signer().clone())),
        "reloading a written record",
    );
    let again = must(loaded.to_bytes(), "to_bytes");
    assert!(
        again.as_bytes() == record.as_slice(),
        "a reloaded record differs"
    );
    record
}

/// The signature key the fuzz targets sign with where the input does not bring one: the
/// world's first key, or a fixed one if the suite cannot make keys.
fn fuzz_signer(w: &World) -> canopy_crypto::SignatureKeyPair {
    w.provider
        .suite(SUITE)
        .and_then(|s| s.signature_generate_key_pair())
        .unwrap_or_else(|_| canopy_crypto::SignatureKeyPair {
            private: canopy_crypto::SignaturePrivateKey::new(vec![0; 32]),
            public: canopy_crypto::SignaturePublicKey::new(vec![0; 32]),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::fixture;

    /// The re-signing reaches the checks behind the signatures: every fixture passes them.
    #[test]
    fn fixtures_pass_validation_after_re_signing() {
        let f = fixture();
        for kp in &f.key_packages {
            assert!(validate(KeyPackage::from_bytes(kp).unwrap()));
        }
        for tree in &f.ratchet_trees {
            assert!(ratchet_tree(
                WireTree::from_bytes(tree).unwrap(),
                world::GROUP_ID
            ));
        }
        let with_tree = f.group_infos.first().unwrap();
        assert!(external_join(GroupInfo::from_bytes(with_tree).unwrap()));
    }
}
