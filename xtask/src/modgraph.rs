//! The `use` graph of a crate's modules and its import circles, for `cargo xtask tidy`.
//!
//! Std-only and approximate on purpose: comments, strings and char literals are blanked, then
//! `mod x;` / `mod x { .. }` declarations and `use` trees (`crate::`, `super::`, `self::` and paths
//! through a child module) are read. A module depends on another when one of its `use` items
//! names it (or an item in it). A parent declaring a child (`mod x;`) is not an edge; `use
//! super::x` from a child to its parent's sibling is. `#[cfg(test)]` modules are left out.

use std::collections::{BTreeMap, BTreeSet};

/// One source file of a crate, as a module.
#[derive(Debug, Clone)]
pub struct ModFile {
    /// Module path inside the crate (`""` for the crate root, `a::b` for `src/a/b.rs`).
    pub module: String,
    /// File text.
    pub text: String,
}

/// Module path of a file given its path relative to the crate's `src/` (`a/b.rs`, `a/mod.rs`,
/// `lib.rs`).
pub fn module_of(rel: &str) -> String {
    let rel = rel.trim_end_matches(".rs");
    if rel == "lib" || rel == "main" {
        return String::new();
    }
    let rel = rel.strip_suffix("/mod").unwrap_or(rel);
    rel.replace('/', "::")
}

