//! SelfRemove (draft-ietf-mls-extensions) in live mixed groups: with OpenMLS under the
//! draft's code point 0x000a, with mls-rs under RCS's 0xF003 (Canopy picks the one every
//! member supports), and a group of all three, where no code point is common and Canopy
//! refuses to send one.
//!
//! `cargo test -p canopy-interop --features extensions --test self_remove`.
#![cfg(feature = "extensions")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use canopy_interop::harness::Mixed;
use canopy_interop::{CanopyOptions, CommitSpec, Handshake, Impl};

use Impl::{Canopy as C, MlsRs as M, OpenMls as O};

/// `creator` makes a group and adds `others`; then the member at `leaver` self-removes and
/// the member at `committer` commits it: everyone agrees, and the leaver is out.
fn self_remove(
    creator: Impl,
    others: &[Impl],
    leaver: usize,
    committer: usize,
    handshake: Handshake,
) {
    let mut g = Mixed::new(1, handshake, CanopyOptions::default());
    g.create(creator).unwrap();
    g.add(0, others, CommitSpec::default()).unwrap();
    let before = g.members.len();
    let leaving = g.members[leaver].identity().to_vec();
    g.propose_self_remove(leaver).unwrap();
    g.commit(committer, &CommitSpec::default(), Vec::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.members.len(), before - 1);
    assert!(g.members.iter().all(|m| m.identity() != leaving));
    assert_eq!(g.removed.len(), 1);
    g.removed_cannot_read().unwrap();
    g.messages().unwrap();
}

#[test]
fn openmls_self_removes_and_canopy_commits() {
    self_remove(C, &[O, C], 1, 0, Handshake::Public);
}

#[test]
fn canopy_self_removes_and_openmls_commits() {
    for h in [Handshake::Public, Handshake::Private] {
        self_remove(O, &[C, C], 1, 0, h);
    }
}

#[test]
fn mls_rs_self_removes_and_canopy_commits() {
    self_remove(C, &[M, C], 1, 0, Handshake::Public);
}

#[test]
fn canopy_self_removes_and_mls_rs_commits() {
    for h in [Handshake::Public, Handshake::Private] {
        self_remove(M, &[C, C], 1, 0, h);
    }
}

#[test]
fn no_common_code_point_with_openmls_and_mls_rs_so_canopy_refuses() {
    let mut g = Mixed::new(1, Handshake::Public, CanopyOptions::default());
    g.create(C).unwrap();
    g.add(0, &[O, M], CommitSpec::default()).unwrap();
    let err = g.propose_self_remove(0).unwrap_err();
    assert!(err.contains("SelfRemoveCapable"), "{err}");
    // A Canopy member in the middle is not removed; the group goes on.
    g.messages().unwrap();
}

/// With encrypted handshakes, the peers break the draft's "MUST be sent in an MLS
/// PublicMessage" in two ways (today's behaviour, docs/interop.md): mls-rs 0.57 encrypts its
/// SelfRemove, which Canopy refuses (SR-01); OpenMLS 0.9.2 refuses to send one at all.
/// Canopy's own SelfRemove is a PublicMessage in such groups and both peers accept it (the
/// `Private` runs of the tests above).
#[test]
fn with_encrypted_handshakes_mls_rs_encrypts_its_self_remove_and_openmls_sends_none() {
    let mut g = Mixed::new(1, Handshake::Private, CanopyOptions::default());
    g.create(C).unwrap();
    g.add(0, &[M], CommitSpec::default()).unwrap();
    let encrypted = g.members[1].propose_self_remove().unwrap();
    let err = g.members[0].process(&encrypted).unwrap_err();
    assert!(err.contains("SelfRemovePublic"), "{err}");

    let mut g = Mixed::new(1, Handshake::Private, CanopyOptions::default());
    g.create(C).unwrap();
    g.add(0, &[O], CommitSpec::default()).unwrap();
    let err = g.members[1].propose_self_remove().unwrap_err();
    assert!(err.contains("CannotSelfRemoveWithPureCiphertext"), "{err}");
}
