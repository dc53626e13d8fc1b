use crate::rules::Rule;
use canopy_crypto::{
    CipherSuite, CryptoProvider, Secret, SignatureKeyPair, SignaturePublicKey, SuiteOps,
};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use super::*;
use crate::codec;
use crate::schedule::{ContentKind, OutOfOrderPolicy, ScheduleError, SecretTree};
use crate::tree::math::{LeafCount, LeafIndex};
use crate::wire::{
    Commit, ContentType, FramedContentBody, MlsMessage, PrivateContentAad, PrivateMessage,
    Proposal, PublicMessage, Remove, SenderDataAad, SenderType,
};

const SENDER: u32 = 1;

/// One epoch of a two-member group as both sender and receiver see it.
struct Epoch {
    provider: RustCryptoProvider,
    signer: SignatureKeyPair,
    context: GroupContext,
    membership_key: Secret,
    sender_data_secret: Secret,
    encryption_secret: Secret,
}

impl Epoch {
    fn new() -> Self {
        let provider = RustCryptoProvider::new();
        let signer = provider
            .suite(CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap();
        let context = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
            group_id: VarBytes(b"group".to_vec()),
            epoch: 7,
            tree_hash: VarBytes(vec![1; 32]),
            confirmed_transcript_hash: VarBytes(vec![2; 32]),
            extensions: crate::wire::Extensions::default(),
        };
        Self {
            provider,
            signer,
            context,
            membership_key: Secret::from_slice(&[3; 32]),
            sender_data_secret: Secret::from_slice(&[4; 32]),
            encryption_secret: Secret::from_slice(&[5; 32]),
        }
    }

    fn ops(&self) -> &dyn SuiteOps {
        self.provider.suite(self.context.cipher_suite).unwrap()
    }

    fn tree(&self, policy: OutOfOrderPolicy) -> SecretTree {
        SecretTree::new(
            self.encryption_secret.clone(),
            LeafCount::new(2).unwrap(),
            policy,
        )
    }

    fn content(&self, sender: Sender, body: FramedContentBody) -> FramedContent {
        FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender,
            authenticated_data: VarBytes(b"aad".to_vec()),
            body,
        }
    }

    fn sign(&self, wire_format: WireFormat, body: FramedContentBody) -> AuthenticatedContent {
        let mut signed = sign_content(
            self.ops(),
            wire_format,
            self.content(Sender::Member(SENDER), body),
            &self.signer,
            Some(&self.context),
        )
        .unwrap();
        if signed.content.content_type() == ContentType::Commit {
            signed.auth.confirmation_tag = Some(VarBytes(vec![9; 32]));
        }
        signed
    }

    fn public(&self, body: FramedContentBody) -> PublicMessage {
        let signed = self.sign(WireFormat::PublicMessage, body);
        protect_public(
            self.ops(),
            signed,
            &self.context,
            Some(&self.membership_key),
        )
        .unwrap()
    }

    fn private(&self, tree: &mut SecretTree, body: FramedContentBody) -> PrivateMessage {
        let signed = self.sign(WireFormat::PrivateMessage, body);
        protect_private(
            self.ops(),
            signed,
            &self.sender_data_secret,
            tree,
            Padding::default(),
            [0xA5, 0x5A, 0x01, 0x02],
        )
        .unwrap()
    }

    fn key_of(&self) -> Option<SignaturePublicKey> {
        Some(self.signer.public.clone())
    }

    fn unprotect_public(&self, message: PublicMessage) -> Result<VerifiedContent, FramingError> {
        unprotect_public(
            self.ops(),
            message,
            &self.context,
            Some(&self.membership_key),
            |_| self.key_of(),
        )
    }

    fn unprotect_private(
        &self,
        message: &PrivateMessage,
        tree: &mut SecretTree,
    ) -> Result<VerifiedContent, FramingError> {
        unprotect_private(
            self.ops(),
            message,
            &self.context,
            &self.sender_data_secret,
            tree,
            |leaf| (leaf.value() == SENDER).then(|| self.signer.public.clone()),
        )
    }
}

fn remove_proposal() -> FramedContentBody {
    FramedContentBody::Proposal(Proposal::Remove(Remove { removed: 0 }))
}

fn commit() -> FramedContentBody {
    FramedContentBody::Commit(Box::new(Commit {
        proposals: Vec::new().into(),
        path: None,
    }))
}

fn application(len: usize) -> FramedContentBody {
    FramedContentBody::Application(VarBytes(vec![0x42; len]))
}

