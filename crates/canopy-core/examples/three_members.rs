//! A three-member group from creation to messages to removal, with the default crypto
//! provider: `cargo run -p canopy-core --example three_members`.
//!
//! Every message travels as bytes, as it would through a Delivery Service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use canopy_core::group::CreateParams;
use canopy_core::group::JoinParams;
use std::sync::Arc;

use canopy_core::advanced::codec::VarBytes;
use canopy_core::group::{CommitOptions, Env, Group, Merged, ProcessedMessage};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{Credential, Lifetime, MlsMessage};
use canopy_crypto::{CipherSuite, CryptoProvider, SignatureKeyPair};
use canopy_crypto_rustcrypto::RustCryptoProvider;

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

fn identity(name: &str) -> LeafNodeParams {
    LeafNodeParams::new(
        Credential::Basic {
            identity: VarBytes(name.as_bytes().to_vec()),
        },
        SUITE,
    )
}

/// A client publishes a KeyPackage and keeps its private keys.
fn key_package(provider: &RustCryptoProvider, name: &str) -> (KeyPackageBundle, SignatureKeyPair) {
    let signer = provider
        .suite(SUITE)
        .unwrap()
        .signature_generate_key_pair()
        .unwrap();
    let params = KeyPackageParams::new(
        identity(name),
        Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        },
    );
    let bundle = create_key_package(provider, SUITE, &params, &signer).unwrap();
    (bundle, signer)
}

fn main() {
    let provider = RustCryptoProvider::new();
    let credentials = BasicCredentialValidator::new();
    // The current time; a real application reads its clock (canopy-core never does).
    let env = Env::new(&provider, &credentials).at(1_700_000_000);

    // Alice creates the group.
    let alice_signer = provider
        .suite(SUITE)
        .unwrap()
        .signature_generate_key_pair()
        .unwrap();
    let mut alice = Group::create(
        &env,
        CreateParams::new(
            SUITE,
            b"three friends".to_vec(),
            &identity("alice"),
            Arc::new(alice_signer),
        ),
    )
    .unwrap();

    // Bob and Carol publish KeyPackages; Alice adds both in one commit.
    let (bob_kp, bob_signer) = key_package(&provider, "bob");
    let (carol_kp, carol_signer) = key_package(&provider, "carol");
    let out = alice
        .commit(
            &env,
            CommitOptions {
                add: vec![bob_kp.key_package.clone(), carol_kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    // The Delivery Service accepted the commit: Alice merges it.
    let _ = alice.merge_pending_commit().unwrap();

    // Bob and Carol join from the Welcome.
    let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
    else {
        panic!("not a Welcome");
    };
    let join = |bundle: &KeyPackageBundle, signer: SignatureKeyPair| {
        Group::join(&env, JoinParams::new(&welcome, bundle, Arc::new(signer))).unwrap()
    };
    let mut bob = join(&bob_kp, bob_signer);
    let mut carol = join(&carol_kp, carol_signer);
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    assert_eq!(alice.epoch_authenticator(), carol.epoch_authenticator());
    println!("epoch {}: {} members", alice.epoch(), alice.member_count());

    // Messages.
    let hello = bob.encrypt_application(&env, b"hello, group", b"").unwrap();
    for (name, group) in [("alice", &mut alice), ("carol", &mut carol)] {
        if let ProcessedMessage::Application { data, .. } =
            group.process_message(&env, &hello).unwrap()
        {
            println!("{name} read: {}", String::from_utf8_lossy(&data));
        }
    }

    // Alice removes Carol; Bob and Carol process the commit.
    let out = alice
        .commit(
            &env,
            CommitOptions {
                remove: vec![carol.own_leaf()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    for (name, group) in [("bob", &mut bob), ("carol", &mut carol)] {
        let ProcessedMessage::Commit(staged) = group.process_message(&env, &out.commit).unwrap()
        else {
            panic!("not a commit");
        };
        println!("{name} sees removed leaves {:?}", staged.summary().removed);
        match group.merge_staged_commit(*staged).unwrap() {
            Merged::Member { epoch } => println!("{name} is in epoch {epoch}"),
            Merged::Removed => println!("{name} was removed"),
        }
    }
    // Alice's own commit comes back from the Delivery Service: she merges it.
    assert!(matches!(
        alice.process_message(&env, &out.commit).unwrap(),
        ProcessedMessage::OwnCommit
    ));
    let _ = alice.merge_pending_commit().unwrap();
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());

    // Carol can no longer read the group.
    let secret = alice.encrypt_application(&env, b"just us", b"").unwrap();
    assert!(carol.process_message(&env, &secret).is_err());
    println!(
        "epoch {}: {} members; carol cannot read new messages",
        alice.epoch(),
        alice.member_count()
    );
}
