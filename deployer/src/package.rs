//! The Lambda deployment zip: one entry `bootstrap`, mode 0755, fixed timestamp, so the same
//! binary always gives the same bytes and the same CodeSha256, and an unchanged binary is never
//! uploaded again.

use std::io::{Cursor, Write};

use anyhow::{bail, Context, Result};
use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

pub struct LambdaZip {
    pub bytes: Vec<u8>,
    /// base64 of the SHA-256 of `bytes`: what Lambda reports as `CodeSha256`.
    pub code_sha256: String,
}

impl LambdaZip {
    /// A placeholder whose hash is filled in later (`mcpctl plan` compares hashes only).
    pub fn empty() -> Self {
        Self {
            bytes: Vec::new(),
            code_sha256: String::new(),
        }
    }
}

/// Lambda's quota for a zip uploaded directly (the `ZipFile` parameter of CreateFunction and
/// UpdateFunctionCode, which mcpctl uses): 50 MB, in bytes as GetAccountSettings reports it
/// (`CodeSizeZipped`). Larger zips have to go through S3.
pub const ZIP_UPLOAD_LIMIT: usize = 50 * 1024 * 1024;

/// Lambda's quota for a function's code once unzipped (`CodeSizeUnzipped`): 250 MB.
pub const UNZIPPED_LIMIT: usize = 250 * 1024 * 1024;

/// The most a package may weigh, zipped and unzipped, in bytes.
#[derive(Debug, Clone, Copy)]
struct Limits {
    zipped: usize,
    unzipped: usize,
}

const LAMBDA: Limits = Limits {
    zipped: ZIP_UPLOAD_LIMIT,
    unzipped: UNZIPPED_LIMIT,
};

const USE_IMAGE: &str = "set `package = \"image\"` in deploy.toml to deploy the server as a container image (up to 10 GB), or make the binary smaller";

/// The zip Lambda runs `binary` from, or one clear error (before anything is uploaded) when it
/// is over Lambda's size quotas.
pub fn bootstrap_zip(binary: &[u8]) -> Result<LambdaZip> {
    zip_within(binary, LAMBDA)
}

/// `52428800` → `50 MB (52428800 bytes)`, `52445945` → `50.02 MB (52445945 bytes)`, in the MB
/// (2^20 bytes) of Lambda's quotas.
fn size(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes.is_multiple_of(MB) {
        format!("{} MB ({bytes} bytes)", bytes / MB)
    } else {
        format!("{:.2} MB ({bytes} bytes)", bytes as f64 / MB as f64)
    }
}

fn zip_within(binary: &[u8], limits: Limits) -> Result<LambdaZip> {
    if binary.len() > limits.unzipped {
        bail!(
            "the binary is {}, over the {} Lambda allows for a function's unzipped code: {USE_IMAGE}",
            size(binary.len()),
            size(limits.unzipped)
        );
    }
    let zip = zip(binary)?;
    if zip.bytes.len() > limits.zipped {
        bail!(
            "the Lambda zip is {}, over the {} Lambda takes in a direct upload: {USE_IMAGE}",
            size(zip.bytes.len()),
            size(limits.zipped)
        );
    }
    Ok(zip)
}

fn zip(binary: &[u8]) -> Result<LambdaZip> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .unix_permissions(0o755)
        .last_modified_time(DateTime::default());
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("bootstrap", options)
        .context("cannot start the zip entry")?;
    zip.write_all(binary)
        .context("cannot compress the binary")?;
    let bytes = zip.finish().context("cannot finish the zip")?.into_inner();
    let code_sha256 = code_sha256(&bytes);
    Ok(LambdaZip { bytes, code_sha256 })
}

pub fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn same_binary_same_zip() {
        let a = bootstrap_zip(b"\x7fELF binary").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = bootstrap_zip(b"\x7fELF binary").unwrap();
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.code_sha256, b.code_sha256);
        assert_ne!(bootstrap_zip(b"other").unwrap().code_sha256, a.code_sha256);
    }

    #[test]
    fn entry_is_an_executable_bootstrap() {
        let z = bootstrap_zip(b"hello").unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(z.bytes)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, b"hello");
    }

    /// Bytes deflate cannot shrink (xorshift64), made in memory.
    fn incompressible(len: usize) -> Vec<u8> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn limits_are_lambdas_quotas() {
        assert_eq!(ZIP_UPLOAD_LIMIT, 52_428_800);
        assert_eq!(UNZIPPED_LIMIT, 262_144_000);
        assert_eq!(size(ZIP_UPLOAD_LIMIT), "50 MB (52428800 bytes)");
        assert_eq!(size(52_445_945), "50.02 MB (52445945 bytes)");
    }

    /// Lambda's quotas scaled down 50 times, so the test compresses 1 MB instead of 50.
    const SCALED: Limits = Limits {
        zipped: ZIP_UPLOAD_LIMIT / 50,
        unzipped: UNZIPPED_LIMIT / 50,
    };

    #[test]
    fn a_zip_over_the_upload_limit_is_one_clear_error() {
        let binary = incompressible(SCALED.zipped + 1024);
        let e = zip_within(&binary, SCALED)
            .err()
            .expect("over the limit")
            .to_string();
        assert!(
            e.starts_with("the Lambda zip is 1.00 MB (10")
                && e.contains("over the 1 MB (1048576 bytes) Lambda takes in a direct upload")
                && e.contains("`package = \"image\"`"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        // Just under the limit once zipped is fine.
        assert!(zip_within(&binary[..SCALED.zipped - 4096], SCALED).is_ok());
        // Only the zipped size counts: twice as much that compresses well is fine.
        let zip = zip_within(&vec![0u8; 2 * SCALED.zipped], SCALED).unwrap();
        assert!(zip.bytes.len() < SCALED.zipped / 100, "{}", zip.bytes.len());
    }

    #[test]
    fn a_binary_over_the_unzipped_limit_is_refused_before_zipping() {
        let e = zip_within(&vec![0u8; SCALED.unzipped + 1], SCALED)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "the binary is 5.00 MB (5242881 bytes), over the 5 MB (5242880 bytes) Lambda allows \
             for a function's unzipped code: set `package = \"image\"` in deploy.toml to deploy \
             the server as a container image (up to 10 GB), or make the binary smaller"
        );
    }

    #[test]
    fn sha_is_base64_of_sha256() {
        // printf "" | sha256sum | xxd -r -p | base64
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
