//! Groups through the Delivery Service over HTTP: creation, the add-everyone commit with its
//! Welcome routed to every device of the invited user, messages delivered exactly once and in
//! order, first-commit-wins with the winner named, invalid commits refused before delivery,
//! removal, and long polls.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use canopy_core::group::{CommitOptions, CreateParams, JoinParams, ProcessedMessage};
use canopy_core::key_package::{BasicCredentialValidator, KeyPackageBundle};
use canopy_core::{Env, Group, KeyPackage, MlsMessage};
use canopy_ds::Limits;
use canopy_ds_api::types::{Accepted, AckRequest, Cursor, GroupStatus};
use canopy_ds_api::{Delivery, DeliveryKind, ErrorBody, ErrorCode, hex};
use common::{Device, NOW, SUITE, Server};

/// A device with its MLS state.
struct Member {
    device: Device,
    group: Option<Group>,
    bundles: Vec<KeyPackageBundle>,
}

impl Member {
    fn new(id: &str) -> Self {
        Self {
            device: Device::new(id),
            group: None,
            bundles: Vec::new(),
        }
    }

    fn publish(&mut self, server: &Server) {
        let b = self.device.key_package();
        self.device
            .call(
                server,
                "POST",
                "/v1/key-packages",
                &b.key_package.to_message_bytes().unwrap(),
            )
            .ok();
        self.bundles.push(b);
    }

    fn group(&mut self) -> &mut Group {
        self.group.as_mut().unwrap()
    }

    /// Reads the inbox (waiting up to `wait` s), acknowledges what it read.
    fn read(&self, server: &Server, wait: u64) -> Vec<Delivery> {
        let body = self
            .device
            .call(server, "GET", &format!("/v1/inbox?wait={wait}"), b"")
            .ok()
            .body;
        let deliveries = Delivery::decode_all(&body).unwrap();
        let mut ack = AckRequest::default();
        for d in &deliveries {
            match d.kind {
                DeliveryKind::Welcome => ack.welcomes = Some(d.seq),
                DeliveryKind::Group => ack.groups.push(Cursor {
                    group_id: hex::encode(&d.group_id),
                    seq: d.seq,
                }),
            }
        }
        if !deliveries.is_empty() {
            self.device
                .call(
                    server,
                    "POST",
                    "/v1/inbox/ack",
                    serde_json::to_string(&ack).unwrap().as_bytes(),
                )
                .ok();
        }
        // Our own handshake messages come back (a client that crashed after posting learns
        // that they were accepted); these tests merge at once, so they skip them.
        let own = self.group.as_ref().map(|g| g.own_leaf().value());
        deliveries
            .into_iter()
            .filter(|d| {
                !matches!(MlsMessage::from_bytes(&d.message), Ok(MlsMessage::PublicMessage(pm))
                    if Some(pm.content.sender) == own.map(canopy_core::wire::Sender::Member))
            })
            .collect()
    }
}

fn env<'a>(
    p: &'a canopy_crypto_rustcrypto::RustCryptoProvider,
    v: &'a BasicCredentialValidator,
) -> Env<'a> {
    Env::new(p, v).at(NOW)
}

fn gid_path(group: &Group, tail: &str) -> String {
    format!("/v1/groups/{}{tail}", hex::encode(group.group_id()))
}