#[test]
fn public_messages_round_trip() {
    let e = Epoch::new();
    for body in [remove_proposal(), commit()] {
        let message = e.public(body.clone());
        assert!(message.membership_tag.is_some());
        let verified = e.unprotect_public(message).unwrap();
        assert_eq!(verified.content().content.body, body);
        assert_eq!(verified.content().wire_format, WireFormat::PublicMessage);
    }
}

#[test]
fn private_messages_round_trip_for_every_content_type() {
    let e = Epoch::new();
    let mut sender = e.tree(OutOfOrderPolicy::default());
    let mut receiver = e.tree(OutOfOrderPolicy::default());
    for body in [
        application(1024),
        remove_proposal(),
        commit(),
        application(3),
    ] {
        let message = e.private(&mut sender, body.clone());
        let verified = e.unprotect_private(&message, &mut receiver).unwrap();
        let content = verified.into_inner();
        assert_eq!(content.content.body, body);
        assert_eq!(content.content.sender, Sender::Member(SENDER));
        assert_eq!(content.content.authenticated_data.as_slice(), b"aad");
        assert_eq!(content.wire_format, WireFormat::PrivateMessage);
    }
}

#[test]
fn application_data_is_never_a_public_message() {
    let e = Epoch::new();
    let signed = e.sign(WireFormat::PublicMessage, application(10));
    let err =
        protect_public(e.ops(), signed.clone(), &e.context, Some(&e.membership_key)).unwrap_err();
    assert_eq!(err, FramingError::ApplicationDataInPublicMessage);
    assert_eq!(err.rule(), Some(Rule::FramingPublicApplication));

    // Built by hand with a valid tag, it is still rejected on receipt.
    let mut forged = PublicMessage {
        content: signed.content,
        auth: signed.auth,
        membership_tag: None,
    };
    let tbm = forged.tbm_bytes(&e.context).unwrap();
    forged.membership_tag = Some(VarBytes(crate::schedule::membership_tag(
        e.ops(),
        &e.membership_key,
        &tbm,
    )));
    assert_eq!(
        e.unprotect_public(forged).unwrap_err(),
        FramingError::ApplicationDataInPublicMessage
    );
}

/// Every single-byte change of an encoded message, each flipped in two ways.
fn mutations(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..bytes.len()).flat_map(move |i| {
        [0x01u8, 0xFF].into_iter().map(move |mask| {
            let mut changed = bytes.to_vec();
            changed[i] ^= mask;
            changed
        })
    })
}

#[test]
fn every_single_byte_change_to_a_public_message_is_rejected() {
    let e = Epoch::new();
    for body in [remove_proposal(), commit()] {
        let bytes = MlsMessage::PublicMessage(Box::new(e.public(body)))
            .to_bytes()
            .unwrap();
        let mut tried = 0;
        for changed in mutations(&bytes) {
            tried += 1;
            let result = match MlsMessage::from_bytes(&changed) {
                Ok(MlsMessage::PublicMessage(m)) => e.unprotect_public(*m).map(|_| ()),
                // Another wire format is not this message.
                Ok(_) => Err(FramingError::WireFormatMismatch),
                Err(err) => Err(FramingError::Codec(err)),
            };
            assert!(result.is_err(), "a changed byte was accepted");
        }
        assert_eq!(tried, bytes.len() * 2);
        // The original still verifies.
        let MlsMessage::PublicMessage(m) = MlsMessage::from_bytes(&bytes).unwrap() else {
            panic!("not a public message");
        };
        e.unprotect_public(*m).unwrap();
    }
}

#[test]
fn every_single_byte_change_to_a_private_message_is_rejected_and_burns_nothing() {
    let e = Epoch::new();
    let mut sender = e.tree(OutOfOrderPolicy::default());
    let mut receiver = e.tree(OutOfOrderPolicy::default());
    for body in [application(100), remove_proposal(), commit()] {
        let bytes = MlsMessage::PrivateMessage(e.private(&mut sender, body.clone()))
            .to_bytes()
            .unwrap();
        let before = receiver.clone();
        for changed in mutations(&bytes) {
            let result = match MlsMessage::from_bytes(&changed) {
                Ok(MlsMessage::PrivateMessage(m)) => {
                    e.unprotect_private(&m, &mut receiver).map(|_| ())
                }
                Ok(_) => Err(FramingError::WireFormatMismatch),
                Err(err) => Err(FramingError::Codec(err)),
            };
            assert!(result.is_err(), "a changed byte was accepted");
            assert_eq!(
                receiver, before,
                "a rejected message changed the secret tree"
            );
        }
        let MlsMessage::PrivateMessage(m) = MlsMessage::from_bytes(&bytes).unwrap() else {
            panic!("not a private message");
        };
        assert_eq!(
            e.unprotect_private(&m, &mut receiver)
                .unwrap()
                .content()
                .content
                .body,
            body
        );
    }
}

