use canopy_crypto::{CipherSuite, CryptoProvider, HpkeKeyPair, Secret, SuiteOps};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use super::*;
use crate::codec::VarBytes;
use crate::schedule::{JoinerSecrets, confirmation_tag};
use crate::wire::{
    Extensions, GroupContext, GroupInfo, PreSharedKeyId, ProtocolVersion, Psk, Welcome,
};

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

struct Fixture {
    provider: RustCryptoProvider,
}

impl Fixture {
    fn ops(&self) -> &dyn SuiteOps {
        self.provider.suite(SUITE).unwrap()
    }
}

fn psk_id(n: u8) -> PreSharedKeyId {
    PreSharedKeyId {
        psk: Psk::External {
            psk_id: VarBytes(vec![n; 4]),
        },
        psk_nonce: VarBytes(vec![n; 32]),
    }
}

/// A GroupInfo with a correct confirmation tag for `joiner`, signed by leaf 0.
fn group_info(
    ops: &dyn SuiteOps,
    joiner: &JoinerSecrets,
    signer: &canopy_crypto::SignatureKeyPair,
) -> GroupInfo {
    let context = GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: SUITE,
        group_id: VarBytes(b"group".to_vec()),
        epoch: 3,
        tree_hash: VarBytes(vec![1; 32]),
        confirmed_transcript_hash: VarBytes(vec![2; 32]),
        extensions: Extensions::default(),
    };
    let secrets = joiner
        .epoch_secrets(ops, &context.to_bytes().unwrap())
        .unwrap();
    let tag = confirmation_tag(
        ops,
        &secrets.confirmation_key,
        context.confirmed_transcript_hash.as_slice(),
    );
    sign_group_info(ops, context, Extensions::default(), tag, 0, &signer).unwrap()
}

struct Sealed {
    welcome: Welcome,
    members: Vec<(Vec<u8>, HpkeKeyPair)>,
    psks: Vec<Secret>,
    signer: canopy_crypto::SignatureKeyPair,
    joiner: JoinerSecrets,
}

fn seal(f: &Fixture, recipients: usize, psk_count: u8) -> Sealed {
    let ops = f.ops();
    let ids: Vec<_> = (0..psk_count).map(psk_id).collect();
    let psks: Vec<_> = (0..psk_count)
        .map(|n| Secret::from_slice(&[n + 100; 32]))
        .collect();
    let psk_secret = psk_secret_of(ops, &ids, &psks).unwrap();
    let joiner = JoinerSecrets::from_joiner_secret(ops, Secret::from_slice(&[7; 32]), &psk_secret);
    let signer = ops.signature_generate_key_pair().unwrap();
    let info = group_info(ops, &joiner, &signer);
    let members: Vec<(Vec<u8>, HpkeKeyPair)> = (0..recipients)
        .map(|i| {
            (
                vec![u8::try_from(i).unwrap(); 32],
                ops.hpke_generate_key_pair().unwrap(),
            )
        })
        .collect();
    let path_secret = Secret::from_slice(&[9; 32]);
    let list: Vec<WelcomeRecipient<'_>> = members
        .iter()
        .enumerate()
        .map(|(i, (r, kp))| WelcomeRecipient {
            key_package_ref: r,
            init_key: &kp.public,
            path_secret: (i % 2 == 0).then_some(&path_secret),
        })
        .collect();
    let welcome = seal_welcome(ops, &info, &joiner, &ids, &list).unwrap();
    Sealed {
        welcome,
        members,
        psks,
        signer,
        joiner,
    }
}

