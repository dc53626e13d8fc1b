//! Property tests: arbitrary and mutated bytes never make a decoder panic, anything that
//! decodes re-encodes to the same bytes, and generated values round-trip.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::*;

/// Decodes `bytes` as a `T`; if that succeeds, the re-encoding must be `bytes`.
fn check<T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    T: Debug + Serialize + DeserializeBytes,
{
    let _ = T::tls_deserialize_bytes(bytes);
    if let Ok(value) = decode_exact::<T>(bytes) {
        prop_assert_eq!(encode(&value).unwrap(), bytes, "{:?}", value);
    }
    Ok(())
}

/// Runs [`check`] for every top-level decoder.
fn check_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(m) = MlsMessage::from_bytes(bytes) {
        prop_assert_eq!(m.to_bytes().unwrap(), bytes);
    }
    // The decoder that also returns a PublicMessage's content bytes agrees with the plain
    // one, and those bytes are exactly the content's encoding.
    match (
        MlsMessage::from_bytes(bytes),
        MlsMessage::from_bytes_with_content(bytes),
    ) {
        (Ok(plain), Ok((with, content))) => {
            prop_assert_eq!(&plain, &with);
            match (&with, content) {
                (MlsMessage::PublicMessage(m), Some(content)) => {
                    prop_assert_eq!(encode(&m.content).unwrap(), content);
                }
                (MlsMessage::PublicMessage(_), None) => prop_assert!(false, "no content bytes"),
                (_, content) => prop_assert!(content.is_none()),
            }
        }
        (Err(a), Err(b)) => prop_assert_eq!(a, b),
        (a, b) => prop_assert!(false, "decoders disagree: {:?} / {:?}", a, b),
    }
    check::<MlsMessage>(bytes)?;
    check::<RatchetTree>(bytes)?;
    check::<KeyPackage>(bytes)?;
    check::<GroupInfo>(bytes)?;
    check::<Welcome>(bytes)?;
    check::<GroupSecrets>(bytes)?;
    check::<Commit>(bytes)?;
    check::<Proposal>(bytes)?;
    check::<ProposalOrRef>(bytes)?;
    check::<LeafNode>(bytes)?;
    check::<UpdatePath>(bytes)?;
    check::<AuthenticatedContent>(bytes)?;
    check::<PublicMessage>(bytes)?;
    check::<Extensions>(bytes)?;
    for content_type in [
        ContentType::Application,
        ContentType::Proposal,
        ContentType::Commit,
    ] {
        if let Ok(c) = PrivateMessageContent::from_bytes(content_type, bytes) {
            prop_assert_eq!(c.to_bytes().unwrap(), bytes);
        }
    }
    Ok(())
}

/// Valid encodings to mutate: one message of each wire format and the inner structs.
fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = messages().iter().map(|m| m.to_bytes().unwrap()).collect();
    out.push(tree().to_bytes().unwrap());
    out.push(commit(true).to_bytes().unwrap());
    out.push(group_secrets(true).to_bytes().unwrap());
    out.extend(proposals().iter().map(|p| p.to_bytes().unwrap()));
    for sender in senders() {
        for body in bodies() {
            let m = MlsMessage::PublicMessage(Box::new(public_message(sender, body)));
            out.push(m.to_bytes().unwrap());
        }
    }
    out
}

/// A valid encoding with one edit: a byte replaced, a byte inserted, or a cut.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds();
    let count = seeds.len();
    (0..count, any::<prop::sample::Index>(), any::<u8>(), 0u8..3).prop_map(
        move |(which, at, value, edit)| {
            let mut bytes = seeds[which].clone();
            let i = at.index(bytes.len());
            match edit {
                0 => bytes[i] = value,
                1 => bytes.insert(i, value),
                _ => bytes.truncate(i),
            }
            bytes
        },
    )
}

/// Random bytes, biased towards plausible MLSMessage headers and small lengths.
fn random_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..96),
        (1u8..=5, vec(any::<u8>(), 0..96))
            .prop_map(|(format, rest)| cat(&[&[0, 1, 0, format], &rest])),
        vec(
            prop_oneof![Just(0u8), Just(1), Just(2), Just(3), any::<u8>()],
            0..96
        ),
    ]
}

fn var_bytes() -> impl Strategy<Value = VarBytes> {
    prop_oneof![vec(any::<u8>(), 0..4), vec(any::<u8>(), 60..70)].prop_map(VarBytes)
}

fn credential() -> impl Strategy<Value = Credential> {
    prop_oneof![
        var_bytes().prop_map(|identity| Credential::Basic { identity }),
        vec(var_bytes(), 0..3).prop_map(|certs| Credential::X509 {
            certificates: VarVec(
                certs
                    .into_iter()
                    .map(|cert_data| Certificate { cert_data })
                    .collect()
            ),
        }),
    ]
}