#[test]
fn a_replayed_generation_is_rejected_and_its_key_is_gone() {
    let e = Epoch::new();
    let mut sender = e.tree(OutOfOrderPolicy::default());
    let mut receiver = e.tree(OutOfOrderPolicy::default());
    let message = e.private(&mut sender, application(16));
    e.unprotect_private(&message, &mut receiver).unwrap();
    let replayed = e.unprotect_private(&message, &mut receiver).unwrap_err();
    assert_eq!(
        replayed,
        FramingError::Schedule(ScheduleError::GenerationConsumed { generation: 0 })
    );
    assert_eq!(replayed.rule(), Some(Rule::FramingGeneration));
    let leaf = LeafIndex::new(SENDER).unwrap();
    assert_eq!(
        receiver
            .prepare_decryption(e.ops(), leaf, ContentKind::Application, 0)
            .unwrap_err(),
        ScheduleError::GenerationConsumed { generation: 0 }
    );
    // The sender cannot derive it again either: its next key is generation 1.
    assert_eq!(
        sender
            .next_encryption_key(e.ops(), leaf, ContentKind::Application)
            .unwrap()
            .generation,
        1
    );
}

#[test]
fn a_generation_beyond_the_policy_is_rejected() {
    let e = Epoch::new();
    let policy = OutOfOrderPolicy {
        max_forward_distance: 3,
        max_retained_keys: 8,
    };
    let mut sender = e.tree(policy);
    let mut receiver = e.tree(policy);
    let messages: Vec<_> = (0..6)
        .map(|_| e.private(&mut sender, application(8)))
        .collect();
    let before = receiver.clone();
    assert_eq!(
        e.unprotect_private(&messages[5], &mut receiver)
            .unwrap_err(),
        FramingError::Schedule(ScheduleError::GenerationTooFarAhead {
            generation: 5,
            distance: 5,
            max: 3
        })
    );
    assert_eq!(receiver, before);
    // Within the policy, out of order is fine.
    e.unprotect_private(&messages[3], &mut receiver).unwrap();
    e.unprotect_private(&messages[1], &mut receiver).unwrap();
    e.unprotect_private(&messages[5], &mut receiver).unwrap();
}

#[test]
fn a_wrong_epoch_or_group_is_rejected() {
    let e = Epoch::new();
    let mut sender = e.tree(OutOfOrderPolicy::default());
    let mut receiver = e.tree(OutOfOrderPolicy::default());
    let private = e.private(&mut sender, application(8));
    let public = e.public(remove_proposal());

    let mut next = e.context.clone();
    next.epoch += 1;
    let wrong_epoch = FramingError::WrongEpoch {
        expected: 8,
        got: 7,
    };
    let err = open_private(e.ops(), &private, &next, &e.sender_data_secret, &receiver).unwrap_err();
    assert_eq!(err, wrong_epoch);
    assert_eq!(err.rule(), Some(Rule::FramingEpoch));
    let err = open_public(e.ops(), public.clone(), &next, Some(&e.membership_key)).unwrap_err();
    assert_eq!(err, wrong_epoch);

    let mut other = e.context.clone();
    other.group_id = VarBytes(b"other".to_vec());
    let err = open_public(e.ops(), public, &other, Some(&e.membership_key)).unwrap_err();
    assert_eq!(err, FramingError::WrongGroup);
    assert_eq!(err.rule(), Some(Rule::FramingGroupId));
    let err =
        open_private(e.ops(), &private, &other, &e.sender_data_secret, &receiver).unwrap_err();
    assert_eq!(err, FramingError::WrongGroup);
    assert_eq!(err.rule(), Some(Rule::FramingGroupId));
    e.unprotect_private(&private, &mut receiver).unwrap();
}

