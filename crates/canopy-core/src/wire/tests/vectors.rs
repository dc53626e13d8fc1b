//! Every serialized struct in the bundled IETF vector files (not only `messages.json`)
//! decodes exactly and re-encodes to the same bytes.

use std::path::PathBuf;

use serde_json::Value;

use super::*;

/// The cases of `testdata/vectors/<name>`.
pub(super) fn load(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/vectors")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match serde_json::from_slice(&bytes).unwrap() {
        Value::Array(cases) => cases,
        other => panic!("{name}: not an array: {other:.40}"),
    }
}

/// The hex-decoded string field `name` of `case`.
pub(super) fn hex_field(case: &Value, name: &str) -> Vec<u8> {
    hex::decode(
        case[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} missing")),
    )
    .unwrap()
}

/// Decodes `bytes` as a `T`, checks the re-encoding, and returns the value.
fn exact<T>(what: &str, bytes: &[u8]) -> T
where
    T: Debug + Serialize + DeserializeBytes,
{
    let value: T = decode_exact(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(encode(&value).unwrap(), bytes, "{what} re-encoded");
    value
}

fn message(what: &str, bytes: &[u8]) -> MlsMessage {
    exact(what, bytes)
}

#[test]
fn messages_json_fields_decode_and_re_encode() {
    let cases = load("messages.json");
    assert_eq!(cases.len(), 300);
    for (i, case) in cases.iter().enumerate() {
        let f = |name: &str| (format!("case {i} {name}"), hex_field(case, name));
        for name in [
            "mls_welcome",
            "mls_group_info",
            "mls_key_package",
            "public_message_application",
            "public_message_proposal",
            "public_message_commit",
            "private_message",
        ] {
            let (what, bytes) = f(name);
            message(&what, &bytes);
        }
        let (what, b) = f("ratchet_tree");
        exact::<RatchetTree>(&what, &b);
        let (what, b) = f("group_secrets");
        exact::<GroupSecrets>(&what, &b);
        let (what, b) = f("add_proposal");
        exact::<Add>(&what, &b);
        let (what, b) = f("update_proposal");
        exact::<Update>(&what, &b);
        let (what, b) = f("remove_proposal");
        exact::<Remove>(&what, &b);
        let (what, b) = f("pre_shared_key_proposal");
        exact::<PreSharedKey>(&what, &b);
        let (what, b) = f("re_init_proposal");
        exact::<ReInit>(&what, &b);
        let (what, b) = f("external_init_proposal");
        exact::<ExternalInit>(&what, &b);
        let (what, b) = f("group_context_extensions_proposal");
        exact::<GroupContextExtensions>(&what, &b);
        let (what, b) = f("commit");
        exact::<Commit>(&what, &b);
    }
}

#[test]
fn group_info_of_messages_json_carries_a_decodable_tree() {
    let case = &load("messages.json")[0];
    let MlsMessage::GroupInfo(gi) =
        MlsMessage::from_bytes(&hex_field(case, "mls_group_info")).unwrap()
    else {
        panic!("not a GroupInfo")
    };
    // The tree, if carried, decodes through the typed view.
    let _ = gi.extensions.typed::<RatchetTree>().unwrap();
}

#[test]
fn trees_of_tree_validation_treekem_and_tree_operations_decode() {
    let mut trees = 0;
    for case in load("tree-validation.json") {
        exact::<RatchetTree>("tree-validation tree", &hex_field(&case, "tree"));
        trees += 1;
    }
    for case in load("treekem.json") {
        exact::<RatchetTree>("treekem ratchet_tree", &hex_field(&case, "ratchet_tree"));
        trees += 1;
        for path in case["update_paths"].as_array().unwrap() {
            exact::<UpdatePath>("treekem update_path", &hex_field(path, "update_path"));
        }
    }
    for case in load("tree-operations.json") {
        exact::<RatchetTree>("tree_before", &hex_field(&case, "tree_before"));
        exact::<RatchetTree>("tree_after", &hex_field(&case, "tree_after"));
        exact::<Proposal>("tree-operations proposal", &hex_field(&case, "proposal"));
        trees += 2;
    }
    assert_eq!(trees, 98 + 77 + 10);
}

#[test]
fn messages_of_message_protection_welcome_and_transcripts_decode() {
    for case in load("message-protection.json") {
        for name in [
            "proposal_pub",
            "proposal_priv",
            "commit_pub",
            "commit_priv",
            "application_priv",
        ] {
            message(name, &hex_field(&case, name));
        }
        exact::<Proposal>("proposal", &hex_field(&case, "proposal"));
        exact::<Commit>("commit", &hex_field(&case, "commit"));
    }
    for case in load("welcome.json") {
        let kp = message("key_package", &hex_field(&case, "key_package"));
        assert_eq!(kp.wire_format(), WireFormat::KeyPackage);
        let w = message("welcome", &hex_field(&case, "welcome"));
        assert_eq!(w.wire_format(), WireFormat::Welcome);
    }
    for case in load("transcript-hashes.json") {
        exact::<AuthenticatedContent>(
            "authenticated_content",
            &hex_field(&case, "authenticated_content"),
        );
    }
}

#[test]
fn passive_client_messages_decode() {
    let mut count = 0;
    for file in [
        "passive-client-welcome.json",
        "passive-client-handling-commit.json",
        "passive-client-random.json",
    ] {
        for case in load(file) {
            message("key_package", &hex_field(&case, "key_package"));
            message("welcome", &hex_field(&case, "welcome"));
            if case["ratchet_tree"].is_string() {
                exact::<RatchetTree>("ratchet_tree", &hex_field(&case, "ratchet_tree"));
            }
            for epoch in case["epochs"].as_array().unwrap() {
                for proposal in epoch["proposals"].as_array().unwrap() {
                    let bytes = hex::decode(proposal.as_str().unwrap()).unwrap();
                    message("epoch proposal", &bytes);
                    count += 1;
                }
                message("epoch commit", &hex_field(epoch, "commit"));
                count += 1;
            }
        }
    }
    assert_eq!(count, 2008, "epoch proposals and commits");
}
