//! Builds the two Lambda binaries for provided.al2023 with cargo-zigbuild (glibc 2.34 target,
//! no Docker) for deploy.toml's `architecture`, or takes prebuilt ones, and checks that each can
//! start there: the right ELF machine, no glibc newer than 2.34. The server is deploy.toml's
//! `[server] package` (its binary of the same name), the authorizer `mcpctl-authorizer`: both
//! from the Cargo workspace around deploy.toml (members, or dependencies as in a project made
//! by `mcpctl new`).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};

use crate::elf;
use crate::platform::Platform;

/// The authorization server of `[auth] mode = "oauth"`: package and binary.
pub use mcpctl_devstack::OAUTH_BIN;
pub use mcpctl_stack::config::AUTHORIZER_PACKAGE as AUTHORIZER_BIN;
/// Skips the build: a directory holding the server's binary (named as its package) and
/// `mcpctl-authorizer`.
pub const PREBUILT_ENV: &str = "MCPCTL_PREBUILT_DIR";

#[derive(Debug, Clone)]
pub struct Binaries {
    /// deploy.toml's `[server] package`, which is also the name of its binary.
    pub server_package: String,
    pub server: PathBuf,
    pub authorizer: PathBuf,
    /// `mcpctl-oauth`, with `[auth] mode = "oauth"` only.
    pub oauth: Option<PathBuf>,
    /// What both were checked to be built for.
    pub platform: &'static Platform,
    /// Newest glibc symbol version each needs, for the step's report.
    pub newest_glibc: Option<String>,
    /// Flags of the build environment left out because they tie the code to one CPU.
    pub ignored_flags: Vec<String>,
}

impl Binaries {
    /// The build step's report: `built for arm64, needs GLIBC_2.34: demo and mcpctl-authorizer`.
    pub fn describe(&self, how: &str) -> String {
        let mut out = format!(
            "{how} for {}, needs {}: {} and {AUTHORIZER_BIN}",
            self.platform.architecture,
            self.newest_glibc.as_deref().unwrap_or("no glibc"),
            self.server_package
        );
        if self.oauth.is_some() {
            out.push_str(&format!(" and {OAUTH_BIN}"));
        }
        if !self.ignored_flags.is_empty() {
            out.push_str(&format!(
                "; ignored {} (Lambda's CPU is not this machine's)",
                self.ignored_flags.join(" ")
            ));
        }
        out
    }
}

/// Takes the binaries from `dir` (`server_package`'s binary and `mcpctl-authorizer`), checked
/// like built ones against `platform`.
pub fn prebuilt(dir: &Path, server_package: &str, platform: &'static Platform) -> Result<Binaries> {
    let server = dir.join(server_package);
    let authorizer = dir.join(AUTHORIZER_BIN);
    for path in [&server, &authorizer] {
        if !path.is_file() {
            bail!(
                "prebuilt binary {} not found: the directory must hold {server_package} (deploy.toml's [server] package) and {AUTHORIZER_BIN}",
                path.display()
            );
        }
    }
    checked(server_package, server, authorizer, platform)
}

impl Binaries {
    /// Adds the oauth function's binary from `dir` (`--prebuilt DIR` in oauth mode), checked
    /// like the others against their platform.
    pub fn with_prebuilt_oauth(self, dir: &Path) -> Result<Self> {
        let path = dir.join(OAUTH_BIN);
        if !path.is_file() {
            bail!(
                "prebuilt binary {} not found: with [auth] mode = \"oauth\" the directory must also hold {OAUTH_BIN}",
                path.display()
            );
        }
        self.add_oauth(path)
    }

    fn add_oauth(mut self, path: PathBuf) -> Result<Self> {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let n = elf::check_lambda_compatible(&bytes, self.platform).with_context(|| {
            format!(
                "{} cannot run on Lambda provided.al2023 ({})",
                path.display(),
                self.platform.architecture
            )
        })?;
        self.newest_glibc = self.newest_glibc.max(n);
        self.oauth = Some(path);
        Ok(self)
    }
}

