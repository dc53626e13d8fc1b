//! Generates test vectors for the post-quantum suites under OpenMLS's code points
//! (`SuiteProfile::OPENMLS`: 0x004F, 0x004E, 0x0050, 0x0042, 0xF042; and with ML-DSA,
//! `SuiteProfile::OPENMLS_ML_DSA`: 0x0052, 0x0051, 0x0907, 0x0906), in the working group's
//! formats (`testdata/vectors/FORMAT.md`), from live OpenMLS 0.9.2 groups:
//!
//! - `welcome.json`: OpenMLS adds a KeyPackage made by Canopy; the Welcome is OpenMLS's,
//!   `signer_pub` its committer's key.
//! - `passive-client-pq.json`: the passive client is Canopy's KeyPackage (its private keys are
//!   in the vector); the group is OpenMLS members only, and every Welcome, proposal, commit and
//!   epoch authenticator is OpenMLS's: updates, adds, removes by value and by reference.
//! - `tree-validation.json`: the ratchet tree of that group's last GroupInfo, serialized by
//!   OpenMLS; the resolutions and tree hashes are Canopy's, and the root hash must equal the
//!   tree hash in OpenMLS's GroupContext.
//! - `crypto-basics.json`: the RFC 9420 §5 functions, computed by Canopy (random inputs).
//! - `key-schedule.json`: five chained epochs of RFC 9420 §8 (random tree hashes, commit and
//!   PSK secrets, transcript hashes), computed by Canopy; `external_pub` is the KEM's
//!   `DeriveKeyPair(external_secret)`, the key OpenMLS's external joiners encrypt to.
//!
//! ```text
//! cargo run -p canopy-interop --features pq --example pq_vectors -- OUT_DIR
//! cargo run -p canopy-interop --features pq --example pq_vectors -- ts-mls-inputs FILE
//! ```
//!
//! The second form writes Canopy KeyPackages for ts-mls's suites (`SuiteProfile::TS_MLS`),
//! which `tools/ts-mls-vectors/generate.mjs` adds to ts-mls groups (see its README). The
//! third, `ts-mls-groups KEY_PACKAGES OUT`, is the other direction: Canopy groups that add
//! ts-mls KeyPackages, for `tools/ts-mls-vectors/follow.mjs` to follow as a member.
//!
//! OpenMLS's key generation is not seeded, so each run writes different bytes. `canopy vectors
//! --profile openmls --profile openmls-ml-dsa OUT_DIR/*.json` checks the output (the CLI tests run it on the copies in
//! `testdata/vectors/pq/openmls/`).

#![allow(
    clippy::indexing_slicing,
    reason = "a generator over a fixed script of members: a missing one is a bug that stops it"
)]

use std::error::Error;
use std::sync::Arc;

use canopy_core::advanced::codec::VarBytes;
use canopy_core::advanced::crypto as mls;
use canopy_core::advanced::tree::math::NodeIndex;
use canopy_core::advanced::tree::{RatchetTree, TreeRead};
use canopy_core::group::{Env, Group, JoinParams};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{self, Credential, Lifetime, MlsMessage};
use canopy_crypto::{CipherSuite, CryptoProvider, SuiteOps, SuiteProfile};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_interop::{CanopyOptions, CommitSpec, Handshake, Impl, Member, Received, new_member};
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn Error>>;

fn hex(b: &[u8]) -> Value {
    Value::String(hex::encode(b))
}

fn provider() -> Res<RustCryptoProvider> {
    RustCryptoProvider::new()
        .with_profile(SuiteProfile::OPENMLS)
        .and_then(|p| p.with_profile(SuiteProfile::OPENMLS_ML_DSA))
        .map_err(|s| format!("profile conflict at {s}").into())
}

/// A Canopy KeyPackage (with its private keys) for the passive client.
fn passive_key_package(
    provider: &RustCryptoProvider,
    suite: CipherSuite,
) -> Res<(KeyPackageBundle, canopy_crypto::SignatureKeyPair)> {
    passive_key_package_named(provider, suite, "passive")
}

/// A Canopy KeyPackage of the basic identity `name`, valid from 0 to the far future.
fn passive_key_package_named(
    provider: &RustCryptoProvider,
    suite: CipherSuite,
    name: &str,
) -> Res<(KeyPackageBundle, canopy_crypto::SignatureKeyPair)> {
    let ops = provider.suite(suite)?;
    let signer = ops.signature_generate_key_pair()?;
    let params = KeyPackageParams::new(
        LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(name.as_bytes().to_vec()),
            },
            suite,
        ),
        Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        },
    );
    let bundle = create_key_package(provider, suite, &params, &signer)?;
    Ok((bundle, signer))
}

