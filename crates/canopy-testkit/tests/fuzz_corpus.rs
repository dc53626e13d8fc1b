//! Replays every checked-in fuzz input (`fuzz/corpus/<target>/` and the crash regressions in
//! `fuzz/artifacts/<target>/`) through the entry points of `canopy_testkit::fuzz`, on stable
//! and without cargo-fuzz: CI needs no nightly. `write_seed_corpus` (ignored) writes the
//! seeds generated from the fixtures.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use canopy_testkit::fuzz::{TARGETS, seeds::seeds};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_corpus_and_artifact_file_replays_without_a_finding() {
    let mut replayed = 0usize;
    for (target, run) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(target));
        assert!(!corpus.is_empty(), "no corpus for {target}");
        for path in corpus
            .iter()
            .chain(&files(&fuzz_dir().join("artifacts").join(target)))
        {
            let data = std::fs::read(path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", path.display());
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len());
}

#[test]
fn every_seed_replays_without_a_finding() {
    for (target, run) in TARGETS {
        let seeds = seeds(target).unwrap().expect("a target without seeds");
        assert!(!seeds.is_empty(), "{target}");
        for (name, data) in seeds {
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: seed {name} fails");
        }
    }
}

/// Writes the generated seeds to `fuzz/corpus/<target>/seed_<name>`:
/// `cargo test -p canopy-testkit --test fuzz_corpus -- --ignored write_seed_corpus`.
#[test]
#[ignore = "writes files: run by hand to refresh the seed corpus"]
fn write_seed_corpus() {
    for (target, _) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in seeds(target).unwrap().unwrap() {
            std::fs::write(dir.join(format!("seed_{name}")), data).unwrap();
        }
    }
}
