//! Tests of KeyPackage and LeafNode creation and validation (RFC 9420 §5.3, §7, §10, §13.5):
//! round trips for every suite, one negative test per validation rule, GREASE, and a
//! property test that decoding and validating arbitrary bytes never panics.
#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: panics are test failures"
)]

use crate::rules::{Rule, assert_rule};
use canopy_crypto::{
    CipherSuite, CryptoProvider, HpkePublicKey, SignatureKeyPair, SignaturePublicKey, SuiteOps,
};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use proptest::prelude::*;

use super::*;
use crate::codec::{VarBytes, VarVec};
use crate::crypto::sign_with_label;
use crate::wire::{
    Certificate, Credential, CredentialType, Extension, ExtensionType, ExtensionView, Extensions,
    KeyPackage, LeafNode, LeafNodeSource, Lifetime, ProposalType, ProtocolVersion,
    RequiredCapabilities,
};

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
const NOW: u64 = 1_700_000_000;
const LIFETIME: Lifetime = Lifetime {
    not_before: NOW - 3_600,
    not_after: NOW + 30 * 86_400,
};
const GROUP_ID: &[u8] = b"group";

fn basic(name: &str) -> Credential {
    Credential::Basic {
        identity: VarBytes(name.as_bytes().to_vec()),
    }
}

fn x509() -> Credential {
    Credential::X509 {
        certificates: VarVec(vec![Certificate {
            cert_data: VarBytes(vec![0x30, 0x00]),
        }]),
    }
}

fn policy() -> LifetimePolicy {
    LifetimePolicy::at(NOW).with_max_total(90 * 86_400)
}

/// A client with a signature key and one KeyPackage for `suite`.
struct Client {
    provider: RustCryptoProvider,
    suite: CipherSuite,
    signer: SignatureKeyPair,
    bundle: KeyPackageBundle,
}

impl Client {
    fn new(suite: CipherSuite) -> Self {
        Self::with(suite, |_| {})
    }

    fn with(suite: CipherSuite, f: impl FnOnce(&mut KeyPackageParams)) -> Self {
        let provider = RustCryptoProvider::new();
        let signer = provider
            .suite(suite)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap();
        let mut params =
            KeyPackageParams::new(LeafNodeParams::new(basic("alice"), suite), LIFETIME);
        f(&mut params);
        let bundle = create_key_package(&provider, suite, &params, &signer).unwrap();
        Self {
            provider,
            suite,
            signer,
            bundle,
        }
    }

    fn ops(&self) -> &dyn SuiteOps {
        self.provider.suite(self.suite).unwrap()
    }

    fn kp(&self) -> KeyPackage {
        self.bundle.key_package.clone()
    }

    fn leaf(&self) -> LeafNode {
        self.bundle.key_package.leaf_node.clone()
    }

    fn validate(&self, kp: KeyPackage) -> Result<ValidatedKeyPackage, KeyPackageError> {
        validate_key_package(
            self.ops(),
            kp,
            &GroupRequirements::mls10(),
            &policy(),
            &BasicCredentialValidator::new(),
        )
    }

    fn validate_in(
        &self,
        kp: KeyPackage,
        group_extensions: &Extensions,
    ) -> Result<ValidatedKeyPackage, KeyPackageError> {
        let group = GroupRequirements {
            version: ProtocolVersion::MLS10,
            extensions: Some(group_extensions),
            provider: None,
        };
        validate_key_package(
            self.ops(),
            kp,
            &group,
            &policy(),
            &BasicCredentialValidator::new(),
        )
    }

    fn resign_leaf(&self, leaf: &mut LeafNode, group_id: &[u8], leaf_index: u32) {
        let tbs = leaf.tbs_bytes(group_id, leaf_index).unwrap();
        leaf.signature =
            VarBytes(sign_with_label(self.ops(), &self.signer, b"LeafNodeTBS", &tbs).unwrap());
    }

    fn resign(&self, kp: &mut KeyPackage) {
        let tbs = kp.tbs_bytes().unwrap();
        kp.signature =
            VarBytes(sign_with_label(self.ops(), &self.signer, b"KeyPackageTBS", &tbs).unwrap());
    }

    /// The KeyPackage with `f` applied to its leaf, leaf and KeyPackage re-signed, so that
    /// only the rule `f` breaks fails.
    fn with_leaf(&self, f: impl FnOnce(&mut LeafNode)) -> KeyPackage {
        let mut kp = self.kp();
        f(&mut kp.leaf_node);
        self.resign_leaf(&mut kp.leaf_node, &[], 0);
        self.resign(&mut kp);
        kp
    }

    /// The KeyPackage with `f` applied, re-signed.
    fn with_kp(&self, f: impl FnOnce(&mut KeyPackage)) -> KeyPackage {
        let mut kp = self.kp();
        f(&mut kp);
        self.resign(&mut kp);
        kp
    }

    fn params(&self) -> LeafNodeParams {
        LeafNodeParams::from_leaf(&self.bundle.key_package.leaf_node)
    }

    /// A fresh Update leaf at `leaf_index` 3 of [`GROUP_ID`].
    fn update_leaf(&self, params: &LeafNodeParams) -> LeafNode {
        let source = NewLeafSource::Update {
            group_id: GROUP_ID,
            leaf_index: 3,
        };
        let (leaf, private) =
            generate_leaf_node(&self.provider, self.suite, params, source, &self.signer).unwrap();
        assert_eq!(
            self.ops().hpke_public_key(&private).unwrap(),
            leaf.encryption_key
        );
        leaf
    }

