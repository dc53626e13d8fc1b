//! Message framing (RFC 9420 §6): senders, FramedContent, its authentication data, and the
//! PublicMessage and PrivateMessage encodings, plus the byte strings that signatures, MACs and
//! AEADs cover (FramedContentTBS, AuthenticatedContentTBM, ConfirmedTranscriptHashInput,
//! SenderData and the two AADs).
//!
//! ```text
//!  Proposal | Commit | application data
//!            \   |   /
//!          FramedContent ----> FramedContentTBS --sign--> FramedContentAuthData
//!                  \                                         /
//!                   +----------> AuthenticatedContent <-----+
//!                                 /                 \
//!                    PublicMessage                   PrivateMessage
//!              (+ membership_tag if member)   (PrivateMessageContent, AEAD)
//! ```
//!
//! Two fields exist only depending on another field, so their structs cannot be decoded in
//! isolation and carry hand-written codecs:
//! - `FramedContentAuthData.confirmation_tag` exists iff the content type is `commit`;
//! - `PublicMessage.membership_tag` exists iff the sender type is `member`.
//!
//! Decoding reads them exactly when the selector says so. Encoding a value whose optional field
//! disagrees with its selector fails with [`CodecError::FieldPresenceMismatch`] rather than
//! producing bytes no decoder would accept.
//!
//! Not checked here (they are framing rules, §6.2): a PublicMessage carrying application data
//! decodes, and [`PublicMessage::carries_application_data`] detects it.

use std::io::Write;

use tls_codec::{DeserializeBytes, Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::commit::Commit;
use super::group_context::GroupContext;
use super::primitives::{ContentType, ProtocolVersion, SenderType, WireFormat};
use super::proposals::Proposal;
use crate::codec::{CodecError, VarBytes};

/// RFC 9420 §6 `Sender`: who sent a FramedContent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sender {
    /// `member`: the member at `uint32 leaf_index`.
    Member(u32),
    /// `external`: the entry at `uint32 sender_index` of the `external_senders` extension.
    External(u32),
    /// `new_member_proposal`: a joiner proposing to add itself.
    NewMemberProposal,
    /// `new_member_commit`: a joiner committing externally.
    NewMemberCommit,
}

impl Sender {
    /// RFC 9420 §6: the `sender_type` this sender is encoded with.
    pub fn sender_type(&self) -> SenderType {
        match self {
            Self::Member(_) => SenderType::Member,
            Self::External(_) => SenderType::External,
            Self::NewMemberProposal => SenderType::NewMemberProposal,
            Self::NewMemberCommit => SenderType::NewMemberCommit,
        }
    }
}

impl Size for Sender {
    fn tls_serialized_len(&self) -> usize {
        match self {
            Self::Member(_) | Self::External(_) => 5,
            Self::NewMemberProposal | Self::NewMemberCommit => 1,
        }
    }
}

impl Serialize for Sender {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let head = self.sender_type().tls_serialize(writer)?;
        let body = match self {
            Self::Member(index) | Self::External(index) => index.tls_serialize(writer)?,
            Self::NewMemberProposal | Self::NewMemberCommit => 0,
        };
        Ok(head.saturating_add(body))
    }
}

impl DeserializeBytes for Sender {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (sender_type, rest) = SenderType::tls_deserialize_bytes(bytes)?;
        match sender_type {
            SenderType::Member => {
                let (leaf_index, rest) = u32::tls_deserialize_bytes(rest)?;
                Ok((Self::Member(leaf_index), rest))
            }
            SenderType::External => {
                let (sender_index, rest) = u32::tls_deserialize_bytes(rest)?;
                Ok((Self::External(sender_index), rest))
            }
            SenderType::NewMemberProposal => Ok((Self::NewMemberProposal, rest)),
            SenderType::NewMemberCommit => Ok((Self::NewMemberCommit, rest)),
        }
    }
}

/// RFC 9420 §6 the `content_type` select of FramedContent (and of PrivateMessageContent,
/// §6.3.1): the message's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramedContentBody {
    /// `application`: `opaque application_data<V>`.
    Application(VarBytes),
    /// `proposal`: a [`Proposal`].
    Proposal(Proposal),
    /// `commit`: a [`Commit`] (boxed: it holds a whole UpdatePath inline).
    Commit(Box<Commit>),
}

