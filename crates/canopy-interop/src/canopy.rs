//! The Canopy adapter: every use of Canopy's API in this crate is here, so that an API change
//! touches one file.

use canopy_core::group::CreateParams;
use canopy_core::group::JoinParams;
use std::time::{SystemTime, UNIX_EPOCH};

use canopy_core::LeafIndex;
use canopy_core::advanced::codec::VarBytes;
use canopy_core::group::{
    CommitOptions, Env, Group, GroupConfig, HandshakeFormat, Merged, ProcessedMessage,
};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{Credential, Lifetime, MlsMessage, Node};
use canopy_crypto::{CipherSuite, CryptoProvider, SignatureKeyPair};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use crate::{CommitOut, CommitSpec, Handshake, Impl, Member, Received, Result, err};

/// Canopy's GREASE switches (RFC 9420 §13.5). The default is Canopy's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CanopyOptions {
    /// `LeafNodeParams::grease`: GREASE values in the four capability lists.
    pub grease: bool,
    /// `LeafNodeParams::grease_extensions`: GREASE extensions in `LeafNode.extensions` and
    /// `KeyPackage.extensions`.
    pub grease_extensions: bool,
}

impl Default for CanopyOptions {
    fn default() -> Self {
        let leaf = LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(Vec::new()),
            },
            SUITE1,
        );
        Self {
            grease: leaf.grease,
            grease_extensions: leaf.grease_extensions,
        }
    }
}

const SUITE1: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

pub(crate) struct CanopyMember {
    identity: Vec<u8>,
    suite: CipherSuite,
    config: GroupConfig,
    options: CanopyOptions,
    provider: RustCryptoProvider,
    validator: BasicCredentialValidator,
    signer: SignatureKeyPair,
    bundles: Vec<KeyPackageBundle>,
    group: Option<Group>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl CanopyMember {
    pub(crate) fn new(
        identity: &[u8],
        suite: u16,
        handshake: Handshake,
        options: CanopyOptions,
    ) -> Result<Self> {
        let suite = CipherSuite(suite);
        // RFC 9420's suites are the default provider's; any other number is OpenMLS's
        // post-quantum suite of that number (`SuiteProfile::OPENMLS` and `OPENMLS_ML_DSA`).
        let provider = if suite.params().is_some() {
            RustCryptoProvider::new()
        } else {
            RustCryptoProvider::new()
                .with_profile(canopy_crypto::SuiteProfile::OPENMLS)
                .and_then(|p| p.with_profile(canopy_crypto::SuiteProfile::OPENMLS_ML_DSA))
                .map_err(|e| err("Canopy PQ profile")(&e))?
        };
        let signer = provider
            .suite(suite)
            .map_err(|e| err("Canopy suite")(&e))?
            .signature_generate_key_pair()
            .map_err(|e| err("Canopy signature key")(&e))?;
        let config = GroupConfig {
            handshake: match handshake {
                Handshake::Public => HandshakeFormat::Public,
                Handshake::Private => HandshakeFormat::Private,
            },
            ..GroupConfig::default()
        };
        Ok(Self {
            identity: identity.to_vec(),
            suite,
            config,
            options,
            provider,
            validator: BasicCredentialValidator::new(),
            signer,
            bundles: Vec::new(),
            group: None,
        })
    }

    fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator).at(now())
    }

    fn leaf(&self) -> LeafNodeParams {
        let mut leaf = LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(self.identity.clone()),
            },
            self.suite,
        );
        leaf.grease = self.options.grease;
        leaf.grease_extensions = self.options.grease_extensions;
        leaf
    }

    fn group(&mut self) -> Result<&mut Group> {
        self.group
            .as_mut()
            .ok_or_else(|| "Canopy: no group".to_owned())
    }
}

impl Member for CanopyMember {
    fn kind(&self) -> Impl {
        Impl::Canopy
    }

    fn identity(&self) -> &[u8] {
        &self.identity
    }

