//! The Lambda deployment zip: one entry `bootstrap`, mode 0755, fixed timestamp, so the same
//! binary always gives the same bytes and the same CodeSha256, and an unchanged binary is never
//! uploaded again.

use std::io::{Cursor, Write};

use anyhow::{Context, Result};
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

pub fn bootstrap_zip(binary: &[u8]) -> Result<LambdaZip> {
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

    #[test]
    fn sha_is_base64_of_sha256() {
        // printf "" | sha256sum | xxd -r -p | base64
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
