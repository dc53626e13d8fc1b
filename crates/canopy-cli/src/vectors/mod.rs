//! The IETF MLS working-group test vectors (`../shared/test-vectors/FORMAT.md`), one module per
//! kind of file. Each module parses its file's JSON cases and checks them against Canopy.
//!
//! Every kind of FORMAT.md is implemented. A file that does not parse as its kind is an
//! error, never a pass; a case whose cipher suite the provider lacks is counted as skipped.

mod crypto_basics;
mod deserialization;
mod key_schedule;
mod message_protection;
mod messages;
mod passive_client;
mod psk_secret;
mod secret_tree;
mod transcript_hashes;
mod tree_math;
mod tree_operations;
mod tree_validation;
mod treekem;
mod welcome;

use std::fmt;
use std::path::Path;

use canopy_crypto::{CipherSuite, CryptoProvider, SuiteOps};
use serde::de::DeserializeOwned;

/// The kinds of test-vector file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// `tree-math.json`: RFC 9420 Appendix C.
    TreeMath,
    /// `crypto-basics.json`: RFC 9420 §5 functions.
    CryptoBasics,
    /// `deserialization.json`: the §2.1.2 variable-length header.
    Deserialization,
    /// `secret-tree.json`.
    SecretTree,
    /// `message-protection.json`.
    MessageProtection,
    /// `key-schedule.json`.
    KeySchedule,
    /// `psk_secret.json`.
    PskSecret,
    /// `transcript-hashes.json`.
    TranscriptHashes,
    /// `messages.json`.
    Messages,
    /// `welcome.json`.
    Welcome,
    /// `tree-operations.json`.
    TreeOperations,
    /// `tree-validation.json`.
    TreeValidation,
    /// `treekem.json`.
    TreeKem,
    /// `passive-client-*.json`.
    PassiveClient,
}

const KINDS: [(Kind, &str); 14] = [
    (Kind::TreeMath, "tree-math"),
    (Kind::CryptoBasics, "crypto-basics"),
    (Kind::Deserialization, "deserialization"),
    (Kind::SecretTree, "secret-tree"),
    (Kind::MessageProtection, "message-protection"),
    (Kind::KeySchedule, "key-schedule"),
    (Kind::PskSecret, "psk_secret"),
    (Kind::TranscriptHashes, "transcript-hashes"),
    (Kind::Messages, "messages"),
    (Kind::Welcome, "welcome"),
    (Kind::TreeOperations, "tree-operations"),
    (Kind::TreeValidation, "tree-validation"),
    (Kind::TreeKem, "treekem"),
    (Kind::PassiveClient, "passive-client"),
];

impl Kind {
    /// The kind called `name` (as in `--kind NAME`).
    pub fn from_name(name: &str) -> Option<Self> {
        KINDS.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// The kind's name.
    pub fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("?", |(_, n)| n)
    }

    /// All kind names, comma-separated.
    pub fn names() -> String {
        KINDS.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
    }

    /// Infers the kind from a file name: `tree-math.json` is `tree-math`, and every
    /// `passive-client-*.json` is `passive-client`.
    pub fn infer(path: &Path) -> Option<Self> {
        let stem = path.file_stem()?.to_str()?;
        if stem.starts_with("passive-client") {
            return Some(Self::PassiveClient);
        }
        Self::from_name(stem)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Passed, failed and skipped case counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases that were skipped (for example an unsupported cipher suite).
    pub skipped: usize,
}

impl Tally {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Self) {
        self.passed = self.passed.saturating_add(other.passed);
        self.failed = self.failed.saturating_add(other.failed);
        self.skipped = self.skipped.saturating_add(other.skipped);
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        Ok(())
    }
}

/// One failed case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The case's index in the file.
    pub case: usize,
    /// What did not match.
    pub reason: String,
}

/// The result of running one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// The counts.
    pub tally: Tally,
    /// Every failed case, in order.
    pub failures: Vec<Failure>,
}

/// Why a whole file could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VectorError {
    /// The file is not a JSON array of cases of the expected shape.
    #[error("malformed test-vector file: {0}")]
    Json(#[from] serde_json::Error),
}

/// The outcome of one case.
pub(crate) enum Outcome {
    Pass,
    Fail(String),
    Skip,
}

/// Runs every case of a vector file of `kind`.
///
/// # Errors
/// [`VectorError::Json`] if the file does not parse as that kind.
pub fn run_file(
    kind: Kind,
    json: &[u8],
    provider: &dyn CryptoProvider,
) -> Result<FileReport, VectorError> {
    match kind {
        Kind::TreeMath => run_cases(json, |c| tree_math::check(&c)),
        Kind::CryptoBasics => run_cases(json, |c| crypto_basics::check(&c, provider)),
        Kind::Deserialization => run_cases(json, |c| deserialization::check(&c)),
        Kind::KeySchedule => run_cases(json, |c| key_schedule::check(&c, provider)),
        Kind::PskSecret => run_cases(json, |c| psk_secret::check(&c, provider)),
        Kind::SecretTree => run_cases(json, |c| secret_tree::check(&c, provider)),
        Kind::Messages => run_cases(json, |c| messages::check(&c)),
        Kind::MessageProtection => run_cases(json, |c| message_protection::check(&c, provider)),
        Kind::Welcome => run_cases(json, |c| welcome::check(&c, provider)),
        Kind::PassiveClient => run_cases(json, |c| passive_client::check(&c, provider)),
        Kind::TranscriptHashes => run_cases(json, |c| transcript_hashes::check(&c, provider)),
        Kind::TreeValidation => run_cases(json, |c| tree_validation::check(&c, provider)),
        Kind::TreeOperations => run_cases(json, |c| tree_operations::check(&c, provider)),
        Kind::TreeKem => run_cases(json, |c| treekem::check(&c, provider)),
    }
}

