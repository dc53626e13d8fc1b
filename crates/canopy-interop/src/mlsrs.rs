//! The mls-rs 0.57 adapter (`mls-rs-crypto-rustcrypto` 0.23). With this crate's `mls-rs-grease`
//! feature, mls-rs is built with its own `grease` feature and GREASEs everything it sends.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mls_rs::client_builder::{MlsConfig, PaddingMode};
use mls_rs::group::{CommitEffect, GroupContext, ReceivedMessage, Roster};
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::mls_rules::{
    CommitDirection, CommitOptions, CommitSource, EncryptionOptions, ProposalBundle,
};
use mls_rs::{CipherSuite, CipherSuiteProvider, Client, CryptoProvider, ExtensionList, Group};
use mls_rs::{MlsMessage, MlsRules};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;

use crate::{CommitOut, CommitSpec, Handshake, Impl, Member, Received, Result, err};

/// mls-rs rules: pass every proposal through, the ratchet tree in Welcomes, external commits
/// allowed, an UpdatePath when `path` is set (otherwise only where MLS requires it), and
/// handshakes encrypted when `encrypt` is set.
#[derive(Clone, Debug)]
struct Rules {
    path: Arc<AtomicBool>,
    encrypt: bool,
}

impl MlsRules for Rules {
    type Error = Infallible;

    fn filter_proposals(
        &self,
        _direction: CommitDirection,
        _source: CommitSource,
        _roster: &Roster<'_>,
        _context: &GroupContext,
        proposals: ProposalBundle,
    ) -> std::result::Result<ProposalBundle, Self::Error> {
        Ok(proposals)
    }

    fn commit_options(
        &self,
        _roster: &Roster<'_>,
        _context: &GroupContext,
        _proposals: &ProposalBundle,
    ) -> std::result::Result<CommitOptions, Self::Error> {
        Ok(CommitOptions::new()
            .with_path_required(self.path.load(Ordering::Relaxed))
            .with_ratchet_tree_extension(true)
            .with_single_welcome_message(true)
            .with_allow_external_commit(true))
    }

    fn encryption_options(
        &self,
        _roster: &Roster<'_>,
        _context: &GroupContext,
    ) -> std::result::Result<EncryptionOptions, Self::Error> {
        Ok(EncryptionOptions::new(self.encrypt, PaddingMode::None))
    }
}

struct MlsRsMember<C: MlsConfig> {
    identity: Vec<u8>,
    path: Arc<AtomicBool>,
    client: Client<C>,
    group: Option<Group<C>>,
}

/// A new mls-rs member.
pub(crate) fn new(identity: &[u8], suite: u16, handshake: Handshake) -> Result<Box<dyn Member>> {
    let crypto = RustCryptoProvider::new();
    let suite = CipherSuite::from(suite);
    let cs = crypto
        .cipher_suite_provider(suite)
        .ok_or_else(|| format!("mls-rs: suite {suite:?} unsupported"))?;
    let (secret, public) = cs
        .signature_key_generate()
        .map_err(|e| err("mls-rs signature key")(&e))?;
    let signing_identity = SigningIdentity::new(
        BasicCredential::new(identity.to_vec()).into_credential(),
        public,
    );
    let path = Arc::new(AtomicBool::new(false));
    let rules = Rules {
        path: Arc::clone(&path),
        encrypt: handshake == Handshake::Private,
    };
    let builder = Client::builder();
    // SelfRemove under mls-rs's code point (0xF003), advertised in the capabilities.
    #[cfg(feature = "extensions")]
    let builder = builder.custom_proposal_type(mls_rs::group::proposal::ProposalType::SELF_REMOVE);
    let client = builder
        .identity_provider(BasicIdentityProvider)
        .crypto_provider(crypto)
        .mls_rules(rules)
        .signing_identity(signing_identity, secret, suite)
        .build();
    Ok(Box::new(MlsRsMember {
        identity: identity.to_vec(),
        path,
        client,
        group: None,
    }))
}

fn decode(bytes: &[u8]) -> Result<MlsMessage> {
    MlsMessage::from_bytes(bytes).map_err(|e| err("mls-rs decode")(&e))
}

fn encode(m: &MlsMessage) -> Result<Vec<u8>> {
    m.to_bytes().map_err(|e| err("mls-rs encode")(&e))
}

impl<C: MlsConfig> MlsRsMember<C> {
    fn group(&mut self) -> Result<&mut Group<C>> {
        self.group
            .as_mut()
            .ok_or_else(|| "mls-rs: no group".to_owned())
    }
}

impl<C: MlsConfig> Member for MlsRsMember<C> {
    fn kind(&self) -> Impl {
        Impl::MlsRs
    }

    fn identity(&self) -> &[u8] {
        &self.identity
    }

    fn key_package(&mut self) -> Result<Vec<u8>> {
        let m = self
            .client
            .generate_key_package_message(ExtensionList::new(), ExtensionList::new(), None)
            .map_err(|e| err("mls-rs generate_key_package_message")(&e))?;
        encode(&m)
    }

