//! The signature and MAC inputs built by the wire structs (LeafNodeTBS, KeyPackageTBS,
//! GroupInfoTBS, FramedContentTBS, AuthenticatedContentTBM, ConfirmedTranscriptHashInput):
//! their layout, and that real signatures and tags from the IETF vectors verify over them.

use canopy_crypto::{CryptoProvider, SuiteOps};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use serde_json::Value;

use super::vectors::{hex_field, load};
use super::*;
use crate::crypto::verify_with_label;

fn ops<'a>(provider: &'a RustCryptoProvider, case: &Value) -> &'a dyn SuiteOps {
    let suite = u16::try_from(case["cipher_suite"].as_u64().unwrap()).unwrap();
    provider.suite(CipherSuite(suite)).unwrap()
}

/// The encoding of a struct whose last field is `signature<V>`, without that field.
fn without_signature(encoded: &[u8], signature: &VarBytes) -> Vec<u8> {
    encoded[..encoded.len() - signature.tls_serialized_len()].to_vec()
}

#[test]
fn leaf_node_tbs_adds_group_context_only_for_update_and_commit() {
    for source in [
        LeafNodeSource::KeyPackage(lifetime()),
        LeafNodeSource::Update,
        LeafNodeSource::Commit(bytes(0xAA, 32)),
    ] {
        let leaf = leaf(source);
        let prefix = without_signature(&leaf.to_bytes().unwrap(), &leaf.signature);
        let tbs = leaf.tbs_bytes(b"group", 0x0102_0304).unwrap();
        match leaf.leaf_node_source {
            LeafNodeSource::KeyPackage(_) => assert_eq!(tbs, prefix),
            _ => assert_eq!(tbs, cat(&[&prefix, &[5], b"group", &[1, 2, 3, 4]])),
        }
    }
}

#[test]
fn key_package_and_group_info_tbs_are_everything_but_the_signature() {
    let kp = key_package();
    assert_eq!(
        kp.tbs_bytes().unwrap(),
        without_signature(&kp.to_bytes().unwrap(), &kp.signature)
    );
    let gi = group_info();
    assert_eq!(
        gi.tbs_bytes().unwrap(),
        without_signature(&gi.to_bytes().unwrap(), &gi.signature)
    );
}

#[test]
fn framed_content_tbs_takes_a_context_exactly_for_member_and_new_member_commit() {
    let gc = group_context();
    for sender in senders() {
        let content = framed(sender, bodies().remove(1));
        let needs = matches!(sender, Sender::Member(_) | Sender::NewMemberCommit);
        let head = cat(&[&[0, 1, 0, 2], &content.to_bytes().unwrap()]);
        let with = content.tbs_bytes(WireFormat::PrivateMessage, Some(&gc));
        let without = content.tbs_bytes(WireFormat::PrivateMessage, None);
        if needs {
            assert_eq!(with.unwrap(), cat(&[&head, &gc.to_bytes().unwrap()]));
            assert_eq!(without, Err(CodecError::FieldPresenceMismatch));
        } else {
            assert_eq!(without.unwrap(), head);
            assert_eq!(with, Err(CodecError::FieldPresenceMismatch));
        }
    }
}

#[test]
fn tbm_and_transcript_inputs_have_their_rfc_layout() {
    let gc = group_context();
    let message = public_message(Sender::Member(2), bodies().remove(2));
    let tbs = message
        .content
        .tbs_bytes(WireFormat::PublicMessage, Some(&gc))
        .unwrap();
    let signature = enc(&message.auth.signature);
    let tag = enc(message.auth.confirmation_tag.as_ref().unwrap());
    assert_eq!(
        message.tbm_bytes(&gc).unwrap(),
        cat(&[&tbs, &signature, &tag])
    );
    let external = public_message(Sender::External(0), bodies().remove(1));
    assert_eq!(
        external.tbm_bytes(&gc),
        Err(CodecError::FieldPresenceMismatch)
    );
    let ac = message.into_authenticated_content();
    assert_eq!(
        ac.confirmed_transcript_hash_input().unwrap(),
        cat(&[&[0, 1], &ac.content.to_bytes().unwrap(), &signature])
    );
}

/// The encoding of `value`.
fn enc<T: Serialize>(value: &T) -> Vec<u8> {
    encode(value).unwrap()
}

