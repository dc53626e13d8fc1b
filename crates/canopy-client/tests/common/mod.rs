//! Helpers shared by the client's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use canopy_client::{Client, FixedClock};
use canopy_core::advanced::codec::VarBytes;
use canopy_core::wire::Credential;
use canopy_crypto::CipherSuite;
use canopy_crypto_rustcrypto::DeterministicRandom;
use canopy_store::Store;

pub(crate) const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
pub(crate) const NOW: u64 = 1_750_000_000;

pub(crate) fn basic(name: &str) -> Credential {
    Credential::Basic {
        identity: VarBytes(name.as_bytes().to_vec()),
    }
}

/// A client over `store` with seeded randomness and a fixed clock.
pub(crate) fn client<S: Store>(store: S, seed: u64, clock: &FixedClock) -> Client<S> {
    Client::builder(store)
        .crypto(Arc::new(DeterministicRandom::provider(seed)))
        .clock(Arc::new(clock.clone()))
        .open()
        .unwrap()
}

/// A client over `store` with identity `name`.
pub(crate) fn member<S: Store>(store: S, seed: u64, clock: &FixedClock, name: &str) -> Client<S> {
    let mut c = client(store, seed, clock);
    c.create_identity(name, basic(name), SUITE).unwrap();
    c
}

/// Alice creates a group and adds Bob; both are members at epoch 1. Returns the group id.
pub(crate) fn pair<A: Store, B: Store>(alice: &mut Client<A>, bob: &mut Client<B>) -> Vec<u8> {
    let group = alice.create_group("alice", SUITE, None).unwrap();
    let kp = bob
        .generate_key_packages("bob", SUITE, 1)
        .unwrap()
        .remove(0);
    let out = alice.add_members(&group, &[&kp]).unwrap();
    alice.merge_pending_commit(&group).unwrap();
    bob.process_incoming(&out.welcome.unwrap(), canopy_client::no_app_writes)
        .unwrap();
    group
}

/// `to` decrypts `ct` and returns the data.
pub(crate) fn read<S: Store>(to: &mut Client<S>, ct: &[u8]) -> Vec<u8> {
    to.decrypt(ct, |_, _| Ok(())).unwrap().0.data
}

/// The group's records in memory are exactly the store's.
pub(crate) fn assert_mirrors<S: Store>(client: &mut Client<S>, group_id: &[u8]) {
    let memory: Vec<_> = client
        .group(group_id)
        .unwrap()
        .records()
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.as_bytes().to_vec()))
        .collect();
    let disk: Vec<_> = client
        .store()
        .load_group(group_id)
        .unwrap()
        .unwrap()
        .records
        .into_iter()
        .map(|(k, v)| (k, v.as_bytes().to_vec()))
        .collect();
    let keys =
        |r: &[(canopy_store::RecordKey, Vec<u8>)]| r.iter().map(|(k, _)| *k).collect::<Vec<_>>();
    assert_eq!(keys(&memory), keys(&disk), "record keys differ");
    assert!(memory == disk, "record values differ");
}
