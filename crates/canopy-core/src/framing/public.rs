//! PublicMessage protection (RFC 9420 §6.2): the membership tag and the sender rules.

use canopy_crypto::{Secret, SignaturePublicKey, SuiteOps};

use super::{FramingError, SignedBytes, UnverifiedContent, VerifiedContent, check_group_and_epoch};
use crate::codec::VarBytes;
use crate::schedule::{membership_tag, verify_mac};
use crate::wire::{
    AuthenticatedContent, ContentType, FramedContentBody, GroupContext, Proposal, PublicMessage,
    Sender, WireFormat,
};

/// RFC 9420 §6 and §6.2: which content each sender type may send in a PublicMessage.
///
/// - application data never travels as a PublicMessage (§6.2);
/// - `new_member_commit` sends only commits, `new_member_proposal` only Add proposals, and
///   `external` only proposals (§6: "used by ... to propose", "to commit").
fn check_sender_and_content(sender: &Sender, body: &FramedContentBody) -> Result<(), FramingError> {
    let allowed = match (sender, body) {
        (_, FramedContentBody::Application(_)) => {
            return Err(FramingError::ApplicationDataInPublicMessage);
        }
        (Sender::Member(_), _) => true,
        (Sender::External(_), body) => body.content_type() == ContentType::Proposal,
        (Sender::NewMemberProposal, FramedContentBody::Proposal(p)) => {
            matches!(p, Proposal::Add(_))
        }
        (Sender::NewMemberProposal, _) => false,
        (Sender::NewMemberCommit, body) => body.content_type() == ContentType::Commit,
    };
    if allowed {
        Ok(())
    } else {
        Err(FramingError::SenderCannotSend {
            sender: sender.sender_type(),
            content: body.content_type(),
        })
    }
}

/// Protects signed `content` as a PublicMessage (RFC 9420 §6.2).
///
/// A member's message gets `membership_tag = MAC(membership_key, AuthenticatedContentTBM)`;
/// `membership_key` and `context` are required for members and ignored otherwise.
///
/// # Errors
/// [`FramingError::WireFormatMismatch`] unless the content was signed for
/// `mls_public_message`; [`FramingError::ApplicationDataInPublicMessage`];
/// [`FramingError::SenderCannotSend`]; [`FramingError::MissingMembershipKey`]; encoding errors
/// (a commit without its confirmation tag is [`crate::codec::CodecError::FieldPresenceMismatch`]).
pub fn protect_public(
    ops: &dyn SuiteOps,
    content: AuthenticatedContent,
    context: &GroupContext,
    membership_key: Option<&Secret>,
) -> Result<PublicMessage, FramingError> {
    if content.wire_format != WireFormat::PublicMessage {
        return Err(FramingError::WireFormatMismatch);
    }
    check_sender_and_content(&content.content.sender, &content.content.body)?;
    let mut message = PublicMessage {
        content: content.content,
        auth: content.auth,
        membership_tag: None,
    };
    if matches!(message.content.sender, Sender::Member(_)) {
        let key = membership_key.ok_or(FramingError::MissingMembershipKey)?;
        let tbm = message.tbm_bytes(context)?;
        message.membership_tag = Some(VarBytes(membership_tag(ops, key, &tbm)));
    }
    Ok(message)
}

/// Checks a received PublicMessage against the epoch of `context` (RFC 9420 §6.2): group and
/// epoch, the sender and content rules, and for a member the membership tag with
/// `membership_key`. The signature is checked by [`UnverifiedContent::verify`].
///
/// # Errors
/// [`FramingError::WrongGroup`], [`FramingError::WrongEpoch`],
/// [`FramingError::ApplicationDataInPublicMessage`], [`FramingError::SenderCannotSend`],
/// [`FramingError::MissingMembershipKey`], [`FramingError::BadMembershipTag`], encoding errors.
pub fn open_public(
    ops: &dyn SuiteOps,
    message: PublicMessage,
    context: &GroupContext,
    membership_key: Option<&Secret>,
) -> Result<UnverifiedContent, FramingError> {
    let signed = check_public(ops, &message, membership_key, context)?;
    Ok(UnverifiedContent {
        content: message.into_authenticated_content(),
        signed,
    })
}

