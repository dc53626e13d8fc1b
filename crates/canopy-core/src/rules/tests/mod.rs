//! The rule table's tests: the ids are well-formed, every rule has a negative test, and
//! `docs/rules.md` (the table of rules, sections and tests) is up to date.
//!
//! A negative test is a `#[test]` function, anywhere under `src/` or `tests/` of this crate,
//! that names `Rule::X` and asserts it (with [`assert_rule`](super::assert_rule),
//! [`assert_rejected`](harness::assert_rejected) or an error's `rule()`). Regenerate the table
//! with `CANOPY_BLESS=1 cargo test -p canopy-core --lib rules::tests`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::*;
use crate::wire::ExtensionType;

#[cfg(feature = "extensions")]
mod app_data;
mod commit;
mod defects;
mod framing;
mod harness;
mod join;
#[cfg(feature = "extensions")]
mod multi_credential;
mod proposal;
#[cfg(feature = "extensions")]
mod self_remove;

#[test]
fn rule_ids_are_unique_well_formed_and_round_trip() {
    let mut seen = BTreeSet::new();
    for &rule in Rule::ALL {
        let id = rule.id();
        assert!(seen.insert(id), "duplicate id {id}");
        let (prefix, number) = id.split_once('-').expect("PREFIX-NN");
        assert!(
            [
                "FR", "LN", "KP", "TR", "PR", "CM", "EX", "WE", "AP", "SR", "AD", "AE", "XT", "MC"
            ]
            .contains(&prefix)
        );
        assert_eq!(number.len(), 2, "{id}");
        assert!(number.chars().all(|c| c.is_ascii_digit()), "{id}");
        assert_eq!(Rule::from_id(id), Some(rule));
        let section = rule.section();
        assert!(
            section.starts_with('§') || section.starts_with("ext §") || section.contains("RFC")
        );
        assert!(!rule.summary().is_empty());
    }
    assert_eq!(Rule::from_id("LN-99"), None);
}

#[test]
fn a_violation_says_the_rule_the_place_and_what_was_found() {
    let v = Violation::new(Rule::LeafExtensionsListed)
        .at(At::Leaf(7))
        .with(Detail::Extension(ExtensionType(0x0A0A)));
    let text = v.to_string();
    assert!(text.contains("LN-08"), "{text}");
    assert!(text.contains("§7.2"), "{text}");
    assert!(text.contains("leaf 7"), "{text}");
    assert!(text.contains("0x0a0a"), "{text}");
    assert_eq!(v.rule(), Rule::LeafExtensionsListed);
    assert_eq!(v.location(), At::Leaf(7));
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of the tests in `file` (`rules::tests::leaf` for
/// `src/rules/tests/leaf.rs`, `scenarios` for `tests/scenarios.rs`).
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap();
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "src" || p == "tests") {
        parts.remove(0);
    }
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_string();
    }
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// For each rule, the negative tests that assert it.
fn negative_tests() -> BTreeMap<Rule, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    let by_name: BTreeMap<&str, Rule> = Rule::ALL.iter().map(|r| (r.name(), *r)).collect();
    let markers = [
        "assert_rule(",
        "assert_rejected(",
        ".rule()",
        "assert_join_rejected(",
    ];
    let mut found: BTreeMap<Rule, BTreeSet<String>> = BTreeMap::new();
    let this = root.join("src/rules/tests/mod.rs");
    for file in files.into_iter().filter(|f| *f != this) {
        let text = std::fs::read_to_string(&file).unwrap();
        let module = module_of(root, &file);
        let mut bodies: Vec<(String, String)> = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            if line.trim() != "#[test]" {
                continue;
            }
            let mut name = None;
            let mut body = String::new();
            while let Some(next) = lines.peek() {
                let t = next.trim();
                if t == "#[test]" {
                    break;
                }
                if name.is_none()
                    && let Some(rest) = t.strip_prefix("fn ")
                {
                    name = rest.split('(').next().map(str::to_string);
                }
                body.push_str(next);
                body.push('\n');
                lines.next();
            }
            if let Some(name) = name {
                bodies.push((name, body));
            }
        }
        for (name, body) in bodies {
            if !markers.iter().any(|m| body.contains(m)) {
                continue;
            }
            for piece in body.split("Rule::").skip(1) {
                let ident: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if let Some(rule) = by_name.get(ident.as_str()) {
                    let path = if module.is_empty() {
                        name.clone()
                    } else {
                        format!("{module}::{name}")
                    };
                    found.entry(*rule).or_default().insert(path);
                }
            }
        }
    }
    found
}

/// The table of `docs/rules.md`.
fn table(tests: &BTreeMap<Rule, BTreeSet<String>>) -> String {
    let mut out = String::from(
        "# Canopy's validity rules\n\n\
         Every rule of RFC 9420 that Canopy checks on what a peer sends, with its id, the \
         section that states it, and the negative tests that break exactly that rule. \
         Generated by `cargo test -p canopy-core --lib rules::tests` (run it with \
         `CANOPY_BLESS=1` to rewrite this file); the test fails when a rule has no test or this \
         file is out of date. The rules are checked by `canopy_core::rules`; a broken rule is a \
         `Violation` naming its `Rule`.\n\n\
         | rule | RFC 9420 | requires | negative tests |\n|---|---|---|---|\n",
    );
    for &rule in Rule::ALL {
        let names: Vec<String> = tests
            .get(&rule)
            .map(|t| t.iter().map(|n| format!("`{n}`")).collect())
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            rule.id(),
            rule.section(),
            rule.summary().replace('|', "\\|"),
            names.join("<br>")
        ));
    }
    out
}

#[test]
fn every_rule_has_a_negative_test_and_the_table_is_current() {
    let tests = negative_tests();
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .filter(|r| !tests.contains_key(r))
        .map(|r| r.id())
        .collect();
    let expected = table(&tests);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    if std::env::var_os("CANOPY_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    assert!(
        missing.is_empty(),
        "rules without a negative test: {missing:?}"
    );
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == expected,
        "docs/rules.md is out of date: run CANOPY_BLESS=1 cargo test -p canopy-core --lib rules::tests"
    );
}
