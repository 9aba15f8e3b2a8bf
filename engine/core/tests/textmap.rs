//! `TextMap` behaves as the `BTreeMap<K, String>` it replaced in `Session`: same order, same
//! answers to every operation, the same JSON through serde.

use dynchat_engine::TextMap;
use std::collections::BTreeMap;

#[test]
fn same_as_btreemap_over_a_sequence_of_operations() {
    let mut t: TextMap<u16> = TextMap::new();
    let mut b: BTreeMap<u16, String> = BTreeMap::new();
    // A fixed pseudo-random sequence: inserts (some replacing), removals, lookups.
    let mut x: u32 = 12345;
    for step in 0..2000u32 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let k = ((x >> 16) % 97) as u16;
        let v = step.to_string();
        match (x >> 8) % 4 {
            0 | 1 => assert_eq!(t.insert(k, v.clone()), b.insert(k, v)),
            2 => assert_eq!(t.remove(&k), b.remove(&k)),
            _ => {
                assert_eq!(t.get(&k), b.get(&k));
                assert_eq!(t.contains_key(&k), b.contains_key(&k));
            }
        }
        assert_eq!(t.len(), b.len());
    }
    assert!(t.iter().eq(b.iter()));
    assert!(t.keys().eq(b.keys()));
    assert!(t.values().eq(b.values()));
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let back: TextMap<u16> = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
    assert_eq!(back, t);
}

#[test]
fn string_keys_are_looked_up_by_str_in_byte_order_and_later_entries_win() {
    let t: TextMap<String> = [
        ("b".to_string(), "1".to_string()),
        ("a".to_string(), "2".to_string()),
        ("B".to_string(), "3".to_string()),
        ("a".to_string(), "4".to_string()),
    ]
    .into();
    let keys: Vec<&str> = t.keys().map(String::as_str).collect();
    assert_eq!(keys, ["B", "a", "b"]);
    assert_eq!(t.get("a").map(String::as_str), Some("4"));
    assert_eq!(t.get("c"), None);
    assert_eq!(format!("{t:?}"), r#"{"B": "3", "a": "4", "b": "1"}"#);
}