    fn validate_leaf(
        &self,
        leaf: &LeafNode,
        role: LeafNodeRole<'_>,
    ) -> Result<(), KeyPackageError> {
        validate_leaf_node(
            self.ops(),
            leaf,
            role,
            &GroupRequirements::mls10(),
            &policy(),
            &BasicCredentialValidator::new(),
        )
    }
}

fn update_role(replaced: &LeafNode) -> LeafNodeRole<'_> {
    LeafNodeRole::Update {
        group_id: GROUP_ID,
        leaf_index: 3,
        replaced,
    }
}

fn required(f: impl FnOnce(&mut RequiredCapabilities)) -> Extensions {
    let mut r = RequiredCapabilities::default();
    f(&mut r);
    Extensions::new(vec![r.to_extension().unwrap()]).unwrap()
}

fn has_grease(values: impl IntoIterator<Item = u16>) -> bool {
    values.into_iter().any(|v| GREASE_VALUES.contains(&v))
}

// ----- creation and round trips -----

#[test]
fn create_then_validate_round_trips_for_every_suite() {
    for suite in CipherSuite::ALL {
        let c = Client::new(suite);
        let kp = c.kp();
        assert_eq!(kp.version, ProtocolVersion::MLS10);
        assert_eq!(kp.cipher_suite, suite);
        assert_ne!(kp.init_key, kp.leaf_node.encryption_key);
        assert_eq!(
            c.ops().hpke_public_key(&c.bundle.init_private).unwrap(),
            kp.init_key
        );
        assert_eq!(
            c.ops()
                .hpke_public_key(&c.bundle.encryption_private)
                .unwrap(),
            kp.leaf_node.encryption_key
        );
        assert_eq!(kp.leaf_node.signature_key, c.signer.public);
        assert_eq!(
            kp.leaf_node.leaf_node_source,
            LeafNodeSource::KeyPackage(LIFETIME)
        );

        let decoded = KeyPackage::from_bytes(&kp.to_bytes().unwrap()).unwrap();
        assert_eq!(decoded, kp);
        let valid = c
            .validate(decoded)
            .unwrap_or_else(|e| panic!("{suite:?}: {e}"));
        assert_eq!(valid.key_package(), &kp);
        assert_eq!(valid.reference(), &c.bundle.reference(c.ops()).unwrap());
        assert_eq!(
            valid.reference().as_bytes().len(),
            c.ops().params().hash_len()
        );
        assert!(!valid.is_last_resort());
        assert_eq!(valid.into_key_package(), kp);
    }
}

#[test]
fn key_package_ref_is_the_ref_hash_of_the_encoding() {
    let c = Client::new(SUITE);
    let bytes = c.kp().to_bytes().unwrap();
    let expected = crate::crypto::key_package_ref(c.ops(), &bytes).unwrap();
    assert_eq!(
        c.bundle.reference(c.ops()).unwrap().as_bytes(),
        &expected[..]
    );
    assert_eq!(
        KeyPackageRef::from_bytes(expected),
        c.bundle.reference(c.ops()).unwrap()
    );
}

#[test]
fn created_capabilities_list_what_the_leaf_uses_and_no_defaults() {
    let c = Client::with(SUITE, |p| {
        p.leaf.grease = false;
        p.leaf.capabilities.cipher_suites.clear();
        p.leaf.capabilities.versions = VarVec::default();
        p.leaf.capabilities.credentials = VarVec::default();
        p.leaf.capabilities.extensions = VarVec(vec![ExtensionType::APPLICATION_ID]);
        p.leaf.capabilities.proposals = VarVec(vec![ProposalType::ADD, ProposalType(0x7777)]);
        p.leaf.extensions = Extensions::new(vec![
            Extension::new(ExtensionType::APPLICATION_ID, vec![0x01, 0x61]),
            Extension::new(ExtensionType(0x1234), vec![]),
        ])
        .unwrap();
        p.extensions =
            Extensions::new(vec![Extension::new(ExtensionType(0x2345), vec![9])]).unwrap();
    });
    let caps = &c.bundle.key_package.leaf_node.capabilities;
    assert_eq!(caps.versions.as_slice(), &[ProtocolVersion::MLS10]);
    assert_eq!(caps.cipher_suites, vec![SUITE]);
    assert_eq!(caps.credentials.as_slice(), &[CredentialType::BASIC]);
    assert_eq!(
        caps.extensions.as_slice(),
        &[ExtensionType(0x1234), ExtensionType(0x2345)]
    );
    assert_eq!(caps.proposals.as_slice(), &[ProposalType(0x7777)]);
    c.validate(c.kp()).unwrap();
}

#[test]
fn default_capabilities_are_the_minimum_without_grease() {
    let caps = default_capabilities(SUITE);
    assert_eq!(caps.versions.as_slice(), &[ProtocolVersion::MLS10]);
    assert_eq!(caps.cipher_suites, vec![SUITE]);
    assert_eq!(caps.credentials.as_slice(), &[CredentialType::BASIC]);
    #[cfg(not(feature = "extensions"))]
    assert!(caps.extensions.as_slice().is_empty());
    #[cfg(not(feature = "extensions"))]
    assert!(caps.proposals.as_slice().is_empty());
    // With the extensions draft: SelfRemove under both of its code points, AppDataUpdate,
    // AppEphemeral, and the draft's three extensions.
    #[cfg(feature = "extensions")]
    {
        assert_eq!(
            caps.proposals.as_slice(),
            &[
                ProposalType::SELF_REMOVE,
                ProposalType::SELF_REMOVE_F003,
                ProposalType::APP_DATA_UPDATE,
                ProposalType::APP_EPHEMERAL
            ]
        );
        assert_eq!(
            caps.extensions.as_slice(),
            &[
                crate::extensions::APP_DATA_DICTIONARY,
                crate::extensions::SUPPORTED_WIRE_FORMATS,
                crate::extensions::REQUIRED_WIRE_FORMATS
            ]
        );
    }
    assert!(is_default_extension(ExtensionType::EXTERNAL_SENDERS));
    assert!(!is_default_extension(ExtensionType::LAST_RESORT));
    assert!(is_default_proposal(ProposalType::GROUP_CONTEXT_EXTENSIONS));
    assert!(!is_default_proposal(ProposalType(0x0008)));
}

