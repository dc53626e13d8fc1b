//! The cryptographic floor of each group operation: what its public-key cryptography,
//! hashing and key derivation cost with the same primitives (Canopy's provider, suite
//! 0x0001, measured here on one core), the parallel parts divided by the cores.
//!
//! What cannot be divided is not: a signature over a large message is one SHA-512 pass over
//! it (two when signing), and an AEAD one pass, each on one core; and a step that needs the
//! previous one's output (the commit is signed over its path's ciphertexts, the Welcome's
//! GroupSecrets are sealed with the encrypted GroupInfo as context, the GroupInfo is
//! decrypted before its signature can be checked) waits for it. Each floor is the longest
//! such chain, or the whole work divided by the cores when that is longer.
//!
//! Shared by the group benchmark (`benches/group.rs`) and the peer benchmark
//! (`canopy-interop/benches/peers.rs`, through `#[path]`).
#![allow(
    dead_code,
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::time::Instant;

use canopy_crypto::{CipherSuite, CryptoProvider, SignatureCheck};
use canopy_crypto_rustcrypto::RustCryptoProvider;

/// One-core costs of the primitives every operation is made of.
pub(crate) struct Floors {
    pub(crate) cores: f64,
    /// HPKE base-mode seal of a 32-byte secret: ephemeral key generation, DH, the HKDF steps,
    /// one AEAD.
    pub(crate) seal: f64,
    /// HPKE base-mode open of the same, by a recipient that holds its public key.
    pub(crate) open: f64,
    /// DeriveKeyPair from a path secret (RFC 9420 §7.4), with the path secret's own
    /// derivation (`DeriveSecret`).
    pub(crate) derive: f64,
    /// One HKDF-Expand of 32 bytes with an MLS label (`ExpandWithLabel`, `DeriveTreeSecret`).
    pub(crate) expand: f64,
    /// One Ed25519 signature of 256 bytes.
    pub(crate) sign: f64,
    /// One Ed25519 verification of 256 bytes.
    pub(crate) verify: f64,
    /// One verification within a batch of 64, each under its own key.
    pub(crate) verify_batched: f64,
    /// One verification within a batch of 64 by one signer (a backlog of one sender's
    /// messages: the key is decompressed once and its terms are summed).
    pub(crate) verify_batched_one_signer: f64,
    /// One tree-hash node: SHA-256 of 256 bytes.
    pub(crate) hash: f64,
    /// AES-128-GCM of 1 KiB.
    pub(crate) aead: f64,
    /// AES-128-GCM of 16 bytes (a PrivateMessage's sender data).
    pub(crate) aead_small: f64,
    /// Per byte of message: an Ed25519 signature (SHA-512 twice), a verification (once),
    /// SHA-256 (a membership tag or transcript hash), AES-128-GCM.
    pub(crate) sign_byte: f64,
    pub(crate) verify_byte: f64,
    pub(crate) sha256_byte: f64,
    pub(crate) aead_byte: f64,
}

/// The time of one call of `f`, in seconds: the fastest of nine rounds of `iters` calls. A
/// floor is a lower bound, and the machine is shared: a round slowed by a neighbour says
/// nothing about the primitive (the median moved the floors by up to 25% between sizes).
fn per_call(iters: u32, mut f: impl FnMut()) -> f64 {
    let mut t = Vec::with_capacity(9);
    for _ in 0..9 {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        t.push(start.elapsed().as_secs_f64() / f64::from(iters));
    }
    t.into_iter().fold(f64::INFINITY, f64::min)
}

/// The tree's depth at `n` members: ⌈log2 n⌉.
pub(crate) fn levels(n: u32) -> f64 {
    f64::from(n).log2().ceil()
}

/// How many path nodes a member at leaf `receiver` derives from the UpdatePath of the member
/// at leaf `sender` in a full tree of `n` leaves: from their lowest common ancestor to the
/// root (RFC 9420 §7.5), the ancestor's level being the bit length of `sender ^ receiver`.
pub(crate) fn derived_nodes(n: u32, sender: u32, receiver: u32) -> f64 {
    let common = 32 - (sender ^ receiver).leading_zeros();
    (levels(n) - f64::from(common) + 1.0).max(1.0)
}

