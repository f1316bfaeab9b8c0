//! `mcpctl dev`: the whole deployed stack on this machine. API Gateway (routes, authorizer and
//! its cache, payload 2.0), Lambda (runtime API, cold starts, timeouts) and the Secrets Manager
//! read are emulated by mcpctl-devstack; the server and authorizer are the real binaries: a
//! native build by default (the `local` profile when the workspace defines it: release without
//! fat LTO, much faster to build), or with `--arch` exactly the Lambda build deploy uploads, run
//! under qemu-user when this machine is of the other architecture.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use mcpctl_devstack::client_config::{self, Client, Target};
use mcpctl_devstack::{DevOptions, DevStack, Launcher, LocalState, Log, DEFAULT_MAX_INSTANCES};
use mcpctl_stack::config::Architecture;
use mcpctl_stack::Config;
use serde_json::json;

use crate::local::{self, DEFAULT_PORT};
use crate::platform::Platform;
use crate::{elf, signals, Cli, Output};

use crate::build::AUTHORIZER_BIN;

/// The profile of dev's native build when the workspace's Cargo.toml defines it (this
/// repository's and `mcpctl new`'s do): the release settings without fat LTO, for a first build
/// in a fraction of the time. Otherwise dev builds `--release`.
pub const LOCAL_PROFILE: &str = "local";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Port of the local API.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Address to listen on; anything but loopback exposes the API to the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Use this API key instead of the stored (or generated) one; it replaces the stored key.
    #[arg(long, env = "MCPCTL_DEV_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// A server binary to run instead of building one.
    #[arg(long, requires = "authorizer_bin")]
    pub server_bin: Option<PathBuf>,
    /// An authorizer binary to run instead of building one.
    #[arg(long, requires = "server_bin")]
    pub authorizer_bin: Option<PathBuf>,
    /// Do not build: run the binaries of the last `mcpctl dev` build in the workspace's target
    /// directory.
    #[arg(long, conflicts_with = "server_bin")]
    pub no_build: bool,
    /// Most instances of each function running at once.
    #[arg(long, default_value_t = DEFAULT_MAX_INSTANCES as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_instances: u16,
    /// Where the local key and endpoint live (default: .mcpctl/dev beside deploy.toml).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Run the Lambda build for this architecture (cargo zigbuild, glibc 2.34: the binaries
    /// deploy uploads) instead of a native build; on a machine of the other architecture under
    /// qemu-user (`qemu-aarch64 -L /usr/aarch64-linux-gnu` for arm64 on x86_64).
    #[arg(long, value_enum, value_name = "ARCH")]
    pub arch: Option<ArchArg>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ArchArg {
    #[value(name = "arm64")]
    Arm64,
    #[value(name = "x86_64")]
    X86_64,
}

impl ArchArg {
    fn platform(self) -> &'static Platform {
        Platform::of(match self {
            ArchArg::Arm64 => Architecture::Arm64,
            ArchArg::X86_64 => Architecture::X86_64,
        })
    }
}

/// How the functions run: natively, or the Lambda build of `platform`, through `launcher`
/// when this machine cannot run it itself.
struct Execution {
    platform: Option<&'static Platform>,
    launcher: Option<Launcher>,
}

