//! The secret tree and its per-sender ratchets (RFC 9420 §9), derived lazily.
//!
//! Only a frontier of node secrets is stored: at first the root (`encryption_secret`), and
//! afterwards the siblings of every path walked down to a sender's leaf. Reaching a leaf
//! derives `O(log n)` secrets, so a group of 50,000 members derives nothing for members who
//! never send. Every node secret is deleted as soon as its children are derived, every
//! ratchet secret as soon as the next one is derived, and every key once used (§9.2).
//!
//! Receiving is staged: [`SecretTree::prepare_decryption`] computes the key and the ratchet's
//! next state without touching the tree; [`SecretTree::commit_decryption`] applies it after the
//! AEAD tag verified, so garbage cannot burn keys.

use std::collections::{BTreeMap, BTreeSet};

use canopy_crypto::{Secret, SuiteOps};

use super::ScheduleError;
use crate::crypto::{derive_tree_secret, expand_with_label};
use crate::tree::math::{self, LeafCount, LeafIndex};

/// Which of a sender's two ratchets a message uses (RFC 9420 §9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContentKind {
    /// Proposals and commits.
    Handshake,
    /// Application messages.
    Application,
}

/// How far receivers tolerate reordering and loss (RFC 9420 §9.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfOrderPolicy {
    /// How many generations ahead of the next expected one a message may be.
    pub max_forward_distance: u32,
    /// How many skipped keys each ratchet keeps for messages that arrive late. The oldest are
    /// deleted first.
    pub max_retained_keys: u32,
}

impl Default for OutOfOrderPolicy {
    fn default() -> Self {
        Self {
            max_forward_distance: 1000,
            max_retained_keys: 32,
        }
    }
}

/// An AEAD key and nonce of one generation of a ratchet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAndNonce {
    /// `AEAD.Nk` bytes.
    pub key: Secret,
    /// `AEAD.Nn` bytes.
    pub nonce: Secret,
}

/// The key and nonce that protect a PrivateMessage's sender data (RFC 9420 §6.3.2):
/// `ExpandWithLabel(sender_data_secret, "key" | "nonce", ciphertext_sample, Nk | Nn)`, where
/// the sample is the first `Nh` bytes of the content ciphertext (all of it if shorter).
///
/// # Errors
/// Backend errors.
pub fn sender_data_key(
    ops: &dyn SuiteOps,
    sender_data_secret: &Secret,
    ciphertext: &[u8],
) -> Result<KeyAndNonce, ScheduleError> {
    let p = ops.params();
    let sample = ciphertext.get(..p.kdf_len()).unwrap_or(ciphertext);
    Ok(KeyAndNonce {
        key: expand_with_label(
            ops,
            sender_data_secret.as_bytes(),
            b"key",
            sample,
            p.aead_key_len(),
        )?,
        nonce: expand_with_label(
            ops,
            sender_data_secret.as_bytes(),
            b"nonce",
            sample,
            p.aead_nonce_len(),
        )?,
    })
}

/// A key for a message: its generation, key and nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatchetKey {
    /// The generation (`uint32` on the wire).
    pub generation: u32,
    /// Key and nonce.
    pub key: KeyAndNonce,
}

/// One sender ratchet: the secret of its next generation and the keys it skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SenderRatchet {
    next_generation: u32,
    secret: Secret,
    retained: BTreeMap<u32, KeyAndNonce>,
}

impl SenderRatchet {
    fn new(secret: Secret) -> Self {
        Self {
            next_generation: 0,
            secret,
            retained: BTreeMap::new(),
        }
    }

    /// Key and nonce of the current generation.
    fn current_key(&self, ops: &dyn SuiteOps) -> Result<KeyAndNonce, ScheduleError> {
        let p = ops.params();
        let g = self.next_generation;
        Ok(KeyAndNonce {
            key: derive_tree_secret(ops, self.secret.as_bytes(), b"key", g, p.aead_key_len())?,
            nonce: derive_tree_secret(
                ops,
                self.secret.as_bytes(),
                b"nonce",
                g,
                p.aead_nonce_len(),
            )?,
        })
    }

    /// Replaces the secret by the next generation's and deletes the old one.
    fn advance(&mut self, ops: &dyn SuiteOps) -> Result<(), ScheduleError> {
        let g = self.next_generation;
        let next = g.checked_add(1).ok_or(ScheduleError::RatchetExhausted)?;
        self.secret = derive_tree_secret(
            ops,
            self.secret.as_bytes(),
            b"secret",
            g,
            ops.params().kdf_len(),
        )?;
        self.next_generation = next;
        Ok(())
    }

