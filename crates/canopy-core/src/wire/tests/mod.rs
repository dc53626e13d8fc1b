//! Tests for the wire module (RFC 9420 §5-§13 structs): sample builders shared by the
//! round-trip, rejection, signature-input, vector and property tests.
#![allow(
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: panics are test failures"
)]

mod props;
mod rejects;
mod round_trip;
mod tbs;
mod vectors;

use std::fmt::Debug;

use canopy_crypto::{CipherSuite, HpkePublicKey, Secret, SignaturePublicKey};
use tls_codec::{DeserializeBytes, Serialize, Size};

use super::*;
use crate::codec::{CodecError, VarBytes, VarVec, decode_exact, encode};

/// `len` bytes of value `fill`.
fn bytes(fill: u8, len: usize) -> VarBytes {
    VarBytes(vec![fill; len])
}

fn basic(identity: &[u8]) -> Credential {
    Credential::Basic {
        identity: VarBytes(identity.to_vec()),
    }
}

fn x509() -> Credential {
    Credential::X509 {
        certificates: VarVec(vec![
            Certificate {
                cert_data: bytes(0x30, 70),
            },
            Certificate {
                cert_data: bytes(0x31, 3),
            },
        ]),
    }
}

/// Capabilities with GREASE and unknown values in every list.
fn capabilities() -> Capabilities {
    Capabilities {
        versions: VarVec(vec![ProtocolVersion::MLS10, ProtocolVersion(0x0A0A)]),
        cipher_suites: vec![
            CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
            CipherSuite(0x1A1A),
            CipherSuite(0xF00D),
        ],
        extensions: VarVec(vec![ExtensionType(0x2A2A), ExtensionType(0xFF00)]),
        proposals: VarVec(vec![ProposalType(0x3A3A)]),
        credentials: VarVec(vec![CredentialType::BASIC, CredentialType(0x4A4A)]),
    }
}

fn extensions() -> Extensions {
    Extensions::new(vec![
        Extension::new(ExtensionType::APPLICATION_ID, vec![2, 0xAB, 0xCD]),
        Extension::new(ExtensionType(0x5A5A), vec![]),
    ])
    .unwrap()
}

fn leaf(source: LeafNodeSource) -> LeafNode {
    LeafNode {
        encryption_key: HpkePublicKey::new(vec![0xE1; 32]),
        signature_key: SignaturePublicKey::new(vec![0x51; 32]),
        credential: basic(b"alice"),
        capabilities: capabilities(),
        leaf_node_source: source,
        extensions: extensions(),
        signature: bytes(0x5E, 64),
    }
}

fn lifetime() -> Lifetime {
    Lifetime {
        not_before: 1,
        not_after: u64::MAX,
    }
}

fn key_package_leaf() -> LeafNode {
    leaf(LeafNodeSource::KeyPackage(lifetime()))
}

fn commit_leaf() -> LeafNode {
    leaf(LeafNodeSource::Commit(bytes(0xAA, 32)))
}

fn key_package() -> KeyPackage {
    KeyPackage {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
        init_key: HpkePublicKey::new(vec![0x11; 65]),
        leaf_node: key_package_leaf(),
        extensions: Extensions::default(),
        signature: bytes(0x5F, 70),
    }
}

fn parent(unmerged: &[u32]) -> ParentNode {
    ParentNode {
        encryption_key: HpkePublicKey::new(vec![0xBB; 32]),
        parent_hash: bytes(0xCC, 32),
        unmerged_leaves: VarVec(unmerged.to_vec()),
    }
}

/// Leaves 0, 1 and 2 of a four-leaf tree, with a blank leaf 1 and a parent at node 1.
fn tree() -> RatchetTree {
    RatchetTree::new(vec![
        Some(Node::leaf(commit_leaf())),
        Some(Node::parent(parent(&[2]))),
        None,
        None,
        Some(Node::leaf(key_package_leaf())),
    ])
    .unwrap()
}

fn ciphertext(fill: u8) -> HpkeCiphertext {
    HpkeCiphertext {
        kem_output: bytes(fill, 32),
        ciphertext: bytes(fill.wrapping_add(1), 48),
    }
}

