//! The codec's allocation bound (`codec` module docs) and the [`Limits`] checks, measured with
//! a counting global allocator (`peak_alloc`, which counts a reallocation as a new block plus
//! the old one until the copy is done, so peaks include the moves of growing vectors).
//!
//! Each test holds `SERIAL` for its whole body, so that the allocator's global counters see
//! one test at a time.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods
)]

use canopy_core::group::CreateParams;
use std::sync::Arc;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use canopy_core::LeafIndex;
use canopy_core::advanced::codec::{
    ALLOC_SLACK, CodecError, Limit, Limits, VarBytes, encode_varint,
};
use canopy_core::advanced::tree::{RatchetTree, TreeRead};
use canopy_core::group::{CommitOptions, Env, Group, GroupConfig, GroupError};
use canopy_core::join::JoinError;
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageParams, LeafNodeParams, create_key_package,
};
use canopy_core::wire::{
    self, Commit, Credential, Extension, ExtensionType, Extensions, KeyPackage, Lifetime,
    MlsMessage,
};
use canopy_crypto::{CipherSuite, CryptoProvider};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

static SERIAL: Mutex<()> = Mutex::new(());

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
const MIB: usize = 1 << 20;

/// Runs `f` and returns its result with the most heap it had in use at once beyond what was
/// in use before (its result included).
fn peak_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let out = f();
    (out, ALLOC.peak_usage().saturating_sub(base))
}

/// The documented bound for decoding `n` bytes under `limits`: the charged allocations, plus
/// the old buffer of a vector while it moves to one twice its size (at most half of them).
fn bound(limits: &Limits, n: usize) -> usize {
    (limits.max_alloc_per_byte * n + ALLOC_SLACK) * 3 / 2
}

/// The default limits with the element-count ceilings lifted, so that only the allocation
/// budget stands between a hostile shape and memory.
fn counts_lifted() -> Limits {
    let mut limits = Limits::default();
    limits.max_tree_leaves = usize::MAX;
    limits.max_vector_len = usize::MAX;
    limits.max_extensions = usize::MAX;
    limits.max_message_len = usize::MAX;
    limits
}

/// A decoder of one wire type, its value dropped.
type Decoder = fn(&[u8], &Limits) -> Result<(), CodecError>;

fn vector(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    encode_varint(body.len(), &mut out).unwrap();
    out.extend_from_slice(body);
    out
}

struct Fixture {
    provider: RustCryptoProvider,
    validator: BasicCredentialValidator,
}

impl Fixture {
    fn new() -> Self {
        Self {
            provider: RustCryptoProvider::new(),
            validator: BasicCredentialValidator::new(),
        }
    }

    fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator).at(1_700_000_000)
    }

    fn credential(i: u32) -> Credential {
        Credential::Basic {
            identity: VarBytes(format!("member {i}").into_bytes()),
        }
    }

    fn group(&self) -> Group {
        let ops = self.provider.suite(SUITE).unwrap();
        Group::create(
            &self.env(),
            CreateParams::new(
                SUITE,
                b"allocation".to_vec(),
                &LeafNodeParams::new(Self::credential(0), SUITE),
                Arc::new(ops.signature_generate_key_pair().unwrap()),
            ),
        )
        .unwrap()
    }

    fn key_package(&self, i: u32) -> KeyPackage {
        let ops = self.provider.suite(SUITE).unwrap();
        let signer = ops.signature_generate_key_pair().unwrap();
        let params = KeyPackageParams::new(
            LeafNodeParams::new(Self::credential(i), SUITE),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        create_key_package(&self.provider, SUITE, &params, &signer)
            .unwrap()
            .key_package
    }

    /// A real group's leaf, encoded as a ratchet-tree node (`optional<Node>`: present, leaf).
    fn leaf_node_bytes(&self) -> Vec<u8> {
        let group = self.group();
        let leaf = group.tree().leaf(LeafIndex::new(0).unwrap()).unwrap();
        let mut out = vec![1, 1];
        out.extend_from_slice(&leaf.to_bytes().unwrap());
        out
    }
}