fn openmls(name: &str, suite: u16) -> Res<Box<dyn Member>> {
    Ok(new_member(
        Impl::OpenMls,
        name.as_bytes(),
        suite,
        Handshake::Public,
        CanopyOptions::default(),
    )?)
}

/// Delivers `message` to every member but `from`; a removed member leaves the list.
fn deliver(members: &mut Vec<Box<dyn Member>>, from: usize, message: &[u8]) -> Res<()> {
    let mut keep = Vec::new();
    for (i, mut m) in std::mem::take(members).into_iter().enumerate() {
        if i == from {
            keep.push(m);
            continue;
        }
        match m.process(message)? {
            Received::Removed => {}
            _ => keep.push(m),
        }
    }
    *members = keep;
    Ok(())
}

/// `members[committer]` commits `spec` (after `proposals`, already delivered), merges, and the
/// commit goes to everyone else. Returns the epoch's passive-client record (with the
/// committer's new epoch authenticator) and the Welcome, if any.
fn commit_round(
    members: &mut Vec<Box<dyn Member>>,
    committer: usize,
    spec: &CommitSpec,
    proposals: Vec<Vec<u8>>,
) -> Res<(Value, Option<Vec<u8>>)> {
    let c = members[committer].commit(spec)?;
    members[committer].merge_pending()?;
    let epoch_authenticator = members[committer].epoch_authenticator();
    deliver(members, committer, &c.commit)?;
    let epoch = json!({
        "proposals": proposals.iter().map(|p| hex(p)).collect::<Vec<_>>(),
        "commit": hex(&c.commit),
        "epoch_authenticator": hex(&epoch_authenticator),
    });
    Ok((epoch, c.welcome))
}

struct Generated {
    welcome: Value,
    passive: Value,
    tree: Value,
}

