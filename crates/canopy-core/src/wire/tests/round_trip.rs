//! Every wire struct encodes, decodes back to itself, and rejects trailing bytes and
//! truncation; a few small encodings are checked byte by byte against RFC 9420.

use super::*;

#[test]
fn credentials_round_trip_with_exact_bytes() {
    assert_eq!(
        round_trip(&basic(b"ab")),
        [0x00, 0x01, 0x02, b'a', b'b'],
        "basic: type 1, identity<V>"
    );
    let x = round_trip(&x509());
    // certificates<V>: (2 + 70) + (1 + 3) = 76 bytes, a two-byte header.
    assert_eq!(&x[..4], [0x00, 0x02, 0x40, 76]);
    assert_eq!(basic(b"").credential_type(), CredentialType::BASIC);
    assert_eq!(x509().credential_type(), CredentialType::X509);
}

#[test]
fn capabilities_carry_grease_and_unknown_values() {
    let caps = capabilities();
    let encoded = round_trip(&caps);
    // versions<V> = 2 entries of 2 bytes.
    assert_eq!(&encoded[..5], [0x04, 0x00, 0x01, 0x0A, 0x0A]);
    // cipher_suites<V> = 3 entries of 2 bytes, GREASE and private-use kept.
    assert_eq!(&encoded[5..12], [0x06, 0x00, 0x01, 0x1A, 0x1A, 0xF0, 0x0D]);
    assert!(caps.extensions.0[0].is_grease());
    assert!(!caps.extensions.0[1].is_grease());
    round_trip(&Capabilities::default());
}

#[test]
fn grease_values_are_recognised() {
    let grease: Vec<u16> = (0..=0xFFFFu16)
        .filter(|&v| ExtensionType(v).is_grease())
        .collect();
    assert_eq!(
        grease,
        [
            0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A, 0x8A8A, 0x9A9A, 0xAAAA,
            0xBABA, 0xCACA, 0xDADA, 0xEAEA
        ]
    );
}

#[test]
fn lifetime_is_two_u64s() {
    assert_eq!(
        round_trip(&lifetime()),
        [
            0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
        ]
    );
}

#[test]
fn extensions_round_trip_and_find() {
    let list = extensions();
    let encoded = round_trip(&list);
    assert_eq!(
        &encoded[..8],
        [0x09, 0x00, 0x01, 0x03, 0x02, 0xAB, 0xCD, 0x5A],
        "list<V>, then type 1 with data<V> = application_id<V>"
    );
    assert_eq!(list.len(), 2);
    assert!(!list.is_empty());
    assert_eq!(
        list.find(ExtensionType(0x5A5A)).unwrap().extension_data,
        VarBytes::default()
    );
    assert!(list.find(ExtensionType::RATCHET_TREE).is_none());
    assert_eq!(
        list.typed::<ApplicationId>().unwrap(),
        Some(ApplicationId {
            application_id: VarBytes(vec![0xAB, 0xCD])
        })
    );
    assert_eq!(list.typed::<ExternalPub>().unwrap(), None);
    assert_eq!(list.into_vec().len(), 2);
    assert_eq!(
        Extensions::from_bytes(&[0x00]).unwrap(),
        Extensions::default()
    );
}

#[test]
fn typed_extensions_round_trip_through_extension_data() {
    let gc = group_context();
    let required = gc
        .extensions
        .typed::<RequiredCapabilities>()
        .unwrap()
        .unwrap();
    assert_eq!(required.credential_types.0, [CredentialType::X509]);
    let senders = gc.extensions.typed::<ExternalSenders>().unwrap().unwrap();
    assert_eq!(senders.senders.0[0].credential, x509());
    let gi = group_info();
    assert_eq!(gi.extensions.typed::<RatchetTree>().unwrap(), Some(tree()));
    let external = gi.extensions.typed::<ExternalPub>().unwrap().unwrap();
    assert_eq!(external.external_pub.as_bytes(), [0x64; 32]);
    // A typed view rejects trailing bytes in extension_data.
    let mut ext = external.to_extension().unwrap();
    ext.extension_data.0.push(0);
    assert_eq!(
        ExternalPub::from_extension_data(ext.extension_data.as_slice()),
        Err(CodecError::TrailingBytes { count: 1 })
    );
}