#[test]
fn a_group_lives_through_the_delivery_service() {
    let server = Server::start(Limits::default());
    let validator = BasicCredentialValidator::new();
    let mut alice = Member::new("alice/laptop");
    let mut bob = Member::new("bob/laptop");
    let mut phone = Member::new("bob/phone");
    alice.device.register(&server).ok();
    bob.device.register(&server).ok();
    phone.device.add_to_user(&server, &bob.device).ok();
    bob.publish(&server);
    phone.publish(&server);
    let provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
    let e = env(&provider, &validator);

    // Alice creates the group and registers it with its GroupInfo (tree included).
    let signer = Arc::new(alice.device.key.clone());
    alice.group = Some(
        Group::create(
            &e,
            CreateParams::new(
                SUITE,
                b"friends".to_vec(),
                &alice.device.leaf_params(),
                signer,
            ),
        )
        .unwrap(),
    );
    let info = alice.group().group_info(&e, true).unwrap();
    let status: GroupStatus = alice
        .device
        .call(&server, "POST", "/v1/groups", &info)
        .ok()
        .json();
    assert_eq!((status.epoch, status.members.len()), (0, 1));
    // The same group id again.
    assert_eq!(
        alice
            .device
            .call(&server, "POST", "/v1/groups", &info)
            .code(),
        ErrorCode::GroupExists
    );

    // Alice invites bob: one KeyPackage per device, one commit, one Welcome for both.
    let claimed = alice
        .device
        .call(
            &server,
            "POST",
            &format!("/v1/users/bob/key-packages/claim?suite={}", SUITE.0),
            b"",
        )
        .ok()
        .body;
    let mut kps: Vec<KeyPackage> = Vec::new();
    let mut rest = claimed.as_slice();
    while !rest.is_empty() {
        let (m, _, after) = MlsMessage::split_first(rest).unwrap();
        let MlsMessage::KeyPackage(kp) = m else {
            panic!()
        };
        kps.push(*kp);
        rest = after;
    }
    assert_eq!(kps.len(), 2);
    let out = alice
        .group()
        .commit(
            &e,
            CommitOptions {
                add: kps,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let body = [out.commit.clone(), out.welcome.unwrap()].concat();
    let accepted: Accepted = alice
        .device
        .call(
            &server,
            "POST",
            &gid_path(alice.group.as_ref().unwrap(), "/messages"),
            &body,
        )
        .ok()
        .json();
    assert_eq!((accepted.seq, accepted.epoch), (1, 1));
    let _ = alice.group().merge_pending_commit().unwrap();
    let info = alice.group().group_info(&e, true).unwrap();
    alice
        .device
        .call(
            &server,
            "POST",
            &gid_path(alice.group.as_ref().unwrap(), "/group-info"),
            &info,
        )
        .ok();

    // Both of bob's devices find the Welcome (and not the commit that added them) and join.
    for m in [&mut bob, &mut phone] {
        let got = m.read(&server, 0);
        assert_eq!(got.len(), 1, "{}", m.device.id);
        assert_eq!(got[0].kind, DeliveryKind::Welcome);
        let MlsMessage::Welcome(w) = MlsMessage::from_bytes(&got[0].message).unwrap() else {
            panic!()
        };
        let bundle = m.bundles.pop().unwrap();
        let signer = Arc::new(m.device.key.clone());
        m.group = Some(Group::join(&e, JoinParams::new(&w, &bundle, signer)).unwrap());
        assert_eq!(
            m.group().epoch_authenticator(),
            alice.group().epoch_authenticator()
        );
    }
    let status: GroupStatus = bob
        .device
        .call(
            &server,
            "GET",
            &gid_path(alice.group.as_ref().unwrap(), ""),
            b"",
        )
        .ok()
        .json();
    let members: Vec<String> = status.members.iter().map(ToString::to_string).collect();
    assert_eq!(members, ["alice/laptop", "bob/laptop", "bob/phone"]);

    // Messages both ways, exactly once, in order; nobody gets its own back.
    let path = gid_path(alice.group.as_ref().unwrap(), "/messages");
    let mut sent = Vec::new();
    for (i, who) in [0usize, 1, 0, 2, 1].iter().enumerate() {
        let text = format!("message {i}");
        let m = [&mut alice, &mut bob, &mut phone][*who]
            .group()
            .encrypt_application(&e, text.as_bytes(), b"")
            .unwrap();
        let d = [&alice, &bob, &phone][*who];
        d.device.call(&server, "POST", &path, &m).ok();
        sent.push((*who, text));
    }
    for (me, m) in [&mut alice, &mut bob, &mut phone].into_iter().enumerate() {
        let got = m.read(&server, 0);
        let texts: Vec<String> = got
            .iter()
            .map(
                |d| match m.group().process_message(&e, &d.message).unwrap() {
                    ProcessedMessage::Application { data, .. } => String::from_utf8(data).unwrap(),
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        let expected: Vec<String> = sent
            .iter()
            .filter(|(w, _)| *w != me)
            .map(|(_, t)| t.clone())
            .collect();
        assert_eq!(texts, expected, "{}", m.device.id);
        assert!(got.windows(2).all(|w| w[0].seq < w[1].seq));
        // Acknowledged: nothing again.
        assert!(m.read(&server, 0).is_empty());
    }

    // Two commits for epoch 1: alice's wins, bob's phone is told which message won.
    let update = CommitOptions {
        force_path: true,
        ..CommitOptions::default()
    };
    let a = alice.group().commit(&e, update.clone()).unwrap();
    let p = phone.group().commit(&e, update.clone()).unwrap();
    let won: Accepted = alice
        .device
        .call(&server, "POST", &path, &a.commit)
        .ok()
        .json();
    let _ = alice.group().merge_pending_commit().unwrap();
    let lost = phone.device.call(&server, "POST", &path, &p.commit);
    assert_eq!(lost.code(), ErrorCode::CommitConflict);
    let conflict = lost.json::<ErrorBody>().conflict.unwrap();
    assert_eq!((conflict.epoch, conflict.winner), (2, Some(won.seq)));
    assert!(phone.group().discard_pending_commit());
    let winner = phone
        .device
        .call(
            &server,
            "GET",
            &gid_path(
                alice.group.as_ref().unwrap(),
                &format!("/messages/{}", won.seq),
            ),
            b"",
        )
        .ok()
        .body;
    assert_eq!(winner, a.commit);
    for m in [&mut bob, &mut phone] {
        let got = m.read(&server, 0);
        assert_eq!(got.len(), 1);
        let ProcessedMessage::Commit(staged) =
            m.group().process_message(&e, &got[0].message).unwrap()
        else {
            panic!()
        };
        let _ = m.group().merge_staged_commit(*staged).unwrap();
        assert_eq!(
            m.group().epoch_authenticator(),
            alice.group().epoch_authenticator()
        );
    }

    // A commit whose signature was tampered with is refused before anyone receives it. The
    // PublicMessage ends with the signature, the confirmation tag and the membership tag
    // (each a one-byte size and the bytes; the DS cannot check the tags).
    let mut bad = alice.group().commit(&e, update).unwrap().commit;
    assert!(alice.group().discard_pending_commit());
    let at = bad.len() - 33 - 33 - 10;
    bad[at] ^= 0x40;
    let refused = alice.device.call(&server, "POST", &path, &bad);
    assert_eq!(
        refused.code(),
        ErrorCode::InvalidMessage,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
    let status: GroupStatus = alice
        .device
        .call(
            &server,
            "GET",
            &gid_path(alice.group.as_ref().unwrap(), ""),
            b"",
        )
        .ok()
        .json();
    assert_eq!(status.epoch, 2);
    assert!(bob.read(&server, 0).is_empty());

    // Alice removes bob's phone: the phone reads the commit that removes it, then nothing.
    let phone_leaf = phone.group().own_leaf();
    let out = alice
        .group()
        .commit(
            &e,
            CommitOptions {
                remove: vec![phone_leaf],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    alice.device.call(&server, "POST", &path, &out.commit).ok();
    let _ = alice.group().merge_pending_commit().unwrap();
    let got = phone.read(&server, 0);
    assert_eq!(got.len(), 1);
    let ProcessedMessage::Commit(staged) =
        phone.group().process_message(&e, &got[0].message).unwrap()
    else {
        panic!()
    };
    assert!(staged.summary().self_removed);
    let status: GroupStatus = alice
        .device
        .call(
            &server,
            "GET",
            &gid_path(alice.group.as_ref().unwrap(), ""),
            b"",
        )
        .ok()
        .json();
    assert_eq!(status.members.len(), 2);
    let later = alice
        .group()
        .encrypt_application(&e, b"after", b"")
        .unwrap();
    alice.device.call(&server, "POST", &path, &later).ok();
    assert!(phone.read(&server, 0).is_empty());
    // And it can no longer post.
    let m = phone
        .group()
        .encrypt_application(&e, b"still here?", b"")
        .unwrap();
    assert_eq!(
        phone.device.call(&server, "POST", &path, &m).code(),
        ErrorCode::Forbidden
    );
    let got = bob.read(&server, 0);
    assert_eq!(got.len(), 2, "bob reads the removal and alice's message");
}

#[test]
fn a_long_poll_returns_when_a_message_arrives() {
    let server = Server::start(Limits::default());
    let validator = BasicCredentialValidator::new();
    let mut alice = Member::new("alice/laptop");
    let mut bob = Member::new("bob/laptop");
    alice.device.register(&server).ok();
    bob.device.register(&server).ok();
    bob.publish(&server);
    let provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
    let e = env(&provider, &validator);
    alice.group = Some(
        Group::create(
            &e,
            CreateParams::new(
                SUITE,
                b"poll".to_vec(),
                &alice.device.leaf_params(),
                Arc::new(alice.device.key.clone()),
            ),
        )
        .unwrap(),
    );
    let info = alice.group().group_info(&e, true).unwrap();
    alice.device.call(&server, "POST", "/v1/groups", &info).ok();
    let kp = bob.bundles[0].key_package.clone();
    let out = alice
        .group()
        .commit(
            &e,
            CommitOptions {
                add: vec![kp],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let path = gid_path(alice.group.as_ref().unwrap(), "/messages");
    alice
        .device
        .call(
            &server,
            "POST",
            &path,
            &[out.commit, out.welcome.unwrap()].concat(),
        )
        .ok();
    let _ = alice.group().merge_pending_commit().unwrap();
    assert_eq!(bob.read(&server, 0).len(), 1);

    // An empty inbox with wait=0 answers at once.
    let t = Instant::now();
    assert!(bob.read(&server, 0).is_empty());
    assert!(t.elapsed() < Duration::from_secs(2));

    // Bob waits; alice posts 300 ms later; bob's poll returns with it well before its 20 s.
    let message = alice
        .group()
        .encrypt_application(&e, b"wake up", b"")
        .unwrap();
    std::thread::scope(|s| {
        let poll = s.spawn(|| {
            let t = Instant::now();
            (bob.read(&server, 20), t.elapsed())
        });
        std::thread::sleep(Duration::from_millis(300));
        alice.device.call(&server, "POST", &path, &message).ok();
        let (got, waited) = poll.join().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].message, message);
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_secs(10),
            "{waited:?}"
        );
    });

    // POST /v1/inbox acknowledges, then reads, in one request.
    let (m1, m2) = (
        alice.group().encrypt_application(&e, b"one", b"").unwrap(),
        alice.group().encrypt_application(&e, b"two", b"").unwrap(),
    );
    alice.device.call(&server, "POST", &path, &m1).ok();
    alice.device.call(&server, "POST", &path, &m2).ok();
    let unread = |answer: common::Answer| Delivery::decode_all(&answer.ok().body).unwrap();
    let both = unread(bob.device.call(&server, "GET", "/v1/inbox", b""));
    assert_eq!(both.len(), 2);
    assert_eq!((&both[0].message, &both[1].message), (&m1, &m2));
    let ack = |seq: u64| {
        serde_json::json!({"groups": [{"group_id": hex::encode(&both[0].group_id), "seq": seq}]})
            .to_string()
    };
    let after_first =
        unread(
            bob.device
                .call(&server, "POST", "/v1/inbox", ack(both[0].seq).as_bytes()),
        );
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].message, m2);
    let none = unread(bob.device.call(
        &server,
        "POST",
        "/v1/inbox?wait=0",
        ack(both[1].seq).as_bytes(),
    ));
    assert!(none.is_empty());
    assert!(unread(bob.device.call(&server, "GET", "/v1/inbox", b"")).is_empty());
    // A malformed acknowledgement is refused, and reads nothing.
    assert_eq!(
        bob.device.call(&server, "POST", "/v1/inbox", b"{").code(),
        ErrorCode::BadRequest
    );
}

/// Two DS processes (two servers, each with its own connections, caches and wakers) on one
/// PostgreSQL database serve the same group: a commit accepted by one is the winner the
/// other names, and a long poll on one is woken by a message posted to the other
/// (`LISTEN`/`NOTIFY`). Runs when the suite runs against PostgreSQL.
#[test]
fn two_delivery_services_on_one_postgres_serve_one_group() {
    let Some(url) = common::postgres() else {
        eprintln!("not run: set CANOPY_DS_BACKEND=postgres and CANOPY_TEST_POSTGRES");
        return;
    };
    let schema = common::fresh_schema();
    let a = Server::on_postgres(&url, &schema, Limits::default());
    let b = Server::on_postgres(&url, &schema, Limits::default());
    let validator = BasicCredentialValidator::new();
    let provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
    let e = env(&provider, &validator);
    let mut alice = Member::new("alice/laptop");
    let mut bob = Member::new("bob/laptop");
    alice.device.register(&a).ok();
    bob.device.register(&b).ok();
    bob.publish(&b);
    alice.group = Some(
        Group::create(
            &e,
            CreateParams::new(
                SUITE,
                b"two servers".to_vec(),
                &alice.device.leaf_params(),
                Arc::new(alice.device.key.clone()),
            ),
        )
        .unwrap(),
    );
    let info = alice.group().group_info(&e, true).unwrap();
    alice.device.call(&a, "POST", "/v1/groups", &info).ok();
    let kp = bob.bundles[0].key_package.clone();
    let out = alice
        .group()
        .commit(
            &e,
            CommitOptions {
                add: vec![kp],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let path = gid_path(alice.group.as_ref().unwrap(), "/messages");
    alice
        .device
        .call(
            &a,
            "POST",
            &path,
            &[out.commit, out.welcome.unwrap()].concat(),
        )
        .ok();
    let _ = alice.group().merge_pending_commit().unwrap();
    // Bob, on the other server, finds the Welcome and joins.
    let got = bob.read(&b, 0);
    assert_eq!(got.len(), 1);
    let MlsMessage::Welcome(w) = MlsMessage::from_bytes(&got[0].message).unwrap() else {
        panic!()
    };
    let bundle = bob.bundles.pop().unwrap();
    bob.group = Some(
        Group::join(
            &e,
            JoinParams::new(&w, &bundle, Arc::new(bob.device.key.clone())),
        )
        .unwrap(),
    );

    // An application message of epoch 1, posted later.
    let app = alice
        .group()
        .encrypt_application(&e, b"across servers", b"")
        .unwrap();

    // Commits for the same epoch through both servers: one wins, the other names it.
    let update = CommitOptions {
        force_path: true,
        ..CommitOptions::default()
    };
    let ca = alice.group().commit(&e, update.clone()).unwrap();
    let cb = bob.group().commit(&e, update).unwrap();
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| alice.device.call(&a, "POST", &path, &ca.commit));
        let tb = s.spawn(|| bob.device.call(&b, "POST", &path, &cb.commit));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    let (winner, loser) = if ra.status == 200 { (ra, rb) } else { (rb, ra) };
    let won: Accepted = winner.json();
    assert_eq!(loser.code(), ErrorCode::CommitConflict);
    assert_eq!(
        loser.json::<ErrorBody>().conflict.unwrap().winner,
        Some(won.seq)
    );

    // A long poll on server b is woken by a message posted to server a.
    let status: GroupStatus = bob
        .device
        .call(&b, "GET", &gid_path(alice.group.as_ref().unwrap(), ""), b"")
        .ok()
        .json();
    assert_eq!(status.epoch, 2);
    let _ = bob.read(&b, 0);
    std::thread::scope(|s| {
        let poll = s.spawn(|| {
            let t = Instant::now();
            let body = bob
                .device
                .call(&b, "GET", "/v1/inbox?wait=20", b"")
                .ok()
                .body;
            (Delivery::decode_all(&body).unwrap(), t.elapsed())
        });
        std::thread::sleep(Duration::from_millis(300));
        alice.device.call(&a, "POST", &path, &app).ok();
        let (got, waited) = poll.join().unwrap();
        assert!(got.iter().any(|d| d.message == app), "{got:?}");
        assert!(waited < Duration::from_secs(10), "{waited:?}");
    });
}

/// A group whose handshake messages are PrivateMessages: the DS orders its commits by the
/// clear epoch (first wins, the winner named), routes Welcomes by KeyPackageRef, applies the
/// removals the committer declares, refuses PublicMessage handshakes, and says which mode
/// the group is in.
#[test]
fn a_private_group_is_ordered_by_epoch_with_declared_membership() {
    use canopy_core::group::{GroupConfig, HandshakeFormat};
    use canopy_ds_api::types::GroupMode;
    let server = Server::start(Limits::default());
    let validator = BasicCredentialValidator::new();
    let provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
    let e = env(&provider, &validator);
    let config = GroupConfig {
        handshake: HandshakeFormat::Private,
        ..GroupConfig::default()
    };
    let mut alice = Member::new("alice/laptop");
    let mut bob = Member::new("bob/laptop");
    let mut carol = Member::new("carol/laptop");
    for m in [&alice, &bob, &carol] {
        m.device.register(&server).ok();
    }
    bob.publish(&server);
    carol.publish(&server);
    alice.group = Some(
        Group::create(
            &e,
            CreateParams::new(
                SUITE,
                b"private".to_vec(),
                &alice.device.leaf_params(),
                Arc::new(alice.device.key.clone()),
            )
            .config(config),
        )
        .unwrap(),
    );
    let info = alice.group().group_info(&e, true).unwrap();
    let status: GroupStatus = alice
        .device
        .call(&server, "POST", "/v1/groups?mode=private", &info)
        .ok()
        .json();
    assert_eq!(status.mode, GroupMode::Private);
    let path = gid_path(alice.group.as_ref().unwrap(), "/messages");

    // The add: a PrivateMessage commit; the Welcome reaches both new devices.
    let kps = vec![
        bob.bundles[0].key_package.clone(),
        carol.bundles[0].key_package.clone(),
    ];
    let out = alice
        .group()
        .commit(
            &e,
            CommitOptions {
                add: kps,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    assert!(matches!(
        MlsMessage::from_bytes(&out.commit).unwrap(),
        MlsMessage::PrivateMessage(_)
    ));
    alice
        .device
        .call(
            &server,
            "POST",
            &path,
            &[out.commit, out.welcome.unwrap()].concat(),
        )
        .ok();
    let _ = alice.group().merge_pending_commit().unwrap();
    for m in [&mut bob, &mut carol] {
        let got = m.read(&server, 0);
        assert_eq!(got.len(), 1);
        let MlsMessage::Welcome(w) = MlsMessage::from_bytes(&got[0].message).unwrap() else {
            panic!()
        };
        let bundle = m.bundles.pop().unwrap();
        m.group = Some(
            Group::join(
                &e,
                JoinParams::new(&w, &bundle, Arc::new(m.device.key.clone())).config(config),
            )
            .unwrap(),
        );
    }
    let status: GroupStatus = alice
        .device
        .call(
            &server,
            "GET",
            &gid_path(alice.group.as_ref().unwrap(), ""),
            b"",
        )
        .ok()
        .json();
    assert_eq!((status.epoch, status.members.len()), (1, 3));

    // Two commits for epoch 1: the first wins by its clear epoch, the second is told.
    let update = CommitOptions {
        force_path: true,
        ..CommitOptions::default()
    };
    let b = bob.group().commit(&e, update.clone()).unwrap();
    let c = carol.group().commit(&e, update).unwrap();
    let won: Accepted = bob
        .device
        .call(&server, "POST", &path, &b.commit)
        .ok()
        .json();
    let lost = carol.device.call(&server, "POST", &path, &c.commit);
    assert_eq!(lost.code(), ErrorCode::CommitConflict);
    assert_eq!(
        lost.json::<ErrorBody>().conflict.unwrap().winner,
        Some(won.seq)
    );

    // A removal the committer declares: carol no longer receives what follows.
    let _ = bob.group().merge_pending_commit().unwrap();
    assert!(carol.group().discard_pending_commit());
    let carol_leaf = carol.group().own_leaf();
    for m in [&mut alice, &mut carol] {
        // PrivateMessage senders are encrypted: our own echoed commits come back too, and the
        // group says so (OwnMessage).
        let mut merged = 0;
        for d in m.read(&server, 0) {
            match m.group().process_message(&e, &d.message) {
                Ok(ProcessedMessage::Commit(staged)) => {
                    let _ = m.group().merge_staged_commit(*staged).unwrap();
                    merged += 1;
                }
                Err(canopy_core::GroupError::OwnMessage) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(merged, 1, "{}", m.device.id);
    }
    // A removal the committer does not declare: the DS cannot see it, so carol still
    // receives the group's messages (her client knows it was removed).
    let out = alice
        .group()
        .commit(
            &e,
            CommitOptions {
                remove: vec![carol_leaf],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    alice.device.call(&server, "POST", &path, &out.commit).ok();
    let status: GroupStatus = alice
        .device
        .call(
            &server,
            "GET",
            &gid_path(alice.group.as_ref().unwrap(), ""),
            b"",
        )
        .ok()
        .json();
    assert_eq!((status.epoch, status.members.len()), (3, 3));
    let _ = alice.group().merge_pending_commit().unwrap();
    // A declared removal (canopy-removes): the DS ends bob's membership at that commit.
    let bob_leaf = bob.group().own_leaf();
    let out = alice
        .group()
        .commit(
            &e,
            CommitOptions {
                remove: vec![bob_leaf],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let declared = common::raw_signed(
        &server,
        &alice.device,
        "POST",
        &path,
        &out.commit,
        &[("canopy-removes", "bob/laptop")],
    );
    assert_eq!(
        declared.status,
        200,
        "{}",
        String::from_utf8_lossy(&declared.body)
    );
    let status: GroupStatus = alice
        .device
        .call(
            &server,
            "GET",
            &gid_path(alice.group.as_ref().unwrap(), ""),
            b"",
        )
        .ok()
        .json();
    let members: Vec<String> = status.members.iter().map(ToString::to_string).collect();
    assert_eq!(members, ["alice/laptop", "carol/laptop"]);
    let got = bob.read(&server, 0);
    assert!(
        got.iter().any(|d| d.message == out.commit),
        "bob reads the commit that removes him"
    );
    let later = alice
        .group()
        .encrypt_application(&e, b"after bob", b"")
        .unwrap();
    alice.device.call(&server, "POST", &path, &later).ok();
    assert!(bob.read(&server, 0).is_empty());

    // A PublicMessage handshake in a private group is the wrong mode.
    let public_group_commit = {
        let mut g = Group::create(
            &e,
            CreateParams::new(
                SUITE,
                b"private".to_vec(),
                &alice.device.leaf_params(),
                Arc::new(alice.device.key.clone()),
            ),
        )
        .unwrap();
        g.commit(
            &e,
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap()
        .commit
    };
    assert_eq!(
        alice
            .device
            .call(&server, "POST", &path, &public_group_commit)
            .code(),
        ErrorCode::WrongMode
    );
}
