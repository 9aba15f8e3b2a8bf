//! Secrets at rest: one AES-256-GCM scheme for every stored secret (calendar credentials, the
//! console's Marketo client secret). Each ciphertext is bound to a context string (associated
//! data naming its row), so a value copied to another row does not decrypt.
//!
//! Stored form: base64(nonce(12) || ciphertext || tag(16)). Values written before contexts were
//! used for the console's Marketo secret (associated data empty) still open through
//! [`open_or_legacy`]; the next save re-seals them with their context.

use crate::error::ApiError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// A 32-byte key.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl Key {
    /// From 64 hex digits, or any other non-empty text hashed with SHA-256 (`CALENDAR_KEY`).
    pub fn from_hex_or_text(name: &str, secret: &str) -> Result<Key, ApiError> {
        let s = secret.trim();
        if s.is_empty() {
            return Err(ApiError::Config(format!("{name} is not set")));
        }
        if s.len() == 64 {
            if let Ok(v) = hex_decode(s) {
                if let Ok(k) = <[u8; 32]>::try_from(v.as_slice()) {
                    return Ok(Key(k));
                }
            }
        }
        Ok(Key(Sha256::digest(s.as_bytes()).into()))
    }

    /// From exactly 32 bytes in base64 (`CONSOLE_KEY`).
    pub fn from_base64(name: &str, secret: &str) -> Result<Key, ApiError> {
        B64.decode(secret.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .map(Key)
            .ok_or_else(|| ApiError::Config(format!("{name} must be 32 bytes, base64")))
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// The raw bytes (for callers that still take `&[u8; 32]`).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

fn hex_decode(s: &str) -> Result<Vec<u8>, ()> {
    if s.len() % 2 != 0 {
        return Err(());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(())
        })
        .collect()
}

/// Encrypts `plain` bound to `context` with a fresh 12-byte `nonce` (from the platform CSPRNG).
pub fn seal(key: &Key, nonce: [u8; 12], context: &str, plain: &[u8]) -> Result<String, ApiError> {
    let cipher = Aes256Gcm::new((&key.0).into());
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| ApiError::Config("encryption failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend(ct);
    Ok(B64.encode(out))
}

/// Decrypts what [`seal`] wrote with the same key and context; anything else is an error
/// naming `what` (never the secret).
pub fn open(key: &Key, context: &str, sealed: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    let raw = B64
        .decode(sealed.trim())
        .map_err(|_| ApiError::Config(format!("stored {what} is not base64")))?;
    if raw.len() < 12 + 16 {
        return Err(ApiError::Config(format!("stored {what} is truncated")));
    }
    let cipher = Aes256Gcm::new((&key.0).into());
    cipher
        .decrypt(
            Nonce::from_slice(&raw[..12]),
            Payload {
                msg: &raw[12..],
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| ApiError::Config(format!("stored {what} does not decrypt with this key")))
}

/// [`open`], falling back to the empty context of values stored before contexts were bound.
pub fn open_or_legacy(
    key: &Key,
    context: &str,
    sealed: &str,
    what: &str,
) -> Result<Vec<u8>, ApiError> {
    open(key, context, sealed, what).or_else(|e| open(key, "", sealed, what).map_err(|_| e))
}

/// The context of the console's saved Marketo client secret.
pub const MARKETO_SECRET_CONTEXT: &str = "dynchat/console/marketo/client_secret";

#[cfg(test)]
mod tests {
    use super::*;

    const CONSOLE_KEY: &str = "ZHluY2hhdC1jb25zb2xlLXRlc3Qta2V5LTMyLWJ5dGU=";
    const CALENDAR_KEY: &str = "3c0e8d1f2a4b6c7d8e9f00112233445566778899aabbccddeeff0011223344aa";
    /// Written by the console's previous `encrypt` (AES-GCM, no associated data) with
    /// `CONSOLE_KEY` above: the secret `marketo-secret-1`.
    const LEGACY_CONSOLE_FIXTURE: &str =
        "AAECAwQFBgcICQoL1nCg0O5WOum6nhYRCHv3TtTs5CSsvbZNqPAln4uwXMY=";
    /// Written by the previous `calendar::seal` with `CALENDAR_KEY` above, context
    /// `dynchat/acme/alex-morgan/caldav`: `{"kind":"basic","username":"agent1","password":"pw1"}`.
    const CALENDAR_FIXTURE: &str = "CwsLCwsLCwsLCwsLAUhaXbVO8J0YsCixn+lFG/iwSbmMSLQO8FJj9pzmIsoaJ4wi6txOoeG5CQ8FgIxChDXHWhqPTOP0RQn5m3iZptxuUg7d";

    #[test]
    fn secrets_stored_by_the_previous_code_still_open() {
        let k = Key::from_base64("CONSOLE_KEY", CONSOLE_KEY).unwrap();
        let plain = open_or_legacy(&k, MARKETO_SECRET_CONTEXT, LEGACY_CONSOLE_FIXTURE, "secret");
        assert_eq!(plain.unwrap(), b"marketo-secret-1");
        let k = Key::from_hex_or_text("CALENDAR_KEY", CALENDAR_KEY).unwrap();
        let plain = open(
            &k,
            "dynchat/acme/alex-morgan/caldav",
            CALENDAR_FIXTURE,
            "creds",
        )
        .unwrap();
        assert_eq!(
            plain,
            br#"{"kind":"basic","username":"agent1","password":"pw1"}"#.to_vec()
        );
    }

    #[test]
    fn a_value_is_bound_to_its_key_and_context() {
        let k = Key::from_hex_or_text("K", "some passphrase").unwrap();
        let other = Key::from_hex_or_text("K", "another passphrase").unwrap();
        let sealed = seal(&k, [7; 12], "ctx/a", b"hello").unwrap();
        assert_eq!(open(&k, "ctx/a", &sealed, "x").unwrap(), b"hello");
        assert!(open(&k, "ctx/b", &sealed, "x").is_err());
        assert!(open(&other, "ctx/a", &sealed, "x").is_err());
        // A value sealed with a context never opens through the legacy (empty) context.
        assert!(open_or_legacy(&k, "ctx/b", &sealed, "x").is_err());
        let mut tampered = B64.decode(&sealed).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(open(&k, "ctx/a", &B64.encode(tampered), "x").is_err());
        assert!(open(&k, "ctx/a", "not base64!", "x").is_err());
        assert!(open(&k, "ctx/a", "AAAA", "x").is_err());
    }

    #[test]
    fn keys_parse_like_before() {
        assert!(Key::from_base64("CONSOLE_KEY", "c2hvcnQ=").is_err());
        assert!(Key::from_hex_or_text("CALENDAR_KEY", "  ").is_err());
        let hex = Key::from_hex_or_text("CALENDAR_KEY", CALENDAR_KEY).unwrap();
        assert_eq!(hex.bytes()[0], 0x3c);
        assert_eq!(hex.bytes()[31], 0xaa);
    }
}