/// One OpenMLS group with Canopy's passive KeyPackage, on `suite`.
fn group(suite: u16) -> Res<Generated> {
    let provider = provider()?;
    let cs = CipherSuite(suite);
    let ops = provider.suite(cs)?;
    let (bundle, signer) = passive_key_package(&provider, cs)?;
    let kp_bytes = MlsMessage::KeyPackage(Box::new(bundle.key_package.clone())).to_bytes()?;

    let mut alice = openmls("alice", suite)?;
    alice.create_group(b"pq vectors")?;
    let mut bob = openmls("bob", suite)?;
    let bob_kp = bob.key_package()?;
    let out = alice.commit(&CommitSpec {
        add: vec![kp_bytes.clone(), bob_kp],
        ..CommitSpec::default()
    })?;
    alice.merge_pending()?;
    let welcome = out.welcome.ok_or("no Welcome")?;
    bob.join(&welcome)?;
    let initial = alice.epoch_authenticator();

    // The signer of the Welcome's GroupInfo is Alice, at leaf 0: her key from the tree a
    // Canopy member joining from that Welcome sees.
    let validator = BasicCredentialValidator::new();
    let env = Env::new(&provider, &validator);
    let MlsMessage::Welcome(w) = MlsMessage::from_bytes(&welcome)? else {
        return Err("not a Welcome".into());
    };
    let passive = Group::join(&env, JoinParams::new(&w, &bundle, Arc::new(signer.clone())))?;
    if passive.epoch_authenticator() != initial.as_slice() {
        return Err("the passive client disagrees on the first epoch".into());
    }
    let signer_pub = passive
        .member(canopy_core::LeafIndex::new(0).ok_or("leaf")?)
        .ok_or("no leaf 0")?
        .signature_key
        .as_bytes()
        .to_vec();
    let welcome_case = json!({
        "cipher_suite": suite,
        "init_priv": hex(bundle.init_private.as_bytes()),
        "signer_pub": hex(&signer_pub),
        "key_package": hex(&kp_bytes),
        "welcome": hex(&welcome),
    });

    // Epochs: every commit and proposal by OpenMLS members.
    let mut members = vec![alice, bob];
    let mut epochs = Vec::new();
    let update = CommitSpec {
        force_path: true,
        ..CommitSpec::default()
    };
    // 1. Alice updates.
    epochs.push(commit_round(&mut members, 0, &update, Vec::new())?.0);
    // 2. Bob adds Carol and Dave.
    let mut carol = openmls("carol", suite)?;
    let mut dave = openmls("dave", suite)?;
    let add = CommitSpec {
        add: vec![carol.key_package()?, dave.key_package()?],
        ..CommitSpec::default()
    };
    let (epoch, welcome2) = commit_round(&mut members, 1, &add, Vec::new())?;
    epochs.push(epoch);
    let welcome2 = welcome2.ok_or("no Welcome")?;
    carol.join(&welcome2)?;
    dave.join(&welcome2)?;
    members.push(carol);
    members.push(dave);
    // 3. Carol proposes to remove Bob; Dave commits it by reference.
    let bob_leaf = members[1].own_leaf();
    let p = members[2].propose_remove(bob_leaf)?;
    deliver(&mut members, 2, &p)?;
    epochs.push(commit_round(&mut members, 3, &CommitSpec::default(), vec![p])?.0);
    // 4. Carol (now at index 1: Bob has left) updates.
    epochs.push(commit_round(&mut members, 1, &update, Vec::new())?.0);
    // 5. Alice removes Dave by value, with a path.
    let remove = CommitSpec {
        remove: vec![members[2].own_leaf()],
        force_path: true,
        ..CommitSpec::default()
    };
    epochs.push(commit_round(&mut members, 0, &remove, Vec::new())?.0);

    let passive_case = json!({
        "cipher_suite": suite,
        "external_psks": [],
        "key_package": hex(&kp_bytes),
        "signature_priv": hex(signer.private.as_bytes()),
        "encryption_priv": hex(bundle.encryption_private.as_bytes()),
        "init_priv": hex(bundle.init_private.as_bytes()),
        "welcome": hex(&welcome),
        "ratchet_tree": Value::Null,
        "initial_epoch_authenticator": hex(&initial),
        "epochs": epochs,
    });

    // The tree of OpenMLS's last GroupInfo.
    let info = members[0].group_info()?;
    let MlsMessage::GroupInfo(info) = MlsMessage::from_bytes(&info)? else {
        return Err("not a GroupInfo".into());
    };
    let wire_tree: wire::RatchetTree = info
        .extensions
        .typed()?
        .ok_or("no ratchet_tree in OpenMLS's GroupInfo")?;
    let tree_bytes = wire_tree.to_bytes()?;
    let tree = RatchetTree::from_wire(ops, wire_tree)?;
    if tree.tree_hash() != info.group_context.tree_hash.as_slice() {
        return Err("Canopy's tree hash differs from OpenMLS's GroupContext".into());
    }
    let mut resolutions = Vec::new();
    let mut hashes = Vec::new();
    for i in 0..u32::try_from(tree.nodes().len())? {
        let x = NodeIndex::new(i).ok_or("node index")?;
        let res: Vec<u32> = tree.resolution(x).iter().map(|n| n.value()).collect();
        resolutions.push(json!(res));
        hashes.push(hex(tree.node_hash(x).ok_or("node hash")?));
    }
    let tree_case = json!({
        "cipher_suite": suite,
        "tree": hex(&tree_bytes),
        "group_id": hex(info.group_context.group_id.as_slice()),
        "resolutions": resolutions,
        "tree_hashes": hashes,
    });
    Ok(Generated {
        welcome: welcome_case,
        passive: passive_case,
        tree: tree_case,
    })
}

