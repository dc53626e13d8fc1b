//! Protecting and unprotecting a 1 KiB application message as a PrivateMessage (RFC 9420
//! §6.3), against the crypto floor it cannot beat: one signature, one verification, one AEAD
//! seal and one AEAD open of the same size.
//!
//! `cargo bench -p canopy-core --bench framing`. Besides criterion's figures it prints, per
//! suite, the ratio of protect+unprotect to the floor, timed interleaved in the same run so
//! machine noise hits both alike.
// The clock ban of canopy-core's clippy.toml guards the sans-IO library, not its benchmarks.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use canopy_core::advanced::codec::VarBytes;
use canopy_core::advanced::framing::{Padding, protect_private, sign_content, unprotect_private};
use canopy_core::advanced::schedule::{OutOfOrderPolicy, SecretTree};
use canopy_core::advanced::tree::math::LeafCount;
use canopy_core::wire::{
    Extensions, FramedContent, FramedContentBody, GroupContext, PrivateMessage, ProtocolVersion,
    Sender, WireFormat,
};
use canopy_crypto::{CipherSuite, CryptoProvider, Secret, SignatureKeyPair, SuiteOps};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use criterion::{Criterion, criterion_group, criterion_main};

const KIB: usize = 1024;
const SUITES: [CipherSuite; 3] = [
    CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
    CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519,
];
/// Leaves of the secret tree: a large group, so the benchmark includes its lazy derivation.
const LEAVES: u32 = 1 << 16;
const SENDER: u32 = 12_345;

/// One sender and one receiver of a group's epoch.
struct Setup<'a> {
    ops: &'a dyn SuiteOps,
    signer: SignatureKeyPair,
    context: GroupContext,
    sender_data_secret: Secret,
    sender_tree: SecretTree,
    receiver_tree: SecretTree,
}

impl<'a> Setup<'a> {
    fn new(ops: &'a dyn SuiteOps, suite: CipherSuite) -> Self {
        let nh = ops.params().hash_len();
        let tree = SecretTree::new(
            Secret::from_slice(&vec![5; nh]),
            LeafCount::new(LEAVES).unwrap(),
            OutOfOrderPolicy::default(),
        );
        Self {
            ops,
            signer: ops.signature_generate_key_pair().unwrap(),
            context: GroupContext {
                version: ProtocolVersion::MLS10,
                cipher_suite: suite,
                group_id: VarBytes(vec![0x47; 16]),
                epoch: 42,
                tree_hash: VarBytes(vec![1; nh]),
                confirmed_transcript_hash: VarBytes(vec![2; nh]),
                extensions: Extensions::default(),
            },
            sender_data_secret: Secret::from_slice(&vec![4; nh]),
            sender_tree: tree.clone(),
            receiver_tree: tree,
        }
    }

    fn protect(&mut self, data: &[u8]) -> PrivateMessage {
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(SENDER),
            authenticated_data: VarBytes(Vec::new()),
            body: FramedContentBody::Application(VarBytes(data.to_vec())),
        };
        let signed = sign_content(
            self.ops,
            WireFormat::PrivateMessage,
            content,
            &self.signer,
            Some(&self.context),
        )
        .unwrap();
        protect_private(
            self.ops,
            signed,
            &self.sender_data_secret,
            &mut self.sender_tree,
            Padding::default(),
            [1, 2, 3, 4],
        )
        .unwrap()
    }

    fn unprotect(&mut self, message: &PrivateMessage) {
        let key = self.signer.public.clone();
        let verified = unprotect_private(
            self.ops,
            message,
            &self.context,
            &self.sender_data_secret,
            &mut self.receiver_tree,
            |_| Some(key),
        )
        .unwrap();
        black_box(verified);
    }
}

/// The floor: sign and verify a FramedContentTBS-sized message, seal and open 1 KiB.
struct Floor<'a> {
    ops: &'a dyn SuiteOps,
    signer: SignatureKeyPair,
    tbs: Vec<u8>,
    data: Vec<u8>,
    key: Vec<u8>,
}

impl<'a> Floor<'a> {
    fn new(ops: &'a dyn SuiteOps) -> Self {
        Self {
            ops,
            signer: ops.signature_generate_key_pair().unwrap(),
            tbs: vec![0x33; KIB + 160],
            data: vec![0x5a; KIB + 80],
            key: vec![7; ops.params().aead_key_len()],
        }
    }

    fn run(&self) {
        let sig = self.ops.sign(&self.signer.private, &self.tbs).unwrap();
        self.ops
            .verify(&self.signer.public, &self.tbs, &sig)
            .unwrap();
        let ct = self
            .ops
            .aead_seal(&self.key, &[9; 12], b"aad", &self.data)
            .unwrap();
        black_box(
            self.ops
                .aead_open(&self.key, &[9; 12], b"aad", &ct)
                .unwrap(),
        );
    }
}

fn framing(c: &mut Criterion) {
    let provider = RustCryptoProvider::new();
    let data = vec![0x42u8; KIB];
    for suite in SUITES {
        let ops = provider.suite(suite).unwrap();
        let mut g = c.benchmark_group(format!("private message 1KiB, suite 0x{:04x}", suite.0));
        let mut setup = Setup::new(ops, suite);
        g.bench_function("protect", |b| b.iter(|| setup.protect(&data)));
        let mut setup = Setup::new(ops, suite);
        g.bench_function("protect+unprotect", |b| {
            b.iter(|| {
                let message = setup.protect(&data);
                setup.unprotect(&message);
            })
        });
        let floor = Floor::new(ops);
        g.bench_function("floor (sign+verify+seal+open)", |b| b.iter(|| floor.run()));
        g.finish();
    }
}

/// Interleaved timing of protect+unprotect and the floor; prints the ratio per suite.
fn ratios(_: &mut Criterion) {
    let provider = RustCryptoProvider::new();
    let data = vec![0x42u8; KIB];
    for suite in SUITES {
        let ops = provider.suite(suite).unwrap();
        let mut setup = Setup::new(ops, suite);
        let floor = Floor::new(ops);
        let (mut ours, mut base) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..400 {
            let t = Instant::now();
            let message = setup.protect(&data);
            setup.unprotect(&message);
            ours += t.elapsed();
            let t = Instant::now();
            floor.run();
            base += t.elapsed();
        }
        println!(
            "ratio suite 0x{:04x}: protect+unprotect {:.1} µs / floor {:.1} µs = {:.2}x",
            suite.0,
            ours.as_secs_f64() * 1e6 / 400.0,
            base.as_secs_f64() * 1e6 / 400.0,
            ours.as_secs_f64() / base.as_secs_f64()
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = framing, ratios
}
criterion_main!(benches);