/// [`prebuilt`] for `config`: with `[auth] mode = "oauth"` also `mcpctl-oauth` from `dir`.
pub fn prebuilt_for(
    dir: &Path,
    config: &mcpctl_stack::Config,
    platform: &'static Platform,
) -> Result<Binaries> {
    let binaries = prebuilt(dir, &config.server.package, platform)?;
    if config.auth.mode == mcpctl_stack::config::AuthMode::OAuth {
        binaries.with_prebuilt_oauth(dir)
    } else {
        Ok(binaries)
    }
}

/// `cargo metadata` of the workspace around `dir` (members and dependencies).
pub async fn metadata(dir: &Path) -> Result<serde_json::Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = tokio::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .context("cannot run cargo: is the Rust toolchain installed?")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` failed in {} (see above): deploy.toml must be in the Cargo workspace of the server",
            dir.display()
        );
    }
    serde_json::from_slice(&out.stdout).context("cargo metadata printed no JSON")
}

/// The packages to name with `-p` for the server and the authorizer, from `metadata` of the
/// workspace around `dir`. Cargo builds a dependency's binary with `-p` only when a selected
/// member depends on it, so where `mcpctl-authorizer` is a dependency (a project made by
/// `mcpctl new`) the member that brings it in is selected too.
pub fn packages_to_build(
    metadata: &serde_json::Value,
    server_package: &str,
    dir: &Path,
) -> Result<Vec<String>> {
    let packages = metadata["packages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let members: Vec<&serde_json::Value> = packages
        .iter()
        .filter(|p| {
            metadata["workspace_members"]
                .as_array()
                .is_some_and(|m| m.contains(&p["id"]))
        })
        .collect();
    let named = |name: &str| packages.iter().any(|p| p["name"] == name);
    for needed in [server_package, AUTHORIZER_BIN] {
        if !named(needed) {
            bail!("{}", not_in_workspace(needed, dir));
        }
    }
    let mut selected = vec![server_package.to_string()];
    if !members.iter().any(|p| p["name"] == AUTHORIZER_BIN) {
        let bringer = members
            .iter()
            .find(|p| {
                p["dependencies"]
                    .as_array()
                    .is_some_and(|deps| deps.iter().any(|d| d["name"] == AUTHORIZER_BIN))
            })
            .and_then(|p| p["name"].as_str())
            .with_context(|| not_in_workspace(AUTHORIZER_BIN, dir))?;
        if bringer != server_package {
            selected.push(bringer.to_string());
        }
    }
    selected.push(AUTHORIZER_BIN.to_string());
    Ok(selected)
}

/// `-p P` for each package.
pub fn package_args(packages: &[String]) -> Vec<String> {
    packages
        .iter()
        .flat_map(|p| ["-p".to_string(), p.clone()])
        .collect()
}

/// The arguments of the Lambda build of `packages` for `target`.
fn zigbuild_args(packages: &[String], target: &str) -> Vec<String> {
    let mut args: Vec<String> = ["zigbuild", "--release", "--target", target]
        .map(String::from)
        .to_vec();
    args.extend(package_args(packages));
    args.push("--message-format=json-render-diagnostics".into());
    args
}

/// `cargo zigbuild --release` of `server_package` and the authorizer in the workspace around
/// `dir`, for `platform`'s triple with glibc 2.34, the code generated for its baseline CPU
/// whatever RUSTFLAGS or `.cargo/config` say (see [`lambda_rustflags`]).
pub async fn zigbuild(
    dir: &Path,
    server_package: &str,
    platform: &'static Platform,
) -> Result<Binaries> {
    zigbuild_for(dir, server_package, false, platform).await
}

/// [`zigbuild`], and with `oauth` the oauth function's package `mcpctl-oauth` in the same
/// build (`[auth] mode = "oauth"`).
pub async fn zigbuild_for(
    dir: &Path,
    server_package: &str,
    oauth: bool,
    platform: &'static Platform,
) -> Result<Binaries> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let (rustflags, ignored) = lambda_rustflags(
        platform,
        std::env::var("CARGO_ENCODED_RUSTFLAGS").ok().as_deref(),
        std::env::var("RUSTFLAGS").ok().as_deref(),
    );
    let target = platform.zig_target();
    let metadata = metadata(dir).await?;
    let mut packages = packages_to_build(&metadata, server_package, dir)?;
    if oauth {
        let named = metadata["packages"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == OAUTH_BIN));
        if !named {
            bail!(
                "the Cargo workspace around {} has no package {OAUTH_BIN}, which [auth] mode = \"oauth\" deploys: add it as a member or a dependency of one",
                dir.display()
            );
        }
        packages.push(OAUTH_BIN.to_string());
    }
    let out = tokio::process::Command::new(cargo)
        .args(zigbuild_args(&packages, &target))
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags)
        .env_remove("RUSTFLAGS")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run cargo: is the Rust toolchain installed?")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("no such command") {
            bail!("cargo-zigbuild is not installed: run `cargo install cargo-zigbuild` and `pip install ziglang`");
        }
        if stderr.contains("target may not be installed") {
            bail!(
                "the Rust target {} is not installed: run `rustup target add {}`",
                platform.triple,
                platform.triple
            );
        }
        bail!("cargo zigbuild failed:\n{}", first_error(&stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let server = executable(&stdout, server_package)?;
    let authorizer = executable(&stdout, AUTHORIZER_BIN)?;
    let mut binaries = checked(server_package, server, authorizer, platform)?;
    if oauth {
        binaries = binaries.add_oauth(executable(&stdout, OAUTH_BIN)?)?;
    }
    binaries.ignored_flags = ignored;
    Ok(binaries)
}

/// The rustflags of the Lambda build, as `CARGO_ENCODED_RUSTFLAGS` (which cargo takes over
/// `RUSTFLAGS` and every `rustflags` of `.cargo/config.toml`): those of the environment without
/// `target-cpu` and `target-feature` (a `-C target-cpu=native` would tune the code to this
/// machine and can fault on Lambda's), plus `-C target-cpu=<platform baseline>`. Returns the
/// flags and what was left out.
pub fn lambda_rustflags(
    platform: &Platform,
    encoded: Option<&str>,
    plain: Option<&str>,
) -> (String, Vec<String>) {
    let flags: Vec<String> = match (encoded, plain) {
        (Some(e), _) if !e.is_empty() => e.split('\x1f').map(str::to_string).collect(),
        (Some(_), _) => Vec::new(),
        (None, Some(p)) => p.split_whitespace().map(str::to_string).collect(),
        (None, None) => Vec::new(),
    };
    let ties_to_a_cpu = |codegen: &str| {
        codegen.starts_with("target-cpu=") || codegen.starts_with("target-feature=")
    };
    let mut kept = Vec::new();
    let mut ignored = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        let flag = flags[i].as_str();
        // `-C x`, `-Cx`, `--codegen x`, `--codegen=x`.
        let (codegen, width) = match flag {
            "-C" | "--codegen" => (flags.get(i + 1).map(String::as_str), 2),
            _ => (
                flag.strip_prefix("-C")
                    .or_else(|| flag.strip_prefix("--codegen="))
                    .filter(|c| !c.is_empty()),
                1,
            ),
        };
        match codegen {
            Some(c) if ties_to_a_cpu(c) => {
                ignored.push(flags[i..(i + width).min(flags.len())].join(" "));
            }
            _ => kept.extend(flags[i..(i + width).min(flags.len())].iter().cloned()),
        }
        i += width;
    }
    kept.push(format!("-Ctarget-cpu={}", platform.target_cpu));
    (kept.join("\x1f"), ignored)
}

/// What to do when `package` is not in the workspace around `dir`.
pub fn not_in_workspace(package: &str, dir: &Path) -> String {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if package == AUTHORIZER_BIN {
        format!(
            "the Cargo workspace around {} has no package {AUTHORIZER_BIN}: add it as a dependency of a member (as `mcpctl new` does in authorizer/Cargo.toml)",
            dir.display()
        )
    } else {
        format!(
            "the Cargo workspace around {} has no package {package:?}: set [server] package in deploy.toml to your server's package, or run `mcpctl new NAME` for a project that has one",
            dir.display()
        )
    }
}

/// The compiler's first error and what follows it (at most 20 lines): the part worth reading.
fn first_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("error"))
        .unwrap_or(lines.len().saturating_sub(20));
    lines[start..]
        .iter()
        .take(20)
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The path cargo reports for binary `name` (wherever the target dir is).
fn executable(messages: &str, name: &str) -> Result<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .with_context(|| {
            format!("cargo built no binary named {name}: the package must have a binary of its own name (src/main.rs)")
        })
}

fn checked(
    server_package: &str,
    server: PathBuf,
    authorizer: PathBuf,
    platform: &'static Platform,
) -> Result<Binaries> {
    let mut newest = None;
    for path in [&server, &authorizer] {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let n = elf::check_lambda_compatible(&bytes, platform).with_context(|| {
            format!(
                "{} cannot run on Lambda provided.al2023 ({})",
                path.display(),
                platform.architecture
            )
        })?;
        newest = newest.max(n);
    }
    Ok(Binaries {
        server_package: server_package.to_string(),
        server,
        authorizer,
        oauth: None,
        platform,
        newest_glibc: newest,
        ignored_flags: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{ARM64, X86_64};

    #[test]
    fn finds_the_executable_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"mcpctl-stack"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"mcpctl-server"},"executable":"/t/release/mcpctl-server"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages, "mcpctl-server").unwrap(),
            PathBuf::from("/t/release/mcpctl-server")
        );
        assert!(executable(messages, AUTHORIZER_BIN).is_err());
    }

    #[test]
    fn build_failure_shows_the_first_error() {
        let stderr = "   Compiling a\nwarning: x\nerror[E0432]: unresolved import `y`\n  --> a.rs:1:5\nerror: could not compile";
        let shown = first_error(stderr);
        assert!(shown.starts_with("error[E0432]"), "{shown}");
        assert!(shown.ends_with("could not compile"), "{shown}");
    }

    #[test]
    fn prebuilt_dir_must_hold_both_binaries() {
        let dir = std::env::temp_dir().join(format!("mcpctl-prebuilt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy("/bin/true", dir.join("mcpctl-server")).unwrap();
        let e = prebuilt(&dir, "mcpctl-server", &X86_64)
            .unwrap_err()
            .to_string();
        assert!(e.contains(AUTHORIZER_BIN), "{e}");
        std::fs::copy("/bin/true", dir.join(AUTHORIZER_BIN)).unwrap();
        let b = prebuilt(&dir, "mcpctl-server", &X86_64).unwrap();
        assert_eq!(b.platform, &X86_64);
        let described = b.describe("prebuilt");
        assert!(
            described.starts_with("prebuilt for x86_64, needs GLIBC_2.")
                && described.ends_with(": mcpctl-server and mcpctl-authorizer"),
            "{described}"
        );
        // The server binary is named as deploy.toml's package.
        let e = prebuilt(&dir, "demo", &X86_64).unwrap_err().to_string();
        assert!(
            e.contains("demo (deploy.toml's [server] package)") && e.contains("/demo not found"),
            "{e}"
        );
        std::fs::copy("/bin/true", dir.join("demo")).unwrap();
        let b = prebuilt(&dir, "demo", &X86_64).unwrap();
        assert_eq!(b.server, dir.join("demo"));
        assert!(b
            .describe("prebuilt")
            .ends_with(": demo and mcpctl-authorizer"));
        // This machine's x86_64 binaries are not arm64 ones.
        let e = format!("{:#}", prebuilt(&dir, "mcpctl-server", &ARM64).unwrap_err());
        assert!(
            e.contains("cannot run on Lambda provided.al2023 (arm64)")
                && e.contains("built for x86_64 (ELF machine 62)"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_lambda_build_builds_the_configured_server_package_and_the_authorizer() {
        let dir = Path::new("/p");
        // This repository: both are members.
        let repo = serde_json::json!({
            "packages": [
                {"id": "s", "name": "mcpctl-server", "dependencies": []},
                {"id": "a", "name": "mcpctl-authorizer", "dependencies": []},
            ],
            "workspace_members": ["s", "a"],
        });
        let packages = packages_to_build(&repo, "mcpctl-server", dir).unwrap();
        assert_eq!(packages, ["mcpctl-server", "mcpctl-authorizer"]);
        let args = zigbuild_args(&packages, "aarch64-unknown-linux-gnu.2.34");
        assert_eq!(
            args.join(" "),
            "zigbuild --release --target aarch64-unknown-linux-gnu.2.34 -p mcpctl-server -p mcpctl-authorizer --message-format=json-render-diagnostics"
        );
        // A project of `mcpctl new`: the authorizer is a dependency of the `authorizer` member.
        let project = serde_json::json!({
            "packages": [
                {"id": "d", "name": "demo", "dependencies": [{"name": "mcpctl-server"}]},
                {"id": "b", "name": "authorizer", "dependencies": [{"name": "mcpctl-authorizer"}]},
                {"id": "s", "name": "mcpctl-server", "dependencies": []},
                {"id": "a", "name": "mcpctl-authorizer", "dependencies": []},
            ],
            "workspace_members": ["d", "b"],
        });
        assert_eq!(
            packages_to_build(&project, "demo", dir).unwrap(),
            ["demo", "authorizer", "mcpctl-authorizer"]
        );
        let e = packages_to_build(&project, "other", dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no package \"other\""), "{e}");
        let e = packages_to_build(&repo, "demo", dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no package \"demo\""), "{e}");
    }

    #[test]
    fn a_package_missing_from_the_workspace_says_what_to_do() {
        let e = not_in_workspace("demo", Path::new("/p"));
        assert!(
            e.starts_with(
                "the Cargo workspace around /p has no package \"demo\": set [server] package"
            ),
            "{e}"
        );
        assert!(not_in_workspace(AUTHORIZER_BIN, Path::new(""))
            .contains("around . has no package mcpctl-authorizer"));
    }

    fn flags(encoded: &str) -> Vec<&str> {
        encoded.split('\x1f').collect()
    }

    #[test]
    fn the_lambda_build_generates_code_for_the_baseline_cpu_not_this_one() {
        let (f, ignored) = lambda_rustflags(&ARM64, None, None);
        assert_eq!(flags(&f), ["-Ctarget-cpu=generic"]);
        assert!(ignored.is_empty());
        let (f, _) = lambda_rustflags(&X86_64, None, None);
        assert_eq!(flags(&f), ["-Ctarget-cpu=x86-64"]);

        // RUSTFLAGS, in every spelling rustc takes, loses what ties it to this CPU only.
        let (f, ignored) = lambda_rustflags(
            &ARM64,
            None,
            Some("-C target-cpu=native --cfg tokio_unstable -Ctarget-feature=+sve2 --codegen=target-cpu=neoverse-v2 -C opt-level=3 --codegen target-feature=+lse"),
        );
        assert_eq!(
            flags(&f),
            [
                "--cfg",
                "tokio_unstable",
                "-C",
                "opt-level=3",
                "-Ctarget-cpu=generic"
            ]
        );
        assert_eq!(
            ignored,
            [
                "-C target-cpu=native",
                "-Ctarget-feature=+sve2",
                "--codegen=target-cpu=neoverse-v2",
                "--codegen target-feature=+lse"
            ]
        );
        // CARGO_ENCODED_RUSTFLAGS wins over RUSTFLAGS, as in cargo; empty means none.
        let (f, ignored) = lambda_rustflags(
            &X86_64,
            Some("-Ctarget-cpu=native\x1f-Dwarnings"),
            Some("--cfg x"),
        );
        assert_eq!(flags(&f), ["-Dwarnings", "-Ctarget-cpu=x86-64"]);
        assert_eq!(ignored, ["-Ctarget-cpu=native"]);
        let (f, _) = lambda_rustflags(&X86_64, Some(""), Some("-Ctarget-cpu=native"));
        assert_eq!(flags(&f), ["-Ctarget-cpu=x86-64"]);
        // A dangling `-C` is passed on for rustc to complain about.
        let (f, _) = lambda_rustflags(&ARM64, None, Some("-C"));
        assert_eq!(flags(&f), ["-C", "-Ctarget-cpu=generic"]);
    }
}
