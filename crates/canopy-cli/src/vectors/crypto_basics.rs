//! `crypto-basics.json`: the RFC 9420 §5 functions for every cipher suite.

use canopy_core::advanced::crypto as mls;
use canopy_crypto::{
    CryptoProvider, HpkeCiphertext, HpkePrivateKey, HpkePublicKey, SignaturePrivateKey,
    SignaturePublicKey, SuiteOps,
};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    ref_hash: RefHash,
    expand_with_label: ExpandWithLabel,
    derive_secret: DeriveSecret,
    derive_tree_secret: DeriveTreeSecret,
    sign_with_label: SignWithLabel,
    encrypt_with_label: EncryptWithLabel,
}

#[derive(Deserialize)]
struct RefHash {
    label: String,
    value: Hex,
    out: Hex,
}

#[derive(Deserialize)]
struct ExpandWithLabel {
    secret: Hex,
    label: String,
    context: Hex,
    length: u16,
    out: Hex,
}

#[derive(Deserialize)]
struct DeriveSecret {
    secret: Hex,
    label: String,
    out: Hex,
}

#[derive(Deserialize)]
struct DeriveTreeSecret {
    secret: Hex,
    label: String,
    generation: u32,
    length: u16,
    out: Hex,
}

#[derive(Deserialize)]
struct SignWithLabel {
    #[serde(rename = "priv")]
    private: Hex,
    #[serde(rename = "pub")]
    public: Hex,
    content: Hex,
    label: String,
    signature: Hex,
}

#[derive(Deserialize)]
struct EncryptWithLabel {
    #[serde(rename = "priv")]
    private: Hex,
    #[serde(rename = "pub")]
    public: Hex,
    label: String,
    context: Hex,
    plaintext: Hex,
    kem_output: Hex,
    ciphertext: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(provider, c.cipher_suite, String::new, |ops| run(c, ops))
}

fn run(c: &Case, ops: &dyn SuiteOps) -> Result<(), String> {
    let err = |what: &'static str| move |e: mls::MlsCryptoError| format!("{what}: {e}");

    let r = &c.ref_hash;
    let out = mls::ref_hash(ops, r.label.as_bytes(), &r.value).map_err(err("RefHash"))?;
    expect_eq("RefHash", &r.out, &out)?;

    let e = &c.expand_with_label;
    let out = mls::expand_with_label(
        ops,
        &e.secret,
        e.label.as_bytes(),
        &e.context,
        e.length.into(),
    )
    .map_err(err("ExpandWithLabel"))?;
    expect_eq("ExpandWithLabel", &e.out, out.as_bytes())?;

    let d = &c.derive_secret;
    let out =
        mls::derive_secret(ops, &d.secret, d.label.as_bytes()).map_err(err("DeriveSecret"))?;
    expect_eq("DeriveSecret", &d.out, out.as_bytes())?;

    let t = &c.derive_tree_secret;
    let out = mls::derive_tree_secret(
        ops,
        &t.secret,
        t.label.as_bytes(),
        t.generation,
        t.length.into(),
    )
    .map_err(err("DeriveTreeSecret"))?;
    expect_eq("DeriveTreeSecret", &t.out, out.as_bytes())?;

    check_signature(ops, &c.sign_with_label)?;
    check_encryption(ops, &c.encrypt_with_label)
}

/// The given signature verifies, the public key matches the private key, and a fresh
/// signature verifies.
fn check_signature(ops: &dyn SuiteOps, s: &SignWithLabel) -> Result<(), String> {
    let sk = SignaturePrivateKey::from_slice(&s.private);
    let pk = SignaturePublicKey::new(s.public.0.clone());
    let derived = ops
        .signature_public_key(&sk)
        .map_err(|e| format!("signature public key: {e}"))?;
    expect_eq("signature public key", &s.public, derived.as_bytes())?;
    let label = s.label.as_bytes();
    mls::verify_with_label(ops, &pk, label, &s.content, &s.signature)
        .map_err(|e| format!("VerifyWithLabel of the vector's signature: {e}"))?;
    let pair = canopy_crypto::SignatureKeyPair {
        private: sk,
        public: derived,
    };
    let fresh = mls::sign_with_label(ops, &pair, label, &s.content)
        .map_err(|e| format!("SignWithLabel: {e}"))?;
    mls::verify_with_label(ops, &pk, label, &s.content, &fresh)
        .map_err(|e| format!("VerifyWithLabel of a fresh signature: {e}"))
}

/// The given ciphertext decrypts, and a fresh encryption round-trips.
fn check_encryption(ops: &dyn SuiteOps, x: &EncryptWithLabel) -> Result<(), String> {
    let sk = HpkePrivateKey::from_slice(&x.private);
    let pk = HpkePublicKey::new(x.public.0.clone());
    let label = x.label.as_bytes();
    let given = HpkeCiphertext {
        kem_output: x.kem_output.0.clone(),
        ciphertext: x.ciphertext.0.clone(),
    };
    let pt = mls::decrypt_with_label(ops, &sk, label, &x.context, &given)
        .map_err(|e| format!("DecryptWithLabel of the vector's ciphertext: {e}"))?;
    expect_eq("DecryptWithLabel", &x.plaintext, pt.as_bytes())?;
    let fresh = mls::encrypt_with_label(ops, &pk, label, &x.context, &x.plaintext)
        .map_err(|e| format!("EncryptWithLabel: {e}"))?;
    let pt = mls::decrypt_with_label(ops, &sk, label, &x.context, &fresh)
        .map_err(|e| format!("DecryptWithLabel of a fresh ciphertext: {e}"))?;
    expect_eq("EncryptWithLabel round trip", &x.plaintext, pt.as_bytes())
}
