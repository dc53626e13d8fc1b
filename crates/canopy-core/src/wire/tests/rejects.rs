//! Every value RFC 9420 disallows is a decode error with its own typed [`CodecError`], both
//! in the struct that holds it and once nested inside a whole MLSMessage.

use super::*;
use crate::codec::CodeKind;

fn invalid(kind: CodeKind, value: u16) -> CodecError {
    CodecError::InvalidCode { kind, value }
}

/// `bytes` with the byte at `at` replaced by `value`.
fn patched(bytes: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] = value;
    out
}

#[test]
fn mls_message_version_must_be_mls10() {
    let good = messages()[1].to_bytes().unwrap();
    for version in [0u16, 2, 0x0A0A, u16::MAX] {
        let mut bad = good.clone();
        bad[..2].copy_from_slice(&version.to_be_bytes());
        assert_eq!(
            MlsMessage::from_bytes(&bad),
            Err(CodecError::UnsupportedVersion(version))
        );
    }
}

#[test]
fn reserved_and_unknown_wire_formats_are_rejected() {
    let good = messages()[1].to_bytes().unwrap();
    for format in [0u16, 6, 0x0A0A, 0xF000, u16::MAX] {
        let mut bad = good.clone();
        bad[2..4].copy_from_slice(&format.to_be_bytes());
        assert_eq!(
            MlsMessage::from_bytes(&bad),
            Err(invalid(CodeKind::WireFormat, format))
        );
    }
    // AuthenticatedContent carries a WireFormat too.
    let ac = AuthenticatedContent {
        wire_format: WireFormat::PublicMessage,
        content: framed(Sender::Member(0), bodies().remove(0)),
        auth: auth(&bodies()[0]),
    };
    let bad = patched(&encode(&ac).unwrap(), 1, 0);
    assert_eq!(
        decode_err::<AuthenticatedContent>(&bad),
        invalid(CodeKind::WireFormat, 0)
    );
}

#[test]
fn reserved_and_unknown_content_types_are_rejected() {
    // FramedContent: group_id<V> (17), epoch (8), sender (5), authenticated_data<V> (4).
    let content = encode(&framed(Sender::Member(3), bodies().remove(0))).unwrap();
    let at = 17 + 8 + 5 + 4;
    assert_eq!(content[at], 1);
    for value in [0u8, 4, 255] {
        assert_eq!(
            decode_err::<FramedContent>(&patched(&content, at, value)),
            invalid(CodeKind::ContentType, u16::from(value))
        );
    }
    // PrivateMessage: group_id<V> (17), epoch (8).
    let pm = private_message().to_bytes().unwrap();
    for value in [0u8, 4] {
        let bad = patched(&pm, 17 + 8, value);
        assert_eq!(
            PrivateMessage::from_bytes(&bad),
            Err(invalid(CodeKind::ContentType, u16::from(value)))
        );
        let wrapped = cat(&[&[0, 1, 0, 2], &bad]);
        assert_eq!(
            MlsMessage::from_bytes(&wrapped),
            Err(invalid(CodeKind::ContentType, u16::from(value)))
        );
    }
}

#[test]
fn reserved_and_unknown_sender_types_are_rejected() {
    for value in [0u8, 5, 255] {
        assert_eq!(
            decode_err::<Sender>(&[value, 0, 0, 0, 0]),
            invalid(CodeKind::SenderType, u16::from(value))
        );
    }
    let message = MlsMessage::PublicMessage(Box::new(public_message(
        Sender::External(1),
        bodies().remove(1),
    )))
    .to_bytes()
    .unwrap();
    // MLSMessage header (4), group_id<V> (17), epoch (8).
    assert_eq!(message[4 + 17 + 8], 2);
    assert_eq!(
        MlsMessage::from_bytes(&patched(&message, 4 + 17 + 8, 0)),
        Err(invalid(CodeKind::SenderType, 0))
    );
}

