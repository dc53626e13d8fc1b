//! KeyPackage rules (RFC 9420 §10, §10.1): one function per rule, and [`check_key_package`],
//! which runs them with the LeafNode rules in the order every path uses.
//!
//! Unknown extensions in `KeyPackage.extensions` are ignored whether or not the leaf's
//! capabilities list them (§10: unknown KeyPackage extensions "MUST be ignored", §13.4); a
//! sender lists them (Canopy does), a receiver does not insist (MLS++ and mls-rs send
//! unlisted ones). Nor must the capabilities list the group's cipher suite: no receive-side
//! rule asks for it, the suite is fixed by `cipher_suite` (KP-02).

use canopy_crypto::{SignatureCheck, SuiteOps};

use super::leaf::{LEAF_NODE_LABEL, Signature, check_leaf};
use super::{Detail, Rule, Violation, ensure};
use crate::crypto::verify_with_label;
use crate::key_package::{
    CredentialValidator, GroupRequirements, LeafNodeRole, LifetimePolicy, Place, allowed_in,
};
use crate::wire::KeyPackage;

/// The label of a KeyPackage signature (RFC 9420 §10).
pub(crate) const KEY_PACKAGE_LABEL: &[u8] = b"KeyPackageTBS";

/// RFC 9420 §10.1: the checks of a received KeyPackage, in order: KP-01 version, KP-02 cipher
/// suite, KP-05 init key, KP-03 signature, the LeafNode rules for a `key_package` leaf
/// ([`check_leaf`]), KP-04 distinct keys, KP-06 extension placement.
pub(crate) fn check_key_package(
    ops: &dyn SuiteOps,
    key_package: &KeyPackage,
    group: &GroupRequirements<'_>,
    lifetime: &LifetimePolicy,
    validator: &dyn CredentialValidator,
) -> Result<(), Violation> {
    check_key_package_with(
        ops,
        key_package,
        group,
        lifetime,
        validator,
        Signature::Verify,
    )
}

/// [`check_key_package`], with KP-03 and the leaf's LN-02 left out if `signatures` says the
/// caller verified both under the same rule ([`batch_signatures`]).
pub(crate) fn check_key_package_with(
    ops: &dyn SuiteOps,
    key_package: &KeyPackage,
    group: &GroupRequirements<'_>,
    lifetime: &LifetimePolicy,
    validator: &dyn CredentialValidator,
    signatures: Signature,
) -> Result<(), Violation> {
    version(key_package, group)?;
    suite(ops, key_package)?;
    init_key(ops, key_package)?;
    if signatures == Signature::Verify {
        signature(ops, key_package)?;
    }
    check_leaf(
        ops,
        &key_package.leaf_node,
        LeafNodeRole::KeyPackage,
        group,
        lifetime,
        validator,
        signatures,
    )?;
    init_key_distinct(key_package)?;
    extension_placement(key_package)
}

/// KP-03 and LN-02 of every KeyPackage in `key_packages`, as one batch
/// ([`SuiteOps::verify_batch`], which accepts nothing one verification each would refuse):
/// [`Signature::Verified`] if the whole batch verifies, else [`Signature::Verify`] (each is
/// then checked one by one, in rule order, which decides and names the rule).
pub(crate) fn batch_signatures(ops: &dyn SuiteOps, key_packages: &[&KeyPackage]) -> Signature {
    let (group_id, leaf_index) = LeafNodeRole::KeyPackage.signature_context();
    let mut contents: Vec<Vec<u8>> = Vec::with_capacity(key_packages.len().saturating_mul(2));
    for kp in key_packages {
        let package = kp
            .tbs_bytes()
            .ok()
            .and_then(|tbs| crate::crypto::sign_content(KEY_PACKAGE_LABEL, &tbs).ok());
        let leaf = kp
            .leaf_node
            .tbs_bytes(group_id, leaf_index)
            .ok()
            .and_then(|tbs| crate::crypto::sign_content(LEAF_NODE_LABEL, &tbs).ok());
        let (Some(package), Some(leaf)) = (package, leaf) else {
            return Signature::Verify;
        };
        contents.push(package);
        contents.push(leaf);
    }
    let checks: Vec<SignatureCheck<'_>> = key_packages
        .iter()
        .flat_map(|kp| {
            [kp.signature.as_slice(), kp.leaf_node.signature.as_slice()]
                .map(|signature| (&kp.leaf_node.signature_key, signature))
        })
        .zip(&contents)
        .map(|((public_key, signature), message)| SignatureCheck {
            public_key,
            message,
            signature,
        })
        .collect();
    if !checks.is_empty() && ops.verify_batch(&checks).is_ok() {
        Signature::Verified
    } else {
        Signature::Verify
    }
}

/// KP-01, RFC 9420 §10.1: the KeyPackage's protocol version is the group's.
pub(crate) fn version(
    key_package: &KeyPackage,
    group: &GroupRequirements<'_>,
) -> Result<(), Violation> {
    ensure(
        key_package.version == group.version,
        Rule::KeyPackageVersion,
    )
    .map_err(|v| v.with(Detail::Version(key_package.version)))
}

/// KP-02, RFC 9420 §10.1: the KeyPackage's cipher suite is the group's (`ops.suite()`).
pub(crate) fn suite(ops: &dyn SuiteOps, key_package: &KeyPackage) -> Result<(), Violation> {
    ensure(
        key_package.cipher_suite == ops.suite(),
        Rule::KeyPackageSuite,
    )
    .map_err(|v| v.with(Detail::Suite(key_package.cipher_suite)))
}

/// KP-05, RFC 9420 §5.1.1, §10: `init_key` is a public key of the suite's KEM.
pub(crate) fn init_key(ops: &dyn SuiteOps, key_package: &KeyPackage) -> Result<(), Violation> {
    crate::crypto::check_hpke_public_key(ops, &key_package.init_key)
        .map_err(|d| Violation::new(Rule::KeyPackageInitKeyValid).with(d))
}

/// KP-03, RFC 9420 §10.1: `VerifyWithLabel(leaf_node.signature_key, "KeyPackageTBS",
/// KeyPackageTBS, signature)`.
pub(crate) fn signature(ops: &dyn SuiteOps, key_package: &KeyPackage) -> Result<(), Violation> {
    let tbs = key_package
        .tbs_bytes()
        .map_err(|_| Violation::new(Rule::KeyPackageSignature))?;
    verify_with_label(
        ops,
        &key_package.leaf_node.signature_key,
        KEY_PACKAGE_LABEL,
        &tbs,
        key_package.signature.as_slice(),
    )
    .map_err(|_| Violation::new(Rule::KeyPackageSignature))
}

/// KP-04, RFC 9420 §10.1: `init_key` differs from `leaf_node.encryption_key`.
pub(crate) fn init_key_distinct(key_package: &KeyPackage) -> Result<(), Violation> {
    ensure(
        key_package.init_key.as_bytes() != key_package.leaf_node.encryption_key.as_bytes(),
        Rule::KeyPackageInitKeyDistinct,
    )
}

/// KP-06, RFC 9420 §13.4, §17.3: each recognised extension of `KeyPackage.extensions` is one
/// registered for KeyPackages (unknown ones, GREASE included, are ignored).
pub(crate) fn extension_placement(key_package: &KeyPackage) -> Result<(), Violation> {
    match key_package
        .extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .find(|&t| !allowed_in(t, Place::KeyPackage))
    {
        None => Ok(()),
        Some(t) => {
            Err(Violation::new(Rule::KeyPackageExtensionPlacement).with(Detail::Extension(t)))
        }
    }
}
