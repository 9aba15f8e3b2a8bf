//! The chat module compressed against the targeting module the browser already holds (Compression Dictionary Transport, RFC 9842, `dcb`).
//!
//! Every page that opens the chat has fetched `targeting.<hash>.wasm` first; the worker marks it
//! `Use-As-Dictionary` (edge-worker `widget_files.rs`), and Chromium then asks for
//! `chat.<hash>.wasm` with `Available-Dictionary: :<base64 sha-256 of the targeting wasm>:` and
//! `dcb` in `Accept-Encoding`. This module writes, at widget build time, the answer to
//! that request: `chat.<hash>.<ext>.<sha-256 hex of the dictionary>.dcb`, the `dcb` body (the
//! magic `ff 44 43 42`, the dictionary's sha-256, then a brotli stream, quality 11, with the
//! dictionary as its raw prefix). The dictionary's hash is in the file name, so the worker finds
//! the file from the request's header alone. Written only when it is smaller than the plain
//! brotli stream of the same encoder; deterministic; checked by decompressing it again with
//! another implementation (Rust's `brotli-decompressor`).
//! Std plus the `brotlic-sys` (C brotli), `brotli-decompressor` (the check) and `sha2` crates: `widget.rs` includes it with
//! `#[path]`, and so does the e2e test that includes `widget.rs`.

use sha2::{Digest, Sha256};
use std::fs;
use std::path::Path;

/// The `dcb` body's first four bytes (RFC 9842, section 4: "DCB" after 0xff).
pub const DCB_MAGIC: [u8; 4] = [0xff, 0x44, 0x43, 0x42];
// The module that serves as the dictionary, the module compressed against it and the extensions
// paired (`chat.<h>.wasm` against `targeting.<h>.wasm` only: the targeting module's glue is in the
// loader, which is cached five minutes only, so chat.js comes plain), and the `dcb` file's
// name: the engine's, one rule with the worker that serves them (`dynchat_engine::assets`).
use dynchat_engine::assets::{dcb_name, COMPRESSED, DICTIONARY, DICTIONARY_EXTS as EXTS};

/// Brotli quality 11 with a 4 MB window (the dictionary and the module both fit in it) and
/// `dict` (may be empty) as the stream's raw prefix, by the reference C encoder (brotli 1.1's
/// prepared raw dictionaries, built by `brotlic-sys`; Rust's `brotli` crate makes a 409 B
/// larger chat wasm stream).
pub fn brotli(data: &[u8], dict: &[u8]) -> Result<Vec<u8>, String> {
    use brotlic_sys::*;
    use std::ptr::null_mut;
    // SAFETY: the C encoder reads `data` and `dict` within their lengths and writes `out` within
    // `avail_out`; the instance and the prepared dictionary are freed once, after their last use
    // (the instance first: it holds the dictionary).
    unsafe {
        let s = BrotliEncoderCreateInstance(None, None, null_mut());
        if s.is_null() {
            return Err("brotli: no encoder instance".into());
        }
        BrotliEncoderSetParameter(s, BrotliEncoderParameter_BROTLI_PARAM_QUALITY, 11);
        BrotliEncoderSetParameter(s, BrotliEncoderParameter_BROTLI_PARAM_LGWIN, 22);
        let hint = u32::try_from(data.len()).unwrap_or(u32::MAX);
        BrotliEncoderSetParameter(s, BrotliEncoderParameter_BROTLI_PARAM_SIZE_HINT, hint);
        let mut prepared = null_mut();
        if !dict.is_empty() {
            prepared = BrotliEncoderPrepareDictionary(
                BrotliSharedDictionaryType_BROTLI_SHARED_DICTIONARY_RAW,
                dict.len(),
                dict.as_ptr(),
                11,
                None,
                None,
                null_mut(),
            );
        }
        let attached = dict.is_empty()
            || (!prepared.is_null() && BrotliEncoderAttachPreparedDictionary(s, prepared) == 1);
        let mut out = vec![0u8; data.len() + data.len() / 2 + 1024];
        let (mut avail_in, mut next_in) = (data.len(), data.as_ptr());
        let (mut avail_out, mut next_out) = (out.len(), out.as_mut_ptr());
        let done = attached
            && BrotliEncoderCompressStream(
                s,
                BrotliEncoderOperation_BROTLI_OPERATION_FINISH,
                &mut avail_in,
                &mut next_in,
                &mut avail_out,
                &mut next_out,
                null_mut(),
            ) == 1
            && BrotliEncoderIsFinished(s) == 1;
        BrotliEncoderDestroyInstance(s);
        if !prepared.is_null() {
            BrotliEncoderDestroyPreparedDictionary(prepared);
        }
        if !done {
            return Err("brotli: the encoder did not finish".into());
        }
        out.truncate(out.len() - avail_out);
        Ok(out)
    }
}

