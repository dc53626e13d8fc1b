//! Message protection (RFC 9420 §6): signing content, the PublicMessage membership tag, and
//! PrivateMessage encryption with sender-data encryption, reuse guard and padding.
//!
//! ```text
//!  sending                                     receiving
//!  -------                                     ---------
//!  FramedContent                               MlsMessage bytes
//!       | sign_content (FramedContentTBS)            | wire::MlsMessage::from_bytes
//!       v                                            v
//!  AuthenticatedContent  (+ confirmation_tag     PublicMessage         PrivateMessage
//!       |                  for a commit)              | open_public        | open_private
//!       +--> protect_public --> PublicMessage         |  group, epoch,     |  group, epoch,
//!       |      (+ membership_tag if member)          |  §6.2 sender and   |  sender data,
//!       |                                            |  content rules,    |  content AEAD
//!       +--> protect_private --> PrivateMessage      |  membership tag    |  (staged key)
//!              (secret tree key, reuse guard,        v                    v
//!               padding, sender data AEAD)      UnverifiedContent    DecryptedMessage
//!                                                    | verify(sender's key)  | verify
//!                                                    v                       v
//!                                              VerifiedContent    VerifiedContent + PendingDecryption
//!                                                                      (commit it to the SecretTree)
//! ```
//!
//! The one-shot [`unprotect_public`] and [`unprotect_private`] run the whole receiving column
//! and are all-or-nothing: on any error the secret tree is unchanged, so a forged or
//! corrupted message cannot burn a key that the genuine message needs later.
//!
//! Who the sender is, and which key verifies its signature, is group state (the ratchet
//! tree, the `external_senders` extension, or the content itself for new members), so the
//! caller supplies the key. [`VerifiedContent`] can only be made by verifying a signature: it
//! is the proof value later layers take.
//!
//! Invariants: no function here panics on any input; a `VerifiedContent` always carries a
//! signature that verified under the key it was checked with, over the exact bytes received.

mod error;
mod private;
mod public;

#[cfg(test)]
mod tests;

pub use error::FramingError;
pub(crate) use private::open_sender_data;
pub use private::{DecryptedMessage, Padding, open_private, protect_private, unprotect_private};
pub(crate) use private::{open_content, open_key};
pub use public::{open_and_verify_public, open_public, protect_public, unprotect_public};
pub(crate) use public::{open_public_alongside, open_public_without_membership_key_alongside};

use canopy_crypto::{SignaturePublicKey, Signer, SuiteOps};

use tls_codec::{Serialize, Size};

use crate::codec::{CodecError, VarBytes};
use crate::crypto::{MlsCryptoError, sign_content_head, sign_with_label};
use crate::wire::{
    AuthenticatedContent, FramedContent, FramedContentAuthData, GroupContext, ProtocolVersion,
    PublicMessage, Sender, WireFormat,
};

/// The label of a FramedContent signature (RFC 9420 §6.1).
const FRAMED_CONTENT_LABEL: &[u8] = b"FramedContentTBS";

/// Whether a sender's `FramedContentTBS` includes the GroupContext (RFC 9420 §6.1): members
/// and new members committing externally sign it; external senders and new members proposing
/// to join do not.
fn signs_group_context(sender: &Sender) -> bool {
    matches!(sender, Sender::Member(_) | Sender::NewMemberCommit)
}

/// The encoded `FramedContentTBS` of `content` sent as `wire_format` (RFC 9420 §6.1), with
/// `context` included exactly when the sender type requires it.
fn tbs_bytes(
    content: &FramedContent,
    wire_format: WireFormat,
    context: Option<&GroupContext>,
) -> Result<Vec<u8>, FramingError> {
    Ok(content.tbs_bytes(wire_format, tbs_context(&content.sender, context)?)?)
}

/// The GroupContext that goes into the FramedContentTBS of `sender`'s content (§6.1).
fn tbs_context<'c>(
    sender: &Sender,
    context: Option<&'c GroupContext>,
) -> Result<Option<&'c GroupContext>, FramingError> {
    if signs_group_context(sender) {
        Ok(Some(context.ok_or(FramingError::MissingGroupContext)?))
    } else {
        Ok(None)
    }
}

/// The bytes a received FramedContent is authenticated over, laid out once in one buffer:
///
/// ```text
/// | SignContent head | FramedContentTBS                              | auth (PublicMessage) |
/// | label, length    | version, wire_format, FramedContent, [context] | signature, [tag]     |
/// ```
///
/// The signature input (`SignContent`, RFC 9420 §5.1.2, §6.1) is a prefix of it, and a
/// PublicMessage's `AuthenticatedContentTBM` (FramedContentTBS || auth, §6.2) a suffix, so a
/// large commit is copied once rather than encoded once per use.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SignedBytes {
    buf: Vec<u8>,
    tbs_start: usize,
    tbs_end: usize,
}

