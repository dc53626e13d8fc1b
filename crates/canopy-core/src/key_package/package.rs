//! KeyPackages (RFC 9420 §10): creation with fresh init and encryption keys, the
//! KeyPackageRef (§5.2), the `last_resort` marker, and validation (§10.1) into a
//! [`ValidatedKeyPackage`].

use canopy_crypto::{CipherSuite, CryptoProvider, HpkePrivateKey, SignaturePrivateKey, SuiteOps};

use super::KeyPackageError;
use super::capabilities::{GreasePicker, LastResort, Place, allowed_in};
use super::credential::CredentialValidator;
use super::leaf::{LeafNodeParams, NewLeafSource, build_leaf};
use super::validate::{
    GroupRequirements, LeafNodeRole, LifetimePolicy, check_hpke_key_len, validate_leaf_node,
};
use crate::codec::VarBytes;
use crate::crypto::{key_package_ref, sign_with_label, verify_with_label};
use crate::wire::{Extension, ExtensionView, Extensions, KeyPackage, Lifetime, ProtocolVersion};

/// The label of a KeyPackage signature (RFC 9420 §10).
const KEY_PACKAGE_LABEL: &[u8] = b"KeyPackageTBS";

/// RFC 9420 §5.2 `KeyPackageRef`: `RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)`, the
/// name of a KeyPackage in Welcome messages and in the delivery service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPackageRef(Vec<u8>);

impl KeyPackageRef {
    /// RFC 9420 §5.2: the reference of `key_package`, hashed with `ops`' hash (which must be
    /// the KeyPackage's suite).
    ///
    /// # Errors
    /// [`KeyPackageError::Codec`] if the KeyPackage cannot be encoded.
    pub fn compute(ops: &dyn SuiteOps, key_package: &KeyPackage) -> Result<Self, KeyPackageError> {
        let bytes = key_package.to_bytes()?;
        Ok(Self(key_package_ref(ops, &bytes)?))
    }

    /// Wraps reference bytes received on the wire (for lookups).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The hash bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What a client puts in a KeyPackage (RFC 9420 §10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPackageParams {
    /// The LeafNode contents; its [`LeafNodeParams::grease_extensions`] switch also adds a
    /// GREASE extension to `KeyPackage.extensions` (§13.5), listed in the leaf's capabilities
    /// (§10).
    pub leaf: LeafNodeParams,
    /// The leaf's `lifetime` (§7.2).
    pub lifetime: Lifetime,
    /// `KeyPackage.extensions` (without `last_resort`; see [`Self::last_resort`]). Their
    /// non-default types are added to the leaf's capabilities (§10).
    pub extensions: Extensions,
    /// Whether to mark the KeyPackage as a last-resort KeyPackage (§16.8) with the
    /// [`LastResort`] extension.
    pub last_resort: bool,
}

impl KeyPackageParams {
    /// A KeyPackage for `leaf` valid during `lifetime`, without extensions, not last-resort.
    pub fn new(leaf: LeafNodeParams, lifetime: Lifetime) -> Self {
        Self {
            leaf,
            lifetime,
            extensions: Extensions::default(),
            last_resort: false,
        }
    }
}

/// A KeyPackage and the private keys its owner needs to use it (RFC 9420 §10): the init key
/// (to open the Welcome) and the leaf's encryption key (to decrypt UpdatePaths).
///
/// The signature private key is not included: it is the client's long-term key and stays with
/// the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPackageBundle {
    /// The signed KeyPackage, to publish.
    pub key_package: KeyPackage,
    /// The private key of `key_package.init_key`.
    pub init_private: HpkePrivateKey,
    /// The private key of `key_package.leaf_node.encryption_key`.
    pub encryption_private: HpkePrivateKey,
}

impl KeyPackageBundle {
    /// RFC 9420 §5.2: the reference of the bundle's KeyPackage.
    ///
    /// # Errors
    /// As [`KeyPackageRef::compute`].
    pub fn reference(&self, ops: &dyn SuiteOps) -> Result<KeyPackageRef, KeyPackageError> {
        KeyPackageRef::compute(ops, &self.key_package)
    }
}

/// RFC 9420 §10: creates a KeyPackage for `suite` with fresh init and leaf encryption key
/// pairs, a `key_package` leaf signed with `signer`, and the KeyPackage signed with
/// `"KeyPackageTBS"`.
///
/// # Errors
/// [`KeyPackageError::Crypto`] if `suite` is not supported by `provider`, or key generation,
/// randomness or signing fails; [`KeyPackageError::InitKeyIsEncryptionKey`] if the two fresh
/// keys collide (a broken generator); [`KeyPackageError::ExtensionNotAllowedInKeyPackage`] or
/// [`KeyPackageError::ExtensionNotAllowedInLeafNode`] for an extension that RFC 9420 §17.3
/// places elsewhere; [`KeyPackageError::Codec`] for oversized fields.
pub fn create_key_package(
    provider: &dyn CryptoProvider,
    suite: CipherSuite,
    params: &KeyPackageParams,
    signer: &SignaturePrivateKey,
) -> Result<KeyPackageBundle, KeyPackageError> {
    if let Some(t) = params
        .extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .find(|&t| !allowed_in(t, Place::KeyPackage))
    {
        return Err(KeyPackageError::ExtensionNotAllowedInKeyPackage(t));
    }
    let ops = provider.suite(suite)?;
    let init = ops.hpke_generate_key_pair()?;
    let encryption = ops.hpke_generate_key_pair()?;
    if init.public == encryption.public {
        return Err(KeyPackageError::InitKeyIsEncryptionKey);
    }
    let mut grease = (params.leaf.grease || params.leaf.grease_extensions)
        .then(|| GreasePicker::new(provider))
        .transpose()?;

    let mut kp_extensions: Vec<Extension> = params.extensions.as_slice().to_vec();
    if params.last_resort && params.extensions.find(LastResort::EXTENSION_TYPE).is_none() {
        kp_extensions.push(LastResort.to_extension()?);
    }
    let mut kp_extensions = Extensions::new(kp_extensions)?;
    if let Some(g) = grease.as_mut()
        && params.leaf.grease_extensions
    {
        // Listed in the leaf's capabilities by `build_leaf`, as §10 requires.
        kp_extensions = g.grease_extensions(&kp_extensions)?;
    }

    let leaf_node = build_leaf(
        ops,
        &params.leaf,
        encryption.public,
        NewLeafSource::KeyPackage {
            lifetime: params.lifetime,
        },
        signer,
        grease.as_mut(),
        kp_extensions.as_slice(),
    )?;
    let mut key_package = KeyPackage {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite,
        init_key: init.public,
        leaf_node,
        extensions: kp_extensions,
        signature: VarBytes::default(),
    };
    let tbs = key_package.tbs_bytes()?;
    key_package.signature = VarBytes(sign_with_label(ops, signer, KEY_PACKAGE_LABEL, &tbs)?);
    Ok(KeyPackageBundle {
        key_package,
        init_private: init.private,
        encryption_private: encryption.private,
    })
}

