//! `GroupConfig::limits` on every receiving path: a joiner's tree, a received commit's
//! decoding and the tree it would leave; each breach a typed error naming the limit, with
//! the group unchanged.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use canopy_core::group::CreateParams;
use canopy_core::group::JoinParams;
use std::sync::Arc;

use canopy_core::advanced::codec::{CodecError, Limit, Limits, VarBytes};
use canopy_core::group::{CommitOptions, Env, Group, GroupConfig, GroupError, ProcessedMessage};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{Credential, Lifetime, MlsMessage, Welcome};
use canopy_crypto::{CipherSuite, CryptoProvider, Signer};
use canopy_crypto_rustcrypto::RustCryptoProvider;

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

struct Fixture {
    provider: RustCryptoProvider,
    validator: BasicCredentialValidator,
}

impl Fixture {
    fn new() -> Self {
        Self {
            provider: RustCryptoProvider::new(),
            validator: BasicCredentialValidator::new(),
        }
    }

    fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator).at(1_700_000_000)
    }

    fn params(i: u32) -> LeafNodeParams {
        LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(format!("member {i}").into_bytes()),
            },
            SUITE,
        )
    }

    fn creator(&self) -> Group {
        let ops = self.provider.suite(SUITE).unwrap();
        Group::create(
            &self.env(),
            CreateParams::new(
                SUITE,
                b"limits".to_vec(),
                &Self::params(0),
                Arc::new(ops.signature_generate_key_pair().unwrap()),
            ),
        )
        .unwrap()
    }

    fn member(&self, i: u32) -> (KeyPackageBundle, Arc<dyn Signer>) {
        let ops = self.provider.suite(SUITE).unwrap();
        let signer = ops.signature_generate_key_pair().unwrap();
        let params = KeyPackageParams::new(
            Self::params(i),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        let bundle = create_key_package(&self.provider, SUITE, &params, &signer).unwrap();
        (bundle, Arc::new(signer) as Arc<dyn Signer>)
    }

    fn join(
        &self,
        config: GroupConfig,
        welcome: &[u8],
        member: &(KeyPackageBundle, Arc<dyn Signer>),
    ) -> Result<Group, GroupError> {
        Group::join(
            &self.env(),
            JoinParams::new(&welcome_of(welcome), &member.0, member.1.clone()).config(config),
        )
    }
}

fn welcome_of(bytes: &[u8]) -> Welcome {
    match MlsMessage::from_bytes(bytes).unwrap() {
        MlsMessage::Welcome(w) => w,
        other => panic!("{other:?}"),
    }
}

fn config_with(limits: Limits) -> GroupConfig {
    GroupConfig {
        limits,
        ..GroupConfig::default()
    }
}

fn add(bundles: &[(KeyPackageBundle, Arc<dyn Signer>)]) -> CommitOptions {
    CommitOptions {
        add: bundles.iter().map(|(b, _)| b.key_package.clone()).collect(),
        ..CommitOptions::default()
    }
}

fn limit_of(result: Result<impl core::fmt::Debug, GroupError>) -> (Limit, usize, usize) {
    match result {
        Err(GroupError::Codec(CodecError::LimitExceeded { limit, value, max })) => {
            (limit, value, max)
        }
        other => panic!("not a limit error: {other:?}"),
    }
}

#[test]
fn a_joiner_refuses_a_tree_above_its_leaf_limit() {
    let f = Fixture::new();
    let env = f.env();
    let mut creator = f.creator();
    let members: Vec<_> = (1..5).map(|i| f.member(i)).collect();
    let out = creator.commit(&env, add(&members)).unwrap();
    let _ = creator.merge_pending_commit().unwrap();
    let welcome = out.welcome.unwrap();
    let mut small = Limits::default();
    small.max_tree_leaves = 4;
    // Five members need eight leaves: the tree is refused before it is padded and hashed.
    assert_eq!(
        limit_of(f.join(config_with(small), &welcome, &members[0])),
        (Limit::TreeLeaves, 5, 4)
    );
    small.max_tree_leaves = 8;
    f.join(config_with(small), &welcome, &members[0]).unwrap();
}

#[test]
fn a_member_refuses_a_commit_that_grows_the_tree_past_its_limit() {
    let f = Fixture::new();
    let env = f.env();
    let mut creator = f.creator();
    let first = [f.member(1)];
    let out = creator.commit(&env, add(&first)).unwrap();
    let _ = creator.merge_pending_commit().unwrap();
    let mut small = Limits::default();
    small.max_tree_leaves = 2;
    let mut member = f
        .join(config_with(small), &out.welcome.unwrap(), &first[0])
        .unwrap();
    let before = member.to_bytes().unwrap();
    let more = [f.member(2)];
    let commit = creator.commit(&env, add(&more)).unwrap().commit;
    assert_eq!(
        limit_of(member.process_message(&env, &commit)),
        (Limit::TreeLeaves, 4, 2)
    );
    assert_eq!(member.to_bytes().unwrap(), before, "the group is unchanged");
    // Raised, the same commit is accepted.
    let mut raised = small;
    raised.max_tree_leaves = 4;
    member.set_limits(raised);
    assert!(matches!(
        member.process_message(&env, &commit).unwrap(),
        ProcessedMessage::Commit(_)
    ));
}

#[test]
fn a_member_decodes_with_its_configured_limits() {
    let f = Fixture::new();
    let env = f.env();
    let mut creator = f.creator();
    let first = [f.member(1)];
    let out = creator.commit(&env, add(&first)).unwrap();
    let _ = creator.merge_pending_commit().unwrap();
    let mut member = f
        .join(GroupConfig::default(), &out.welcome.unwrap(), &first[0])
        .unwrap();
    let mut small = Limits::default();
    small.max_vector_len = 2;
    member.set_limits(small);
    // A commit of three Adds: the first list of more than two elements it holds (a
    // KeyPackage's capabilities, or the proposal list) is refused.
    let three: Vec<_> = (2..5).map(|i| f.member(i)).collect();
    let commit = creator.commit(&env, add(&three)).unwrap().commit;
    assert_eq!(
        limit_of(member.process_message(&env, &commit)),
        (Limit::VectorLen, 3, 2)
    );
    // The message length is checked first, against the group's limit too.
    let mut tiny = Limits::default();
    tiny.max_message_len = 64;
    member.set_limits(tiny);
    assert_eq!(
        limit_of(member.process_message(&env, &commit)),
        (Limit::MessageLen, commit.len(), 64)
    );
    assert_eq!(
        limit_of(member.process_messages(&env, &[&commit]).remove(0)),
        (Limit::MessageLen, commit.len(), 64)
    );
    // The limits are local: the state does not keep them.
    let reloaded = Group::from_bytes(
        &f.provider,
        member.to_bytes().unwrap().as_bytes(),
        Some(member.signer().clone()),
    )
    .unwrap();
    assert_eq!(reloaded.config().limits, Limits::default());
}