    fn create_group(&mut self, group_id: &[u8]) -> Result<()> {
        let group = self
            .client
            .create_group_with_id(
                group_id.to_vec(),
                ExtensionList::new(),
                ExtensionList::new(),
                None,
            )
            .map_err(|e| err("mls-rs create_group_with_id")(&e))?;
        self.group = Some(group);
        Ok(())
    }

    fn join(&mut self, welcome: &[u8]) -> Result<()> {
        let (group, _) = self
            .client
            .join_group(None, &decode(welcome)?, None)
            .map_err(|e| err("mls-rs join_group")(&e))?;
        self.group = Some(group);
        Ok(())
    }

    fn join_external(&mut self, group_info: &[u8]) -> Result<Vec<u8>> {
        let (group, commit) = self
            .client
            .external_commit_builder()
            .map_err(|e| err("mls-rs external_commit_builder")(&e))?
            .build(decode(group_info)?)
            .map_err(|e| err("mls-rs external commit")(&e))?;
        self.group = Some(group);
        encode(&commit)
    }

    fn commit(&mut self, spec: &CommitSpec) -> Result<CommitOut> {
        let path = Arc::clone(&self.path);
        let group = self.group()?;
        let mut builder = group.commit_builder();
        for kp in &spec.add {
            builder = builder
                .add_member(decode(kp)?)
                .map_err(|e| err("mls-rs add_member")(&e))?;
        }
        for &leaf in &spec.remove {
            builder = builder
                .remove_member(leaf)
                .map_err(|e| err("mls-rs remove_member")(&e))?;
        }
        path.store(spec.force_path, Ordering::Relaxed);
        let out = builder.build();
        path.store(false, Ordering::Relaxed);
        let out = out.map_err(|e| err("mls-rs commit")(&e))?;
        Ok(CommitOut {
            commit: encode(&out.commit_message)?,
            welcome: out.welcome_messages.first().map(encode).transpose()?,
        })
    }

    fn merge_pending(&mut self) -> Result<()> {
        self.group()?
            .apply_pending_commit()
            .map(|_| ())
            .map_err(|e| err("mls-rs apply_pending_commit")(&e))
    }

    fn propose_remove(&mut self, leaf: u32) -> Result<Vec<u8>> {
        let m = self
            .group()?
            .propose_remove(leaf, Vec::new())
            .map_err(|e| err("mls-rs propose_remove")(&e))?;
        encode(&m)
    }

    #[cfg(feature = "extensions")]
    fn propose_self_remove(&mut self) -> Result<Vec<u8>> {
        let m = self
            .group()?
            .propose_self_remove(Vec::new())
            .map_err(|e| err("mls-rs propose_self_remove")(&e))?;
        encode(&m)
    }

    fn encrypt(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let m = self
            .group()?
            .encrypt_application_message(data, Vec::new())
            .map_err(|e| err("mls-rs encrypt_application_message")(&e))?;
        encode(&m)
    }

    fn process(&mut self, message: &[u8]) -> Result<Received> {
        let message = decode(message)?;
        match self
            .group()?
            .process_incoming_message(message)
            .map_err(|e| err("mls-rs process_incoming_message")(&e))?
        {
            ReceivedMessage::ApplicationMessage(m) => Ok(Received::Application(m.data().to_vec())),
            ReceivedMessage::Proposal(_) => Ok(Received::Proposal),
            ReceivedMessage::Commit(c) => Ok(match c.effect {
                CommitEffect::Removed { .. } => Received::Removed,
                _ => Received::Commit,
            }),
            other => Err(format!("mls-rs: unexpected {other:?}")),
        }
    }

    fn group_info(&mut self) -> Result<Vec<u8>> {
        let m = self
            .group()?
            .group_info_message_allowing_ext_commit(true)
            .map_err(|e| err("mls-rs group_info_message_allowing_ext_commit")(&e))?;
        encode(&m)
    }

    fn epoch(&self) -> u64 {
        self.group.as_ref().map_or(0, Group::current_epoch)
    }

    fn epoch_authenticator(&self) -> Vec<u8> {
        self.group
            .as_ref()
            .and_then(|g| g.epoch_authenticator().ok())
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default()
    }

    fn roster(&self) -> Vec<(u32, Vec<u8>)> {
        let Some(group) = &self.group else {
            return Vec::new();
        };
        let mut out: Vec<(u32, Vec<u8>)> = group
            .roster()
            .members_iter()
            .map(|m| {
                let id = m
                    .signing_identity
                    .credential
                    .as_basic()
                    .map(|b| b.identifier.clone())
                    .unwrap_or_default();
                (m.index, id)
            })
            .collect();
        out.sort();
        out
    }

    fn own_leaf(&self) -> u32 {
        self.group.as_ref().map_or(0, Group::current_member_index)
    }
}