impl Floors {
    pub(crate) fn measure() -> Self {
        let provider = RustCryptoProvider::new();
        let ops = provider.suite(CipherSuite(0x0001)).unwrap();
        let kp = ops.hpke_generate_key_pair().unwrap();
        let info = ops.hpke_prepare_info(b"MLS 1.0 UpdatePathNode context of modest size");
        let secret = [7u8; 32];
        let ct = ops.hpke_seal(&kp.public, &info, b"", &secret).unwrap();
        let sk = ops.signature_generate_key_pair().unwrap();
        let msg = [0x5au8; 256];
        let sig = ops.sign(&sk.private, &msg).unwrap();
        let keys: Vec<_> = (0..64)
            .map(|_| ops.signature_generate_key_pair().unwrap())
            .collect();
        let sigs: Vec<_> = keys
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
        let own_msgs: Vec<[u8; 256]> = (0..64u8).map(|i| [i; 256]).collect();
        let own_sigs: Vec<_> = own_msgs
            .iter()
            .map(|m| ops.sign(&sk.private, m).unwrap())
            .collect();
        let own_checks: Vec<SignatureCheck<'_>> = own_msgs
            .iter()
            .zip(&own_sigs)
            .map(|(m, s)| SignatureCheck {
                public_key: &sk.public,
                message: m,
                signature: s,
            })
            .collect();
        let aead_key = [3u8; 16];
        let kib = [1u8; 1024];
        let mib = vec![0x33u8; 1 << 20];
        let mib_sig = ops.sign(&sk.private, &mib).unwrap();
        // A MiB's time, per byte.
        let per_byte = |mib_secs: f64| mib_secs / f64::from(1u32 << 20);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        Self {
            cores,
            seal: per_call(200, || {
                ops.hpke_seal(&kp.public, &info, b"", &secret).unwrap();
            }),
            open: per_call(200, || {
                // With the recipient's public key at hand, as TreeKEM opens (the KEM
                // context's pkR is not computed again).
                ops.hpke_open_with_public_key(&kp.private, &kp.public, &ct, &info, b"")
                    .unwrap();
            }),
            derive: per_call(200, || {
                let next = ops.kdf_expand(&secret, b"MLS 1.0 path", 32).unwrap();
                ops.hpke_derive_key_pair(next.as_bytes()).unwrap();
            }),
            expand: per_call(2_000, || {
                ops.kdf_expand(&secret, b"\x00\x20\x0cMLS 1.0 nonce\x00", 32)
                    .unwrap();
            }),
            sign: per_call(200, || {
                ops.sign(&sk.private, &msg).unwrap();
            }),
            verify: per_call(200, || {
                ops.verify(&sk.public, &msg, &sig).unwrap();
            }),
            verify_batched: per_call(10, || ops.verify_batch(&checks).unwrap()) / 64.0,
            verify_batched_one_signer: per_call(10, || ops.verify_batch(&own_checks).unwrap())
                / 64.0,
            hash: per_call(2_000, || {
                ops.hash(&msg);
            }),
            aead: per_call(2_000, || {
                ops.aead_seal(&aead_key, &[0; 12], b"", &kib).unwrap();
            }),
            aead_small: per_call(2_000, || {
                ops.aead_seal(&aead_key, &[0; 12], b"", &kib[..16]).unwrap();
            }),
            sign_byte: per_byte(per_call(3, || {
                ops.sign(&sk.private, &mib).unwrap();
            })),
            verify_byte: per_byte(per_call(3, || {
                ops.verify(&sk.public, &mib, &mib_sig).unwrap();
            })),
            sha256_byte: per_byte(per_call(3, || {
                ops.hash(&mib);
            })),
            aead_byte: per_byte(per_call(3, || {
                ops.aead_seal(&aead_key, &[0; 12], b"", &mib).unwrap();
            })),
        }
    }

