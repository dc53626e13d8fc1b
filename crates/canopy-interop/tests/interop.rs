//! Live interop: every scenario for every lineup on every shared suite, with both handshake
//! framings, at Canopy's defaults; the seeded random 50-member group; GREASE; and the peers'
//! known bugs, each expecting today's behaviour (see `docs/interop.md`).
//!
//! `cargo test -p canopy-interop -- --nocapture` prints each lineup's rows of the table;
//! `cargo run -p canopy-interop --example table` prints the whole table.

use canopy_interop::harness::Mixed;
use canopy_interop::scenarios::{Scenario, random_group, three};
use canopy_interop::table::{render, rows_for};
use canopy_interop::{CanopyOptions, CommitSpec, Handshake, Impl};

use Impl::{Canopy as C, MlsRs as M, OpenMls as O};

/// Whether mls-rs is built with its `grease` feature (this crate's `mls-rs-grease`).
const MLS_RS_GREASE: bool = cfg!(feature = "mls-rs-grease");

/// The implementations of the random groups: with `mls-rs-grease`, OpenMLS 0.9.2 cannot be
/// in a group with mls-rs (see [`mls_rs_grease_key_packages_are_refused_by_openmls_and_accepted_by_canopy`]).
fn random_kinds() -> &'static [Impl] {
    if MLS_RS_GREASE { &[C, M] } else { &Impl::ALL }
}

fn lineup(lineup: [Impl; 3]) {
    let rows = rows_for(lineup, None, CanopyOptions::default());
    let table = render(&rows);
    println!("{table}");
    assert!(!rows.is_empty());
    // With `mls-rs-grease`, OpenMLS 0.9.2 refuses mls-rs's GREASE (peer bugs in
    // docs/interop.md): every cell of a lineup with both fails there, and only there.
    let peers_clash = MLS_RS_GREASE && lineup.contains(&O) && lineup.contains(&M);
    for r in &rows {
        for res in &r.results {
            match res {
                Ok(()) => assert!(!peers_clash, "{table}"),
                Err(e) => assert!(
                    peers_clash && e.contains("OpenMLS") && e.contains("UnsupportedExtension"),
                    "{table}"
                ),
            }
        }
    }
}

macro_rules! lineups {
    ($($name:ident: [$x:ident, $y:ident, $z:ident],)*) => {$(
        #[test]
        fn $name() {
            lineup([$x, $y, $z]);
        }
    )*};
}

lineups! {
    pair_canopy_openmls: [C, O, O],
    pair_canopy_mls_rs: [C, M, M],
    pair_openmls_canopy: [O, C, C],
    pair_openmls_mls_rs: [O, M, M],
    pair_mls_rs_canopy: [M, C, C],
    pair_mls_rs_openmls: [M, O, O],
    three_canopy_openmls_mls_rs: [C, O, M],
    three_canopy_mls_rs_openmls: [C, M, O],
    three_openmls_canopy_mls_rs: [O, C, M],
    three_openmls_mls_rs_canopy: [O, M, C],
    three_mls_rs_canopy_openmls: [M, C, O],
    three_mls_rs_openmls_canopy: [M, O, C],
}

/// The seed of the random group (fixed; printed with the steps on failure).
const SEED: u64 = 0x5EED_0011;

#[test]
fn random_group_of_50_for_30_steps_on_suite_1() {
    let log = random_group(
        SEED,
        random_kinds(),
        1,
        50,
        30,
        Handshake::Public,
        CanopyOptions::default(),
    )
    .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(log.len() >= 30);
    println!("seed {SEED:#x}: {log:#?}");
}

#[test]
fn random_group_of_50_for_30_steps_on_suite_3_with_private_handshakes() {
    let seed = SEED + 1;
    let log = random_group(
        seed,
        random_kinds(),
        3,
        50,
        30,
        Handshake::Private,
        CanopyOptions::default(),
    )
    .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    assert!(log.len() >= 30);
}

#[test]
fn random_group_of_canopy_and_mls_rs_on_suite_7() {
    let seed = SEED + 7;
    let log = random_group(
        seed,
        random_kinds(),
        7,
        20,
        15,
        Handshake::Public,
        CanopyOptions::default(),
    )
    .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    assert!(log.len() >= 15);
}

/// Canopy with every GREASE switch on (capability lists, LeafNode and KeyPackage extensions,
/// and GroupInfo extensions, which are always GREASEd).
fn grease_all() -> CanopyOptions {
    CanopyOptions {
        grease: true,
        grease_extensions: true,
    }
}

