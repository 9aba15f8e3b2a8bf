//! [`TextMap`]: keys to texts in a `Vec` sorted by key, for a session's answers and fields.
//!
//! It behaves as the `BTreeMap<K, String>` it replaces (key order, `insert` replaces, serde as a
//! map, equality), with a fraction of the code in the browser's wasm: a session holds a few dozen
//! entries, and each `BTreeMap` key type cost the chat module about 6 KB of node handling.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

/// A map from keys to texts, in key order.
#[derive(Clone, PartialEq, Eq)]
pub struct TextMap<K>(Vec<(K, String)>);

/// The entries of a [`TextMap`] by reference, in key order.
pub type Iter<'a, K> =
    std::iter::Map<std::slice::Iter<'a, (K, String)>, fn(&'a (K, String)) -> (&'a K, &'a String)>;

fn pair<K>(e: &(K, String)) -> (&K, &String) {
    (&e.0, &e.1)
}

impl<K> Default for TextMap<K> {
    fn default() -> Self {
        TextMap(Vec::new())
    }
}

impl<K: Ord> TextMap<K> {
    /// An empty map.
    pub const fn new() -> Self {
        TextMap(Vec::new())
    }

    fn find<Q: ?Sized + Ord>(&self, k: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|(x, _)| x.borrow().cmp(k))
    }

    /// The text at `k`.
    pub fn get<Q: ?Sized + Ord>(&self, k: &Q) -> Option<&String>
    where
        K: Borrow<Q>,
    {
        let i = self.find(k).ok()?;
        self.0.get(i).map(|e| &e.1)
    }

    /// Whether `k` has a text.
    pub fn contains_key<Q: ?Sized + Ord>(&self, k: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(k).is_ok()
    }

    /// Sets `k` to `v`; the text it replaced.
    pub fn insert(&mut self, k: K, v: String) -> Option<String> {
        match self.find(&k) {
            Ok(i) => self.0.get_mut(i).map(|e| std::mem::replace(&mut e.1, v)),
            Err(i) => {
                self.0.insert(i, (k, v));
                None
            }
        }
    }

    /// Takes `k` out; its text.
    pub fn remove<Q: ?Sized + Ord>(&mut self, k: &Q) -> Option<String>
    where
        K: Borrow<Q>,
    {
        let i = self.find(k).ok()?;
        Some(self.0.remove(i).1)
    }
}

impl<K> TextMap<K> {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K> {
        self.0.iter().map(pair as fn(&(K, String)) -> (&K, &String))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.0.iter().map(|e| &e.0)
    }

    /// The texts in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|e| &e.1)
    }
}

impl<'a, K> IntoIterator for &'a TextMap<K> {
    type Item = (&'a K, &'a String);
    type IntoIter = Iter<'a, K>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K> IntoIterator for TextMap<K> {
    type Item = (K, String);
    type IntoIter = std::vec::IntoIter<(K, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl TextMap<String> {
    /// A JSON object of strings (`{name: text}`, as written by `json::Out::map`) read with the
    /// engine's JSON reader; `None` when it is not one. Filled by `insert` (collecting into a map
    /// would sort: a sort per type in the wasm); one reader for the session's fields and the
    /// chat module's.
    pub fn from_json(v: &crate::json::J) -> Option<TextMap<String>> {
        let mut m = TextMap::new();
        for (k, v) in v.obj()? {
            m.insert(k.clone(), v.str()?.to_string());
        }
        Some(m)
    }
}

/// Inserted one by one (a later entry replaces an earlier one with the same key), so no sort
/// implementation is linked.
impl<K: Ord> FromIterator<(K, String)> for TextMap<K> {
    fn from_iter<I: IntoIterator<Item = (K, String)>>(iter: I) -> Self {
        let mut m = TextMap::new();
        m.extend(iter);
        m
    }
}

impl<K: Ord> Extend<(K, String)> for TextMap<K> {
    fn extend<I: IntoIterator<Item = (K, String)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Ord, const N: usize> From<[(K, String); N]> for TextMap<K> {
    fn from(a: [(K, String); N]) -> Self {
        a.into_iter().collect()
    }
}

impl<K: fmt::Debug> fmt::Debug for TextMap<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Serialize> Serialize for TextMap<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, K: Deserialize<'de> + Ord> Deserialize<'de> for TextMap<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<K, String>::deserialize(d)?;
        Ok(TextMap(m.into_iter().collect()))
    }
}