#[test]
fn leaf_nodes_of_every_source_round_trip() {
    for source in [
        LeafNodeSource::KeyPackage(lifetime()),
        LeafNodeSource::Update,
        LeafNodeSource::Commit(bytes(0xAA, 32)),
    ] {
        let code = source.value();
        let leaf = leaf(source);
        let encoded = round_trip(&leaf);
        assert_eq!(LeafNode::from_bytes(&encoded).unwrap(), leaf);
        assert_eq!(leaf.to_bytes().unwrap(), encoded);
        // The source octet follows keys, credential and capabilities.
        let offset =
            33 + 33 + basic(b"alice").tls_serialized_len() + capabilities().tls_serialized_len();
        assert_eq!(encoded[offset], code);
    }
}

#[test]
fn key_package_round_trips() {
    let kp = key_package();
    let encoded = round_trip(&kp);
    assert_eq!(
        &encoded[..4],
        [0x00, 0x01, 0x00, 0x02],
        "version 1, suite 2"
    );
    assert_eq!(KeyPackage::from_bytes(&encoded).unwrap(), kp);
}

#[test]
fn tree_nodes_round_trip() {
    round_trip(&parent(&[]));
    round_trip(&parent(&[1, 2, 0xFFFF_FFFF]));
    let p = Node::parent(parent(&[]));
    assert_eq!(p.node_type(), NodeType::Parent);
    assert_eq!(round_trip(&p)[0], 2);
    let l = Node::leaf(commit_leaf());
    assert_eq!(l.node_type(), NodeType::Leaf);
    assert_eq!(round_trip(&l)[0], 1);
}

#[test]
fn ratchet_tree_round_trips_with_blanks() {
    let t = tree();
    let encoded = round_trip(&t);
    assert_eq!(t.nodes().len(), 5);
    // Node 2 and 3 are blank: presence octets 0.
    let leaf_len = Node::leaf(commit_leaf()).tls_serialized_len();
    let parent_len = Node::parent(parent(&[2])).tls_serialized_len();
    let body: usize = t
        .nodes()
        .map(|n| 1 + n.map_or(0, Size::tls_serialized_len))
        .sum();
    let header = encoded.len() - body;
    assert_eq!(header, 2);
    let blank_at = header + 1 + leaf_len + 1 + parent_len;
    assert_eq!(&encoded[blank_at..blank_at + 3], [0, 0, 1]);
    assert_eq!(t.into_nodes().len(), 5);
    // The single-leaf tree.
    round_trip(&RatchetTree::new(vec![Some(Node::leaf(key_package_leaf()))]).unwrap());
}

#[test]
fn update_path_and_ciphertexts_round_trip() {
    round_trip(&update_path());
    let ct = ciphertext(9);
    round_trip(&ct);
    let crypto: canopy_crypto::HpkeCiphertext = ct.clone().into();
    assert_eq!(crypto.kem_output, ct.kem_output.0);
    assert_eq!(HpkeCiphertext::from(crypto), ct);
}

