//! Between the interop protocol's bytes and Canopy's types.
//!
//! The protocol carries MLS objects as `MLSMessage` encodings (KeyPackage, Welcome,
//! GroupInfo, proposals, commits, application messages; RFC 9420 §6), a ratchet tree as the
//! TLS encoding of `optional<Node> ratchet_tree<V>` (§12.4.3.3), an external sender as the
//! TLS encoding of `ExternalSender` (§12.1.8.1), members by their basic-credential identity,
//! and cipher suites as `uint32`.

use canopy_core::LeafIndex;
use canopy_core::advanced::codec::VarBytes;
use canopy_core::key_package::{
    KeyPackageBundle, KeyPackageParams, LeafNodeParams, create_key_package,
};
use canopy_core::wire::{
    self, Credential, Extension, ExtensionType, Extensions, GroupInfo, KeyPackage, Lifetime,
    MlsMessage, Node, PreSharedKeyId, Psk, ResumptionPskUsage, Welcome,
};
use canopy_crypto::{CipherSuite, CryptoProvider, SignatureKeyPair};

use crate::error::InteropError;
use crate::proto;

/// The lifetime of the KeyPackages this client creates: from an hour ago (for clocks that
/// run behind) to twelve weeks from now, the default of the other MLS libraries.
const KEY_PACKAGE_LIFETIME: u64 = 12 * 7 * 24 * 3_600;
const CLOCK_SKEW: u64 = 3_600;

/// A cipher suite from the protocol's `uint32`.
pub(crate) fn suite(value: u32) -> Result<CipherSuite, InteropError> {
    u16::try_from(value)
        .map(CipherSuite)
        .map_err(|_| InteropError::bad(format!("cipher suite {value} is not a uint16")))
}

/// The `MLSMessage` in `bytes`, which must decode exactly.
pub(crate) fn message(bytes: &[u8], what: &str) -> Result<MlsMessage, InteropError> {
    MlsMessage::from_bytes(bytes)
        .map_err(|e| InteropError::bad(format!("{what} is not an MLSMessage: {e}")))
}

/// A KeyPackage sent as an `MLSMessage` (or, leniently, as a bare `KeyPackage`).
pub(crate) fn key_package(bytes: &[u8]) -> Result<KeyPackage, InteropError> {
    match MlsMessage::from_bytes(bytes) {
        Ok(MlsMessage::KeyPackage(kp)) => Ok(*kp),
        Ok(other) => Err(InteropError::bad(format!(
            "expected a KeyPackage, got a {:?} MLSMessage",
            other.wire_format()
        ))),
        Err(e) => KeyPackage::from_bytes(bytes)
            .map_err(|_| InteropError::bad(format!("key_package does not decode: {e}"))),
    }
}

/// A Welcome sent as an `MLSMessage`.
pub(crate) fn welcome(bytes: &[u8]) -> Result<Welcome, InteropError> {
    match message(bytes, "welcome")? {
        MlsMessage::Welcome(w) => Ok(w),
        other => Err(InteropError::bad(format!(
            "expected a Welcome, got a {:?} MLSMessage",
            other.wire_format()
        ))),
    }
}

/// A GroupInfo sent as an `MLSMessage`.
pub(crate) fn group_info(bytes: &[u8]) -> Result<GroupInfo, InteropError> {
    match message(bytes, "group_info")? {
        MlsMessage::GroupInfo(gi) => Ok(*gi),
        other => Err(InteropError::bad(format!(
            "expected a GroupInfo, got a {:?} MLSMessage",
            other.wire_format()
        ))),
    }
}

/// A ratchet tree passed out of band; empty bytes mean "none".
pub(crate) fn ratchet_tree(bytes: &[u8]) -> Result<Option<wire::RatchetTree>, InteropError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    Ok(Some(wire::RatchetTree::from_bytes(bytes)?))
}

/// The ratchet tree of a GroupInfo: its `ratchet_tree` extension, else `out_of_band`.
pub(crate) fn tree_of(
    info: &GroupInfo,
    out_of_band: &[u8],
) -> Result<wire::RatchetTree, InteropError> {
    match info.extensions.typed::<wire::RatchetTree>()? {
        Some(tree) => Ok(tree),
        None => ratchet_tree(out_of_band)?
            .ok_or_else(|| InteropError::bad("the GroupInfo has no ratchet tree and none given")),
    }
}

/// The protocol's extensions as a Canopy extension list.
pub(crate) fn extensions(list: &[proto::Extension]) -> Result<Extensions, InteropError> {
    let list = list
        .iter()
        .map(|e| {
            let t = u16::try_from(e.extension_type).map_err(|_| {
                InteropError::bad(format!(
                    "extension type {} is not a uint16",
                    e.extension_type
                ))
            })?;
            Ok(Extension::new(ExtensionType(t), e.extension_data.clone()))
        })
        .collect::<Result<Vec<_>, InteropError>>()?;
    Ok(Extensions::new(list)?)
}

/// A basic credential for `identity`.
pub(crate) fn credential(identity: &[u8]) -> Credential {
    Credential::Basic {
        identity: VarBytes(identity.to_vec()),
    }
}

/// The LeafNode parameters of a member with a basic credential for `identity`, at Canopy's
/// defaults.
pub(crate) fn leaf(identity: &[u8], suite: CipherSuite) -> LeafNodeParams {
    LeafNodeParams::new(credential(identity), suite)
}