/// Parses `json` as an array of `C` and runs `check` on each case.
fn run_cases<C: DeserializeOwned>(
    json: &[u8],
    check: impl Fn(C) -> Outcome,
) -> Result<FileReport, VectorError> {
    let cases: Vec<C> = serde_json::from_slice(json)?;
    let mut report = FileReport::default();
    for (case, c) in cases.into_iter().enumerate() {
        match check(c) {
            Outcome::Pass => report.tally.passed = report.tally.passed.saturating_add(1),
            Outcome::Skip => report.tally.skipped = report.tally.skipped.saturating_add(1),
            Outcome::Fail(reason) => {
                report.tally.failed = report.tally.failed.saturating_add(1);
                report.failures.push(Failure { case, reason });
            }
        }
    }
    Ok(report)
}

/// Runs `check` with the primitives of the case's `suite`. A suite the provider does not run is
/// skipped; a failure is prefixed with the suite and `context()`.
pub(crate) fn with_suite(
    provider: &dyn CryptoProvider,
    suite: u16,
    context: impl FnOnce() -> String,
    check: impl FnOnce(&dyn SuiteOps) -> Result<(), String>,
) -> Outcome {
    let Ok(ops) = provider.suite(CipherSuite(suite)) else {
        return Outcome::Skip;
    };
    match check(ops) {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(format!("suite {suite}{}: {e}", context())),
    }
}

/// Hex-encoded bytes in a vector file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hex(pub(crate) Vec<u8>);

/// The vectors' credentials are test identities: every credential, and every change of
/// credential, is acceptable.
pub(crate) struct AcceptAll;

impl canopy_core::key_package::CredentialValidator for AcceptAll {
    fn validate(
        &self,
        _credential: &canopy_core::wire::Credential,
        _signature_key: &canopy_crypto::SignaturePublicKey,
    ) -> Result<(), canopy_core::key_package::CredentialRejected> {
        Ok(())
    }

    fn valid_successor(
        &self,
        _old: &canopy_core::wire::Credential,
        _new: &canopy_core::wire::Credential,
    ) -> bool {
        true
    }
}

/// How the vectors' trees are validated: as a tree of `group_id`, lifetimes ignored (the
/// vectors hold expired leaves), no GroupContext extensions, every credential accepted.
pub(crate) fn tree_checks(group_id: &[u8]) -> canopy_core::advanced::tree::TreeChecks<'_> {
    canopy_core::advanced::tree::TreeChecks {
        group_id,
        group: canopy_core::key_package::GroupRequirements::mls10(),
        lifetime: canopy_core::advanced::tree::LifetimePolicy::unchecked(),
        validator: &AcceptAll,
    }
}

impl<'de> serde::Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(&s).map(Hex).map_err(serde::de::Error::custom)
    }
}

impl std::ops::Deref for Hex {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// Compares an expected and a computed value, naming what differed.
pub(crate) fn expect_eq(what: &str, expected: &[u8], got: &[u8]) -> Result<(), String> {
    if expected == got {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {}, got {}",
            hex::encode(expected),
            hex::encode(got)
        ))
    }
}

/// Turns a sequence of checks into an outcome.
pub(crate) fn outcome(result: Result<(), String>) -> Outcome {
    match result {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_inferred_from_file_names() {
        assert_eq!(
            Kind::infer(Path::new("a/b/tree-math.json")),
            Some(Kind::TreeMath)
        );
        assert_eq!(
            Kind::infer(Path::new("psk_secret.json")),
            Some(Kind::PskSecret)
        );
        assert_eq!(
            Kind::infer(Path::new("passive-client-random.json")),
            Some(Kind::PassiveClient)
        );
        assert_eq!(Kind::infer(Path::new("whatever.json")), None);
        for (k, n) in KINDS {
            assert_eq!(Kind::from_name(n), Some(k));
            assert_eq!(k.name(), n);
        }
    }

    #[test]
    fn tally_prints_the_closing_line_format() {
        let t = Tally {
            passed: 3,
            failed: 1,
            skipped: 0,
        };
        assert_eq!(t.to_string(), "3 passed, 1 failed");
        let t = Tally {
            passed: 3,
            failed: 0,
            skipped: 2,
        };
        assert_eq!(t.to_string(), "3 passed, 0 failed, 2 skipped");
    }

    #[test]
    fn a_file_of_the_wrong_shape_is_an_error_not_a_pass() {
        let p = canopy_crypto_rustcrypto::RustCryptoProvider::new();
        assert!(matches!(
            run_file(Kind::PassiveClient, br#"[{"n_leaves": 1}]"#, &p),
            Err(VectorError::Json(_))
        ));
        let empty = run_file(Kind::PassiveClient, b"[]", &p).unwrap();
        assert_eq!(empty.tally.passed, 0);
    }
}
