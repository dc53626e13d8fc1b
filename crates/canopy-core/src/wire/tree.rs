//! Ratchet-tree nodes on the wire (RFC 9420 §7.1, §7.6, §12.4.3.3): [`ParentNode`], [`Node`],
//! the `ratchet_tree` extension's [`RatchetTree`], and the [`UpdatePath`] of a Commit with its
//! [`HpkeCiphertext`]s.
//!
//! [`RatchetTree`] is the array representation of Appendix C with trailing blank nodes
//! stripped. Its invariants, checked on decode and by [`RatchetTree::new`]:
//! - it holds at least one node and its last node is non-blank (§12.4.3.3: "The receiver MUST
//!   check that the last node in `ratchet_tree` is non-blank"), else
//!   [`CodecError::TrailingBlankNode`];
//! - every non-blank node at an even index is a leaf and at an odd index a parent (Appendix C),
//!   else [`CodecError::MisplacedNode`].
//!
//! Decoding is one pass over the input; each node's byte strings are copied once.

use std::io::Write;

use canopy_crypto::HpkePublicKey;
use tls_codec::{DeserializeBytes, Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::extensions::extension_view;
use super::leaf_node::LeafNode;
use super::primitives::{ExtensionType, closed_enum};
use crate::codec::fields::{optional, vector};
use crate::codec::{
    CodecError, Limit, VarBytes, VarVec, active_limits, charge, charge_box, check_count,
    reserve_one, split_vector,
};

/// RFC 9420 §7.1 `ParentNode`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ParentNode {
    /// `HPKEPublicKey encryption_key`.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub encryption_key: HpkePublicKey,
    /// `opaque parent_hash<V>`.
    pub parent_hash: VarBytes,
    /// `uint32 unmerged_leaves<V>`: leaf indices, which MUST be in increasing order (checked
    /// by tree validation, not here).
    pub unmerged_leaves: VarVec<u32>,
}

closed_enum!(
    /// RFC 9420 §7.8 `NodeType`.
    pub enum NodeType: u8, NodeType {
        /// `leaf(1)`.
        Leaf = 1,
        /// `parent(2)`.
        Parent = 2,
    }
);

/// RFC 9420 §12.4.3.3 `Node`: a `NodeType` and the leaf or parent it selects.
///
/// Both bodies are boxed, so that a `Node` is two words and an `Option<Node>` (a blank node
/// of a padded tree) costs 16 bytes instead of the 272 of an inline [`LeafNode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// `leaf`: a [`LeafNode`].
    Leaf(Box<LeafNode>),
    /// `parent`: a [`ParentNode`].
    Parent(Box<ParentNode>),
}

impl Node {
    /// A leaf node.
    pub fn leaf(leaf: LeafNode) -> Self {
        Self::Leaf(Box::new(leaf))
    }

    /// A parent node.
    pub fn parent(parent: ParentNode) -> Self {
        Self::Parent(Box::new(parent))
    }

    /// RFC 9420 §7.8: the `node_type` this node is encoded with.
    pub fn node_type(&self) -> NodeType {
        match self {
            Self::Leaf(_) => NodeType::Leaf,
            Self::Parent(_) => NodeType::Parent,
        }
    }
}

impl Size for Node {
    fn tls_serialized_len(&self) -> usize {
        let body = match self {
            Self::Leaf(leaf) => leaf.tls_serialized_len(),
            Self::Parent(parent) => parent.tls_serialized_len(),
        };
        body.saturating_add(1)
    }
}

impl Serialize for Node {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let head = self.node_type().tls_serialize(writer)?;
        let body = match self {
            Self::Leaf(leaf) => leaf.tls_serialize(writer)?,
            Self::Parent(parent) => parent.tls_serialize(writer)?,
        };
        Ok(head.saturating_add(body))
    }
}

impl DeserializeBytes for Node {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (node_type, rest) = NodeType::tls_deserialize_bytes(bytes)?;
        match node_type {
            NodeType::Leaf => {
                let (leaf, rest) = LeafNode::tls_deserialize_bytes(rest)?;
                charge_box::<LeafNode>()?;
                Ok((Self::leaf(leaf), rest))
            }
            NodeType::Parent => {
                let (parent, rest) = ParentNode::tls_deserialize_bytes(rest)?;
                charge_box::<ParentNode>()?;
                Ok((Self::parent(parent), rest))
            }
        }
    }
}

