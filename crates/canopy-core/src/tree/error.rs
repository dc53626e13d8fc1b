//! The error type of the ratchet-tree layer: a broken validity rule is a [`Violation`] naming
//! the rule and the node or leaf where it broke; the other variants are structural problems
//! of an operation.

use canopy_crypto::CryptoError;

use crate::codec::CodecError;
use crate::crypto::MlsCryptoError;
use crate::rules::Violation;

/// What was wrong with a ratchet tree, a tree operation or an UpdatePath.
///
/// Node and leaf positions are plain `u32` indices (node indices in the array representation
/// of RFC 9420 Appendix C, leaf indices among the leaves).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// A structure could not be encoded for hashing or signing.
    #[error("encoding: {0}")]
    Codec(#[from] CodecError),
    /// A labelled cryptographic function failed.
    #[error(transparent)]
    Crypto(#[from] MlsCryptoError),
    /// RFC 9420 §12.4.3.3: the tree has no nodes.
    #[error("the ratchet tree has no nodes")]
    Empty,
    /// RFC 9420 §12.4.3.3: the last node of a serialized tree is blank.
    #[error("the serialized tree ends with a blank node")]
    TrailingBlank,
    /// RFC 9420 Appendix C: a leaf at an odd index or a parent at an even one.
    #[error("node {node} has the wrong node type for its position")]
    MisplacedNode {
        /// The node index.
        node: u32,
    },
    /// RFC 9420 Appendix C: more nodes than a tree of 2^31 leaves has.
    #[error("a tree of {len} nodes is too large")]
    TooLarge {
        /// The number of nodes.
        len: usize,
    },
    /// A leaf index outside the tree.
    #[error("leaf {leaf} is outside the tree")]
    LeafOutOfRange {
        /// The leaf index.
        leaf: u32,
    },
    /// RFC 9420 §12.1.2, §12.1.3, §12.4.2: the operation needs a member at a blank leaf.
    #[error("leaf {leaf} is blank")]
    BlankLeaf {
        /// The leaf index.
        leaf: u32,
    },
    /// RFC 9420 §7.5: the receiver holds no private key for any node of the resolution it
    /// must decrypt from.
    #[error("no private key to decrypt the path secret of node {node}")]
    NoDecryptionKey {
        /// The filtered-direct-path node.
        node: u32,
    },
    /// RFC 9420 §7.4 (tree invariant): a private key does not match the public key of its node.
    #[error("private key for node {node} does not match the tree")]
    PrivateKeyMismatch {
        /// The node index.
        node: u32,
    },
    /// RFC 9420 §7.5: the receiver is the sender of the UpdatePath.
    #[error("leaf {leaf} cannot process its own UpdatePath")]
    OwnPath {
        /// The leaf index.
        leaf: u32,
    },
    /// A staged diff was made from another state of the tree.
    #[error("the staged tree was made from another state of the tree")]
    StaleDiff,
    /// The cipher suite of the operation differs from the tree's.
    #[error("cipher suite mismatch")]
    SuiteMismatch,
    /// The crypto backend failed outside a labelled function.
    #[error("crypto backend: {0}")]
    Backend(#[from] CryptoError),
    /// An internal invariant failed: a bug in Canopy, never caused by peer input.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// A rule of RFC 9420 (§7, §12.4.2, §12.4.3.1) was broken: the [`Violation`] names it and
    /// the node or leaf.
    #[error(transparent)]
    Invalid(#[from] Violation),
}

impl TreeError {
    /// The rule this error reports as broken, if it is a [`Violation`].
    pub fn rule(&self) -> Option<crate::rules::Rule> {
        match self {
            Self::Invalid(v) => Some(v.rule()),
            _ => None,
        }
    }
}
