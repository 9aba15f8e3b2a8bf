//! How long a browser may keep each widget file (`/widget/*`): the modules have content-hashed
//! names (`chat.<8 hex>.js`, `targeting.<8 hex>.wasm`, made by `cargo xtask widget`), so a name
//! never changes content and is cached for a year, `immutable`, and so are the message catalogues
//! the chat module fetches for a language (`i18n-de.<8 hex>.json`); the loader keeps its stable
//! name and a short cache, revalidated with its ETag. And which file answers a request for the
//! chat module's wasm from a browser that holds the targeting module as a compression dictionary
//! (RFC 9842, [`use_as_dictionary`], [`dcb_asset`]).

use dynchat_engine::assets;

/// The loader's `Cache-Control`: its URL is in every customer's script tag.
pub const LOADER: &str = "public, max-age=300";
/// A content-hashed module's `Cache-Control`.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Any other widget file's `Cache-Control`.
pub const OTHER: &str = "public, max-age=3600";

/// Whether the last segment of `path` is `{name}.{8 hex digits}.{js|wasm|json}` (the engine's
/// one naming rule, shared with the build: `dynchat_engine::assets`).
pub use dynchat_engine::assets::is_hashed_name;

/// The dictionary-compressed chat module (Compression Dictionary Transport, RFC 9842): the
/// targeting module's wasm, which every page that opens the chat fetched first, is the
/// dictionary for the chat module's wasm (`cargo xtask widget` writes its `dcb` body as
/// `chat.<h>.wasm.<sha-256 hex of targeting.<h>.wasm>.dcb`, xtask `widget_dict.rs`).
/// The `Use-As-Dictionary` value for the widget file at `path`: the targeting module's wasm
/// matches the chat module's wasm in the same directory. `None` for any other file, or a
/// directory with characters a URL pattern would read as syntax.
pub fn use_as_dictionary(path: &str) -> Option<String> {
    let (dir, file) = path.rsplit_once('/')?;
    let plain = dir
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    let ext = assets::paired_ext(file, assets::DICTIONARY)?;
    plain.then(|| format!("match=\"{dir}/{}.*.{ext}\"", assets::COMPRESSED))
}

/// The content encoding of the dictionary-compressed chat module: brotli with the dictionary as
/// its raw prefix, after a header of `ff 44 43 42` and the dictionary's sha-256.
pub const DCB: &str = "dcb";
/// `Vary` of a dictionary-compressed answer: it depends on both request headers.
pub const DCB_VARY: &str = "accept-encoding, available-dictionary";

/// The asset that answers a request for `path` dictionary-compressed: `<path>.<sha-256 hex>.dcb`
/// when `path` is the chat module's wasm, `available` (the request's `Available-Dictionary`) is
/// a structured-field byte sequence of 32 bytes and `accept` (its `Accept-Encoding`) lists `dcb`
/// (not with `q=0`). `None` otherwise, also for any malformed header: the plain file is served.
pub fn dcb_asset(path: &str, available: Option<&str>, accept: Option<&str>) -> Option<String> {
    assets::paired_ext(path, assets::COMPRESSED)?;
    let hash = dictionary_hash(available?)?;
    accepts(accept?, DCB).then(|| assets::dcb_name(path, &hash))
}

/// The sha-256 in an `Available-Dictionary` value (`:<base64>:`, RFC 8941 byte sequence).
pub fn dictionary_hash(value: &str) -> Option<[u8; 32]> {
    use base64::Engine;
    let b64 = value.trim().strip_prefix(':')?.strip_suffix(':')?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    bytes.try_into().ok()
}

/// Whether an `Accept-Encoding` value lists `coding` with a weight above zero.
pub fn accepts(accept: &str, coding: &str) -> bool {
    accept.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        name.eq_ignore_ascii_case(coding)
            && parts.all(|p| {
                let p = p.trim();
                let q = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="));
                q.is_none_or(|q| q.trim().parse::<f32>().is_ok_and(|w| w > 0.0))
            })
    })
}

