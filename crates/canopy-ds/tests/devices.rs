//! Users, devices and request authentication: forged, replayed, expired, unsigned and
//! cross-user requests are refused with their codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::Ordering;

use canopy_ds::Limits;
use canopy_ds_api::ErrorCode;
use canopy_ds_api::auth::SIGNATURE_WINDOW_SECS;
use canopy_ds_api::types::DeviceList;
use common::{Device, Server, raw};

#[test]
fn registration_binds_a_user_to_its_first_device_and_endorsed_devices_join_it() {
    let server = Server::start(Limits::default());
    let laptop = Device::new("alice/laptop");
    laptop.register(&server).ok();
    // The name is taken, whoever asks.
    assert_eq!(
        Device::new("alice/other").register(&server).code(),
        ErrorCode::UserExists
    );

    let phone = Device::new("alice/phone");
    phone.add_to_user(&server, &laptop).ok();
    let list: DeviceList = laptop
        .call(&server, "GET", "/v1/users/alice/devices", b"")
        .ok()
        .json();
    let ids: Vec<String> = list.devices.iter().map(|d| d.device.to_string()).collect();
    assert_eq!(ids, ["alice/laptop", "alice/phone"]);

    // Endorsed by a device of another user, or by nobody real: refused.
    let bob = Device::new("bob/laptop");
    bob.register(&server).ok();
    let intruder = Device::new("alice/intruder");
    assert_eq!(
        intruder.add_to_user(&server, &bob).code(),
        ErrorCode::Forbidden
    );
    let ghost = Device::new("alice/ghost");
    assert_eq!(
        intruder.add_to_user(&server, &ghost).code(),
        ErrorCode::UnknownDevice
    );
    // An endorsement signed by a key that is not the endorsing device's.
    let forged = {
        let body = serde_json::json!({
            "device": intruder.id,
            "suite": common::SUITE.0,
            "signature_key": canopy_ds_api::hex::encode(intruder.key.public.as_bytes()),
            "endorsed_by": laptop.id,
            "endorsement": canopy_ds_api::hex::encode(&bob.sign(b"anything")),
        });
        intruder.call(
            &server,
            "POST",
            "/v1/users/alice/devices",
            body.to_string().as_bytes(),
        )
    };
    assert_eq!(forged.code(), ErrorCode::BadSignature);
    // A device added to another user's name.
    assert_eq!(
        Device::new("bob/phone")
            .add_to_user(&server, &laptop)
            .code(),
        ErrorCode::Forbidden
    );
    let list: DeviceList = laptop
        .call(&server, "GET", "/v1/users/alice/devices", b"")
        .ok()
        .json();
    assert_eq!(list.devices.len(), 2);
}

#[test]
fn forged_replayed_expired_and_unsigned_requests_are_refused() {
    let server = Server::start(Limits::default());
    let alice = Device::new("alice/laptop");
    alice.register(&server).ok();
    let mallory = Device::new("mallory/laptop");
    mallory.register(&server).ok();
    let now = server.clock.load(Ordering::SeqCst);
    let path = "/v1/key-packages/count";

    // Signed by another key: forged.
    let forged = alice.call_with(
        &server,
        "GET",
        path,
        b"",
        now,
        &alice.next_nonce(),
        Some(&mallory),
    );
    assert_eq!(forged.code(), ErrorCode::BadSignature);

    // The same nonce twice: the second is a replay.
    let nonce = alice.next_nonce();
    alice
        .call_with(&server, "GET", path, b"", now, &nonce, None)
        .ok();
    assert_eq!(
        alice
            .call_with(&server, "GET", path, b"", now, &nonce, None)
            .code(),
        ErrorCode::Replayed
    );

    // Outside the window, either way.
    for ts in [
        now - SIGNATURE_WINDOW_SECS - 1,
        now + SIGNATURE_WINDOW_SECS + 1,
    ] {
        assert_eq!(
            alice
                .call_with(&server, "GET", path, b"", ts, &alice.next_nonce(), None)
                .code(),
            ErrorCode::Expired
        );
    }
    // A captured request replayed after the window: expired, even though its nonce was
    // forgotten.
    let nonce = alice.next_nonce();
    alice
        .call_with(&server, "GET", path, b"", now, &nonce, None)
        .ok();
    server
        .clock
        .store(now + SIGNATURE_WINDOW_SECS + 2, Ordering::SeqCst);
    assert_eq!(
        alice
            .call_with(&server, "GET", path, b"", now, &nonce, None)
            .code(),
        ErrorCode::Expired
    );
    server.clock.store(now, Ordering::SeqCst);

    // A signature over another path or body does not carry over.
    let nonce = alice.next_nonce();
    let content = canopy_ds_api::auth::RequestSignature {
        method: "GET",
        path_and_query: "/v1/inbox",
        device: &alice.id,
        timestamp: now,
        nonce: &nonce,
        body: b"",
    }
    .signed_content();
    let sig = canopy_ds_api::hex::encode(&alice.sign(&content));
    let headers = [
        ("canopy-device", alice.id.clone()),
        ("canopy-timestamp", now.to_string()),
        ("canopy-nonce", nonce),
        ("canopy-signature", sig),
    ];
    assert_eq!(
        raw(&server, "GET", path, b"", &headers).code(),
        ErrorCode::BadSignature
    );

    // Unsigned, half-signed, or naming a device that does not exist.
    assert_eq!(
        raw(&server, "GET", path, b"", &[]).code(),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        raw(&server, "GET", path, b"", &headers[..2]).code(),
        ErrorCode::Unauthenticated
    );
    let ghost = Device::new("ghost/laptop");
    assert_eq!(
        ghost.call(&server, "GET", path, b"").code(),
        ErrorCode::UnknownDevice
    );

    // Registering a device with a request signed by another key.
    let eve = Device::new("eve/laptop");
    let body = serde_json::json!({
        "device": eve.id,
        "suite": common::SUITE.0,
        "signature_key": canopy_ds_api::hex::encode(eve.key.public.as_bytes()),
    });
    let r = eve.call_with(
        &server,
        "POST",
        "/v1/users",
        body.to_string().as_bytes(),
        now,
        &eve.next_nonce(),
        Some(&mallory),
    );
    assert_eq!(r.code(), ErrorCode::BadSignature);
    assert_eq!(
        alice
            .call(&server, "GET", "/v1/users/eve/devices", b"")
            .code(),
        ErrorCode::UnknownUser
    );
}