    /// The primitives' figures, in a sentence.
    pub(crate) fn describe(&self) -> String {
        let mib = |per_byte: f64| fmt(per_byte * f64::from(1u32 << 20));
        format!(
            "Primitives (one core): HPKE seal {}, open {}, DeriveKeyPair {}, HKDF-Expand {}, \
             Ed25519 sign {}, verify {} ({} in a batch of 64, {} by one signer), SHA-256 of 256 B {}, \
             AES-128-GCM of 1 KiB {}; per MiB of message: Ed25519 sign {}, verify {}, \
             SHA-256 {}, AES-128-GCM {}; {} cores",
            fmt(self.seal),
            fmt(self.open),
            fmt(self.derive),
            fmt(self.expand),
            fmt(self.sign),
            fmt(self.verify),
            fmt(self.verify_batched),
            fmt(self.verify_batched_one_signer),
            fmt(self.hash),
            fmt(self.aead),
            mib(self.sign_byte),
            mib(self.verify_byte),
            mib(self.sha256_byte),
            mib(self.aead_byte),
            self.cores
        )
    }

    fn par(&self, x: f64) -> f64 {
        x / self.cores
    }

    /// `chain` (work that runs on one core) beside `other` (work that can be spread): the
    /// longer of the chain and the whole divided by the cores.
    fn beside(&self, chain: f64, other: f64) -> f64 {
        chain.max(self.par(chain + other))
    }

    /// Adding n-1 members: each KeyPackage's signature and its LeafNode's (batched) and the
    /// tree hash over 2n-1 nodes; then the GroupInfo (most of the Welcome's bytes) signed
    /// and encrypted, one pass each; then one Welcome seal per new member, whose context is
    /// that encrypted GroupInfo (hashed once into the HPKE `info`, RFC 9180 §5.1); the commit
    /// and the GroupInfo signed.
    pub(crate) fn add_everyone(&self, n: u32, welcome_bytes: usize) -> f64 {
        let n = f64::from(n);
        let welcome = welcome_bytes as f64;
        self.par((n - 1.0) * 2.0 * self.verify_batched + (2.0 * n) * self.hash)
            + welcome * (self.sign_byte + self.aead_byte + self.sha256_byte)
            + self.par((n - 1.0) * self.seal)
            + 2.0 * self.sign
    }

    /// Joining from that Welcome: the group secrets opened (their HPKE `info` holds the
    /// encrypted GroupInfo: one SHA-256 pass, RFC 9180 §5.1), the GroupInfo decrypted (one
    /// pass); then its signature verified (one pass over its bytes) beside every leaf's
    /// signature (batched) and the tree hash over 2n-1 nodes.
    pub(crate) fn join(&self, n: u32, welcome_bytes: usize) -> f64 {
        let n = f64::from(n);
        let welcome = welcome_bytes as f64;
        self.open
            + welcome * (self.sha256_byte + self.aead_byte)
            + self.verify
            + self.beside(
                welcome * self.verify_byte,
                n * self.verify_batched + 2.0 * n * self.hash,
            )
    }

    /// A commit with a path: the path's keys derived, `seals` encryptions of path secrets
    /// (one per copath leaf in a tree with no other parent keys), the new LeafNode signed;
    /// then the commit's bytes signed (two passes, over the ciphertexts); then MAC'd and
    /// transcript-hashed (both over the signature), one pass each.
    pub(crate) fn commit_create(&self, n: u32, seals: f64, commit_bytes: usize) -> f64 {
        let bytes = commit_bytes as f64;
        levels(n) * (self.derive + 2.0 * self.hash)
            + self.par(seals * self.seal)
            + bytes * self.sign_byte
            + self.beside(bytes * self.sha256_byte, bytes * self.sha256_byte)
            + 2.0 * self.sign
    }

    /// Merging one's own commit: the new path's hashes, nothing public-key.
    pub(crate) fn merge_own(&self, n: u32) -> f64 {
        levels(n) * self.hash
    }

