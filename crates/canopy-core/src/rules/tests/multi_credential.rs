//! Multi-credentials (draft-ietf-mls-extensions §Multi-Credentials, feature `extensions`):
//! groups whose members present `multi` and `weak-multi` credentials with bindings of the
//! group's suite and of another, the codec's bounds, and a negative test for each MC- rule.

use std::sync::Arc;

use canopy_crypto::{CipherSuite, CryptoProvider, SignatureKeyPair, Signer};
use tls_codec::{DeserializeBytes, Serialize};

use super::harness::{Harness, welcome};
use crate::codec::{CodeKind, CodecError, Limit, VarBytes, VarVec};
use crate::extensions::CredentialBinding;
use crate::group::{CommitOptions, CreateParams, Group, GroupConfig, ProcessedMessage};
use crate::key_package::{
    GroupRequirements, KeyPackageBundle, KeyPackageParams, LeafNodeParams, LifetimePolicy,
    create_key_package, validate_key_package,
};
use crate::rules::{Rule, assert_rule};
use crate::wire::{Credential, CredentialType, Lifetime};

const P256: CipherSuite = CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;

fn basic(name: &str) -> Credential {
    Credential::Basic {
        identity: VarBytes(name.as_bytes().to_vec()),
    }
}

/// A binding of the basic credential `name` on `suite` to the leaf key `leaf_key`.
fn binding(
    h: &Harness,
    suite: CipherSuite,
    name: &str,
    leaf_key: &SignatureKeyPair,
) -> CredentialBinding {
    let ops = h.provider.suite(suite).unwrap();
    let key = ops.signature_generate_key_pair().unwrap();
    CredentialBinding::sign(
        ops,
        &key,
        basic(name),
        key.public.clone(),
        leaf_key.public_key(),
    )
    .unwrap()
}

/// Leaf parameters listing basic, multi and weak-multi credentials, and `suites`.
fn capable(credential: Credential, h: &Harness, suites: &[CipherSuite]) -> LeafNodeParams {
    let mut params = LeafNodeParams::new(credential, h.suite);
    params.capabilities.credentials = VarVec(vec![
        CredentialType::BASIC,
        CredentialType::MULTI,
        CredentialType::WEAK_MULTI,
    ]);
    params.capabilities.cipher_suites = suites.to_vec();
    params
}

fn key_package(h: &Harness, leaf: LeafNodeParams, signer: &SignatureKeyPair) -> KeyPackageBundle {
    let params = KeyPackageParams::new(
        leaf,
        Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        },
    );
    create_key_package(&h.provider, h.suite, &params, signer).unwrap()
}

/// A KeyPackage whose credential is built by `credential` from the leaf's signer.
fn multi_kp(
    h: &Harness,
    suites: &[CipherSuite],
    credential: impl FnOnce(&SignatureKeyPair) -> Credential,
) -> (KeyPackageBundle, SignatureKeyPair) {
    let signer = h.signer();
    let leaf = capable(credential(&signer), h, suites);
    (key_package(h, leaf, &signer), signer)
}

/// Bob's `multi` credential: basic "bob" on the group's suite and basic "bob@corp" on P-256.
fn strong(h: &Harness, signer: &SignatureKeyPair) -> Credential {
    Credential::Multi {
        bindings: VarVec(vec![
            binding(h, h.suite, "bob", signer),
            binding(h, P256, "bob@corp", signer),
        ]),
    }
}

/// Carol's `weak-multi` credential: basic "carol" on the group's suite and on P-256.
fn weak(h: &Harness, signer: &SignatureKeyPair) -> Credential {
    Credential::WeakMulti {
        bindings: VarVec(vec![
            binding(h, h.suite, "carol", signer),
            binding(h, P256, "carol@corp", signer),
        ]),
    }
}

/// Alice's group, her leaf listing `suites`.
fn alice(h: &Harness, suites: &[CipherSuite]) -> Group {
    Group::create(
        &h.env(),
        CreateParams::new(
            h.suite,
            b"multi".to_vec(),
            &capable(basic("alice"), h, suites),
            Arc::new(h.signer()),
        ),
    )
    .unwrap()
}

fn add(
    h: &Harness,
    group: &mut Group,
    kps: &[&KeyPackageBundle],
) -> Result<Vec<u8>, crate::group::GroupError> {
    let out = group.commit(
        &h.env(),
        CommitOptions {
            add: kps.iter().map(|b| b.key_package.clone()).collect(),
            ..CommitOptions::default()
        },
    )?;
    let _ = group.merge_pending_commit().unwrap();
    Ok(out.welcome.unwrap())
}