#[test]
fn reserved_and_unknown_leaf_node_sources_are_rejected() {
    let leaf = encode(&leaf(LeafNodeSource::Update)).unwrap();
    let at = 33 + 33 + basic(b"alice").tls_serialized_len() + capabilities().tls_serialized_len();
    assert_eq!(leaf[at], 2);
    for value in [0u8, 4, 255] {
        assert_eq!(
            LeafNode::from_bytes(&patched(&leaf, at, value)),
            Err(invalid(CodeKind::LeafNodeSource, u16::from(value)))
        );
    }
    // Nested: the leaf of a KeyPackage in an MLSMessage.
    let kp = messages()[4].to_bytes().unwrap();
    // MLSMessage header (4), version (2), suite (2), init_key<V> (2 + 65).
    let at = 4 + 2 + 2 + 67 + at;
    assert_eq!(kp[at], 1);
    assert_eq!(
        MlsMessage::from_bytes(&patched(&kp, at, 0)),
        Err(invalid(CodeKind::LeafNodeSource, 0))
    );
}

#[test]
fn reserved_and_unknown_node_types_are_rejected() {
    let tree = tree().to_bytes().unwrap();
    // Header (2), presence octet (1), then node_type.
    assert_eq!(&tree[2..4], [1, 1]);
    for value in [0u8, 3, 255] {
        assert_eq!(
            RatchetTree::from_bytes(&patched(&tree, 3, value)),
            Err(invalid(CodeKind::NodeType, u16::from(value)))
        );
        assert_eq!(
            decode_err::<Node>(&[value]),
            invalid(CodeKind::NodeType, u16::from(value))
        );
    }
}

#[test]
fn reserved_and_unknown_psk_types_and_usages_are_rejected() {
    let external = encode(&external_psk()).unwrap();
    // application(3) of the extensions draft decodes only with the feature.
    let unknown: &[u8] = if cfg!(feature = "extensions") {
        &[0, 4, 255]
    } else {
        &[0, 3, 4, 255]
    };
    for &value in unknown {
        assert_eq!(
            decode_err::<PreSharedKeyId>(&patched(&external, 0, value)),
            invalid(CodeKind::PskType, u16::from(value))
        );
    }
    let resumption = encode(&resumption_psk(ResumptionPskUsage::Application)).unwrap();
    for value in [0u8, 4, 255] {
        assert_eq!(
            decode_err::<PreSharedKeyId>(&patched(&resumption, 1, value)),
            invalid(CodeKind::ResumptionPskUsage, u16::from(value))
        );
    }
    // Nested in a PreSharedKey proposal body and in GroupSecrets.psks.
    assert_eq!(
        PreSharedKey::from_bytes(&patched(&external, 0, 0)),
        Err(invalid(CodeKind::PskType, 0))
    );
    let secrets = group_secrets(false).to_bytes().unwrap();
    // joiner_secret<V> (33), presence (1), psks<V> header (2: the list is 100 bytes).
    let at = 33 + 1 + 2;
    assert_eq!(secrets[at], 1);
    assert_eq!(
        GroupSecrets::from_bytes(&patched(&secrets, at, 9)),
        Err(invalid(CodeKind::PskType, 9))
    );
}

#[test]
fn unknown_proposal_types_are_rejected() {
    let remove = [0x00, 0x03, 0, 0, 0, 1];
    for value in [0u16, 0x000b, 0x0A0A, 0xF000, u16::MAX] {
        let mut bad = remove;
        bad[..2].copy_from_slice(&value.to_be_bytes());
        assert_eq!(
            Proposal::from_bytes(&bad),
            Err(invalid(CodeKind::ProposalType, value))
        );
    }
    // Inside a Commit and inside a PublicMessage.
    let commit = cat(&[&[0x07, 0x01, 0x0A, 0x0A, 0, 0, 0, 1], &[0]]);
    assert_eq!(
        Commit::from_bytes(&commit),
        Err(invalid(CodeKind::ProposalType, 0x0A0A))
    );
    let message = MlsMessage::PublicMessage(Box::new(public_message(
        Sender::Member(0),
        bodies().remove(1),
    )))
    .to_bytes()
    .unwrap();
    let at = 4 + 17 + 8 + 5 + 4 + 1;
    assert_eq!(&message[at..at + 2], [0, 3]);
    assert_eq!(
        MlsMessage::from_bytes(&patched(&message, at + 1, 0x0b)),
        Err(invalid(CodeKind::ProposalType, 0x0b))
    );
}