fn capabilities_strategy() -> impl Strategy<Value = Capabilities> {
    (
        vec(any::<u16>(), 0..3),
        vec(any::<u16>(), 0..3),
        vec(any::<u16>(), 0..3),
        vec(any::<u16>(), 0..3),
        vec(any::<u16>(), 0..3),
    )
        .prop_map(|(v, c, e, p, k)| Capabilities {
            versions: VarVec(v.into_iter().map(ProtocolVersion).collect()),
            cipher_suites: c.into_iter().map(CipherSuite).collect(),
            extensions: VarVec(e.into_iter().map(ExtensionType).collect()),
            proposals: VarVec(p.into_iter().map(ProposalType).collect()),
            credentials: VarVec(k.into_iter().map(CredentialType).collect()),
        })
}

fn extensions_strategy() -> impl Strategy<Value = Extensions> {
    proptest::collection::btree_map(any::<u16>(), var_bytes(), 0..3).prop_map(|map| {
        Extensions::new(
            map.into_iter()
                .map(|(t, d)| Extension::new(ExtensionType(t), d.0))
                .collect(),
        )
        .unwrap()
    })
}

fn leaf_strategy() -> impl Strategy<Value = LeafNode> {
    let source = prop_oneof![
        (any::<u64>(), any::<u64>()).prop_map(|(not_before, not_after)| {
            LeafNodeSource::KeyPackage(Lifetime {
                not_before,
                not_after,
            })
        }),
        Just(LeafNodeSource::Update),
        var_bytes().prop_map(LeafNodeSource::Commit),
    ];
    (
        var_bytes(),
        var_bytes(),
        credential(),
        capabilities_strategy(),
        source,
        extensions_strategy(),
        var_bytes(),
    )
        .prop_map(
            |(e, s, credential, capabilities, leaf_node_source, extensions, signature)| LeafNode {
                encryption_key: HpkePublicKey::new(e.0),
                signature_key: SignaturePublicKey::new(s.0),
                credential,
                capabilities,
                leaf_node_source,
                extensions,
                signature,
            },
        )
}

fn key_package_strategy() -> impl Strategy<Value = KeyPackage> {
    (
        any::<u16>(),
        any::<u16>(),
        var_bytes(),
        leaf_strategy(),
        extensions_strategy(),
        var_bytes(),
    )
        .prop_map(
            |(v, c, init, leaf_node, extensions, signature)| KeyPackage {
                version: ProtocolVersion(v),
                cipher_suite: CipherSuite(c),
                init_key: HpkePublicKey::new(init.0),
                leaf_node,
                extensions,
                signature,
            },
        )
}

fn psk_strategy() -> impl Strategy<Value = PreSharedKeyId> {
    let usage = prop_oneof![
        Just(ResumptionPskUsage::Application),
        Just(ResumptionPskUsage::Reinit),
        Just(ResumptionPskUsage::Branch),
    ];
    let psk = prop_oneof![
        var_bytes().prop_map(|psk_id| Psk::External { psk_id }),
        (usage, var_bytes(), any::<u64>()).prop_map(|(usage, psk_group_id, psk_epoch)| {
            Psk::Resumption {
                usage,
                psk_group_id,
                psk_epoch,
            }
        }),
    ];
    (psk, var_bytes()).prop_map(|(psk, psk_nonce)| PreSharedKeyId { psk, psk_nonce })
}

fn proposal_strategy() -> impl Strategy<Value = Proposal> {
    prop_oneof![
        key_package_strategy().prop_map(|key_package| Proposal::Add(Box::new(Add { key_package }))),
        leaf_strategy().prop_map(|leaf_node| Proposal::Update(Box::new(Update { leaf_node }))),
        any::<u32>().prop_map(|removed| Proposal::Remove(Remove { removed })),
        psk_strategy().prop_map(|psk| Proposal::PreSharedKey(PreSharedKey { psk })),
        (
            var_bytes(),
            any::<u16>(),
            any::<u16>(),
            extensions_strategy()
        )
            .prop_map(|(group_id, v, c, extensions)| Proposal::ReInit(ReInit {
                group_id,
                version: ProtocolVersion(v),
                cipher_suite: CipherSuite(c),
                extensions,
            })),
        var_bytes().prop_map(|kem_output| Proposal::ExternalInit(ExternalInit { kem_output })),
        extensions_strategy().prop_map(|extensions| Proposal::GroupContextExtensions(
            GroupContextExtensions { extensions }
        )),
    ]
}