impl Execution {
    /// For the banner: `native build`, `arm64 Lambda build under qemu-aarch64 ...`.
    fn describe(&self) -> String {
        match (self.platform, &self.launcher) {
            (None, _) => "native build".to_string(),
            (Some(p), None) => format!("{} Lambda build (glibc 2.34), native", p.architecture),
            (Some(p), Some(l)) => format!(
                "{} Lambda build (glibc 2.34) under {}",
                p.architecture,
                std::iter::once(l.program.as_os_str())
                    .chain(l.args.iter().map(|a| a.as_os_str()))
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let config = load_config(cli)?;
    if let Some(key) = &args.api_key {
        check_key(key)?;
    }
    let platform = args.arch.map(ArchArg::platform);
    // Checked before a build of minutes: qemu is there when needed.
    let launcher = platform.map(launcher_for).transpose()?.flatten();
    // Binaries first: a failed build must not leave a key file behind.
    let (server_bin, authorizer_bin) =
        binaries(cli, args, &config.server.package, platform).await?;
    if config.auth.mode == mcpctl_stack::config::AuthMode::OAuth {
        oauth_binary(args, platform, &authorizer_bin).await?;
    }
    let execution = Execution { platform, launcher };
    let state = local::state(cli, args.state_dir.as_deref());
    let keys = match &args.api_key {
        Some(key) => state.set_key(key),
        None => state.keys_or_create(),
    }
    // The state error already names the file and what to do; keep it as the one line.
    .map_err(|e| anyhow::anyhow!("{e}"))?;

    let bind = SocketAddr::new(args.bind, args.port);
    let stack = DevStack::start_with_launcher(
        DevOptions {
            config: config.clone(),
            server_bin,
            authorizer_bin,
            state: state.clone(),
            bind,
            max_instances: args.max_instances.into(),
            integration_limit: mcpctl_devstack::INTEGRATION_LIMIT,
            log: Log::stderr(),
        },
        execution.launcher.clone(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot start the local stack: {e}"))?;
    let url = stack.url();
    state
        .set_endpoint(&url)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Cleared however this function ends, so `invoke --local` never finds a dead endpoint.
    let _endpoint = EndpointGuard(&state);

    let target = Target {
        name: &config.name,
        url: &url,
        api_key: &keys.current,
    };
    match cli.output {
        Output::Json => print_json_banner(&target, &state, &execution)?,
        Output::Text => print_banner(&config, &target, &state, bind, &execution),
    }

    signals::wait_for_stop().await;
    eprintln!("[dev] stopping: killing function instances");
    let stats = stack.stats();
    stack.shutdown().await;
    eprintln!(
        "[dev] stopped. server: {} invocations, {} cold starts, at most {} instances; authorizer: {} invocations, {} cold starts",
        stats.server.invocations,
        stats.server.cold_starts,
        stats.server.peak_instances,
        stats.authorizer.invocations,
        stats.authorizer.cold_starts,
    );
    Ok(())
}

struct EndpointGuard<'a>(&'a LocalState);

impl Drop for EndpointGuard<'_> {
    fn drop(&mut self) {
        self.0.clear_endpoint();
    }
}

/// deploy.toml with `--stage`, or the defaults when there is none (the local stack needs no
/// AWS settings), so `mcpctl dev` works in a fresh checkout.
fn load_config(cli: &Cli) -> Result<Config> {
    match local::defaults_without_config(cli) {
        Some(defaults) => Ok(defaults),
        None => super::load_config(cli),
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.len() < 16 || key.len() > 4096 || !key.chars().all(|c| c.is_ascii_graphic()) {
        bail!("--api-key must be 16 to 4096 printable ASCII characters without spaces");
    }
    Ok(())
}

/// How this machine runs `platform`'s binaries: itself (`None`), or under qemu-user with the
/// cross glibc as its library root.
fn launcher_for(platform: &'static Platform) -> Result<Option<Launcher>> {
    if platform.is_host() {
        return Ok(None);
    }
    let host = Platform::host().map_or(std::env::consts::ARCH, Platform::machine_name);
    let install = format!(
        "on Debian/Ubuntu: apt-get install qemu-user {}",
        platform.cross_package
    );
    let qemu = find_on_path(platform.qemu).with_context(|| {
        format!(
            "--arch {} on this {host} machine runs the functions under {}, which is not installed ({install})",
            platform.architecture, platform.qemu
        )
    })?;
    let loader = Path::new(platform.cross_sysroot)
        .join("lib")
        .join(platform.loader);
    if !loader.is_file() {
        bail!(
            "--arch {} on this {host} machine runs the functions under {} with the {} glibc of {}, but {} is missing ({install})",
            platform.architecture,
            platform.qemu,
            platform.machine_name(),
            platform.cross_sysroot,
            loader.display()
        );
    }
    let mut args = vec!["-L".into(), platform.cross_sysroot.into()];
    if let Some(cpu) = platform.qemu_cpu.filter(|cpu| qemu_knows_cpu(&qemu, cpu)) {
        args.extend(["-cpu".into(), cpu.into()]);
    }
    Ok(Some(Launcher {
        program: qemu,
        args,
    }))
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether `qemu -cpu help` lists `cpu` (qemu 7 and newer know Neoverse N1).
fn qemu_knows_cpu(qemu: &Path, cpu: &str) -> bool {
    std::process::Command::new(qemu)
        .args(["-cpu", "help"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .any(|w| w == cpu)
        })
}

/// The binaries to run: given, prebuilt in the target directory, or built now (natively, or
/// with `--arch` the Lambda build deploy makes).
async fn binaries(
    cli: &Cli,
    args: &Args,
    package: &str,
    platform: Option<&'static Platform>,
) -> Result<(PathBuf, PathBuf)> {
    if let (Some(server), Some(authorizer)) = (&args.server_bin, &args.authorizer_bin) {
        for path in [server, authorizer] {
            if !path.is_file() {
                bail!("{} does not exist", path.display());
            }
            if let Some(platform) = platform {
                check_machine(path, platform)?;
            }
        }
        return Ok((server.clone(), authorizer.clone()));
    }
    let root = workspace_root(&cli.config, package).with_context(|| {
        format!(
            "no Cargo workspace around {} to build the functions from: run in a project made by `mcpctl new NAME`, or pass --server-bin and --authorizer-bin",
            cli.config.display()
        )
    })?;
    if args.no_build {
        let workspace = Workspace::of(&root, package).await?;
        let (pair, build) = match platform {
            None => (
                binaries_in(&workspace.profile_dir(), package),
                format!(
                    "`mcpctl dev` without --no-build ({})",
                    workspace.build_command()
                ),
            ),
            Some(p) => (
                binaries_in(&workspace.target.join(p.triple).join("release"), package),
                format!(
                    "scripts/lambda-build, or `mcpctl dev --arch {}` without --no-build",
                    p.architecture
                ),
            ),
        };
        for path in [&pair.0, &pair.1] {
            if !path.is_file() {
                bail!(
                    "--no-build: {} does not exist; run {build} first",
                    path.display()
                );
            }
            if let Some(platform) = platform {
                check_machine(path, platform)?;
            }
        }
        return Ok(pair);
    }
    match platform {
        None => build(&root, package).await,
        Some(p) => {
            eprintln!(
                "[dev] building {package} and {AUTHORIZER_BIN} for Lambda {} (cargo zigbuild --release --target {}, as deploy builds them; the first build takes a few minutes)",
                p.architecture,
                p.zig_target()
            );
            let built = crate::build::zigbuild(&root, package, p).await?;
            eprintln!("[dev] {}", built.describe("built"));
            Ok((built.server, built.authorizer))
        }
    }
}

/// With `[auth] mode = "oauth"` the oauth function's binary, which devstack runs from beside
/// the authorizer's: built there with the authorizer's profile when dev builds, else checked.
async fn oauth_binary(
    args: &Args,
    platform: Option<&'static Platform>,
    authorizer_bin: &Path,
) -> Result<()> {
    let oauth = authorizer_bin.with_file_name(mcpctl_devstack::OAUTH_BIN);
    let prebuilt = args.no_build || args.authorizer_bin.is_some() || platform.is_some();
    if prebuilt {
        if !oauth.is_file() {
            bail!(
                "[auth] mode = \"oauth\" needs the oauth function beside the authorizer: {} does not exist (cargo build -p {} with the authorizer's profile)",
                oauth.display(),
                mcpctl_devstack::OAUTH_BIN
            );
        }
        return Ok(());
    }
    let dir = authorizer_bin
        .parent()
        .context("the authorizer binary has no directory")?;
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(p) => p,
        None => "release",
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("mcpctl's source tree is not known")?;
    eprintln!(
        "[dev] building {} ([auth] mode = \"oauth\")",
        mcpctl_devstack::OAUTH_BIN
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = tokio::process::Command::new(cargo)
        .args([
            "build",
            "--profile",
            profile,
            "-p",
            mcpctl_devstack::OAUTH_BIN,
        ])
        .env("CARGO_TARGET_DIR", dir.parent().unwrap_or(dir))
        .current_dir(workspace)
        .stdin(Stdio::null())
        .status()
        .await
        .context("cannot run cargo: is the Rust toolchain installed?")?;
    if !status.success() || !oauth.is_file() {
        bail!(
            "cargo build -p {} failed (see the compiler output above)",
            mcpctl_devstack::OAUTH_BIN
        );
    }
    Ok(())
}

/// `--arch` runs binaries of that architecture only.
fn check_machine(path: &Path, platform: &Platform) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    elf::check_machine(&bytes, platform)
        .with_context(|| format!("--arch {}: {}", platform.architecture, path.display()))?;
    Ok(())
}

/// The workspace that holds the function crates: around deploy.toml (cargo looks there and in
/// its parents), else, for this repository's own server, the source tree this `mcpctl` was
/// built from.
fn workspace_root(config: &Path, package: &str) -> Option<PathBuf> {
    let beside_config = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let in_a_workspace = std::path::absolute(&beside_config)
        .is_ok_and(|dir| dir.ancestors().any(|d| d.join("Cargo.toml").is_file()));
    if in_a_workspace {
        return Some(beside_config);
    }
    if package != mcpctl_stack::config::DEFAULT_SERVER_PACKAGE {
        return None;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .filter(|dir| {
            std::fs::read_to_string(dir.join("server").join("Cargo.toml"))
                .is_ok_and(|t| t.contains(&format!("name = \"{package}\"")))
        })
}

/// The workspace as cargo resolves it: the packages to build (`-p`), its target directory
/// (CARGO_TARGET_DIR, .cargo/config) and whether its Cargo.toml defines the `local` profile.
struct Workspace {
    packages: Vec<String>,
    target: PathBuf,
    local_profile: bool,
}

impl Workspace {
    async fn of(dir: &Path, package: &str) -> Result<Self> {
        let metadata = crate::build::metadata(dir).await?;
        let target = metadata["target_directory"]
            .as_str()
            .map(PathBuf::from)
            .context("cargo metadata names no target directory")?;
        let root = metadata["workspace_root"]
            .as_str()
            .map(PathBuf::from)
            .context("cargo metadata names no workspace root")?;
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
        Ok(Self {
            packages: crate::build::packages_to_build(&metadata, package, dir)?,
            target,
            local_profile: defines_local_profile(&manifest),
        })
    }

    /// The cargo arguments choosing the profile.
    fn profile_args(&self) -> Vec<&'static str> {
        if self.local_profile {
            vec!["--profile", LOCAL_PROFILE]
        } else {
            vec!["--release"]
        }
    }

    /// Where that profile's binaries go.
    fn profile_dir(&self) -> PathBuf {
        self.target.join(if self.local_profile {
            LOCAL_PROFILE
        } else {
            "release"
        })
    }

    fn build_command(&self) -> String {
        format!(
            "cargo build {} {}",
            self.profile_args().join(" "),
            crate::build::package_args(&self.packages).join(" ")
        )
    }
}

/// Whether a Cargo.toml defines `[profile.local]`.
fn defines_local_profile(manifest: &str) -> bool {
    toml::from_str::<toml::Table>(manifest).is_ok_and(|t| {
        t.get("profile")
            .and_then(|p| p.get(LOCAL_PROFILE))
            .is_some()
    })
}

/// The server's and the authorizer's binary in `dir`, a cargo profile directory.
fn binaries_in(dir: &Path, package: &str) -> (PathBuf, PathBuf) {
    (dir.join(package), dir.join(AUTHORIZER_BIN))
}

/// The native build of both functions (dev runs them on this machine; the glibc-2.34 zigbuild
/// is only needed for Lambda), with the `local` profile where the workspace has it. Cargo's
/// progress goes to the terminal.
async fn build(root: &Path, package: &str) -> Result<(PathBuf, PathBuf)> {
    let workspace = Workspace::of(root, package).await?;
    let profile = if workspace.local_profile {
        "the local profile: release without fat LTO; the first build takes minutes, a rebuild after an edit well under a minute"
    } else {
        "release; a first build takes several minutes, [profile.local] in Cargo.toml makes it faster"
    };
    eprintln!("[dev] building {package} and {AUTHORIZER_BIN} ({profile}; --no-build skips it)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = tokio::process::Command::new(cargo)
        .arg("build")
        .args(workspace.profile_args())
        .args(crate::build::package_args(&workspace.packages))
        .current_dir(root)
        .stdin(Stdio::null())
        .status()
        .await
        .context("cannot run cargo: is the Rust toolchain installed?")?;
    if !status.success() {
        bail!("cargo build failed (see the compiler output above)");
    }
    Ok(binaries_in(&workspace.profile_dir(), package))
}

fn print_banner(
    config: &Config,
    target: &Target<'_>,
    state: &LocalState,
    bind: SocketAddr,
    execution: &Execution,
) {
    println!("mcpctl dev: {} running locally (no AWS)\n", config.name);
    println!("  MCP endpoint  {}", target.url);
    println!(
        "  API key       {}  (x-api-key header; kept in {})",
        target.api_key,
        state.dir().display()
    );
    let oauth = config.auth.mode == mcpctl_stack::config::AuthMode::OAuth;
    if oauth {
        println!(
            "  OAuth         [auth] mode = \"oauth\": an OAuth client needs only the URL (discovery, registration, consent with the API key); the key itself works as Authorization: Bearer, not in x-api-key (docs/oauth.md)"
        );
    }
    println!(
        "  Functions     server {} MB / {} s, authorizer {} MB / {} s, started on first request",
        config.server.memory_mb,
        config.server.timeout_s,
        config.authorizer.memory_mb,
        config.authorizer.timeout_s
    );
    println!("  Binaries      {}", execution.describe());
    println!(
        "  Auth cache    {} s per key (authorizer.cache_ttl_s)",
        config.authorizer.cache_ttl_s
    );
    if !bind.ip().is_loopback() {
        println!("  Warning       listening on {bind}: reachable from the network");
    }
    println!("\nClient configuration:\n");
    print!("{}", client_config::render_all(target));
    println!("Try it:");
    println!(
        "  curl -s {} -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\\n    -H '{}{}' -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}}'",
        target.url,
        if oauth { "authorization: Bearer " } else { "x-api-key: " },
        target.api_key
    );
    println!("\nRequests are logged below (stderr). Ctrl-C stops everything.");
}

fn print_json_banner(target: &Target<'_>, state: &LocalState, execution: &Execution) -> Result<()> {
    let mut clients = serde_json::Map::new();
    for client in Client::ALL {
        let key = match client {
            Client::Cursor => "cursor",
            Client::VsCode => "vscode",
            Client::ClaudeCode => "claude_code",
            Client::Windsurf => "windsurf",
        };
        let value = client
            .json(target)
            .unwrap_or_else(|| json!(client.snippet(target)));
        clients.insert(key.to_string(), value);
    }
    // One line, so a script can read it while the stack keeps running.
    println!(
        "{}",
        json!({
            "url": target.url,
            "api_key": target.api_key,
            "state_dir": state.dir().display().to_string(),
            "architecture": execution.platform.map(|p| p.architecture.as_str()),
            "binaries": execution.describe(),
            "clients": clients,
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_profile_is_used_where_the_workspace_defines_it() {
        assert!(defines_local_profile(include_str!("../../../Cargo.toml")));
        // The workspace `mcpctl new` writes (its dependencies filled in).
        let project = include_str!("../../templates/new/Cargo.toml.in")
            .replace("{{name}}", "demo")
            .replace("{{mcpctl_server}}", "{ path = \"/m/server\" }")
            .replace("{{mcpctl_authorizer}}", "{ path = \"/m/authorizer\" }");
        assert!(defines_local_profile(&project));
        assert!(!defines_local_profile(
            "[workspace]\nmembers = [\"a\"]\n[profile.release]\nlto = true\n"
        ));
        let local = Workspace {
            packages: vec!["demo".into(), "authorizer".into(), AUTHORIZER_BIN.into()],
            target: PathBuf::from("/t"),
            local_profile: true,
        };
        assert_eq!(local.profile_dir(), Path::new("/t/local"));
        assert_eq!(
            local.build_command(),
            "cargo build --profile local -p demo -p authorizer -p mcpctl-authorizer"
        );
        let release = Workspace {
            local_profile: false,
            packages: vec!["mcpctl-server".into(), AUTHORIZER_BIN.into()],
            ..local
        };
        assert_eq!(release.profile_dir(), Path::new("/t/release"));
        assert_eq!(
            release.build_command(),
            "cargo build --release -p mcpctl-server -p mcpctl-authorizer"
        );
    }

    #[test]
    fn the_workspace_is_around_deploy_toml_or_this_checkout_for_its_own_server() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.toml");
        assert_eq!(
            workspace_root(&here, "demo"),
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        );
        let nowhere = Path::new("/").join("deploy.toml");
        assert_eq!(workspace_root(&nowhere, "demo"), None);
        assert_eq!(
            workspace_root(&nowhere, "mcpctl-server"),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .map(Path::to_path_buf)
        );
    }
}