impl FramedContentBody {
    /// RFC 9420 §6: the `content_type` this body is encoded with.
    pub fn content_type(&self) -> ContentType {
        match self {
            Self::Application(_) => ContentType::Application,
            Self::Proposal(_) => ContentType::Proposal,
            Self::Commit(_) => ContentType::Commit,
        }
    }

    /// The size of the body without its `content_type` octet.
    fn body_len(&self) -> usize {
        match self {
            Self::Application(data) => data.tls_serialized_len(),
            Self::Proposal(proposal) => proposal.tls_serialized_len(),
            Self::Commit(commit) => commit.tls_serialized_len(),
        }
    }

    /// Writes the body without its `content_type` octet.
    fn write_body<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        match self {
            Self::Application(data) => data.tls_serialize(writer),
            Self::Proposal(proposal) => proposal.tls_serialize(writer),
            Self::Commit(commit) => commit.tls_serialize(writer),
        }
    }

    /// Reads the body that `content_type` selects.
    fn read_body(
        content_type: ContentType,
        bytes: &[u8],
    ) -> Result<(Self, &[u8]), tls_codec::Error> {
        match content_type {
            ContentType::Application => {
                let (data, rest) = VarBytes::tls_deserialize_bytes(bytes)?;
                Ok((Self::Application(data), rest))
            }
            ContentType::Proposal => {
                let (proposal, rest) = Proposal::tls_deserialize_bytes(bytes)?;
                Ok((Self::Proposal(proposal), rest))
            }
            ContentType::Commit => {
                let (commit, rest) = Commit::tls_deserialize_bytes(bytes)?;
                crate::codec::charge_box::<Commit>()?;
                Ok((Self::Commit(Box::new(commit)), rest))
            }
        }
    }
}

/// RFC 9420 §6 `FramedContent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramedContent {
    /// `opaque group_id<V>`.
    pub group_id: VarBytes,
    /// `uint64 epoch`.
    pub epoch: u64,
    /// `Sender sender`.
    pub sender: Sender,
    /// `opaque authenticated_data<V>`.
    pub authenticated_data: VarBytes,
    /// `ContentType content_type` and the body it selects.
    pub body: FramedContentBody,
}

impl FramedContent {
    /// RFC 9420 §6: the content type of [`Self::body`].
    pub fn content_type(&self) -> ContentType {
        self.body.content_type()
    }

    /// RFC 9420 §6.1: the encoded `FramedContentTBS`, the content of the FramedContent's
    /// signature when sent with `wire_format`.
    ///
    /// `context` is the group's current GroupContext; it must be given exactly when the sender
    /// is a `member` or a `new_member_commit`.
    ///
    /// # Errors
    /// [`CodecError::FieldPresenceMismatch`] if `context` is given for another sender type or
    /// missing for those two; [`CodecError::LengthTooLarge`] for an oversize vector.
    pub fn tbs_bytes(
        &self,
        wire_format: WireFormat,
        context: Option<&GroupContext>,
    ) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(
            self.tls_serialized_len()
                .saturating_add(context.map_or(0, Size::tls_serialized_len))
                .saturating_add(4),
        );
        self.write_tbs(wire_format, context, &mut out)?;
        Ok(out)
    }

    fn write_tbs(
        &self,
        wire_format: WireFormat,
        context: Option<&GroupContext>,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let needs_context = matches!(self.sender, Sender::Member(_) | Sender::NewMemberCommit);
        if needs_context != context.is_some() {
            return Err(CodecError::FieldPresenceMismatch);
        }
        ProtocolVersion::MLS10.tls_serialize(out)?;
        wire_format.tls_serialize(out)?;
        self.tls_serialize(out)?;
        if let Some(context) = context {
            context.tls_serialize(out)?;
        }
        Ok(())
    }
}

impl Size for FramedContent {
    fn tls_serialized_len(&self) -> usize {
        self.group_id
            .tls_serialized_len()
            .saturating_add(8)
            .saturating_add(self.sender.tls_serialized_len())
            .saturating_add(self.authenticated_data.tls_serialized_len())
            .saturating_add(1)
            .saturating_add(self.body.body_len())
    }
}

impl Serialize for FramedContent {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        Ok(self
            .group_id
            .tls_serialize(writer)?
            .saturating_add(self.epoch.tls_serialize(writer)?)
            .saturating_add(self.sender.tls_serialize(writer)?)
            .saturating_add(self.authenticated_data.tls_serialize(writer)?)
            .saturating_add(self.content_type().tls_serialize(writer)?)
            .saturating_add(self.body.write_body(writer)?))
    }
}

