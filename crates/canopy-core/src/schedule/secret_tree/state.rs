//! The stored form of a [`SecretTree`], for group state records (`group::state`).
//!
//! ```text
//! struct {
//!     uint32 leaves;                       // a power of two
//!     uint32 max_forward_distance;         // OutOfOrderPolicy
//!     uint32 max_retained_keys;
//!     FrontierSecret frontier<V>;          // { uint32 node; opaque secret<V>; }, nodes ascending
//!     LeafRatchetsRecord ratchets<V>;      // { uint32 leaf; SenderRatchetRecord handshake,
//!                                          //   application; }, leaves ascending
//! } SecretTreeRecord;
//!
//! struct {
//!     uint32 next_generation;
//!     opaque secret<V>;
//!     RetainedKey retained<V>;             // { uint32 generation; opaque key<V>;
//!                                          //   opaque nonce<V>; }, generations ascending,
//!                                          //   each below next_generation
//! } SenderRatchetRecord;
//! ```
//!
//! Every secret is held in a [`Secret`] (zeroized on drop). Loading checks what a corrupted
//! record could break: strictly ascending keys (so the encoding is canonical), nodes and
//! leaves inside the tree, retained generations behind the ratchet, and secret lengths
//! (`Nh` for node and ratchet secrets, `Nk`/`Nn` for keys). The `version` counter that guards
//! pending decryptions is not stored: no pending decryption outlives a save.

use std::collections::BTreeMap;

use canopy_crypto::{Secret, SuiteOps};
use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::{KeyAndNonce, LeafRatchets, OutOfOrderPolicy, SecretTree, SenderRatchet, Touched};
use crate::codec::VarVec;
use crate::tree::math::{LeafCount, LeafIndex};

/// A node secret of the frontier.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
pub(crate) struct FrontierSecret {
    node: u32,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    secret: Secret,
}

/// A skipped key kept for a late message.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
pub(crate) struct RetainedKey {
    generation: u32,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    key: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    nonce: Secret,
}

/// One sender ratchet.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
pub(crate) struct SenderRatchetRecord {
    next_generation: u32,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    secret: Secret,
    retained: VarVec<RetainedKey>,
}

/// Both ratchets of one leaf.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
pub(crate) struct LeafRatchetsRecord {
    leaf: u32,
    handshake: SenderRatchetRecord,
    application: SenderRatchetRecord,
}

impl FrontierSecret {
    /// The node whose secret this is.
    pub(crate) fn node(&self) -> u32 {
        self.node
    }
}

impl LeafRatchetsRecord {
    /// The leaf whose ratchets these are.
    pub(crate) fn leaf(&self) -> u32 {
        self.leaf
    }
}

/// What a [`SecretTreeRecord`] holds besides its secrets, for group state stored as many
/// records (`group::records`), where each frontier secret and each leaf's ratchets is a
/// record of its own: `struct { uint32 leaves; uint32 max_forward_distance; uint32
/// max_retained_keys; }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, TlsSerialize, TlsDeserializeBytes, TlsSize)]
pub(crate) struct SecretTreeHeader {
    leaves: u32,
    max_forward_distance: u32,
    max_retained_keys: u32,
}

/// What changed in a [`SecretTree`]'s records since they were last taken: frontier nodes
/// (`None`: the secret was deleted) and leaves' ratchets, each ascending.
#[derive(Default)]
pub(crate) struct SecretTreeChanges {
    pub(crate) nodes: Vec<(u32, Option<FrontierSecret>)>,
    pub(crate) leaves: Vec<LeafRatchetsRecord>,
}

/// The stored form of a [`SecretTree`]; see the module docs for the layout.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
pub(crate) struct SecretTreeRecord {
    leaves: u32,
    max_forward_distance: u32,
    max_retained_keys: u32,
    frontier: VarVec<FrontierSecret>,
    ratchets: VarVec<LeafRatchetsRecord>,
}

impl SenderRatchet {
    fn to_record(&self) -> SenderRatchetRecord {
        SenderRatchetRecord {
            next_generation: self.next_generation,
            secret: self.secret.clone(),
            retained: VarVec(
                self.retained
                    .iter()
                    .map(|(&generation, k)| RetainedKey {
                        generation,
                        key: k.key.clone(),
                        nonce: k.nonce.clone(),
                    })
                    .collect(),
            ),
        }
    }

