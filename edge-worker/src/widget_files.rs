//! How long a browser may keep each widget file (`/widget/*`): the modules have content-hashed
//! names (`chat.<8 hex>.js`, `targeting.<8 hex>.wasm`, made by `cargo xtask widget`), so a name
//! never changes content and is cached for a year, `immutable`, and so are the message catalogues
//! the chat module fetches for a language (`i18n-de.<8 hex>.json`); the loader keeps its stable
//! name and a short cache, revalidated with its ETag.

/// The loader's `Cache-Control`: its URL is in every customer's script tag.
pub const LOADER: &str = "public, max-age=300";
/// A content-hashed module's `Cache-Control`.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Any other widget file's `Cache-Control`.
pub const OTHER: &str = "public, max-age=3600";

/// Whether the last segment of `path` is `{name}.{8 hex digits}.{js|wasm|json}`.
pub fn is_hashed_name(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let mut parts = file.rsplitn(3, '.');
    let (ext, hash, stem) = (parts.next(), parts.next(), parts.next());
    matches!(ext, Some("js" | "wasm" | "json"))
        && hash.is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        && stem.is_some_and(|s| !s.is_empty())
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
}
