//! X.509 chains generated here with rcgen (nothing downloaded): accepted chains, and a
//! rejected chain for each reason.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use canopy_core::advanced::codec::{VarBytes, VarVec};
use canopy_core::key_package::{CredentialRejected, CredentialValidator};
use canopy_core::wire::{Certificate, Credential};
use canopy_crypto::{CryptoProvider, SignatureKeyPair, SignaturePublicKey};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_x509::{ChainLimits, IdentitySource, TrustAnchor, X509Error, X509Validator};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519, PublicKeyData,
    SanType, SignatureAlgorithm, date_time_ymd,
};

mod support;
use support::{MemberKey, NOW, SUITE};

fn params(cn: &str, ca: Option<BasicConstraints>, years: (i32, i32)) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = date_time_ymd(years.0, 1, 1);
    p.not_after = date_time_ymd(years.1, 1, 1);
    if let Some(bc) = ca {
        p.is_ca = IsCa::Ca(bc);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    }
    p
}

/// A CA: its parameters, key and certificate.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    der: Vec<u8>,
}

impl Ca {
    fn root(cn: &str, alg: &'static SignatureAlgorithm) -> Self {
        let key = KeyPair::generate_for(alg).unwrap();
        let params = params(cn, Some(BasicConstraints::Unconstrained), (2020, 2040));
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Self { params, key, der }
    }

    fn issue_ca(&self, params: CertificateParams, alg: &'static SignatureAlgorithm) -> Self {
        let key = KeyPair::generate_for(alg).unwrap();
        let der = self.sign(&params, &key);
        Self { params, key, der }
    }

    fn sign(&self, params: &CertificateParams, subject: &impl PublicKeyData) -> Vec<u8> {
        let issuer = Issuer::from_params(&self.params, &self.key);
        params.signed_by(subject, &issuer).unwrap().der().to_vec()
    }

    fn anchor(&self) -> TrustAnchor {
        TrustAnchor::from_der(&self.der).unwrap()
    }
}

fn member_params(cn: &str, years: (i32, i32)) -> CertificateParams {
    let mut p = params(cn, None, years);
    p.subject_alt_names = vec![SanType::Rfc822Name(
        format!("{cn}@example.com").try_into().unwrap(),
    )];
    p
}

struct World {
    provider: Arc<RustCryptoProvider>,
    root: Ca,
    intermediate: Ca,
    member: SignatureKeyPair,
}

impl World {
    fn new() -> Self {
        let provider = Arc::new(RustCryptoProvider::new());
        let root = Ca::root("Canopy Test Root", &PKCS_ED25519);
        let intermediate = root.issue_ca(
            params(
                "Canopy Test Intermediate",
                Some(BasicConstraints::Constrained(0)),
                (2021, 2035),
            ),
            &PKCS_ECDSA_P256_SHA256,
        );
        let member = provider
            .suite(SUITE)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap();
        Self {
            provider,
            root,
            intermediate,
            member,
        }
    }

    fn validator(&self, anchors: Vec<TrustAnchor>) -> X509Validator {
        X509Validator::new(self.provider.clone(), anchors)
    }

    fn trusting_root(&self) -> X509Validator {
        self.validator(vec![self.root.anchor()])
    }

    fn key(&self) -> MemberKey {
        MemberKey(self.member.public.as_bytes().to_vec())
    }

    /// alice's certificate, issued by the intermediate.
    fn alice(&self) -> Vec<u8> {
        self.intermediate
            .sign(&member_params("alice", (2025, 2027)), &self.key())
    }
}

fn chain(certs: &[&[u8]]) -> Vec<Certificate> {
    certs
        .iter()
        .map(|c| Certificate {
            cert_data: VarBytes(c.to_vec()),
        })
        .collect()
}

fn credential(certs: &[&[u8]]) -> Credential {
    Credential::X509 {
        certificates: VarVec(chain(certs)),
    }
}

fn verify(
    v: &X509Validator,
    certs: &[&[u8]],
    key: &SignaturePublicKey,
) -> Result<Vec<u8>, X509Error> {
    v.verify(&chain(certs), key, NOW).map(|id| id.identity)
}