/// RFC 9420 §12.4.3.3 `optional<Node> ratchet_tree<V>`: the nodes in array order (Appendix
/// C), blank nodes included, trailing blanks stripped (see the module docs for the
/// invariants).
///
/// Only the non-blank nodes are stored, with their positions, so a blank node, one byte on
/// the wire, costs nothing in memory: a hostile tree of blanks cannot make the decoder
/// allocate more than it is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatchetTree {
    /// The number of nodes, blanks included; the last one is non-blank.
    len: usize,
    /// The non-blank nodes with their array positions, in increasing order.
    nodes: Vec<(u32, Node)>,
}

impl RatchetTree {
    /// RFC 9420 §12.4.3.3: a tree from its nodes in array order, `None` for a blank node.
    ///
    /// # Errors
    /// [`CodecError::TrailingBlankNode`] if `nodes` is empty or ends with a blank;
    /// [`CodecError::MisplacedNode`] if a leaf sits at an odd index or a parent at an even one.
    pub fn new(nodes: Vec<Option<Node>>) -> Result<Self, CodecError> {
        if !matches!(nodes.last(), Some(Some(_))) {
            return Err(CodecError::TrailingBlankNode);
        }
        let indexed = nodes
            .into_iter()
            .enumerate()
            .filter_map(|(i, node)| node.map(|n| (i, n)))
            .map(|(i, n)| Ok((u32::try_from(i).map_err(|_| CodecError::LengthTooLarge)?, n)))
            .collect::<Result<Vec<_>, CodecError>>()?;
        Self::from_indexed(indexed)
    }

    /// RFC 9420 §12.4.3.3: a tree from its non-blank nodes and their array positions; every
    /// other position up to the last one given is blank.
    ///
    /// # Errors
    /// [`CodecError::TrailingBlankNode`] if `nodes` is empty; [`CodecError::MisplacedNode`]
    /// for a leaf at an odd index, a parent at an even one, or a position that is not greater
    /// than the one before it.
    pub fn from_indexed(nodes: Vec<(u32, Node)>) -> Result<Self, CodecError> {
        let mut next = 0u32;
        for (index, node) in &nodes {
            if *index < next {
                return Err(CodecError::MisplacedNode(*index));
            }
            check_position(*index, Some(node))?;
            next = index.saturating_add(1);
        }
        let len = match nodes.last() {
            Some((last, _)) => usize::try_from(*last)
                .map_err(|_| CodecError::LengthTooLarge)?
                .saturating_add(1),
            None => return Err(CodecError::TrailingBlankNode),
        };
        Ok(Self { len, nodes })
    }

    /// RFC 9420 §12.4.3.3: the number of nodes in array order, blanks included (trailing
    /// blanks are not part of the tree).
    pub fn node_count(&self) -> usize {
        self.len
    }

    /// RFC 9420 Appendix C: the number of leaves a tree holding these nodes needs,
    /// `(node_count + 2) / 2` (a node count ending in a parent needs the leaf after it);
    /// padded to full width, the tree has the next power of two.
    pub fn leaf_count(&self) -> usize {
        self.len.saturating_add(2) / 2
    }

    /// RFC 9420 §12.4.3.3: the node at array position `index`, `None` if it is blank or past
    /// the end (O(log n)).
    pub fn node(&self, index: usize) -> Option<&Node> {
        let index = u32::try_from(index).ok()?;
        let at = self.nodes.binary_search_by_key(&index, |(i, _)| *i).ok()?;
        self.nodes.get(at).map(|(_, n)| n)
    }

    /// RFC 9420 §12.4.3.3: the nodes in array order, `None` for a blank, without trailing
    /// blanks.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = Option<&Node>> + '_ {
        let mut stored = self.nodes.iter().peekable();
        (0..self.len).map(move |i| {
            let here = u32::try_from(i).ok();
            match stored.peek() {
                Some((at, _)) if Some(*at) == here => stored.next().map(|(_, n)| n),
                _ => None,
            }
        })
    }

    /// The non-blank nodes with their array positions, in increasing order.
    pub fn non_blank(&self) -> &[(u32, Node)] {
        &self.nodes
    }

    /// The non-blank nodes with their array positions, in increasing order.
    pub fn into_non_blank(self) -> Vec<(u32, Node)> {
        self.nodes
    }

    /// RFC 9420 §12.4.3.3: the nodes in array order, `None` for a blank, without trailing
    /// blanks. Allocates one entry per node, blanks included.
    pub fn into_nodes(self) -> Vec<Option<Node>> {
        let mut out: Vec<Option<Node>> = Vec::with_capacity(self.len);
        for (index, node) in self.nodes {
            let at = usize::try_from(index).unwrap_or(usize::MAX);
            out.resize_with(at, || None);
            out.push(Some(node));
        }
        out
    }

    fn body_len(&self) -> usize {
        let blanks = self.len.saturating_sub(self.nodes.len());
        self.nodes.iter().fold(blanks, |acc, (_, node)| {
            acc.saturating_add(node.tls_serialized_len())
                .saturating_add(1)
        })
    }
}

