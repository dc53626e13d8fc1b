//! `canopy demo` runs a small group life end to end and reports every operation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Command;

#[test]
fn a_small_demo_completes_and_prints_the_summary() {
    let out = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args([
            "demo",
            "--in-process",
            "--members",
            "20",
            "--active",
            "5",
            "--messages",
            "2",
        ])
        .output()
        .expect("runs canopy");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("all 4 active members agree on the epoch authenticator after every commit"),
        "{stdout}"
    );
    for op in [
        "add-everyone commit + Welcome",
        "join from the Welcome",
        "decrypt 1 application message",
        "update commit (process, per member)",
        "remove commit (process, per member)",
    ] {
        assert!(stdout.contains(op), "missing {op}: {stdout}");
    }
    assert!(
        stdout.contains("removals committed; 18 members"),
        "{stdout}"
    );
}

#[test]
fn a_demo_of_one_member_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args(["demo", "--members", "1"])
        .output()
        .expect("runs canopy");
    assert!(!out.status.success());
}

#[test]
fn the_demo_through_the_delivery_service_completes() {
    let out = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args([
            "demo",
            "--members",
            "12",
            "--active",
            "4",
            "--messages",
            "2",
        ])
        .output()
        .expect("runs canopy");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("delivery service on http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("8 messages, each read once and in order by every other active member"),
        "{stdout}"
    );
    assert!(
        stdout.contains("all 3 active members agree on the epoch authenticator after every commit"),
        "{stdout}"
    );
    for op in [
        "register + publish KeyPackages",
        "invite everyone (claims + commit + Welcome)",
        "join from the Welcome (read)",
        "add a second device (endorse + register)",
        "restart a client from its store",
        "remove commit (create + post)",
    ] {
        assert!(stdout.contains(op), "missing {op}: {stdout}");
    }
}