#[test]
fn leaf_nodes_for_update_and_commit_validate_in_their_role_and_in_the_tree() {
    let c = Client::new(SUITE);
    let old = c.leaf();
    let update = c.update_leaf(&c.params());
    assert_eq!(update.leaf_node_source, LeafNodeSource::Update);
    c.validate_leaf(&update, update_role(&old)).unwrap();
    let tree = LeafNodeRole::TreeMember {
        group_id: GROUP_ID,
        leaf_index: 3,
    };
    c.validate_leaf(&update, tree).unwrap();

    let key = c.ops().hpke_generate_key_pair().unwrap().public;
    let commit = sign_leaf_node(
        &c.provider,
        SUITE,
        &c.params(),
        key.clone(),
        NewLeafSource::Commit {
            group_id: GROUP_ID,
            leaf_index: 3,
            parent_hash: &[7; 32],
        },
        &c.signer,
    )
    .unwrap();
    assert_eq!(commit.encryption_key, key);
    assert_eq!(
        commit.leaf_node_source,
        LeafNodeSource::Commit(VarBytes(vec![7; 32]))
    );
    let role = LeafNodeRole::Commit {
        group_id: GROUP_ID,
        leaf_index: 3,
        replaced: Some(&old),
    };
    c.validate_leaf(&commit, role).unwrap();
    c.validate_leaf(&commit, tree).unwrap();
    // A new member's external commit replaces nothing.
    let role = LeafNodeRole::Commit {
        group_id: GROUP_ID,
        leaf_index: 3,
        replaced: None,
    };
    c.validate_leaf(&commit, role).unwrap();
    // The key-package leaf is valid as a tree member too, whatever the position.
    c.validate_leaf(&old, tree).unwrap();
}

#[test]
fn leaf_signature_binds_group_id_and_leaf_index() {
    let c = Client::new(SUITE);
    let old = c.leaf();
    let update = c.update_leaf(&c.params());
    for (group_id, leaf_index) in [(&b"other"[..], 3), (GROUP_ID, 4)] {
        let role = LeafNodeRole::Update {
            group_id,
            leaf_index,
            replaced: &old,
        };
        assert_rule(c.validate_leaf(&update, role), Rule::LeafSignature);
    }
}

#[test]
fn last_resort_marks_the_key_package_and_is_listed_in_capabilities() {
    let c = Client::with(SUITE, |p| p.last_resort = true);
    let kp = c.kp();
    assert_eq!(
        kp.extensions.typed::<LastResort>().unwrap(),
        Some(LastResort)
    );
    assert!(
        kp.leaf_node
            .capabilities
            .extensions
            .as_slice()
            .contains(&ExtensionType::LAST_RESORT)
    );
    assert!(c.validate(kp).unwrap().is_last_resort());
}

#[test]
fn last_resort_with_data_is_malformed() {
    let c = Client::with(SUITE, |p| p.last_resort = true);
    let kp = c.with_kp(|kp| {
        let list = kp
            .extensions
            .as_slice()
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if e.extension_type == ExtensionType::LAST_RESORT {
                    e.extension_data = VarBytes(vec![0]);
                }
                e
            })
            .collect();
        kp.extensions = Extensions::new(list).unwrap();
    });
    assert!(matches!(c.validate(kp), Err(KeyPackageError::Codec(_))));
}

// ----- GREASE -----

/// The number of GREASE values in `values`.
fn grease_count(values: impl IntoIterator<Item = u16>) -> usize {
    values
        .into_iter()
        .filter(|v| GREASE_VALUES.contains(v))
        .count()
}

/// Issue 11 / `docs/interop.md`: Canopy's default KeyPackage, decoded from its bytes, has
/// exactly one GREASE value in each of the four capability lists (§13.5), none in the
/// versions, no GREASE extension in the LeafNode or the KeyPackage (OpenMLS 0.9.2 refuses
/// them), and every non-default extension it carries listed in the capabilities (§7.2, §10).
#[test]
fn default_key_package_greases_only_the_capability_lists_and_lists_every_extension() {
    for suite in CipherSuite::ALL {
        let c = Client::with(suite, |p| {
            p.leaf.extensions = Extensions::new(vec![
                Extension::new(ExtensionType::APPLICATION_ID, vec![0x01, 0x61]),
                Extension::new(ExtensionType(0x1234), vec![7]),
            ])
            .unwrap();
            p.extensions =
                Extensions::new(vec![Extension::new(ExtensionType(0x2345), vec![9])]).unwrap();
            p.last_resort = true;
        });
        let bytes = c.kp().to_bytes().unwrap();
        let kp = KeyPackage::from_bytes(&bytes).unwrap();
        let caps = &kp.leaf_node.capabilities;
        assert_eq!(grease_count(caps.cipher_suites.iter().map(|s| s.0)), 1);
        assert_eq!(
            grease_count(caps.extensions.as_slice().iter().map(|t| t.0)),
            1
        );
        assert_eq!(
            grease_count(caps.proposals.as_slice().iter().map(|t| t.0)),
            1
        );
        assert_eq!(
            grease_count(caps.credentials.as_slice().iter().map(|t| t.0)),
            1
        );
        assert_eq!(
            grease_count(caps.versions.as_slice().iter().map(|t| t.0)),
            0
        );
        let leaf_ext = kp.leaf_node.extensions.as_slice();
        let kp_ext = kp.extensions.as_slice();
        assert!(!leaf_ext.iter().any(|e| e.extension_type.is_grease()));
        assert!(!kp_ext.iter().any(|e| e.extension_type.is_grease()));
        assert_eq!(leaf_ext.len(), 2);
        // With the extensions feature, last resort is also the app_data_dictionary's
        // last_resort_key_package component.
        assert_eq!(kp_ext.len(), 2 + usize::from(cfg!(feature = "extensions")));
        for e in leaf_ext.iter().chain(kp_ext) {
            let t = e.extension_type;
            assert_eq!(
                caps.extensions.as_slice().contains(&t),
                !is_default_extension(t),
                "{suite:?}: {t:?}"
            );
        }
        // Listed: 0x1234, 0x2345, last_resort and the one GREASE value; nothing else (but
        // the draft's three with the extensions feature).
        let draft = if cfg!(feature = "extensions") { 3 } else { 0 };
        assert_eq!(caps.extensions.as_slice().len(), 4 + draft);
        c.validate(kp).unwrap();
    }
}