/// Canopy with every GREASE switch on works with mls-rs in every scenario on suite 0x0001, both
/// framings, and in a random group. With this crate's `mls-rs-grease` feature mls-rs GREASEs too
/// (including its unlisted KeyPackage extension), which Canopy now accepts (RFC 9420 §10).
#[test]
fn every_grease_switch_on_against_mls_rs() {
    for l in [[C, M, M], [M, C, C]] {
        let rows = rows_for(l, Some(1), grease_all());
        let table = render(&rows);
        println!("{table}");
        assert!(
            rows.iter().all(|r| r.results.iter().all(Result::is_ok)),
            "{table}"
        );
    }
    random_group(
        SEED + 2,
        &[C, M],
        1,
        20,
        15,
        Handshake::Public,
        grease_all(),
    )
    .unwrap_or_else(|e| panic!("seed {}: {e}", SEED + 2));
}

/// Peer bug, OpenMLS issue 2156 (fixed upstream after 0.9.2): OpenMLS 0.9.2 refuses any
/// GREASE extension, even one listed in the capabilities. When OpenMLS commits the Add of a
/// Canopy KeyPackage with GREASE extensions, it refuses the KeyPackage. This is why
/// `LeafNodeParams::grease_extensions` is off by default. When this test fails, OpenMLS
/// accepts GREASE extensions: turn the switch on by default.
#[test]
fn openmls_0_9_2_refuses_a_key_package_with_grease_extensions() {
    let mut g = Mixed::new(1, Handshake::Public, grease_all());
    g.create(O).unwrap();
    let e = g.add(0, &[C], CommitSpec::default()).unwrap_err();
    assert!(e.contains("OpenMLS KeyPackage validation"), "{e}");
    assert!(e.contains("UnsupportedExtension"), "{e}");

    // With GREASE only in the capability lists (Canopy's default), the same works.
    let mut g = Mixed::new(1, Handshake::Public, CanopyOptions::default());
    g.create(O).unwrap();
    g.add(0, &[C], CommitSpec::default()).unwrap();
}

/// Peer bug, OpenMLS issue 2156, the joiner's side: an OpenMLS 0.9.2 member cannot join a
/// group whose tree has a Canopy leaf with a GREASE LeafNode extension (added by a Canopy or
/// mls-rs member, which accept it).
#[test]
fn openmls_0_9_2_refuses_a_tree_with_a_grease_leaf_extension() {
    for creator in [C, M] {
        let mut g = Mixed::new(1, Handshake::Public, grease_all());
        g.create(creator).unwrap();
        g.add(0, &[C], CommitSpec::default()).unwrap();
        let e = g.add(0, &[O], CommitSpec::default()).unwrap_err();
        assert!(e.contains("joining"), "{creator}: {e}");
        assert!(e.contains("UnsupportedExtensions"), "{creator}: {e}");
    }
}

/// Peer bug (mls-rs with its `grease` feature): mls-rs puts a GREASE extension in
/// `KeyPackage.extensions` without listing it in the leaf's capabilities; OpenMLS 0.9.2
/// refuses such KeyPackages. Canopy accepts them (RFC 9420 §10: unknown KeyPackage extensions
/// MUST be ignored). Only with this crate's `mls-rs-grease` feature.
#[cfg(feature = "mls-rs-grease")]
#[test]
fn mls_rs_grease_key_packages_are_refused_by_openmls_and_accepted_by_canopy() {
    let mut g = Mixed::new(1, Handshake::Public, CanopyOptions::default());
    g.create(O).unwrap();
    let e = g.add(0, &[M], CommitSpec::default()).unwrap_err();
    assert!(e.contains("OpenMLS KeyPackage validation"), "{e}");

    let mut g = Mixed::new(1, Handshake::Public, CanopyOptions::default());
    g.create(C).unwrap();
    g.add(0, &[M, M], CommitSpec::default()).unwrap();
    g.messages().unwrap();
}

/// The scenarios can fail: a member that does not merge its own commit falls behind, and
/// the harness notices.
#[test]
fn the_harness_detects_disagreement() {
    let l = if MLS_RS_GREASE { [C, M, M] } else { [C, O, M] };
    let mut g = three(l, 1, Handshake::Public, CanopyOptions::default()).unwrap();
    g.check().unwrap();
    let out = g.members[1].commit(&CommitSpec::default()).unwrap();
    for i in [0, 2] {
        g.members[i].process(&out.commit).unwrap();
    }
    let e = g.check().unwrap_err();
    assert!(e.contains("epoch"), "{e}");
    assert!(
        Scenario::Add
            .run(l, 1, Handshake::Private, CanopyOptions::default())
            .is_ok()
    );
}