fn update_path_strategy() -> impl Strategy<Value = UpdatePath> {
    let node = (var_bytes(), vec((var_bytes(), var_bytes()), 0..3)).prop_map(|(key, cts)| {
        UpdatePathNode {
            encryption_key: HpkePublicKey::new(key.0),
            encrypted_path_secret: HpkeCiphertexts::new(
                &cts.into_iter()
                    .map(|(kem_output, ciphertext)| HpkeCiphertext {
                        kem_output,
                        ciphertext,
                    })
                    .collect::<Vec<_>>(),
            )
            .unwrap(),
        }
    });
    (leaf_strategy(), vec(node, 0..3)).prop_map(|(leaf_node, nodes)| UpdatePath {
        leaf_node,
        nodes: VarVec(nodes),
    })
}

fn commit_strategy() -> impl Strategy<Value = Commit> {
    let por = prop_oneof![
        proposal_strategy().prop_map(ProposalOrRef::Proposal),
        var_bytes().prop_map(ProposalOrRef::Reference),
    ];
    (vec(por, 0..3), option::of(update_path_strategy())).prop_map(|(proposals, path)| Commit {
        proposals: VarVec(proposals),
        path,
    })
}

fn public_message_strategy() -> impl Strategy<Value = MlsMessage> {
    let sender = prop_oneof![
        any::<u32>().prop_map(Sender::Member),
        any::<u32>().prop_map(Sender::External),
        Just(Sender::NewMemberProposal),
        Just(Sender::NewMemberCommit),
    ];
    let body = prop_oneof![
        var_bytes().prop_map(FramedContentBody::Application),
        proposal_strategy().prop_map(FramedContentBody::Proposal),
        commit_strategy().prop_map(|c| FramedContentBody::Commit(Box::new(c))),
    ];
    (sender, body, var_bytes(), var_bytes(), any::<u64>()).prop_map(
        |(sender, body, tag, group_id, epoch)| {
            let mut m = public_message(sender, body);
            m.content.group_id = group_id;
            m.content.epoch = epoch;
            if m.membership_tag.is_some() {
                m.membership_tag = Some(tag);
            }
            MlsMessage::PublicMessage(Box::new(m))
        },
    )
}

fn tree_strategy() -> impl Strategy<Value = RatchetTree> {
    let parent = (var_bytes(), var_bytes(), vec(any::<u32>(), 0..3)).prop_map(|(k, h, u)| {
        Node::parent(ParentNode {
            encryption_key: HpkePublicKey::new(k.0),
            parent_hash: h,
            unmerged_leaves: VarVec(u),
        })
    });
    (
        vec(option::of(parent), 0..4),
        vec(option::of(leaf_strategy()), 0..4),
        leaf_strategy(),
    )
        .prop_map(|(parents, leaves, last)| {
            let mut nodes = Vec::new();
            for (leaf, parent) in leaves.into_iter().zip(parents) {
                nodes.push(leaf.map(Node::leaf));
                nodes.push(parent);
            }
            nodes.push(Some(Node::leaf(last)));
            RatchetTree::new(nodes).unwrap()
        })
}

/// `value` encodes, decodes back to itself, and its encoding passes [`check_all`].
fn generated<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Debug + PartialEq + Serialize + DeserializeBytes,
{
    let bytes = encode(value).unwrap();
    prop_assert_eq!(value.tls_serialized_len(), bytes.len());
    prop_assert_eq!(&decode_exact::<T>(&bytes).unwrap(), value);
    check_all(&bytes)
}

proptest! {
    #[test]
    fn prop_random_bytes_never_panic_and_re_encode(bytes in random_bytes()) {
        check_all(&bytes)?;
    }

    #[test]
    fn prop_mutated_messages_never_panic_and_re_encode(bytes in mutated()) {
        check_all(&bytes)?;
    }

    #[test]
    fn prop_generated_key_packages_round_trip(kp in key_package_strategy()) {
        generated(&kp)?;
        generated(&MlsMessage::KeyPackage(Box::new(kp)))?;
    }

    #[test]
    fn prop_generated_proposals_round_trip(p in proposal_strategy()) {
        generated(&p)?;
    }

    #[test]
    fn prop_generated_commits_round_trip(c in commit_strategy()) {
        generated(&c)?;
    }

    #[test]
    fn prop_generated_public_messages_round_trip(m in public_message_strategy()) {
        generated(&m)?;
    }

    #[test]
    fn prop_generated_trees_round_trip(t in tree_strategy()) {
        generated(&t)?;
    }

    #[test]
    fn prop_generated_group_secrets_round_trip(
        joiner in var_bytes(),
        path in option::of(var_bytes()),
        psks in vec(psk_strategy(), 0..3),
    ) {
        let secrets = GroupSecrets {
            joiner_secret: Secret::new(joiner.0),
            path_secret: path.map(|p| PathSecret { path_secret: Secret::new(p.0) }),
            psks: VarVec(psks),
        };
        generated(&secrets)?;
    }
}
