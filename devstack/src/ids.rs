//! The identifiers AWS puts on every request: API Gateway request ids, Lambda request ids (UUID
//! v4) and X-Ray trace ids, shaped like the real ones so code that parses them keeps working.

use base64::Engine;

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        // Ids need to be unique, not secret: the clock and a counter are enough without a
        // random source.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = crate::clock::now_ms() ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 40);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i % 8) * 8)) as u8 ^ i as u8;
        }
    }
    bytes
}

/// A random UUID v4, the format of Lambda's `Lambda-Runtime-Aws-Request-Id`.
pub fn uuid_v4() -> String {
    let mut b = random::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An API Gateway request id (`apigw-requestid`), e.g. `JKJaXmPLvHcESHA=`.
pub fn api_request_id() -> String {
    base64::engine::general_purpose::STANDARD.encode(random::<11>())
}

/// An X-Ray trace header as Lambda passes it in `Lambda-Runtime-Trace-Id`.
pub fn trace_id(epoch_ms: u64) -> String {
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        epoch_ms / 1000,
        hex::encode(random::<12>()),
        hex::encode(random::<8>())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_has_version_and_variant() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_ne!(u, uuid_v4());
    }

    #[test]
    fn request_id_looks_like_api_gateway() {
        let id = api_request_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('='));
    }

    #[test]
    fn trace_id_has_root_parent_sampled() {
        let t = trace_id(1_583_348_638_390);
        assert!(t.starts_with("Root=1-5e5ffb9e-"), "{t}");
        assert!(t.contains(";Parent=") && t.ends_with(";Sampled=0"));
    }
}