/// `crypto-basics` for `suite`, computed by Canopy from random inputs.
fn crypto_basics(provider: &RustCryptoProvider, suite: u16) -> Res<Value> {
    let ops: &dyn SuiteOps = provider.suite(CipherSuite(suite))?;
    let nh = ops.params().hash_len();
    let random = |len: usize| -> Res<Vec<u8>> {
        let mut v = vec![0u8; len];
        provider.fill_random(&mut v)?;
        Ok(v)
    };
    let value = random(40)?;
    let ref_out = mls::ref_hash(ops, b"RefHash", &value)?;
    let (secret, context) = (random(nh)?, random(nh)?);
    let expand = mls::expand_with_label(ops, &secret, b"ExpandWithLabel", &context, 16)?;
    let ds_secret = random(nh)?;
    let derive = mls::derive_secret(ops, &ds_secret, b"DeriveSecret")?;
    let ts_secret = random(nh)?;
    let generation = u32::from_be_bytes(random(4)?.try_into().map_err(|_| "len")?);
    let tree = mls::derive_tree_secret(ops, &ts_secret, b"DeriveTreeSecret", generation, nh)?;
    let sig = ops.signature_generate_key_pair()?;
    let content = random(nh)?;
    let signature = mls::sign_with_label(ops, &sig, b"SignWithLabel", &content)?;
    let hpke = ops.hpke_generate_key_pair()?;
    let (ctx, plaintext) = (random(nh)?, random(nh)?);
    let ct = mls::encrypt_with_label(ops, &hpke.public, b"EncryptWithLabel", &ctx, &plaintext)?;
    Ok(json!({
        "cipher_suite": suite,
        "ref_hash": {"label": "RefHash", "value": hex(&value), "out": hex(&ref_out)},
        "expand_with_label": {
            "secret": hex(&secret), "label": "ExpandWithLabel", "context": hex(&context),
            "length": 16, "out": hex(expand.as_bytes()),
        },
        "derive_secret": {"secret": hex(&ds_secret), "label": "DeriveSecret", "out": hex(derive.as_bytes())},
        "derive_tree_secret": {
            "secret": hex(&ts_secret), "label": "DeriveTreeSecret", "generation": generation,
            "length": nh, "out": hex(tree.as_bytes()),
        },
        "sign_with_label": {
            "priv": hex(sig.private.as_bytes()), "pub": hex(sig.public.as_bytes()),
            "content": hex(&content), "label": "SignWithLabel", "signature": hex(&signature),
        },
        "encrypt_with_label": {
            "priv": hex(hpke.private.as_bytes()), "pub": hex(hpke.public.as_bytes()),
            "label": "EncryptWithLabel", "context": hex(&ctx), "plaintext": hex(&plaintext),
            "kem_output": hex(&ct.kem_output), "ciphertext": hex(&ct.ciphertext),
        },
    }))
}

/// `key-schedule` for `suite`: five chained epochs, computed by Canopy from random inputs.
fn key_schedule(provider: &RustCryptoProvider, suite: u16) -> Res<Value> {
    use canopy_core::advanced::schedule::JoinerSecrets;
    use canopy_core::wire::{Extensions, GroupContext, ProtocolVersion};
    use canopy_crypto::Secret;
    let ops: &dyn SuiteOps = provider.suite(CipherSuite(suite))?;
    let nh = ops.params().hash_len();
    let random = |len: usize| -> Res<Vec<u8>> {
        let mut v = vec![0u8; len];
        provider.fill_random(&mut v)?;
        Ok(v)
    };
    let group_id = random(nh)?;
    let initial = random(nh)?;
    let mut init_secret = Secret::from_slice(&initial);
    let mut epochs = Vec::new();
    for epoch in 0..5u64 {
        let (tree_hash, commit, psk, cth) = (random(nh)?, random(nh)?, random(nh)?, random(nh)?);
        let gc = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: CipherSuite(suite),
            group_id: VarBytes::from(group_id.clone()),
            epoch,
            tree_hash: VarBytes::from(tree_hash.clone()),
            confirmed_transcript_hash: VarBytes::from(cth.clone()),
            extensions: Extensions::default(),
        }
        .to_bytes()?;
        let joiner = JoinerSecrets::from_commit(
            ops,
            &init_secret,
            &Secret::from_slice(&commit),
            &Secret::from_slice(&psk),
            &gc,
        )?;
        let welcome = joiner.welcome_secret(ops)?;
        let s = joiner.epoch_secrets(ops, &gc)?;
        let external = s.external_key_pair(ops)?;
        let (label, context) = (hex::encode(random(8)?), random(nh)?);
        let exported = s.export(ops, label.as_bytes(), &context, nh)?;
        epochs.push(json!({
            "tree_hash": hex(&tree_hash),
            "commit_secret": hex(&commit),
            "psk_secret": hex(&psk),
            "confirmed_transcript_hash": hex(&cth),
            "group_context": hex(&gc),
            "joiner_secret": hex(joiner.joiner_secret().as_bytes()),
            "welcome_secret": hex(welcome.as_bytes()),
            "init_secret": hex(s.init_secret.as_bytes()),
            "sender_data_secret": hex(s.sender_data_secret.as_bytes()),
            "encryption_secret": hex(s.encryption_secret.as_bytes()),
            "exporter_secret": hex(s.exporter_secret.as_bytes()),
            "epoch_authenticator": hex(s.epoch_authenticator.as_bytes()),
            "external_secret": hex(s.external_secret.as_bytes()),
            "confirmation_key": hex(s.confirmation_key.as_bytes()),
            "membership_key": hex(s.membership_key.as_bytes()),
            "resumption_psk": hex(s.resumption_psk.as_bytes()),
            "external_pub": hex(external.public.as_bytes()),
            "exporter": {"label": label, "context": hex(&context), "length": nh, "secret": hex(exported.as_bytes())},
        }));
        init_secret = s.init_secret.clone();
    }
    Ok(json!({
        "cipher_suite": suite,
        "group_id": hex(&group_id),
        "initial_init_secret": hex(&initial),
        "epochs": epochs,
    }))
}

