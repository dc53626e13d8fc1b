//! `message-protection.json`: PublicMessage and PrivateMessage protection of a proposal, a
//! commit and application data (RFC 9420 §6), for a two-leaf group whose sender is leaf 1.
//!
//! Each given message must unprotect to the given content; re-protecting that content in both
//! modes must round-trip; and application data must be refused as a PublicMessage.

use canopy_core::advanced::codec::VarBytes;
use canopy_core::advanced::framing::{
    FramingError, Padding, protect_private, protect_public, sign_content, unprotect_private,
    unprotect_public,
};
use canopy_core::advanced::schedule::{OutOfOrderPolicy, SecretTree};
use canopy_core::advanced::tree::math::LeafCount;
use canopy_core::wire::{
    AuthenticatedContent, Commit, Extensions, FramedContent, FramedContentBody, GroupContext,
    MlsMessage, Proposal, ProtocolVersion, Sender, WireFormat,
};
use canopy_crypto::{
    CipherSuite, CryptoProvider, Secret, SignatureKeyPair, SignaturePrivateKey, SignaturePublicKey,
    SuiteOps,
};
use serde::Deserialize;

use super::{Hex, Outcome, with_suite};

/// The sender's leaf in every case.
const SENDER: u32 = 1;

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    group_id: Hex,
    epoch: u64,
    tree_hash: Hex,
    confirmed_transcript_hash: Hex,
    signature_priv: Hex,
    signature_pub: Hex,
    encryption_secret: Hex,
    sender_data_secret: Hex,
    membership_key: Hex,
    proposal: Hex,
    proposal_pub: Hex,
    proposal_priv: Hex,
    commit: Hex,
    commit_pub: Hex,
    commit_priv: Hex,
    application: Hex,
    application_priv: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(provider, c.cipher_suite, String::new, |ops| {
        Epoch::new(c, ops).and_then(|e| e.run(c, provider))
    })
}

/// The epoch every case describes.
struct Epoch<'a> {
    ops: &'a dyn SuiteOps,
    context: GroupContext,
    signer: SignatureKeyPair,
    verifier: SignaturePublicKey,
    encryption_secret: Secret,
    sender_data_secret: Secret,
    membership_key: Secret,
}

impl<'a> Epoch<'a> {
    fn new(c: &Case, ops: &'a dyn SuiteOps) -> Result<Self, String> {
        Ok(Self {
            ops,
            context: GroupContext {
                version: ProtocolVersion::MLS10,
                cipher_suite: CipherSuite(c.cipher_suite),
                group_id: VarBytes(c.group_id.to_vec()),
                epoch: c.epoch,
                tree_hash: VarBytes(c.tree_hash.to_vec()),
                confirmed_transcript_hash: VarBytes(c.confirmed_transcript_hash.to_vec()),
                extensions: Extensions::default(),
            },
            signer: SignatureKeyPair::from_private(
                ops,
                SignaturePrivateKey::from_slice(&c.signature_priv),
            )
            .map_err(|e| format!("signature key: {e}"))?,
            verifier: SignaturePublicKey::new(c.signature_pub.to_vec()),
            encryption_secret: Secret::from_slice(&c.encryption_secret),
            sender_data_secret: Secret::from_slice(&c.sender_data_secret),
            membership_key: Secret::from_slice(&c.membership_key),
        })
    }

