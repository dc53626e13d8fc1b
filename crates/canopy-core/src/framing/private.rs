//! PrivateMessage protection (RFC 9420 §6.3): content encryption with a secret-tree key, the
//! reuse guard and padding (§6.3.1), and sender-data encryption (§6.3.2).

use canopy_crypto::{Secret, SignaturePublicKey, SuiteOps};

use super::{FramingError, SignedBytes, UnverifiedContent, VerifiedContent, check_group_and_epoch};
use crate::codec::{self, CodecError, VarBytes, encode_varint};
use crate::crypto::MlsCryptoError;
use crate::schedule::{ContentKind, KeyAndNonce, PendingDecryption, SecretTree, sender_data_key};
use crate::tree::math::LeafIndex;
use crate::wire::{
    AuthenticatedContent, ContentType, FramedContent, GroupContext, PrivateMessage,
    PrivateMessageContent, Sender, SenderData, WireFormat,
};

/// How much zero padding a PrivateMessage's plaintext gets (RFC 9420 §6.3.1, §16.4.1: padding
/// hides the exact length of the content).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding.
    None,
    /// Pad the plaintext (content, signature, tags) up to a multiple of this many bytes; 0 and
    /// 1 mean no padding.
    Block(u16),
}

impl Default for Padding {
    /// 32-byte blocks: lengths leak only to 32 bytes, at a mean cost of 16 bytes.
    fn default() -> Self {
        Self::Block(32)
    }
}

impl Padding {
    /// The number of zero bytes to append to a plaintext of `len` bytes.
    pub fn for_len(self, len: usize) -> usize {
        match self {
            Self::None => 0,
            Self::Block(block) => {
                let block = usize::from(block);
                match len.checked_rem(block) {
                    None | Some(0) => 0,
                    Some(r) => block.saturating_sub(r),
                }
            }
        }
    }
}

/// The ratchet a content type uses (RFC 9420 §9.1): application data uses the application
/// ratchet, proposals and commits the handshake ratchet.
fn kind_of(content_type: ContentType) -> ContentKind {
    match content_type {
        ContentType::Application => ContentKind::Application,
        ContentType::Proposal | ContentType::Commit => ContentKind::Handshake,
    }
}

/// RFC 9420 §6.3.1: the content nonce with its first four bytes XORed with the reuse guard.
fn guarded_nonce(nonce: &Secret, reuse_guard: [u8; 4]) -> Secret {
    let mut bytes = nonce.as_bytes().to_vec();
    for (b, g) in bytes.iter_mut().zip(reuse_guard) {
        *b ^= g;
    }
    Secret::new(bytes)
}

/// Appends `opaque data<V>`.
fn put_opaque(out: &mut Vec<u8>, data: &[u8]) -> Result<(), CodecError> {
    encode_varint(data.len(), out)?;
    out.extend_from_slice(data);
    Ok(())
}

/// The encoded `SenderDataAAD` (RFC 9420 §6.3.2), from borrowed fields (the layout of
/// [`crate::wire::SenderDataAad`]; a test checks they agree).
pub(super) fn sender_data_aad(
    group_id: &[u8],
    epoch: u64,
    content_type: ContentType,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(group_id.len().saturating_add(13));
    put_opaque(&mut out, group_id)?;
    out.extend_from_slice(&epoch.to_be_bytes());
    out.push(content_type.value());
    Ok(out)
}

/// The encoded `PrivateContentAAD` (RFC 9420 §6.3.1), from borrowed fields (the layout of
/// [`crate::wire::PrivateContentAad`]; a test checks they agree).
pub(super) fn content_aad(
    group_id: &[u8],
    epoch: u64,
    content_type: ContentType,
    authenticated_data: &[u8],
) -> Result<Vec<u8>, CodecError> {
    let mut out = sender_data_aad(group_id, epoch, content_type)?;
    put_opaque(&mut out, authenticated_data)?;
    Ok(out)
}