impl SignedBytes {
    /// Lays out the FramedContentTBS of `content` sent as `wire_format`. `encoded`, when
    /// given, is the exact encoding of `content` as received; otherwise it is encoded here.
    fn new(
        content: &FramedContent,
        encoded: Option<&[u8]>,
        wire_format: WireFormat,
        context: Option<&GroupContext>,
    ) -> Result<Self, FramingError> {
        let context = tbs_context(&content.sender, context)?;
        let content_len = encoded.map_or_else(|| content.tls_serialized_len(), <[u8]>::len);
        let context_len = context.map_or(0, Size::tls_serialized_len);
        let tbs_len = content_len.saturating_add(context_len).saturating_add(4);
        let mut buf = Vec::with_capacity(tbs_len.saturating_add(256));
        sign_content_head(FRAMED_CONTENT_LABEL, tbs_len, &mut buf)?;
        let tbs_start = buf.len();
        ProtocolVersion::MLS10
            .tls_serialize(&mut buf)
            .map_err(CodecError::from)?;
        wire_format
            .tls_serialize(&mut buf)
            .map_err(CodecError::from)?;
        match encoded {
            Some(bytes) => buf.extend_from_slice(bytes),
            None => {
                content.tls_serialize(&mut buf).map_err(CodecError::from)?;
            }
        }
        if let Some(context) = context {
            context.tls_serialize(&mut buf).map_err(CodecError::from)?;
        }
        let tbs_end = buf.len();
        if tbs_end.checked_sub(tbs_start) != Some(tbs_len) {
            return Err(FramingError::Codec(CodecError::Encoding(
                "FramedContentTBS length differs from its computed size".into(),
            )));
        }
        Ok(Self {
            buf,
            tbs_start,
            tbs_end,
        })
    }

    /// The `SignContent` the signature covers.
    fn sign_content(&self) -> &[u8] {
        self.buf.get(..self.tbs_end).unwrap_or_default()
    }

    /// Appends the encoded `auth` of `message` after the FramedContentTBS, completing the
    /// `AuthenticatedContentTBM` (§6.2) that [`Self::tbm`] returns.
    fn append_auth(&mut self, message: &PublicMessage) -> Result<(), FramingError> {
        self.buf.truncate(self.tbs_end);
        message.append_auth(&mut self.buf)?;
        Ok(())
    }

    /// The `AuthenticatedContentTBM` after [`Self::append_auth`].
    fn tbm(&self) -> &[u8] {
        self.buf.get(self.tbs_start..).unwrap_or_default()
    }

    /// The length of the signature input.
    #[cfg(feature = "parallel")]
    fn signed_len(&self) -> usize {
        self.tbs_end
    }
}

/// Signs `content` for sending as `wire_format` (RFC 9420 §6.1): `SignWithLabel(signer,
/// "FramedContentTBS", FramedContentTBS)`.
///
/// `context` is the group's current GroupContext. It is required for `member` and
/// `new_member_commit` senders and ignored for the others (an external sender or a joiner may
/// not know it).
///
/// For a commit the returned content has no confirmation tag yet: the tag depends on the
/// confirmed transcript hash, which covers this signature (§8.2). Set
/// `auth.confirmation_tag` before protecting it.
///
/// # Errors
/// [`FramingError::MissingGroupContext`], encoding errors for oversize fields, backend errors
/// for a malformed key.
pub fn sign_content(
    ops: &dyn SuiteOps,
    wire_format: WireFormat,
    content: FramedContent,
    signer: &dyn Signer,
    context: Option<&GroupContext>,
) -> Result<AuthenticatedContent, FramingError> {
    let tbs = tbs_bytes(&content, wire_format, context)?;
    let signature = sign_with_label(ops, signer, FRAMED_CONTENT_LABEL, &tbs)?;
    Ok(AuthenticatedContent {
        wire_format,
        content,
        auth: FramedContentAuthData {
            signature: VarBytes(signature),
            confirmation_tag: None,
        },
    })
}

/// Received content whose framing checks passed but whose signature is not verified yet.
///
/// Look at [`Self::sender`] (and, for new members, at the content itself) to find the
/// signature key, then call [`Self::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnverifiedContent {
    content: AuthenticatedContent,
    signed: SignedBytes,
}

impl UnverifiedContent {
    /// Who claims to have sent the content.
    pub fn sender(&self) -> &Sender {
        &self.content.content.sender
    }

