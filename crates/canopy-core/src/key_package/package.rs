//! KeyPackages (RFC 9420 §10): creation with fresh init and encryption keys, the
//! KeyPackageRef (§5.2), the `last_resort` marker, and validation (§10.1) into a
//! [`ValidatedKeyPackage`].

use canopy_crypto::{CipherSuite, CryptoProvider, HpkePrivateKey, Signer, SuiteOps};

use super::KeyPackageError;
use super::capabilities::{GreasePicker, LastResort, Place, allowed_in};
use super::credential::CredentialValidator;
use super::leaf::{LeafNodeParams, NewLeafSource, build_leaf};
use super::validate::{GroupRequirements, LifetimePolicy};
use crate::codec::VarBytes;
use crate::crypto::{key_package_ref, sign_with_label};
use crate::rules::key_package::{KEY_PACKAGE_LABEL, check_key_package};
use crate::rules::{Detail, Rule, Violation};
use crate::wire::{Extension, ExtensionView, Extensions, KeyPackage, Lifetime, ProtocolVersion};

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
    /// [`LastResort`] extension and, with the `extensions` feature, also with the
    /// `last_resort_key_package` component of its `app_data_dictionary`
    /// (draft-ietf-mls-extensions §Last-Resort KeyPackages).
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
/// randomness or signing fails; [`KeyPackageError::Invalid`] with KP-04 if the two fresh keys
/// collide (a broken generator), KP-06 or LN-15 for an extension that RFC 9420 §17.3 places
/// elsewhere; [`KeyPackageError::Codec`] for oversized fields.
pub fn create_key_package(
    provider: &dyn CryptoProvider,
    suite: CipherSuite,
    params: &KeyPackageParams,
    signer: &dyn Signer,
) -> Result<KeyPackageBundle, KeyPackageError> {
    if let Some(t) = params
        .extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .find(|&t| !allowed_in(t, Place::KeyPackage))
    {
        return Err(Violation::new(Rule::KeyPackageExtensionPlacement)
            .with(Detail::Extension(t))
            .into());
    }
    let ops = provider.suite(suite)?;
    let init = ops.hpke_generate_key_pair()?;
    let encryption = ops.hpke_generate_key_pair()?;
    if init.public == encryption.public {
        return Err(Violation::new(Rule::KeyPackageInitKeyDistinct).into());
    }
    let mut grease = (params.leaf.grease || params.leaf.grease_extensions)
        .then(|| GreasePicker::new(provider))
        .transpose()?;

    let mut kp_extensions: Vec<Extension> = params.extensions.as_slice().to_vec();
    if params.last_resort && params.extensions.find(LastResort::EXTENSION_TYPE).is_none() {
        kp_extensions.push(LastResort.to_extension()?);
    }
    let mut kp_extensions = Extensions::new(kp_extensions)?;
    #[cfg(feature = "extensions")]
    if params.last_resort {
        crate::extensions::app_data::mark_last_resort(&mut kp_extensions)?;
    }
    #[cfg(feature = "extensions")]
    if let Some(g) = grease.as_mut()
        && params.leaf.grease
    {
        crate::extensions::grease::add(&mut kp_extensions, g)?;
    }
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

    /// Whether it is marked last-resort (RFC 9420 §16.8: it may be reused): it carries the
    /// `last_resort` extension or, with the `extensions` feature, the
    /// `last_resort_key_package` component (draft-ietf-mls-extensions §Last-Resort
    /// KeyPackages).
    pub fn is_last_resort(&self) -> bool {
        let extensions = &self.key_package.extensions;
        #[cfg(feature = "extensions")]
        if crate::extensions::app_data::is_marked_last_resort(extensions) {
            return true;
        }
        extensions.find(LastResort::EXTENSION_TYPE).is_some()
    }

    /// The KeyPackage, giving up the proof.
    pub fn into_key_package(self) -> KeyPackage {
        self.key_package
    }
}

/// RFC 9420 §10.1: validates a received `key_package` for a group with cipher suite
/// `ops.suite()` and requirements `group`: the KeyPackage rules KP-01, KP-02, KP-05, KP-03, the
/// LeafNode rules for a `key_package` leaf (with `lifetime` and `validator`), KP-04 and KP-06
/// of [`crate::rules`], in that order, then the `last_resort` extension's body (and, with the
/// `extensions` feature, XT-05: the `last_resort_key_package` component's).
///
/// Unknown extensions and capabilities (GREASE included) are ignored (§10, §13.4), whether or
/// not the leaf's capabilities list them, and the capabilities need not list the group's
/// cipher suite. Credential-type compatibility and key uniqueness against the group's members
/// are checked when the KeyPackage is added to a group.
///
/// # Errors
/// [`KeyPackageError::Invalid`] naming the first rule broken; [`KeyPackageError::Codec`] for a
/// malformed `last_resort` extension.
pub fn validate_key_package(
    ops: &dyn SuiteOps,
    key_package: KeyPackage,
    group: &GroupRequirements<'_>,
    lifetime: &LifetimePolicy,
    validator: &dyn CredentialValidator,
) -> Result<ValidatedKeyPackage, KeyPackageError> {
    check_key_package(ops, &key_package, group, lifetime, validator)?;
    key_package.extensions.typed::<LastResort>()?;
    #[cfg(feature = "extensions")]
    crate::extensions::app_data::check_last_resort(&key_package.extensions)?;
    let reference = KeyPackageRef::compute(ops, &key_package)?;
    Ok(ValidatedKeyPackage {
        key_package,
        reference,
    })
}
