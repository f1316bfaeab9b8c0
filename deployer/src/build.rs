//! Builds the two Lambda binaries for provided.al2023 with cargo-zigbuild (glibc 2.34 target,
//! no Docker), or takes prebuilt ones, and checks that each can start there.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};

use crate::elf;

pub const SERVER_BIN: &str = "mcpctl-server";
pub const AUTHORIZER_BIN: &str = "mcpctl-authorizer";
/// The `.2.34` suffix makes zig link against glibc 2.34, what provided.al2023 has.
pub const TARGET: &str = "x86_64-unknown-linux-gnu.2.34";
/// Skips the build: a directory holding `mcpctl-server` and `mcpctl-authorizer`.
pub const PREBUILT_ENV: &str = "MCPCTL_PREBUILT_DIR";

#[derive(Debug, Clone)]
pub struct Binaries {
    pub server: PathBuf,
    pub authorizer: PathBuf,
    /// Newest glibc symbol version each needs, for the step's report.
    pub newest_glibc: Option<String>,
}

/// Takes the binaries from `dir`, checked like built ones.
pub fn prebuilt(dir: &Path) -> Result<Binaries> {
    let server = dir.join(SERVER_BIN);
    let authorizer = dir.join(AUTHORIZER_BIN);
    for path in [&server, &authorizer] {
        if !path.is_file() {
            bail!(
                "prebuilt binary {} not found: the directory must hold {SERVER_BIN} and {AUTHORIZER_BIN}",
                path.display()
            );
        }
    }
    checked(server, authorizer)
}

/// `cargo zigbuild --release` of both crates in the workspace around `dir`.
pub async fn zigbuild(dir: &Path) -> Result<Binaries> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = tokio::process::Command::new(cargo)
        .args([
            "zigbuild",
            "--release",
            "--target",
            TARGET,
            "-p",
            SERVER_BIN,
            "-p",
            AUTHORIZER_BIN,
            "--message-format=json-render-diagnostics",
        ])
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
        bail!("cargo zigbuild failed:\n{}", first_error(&stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let server = executable(&stdout, SERVER_BIN)?;
    let authorizer = executable(&stdout, AUTHORIZER_BIN)?;
    checked(server, authorizer)
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
            format!("cargo built no binary named {name}: is this the mcpctl workspace?")
        })
}

fn checked(server: PathBuf, authorizer: PathBuf) -> Result<Binaries> {
    let mut newest = None;
    for path in [&server, &authorizer] {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let n = elf::check_lambda_compatible(&bytes)
            .with_context(|| format!("{} cannot run on Lambda provided.al2023", path.display()))?;
        newest = newest.max(n);
    }
    Ok(Binaries {
        server,
        authorizer,
        newest_glibc: newest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"mcpctl-stack"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"mcpctl-server"},"executable":"/t/release/mcpctl-server"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages, SERVER_BIN).unwrap(),
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
        std::fs::copy("/bin/true", dir.join(SERVER_BIN)).unwrap();
        let e = prebuilt(&dir).unwrap_err().to_string();
        assert!(e.contains(AUTHORIZER_BIN), "{e}");
        std::fs::copy("/bin/true", dir.join(AUTHORIZER_BIN)).unwrap();
        assert!(prebuilt(&dir).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
