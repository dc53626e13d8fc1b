//! Canopy, OpenMLS 0.9.2 and mls-rs 0.57 side by side in one process, each with its pure-Rust
//! provider, driven through wire bytes by the interop crate's [`Member`] wrappers (the same
//! calls for all three), with the cryptographic floor of each operation beside them.
//!
//! Configuration: suite 0x0001 (X25519, AES-128-GCM, SHA-256, Ed25519); handshake messages as
//! PublicMessage; each implementation at its defaults otherwise. The tree is the one left by
//! one add-everyone commit without a path (so the next path's copath resolves to the leaves);
//! the other members' KeyPackages are made once by Canopy and the same bytes go to all
//! three, and every implementation validates them inside the add (OpenMLS's
//! `KeyPackageIn::validate` too). "process" includes merging the commit. Application messages
//! are timed in runs of 16 (the per-message time of a busy sender or receiver); every other
//! operation once per sample.
//!
//! ```sh
//! cargo bench -p canopy-interop --bench peers                     # n = 100, 1,000, 10,000
//! CANOPY_PEERS_SIZES=100,1000 cargo bench -p canopy-interop --bench peers
//! CANOPY_PEERS_50K=1 cargo bench -p canopy-interop --bench peers  # and 50,000
//! CANOPY_PEERS_OUT=docs/bench cargo bench -p canopy-interop --bench peers  # writes peers.md, peers.svg
//! ```
//!
//! The floor of an operation is what its public-key cryptography and hashing cost with the
//! same primitives (measured here, one core), the parallel parts divided by the cores:
//! see `canopy-core/benches/floors/mod.rs`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use canopy_interop::{CanopyOptions, CommitSpec, Handshake, Impl, Member, Received, new_member};

#[path = "../../canopy-core/benches/floors/mod.rs"]
mod floors;
use floors::{Floors, fmt};

const SUITE: u16 = 1;
const PEERS: [Impl; 3] = [Impl::OpenMls, Impl::MlsRs, Impl::Canopy];

/// The operations, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    AddEveryone,
    Join,
    UpdateCreate,
    MergeOwn,
    ProcessUpdate,
    RemoveCreate,
    ProcessRemove,
    Encrypt,
    Decrypt,
}

impl Op {
    const ALL: [Self; 9] = [
        Self::AddEveryone,
        Self::Join,
        Self::UpdateCreate,
        Self::MergeOwn,
        Self::ProcessUpdate,
        Self::RemoveCreate,
        Self::ProcessRemove,
        Self::Encrypt,
        Self::Decrypt,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::AddEveryone => "add n-1 members (KeyPackages validated)",
            Self::Join => "join from the Welcome",
            Self::UpdateCreate => "update commit, create",
            Self::MergeOwn => "merge one's own update",
            Self::ProcessUpdate => "process another member's update",
            Self::RemoveCreate => "remove commit, create",
            Self::ProcessRemove => "process a remove",
            Self::Encrypt => "encrypt 1 KiB",
            Self::Decrypt => "decrypt 1 KiB",
        }
    }
}

/// The sizes of Canopy's messages at one `n` (the same structures for every
/// implementation): the floors hash them.
#[derive(Clone, Copy, Debug, Default)]
struct Sizes {
    /// An update commit (its UpdatePath has a ciphertext per copath leaf).
    commit: usize,
    /// The add-everyone Welcome (with the ratchet tree).
    welcome: usize,
}

/// The floor of `op` at `n` members ([`Floors`]). In this benchmark the member who acts
/// besides the creator is at leaf 1, so a receiver derives every node of the path.
fn floor(floors: &Floors, op: Op, n: u32, sizes: Sizes) -> f64 {
    match op {
        Op::AddEveryone => floors.add_everyone(n, sizes.welcome),
        Op::Join => floors.join(n, sizes.welcome),
        Op::UpdateCreate => floors.commit_create(n, f64::from(n) - 1.0, sizes.commit),
        // The path skips the removed leaf and the leaves removed before it: the median
        // sample (the middle one of `samples(n)`, two removes apart) runs after
        // 2 * (samples / 2) removes.
        Op::RemoveCreate => {
            let before = 2.0 * (samples(n) / 2) as f64;
            floors.commit_create(n, f64::from(n) - 2.0 - before, sizes.commit)
        }
        Op::MergeOwn => floors.merge_own(n),
        Op::ProcessUpdate | Op::ProcessRemove => {
            floors.process_commit(n, floors::derived_nodes(n, 1, 0), sizes.commit)
        }
        Op::Encrypt => floors.encrypt(),
        Op::Decrypt => floors.decrypt(),
    }
}

