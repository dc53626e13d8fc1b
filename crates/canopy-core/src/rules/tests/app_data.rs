//! The extensions draft's application components on groups (feature `extensions`):
//! AppDataUpdate, AppEphemeral and AppAck, and the negotiation of required wire formats,
//! components and media types; the accepted flows and a negative test for each AD-, AE- and
//! XT- rule.

use std::sync::Arc;

use super::harness::{Harness, assert_rejected, welcome};
use crate::codec::{VarBytes, VarVec};
use crate::extensions::{
    APP_ACK, APP_COMPONENTS, AppAck, AppComponents, AppDataDictionary, CONTENT_MEDIA_TYPES,
    ComponentId, ComponentsList, MediaType, MediaTypeList, ReplacingComponents,
    RequiredWireFormats, SupportedWireFormats, WireFormats,
};
use crate::group::forge::Forgery;
use crate::group::{
    CommitOptions, CreateParams, Env, Group, GroupConfig, PolicyRefusal, ProcessedMessage,
};
use crate::key_package::{KeyPackageBundle, KeyPackageParams, LeafNodeParams, create_key_package};
use crate::rules::{Rule, assert_rule};
use crate::wire::{
    AppDataOp, AppDataUpdate, AppEphemeral, Extension, ExtensionView, Extensions, Lifetime,
    Proposal, ProposalType, RequiredCapabilities, Sender,
};

/// The application component the tests use.
const CHAT: ComponentId = 0x8001;

fn update(component: ComponentId, data: &[u8]) -> Proposal {
    Proposal::AppDataUpdate(AppDataUpdate {
        component_id: component,
        op: AppDataOp::Update(VarBytes(data.to_vec())),
    })
}

fn remove(component: ComponentId) -> Proposal {
    Proposal::AppDataUpdate(AppDataUpdate {
        component_id: component,
        op: AppDataOp::Remove,
    })
}

fn ephemeral(component: ComponentId, data: &[u8]) -> Proposal {
    Proposal::AppEphemeral(AppEphemeral {
        component_id: component,
        data: VarBytes(data.to_vec()),
    })
}

/// A counter component: its data is a big-endian u32, and each update adds its one byte.
/// Refuses the update `0xff`, and AppEphemeral data `b"bad"`.
struct Counter;

impl AppComponents for Counter {
    fn knows(&self, component: ComponentId) -> bool {
        component == CHAT
    }

    fn check_ephemeral(
        &self,
        _: ComponentId,
        _: &Sender,
        data: &[u8],
    ) -> Result<(), PolicyRefusal> {
        if data == b"bad" {
            return Err(PolicyRefusal::new("bad data"));
        }
        Ok(())
    }

    fn apply_updates(
        &self,
        _: ComponentId,
        current: Option<&[u8]>,
        updates: &[&[u8]],
    ) -> Result<Vec<u8>, PolicyRefusal> {
        let mut value = current
            .and_then(|c| <[u8; 4]>::try_from(c).ok())
            .map_or(0, u32::from_be_bytes);
        for u in updates {
            match u {
                [0xff] => return Err(PolicyRefusal::new("0xff")),
                [add] => value = value.saturating_add(u32::from(*add)),
                _ => return Err(PolicyRefusal::new("one byte per update")),
            }
        }
        Ok(value.to_be_bytes().to_vec())
    }
}

/// Processing `message` with `env` breaks `rule`, and leaves `group` byte-identical.
fn rejected_with(env: &Env<'_>, group: &mut Group, message: &[u8]) -> crate::group::GroupError {
    let before = group.to_bytes().unwrap();
    let err = group.process_message(env, message).unwrap_err();
    assert_eq!(group.to_bytes().unwrap().as_bytes(), before.as_bytes());
    err
}

/// Delivers `message` with `env` and merges a commit.
fn deliver(
    env: &Env<'_>,
    group: &mut Group,
    message: &[u8],
) -> Option<crate::group::CommitSummary> {
    match group.process_message(env, message).unwrap() {
        ProcessedMessage::Commit(staged) => {
            let summary = staged.summary().clone();
            let _ = group.merge_staged_commit(*staged).unwrap();
            Some(summary)
        }
        _ => None,
    }
}

