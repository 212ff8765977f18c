//! Deterministic idempotency keys.

/// The idempotency key of a reply: a stable function of the case and the draft it sends, so the same
/// draft re-queued after a crash gets the same key and the platform (Mastodon) can drop the duplicate.
///
/// `earshot-` followed by 32 hex digits (two FNV-1a 64 hashes of the length-prefixed ids), which fits
/// every platform's header limits and does not depend on the Rust version.
pub fn idempotency_key(case_id: &str, draft_id: &str) -> String {
    let mut bytes = Vec::with_capacity(case_id.len() + draft_id.len() + 16);
    for part in [case_id, draft_id] {
        bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
        bytes.extend_from_slice(part.as_bytes());
    }
    format!("earshot-{:016x}{:016x}", fnv1a(0xcbf2_9ce4_8422_2325, &bytes), fnv1a(0x6c62_272e_07bb_0142, &bytes))
}

/// FNV-1a, 64 bits, from a given offset basis.
pub(crate) fn fnv1a(basis: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(basis, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        let k = idempotency_key("42", "7");
        // Pinned: a key that changed between versions would let a re-queued reply post twice.
        assert_eq!(k, "earshot-8f838228733b1cd5b3a2490bd559e274");
        assert_eq!(k, idempotency_key("42", "7"));
        assert_eq!(k.len(), "earshot-".len() + 32);
        assert_ne!(k, idempotency_key("42", "8"));
        // Length prefixes keep ("1-2", "3") and ("1", "2-3") apart.
        assert_ne!(idempotency_key("1-2", "3"), idempotency_key("1", "2-3"));
        assert_ne!(idempotency_key("ab", ""), idempotency_key("a", "b"));
    }
}