    /// Processing another member's commit with a path: its signature and its new LeafNode's
    /// verified, one open, the `derived` path nodes from the common ancestor up derived (and
    /// compared with the path's keys), the path's tree and parent hashes, the commit's bytes
    /// verified, MAC'd and transcript-hashed.
    pub(crate) fn process_commit(&self, n: u32, derived: f64, commit_bytes: usize) -> f64 {
        2.0 * self.verify
            + self.open
            + derived * self.derive
            + levels(n) * 2.0 * self.hash
            + self.commit_bytes(commit_bytes, 2.0)
    }

    /// A received commit's bytes: its signature's pass beside `sha256_passes` (the
    /// membership tag's and the transcript hash's; a public group has no membership key).
    fn commit_bytes(&self, commit_bytes: usize, sha256_passes: f64) -> f64 {
        let bytes = commit_bytes as f64;
        self.beside(
            bytes * self.verify_byte,
            sha256_passes * bytes * self.sha256_byte,
        )
    }

    /// A public group (a Delivery Service) following the same commit: the two signatures
    /// and the hashes, no secrets.
    pub(crate) fn process_public(&self, n: u32, commit_bytes: usize) -> f64 {
        2.0 * self.verify + levels(n) * 2.0 * self.hash + self.commit_bytes(commit_bytes, 1.0)
    }

    /// Encrypting 1 KiB of application data: the signature over the content (on top of the
    /// 256 bytes measured), its AEAD, the sender data's AEAD, and the HKDF steps of
    /// RFC 9420 §6.3.2 and §9.1 (the ratchet's key, nonce and next secret; the sender data's
    /// key and nonce).
    pub(crate) fn encrypt(&self) -> f64 {
        self.sign + 1024.0 * self.sign_byte + self.aead + self.aead_small + 5.0 * self.expand
    }

    /// Decrypting it: the same with a verification.
    pub(crate) fn decrypt(&self) -> f64 {
        self.verify + 1024.0 * self.verify_byte + self.opened()
    }

    /// What decrypting 1 KiB costs besides the signature: the two AEADs and the HKDF steps.
    fn opened(&self) -> f64 {
        self.aead + self.aead_small + 5.0 * self.expand
    }

    /// Decrypting `m` messages of 1 KiB from one sender at once: the ratchet's steps and
    /// the AEADs in order (one key after the other) beside the signatures, verified as
    /// batches of that one signer.
    pub(crate) fn decrypt_backlog(&self, m: f64) -> f64 {
        self.beside(
            m * self.opened(),
            m * (self.verify_batched_one_signer + 1024.0 * self.verify_byte),
        )
    }
}

/// Three significant digits and a unit.
pub(crate) fn fmt(d: f64) -> String {
    let digits = |v: f64| {
        if v < 10.0 {
            format!("{v:.2}")
        } else if v < 100.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.0}")
        }
    };
    if d >= 1.0 {
        format!("{} s", digits(d))
    } else if d >= 1e-3 {
        format!("{} ms", digits(d * 1e3))
    } else {
        format!("{} µs", digits(d * 1e6))
    }
}

/// Criterion's median of `group`/`name` in this run, in seconds, if it wrote one.
pub(crate) fn measured(group: &str, name: &str) -> Option<f64> {
    let safe = |s: &str| s.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_");
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let roots = [
        std::env::var_os("CARGO_TARGET_DIR").map(|d| std::path::PathBuf::from(d).join("criterion")),
        Some(workspace.join("target/criterion")),
    ];
    roots.into_iter().flatten().find_map(|root| {
        let path = root
            .join(safe(group))
            .join(safe(name))
            .join("new/estimates.json");
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        Some(json["median"]["point_estimate"].as_f64()? / 1e9)
    })
}

/// Prints a benchmark's table and, with `CANOPY_BENCH_OUT=DIR` (relative to the workspace
/// root; cargo runs benchmarks in the crate's directory), also writes it to `DIR/file`.
pub(crate) fn print_table(table: &str, file: &str) {
    println!("\n{table}");
    if let Some(dir) = std::env::var_os("CANOPY_BENCH_OUT") {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), table).unwrap();
    }
}