fn update_path() -> UpdatePath {
    UpdatePath {
        leaf_node: commit_leaf(),
        nodes: VarVec(vec![
            UpdatePathNode {
                encryption_key: HpkePublicKey::new(vec![0x21; 32]),
                encrypted_path_secret: HpkeCiphertexts::new(&[ciphertext(1), ciphertext(3)])
                    .unwrap(),
            },
            UpdatePathNode {
                encryption_key: HpkePublicKey::new(vec![0x22; 32]),
                encrypted_path_secret: HpkeCiphertexts::default(),
            },
        ]),
    }
}

fn external_psk() -> PreSharedKeyId {
    PreSharedKeyId {
        psk: Psk::External {
            psk_id: bytes(0x70, 5),
        },
        psk_nonce: bytes(0x71, 32),
    }
}

fn resumption_psk(usage: ResumptionPskUsage) -> PreSharedKeyId {
    PreSharedKeyId {
        psk: Psk::Resumption {
            usage,
            psk_group_id: bytes(0x72, 16),
            psk_epoch: 0x0102_0304_0506_0708,
        },
        psk_nonce: bytes(0x73, 32),
    }
}

/// One proposal of each type (and both PSK types).
fn proposals() -> Vec<Proposal> {
    vec![
        Proposal::Add(Box::new(Add {
            key_package: key_package(),
        })),
        Proposal::Update(Box::new(Update {
            leaf_node: leaf(LeafNodeSource::Update),
        })),
        Proposal::Remove(Remove { removed: 7 }),
        Proposal::PreSharedKey(PreSharedKey {
            psk: external_psk(),
        }),
        Proposal::PreSharedKey(PreSharedKey {
            psk: resumption_psk(ResumptionPskUsage::Branch),
        }),
        Proposal::ReInit(ReInit {
            group_id: bytes(0x90, 16),
            version: ProtocolVersion(2),
            cipher_suite: CipherSuite::MLS_256_DHKEMX448_AES256GCM_SHA512_ED448,
            extensions: extensions(),
        }),
        Proposal::ExternalInit(ExternalInit {
            kem_output: bytes(0x91, 32),
        }),
        Proposal::GroupContextExtensions(GroupContextExtensions::default()),
    ]
}

fn commit(with_path: bool) -> Commit {
    let mut list: Vec<ProposalOrRef> = proposals()
        .into_iter()
        .map(ProposalOrRef::Proposal)
        .collect();
    list.push(ProposalOrRef::Reference(bytes(0x99, 32)));
    Commit {
        proposals: VarVec(list),
        path: with_path.then(update_path),
    }
}

fn group_context() -> GroupContext {
    GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        group_id: bytes(0x61, 16),
        epoch: 42,
        tree_hash: bytes(0x62, 32),
        confirmed_transcript_hash: bytes(0x63, 32),
        extensions: Extensions::new(vec![
            RequiredCapabilities {
                extension_types: VarVec(vec![ExtensionType(0xF001)]),
                proposal_types: VarVec(vec![]),
                credential_types: VarVec(vec![CredentialType::X509]),
            }
            .to_extension()
            .unwrap(),
            ExternalSenders {
                senders: VarVec(vec![ExternalSender {
                    signature_key: SignaturePublicKey::new(vec![0x52; 32]),
                    credential: x509(),
                }]),
            }
            .to_extension()
            .unwrap(),
        ])
        .unwrap(),
    }
}

fn group_info() -> GroupInfo {
    GroupInfo {
        group_context: group_context(),
        extensions: Extensions::new(vec![
            tree().to_extension().unwrap(),
            ExternalPub {
                external_pub: HpkePublicKey::new(vec![0x64; 32]),
            }
            .to_extension()
            .unwrap(),
        ])
        .unwrap(),
        confirmation_tag: bytes(0x65, 32),
        signer: 3,
        signature: bytes(0x66, 64),
    }
}

fn group_secrets(with_path: bool) -> GroupSecrets {
    GroupSecrets {
        joiner_secret: Secret::new(vec![0x67; 32]),
        path_secret: with_path.then(|| PathSecret {
            path_secret: Secret::new(vec![0x68; 32]),
        }),
        psks: VarVec(vec![
            external_psk(),
            resumption_psk(ResumptionPskUsage::Reinit),
        ]),
    }
}