#[test]
fn every_recipient_opens_the_welcome_and_agrees_on_the_epoch() {
    let f = Fixture {
        provider: RustCryptoProvider::new(),
    };
    let ops = f.ops();
    // 20 recipients take the parallel path; 3 the sequential one.
    for (recipients, psks) in [(3, 0), (20, 2)] {
        let s = seal(&f, recipients, psks);
        assert_eq!(s.welcome.secrets.as_slice().len(), recipients);
        let expected = s
            .joiner
            .epoch_secrets(
                ops,
                &group_info(ops, &s.joiner, &s.signer)
                    .group_context
                    .to_bytes()
                    .unwrap(),
            )
            .unwrap();
        for (i, (r, kp)) in s.members.iter().enumerate() {
            let secrets = open_group_secrets(ops, &s.welcome, r, &kp.private).unwrap();
            assert_eq!(secrets.path_secret.is_some(), i % 2 == 0);
            assert_eq!(secrets.psks.as_slice().len(), usize::from(psks));
            let (info, joiner) = open_group_info(ops, &s.welcome, &secrets, &s.psks).unwrap();
            verify_group_info(ops, &info, &s.signer.public).unwrap();
            let epoch = verify_confirmation_tag(ops, &info, &joiner).unwrap();
            assert_eq!(epoch.epoch_authenticator, expected.epoch_authenticator);
        }
    }
}

#[test]
fn each_bad_welcome_input_has_its_error() {
    let f = Fixture {
        provider: RustCryptoProvider::new(),
    };
    let ops = f.ops();
    let s = seal(&f, 2, 1);
    let (r, kp) = &s.members[0];

    assert_eq!(
        open_group_secrets(ops, &s.welcome, &[0xEE; 32], &kp.private).unwrap_err(),
        JoinError::NotForUs
    );
    let other = ops.hpke_generate_key_pair().unwrap();
    assert_eq!(
        open_group_secrets(ops, &s.welcome, r, &other.private).unwrap_err(),
        JoinError::GroupSecretsUndecryptable
    );
    // With the init key given (as `Group::join` opens): the same secrets, and another public
    // key in the KEM context gives another key.
    assert_eq!(
        open_group_secrets_with(ops, &s.welcome, r, &kp.private, Some(&kp.public)).unwrap(),
        open_group_secrets(ops, &s.welcome, r, &kp.private).unwrap()
    );
    assert_eq!(
        open_group_secrets_with(ops, &s.welcome, r, &kp.private, Some(&other.public)).unwrap_err(),
        JoinError::GroupSecretsUndecryptable
    );
    let mut wrong_suite = s.welcome.clone();
    wrong_suite.cipher_suite = CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;
    assert_eq!(
        open_group_secrets(ops, &wrong_suite, r, &kp.private).unwrap_err(),
        JoinError::CipherSuiteMismatch
    );

    let secrets = open_group_secrets(ops, &s.welcome, r, &kp.private).unwrap();
    assert_eq!(
        open_group_info(ops, &s.welcome, &secrets, &[]).unwrap_err(),
        JoinError::PskCount {
            expected: 1,
            given: 0
        }
    );
    assert_eq!(
        open_group_info(ops, &s.welcome, &secrets, &[Secret::from_slice(&[0; 32])]).unwrap_err(),
        JoinError::GroupInfoUndecryptable
    );
    let mut tampered = s.welcome.clone();
    let last = tampered.encrypted_group_info.0.len() - 1;
    tampered.encrypted_group_info.0[last] ^= 1;
    // The GroupSecrets are bound to the encrypted GroupInfo (the HPKE context), so the
    // tampered Welcome already fails there.
    assert_eq!(
        open_group_secrets(ops, &tampered, r, &kp.private).unwrap_err(),
        JoinError::GroupSecretsUndecryptable
    );

    let (info, joiner) = open_group_info(ops, &s.welcome, &secrets, &s.psks).unwrap();
    let stranger = ops.signature_generate_key_pair().unwrap();
    assert_eq!(
        verify_group_info(ops, &info, &stranger.public).unwrap_err(),
        JoinError::BadGroupInfoSignature
    );
    let mut retagged = info.clone();
    retagged.confirmation_tag.0[0] ^= 1;
    assert_eq!(
        verify_confirmation_tag(ops, &retagged, &joiner).unwrap_err(),
        JoinError::BadConfirmationTag
    );
    let mut resigned = info;
    resigned.signer = 5;
    assert_eq!(
        verify_group_info(ops, &resigned, &s.signer.public).unwrap_err(),
        JoinError::BadGroupInfoSignature
    );
}