impl DeserializeBytes for FramedContent {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (group_id, rest) = VarBytes::tls_deserialize_bytes(bytes)?;
        let (epoch, rest) = u64::tls_deserialize_bytes(rest)?;
        let (sender, rest) = Sender::tls_deserialize_bytes(rest)?;
        let (authenticated_data, rest) = VarBytes::tls_deserialize_bytes(rest)?;
        let (content_type, rest) = ContentType::tls_deserialize_bytes(rest)?;
        let (body, rest) = FramedContentBody::read_body(content_type, rest)?;
        let content = Self {
            group_id,
            epoch,
            sender,
            authenticated_data,
            body,
        };
        Ok((content, rest))
    }
}

/// RFC 9420 §6.1 `FramedContentAuthData`: the signature and, for commits only, the
/// confirmation tag.
///
/// It has no codec of its own: which fields exist depends on the enclosing content's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramedContentAuthData {
    /// `opaque signature<V>`: `SignWithLabel(., "FramedContentTBS", FramedContentTBS)`.
    pub signature: VarBytes,
    /// `MAC confirmation_tag`: present iff the content type is `commit`.
    pub confirmation_tag: Option<VarBytes>,
}

impl FramedContentAuthData {
    fn size(&self) -> usize {
        self.signature.tls_serialized_len().saturating_add(
            self.confirmation_tag
                .as_ref()
                .map_or(0, Size::tls_serialized_len),
        )
    }

    /// Writes the fields that exist for `content_type`.
    fn write<W: Write>(
        &self,
        content_type: ContentType,
        writer: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        let is_commit = content_type == ContentType::Commit;
        if is_commit != self.confirmation_tag.is_some() {
            return Err(CodecError::FieldPresenceMismatch.into_tls_encoding());
        }
        let mut written = self.signature.tls_serialize(writer)?;
        if let Some(tag) = &self.confirmation_tag {
            written = written.saturating_add(tag.tls_serialize(writer)?);
        }
        Ok(written)
    }

    /// Reads the fields that exist for `content_type`.
    fn read(content_type: ContentType, bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (signature, rest) = VarBytes::tls_deserialize_bytes(bytes)?;
        let (confirmation_tag, rest) = if content_type == ContentType::Commit {
            let (tag, rest) = VarBytes::tls_deserialize_bytes(rest)?;
            (Some(tag), rest)
        } else {
            (None, rest)
        };
        let auth = Self {
            signature,
            confirmation_tag,
        };
        Ok((auth, rest))
    }
}

/// RFC 9420 §6 `AuthenticatedContent`: a FramedContent with its authentication data and the
/// wire format it is (or will be) sent in. Its encoding is the input of a ProposalRef (§5.2)
/// and of the transcript hash (§8.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedContent {
    /// `WireFormat wire_format`.
    pub wire_format: WireFormat,
    /// `FramedContent content`.
    pub content: FramedContent,
    /// `FramedContentAuthData auth`.
    pub auth: FramedContentAuthData,
}

impl AuthenticatedContent {
    /// RFC 9420 §8.2: the encoded `ConfirmedTranscriptHashInput` (`wire_format`, `content`,
    /// `signature`), hashed into the confirmed transcript hash by a Commit.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] if a vector is longer than 2^30 - 1 bytes.
    pub fn confirmed_transcript_hash_input(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(self.tls_serialized_len());
        self.wire_format.tls_serialize(&mut out)?;
        self.content.tls_serialize(&mut out)?;
        self.auth.signature.tls_serialize(&mut out)?;
        Ok(out)
    }
}

impl Size for AuthenticatedContent {
    fn tls_serialized_len(&self) -> usize {
        self.content
            .tls_serialized_len()
            .saturating_add(2)
            .saturating_add(self.auth.size())
    }
}

impl Serialize for AuthenticatedContent {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        Ok(self
            .wire_format
            .tls_serialize(writer)?
            .saturating_add(self.content.tls_serialize(writer)?)
            .saturating_add(self.auth.write(self.content.content_type(), writer)?))
    }
}

impl DeserializeBytes for AuthenticatedContent {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (wire_format, rest) = WireFormat::tls_deserialize_bytes(bytes)?;
        let (content, rest) = FramedContent::tls_deserialize_bytes(rest)?;
        let (auth, rest) = FramedContentAuthData::read(content.content_type(), rest)?;
        let value = Self {
            wire_format,
            content,
            auth,
        };
        Ok((value, rest))
    }
}