    /// The content, for finding the key that should verify it (for example the LeafNode of a
    /// new member's Add proposal or external commit). Nothing in it is authenticated yet.
    pub fn unverified(&self) -> &AuthenticatedContent {
        &self.content
    }

    /// Verifies the signature with the sender's `key` (RFC 9420 §6.1).
    ///
    /// # Errors
    /// [`FramingError::BadSignature`] if it does not verify; [`FramingError::Crypto`] for a
    /// malformed key.
    pub fn verify(
        self,
        ops: &dyn SuiteOps,
        key: &SignaturePublicKey,
    ) -> Result<VerifiedContent, FramingError> {
        verify_signature(ops, key, &self.signed, &self.content.auth.signature)?;
        Ok(VerifiedContent(self.content))
    }
}

/// RFC 9420 §6.1: verifies every content of `items` with its sender's key. The signatures
/// are checked in batches with [`SuiteOps::verify_batch`], which accepts exactly what the
/// single check of [`UnverifiedContent::verify`] accepts (the rustcrypto backend sums the
/// equations of one sender's signatures under one decompressed key); a batch that fails is
/// checked one signature at a time, so a failure is always that single check's. The proof
/// values come back only if every signature verifies; otherwise the index of a failing item.
pub(crate) fn verify_all(
    ops: &dyn SuiteOps,
    items: Vec<(UnverifiedContent, SignaturePublicKey)>,
) -> Result<Vec<VerifiedContent>, usize> {
    let batch = crate::rules::tree::SIGNATURE_BATCH;
    items
        .chunks(batch)
        .enumerate()
        .try_for_each(|(c, chunk)| verify_batch(ops, c.saturating_mul(batch), chunk))?;
    Ok(items
        .into_iter()
        .map(|(content, _)| VerifiedContent(content.content))
        .collect())
}

/// The signatures of `chunk` (items `start..` of [`verify_all`]'s list) as one batch, and one
/// by one if the batch fails (or has one item), to name the first failing item.
fn verify_batch(
    ops: &dyn SuiteOps,
    start: usize,
    chunk: &[(UnverifiedContent, SignaturePublicKey)],
) -> Result<(), usize> {
    if chunk.len() >= 2 {
        let checks: Vec<canopy_crypto::SignatureCheck<'_>> = chunk
            .iter()
            .map(|(content, key)| canopy_crypto::SignatureCheck {
                public_key: key,
                message: content.signed.sign_content(),
                signature: content.content.auth.signature.as_slice(),
            })
            .collect();
        if ops.verify_batch(&checks).is_ok() {
            return Ok(());
        }
    }
    chunk
        .iter()
        .enumerate()
        .try_for_each(|(i, (content, key))| {
            verify_signature(ops, key, &content.signed, &content.content.auth.signature)
                .map_err(|_| start.saturating_add(i))
        })
}

/// RFC 9420 §6.1: `VerifyWithLabel(key, "FramedContentTBS", tbs, signature)`.
fn verify_signature(
    ops: &dyn SuiteOps,
    key: &SignaturePublicKey,
    signed: &SignedBytes,
    signature: &VarBytes,
) -> Result<(), FramingError> {
    ops.verify(key, signed.sign_content(), signature.as_slice())
        .map_err(|e| match e {
            canopy_crypto::CryptoError::InvalidSignature => FramingError::BadSignature,
            other => FramingError::Crypto(MlsCryptoError::Crypto(other)),
        })
}

/// Content whose signature verified: the proof value that the group layer takes.
///
/// It can only be made by verifying the signature: [`UnverifiedContent::verify`], the
/// one-shot `unprotect_*` functions, or the crate's verification of many contents at once. For a commit the confirmation tag is *not* checked here: that needs the next
/// epoch's confirmation key (§6.1, §8.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedContent(AuthenticatedContent);

impl VerifiedContent {
    /// The verified content.
    pub fn content(&self) -> &AuthenticatedContent {
        &self.0
    }

    /// Unwraps the verified content.
    pub fn into_inner(self) -> AuthenticatedContent {
        self.0
    }
}

/// Checks that the message belongs to the group and epoch of `context` (RFC 9420 §6.1,
/// §6.2: "the recipient MUST verify that ... group_id ... epoch ...").
fn check_group_and_epoch(
    group_id: &[u8],
    epoch: u64,
    context: &GroupContext,
) -> Result<(), FramingError> {
    if group_id != context.group_id.as_slice() {
        return Err(FramingError::WrongGroup);
    }
    if epoch != context.epoch {
        return Err(FramingError::WrongEpoch {
            expected: context.epoch,
            got: epoch,
        });
    }
    Ok(())
}
