//! Reading structure from fuzz input, byte-level mutations, and re-signing content as its
//! sender would (possible because [`InsecureFuzzProvider`](crate::InsecureFuzzProvider)'s
//! signature private key is the public key).

use canopy_core::advanced::crypto::sign_with_label;
use canopy_core::wire::{GroupInfo, KeyPackage, LeafNode, LeafNodeSource};
use canopy_crypto::{SignatureKeyPair, SignaturePrivateKey, SignaturePublicKey, SuiteOps};

/// Reads fields from the front of a fuzz input; past the end every read is empty or zero.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self(data)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn u8(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// Up to `len` bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// `n` as an index below `len` (0 if `len` is 0).
pub(crate) fn pick(n: usize, len: usize) -> usize {
    n.checked_rem(len).unwrap_or(0)
}

/// Applies the mutations encoded in `ops` (4 bytes each: operation, position, argument) to
/// `bytes`; `donors` provide the tails of splices.
pub(crate) fn mutate(bytes: &mut Vec<u8>, ops: &[u8], donors: &[&[u8]]) {
    for op in ops.chunks(4) {
        let mut r = Reader::new(op);
        let kind = r.u8();
        let pos = pick(usize::from(r.u16()), bytes.len().saturating_add(1));
        let arg = r.u8();
        match kind % 6 {
            0 => {
                if let Some(b) = bytes.get_mut(pos) {
                    *b ^= 1 << (arg % 8);
                }
            }
            1 => {
                if let Some(b) = bytes.get_mut(pos) {
                    *b = arg;
                }
            }
            2 => bytes.insert(pos, arg),
            3 => {
                let end = pos
                    .saturating_add(usize::from(arg % 16) + 1)
                    .min(bytes.len());
                bytes.drain(pos..end);
            }
            4 => bytes.truncate(pos),
            _ => {
                let donor = donors.get(pick(usize::from(arg), donors.len())).copied();
                if let Some(tail) = donor.and_then(|d| d.get(pos..)) {
                    bytes.truncate(pos);
                    bytes.extend_from_slice(tail);
                }
            }
        }
    }
}

/// The signing key of `public` under the insecure provider (the same bytes).
pub(crate) fn signer_of(public: &SignaturePublicKey) -> SignatureKeyPair {
    SignatureKeyPair {
        private: SignaturePrivateKey::from_slice(public.as_bytes()),
        public: public.clone(),
    }
}

/// A leaf's own signature over it again (RFC 9420 §7.2), as its owner would sign it.
pub(crate) fn resign_leaf(ops: &dyn SuiteOps, leaf: &mut LeafNode, group_id: &[u8], index: u32) {
    let Ok(tbs) = leaf.tbs_bytes(group_id, index) else {
        return;
    };
    if let Ok(sig) = sign_with_label(ops, &signer_of(&leaf.signature_key), b"LeafNodeTBS", &tbs) {
        leaf.signature = sig.into();
    }
}

/// A KeyPackage with its leaf and its own signature made again by its owner (RFC 9420 §10).
pub(crate) fn resign_key_package(ops: &dyn SuiteOps, kp: &mut KeyPackage) {
    if matches!(kp.leaf_node.leaf_node_source, LeafNodeSource::KeyPackage(_)) {
        resign_leaf(ops, &mut kp.leaf_node, &[], 0);
    }
    let Ok(tbs) = kp.tbs_bytes() else {
        return;
    };
    let key = signer_of(&kp.leaf_node.signature_key);
    if let Ok(sig) = sign_with_label(ops, &key, b"KeyPackageTBS", &tbs) {
        kp.signature = sig.into();
    }
}

/// A GroupInfo signed again with `key` (RFC 9420 §12.4.3).
pub(crate) fn resign_group_info(
    ops: &dyn SuiteOps,
    info: &mut GroupInfo,
    key: &SignaturePublicKey,
) {
    let Ok(tbs) = info.tbs_bytes() else {
        return;
    };
    if let Ok(sig) = sign_with_label(ops, &signer_of(key), b"GroupInfoTBS", &tbs) {
        info.signature = sig.into();
    }
}

/// Panics with `what` on `Err`: an invariant of the fuzz targets broke.
#[expect(
    clippy::panic,
    reason = "a fuzz target reports a broken invariant by panicking"
)]
pub(crate) fn must<T, E: core::fmt::Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e:?}"),
    }
}