/// Decompresses a brotli stream made with `dict` as its raw prefix.
pub fn unbrotli(stream: &[u8], dict: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    brotli_decompressor::BrotliDecompressCustomDict(
        &mut &stream[..],
        &mut out,
        &mut [0u8; 4096],
        &mut [0u8; 4096],
        dict.to_vec(),
    )
    .map_err(|e| format!("brotli decompress: {e}"))?;
    Ok(out)
}

/// The `dcb` body of `data` against `dict`: magic, sha-256 of `dict`, brotli stream.
pub fn dcb(data: &[u8], dict: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = DCB_MAGIC.to_vec();
    body.extend_from_slice(&Sha256::digest(dict));
    body.extend(brotli(data, dict)?);
    Ok(body)
}

/// Writes the `dcb` form of each `chat.<hash>.<ext>` in `dir` (a widget build, names hashed)
/// against `targeting.<hash>.<ext>`, when it is smaller than the plain brotli stream; returns
/// the names written.
pub fn write(dir: &Path) -> Result<Vec<String>, String> {
    let mut written = Vec::new();
    for ext in EXTS {
        let dict_path = super::hashed_file(dir, DICTIONARY, ext)?;
        let data_path = super::hashed_file(dir, COMPRESSED, ext)?;
        let read = |p: &Path| fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let (dict, data) = (read(&dict_path)?, read(&data_path)?);
        let body = dcb(&data, &dict)?;
        if unbrotli(&body[36..], &dict)? != data {
            return Err(format!(
                "{}: the dcb stream does not decompress to the module",
                data_path.display()
            ));
        }
        if body.len() >= brotli(&data, &[])?.len() {
            continue;
        }
        let name = data_path
            .file_name()
            .map(|n| dcb_name(&n.to_string_lossy(), &body[4..36]))
            .ok_or_else(|| format!("{}: no file name", data_path.display()))?;
        fs::write(dir.join(&name), &body).map_err(|e| format!("{name}: {e}"))?;
        written.push(name);
    }
    Ok(written)
}

/// The size of the `dcb` form of `chat.<hash>.<ext>` in `dir` against the targeting module's
/// file of the same extension, if the build wrote one.
pub fn dcb_size(dir: &Path, ext: &str) -> Result<Option<u64>, String> {
    let dict_path = super::hashed_file(dir, DICTIONARY, ext)?;
    let data_path = super::hashed_file(dir, COMPRESSED, ext)?;
    let dict = fs::read(&dict_path).map_err(|e| format!("{}: {e}", dict_path.display()))?;
    let name = data_path
        .file_name()
        .map(|n| dcb_name(&n.to_string_lossy(), &Sha256::digest(&dict)))
        .unwrap_or_default();
    Ok(fs::metadata(dir.join(name)).ok().map(|m| m.len()))
}

/// The entry of `widget::sizes` beside `chat-open total`: the same files, the chat module's as
/// Chromium with the targeting module as its dictionary gets them (`dcb` where the build wrote it).
pub const CHROMIUM_TOTAL: &str = "chat-open total, Chromium with dictionary";

/// The chat module's js + wasm bytes in Chromium with the dictionary: each file's `dcb` size where
/// the build wrote one, else `plain` (its brotli size; `[js, wasm]`).
pub fn chat_in_chromium(dir: &Path, plain: [u64; 2]) -> Result<u64, String> {
    let mut total = 0;
    for (ext, p) in ["js", "wasm"].into_iter().zip(plain) {
        let dcb = if EXTS.contains(&ext) {
            dcb_size(dir, ext)?
        } else {
            None
        };
        total += dcb.map_or(p, |d| d.min(p));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dcb_round_trips_and_the_dictionary_pays() {
        let dict: Vec<u8> = (0..20_000u32)
            .flat_map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes())
            .collect();
        let mut data = dict[5_000..15_000].to_vec();
        data.extend_from_slice(b"and something new at the end");
        let body = dcb(&data, &dict).expect("dcb");
        assert_eq!(body[..4], DCB_MAGIC);
        assert_eq!(body[4..36], Sha256::digest(&dict)[..]);
        assert_eq!(unbrotli(&body[36..], &dict).expect("unbrotli"), data);
        let plain = brotli(&data, &[]).expect("brotli");
        assert!(
            body.len() * 4 < plain.len(),
            "{} vs {}",
            body.len(),
            plain.len()
        );
        assert_eq!(dcb(&data, &dict).expect("dcb"), body, "deterministic");
    }
}
