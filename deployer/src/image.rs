//! `package = "image"`: the server as an OCI image built from scratch, with no Docker and no
//! base image: one layer holding the binary as `/bootstrap` plus exactly the shared libraries the
//! dynamic loader will open (its `PT_INTERP` and `DT_NEEDED`, resolved recursively, at the paths
//! that loader searches), entrypoint `/bootstrap`, for the function's architecture. The glibc is
//! this machine's when it is of that architecture; otherwise the cross glibc Debian and Ubuntu
//! install under `/usr/<arch>-linux-gnu` (`libc6-arm64-cross` for an arm64 image on x86_64,
//! `libc6-amd64-cross` the other way round), placed where its loader looks
//! (`/lib/<arch>-linux-gnu`).
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
use crate::platform::{machine_name, Platform};

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

/// The image of `binary` for `platform`, with its libraries read from the filesystem under
/// `root` (`/` outside tests).
pub fn build(binary: &[u8], platform: &Platform, root: &Path) -> Result<OciImage> {
    let files = root_filesystem(binary, platform, root)?;
    let tar = layer_tar(&files)?;
    let diff_id = sha256_digest(&tar);
    let layer = Blob::new(gzip(&tar)?);
    let config = Blob::new(serde_json::to_vec(&json!({
        "architecture": platform.oci_architecture,
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

/// Where the image's glibc comes from: directories of this machine (under the root) and where
/// each goes in the image.
struct LibrarySource {
    /// (this machine's directory, the image's directory), searched in order.
    dirs: Vec<(String, String)>,
    /// Whether the libraries are a cross glibc rather than this machine's own.
    cross: bool,
}

impl LibrarySource {
    fn for_platform(platform: &Platform) -> Self {
        let multiarch = format!("/lib/{}", platform.multiarch);
        if platform.is_host() {
            // Where glibc's loader looks on Debian/Ubuntu (multiarch), on Amazon Linux, Fedora
            // and others (lib64), and last the plain lib directories. A library goes in the
            // image where it was found here, so the loader copied from this machine finds it
            // in the image the same way.
            let dirs = [
                multiarch.clone(),
                format!("/usr/lib/{}", platform.multiarch),
                "/lib64".into(),
                "/usr/lib64".into(),
                "/lib".into(),
                "/usr/lib".into(),
            ];
            Self {
                dirs: dirs.into_iter().map(|d| (d.clone(), d)).collect(),
                cross: false,
            }
        } else {
            // Debian's cross glibc: its loader searches /lib/<multiarch>/ first.
            Self {
                dirs: vec![(format!("{}/lib", platform.cross_sysroot), multiarch)],
                cross: true,
            }
        }
    }

    /// What to do when a library is missing, for the error.
    fn remedy(&self, platform: &Platform) -> String {
        if self.cross {
            format!(
                "install the {} glibc under {} (Debian/Ubuntu: apt-get install {}), deploy from \
                 {} Linux, or use package = \"zip\"",
                platform.machine_name(),
                platform.cross_sysroot,
                platform.cross_package,
                platform.machine_name()
            )
        } else {
            format!(
                "deploy from {} Linux with glibc, or use package = \"zip\"",
                platform.machine_name()
            )
        }
    }

    /// The bytes of the interpreter `PT_INTERP` names: that file of this machine, or the cross
    /// glibc's loader of that name.
    fn interpreter(&self, root: &Path, interpreter: &str, platform: &Platform) -> Result<Vec<u8>> {
        let path = if self.cross {
            match self.find(root, file_name(interpreter)) {
                Some((here, _)) => here,
                None => bail!(
                    "package = \"image\" for {} needs the loader {} from {}/lib: {}",
                    platform.architecture,
                    file_name(interpreter),
                    platform.cross_sysroot,
                    self.remedy(platform)
                ),
            }
        } else {
            interpreter.to_string()
        };
        read_host_file(root, &path, &self.remedy(platform))
    }

    /// (this machine's path, the image's path) of `soname`.
    fn find(&self, root: &Path, soname: &str) -> Option<(String, String)> {
        self.dirs.iter().find_map(|(here, there)| {
            let path = format!("{here}/{soname}");
            host_path(root, &path)
                .is_file()
                .then(|| (path, format!("{there}/{soname}")))
        })
    }
}

/// `/bootstrap` and every library the loader will open for it, keyed by image path, all of
/// `platform`'s machine.
pub fn root_filesystem(binary: &[u8], platform: &Platform, root: &Path) -> Result<Vec<ImageFile>> {
    elf::check_machine(binary, platform).context("the server binary")?;
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
    let source = LibrarySource::for_platform(platform);
    let from = if source.cross {
        format!("{}/lib", platform.cross_sysroot)
    } else {
        "this machine".to_string()
    };
    let library = |what: &str, bytes: &[u8]| -> Result<()> {
        elf::dynamic_deps(bytes).with_context(|| format!("{what} of {from}"))?;
        let machine = elf::machine(bytes).with_context(|| format!("{what} of {from}"))?;
        if machine != platform.elf_machine {
            bail!(
                "{what} of {from} is built for {}, but the {} image needs {}: {}",
                machine_name(machine),
                platform.architecture,
                platform.machine_name(),
                source.remedy(platform)
            );
        }
        Ok(())
    };
    let loader = source.interpreter(root, &interpreter, platform)?;
    library(&interpreter, &loader)?;
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
        let Some((path, image_path)) = source.find(root, &soname) else {
            bail!(
                "package = \"image\" needs {soname} ({}) for the image, but it is in none of {}: {}",
                platform.machine_name(),
                source
                    .dirs
                    .iter()
                    .map(|(here, _)| here.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                source.remedy(platform)
            );
        };
        let bytes = read_host_file(root, &path, &source.remedy(platform))?;
        library(&path, &bytes)?;
        let deps = elf::dynamic_deps(&bytes).with_context(|| format!("{path} of {from}"))?;
        if soname == "libc.so.6" {
            // The image carries this glibc: it must be as new as the binary needs.
            let missing = elf::missing_versions(&needed_versions, &bytes)
                .with_context(|| format!("{path} of {from}"))?;
            if !missing.is_empty() {
                bail!(
                    "the glibc of {from} ({path}) is older than the server binary needs ({}): \
                     build the image where glibc is 2.34 or newer, or use \
                     package = \"zip\" (Lambda's provided.al2023 has glibc 2.34)",
                    missing.join(", ")
                );
            }
        }
        pending.extend(deps.needed);
        files.insert(
            image_path.clone(),
            ImageFile {
                path: image_path,
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

fn read_host_file(root: &Path, path: &str, remedy: &str) -> Result<Vec<u8>> {
    std::fs::read(host_path(root, path)).map_err(|e| {
        anyhow!(
            "package = \"image\" copies {path} from this machine into the image, but cannot read \
             it ({e}): {remedy}"
        )
    })
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
    use crate::platform::{ARM64, X86_64};
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
        let image = build(&binary, &X86_64, Path::new("/")).unwrap();
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
        let image = build(
            &std::fs::read("/bin/true").unwrap(),
            &X86_64,
            Path::new("/"),
        )
        .unwrap();
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
        let a = build(&binary, &X86_64, Path::new("/")).unwrap();
        let b = build(&binary, &X86_64, Path::new("/")).unwrap();
        assert_eq!(a.digest(), b.digest());
        let other = build(
            &std::fs::read("/bin/false").unwrap(),
            &X86_64,
            Path::new("/"),
        )
        .unwrap();
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
        let e = build(&std::fs::read("/bin/true").unwrap(), &X86_64, &root)
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
        let e = build(&std::fs::read("/bin/true").unwrap(), &X86_64, &empty)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/lib64/ld-linux-x86-64.so.2"), "{e}");
        assert!(e.contains("package = \"zip\""), "{e}");
        std::fs::remove_dir_all(&empty).unwrap();
    }

    /// `bytes` relabelled as an aarch64 ELF (the rest stays x86_64 code: the image builder
    /// reads only headers, dynamic sections and version tables).
    fn as_aarch64(mut bytes: Vec<u8>) -> Vec<u8> {
        bytes[0x12..0x14].copy_from_slice(&183u16.to_le_bytes());
        bytes
    }

    /// A machine root whose only aarch64 glibc is a cross sysroot, as libc6-arm64-cross
    /// installs it; `label` turns the x86_64 files into "aarch64" ones (or not).
    fn cross_root(tag: &str, label: fn(Vec<u8>) -> Vec<u8>) -> PathBuf {
        let root = std::env::temp_dir().join(format!("mcpctl-cross-{tag}-{}", std::process::id()));
        let lib = root.join("usr/aarch64-linux-gnu/lib");
        std::fs::create_dir_all(&lib).unwrap();
        let libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"]
            .iter()
            .find_map(|p| std::fs::read(p).ok())
            .unwrap();
        let loader = std::fs::read("/lib64/ld-linux-x86-64.so.2").unwrap();
        std::fs::write(lib.join("ld-linux-x86-64.so.2"), label(loader)).unwrap();
        std::fs::write(lib.join("libc.so.6"), label(libc)).unwrap();
        root
    }

    #[test]
    fn an_arm64_image_takes_the_cross_glibc_and_says_arm64() {
        let root = cross_root("ok", as_aarch64);
        let binary = as_aarch64(std::fs::read("/bin/true").unwrap());
        let image = build(&binary, &ARM64, &root).unwrap();
        let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
        assert_eq!(config["architecture"], "arm64");
        assert_eq!(config["os"], "linux");
        let entries = unpack(&image);
        assert_eq!(entries["bootstrap"], (0o755, binary.clone()));
        // The loader at its PT_INTERP path, the libraries where Debian's cross loader looks.
        assert!(
            entries.contains_key("lib64/ld-linux-x86-64.so.2"),
            "{:?}",
            entries.keys()
        );
        assert!(
            entries.contains_key("lib/aarch64-linux-gnu/libc.so.6"),
            "{:?}",
            entries.keys()
        );
        for (path, (_, bytes)) in &entries {
            if !bytes.is_empty() {
                assert_eq!(elf::machine(bytes), Ok(183), "{path}");
            }
        }
        // Nothing of this machine's own x86_64 glibc.
        assert!(!entries.keys().any(|k| k.contains("x86_64-linux-gnu")));
        // Same input, same digest; and not the x86_64 image's.
        assert_eq!(
            build(&binary, &ARM64, &root).unwrap().digest(),
            image.digest()
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_image_refuses_a_binary_or_library_of_the_other_architecture() {
        let x86 = std::fs::read("/bin/true").unwrap();
        let e = format!("{:#}", build(&x86, &ARM64, Path::new("/")).unwrap_err());
        assert!(e.contains("built for x86_64"), "{e}");
        let e = format!(
            "{:#}",
            build(&as_aarch64(x86.clone()), &X86_64, Path::new("/")).unwrap_err()
        );
        assert!(e.contains("built for aarch64"), "{e}");

        // A cross sysroot holding x86_64 files.
        let root = cross_root("wrong", |b| b);
        let e = build(&as_aarch64(x86.clone()), &ARM64, &root)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is built for x86_64, but the arm64 image needs aarch64")
                && e.contains("apt-get install libc6-arm64-cross"),
            "{e}"
        );
        std::fs::remove_dir_all(&root).unwrap();

        // No cross glibc at all.
        let empty = std::env::temp_dir().join(format!("mcpctl-nocross-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let e = build(&as_aarch64(x86), &ARM64, &empty)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/usr/aarch64-linux-gnu/lib")
                && e.contains("libc6-arm64-cross")
                && e.contains("package = \"zip\""),
            "{e}"
        );
        std::fs::remove_dir_all(&empty).unwrap();
    }
}
