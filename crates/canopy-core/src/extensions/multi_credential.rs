//! draft-ietf-mls-extensions §Multi-Credentials: [`CredentialBinding`], the `multi` and
//! `weak-multi` credentials' parts, how a client signs one, and the checks of rules MC-01 to
//! MC-05 (see [`crate::rules`]).
//!
//! A binding is "a signed statement by the holder of the credential that the signature key in
//! the LeafNode belongs to the holder of that credential": Canopy reads the signature as made
//! with the private key of `credential_key`, with the binding's `cipher_suite`'s signature
//! scheme, over `CredentialBindingTBS`, which covers the LeafNode's `signature_key`.
//!
//! Canopy's bounds, beyond the draft:
//! - a binding's own credential is basic or x509: a multi-credential nested in a binding is
//!   refused while decoding (the draft does not define nesting, and it would make the work
//!   per leaf unbounded);
//! - at most [`Limits::max_credential_bindings`](crate::codec::Limits) bindings (16 by
//!   default), checked while decoding;
//! - a `weak-multi` credential is checked against the distinct capability profiles of the
//!   members (their sorted credential types and cipher suites), at most [`MAX_PROFILES`] of
//!   them; a group whose members present more refuses weak-multi credentials rather than
//!   run a check quadratic in the group size.
//!
//! A binding of another cipher suite than the group's is verified with that suite's
//! primitives from the [`CryptoProvider`] the group runs on; where no provider is given
//! ([`GroupRequirements::provider`](crate::key_package::GroupRequirements) `None`, as in a
//! KeyPackage checked on its own), only bindings of the group's suite can be verified.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use canopy_crypto::{CipherSuite, CryptoProvider, SignaturePublicKey, Signer, SuiteOps};
use tls_codec::{DeserializeBytes, Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use crate::codec::{CodeKind, CodecError, VarBytes};
use crate::crypto::{MlsCryptoError, sign_with_label, verify_with_label};
use crate::key_package::CredentialValidator;
use crate::rules::{At, Detail, Rule, Violation};
use crate::wire::{Credential, CredentialType, LeafNode};

/// The label of a binding's signature (draft-ietf-mls-extensions §Credential Bindings).
pub const CREDENTIAL_BINDING_LABEL: &[u8] = b"CredentialBindingTBS";

/// The most distinct capability profiles (and distinct binding sets of the members'
/// weak-multi credentials) a weak-multi credential is checked against.
pub const MAX_PROFILES: usize = 256;

/// draft-ietf-mls-extensions §Multi-Credentials `CredentialBinding`: one credential, the key
/// it certifies, and that key's signature binding the LeafNode's `signature_key` to it.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct CredentialBinding {
    /// `CipherSuite cipher_suite`: the suite whose signature scheme `credential_key` uses;
    /// need not be the group's.
    #[tls_codec(with = "crate::wire::primitives::cipher_suite")]
    pub cipher_suite: CipherSuite,
    /// `Credential credential`: basic or x509 (Canopy refuses a nested multi-credential).
    #[tls_codec(with = "single_credential")]
    pub credential: Credential,
    /// `SignaturePublicKey credential_key`: the key `credential` certifies.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub credential_key: SignaturePublicKey,
    /// `opaque signature<V>`: `SignWithLabel(., "CredentialBindingTBS", CredentialBindingTBS)`.
    pub signature: VarBytes,
}

impl CredentialBinding {
    /// The encoded `CredentialBindingTBS` of this binding in a LeafNode with `signature_key`.
    ///
    /// # Errors
    /// [`CodecError`] if a field is too long to encode.
    pub fn tbs_bytes(&self, signature_key: &SignaturePublicKey) -> Result<Vec<u8>, CodecError> {
        tbs(
            self.cipher_suite,
            &self.credential,
            &self.credential_key,
            signature_key,
        )
    }

    /// Binds `credential` (whose key is `credential_key`, of `ops`' suite) to the LeafNode
    /// signature key `signature_key`, signing with `signer`, `credential_key`'s private key.
    ///
    /// # Errors
    /// [`MlsCryptoError`] if signing fails or the credential is too long to encode.
    pub fn sign(
        ops: &dyn SuiteOps,
        signer: &dyn Signer,
        credential: Credential,
        credential_key: SignaturePublicKey,
        signature_key: &SignaturePublicKey,
    ) -> Result<Self, MlsCryptoError> {
        let cipher_suite = ops.suite();
        let content = tbs(cipher_suite, &credential, &credential_key, signature_key)?;
        let signature = sign_with_label(ops, signer, CREDENTIAL_BINDING_LABEL, &content)?;
        Ok(Self {
            cipher_suite,
            credential,
            credential_key,
            signature: VarBytes(signature),
        })
    }

