//! `package = "image"`: the server as an OCI image built from scratch, with no Docker and no
//! base image: one layer holding the binary as `/bootstrap` plus exactly the shared libraries the
//! dynamic loader will open (its `PT_INTERP` and `DT_NEEDED`, resolved recursively from this
//! machine's x86_64 glibc, at the paths that loader searches), entrypoint `/bootstrap`.
//!
//! The image is deterministic (fixed times and owners, sorted entries, gzip without a name or
//! time), so an unchanged build has the same digest and a redeploy uploads nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::elf;

/// Where glibc's loader looks for libraries on Debian/Ubuntu (multiarch) and on Amazon Linux,
/// Fedora and others (lib64). A library is put in the image where it was found here, so the
/// loader copied from this machine finds it in the image the same way.
const LIBRARY_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
];

pub const ENTRYPOINT: &str = "/bootstrap";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// One file of the image's root filesystem.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFile {
    /// Absolute path inside the image.
    pub path: String,
    pub bytes: Vec<u8>,
    pub mode: u32,
}

/// A blob as a registry stores it: its bytes and `sha256:<hex>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    fn new(bytes: Vec<u8>) -> Self {
        Self {
            digest: sha256_digest(&bytes),
            bytes,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OciImage {
    pub config: Blob,
    pub layer: Blob,
    /// The manifest exactly as pushed: its SHA-256 is the image digest.
    pub manifest: String,
    /// Image paths, for the deploy summary.
    pub files: Vec<String>,
}

impl OciImage {
    /// `sha256:<hex>` of the manifest, which ECR and Lambda (as `CodeSha256`, without the
    /// prefix) report.
    pub fn digest(&self) -> String {
        sha256_digest(self.manifest.as_bytes())
    }

    pub fn blobs(&self) -> [&Blob; 2] {
        [&self.config, &self.layer]
    }
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The image of `binary`, with its libraries read from the filesystem under `root` (`/`
/// outside tests).
pub fn build(binary: &[u8], root: &Path) -> Result<OciImage> {
    let files = root_filesystem(binary, root)?;
    let tar = layer_tar(&files)?;
    let diff_id = sha256_digest(&tar);
    let layer = Blob::new(gzip(&tar)?);
    let config = Blob::new(serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Entrypoint": [ENTRYPOINT],
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "mcpctl: /bootstrap and the shared libraries it loads"}],
    }))?);
    let manifest = serde_json::to_string(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": CONFIG_MEDIA_TYPE,
            "digest": config.digest,
            "size": config.bytes.len(),
        },
        "layers": [{
            "mediaType": LAYER_MEDIA_TYPE,
            "digest": layer.digest,
            "size": layer.bytes.len(),
        }],
    }))?;
    Ok(OciImage {
        config,
        layer,
        manifest,
        files: files.iter().map(|f| f.path.clone()).collect(),
    })
}