/// The `Cache-Control` of the widget file at `path`.
pub fn cache_control(path: &str) -> &'static str {
    if is_hashed_name(path) {
        IMMUTABLE
    } else if path.ends_with("/loader.js") || path == "loader.js" {
        LOADER
    } else {
        OTHER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_modules_are_immutable_and_the_loader_is_short_lived() {
        for (path, want) in [
            ("/widget/chat.0123abcd.js", IMMUTABLE),
            ("/widget/chat.0123ABCD.wasm", IMMUTABLE),
            ("/widget/targeting.fedcba98.wasm", IMMUTABLE),
            ("/widget/i18n-de.0123abcd.json", IMMUTABLE),
            ("/widget/i18n-de.json", OTHER),
            ("/widget/i18n-de.0123abc.json", OTHER),
            ("/widget/loader.js", LOADER),
            ("/widget/chat.js", OTHER),
            ("/widget/chat_bg.wasm", OTHER),
            ("/widget/chat.0123abc.js", OTHER),
            ("/widget/chat.0123abcde.js", OTHER),
            ("/widget/chat.0123abcx.js", OTHER),
            ("/widget/.0123abcd.js", OTHER),
            ("/widget/0123abcd.js", OTHER),
            ("/widget/chat.0123abcd.css", OTHER),
            ("/widget/x.0123abcd.js/loader.js", LOADER),
        ] {
            assert_eq!(cache_control(path), want, "{path}");
        }
    }

    const HASH: &str = ":3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:";
    const HEX: &str = "deadbeef00000000000000000000000000000000000000000000000000000000";

    #[test]
    fn only_the_targeting_module_is_a_dictionary_for_the_chat_module() {
        assert_eq!(
            use_as_dictionary("/widget/targeting.0123abcd.wasm").as_deref(),
            Some("match=\"/widget/chat.*.wasm\"")
        );
        for path in [
            "/widget/targeting.0123abcd.js",
            "/widget/targeting.0123abcd.json",
            "/widget/chat.0123abcd.wasm",
            "/widget/chat.0123abcd.js",
            "/widget/loader.js",
            "/widget/targeting.0123abc.wasm",
            "/wid*get/targeting.0123abcd.wasm",
            "/w\"/targeting.0123abcd.wasm",
            "targeting.0123abcd.wasm",
        ] {
            assert_eq!(use_as_dictionary(path), None, "{path}");
        }
    }

    #[test]
    fn the_dcb_file_only_for_a_well_formed_hash_and_dcb_accepted() {
        let chat = "/widget/chat.0123abcd.wasm";
        let want = format!("{chat}.{HEX}.dcb");
        for accept in [
            "gzip, deflate, br, zstd, dcb, dcz",
            "DCB",
            "br;q=1, dcb;q=0.5",
            " dcb ",
        ] {
            assert_eq!(
                dcb_asset(chat, Some(HASH), Some(accept)),
                Some(want.clone()),
                "{accept}"
            );
        }
        assert_eq!(
            dcb_asset(chat, Some(&format!("  {HASH} ")), Some("dcb")),
            Some(want)
        );
        for (path, available, accept) in [
            (chat, Some(HASH), Some("gzip, br, dcz")),
            (chat, Some(HASH), Some("dcb;q=0")),
            (chat, Some(HASH), Some("dcb;q=0.0, br")),
            (chat, Some(HASH), Some("dcb;q=x")),
            (chat, Some(HASH), Some("xdcb, dcbx")),
            (chat, Some(HASH), None),
            (chat, None, Some("dcb")),
            (chat, Some(""), Some("dcb")),
            (chat, Some("garbage"), Some("dcb")),
            (chat, Some("::"), Some("dcb")),
            (chat, Some(":3q2+7w==:"), Some("dcb")),
            (chat, Some(":not base64!:"), Some("dcb")),
            (chat, Some(&HASH[1..]), Some("dcb")),
            (
                chat,
                Some(&format!(":{}AAAA:", &HASH[1..HASH.len() - 1])),
                Some("dcb"),
            ),
            ("/widget/chat.0123abcd.json", Some(HASH), Some("dcb")),
            ("/widget/chat.0123abcd.js", Some(HASH), Some("dcb")),
            ("/widget/i18n-de.0123abcd.json", Some(HASH), Some("dcb")),
            ("/widget/targeting.0123abcd.wasm", Some(HASH), Some("dcb")),
            ("/widget/chat.0123abc.wasm", Some(HASH), Some("dcb")),
            ("/widget/loader.js", Some(HASH), Some("dcb")),
        ] {
            assert_eq!(
                dcb_asset(path, available, accept),
                None,
                "{path} {available:?} {accept:?}"
            );
        }
    }
}