    /// Verifies the binding's signature for a LeafNode with `signature_key`, with `ops` of
    /// the binding's suite.
    ///
    /// # Errors
    /// [`MlsCryptoError`] if it does not verify.
    pub fn verify(
        &self,
        ops: &dyn SuiteOps,
        signature_key: &SignaturePublicKey,
    ) -> Result<(), MlsCryptoError> {
        let content = self.tbs_bytes(signature_key)?;
        verify_with_label(
            ops,
            &self.credential_key,
            CREDENTIAL_BINDING_LABEL,
            &content,
            self.signature.as_slice(),
        )
    }

    /// The (cipher suite, credential type) pair a member must support to support this
    /// binding.
    fn needs(&self) -> (CipherSuite, CredentialType) {
        (self.cipher_suite, self.credential.credential_type())
    }
}

fn tbs(
    cipher_suite: CipherSuite,
    credential: &Credential,
    credential_key: &SignaturePublicKey,
    signature_key: &SignaturePublicKey,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(credential.tls_serialized_len().saturating_add(140));
    let write = |out: &mut Vec<u8>| -> Result<(), tls_codec::Error> {
        crate::wire::primitives::cipher_suite::tls_serialize(&cipher_suite, out)?;
        credential.tls_serialize(out)?;
        crate::codec::fields::opaque::tls_serialize(credential_key, out)?;
        crate::codec::fields::opaque::tls_serialize(signature_key, out)?;
        Ok(())
    };
    write(&mut out).map_err(CodecError::from)?;
    Ok(out)
}

/// `#[tls_codec(with = ...)]` adapter for a binding's `Credential`: refuses a nested
/// `multi` or `weak-multi` credential before decoding any of it.
mod single_credential {
    use super::{CodeKind, CodecError, Credential, CredentialType, DeserializeBytes, Write};
    use tls_codec::{Serialize, Size};

    pub(crate) fn tls_serialized_len(credential: &Credential) -> usize {
        credential.tls_serialized_len()
    }

    pub(crate) fn tls_serialize<W: Write>(
        credential: &Credential,
        writer: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        credential.tls_serialize(writer)
    }

    pub(crate) fn tls_deserialize_bytes(
        bytes: &[u8],
    ) -> Result<(Credential, &[u8]), tls_codec::Error> {
        let (credential_type, _) = CredentialType::tls_deserialize_bytes(bytes)?;
        if matches!(
            credential_type,
            CredentialType::MULTI | CredentialType::WEAK_MULTI
        ) {
            return Err(CodecError::InvalidCode {
                kind: CodeKind::CredentialType,
                value: credential_type.0,
            }
            .into_tls_decoding());
        }
        Credential::tls_deserialize_bytes(bytes)
    }
}

/// MC-01, MC-04, MC-05: the bindings of `leaf`'s multi-credential are valid in the context of
/// the leaf, for a group of `ops`' suite running on `provider`. A `multi` credential needs
/// every binding verified; a `weak-multi` one the bindings this client supports (those whose
/// suite it runs), at least one. Other credentials pass.
pub(crate) fn check_bindings(
    ops: &dyn SuiteOps,
    provider: Option<&dyn CryptoProvider>,
    validator: &dyn CredentialValidator,
    leaf: &LeafNode,
    now: Option<u64>,
) -> Result<(), Violation> {
    check_credential_bindings(
        ops,
        provider,
        validator,
        &leaf.credential,
        &leaf.signature_key,
        now,
    )
}