#[test]
fn members_with_multi_and_weak_multi_credentials_join_and_talk() {
    let h = Harness::default_suite(1);
    let both = [h.suite, P256];
    let mut alice = alice(&h, &both);
    let (bob_kp, bob_signer) = multi_kp(&h, &both, |s| strong(&h, s));
    let (carol_kp, carol_signer) = multi_kp(&h, &both, |s| weak(&h, s));
    let w = add(&h, &mut alice, &[&bob_kp, &carol_kp]).unwrap();
    // Each joiner validates the tree: the other's bindings, of both suites, verified.
    let mut bob = h
        .join(&welcome(&w), &bob_kp, bob_signer, GroupConfig::default())
        .unwrap();
    let mut carol = h
        .join(
            &welcome(&w),
            &carol_kp,
            carol_signer,
            GroupConfig::default(),
        )
        .unwrap();
    let message = carol.encrypt_application(&h.env(), b"hi", b"").unwrap();
    for g in [&mut alice, &mut bob] {
        match g.process_message(&h.env(), &message).unwrap() {
            ProcessedMessage::Application { data, .. } => assert_eq!(data, b"hi"),
            other => panic!("not application data: {other:?}"),
        }
    }
    let bob_credential = alice.member_credential(bob.own_leaf()).unwrap();
    assert_eq!(bob_credential.credential_type(), CredentialType::MULTI);
    assert_eq!(bob_credential.bindings().map(<[_]>::len), Some(2));
    // Bob commits an update of his leaf; the others accept it.
    let update = bob.commit(&h.env(), CommitOptions::default()).unwrap();
    let _ = bob.merge_pending_commit().unwrap();
    h.deliver(&mut alice, &update.commit);
    h.deliver(&mut carol, &update.commit);
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    assert_eq!(carol.epoch_authenticator(), bob.epoch_authenticator());
}

#[test]
fn a_weak_multi_binding_of_a_suite_not_run_here_is_skipped() {
    let h = Harness::default_suite(2);
    let other = CipherSuite(0x0A0A);
    let mut alice = alice(&h, &[h.suite, other]);
    let (carol_kp, _) = multi_kp(&h, &[h.suite, other], |s| {
        let mut unknown = binding(&h, h.suite, "carol@other", s);
        unknown.cipher_suite = other;
        Credential::WeakMulti {
            bindings: VarVec(vec![binding(&h, h.suite, "carol", s), unknown]),
        }
    });
    add(&h, &mut alice, &[&carol_kp]).unwrap();
    assert_eq!(alice.member_count(), 2);
}

#[test]
fn multi_credentials_round_trip_and_their_bounds_hold() {
    let h = Harness::default_suite(3);
    let signer = h.signer();
    let credential = strong(&h, &signer);
    let bytes = credential.tls_serialize_detached().unwrap();
    let (back, rest) = Credential::tls_deserialize_bytes(&bytes).unwrap();
    assert!(rest.is_empty());
    assert_eq!(back, credential);
    // A multi-credential inside a binding is refused while decoding.
    let mut nested = binding(&h, h.suite, "x", &signer);
    nested.credential = credential;
    let nested = Credential::Multi {
        bindings: VarVec(vec![nested]),
    };
    let bytes = nested.tls_serialize_detached().unwrap();
    let e = Credential::tls_deserialize_bytes(&bytes).unwrap_err();
    assert_eq!(
        CodecError::from(e),
        CodecError::InvalidCode {
            kind: CodeKind::CredentialType,
            value: 3
        }
    );
    // At most 16 bindings.
    let many = Credential::WeakMulti {
        bindings: VarVec(vec![binding(&h, h.suite, "x", &signer); 17]),
    };
    let bytes = many.tls_serialize_detached().unwrap();
    let e = Credential::tls_deserialize_bytes(&bytes).unwrap_err();
    assert_eq!(
        CodecError::from(e),
        CodecError::LimitExceeded {
            limit: Limit::CredentialBindings,
            value: 17,
            max: 16
        }
    );
}

/// `kp` validated on its own, as the group's suite would (bindings of other suites verified
/// with the provider).
fn validate(h: &Harness, kp: &KeyPackageBundle) -> Result<(), crate::key_package::KeyPackageError> {
    validate_key_package(
        h.ops(),
        kp.key_package.clone(),
        &GroupRequirements::mls10().with_provider(&h.provider),
        &LifetimePolicy::at(super::harness::NOW),
        &h.validator,
    )
    .map(|_| ())
}

#[test]
fn mc01_a_multi_credential_without_bindings_is_refused() {
    let h = Harness::default_suite(4);
    let (kp, _) = multi_kp(&h, &[h.suite], |_| Credential::Multi {
        bindings: VarVec(Vec::new()),
    });
    assert_rule(validate(&h, &kp), Rule::MultiCredentialEmpty);
}

#[test]
fn mc02_every_member_supports_every_binding_of_a_multi_credential() {
    let h = Harness::default_suite(5);
    // Alice does not list P-256: Bob's P-256 binding is not supported by every member.
    let mut group = alice(&h, &[h.suite]);
    let (bob_kp, _) = multi_kp(&h, &[h.suite, P256], |s| strong(&h, s));
    let before = group.to_bytes().unwrap();
    assert_rule(
        add(&h, &mut group, &[&bob_kp]),
        Rule::MultiCredentialSupported,
    );
    assert_eq!(group.to_bytes().unwrap().as_bytes(), before.as_bytes());
    // And the other way: with Bob in the group, Dave must support P-256 too.
    let mut group = alice(&h, &[h.suite, P256]);
    add(&h, &mut group, &[&bob_kp]).unwrap();
    let dave_signer = h.signer();
    let dave = key_package(&h, capable(basic("dave"), &h, &[h.suite]), &dave_signer);
    assert_rule(
        add(&h, &mut group, &[&dave]),
        Rule::MultiCredentialSupported,
    );
}