fn welcome() -> Welcome {
    Welcome {
        cipher_suite: CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519,
        secrets: VarVec(vec![
            EncryptedGroupSecrets {
                new_member: bytes(0x69, 32),
                encrypted_group_secrets: ciphertext(5),
            },
            EncryptedGroupSecrets {
                new_member: bytes(0x6A, 32),
                encrypted_group_secrets: ciphertext(7),
            },
        ]),
        encrypted_group_info: bytes(0x6B, 300),
    }
}

fn framed(sender: Sender, body: FramedContentBody) -> FramedContent {
    FramedContent {
        group_id: bytes(0x61, 16),
        epoch: 42,
        sender,
        authenticated_data: bytes(0x6C, 3),
        body,
    }
}

/// Auth data with a confirmation tag exactly for commits.
fn auth(body: &FramedContentBody) -> FramedContentAuthData {
    FramedContentAuthData {
        signature: bytes(0x6D, 64),
        confirmation_tag: matches!(body, FramedContentBody::Commit(_)).then(|| bytes(0x6E, 32)),
    }
}

/// A PublicMessage with a membership tag exactly for member senders.
fn public_message(sender: Sender, body: FramedContentBody) -> PublicMessage {
    PublicMessage {
        auth: auth(&body),
        membership_tag: matches!(sender, Sender::Member(_)).then(|| bytes(0x6F, 32)),
        content: framed(sender, body),
    }
}

fn bodies() -> Vec<FramedContentBody> {
    vec![
        FramedContentBody::Application(bytes(0x41, 10)),
        FramedContentBody::Proposal(Proposal::Remove(Remove { removed: 1 })),
        FramedContentBody::Commit(Box::new(commit(true))),
    ]
}

fn senders() -> [Sender; 4] {
    [
        Sender::Member(3),
        Sender::External(0),
        Sender::NewMemberProposal,
        Sender::NewMemberCommit,
    ]
}

fn private_message() -> PrivateMessage {
    PrivateMessage {
        group_id: bytes(0x61, 16),
        epoch: 42,
        content_type: ContentType::Commit,
        authenticated_data: bytes(0x6C, 0),
        encrypted_sender_data: bytes(0x42, 28),
        ciphertext: bytes(0x43, 200),
    }
}

/// One MLSMessage of each wire format.
fn messages() -> Vec<MlsMessage> {
    vec![
        MlsMessage::PublicMessage(Box::new(public_message(
            Sender::Member(1),
            FramedContentBody::Commit(Box::new(commit(false))),
        ))),
        MlsMessage::PrivateMessage(private_message()),
        MlsMessage::Welcome(welcome()),
        MlsMessage::GroupInfo(Box::new(group_info())),
        MlsMessage::KeyPackage(Box::new(key_package())),
    ]
}

/// Encodes `value`, checks its size, decodes it back, and checks that a trailing byte and
/// every truncation are rejected. Returns the encoding.
fn round_trip<T>(value: &T) -> Vec<u8>
where
    T: Debug + PartialEq + Serialize + DeserializeBytes,
{
    let encoded = encode(value).unwrap();
    assert_eq!(value.tls_serialized_len(), encoded.len(), "{value:?}");
    let back: T = decode_exact(&encoded).unwrap();
    assert_eq!(&back, value);
    let mut longer = encoded.clone();
    longer.push(0);
    assert_eq!(
        decode_exact::<T>(&longer),
        Err(CodecError::TrailingBytes { count: 1 })
    );
    for cut in 0..encoded.len() {
        assert!(
            decode_exact::<T>(&encoded[..cut]).is_err(),
            "prefix of {cut} bytes decoded"
        );
    }
    encoded
}

/// The error decoding `bytes` as a `T` fails with.
fn decode_err<T: Debug + DeserializeBytes>(bytes: &[u8]) -> CodecError {
    decode_exact::<T>(bytes).unwrap_err()
}

/// Concatenates byte strings.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}
