//! The crypto floor: every primitive of every RFC 9420 cipher suite, and of the post-quantum
//! suites of `SuiteProfile::OPENMLS` (X-Wing, ML-KEM-768, ML-KEM-1024), as the protocol uses
//! it; with hashing and verifying 1 MiB, the per-byte floor of processing a large commit.
//!
//! `cargo bench -p canopy-crypto-rustcrypto --bench primitives`. Every protocol operation is
//! compared against these figures.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use canopy_crypto::{CipherSuite, CryptoProvider, SignatureCheck, SuiteProfile};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const KIB: usize = 1024;

fn primitives(c: &mut Criterion) {
    let provider = RustCryptoProvider::new()
        .with_profile(SuiteProfile::OPENMLS)
        .unwrap();
    let msg = vec![0x5au8; KIB];
    let mib = vec![0x5au8; KIB * KIB];
    for &suite in provider.supported() {
        let ops = provider.suite(suite).unwrap();
        let p = ops.params();
        let id = format!("0x{:04x}", suite.0);
        let mut g = c.benchmark_group(format!("suite {id}"));

        g.throughput(Throughput::Bytes(KIB as u64));
        g.bench_function(BenchmarkId::new("hash", "1KiB"), |b| {
            b.iter(|| ops.hash(&msg))
        });
        g.throughput(Throughput::Bytes((KIB * KIB) as u64));
        g.bench_function(BenchmarkId::new("hash", "1MiB"), |b| {
            b.iter(|| ops.hash(&mib))
        });
        g.throughput(Throughput::Elements(1));

        let prk = ops.kdf_extract(&[1; 32], &[2; 32]);
        g.bench_function("hkdf extract+expand Nh", |b| {
            b.iter(|| {
                let prk = ops.kdf_extract(prk.as_bytes(), &[3; 32]);
                ops.kdf_expand(prk.as_bytes(), b"info", p.hash_len())
                    .unwrap()
            })
        });

        let key = vec![7u8; p.aead_key_len()];
        let nonce = [9u8; 12];
        let ct = ops.aead_seal(&key, &nonce, b"aad", &msg).unwrap();
        g.bench_function("aead seal 1KiB", |b| {
            b.iter(|| ops.aead_seal(&key, &nonce, b"aad", &msg).unwrap())
        });
        g.bench_function("aead open 1KiB", |b| {
            b.iter(|| ops.aead_open(&key, &nonce, b"aad", &ct).unwrap())
        });

        let kp = ops.hpke_generate_key_pair().unwrap();
        let info = ops.hpke_prepare_info(b"MLS 1.0 Welcome info of modest size");
        let hct = ops.hpke_seal(&kp.public, &info, b"", &[1; 64]).unwrap();
        g.bench_function("hpke seal 64B", |b| {
            b.iter(|| ops.hpke_seal(&kp.public, &info, b"", &[1; 64]).unwrap())
        });
        g.bench_function("hpke open 64B", |b| {
            b.iter(|| ops.hpke_open(&kp.private, &hct, &info, b"").unwrap())
        });
        g.bench_function("hpke validate public key", |b| {
            b.iter(|| ops.hpke_validate_public_key(&kp.public).unwrap())
        });
        g.bench_function("hpke derive key pair", |b| {
            b.iter(|| ops.hpke_derive_key_pair(&[4; 32]).unwrap())
        });

        let sk = ops.signature_generate_key_pair().unwrap();
        let sig = ops.sign(&sk.private, &msg).unwrap();
        g.bench_function("sign 1KiB", |b| {
            b.iter(|| ops.sign(&sk.private, &msg).unwrap())
        });
        g.bench_function("verify 1KiB", |b| {
            b.iter(|| ops.verify(&sk.public, &msg, &sig).unwrap())
        });
        let sig_mib = ops.sign(&sk.private, &mib).unwrap();
        g.bench_function("verify 1MiB", |b| {
            b.iter(|| ops.verify(&sk.public, &mib, &sig_mib).unwrap())
        });
        g.finish();
    }
}

/// Preparing HPKE `info` is the one part of a Welcome seal that grows with the tree; it is done
/// once per Welcome, not once per new member.
fn prepared_info(c: &mut Criterion) {
    let provider = RustCryptoProvider::new();
    let ops = provider
        .suite(CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519)
        .unwrap();
    let big = vec![0u8; 3_400_000];
    let mut g = c.benchmark_group("hpke info 3.4MB (suite 0x0001)");
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("prepare once", |b| b.iter(|| ops.hpke_prepare_info(&big)));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

/// Signature verification as a joiner does it for a tree's leaves: 256 signatures by 256
/// distinct keys (so no key cache helps), through `verify_batch` and one `verify` each.
fn many_signers(c: &mut Criterion) {
    const N: usize = 256;
    let provider = RustCryptoProvider::new();
    for suite in [
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
    ] {
        let ops = provider.suite(suite).unwrap();
        let msg = vec![0x5au8; 200];
        let keys: Vec<_> = (0..N)
            .map(|_| ops.signature_generate_key_pair().unwrap())
            .collect();
        let sigs: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| ops.sign(&k.private, &msg).unwrap())
            .collect();
        let checks: Vec<SignatureCheck<'_>> = keys
            .iter()
            .zip(&sigs)
            .map(|(k, s)| SignatureCheck {
                public_key: &k.public,
                message: &msg,
                signature: s,
            })
            .collect();
        let mut g = c.benchmark_group(format!("suite 0x{:04x} {N} signers", suite.0));
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function("verify_batch", |b| {
            b.iter(|| ops.verify_batch(&checks).unwrap())
        });
        g.bench_function("verify each", |b| {
            b.iter(|| {
                for c in &checks {
                    ops.verify(c.public_key, c.message, c.signature).unwrap();
                }
            })
        });
        g.finish();
    }
}

criterion_group! { name = benches; config = config(); targets = primitives, prepared_info, many_signers }
criterion_main!(benches);