#[test]
fn app_data_updates_are_applied_in_order_without_a_path_and_ephemerals_reach_every_member() {
    let h = Harness::default_suite(1001);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob, mut carol) = h.three();
    // Bob proposes +2, Carol +3; Alice commits both by reference and +1 by value.
    let p1 = bob.propose_app_data_update(&env, CHAT, vec![2]).unwrap();
    let p2 = carol.propose_app_data_update(&env, CHAT, vec![3]).unwrap();
    for p in [&p1, &p2] {
        assert!(deliver(&env, &mut alice, p).is_none());
    }
    assert!(deliver(&env, &mut bob, &p2).is_none());
    assert!(deliver(&env, &mut carol, &p1).is_none());
    let out = alice
        .commit(
            &env,
            CommitOptions {
                proposals: vec![update(CHAT, &[1]), ephemeral(CHAT, b"tick")],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let summary = deliver(&env, &mut bob, &out.commit).unwrap();
    let _ = deliver(&env, &mut carol, &out.commit).unwrap();
    assert!(
        !summary.has_path,
        "AppDataUpdate and AppEphemeral need no path"
    );
    assert_eq!(summary.app_data_updated, [CHAT]);
    assert_eq!(summary.app_ephemeral.len(), 1);
    assert_eq!(summary.app_ephemeral[0].ephemeral.data.as_slice(), b"tick");
    assert_eq!(
        summary.app_ephemeral[0].sender,
        Sender::Member(alice.own_leaf().value())
    );
    for g in [&alice, &bob, &carol] {
        assert_eq!(
            g.app_data().unwrap().get(CHAT),
            Some(&6u32.to_be_bytes()[..])
        );
    }
    assert_eq!(alice.epoch_authenticator(), carol.epoch_authenticator());

    // A remove takes the entry out again; a public group follows.
    let mut ds = alice.public_view();
    let out = bob
        .commit(
            &env,
            CommitOptions {
                proposals: vec![remove(CHAT)],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = bob.merge_pending_commit().unwrap();
    ds.process_message(&env, &out.commit).unwrap();
    let _ = deliver(&env, &mut alice, &out.commit).unwrap();
    assert_eq!(alice.app_data().unwrap().get(CHAT), None);
    assert_eq!(ds.context().extensions, alice.context().extensions);

    // Replacing components: the last update is the data.
    let replacing = ReplacingComponents::new([CHAT]);
    let env = h.env().with_components(&replacing);
    let out = bob
        .commit(
            &env,
            CommitOptions {
                proposals: vec![update(CHAT, b"a"), update(CHAT, b"b")],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = bob.merge_pending_commit().unwrap();
    let _ = deliver(&env, &mut alice, &out.commit).unwrap();
    assert_eq!(alice.app_data().unwrap().get(CHAT), Some(&b"b"[..]));
}

#[test]
fn an_app_ack_covers_the_messages_received_this_epoch() {
    let h = Harness::default_suite(1002);
    let env = h.env();
    let (mut alice, mut bob, mut carol) = h.three();
    let mut sent = Vec::new();
    for i in 0..4u8 {
        sent.push(bob.encrypt_application(&env, &[i], &[]).unwrap());
    }
    // Message 2 is lost.
    for (i, m) in sent.iter().enumerate() {
        if i != 2 {
            let _ = alice.process_message(&env, m).unwrap();
        }
    }
    let ack = alice.app_ack();
    let bob_leaf = bob.own_leaf().value();
    assert!(ack.covers(bob_leaf, 0) && ack.covers(bob_leaf, 3) && !ack.covers(bob_leaf, 2));
    let proposal = alice.propose_app_ack(&env).unwrap();
    for g in [&mut bob, &mut carol] {
        assert!(deliver(&env, g, &proposal).is_none());
    }
    let out = carol.commit(&env, CommitOptions::default()).unwrap();
    let _ = carol.merge_pending_commit().unwrap();
    let summary = deliver(&env, &mut bob, &out.commit).unwrap();
    let received = &summary.app_ephemeral[0];
    assert_eq!(received.ephemeral.component_id, APP_ACK);
    assert_eq!(
        AppAck::from_bytes(received.ephemeral.data.as_slice()).unwrap(),
        ack
    );
    // A new epoch starts a new log.
    let _ = deliver(&env, &mut alice, &out.commit).unwrap();
    assert!(alice.app_ack().received_ranges.as_slice().is_empty());
}

#[test]
fn ad_01_an_app_data_update_of_an_unknown_component() {
    let h = Harness::default_suite(1003);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob, _carol) = h.three();
    let proposal = alice.propose_app_data_update(&env, CHAT, vec![1]).unwrap();
    // Bob's application knows no component.
    assert_rejected(&h, &mut bob, &proposal, Rule::AppDataUpdateComponent);
    assert_rule(
        alice.propose_app_data_update(&env, 0x8999, vec![1]),
        Rule::AppDataUpdateComponent,
    );
}

#[test]
fn ad_02_a_remove_of_data_that_is_not_there() {
    let h = Harness::default_suite(1004);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob, _carol) = h.three();
    let me = Sender::Member(alice.own_leaf().value());
    let forged = alice
        .forge(&env, Forgery::by_value(me, vec![remove(CHAT)]))
        .unwrap();
    assert_rule(
        Err::<(), _>(rejected_with(&env, &mut bob, &forged.commit)),
        Rule::AppDataUpdateRemoveAbsent,
    );
    assert!(alice.discard_pending_commit());
    let refused = alice.commit(
        &env,
        CommitOptions {
            proposals: vec![remove(CHAT)],
            ..CommitOptions::default()
        },
    );
    assert_rule(refused, Rule::AppDataUpdateRemoveAbsent);
}

#[test]
fn ad_03_a_remove_and_an_update_of_one_component_in_one_commit() {
    let h = Harness::default_suite(1005);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob, _carol) = h.three();
    let me = Sender::Member(alice.own_leaf().value());
    for list in [
        vec![update(CHAT, &[1]), remove(CHAT)],
        vec![remove(CHAT), remove(CHAT)],
    ] {
        let forged = alice.forge(&env, Forgery::by_value(me, list)).unwrap();
        assert_rule(
            Err::<(), _>(rejected_with(&env, &mut bob, &forged.commit)),
            Rule::AppDataUpdateList,
        );
    }
}

#[test]
fn ad_04_updates_the_components_logic_refuses() {
    let h = Harness::default_suite(1006);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob, _carol) = h.three();
    let me = Sender::Member(alice.own_leaf().value());
    let forged = alice
        .forge(&env, Forgery::by_value(me, vec![update(CHAT, &[0xff])]))
        .unwrap();
    assert_rule(
        Err::<(), _>(rejected_with(&env, &mut bob, &forged.commit)),
        Rule::AppDataUpdateRefused,
    );
    // Canopy's own components: the data must be a ComponentsList.
    let forged = alice
        .forge(
            &env,
            Forgery::by_value(me, vec![update(APP_COMPONENTS, &[0xff])]),
        )
        .unwrap();
    assert_rule(
        Err::<(), _>(rejected_with(&env, &mut bob, &forged.commit)),
        Rule::AppDataUpdateRefused,
    );
}

fn required(proposals: Vec<ProposalType>) -> Extension {
    RequiredCapabilities {
        extension_types: VarVec::default(),
        proposal_types: VarVec(proposals),
        credential_types: VarVec::default(),
    }
    .to_extension()
    .unwrap()
}

#[test]
fn ad_05_a_group_context_extensions_that_changes_app_data_when_app_data_update_is_required() {
    let h = Harness::default_suite(1007);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob, _carol) = h.three();
    let base = Extensions::new(vec![required(vec![ProposalType::APP_DATA_UPDATE])]).unwrap();
    let out = alice
        .commit(
            &env,
            CommitOptions {
                extensions: Some(base.clone()),
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let _ = deliver(&env, &mut bob, &out.commit).unwrap();
    // An AppDataUpdate creates the dictionary (every member supports it).
    let out = alice
        .commit(
            &env,
            CommitOptions {
                proposals: vec![update(CHAT, &[4])],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let _ = deliver(&env, &mut bob, &out.commit).unwrap();
    // A GroupContextExtensions that drops it, or sets it, is refused.
    let mut dictionary = AppDataDictionary::default();
    dictionary.insert(CHAT, vec![9]);
    let with_other = Extensions::new(vec![
        required(vec![ProposalType::APP_DATA_UPDATE]),
        dictionary.to_extension().unwrap(),
    ])
    .unwrap();
    for extensions in [base, with_other] {
        let me = Sender::Member(alice.own_leaf().value());
        let forged = alice
            .forge(
                &env,
                Forgery::by_value(
                    me,
                    vec![Proposal::GroupContextExtensions(
                        crate::wire::GroupContextExtensions { extensions },
                    )],
                )
                .with_path(),
            )
            .unwrap();
        assert_rule(
            Err::<(), _>(rejected_with(&env, &mut bob, &forged.commit)),
            Rule::AppDataUpdateExtensions,
        );
    }
}

/// A KeyPackage of `name` whose leaf `change` adjusted.
fn key_package_with(
    h: &Harness,
    name: &str,
    change: impl FnOnce(&mut LeafNodeParams),
) -> (KeyPackageBundle, canopy_crypto::SignatureKeyPair) {
    let mut leaf = h.leaf(name);
    change(&mut leaf);
    let signer = h.signer();
    let params = KeyPackageParams::new(
        leaf,
        Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        },
    );
    let bundle = create_key_package(&h.provider, h.suite, &params, &signer).unwrap();
    (bundle, signer)
}

/// Alice (created with `change`d leaf) and Bob (`bob` KeyPackage) in one group.
fn pair(h: &Harness, env: &Env<'_>, change: impl Fn(&mut LeafNodeParams)) -> (Group, Group) {
    let mut leaf = h.leaf("alice");
    change(&mut leaf);
    let mut alice = Group::create(
        env,
        CreateParams::new(h.suite, b"xt".to_vec(), &leaf, Arc::new(h.signer())),
    )
    .unwrap();
    let (bob_kp, bob_signer) = key_package_with(h, "bob", change);
    let out = alice
        .commit(
            env,
            CommitOptions {
                add: vec![bob_kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let bob = h
        .join(
            &welcome(out.welcome.as_deref().unwrap()),
            &bob_kp,
            bob_signer,
            GroupConfig::default(),
        )
        .unwrap();
    (alice, bob)
}

#[test]
fn ad_06_a_member_without_app_ephemeral_support() {
    let h = Harness::default_suite(1008);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob) = pair(&h, &env, |_| {});
    // Carol's capabilities list neither AppDataUpdate nor AppEphemeral.
    let (carol_kp, carol_signer) = key_package_with(&h, "carol", |leaf| {
        leaf.capabilities.proposals = Vec::new().into();
    });
    let out = alice
        .commit(
            &env,
            CommitOptions {
                add: vec![carol_kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let _ = deliver(&env, &mut bob, &out.commit).unwrap();
    let _carol = h
        .join(
            &welcome(out.welcome.as_deref().unwrap()),
            &carol_kp,
            carol_signer,
            GroupConfig::default(),
        )
        .unwrap();
    // The negotiation refuses the proposal on our side, and on receipt and in a commit.
    assert_rule(
        alice.propose_app_ephemeral(&env, CHAT, b"x".to_vec()),
        Rule::AppProposalCapable,
    );
    let forged = alice.forge_proposal(&env, ephemeral(CHAT, b"x")).unwrap();
    assert_rule(
        Err::<(), _>(rejected_with(&env, &mut bob, &forged)),
        Rule::AppProposalCapable,
    );
    let me = Sender::Member(alice.own_leaf().value());
    let forged = alice
        .forge(&env, Forgery::by_value(me, vec![update(CHAT, &[1])]))
        .unwrap();
    assert_rule(
        Err::<(), _>(rejected_with(&env, &mut bob, &forged.commit)),
        Rule::AppProposalCapable,
    );
}

#[test]
fn ae_01_an_app_ephemeral_of_an_unknown_component() {
    let h = Harness::default_suite(1009);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob, _carol) = h.three();
    let proposal = alice
        .propose_app_ephemeral(&env, CHAT, b"x".to_vec())
        .unwrap();
    assert_rejected(&h, &mut bob, &proposal, Rule::AppEphemeralComponent);
}

#[test]
fn ae_02_app_ephemeral_data_the_component_refuses_or_a_malformed_app_ack() {
    let h = Harness::default_suite(1010);
    let counter = Counter;
    let env = h.env().with_components(&counter);
    let (mut alice, mut bob, _carol) = h.three();
    assert_rule(
        alice.propose_app_ephemeral(&env, CHAT, b"bad".to_vec()),
        Rule::AppEphemeralRefused,
    );
    for p in [ephemeral(CHAT, b"bad"), ephemeral(APP_ACK, &[1, 2, 3])] {
        let forged = alice.forge_proposal(&env, p).unwrap();
        assert_rule(
            Err::<(), _>(rejected_with(&env, &mut bob, &forged)),
            Rule::AppEphemeralRefused,
        );
    }
}

fn supported_wire_formats(leaf: &mut LeafNodeParams) {
    let ext = SupportedWireFormats(WireFormats {
        wire_formats: VarVec(vec![0xF000]),
    })
    .to_extension()
    .unwrap();
    leaf.extensions = Extensions::new(vec![ext]).unwrap();
}

#[test]
fn xt_01_a_required_wire_format_a_member_does_not_support() {
    let h = Harness::default_suite(1011);
    let env = h.env();
    let required = Extensions::new(vec![
        RequiredWireFormats(WireFormats {
            wire_formats: VarVec(vec![0xF000]),
        })
        .to_extension()
        .unwrap(),
    ])
    .unwrap();
    let with_required = CommitOptions {
        extensions: Some(required.clone()),
        ..CommitOptions::default()
    };
    // Members without supported_wire_formats: the requirement is refused.
    let (mut alice, mut bob) = pair(&h, &env, |_| {});
    assert_rule(
        alice.commit(&env, with_required.clone()),
        Rule::LeafWireFormats,
    );
    let me = Sender::Member(alice.own_leaf().value());
    let gce = Proposal::GroupContextExtensions(crate::wire::GroupContextExtensions {
        extensions: required,
    });
    let forged = alice
        .forge(&env, Forgery::by_value(me, vec![gce]).with_path())
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::LeafWireFormats);
    // Members that list it: accepted, and then a member without it cannot be added.
    let (mut alice, mut bob) = pair(&h, &env, supported_wire_formats);
    let out = alice.commit(&env, with_required).unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let _ = deliver(&env, &mut bob, &out.commit).unwrap();
    let (carol, _) = h.key_package("carol");
    let add = CommitOptions {
        add: vec![carol.key_package],
        ..CommitOptions::default()
    };
    assert_rule(alice.commit(&env, add), Rule::LeafWireFormats);
    let (dave, _) = key_package_with(&h, "dave", supported_wire_formats);
    let add = CommitOptions {
        add: vec![dave.key_package],
        ..CommitOptions::default()
    };
    assert!(alice.commit(&env, add).is_ok());
}

/// A leaf whose `app_data_dictionary` lists `components` under `app_components` and
/// `text/plain` under `content_media_types`.
fn components_leaf(components: &[ComponentId]) -> impl Fn(&mut LeafNodeParams) + '_ {
    move |leaf| {
        let mut d = AppDataDictionary::default();
        let list = ComponentsList {
            component_ids: VarVec(components.to_vec()),
        };
        d.insert(APP_COMPONENTS, crate::codec::encode(&list).unwrap());
        let types = MediaTypeList::new(vec![MediaType::new("text/plain")]).unwrap();
        d.insert(CONTENT_MEDIA_TYPES, types.to_bytes().unwrap());
        leaf.extensions = Extensions::new(vec![d.to_extension().unwrap()]).unwrap();
    }
}

/// XT-02 and XT-03 share this flow: the group requires `component`'s data through an
/// AppDataUpdate (which Canopy applies itself), and then refuses to add Carol, whose leaf
/// lacks what it requires.
fn refuses_to_add_a_member_without(h: &Harness, component: ComponentId, data: Vec<u8>, rule: Rule) {
    let env = h.env();
    let (mut alice, mut bob) = pair(h, &env, components_leaf(&[CHAT]));
    let out = alice
        .commit(
            &env,
            CommitOptions {
                proposals: vec![update(component, &data)],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let summary = deliver(&env, &mut bob, &out.commit).unwrap();
    assert_eq!(summary.app_data_updated, [component]);
    let (carol, _) = h.key_package("carol");
    let add = CommitOptions {
        add: vec![carol.key_package.clone()],
        ..CommitOptions::default()
    };
    assert_rule(alice.commit(&env, add), rule);
    let me = Sender::Member(alice.own_leaf().value());
    let forged = alice
        .forge(
            &env,
            Forgery::by_value(
                me,
                vec![Proposal::Add(Box::new(crate::wire::Add {
                    key_package: carol.key_package,
                }))],
            ),
        )
        .unwrap();
    assert_rejected(h, &mut bob, &forged.commit, rule);
    assert!(alice.discard_pending_commit());
    // A member that lists it is added.
    let (dave, _) = key_package_with(h, "dave", components_leaf(&[CHAT]));
    let add = CommitOptions {
        add: vec![dave.key_package],
        ..CommitOptions::default()
    };
    assert!(alice.commit(&env, add).is_ok());
}

#[test]
fn xt_02_a_required_component_a_new_member_does_not_list() {
    let h = Harness::default_suite(1012);
    let list = ComponentsList {
        component_ids: VarVec(vec![CHAT]),
    };
    refuses_to_add_a_member_without(
        &h,
        APP_COMPONENTS,
        crate::codec::encode(&list).unwrap(),
        Rule::LeafComponents,
    );
    // Required when the leaves do not list it: refused for the members already there.
    let env = h.env();
    let (mut alice, _bob) = pair(&h, &env, |_| {});
    let refused = alice.commit(
        &env,
        CommitOptions {
            proposals: vec![update(
                APP_COMPONENTS,
                &crate::codec::encode(&list).unwrap(),
            )],
            ..CommitOptions::default()
        },
    );
    assert_rule(refused, Rule::LeafComponents);
}

#[test]
fn xt_03_a_required_media_type_a_new_member_does_not_list() {
    let h = Harness::default_suite(1013);
    let types = MediaTypeList::new(vec![MediaType::new("TEXT/plain")]).unwrap();
    refuses_to_add_a_member_without(
        &h,
        CONTENT_MEDIA_TYPES,
        types.to_bytes().unwrap(),
        Rule::LeafMediaTypes,
    );
    let env = h.env();
    let (mut alice, _bob) = pair(&h, &env, components_leaf(&[CHAT]));
    let png = MediaTypeList::new(vec![MediaType::new("image/png")]).unwrap();
    let refused = alice.commit(
        &env,
        CommitOptions {
            proposals: vec![update(CONTENT_MEDIA_TYPES, &png.to_bytes().unwrap())],
            ..CommitOptions::default()
        },
    );
    assert_rule(refused, Rule::LeafMediaTypes);
}

/// Components holding one application PSK, `CHAT`'s `b"room key"`, with the value `value`.
struct PskHolder(Vec<u8>);

impl AppComponents for PskHolder {
    fn knows(&self, component: ComponentId) -> bool {
        component == CHAT
    }

    fn psk(&self, component: ComponentId, psk_id: &[u8]) -> Option<canopy_crypto::Secret> {
        (component == CHAT && psk_id == b"room key")
            .then(|| canopy_crypto::Secret::from_slice(&self.0))
    }
}

#[test]
fn an_application_psk_enters_the_key_schedule_only_where_the_component_holds_it() {
    use crate::wire::{PreSharedKeyId, Psk};
    let h = Harness::default_suite(1014);
    let holder = PskHolder(b"shared password".to_vec());
    let env = h.env().with_components(&holder);
    let (mut alice, mut bob, mut carol) = h.three();
    let psk = PreSharedKeyId {
        psk: Psk::Application {
            component_id: CHAT,
            psk_id: VarBytes(b"room key".to_vec()),
        },
        psk_nonce: VarBytes(vec![7; 32]),
    };
    // Its encoding: psktype 3, the component, the id, the nonce.
    let bytes = crate::codec::encode(&psk).unwrap();
    assert_eq!(bytes[..3], [3, 0x80, 0x01]);
    assert_eq!(
        crate::codec::decode_exact::<PreSharedKeyId>(&bytes).unwrap(),
        psk
    );
    let out = alice
        .commit(
            &env,
            CommitOptions {
                psks: vec![psk.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    // Carol's application does not hold it; another value gives another epoch.
    assert!(matches!(
        carol.process_message(&h.env(), &out.commit),
        Err(crate::group::GroupError::MissingPsk)
    ));
    let other = PskHolder(b"another password".to_vec());
    assert!(
        carol
            .process_message(&h.env().with_components(&other), &out.commit)
            .is_err()
    );
    let summary = deliver(&env, &mut bob, &out.commit).unwrap();
    assert_eq!(summary.psks, [psk]);
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
}

#[test]
fn xt_04_authenticated_data_is_a_safe_aad_where_the_group_requires_it() {
    use crate::extensions::{SAFE_AAD, SafeAad, SafeAadItem};
    let h = Harness::default_suite(1014);
    let env = h.env();
    let safe_leaf = |leaf: &mut LeafNodeParams| {
        let mut d = AppDataDictionary::default();
        let list = ComponentsList {
            component_ids: VarVec(vec![CHAT]),
        };
        d.insert(SAFE_AAD, crate::codec::encode(&list).unwrap());
        leaf.extensions = Extensions::new(vec![d.to_extension().unwrap()]).unwrap();
    };
    let (mut alice, mut bob) = pair(&h, &env, safe_leaf);
    // Before Safe AAD is required, any bytes go.
    let plain = alice.encrypt_application(&env, b"hi", b"free").unwrap();
    assert!(bob.process_message(&env, &plain).is_ok());
    let list = ComponentsList {
        component_ids: VarVec(vec![CHAT]),
    };
    let out = alice
        .commit(
            &env,
            CommitOptions {
                proposals: vec![update(SAFE_AAD, &crate::codec::encode(&list).unwrap())],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    deliver(&env, &mut bob, &out.commit).unwrap();
    // Nothing given: the empty SafeAAD is sent.
    let empty = alice.encrypt_application(&env, b"hi", b"").unwrap();
    match bob.process_message(&env, &empty).unwrap() {
        ProcessedMessage::Application {
            authenticated_data, ..
        } => assert_eq!(authenticated_data, [0]),
        other => panic!("not application data: {other:?}"),
    }
    let aad = SafeAad::new(vec![SafeAadItem {
        component_id: CHAT,
        aad_item_data: VarBytes(b"thread 7".to_vec()),
    }])
    .unwrap()
    .to_bytes()
    .unwrap();
    let framed = alice.encrypt_application(&env, b"hi", &aad).unwrap();
    assert!(bob.process_message(&env, &framed).is_ok());
    // Bytes that are no SafeAAD are refused when sending...
    assert_rule(
        alice.encrypt_application(&env, b"hi", b"free"),
        Rule::SafeAadFraming,
    );
    // ...and when received (a forged commit sends them as they are).
    let me = Sender::Member(alice.own_leaf().value());
    let forged = alice
        .forge(
            &env,
            Forgery {
                authenticated_data: vec![0x08, 0x80, 0x01],
                ..Forgery::by_value(me, Vec::new())
            },
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::SafeAadFraming);
    assert!(alice.discard_pending_commit());
    // The control: an ordinary commit (framed by Canopy) is accepted.
    let out = alice.commit(&env, CommitOptions::default()).unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    deliver(&env, &mut bob, &out.commit).unwrap();
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
}

#[test]
fn the_safe_exporter_gives_every_member_the_same_secret_once_per_component_and_epoch() {
    use crate::extensions::ExportError;
    use crate::group::GroupError;
    let h = Harness::default_suite(1015);
    let env = h.env();
    let (mut alice, mut bob) = pair(&h, &env, |_| {});
    let a = alice.safe_export_secret(&env, CHAT).unwrap();
    assert_eq!(a.as_bytes().len(), 32);
    assert_eq!(bob.safe_export_secret(&env, CHAT).unwrap(), a);
    // Consumed: not again this epoch, also not after a restart.
    let consumed = Err(GroupError::SafeExport(ExportError::Consumed(CHAT)));
    assert_eq!(alice.safe_export_secret(&env, CHAT), consumed);
    let delta = alice.take_delta().unwrap();
    assert!(
        delta
            .changes()
            .iter()
            .any(|c| matches!(c, crate::group::Change::Put { key, .. } if *key == crate::group::RecordKey::META))
    );
    let mut restored = h.fork(&alice);
    assert_eq!(restored.safe_export_secret(&env, CHAT), consumed);
    // Other components are still there, alike for everyone, and differ from each other.
    let other = restored.safe_export_secret(&env, 7).unwrap();
    assert_eq!(bob.safe_export_secret(&env, 7).unwrap(), other);
    assert_ne!(other, a);
    // A new epoch has a new tree.
    let out = alice.commit(&env, CommitOptions::default()).unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    deliver(&env, &mut bob, &out.commit).unwrap();
    let next = alice.safe_export_secret(&env, CHAT).unwrap();
    assert_ne!(next, a);
    assert_eq!(bob.safe_export_secret(&env, CHAT).unwrap(), next);
}

#[test]
fn xt_05_a_last_resort_key_package_carries_the_empty_component() {
    use crate::extensions::LAST_RESORT_KEY_PACKAGE;
    use crate::key_package::{GroupRequirements, LifetimePolicy, validate_key_package};
    let h = Harness::default_suite(1016);
    let signer = h.signer();
    let mut params = KeyPackageParams::new(
        h.leaf("dave"),
        Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        },
    );
    params.last_resort = true;
    let bundle = create_key_package(&h.provider, h.suite, &params, &signer).unwrap();
    let dictionary = bundle
        .key_package
        .extensions
        .typed::<AppDataDictionary>()
        .unwrap()
        .unwrap();
    assert_eq!(dictionary.get(LAST_RESORT_KEY_PACKAGE), Some(&[][..]));
    let validate = |kp: crate::wire::KeyPackage| {
        validate_key_package(
            h.ops(),
            kp,
            &GroupRequirements::mls10(),
            &LifetimePolicy::at(super::harness::NOW),
            &h.validator,
        )
    };
    assert!(validate(bundle.key_package).unwrap().is_last_resort());
    // Marked by the component alone, without the RFC-era extension.
    let mut only_component = KeyPackageParams::new(h.leaf("erin"), params.lifetime);
    let mut d = AppDataDictionary::default();
    d.insert(LAST_RESORT_KEY_PACKAGE, Vec::new());
    only_component.extensions = Extensions::new(vec![d.to_extension().unwrap()]).unwrap();
    let kp = create_key_package(&h.provider, h.suite, &only_component, &h.signer()).unwrap();
    assert!(validate(kp.key_package).unwrap().is_last_resort());
    let (plain, _) = h.key_package("frank");
    assert!(!validate(plain.key_package).unwrap().is_last_resort());
    // The component with data is refused.
    let mut d = AppDataDictionary::default();
    d.insert(LAST_RESORT_KEY_PACKAGE, vec![1]);
    only_component.extensions = Extensions::new(vec![d.to_extension().unwrap()]).unwrap();
    let kp = create_key_package(&h.provider, h.suite, &only_component, &h.signer()).unwrap();
    assert_rule(validate(kp.key_package), Rule::LastResortComponent);
}

#[test]
fn xt_06_application_data_is_framed_where_the_group_lists_media_types() {
    use crate::extensions::MediaType;
    let h = Harness::default_suite(1017);
    let env = h.env();
    let (mut alice, mut bob) = pair(&h, &env, components_leaf(&[CHAT]));
    let types = MediaTypeList::new(vec![MediaType::new("text/plain")]).unwrap();
    let out = alice
        .commit(
            &env,
            CommitOptions {
                proposals: vec![update(CONTENT_MEDIA_TYPES, &types.to_bytes().unwrap())],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    deliver(&env, &mut bob, &out.commit).unwrap();
    let received = |bob: &mut Group, message: &[u8]| match bob.process_message(&env, message) {
        Ok(ProcessedMessage::Application { data, .. }) => data,
        other => panic!("not application data: {other:?}"),
    };
    // Framed with a type, and with the empty type: the group's first.
    let typed = alice
        .encrypt_media(&env, MediaType::new("text/markdown"), b"*hi*", b"")
        .unwrap();
    let data = received(&mut bob, &typed);
    let (media_type, content) = bob.open_media(&data).unwrap();
    assert_eq!(media_type.normalized(), b"text/markdown");
    assert_eq!(content, b"*hi*");
    let default = alice
        .encrypt_media(&env, MediaType::default(), b"hi", b"")
        .unwrap();
    let data = received(&mut bob, &default);
    assert_eq!(
        bob.open_media(&data).unwrap(),
        (MediaType::new("text/plain"), b"hi".to_vec())
    );
    // Raw bytes are refused when sending and when received.
    assert_rule(
        alice.encrypt_application(&env, b"raw", b""),
        Rule::ApplicationFramed,
    );
    let forged = alice.forge_application(&env, b"raw", b"").unwrap();
    assert_rejected(&h, &mut bob, &forged, Rule::ApplicationFramed);
    assert_rule(bob.open_media(b"raw"), Rule::ApplicationFramed);
    // Also once its epoch is past (read with that epoch's GroupContext).
    let out = alice.commit(&env, CommitOptions::default()).unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    deliver(&env, &mut bob, &out.commit).unwrap();
    assert_rejected(&h, &mut bob, &forged, Rule::ApplicationFramed);
    let framed = alice
        .encrypt_media(&env, MediaType::default(), b"x", b"")
        .unwrap();
    assert!(bob.process_message(&env, &framed).is_ok());
}

#[test]
fn leaves_carry_component_grease_that_members_ignore_and_resigning_renews() {
    use crate::extensions::grease::is_grease_component;
    use crate::tree::TreeRead;
    let h = Harness::default_suite(1018);
    let env = h.env();
    let (mut alice, mut bob) = pair(&h, &env, components_leaf(&[CHAT]));
    let grease_in = |g: &Group| {
        let leaf = g.tree().leaf(g.own_leaf()).unwrap();
        let d = leaf
            .extensions
            .typed::<AppDataDictionary>()
            .unwrap()
            .unwrap();
        let entries = d
            .entries()
            .iter()
            .filter(|e| is_grease_component(e.component_id))
            .count();
        let listed = d
            .components_list(APP_COMPONENTS)
            .unwrap()
            .unwrap()
            .component_ids
            .0
            .into_iter()
            .filter(|&c| is_grease_component(c))
            .count();
        (entries, listed)
    };
    assert_eq!(grease_in(&bob), (1, 1));
    // Bob's update re-signs his leaf: the old GREASE goes, new GREASE comes.
    let out = bob.commit(&env, CommitOptions::default()).unwrap();
    let _ = bob.merge_pending_commit().unwrap();
    deliver(&env, &mut alice, &out.commit).unwrap();
    assert_eq!(grease_in(&bob), (1, 1));
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
}