/// Replaces comments, string and char literals with spaces (keeps line breaks).
fn blank(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let keep = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied().unwrap_or('\0');
        if c == '/' && next == '/' {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == '*' {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(keep(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == '"' || next == '#') && !ident_char(prev(&b, i)) {
            // raw string r"..." / r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < b.len() {
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &x in &b[i..j.min(b.len())] {
                out.push(keep(x));
            }
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(keep(b[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // a char literal ('a', '\n', '\u{..}'), not a lifetime ('a)
            let close = if next == '\\' {
                (i + 3..b.len().min(i + 12)).find(|&j| b[j] == '\'')
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match close {
                Some(j) => {
                    for _ in i..=j {
                        out.push(' ');
                    }
                    i = j + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev(b: &[char], i: usize) -> char {
    if i == 0 {
        ' '
    } else {
        b[i - 1]
    }
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Rust tokens, coarsely: identifiers, `::`, and single punctuation characters.
fn tokens(src: &str) -> Vec<String> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if ident_char(c) {
            let s = i;
            while i < b.len() && ident_char(b[i]) {
                i += 1;
            }
            out.push(b[s..i].iter().collect());
        } else if c == ':' && b.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// Expands a `use` tree (tokens between `use` and `;`) into its paths.
fn use_paths(t: &[String]) -> Vec<Vec<String>> {
    fn tree(t: &[String], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        while *i < t.len() {
            match t[*i].as_str() {
                "::" => *i += 1,
                "{" => {
                    *i += 1;
                    loop {
                        tree(t, i, &path, out);
                        match t.get(*i).map(String::as_str) {
                            Some(",") => *i += 1,
                            Some("}") => {
                                *i += 1;
                                return;
                            }
                            _ => return,
                        }
                        if t.get(*i).map(String::as_str) == Some("}") {
                            *i += 1;
                            return;
                        }
                    }
                }
                "," | "}" => break,
                "*" => {
                    *i += 1;
                    break;
                }
                "as" => {
                    *i += 2;
                    break;
                }
                "self" if !path.is_empty() => *i += 1,
                s => {
                    path.push(s.to_string());
                    *i += 1;
                }
            }
        }
        out.push(path);
    }
    let mut out = Vec::new();
    let mut i = 0;
    let mut start = 0;
    // `pub(crate) use` etc. leave nothing here; a leading `::` means an external crate.
    if t.first().map(String::as_str) == Some("::") {
        return out;
    }
    while start < t.len() {
        tree(t, &mut i, &[], &mut out);
        if i == start {
            break;
        }
        start = i;
        if t.get(i).map(String::as_str) == Some(",") {
            i += 1;
            start = i;
        }
    }
    out
}

/// What one file declares and uses: child modules (`mod x;`, with whether they are test-only)
/// and the `use` paths, each with the inline module it sits in (relative to the file's module).
#[derive(Debug, Default)]
struct Parsed {
    children: Vec<(String, bool)>,
    uses: Vec<(Vec<String>, Vec<String>)>,
}

fn parse(text: &str) -> Parsed {
    let t = tokens(&blank(text));
    let mut p = Parsed::default();
    // Inline module scopes: (name, brace depth at which it closes, test-only).
    let mut scopes: Vec<(String, usize, bool)> = Vec::new();
    let mut depth = 0usize;
    let mut cfg_test = false;
    let mut i = 0;
    while i < t.len() {
        let s = t[i].as_str();
        match s {
            "#" => {
                // #[cfg(test)] (or an attribute list containing it) before the next item
                if let Some(end) = (i..t.len()).find(|&j| t[j] == "]") {
                    let attr = t[i..end].concat();
                    if attr.starts_with("#[cfg(test") || attr.contains("cfg(test)") {
                        cfg_test = true;
                    }
                    i = end + 1;
                    continue;
                }
            }
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                while scopes.last().is_some_and(|s| s.1 > depth) {
                    scopes.pop();
                }
                cfg_test = false;
            }
            ";" => cfg_test = false,
            "mod" => {
                if let (Some(name), Some(next)) = (t.get(i + 1), t.get(i + 2)) {
                    let in_test = cfg_test || scopes.iter().any(|s| s.2);
                    if next == ";" {
                        if scopes.is_empty() {
                            p.children.push((name.clone(), in_test));
                        }
                        i += 3;
                        cfg_test = false;
                        continue;
                    } else if next == "{" {
                        depth += 1;
                        scopes.push((name.clone(), depth, in_test));
                        i += 3;
                        cfg_test = false;
                        continue;
                    }
                }
            }
            "use" => {
                let end = (i..t.len()).find(|&j| t[j] == ";").unwrap_or(t.len());
                let in_test = cfg_test || scopes.iter().any(|s| s.2);
                if !in_test {
                    let inner: Vec<String> = scopes.iter().map(|s| s.0.clone()).collect();
                    for path in use_paths(&t[i + 1..end]) {
                        p.uses.push((inner.clone(), path));
                    }
                }
                cfg_test = false;
                i = end + 1;
                continue;
            }
            "crate" | "super" | "self"
                if t.get(i + 1).map(String::as_str) == Some("::")
                    && (i == 0 || t[i - 1] != "::") =>
            {
                // An inline path (`super::meetings::admin::owns(..)`, `crate::edge::db::n(..)`)
                // imports as surely as a `use`.
                let mut path = vec![s.to_string()];
                let mut j = i + 1;
                while t.get(j).map(String::as_str) == Some("::")
                    && t.get(j + 1).is_some_and(|x| x.chars().all(ident_char))
                {
                    path.push(t[j + 1].clone());
                    j += 2;
                }
                let in_test = cfg_test || scopes.iter().any(|s| s.2);
                if !in_test && path.len() > 1 {
                    let inner: Vec<String> = scopes.iter().map(|s| s.0.clone()).collect();
                    p.uses.push((inner, path));
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    p
}

fn join(parts: &[String]) -> String {
    parts.join("::")
}

fn split(m: &str) -> Vec<String> {
    if m.is_empty() {
        Vec::new()
    } else {
        m.split("::").map(str::to_string).collect()
    }
}

/// The crate's module graph: module -> modules it uses. Test-only modules (declared under
/// `#[cfg(test)]`) are left out; they are also returned so callers can skip them elsewhere.
pub fn graph(files: &[ModFile]) -> (BTreeMap<String, BTreeSet<String>>, BTreeSet<String>) {
    let parsed: Vec<Parsed> = files.iter().map(|f| parse(&f.text)).collect();
    let known: BTreeSet<String> = files.iter().map(|f| f.module.clone()).collect();
    let mut test_only = BTreeSet::new();
    for (f, p) in files.iter().zip(&parsed) {
        for (child, is_test) in &p.children {
            if *is_test {
                let mut m = split(&f.module);
                m.push(child.clone());
                test_only.insert(join(&m));
            }
        }
    }
    // A module under a test-only module is test-only too.
    let is_test = |m: &str| {
        test_only
            .iter()
            .any(|t| m == t || m.starts_with(&format!("{t}::")))
    };
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (f, p) in files.iter().zip(&parsed) {
        if is_test(&f.module) {
            continue;
        }
        g.entry(f.module.clone()).or_default();
        for (inner, path) in &p.uses {
            let mut here = split(&f.module);
            here.extend(inner.iter().cloned());
            let Some(first) = path.first() else { continue };
            let mut abs: Vec<String> = match first.as_str() {
                "crate" => path[1..].to_vec(),
                "self" => here.iter().chain(&path[1..]).cloned().collect(),
                "super" => {
                    let mut base = here.clone();
                    let mut k = 0;
                    while path.get(k).map(String::as_str) == Some("super") {
                        base.pop();
                        k += 1;
                    }
                    base.extend(path[k..].iter().cloned());
                    base
                }
                _ => {
                    // A path through a child module of this (inline) module; else another crate.
                    let mut child = here.clone();
                    child.push(first.clone());
                    if known.contains(&join(&child)) {
                        here.iter().chain(path.iter()).cloned().collect()
                    } else {
                        continue;
                    }
                }
            };
            // The longest known module the path names (an item's module, or the module itself).
            let target = loop {
                let m = join(&abs);
                if known.contains(&m) || abs.is_empty() {
                    break m;
                }
                abs.pop();
            };
            if target != f.module && !is_test(&target) {
                g.entry(f.module.clone()).or_default().insert(target);
            }
        }
    }
    let tests = known.into_iter().filter(|m| is_test(m)).collect();
    (g, tests)
}

/// Every import circle: the strongly connected components with more than one module, each as one
/// concrete cycle `a -> b -> .. -> a` (module paths; `crate` for the root) and all the modules of
/// the component (module paths, `""` for the root).
pub fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<(Vec<String>, Vec<String>)> {
    // Tarjan's algorithm, iterative.
    let nodes: Vec<&String> = g.keys().collect();
    let index_of: BTreeMap<&String, usize> =
        nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let adj: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            g[*n]
                .iter()
                .filter_map(|m| index_of.get(m).copied())
                .collect()
        })
        .collect();
    let n = nodes.len();
    let (mut index, mut low, mut on) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
    let (mut stack, mut sccs, mut next) = (Vec::new(), Vec::new(), 0);
    for s in 0..n {
        if index[s] != usize::MAX {
            continue;
        }
        let mut work = vec![(s, 0usize)];
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if *ei == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on[v] = true;
            }
            if let Some(&w) = adj[v].get(*ei) {
                *ei += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(u, _)) = work.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    sccs.push(comp);
                }
            }
        }
    }
    let name = |i: usize| {
        if nodes[i].is_empty() {
            "crate".to_string()
        } else {
            nodes[i].clone()
        }
    };
    let mut out: Vec<(Vec<String>, Vec<String>)> = sccs
        .into_iter()
        .map(|comp| {
            // The shortest way from the component's first module back to itself (BFS inside it).
            let inside: BTreeSet<usize> = comp.iter().copied().collect();
            let start = *comp.iter().min().unwrap_or(&comp[0]);
            let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut end = start;
            'bfs: while let Some(v) = queue.pop_front() {
                for &w in &adj[v] {
                    if !inside.contains(&w) {
                        continue;
                    }
                    if w == start {
                        end = v;
                        break 'bfs;
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = parent.entry(w) {
                        e.insert(v);
                        queue.push_back(w);
                    }
                }
            }
            let mut path = vec![end];
            while let Some(&p) = parent.get(path.last().unwrap_or(&start)) {
                path.push(p);
            }
            path.reverse();
            let mut cyc: Vec<String> = path.into_iter().map(name).collect();
            if cyc.first() != Some(&name(start)) {
                cyc.insert(0, name(start));
            }
            cyc.push(name(start));
            let mut members: Vec<String> = comp.iter().map(|&i| nodes[i].clone()).collect();
            members.sort();
            (cyc, members)
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<ModFile> {
        list.iter()
            .map(|(rel, text)| ModFile {
                module: module_of(rel),
                text: text.to_string(),
            })
            .collect()
    }

    fn found(list: &[(&str, &str)]) -> Vec<Vec<String>> {
        cycles(&graph(&files(list)).0)
            .into_iter()
            .map(|(cycle, _)| cycle)
            .collect()
    }

    #[test]
    fn module_paths_from_file_paths() {
        assert_eq!(module_of("lib.rs"), "");
        assert_eq!(module_of("main.rs"), "");
        assert_eq!(module_of("a.rs"), "a");
        assert_eq!(module_of("a/mod.rs"), "a");
        assert_eq!(module_of("a/b.rs"), "a::b");
    }

    #[test]
    fn two_files_using_each_other_are_a_circle() {
        let c = found(&[
            ("lib.rs", "mod a;\nmod b;\n"),
            ("a.rs", "use crate::b::Thing;\npub struct Other;\n"),
            ("b.rs", "use crate::a::Other;\npub struct Thing;\n"),
        ]);
        assert_eq!(c, vec![vec!["a", "b", "a"]]);
    }

    #[test]
    fn a_three_module_circle_through_super_and_groups() {
        let c = found(&[
            ("lib.rs", "pub mod net;\nmod x;\n"),
            ("net/mod.rs", "pub mod http;\npub mod tcp;\n"),
            ("net/http.rs", "use super::{tcp::Conn, Unused as U};\n"),
            ("net/tcp.rs", "use crate::x::{self};\n"),
            ("x.rs", "pub use crate::net::http::{Get, Post};\n"),
        ]);
        assert_eq!(c, vec![vec!["net::http", "net::tcp", "x", "net::http"]]);
    }

    #[test]
    fn inline_paths_count_like_use() {
        let c = found(&[
            ("lib.rs", "mod http;\nmod meetings;\n"),
            ("http.rs", "pub fn handle() { super::meetings::admin(); }\n"),
            (
                "meetings.rs",
                "pub fn admin() { let _ = crate::http::handle; }\npub(crate) fn x() {}\n",
            ),
        ]);
        assert_eq!(c.len(), 1, "{c:?}");
        let none = found(&[
            ("lib.rs", "mod http;\nmod meetings;\n"),
            ("http.rs", "pub fn handle() { super::meetings::admin(); }\n"),
            ("meetings.rs", "pub(super) fn admin() {}\n"),
        ]);
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn a_parent_declaring_children_is_not_an_edge() {
        let c = found(&[
            ("lib.rs", "pub mod a;\n"),
            ("a/mod.rs", "mod b;\nmod c;\n"),
            ("a/b.rs", "use super::c::C;\n"),
            ("a/c.rs", "pub struct C;\n"),
        ]);
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn layered_imports_have_no_circle() {
        let c = found(&[
            ("lib.rs", "mod a;\nmod b;\nmod c;\nuse a::A;\n"),
            (
                "a.rs",
                "use crate::b::B;\nuse std::fmt;\nuse serde::Serialize;\n",
            ),
            ("b.rs", "use crate::c::{C, D};\n"),
            ("c.rs", "pub struct C;\n"),
        ]);
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn comments_strings_and_test_modules_do_not_count() {
        let c = found(&[
            ("lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod t;\n"),
            (
                "a.rs",
                "// use crate::b::X;\n/* use crate::b::Y; */\nconst S: &str = \"use crate::b::Z;\";\nfn f<'a>(x: &'a str) -> char { 'u' }\npub struct A;\n",
            ),
            (
                "b.rs",
                "use crate::a::A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::t::Helper;\n}\n",
            ),
            ("t.rs", "use crate::b::B;\nuse crate::a::A;\n"),
        ]);
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn the_root_and_inline_modules_take_part() {
        // lib.rs uses a, and a uses an item of the crate root: a circle through `crate`.
        let c = found(&[
            ("lib.rs", "mod a;\npub use a::run;\npub struct Config;\n"),
            ("a.rs", "mod inner {\n    use super::super::Config;\n}\n"),
        ]);
        assert_eq!(c, vec![vec!["crate", "a", "crate"]]);
    }

    #[test]
    fn the_whole_component_is_returned_with_one_cycle() {
        // a <-> b and b <-> c: one component {a, b, c}, printed as its shortest cycle from a.
        let g = graph(&files(&[
            ("lib.rs", "mod a; mod b; mod c;\n"),
            ("a.rs", "use crate::b::B;\n"),
            ("b.rs", "use crate::{a::A, c::C};\n"),
            ("c.rs", "use crate::b::B;\n"),
        ]))
        .0;
        let found = cycles(&g);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, vec!["a", "b", "a"]);
        assert_eq!(found[0].1, vec!["a", "b", "c"]);
    }

    #[test]
    fn two_separate_circles_are_both_reported() {
        let c = found(&[
            ("lib.rs", "mod a; mod b; mod c; mod d;\n"),
            ("a.rs", "use crate::b::*;\n"),
            ("b.rs", "use crate::a::*;\n"),
            ("c.rs", "use crate::d;\n"),
            ("d.rs", "use crate::c::X;\n"),
        ]);
        assert_eq!(c, vec![vec!["a", "b", "a"], vec!["c", "d", "c"]]);
    }
}
