//! The OpenMLS 0.9.2 adapter (`openmls_rust_crypto` 0.6, `openmls_basic_credential` 0.6).

use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, KeyPackageIn, LeafNodeIndex,
    LeafNodeParameters, MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY,
    MlsGroup, MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut,
    ProcessedMessageContent, ProtocolVersion, StagedWelcome, WireFormatPolicy,
    tls_codec::{Deserialize, Serialize},
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;

use crate::{CommitOut, CommitSpec, Handshake, Impl, Member, Received, Result, err};

pub(crate) struct OpenMlsMember {
    identity: Vec<u8>,
    suite: Ciphersuite,
    policy: WireFormatPolicy,
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    group: Option<MlsGroup>,
}

fn encode(m: &MlsMessageOut) -> Result<Vec<u8>> {
    m.tls_serialize_detached()
        .map_err(|e| err("OpenMLS encode")(&e))
}

fn decode(bytes: &[u8]) -> Result<MlsMessageIn> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(|e| err("OpenMLS decode")(&e))
}

impl OpenMlsMember {
    pub(crate) fn new(identity: &[u8], suite: u16, handshake: Handshake) -> Result<Self> {
        let suite = Ciphersuite::try_from(suite).map_err(|e| err("OpenMLS suite")(&e))?;
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(suite.signature_algorithm())
            .map_err(|e| err("OpenMLS signature key")(&e))?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.to_vec()).into(),
            signature_key: signer.public().into(),
        };
        // Mixed policies: our handshakes as configured, either form accepted.
        let policy = match handshake {
            Handshake::Public => MIXED_PLAINTEXT_WIRE_FORMAT_POLICY,
            Handshake::Private => MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY,
        };
        Ok(Self {
            identity: identity.to_vec(),
            suite,
            policy,
            provider,
            signer,
            credential,
            group: None,
        })
    }

    fn join_config(&self) -> MlsGroupJoinConfig {
        MlsGroupJoinConfig::builder()
            .wire_format_policy(self.policy)
            .use_ratchet_tree_extension(true)
            .build()
    }

    /// Decodes and validates a KeyPackage (where OpenMLS 0.9.2 refuses GREASE extensions).
    fn key_package_in(&self, bytes: &[u8]) -> Result<KeyPackage> {
        let MlsMessageBodyIn::KeyPackage(kp) = decode(bytes)?.extract() else {
            return Err("OpenMLS: not a KeyPackage".to_owned());
        };
        let kp: KeyPackageIn = kp;
        kp.validate(self.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(|e| err("OpenMLS KeyPackage validation")(&e))
    }
}

/// The capabilities OpenMLS members advertise, when not OpenMLS's defaults: SelfRemove with
/// the `extensions` feature; a post-quantum group suite added to the cipher suites (OpenMLS's
/// default list has them only with openmls's own `draft-ietf-mls-pq-ciphersuites` feature,
/// which this crate cannot turn on, see Cargo.toml, and OpenMLS refuses a tree whose leaves
/// do not list the group's suite).
fn capabilities(suite: Ciphersuite) -> Option<openmls::prelude::Capabilities> {
    let classical = [
        Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
        Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
        Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519,
    ];
    let pq = !classical.contains(&suite);
    if !pq && !cfg!(feature = "extensions") {
        return None;
    }
    let builder = openmls::prelude::Capabilities::builder();
    #[cfg(feature = "extensions")]
    let builder = builder.proposals(vec![openmls::prelude::ProposalType::SelfRemove]);
    let builder = if pq {
        let mut suites = classical.to_vec();
        suites.push(suite);
        builder.ciphersuites(suites)
    } else {
        builder
    };
    Some(builder.build())
}

impl Member for OpenMlsMember {
    fn kind(&self) -> Impl {
        Impl::OpenMls
    }

    fn identity(&self) -> &[u8] {
        &self.identity
    }