#[test]
fn a_chain_through_an_intermediate_to_the_root_is_accepted() {
    let w = World::new();
    let alice = w.alice();
    let v = w.trusting_root();
    let id = v
        .verify(
            &chain(&[&alice, &w.intermediate.der]),
            &w.member.public,
            NOW,
        )
        .unwrap();
    assert_eq!(id.identity, b"alice");
    assert_eq!(id.end_entity, alice);
    assert_eq!(id.chain_len, 2);
    let root = <x509_cert::Certificate as x509_cert::der::Decode>::from_der(&w.root.der).unwrap();
    let subject = x509_cert::der::Encode::to_der(root.tbs_certificate().subject()).unwrap();
    assert_eq!(id.anchor_subject, subject);
    // The root may be sent too.
    assert_eq!(
        verify(
            &v,
            &[&alice, &w.intermediate.der, &w.root.der],
            &w.member.public
        )
        .unwrap(),
        b"alice"
    );
    // And through the CredentialValidator interface, at the Env's time.
    let cred = credential(&[&alice, &w.intermediate.der]);
    assert!(v.validate_at(&cred, &w.member.public, Some(NOW)).is_ok());
}

#[test]
fn ecdsa_p384_roots_and_direct_issuance_are_accepted() {
    let w = World::new();
    let root = Ca::root("P-384 Root", &PKCS_ECDSA_P384_SHA384);
    let cert = root.sign(&member_params("bob", (2025, 2027)), &w.key());
    let v = w.validator(vec![w.root.anchor(), root.anchor()]);
    assert_eq!(verify(&v, &[&cert], &w.member.public).unwrap(), b"bob");
}

#[test]
fn the_identity_comes_from_the_configured_source() {
    let w = World::new();
    let alice = w.alice();
    let certs: &[&[u8]] = &[&alice, &w.intermediate.der];
    let email = w.trusting_root().identity_from(IdentitySource::SanEmail);
    assert_eq!(
        verify(&email, certs, &w.member.public).unwrap(),
        b"alice@example.com"
    );
    let dns = w.trusting_root().identity_from(IdentitySource::SanDns);
    assert_eq!(
        verify(&dns, certs, &w.member.public),
        Err(X509Error::NoIdentity("subjectAltName dNSName"))
    );
}

#[test]
fn an_unknown_root_is_rejected() {
    let w = World::new();
    let alice = w.alice();
    let other = Ca::root("Canopy Test Root", &PKCS_ED25519);
    // No anchor at all, an anchor of another name, and one of the same name with another key.
    for anchors in [
        vec![],
        vec![Ca::root("Someone Else", &PKCS_ED25519).anchor()],
        vec![other.anchor()],
    ] {
        let v = w.validator(anchors);
        let got = verify(&v, &[&alice, &w.intermediate.der], &w.member.public);
        assert!(
            matches!(
                got,
                Err(X509Error::UnknownRoot | X509Error::BadSignature { index: 1 })
            ),
            "{got:?}"
        );
    }
    let v = w.validator(vec![Ca::root("Someone Else", &PKCS_ED25519).anchor()]);
    assert_eq!(
        verify(&v, &[&alice, &w.intermediate.der], &w.member.public),
        Err(X509Error::UnknownRoot)
    );
}

#[test]
fn expired_and_not_yet_valid_certificates_are_rejected() {
    let w = World::new();
    let v = w.trusting_root();
    let expired = w
        .intermediate
        .sign(&member_params("alice", (2024, 2026)), &w.key());
    assert!(matches!(
        verify(&v, &[&expired, &w.intermediate.der], &w.member.public),
        Err(X509Error::Expired {
            index: 0,
            now: NOW,
            ..
        })
    ));
    let early = w
        .intermediate
        .sign(&member_params("alice", (2027, 2030)), &w.key());
    assert!(matches!(
        verify(&v, &[&early, &w.intermediate.der], &w.member.public),
        Err(X509Error::NotYetValid { index: 0, .. })
    ));
    // An expired intermediate.
    let old = w.root.issue_ca(
        params(
            "Old Intermediate",
            Some(BasicConstraints::Unconstrained),
            (2020, 2025),
        ),
        &PKCS_ED25519,
    );
    let cert = old.sign(&member_params("alice", (2025, 2027)), &w.key());
    assert!(matches!(
        verify(&v, &[&cert, &old.der], &w.member.public),
        Err(X509Error::Expired { index: 1, .. })
    ));
    // Without a clock nothing can be checked.
    let cred = credential(&[&w.alice(), &w.intermediate.der]);
    let err = v.validate_at(&cred, &w.member.public, None).unwrap_err();
    assert!(err.reason().contains("no current time"), "{err}");
}

#[test]
fn a_certificate_for_another_key_is_rejected() {
    let w = World::new();
    let alice = w.alice();
    let other = w
        .provider
        .suite(SUITE)
        .unwrap()
        .signature_generate_key_pair()
        .unwrap();
    let v = w.trusting_root();
    assert_eq!(
        verify(&v, &[&alice, &w.intermediate.der], &other.public),
        Err(X509Error::KeyMismatch)
    );
    let err = v
        .validate_at(
            &credential(&[&alice, &w.intermediate.der]),
            &other.public,
            Some(NOW),
        )
        .unwrap_err();
    assert!(err.reason().contains("signature key"), "{err}");
}