/// Appendix C: leaves at even indices, parents at odd ones.
fn check_position(index: u32, node: Option<&Node>) -> Result<(), CodecError> {
    let even = index & 1 == 0;
    let misplaced = match node {
        Some(Node::Leaf(_)) => !even,
        Some(Node::Parent(_)) => even,
        None => false,
    };
    if misplaced {
        return Err(CodecError::MisplacedNode(index));
    }
    Ok(())
}

impl Size for RatchetTree {
    fn tls_serialized_len(&self) -> usize {
        vector::tls_serialized_len(self.body_len())
    }
}

impl Serialize for RatchetTree {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let mut written = vector::write_header(self.body_len(), writer)?;
        for node in self.nodes() {
            let len = match node {
                Some(node) => {
                    writer.write_all(&[1])?;
                    node.tls_serialize(writer)?.saturating_add(1)
                }
                None => {
                    writer.write_all(&[0])?;
                    1
                }
            };
            written = written.saturating_add(len);
        }
        Ok(written)
    }
}

impl DeserializeBytes for RatchetTree {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (mut body, rest) = vector::split(bytes)?;
        // A tree of n leaf positions has 2n - 1 nodes; checked before each node is read, so
        // a long run of blanks is refused as soon as it passes the limit.
        let max_leaves = active_limits().max_tree_leaves;
        let max_nodes = max_leaves.saturating_mul(2).saturating_sub(1);
        let mut nodes = Vec::new();
        let mut index = 0u32;
        while !body.is_empty() {
            let count = usize::try_from(index).unwrap_or(usize::MAX);
            if count >= max_nodes {
                return Err(CodecError::LimitExceeded {
                    limit: Limit::TreeLeaves,
                    // The leaves a tree with this node needs.
                    value: count.saturating_add(3) / 2,
                    max: max_leaves,
                }
                .into_tls_decoding());
            }
            let (node, remaining) =
                optional::tls_deserialize_bytes::<Node>(body).map_err(|e| match e {
                    // The body is fully present: a node running out wanted bytes past it.
                    tls_codec::Error::EndOfStream => {
                        CodecError::VectorLengthMismatch.into_tls_decoding()
                    }
                    other => other,
                })?;
            check_position(index, node.as_ref()).map_err(CodecError::into_tls_decoding)?;
            if let Some(node) = node {
                reserve_one(&mut nodes)?;
                nodes.push((index, node));
            }
            index = index
                .checked_add(1)
                .ok_or_else(|| CodecError::LengthTooLarge.into_tls_decoding())?;
            body = remaining;
        }
        // `index` is the node count; the last node must be one of the stored ones.
        if !matches!(nodes.last(), Some((last, _)) if last.saturating_add(1) == index) {
            return Err(CodecError::TrailingBlankNode.into_tls_decoding());
        }
        let len =
            usize::try_from(index).map_err(|_| CodecError::LengthTooLarge.into_tls_decoding())?;
        Ok((Self { len, nodes }, rest))
    }
}

extension_view!(RatchetTree, ExtensionType::RATCHET_TREE);

/// RFC 9420 §7.6 `HPKECiphertext`: an HPKE encapsulation and AEAD ciphertext.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct HpkeCiphertext {
    /// `opaque kem_output<V>`.
    pub kem_output: VarBytes,
    /// `opaque ciphertext<V>`.
    pub ciphertext: VarBytes,
}

impl From<canopy_crypto::HpkeCiphertext> for HpkeCiphertext {
    fn from(ct: canopy_crypto::HpkeCiphertext) -> Self {
        Self {
            kem_output: VarBytes(ct.kem_output),
            ciphertext: VarBytes(ct.ciphertext),
        }
    }
}

impl From<HpkeCiphertext> for canopy_crypto::HpkeCiphertext {
    fn from(ct: HpkeCiphertext) -> Self {
        Self {
            kem_output: ct.kem_output.0,
            ciphertext: ct.ciphertext.0,
        }
    }
}