/// A ratchet tree of about `size` bytes: blank nodes, then one leaf.
fn blank_tree(size: usize, leaf: &[u8]) -> Vec<u8> {
    let blanks = size - leaf.len() - 4;
    tree_of_blanks(blanks - blanks % 2, leaf)
}

/// A ratchet tree of `blanks` (even) blank nodes, then one leaf.
fn tree_of_blanks(blanks: usize, leaf: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8; blanks];
    body.extend_from_slice(leaf);
    vector(&body)
}

#[test]
fn a_4_mib_blank_tree_decodes_in_constant_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let f = Fixture::new();
    let bytes = blank_tree(4 * MIB, &f.leaf_node_bytes());
    let limits = counts_lifted();
    let (tree, peak) = peak_of(|| wire::RatchetTree::from_bytes_with_limits(&bytes, &limits));
    let tree = tree.unwrap();
    assert!(tree.node_count() > 4_000_000);
    assert_eq!(tree.non_blank().len(), 1);
    // One leaf and the first capacity of the node list: a few hundred bytes, not the 1 GB of
    // a node-per-entry array.
    assert!(peak < 4096, "peak {peak} bytes");
    // With the default limits the same tree is refused once it passes 2^17 leaves.
    let (err, peak) = peak_of(|| wire::RatchetTree::from_bytes(&bytes));
    assert_eq!(
        err,
        Err(CodecError::LimitExceeded {
            limit: Limit::TreeLeaves,
            value: (1 << 17) + 1,
            max: 1 << 17,
        })
    );
    assert!(peak < 4096, "peak {peak} bytes");
}

#[test]
fn the_padded_tree_costs_a_few_dozen_bytes_per_node() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let f = Fixture::new();
    let ops = f.provider.suite(SUITE).unwrap();
    // 2^16 leaf positions, all blank but the last: the largest tree 2^17 default leaves allow
    // is twice that.
    let bytes = tree_of_blanks(2 * 65_536 - 2, &f.leaf_node_bytes());
    let wire_tree = wire::RatchetTree::from_bytes(&bytes).unwrap();
    let (tree, peak) = peak_of(|| RatchetTree::from_wire(ops, wire_tree).unwrap());
    let width = tree.nodes().len();
    assert_eq!(width, 2 * 65_536 - 1);
    // Per node: 16 bytes of `Option<Node>`, 32 of cached hash, 4 of resolution length, a
    // share of the blank-leaf index; a 290-byte node and a heap hash each would be ~350.
    let per_node = peak / width;
    assert!(per_node <= 80, "{per_node} bytes per node");
}

#[test]
fn hostile_shapes_stay_within_the_allocation_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let limits = counts_lifted();
    let n = MIB;
    // A commit of 2-byte references (`ProposalOrRef` reference with an empty hash): 64
    // bytes in memory per 2 on the wire.
    let refs = {
        let mut body = vector(&[2, 0].repeat(n / 2));
        body.push(0); // no path
        body
    };
    // An X.509 credential of empty certificates: 24 bytes in memory per byte.
    let mut large_credential = limits;
    large_credential.max_credential_len = usize::MAX;
    let certs = {
        let mut out = vec![0, 2];
        out.extend_from_slice(&vector(&vec![0u8; n]));
        out
    };
    // Extensions of every type with empty data: 32 bytes in memory per 3.
    let extensions: Vec<u8> = (0..=u16::MAX)
        .flat_map(|t| {
            let [a, b] = t.to_be_bytes();
            [a, b, 0]
        })
        .collect();
    let extensions = vector(&extensions);
    let shapes: [(&str, &[u8], Limits, Decoder); 3] = [
        ("references", &refs, limits, |b, l| {
            Commit::from_bytes_with_limits(b, l).map(drop)
        }),
        ("certificates", &certs, large_credential, |b, l| {
            Credential::from_bytes_with_limits(b, l).map(drop)
        }),
        ("extensions", &extensions, limits, |b, l| {
            Extensions::from_bytes_with_limits(b, l).map(drop)
        }),
    ];
    for (name, bytes, limits, decode) in shapes {
        let (result, peak) = peak_of(|| decode(bytes, &limits));
        assert!(
            matches!(
                result,
                Err(CodecError::LimitExceeded {
                    limit: Limit::DecodedBytes,
                    ..
                })
            ),
            "{name}: {result:?}"
        );
        assert!(peak <= bound(&limits, bytes.len()), "{name}: peak {peak}");
        // Allowed more per byte, each decodes, still within the (larger) bound.
        let mut generous = limits;
        generous.max_alloc_per_byte = 64;
        let (result, peak) = peak_of(|| decode(bytes, &generous));
        assert_eq!(result, Ok(()), "{name}");
        assert!(peak <= bound(&generous, bytes.len()), "{name}: peak {peak}");
    }
}

