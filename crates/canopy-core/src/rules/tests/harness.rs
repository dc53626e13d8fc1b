//! The harness of the rule tests: seeded groups on any cipher suite, and the assertions that a
//! message is rejected for exactly one rule with the group state byte-identical.

use crate::group::CreateParams;
use crate::group::JoinParams;
use std::sync::Arc;

use canopy_crypto::{CipherSuite, CryptoProvider, SignatureKeyPair, SuiteOps};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use crate::codec::VarBytes;
use crate::group::{CommitOptions, Env, Group, GroupConfig, Merged, ProcessedMessage};
use crate::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use crate::rules::{Rule, assert_rule};
use crate::wire::{Credential, Lifetime, MlsMessage, Welcome};

/// The time of every rule test.
pub(super) const NOW: u64 = 1_700_000_000;

/// Seeded groups of one cipher suite.
pub(super) struct Harness {
    pub(super) provider: RustCryptoProvider,
    pub(super) validator: BasicCredentialValidator,
    pub(super) suite: CipherSuite,
}

impl Harness {
    /// Groups of `suite` whose randomness comes from `seed`.
    pub(super) fn new(suite: CipherSuite, seed: u64) -> Self {
        Self {
            provider: crate::group::test_world::SeededRandom::provider(seed),
            validator: BasicCredentialValidator::new(),
            suite,
        }
    }

    /// The suite 0x0001 harness most tests use.
    pub(super) fn default_suite(seed: u64) -> Self {
        Self::new(
            CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
            seed,
        )
    }

    pub(super) fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator).at(NOW)
    }

    pub(super) fn ops(&self) -> &dyn SuiteOps {
        self.provider.suite(self.suite).unwrap()
    }

    pub(super) fn signer(&self) -> SignatureKeyPair {
        self.ops().signature_generate_key_pair().unwrap()
    }

    pub(super) fn leaf(&self, name: &str) -> LeafNodeParams {
        LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(name.as_bytes().to_vec()),
            },
            self.suite,
        )
    }

    /// A KeyPackage of `name` valid from 0 to the far future, and its signer.
    pub(super) fn key_package(&self, name: &str) -> (KeyPackageBundle, SignatureKeyPair) {
        let signer = self.signer();
        let params = KeyPackageParams::new(
            self.leaf(name),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        let bundle = create_key_package(&self.provider, self.suite, &params, &signer).unwrap();
        (bundle, signer)
    }

    /// A group created by `names[0]` that adds the others in one commit; every member's
    /// group, in the order of `names`.
    pub(super) fn group(&self, names: &[&str], config: GroupConfig) -> Vec<Group> {
        self.group_with_id(b"rules", names, config)
    }

    /// [`Self::group`] with the group id `id`.
    pub(super) fn group_with_id(
        &self,
        id: &[u8],
        names: &[&str],
        config: GroupConfig,
    ) -> Vec<Group> {
        let mut creator = Group::create(
            &self.env(),
            CreateParams::new(
                self.suite,
                id.to_vec(),
                &self.leaf(names[0]),
                Arc::new(self.signer()),
            )
            .config(config),
        )
        .unwrap();
        if names.len() == 1 {
            return vec![creator];
        }
        let kps: Vec<_> = names[1..].iter().map(|n| self.key_package(n)).collect();
        let out = creator
            .commit(
                &self.env(),
                CommitOptions {
                    add: kps.iter().map(|(b, _)| b.key_package.clone()).collect(),
                    ..CommitOptions::default()
                },
            )
            .unwrap();
        let _ = creator.merge_pending_commit().unwrap();
        let welcome = welcome(out.welcome.as_deref().unwrap());
        let mut groups = vec![creator];
        for (bundle, signer) in kps {
            groups.push(self.join(&welcome, &bundle, signer, config).unwrap());
        }
        groups
    }

    /// Alice, Bob and Carol with the default configuration.
    pub(super) fn three(&self) -> (Group, Group, Group) {
        let mut g = self.group(&["alice", "bob", "carol"], GroupConfig::default());
        let carol = g.pop().unwrap();
        let bob = g.pop().unwrap();
        let alice = g.pop().unwrap();
        (alice, bob, carol)
    }

    pub(super) fn join(
        &self,
        welcome: &Welcome,
        bundle: &KeyPackageBundle,
        signer: SignatureKeyPair,
        config: GroupConfig,
    ) -> Result<Group, crate::group::GroupError> {
        Group::join(
            &self.env(),
            JoinParams::new(welcome, bundle, Arc::new(signer)).config(config),
        )
    }

    /// A copy of `group` (through its state bytes).
    pub(super) fn fork(&self, group: &Group) -> Group {
        Group::from_bytes(
            &self.provider,
            group.to_bytes().unwrap().as_bytes(),
            Some(group.signer().clone()),
        )
        .unwrap()
    }

    /// Delivers `message` to `group`, which must accept it (merging a commit).
    pub(super) fn deliver(&self, group: &mut Group, message: &[u8]) {
        match group.process_message(&self.env(), message).unwrap() {
            ProcessedMessage::Commit(staged) => {
                assert!(matches!(
                    group.merge_staged_commit(*staged).unwrap(),
                    Merged::Member { .. }
                ));
            }
            ProcessedMessage::OwnCommit => {
                let _ = group.merge_pending_commit().unwrap();
            }
            _ => {}
        }
    }
}

/// The Welcome in `bytes`.
pub(super) fn welcome(bytes: &[u8]) -> Welcome {
    match MlsMessage::from_bytes(bytes).unwrap() {
        MlsMessage::Welcome(w) => w,
        other => panic!("not a Welcome: {other:?}"),
    }
}

/// Processing `message` breaks `rule`, and leaves `group` byte-identical.
#[track_caller]
pub(super) fn assert_rejected(h: &Harness, group: &mut Group, message: &[u8], rule: Rule) {
    let before = group.to_bytes().unwrap();
    assert_rule(group.process_message(&h.env(), message), rule);
    assert_eq!(
        group.to_bytes().unwrap().as_bytes(),
        before.as_bytes(),
        "the state changed"
    );
}

/// Processing `message` succeeds (the control of a negative test: the same message with the
/// rule kept is accepted).
#[track_caller]
pub(super) fn assert_accepted(h: &Harness, group: &mut Group, message: &[u8]) {
    if let Err(e) = group.process_message(&h.env(), message) {
        panic!("expected the message to be accepted, got {e:?}");
    }
}