/// tree-validation.json: every leaf signature verifies over `LeafNode::tbs_bytes` with the
/// case's group id and the leaf's index.
#[test]
fn leaf_signatures_of_tree_validation_verify() {
    let provider = RustCryptoProvider::new();
    let mut verified = 0;
    for case in load("tree-validation.json") {
        let ops = ops(&provider, &case);
        let group_id = hex_field(&case, "group_id");
        let tree = RatchetTree::from_bytes(&hex_field(&case, "tree")).unwrap();
        for (index, node) in tree.nodes().enumerate() {
            let Some(Node::Leaf(leaf)) = node else {
                continue;
            };
            let leaf_index = u32::try_from(index / 2).unwrap();
            let tbs = leaf.tbs_bytes(&group_id, leaf_index).unwrap();
            verify_with_label(
                ops,
                &leaf.signature_key,
                b"LeafNodeTBS",
                &tbs,
                leaf.signature.as_slice(),
            )
            .unwrap_or_else(|e| panic!("leaf {leaf_index}: {e}"));
            verified += 1;
        }
    }
    assert_eq!(
        verified, 1127,
        "1008 commit-source and 119 key-package-source leaves"
    );
}

/// welcome.json: each KeyPackage's signature, and its leaf's, verify over the TBS helpers.
#[test]
fn key_package_signatures_of_welcome_verify() {
    let provider = RustCryptoProvider::new();
    for case in load("welcome.json") {
        let ops = ops(&provider, &case);
        let MlsMessage::KeyPackage(kp) =
            MlsMessage::from_bytes(&hex_field(&case, "key_package")).unwrap()
        else {
            panic!("not a key package")
        };
        let key = &kp.leaf_node.signature_key;
        verify_with_label(
            ops,
            key,
            b"KeyPackageTBS",
            &kp.tbs_bytes().unwrap(),
            kp.signature.as_slice(),
        )
        .unwrap();
        let leaf_tbs = kp
            .leaf_node
            .tbs_bytes(b"ignored for key packages", 9)
            .unwrap();
        verify_with_label(
            ops,
            key,
            b"LeafNodeTBS",
            &leaf_tbs,
            kp.leaf_node.signature.as_slice(),
        )
        .unwrap();
    }
}

/// message-protection.json: the PublicMessages' signatures verify over FramedContentTBS and
/// their membership tags are the MAC of AuthenticatedContentTBM.
#[test]
fn public_message_signatures_and_tags_of_message_protection_verify() {
    let provider = RustCryptoProvider::new();
    for case in load("message-protection.json") {
        let ops = ops(&provider, &case);
        let context = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: ops.suite(),
            group_id: VarBytes(hex_field(&case, "group_id")),
            epoch: case["epoch"].as_u64().unwrap(),
            tree_hash: VarBytes(hex_field(&case, "tree_hash")),
            confirmed_transcript_hash: VarBytes(hex_field(&case, "confirmed_transcript_hash")),
            extensions: Extensions::default(),
        };
        let key = SignaturePublicKey::new(hex_field(&case, "signature_pub"));
        let membership_key = hex_field(&case, "membership_key");
        for field in ["proposal_pub", "commit_pub"] {
            let MlsMessage::PublicMessage(m) =
                MlsMessage::from_bytes(&hex_field(&case, field)).unwrap()
            else {
                panic!("{field}: not a PublicMessage")
            };
            let tbs = m
                .content
                .tbs_bytes(WireFormat::PublicMessage, Some(&context))
                .unwrap();
            verify_with_label(
                ops,
                &key,
                b"FramedContentTBS",
                &tbs,
                m.auth.signature.as_slice(),
            )
            .unwrap_or_else(|e| panic!("{field}: {e}"));
            let tag = ops.mac(&membership_key, &m.tbm_bytes(&context).unwrap());
            assert_eq!(
                Some(tag.as_slice()),
                m.membership_tag.as_ref().map(VarBytes::as_slice),
                "{field}"
            );
        }
        let proposal = Proposal::from_bytes(&hex_field(&case, "proposal")).unwrap();
        assert_eq!(proposal, Proposal::Remove(Remove { removed: 2 }));
    }
}

/// transcript-hashes.json: `confirmed = Hash(interim_before || ConfirmedTranscriptHashInput)`.
#[test]
fn confirmed_transcript_hash_inputs_of_transcript_hashes_match() {
    let provider = RustCryptoProvider::new();
    for case in load("transcript-hashes.json") {
        let ops = ops(&provider, &case);
        let ac =
            AuthenticatedContent::from_bytes(&hex_field(&case, "authenticated_content")).unwrap();
        assert_eq!(ac.wire_format, WireFormat::PublicMessage);
        let input = ac.confirmed_transcript_hash_input().unwrap();
        let interim = hex_field(&case, "interim_transcript_hash_before");
        let confirmed = ops.hash_parts(&[&interim, &input]);
        assert_eq!(
            confirmed,
            hex_field(&case, "confirmed_transcript_hash_after")
        );
        let tag = ac.auth.confirmation_tag.as_ref().unwrap();
        assert_eq!(
            ops.mac(&hex_field(&case, "confirmation_key"), &confirmed),
            tag.as_slice()
        );
    }
}
