//! The content hash of a dialogue: the identity of a published version.

use crate::model::Dialogue;
use sha2::{Digest, Sha256};

/// Hex SHA-256 (first 20 hex digits) of the canonical JSON of the model.
pub fn content_hash(d: &Dialogue) -> String {
    let bytes = serde_json::to_vec(d).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}