#[test]
fn unknown_proposal_or_ref_types_are_rejected() {
    for value in [0u8, 3, 255] {
        assert_eq!(
            ProposalOrRef::from_bytes(&[value, 0x02, 0xAB, 0xAB]),
            Err(invalid(CodeKind::ProposalOrRefType, u16::from(value)))
        );
    }
    assert_eq!(
        Commit::from_bytes(&[0x04, 0x00, 0x02, 0xAB, 0xAB, 0x00]),
        Err(invalid(CodeKind::ProposalOrRefType, 0))
    );
}

#[test]
fn unknown_credential_types_are_rejected() {
    // Multi-credentials (3, 4) are known with the `extensions` feature.
    #[cfg(not(feature = "extensions"))]
    let values = [0u16, 3, 4, 0x0A0A, 0xF000];
    #[cfg(feature = "extensions")]
    let values = [0u16, 5, 0x0A0A, 0xF000];
    for value in values {
        let mut bad = vec![0, 0, 0x01, b'a'];
        bad[..2].copy_from_slice(&value.to_be_bytes());
        assert_eq!(
            Credential::from_bytes(&bad),
            Err(invalid(CodeKind::CredentialType, value))
        );
    }
    let leaf = encode(&key_package_leaf()).unwrap();
    assert_eq!(&leaf[66..68], [0, 1]);
    assert_eq!(
        LeafNode::from_bytes(&patched(&leaf, 67, 7)),
        Err(invalid(CodeKind::CredentialType, 7))
    );
}

#[test]
fn optional_presence_octets_other_than_0_and_1_are_rejected() {
    let commit = commit(false).to_bytes().unwrap();
    let last = commit.len() - 1;
    for value in [2u8, 0x80, 255] {
        assert_eq!(
            Commit::from_bytes(&patched(&commit, last, value)),
            Err(CodecError::InvalidPresence(value))
        );
    }
    let secrets = group_secrets(true).to_bytes().unwrap();
    assert_eq!(secrets[33], 1);
    assert_eq!(
        GroupSecrets::from_bytes(&patched(&secrets, 33, 2)),
        Err(CodecError::InvalidPresence(2))
    );
    let tree = tree().to_bytes().unwrap();
    assert_eq!(tree[2], 1);
    assert_eq!(
        RatchetTree::from_bytes(&patched(&tree, 2, 2)),
        Err(CodecError::InvalidPresence(2))
    );
    // In a tree carried by a GroupInfo's ratchet_tree extension.
    let mut gi = group_info();
    let mut list = gi.extensions.clone().into_vec();
    list[0].extension_data.0[2] = 7;
    gi.extensions = Extensions::new(list).unwrap();
    assert_eq!(
        gi.extensions.typed::<RatchetTree>(),
        Err(CodecError::InvalidPresence(7))
    );
}

#[test]
fn duplicate_extension_types_are_rejected() {
    let twice = vec![
        Extension::new(ExtensionType(0x0A0A), vec![]),
        Extension::new(ExtensionType::EXTERNAL_PUB, vec![0]),
        Extension::new(ExtensionType(0x0A0A), vec![1]),
    ];
    assert_eq!(
        Extensions::new(twice.clone()),
        Err(CodecError::DuplicateExtension(0x0A0A))
    );
    let encoded = encode(&VarVec(twice)).unwrap();
    assert_eq!(
        Extensions::from_bytes(&encoded),
        Err(CodecError::DuplicateExtension(0x0A0A))
    );
    // In a KeyPackage's extensions inside an MLSMessage.
    let kp = messages()[4].to_bytes().unwrap();
    // Drop extensions<V> (1 byte, empty) and signature<V> (2 + 70).
    let without_tail = &kp[..kp.len() - 1 - 2 - 70];
    let bad = cat(&[without_tail, &encoded, &[0x40, 70], &[0x5F; 70]]);
    assert_eq!(
        MlsMessage::from_bytes(&bad),
        Err(CodecError::DuplicateExtension(0x0A0A))
    );
    crate::rules::assert_rule(
        MlsMessage::from_bytes(&bad),
        crate::rules::Rule::ExtensionsUnique,
    );
}

