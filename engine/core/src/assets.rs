//! The widget's file names, one rule for the build that writes them (`cargo xtask widget`) and the
//! worker that serves them: content-hashed modules (`chat.0123abcd.wasm`), and the chat module
//! compressed against the targeting module (Compression Dictionary Transport, RFC 9842).

/// Hex digits of a module's content hash in its file name.
pub const HASH_LEN: usize = 8;
/// The extensions a content-hashed widget file has.
pub const HASHED_EXTS: [&str; 3] = ["js", "wasm", "json"];
/// The module that serves as the compression dictionary: every page that opens the chat fetched it first.
pub const DICTIONARY: &str = "targeting";
/// The module compressed against [`DICTIONARY`] (same extension: wasm against wasm).
pub const COMPRESSED: &str = "chat";
/// The extensions paired between [`COMPRESSED`] and [`DICTIONARY`]: the wasm only (the targeting
/// module's glue is in the loader, so it has no script to serve as the chat script's dictionary).
pub const DICTIONARY_EXTS: [&str; 1] = ["wasm"];

/// The content-hashed name of a module: `{stem}.{hash}.{ext}`.
pub fn hashed_name(stem: &str, hash: &str, ext: &str) -> String {
    [stem, ".", hash, ".", ext].concat()
}

/// `(stem, hash, ext)` when the last segment of `path` is `{stem}.{8 hex digits}.{js|wasm|json}`.
pub fn hashed_parts(path: &str) -> Option<(&str, &str, &str)> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let mut parts = file.rsplitn(3, '.');
    let (ext, hash, stem) = (parts.next()?, parts.next()?, parts.next()?);
    (HASHED_EXTS.contains(&ext)
        && hash.len() == HASH_LEN
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && !stem.is_empty())
    .then_some((stem, hash, ext))
}

/// Whether the last segment of `path` is a content-hashed name ([`hashed_parts`]).
pub fn is_hashed_name(path: &str) -> bool {
    hashed_parts(path).is_some()
}

/// The extension of `path` when it is the content-hashed `module` (a stem such as [`DICTIONARY`])
/// with one of [`DICTIONARY_EXTS`].
pub fn paired_ext<'a>(path: &'a str, module: &str) -> Option<&'a str> {
    hashed_parts(path).and_then(|(stem, _, ext)| {
        (stem == module && DICTIONARY_EXTS.contains(&ext)).then_some(ext)
    })
}

/// The file that holds `file` (a [`COMPRESSED`] module) compressed against the dictionary of
/// sha-256 `dict_sha256`: `{file}.{sha-256 hex}.dcb`. The hash is in the name, so the worker finds
/// the file from a request's `Available-Dictionary` alone.
pub fn dcb_name(file: &str, dict_sha256: &[u8]) -> String {
    let hex: String = dict_sha256.iter().map(|b| format!("{b:02x}")).collect();
    [file, ".", &hex, ".dcb"].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_stem_eight_hex_digits_and_a_module_extension() {
        assert_eq!(hashed_name("chat", "0123abcd", "js"), "chat.0123abcd.js");
        assert_eq!(
            hashed_parts("/widget/i18n-de.0123ABCD.json"),
            Some(("i18n-de", "0123ABCD", "json"))
        );
        for bad in [
            "chat.js",
            "chat.0123abc.js",
            "chat.0123abcde.js",
            "chat.0123abcx.js",
            ".0123abcd.js",
            "0123abcd.js",
            "chat.0123abcd.css",
            "/widget/x.0123abcd.js/loader.js",
        ] {
            assert!(!is_hashed_name(bad), "{bad}");
        }
    }

    #[test]
    fn only_the_paired_modules_and_extensions_are_dictionary_files() {
        assert_eq!(
            paired_ext("/w/targeting.0123abcd.wasm", DICTIONARY),
            Some("wasm")
        );
        assert_eq!(
            paired_ext("/w/chat.0123abcd.wasm", COMPRESSED),
            Some("wasm")
        );
        // The scripts are not paired: the targeting module has none (its glue is in the loader).
        assert_eq!(paired_ext("/w/chat.0123abcd.js", COMPRESSED), None);
        assert_eq!(paired_ext("/w/targeting.0123abcd.js", DICTIONARY), None);
        assert_eq!(paired_ext("/w/targeting.0123abcd.json", DICTIONARY), None);
        assert_eq!(paired_ext("/w/chat.0123abcd.wasm", DICTIONARY), None);
        assert_eq!(paired_ext("/w/xtargeting.0123abcd.wasm", DICTIONARY), None);
    }

    #[test]
    fn the_dcb_name_carries_the_dictionary_hash_in_hex() {
        let mut h = [0u8; 32];
        h[0] = 0xde;
        h[31] = 0x0f;
        let name = dcb_name("chat.0123abcd.wasm", &h);
        assert_eq!(name.len(), "chat.0123abcd.wasm".len() + 1 + 64 + 4);
        assert!(name.starts_with("chat.0123abcd.wasm.de00"));
        assert!(name.ends_with("000f.dcb"));
    }
}