/// `ts-mls-inputs FILE`: Canopy KeyPackages (with their private keys) for the suites of
/// `SuiteProfile::TS_MLS`, for `tools/ts-mls-vectors/generate.mjs` to add to ts-mls groups.
fn ts_mls_inputs(file: &str) -> Res<()> {
    let provider = RustCryptoProvider::new()
        .with_profile(SuiteProfile::TS_MLS)
        .map_err(|s| format!("profile conflict at {s}"))?;
    let mut cases = Vec::new();
    for params in SuiteProfile::TS_MLS.suites() {
        let (bundle, signer) = passive_key_package(&provider, params.suite)?;
        let kp = MlsMessage::KeyPackage(Box::new(bundle.key_package.clone())).to_bytes()?;
        cases.push(json!({
            "cipher_suite": params.suite.0,
            "key_package": hex(&kp),
            "signature_priv": hex(signer.private.as_bytes()),
            "encryption_priv": hex(bundle.encryption_private.as_bytes()),
            "init_priv": hex(bundle.init_private.as_bytes()),
        }));
    }
    std::fs::write(file, serde_json::to_string_pretty(&cases)? + "\n")?;
    Ok(())
}

/// `ts-mls-groups KEY_PACKAGES OUT`: for each ts-mls KeyPackage of `KEY_PACKAGES` (written by
/// `tools/ts-mls-vectors/follow.mjs keypackages`), a group of Canopy members that adds it and
/// then commits: Alice updates, Bob adds Carol, Carol updates, Alice removes Bob. `OUT` holds
/// each group's Welcome, commits and Canopy's epoch authenticators, for `follow.mjs follow`
/// to check that ts-mls, as a member, agrees on every epoch.
fn ts_mls_groups(input: &str, out: &str) -> Res<()> {
    use canopy_core::group::{CommitOptions, CreateParams, Merged, ProcessedMessage};
    let provider = RustCryptoProvider::new()
        .with_profile(SuiteProfile::TS_MLS)
        .map_err(|s| format!("profile conflict at {s}"))?;
    let validator = BasicCredentialValidator::new();
    // ts-mls's default lifetime is 0 to 2^63 - 1: any time is inside it.
    let env = Env::new(&provider, &validator).at(1_780_000_000);
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(input)?)?;
    let welcome_of = |bytes: &[u8]| -> Res<wire::Welcome> {
        match MlsMessage::from_bytes(bytes)? {
            MlsMessage::Welcome(w) => Ok(w),
            _ => Err("not a Welcome".into()),
        }
    };
    let deliver = |group: &mut Group, commit: &[u8]| -> Res<()> {
        match group.process_message(&env, commit)? {
            ProcessedMessage::Commit(staged) => match group.merge_staged_commit(*staged)? {
                Merged::Member { .. } => Ok(()),
                Merged::Removed => Err("removed".into()),
            },
            _ => Err("not a commit".into()),
        }
    };
    let mut groups = Vec::new();
    for case in cases {
        let suite = CipherSuite(
            case["cipher_suite"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or("cipher_suite")?,
        );
        let kp_hex = case["key_package"].as_str().ok_or("key_package")?;
        let MlsMessage::KeyPackage(ts_kp) = MlsMessage::from_bytes(&hex::decode(kp_hex)?)? else {
            return Err("not a KeyPackage".into());
        };
        let member = |name: &str| passive_key_package_named(&provider, suite, name);
        let leaf = |name: &str| {
            LeafNodeParams::new(
                Credential::Basic {
                    identity: VarBytes(name.as_bytes().to_vec()),
                },
                suite,
            )
        };
        let ops = provider.suite(suite)?;
        let mut alice = Group::create(
            &env,
            CreateParams::new(
                suite,
                b"a Canopy group with ts-mls".to_vec(),
                &leaf("alice"),
                Arc::new(ops.signature_generate_key_pair()?),
            ),
        )?;
        let (bob_kp, bob_signer) = member("bob")?;
        let out = alice.commit(
            &env,
            CommitOptions {
                add: vec![*ts_kp, bob_kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )?;
        let _ = alice.merge_pending_commit()?;
        let welcome = out.welcome.ok_or("no Welcome")?;
        let mut bob = Group::join(
            &env,
            JoinParams::new(&welcome_of(&welcome)?, &bob_kp, Arc::new(bob_signer)),
        )?;
        let initial = alice.epoch_authenticator().to_vec();
        let mut epochs = Vec::new();
        let mut record = |commit: &[u8], authenticator: &[u8]| {
            epochs.push(json!({
                "proposals": [],
                "commit": hex(commit),
                "epoch_authenticator": hex(authenticator),
            }));
        };
        let update = CommitOptions {
            force_path: true,
            ..CommitOptions::default()
        };
        // 1. Alice updates.
        let c = alice.commit(&env, update.clone())?;
        let _ = alice.merge_pending_commit()?;
        deliver(&mut bob, &c.commit)?;
        record(&c.commit, alice.epoch_authenticator());
        // 2. Bob adds Carol.
        let (carol_kp, carol_signer) = member("carol")?;
        let c = bob.commit(
            &env,
            CommitOptions {
                add: vec![carol_kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )?;
        let _ = bob.merge_pending_commit()?;
        deliver(&mut alice, &c.commit)?;
        let mut carol = Group::join(
            &env,
            JoinParams::new(
                &welcome_of(&c.welcome.ok_or("no Welcome")?)?,
                &carol_kp,
                Arc::new(carol_signer),
            ),
        )?;
        record(&c.commit, bob.epoch_authenticator());
        // 3. Carol updates.
        let c = carol.commit(&env, update)?;
        let _ = carol.merge_pending_commit()?;
        deliver(&mut alice, &c.commit)?;
        deliver(&mut bob, &c.commit)?;
        record(&c.commit, carol.epoch_authenticator());
        // 4. Alice removes Bob (leaf 2: Alice 0, ts-mls 1, Bob 2, Carol 3).
        let c = alice.commit(
            &env,
            CommitOptions {
                remove: vec![canopy_core::LeafIndex::new(2).ok_or("leaf")?],
                ..CommitOptions::default()
            },
        )?;
        let _ = alice.merge_pending_commit()?;
        deliver(&mut carol, &c.commit)?;
        record(&c.commit, alice.epoch_authenticator());
        if carol.epoch_authenticator() != alice.epoch_authenticator() {
            return Err("Carol disagrees with Alice".into());
        }
        groups.push(json!({
            "cipher_suite": suite.0,
            "key_package": kp_hex,
            "welcome": hex(&welcome),
            "initial_epoch_authenticator": hex(&initial),
            "epochs": epochs,
        }));
    }
    std::fs::write(out, serde_json::to_string_pretty(&groups)? + "\n")?;
    Ok(())
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("ts-mls-groups") {
        let usage = "usage: pq_vectors ts-mls-groups KEY_PACKAGES OUT";
        return ts_mls_groups(args.get(2).ok_or(usage)?, args.get(3).ok_or(usage)?);
    }
    if args.get(1).map(String::as_str) == Some("ts-mls-inputs") {
        return ts_mls_inputs(args.get(2).ok_or("usage: pq_vectors ts-mls-inputs FILE")?);
    }
    let out = args.get(1).ok_or("usage: pq_vectors OUT_DIR")?;
    let out = std::path::Path::new(&out);
    std::fs::create_dir_all(out)?;
    let provider = provider()?;
    let (mut welcome, mut passive, mut trees, mut basics, mut schedules) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for suite in Impl::PQ_SUITES.into_iter().chain(Impl::PQ_ML_DSA_SUITES) {
        let g = group(suite)?;
        welcome.push(g.welcome);
        passive.push(g.passive);
        trees.push(g.tree);
        basics.push(crypto_basics(&provider, suite)?);
        schedules.push(key_schedule(&provider, suite)?);
        println!("suite 0x{suite:04x}: done");
    }
    for (name, cases) in [
        ("welcome.json", welcome),
        ("passive-client-pq.json", passive),
        ("tree-validation.json", trees),
        ("crypto-basics.json", basics),
        ("key-schedule.json", schedules),
    ] {
        std::fs::write(out.join(name), serde_json::to_string_pretty(&cases)? + "\n")?;
    }
    Ok(())
}
