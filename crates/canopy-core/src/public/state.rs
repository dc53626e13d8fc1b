//! A public group's state as bytes: [`PublicGroup::to_bytes`] and
//! [`PublicGroup::from_bytes`], an opaque versioned record for a Delivery Service's store.
//!
//! The record is one format-version byte ([`PUBLIC_STATE_FORMAT_VERSION`], 1) followed by a
//! `PublicGroupRecord` in the TLS presentation language of RFC 9420 §2.1 (our codec: `<V>`
//! vectors with varint lengths, `optional<T>` with a strict presence octet, decoded exactly):
//!
//! ```text
//! uint8 format_version;                   // 1
//! struct {
//!     GroupContext context;               // RFC 9420 §8.1, as on the wire
//!     optional<Node> ratchet_tree<V>;     // RFC 9420 §12.4.3.3, the wire form
//!     opaque interim_transcript_hash<V>;  // RFC 9420 §8.2
//!     struct {                            // the epoch's proposals, in the order received
//!         opaque reference<V>;            // ProposalRef, RFC 9420 §5.2
//!         Proposal proposal;
//!         Sender sender;
//!     } proposals<V>;
//!     optional<uint64> max_leaf_lifetime; // GroupConfig::max_leaf_lifetime
//! } PublicGroupRecord;
//! ```
//!
//! Nothing in it is secret. The limits are not saved (the loaded public group has the
//! default ones, as a loaded [`Group`](crate::group::Group) has).
//!
//! Loading decodes exactly (trailing bytes are an error), rebuilds the tree's hashes (O(n)
//! hashes) and checks that the tree hash is the GroupContext's and that the interim
//! transcript hash has the suite's hash length. Leaf signatures are not verified again: the
//! tree was validated when it was received, and the store is trusted with the state.

use canopy_crypto::CryptoProvider;
use tls_codec::{Serialize as _, Size as _, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::{PublicGroup, PublicGroupError};
use crate::codec::{CodecError, Limits, VarBytes, VarVec, decode_exact, with_limits};
use crate::group::{CachedProposal, GroupConfig, GroupError};
use crate::tree::RatchetTree;
use crate::wire::{self, GroupContext, Proposal, Sender};

/// The format version [`PublicGroup::to_bytes`] writes as the first byte, and the only one
/// [`PublicGroup::from_bytes`] reads.
pub const PUBLIC_STATE_FORMAT_VERSION: u8 = 1;

/// The record after the version byte.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct PublicGroupRecord {
    context: GroupContext,
    tree: wire::RatchetTree,
    interim_transcript_hash: VarBytes,
    proposals: VarVec<ProposalRecord>,
    #[tls_codec(with = "crate::codec::fields::optional")]
    max_leaf_lifetime: Option<u64>,
}

/// A cached proposal.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct ProposalRecord {
    reference: VarBytes,
    proposal: Proposal,
    sender: Sender,
}

impl PublicGroup {
    /// The public group's state as one versioned buffer (layout in the source of
    /// `public/state.rs`): the GroupContext, the ratchet tree, the interim transcript hash,
    /// the epoch's proposals and the maximum leaf lifetime. Nothing in it is secret. O(n) in
    /// the tree's size. Read it back with [`PublicGroup::from_bytes`].
    ///
    /// # Errors
    /// [`PublicGroupError::Group`] with a codec error if a field is too long to encode.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PublicGroupError> {
        let record = PublicGroupRecord {
            context: self.context.clone(),
            tree: self.tree.to_wire().map_err(GroupError::from)?,
            interim_transcript_hash: VarBytes(self.interim_transcript_hash.clone()),
            proposals: VarVec(
                self.proposals
                    .iter()
                    .map(|p| ProposalRecord {
                        reference: VarBytes(p.reference.clone()),
                        proposal: p.proposal.clone(),
                        sender: p.sender,
                    })
                    .collect(),
            ),
            max_leaf_lifetime: self.max_leaf_lifetime,
        };
        let mut out = Vec::with_capacity(record.tls_serialized_len().saturating_add(1));
        out.push(PUBLIC_STATE_FORMAT_VERSION);
        record
            .tls_serialize(&mut out)
            .map_err(|e| GroupError::from(CodecError::from(e)))?;
        Ok(out)
    }

    /// A public group from bytes written by [`PublicGroup::to_bytes`]. `crypto` must support
    /// the group's cipher suite.
    ///
    /// # Errors
    /// [`PublicGroupError::Group`] with [`GroupError::StateVersion`] for another format
    /// version, [`GroupError::Codec`] for bytes that do not decode exactly,
    /// [`GroupError::State`] for a record that contradicts itself (a tree that does not match
    /// the tree hash), [`GroupError::Tree`] for a tree that cannot be rebuilt, and
    /// [`GroupError::Crypto`] for an unsupported suite.
    pub fn from_bytes(crypto: &dyn CryptoProvider, bytes: &[u8]) -> Result<Self, PublicGroupError> {
        // Our own record, whatever its size: no peer limits.
        Ok(with_limits(Limits::UNLIMITED, || {
            Self::decode(crypto, bytes)
        })?)
    }

    /// [`Self::from_bytes`], without limits.
    fn decode(crypto: &dyn CryptoProvider, bytes: &[u8]) -> Result<Self, GroupError> {
        let (&version, body) = bytes.split_first().ok_or(CodecError::Truncated)?;
        if version != PUBLIC_STATE_FORMAT_VERSION {
            return Err(GroupError::StateVersion {
                found: version,
                supported: PUBLIC_STATE_FORMAT_VERSION,
            });
        }
        let record: PublicGroupRecord = decode_exact(body)?;
        let ops = crypto
            .suite(record.context.cipher_suite)
            .map_err(|e| GroupError::Crypto(e.into()))?;
        let tree = RatchetTree::from_wire(ops, record.tree)?;
        if tree.tree_hash() != record.context.tree_hash.as_slice() {
            return Err(GroupError::State("the tree does not match the tree hash"));
        }
        if record.interim_transcript_hash.0.len() != ops.params().hash_len() {
            return Err(GroupError::State(
                "the interim transcript hash is not a hash of the suite",
            ));
        }
        let proposals = record
            .proposals
            .0
            .into_iter()
            .map(|p| CachedProposal {
                reference: p.reference.0,
                proposal: p.proposal,
                sender: p.sender,
            })
            .collect();
        let config = GroupConfig {
            max_leaf_lifetime: record.max_leaf_lifetime,
            ..GroupConfig::default()
        };
        Ok(Self::from_parts(
            &config,
            record.context,
            tree,
            record.interim_transcript_hash.0,
            proposals,
        ))
    }
}