    fn from_record(ops: &dyn SuiteOps, record: SenderRatchetRecord) -> Result<Self, &'static str> {
        let p = ops.params();
        if record.secret.len() != p.kdf_len() {
            return Err("ratchet secret length");
        }
        let mut retained = BTreeMap::new();
        for k in record.retained.0 {
            if k.generation >= record.next_generation {
                return Err("retained key not behind its ratchet");
            }
            if k.key.len() != p.aead_key_len() || k.nonce.len() != p.aead_nonce_len() {
                return Err("retained key length");
            }
            if retained
                .last_key_value()
                .is_some_and(|(&g, _)| g >= k.generation)
            {
                return Err("retained keys not ascending");
            }
            retained.insert(
                k.generation,
                KeyAndNonce {
                    key: k.key,
                    nonce: k.nonce,
                },
            );
        }
        Ok(Self {
            next_generation: record.next_generation,
            secret: record.secret,
            retained,
        })
    }
}

impl SecretTreeRecord {
    /// The record of a tree stored as many records: its header, its frontier secrets and
    /// its leaves' ratchets (checked by [`SecretTree::from_record`]).
    pub(crate) fn assemble(
        header: SecretTreeHeader,
        frontier: Vec<FrontierSecret>,
        ratchets: Vec<LeafRatchetsRecord>,
    ) -> Self {
        Self {
            leaves: header.leaves,
            max_forward_distance: header.max_forward_distance,
            max_retained_keys: header.max_retained_keys,
            frontier: VarVec(frontier),
            ratchets: VarVec(ratchets),
        }
    }
}

impl SecretTree {
    /// The header of this tree's records.
    pub(crate) fn header(&self) -> SecretTreeHeader {
        SecretTreeHeader {
            leaves: self.leaves.value(),
            max_forward_distance: self.policy.max_forward_distance,
            max_retained_keys: self.policy.max_retained_keys,
        }
    }

    /// Every frontier secret, ascending, as records.
    pub(crate) fn frontier_records(&self) -> impl Iterator<Item = FrontierSecret> + '_ {
        self.frontier.iter().map(|(&node, secret)| FrontierSecret {
            node,
            secret: secret.clone(),
        })
    }

    /// Every leaf's ratchets, ascending, as records.
    pub(crate) fn ratchet_records(&self) -> impl Iterator<Item = LeafRatchetsRecord> + '_ {
        self.ratchets.iter().map(|(&leaf, r)| r.to_record(leaf))
    }

    /// The records that changed since they were last forgotten (or since the tree was made,
    /// for a new tree).
    pub(crate) fn changes(&self) -> SecretTreeChanges {
        let touched = &self.touched;
        SecretTreeChanges {
            nodes: touched
                .nodes
                .iter()
                .copied()
                .map(|node| {
                    let secret = self.frontier.get(&node).map(|secret| FrontierSecret {
                        node,
                        secret: secret.clone(),
                    });
                    (node, secret)
                })
                .collect(),
            leaves: touched
                .leaves
                .iter()
                .copied()
                .filter_map(|leaf| self.ratchets.get(&leaf).map(|r| r.to_record(leaf)))
                .collect(),
        }
    }

    /// Whether a record changed since they were last forgotten.
    pub(crate) fn has_changes(&self) -> bool {
        !self.touched.nodes.is_empty() || !self.touched.leaves.is_empty()
    }

    /// Forgets what changed (every record has just been written whole).
    pub(crate) fn forget_changes(&mut self) {
        self.touched = Touched::default();
    }

    /// This tree's stored form (copies every secret it holds).
    pub(crate) fn to_record(&self) -> SecretTreeRecord {
        SecretTreeRecord {
            leaves: self.leaves.value(),
            max_forward_distance: self.policy.max_forward_distance,
            max_retained_keys: self.policy.max_retained_keys,
            frontier: VarVec(self.frontier_records().collect()),
            ratchets: VarVec(self.ratchet_records().collect()),
        }
    }

    /// The tree a record stores, checked as the module docs say.
    ///
    /// # Errors
    /// What is wrong with the record, for `GroupError::State`.
    pub(crate) fn from_record(
        ops: &dyn SuiteOps,
        record: SecretTreeRecord,
    ) -> Result<Self, &'static str> {
        let leaves = LeafCount::new(record.leaves).ok_or("secret tree leaf count")?;
        let nh = ops.params().kdf_len();
        let mut frontier = BTreeMap::new();
        for f in record.frontier.0 {
            if f.node >= leaves.width() {
                return Err("frontier node outside the secret tree");
            }
            if f.secret.len() != nh {
                return Err("frontier secret length");
            }
            if frontier.last_key_value().is_some_and(|(&n, _)| n >= f.node) {
                return Err("frontier nodes not ascending");
            }
            frontier.insert(f.node, f.secret);
        }
        let mut ratchets = BTreeMap::new();
        for r in record.ratchets.0 {
            let in_tree = LeafIndex::new(r.leaf).is_some_and(|l| leaves.contains(l));
            if !in_tree {
                return Err("ratchet leaf outside the secret tree");
            }
            if ratchets.last_key_value().is_some_and(|(&l, _)| l >= r.leaf) {
                return Err("ratchet leaves not ascending");
            }
            ratchets.insert(
                r.leaf,
                LeafRatchets {
                    handshake: SenderRatchet::from_record(ops, r.handshake)?,
                    application: SenderRatchet::from_record(ops, r.application)?,
                },
            );
        }
        Ok(Self {
            leaves,
            frontier,
            ratchets,
            policy: OutOfOrderPolicy {
                max_forward_distance: record.max_forward_distance,
                max_retained_keys: record.max_retained_keys,
            },
            version: 0,
            touched: Touched::default(),
        })
    }
}