#[test]
fn every_proposal_type_round_trips_with_and_without_its_type() {
    let expected_types = [1u16, 2, 3, 4, 4, 5, 6, 7];
    for (proposal, code) in proposals().into_iter().zip(expected_types) {
        assert_eq!(proposal.proposal_type(), ProposalType(code));
        let encoded = round_trip(&proposal);
        assert_eq!(encoded[..2], code.to_be_bytes());
        // The body alone decodes as its struct.
        let body = &encoded[2..];
        let same = match &proposal {
            Proposal::Add(p) => {
                Add::from_bytes(body).unwrap() == **p && p.to_bytes().unwrap() == body
            }
            Proposal::Update(p) => {
                Update::from_bytes(body).unwrap() == **p && p.to_bytes().unwrap() == body
            }
            Proposal::Remove(p) => {
                Remove::from_bytes(body).unwrap() == *p && p.to_bytes().unwrap() == body
            }
            Proposal::PreSharedKey(p) => {
                PreSharedKey::from_bytes(body).unwrap() == *p && p.to_bytes().unwrap() == body
            }
            Proposal::ReInit(p) => {
                ReInit::from_bytes(body).unwrap() == *p && p.to_bytes().unwrap() == body
            }
            Proposal::ExternalInit(p) => {
                ExternalInit::from_bytes(body).unwrap() == *p && p.to_bytes().unwrap() == body
            }
            Proposal::GroupContextExtensions(p) => {
                GroupContextExtensions::from_bytes(body).unwrap() == *p
                    && p.to_bytes().unwrap() == body
            }
            #[cfg(feature = "extensions")]
            Proposal::SelfRemove(_) => body.is_empty(),
            #[cfg(feature = "extensions")]
            Proposal::AppDataUpdate(_) | Proposal::AppEphemeral(_) => true,
        };
        assert!(same, "{proposal:?}");
        assert_eq!(Proposal::from_bytes(&encoded).unwrap(), proposal);
    }
}