    fn key_package(&mut self) -> Result<Vec<u8>> {
        let t = now();
        let lifetime = Lifetime {
            not_before: t.saturating_sub(3_600),
            not_after: t + 90 * 86_400,
        };
        let params = KeyPackageParams::new(self.leaf(), lifetime);
        let bundle = create_key_package(&self.provider, self.suite, &params, &self.signer)
            .map_err(|e| err("Canopy create_key_package")(&e))?;
        let bytes = MlsMessage::KeyPackage(Box::new(bundle.key_package.clone()))
            .to_bytes()
            .map_err(|e| err("Canopy encode KeyPackage")(&e))?;
        self.bundles.push(bundle);
        Ok(bytes)
    }

    fn create_group(&mut self, group_id: &[u8]) -> Result<()> {
        let group = Group::create(
            &self.env(),
            CreateParams::new(
                self.suite,
                group_id.to_vec(),
                &self.leaf(),
                std::sync::Arc::new(self.signer.clone()),
            )
            .config(self.config),
        )
        .map_err(|e| err("Canopy Group::create")(&e))?;
        self.group = Some(group);
        Ok(())
    }

    fn join(&mut self, welcome: &[u8]) -> Result<()> {
        let MlsMessage::Welcome(welcome) =
            MlsMessage::from_bytes(welcome).map_err(|e| err("Canopy decode Welcome")(&e))?
        else {
            return Err("Canopy: not a Welcome".to_owned());
        };
        let mut last = "Canopy join: no KeyPackage".to_owned();
        for i in (0..self.bundles.len()).rev() {
            let Some(bundle) = self.bundles.get(i) else {
                continue;
            };
            match Group::join(
                &self.env(),
                JoinParams::new(&welcome, bundle, std::sync::Arc::new(self.signer.clone()))
                    .config(self.config),
            ) {
                Ok(group) => {
                    self.bundles.remove(i);
                    self.group = Some(group);
                    return Ok(());
                }
                Err(e) => last = format!("Canopy Group::join: {e:?}"),
            }
        }
        Err(last)
    }

    fn join_external(&mut self, group_info: &[u8]) -> Result<Vec<u8>> {
        let MlsMessage::GroupInfo(info) =
            MlsMessage::from_bytes(group_info).map_err(|e| err("Canopy decode GroupInfo")(&e))?
        else {
            return Err("Canopy: not a GroupInfo".to_owned());
        };
        let (group, commit) = Group::join_external(
            &self.env(),
            self.config,
            &info,
            None,
            &self.leaf(),
            std::sync::Arc::new(self.signer.clone()),
            None,
            &[],
        )
        .map_err(|e| err("Canopy Group::join_external")(&e))?;
        self.group = Some(group);
        Ok(commit)
    }

    fn commit(&mut self, spec: &CommitSpec) -> Result<CommitOut> {
        let mut add = Vec::new();
        for kp in &spec.add {
            match MlsMessage::from_bytes(kp).map_err(|e| err("Canopy decode KeyPackage")(&e))? {
                MlsMessage::KeyPackage(kp) => add.push(*kp),
                _ => return Err("Canopy: not a KeyPackage".to_owned()),
            }
        }
        let remove = spec
            .remove
            .iter()
            .map(|&l| LeafIndex::new(l).ok_or_else(|| format!("Canopy: bad leaf {l}")))
            .collect::<Result<Vec<_>>>()?;
        let options = CommitOptions {
            add,
            remove,
            force_path: spec.force_path,
            ..CommitOptions::default()
        };
        let env = Env::new(&self.provider, &self.validator).at(now());
        let group = self.group.as_mut().ok_or("Canopy: no group")?;
        let out = group
            .commit(&env, options)
            .map_err(|e| err("Canopy commit")(&e))?;
        Ok(CommitOut {
            commit: out.commit,
            welcome: out.welcome,
        })
    }

    fn merge_pending(&mut self) -> Result<()> {
        match self
            .group()?
            .merge_pending_commit()
            .map_err(|e| err("Canopy merge_pending_commit")(&e))?
        {
            Merged::Member { .. } => Ok(()),
            Merged::Removed => Err("Canopy: removed by own commit".to_owned()),
        }
    }

    fn propose_remove(&mut self, leaf: u32) -> Result<Vec<u8>> {
        let env = Env::new(&self.provider, &self.validator).at(now());
        let group = self.group.as_mut().ok_or("Canopy: no group")?;
        group
            .propose(
                &env,
                canopy_core::wire::Proposal::Remove(canopy_core::wire::Remove { removed: leaf }),
            )
            .map_err(|e| err("Canopy propose Remove")(&e))
    }