/// [`check_bindings`] of `credential` presented with `signature_key` (a LeafNode's, or an
/// external sender's).
pub(crate) fn check_credential_bindings(
    ops: &dyn SuiteOps,
    provider: Option<&dyn CryptoProvider>,
    validator: &dyn CredentialValidator,
    credential: &Credential,
    signature_key: &SignaturePublicKey,
    now: Option<u64>,
) -> Result<(), Violation> {
    let (bindings, strong) = match credential {
        Credential::Multi { bindings } => (bindings.as_slice(), true),
        Credential::WeakMulti { bindings } => (bindings.as_slice(), false),
        Credential::Basic { .. } | Credential::X509 { .. } => return Ok(()),
    };
    if bindings.is_empty() {
        return Err(Violation::new(Rule::MultiCredentialEmpty));
    }
    let mut verified = 0usize;
    for (i, binding) in bindings.iter().enumerate() {
        let binding_ops = if binding.cipher_suite == ops.suite() {
            Some(ops)
        } else {
            provider.and_then(|p| p.suite(binding.cipher_suite).ok())
        };
        let Some(binding_ops) = binding_ops else {
            if strong {
                return Err(Violation::new(Rule::MultiCredentialBindingValid).with(
                    Detail::Reason(format!(
                        "binding {i}: cipher suite {:?} not run here",
                        binding.cipher_suite
                    )),
                ));
            }
            continue;
        };
        binding.verify(binding_ops, signature_key).map_err(|_| {
            Violation::new(Rule::MultiCredentialSignature)
                .with(Detail::Reason(format!("binding {i}")))
        })?;
        validator
            .validate_at(&binding.credential, &binding.credential_key, now)
            .map_err(|e| {
                Violation::new(Rule::MultiCredentialBindingValid)
                    .with(Detail::Reason(format!("binding {i}: {}", e.reason())))
            })?;
        verified = verified.saturating_add(1);
    }
    if verified == 0 {
        return Err(
            Violation::new(Rule::WeakMultiCredentialSupported).with(Detail::Reason(
                "no binding of a suite this client runs".into(),
            )),
        );
    }
    Ok(())
}

/// A member's capability profile: its credential types and cipher suites, sorted.
type Profile = (Vec<CredentialType>, Vec<CipherSuite>);

/// The binding support of a group's members, computed once from their leaves with
/// [`CredentialTypes`](crate::rules::leaf::CredentialTypes): what every member supports,
/// what the members' multi-credentials need of a new member, and the members' distinct
/// capability profiles for weak-multi credentials.
#[derive(Clone, Debug, Default)]
pub(crate) struct BindingSupport {
    /// The cipher suites every member lists; `None` for a group without members.
    suites_by_all: Option<BTreeSet<CipherSuite>>,
    /// The members' distinct profiles, each with the first leaf that has it, up to
    /// [`MAX_PROFILES`].
    profiles: BTreeMap<Profile, u32>,
    /// More distinct profiles than [`MAX_PROFILES`].
    profiles_overflow: bool,
    /// The suites and credential types of the members' `multi` bindings, each with the
    /// first leaf that needs it.
    strong_suites: BTreeMap<CipherSuite, u32>,
    strong_types: BTreeMap<CredentialType, u32>,
    /// The distinct sets of (suite, type) pairs of the members' `weak-multi` credentials,
    /// up to [`MAX_PROFILES`], each with the first leaf that has it.
    weak_sets: BTreeMap<Vec<(CipherSuite, CredentialType)>, u32>,
    /// More distinct weak-multi sets than [`MAX_PROFILES`].
    weak_overflow: bool,
}

impl BindingSupport {
    /// Adds the member at leaf `index`.
    pub(crate) fn add(&mut self, index: u32, leaf: &LeafNode) {
        let caps = &leaf.capabilities;
        let suites: BTreeSet<CipherSuite> = caps.cipher_suites.iter().copied().collect();
        let mut types: Vec<CredentialType> = caps.credentials.as_slice().to_vec();
        types.sort_unstable();
        types.dedup();
        let profile: Profile = (types, suites.iter().copied().collect());
        if !self.profiles.contains_key(&profile) {
            if self.profiles.len() < MAX_PROFILES {
                self.profiles.insert(profile, index);
            } else {
                self.profiles_overflow = true;
            }
        }
        self.suites_by_all = Some(match self.suites_by_all.take() {
            None => suites,
            Some(all) => all.intersection(&suites).copied().collect(),
        });
        match &leaf.credential {
            Credential::Multi { bindings } => {
                for b in bindings.as_slice() {
                    let (suite, t) = b.needs();
                    self.strong_suites.entry(suite).or_insert(index);
                    self.strong_types.entry(t).or_insert(index);
                }
            }
            Credential::WeakMulti { bindings } => {
                let mut set: Vec<_> = bindings.as_slice().iter().map(|b| b.needs()).collect();
                set.sort_unstable();
                set.dedup();
                if !self.weak_sets.contains_key(&set) {
                    if self.weak_sets.len() < MAX_PROFILES {
                        self.weak_sets.insert(set, index);
                    } else {
                        self.weak_overflow = true;
                    }
                }
            }
            Credential::Basic { .. } | Credential::X509 { .. } => {}
        }
    }