impl LeafRatchets {
    fn to_record(&self, leaf: u32) -> LeafRatchetsRecord {
        LeafRatchetsRecord {
            leaf,
            handshake: self.handshake.to_record(),
            application: self.application.to_record(),
        }
    }
}

#[cfg(test)]
mod tests {
    use canopy_crypto::{CipherSuite, CryptoProvider};
    use canopy_crypto_rustcrypto::RustCryptoProvider;

    use super::*;
    use crate::codec::{decode_exact, encode};
    use crate::schedule::ContentKind;

    fn used_tree(ops: &dyn SuiteOps) -> SecretTree {
        let mut tree = SecretTree::new(
            Secret::from_slice(&[7; 32]),
            LeafCount::new(8).unwrap(),
            OutOfOrderPolicy::default(),
        );
        let leaf = LeafIndex::new(5).unwrap();
        let _ = tree
            .next_encryption_key(ops, leaf, ContentKind::Handshake)
            .unwrap();
        let pending = tree
            .prepare_decryption(ops, LeafIndex::new(2).unwrap(), ContentKind::Application, 3)
            .unwrap();
        tree.commit_decryption(pending).unwrap();
        tree
    }

    #[test]
    fn a_used_tree_round_trips_byte_exact() {
        let provider = RustCryptoProvider::new();
        let ops = provider.suite(CipherSuite(1)).unwrap();
        let tree = used_tree(ops);
        let bytes = encode(&tree.to_record()).unwrap();
        let back = SecretTree::from_record(ops, decode_exact(&bytes).unwrap()).unwrap();
        assert_eq!(back.leaves(), tree.leaves());
        assert_eq!(back.frontier, tree.frontier);
        assert_eq!(back.ratchets, tree.ratchets);
        assert_eq!(encode(&back.to_record()).unwrap(), bytes);
    }

    #[test]
    fn inconsistent_records_are_rejected() {
        let provider = RustCryptoProvider::new();
        let ops = provider.suite(CipherSuite(1)).unwrap();
        let tree = used_tree(ops);
        let reject = |change: &dyn Fn(&mut SecretTreeRecord), reason: &str| {
            let mut record = tree.to_record();
            change(&mut record);
            assert_eq!(SecretTree::from_record(ops, record).err(), Some(reason));
        };
        reject(&|r| r.leaves = 6, "secret tree leaf count");
        reject(&|r| r.leaves = 2, "frontier node outside the secret tree");
        reject(&|r| r.frontier.0.reverse(), "frontier nodes not ascending");
        reject(
            &|r| r.frontier.0[0].secret = Secret::zero(31),
            "frontier secret length",
        );
        reject(&|r| r.ratchets.0.reverse(), "ratchet leaves not ascending");
        reject(
            &|r| r.ratchets.0[0].leaf = 8,
            "ratchet leaf outside the secret tree",
        );
        reject(
            &|r| r.ratchets.0[0].application.next_generation = 2,
            "retained key not behind its ratchet",
        );
        reject(
            &|r| r.ratchets.0[0].application.retained.0.reverse(),
            "retained keys not ascending",
        );
        reject(
            &|r| r.ratchets.0[0].application.retained.0[0].nonce = Secret::zero(16),
            "retained key length",
        );
        reject(
            &|r| r.ratchets.0[0].handshake.secret = Secret::zero(1),
            "ratchet secret length",
        );
    }
}
