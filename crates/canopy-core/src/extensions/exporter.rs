//! draft-ietf-mls-extensions §Exported Secrets: the safe exporter, a forward-secure exporter
//! for application components.
//!
//! Each epoch derives `application_export_secret = DeriveSecret(epoch_secret,
//! "application_export")`, the root of an Exporter Tree: a tree of secrets shaped like the
//! secret tree of RFC 9420 §9 with 2^16 leaves, one per [`ComponentId`]. A node's children
//! are `ExpandWithLabel(secret, "tree", "left", KDF.Nh)` and `ExpandWithLabel(secret, "tree",
//! "right", KDF.Nh)`, and `SafeExportSecret(component)` is the secret of leaf `component`.
//!
//! The group's safe exporter keeps only the frontier: the secrets of the subtrees not yet walked into.
//! Exporting a component removes the frontier node above its leaf and puts the siblings of
//! the path down in its place, so the component's secret, and every secret it was derived
//! from, is gone from the state once exported (the draft: the secret is "consumed"). The
//! frontier holds at most 16 nodes per component exported. It is kept in the group's Meta
//! record (state format 7) and dropped with the epoch.

use std::collections::BTreeMap;

use canopy_crypto::{Secret, SuiteOps};

use super::ComponentId;
use crate::crypto::{MlsCryptoError, expand_with_label};

/// The label of `application_export_secret` in the key schedule.
pub const APPLICATION_EXPORT_LABEL: &[u8] = b"application_export";

/// The Exporter Tree's depth: 2^16 leaves.
const DEPTH: u32 = 16;

/// The root's node index (RFC 9420 Appendix C array order): 2^16 - 1.
const ROOT: u32 = (1 << DEPTH) - 1;

/// The node index of the leaf of `component`: 2 · component.
fn leaf_node(component: ComponentId) -> u32 {
    u32::from(component) << 1
}

/// The level of node `x` (0 for leaves): its number of trailing one bits.
fn level(x: u32) -> u32 {
    x.trailing_ones()
}

/// Why a safe export secret cannot be given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The component's secret was exported already this epoch, or the epoch's Exporter Tree
    /// is not known (a state restored from format 6 or earlier, until the next epoch).
    #[error("the safe export secret of component {0} is consumed or not available this epoch")]
    Consumed(ComponentId),
    /// A key derivation failed.
    #[error(transparent)]
    Crypto(#[from] MlsCryptoError),
}

/// An epoch's Exporter Tree, as its frontier (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SafeExporter {
    frontier: BTreeMap<u32, Secret>,
}

impl SafeExporter {
    /// The tree whose root is `application_export_secret`.
    pub(crate) fn new(application_export_secret: Secret) -> Self {
        Self {
            frontier: BTreeMap::from([(ROOT, application_export_secret)]),
        }
    }