#[test]
fn bad_signatures_are_rejected() {
    let w = World::new();
    let v = w.trusting_root();
    // The real intermediate's link to the root is verified (and remembered) first: what is
    // remembered is that certificate under that key, nothing a forgery can reuse.
    assert!(verify(&v, &[&w.alice(), &w.intermediate.der], &w.member.public).is_ok());
    // The leaf signed by an impostor with the intermediate's name.
    let impostor = w
        .root
        .issue_ca(w.intermediate.params.clone(), &PKCS_ECDSA_P256_SHA256);
    let forged = impostor.sign(&member_params("alice", (2025, 2027)), &w.key());
    assert_eq!(
        verify(&v, &[&forged, &w.intermediate.der], &w.member.public),
        Err(X509Error::BadSignature { index: 0 })
    );
    // An intermediate signed by a key that is not the root's, under the root's name.
    let fake_root = Ca::root("Canopy Test Root", &PKCS_ED25519);
    let fake_intermediate = fake_root.issue_ca(w.intermediate.params.clone(), &PKCS_ED25519);
    let cert = fake_intermediate.sign(&member_params("alice", (2025, 2027)), &w.key());
    assert_eq!(
        verify(&v, &[&cert, &fake_intermediate.der], &w.member.public),
        Err(X509Error::BadSignature { index: 1 })
    );
    // One flipped bit inside the signed part of the leaf.
    let mut tampered = w.alice();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    let got = verify(&v, &[&tampered, &w.intermediate.der], &w.member.public);
    assert!(
        matches!(
            got,
            Err(X509Error::BadSignature { index: 0 }
                | X509Error::Malformed { index: 0, .. }
                | X509Error::KeyMismatch
                | X509Error::NotTheIssuer { .. }
                | X509Error::NoIdentity(_))
        ),
        "{got:?}"
    );
    assert!(got.is_err());
}

#[test]
fn issuers_must_be_cas_within_their_path_length() {
    let w = World::new();
    let v = w.trusting_root();
    // An end-entity certificate used as an issuer.
    let ee = w
        .root
        .issue_ca(params("Not A CA", None, (2021, 2035)), &PKCS_ED25519);
    let cert = ee.sign(&member_params("alice", (2025, 2027)), &w.key());
    assert!(matches!(
        verify(&v, &[&cert, &ee.der], &w.member.public),
        Err(X509Error::NotACa { index: 1, .. })
    ));
    // The intermediate allows no intermediate under it (pathLenConstraint 0).
    let sub = w.intermediate.issue_ca(
        params("Sub", Some(BasicConstraints::Unconstrained), (2021, 2035)),
        &PKCS_ED25519,
    );
    let cert = sub.sign(&member_params("alice", (2025, 2027)), &w.key());
    assert_eq!(
        verify(
            &v,
            &[&cert, &sub.der, &w.intermediate.der],
            &w.member.public
        ),
        Err(X509Error::NotACa {
            index: 2,
            reason: "pathLenConstraint exceeded"
        })
    );
    // The chain must be in order: each certificate the issuer of the one before.
    let alice = w.alice();
    assert_eq!(
        verify(
            &v,
            &[&alice, &w.root.der, &w.intermediate.der],
            &w.member.public
        ),
        Err(X509Error::NotTheIssuer { index: 1 })
    );
}

#[test]
fn unprocessed_critical_extensions_and_oversized_chains_are_rejected() {
    let w = World::new();
    let v = w.trusting_root();
    let mut p = member_params("alice", (2025, 2027));
    let mut ext = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
    ext.set_criticality(true);
    p.custom_extensions = vec![ext];
    let cert = w.intermediate.sign(&p, &w.key());
    assert_eq!(
        verify(&v, &[&cert, &w.intermediate.der], &w.member.public),
        Err(X509Error::CriticalExtension {
            index: 0,
            oid: "1.3.6.1.4.1.99999.1".into()
        })
    );
    let alice = w.alice();
    let many: Vec<&[u8]> = std::iter::repeat_n(&alice[..], 9).collect();
    assert_eq!(
        verify(&v, &many, &w.member.public),
        Err(X509Error::TooManyCertificates { count: 9, max: 8 })
    );
    let small = w.trusting_root().limits(ChainLimits {
        max_certificates: 8,
        max_certificate_len: 100,
    });
    assert!(matches!(
        verify(&small, &[&alice, &w.intermediate.der], &w.member.public),
        Err(X509Error::CertificateTooLarge {
            index: 0,
            max: 100,
            ..
        })
    ));
    assert_eq!(
        verify(&v, &[], &w.member.public),
        Err(X509Error::EmptyChain)
    );
    assert!(matches!(
        verify(&v, &[b"not a certificate"], &w.member.public),
        Err(X509Error::Malformed { index: 0, .. })
    ));
}