#[test]
fn bad_signatures_and_unknown_senders_are_rejected_without_state_change() {
    let e = Epoch::new();
    let other = e.ops().signature_generate_key_pair().unwrap();
    let mut sender = e.tree(OutOfOrderPolicy::default());
    let mut receiver = e.tree(OutOfOrderPolicy::default());
    let message = e.private(&mut sender, application(8));
    let before = receiver.clone();

    let err = unprotect_private(
        e.ops(),
        &message,
        &e.context,
        &e.sender_data_secret,
        &mut receiver,
        |_| Some(other.public.clone()),
    )
    .unwrap_err();
    assert_eq!(err, FramingError::BadSignature);
    assert_eq!(err.rule(), Some(Rule::FramingSignature));
    assert_eq!(receiver, before);

    let err = unprotect_private(
        e.ops(),
        &message,
        &e.context,
        &e.sender_data_secret,
        &mut receiver,
        |_| None,
    )
    .unwrap_err();
    assert_eq!(err.rule(), Some(Rule::FramingSender));
    assert_eq!(
        err,
        FramingError::UnknownSender {
            sender: Sender::Member(SENDER)
        }
    );
    assert_eq!(receiver, before);

    let public = e.public(remove_proposal());
    let err = unprotect_public(e.ops(), public, &e.context, Some(&e.membership_key), |_| {
        Some(other.public.clone())
    })
    .unwrap_err();
    assert_eq!(err, FramingError::BadSignature);
    assert_eq!(err.rule(), Some(Rule::FramingSignature));
}

#[test]
fn a_wrong_membership_key_fails_the_tag() {
    let e = Epoch::new();
    let public = e.public(remove_proposal());
    let err = open_public(
        e.ops(),
        public.clone(),
        &e.context,
        Some(&Secret::from_slice(&[0; 32])),
    )
    .unwrap_err();
    assert_eq!(err, FramingError::BadMembershipTag);
    assert_eq!(err.rule(), Some(Rule::FramingMembershipTag));
    let mut untagged = public;
    untagged.membership_tag = None;
    let err = open_public(e.ops(), untagged, &e.context, Some(&e.membership_key)).unwrap_err();
    assert_eq!(err, FramingError::BadMembershipTag);
    assert_eq!(err.rule(), Some(Rule::FramingMembershipTag));
}

#[test]
fn sender_types_send_only_what_the_rfc_allows() {
    let e = Epoch::new();
    let cases = [
        (Sender::External(0), commit(), SenderType::External),
        (
            Sender::NewMemberProposal,
            remove_proposal(),
            SenderType::NewMemberProposal,
        ),
        (
            Sender::NewMemberCommit,
            remove_proposal(),
            SenderType::NewMemberCommit,
        ),
    ];
    for (sender, body, sender_type) in cases {
        let content_type = body.content_type();
        let mut signed = sign_content(
            e.ops(),
            WireFormat::PublicMessage,
            e.content(sender, body),
            &e.signer,
            Some(&e.context),
        )
        .unwrap();
        if content_type == ContentType::Commit {
            signed.auth.confirmation_tag = Some(VarBytes(vec![0; 32]));
        }
        let expected = FramingError::SenderCannotSend {
            sender: sender_type,
            content: content_type,
        };
        let err = protect_public(e.ops(), signed.clone(), &e.context, None).unwrap_err();
        assert_eq!(err, expected);
        let forged = PublicMessage {
            content: signed.content,
            auth: signed.auth,
            membership_tag: None,
        };
        let err = open_public(e.ops(), forged, &e.context, None).unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(err.rule(), Some(Rule::FramingSenderContent));
    }
}

#[test]
fn an_external_proposal_verifies_without_membership_tag_or_context() {
    let e = Epoch::new();
    let signed = sign_content(
        e.ops(),
        WireFormat::PublicMessage,
        e.content(Sender::External(0), remove_proposal()),
        &e.signer,
        None,
    )
    .unwrap();
    let message = protect_public(e.ops(), signed, &e.context, None).unwrap();
    assert!(message.membership_tag.is_none());
    let verified = unprotect_public(e.ops(), message, &e.context, None, |u| {
        assert_eq!(*u.sender(), Sender::External(0));
        Some(e.signer.public.clone())
    })
    .unwrap();
    assert_eq!(verified.content().content.sender, Sender::External(0));
}

