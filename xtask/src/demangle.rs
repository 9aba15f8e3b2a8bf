//! The chat module's standard-library function names demangled for `widget::stub_panics` (by binutils' `c++filt`), as wasm-bindgen used to demangle them.
//!
//! Std-only: `widget.rs` includes it with `#[path]`, and so do the e2e tests that include that.
//!
//! The standard library is built with Rust's v0 mangling (`_RNvNtCs..._4core9panicking9panic_fmt`);
//! [`super::CHAT_PANIC_ENTRIES`] and [`super::fmt_stub::CHAT_FMT_ENTRIES`] name functions
//! demangled (`core[c5930c85a12de822]::panicking::panic_fmt`). `c++filt` (binutils, which the
//! Rust toolchain links with) reads v0 names; crate hashes are zero-padded to 16 digits.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

/// `wat` (binaryen's text form) with every name `$_R...` written `$"demangled"`; a name whose
/// demangled form would be ambiguous, or would need escaping, stays as it is.
pub fn demangle_wat(wat: &str) -> Result<String, String> {
    let end = |s: &str| s.find([' ', ')', '(', '\n']).unwrap_or(s.len());
    let mut names = BTreeSet::new();
    let mut rest = wat;
    while let Some(i) = rest.find("$_R") {
        let before = wat.len() - rest.len() + i;
        let tail = &rest[i + 1..];
        let name = &tail[..end(tail)];
        if before > 0 && matches!(wat.as_bytes()[before - 1], b' ' | b'(') {
            names.insert(name);
        }
        rest = &tail[name.len()..];
    }
    let names: Vec<&str> = names.into_iter().collect();
    let mut child = Command::new("c++filt")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run c++filt (binutils): {e}"))?;
    let input = names.join("\n") + "\n";
    let mut stdin = child.stdin.take().ok_or("c++filt: no stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("c++filt: {e}"))?;
    writer
        .join()
        .map_err(|_| "c++filt: writer failed".to_string())?
        .map_err(|e| format!("c++filt: {e}"))?;
    let text = String::from_utf8(out.stdout).map_err(|e| format!("c++filt output: {e}"))?;
    let plain: Vec<&str> = text.lines().collect();
    if !out.status.success() || plain.len() != names.len() {
        return Err("c++filt did not demangle the chat module's names".into());
    }
    if !names.is_empty() && names.iter().zip(&plain).all(|(n, p)| n == p) {
        return Err(
            "c++filt left every Rust v0 name (_R...) as it was: binutils 2.36 or newer is needed"
                .into(),
        );
    }
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let padded: Vec<String> = plain.iter().map(|p| pad_hashes(p)).collect();
    for p in &padded {
        *count.entry(p.clone()).or_default() += 1;
    }
    let map: BTreeMap<&str, String> = names
        .iter()
        .zip(&padded)
        .filter(|(n, p)| **n != p.as_str() && count[*p] == 1 && !p.contains(['"', '\\']))
        .map(|(n, p)| (*n, ["\"", p, "\""].concat()))
        .collect();
    let mut out = String::with_capacity(wat.len() + wat.len() / 4);
    let mut rest = wat;
    while let Some(i) = rest.find("$_R") {
        let tail = &rest[i + 1..];
        let name = &tail[..end(tail)];
        out.push_str(&rest[..=i]);
        // The character before the `$`: a name starts after a space or a parenthesis.
        let prior = out.len().checked_sub(2).map(|j| out.as_bytes()[j]);
        match map.get(name) {
            Some(d) if matches!(prior, Some(b' ' | b'(')) => out.push_str(d),
            _ => out.push_str(name),
        }
        rest = &tail[name.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `core[c085af4b5eab0e0]::x` -> `core[0c085af4b5eab0e0]::x`: crate hashes as 16 hex digits.
fn pad_hashes(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut rest = name;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..=i]);
        let tail = &rest[i + 1..];
        let n = tail.find(']').unwrap_or(0);
        let h = &tail[..n];
        if (1..16).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.push_str(&"0".repeat(16 - h.len()));
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{demangle_wat, pad_hashes};

    #[test]
    fn std_names_are_demangled_with_16_digit_hashes_and_others_kept() {
        let std = "$_RNvNtCsgXGp5Oqx2Ny_4core9panicking9panic_fmt";
        let ours = "$_ZN3foo3bar17h0123456789abcdefE";
        let wat = [
            " (func ",
            std,
            " (param $0 i32)\n  (call ",
            ours,
            ")\n  (call ",
            std,
            ")\n )\n",
        ]
        .concat();
        let out = demangle_wat(&wat).expect("c++filt runs");
        assert!(!out.contains(std) && out.contains(ours), "{out}");
        let name = out
            .split("$\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a quoted name");
        assert_eq!(
            super::super::fmt_stub::unhashed(name),
            "core::panicking::panic_fmt"
        );
        assert_eq!(out.matches(&["$\"", name, "\""].concat()).count(), 2);
        assert_eq!(
            pad_hashes("core[c085af4b5eab0e0]::x"),
            "core[0c085af4b5eab0e0]::x"
        );
        assert_eq!(pad_hashes("a[1]::b[x]"), "a[0000000000000001]::b[x]");
    }
}