    fn run(&self, c: &Case, provider: &dyn CryptoProvider) -> Result<(), String> {
        let proposal = Proposal::from_bytes(&c.proposal).map_err(|e| format!("proposal: {e}"))?;
        let commit = Commit::from_bytes(&c.commit).map_err(|e| format!("commit: {e}"))?;
        let proposal = FramedContentBody::Proposal(proposal);
        let commit = FramedContentBody::Commit(Box::new(commit));
        let application = FramedContentBody::Application(VarBytes(c.application.to_vec()));

        // The given messages.
        let tag = self.check_public("proposal_pub", &c.proposal_pub, &proposal)?;
        if tag.is_some() {
            return Err("proposal_pub: a proposal carries a confirmation tag".into());
        }
        let commit_tag = self
            .check_public("commit_pub", &c.commit_pub, &commit)?
            .ok_or("commit_pub: no confirmation tag")?;
        self.check_private("proposal_priv", &c.proposal_priv, &proposal)?;
        self.check_private("commit_priv", &c.commit_priv, &commit)?;
        self.check_private("application_priv", &c.application_priv, &application)?;

        // Our own protection of the same content.
        for (what, body) in [("proposal", &proposal), ("commit", &commit)] {
            let signed = self.sign(WireFormat::PublicMessage, body, &commit_tag)?;
            let message =
                protect_public(self.ops, signed, &self.context, Some(&self.membership_key))
                    .map_err(|e| format!("protecting {what} as public: {e}"))?;
            let bytes = MlsMessage::PublicMessage(Box::new(message))
                .to_bytes()
                .map_err(|e| e.to_string())?;
            self.check_public(what, &bytes, body)?;
        }
        for (what, body) in [
            ("proposal", &proposal),
            ("commit", &commit),
            ("application", &application),
        ] {
            let signed = self.sign(WireFormat::PrivateMessage, body, &commit_tag)?;
            let mut reuse_guard = [0u8; 4];
            provider
                .fill_random(&mut reuse_guard)
                .map_err(|e| e.to_string())?;
            let message = protect_private(
                self.ops,
                signed,
                &self.sender_data_secret,
                &mut self.secret_tree()?,
                Padding::default(),
                reuse_guard,
            )
            .map_err(|e| format!("protecting {what} as private: {e}"))?;
            let bytes = MlsMessage::PrivateMessage(message)
                .to_bytes()
                .map_err(|e| e.to_string())?;
            self.check_private(what, &bytes, body)?;
        }

        // Application data is never a PublicMessage.
        let signed = self.sign(WireFormat::PublicMessage, &application, &commit_tag)?;
        match protect_public(self.ops, signed, &self.context, Some(&self.membership_key)) {
            Err(FramingError::ApplicationDataInPublicMessage) => Ok(()),
            Err(e) => Err(format!("application as public: wrong error {e}")),
            Ok(_) => Err("application data was protected as a PublicMessage".into()),
        }
    }

    /// A fresh two-leaf secret tree of the epoch.
    fn secret_tree(&self) -> Result<SecretTree, String> {
        let leaves = LeafCount::new(2).ok_or("two leaves")?;
        Ok(SecretTree::new(
            self.encryption_secret.clone(),
            leaves,
            OutOfOrderPolicy::default(),
        ))
    }

    /// Signs `body` as the sender, with `tag` as the confirmation tag of a commit.
    fn sign(
        &self,
        wire_format: WireFormat,
        body: &FramedContentBody,
        tag: &VarBytes,
    ) -> Result<AuthenticatedContent, String> {
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(SENDER),
            authenticated_data: VarBytes(Vec::new()),
            body: body.clone(),
        };
        let mut signed = sign_content(
            self.ops,
            wire_format,
            content,
            &self.signer,
            Some(&self.context),
        )
        .map_err(|e| format!("signing: {e}"))?;
        if matches!(body, FramedContentBody::Commit(_)) {
            signed.auth.confirmation_tag = Some(tag.clone());
        }
        Ok(signed)
    }

    /// Unprotects an MLSMessage-wrapped PublicMessage, checks its content, and returns its
    /// confirmation tag.
    fn check_public(
        &self,
        what: &str,
        bytes: &[u8],
        expected: &FramedContentBody,
    ) -> Result<Option<VarBytes>, String> {
        let MlsMessage::PublicMessage(message) =
            MlsMessage::from_bytes(bytes).map_err(|e| format!("{what}: {e}"))?
        else {
            return Err(format!("{what}: not a PublicMessage"));
        };
        let verified = unprotect_public(
            self.ops,
            *message,
            &self.context,
            Some(&self.membership_key),
            |_| Some(self.verifier.clone()),
        )
        .map_err(|e| format!("{what}: {e}"))?;
        let content = verified.into_inner();
        check_content(what, &content, expected)?;
        Ok(content.auth.confirmation_tag)
    }

    /// Decrypts an MLSMessage-wrapped PrivateMessage with a fresh secret tree and checks its
    /// content.
    fn check_private(
        &self,
        what: &str,
        bytes: &[u8],
        expected: &FramedContentBody,
    ) -> Result<(), String> {
        let MlsMessage::PrivateMessage(message) =
            MlsMessage::from_bytes(bytes).map_err(|e| format!("{what}: {e}"))?
        else {
            return Err(format!("{what}: not a PrivateMessage"));
        };
        let mut tree = self.secret_tree()?;
        let verified = unprotect_private(
            self.ops,
            &message,
            &self.context,
            &self.sender_data_secret,
            &mut tree,
            |leaf| (leaf.value() == SENDER).then(|| self.verifier.clone()),
        )
        .map_err(|e| format!("{what}: {e}"))?;
        check_content(what, verified.content(), expected)
    }
}

fn check_content(
    what: &str,
    content: &AuthenticatedContent,
    expected: &FramedContentBody,
) -> Result<(), String> {
    if content.content.sender != Sender::Member(SENDER) {
        return Err(format!("{what}: sender {:?}", content.content.sender));
    }
    if &content.content.body != expected {
        return Err(format!("{what}: the content differs from the given one"));
    }
    Ok(())
}