#[test]
fn grease_extensions_switch_sends_listed_grease_extensions_and_is_tolerated() {
    let c = Client::with(SUITE, |p| p.leaf.grease_extensions = true);
    let kp = c.kp();
    let caps = &kp.leaf_node.capabilities;
    assert!(has_grease(caps.cipher_suites.iter().map(|s| s.0)));
    assert!(has_grease(caps.proposals.as_slice().iter().map(|t| t.0)));
    assert!(has_grease(caps.credentials.as_slice().iter().map(|t| t.0)));
    assert!(!has_grease(caps.versions.as_slice().iter().map(|t| t.0)));
    let leaf_ext = kp.leaf_node.extensions.as_slice();
    let kp_ext = kp.extensions.as_slice();
    assert_eq!(leaf_ext.len(), 1);
    assert_eq!(kp_ext.len(), 1);
    for e in leaf_ext.iter().chain(kp_ext) {
        assert!(e.extension_type.is_grease());
        assert!(caps.extensions.as_slice().contains(&e.extension_type));
    }
    // One GREASE capability value plus the extensions' types (they may coincide).
    let mut types: Vec<u16> = leaf_ext
        .iter()
        .chain(kp_ext)
        .map(|e| e.extension_type.0)
        .collect();
    types.dedup();
    assert_eq!(
        grease_count(caps.extensions.as_slice().iter().map(|t| t.0)),
        types.len() + 1
    );
    c.validate(kp).unwrap();

    // GREASE extensions without GREASE capabilities: only the extensions' types are listed.
    let c = Client::with(SUITE, |p| {
        p.leaf.grease = false;
        p.leaf.grease_extensions = true;
    });
    let kp = c.kp();
    let caps = &kp.leaf_node.capabilities;
    assert!(!has_grease(caps.cipher_suites.iter().map(|s| s.0)));
    assert!(!has_grease(caps.proposals.as_slice().iter().map(|t| t.0)));
    let n = grease_count(caps.extensions.as_slice().iter().map(|t| t.0));
    assert!(n == 1 || n == 2, "{n}");
    assert_eq!(kp.extensions.as_slice().len(), 1);
    assert_eq!(kp.leaf_node.extensions.as_slice().len(), 1);
    c.validate(kp).unwrap();
}

#[test]
fn params_from_a_leaf_keep_its_grease_switches() {
    let c = Client::new(SUITE);
    let p = c.params();
    assert!(p.grease);
    assert!(!p.grease_extensions);
    let c = Client::with(SUITE, |p| {
        p.leaf.grease = false;
        p.leaf.grease_extensions = true;
    });
    let p = c.params();
    assert!(!p.grease);
    assert!(p.grease_extensions);
    assert!(p.extensions.is_empty());
    // A re-signed leaf GREASEs as the original did.
    let leaf = c.update_leaf(&p);
    assert_eq!(leaf.extensions.as_slice().len(), 1);
    assert!(!has_grease(
        leaf.capabilities.cipher_suites.iter().map(|s| s.0)
    ));
}

#[test]
fn no_grease_when_the_flag_is_off() {
    let c = Client::with(SUITE, |p| p.leaf.grease = false);
    let kp = c.kp();
    let caps = &kp.leaf_node.capabilities;
    assert!(!has_grease(caps.cipher_suites.iter().map(|s| s.0)));
    assert!(!has_grease(caps.extensions.as_slice().iter().map(|t| t.0)));
    assert!(!has_grease(caps.proposals.as_slice().iter().map(|t| t.0)));
    assert!(!has_grease(caps.credentials.as_slice().iter().map(|t| t.0)));
    assert!(kp.leaf_node.extensions.is_empty());
    assert!(kp.extensions.is_empty());
    c.validate(kp).unwrap();
}