    /// MC-02, MC-03 for `leaf` entering the group (or changing its credential), with
    /// `types_by_all` the credential types every member supports: every member supports
    /// what its multi-credential needs, and it supports what the members' need.
    pub(crate) fn check(
        &self,
        leaf: &LeafNode,
        types_by_all: Option<&BTreeSet<CredentialType>>,
    ) -> Result<(), Violation> {
        let caps = &leaf.capabilities;
        // Sorted copies: the lists are the peer's and may be long.
        let mut own_suites = caps.cipher_suites.clone();
        own_suites.sort_unstable();
        let mut own_types = caps.credentials.as_slice().to_vec();
        own_types.sort_unstable();
        let own = |(suite, t): (CipherSuite, CredentialType)| {
            own_suites.binary_search(&suite).is_ok() && own_types.binary_search(&t).is_ok()
        };
        match &leaf.credential {
            Credential::Multi { bindings } => {
                for b in bindings.as_slice() {
                    let (suite, t) = b.needs();
                    let by_all = self
                        .suites_by_all
                        .as_ref()
                        .is_none_or(|s| s.contains(&suite))
                        && types_by_all.is_none_or(|s| s.contains(&t));
                    if !by_all || !own((suite, t)) {
                        return Err(Violation::new(Rule::MultiCredentialSupported).with(
                            Detail::Reason(format!(
                                "binding of suite {suite:?} and credential type 0x{:04x}",
                                t.0
                            )),
                        ));
                    }
                }
            }
            Credential::WeakMulti { bindings } => {
                let needs: Vec<_> = bindings.as_slice().iter().map(|b| b.needs()).collect();
                if self.profiles_overflow {
                    return Err(Violation::new(Rule::WeakMultiCredentialSupported).with(
                        Detail::Reason("too many distinct member capabilities".into()),
                    ));
                }
                if !needs.iter().any(|&n| own(n)) {
                    return Err(Violation::new(Rule::WeakMultiCredentialSupported));
                }
                for ((types, suites), first) in &self.profiles {
                    let supports = |&(suite, t): &(CipherSuite, CredentialType)| {
                        suites.binary_search(&suite).is_ok() && types.binary_search(&t).is_ok()
                    };
                    if !needs.iter().any(supports) {
                        return Err(
                            Violation::new(Rule::WeakMultiCredentialSupported).at(At::Leaf(*first))
                        );
                    }
                }
            }
            Credential::Basic { .. } | Credential::X509 { .. } => {}
        }
        // What the members' multi-credentials need of this leaf.
        if let Some(suite) = self
            .strong_suites
            .keys()
            .copied()
            .find(|s| own_suites.binary_search(s).is_err())
        {
            let first = self.strong_suites.get(&suite).copied().unwrap_or_default();
            return Err(Violation::new(Rule::MultiCredentialSupported)
                .with(Detail::Suite(suite))
                .at(At::Leaf(first)));
        }
        if let Some(t) = self
            .strong_types
            .keys()
            .copied()
            .find(|t| own_types.binary_search(t).is_err())
        {
            let first = self.strong_types.get(&t).copied().unwrap_or_default();
            return Err(Violation::new(Rule::MultiCredentialSupported)
                .with(Detail::Credential(t))
                .at(At::Leaf(first)));
        }
        if self.weak_overflow {
            return Err(
                Violation::new(Rule::WeakMultiCredentialSupported).with(Detail::Reason(
                    "too many distinct weak-multi credentials".into(),
                )),
            );
        }
        for (set, first) in &self.weak_sets {
            if !set.iter().any(|&n| own(n)) {
                return Err(Violation::new(Rule::WeakMultiCredentialSupported).at(At::Leaf(*first)));
            }
        }
        Ok(())
    }
}
