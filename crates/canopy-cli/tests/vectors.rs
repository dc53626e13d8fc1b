//! Runs the IETF test vectors bundled in `testdata/vectors/` through the same runner as
//! `canopy vectors`, and the `canopy` binary itself, so a fresh clone needs no `../shared/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::process::Command;

use canopy_cli::vectors::{Kind, Tally, run_file};
use canopy_crypto_rustcrypto::RustCryptoProvider;

fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/vectors")
        .join(name)
}

fn run(name: &str) -> Tally {
    let path = vector_path(name);
    let kind = Kind::infer(&path).expect("kind");
    let bytes = std::fs::read(&path).expect("vector file");
    let report = run_file(kind, &bytes, &RustCryptoProvider::new()).expect("runs");
    assert!(report.failures.is_empty(), "{name}: {:?}", report.failures);
    report.tally
}

#[test]
fn tree_math_all_10_cases_pass() {
    assert_eq!(
        run("tree-math.json"),
        Tally {
            passed: 10,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn crypto_basics_all_7_suites_pass() {
    assert_eq!(
        run("crypto-basics.json"),
        Tally {
            passed: 7,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn deserialization_all_14_cases_pass() {
    assert_eq!(
        run("deserialization.json"),
        Tally {
            passed: 14,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn messages_all_300_cases_pass() {
    assert_eq!(
        run("messages.json"),
        Tally {
            passed: 300,
            failed: 0,
            skipped: 0
        }
    );
}

/// A corrupted messages case fails, and the failure names the field.
#[test]
fn a_corrupted_messages_case_fails_naming_the_field() {
    let bytes = std::fs::read(vector_path("messages.json")).unwrap();
    let mut cases: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    // A trailing byte after the Commit.
    let commit = cases[4]["commit"].as_str().unwrap().to_owned();
    cases[4]["commit"] = serde_json::Value::String(format!("{commit}00"));
    // MLSMessage version 2.
    let kp = cases[7]["mls_key_package"].as_str().unwrap().to_owned();
    cases[7]["mls_key_package"] = serde_json::Value::String(format!("0002{}", &kp[4..]));
    // A reserved (0) content type in the PrivateMessage: after the 4-byte header, group_id<V>
    // and the epoch.
    let pm = cases[9]["private_message"].as_str().unwrap().to_owned();
    let group_id_len = usize::from_str_radix(&pm[8..10], 16).unwrap();
    assert!(group_id_len < 64, "a one-byte length header");
    let at = 8 + 2 + 2 * group_id_len + 16;
    let corrupted = format!("{}00{}", &pm[..at], &pm[at + 2..]);
    cases[9]["private_message"] = serde_json::Value::String(corrupted);
    let json = serde_json::to_vec(&cases).unwrap();
    let report = run_file(Kind::Messages, &json, &RustCryptoProvider::new()).unwrap();
    assert_eq!(
        report.tally,
        Tally {
            passed: 297,
            failed: 3,
            skipped: 0
        }
    );
    let reasons: Vec<(usize, &str)> = report
        .failures
        .iter()
        .map(|f| (f.case, f.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                4,
                "commit: decode: 1 trailing bytes after the decoded value"
            ),
            (7, "mls_key_package: decode: unsupported protocol version 2"),
            (9, "private_message: decode: invalid ContentType value 0"),
        ]
    );
}

/// A corrupted vector must be reported as a failure, not a pass.
#[test]
fn a_corrupted_crypto_basics_case_fails() {
    let bytes = std::fs::read(vector_path("crypto-basics.json")).unwrap();
    let mut cases: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let out = cases[3]["derive_secret"]["out"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut chars: Vec<char> = out.chars().collect();
    chars[0] = if chars[0] == '0' { '1' } else { '0' };
    let flipped: String = chars.into_iter().collect();
    cases[3]["derive_secret"]["out"] = serde_json::Value::String(flipped);
    cases[5]["sign_with_label"]["content"] = serde_json::Value::String("00".into());
    let json = serde_json::to_vec(&cases).unwrap();
    let report = run_file(Kind::CryptoBasics, &json, &RustCryptoProvider::new()).unwrap();
    assert_eq!(
        report.tally,
        Tally {
            passed: 5,
            failed: 2,
            skipped: 0
        }
    );
    assert_eq!(report.failures[0].case, 3);
    assert!(
        report.failures[0].reason.contains("DeriveSecret"),
        "{:?}",
        report.failures
    );
    assert!(
        report.failures[1].reason.contains("VerifyWithLabel"),
        "{:?}",
        report.failures
    );
}

fn canopy(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args(args)
        .output()
        .expect("runs canopy");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn canopy_vectors_prints_per_file_and_total_lines() {
    let files: Vec<String> = [
        "tree-math.json",
        "crypto-basics.json",
        "deserialization.json",
        "messages.json",
    ]
    .iter()
    .map(|f| vector_path(f).display().to_string())
    .collect();
    let mut args = vec!["vectors"];
    args.extend(files.iter().map(String::as_str));
    let (ok, stdout) = canopy(&args);
    assert!(ok, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].ends_with("(tree-math): 10 passed, 0 failed"),
        "{stdout}"
    );
    assert!(
        lines[1].ends_with("(crypto-basics): 7 passed, 0 failed"),
        "{stdout}"
    );
    assert!(
        lines[2].ends_with("(deserialization): 14 passed, 0 failed"),
        "{stdout}"
    );
    assert!(
        lines[3].ends_with("(messages): 300 passed, 0 failed"),
        "{stdout}"
    );
    assert_eq!(lines[4], "total: 331 passed, 0 failed");
}

#[test]
fn canopy_vectors_fails_on_unknown_kinds_and_mismatched_files() {
    let path = vector_path("tree-math.json").display().to_string();
    let (ok, stdout) = canopy(&["vectors", "--kind", "no-such-kind", &path]);
    assert!(!ok);
    assert!(stdout.contains("unknown vector kind"), "{stdout}");

    let (ok, stdout) = canopy(&["vectors", "--kind", "passive-client", &path]);
    assert!(!ok);
    assert!(stdout.contains("malformed"), "{stdout}");

    // tree-math data read as deserialization cases does not parse: an error, not a pass.
    let (ok, stdout) = canopy(&["vectors", "--kind", "deserialization", &path]);
    assert!(!ok, "{stdout}");
}

#[test]
fn canopy_vectors_cannot_infer_an_unknown_file_name() {
    let dir = std::env::temp_dir().join(format!("canopy-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mystery.json");
    std::fs::write(&file, "[]").unwrap();
    let (ok, stdout) = canopy(&["vectors", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(stdout.contains("cannot infer"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn key_schedule_all_7_suites_pass() {
    assert_eq!(
        run("key-schedule.json"),
        Tally {
            passed: 7,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn psk_secret_all_77_cases_pass() {
    assert_eq!(
        run("psk_secret.json"),
        Tally {
            passed: 77,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn secret_tree_all_21_cases_pass() {
    assert_eq!(
        run("secret-tree.json"),
        Tally {
            passed: 21,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn transcript_hashes_all_7_suites_pass() {
    assert_eq!(
        run("transcript-hashes.json"),
        Tally {
            passed: 7,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn message_protection_all_7_suites_pass() {
    assert_eq!(
        run("message-protection.json"),
        Tally {
            passed: 7,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn a_message_protection_case_with_a_wrong_key_fails() {
    let bytes = std::fs::read(vector_path("message-protection.json")).unwrap();
    let mut cases: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    cases.truncate(2);
    // Another membership key fails the proposal's membership tag; another sender data secret
    // fails the first PrivateMessage.
    cases[0]["membership_key"] = serde_json::Value::String("00".repeat(32));
    cases[1]["sender_data_secret"] = serde_json::Value::String("00".repeat(32));
    let json = serde_json::to_vec(&cases).unwrap();
    let report = run_file(Kind::MessageProtection, &json, &RustCryptoProvider::new()).unwrap();
    assert_eq!(report.tally.failed, 2, "{:?}", report.failures);
    assert!(
        report.failures[0].reason.contains("membership tag"),
        "{:?}",
        report.failures
    );
    assert!(
        report.failures[1].reason.contains("sender data"),
        "{:?}",
        report.failures
    );
}

#[test]
fn welcome_all_7_suites_pass() {
    assert_eq!(
        run("welcome.json"),
        Tally {
            passed: 7,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn a_welcome_case_with_the_wrong_signer_fails() {
    let bytes = std::fs::read(vector_path("welcome.json")).unwrap();
    let mut cases: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    cases.truncate(1);
    let other = cases[0]["signer_pub"].as_str().unwrap().replace('a', "b");
    cases[0]["signer_pub"] = serde_json::Value::String(other);
    let json = serde_json::to_vec(&cases).unwrap();
    let report = run_file(Kind::Welcome, &json, &RustCryptoProvider::new()).unwrap();
    assert_eq!(report.tally.failed, 1, "{:?}", report.failures);
    assert!(
        report.failures[0].reason.contains("signature"),
        "{:?}",
        report.failures
    );
}

#[test]
fn tree_validation_all_98_cases_pass() {
    assert_eq!(
        run("tree-validation.json"),
        Tally {
            passed: 98,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn tree_operations_all_5_cases_pass() {
    assert_eq!(
        run("tree-operations.json"),
        Tally {
            passed: 5,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn treekem_all_77_cases_pass() {
    assert_eq!(
        run("treekem.json"),
        Tally {
            passed: 77,
            failed: 0,
            skipped: 0
        }
    );
}

/// A tree-validation case with a flipped signature byte fails validation, and a treekem case
/// with a wrong expected commit secret fails, each naming what differed.
#[test]
fn corrupted_tree_cases_fail() {
    let bytes = std::fs::read(vector_path("tree-validation.json")).unwrap();
    let mut cases: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let one: Vec<serde_json::Value> = vec![cases[0].take()];
    let mut case = serde_json::Value::Array(one);
    // The last byte of the serialized tree is the last byte of the last leaf's signature.
    let tree = case[0]["tree"].as_str().unwrap().to_owned();
    let last = u8::from_str_radix(&tree[tree.len() - 2..], 16).unwrap() ^ 1;
    case[0]["tree"] = serde_json::Value::String(format!("{}{last:02x}", &tree[..tree.len() - 2]));
    let report = run_file(
        Kind::TreeValidation,
        &serde_json::to_vec(&case).unwrap(),
        &RustCryptoProvider::new(),
    )
    .unwrap();
    assert_eq!(report.tally.failed, 1);
    assert!(
        report.failures[0].reason.contains("tree hash of node"),
        "{:?}",
        report.failures
    );

    let bytes = std::fs::read(vector_path("treekem.json")).unwrap();
    let mut cases: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut case = serde_json::Value::Array(vec![cases[0].take()]);
    case[0]["update_paths"][0]["commit_secret"] = serde_json::Value::String("00".repeat(32));
    let report = run_file(
        Kind::TreeKem,
        &serde_json::to_vec(&case).unwrap(),
        &RustCryptoProvider::new(),
    )
    .unwrap();
    assert_eq!(report.tally.failed, 1);
    assert!(
        report.failures[0].reason.contains("commit secret"),
        "{:?}",
        report.failures
    );
}

#[test]
fn passive_client_welcome_all_56_cases_pass() {
    assert_eq!(
        run("passive-client-welcome.json"),
        Tally {
            passed: 56,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn passive_client_handling_commit_all_91_cases_pass() {
    assert_eq!(
        run("passive-client-handling-commit.json"),
        Tally {
            passed: 91,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn passive_client_random_200_epochs_pass() {
    assert_eq!(
        run("passive-client-random.json"),
        Tally {
            passed: 1,
            failed: 0,
            skipped: 0
        }
    );
}

#[test]
fn a_passive_client_case_with_a_wrong_epoch_authenticator_fails() {
    let bytes = std::fs::read(vector_path("passive-client-handling-commit.json")).unwrap();
    let mut cases: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    cases.truncate(2);
    cases[0]["epochs"][1]["epoch_authenticator"] = serde_json::Value::String("00".repeat(32));
    cases[1]["initial_epoch_authenticator"] = serde_json::Value::String("11".repeat(32));
    let json = serde_json::to_vec(&cases).unwrap();
    let report = run_file(Kind::PassiveClient, &json, &RustCryptoProvider::new()).unwrap();
    assert_eq!(report.tally.failed, 2, "{:?}", report.failures);
    assert!(
        report.failures[0]
            .reason
            .contains("epoch 1: epoch_authenticator"),
        "{:?}",
        report.failures
    );
    assert!(
        report.failures[1]
            .reason
            .contains("initial_epoch_authenticator"),
        "{:?}",
        report.failures
    );
}

/// Passive-client files from another generator (mls-rs 0.57, `testdata/vectors/mls-rs/`):
/// every case passes, and the files hold the KeyPackages of issue 10's defect 14 that Canopy
/// once refused: GREASE in `KeyPackage.extensions` that the leaf's capabilities do not list
/// (RFC 9420 §10: ignored), and capabilities without the group's cipher suite.
#[test]
fn passive_client_files_generated_by_mls_rs_pass() {
    use canopy_core::wire::KeyPackage;
    let files = [
        ("mls-rs/passive-client-welcome.json", 32),
        ("mls-rs/passive-client-handling-commit.json", 16),
        ("mls-rs/passive-client-random.json", 4),
    ];
    let (mut unlisted, mut without_suite, mut key_packages) = (0, 0, 0);
    for (name, cases) in files {
        let tally = run(name);
        assert_eq!(
            tally,
            Tally {
                passed: cases,
                failed: 0,
                skipped: 0
            },
            "{name}"
        );
        let bytes = std::fs::read(vector_path(name)).unwrap();
        let json: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
        for case in json {
            let kp = hex::decode(case["key_package"].as_str().unwrap()).unwrap();
            let message = canopy_core::wire::MlsMessage::from_bytes(&kp).unwrap();
            let canopy_core::wire::MlsMessage::KeyPackage(kp) = message else {
                panic!("{name}: not a KeyPackage message");
            };
            let kp: &KeyPackage = &kp;
            key_packages += 1;
            let caps = &kp.leaf_node.capabilities;
            if kp
                .extensions
                .as_slice()
                .iter()
                .any(|e| !caps.extensions.0.contains(&e.extension_type))
            {
                unlisted += 1;
            }
            if !caps.cipher_suites.contains(&kp.cipher_suite) {
                without_suite += 1;
            }
        }
    }
    assert_eq!(key_packages, 52);
    assert_eq!(
        unlisted, 52,
        "every mls-rs KeyPackage carries an unlisted GREASE extension"
    );
    assert!(
        without_suite >= 10,
        "{without_suite} capabilities without the suite"
    );
}

/// The post-quantum vectors of `testdata/vectors/pq/openmls/` (generated from live OpenMLS
/// groups by `canopy-interop`'s `pq_vectors` example): every case of every file passes under
/// OpenMLS's code points (nine suites, four of them with ML-DSA), and none runs without the
/// profiles.
#[test]
fn post_quantum_vectors_all_pass_under_the_openmls_profiles() {
    let provider = RustCryptoProvider::new()
        .with_profile(canopy_crypto::SuiteProfile::OPENMLS)
        .unwrap()
        .with_profile(canopy_crypto::SuiteProfile::OPENMLS_ML_DSA)
        .unwrap();
    for name in [
        "crypto-basics.json",
        "key-schedule.json",
        "passive-client-pq.json",
        "tree-validation.json",
        "welcome.json",
    ] {
        let path = vector_path("pq/openmls").join(name);
        let kind = Kind::infer(&path).expect("kind");
        let bytes = std::fs::read(&path).expect("vector file");
        let report = run_file(kind, &bytes, &provider).expect("runs");
        assert!(report.failures.is_empty(), "{name}: {:?}", report.failures);
        assert_eq!(
            report.tally,
            Tally {
                passed: 9,
                failed: 0,
                skipped: 0
            },
            "{name}"
        );
        let classical = run_file(kind, &bytes, &RustCryptoProvider::new()).expect("runs");
        assert_eq!(classical.tally.skipped, 9, "{name}");
    }
}

#[test]
fn canopy_vectors_runs_the_post_quantum_files_with_a_profile_and_refuses_unknown_ones() {
    let file = vector_path("pq/openmls/welcome.json").display().to_string();
    let (ok, stdout) = canopy(&[
        "vectors",
        "--profile",
        "openmls",
        "--profile",
        "openmls-ml-dsa",
        &file,
    ]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("(welcome): 9 passed, 0 failed"), "{stdout}");
    // With one of the two profiles, the other's suites are skipped, not failed.
    let (ok, stdout) = canopy(&["vectors", "--profile", "openmls", &file]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("(welcome): 5 passed, 0 failed"), "{stdout}");
    let (ok, stdout) = canopy(&["vectors", "--profile", "nope", &file]);
    assert!(!ok);
    assert!(
        stdout.contains("known profiles: openmls, openmls-ml-dsa, ts-mls"),
        "{stdout}"
    );
}

/// ts-mls's post-quantum suites (`SuiteProfile::TS_MLS`): Canopy as the passive client of
/// groups of ts-mls 1.6.4 members, on all six suites (their KDF differs from their hash on
/// 0x004F and 0x0050; their ML-KEM seed is the `ikm` itself).
#[test]
fn ts_mls_post_quantum_passive_client_vectors_all_pass_under_its_profile() {
    let provider = RustCryptoProvider::new()
        .with_profile(canopy_crypto::SuiteProfile::TS_MLS)
        .unwrap();
    let path = vector_path("pq/ts-mls/passive-client-ts-mls.json");
    let bytes = std::fs::read(&path).expect("vector file");
    let report = run_file(Kind::PassiveClient, &bytes, &provider).expect("runs");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(
        report.tally,
        Tally {
            passed: 6,
            failed: 0,
            skipped: 0
        }
    );
    // Under OpenMLS's numbering the same bytes are other suites (0x004F is X-Wing there):
    // nothing passes.
    let openmls = RustCryptoProvider::new()
        .with_profile(canopy_crypto::SuiteProfile::OPENMLS)
        .unwrap();
    let report = run_file(Kind::PassiveClient, &bytes, &openmls).expect("runs");
    assert_eq!(report.tally.passed, 0);
}