#[test]
fn every_grease_value_everywhere_is_tolerated_on_receipt() {
    let c = Client::new(SUITE);
    let all_ext: Vec<Extension> = GREASE_VALUES
        .iter()
        .map(|&g| {
            Extension::new(
                ExtensionType(g),
                vec![g.to_be_bytes()[1]; usize::from(g >> 12)],
            )
        })
        .collect();
    let kp = c.with_leaf(|leaf| {
        let caps = &mut leaf.capabilities;
        caps.cipher_suites = GREASE_VALUES
            .iter()
            .map(|&g| CipherSuite(g))
            .chain([SUITE])
            .collect();
        caps.extensions = VarVec(GREASE_VALUES.iter().map(|&g| ExtensionType(g)).collect());
        caps.proposals = VarVec(GREASE_VALUES.iter().map(|&g| ProposalType(g)).collect());
        caps.credentials = VarVec(
            GREASE_VALUES
                .iter()
                .map(|&g| CredentialType(g))
                .chain([CredentialType::BASIC])
                .collect(),
        );
        leaf.extensions = Extensions::new(all_ext.clone()).unwrap();
    });
    let mut kp = kp;
    kp.extensions = Extensions::new(all_ext).unwrap();
    c.resign(&mut kp);
    c.validate(kp).unwrap();
}

#[test]
fn params_from_a_leaf_drop_its_grease() {
    let c = Client::with(SUITE, |p| p.leaf.grease_extensions = true);
    let p = c.params();
    assert!(!has_grease(
        p.capabilities.cipher_suites.iter().map(|s| s.0)
    ));
    assert!(!has_grease(
        p.capabilities.extensions.as_slice().iter().map(|t| t.0)
    ));
    assert!(!has_grease(
        p.capabilities.proposals.as_slice().iter().map(|t| t.0)
    ));
    assert!(!has_grease(
        p.capabilities.credentials.as_slice().iter().map(|t| t.0)
    ));
    assert!(p.extensions.is_empty());
    assert_eq!(p.credential, basic("alice"));
    assert_eq!(strip_grease(&p.capabilities), p.capabilities);
}

// ----- credentials (§5.3.1) -----

#[test]
fn basic_validator_policy() {
    let v = BasicCredentialValidator::new();
    let key = SignaturePublicKey::new(vec![1; 32]);
    assert!(v.validate(&basic("a"), &key).is_ok());
    assert!(v.validate(&x509(), &key).is_err());
    assert!(v.valid_successor(&basic("a"), &basic("a")));
    assert!(!v.valid_successor(&basic("a"), &basic("b")));
    assert!(!v.valid_successor(&basic("a"), &x509()));
    assert!(!v.valid_successor(&x509(), &x509()));

    let v = v.dangerous_accept_unverified_x509();
    assert!(v.validate(&x509(), &key).is_ok());
    let empty = Credential::X509 {
        certificates: VarVec::default(),
    };
    assert_eq!(
        v.validate(&empty, &key).unwrap_err().reason(),
        "x509 credential without certificates"
    );
    assert!(v.valid_successor(&x509(), &x509()));
    assert!(!v.valid_successor(&x509(), &empty));
}

#[test]
fn rejected_credential() {
    let c = Client::with(SUITE, |p| p.leaf.credential = x509());
    assert_rule(c.validate(c.kp()), Rule::LeafCredential);
    let accepting = BasicCredentialValidator::new().dangerous_accept_unverified_x509();
    validate_key_package(
        c.ops(),
        c.kp(),
        &GroupRequirements::mls10(),
        &policy(),
        &accepting,
    )
    .unwrap();
}

#[test]
fn invalid_credential_successor() {
    let c = Client::new(SUITE);
    let old = c.leaf();
    let mut params = c.params();
    params.credential = basic("mallory");
    let update = c.update_leaf(&params);
    assert_rule(
        c.validate_leaf(&update, update_role(&old)),
        Rule::LeafCredentialSuccessor,
    );
    let commit_role = LeafNodeRole::Commit {
        group_id: GROUP_ID,
        leaf_index: 3,
        replaced: Some(&old),
    };
    let key = c.ops().hpke_generate_key_pair().unwrap().public;
    let commit = sign_leaf_node(
        &c.provider,
        SUITE,
        &params,
        key,
        NewLeafSource::Commit {
            group_id: GROUP_ID,
            leaf_index: 3,
            parent_hash: &[],
        },
        &c.signer,
    )
    .unwrap();
    assert_rule(
        c.validate_leaf(&commit, commit_role),
        Rule::LeafCredentialSuccessor,
    );
}

// ----- §7.3 leaf node rules, one test each -----

#[test]
fn bad_leaf_node_signature() {
    let c = Client::new(SUITE);
    let mut kp = c.kp();
    kp.leaf_node.signature.0[0] ^= 1;
    c.resign(&mut kp);
    assert_rule(c.validate(kp), Rule::LeafSignature);
    // A leaf signed by another key.
    let other = Client::new(SUITE);
    let mut kp = c.kp();
    kp.leaf_node.signature = other.kp().leaf_node.signature;
    c.resign(&mut kp);
    assert_rule(c.validate(kp), Rule::LeafSignature);
}

#[test]
fn wrong_leaf_node_source() {
    let c = Client::new(SUITE);
    let kp = c.with_leaf(|leaf| leaf.leaf_node_source = LeafNodeSource::Update);
    assert_rule(c.validate(kp), Rule::LeafSource);
    let old = c.leaf();
    assert_rule(c.validate_leaf(&old, update_role(&old)), Rule::LeafSource);
    let update = c.update_leaf(&c.params());
    let role = LeafNodeRole::Commit {
        group_id: GROUP_ID,
        leaf_index: 3,
        replaced: None,
    };
    assert_rule(c.validate_leaf(&update, role), Rule::LeafSource);
}

#[test]
fn update_encryption_key_unchanged() {
    let c = Client::new(SUITE);
    let old = c.leaf();
    let update = sign_leaf_node(
        &c.provider,
        SUITE,
        &c.params(),
        old.encryption_key.clone(),
        NewLeafSource::Update {
            group_id: GROUP_ID,
            leaf_index: 3,
        },
        &c.signer,
    )
    .unwrap();
    assert_rule(
        c.validate_leaf(&update, update_role(&old)),
        Rule::LeafUpdateNewKey,
    );
}