    #[cfg(feature = "extensions")]
    fn propose_self_remove(&mut self) -> Result<Vec<u8>> {
        let env = Env::new(&self.provider, &self.validator).at(now());
        let group = self.group.as_mut().ok_or("Canopy: no group")?;
        group
            .propose_self_remove(&env)
            .map_err(|e| err("Canopy propose_self_remove")(&e))
    }

    fn encrypt(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let env = Env::new(&self.provider, &self.validator).at(now());
        let group = self.group.as_mut().ok_or("Canopy: no group")?;
        group
            .encrypt_application(&env, data, b"")
            .map_err(|e| err("Canopy encrypt_application")(&e))
    }

    fn process(&mut self, message: &[u8]) -> Result<Received> {
        let env = Env::new(&self.provider, &self.validator).at(now());
        let group = self.group.as_mut().ok_or("Canopy: no group")?;
        match group
            .process_message(&env, message)
            .map_err(|e| err("Canopy process_message")(&e))?
        {
            ProcessedMessage::Application { data, .. } => Ok(Received::Application(data)),
            ProcessedMessage::Proposal { .. } => Ok(Received::Proposal),
            ProcessedMessage::Commit(staged) => {
                match group
                    .merge_staged_commit(*staged)
                    .map_err(|e| err("Canopy merge_staged_commit")(&e))?
                {
                    Merged::Member { .. } => Ok(Received::Commit),
                    Merged::Removed => Ok(Received::Removed),
                }
            }
            ProcessedMessage::OwnCommit => {
                self.merge_pending()?;
                Ok(Received::Commit)
            }
            other => Err(format!("Canopy: unexpected {other:?}")),
        }
    }

    fn group_info(&mut self) -> Result<Vec<u8>> {
        let env = self.env();
        let group = self.group.as_ref().ok_or("Canopy: no group")?;
        group
            .group_info(&env, true)
            .map_err(|e| err("Canopy group_info")(&e))
    }

    fn epoch(&self) -> u64 {
        self.group.as_ref().map_or(0, Group::epoch)
    }

    fn epoch_authenticator(&self) -> Vec<u8> {
        self.group
            .as_ref()
            .map(|g| g.epoch_authenticator().to_vec())
            .unwrap_or_default()
    }

    fn roster(&self) -> Vec<(u32, Vec<u8>)> {
        let Some(group) = &self.group else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, node) in group.tree().nodes().iter().step_by(2).enumerate() {
            if let Some(Node::Leaf(leaf)) = node
                && let Credential::Basic { identity } = &leaf.credential
                && let Ok(i) = u32::try_from(i)
            {
                out.push((i, identity.as_slice().to_vec()));
            }
        }
        out
    }

    fn own_leaf(&self) -> u32 {
        self.group.as_ref().map_or(0, |g| g.own_leaf().value())
    }
}

/// What Canopy's decoder sees in a handshake message, for checks on what the peers send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Framing {
    /// Whether it is a PrivateMessage (its content is then unknown).
    pub private: bool,
    /// For a PublicMessage commit: whether it carries an UpdatePath.
    pub path: Option<bool>,
    /// For a PublicMessage commit: how many proposals it names by reference.
    pub by_reference: usize,
}

/// Decodes `message` with Canopy's decoder and reports its framing.
pub fn framing(message: &[u8]) -> Result<Framing> {
    use canopy_core::wire::{FramedContentBody, ProposalOrRef};
    match MlsMessage::from_bytes(message).map_err(|e| err("Canopy decode")(&e))? {
        MlsMessage::PrivateMessage(_) => Ok(Framing {
            private: true,
            ..Framing::default()
        }),
        MlsMessage::PublicMessage(m) => Ok(match &m.content.body {
            FramedContentBody::Commit(c) => Framing {
                private: false,
                path: Some(c.path.is_some()),
                by_reference: c
                    .proposals
                    .as_slice()
                    .iter()
                    .filter(|p| matches!(p, ProposalOrRef::Reference(_)))
                    .count(),
            },
            _ => Framing::default(),
        }),
        _ => Err("not a PublicMessage or PrivateMessage".to_owned()),
    }
}