/// The leaf of the member whose basic credential is `identity`, in a tree given by its
/// nodes in array order (RFC 9420 Appendix C: leaf `i` is node `2i`).
pub(crate) fn leaf_of<'a>(
    nodes: impl IntoIterator<Item = Option<&'a Node>>,
    identity: &[u8],
) -> Option<LeafIndex> {
    nodes
        .into_iter()
        .step_by(2)
        .position(|node| {
            matches!(node, Some(Node::Leaf(leaf))
                if matches!(&leaf.credential, Credential::Basic { identity: id } if id.as_slice() == identity))
        })
        .and_then(|i| u32::try_from(i).ok())
        .and_then(LeafIndex::new)
}

/// [`leaf_of`], or an error naming the identity.
pub(crate) fn member_leaf<'a>(
    nodes: impl IntoIterator<Item = Option<&'a Node>>,
    identity: &[u8],
) -> Result<LeafIndex, InteropError> {
    leaf_of(nodes, identity).ok_or_else(|| {
        InteropError::bad(format!(
            "no member with identity {:?}",
            String::from_utf8_lossy(identity)
        ))
    })
}

/// An external PSK id (RFC 9420 §8.4) with a fresh nonce of the suite's hash length.
pub(crate) fn external_psk(
    crypto: &dyn CryptoProvider,
    suite: CipherSuite,
    psk_id: &[u8],
) -> Result<PreSharedKeyId, InteropError> {
    psk_with_nonce(
        crypto,
        suite,
        Psk::External {
            psk_id: VarBytes(psk_id.to_vec()),
        },
    )
}

/// A resumption PSK id (RFC 9420 §8.6, usage `application`) of `group_id` at `epoch`.
pub(crate) fn resumption_psk(
    crypto: &dyn CryptoProvider,
    suite: CipherSuite,
    group_id: &[u8],
    epoch: u64,
) -> Result<PreSharedKeyId, InteropError> {
    psk_with_nonce(
        crypto,
        suite,
        Psk::Resumption {
            usage: ResumptionPskUsage::Application,
            psk_group_id: VarBytes(group_id.to_vec()),
            psk_epoch: epoch,
        },
    )
}

fn psk_with_nonce(
    crypto: &dyn CryptoProvider,
    suite: CipherSuite,
    psk: Psk,
) -> Result<PreSharedKeyId, InteropError> {
    let params = suite
        .params()
        .ok_or_else(|| InteropError::bad(format!("unknown cipher suite {}", suite.0)))?;
    let mut nonce = vec![0u8; params.kdf_len()];
    crypto.fill_random(&mut nonce)?;
    Ok(PreSharedKeyId {
        psk,
        psk_nonce: VarBytes(nonce),
    })
}

/// A fresh signature key pair and a KeyPackage for `identity` in `suite`, valid from an hour
/// before `now` for twelve weeks.
pub(crate) fn new_key_package(
    crypto: &dyn CryptoProvider,
    suite: CipherSuite,
    identity: &[u8],
    now: u64,
) -> Result<(KeyPackageBundle, SignatureKeyPair), InteropError> {
    let signer = crypto.suite(suite)?.signature_generate_key_pair()?;
    let lifetime = Lifetime {
        not_before: now.saturating_sub(CLOCK_SKEW),
        not_after: now.saturating_add(KEY_PACKAGE_LIFETIME),
    };
    let params = KeyPackageParams::new(leaf(identity, suite), lifetime);
    let bundle = create_key_package(crypto, suite, &params, &signer)?;
    Ok((bundle, signer))
}

/// A ratchet tree as it travels out of band (RFC 9420 §12.4.3.3).
pub(crate) fn tree_bytes(
    tree: &canopy_core::advanced::tree::RatchetTree,
) -> Result<Vec<u8>, InteropError> {
    let wire = tree
        .to_wire()
        .map_err(canopy_core::group::GroupError::from)?;
    Ok(wire.to_bytes()?)
}

/// `message` encoded as an `MLSMessage`.
pub(crate) fn encode(message: MlsMessage) -> Result<Vec<u8>, InteropError> {
    Ok(message.to_bytes()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_and_extensions_are_range_checked() {
        assert_eq!(suite(1).unwrap(), CipherSuite(1));
        assert!(suite(0x1_0000).is_err());
        let ext = extensions(&[proto::Extension {
            extension_type: 3,
            extension_data: vec![0, 0, 0],
        }])
        .unwrap();
        assert_eq!(ext.len(), 1);
        assert!(
            extensions(&[proto::Extension {
                extension_type: 70_000,
                extension_data: vec![],
            }])
            .is_err()
        );
        // Two extensions of one type are not a valid list.
        let twice = proto::Extension {
            extension_type: 3,
            extension_data: vec![0, 0, 0],
        };
        assert!(extensions(&[twice.clone(), twice]).is_err());
    }

    #[test]
    fn members_are_found_by_identity() {
        let provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
        let (a, _) = new_key_package(&provider, CipherSuite(1), b"alice", 1_000_000).unwrap();
        let (b, _) = new_key_package(&provider, CipherSuite(1), b"bob", 1_000_000).unwrap();
        let nodes = [
            Some(Node::Leaf(Box::new(a.key_package.leaf_node))),
            None,
            None,
            None,
            Some(Node::Leaf(Box::new(b.key_package.leaf_node))),
        ];
        assert_eq!(
            leaf_of(nodes.iter().map(Option::as_ref), b"alice").map(LeafIndex::value),
            Some(0)
        );
        assert_eq!(
            leaf_of(nodes.iter().map(Option::as_ref), b"bob").map(LeafIndex::value),
            Some(2)
        );
        assert!(leaf_of(nodes.iter().map(Option::as_ref), b"carol").is_none());
        assert!(member_leaf(nodes.iter().map(Option::as_ref), b"carol").is_err());
    }
}