#[test]
fn misuse_is_reported() {
    let e = Epoch::new();
    let mut tree = e.tree(OutOfOrderPolicy::default());
    let public_signed = e.sign(WireFormat::PublicMessage, application(4));
    let err = protect_private(
        e.ops(),
        public_signed,
        &e.sender_data_secret,
        &mut tree,
        Padding::None,
        [0; 4],
    )
    .unwrap_err();
    assert_eq!(err, FramingError::WireFormatMismatch);

    let err = sign_content(
        e.ops(),
        WireFormat::PublicMessage,
        e.content(Sender::Member(0), remove_proposal()),
        &e.signer,
        None,
    )
    .unwrap_err();
    assert_eq!(err, FramingError::MissingGroupContext);

    let signed = e.sign(WireFormat::PublicMessage, remove_proposal());
    let err = protect_public(e.ops(), signed, &e.context, None).unwrap_err();
    assert_eq!(err, FramingError::MissingMembershipKey);

    let mut untagged_commit = e.sign(WireFormat::PrivateMessage, commit());
    untagged_commit.auth.confirmation_tag = None;
    let err = protect_private(
        e.ops(),
        untagged_commit,
        &e.sender_data_secret,
        &mut tree,
        Padding::None,
        [0; 4],
    )
    .unwrap_err();
    assert_eq!(err, FramingError::Codec(CodecError::FieldPresenceMismatch));
}

#[test]
fn padding_rounds_up_to_the_block() {
    assert_eq!(Padding::None.for_len(33), 0);
    assert_eq!(Padding::Block(0).for_len(33), 0);
    assert_eq!(Padding::Block(1).for_len(33), 0);
    assert_eq!(Padding::Block(32).for_len(32), 0);
    assert_eq!(Padding::Block(32).for_len(33), 31);
    assert_eq!(Padding::Block(32).for_len(0), 0);
    assert_eq!(Padding::Block(1000).for_len(1), 999);

    // Messages of nearby lengths produce ciphertexts of one length.
    let e = Epoch::new();
    let mut tree = e.tree(OutOfOrderPolicy::default());
    let lens: Vec<usize> = (100..110)
        .map(|n| e.private(&mut tree, application(n)).ciphertext.len())
        .collect();
    assert!(lens.iter().all(|&l| l == lens[0]), "{lens:?}");
    assert_eq!((lens[0] - 16) % 32, 0);
}

#[test]
fn borrowed_aads_match_the_wire_structs() {
    let group_id = VarBytes(vec![7; 70]);
    let authenticated_data = VarBytes(vec![8; 300]);
    for content_type in [
        ContentType::Application,
        ContentType::Proposal,
        ContentType::Commit,
    ] {
        let wire = codec::encode(&SenderDataAad {
            group_id: group_id.clone(),
            epoch: 0x0102_0304_0506_0708,
            content_type,
        })
        .unwrap();
        let ours =
            private::sender_data_aad(group_id.as_slice(), 0x0102_0304_0506_0708, content_type)
                .unwrap();
        assert_eq!(ours, wire);
        let wire = codec::encode(&PrivateContentAad {
            group_id: group_id.clone(),
            epoch: 9,
            content_type,
            authenticated_data: authenticated_data.clone(),
        })
        .unwrap();
        let ours = private::content_aad(
            group_id.as_slice(),
            9,
            content_type,
            authenticated_data.as_slice(),
        )
        .unwrap();
        assert_eq!(ours, wire);
    }
}