#[test]
fn lists_and_credentials_are_cut_at_their_limits() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let limits = Limits::default();
    // References of 32-byte hashes, as a real commit carries.
    let mut reference = vec![2, 32];
    reference.extend_from_slice(&[7; 32]);
    let refs = {
        let mut body = vector(&reference.repeat(limits.max_vector_len + 1));
        body.push(0);
        body
    };
    assert_eq!(
        Commit::from_bytes(&refs),
        Err(CodecError::LimitExceeded {
            limit: Limit::VectorLen,
            value: limits.max_vector_len + 1,
            max: limits.max_vector_len,
        })
    );
    let extensions: Vec<u8> = (0..=u16::try_from(limits.max_extensions).unwrap())
        .flat_map(|t| {
            let [a, b] = t.to_be_bytes();
            [a, b, 8, 1, 2, 3, 4, 5, 6, 7, 8]
        })
        .collect();
    assert_eq!(
        Extensions::from_bytes(&vector(&extensions)),
        Err(CodecError::LimitExceeded {
            limit: Limit::Extensions,
            value: limits.max_extensions + 1,
            max: limits.max_extensions,
        })
    );
    let mut identity = vec![0, 1];
    identity.extend_from_slice(&vector(&vec![b'x'; limits.max_credential_len + 1]));
    let (result, peak) = peak_of(|| Credential::from_bytes(&identity));
    assert_eq!(
        result,
        Err(CodecError::LimitExceeded {
            limit: Limit::CredentialLen,
            value: limits.max_credential_len + 1,
            max: limits.max_credential_len,
        })
    );
    assert!(peak < 4096, "checked before the copy: peak {peak}");
    let mut small = Limits::default();
    small.max_message_len = 100;
    assert_eq!(
        MlsMessage::from_bytes_with_limits(&[0; 101], &small),
        Err(CodecError::LimitExceeded {
            limit: Limit::MessageLen,
            value: 101,
            max: 100,
        })
    );
}

/// A real group's GroupInfo with `tree` as its `ratchet_tree` extension (so its signature no
/// longer verifies), encoded.
fn hostile_group_info(f: &Fixture, tree: Vec<u8>) -> Vec<u8> {
    let env = f.env();
    let group = f.group();
    let MlsMessage::GroupInfo(mut info) =
        MlsMessage::from_bytes(&group.group_info(&env, false).unwrap()).unwrap()
    else {
        panic!("not a GroupInfo");
    };
    let mut extensions = vec![Extension::new(ExtensionType::RATCHET_TREE, tree)];
    extensions.extend(info.extensions.as_slice().iter().cloned());
    info.extensions = Extensions::new(extensions).unwrap();
    MlsMessage::GroupInfo(info).to_bytes().unwrap()
}

/// Decodes `bytes` and gives the GroupInfo to `Group::join_external`; the result, the peak
/// heap and the time taken.
fn join_external(f: &Fixture, bytes: &[u8]) -> (Result<(), GroupError>, usize, Duration) {
    let env = f.env();
    let ops = f.provider.suite(SUITE).unwrap();
    let leaf = LeafNodeParams::new(Fixture::credential(9), SUITE);
    let signer: Arc<dyn canopy_crypto::Signer> =
        Arc::new(ops.signature_generate_key_pair().unwrap());
    let start = Instant::now();
    let (result, peak) = peak_of(|| {
        let MlsMessage::GroupInfo(info) = MlsMessage::from_bytes(bytes).unwrap() else {
            panic!("not a GroupInfo");
        };
        Group::join_external(
            &env,
            GroupConfig::default(),
            &info,
            None,
            &leaf,
            signer,
            None,
            &[],
        )
        .map(drop)
    });
    (result, peak, start.elapsed())
}

