use std::collections::BTreeSet;

use super::*;

#[test]
fn rule_ids_are_unique_well_formed_and_round_trip() {
    let mut seen = BTreeSet::new();
    for &rule in Rule::ALL {
        let id = rule.id();
        assert!(seen.insert(id), "duplicate id {id}");
        let (prefix, number) = id.split_once('-').expect("PREFIX-NN");
        assert!(["FR", "LN", "KP", "TR", "PR", "CM", "EX", "WE", "AP"].contains(&prefix));
        assert_eq!(number.len(), 2, "{id}");
        assert!(number.chars().all(|c| c.is_ascii_digit()), "{id}");
        assert_eq!(Rule::from_id(id), Some(rule));
        assert!(rule.section().starts_with('§') || rule.section().contains("RFC"));
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