#[test]
fn open_and_verify_public_checks_tag_and_signature_small_and_large() {
    let e = Epoch::new();
    let stranger = e.ops().signature_generate_key_pair().unwrap();
    // A proposal, and a commit with authenticated data past the size from which the
    // signature and the tag are checked on two threads (with the `parallel` feature).
    let small = e.public(remove_proposal());
    let mut big_content = e.content(Sender::Member(SENDER), commit());
    #[cfg(feature = "parallel")]
    let large_len = crate::parallel::SIGNED_BYTES;
    #[cfg(not(feature = "parallel"))]
    let large_len = 100 * 1024;
    big_content.authenticated_data = VarBytes(vec![7; large_len]);
    let mut signed = sign_content(
        e.ops(),
        WireFormat::PublicMessage,
        big_content,
        &e.signer,
        Some(&e.context),
    )
    .unwrap();
    signed.auth.confirmation_tag = Some(VarBytes(vec![9; 32]));
    let large = protect_public(e.ops(), signed, &e.context, Some(&e.membership_key)).unwrap();
    for message in [small, large] {
        // The content as received: its exact bytes, as MlsMessage decoding finds them.
        let wire = MlsMessage::PublicMessage(Box::new(message.clone()))
            .to_bytes()
            .unwrap();
        let (decoded, content_bytes) = MlsMessage::from_bytes_with_content(&wire).unwrap();
        let content_bytes = content_bytes.unwrap();
        assert_eq!(
            decoded,
            MlsMessage::PublicMessage(Box::new(message.clone()))
        );
        assert_eq!(content_bytes, codec::encode(&message.content).unwrap());
        let mut altered = content_bytes.to_vec();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        // The public one-step function (which encodes the content itself).
        let ok = open_and_verify_public(
            e.ops(),
            message.clone(),
            &e.context,
            Some(&e.membership_key),
            &e.signer.public,
        )
        .unwrap();
        assert_eq!(ok.content().content.sender, Sender::Member(SENDER));
        for bytes in [None, Some(content_bytes)] {
            let (ok, seen) = open_public_alongside(
                e.ops(),
                message.clone(),
                bytes,
                &e.context,
                Some(&e.membership_key),
                &e.signer.public,
                |content| content.content.epoch,
            )
            .unwrap();
            assert_eq!(ok.content().content.sender, Sender::Member(SENDER));
            assert_eq!(seen, ok.content().content.epoch);
            assert_eq!(
                open_public_alongside(
                    e.ops(),
                    message.clone(),
                    bytes,
                    &e.context,
                    Some(&e.membership_key),
                    &stranger.public,
                    |_| (),
                )
                .unwrap_err(),
                FramingError::BadSignature
            );
            // Without the membership key (a public group): the signature alone decides.
            let (ok, seen) = open_public_without_membership_key_alongside(
                e.ops(),
                message.clone(),
                bytes,
                &e.context,
                &e.signer.public,
                |content| content.content.epoch,
            )
            .unwrap();
            assert_eq!(seen, ok.content().content.epoch);
            assert_eq!(
                open_public_without_membership_key_alongside(
                    e.ops(),
                    message.clone(),
                    bytes,
                    &e.context,
                    &stranger.public,
                    |_| (),
                )
                .unwrap_err(),
                FramingError::BadSignature
            );
            // A bad tag is reported before a bad signature, on one thread or two.
            for signer in [&e.signer.public, &stranger.public] {
                assert_eq!(
                    open_public_alongside(
                        e.ops(),
                        message.clone(),
                        bytes,
                        &e.context,
                        Some(&Secret::from_slice(&[0; 32])),
                        signer,
                        |_| (),
                    )
                    .unwrap_err(),
                    FramingError::BadMembershipTag
                );
            }
        }
        // Bytes that are not the content's own fail the tag, whatever the decoded value says.
        assert_eq!(
            open_public_alongside(
                e.ops(),
                message,
                Some(&altered),
                &e.context,
                Some(&e.membership_key),
                &e.signer.public,
                |_| (),
            )
            .unwrap_err(),
            FramingError::BadMembershipTag
        );
    }
}

#[test]
fn contents_verified_together_pass_only_if_each_would_and_a_failure_names_its_item() {
    let e = Epoch::new();
    let other = e.ops().signature_generate_key_pair().unwrap();
    // More than one batch of the serial path, so that the index is counted across batches.
    let count = crate::rules::tree::SIGNATURE_BATCH + 5;
    let items = |bad: Option<usize>| -> Vec<(UnverifiedContent, SignaturePublicKey)> {
        (0..count)
            .map(|i| {
                let content = open_public(
                    e.ops(),
                    e.public(remove_of(i)),
                    &e.context,
                    Some(&e.membership_key),
                )
                .unwrap();
                let key = if bad == Some(i) {
                    other.public.clone()
                } else {
                    e.signer.public.clone()
                };
                (content, key)
            })
            .collect()
    };
    let verified = verify_all(e.ops(), items(None)).unwrap();
    assert_eq!(verified.len(), count);
    // The order is kept.
    for (i, v) in verified.iter().enumerate() {
        assert_eq!(v.content().content.body, remove_of(i));
    }
    for bad in [0, 7, crate::rules::tree::SIGNATURE_BATCH, count - 1] {
        assert_eq!(verify_all(e.ops(), items(Some(bad))), Err(bad));
    }
    // One item alone takes the single check.
    let mut one = items(Some(0));
    one.truncate(1);
    assert_eq!(verify_all(e.ops(), one), Err(0));
}

/// A Remove proposal of leaf `i`: a distinct content per item.
fn remove_of(i: usize) -> FramedContentBody {
    FramedContentBody::Proposal(Proposal::Remove(Remove {
        removed: u32::try_from(i).unwrap(),
    }))
}