/// [`open_public`] and [`UnverifiedContent::verify`] in one step, with a signature key the
/// caller already found from the claimed sender of `message.content`.
///
/// # Errors
/// As [`open_public`] and [`UnverifiedContent::verify`].
pub fn open_and_verify_public(
    ops: &dyn SuiteOps,
    message: PublicMessage,
    context: &GroupContext,
    membership_key: Option<&Secret>,
    key: &SignaturePublicKey,
) -> Result<VerifiedContent, FramingError> {
    let (verified, ()) =
        open_public_alongside(ops, message, None, context, membership_key, key, |_| ())?;
    Ok(verified)
}

/// [`open_and_verify_public`], with `work` run on the content as well. `work`'s result comes
/// back only with the verified content, and the errors are those of the checks in order:
/// group and epoch, sender rules, membership tag, signature.
///
/// `content_bytes`, when given, must be the exact bytes `message.content` was decoded from
/// (as `MlsMessage::from_bytes_with_content` finds them): the signature and the membership
/// tag are then computed over them without encoding the content again. This is why the
/// function is not public: bytes other than the content's own would verify something else
/// than the content returned.
///
/// With the `parallel` feature and a content of at least 256 KiB (a commit to a large, mostly
/// blank tree carries a ciphertext per member), the signature is checked on the calling
/// thread while the membership tag and then `work` run on the rayon pool; otherwise all run
/// in sequence, `work` last. `work` therefore must not have effects that outlive a rejection.
pub(crate) fn open_public_alongside<R: Send>(
    ops: &dyn SuiteOps,
    message: PublicMessage,
    content_bytes: Option<&[u8]>,
    context: &GroupContext,
    membership_key: Option<&Secret>,
    key: &SignaturePublicKey,
    work: impl Fn(&AuthenticatedContent) -> R + Sync,
) -> Result<(VerifiedContent, R), FramingError> {
    let signed = prepare_public(&message, content_bytes, context)?;
    let is_member = matches!(message.content.sender, Sender::Member(_));
    let PublicMessage {
        content,
        auth,
        membership_tag,
    } = message;
    let authenticated = AuthenticatedContent {
        wire_format: WireFormat::PublicMessage,
        content,
        auth,
    };
    let check_tag = || {
        check_membership_tag(
            ops,
            is_member,
            membership_tag.as_ref(),
            membership_key,
            signed.tbm(),
        )
    };
    let check_signature =
        || super::verify_signature(ops, key, &signed, &authenticated.auth.signature);
    #[cfg(feature = "parallel")]
    if signed.signed_len() >= crate::parallel::SIGNED_BYTES {
        let (signature, (tag, result)) = crate::parallel::here_and_there(check_signature, &|| {
            let tag = check_tag();
            let result = tag.is_ok().then(|| work(&authenticated));
            (tag, result)
        });
        tag?;
        signature?;
        // `result` is `None` only when the tag check failed, which returned above.
        let result = result.ok_or(FramingError::BadMembershipTag)?;
        return Ok((VerifiedContent(authenticated), result));
    }
    check_tag()?;
    check_signature()?;
    let result = work(&authenticated);
    Ok((VerifiedContent(authenticated), result))
}

