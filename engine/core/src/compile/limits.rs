//! Size limits of a dialogue file.

/// Largest dialogue file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Most cards in one dialogue.
pub const MAX_CARDS: usize = 1000;
/// Longest text on one card.
pub const MAX_TEXT: usize = 5000;

/// An id (dialogue, card, variant, queue): 1-64 letters, digits, `-` or `_`.
pub(super) fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