#[test]
fn ratchet_trees_must_end_non_blank_and_place_nodes_by_parity() {
    assert_eq!(RatchetTree::new(vec![]), Err(CodecError::TrailingBlankNode));
    assert_eq!(
        RatchetTree::from_bytes(&[0x00]),
        Err(CodecError::TrailingBlankNode)
    );
    let mut nodes = tree().into_nodes();
    nodes.push(None);
    assert_eq!(RatchetTree::new(nodes), Err(CodecError::TrailingBlankNode));
    let leaf_bytes = encode(&Node::leaf(commit_leaf())).unwrap();
    let parent_bytes = encode(&Node::parent(parent(&[]))).unwrap();
    let vector = |body: Vec<u8>| {
        let mut out = Vec::new();
        crate::codec::encode_varint(body.len(), &mut out).unwrap();
        out.extend_from_slice(&body);
        out
    };
    assert_eq!(
        RatchetTree::from_bytes(&vector(cat(&[&[1], &leaf_bytes, &[0]]))),
        Err(CodecError::TrailingBlankNode)
    );
    assert_eq!(
        RatchetTree::from_bytes(&vector(cat(&[
            &[1],
            &leaf_bytes,
            &[0],
            &[1],
            &parent_bytes
        ]))),
        Err(CodecError::MisplacedNode(2))
    );
    assert_eq!(
        RatchetTree::from_bytes(&vector(cat(&[&[1], &parent_bytes]))),
        Err(CodecError::MisplacedNode(0))
    );
    let a_leaf = Some(Node::leaf(commit_leaf()));
    let a_parent = Some(Node::parent(parent(&[])));
    assert_eq!(
        RatchetTree::new(vec![a_parent]),
        Err(CodecError::MisplacedNode(0))
    );
    assert_eq!(
        RatchetTree::new(vec![a_leaf.clone(), a_leaf.clone(), a_leaf]),
        Err(CodecError::MisplacedNode(1))
    );
}

#[test]
fn non_zero_padding_is_rejected() {
    let body = bodies().remove(0);
    let content = PrivateMessageContent {
        auth: auth(&body),
        body,
        padding: 4,
    };
    let mut plaintext = content.to_bytes().unwrap();
    let last = plaintext.len() - 1;
    plaintext[last] = 1;
    let err = PrivateMessageContent::from_bytes(ContentType::Application, &plaintext);
    assert_eq!(err, Err(CodecError::NonZeroPadding));
    assert_eq!(
        err.unwrap_err().rule(),
        Some(crate::rules::Rule::FramingPadding)
    );
    // Decoded with the wrong content type, the same plaintext does not parse as padding.
    plaintext[last] = 0;
    assert!(PrivateMessageContent::from_bytes(ContentType::Commit, &plaintext).is_err());
}

#[test]
fn conditional_fields_must_match_their_selectors_on_encode() {
    let mut message = public_message(Sender::Member(0), bodies().remove(0));
    message.membership_tag = None;
    assert_eq!(message.to_bytes(), Err(CodecError::FieldPresenceMismatch));
    let mut message = public_message(Sender::External(0), bodies().remove(1));
    message.membership_tag = Some(bytes(1, 32));
    assert_eq!(message.to_bytes(), Err(CodecError::FieldPresenceMismatch));
    assert_eq!(
        MlsMessage::PublicMessage(Box::new(message)).to_bytes(),
        Err(CodecError::FieldPresenceMismatch)
    );
    let mut message = public_message(Sender::Member(0), bodies().remove(2));
    message.auth.confirmation_tag = None;
    assert_eq!(message.to_bytes(), Err(CodecError::FieldPresenceMismatch));
    let mut message = public_message(Sender::Member(0), bodies().remove(1));
    message.auth.confirmation_tag = Some(bytes(1, 32));
    assert_eq!(message.to_bytes(), Err(CodecError::FieldPresenceMismatch));
    let body = bodies().remove(2);
    let content = PrivateMessageContent {
        auth: auth(&bodies()[0]),
        body,
        padding: 0,
    };
    assert_eq!(content.to_bytes(), Err(CodecError::FieldPresenceMismatch));
}

