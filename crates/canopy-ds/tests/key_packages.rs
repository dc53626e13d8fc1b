//! The KeyPackage directory: batches, one per device per claim, the last-resort KeyPackage
//! kept, counts, validation at the door, rate limits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use canopy_core::MlsMessage;
use canopy_ds::Limits;
use canopy_ds_api::ErrorCode;
use canopy_ds_api::types::{KeyPackageCounts, Published};
use common::{Device, SUITE, Server};

fn kp_bytes(d: &Device) -> Vec<u8> {
    d.key_package().key_package.to_message_bytes().unwrap()
}

fn claimed(body: &[u8]) -> Vec<Vec<u8>> {
    let mut rest = body;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (_, own, after) = MlsMessage::split_first(rest).unwrap();
        out.push(own.to_vec());
        rest = after;
    }
    out
}

#[test]
fn claims_take_one_per_device_and_keep_the_last_resort() {
    let server = Server::start(Limits::default());
    let laptop = Device::new("bob/laptop");
    laptop.register(&server).ok();
    let phone = Device::new("bob/phone");
    phone.add_to_user(&server, &laptop).ok();
    let alice = Device::new("alice/laptop");
    alice.register(&server).ok();

    let batch: Vec<Vec<u8>> = (0..3).map(|_| kp_bytes(&laptop)).collect();
    let published: Published = laptop
        .call(&server, "POST", "/v1/key-packages", &batch.concat())
        .ok()
        .json();
    assert_eq!(published.accepted, 3);
    let last = kp_bytes(&laptop);
    laptop
        .call(&server, "POST", "/v1/key-packages?last_resort=true", &last)
        .ok();
    let phone_kp = kp_bytes(&phone);
    phone
        .call(&server, "POST", "/v1/key-packages", &phone_kp)
        .ok();

    let counts: KeyPackageCounts = laptop
        .call(&server, "GET", "/v1/key-packages/count", b"")
        .ok()
        .json();
    assert_eq!(counts.suites.len(), 1);
    assert_eq!(
        (
            counts.suites[0].suite,
            counts.suites[0].remaining,
            counts.suites[0].last_resort
        ),
        (SUITE.0, 3, true)
    );

    let claim = |who: &Device| {
        who.call(
            &server,
            "POST",
            &format!("/v1/users/bob/key-packages/claim?suite={}", SUITE.0),
            b"",
        )
    };
    // First claim: the oldest of each device.
    let first = claimed(&claim(&alice).ok().body);
    assert_eq!(first, vec![batch[0].clone(), phone_kp]);
    // The phone is out; the laptop's ordinary ones go in order, then its last resort stays.
    assert_eq!(claimed(&claim(&alice).ok().body), vec![batch[1].clone()]);
    assert_eq!(claimed(&claim(&alice).ok().body), vec![batch[2].clone()]);
    for _ in 0..3 {
        assert_eq!(claimed(&claim(&alice).ok().body), vec![last.clone()]);
    }
    let counts: KeyPackageCounts = laptop
        .call(&server, "GET", "/v1/key-packages/count", b"")
        .ok()
        .json();
    assert_eq!(
        (counts.suites[0].remaining, counts.suites[0].last_resort),
        (0, true)
    );
    // Another suite: none.
    assert_eq!(
        alice
            .call(
                &server,
                "POST",
                "/v1/users/bob/key-packages/claim?suite=2",
                b""
            )
            .code(),
        ErrorCode::NoKeyPackages
    );
    assert_eq!(
        alice
            .call(
                &server,
                "POST",
                "/v1/users/nobody/key-packages/claim?suite=1",
                b""
            )
            .code(),
        ErrorCode::UnknownUser
    );
}

#[test]
fn key_packages_are_checked_at_the_door() {
    let limits = Limits {
        max_key_package_batch: 4,
        max_key_packages_per_device: 5,
        ..Limits::default()
    };
    let server = Server::start(limits);
    let bob = Device::new("bob/laptop");
    bob.register(&server).ok();
    let eve = Device::new("eve/laptop");
    eve.register(&server).ok();

    // Not MLS, not a KeyPackage, trailing garbage.
    assert_eq!(
        bob.call(&server, "POST", "/v1/key-packages", b"\x00\x01garbage")
            .code(),
        ErrorCode::MalformedMls
    );
    assert_eq!(
        bob.call(&server, "POST", "/v1/key-packages", b"").code(),
        ErrorCode::MalformedMls
    );
    let mut tail = kp_bytes(&bob);
    tail.push(0);
    assert_eq!(
        bob.call(&server, "POST", "/v1/key-packages", &tail).code(),
        ErrorCode::MalformedMls
    );
    // Another device's KeyPackage (its key and credential), published by eve.
    assert_eq!(
        eve.call(&server, "POST", "/v1/key-packages", &kp_bytes(&bob))
            .code(),
        ErrorCode::InvalidMessage
    );
    // A KeyPackage whose signature is broken.
    let mut broken = kp_bytes(&bob);
    let at = broken.len() - 3;
    broken[at] ^= 1;
    assert_eq!(
        bob.call(&server, "POST", "/v1/key-packages", &broken)
            .code(),
        ErrorCode::InvalidMessage
    );
    // Over the batch limit, then over the per-device limit; nothing of a refused batch is kept.
    let five: Vec<u8> = (0..5).map(|_| kp_bytes(&bob)).collect::<Vec<_>>().concat();
    assert_eq!(
        bob.call(&server, "POST", "/v1/key-packages", &five).code(),
        ErrorCode::TooLarge
    );
    let four: Vec<u8> = (0..4).map(|_| kp_bytes(&bob)).collect::<Vec<_>>().concat();
    bob.call(&server, "POST", "/v1/key-packages", &four).ok();
    let two: Vec<u8> = (0..2).map(|_| kp_bytes(&bob)).collect::<Vec<_>>().concat();
    assert_eq!(
        bob.call(&server, "POST", "/v1/key-packages", &two).code(),
        ErrorCode::TooManyKeyPackages
    );
    let counts: KeyPackageCounts = bob
        .call(&server, "GET", "/v1/key-packages/count", b"")
        .ok()
        .json();
    assert_eq!(counts.suites[0].remaining, 4);
}

#[test]
fn claims_are_rate_limited() {
    let limits = Limits {
        claims_per_minute: 3,
        ..Limits::default()
    };
    let server = Server::start(limits);
    let bob = Device::new("bob/laptop");
    bob.register(&server).ok();
    bob.call(
        &server,
        "POST",
        "/v1/key-packages?last_resort=1",
        &kp_bytes(&bob),
    )
    .ok();
    let alice = Device::new("alice/laptop");
    alice.register(&server).ok();
    let path = format!("/v1/users/bob/key-packages/claim?suite={}", SUITE.0);
    for _ in 0..3 {
        alice.call(&server, "POST", &path, b"").ok();
    }
    assert_eq!(
        alice.call(&server, "POST", &path, b"").code(),
        ErrorCode::RateLimited
    );
    // Another device's budget is its own.
    bob.call(&server, "POST", &path, b"").ok();
}