/// Encrypts signed `content` as a PrivateMessage (RFC 9420 §6.3) with the next key of the
/// sender's ratchet in `secret_tree` (which deletes that key), `padding`, and a
/// `reuse_guard` that MUST be 4 fresh random bytes (§6.3.1).
///
/// `content` must be a member's, signed for `mls_private_message`; a commit must carry its
/// confirmation tag.
///
/// # Errors
/// [`FramingError::WireFormatMismatch`], [`FramingError::PrivateSenderNotMember`], encoding
/// errors, [`FramingError::Schedule`] if the ratchet is exhausted or the leaf is outside the
/// tree, backend errors.
pub fn protect_private(
    ops: &dyn SuiteOps,
    content: AuthenticatedContent,
    sender_data_secret: &Secret,
    secret_tree: &mut SecretTree,
    padding: Padding,
    reuse_guard: [u8; 4],
) -> Result<PrivateMessage, FramingError> {
    if content.wire_format != WireFormat::PrivateMessage {
        return Err(FramingError::WireFormatMismatch);
    }
    let Sender::Member(leaf) = content.content.sender else {
        return Err(FramingError::PrivateSenderNotMember);
    };
    let leaf = LeafIndex::new(leaf).ok_or(FramingError::PrivateSenderNotMember)?;
    let FramedContent {
        group_id,
        epoch,
        authenticated_data,
        body,
        ..
    } = content.content;
    let content_type = body.content_type();
    let mut plaintext = PrivateMessageContent {
        body,
        auth: content.auth,
        padding: 0,
    }
    .to_bytes()?;
    plaintext.resize(
        plaintext
            .len()
            .saturating_add(padding.for_len(plaintext.len())),
        0,
    );
    let plaintext = Secret::new(plaintext);
    let content_aad = content_aad(
        group_id.as_slice(),
        epoch,
        content_type,
        authenticated_data.as_slice(),
    )?;
    let sender_aad = sender_data_aad(group_id.as_slice(), epoch, content_type)?;

    // Everything that can fail on our input is done; now take (and so delete) the key.
    let key = secret_tree.next_encryption_key(ops, leaf, kind_of(content_type))?;
    let nonce = guarded_nonce(&key.key.nonce, reuse_guard);
    let ciphertext = ops
        .aead_seal(
            key.key.key.as_bytes(),
            nonce.as_bytes(),
            &content_aad,
            plaintext.as_bytes(),
        )
        .map_err(MlsCryptoError::from)?;

    let sender_data = codec::encode(&SenderData {
        leaf_index: leaf.value(),
        generation: key.generation,
        reuse_guard,
    })?;
    let sd_key = sender_data_key(ops, sender_data_secret, &ciphertext)?;
    let encrypted_sender_data = ops
        .aead_seal(
            sd_key.key.as_bytes(),
            sd_key.nonce.as_bytes(),
            &sender_aad,
            &sender_data,
        )
        .map_err(MlsCryptoError::from)?;

    Ok(PrivateMessage {
        group_id,
        epoch,
        content_type,
        authenticated_data,
        encrypted_sender_data: VarBytes(encrypted_sender_data),
        ciphertext: VarBytes(ciphertext),
    })
}

/// A decrypted PrivateMessage whose signature is not verified yet, with the secret-tree
/// change that consuming its key makes.
///
/// Verify it with [`Self::verify`], then apply the returned [`PendingDecryption`] with
/// [`SecretTree::commit_decryption`]. Dropping it leaves the secret tree as it was.
#[derive(Debug)]
#[must_use = "a decrypted message is not authenticated until verified"]
pub struct DecryptedMessage {
    content: UnverifiedContent,
    leaf: LeafIndex,
    pending: PendingDecryption,
}

impl DecryptedMessage {
    /// The sender's leaf, from the sender data. Check that it is a non-blank leaf of the
    /// ratchet tree and use its signature key (RFC 9420 §6.3.2).
    pub fn sender_leaf(&self) -> LeafIndex {
        self.leaf
    }

    /// The decrypted content. Nothing in it is authenticated yet.
    pub fn unverified(&self) -> &AuthenticatedContent {
        self.content.unverified()
    }

    /// Verifies the signature with the sender's `key` (RFC 9420 §6.1). On success, returns
    /// the content and the secret-tree change to commit.
    ///
    /// # Errors
    /// As [`UnverifiedContent::verify`].
    pub fn verify(
        self,
        ops: &dyn SuiteOps,
        key: &SignaturePublicKey,
    ) -> Result<(VerifiedContent, PendingDecryption), FramingError> {
        let verified = self.content.verify(ops, key)?;
        Ok((verified, self.pending))
    }
}

/// RFC 9420 §6.3.2: decrypts the sender data of `message` with `sender_data_secret`: the
/// sender's leaf, the generation and the reuse guard. Nothing in it is authenticated beyond
/// the AEAD: any member of the epoch can write sender data.
pub(crate) fn open_sender_data(
    ops: &dyn SuiteOps,
    message: &PrivateMessage,
    sender_data_secret: &Secret,
) -> Result<(LeafIndex, SenderData), FramingError> {
    let sender_aad = sender_data_aad(
        message.group_id.as_slice(),
        message.epoch,
        message.content_type,
    )?;
    let sd_key = sender_data_key(ops, sender_data_secret, message.ciphertext.as_slice())?;
    let sender_data = ops
        .aead_open(
            sd_key.key.as_bytes(),
            sd_key.nonce.as_bytes(),
            &sender_aad,
            message.encrypted_sender_data.as_slice(),
        )
        .map_err(|_| FramingError::SenderDataUndecryptable)?;
    let sender_data = SenderData::from_bytes(sender_data.as_bytes())?;
    let leaf = LeafIndex::new(sender_data.leaf_index).ok_or(FramingError::UnknownSender {
        sender: Sender::Member(sender_data.leaf_index),
    })?;
    Ok((leaf, sender_data))
}