/// RFC 9420 §6.2 `PublicMessage`: an authenticated but unencrypted FramedContent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicMessage {
    /// `FramedContent content`.
    pub content: FramedContent,
    /// `FramedContentAuthData auth`.
    pub auth: FramedContentAuthData,
    /// `MAC membership_tag`: present iff the sender is a `member`.
    pub membership_tag: Option<VarBytes>,
}

impl PublicMessage {
    /// RFC 9420 §6.2: whether this message carries application data, which a PublicMessage
    /// MUST NOT do (applications MUST use PrivateMessage). Decoding accepts it so that the
    /// framing layer can reject it with a protocol error.
    pub fn carries_application_data(&self) -> bool {
        self.content.content_type() == ContentType::Application
    }

    /// RFC 9420 §6.2: the encoded `AuthenticatedContentTBM` (`FramedContentTBS` for
    /// `mls_public_message` with `context`, then `auth`), the input of the membership tag.
    ///
    /// # Errors
    /// [`CodecError::FieldPresenceMismatch`] if the sender is not a member (only members'
    /// messages carry a membership tag) or `auth` does not match the content type;
    /// [`CodecError::LengthTooLarge`] for an oversize vector.
    pub fn tbm_bytes(&self, context: &GroupContext) -> Result<Vec<u8>, CodecError> {
        if !matches!(self.content.sender, Sender::Member(_)) {
            return Err(CodecError::FieldPresenceMismatch);
        }
        let mut out = self
            .content
            .tbs_bytes(WireFormat::PublicMessage, Some(context))?;
        self.auth.write(self.content.content_type(), &mut out)?;
        Ok(out)
    }

    /// Appends the encoded `auth` to `out`: with the FramedContentTBS already in `out`, this
    /// completes the AuthenticatedContentTBM (§6.2) without encoding the content twice.
    pub(crate) fn append_auth(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.auth.write(self.content.content_type(), out)?;
        Ok(())
    }

    /// RFC 9420 §6.2: the AuthenticatedContent this message carries (wire format
    /// `mls_public_message`), dropping the membership tag.
    pub fn into_authenticated_content(self) -> AuthenticatedContent {
        AuthenticatedContent {
            wire_format: WireFormat::PublicMessage,
            content: self.content,
            auth: self.auth,
        }
    }
}

impl Size for PublicMessage {
    fn tls_serialized_len(&self) -> usize {
        self.content
            .tls_serialized_len()
            .saturating_add(self.auth.size())
            .saturating_add(
                self.membership_tag
                    .as_ref()
                    .map_or(0, Size::tls_serialized_len),
            )
    }
}

impl Serialize for PublicMessage {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let is_member = matches!(self.content.sender, Sender::Member(_));
        if is_member != self.membership_tag.is_some() {
            return Err(CodecError::FieldPresenceMismatch.into_tls_encoding());
        }
        let mut written = self
            .content
            .tls_serialize(writer)?
            .saturating_add(self.auth.write(self.content.content_type(), writer)?);
        if let Some(tag) = &self.membership_tag {
            written = written.saturating_add(tag.tls_serialize(writer)?);
        }
        Ok(written)
    }
}

impl PublicMessage {
    /// Decodes a PublicMessage from the front of `bytes` and returns, with it and the bytes
    /// after it, the exact bytes its FramedContent was decoded from.
    ///
    /// Those bytes are the FramedContent of the FramedContentTBS, the AuthenticatedContentTBM
    /// and the ConfirmedTranscriptHashInput (§6.1, §6.2, §8.2), so a receiver can hash them
    /// as received instead of encoding the content again.
    pub(crate) fn decode_with_content_bytes(
        bytes: &[u8],
    ) -> Result<(Self, &[u8], &[u8]), tls_codec::Error> {
        let (content, rest) = FramedContent::tls_deserialize_bytes(bytes)?;
        let content_bytes = bytes
            .get(..bytes.len().saturating_sub(rest.len()))
            .ok_or(tls_codec::Error::EndOfStream)?;
        let (auth, rest) = FramedContentAuthData::read(content.content_type(), rest)?;
        let (membership_tag, rest) = if matches!(content.sender, Sender::Member(_)) {
            let (tag, rest) = VarBytes::tls_deserialize_bytes(rest)?;
            (Some(tag), rest)
        } else {
            (None, rest)
        };
        let message = Self {
            content,
            auth,
            membership_tag,
        };
        Ok((message, content_bytes, rest))
    }
}