#[test]
fn malformed_requests_get_typed_errors() {
    let server = Server::start(Limits::default());
    let alice = Device::new("alice/laptop");
    alice.register(&server).ok();
    assert_eq!(
        alice
            .call(&server, "POST", "/v1/users", b"{not json")
            .code(),
        ErrorCode::BadRequest
    );
    assert_eq!(
        alice.call(&server, "GET", "/v1/nowhere", b"").code(),
        ErrorCode::BadRequest
    );
    let bad_name = serde_json::json!({"device": "Alice/x", "suite": 1, "signature_key": "00"});
    assert_eq!(
        alice
            .call(
                &server,
                "POST",
                "/v1/users",
                bad_name.to_string().as_bytes()
            )
            .code(),
        ErrorCode::BadRequest
    );
    let bad_suite = serde_json::json!({"device": "zed/x", "suite": 999, "signature_key": "00"});
    assert_eq!(
        alice
            .call(
                &server,
                "POST",
                "/v1/users",
                bad_suite.to_string().as_bytes()
            )
            .code(),
        ErrorCode::BadRequest
    );
    // The OpenAPI document is served, unauthenticated, and is JSON naming every route.
    let doc: serde_json::Value = raw(&server, "GET", "/v1/openapi.json", b"", &[])
        .ok()
        .json();
    for path in ["/v1/users", "/v1/inbox", "/v1/groups/{group}/messages"] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}

/// What schemathesis found (`.ci/schemathesis.sh`): a path or query the routes cannot parse is
/// a typed JSON refusal, not axum's plain-text answer, and query flags are strict.
#[test]
fn malformed_paths_and_queries_are_json_refusals() {
    let server = Server::start(Limits::default());
    let alice = Device::new("alice/laptop");
    alice.register(&server).ok();
    for (method, path) in [
        ("GET", "/v1/groups/00/messages/-1"),
        ("GET", "/v1/groups/00/messages/312739695379127926784"),
        ("GET", "/v1/inbox?wait=soon"),
        ("POST", "/v1/key-packages?last_resort=maybe"),
        ("GET", "/v1/groups/abc"),
    ] {
        let answer = alice.call(&server, method, path, b"");
        assert_eq!(answer.status, 400, "{method} {path}");
        assert_eq!(answer.code(), ErrorCode::BadRequest, "{method} {path}");
    }
}

#[test]
fn too_many_devices_are_refused() {
    let limits = Limits {
        max_devices_per_user: 2,
        ..Limits::default()
    };
    let server = Server::start(limits);
    let first = Device::new("alice/a");
    first.register(&server).ok();
    Device::new("alice/b").add_to_user(&server, &first).ok();
    assert_eq!(
        Device::new("alice/c").add_to_user(&server, &first).code(),
        ErrorCode::TooManyDevices
    );
}

/// Every PostgreSQL connection of a DS process is terminated by the database (a restart, an
/// administrator): the pool opens new ones and requests keep being answered, none lost to
/// a dead connection. Runs when the suite runs against PostgreSQL.
#[test]
fn postgres_connections_terminated_by_the_server_are_reopened() {
    let Some(url) = common::postgres() else {
        eprintln!("not run: set CANOPY_DS_BACKEND=postgres and CANOPY_TEST_POSTGRES");
        return;
    };
    let schema = common::fresh_schema();
    let server = Server::on_postgres(&url, &schema, Limits::default());
    let laptop = Device::new("alice/laptop");
    laptop.register(&server).ok();
    let terminate = || -> usize {
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let name = format!("canopy-ds {schema}");
        let rows = admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .unwrap();
        // pg_terminate_backend only signals: wait until they are gone.
        for _ in 0..100 {
            let left = admin
                .query(
                    "SELECT 1 FROM pg_stat_activity WHERE application_name = $1",
                    &[&name],
                )
                .unwrap();
            if left.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        rows.len()
    };
    // The pool's four connections and the listener.
    assert_eq!(terminate(), 5);
    // More requests than the pool has connections, each answered.
    for i in 0..10 {
        let list: DeviceList = laptop
            .call(&server, "GET", "/v1/users/alice/devices", b"")
            .ok()
            .json();
        assert_eq!(list.devices.len(), 1, "request {i}");
    }
    Device::new("bob/laptop").register(&server).ok();
    // Terminated again (the connections reopened so far): still answered.
    assert!(terminate() >= 1);
    Device::new("carol/laptop").register(&server).ok();
}
