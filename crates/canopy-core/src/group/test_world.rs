//! The test harness of the group engine's unit tests: a provider, a credential validator and
//! shortcuts for members, KeyPackages and adds.

use super::CreateParams;
use super::JoinParams;
use std::sync::Arc;

use canopy_crypto::{CipherSuite, CryptoProvider, SignatureKeyPair};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use super::{CommitOptions, Env, Group, GroupConfig, Merged, ProcessedMessage};
use crate::codec::VarBytes;
use crate::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use crate::wire::{self, Credential, Lifetime, MlsMessage};

pub(crate) const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

/// The time of every test group (2023-11-14), inside every test KeyPackage's lifetime.
pub(crate) const NOW: u64 = 1_700_000_000;

/// Commit options for an update: a commit with a path even when none is required.
pub(crate) fn update_options() -> CommitOptions {
    CommitOptions {
        force_path: true,
        ..CommitOptions::default()
    }
}

/// A group configuration with proposals and commits sent as PrivateMessage.
pub(crate) fn private_handshake() -> GroupConfig {
    GroupConfig {
        handshake: super::HandshakeFormat::Private,
        ..GroupConfig::default()
    }
}

/// A Remove proposal for `leaf`.
pub(crate) fn remove_proposal(leaf: crate::tree::math::LeafIndex) -> wire::Proposal {
    wire::Proposal::Remove(wire::Remove {
        removed: leaf.value(),
    })
}

/// Seeded providers for the tests (the same every run).
pub(crate) struct SeededRandom;

impl SeededRandom {
    /// A provider whose every random byte comes from `seed`.
    pub(crate) fn provider(seed: u64) -> RustCryptoProvider {
        canopy_crypto_rustcrypto::DeterministicRandom::provider(seed)
    }
}

pub(crate) struct World {
    pub(crate) provider: RustCryptoProvider,
    pub(crate) validator: BasicCredentialValidator,
}

impl World {
    /// A world whose randomness is seeded (the same every run).
    pub(crate) fn new() -> Self {
        Self::seeded(0x5EED)
    }

    /// A world whose randomness comes from `seed`.
    pub(crate) fn seeded(seed: u64) -> Self {
        Self {
            provider: SeededRandom::provider(seed),
            validator: BasicCredentialValidator::new(),
        }
    }

    pub(crate) fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator).at(NOW)
    }

    pub(crate) fn signer(&self) -> SignatureKeyPair {
        self.provider
            .suite(SUITE)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap()
    }

    pub(crate) fn leaf(name: &str) -> LeafNodeParams {
        LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(name.as_bytes().to_vec()),
            },
            SUITE,
        )
    }

    pub(crate) fn key_package(&self, name: &str) -> (KeyPackageBundle, SignatureKeyPair) {
        let signer = self.signer();
        let params = KeyPackageParams::new(
            Self::leaf(name),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        let bundle = create_key_package(&self.provider, SUITE, &params, &signer).unwrap();
        (bundle, signer)
    }

    pub(crate) fn create(&self, name: &str, config: GroupConfig) -> Group {
        self.create_with(name, config, self.signer())
    }

    /// [`World::create`] with a signer the caller keeps.
    pub(crate) fn create_with(
        &self,
        name: &str,
        config: GroupConfig,
        signer: SignatureKeyPair,
    ) -> Group {
        Group::create(
            &self.env(),
            CreateParams::new(
                SUITE,
                b"group".to_vec(),
                &Self::leaf(name),
                Arc::new(signer),
            )
            .config(config),
        )
        .unwrap()
    }

    /// Commits an add of `names` (left pending in `committer`); returns the commit and the
    /// joiners' bundles and Welcome.
    pub(crate) fn commit_add(
        &self,
        committer: &mut Group,
        names: &[&str],
    ) -> (
        Vec<u8>,
        wire::Welcome,
        Vec<(KeyPackageBundle, SignatureKeyPair)>,
    ) {
        let kps: Vec<_> = names.iter().map(|n| self.key_package(n)).collect();
        let out = committer
            .commit(
                &self.env(),
                CommitOptions {
                    add: kps.iter().map(|(b, _)| b.key_package.clone()).collect(),
                    ..CommitOptions::default()
                },
            )
            .unwrap();
        let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
        else {
            panic!("not a welcome");
        };
        (out.commit, welcome, kps)
    }

    pub(crate) fn join(
        &self,
        welcome: &wire::Welcome,
        kps: Vec<(KeyPackageBundle, SignatureKeyPair)>,
        config: GroupConfig,
    ) -> Vec<Group> {
        kps.into_iter()
            .map(|(bundle, signer)| {
                Group::join(
                    &self.env(),
                    JoinParams::new(welcome, &bundle, Arc::new(signer)).config(config),
                )
                .unwrap()
            })
            .collect()
    }

    /// `creator` adds `names` in one commit and merges it; returns the joined groups.
    pub(crate) fn add(
        &self,
        creator: &mut Group,
        names: &[&str],
        config: GroupConfig,
    ) -> Vec<Group> {
        let (commit, welcome, kps) = self.commit_add(creator, names);
        own_commit(self, creator, &commit);
        self.join(&welcome, kps, config)
    }

    pub(crate) fn three_members(&self, config: GroupConfig) -> (Group, Group, Group) {
        self.three_members_with(config, self.signer())
    }

    /// [`World::three_members`] where Alice signs with `alice_signer`.
    pub(crate) fn three_members_with(
        &self,
        config: GroupConfig,
        alice_signer: SignatureKeyPair,
    ) -> (Group, Group, Group) {
        let mut alice = self.create_with("alice", config, alice_signer);
        let (commit, welcome, kps) = self.commit_add(&mut alice, &["bob", "carol"]);
        own_commit(self, &mut alice, &commit);
        let mut joined = self.join(&welcome, kps, config);
        let carol = joined.pop().unwrap();
        let bob = joined.pop().unwrap();
        (alice, bob, carol)
    }
}

/// Recognises the echo of our pending commit and merges it.
pub(crate) fn own_commit(w: &World, group: &mut Group, commit: &[u8]) {
    assert!(matches!(
        group.process_message(&w.env(), commit).unwrap(),
        ProcessedMessage::OwnCommit
    ));
    assert!(matches!(
        group.merge_pending_commit().unwrap(),
        Merged::Member { .. }
    ));
}
