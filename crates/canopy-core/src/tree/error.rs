//! The error type of the ratchet-tree layer: every variant names the broken rule (with its RFC
//! 9420 section) and the node or leaf where it broke.

use canopy_crypto::CryptoError;

use crate::codec::CodecError;
use crate::crypto::MlsCryptoError;

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
    /// RFC 9420 §7.7, §12.1.3: the right subtree of the root holds no non-blank leaf, so the
    /// tree was not truncated.
    #[error("the right subtree of root {root} has no member: the tree is not truncated")]
    NotTruncated {
        /// The root node index.
        root: u32,
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
    /// RFC 9420 §7.3: the LeafNode signature does not verify.
    #[error("the signature of leaf {leaf} does not verify")]
    BadLeafSignature {
        /// The leaf index.
        leaf: u32,
    },
    /// RFC 9420 §7.2, §7.3: the current time is outside a key-package leaf's lifetime.
    #[error("leaf {leaf} is outside its lifetime")]
    LifetimeExpired {
        /// The leaf index.
        leaf: u32,
    },
    /// RFC 9420 §7.2: the leaf's total lifetime is longer than the application allows.
    #[error("leaf {leaf} has a lifetime longer than allowed")]
    LifetimeTooLong {
        /// The leaf index.
        leaf: u32,
    },
    /// RFC 9420 §7.2, §7.3: a non-default extension of the leaf is missing from its
    /// `capabilities.extensions`.
    #[error(
        "leaf {leaf} carries extension type {extension_type:#06x} it does not list as supported"
    )]
    UnsupportedExtension {
        /// The leaf index.
        leaf: u32,
        /// The extension type.
        extension_type: u16,
    },
    /// RFC 9420 §7.2: the leaf's credential type is missing from its own
    /// `capabilities.credentials`.
    #[error("leaf {leaf} does not list its own credential type {credential_type:#06x}")]
    OwnCredentialUnsupported {
        /// The leaf index.
        leaf: u32,
        /// The credential type.
        credential_type: u16,
    },
    /// RFC 9420 §7.3: a credential type in use by some member is missing from this leaf's
    /// `capabilities.credentials`.
    #[error(
        "leaf {leaf} does not support credential type {credential_type:#06x} used by leaf {used_by}"
    )]
    CredentialTypeUnsupported {
        /// The leaf whose capabilities lack the type.
        leaf: u32,
        /// The credential type.
        credential_type: u16,
        /// A leaf that uses it.
        used_by: u32,
    },
    /// RFC 9420 §7.3, §11.1: the leaf lacks a capability the group's
    /// `required_capabilities` extension asks for.
    #[error("leaf {leaf} lacks required capability {code:#06x}")]
    MissingRequiredCapability {
        /// The leaf index.
        leaf: u32,
        /// The extension, proposal or credential type it lacks.
        code: u16,
    },
    /// RFC 9420 §7.3: the leaf has the wrong `leaf_node_source` for where it appears.
    #[error("leaf {leaf} has leaf_node_source {found}, expected {expected}")]
    WrongLeafSource {
        /// The leaf index.
        leaf: u32,
        /// The source code point found.
        found: u8,
        /// The source code point required.
        expected: u8,
    },
    /// RFC 9420 §7.9.2: a non-blank parent is not parent-hash valid: no descendant's
    /// `parent_hash` links to it.
    #[error("parent node {node} is not parent-hash valid")]
    ParentHashInvalid {
        /// The node index.
        node: u32,
    },
    /// RFC 9420 §7.9.2: more than one descendant links to this parent, so it is not covered by
    /// exactly one parent-hash chain.
    #[error("parent node {node} is linked by more than one parent-hash chain")]
    ParentHashAmbiguous {
        /// The node index.
        node: u32,
    },
    /// RFC 9420 §7.1: the parent's `unmerged_leaves` are not in strictly increasing order.
    #[error("unmerged_leaves of node {node} are not strictly increasing")]
    UnmergedLeavesUnsorted {
        /// The node index.
        node: u32,
    },
    /// RFC 9420 §12.4.3.1: an unmerged leaf is not a descendant of its parent node.
    #[error("unmerged leaf {leaf} of node {node} is not below it")]
    UnmergedLeafNotDescendant {
        /// The parent node index.
        node: u32,
        /// The leaf index.
        leaf: u32,
    },
    /// RFC 9420 §12.4.3.1: an unmerged leaf is blank.
    #[error("unmerged leaf {leaf} of node {node} is blank")]
    UnmergedLeafBlank {
        /// The parent node index.
        node: u32,
        /// The leaf index.
        leaf: u32,
    },
    /// RFC 9420 §12.4.3.1: a non-blank node between an unmerged leaf and the parent that lists
    /// it does not list it too.
    #[error("unmerged leaf {leaf} of node {node} is missing from node {missing_at} below it")]
    UnmergedLeafMissingBelow {
        /// The parent node index listing the leaf.
        node: u32,
        /// The leaf index.
        leaf: u32,
        /// The intermediate node that should list it.
        missing_at: u32,
    },
    /// RFC 9420 §7.3, §12.4.3.1: an encryption key appears in two nodes.
    #[error("node {node} reuses the encryption key of node {first}")]
    DuplicateEncryptionKey {
        /// The later node.
        node: u32,
        /// The node that holds the key first.
        first: u32,
    },
    /// RFC 9420 §7.3: a signature key appears in two leaves.
    #[error("leaf {leaf} reuses the signature key of leaf {first}")]
    DuplicateSignatureKey {
        /// The later leaf.
        leaf: u32,
        /// The leaf that holds the key first.
        first: u32,
    },
    /// RFC 9420 §12.4.2: the committer's new leaf keeps its old encryption key.
    #[error("leaf {leaf}: the new encryption key equals the current one")]
    EncryptionKeyUnchanged {
        /// The leaf index.
        leaf: u32,
    },
    /// RFC 9420 §7.6: the UpdatePath has a different number of nodes than the sender's
    /// filtered direct path.
    #[error("UpdatePath of leaf {leaf} has {got} nodes, its filtered direct path {expected}")]
    PathLengthMismatch {
        /// The sender's leaf index.
        leaf: u32,
        /// The filtered direct path length.
        expected: usize,
        /// The number of UpdatePath nodes.
        got: usize,
    },
    /// RFC 9420 §7.6: the number of encrypted path secrets differs from the size of the copath
    /// child's resolution.
    #[error("UpdatePath node for {node} has {got} ciphertexts, the resolution {expected} nodes")]
    CiphertextCountMismatch {
        /// The filtered-direct-path node.
        node: u32,
        /// The resolution size.
        expected: usize,
        /// The ciphertexts.
        got: usize,
    },
    /// RFC 9420 §7.9.2: the committer's leaf `parent_hash` does not match the parent hash
    /// recomputed for its path.
    #[error("leaf {leaf}: parent_hash does not match the UpdatePath")]
    LeafParentHashMismatch {
        /// The sender's leaf index.
        leaf: u32,
    },
    /// RFC 9420 §7.5: a public key derived from a decrypted path secret differs from the one
    /// in the UpdatePath.
    #[error("the key derived for node {node} differs from the UpdatePath")]
    PathKeyMismatch {
        /// The node index.
        node: u32,
    },
    /// RFC 9420 §7.5: the receiver holds no private key for any node of the resolution it
    /// must decrypt from.
    #[error("no private key to decrypt the path secret of node {node}")]
    NoDecryptionKey {
        /// The filtered-direct-path node.
        node: u32,
    },
    /// RFC 9420 §7.5: the path secret did not decrypt.
    #[error("the path secret for node {node} does not decrypt")]
    PathSecretDecryption {
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
}