#[test]
fn invalid_encryption_key() {
    let c = Client::new(SUITE);
    let kp = c.with_leaf(|leaf| {
        leaf.encryption_key = HpkePublicKey::new(vec![9; 31]);
    });
    assert_rule(c.validate(kp), Rule::LeafEncryptionKeyValid);
}

/// LN-17, RFC 9180 §7.1.1, §7.1.4: on every suite, a correctly signed KeyPackage whose leaf
/// key has the right length but is no usable KEM key (low order, off the curve) is refused.
#[test]
fn invalid_encryption_key_points_on_every_suite() {
    for suite in CipherSuite::ALL {
        let c = Client::new(suite);
        for bad in crate::crypto::invalid_hpke_keys(c.ops()) {
            let kp = c.with_leaf(|leaf| leaf.encryption_key = bad);
            assert_rule(c.validate(kp), Rule::LeafEncryptionKeyValid);
        }
    }
}

#[test]
fn credential_type_not_in_capabilities() {
    let c = Client::new(SUITE);
    let kp = c.with_leaf(|leaf| {
        leaf.capabilities
            .credentials
            .0
            .retain(|&t| t != CredentialType::BASIC);
    });
    assert_rule(c.validate(kp), Rule::LeafOwnCredentialListed);
}

#[test]
fn version_not_in_capabilities() {
    let c = Client::new(SUITE);
    let kp = c.with_leaf(|leaf| leaf.capabilities.versions = VarVec(vec![ProtocolVersion(2)]));
    assert_rule(c.validate(kp), Rule::LeafVersion);
}

/// Issue 10 item 14: no receive-side rule of §7.3 or §10.1 asks a leaf to list the group's
/// cipher suite, and other implementations' KeyPackages may omit it: accepted on every suite.
#[test]
fn capabilities_need_not_list_the_cipher_suite() {
    // Issue 10 item 14: no receive-side rule of RFC 9420 §10.1 or §7.3 asks for it (MLS++
    // sends such KeyPackages); the suite is fixed by `cipher_suite` (KP-02).
    for suite in CipherSuite::ALL {
        let c = Client::new(suite);
        let kp = c.with_leaf(|leaf| leaf.capabilities.cipher_suites.retain(|&s| s != suite));
        assert!(c.validate(kp).is_ok(), "{suite:?}");
    }
}

#[test]
fn leaf_extension_not_in_capabilities() {
    let c = Client::new(SUITE);
    let kp = c.with_leaf(|leaf| {
        let mut list = leaf.extensions.clone().into_vec();
        list.push(Extension::new(ExtensionType(0x1234), vec![]));
        leaf.extensions = Extensions::new(list).unwrap();
    });
    assert_rule(c.validate(kp), Rule::LeafExtensionsListed);
}

#[test]
fn application_id_needs_no_capability_but_group_extensions_are_not_leaf_extensions() {
    let c = Client::new(SUITE);
    let kp = c.with_leaf(|leaf| {
        leaf.extensions = Extensions::new(vec![Extension::new(
            ExtensionType::APPLICATION_ID,
            vec![0x01, 0x61],
        )])
        .unwrap();
    });
    c.validate(kp).unwrap();
    for t in [
        ExtensionType::RATCHET_TREE,
        ExtensionType::REQUIRED_CAPABILITIES,
        ExtensionType::EXTERNAL_PUB,
        ExtensionType::EXTERNAL_SENDERS,
        ExtensionType::LAST_RESORT,
    ] {
        let kp = c.with_leaf(|leaf| {
            leaf.capabilities.extensions.0.push(t);
            leaf.extensions = Extensions::new(vec![Extension::new(t, vec![])]).unwrap();
        });
        assert_rule(c.validate(kp), Rule::LeafExtensionPlacement);
    }
}

#[test]
fn required_extension_unsupported() {
    let c = Client::new(SUITE);
    let group = required(|r| r.extension_types = VarVec(vec![ExtensionType(0x1234)]));
    assert_rule(
        c.validate_in(c.kp(), &group),
        Rule::LeafRequiredCapabilities,
    );
}

#[test]
fn required_proposal_unsupported() {
    let c = Client::new(SUITE);
    let group = required(|r| r.proposal_types = VarVec(vec![ProposalType(0x1234)]));
    assert_rule(
        c.validate_in(c.kp(), &group),
        Rule::LeafRequiredCapabilities,
    );
}

#[test]
fn required_credential_unsupported() {
    let c = Client::new(SUITE);
    let group = required(|r| r.credential_types = VarVec(vec![CredentialType::X509]));
    assert_rule(
        c.validate_in(c.kp(), &group),
        Rule::LeafRequiredCapabilities,
    );
}

#[test]
fn required_capabilities_met_including_defaults() {
    let c = Client::with(SUITE, |p| {
        p.leaf.capabilities.extensions = VarVec(vec![ExtensionType(0x1234)]);
        p.leaf.capabilities.proposals = VarVec(vec![ProposalType(0x1234)]);
        p.leaf.capabilities.credentials = VarVec(vec![CredentialType::BASIC, CredentialType::X509]);
    });
    let group = required(|r| {
        r.extension_types = VarVec(vec![ExtensionType::APPLICATION_ID, ExtensionType(0x1234)]);
        r.proposal_types = VarVec(vec![ProposalType::ADD, ProposalType(0x1234)]);
        r.credential_types = VarVec(vec![CredentialType::BASIC, CredentialType::X509]);
    });
    c.validate_in(c.kp(), &group).unwrap();
    // A group extension the leaf lists is supported.
    let mut list = group.into_vec();
    list.push(Extension::new(ExtensionType(0x1234), vec![]));
    c.validate_in(c.kp(), &Extensions::new(list).unwrap())
        .unwrap();
}