/// RFC 9420 §6.1, §6.2 for a receiver without the epoch's membership key (a Delivery
/// Service following the group): the checks of [`open_public_alongside`] but the membership
/// tag, which can only be required to be present on a member's message, then the signature
/// with `key`. The tag is what proves that the sender held the epoch's secrets; without it,
/// the signature (under a key of the tree or of the `external_senders` extension) is all
/// that authenticates the message.
///
/// `content_bytes` is as for [`open_public_alongside`]. `work` runs on the content while the
/// signature is verified, as in [`open_public_alongside`] (on the pool from 256 KiB, with
/// the `parallel` feature); it therefore must not have effects that outlive a rejection.
pub(crate) fn open_public_without_membership_key_alongside<R: Send>(
    ops: &dyn SuiteOps,
    message: PublicMessage,
    content_bytes: Option<&[u8]>,
    context: &GroupContext,
    key: &SignaturePublicKey,
    work: impl Fn(&AuthenticatedContent) -> R + Sync,
) -> Result<(VerifiedContent, R), FramingError> {
    let signed = prepare_public(&message, content_bytes, context)?;
    if matches!(message.content.sender, Sender::Member(_)) && message.membership_tag.is_none() {
        return Err(FramingError::BadMembershipTag);
    }
    let PublicMessage { content, auth, .. } = message;
    let authenticated = AuthenticatedContent {
        wire_format: WireFormat::PublicMessage,
        content,
        auth,
    };
    let check_signature =
        || super::verify_signature(ops, key, &signed, &authenticated.auth.signature);
    #[cfg(feature = "parallel")]
    if signed.signed_len() >= crate::parallel::SIGNED_BYTES_WITHOUT_TAG {
        let (signature, result) =
            crate::parallel::here_and_there(check_signature, &|| work(&authenticated));
        signature?;
        return Ok((VerifiedContent(authenticated), result));
    }
    check_signature()?;
    let result = work(&authenticated);
    Ok((VerifiedContent(authenticated), result))
}

/// The checks of a received PublicMessage that need no key (group and epoch, sender and
/// content rules), then its signature input and AuthenticatedContentTBM laid out.
fn prepare_public(
    message: &PublicMessage,
    content_bytes: Option<&[u8]>,
    context: &GroupContext,
) -> Result<SignedBytes, FramingError> {
    let content = &message.content;
    check_group_and_epoch(content.group_id.as_slice(), content.epoch, context)?;
    check_sender_and_content(&content.sender, &content.body)?;
    let mut signed = SignedBytes::new(
        content,
        content_bytes,
        WireFormat::PublicMessage,
        Some(context),
    )?;
    signed.append_auth(message)?;
    Ok(signed)
}

/// The checks of [`open_public`] before the signature: [`prepare_public`] and the membership
/// tag. Returns the laid-out signature input.
fn check_public(
    ops: &dyn SuiteOps,
    message: &PublicMessage,
    membership_key: Option<&Secret>,
    context: &GroupContext,
) -> Result<SignedBytes, FramingError> {
    let signed = prepare_public(message, None, context)?;
    check_membership_tag(
        ops,
        matches!(message.content.sender, Sender::Member(_)),
        message.membership_tag.as_ref(),
        membership_key,
        signed.tbm(),
    )?;
    Ok(signed)
}

/// RFC 9420 §6.2: a member's message carries a membership tag (`received`) that verifies
/// over `tbm`; other senders' messages carry none.
fn check_membership_tag(
    ops: &dyn SuiteOps,
    is_member: bool,
    received: Option<&VarBytes>,
    membership_key: Option<&Secret>,
    tbm: &[u8],
) -> Result<(), FramingError> {
    if !is_member {
        return Ok(());
    }
    let received = received.ok_or(FramingError::BadMembershipTag)?;
    let key = membership_key.ok_or(FramingError::MissingMembershipKey)?;
    let expected = membership_tag(ops, key, tbm);
    if verify_mac(&expected, received.as_slice()) {
        Ok(())
    } else {
        Err(FramingError::BadMembershipTag)
    }
}

/// Opens and verifies a PublicMessage in one step: [`open_public`], then the signature with
/// the key `key_of` returns for the claimed sender (`None`: an unknown sender).
///
/// # Errors
/// As [`open_public`] and [`UnverifiedContent::verify`], and
/// [`FramingError::UnknownSender`].
pub fn unprotect_public(
    ops: &dyn SuiteOps,
    message: PublicMessage,
    context: &GroupContext,
    membership_key: Option<&Secret>,
    key_of: impl FnOnce(&UnverifiedContent) -> Option<SignaturePublicKey>,
) -> Result<VerifiedContent, FramingError> {
    let unverified = open_public(ops, message, context, membership_key)?;
    let key = key_of(&unverified).ok_or_else(|| FramingError::UnknownSender {
        sender: *unverified.sender(),
    })?;
    unverified.verify(ops, &key)
}