#[test]
fn decoding_reads_conditional_fields_exactly_when_selected() {
    // A non-member PublicMessage has no membership tag: appending one is trailing data.
    let message = public_message(Sender::NewMemberCommit, bodies().remove(2));
    let encoded = message.to_bytes().unwrap();
    let with_tag = cat(&[&encoded, &[0x20], &[0; 32]]);
    assert_eq!(
        PublicMessage::from_bytes(&with_tag),
        Err(CodecError::TrailingBytes { count: 33 })
    );
    // A member proposal without its membership tag is truncated.
    let message = public_message(Sender::Member(1), bodies().remove(1));
    let encoded = message.to_bytes().unwrap();
    assert_eq!(
        PublicMessage::from_bytes(&encoded[..encoded.len() - 33]),
        Err(CodecError::Truncated)
    );
}

#[test]
fn application_data_in_a_public_message_decodes_and_is_detectable() {
    let message = MlsMessage::PublicMessage(Box::new(public_message(
        Sender::Member(0),
        bodies().remove(0),
    )));
    let decoded = MlsMessage::from_bytes(&message.to_bytes().unwrap()).unwrap();
    match decoded {
        MlsMessage::PublicMessage(m) => assert!(m.carries_application_data()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn vector_bodies_must_be_filled_exactly() {
    // Commit.proposals<V> declares 7 bytes, but the Remove inside needs 6 + 1 (ProposalOrRef).
    assert_eq!(
        Commit::from_bytes(&[0x06, 0x01, 0x00, 0x03, 0, 0, 0, 1, 0]),
        Err(CodecError::VectorLengthMismatch)
    );
    // A non-minimal length header.
    assert_eq!(
        ExternalInit::from_bytes(&[0x40, 0x01, 0xAA]),
        Err(CodecError::NonMinimalVarint)
    );
    assert_eq!(
        ExternalInit::from_bytes(&[0xC0, 0, 0, 0, 0, 0, 0, 1, 0xAA]),
        Err(CodecError::ReservedVarintPrefix)
    );
}

#[test]
fn packed_ciphertexts_are_checked_on_decode_and_read_back_in_order() {
    let items = [ciphertext(1), ciphertext(3), ciphertext(5)];
    let packed = HpkeCiphertexts::new(&items).unwrap();
    let encoded = round_trip(&packed);
    // The same bytes as the plain vector of ciphertexts.
    assert_eq!(encoded, encode(&VarVec(items.to_vec())).unwrap());
    assert_eq!(packed.len(), 3);
    assert_eq!(packed.get(1), Some(ciphertext(3)));
    assert_eq!(packed.get(3), None);
    assert_eq!(packed.to_vec(), items);
    // An element running past the declared body: [len 3] [kem_output len 1, 0xAA] [ciphertext
    // len 5, but the body ends].
    assert_eq!(
        decode_err::<HpkeCiphertexts>(&[0x03, 0x01, 0xAA, 0x05]),
        CodecError::VectorLengthMismatch
    );
    // A non-minimal length inside an element.
    assert_eq!(
        decode_err::<HpkeCiphertexts>(&[0x04, 0x40, 0x01, 0xAA, 0x00]),
        CodecError::NonMinimalVarint
    );
    assert_eq!(
        decode_exact::<HpkeCiphertexts>(&[0x00]).unwrap(),
        HpkeCiphertexts::default()
    );
}