#[test]
fn malformed_required_capabilities_cannot_be_met() {
    let c = Client::new(SUITE);
    let group = Extensions::new(vec![Extension::new(
        ExtensionType::REQUIRED_CAPABILITIES,
        vec![0xff],
    )])
    .unwrap();
    assert_rule(
        c.validate_in(c.kp(), &group),
        Rule::LeafRequiredCapabilities,
    );
}

#[test]
fn group_context_extension_unsupported() {
    let c = Client::new(SUITE);
    let group = Extensions::new(vec![
        Extension::new(ExtensionType::EXTERNAL_SENDERS, vec![0]),
        Extension::new(ExtensionType(0x1235), vec![]),
    ])
    .unwrap();
    assert_rule(c.validate_in(c.kp(), &group), Rule::LeafGroupExtensions);
}

#[test]
fn outside_lifetime() {
    let c = Client::new(SUITE);
    for now in [LIFETIME.not_before - 1, LIFETIME.not_after + 1] {
        let r = validate_key_package(
            c.ops(),
            c.kp(),
            &GroupRequirements::mls10(),
            &LifetimePolicy::at(now),
            &BasicCredentialValidator::new(),
        );
        assert_rule(r, Rule::LeafLifetime);
    }
    for now in [LIFETIME.not_before, LIFETIME.not_after] {
        LifetimePolicy::at(now).check(&LIFETIME).unwrap();
    }
    // Unchecked: an expired leaf received late is accepted.
    validate_key_package(
        c.ops(),
        c.kp(),
        &GroupRequirements::mls10(),
        &LifetimePolicy::unchecked(),
        &BasicCredentialValidator::new(),
    )
    .unwrap();
}

#[test]
fn lifetime_too_long() {
    let c = Client::new(SUITE);
    let total = LIFETIME.not_after - LIFETIME.not_before;
    let r = validate_key_package(
        c.ops(),
        c.kp(),
        &GroupRequirements::mls10(),
        &LifetimePolicy::at(NOW).with_max_total(total - 1),
        &BasicCredentialValidator::new(),
    );
    assert_rule(r, Rule::LeafLifetimeMax);
    LifetimePolicy::at(NOW)
        .with_max_total(total)
        .check(&LIFETIME)
        .unwrap();
}

#[test]
fn inverted_lifetime() {
    let c = Client::new(SUITE);
    let kp = c.with_leaf(|leaf| {
        leaf.leaf_node_source = LeafNodeSource::KeyPackage(Lifetime {
            not_before: NOW + 10,
            not_after: NOW - 10,
        });
    });
    assert_rule(c.validate(kp), Rule::LeafLifetime);
}

// ----- §7.3 checks against the other members -----

#[test]
fn credential_types_supported_by_and_of_the_members() {
    use crate::rules::leaf::CredentialTypes;
    let c = Client::new(SUITE);
    let leaf = c.leaf();
    let alike = Client::new(SUITE).leaf();
    CredentialTypes::of([(0, &alike), (1, &alike)])
        .check(&leaf)
        .unwrap();
    CredentialTypes::of([]).check(&leaf).unwrap();

    let mut basic_blind = alike.clone();
    basic_blind
        .capabilities
        .credentials
        .0
        .retain(|&t| t != CredentialType::BASIC);
    assert_rule(
        CredentialTypes::of([(0, &alike), (1, &basic_blind)]).check(&leaf),
        Rule::LeafCredentialTypeSupported,
    );

    let mut x509_user = alike;
    x509_user.credential = x509();
    x509_user
        .capabilities
        .credentials
        .0
        .push(CredentialType::X509);
    assert_rule(
        CredentialTypes::of([(0, &x509_user)]).check(&leaf),
        Rule::LeafSupportsCredentialTypes,
    );
}

// ----- §10.1 KeyPackage rules, one test each -----

#[test]
fn version_mismatch() {
    let c = Client::new(SUITE);
    let kp = c.with_kp(|kp| kp.version = ProtocolVersion(2));
    assert_rule(c.validate(kp), Rule::KeyPackageVersion);
}

#[test]
fn cipher_suite_mismatch() {
    let c = Client::new(SUITE);
    let other = CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519;
    let r = validate_key_package(
        c.provider.suite(other).unwrap(),
        c.kp(),
        &GroupRequirements::mls10(),
        &policy(),
        &BasicCredentialValidator::new(),
    );
    assert_rule(r, Rule::KeyPackageSuite);
}

#[test]
fn bad_key_package_signature() {
    let c = Client::new(SUITE);
    let mut kp = c.kp();
    kp.signature.0[5] ^= 0x10;
    assert_rule(c.validate(kp), Rule::KeyPackageSignature);
    // Any change to a signed field breaks it too.
    let mut kp = c.kp();
    kp.init_key = c.ops().hpke_generate_key_pair().unwrap().public;
    assert_rule(c.validate(kp), Rule::KeyPackageSignature);
}

#[test]
fn invalid_init_key() {
    let c = Client::new(SUITE);
    let kp = c.with_kp(|kp| kp.init_key = HpkePublicKey::new(vec![1; 33]));
    assert_rule(c.validate(kp), Rule::KeyPackageInitKeyValid);
}

