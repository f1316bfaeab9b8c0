//! Deterministic stand-ins for real back ends, so answers are stable across calls and instances.

/// FNV-1a: stable across processes and Rust versions, unlike `DefaultHasher`.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