impl DeserializeBytes for PublicMessage {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (message, _, rest) = Self::decode_with_content_bytes(bytes)?;
        Ok((message, rest))
    }
}

/// RFC 9420 §6.3 `PrivateMessage`: an encrypted FramedContent.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct PrivateMessage {
    /// `opaque group_id<V>`.
    pub group_id: VarBytes,
    /// `uint64 epoch`.
    pub epoch: u64,
    /// `ContentType content_type`.
    pub content_type: ContentType,
    /// `opaque authenticated_data<V>`.
    pub authenticated_data: VarBytes,
    /// `opaque encrypted_sender_data<V>`: the AEAD-encrypted [`SenderData`].
    pub encrypted_sender_data: VarBytes,
    /// `opaque ciphertext<V>`: the AEAD-encrypted [`PrivateMessageContent`].
    pub ciphertext: VarBytes,
}

/// RFC 9420 §6.3.1 `PrivateMessageContent`: the plaintext of a PrivateMessage's
/// `ciphertext`. Its shape depends on the PrivateMessage's `content_type`, and its zero
/// padding runs to the end of the plaintext, so it is decoded with
/// [`PrivateMessageContent::from_bytes`] rather than a codec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateMessageContent {
    /// The `content_type` select: application data, a Proposal or a Commit.
    pub body: FramedContentBody,
    /// `FramedContentAuthData auth`.
    pub auth: FramedContentAuthData,
    /// `opaque padding[length_of_padding]`: the number of zero bytes after `auth`.
    pub padding: usize,
}

impl PrivateMessageContent {
    /// RFC 9420 §6.3.1: decodes a decrypted `plaintext` whose PrivateMessage has
    /// `content_type`; everything after `auth` is padding.
    ///
    /// # Errors
    /// [`CodecError::NonZeroPadding`] if a padding byte is not zero (the message "MUST be
    /// rejected as malformed"); any decoding error of the body or `auth`.
    ///
    /// Decodes under the active [`Limits`](crate::codec::Limits).
    pub fn from_bytes(content_type: ContentType, plaintext: &[u8]) -> Result<Self, CodecError> {
        crate::codec::decoding(plaintext.len(), || {
            let (body, rest) = FramedContentBody::read_body(content_type, plaintext)?;
            let (auth, padding) = FramedContentAuthData::read(content_type, rest)?;
            if padding.iter().any(|&b| b != 0) {
                return Err(CodecError::NonZeroPadding);
            }
            Ok(Self {
                body,
                auth,
                padding: padding.len(),
            })
        })
    }

    /// RFC 9420 §6.3.1: encodes the body, `auth` and `padding` zero bytes.
    ///
    /// # Errors
    /// [`CodecError::FieldPresenceMismatch`] if `auth.confirmation_tag` does not match the
    /// body's content type; [`CodecError::LengthTooLarge`] for an oversize vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        let len = self
            .body
            .body_len()
            .saturating_add(self.auth.size())
            .saturating_add(self.padding);
        let mut out = Vec::with_capacity(len);
        self.body.write_body(&mut out)?;
        self.auth.write(self.body.content_type(), &mut out)?;
        out.resize(out.len().saturating_add(self.padding), 0);
        Ok(out)
    }
}

/// RFC 9420 §6.3.2 `SenderData`: the plaintext of `encrypted_sender_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct SenderData {
    /// `uint32 leaf_index`: the sending member.
    pub leaf_index: u32,
    /// `uint32 generation`: the ratchet generation of the content key.
    pub generation: u32,
    /// `opaque reuse_guard[4]`: XORed into the content nonce.
    pub reuse_guard: [u8; 4],
}

/// RFC 9420 §6.3.2 `SenderDataAAD`: the additional data of `encrypted_sender_data`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct SenderDataAad {
    /// `opaque group_id<V>`.
    pub group_id: VarBytes,
    /// `uint64 epoch`.
    pub epoch: u64,
    /// `ContentType content_type`.
    pub content_type: ContentType,
}

/// RFC 9420 §6.3.1 `PrivateContentAAD`: the additional data of a PrivateMessage's
/// `ciphertext`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct PrivateContentAad {
    /// `opaque group_id<V>`.
    pub group_id: VarBytes,
    /// `uint64 epoch`.
    pub epoch: u64,
    /// `ContentType content_type`.
    pub content_type: ContentType,
    /// `opaque authenticated_data<V>`.
    pub authenticated_data: VarBytes,
}