/// KP-05, RFC 9180 §7.1.1, §7.1.4: on every suite, a correctly signed KeyPackage whose
/// `init_key` has the right length but is no usable KEM key is refused (a Welcome to it
/// would fail).
#[test]
fn invalid_init_key_points_on_every_suite() {
    for suite in CipherSuite::ALL {
        let c = Client::new(suite);
        for bad in crate::crypto::invalid_hpke_keys(c.ops()) {
            let kp = c.with_kp(|kp| kp.init_key = bad);
            assert_rule(c.validate(kp), Rule::KeyPackageInitKeyValid);
        }
    }
}

#[test]
fn init_key_is_encryption_key() {
    let c = Client::new(SUITE);
    let kp = c.with_kp(|kp| kp.init_key = kp.leaf_node.encryption_key.clone());
    assert_rule(c.validate(kp), Rule::KeyPackageInitKeyDistinct);
}

/// Issue 10 item 14: §10 says unknown KeyPackage extensions "MUST be ignored"; only the sender
/// is asked to list them. KeyPackages with unlisted GREASE and unknown extensions (as MLS++
/// and mls-rs with its `grease` feature send) are accepted on every suite.
#[test]
fn unlisted_unknown_and_grease_key_package_extensions_are_ignored_on_every_suite() {
    for suite in CipherSuite::ALL {
        let c = Client::new(suite);
        // A GREASE type the leaf does not list (it lists one random GREASE value).
        let listed = c.kp().leaf_node.capabilities.extensions;
        let grease = GREASE_VALUES
            .iter()
            .map(|&g| ExtensionType(g))
            .find(|t| !listed.as_slice().contains(t))
            .unwrap();
        let kp = c.with_kp(|kp| {
            let mut list = kp.extensions.clone().into_vec();
            list.push(Extension::new(ExtensionType(0x1236), vec![1, 2]));
            list.push(Extension::new(grease, vec![3]));
            kp.extensions = Extensions::new(list).unwrap();
        });
        let caps = kp.leaf_node.capabilities.extensions.as_slice();
        assert!(!caps.contains(&ExtensionType(0x1236)));
        assert!(!caps.contains(&grease));
        let valid = c
            .validate(kp.clone())
            .unwrap_or_else(|e| panic!("{suite:?}: {e}"));
        assert_eq!(valid.key_package(), &kp);
    }
}

#[test]
fn extension_not_allowed_in_key_package() {
    let c = Client::new(SUITE);
    for t in [
        ExtensionType::APPLICATION_ID,
        ExtensionType::RATCHET_TREE,
        ExtensionType::REQUIRED_CAPABILITIES,
        ExtensionType::EXTERNAL_PUB,
        ExtensionType::EXTERNAL_SENDERS,
    ] {
        let kp = c.with_kp(|kp| {
            kp.extensions = Extensions::new(vec![Extension::new(t, vec![])]).unwrap();
        });
        assert_rule(c.validate(kp), Rule::KeyPackageExtensionPlacement);
    }
}

#[test]
fn key_package_extensions_are_listed_by_the_creator() {
    let c = Client::with(SUITE, |p| {
        p.extensions =
            Extensions::new(vec![Extension::new(ExtensionType(0x4242), vec![1])]).unwrap();
    });
    assert!(
        c.kp()
            .leaf_node
            .capabilities
            .extensions
            .as_slice()
            .contains(&ExtensionType(0x4242))
    );
    c.validate(c.kp()).unwrap();
}

#[test]
fn unsupported_suite_is_a_crypto_error_on_creation() {
    let provider = RustCryptoProvider::new();
    let signer = provider
        .suite(SUITE)
        .unwrap()
        .signature_generate_key_pair()
        .unwrap();
    let params = KeyPackageParams::new(LeafNodeParams::new(basic("a"), SUITE), LIFETIME);
    assert!(matches!(
        create_key_package(&provider, CipherSuite(0x0A0A), &params, &signer),
        Err(KeyPackageError::Crypto(_))
    ));
}

// ----- property tests -----

proptest! {
    #[test]
    fn prop_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let provider = RustCryptoProvider::new();
        let ops = provider.suite(SUITE).unwrap();
        if let Ok(kp) = KeyPackage::from_bytes(&bytes) {
            let _ = validate_key_package(
                ops,
                kp,
                &GroupRequirements::mls10(),
                &policy(),
                &BasicCredentialValidator::new(),
            );
        }
    }

    #[test]
    fn prop_mutated_key_packages_never_validate(index in any::<prop::sample::Index>(), flip in 1u8..) {
        thread_local! {
            static CLIENT: Client = Client::new(SUITE);
        }
        CLIENT.with(|c| {
            let mut bytes = c.kp().to_bytes().unwrap();
            let i = index.index(bytes.len());
            bytes[i] ^= flip;
            if let Ok(kp) = KeyPackage::from_bytes(&bytes) {
                prop_assert!(c.validate(kp).is_err());
            }
            Ok(())
        })?;
    }
}

#[test]
fn creation_refuses_extensions_registered_for_other_messages() {
    let provider = RustCryptoProvider::new();
    let signer = provider
        .suite(SUITE)
        .unwrap()
        .signature_generate_key_pair()
        .unwrap();
    let ratchet_tree =
        Extensions::new(vec![Extension::new(ExtensionType::RATCHET_TREE, vec![])]).unwrap();
    let mut params = KeyPackageParams::new(LeafNodeParams::new(basic("a"), SUITE), LIFETIME);
    params.extensions = ratchet_tree.clone();
    assert_rule(
        create_key_package(&provider, SUITE, &params, &signer),
        Rule::KeyPackageExtensionPlacement,
    );
    params.extensions = Extensions::default();
    params.leaf.extensions = ratchet_tree;
    assert_rule(
        create_key_package(&provider, SUITE, &params, &signer),
        Rule::LeafExtensionPlacement,
    );
}
