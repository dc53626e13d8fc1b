//! X.509 members in a Canopy group: the validator sits in the `Env`, so every credential
//! that enters the group (KeyPackages, the tree a joiner receives) is checked at the Env's
//! time.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use canopy_core::advanced::codec::{VarBytes, VarVec};
use canopy_core::group::{CommitOptions, CreateParams, Env, Group, JoinParams, ProcessedMessage};
use canopy_core::key_package::{KeyPackageParams, LeafNodeParams, create_key_package};
use canopy_core::wire::{Certificate, Credential, Lifetime, MlsMessage};
use canopy_crypto::{CryptoProvider, SignatureKeyPair};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_x509::{TrustAnchor, X509Validator};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ED25519, date_time_ymd,
};

mod support;
use support::{MemberKey, NOW, SUITE};

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    der: Vec<u8>,
}

impl Ca {
    fn new() -> Self {
        let key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "Group Test Root");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2040, 1, 1);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Self { params, key, der }
    }

    /// An X.509 credential for `name` and `key`, valid from `from` to `to` (year, month).
    fn credential(
        &self,
        name: &str,
        key: &SignatureKeyPair,
        from: (i32, u8),
        to: (i32, u8),
    ) -> Credential {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.not_before = date_time_ymd(from.0, from.1, 1);
        p.not_after = date_time_ymd(to.0, to.1, 1);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let subject = MemberKey(key.public.as_bytes().to_vec());
        let der = p.signed_by(&subject, &issuer).unwrap().der().to_vec();
        Credential::X509 {
            certificates: VarVec(vec![Certificate {
                cert_data: VarBytes(der),
            }]),
        }
    }
}

#[test]
fn x509_members_create_add_join_and_talk_and_an_expired_certificate_is_refused() {
    let provider = Arc::new(RustCryptoProvider::new());
    let ca = Ca::new();
    let validator = X509Validator::new(
        provider.clone(),
        vec![TrustAnchor::from_der(&ca.der).unwrap()],
    );
    let env = Env::new(provider.as_ref(), &validator).at(NOW);
    let ops = provider.suite(SUITE).unwrap();
    let lifetime = Lifetime {
        not_before: 0,
        not_after: u64::MAX,
    };

    let alice_key = ops.signature_generate_key_pair().unwrap();
    let alice_leaf = LeafNodeParams::new(
        ca.credential("alice", &alice_key, (2025, 1), (2026, 7)),
        SUITE,
    );
    let mut alice = Group::create(
        &env,
        CreateParams::new(
            SUITE,
            b"x509 group".to_vec(),
            &alice_leaf,
            Arc::new(alice_key),
        ),
    )
    .unwrap();

    let bob_key = ops.signature_generate_key_pair().unwrap();
    let bob_leaf = LeafNodeParams::new(ca.credential("bob", &bob_key, (2025, 1), (2027, 1)), SUITE);
    let bob_key = Arc::new(bob_key);
    let bob_kp = create_key_package(
        provider.as_ref(),
        SUITE,
        &KeyPackageParams::new(bob_leaf, lifetime),
        &bob_key,
    )
    .unwrap();

    // Carol's certificate expired before the Env's time: her KeyPackage is refused in the add.
    let carol_key = ops.signature_generate_key_pair().unwrap();
    let carol_leaf = LeafNodeParams::new(
        ca.credential("carol", &carol_key, (2024, 1), (2026, 1)),
        SUITE,
    );
    let carol_kp = create_key_package(
        provider.as_ref(),
        SUITE,
        &KeyPackageParams::new(carol_leaf, lifetime),
        &Arc::new(carol_key),
    )
    .unwrap();
    let before = alice.to_bytes().unwrap();
    let err = alice
        .commit(
            &env,
            CommitOptions {
                add: vec![carol_kp.key_package],
                ..CommitOptions::default()
            },
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("expired"), "{text}");
    assert_eq!(
        alice.to_bytes().unwrap(),
        before,
        "a refused add changes nothing"
    );

    // Bob's is fine; he joins, and the tree he receives (alice's X.509 leaf) is checked too.
    let out = alice
        .commit(
            &env,
            CommitOptions {
                add: vec![bob_kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
    else {
        panic!("not a Welcome");
    };
    let mut bob = Group::join(&env, JoinParams::new(&welcome, &bob_kp, bob_key.clone())).unwrap();
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    let hello = alice.encrypt_application(&env, b"hello bob", b"").unwrap();
    match bob.process_message(&env, &hello).unwrap() {
        ProcessedMessage::Application { data, .. } => assert_eq!(data, b"hello bob"),
        other => panic!("unexpected {other:?}"),
    }

    // Joining the same Welcome on 2026-07-15, when alice's certificate (until 2026-07-01)
    // has expired but her leaf's lifetime has not, is refused.
    let later = Env::new(provider.as_ref(), &validator).at(NOW + 44 * 86_400);
    let err = Group::join(&later, JoinParams::new(&welcome, &bob_kp, bob_key)).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
}