/// Decrypts a PrivateMessage of the epoch of `context` (RFC 9420 §6.3) without changing the
/// secret tree: checks group and epoch, decrypts the sender data with `sender_data_secret`,
/// computes the sender's key for the generation the sender data names (within the tree's
/// out-of-order policy), and decrypts and decodes the content (padding must be zeros).
///
/// # Errors
/// [`FramingError::WrongGroup`], [`FramingError::WrongEpoch`],
/// [`FramingError::SenderDataUndecryptable`], [`FramingError::ContentUndecryptable`],
/// [`FramingError::Schedule`] for a replayed or too-far-ahead generation or a leaf outside
/// the tree, decoding errors.
pub fn open_private(
    ops: &dyn SuiteOps,
    message: &PrivateMessage,
    context: &GroupContext,
    sender_data_secret: &Secret,
    secret_tree: &SecretTree,
) -> Result<DecryptedMessage, FramingError> {
    let (leaf, reuse_guard, pending) =
        open_key(ops, message, context, sender_data_secret, secret_tree)?;
    let content = open_content(ops, message, context, leaf, reuse_guard, pending.key())?;
    Ok(DecryptedMessage {
        content,
        leaf,
        pending,
    })
}

/// The first half of [`open_private`]: group and epoch checked, the sender data decrypted,
/// and the sender's key for the generation it names prepared (the secret tree unchanged).
/// Returns the sender's leaf, the reuse guard and the pending key.
pub(crate) fn open_key(
    ops: &dyn SuiteOps,
    message: &PrivateMessage,
    context: &GroupContext,
    sender_data_secret: &Secret,
    secret_tree: &SecretTree,
) -> Result<(LeafIndex, [u8; 4], PendingDecryption), FramingError> {
    check_group_and_epoch(message.group_id.as_slice(), message.epoch, context)?;
    let (leaf, sender_data) = open_sender_data(ops, message, sender_data_secret)?;
    let pending = secret_tree.prepare_decryption(
        ops,
        leaf,
        kind_of(message.content_type),
        sender_data.generation,
    )?;
    Ok((leaf, sender_data.reuse_guard, pending))
}

/// The second half of [`open_private`]: the content of `message` from `leaf` decrypted with
/// `key` and the sender data's `reuse_guard`, decoded (padding must be zeros), and laid out
/// for its signature. It needs nothing mutable, so a batch can run it away from the secret
/// tree once the keys are taken in order.
pub(crate) fn open_content(
    ops: &dyn SuiteOps,
    message: &PrivateMessage,
    context: &GroupContext,
    leaf: LeafIndex,
    reuse_guard: [u8; 4],
    key: &KeyAndNonce,
) -> Result<UnverifiedContent, FramingError> {
    let nonce = guarded_nonce(&key.nonce, reuse_guard);
    let content_aad = content_aad(
        message.group_id.as_slice(),
        message.epoch,
        message.content_type,
        message.authenticated_data.as_slice(),
    )?;
    let plaintext = ops
        .aead_open(
            key.key.as_bytes(),
            nonce.as_bytes(),
            &content_aad,
            message.ciphertext.as_slice(),
        )
        .map_err(|_| FramingError::ContentUndecryptable)?;
    let decoded = PrivateMessageContent::from_bytes(message.content_type, plaintext.as_bytes())?;

    let content = FramedContent {
        group_id: message.group_id.clone(),
        epoch: message.epoch,
        sender: Sender::Member(leaf.value()),
        authenticated_data: message.authenticated_data.clone(),
        body: decoded.body,
    };
    let signed = SignedBytes::new(&content, None, WireFormat::PrivateMessage, Some(context))?;
    Ok(UnverifiedContent {
        content: AuthenticatedContent {
            wire_format: WireFormat::PrivateMessage,
            content,
            auth: decoded.auth,
        },
        signed,
    })
}

/// Decrypts and verifies a PrivateMessage in one step: [`open_private`], the signature with
/// the key `key_of` returns for the sender's leaf (`None`: a blank or unknown leaf), then
/// the secret-tree change. On any error `secret_tree` is unchanged.
///
/// # Errors
/// As [`open_private`] and [`UnverifiedContent::verify`], and
/// [`FramingError::UnknownSender`].
pub fn unprotect_private(
    ops: &dyn SuiteOps,
    message: &PrivateMessage,
    context: &GroupContext,
    sender_data_secret: &Secret,
    secret_tree: &mut SecretTree,
    key_of: impl FnOnce(LeafIndex) -> Option<SignaturePublicKey>,
) -> Result<VerifiedContent, FramingError> {
    let decrypted = open_private(ops, message, context, sender_data_secret, secret_tree)?;
    let leaf = decrypted.sender_leaf();
    let key = key_of(leaf).ok_or_else(|| FramingError::UnknownSender {
        sender: Sender::Member(leaf.value()),
    })?;
    let (verified, pending) = decrypted.verify(ops, &key)?;
    secret_tree.commit_decryption(pending)?;
    Ok(verified)
}