    /// Takes the key of `generation`, moving the ratchet forward as needed (keeping the
    /// skipped keys within the policy) or taking a retained key.
    fn take(
        &mut self,
        ops: &dyn SuiteOps,
        generation: u32,
        policy: &OutOfOrderPolicy,
    ) -> Result<KeyAndNonce, ScheduleError> {
        if generation < self.next_generation {
            return self
                .retained
                .remove(&generation)
                .ok_or(ScheduleError::GenerationConsumed { generation });
        }
        let distance = generation.saturating_sub(self.next_generation);
        if distance > policy.max_forward_distance {
            return Err(ScheduleError::GenerationTooFarAhead {
                generation,
                distance,
                max: policy.max_forward_distance,
            });
        }
        let keep = usize::try_from(policy.max_retained_keys).unwrap_or(usize::MAX);
        // Keys skipped further back than the retention window would be evicted at once: do
        // not derive them at all.
        while self.next_generation < generation {
            let behind = generation.saturating_sub(self.next_generation);
            if behind <= policy.max_retained_keys {
                let key = self.current_key(ops)?;
                self.retained.insert(self.next_generation, key);
            }
            self.advance(ops)?;
        }
        let key = self.current_key(ops)?;
        self.advance(ops)?;
        while self.retained.len() > keep {
            self.retained.pop_first();
        }
        Ok(key)
    }
}

/// Both ratchets of one leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LeafRatchets {
    handshake: SenderRatchet,
    application: SenderRatchet,
}

impl LeafRatchets {
    fn get_mut(&mut self, kind: ContentKind) -> &mut SenderRatchet {
        match kind {
            ContentKind::Handshake => &mut self.handshake,
            ContentKind::Application => &mut self.application,
        }
    }
}

/// The node secrets a first visit to a leaf adds to and removes from the frontier.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct FrontierChange {
    removed: Option<u32>,
    added: Vec<(u32, Secret)>,
}

/// A decryption key computed by [`SecretTree::prepare_decryption`], applied to the tree only
/// by [`SecretTree::commit_decryption`].
#[derive(Debug)]
#[must_use = "the ratchet only moves on when the pending decryption is committed"]
pub struct PendingDecryption {
    version: u64,
    leaf: u32,
    generation: u32,
    key: KeyAndNonce,
    ratchets: LeafRatchets,
    frontier: FrontierChange,
}

impl PendingDecryption {
    /// The sender's leaf and the generation of the message.
    #[cfg(feature = "extensions")]
    pub(crate) fn position(&self) -> (u32, u32) {
        (self.leaf, self.generation)
    }

    /// The key and nonce to open the message with.
    pub fn key(&self) -> &KeyAndNonce {
        &self.key
    }

    /// The generation it belongs to.
    pub fn generation(&self) -> u32 {
        self.generation
    }
}

/// The secret tree of one epoch (RFC 9420 §9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretTree {
    leaves: LeafCount,
    frontier: BTreeMap<u32, Secret>,
    ratchets: BTreeMap<u32, LeafRatchets>,
    policy: OutOfOrderPolicy,
    version: u64,
    /// The frontier nodes and the leaves whose stored records changed since the last
    /// [`SecretTree::take_changes`]: what a store must write (`group::records`).
    touched: Touched,
}

/// Frontier nodes and ratchet leaves changed since they were last taken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Touched {
    nodes: BTreeSet<u32>,
    leaves: BTreeSet<u32>,
}

impl SecretTree {
    /// A tree of `leaves` leaves whose root secret is the epoch's `encryption_secret`.
    pub fn new(encryption_secret: Secret, leaves: LeafCount, policy: OutOfOrderPolicy) -> Self {
        let root = math::root(leaves).value();
        let mut frontier = BTreeMap::new();
        frontier.insert(root, encryption_secret);
        Self {
            leaves,
            frontier,
            ratchets: BTreeMap::new(),
            policy,
            version: 0,
            touched: Touched {
                nodes: BTreeSet::from([root]),
                leaves: BTreeSet::new(),
            },
        }
    }

    /// Marks every record of the tree as changed, so that the next delta writes it whole:
    /// for a tree a store does not hold yet although it was itself restored from a record
    /// (the next epoch of a pending commit, saved with the commit and merged after a reload).
    pub(crate) fn touch_all(&mut self) {
        self.touched.nodes.extend(self.frontier.keys().copied());
        self.touched.leaves.extend(self.ratchets.keys().copied());
    }

    /// The number of leaves.
    pub fn leaves(&self) -> LeafCount {
        self.leaves
    }

    /// The out-of-order policy.
    pub fn policy(&self) -> OutOfOrderPolicy {
        self.policy
    }

    /// Takes the next key of our own `kind` ratchet at `leaf`, for sending.
    ///
    /// # Errors
    /// [`ScheduleError::LeafOutOfRange`], [`ScheduleError::RatchetExhausted`], backend errors.
    pub fn next_encryption_key(
        &mut self,
        ops: &dyn SuiteOps,
        leaf: LeafIndex,
        kind: ContentKind,
    ) -> Result<RatchetKey, ScheduleError> {
        let (mut ratchets, frontier) = self.leaf_ratchets(ops, leaf)?;
        let r = ratchets.get_mut(kind);
        let generation = r.next_generation;
        let key = r.current_key(ops)?;
        r.advance(ops)?;
        self.apply(leaf.value(), ratchets, frontier);
        Ok(RatchetKey { generation, key })
    }