#[test]
fn mc03_every_member_supports_one_binding_of_a_weak_multi_credential() {
    let h = Harness::default_suite(6);
    // Carol's only binding is on P-256, which Alice does not list.
    let mut group = alice(&h, &[h.suite]);
    let (carol_kp, _) = multi_kp(&h, &[h.suite, P256], |s| Credential::WeakMulti {
        bindings: VarVec(vec![binding(&h, P256, "carol@corp", s)]),
    });
    assert_rule(
        add(&h, &mut group, &[&carol_kp]),
        Rule::WeakMultiCredentialSupported,
    );
    // A member without the multi credential types at all: LN-04.
    let mut plain = Group::create(
        &h.env(),
        CreateParams::new(
            h.suite,
            b"plain".to_vec(),
            &h.leaf("alice"),
            Arc::new(h.signer()),
        ),
    )
    .unwrap();
    let (weak_kp, _) = multi_kp(&h, &[h.suite, P256], |s| weak(&h, s));
    assert_rule(
        add(&h, &mut plain, &[&weak_kp]),
        Rule::LeafCredentialTypeSupported,
    );
}

#[test]
fn mc04_each_binding_credential_is_accepted_by_the_authentication_service() {
    let h = Harness::default_suite(7);
    let (kp, _) = multi_kp(&h, &[h.suite], |s| {
        let ops = h.ops();
        let key = ops.signature_generate_key_pair().unwrap();
        // The harness's validator refuses x509 credentials.
        let x509 = Credential::X509 {
            certificates: VarVec(vec![crate::wire::Certificate {
                cert_data: VarBytes(vec![0x30, 0x00]),
            }]),
        };
        Credential::Multi {
            bindings: VarVec(vec![
                binding(&h, h.suite, "bob", s),
                CredentialBinding::sign(ops, &key, x509, key.public.clone(), s.public_key())
                    .unwrap(),
            ]),
        }
    });
    assert_rule(validate(&h, &kp), Rule::MultiCredentialBindingValid);
    // A multi binding of a suite the provider does not run cannot be verified.
    let (kp, _) = multi_kp(&h, &[h.suite, CipherSuite(0x0A0A)], |s| {
        let mut unknown = binding(&h, h.suite, "bob@other", s);
        unknown.cipher_suite = CipherSuite(0x0A0A);
        Credential::Multi {
            bindings: VarVec(vec![unknown]),
        }
    });
    assert_rule(validate(&h, &kp), Rule::MultiCredentialBindingValid);
}

#[test]
fn mc05_each_binding_signature_covers_the_leaf_signature_key() {
    let h = Harness::default_suite(8);
    // Signed for another leaf's key.
    let other = h.signer();
    let (kp, _) = multi_kp(&h, &[h.suite, P256], |_| Credential::Multi {
        bindings: VarVec(vec![binding(&h, P256, "bob", &other)]),
    });
    assert_rule(validate(&h, &kp), Rule::MultiCredentialSignature);
    // The control: signed for this leaf's key.
    let (kp, _) = multi_kp(&h, &[h.suite, P256], |s| Credential::Multi {
        bindings: VarVec(vec![binding(&h, P256, "bob", s)]),
    });
    validate(&h, &kp).unwrap();
    // A weak-multi binding this client runs must verify too.
    let (kp, _) = multi_kp(&h, &[h.suite], |s| {
        let mut bad = binding(&h, h.suite, "carol", s);
        if let Some(b) = bad.signature.0.first_mut() {
            *b ^= 1;
        }
        Credential::WeakMulti {
            bindings: VarVec(vec![binding(&h, h.suite, "carol", s), bad]),
        }
    });
    assert_rule(validate(&h, &kp), Rule::MultiCredentialSignature);
}

#[test]
fn an_external_sender_with_a_multi_credential_is_checked_binding_by_binding() {
    use crate::wire::{ExtensionView, Extensions, ExternalSender, ExternalSenders};
    let h = Harness::default_suite(9);
    let create = |credential: Credential, key: &SignatureKeyPair| {
        let senders = ExternalSenders {
            senders: VarVec(vec![ExternalSender {
                signature_key: key.public.clone(),
                credential,
            }]),
        };
        Group::create(
            &h.env(),
            CreateParams::new(
                h.suite,
                b"ds".to_vec(),
                &capable(basic("alice"), &h, &[h.suite, P256]),
                Arc::new(h.signer()),
            )
            .extensions(Extensions::new(vec![senders.to_extension().unwrap()]).unwrap()),
        )
    };
    let ds = h.signer();
    assert!(create(strong(&h, &ds), &ds).is_ok());
    // Bindings made for another key.
    let other = h.signer();
    assert_rule(
        create(strong(&h, &other), &ds),
        Rule::MultiCredentialSignature,
    );
}