/// A KeyPackage that passed [`validate_key_package`] (RFC 9420 §10.1), with its reference.
/// Only validation constructs one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedKeyPackage {
    key_package: KeyPackage,
    reference: KeyPackageRef,
}

impl ValidatedKeyPackage {
    /// The KeyPackage.
    pub fn key_package(&self) -> &KeyPackage {
        &self.key_package
    }

    /// RFC 9420 §5.2: its KeyPackageRef.
    pub fn reference(&self) -> &KeyPackageRef {
        &self.reference
    }

    /// Whether it carries the `last_resort` extension (RFC 9420 §16.8: it may be reused).
    pub fn is_last_resort(&self) -> bool {
        self.key_package
            .extensions
            .find(LastResort::EXTENSION_TYPE)
            .is_some()
    }

    /// The KeyPackage, giving up the proof.
    pub fn into_key_package(self) -> KeyPackage {
        self.key_package
    }
}

/// RFC 9420 §10.1: validates a received `key_package` for a group with cipher suite
/// `ops.suite()` and requirements `group`:
///
/// 1. its version is the group's and its cipher suite is `ops.suite()`;
/// 2. `init_key` is a key of the suite's KEM;
/// 3. the signature verifies under `leaf_node.signature_key` with `"KeyPackageTBS"`;
/// 4. `leaf_node` is valid for a KeyPackage per §7.3 ([`validate_leaf_node`] with
///    [`LeafNodeRole::KeyPackage`], `lifetime` and `validator`);
/// 5. `init_key` differs from `leaf_node.encryption_key`;
/// 6. each extension in `extensions` may appear in a KeyPackage (§17.3); a `last_resort`
///    extension has empty data.
///
/// Unknown extensions in `extensions` are ignored whether or not the leaf's capabilities list
/// them (§10: they "MUST be ignored"; only the sender is asked to list them), and unknown
/// capabilities (GREASE included) are ignored too (§13.4). The leaf's capabilities need not
/// list the group's cipher suite: no receive-side rule of §7.3 or §10.1 asks for it.
/// Credential-type compatibility and key uniqueness against the group's members are the
/// separate [`check_credential_types_supported`](super::check_credential_types_supported)
/// and [`check_keys_unique`](super::check_keys_unique).
///
/// # Errors
/// The [`KeyPackageError`] variant of the first rule broken.
pub fn validate_key_package(
    ops: &dyn SuiteOps,
    key_package: KeyPackage,
    group: &GroupRequirements<'_>,
    lifetime: &LifetimePolicy,
    validator: &dyn CredentialValidator,
) -> Result<ValidatedKeyPackage, KeyPackageError> {
    if key_package.version != group.version {
        return Err(KeyPackageError::VersionMismatch {
            expected: group.version,
            got: key_package.version,
        });
    }
    if key_package.cipher_suite != ops.suite() {
        return Err(KeyPackageError::CipherSuiteMismatch {
            expected: ops.suite(),
            got: key_package.cipher_suite,
        });
    }
    check_hpke_key_len(ops, key_package.init_key.as_bytes().len())
        .map_err(|len| KeyPackageError::InvalidInitKey { len })?;
    let tbs = key_package.tbs_bytes()?;
    verify_with_label(
        ops,
        &key_package.leaf_node.signature_key,
        KEY_PACKAGE_LABEL,
        &tbs,
        key_package.signature.as_slice(),
    )
    .map_err(|_| KeyPackageError::BadKeyPackageSignature)?;
    validate_leaf_node(
        ops,
        &key_package.leaf_node,
        LeafNodeRole::KeyPackage,
        group,
        lifetime,
        validator,
    )?;
    if key_package.init_key == key_package.leaf_node.encryption_key {
        return Err(KeyPackageError::InitKeyIsEncryptionKey);
    }
    // §10: unknown KeyPackage extensions "MUST be ignored", listed or not (§13.5 asks only
    // LeafNode extensions to be reflected in the capabilities; MLS++ and mls-rs send unlisted
    // GREASE here). Recognised types in the wrong message are still refused (§17.3).
    if let Some(t) = key_package
        .extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .find(|&t| !allowed_in(t, Place::KeyPackage))
    {
        return Err(KeyPackageError::ExtensionNotAllowedInKeyPackage(t));
    }
    key_package.extensions.typed::<LastResort>()?;
    let reference = KeyPackageRef::compute(ops, &key_package)?;
    Ok(ValidatedKeyPackage {
        key_package,
        reference,
    })
}