#[test]
fn the_application_has_the_last_word_and_successors_keep_the_identity() {
    let w = World::new();
    let v = w
        .trusting_root()
        .with_identity_check(|id: &canopy_x509::VerifiedIdentity| {
            if id.identity == b"mallory" {
                Err(CredentialRejected::new("mallory is banned"))
            } else {
                Ok(())
            }
        });
    let alice = credential(&[&w.alice(), &w.intermediate.der]);
    assert!(v.validate_at(&alice, &w.member.public, Some(NOW)).is_ok());
    let mallory_cert = w
        .intermediate
        .sign(&member_params("mallory", (2025, 2027)), &w.key());
    let mallory = credential(&[&mallory_cert, &w.intermediate.der]);
    let err = v
        .validate_at(&mallory, &w.member.public, Some(NOW))
        .unwrap_err();
    assert_eq!(err.reason(), "mallory is banned");

    // A renewed certificate for alice is a valid successor; mallory's is not.
    let renewed_cert = w
        .intermediate
        .sign(&member_params("alice", (2026, 2028)), &w.key());
    let renewed = credential(&[&renewed_cert, &w.intermediate.der]);
    assert!(v.valid_successor(&alice, &renewed));
    assert!(!v.valid_successor(&alice, &mallory));
    assert_eq!(v.client_identity(&renewed), b"alice");
    // Basic credentials only when asked for.
    let basic = Credential::Basic {
        identity: VarBytes(b"alice".to_vec()),
    };
    assert!(v.validate_at(&basic, &w.member.public, Some(NOW)).is_err());
    let both = w.trusting_root().also_accept_basic();
    assert!(
        both.validate_at(&basic, &w.member.public, Some(NOW))
            .is_ok()
    );
    assert!(!both.valid_successor(&basic, &alice));
}

/// Writes the seed of the `validate_x509` fuzz target: a leaf (for the key that follows), its
/// intermediate and the root, valid 2020-2099, as the credential body, then the key:
/// `cargo test -p canopy-x509 --test chains -- --ignored write_fuzz_seed`.
#[test]
#[ignore = "writes crates/canopy-x509/testdata/fuzz_seed.bin: run by hand to refresh it"]
fn write_fuzz_seed() {
    let w = World::new();
    let mut root_params = params(
        "Fuzz Root",
        Some(BasicConstraints::Unconstrained),
        (2020, 2099),
    );
    root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let der = root_params.self_signed(&key).unwrap().der().to_vec();
    let root = Ca {
        params: root_params,
        key,
        der,
    };
    let intermediate = root.issue_ca(
        params(
            "Fuzz Intermediate",
            Some(BasicConstraints::Constrained(0)),
            (2020, 2099),
        ),
        &PKCS_ECDSA_P256_SHA256,
    );
    let leaf = intermediate.sign(&member_params("fuzz", (2020, 2099)), &w.key());
    let body = VarVec(chain(&[&leaf, &intermediate.der, &root.der]));
    let mut out = canopy_core::advanced::codec::encode(&body).unwrap();
    out.extend_from_slice(w.member.public.as_bytes());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fuzz_seed.bin");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, out).unwrap();
}

/// The fuzz seed is an accepted chain when its root is trusted, so the fuzzer starts from the
/// acceptance path.
#[test]
fn the_fuzz_seed_is_an_accepted_chain() {
    use canopy_core::advanced::codec::VarVec;
    use tls_codec::DeserializeBytes;
    let seed = include_bytes!("../testdata/fuzz_seed.bin");
    let (chain, key) = VarVec::<Certificate>::tls_deserialize_bytes(seed).unwrap();
    let certs = chain.as_slice();
    assert_eq!(certs.len(), 3);
    let root = TrustAnchor::from_der(&certs[2].cert_data.0).unwrap();
    let v = X509Validator::new(Arc::new(RustCryptoProvider::new()), vec![root]);
    let key = SignaturePublicKey::new(key.to_vec());
    assert_eq!(v.verify(certs, &key, NOW).unwrap().identity, b"fuzz");
}