/// RFC 9420 §7.6 `HPKECiphertext encrypted_path_secret<V>`, held in its encoded form.
///
/// An UpdatePath node carries one ciphertext per node of its copath child's resolution, so a
/// commit in a large group carries about one per member, and each receiver decrypts one.
/// Holding the checked encoding instead of a `Vec<HpkeCiphertext>` makes decoding one copy
/// and dropping one free, rather than two allocations per ciphertext; [`Self::get`] decodes
/// the one that is needed.
///
/// Invariant: `body` is exactly `count` well-formed `HPKECiphertext` encodings (two minimal
/// `<V>` byte strings each), checked on decode and true by construction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HpkeCiphertexts {
    body: Vec<u8>,
    count: usize,
}

impl HpkeCiphertexts {
    /// Encodes `items`, in order.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] for a byte string longer than 2^30 - 1 bytes.
    pub fn new(items: &[HpkeCiphertext]) -> Result<Self, CodecError> {
        let len = items
            .iter()
            .fold(0usize, |acc, c| acc.saturating_add(c.tls_serialized_len()));
        let mut body = Vec::with_capacity(len);
        for item in items {
            item.tls_serialize(&mut body)?;
        }
        Ok(Self {
            body,
            count: items.len(),
        })
    }

    /// The number of ciphertexts.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no ciphertexts.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The ciphertext at `index`, decoded; `None` past the end. The ones before it are
    /// skipped over, not decoded.
    pub fn get(&self, index: usize) -> Option<HpkeCiphertext> {
        if index >= self.count {
            return None;
        }
        let mut rest = self.body.as_slice();
        for _ in 0..index {
            rest = skip_ciphertext(rest).ok()?;
        }
        HpkeCiphertext::tls_deserialize_bytes(rest)
            .ok()
            .map(|(item, _)| item)
    }

    /// The ciphertexts in order, each decoded as it is reached.
    pub fn iter(&self) -> impl Iterator<Item = HpkeCiphertext> + '_ {
        let mut rest = self.body.as_slice();
        core::iter::from_fn(move || {
            let (item, after) = HpkeCiphertext::tls_deserialize_bytes(rest).ok()?;
            rest = after;
            Some(item)
        })
    }

    /// All ciphertexts, decoded.
    pub fn to_vec(&self) -> Vec<HpkeCiphertext> {
        self.iter().collect()
    }
}

/// Skips one encoded `HPKECiphertext` at the front of `bytes` without copying it.
fn skip_ciphertext(bytes: &[u8]) -> Result<&[u8], CodecError> {
    let (_, rest) = split_vector(bytes)?;
    let (_, rest) = split_vector(rest)?;
    Ok(rest)
}

impl Size for HpkeCiphertexts {
    fn tls_serialized_len(&self) -> usize {
        vector::tls_serialized_len(self.body.len())
    }
}

impl Serialize for HpkeCiphertexts {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let head = vector::write_header(self.body.len(), writer)?;
        writer.write_all(&self.body)?;
        Ok(head.saturating_add(self.body.len()))
    }
}

impl DeserializeBytes for HpkeCiphertexts {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (body, rest) = vector::split(bytes)?;
        let mut remaining = body;
        let mut count = 0usize;
        while !remaining.is_empty() {
            check_count(Limit::VectorLen, count.saturating_add(1))?;
            // The body is fully present: an element running out of it is a length mismatch.
            remaining = skip_ciphertext(remaining)
                .map_err(|e| match e {
                    CodecError::Truncated => CodecError::VectorLengthMismatch,
                    other => other,
                })
                .map_err(CodecError::into_tls_decoding)?;
            count = count.saturating_add(1);
        }
        charge(body.len())?;
        let value = Self {
            body: body.to_vec(),
            count,
        };
        Ok((value, rest))
    }
}

/// RFC 9420 §7.6 `UpdatePathNode`: a new public key on the committer's filtered direct path
/// and its path secret encrypted to each node of the copath child's resolution.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct UpdatePathNode {
    /// `HPKEPublicKey encryption_key`.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub encryption_key: HpkePublicKey,
    /// `HPKECiphertext encrypted_path_secret<V>`.
    pub encrypted_path_secret: HpkeCiphertexts,
}

/// RFC 9420 §7.6 `UpdatePath`: the committer's new leaf and filtered-direct-path nodes.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct UpdatePath {
    /// `LeafNode leaf_node`.
    pub leaf_node: LeafNode,
    /// `UpdatePathNode nodes<V>`, in filtered-direct-path order.
    pub nodes: VarVec<UpdatePathNode>,
}
