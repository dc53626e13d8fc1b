//! The chat commands end to end on loopback: `canopy serve` and three homes (alice, and bob
//! with a laptop and later a phone) as separate processes. Register, invite, messages both
//! ways, an interactive `chat`, a device added later that reads new messages but not old
//! ones, the Delivery Service killed and restarted mid-conversation with nothing lost,
//! duplicated or reordered, leave and remove.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Kills the server when the test ends, whatever happens.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &Path, listen: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", listen])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Server { child, url }
}

/// Runs `canopy --json --home HOME ARGS`, returns its JSON lines; panics on failure.
fn canopy(home: &Path, args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .arg("--json")
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "canopy {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The texts of the message events, as `from: text`.
fn messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "message")
        .map(|e| {
            format!(
                "{}: {}",
                e["from"].as_str().unwrap(),
                e["text"].as_str().unwrap()
            )
        })
        .collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["event"].as_str().map(str::to_owned))
        .collect()
}

fn home(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[test]
fn two_users_three_devices_through_the_delivery_service() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ds.db");
    let server = serve(&db, "127.0.0.1:0");
    let (alice, bob, phone) = (
        home(dir.path(), "alice"),
        home(dir.path(), "bob"),
        home(dir.path(), "phone"),
    );
    let url = server.url.clone();
    canopy(
        &alice,
        &[
            "init", "--user", "alice", "--device", "laptop", "--server", &url,
        ],
    );
    canopy(
        &bob,
        &[
            "init", "--user", "bob", "--device", "laptop", "--server", &url,
        ],
    );
    canopy(&alice, &["register", "--key-packages", "3"]);
    canopy(&bob, &["register", "--key-packages", "3"]);

    canopy(&alice, &["create", "friends"]);
    let invited = canopy(&alice, &["invite", "friends", "bob"]);
    assert_eq!(invited.last().unwrap()["added"], 1);
    assert_eq!(kinds(&canopy(&bob, &["read"])), ["joined"]);

    // Every command reads what is new before it acts (and shows it).
    canopy(&alice, &["send", "friends", "hello bob"]);
    let sent = canopy(&bob, &["send", "alice/friends", "hi alice"]);
    assert_eq!(messages(&sent), ["alice/laptop: hello bob"]);
    let sent = canopy(&alice, &["send", "friends", "how are you?"]);
    assert_eq!(messages(&sent), ["bob/laptop: hi alice"]);
    assert_eq!(
        messages(&canopy(&bob, &["read"])),
        ["alice/laptop: how are you?"]
    );
    assert!(messages(&canopy(&alice, &["read"])).is_empty());
    // Read once: nothing again.
    assert!(messages(&canopy(&bob, &["read"])).is_empty());

    // An interactive chat: bob types two lines; alice reads them, answers; bob's chat shows it.
    let mut chat = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .arg("--json")
        .arg("--home")
        .arg(&bob)
        .args(["chat", "alice/friends"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = chat.stdin.take().unwrap();
    writeln!(stdin, "typed one").unwrap();
    writeln!(stdin, "typed two").unwrap();
    stdin.flush().unwrap();
    let mut got = Vec::new();
    for _ in 0..100 {
        got.extend(messages(&canopy(&alice, &["read", "--wait", "1"])));
        if got.len() >= 2 {
            break;
        }
    }
    assert_eq!(got, ["bob/laptop: typed one", "bob/laptop: typed two"]);
    canopy(&alice, &["send", "friends", "seen in the chat"]);
    let mut lines = BufReader::new(chat.stdout.take().unwrap()).lines();
    let mut shown = None;
    for line in lines.by_ref() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["event"] == "message" {
            shown = Some(v);
            break;
        }
    }
    assert_eq!(shown.unwrap()["text"], "seen in the chat");
    // The client killed mid-conversation: what it showed was durable and acknowledged; what
    // comes next is read by the next process from the same store, once.
    chat.kill().unwrap();
    let _ = chat.wait();
    drop(stdin);
    canopy(&alice, &["send", "friends", "while bob was away"]);
    assert_eq!(
        messages(&canopy(&bob, &["read"])),
        ["alice/laptop: while bob was away"]
    );

    // A phone added later reads what is sent after it joined, not what came before.
    canopy(
        &phone,
        &[
            "init", "--user", "bob", "--device", "phone", "--server", &url,
        ],
    );
    let request = canopy(&phone, &["device", "request"])[0]["request"]
        .as_str()
        .unwrap()
        .to_owned();
    let endorsement = canopy(&bob, &["device", "approve", &request])[0]["endorsement"]
        .as_str()
        .unwrap()
        .to_owned();
    canopy(
        &phone,
        &["device", "add", &endorsement, "--key-packages", "2"],
    );
    canopy(&bob, &["device", "sync"]);
    assert_eq!(kinds(&canopy(&phone, &["read"])), ["joined"]);
    canopy(&alice, &["send", "friends", "welcome, phone"]);
    assert_eq!(
        messages(&canopy(&phone, &["read"])),
        ["alice/laptop: welcome, phone"]
    );
    let members: Vec<Value> = canopy(&alice, &["members", "friends"]);
    assert_eq!(
        members[members.len() - 1]["members"],
        serde_json::json!(["alice/laptop", "bob/laptop", "bob/phone"])
    );

    // The Delivery Service killed mid-conversation: what was accepted before is delivered
    // after the restart, once, in order, with what is sent after.
    canopy(&alice, &["send", "friends", "before the crash 1"]);
    canopy(&alice, &["send", "friends", "before the crash 2"]);
    let addr = url.trim_start_matches("http://").to_owned();
    drop(server);
    let server = serve(&db, &addr);
    assert_eq!(server.url, url);
    canopy(&alice, &["send", "friends", "after the restart"]);
    let expected = [
        "alice/laptop: before the crash 1",
        "alice/laptop: before the crash 2",
        "alice/laptop: after the restart",
    ];
    let bob_read = messages(&canopy(&bob, &["read"]));
    assert_eq!(
        bob_read,
        [
            "alice/laptop: welcome, phone",
            expected[0],
            expected[1],
            expected[2]
        ]
    );
    assert_eq!(messages(&canopy(&phone, &["read"])), expected);

    // The phone leaves; alice's next read commits it; bob removes... alice removes bob.
    canopy(&phone, &["leave", "alice/friends"]);
    canopy(&alice, &["read"]);
    let members = canopy(&alice, &["members", "friends"]);
    assert_eq!(
        members[members.len() - 1]["members"],
        serde_json::json!(["alice/laptop", "bob/laptop"])
    );
    assert!(kinds(&canopy(&phone, &["read"])).contains(&"removed".to_owned()));
    canopy(&alice, &["remove", "friends", "bob"]);
    assert!(kinds(&canopy(&bob, &["read"])).contains(&"removed".to_owned()));
    canopy(&alice, &["send", "friends", "alone now"]);
    assert!(messages(&canopy(&bob, &["read"])).is_empty());

    // Bob's history has the conversation, each message once, in order.
    let history: Vec<String> = canopy(&bob, &["history", "alice/friends"])
        .iter()
        .filter(|e| e["from"] != "*")
        .map(|e| {
            format!(
                "{}: {}",
                e["from"].as_str().unwrap(),
                e["text"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            "alice/laptop: hello bob",
            "bob/laptop: hi alice",
            "alice/laptop: how are you?",
            "bob/laptop: typed one",
            "bob/laptop: typed two",
            "alice/laptop: seen in the chat",
            "alice/laptop: while bob was away",
            "alice/laptop: welcome, phone",
            expected[0],
            expected[1],
            expected[2],
        ]
    );
    drop(server);
}

#[test]
fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .arg("--home")
        .arg(dir.path().join("nowhere"))
        .args(["send", "g", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("canopy init"), "{err}");
    // A home whose server is not running.
    let home = dir.path().join("h");
    canopy(
        &home,
        &["init", "--user", "u", "--server", "http://127.0.0.1:9"],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .arg("--home")
        .arg(&home)
        .arg("register")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("canopy serve"));
}