    /// Computes the key of `generation` of `leaf`'s `kind` ratchet without changing the tree.
    ///
    /// # Errors
    /// [`ScheduleError::GenerationConsumed`] for a used or deleted generation (a replay),
    /// [`ScheduleError::GenerationTooFarAhead`] beyond the policy,
    /// [`ScheduleError::LeafOutOfRange`], backend errors.
    pub fn prepare_decryption(
        &self,
        ops: &dyn SuiteOps,
        leaf: LeafIndex,
        kind: ContentKind,
        generation: u32,
    ) -> Result<PendingDecryption, ScheduleError> {
        let (mut ratchets, frontier) = self.leaf_ratchets(ops, leaf)?;
        let key = ratchets.get_mut(kind).take(ops, generation, &self.policy)?;
        Ok(PendingDecryption {
            version: self.version,
            leaf: leaf.value(),
            generation,
            key,
            ratchets,
            frontier,
        })
    }

    /// Applies a pending decryption: the key is deleted and the ratchet moves on.
    ///
    /// # Errors
    /// [`ScheduleError::StalePending`] if the tree changed since `pending` was prepared; the
    /// tree is then unchanged.
    pub fn commit_decryption(&mut self, pending: PendingDecryption) -> Result<(), ScheduleError> {
        if pending.version != self.version {
            return Err(ScheduleError::StalePending);
        }
        self.apply(pending.leaf, pending.ratchets, pending.frontier);
        Ok(())
    }

    fn apply(&mut self, leaf: u32, ratchets: LeafRatchets, frontier: FrontierChange) {
        if let Some(node) = frontier.removed {
            self.frontier.remove(&node);
            self.touched.nodes.insert(node);
        }
        self.touched
            .nodes
            .extend(frontier.added.iter().map(|(node, _)| *node));
        self.frontier.extend(frontier.added);
        self.ratchets.insert(leaf, ratchets);
        self.touched.leaves.insert(leaf);
        self.version = self.version.wrapping_add(1);
    }

    /// The current ratchets of `leaf`, deriving them (and the frontier change) on first use.
    fn leaf_ratchets(
        &self,
        ops: &dyn SuiteOps,
        leaf: LeafIndex,
    ) -> Result<(LeafRatchets, FrontierChange), ScheduleError> {
        let out_of_range = ScheduleError::LeafOutOfRange {
            leaf: leaf.value(),
            leaves: self.leaves.value(),
        };
        if !self.leaves.contains(leaf) {
            return Err(out_of_range);
        }
        if let Some(r) = self.ratchets.get(&leaf.value()) {
            return Ok((r.clone(), FrontierChange::default()));
        }
        // The path from the root down to the leaf; exactly one of its nodes is on the frontier.
        let leaf_node = leaf.node();
        let Some(mut path) = math::direct_path(leaf_node, self.leaves) else {
            return Err(out_of_range);
        };
        path.reverse();
        path.push(leaf_node);
        let start = path
            .iter()
            .position(|n| self.frontier.contains_key(&n.value()))
            .ok_or(ScheduleError::Internal(
                "no frontier secret on a path to an unvisited leaf",
            ))?;
        let mut change = FrontierChange::default();
        let mut node = path
            .get(start)
            .copied()
            .ok_or(ScheduleError::Internal("frontier index"))?;
        change.removed = Some(node.value());
        let mut secret = self
            .frontier
            .get(&node.value())
            .cloned()
            .ok_or(ScheduleError::Internal("frontier secret vanished"))?;
        let nh = ops.params().kdf_len();
        for &next in path.iter().skip(start.saturating_add(1)) {
            let (Some(left), Some(right)) = (math::left(node), math::right(node)) else {
                return Err(out_of_range);
            };
            let left_secret = expand_with_label(ops, secret.as_bytes(), b"tree", b"left", nh)?;
            let right_secret = expand_with_label(ops, secret.as_bytes(), b"tree", b"right", nh)?;
            let (on_path, off_path, off_node) = if next == left {
                (left_secret, right_secret, right)
            } else {
                (right_secret, left_secret, left)
            };
            change.added.push((off_node.value(), off_path));
            secret = on_path;
            node = next;
        }
        let ratchets = LeafRatchets {
            handshake: SenderRatchet::new(expand_with_label(
                ops,
                secret.as_bytes(),
                b"handshake",
                b"",
                nh,
            )?),
            application: SenderRatchet::new(expand_with_label(
                ops,
                secret.as_bytes(),
                b"application",
                b"",
                nh,
            )?),
        };
        Ok((ratchets, change))
    }

    /// How many node secrets and leaf ratchets are stored (for tests and memory accounting).
    pub fn stored_secrets(&self) -> (usize, usize) {
        (self.frontier.len(), self.ratchets.len())
    }
}

mod state;

pub(crate) use state::{FrontierSecret, LeafRatchetsRecord, SecretTreeHeader, SecretTreeRecord};

#[cfg(test)]
mod tests;
