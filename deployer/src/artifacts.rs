//! What deploy uploads: the server (zip or OCI image, as deploy.toml's `package` says) and the
//! authorizer zip, made from the built binaries; deterministic, so `mcpctl plan --prebuilt`
//! compares their hashes with the deployed ones.

use std::path::Path;

use anyhow::{Context, Result};
use mcpctl_stack::config::Package;
use mcpctl_stack::Config;

use crate::build::Binaries;
use crate::image::{self, OciImage};
use crate::package::{self, LambdaZip};
use crate::steps::Change;

/// The `CodeSha256` each function would get: the server's, the authorizer's, and the oauth
/// function's (`[auth] mode = "oauth"`).
pub type CodeHashes = (String, String, Option<String>);

/// The server as deploy.toml's `package` says; the authorizer is always a zip (small, and
/// cold starts faster than an image).
pub enum ServerPackage {
    Zip(LambdaZip),
    Image(OciImage),
}

/// Both packages, deterministic; `mcpctl plan --prebuilt` compares their hashes too.
pub fn package_both(
    package: Package,
    binaries: &Binaries,
) -> Result<(Change, (ServerPackage, LambdaZip))> {
    let read = |path: &Path| -> Result<Vec<u8>> {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let server = read(&binaries.server)?;
    let authorizer = package::bootstrap_zip(&read(&binaries.authorizer)?)?;
    let (server, what) = match package {
        Package::Zip => {
            let zip = package::bootstrap_zip(&server)?;
            let what = format!("server zip {} KiB", zip.bytes.len() / 1024);
            (ServerPackage::Zip(zip), what)
        }
        Package::Image => {
            let image = image::build(&server, binaries.platform, Path::new("/"))?;
            let what = format!(
                "server image {} KiB ({} files, {})",
                image.layer.bytes.len() / 1024,
                image.files.len(),
                binaries.platform.oci_architecture
            );
            (ServerPackage::Image(image), what)
        }
    };
    let what = format!(
        "{what} + authorizer zip {} KiB",
        authorizer.bytes.len() / 1024
    );
    Ok((Change::Done(what), (server, authorizer)))
}

/// The `CodeSha256` Lambda would report for each function after deploying `binaries`.
pub fn code_hashes(config: &Config, binaries: &Binaries) -> Result<CodeHashes> {
    let (_, (server, authorizer)) = package_both(config.package, binaries)?;
    let server = match server {
        ServerPackage::Zip(zip) => zip.code_sha256,
        ServerPackage::Image(image) => image.digest().trim_start_matches("sha256:").to_string(),
    };
    let oauth = oauth_zip(binaries)?.map(|z| z.code_sha256);
    Ok((server, authorizer.code_sha256, oauth))
}

/// The oauth function's zip (`[auth] mode = "oauth"`), deterministic like the others.
pub fn oauth_zip(binaries: &Binaries) -> Result<Option<LambdaZip>> {
    let Some(path) = &binaries.oauth else {
        return Ok(None);
    };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(package::bootstrap_zip(&bytes)?))
}