/// `/bootstrap` and every library the loader will open for it, keyed by image path.
pub fn root_filesystem(binary: &[u8], root: &Path) -> Result<Vec<ImageFile>> {
    let deps = elf::dynamic_deps(binary).context("the server binary")?;
    let mut files = BTreeMap::new();
    files.insert(
        ENTRYPOINT.to_string(),
        ImageFile {
            path: ENTRYPOINT.into(),
            bytes: binary.to_vec(),
            mode: 0o755,
        },
    );
    let Some(interpreter) = deps.interpreter.clone() else {
        // A static binary needs nothing else.
        return Ok(files.into_values().collect());
    };
    let loader = read_host_file(root, &interpreter)?;
    elf::dynamic_deps(&loader).with_context(|| format!("{interpreter} of this machine"))?;
    let loader_name = file_name(&interpreter);
    files.insert(
        interpreter.clone(),
        ImageFile {
            path: interpreter.clone(),
            bytes: loader,
            mode: 0o755,
        },
    );
    let needed_versions = elf::needed_versions(binary).context("the server binary")?;
    let mut pending = deps.needed;
    while let Some(soname) = pending.pop() {
        // The loader is already in memory; glibc matches it by soname.
        if soname == loader_name || files.values().any(|f| file_name(&f.path) == soname) {
            continue;
        }
        let path = find_library(root, &soname)?;
        let bytes = read_host_file(root, &path)?;
        let deps = elf::dynamic_deps(&bytes).with_context(|| format!("{path} of this machine"))?;
        if soname == "libc.so.6" {
            // The image carries this machine's glibc: it must be as new as the binary needs.
            let missing = elf::missing_versions(&needed_versions, &bytes)
                .with_context(|| format!("{path} of this machine"))?;
            if !missing.is_empty() {
                bail!(
                    "this machine's glibc ({path}) is older than the server binary needs ({}): \
                     build the image on a machine with glibc 2.34 or newer, or use \
                     package = \"zip\" (Lambda's provided.al2023 has glibc 2.34)",
                    missing.join(", ")
                );
            }
        }
        pending.extend(deps.needed);
        files.insert(
            path.clone(),
            ImageFile {
                path,
                bytes,
                mode: 0o755,
            },
        );
    }
    Ok(files.into_values().collect())
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn host_path(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

fn read_host_file(root: &Path, path: &str) -> Result<Vec<u8>> {
    std::fs::read(host_path(root, path)).map_err(|e| {
        anyhow!(
            "package = \"image\" copies {path} from this machine into the image, but cannot read \
             it ({e}): deploy from x86_64 Linux with glibc, or use package = \"zip\""
        )
    })
}

fn find_library(root: &Path, soname: &str) -> Result<String> {
    for dir in LIBRARY_DIRS {
        let path = format!("{dir}/{soname}");
        if host_path(root, &path).is_file() {
            return Ok(path);
        }
    }
    bail!(
        "package = \"image\" needs {soname} from this machine for the image, but it is in none of \
         {}: deploy from x86_64 Linux with glibc, or use package = \"zip\"",
        LIBRARY_DIRS.join(", ")
    )
}

/// A tar of `files` and their parent directories, owned by root, dated at the epoch.
fn layer_tar(files: &[ImageFile]) -> Result<Vec<u8>> {
    let mut dirs = std::collections::BTreeSet::new();
    for f in files {
        let mut parent = Path::new(&f.path).parent();
        while let Some(p) = parent.filter(|p| *p != Path::new("/")) {
            dirs.insert(p.to_path_buf());
            parent = p.parent();
        }
    }
    let mut tar = tar::Builder::new(Vec::new());
    let header = |kind: tar::EntryType, size: u64, mode: u32| {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h
    };
    for dir in &dirs {
        let mut h = header(tar::EntryType::Directory, 0, 0o755);
        let name = dir.strip_prefix("/").unwrap_or(dir);
        tar.append_data(&mut h, name, std::io::empty())?;
    }
    for f in files {
        let mut h = header(tar::EntryType::Regular, f.bytes.len() as u64, f.mode);
        let name = f.path.trim_start_matches('/');
        tar.append_data(&mut h, name, f.bytes.as_slice())?;
    }
    Ok(tar.into_inner()?)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes)?;
    Ok(gz.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn unpack(image: &OciImage) -> BTreeMap<String, (u32, Vec<u8>)> {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(image.layer.bytes.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        let mut entries = BTreeMap::new();
        let mut archive = tar::Archive::new(tar.as_slice());
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mode = entry.header().mode().unwrap();
            assert_eq!(entry.header().mtime().unwrap(), 0);
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            entries.insert(path, (mode, bytes));
        }
        entries
    }

    #[test]
    fn a_real_binary_gets_its_loader_and_libc() {
        let binary = std::fs::read("/bin/true").unwrap();
        let image = build(&binary, Path::new("/")).unwrap();
        let entries = unpack(&image);
        assert_eq!(entries["bootstrap"], (0o755, binary));
        assert!(
            entries.contains_key("lib64/ld-linux-x86-64.so.2"),
            "{:?}",
            entries.keys()
        );
        assert!(
            entries.keys().any(|k| k.ends_with("/libc.so.6")),
            "{:?}",
            entries.keys()
        );
        // Only the loader itself, no second copy under its multiarch name.
        assert_eq!(
            entries
                .keys()
                .filter(|k| k.ends_with("ld-linux-x86-64.so.2"))
                .count(),
            1
        );
    }

    #[test]
    fn the_manifest_points_at_the_blobs_by_digest_and_size() {
        let image = build(&std::fs::read("/bin/true").unwrap(), Path::new("/")).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&image.manifest).unwrap();
        assert_eq!(manifest["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(manifest["config"]["digest"], image.config.digest.as_str());
        assert_eq!(manifest["config"]["size"], image.config.bytes.len());
        assert_eq!(manifest["layers"][0]["digest"], image.layer.digest.as_str());
        assert_eq!(manifest["layers"][0]["size"], image.layer.bytes.len());
        let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
        assert_eq!(config["config"]["Entrypoint"], json!([ENTRYPOINT]));
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(image.layer.bytes.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(
            config["rootfs"]["diff_ids"][0],
            sha256_digest(&tar).as_str()
        );
    }

    #[test]
    fn the_same_binary_gives_the_same_digest() {
        let binary = std::fs::read("/bin/true").unwrap();
        let a = build(&binary, Path::new("/")).unwrap();
        let b = build(&binary, Path::new("/")).unwrap();
        assert_eq!(a.digest(), b.digest());
        let other = build(&std::fs::read("/bin/false").unwrap(), Path::new("/")).unwrap();
        assert_ne!(a.digest(), other.digest());
    }

    /// A machine whose libc.so.6 defines none of the glibc versions the binary needs (a
    /// library standing in for a libc older than 2.34).
    #[test]
    fn a_glibc_older_than_the_binary_needs_is_refused() {
        let root = std::env::temp_dir().join(format!("mcpctl-oldlibc-{}", std::process::id()));
        let lib = root.join("lib/x86_64-linux-gnu");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::create_dir_all(root.join("lib64")).unwrap();
        std::fs::copy(
            "/lib64/ld-linux-x86-64.so.2",
            root.join("lib64/ld-linux-x86-64.so.2"),
        )
        .unwrap();
        std::fs::copy("/lib/x86_64-linux-gnu/libgcc_s.so.1", lib.join("libc.so.6")).unwrap();
        let e = build(&std::fs::read("/bin/true").unwrap(), &root)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("older than the server binary needs (GLIBC_"),
            "{e}"
        );
        assert!(e.contains("package = \"zip\""), "{e}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_machine_without_the_libraries_is_one_clear_error() {
        let empty = std::env::temp_dir().join(format!("mcpctl-noroot-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let e = build(&std::fs::read("/bin/true").unwrap(), &empty)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/lib64/ld-linux-x86-64.so.2"), "{e}");
        assert!(e.contains("package = \"zip\""), "{e}");
        std::fs::remove_dir_all(&empty).unwrap();
    }
}
