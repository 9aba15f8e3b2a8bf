//! The content hash of a dialogue: the identity of a published version.

use crate::model::Dialogue;
use sha2::{Digest, Sha256};

/// Hex SHA-256 (first 20 hex digits) of the canonical JSON of the model. A dialogue without
/// translations is hashed as its version-1 form, so a version-1 file, its migration and the same
/// dialogue written as version 2 keep the identity they had before languages.
pub fn content_hash(d: &Dialogue) -> String {
    let bytes = if d.languages.is_empty() && d.translations.is_empty() && d.version == 2 {
        let mut v1 = d.clone();
        v1.version = 1;
        serde_json::to_vec(&v1)
    } else {
        serde_json::to_vec(d)
    }
    .unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}