#[test]
fn a_hostile_group_info_within_the_limits_is_refused_before_hashing() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let f = Fixture::new();
    // 2^17 leaf positions, all blank but the first (the signer's) and the last: the largest
    // tree the defaults allow.
    let leaf = f.leaf_node_bytes();
    let mut body = leaf.clone();
    body.extend_from_slice(&vec![0u8; (1 << 18) - 3]);
    body.extend_from_slice(&leaf);
    let tree = vector(&body);
    let bytes = hostile_group_info(&f, tree);
    let (result, peak, elapsed) = join_external(&f, &bytes);
    eprintln!(
        "hostile GroupInfo of {} bytes, 2^17 leaves: refused in {elapsed:?}, peak {peak} bytes",
        bytes.len()
    );
    assert!(
        matches!(
            result,
            Err(GroupError::Join(JoinError::BadGroupInfoSignature))
        ),
        "{result:?}"
    );
    // Padded and hashed, the tree would take 2^18 nodes x 52 bytes = 13.6 MB.
    assert!(peak < 2 * bytes.len() + MIB, "peak {peak} bytes");
}

#[test]
fn a_hostile_4_mib_group_info_is_refused_fast_and_small() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let f = Fixture::new();
    let bytes = hostile_group_info(&f, blank_tree(4 * MIB, &f.leaf_node_bytes()));
    assert!(bytes.len() > 4 * MIB - 100);
    let (result, peak, elapsed) = join_external(&f, &bytes);
    eprintln!(
        "hostile GroupInfo of {} bytes: refused in {elapsed:?}, peak {peak} bytes",
        bytes.len()
    );
    assert!(
        matches!(
            result,
            Err(GroupError::Codec(CodecError::LimitExceeded {
                limit: Limit::TreeLeaves,
                ..
            }))
        ),
        "{result:?}"
    );
    // The GroupInfo's copy of the extension bytes, nothing in proportion to the tree.
    assert!(peak < bytes.len() + MIB, "peak {peak} bytes");
    // Before: 6.6 s and 1.5 GB. A debug build takes a few ms.
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn messages_canopy_sends_decode_well_within_the_budget() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let f = Fixture::new();
    let env = f.env();
    let mut group = f.group();
    let add: Vec<KeyPackage> = (1..200).map(|i| f.key_package(i)).collect();
    let out = group
        .commit(
            &env,
            CommitOptions {
                add,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = group.merge_pending_commit().unwrap();
    let info = group.group_info(&env, true).unwrap();
    let MlsMessage::GroupInfo(decoded) = MlsMessage::from_bytes(&info).unwrap() else {
        panic!("not a GroupInfo");
    };
    let tree = decoded
        .extensions
        .find(ExtensionType::RATCHET_TREE)
        .unwrap()
        .extension_data
        .as_slice()
        .to_vec();
    let messages: [(&str, &[u8]); 3] = [
        ("commit of 199 Adds", &out.commit),
        ("Welcome", out.welcome.as_deref().unwrap()),
        ("GroupInfo", &info),
    ];
    // Each at most 4 bytes per byte (measured: about 3.2 for the commit, the most), half
    // the default budget.
    for (name, bytes) in messages {
        let (result, peak) = peak_of(|| MlsMessage::from_bytes(bytes).map(drop));
        result.unwrap();
        eprintln!("{name}: {} bytes, peak {peak}", bytes.len());
        assert!(
            peak <= 4 * bytes.len(),
            "{name}: {peak} for {}",
            bytes.len()
        );
    }
    let (result, peak) = peak_of(|| wire::RatchetTree::from_bytes(&tree).map(drop));
    result.unwrap();
    eprintln!("ratchet tree: {} bytes, peak {peak}", tree.len());
    assert!(peak <= 4 * tree.len(), "tree: {peak} for {}", tree.len());
}