/// draft-ietf-mls-extensions §AppDataUpdate, §AppEphemeral: the bodies' layout, both
/// operations, and an `invalid(0)` or unknown operation refused.
#[cfg(feature = "extensions")]
#[test]
fn app_data_update_and_app_ephemeral_round_trip_and_refuse_unknown_operations() {
    use crate::wire::{AppDataOp, AppDataUpdate, AppEphemeral};
    let cases = [
        (
            Proposal::AppDataUpdate(AppDataUpdate {
                component_id: 0x8001,
                op: AppDataOp::Update(VarBytes(b"hi".to_vec())),
            }),
            vec![0x00, 0x08, 0x80, 0x01, 0x01, 0x02, b'h', b'i'],
        ),
        (
            Proposal::AppDataUpdate(AppDataUpdate {
                component_id: 7,
                op: AppDataOp::Remove,
            }),
            vec![0x00, 0x08, 0x00, 0x07, 0x02],
        ),
        (
            Proposal::AppEphemeral(AppEphemeral {
                component_id: 5,
                data: VarBytes(vec![9]),
            }),
            vec![0x00, 0x09, 0x00, 0x05, 0x01, 9],
        ),
    ];
    for (proposal, bytes) in cases {
        assert_eq!(proposal.to_bytes().unwrap(), bytes);
        assert_eq!(Proposal::from_bytes(&bytes).unwrap(), proposal);
    }
    for op in [0u8, 3] {
        let err = Proposal::from_bytes(&[0x00, 0x08, 0x00, 0x07, op]).unwrap_err();
        assert!(
            matches!(
                err,
                CodecError::InvalidCode {
                    kind: crate::codec::CodeKind::AppDataUpdateOperation,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

/// draft-ietf-mls-extensions §SelfRemove: an empty body under either code point; with the
/// feature off neither code decodes.
#[test]
fn self_remove_is_its_proposal_type_alone() {
    for (code, bytes) in [(0x000au16, [0x00, 0x0a]), (0xf003, [0xf0, 0x03])] {
        let decoded = Proposal::from_bytes(&bytes);
        #[cfg(feature = "extensions")]
        {
            let proposal = decoded.unwrap();
            assert_eq!(proposal.proposal_type(), ProposalType(code));
            assert_eq!(proposal.to_bytes().unwrap(), bytes);
        }
        #[cfg(not(feature = "extensions"))]
        {
            assert!(decoded.is_err(), "0x{code:04x}");
        }
    }
}

#[test]
fn small_proposals_have_rfc_encodings() {
    assert_eq!(
        Proposal::Remove(Remove { removed: 2 }).to_bytes().unwrap(),
        [0x00, 0x03, 0x00, 0x00, 0x00, 0x02],
        "the Remove of message-protection.json"
    );
    assert_eq!(
        round_trip(&external_psk()),
        cat(&[&[0x01, 0x05], &[0x70; 5], &[0x20], &[0x71; 32]])
    );
    assert_eq!(
        round_trip(&resumption_psk(ResumptionPskUsage::Application)),
        cat(&[
            &[0x02, 0x01, 0x10],
            &[0x72; 16],
            &[1, 2, 3, 4, 5, 6, 7, 8],
            &[0x20],
            &[0x73; 32]
        ])
    );
    assert_eq!(external_psk().psk.psk_type(), PskType::External);
    assert_eq!(
        resumption_psk(ResumptionPskUsage::Reinit).psk.psk_type(),
        PskType::Resumption
    );
    assert_eq!(
        ProposalOrRef::Reference(bytes(0xAB, 2)).to_bytes().unwrap(),
        [0x02, 0x02, 0xAB, 0xAB]
    );
    assert_eq!(
        ProposalOrRef::Proposal(Proposal::Remove(Remove { removed: 0 }))
            .to_bytes()
            .unwrap(),
        [0x01, 0x00, 0x03, 0, 0, 0, 0]
    );
}

#[test]
fn commits_round_trip_with_and_without_path() {
    let with = round_trip(&commit(true));
    let without = round_trip(&commit(false));
    assert_eq!(*without.last().unwrap(), 0, "absent optional<UpdatePath>");
    assert_eq!(
        with.len(),
        without.len() + update_path().tls_serialized_len()
    );
    assert_eq!(
        Commit::from_bytes(&[0x00, 0x00]).unwrap(),
        Commit {
            proposals: VarVec(vec![]),
            path: None
        }
    );
}

#[test]
fn group_context_info_secrets_and_welcome_round_trip() {
    round_trip(&group_context());
    round_trip(&group_info());
    let with = round_trip(&group_secrets(true));
    let without = round_trip(&group_secrets(false));
    assert_eq!(with[33], 1);
    assert_eq!(without[33], 0);
    round_trip(&welcome());
}

#[test]
fn group_secrets_do_not_print_secrets() {
    let shown = format!("{:?}", group_secrets(true));
    assert!(
        !shown.contains("103"),
        "joiner_secret bytes (0x67) leaked: {shown}"
    );
    assert!(shown.contains("Secret(<32 bytes>)"), "{shown}");
}

#[test]
fn senders_have_rfc_encodings() {
    let expected: [&[u8]; 4] = [&[1, 0, 0, 0, 3], &[2, 0, 0, 0, 0], &[3], &[4]];
    for (sender, bytes) in senders().into_iter().zip(expected) {
        assert_eq!(round_trip(&sender), bytes);
        assert_eq!(sender.sender_type().value(), bytes[0]);
    }
}

#[test]
fn framed_content_of_every_sender_and_type_round_trips() {
    for sender in senders() {
        for body in bodies() {
            let content_type = body.content_type();
            let content = framed(sender, body.clone());
            assert_eq!(content.content_type(), content_type);
            let encoded = round_trip(&content);
            let at = 17 + 8 + sender.tls_serialized_len() + 4;
            assert_eq!(encoded[at], content_type.value());

            let message = public_message(sender, body.clone());
            let encoded = round_trip(&message);
            assert_eq!(
                message.carries_application_data(),
                content_type == ContentType::Application
            );
            let mls = MlsMessage::PublicMessage(Box::new(message.clone()));
            assert_eq!(mls.to_bytes().unwrap(), cat(&[&[0, 1, 0, 1], &encoded]));

            for wire_format in [WireFormat::PublicMessage, WireFormat::PrivateMessage] {
                let ac = AuthenticatedContent {
                    wire_format,
                    content: framed(sender, body.clone()),
                    auth: auth(&body),
                };
                round_trip(&ac);
            }
            assert_eq!(
                message.clone().into_authenticated_content().auth,
                auth(&body)
            );
        }
    }
}

#[test]
fn private_message_and_sender_data_round_trip() {
    let pm = private_message();
    let encoded = round_trip(&pm);
    assert_eq!(encoded[17 + 8], 3, "content_type commit");
    let sd = SenderData {
        leaf_index: 5,
        generation: 0x0102_0304,
        reuse_guard: [9, 8, 7, 6],
    };
    assert_eq!(round_trip(&sd), [0, 0, 0, 5, 1, 2, 3, 4, 9, 8, 7, 6]);
    let aad = SenderDataAad {
        group_id: bytes(1, 2),
        epoch: 3,
        content_type: ContentType::Application,
    };
    assert_eq!(round_trip(&aad), [2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 3, 1]);
    let aad = PrivateContentAad {
        group_id: bytes(1, 2),
        epoch: 3,
        content_type: ContentType::Proposal,
        authenticated_data: bytes(4, 1),
    };
    assert_eq!(round_trip(&aad), [2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 3, 2, 1, 4]);
}

#[test]
fn private_message_content_round_trips_with_padding() {
    for body in bodies() {
        for padding in [0, 1, 17] {
            let content = PrivateMessageContent {
                auth: auth(&body),
                body: body.clone(),
                padding,
            };
            let plaintext = content.to_bytes().unwrap();
            assert!(plaintext.ends_with(&vec![0; padding]));
            let back = PrivateMessageContent::from_bytes(body.content_type(), &plaintext).unwrap();
            assert_eq!(back, content);
        }
    }
}

#[test]
fn mls_messages_of_every_wire_format_round_trip() {
    for (message, format) in messages().into_iter().zip(1u16..) {
        assert_eq!(message.wire_format().value(), format);
        assert_eq!(message.version(), ProtocolVersion::MLS10);
        let encoded = round_trip(&message);
        assert_eq!(encoded[..4], [0, 1, 0, format as u8]);
        assert_eq!(MlsMessage::from_bytes(&encoded).unwrap(), message);
        assert_eq!(message.to_bytes().unwrap(), encoded);
    }
}

#[test]
fn closed_enums_map_values_both_ways() {
    for v in 0..=u8::MAX {
        assert_eq!(
            ContentType::from_value(v).map(ContentType::value),
            (1..=3).contains(&v).then_some(v)
        );
        assert_eq!(
            SenderType::from_value(v).map(SenderType::value),
            (1..=4).contains(&v).then_some(v)
        );
        assert_eq!(
            NodeType::from_value(v).map(NodeType::value),
            (1..=2).contains(&v).then_some(v)
        );
        assert_eq!(
            PskType::from_value(v).map(PskType::value),
            (1..=3).contains(&v).then_some(v)
        );
        assert_eq!(
            ResumptionPskUsage::from_value(v).map(ResumptionPskUsage::value),
            (1..=3).contains(&v).then_some(v)
        );
    }
    for v in 0..=u16::MAX {
        assert_eq!(
            WireFormat::from_value(v).map(WireFormat::value),
            (1..=5).contains(&v).then_some(v)
        );
    }
}

/// Decoding a large tree is one linear pass: 2^15 leaves (65,535 nodes, ~7 MB) decode and
/// re-encode in well under the test timeout even in a debug build.
#[test]
fn a_large_ratchet_tree_round_trips() {
    let leaf = Node::leaf(commit_leaf());
    let parent = Node::parent(parent(&[]));
    let nodes: Vec<Option<Node>> = (0..(1usize << 16) - 1)
        .map(|i| {
            Some(if i % 2 == 0 {
                leaf.clone()
            } else {
                parent.clone()
            })
        })
        .collect();
    let tree = RatchetTree::new(nodes).unwrap();
    let encoded = tree.to_bytes().unwrap();
    assert!(encoded.len() > 5_000_000, "{}", encoded.len());
    assert_eq!(RatchetTree::from_bytes(&encoded).unwrap(), tree);
}

#[test]
fn a_key_package_wraps_into_the_message_it_is_published_in() {
    let kp = key_package();
    let bytes = kp.to_message_bytes().unwrap();
    assert_eq!(bytes, MlsMessage::from(kp.clone()).to_bytes().unwrap());
    let MlsMessage::KeyPackage(back) = MlsMessage::from_bytes(&bytes).unwrap() else {
        panic!("not a KeyPackage message");
    };
    assert_eq!(*back, kp);
}