    /// A tree from its stored frontier: every node inside the tree, each secret `nh` bytes,
    /// and no node below another.
    ///
    /// # Errors
    /// What is wrong with the record.
    pub(crate) fn from_frontier(
        nodes: impl IntoIterator<Item = (u32, Secret)>,
        nh: usize,
    ) -> Result<Self, &'static str> {
        let mut frontier = BTreeMap::new();
        for (x, secret) in nodes {
            if x > 2 * ROOT {
                return Err("an exporter tree node outside the tree");
            }
            if secret.as_bytes().len() != nh {
                return Err("an exporter tree secret of the wrong length");
            }
            if frontier.insert(x, secret).is_some() {
                return Err("an exporter tree node twice");
            }
        }
        // A node's subtree spans [x - (2^k - 1), x + (2^k - 1)]: in index order, no node
        // may fall inside the span of the one before it.
        let mut covered_to: Option<u32> = None;
        for &x in frontier.keys() {
            let reach = (1u32 << level(x)) - 1;
            if covered_to.is_some_and(|end| x - reach <= end) {
                return Err("exporter tree nodes that overlap");
            }
            covered_to = Some(x + reach);
        }
        Ok(Self { frontier })
    }

    /// The frontier, in node order, for the state record.
    pub(crate) fn frontier(&self) -> impl Iterator<Item = (u32, &Secret)> {
        self.frontier.iter().map(|(x, s)| (*x, s))
    }

    /// `SafeExportSecret(component)`, consumed: the frontier node above the component's leaf
    /// is replaced by the siblings of the path down to it. On error nothing changes.
    ///
    /// # Errors
    /// [`ExportError::Consumed`] if the secret was exported already (or the tree is not
    /// known), [`ExportError::Crypto`] if a derivation fails.
    pub(crate) fn export(
        &mut self,
        ops: &dyn SuiteOps,
        component: ComponentId,
    ) -> Result<Secret, ExportError> {
        let target = leaf_node(component);
        // Down from the root to the first frontier node on the path to `target`.
        let mut x = ROOT;
        let start = loop {
            if self.frontier.contains_key(&x) {
                break x;
            }
            let k = level(x);
            if k == 0 {
                return Err(ExportError::Consumed(component));
            }
            let half = 1u32 << (k - 1);
            x = if target < x { x - half } else { x + half };
        };
        let nh = ops.params().kdf_len();
        let mut secret = self
            .frontier
            .get(&start)
            .cloned()
            .ok_or(ExportError::Consumed(component))?;
        let mut siblings = Vec::with_capacity(DEPTH as usize);
        let mut x = start;
        while level(x) > 0 {
            let half = 1u32 << (level(x) - 1);
            let left = expand_with_label(ops, secret.as_bytes(), b"tree", b"left", nh)?;
            let right = expand_with_label(ops, secret.as_bytes(), b"tree", b"right", nh)?;
            if target < x {
                siblings.push((x + half, right));
                secret = left;
                x -= half;
            } else {
                siblings.push((x - half, left));
                secret = right;
                x += half;
            }
        }
        self.frontier.remove(&start);
        self.frontier.extend(siblings);
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use canopy_crypto::{CipherSuite, CryptoProvider};
    use canopy_crypto_rustcrypto::RustCryptoProvider;

    use super::*;

    fn ops(provider: &RustCryptoProvider) -> &dyn SuiteOps {
        provider
            .suite(CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519)
            .unwrap()
    }

    /// The leaf secret of `component` derived from the root, step by step.
    fn by_hand(ops: &dyn SuiteOps, root: &Secret, component: ComponentId) -> Secret {
        let mut secret = root.clone();
        for bit in (0..DEPTH).rev() {
            let side: &[u8] = if (component >> bit) & 1 == 0 {
                b"left"
            } else {
                b"right"
            };
            secret = expand_with_label(ops, secret.as_bytes(), b"tree", side, 32).unwrap();
        }
        secret
    }

    #[test]
    fn each_component_secret_is_its_leaf_of_the_tree_and_is_consumed_once_exported() {
        let provider = RustCryptoProvider::new();
        let ops = ops(&provider);
        let root = Secret::new(vec![7; 32]);
        let mut exporter = SafeExporter::new(root.clone());
        for component in [0x8001, 0, 0xFFFF, 0x8000, 2] {
            let secret = exporter.export(ops, component).unwrap();
            assert_eq!(secret, by_hand(ops, &root, component), "{component:#x}");
            assert_eq!(
                exporter.export(ops, component),
                Err(ExportError::Consumed(component))
            );
        }
        // The root, and every secret a consumed leaf came from, is gone.
        assert!(exporter.frontier().all(|(x, _)| x != ROOT));
        assert!(exporter.frontier().count() <= 5 * 16);
        // The frontier round-trips and keeps serving the other components.
        let stored: Vec<(u32, Secret)> = exporter.frontier().map(|(x, s)| (x, s.clone())).collect();
        let mut back = SafeExporter::from_frontier(stored, 32).unwrap();
        assert_eq!(back, exporter);
        assert_eq!(back.export(ops, 1).unwrap(), by_hand(ops, &root, 1));
    }

    #[test]
    fn a_stored_frontier_is_checked() {
        let s = || Secret::new(vec![1; 32]);
        assert!(SafeExporter::from_frontier([(ROOT, s())], 32).is_ok());
        assert!(SafeExporter::from_frontier([(2 * ROOT + 1, s())], 32).is_err());
        assert!(SafeExporter::from_frontier([(ROOT, Secret::new(vec![1; 31]))], 32).is_err());
        // The root and a node below it overlap; two disjoint subtrees do not.
        assert!(SafeExporter::from_frontier([(ROOT, s()), (4, s())], 32).is_err());
        assert!(SafeExporter::from_frontier([(1, s()), (5, s())], 32).is_ok());
        assert!(SafeExporter::from_frontier([(1, s()), (2, s())], 32).is_err());
    }
}
