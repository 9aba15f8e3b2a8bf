//! The security headers of the console's pages and files (`/console/*`): a strict
//! Content-Security-Policy (no inline script or style, no `eval`; WebAssembly allowed), and no
//! framing by any page (`frame-ancestors 'none'` and `X-Frame-Options: DENY`).

/// The console's policy. It loads its module script, wasm and stylesheet from its own origin,
/// calls the admin API on it, frames the demo site for the editor preview (`frame-src 'self'`)
/// and shows its favicon as a `data:` image.
pub const CONSOLE_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; font-src 'self'; \
manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every response under `/console/` carries.
pub fn console_headers() -> [(&'static str, &'static str); 5] {
    [
        ("Content-Security-Policy", CONSOLE_POLICY),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directive<'a>(name: &str) -> Option<&'a str> {
        CONSOLE_POLICY
            .split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix(name).map(str::trim))
    }

    #[test]
    fn the_console_policy_is_strict() {
        assert!(
            !CONSOLE_POLICY.contains("unsafe-inline"),
            "{CONSOLE_POLICY}"
        );
        assert!(
            !CONSOLE_POLICY.contains("'unsafe-eval'"),
            "{CONSOLE_POLICY}"
        );
        assert_eq!(directive("default-src"), Some("'none'"));
        assert_eq!(directive("script-src"), Some("'self' 'wasm-unsafe-eval'"));
        assert_eq!(directive("frame-ancestors"), Some("'none'"));
        assert!(console_headers().contains(&("X-Frame-Options", "DENY")));
    }
}