/// Samples per operation: single runs on a shared machine are noisy, so small sizes, where a
/// sample is cheap, take many.
fn samples(n: u32) -> usize {
    match n {
        0..=100 => 21,
        101..=1_000 => 9,
        1_001..=10_000 => 3,
        _ => 2,
    }
}

fn median(mut t: Vec<Duration>) -> Duration {
    t.sort();
    t[t.len() / 2]
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn member(kind: Impl, name: &str) -> Box<dyn Member> {
    new_member(
        kind,
        name.as_bytes(),
        SUITE,
        Handshake::Public,
        CanopyOptions::default(),
    )
    .unwrap()
}

/// Runs every operation for `kind` at `n` members; `others` holds at least `n` KeyPackages of
/// members who never act.
fn run(kind: Impl, n: u32, others: &[Vec<u8>]) -> (BTreeMap<Op, Duration>, Sizes) {
    let mut sizes = Sizes::default();
    let s = samples(n);
    let mut out: BTreeMap<Op, Vec<Duration>> = BTreeMap::new();
    let mut creator = member(kind, "creator");
    creator.create_group(b"peer benchmark").unwrap();
    // Leaf 1 is `b`, the member who acts besides the creator; leaves 2..=s+1 join and are
    // timed; the removes take 2s leaves from the end, which must all be others'.
    assert!(
        n as usize >= 3 * s + 2,
        "n = {n} is too small for {s} samples"
    );
    let mut b = member(kind, "b");
    let mut joiners: Vec<Box<dyn Member>> = (0..s)
        .map(|i| member(kind, &format!("joiner {i}")))
        .collect();
    let mut add = vec![b.key_package().unwrap()];
    add.extend(joiners.iter_mut().map(|j| j.key_package().unwrap()));
    let rest = (n as usize).saturating_sub(add.len() + 1);
    add.extend(others[..rest].iter().cloned());
    let spec = CommitSpec {
        add,
        no_path: true,
        ..CommitSpec::default()
    };
    // Up to 1,000 members the add is repeated by fresh creators (one sample is noisy there);
    // the last one's group is the one that goes on.
    let repeats = if n <= 1_000 { s } else { 1 };
    for _ in 1..repeats {
        let mut again = member(kind, "creator");
        again.create_group(b"peer benchmark").unwrap();
        let ((), t) = timed(|| {
            again.commit(&spec).unwrap();
        });
        out.entry(Op::AddEveryone).or_default().push(t);
    }
    let (commit, t) = timed(|| creator.commit(&spec).unwrap());
    out.entry(Op::AddEveryone).or_default().push(t);
    creator.merge_pending().unwrap();
    let welcome = commit.welcome.unwrap();
    sizes.welcome = welcome.len();
    b.join(&welcome).unwrap();
    for mut j in joiners {
        let ((), t) = timed(|| j.join(&welcome).unwrap());
        out.entry(Op::Join).or_default().push(t);
    }

    // Messages in runs of 16, each run timed as a whole (one message alone is a few tens of
    // microseconds, and the first after another member's work finds cold caches): the
    // per-message time of a busy sender or receiver, as criterion measures the floors.
    let kib = vec![0x42u8; 1024];
    const RUN: u32 = 16;
    for _ in 0..s.max(9) {
        let (cts, t) = timed(|| {
            (0..RUN)
                .map(|_| creator.encrypt(&kib).unwrap())
                .collect::<Vec<_>>()
        });
        out.entry(Op::Encrypt).or_default().push(t / RUN);
        let (got, t) = timed(|| {
            cts.iter()
                .map(|ct| b.process(ct).unwrap())
                .collect::<Vec<_>>()
        });
        assert!(got.iter().all(|g| *g == Received::Application(kib.clone())));
        out.entry(Op::Decrypt).or_default().push(t / RUN);
    }

    let update = CommitSpec {
        force_path: true,
        ..CommitSpec::default()
    };
    for _ in 0..s {
        let (c, t) = timed(|| creator.commit(&update).unwrap());
        out.entry(Op::UpdateCreate).or_default().push(t);
        sizes.commit = c.commit.len();
        let ((), t) = timed(|| creator.merge_pending().unwrap());
        out.entry(Op::MergeOwn).or_default().push(t);
        assert_eq!(b.process(&c.commit).unwrap(), Received::Commit);

        let c = b.commit(&update).unwrap();
        b.merge_pending().unwrap();
        let (got, t) = timed(|| creator.process(&c.commit).unwrap());
        assert_eq!(got, Received::Commit);
        out.entry(Op::ProcessUpdate).or_default().push(t);
    }
    // Removes of members who never act, from the last leaf down.
    let mut leaf = n - 1;
    for _ in 0..s {
        let spec = CommitSpec {
            remove: vec![leaf],
            ..CommitSpec::default()
        };
        let (c, t) = timed(|| creator.commit(&spec).unwrap());
        out.entry(Op::RemoveCreate).or_default().push(t);
        creator.merge_pending().unwrap();
        assert_eq!(b.process(&c.commit).unwrap(), Received::Commit);
        leaf -= 1;

        let spec = CommitSpec {
            remove: vec![leaf],
            ..CommitSpec::default()
        };
        let c = b.commit(&spec).unwrap();
        b.merge_pending().unwrap();
        let (got, t) = timed(|| creator.process(&c.commit).unwrap());
        assert_eq!(got, Received::Commit);
        out.entry(Op::ProcessRemove).or_default().push(t);
        leaf -= 1;
    }
    assert_eq!(creator.epoch_authenticator(), b.epoch_authenticator());
    (
        out.into_iter().map(|(op, t)| (op, median(t))).collect(),
        sizes,
    )
}

/// `n = 100: 12,345 B, ...` for one size of every `n`.
fn list(sizes: &BTreeMap<u32, Sizes>, f: impl Fn(&Sizes) -> usize) -> String {
    sizes
        .iter()
        .map(|(n, s)| format!("{} B at n = {n}", f(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

type Results = BTreeMap<(Op, u32), BTreeMap<Impl, Duration>>;

fn table(
    results: &Results,
    floors: &BTreeMap<u32, Floors>,
    sizes: &BTreeMap<u32, Sizes>,
) -> String {
    let mut t = String::from(
        "| operation | n | OpenMLS | mls-rs | Canopy | Canopy / faster peer | floor | Canopy / floor |\n|---|---|---|---|---|---|---|---|\n",
    );
    for ((op, n), by) in results {
        let get = |k: Impl| by.get(&k).map(Duration::as_secs_f64);
        let cell = |k: Impl| get(k).map_or_else(|| "–".to_owned(), fmt);
        let faster = [Impl::OpenMls, Impl::MlsRs]
            .into_iter()
            .filter_map(get)
            .fold(f64::INFINITY, f64::min);
        let floor = floor(
            &floors[n],
            *op,
            *n,
            sizes.get(n).copied().unwrap_or_default(),
        );
        let canopy = get(Impl::Canopy);
        let ratio = canopy.map_or_else(|| "–".to_owned(), |c| format!("{:.2}", c / faster));
        let to_floor = canopy.map_or_else(|| "–".to_owned(), |c| format!("{:.2}", c / floor));
        let _ = writeln!(
            t,
            "| {} | {n} | {} | {} | {} | {ratio} | {} | {to_floor} |",
            op.name(),
            cell(Impl::OpenMls),
            cell(Impl::MlsRs),
            cell(Impl::Canopy),
            fmt(floor),
        );
    }
    t
}

/// A horizontal bar chart, one row per operation and size, one bar per implementation and
/// the floor, on a log scale: SVG written directly (no font or image library to install).
fn svg(results: &Results, floors: &BTreeMap<u32, Floors>, sizes: &BTreeMap<u32, Sizes>) -> String {
    let colours = [
        ("OpenMLS", "#d95f02"),
        ("mls-rs", "#7570b3"),
        ("Canopy", "#1b9e77"),
        ("floor", "#999999"),
    ];
    let (label_w, plot_w, bar_h, gap, note_w) = (330.0, 630.0, 6.0, 10.0, 190.0);
    let row_h = 4.0 * bar_h + gap;
    let (lo, hi) = (1e-6_f64.log10(), 100.0_f64.log10());
    let x = |secs: f64| label_w + (secs.max(1e-6).log10() - lo) / (hi - lo) * plot_w;
    let top = 40.0;
    let height = top + row_h * results.len() as f64 + 40.0;
    let width = label_w + plot_w + note_w;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"10\" y=\"16\" font-size=\"13\">MLS operations, suite 0x0001, PublicMessage handshakes, tree after one add-everyone commit (log scale)</text>\n"
    );
    for (i, (name, colour)) in colours.iter().enumerate() {
        let lx = label_w + 120.0 * i as f64;
        let _ = writeln!(
            s,
            "<rect x=\"{lx}\" y=\"24\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{}\" y=\"33\">{name}</text>",
            lx + 14.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"33\">Canopy / faster peer · / floor</text>",
        label_w + plot_w + 10.0
    );
    for decade in -6..=2 {
        let secs = 10f64.powi(decade);
        let gx = x(secs);
        let _ = writeln!(
            s,
            "<line x1=\"{gx:.1}\" y1=\"{top}\" x2=\"{gx:.1}\" y2=\"{:.1}\" stroke=\"#dddddd\"/><text x=\"{gx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            height - 30.0,
            height - 16.0,
            [
                "1 µs", "10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s", "10 s", "100 s"
            ][(decade + 6) as usize]
        );
    }
    for (row, ((op, n), by)) in results.iter().enumerate() {
        let y0 = top + row_h * row as f64;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} (n = {n})</text>",
            label_w - 8.0,
            y0 + 2.0 * bar_h + 4.0,
            op.name()
        );
        let values = [
            by.get(&Impl::OpenMls).map(Duration::as_secs_f64),
            by.get(&Impl::MlsRs).map(Duration::as_secs_f64),
            by.get(&Impl::Canopy).map(Duration::as_secs_f64),
            Some(floor(
                &floors[n],
                *op,
                *n,
                sizes.get(n).copied().unwrap_or_default(),
            )),
        ];
        if let [Some(a), Some(b), Some(c), Some(f)] = values {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">{:.2} · {:.2}</text>",
                label_w + plot_w + 10.0,
                y0 + 2.0 * bar_h + 4.0,
                c / a.min(b),
                c / f
            );
        }
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                let _ = writeln!(
                    s,
                    "<rect x=\"{label_w}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bar_h}\" fill=\"{}\"><title>{}: {}</title></rect>",
                    y0 + bar_h * i as f64,
                    (x(*v) - label_w).max(1.0),
                    colours[i].1,
                    colours[i].0,
                    fmt(*v)
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut sizes: Vec<u32> = std::env::var("CANOPY_PEERS_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100, 1_000, 10_000]);
    if std::env::var_os("CANOPY_PEERS_50K").is_some() {
        sizes.push(50_000);
    }
    // The floors are measured again before each size: the machine is shared and its speed
    // drifts over a run of many minutes, so each size's ratios use primitives timed next to it.
    let mut floors: BTreeMap<u32, Floors> = BTreeMap::new();
    let most = sizes.iter().copied().max().unwrap_or(0) as usize;
    let start = Instant::now();
    let others: Vec<Vec<u8>> = (0..most)
        .map(|i| {
            member(Impl::Canopy, &format!("member {i}"))
                .key_package()
                .unwrap()
        })
        .collect();
    println!("{most} KeyPackages made in {:.1?}", start.elapsed());
    let mut results: Results = BTreeMap::new();
    let mut message_sizes: BTreeMap<u32, Sizes> = BTreeMap::new();
    for &n in &sizes {
        let f = Floors::measure();
        println!("n = {n}: {}", f.describe());
        floors.insert(n, f);
        for kind in PEERS {
            let start = Instant::now();
            let (r, s) = run(kind, n, &others);
            println!(
                "{kind} at n = {n}: {:.1?} (update commit {} B, Welcome {} B)",
                start.elapsed(),
                s.commit,
                s.welcome
            );
            if kind == Impl::Canopy {
                message_sizes.insert(n, s);
            }
            for (op, t) in r {
                results.entry((op, n)).or_default().insert(kind, t);
            }
        }
    }
    // Rows by operation, then size.
    let mut ordered: Results = BTreeMap::new();
    for op in Op::ALL {
        for &n in &sizes {
            if let Some(by) = results.remove(&(op, n)) {
                ordered.insert((op, n), by);
            }
        }
    }
    let md = table(&ordered, &floors, &message_sizes);
    print!("\n{md}");
    if let Ok(dir) = std::env::var("CANOPY_PEERS_OUT") {
        // Relative to the workspace root (cargo runs benchmarks in the crate's directory).
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = root.join(dir).display().to_string();
        std::fs::create_dir_all(&dir).unwrap();
        let header = format!(
            "Suite 0x0001, handshakes as PublicMessage, tree after one add-everyone commit without a path; \
             OpenMLS 0.9.2 (openmls_rust_crypto), mls-rs 0.57 (mls-rs-crypto-rustcrypto), Canopy at its defaults; \
             one process, release build, medians. The floors' primitives, measured before each size: {}. \
             Canopy's update commits: {}; its add-everyone Welcomes: {}.\n\n",
            floors
                .iter()
                .map(|(n, f)| format!("at n = {n}, {}", f.describe()))
                .collect::<Vec<_>>()
                .join("; "),
            list(&message_sizes, |s| s.commit),
            list(&message_sizes, |s| s.welcome),
        );
        std::fs::write(format!("{dir}/peers.md"), format!("{header}{md}")).unwrap();
        std::fs::write(
            format!("{dir}/peers.svg"),
            svg(&ordered, &floors, &message_sizes),
        )
        .unwrap();
        println!("wrote {dir}/peers.md and {dir}/peers.svg");
    }
}