    fn key_package(&mut self) -> Result<Vec<u8>> {
        let mut builder = KeyPackage::builder();
        if let Some(caps) = capabilities(self.suite) {
            builder = builder.leaf_node_capabilities(caps);
        }
        let bundle = builder
            .build(
                self.suite,
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .map_err(|e| err("OpenMLS KeyPackage::build")(&e))?;
        encode(&MlsMessageOut::from(bundle.key_package().clone()))
    }

    fn create_group(&mut self, group_id: &[u8]) -> Result<()> {
        let group = MlsGroup::builder()
            .ciphersuite(self.suite)
            .with_group_id(openmls::prelude::GroupId::from_slice(group_id))
            .with_wire_format_policy(self.policy)
            .use_ratchet_tree_extension(true);
        let group = match capabilities(self.suite) {
            Some(caps) => group.with_capabilities(caps),
            None => group,
        };
        let group = group
            .build(&self.provider, &self.signer, self.credential.clone())
            .map_err(|e| err("OpenMLS MlsGroup::build")(&e))?;
        self.group = Some(group);
        Ok(())
    }

    fn join(&mut self, welcome: &[u8]) -> Result<()> {
        let MlsMessageBodyIn::Welcome(welcome) = decode(welcome)?.extract() else {
            return Err("OpenMLS: not a Welcome".to_owned());
        };
        let group =
            StagedWelcome::new_from_welcome(&self.provider, &self.join_config(), welcome, None)
                .map_err(|e| err("OpenMLS StagedWelcome::new_from_welcome")(&e))?
                .into_group(&self.provider)
                .map_err(|e| err("OpenMLS into_group")(&e))?;
        self.group = Some(group);
        Ok(())
    }

    fn join_external(&mut self, group_info: &[u8]) -> Result<Vec<u8>> {
        let MlsMessageBodyIn::GroupInfo(info) = decode(group_info)?.extract() else {
            return Err("OpenMLS: not a GroupInfo".to_owned());
        };
        let mut builder = MlsGroup::external_commit_builder()
            .with_config(self.join_config())
            .build_group(&self.provider, info, self.credential.clone())
            .map_err(|e| err("OpenMLS external build_group")(&e))?;
        if let Some(caps) = capabilities(self.suite) {
            builder = builder.leaf_node_parameters(
                LeafNodeParameters::builder()
                    .with_capabilities(caps)
                    .build(),
            );
        }
        let (mut group, bundle) = builder
            .load_psks(self.provider.storage())
            .map_err(|e| err("OpenMLS external load_psks")(&e))?
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .map_err(|e| err("OpenMLS external build")(&e))?
            .finalize(&self.provider)
            .map_err(|e| err("OpenMLS external finalize")(&e))?;
        group
            .merge_pending_commit(&self.provider)
            .map_err(|e| err("OpenMLS merge external commit")(&e))?;
        let (commit, _, _) = bundle.into_messages();
        self.group = Some(group);
        encode(&commit)
    }

    fn commit(&mut self, spec: &CommitSpec) -> Result<CommitOut> {
        let kps = spec
            .add
            .iter()
            .map(|b| self.key_package_in(b))
            .collect::<Result<Vec<_>>>()?;
        let removed: Vec<LeafNodeIndex> =
            spec.remove.iter().map(|&l| LeafNodeIndex::new(l)).collect();
        let provider = &self.provider;
        let signer = &self.signer;
        let group = self.group.as_mut().ok_or("OpenMLS: no group")?;
        let only_adds = !kps.is_empty() && removed.is_empty() && !spec.force_path;
        let (commit, welcome) = if only_adds && spec.no_path {
            let (c, w, _) = group
                .add_members_without_update(provider, signer, &kps)
                .map_err(|e| err("OpenMLS add_members_without_update")(&e))?;
            (c, Some(w))
        } else if only_adds {
            let (c, w, _) = group
                .add_members(provider, signer, &kps)
                .map_err(|e| err("OpenMLS add_members")(&e))?;
            (c, Some(w))
        } else if kps.is_empty() && removed.is_empty() && spec.force_path {
            let bundle = group
                .self_update(provider, signer, LeafNodeParameters::default())
                .map_err(|e| err("OpenMLS self_update")(&e))?;
            let (c, w, _) = bundle.into_messages();
            (c, w)
        } else {
            // Removes and mixed commits, and by-reference commits of pending proposals.
            let bundle = group
                .commit_builder()
                .propose_adds(kps)
                .propose_removals(removed)
                .force_self_update(spec.force_path)
                .load_psks(provider.storage())
                .map_err(|e| err("OpenMLS load_psks")(&e))?
                .build(provider.rand(), provider.crypto(), signer, |_| true)
                .map_err(|e| err("OpenMLS commit build")(&e))?
                .stage_commit(provider)
                .map_err(|e| err("OpenMLS stage_commit")(&e))?;
            let (c, w, _) = bundle.into_messages();
            (c, w)
        };
        Ok(CommitOut {
            commit: encode(&commit)?,
            welcome: welcome.as_ref().map(encode).transpose()?,
        })
    }

    fn merge_pending(&mut self) -> Result<()> {
        let provider = &self.provider;
        let group = self.group.as_mut().ok_or("OpenMLS: no group")?;
        group
            .merge_pending_commit(provider)
            .map_err(|e| err("OpenMLS merge_pending_commit")(&e))
    }

    fn propose_remove(&mut self, leaf: u32) -> Result<Vec<u8>> {
        let provider = &self.provider;
        let signer = &self.signer;
        let group = self.group.as_mut().ok_or("OpenMLS: no group")?;
        let (m, _) = group
            .propose_remove_member(provider, signer, LeafNodeIndex::new(leaf))
            .map_err(|e| err("OpenMLS propose_remove_member")(&e))?;
        encode(&m)
    }

    #[cfg(feature = "extensions")]
    fn propose_self_remove(&mut self) -> Result<Vec<u8>> {
        let provider = &self.provider;
        let signer = &self.signer;
        let group = self.group.as_mut().ok_or("OpenMLS: no group")?;
        let m = group
            .leave_group_via_self_remove(provider, signer)
            .map_err(|e| err("OpenMLS leave_group_via_self_remove")(&e))?;
        encode(&m)
    }

    fn encrypt(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let provider = &self.provider;
        let signer = &self.signer;
        let group = self.group.as_mut().ok_or("OpenMLS: no group")?;
        let m = group
            .create_message(provider, signer, data)
            .map_err(|e| err("OpenMLS create_message")(&e))?;
        encode(&m)
    }

    fn process(&mut self, message: &[u8]) -> Result<Received> {
        let message = decode(message)?
            .try_into_protocol_message()
            .map_err(|e| err("OpenMLS protocol message")(&e))?;
        let provider = &self.provider;
        let group = self.group.as_mut().ok_or("OpenMLS: no group")?;
        let processed = group
            .process_message(provider, message)
            .map_err(|e| err("OpenMLS process_message")(&e))?;
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(m) => {
                Ok(Received::Application(m.into_bytes()))
            }
            ProcessedMessageContent::ProposalMessage(p) => {
                group
                    .store_pending_proposal(provider.storage(), *p)
                    .map_err(|e| err("OpenMLS store_pending_proposal")(&e))?;
                Ok(Received::Proposal)
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let removed = staged.self_removed();
                group
                    .merge_staged_commit(provider, *staged)
                    .map_err(|e| err("OpenMLS merge_staged_commit")(&e))?;
                Ok(if removed {
                    Received::Removed
                } else {
                    Received::Commit
                })
            }
            other => Err(format!("OpenMLS: unexpected {other:?}")),
        }
    }

    fn group_info(&mut self) -> Result<Vec<u8>> {
        let group = self.group.as_ref().ok_or("OpenMLS: no group")?;
        let m = group
            .export_group_info(self.provider.crypto(), &self.signer, true)
            .map_err(|e| err("OpenMLS export_group_info")(&e))?;
        encode(&m)
    }

    fn epoch(&self) -> u64 {
        self.group.as_ref().map_or(0, |g| g.epoch().as_u64())
    }

    fn epoch_authenticator(&self) -> Vec<u8> {
        self.group
            .as_ref()
            .map(|g| g.epoch_authenticator().as_slice().to_vec())
            .unwrap_or_default()
    }

    fn roster(&self) -> Vec<(u32, Vec<u8>)> {
        let Some(group) = &self.group else {
            return Vec::new();
        };
        let mut out: Vec<(u32, Vec<u8>)> = group
            .members()
            .map(|m| {
                let id = BasicCredential::try_from(m.credential)
                    .map(|c| c.identity().to_vec())
                    .unwrap_or_default();
                (m.index.u32(), id)
            })
            .collect();
        out.sort();
        out
    }

    fn own_leaf(&self) -> u32 {
        self.group.as_ref().map_or(0, |g| g.own_leaf_index().u32())
    }
}
