//! Shared by the integration tests: a moto_server, a project directory with deploy.toml and
//! stand-in Lambda binaries, the `mcpctl` binary as a subprocess, and SDK clients to read back
//! what it made.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region};
use mcpctl_stack::config::Architecture;
use mcpctl_testkit::{MotoServer, REGION};
use serde_json::{json, Value};

pub struct Project {
    pub moto: MotoServer,
    pub dir: PathBuf,
}

/// Real x86_64 ELF binaries linked against glibc <= 2.34, tiny so moto stores them fast. The
/// deploy path checks them exactly like release builds (the real zigbuild has its own test).
pub const SERVER_STAND_IN: &str = "/bin/true";
pub const AUTHORIZER_STAND_IN: &str = "/bin/false";

/// The stand-in `(server, authorizer)` binaries for `architecture`. x86_64: this machine's
/// /bin/true and /bin/false. arm64 (the default, so what most tests deploy): the same two
/// programs in C (exit 0, exit 1) cross-compiled once per target directory with
/// `zig cc -target aarch64-linux-gnu.2.34`, dynamically linked against glibc exactly like the
/// real Lambda builds, so deploy checks them the same way (ELF machine 183, GLIBC <= 2.34).
pub fn stand_ins(architecture: Architecture) -> (PathBuf, PathBuf) {
    match architecture {
        Architecture::X86_64 => (SERVER_STAND_IN.into(), AUTHORIZER_STAND_IN.into()),
        Architecture::Arm64 => {
            static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
            BUILT
                .get_or_init(|| (aarch64_program("true", 0), aarch64_program("false", 1)))
                .clone()
        }
    }
}

/// `int main(void) { return CODE; }` for aarch64 glibc 2.34, built once (atomically, so test
/// processes racing for it each get a whole file).
fn aarch64_program(name: &str, code: u8) -> PathBuf {
    let source = format!("int main(void) {{ return {code}; }}\n");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("stand-ins-aarch64-glibc-2.34");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}-{code}"));
    if out.is_file() {
        return out;
    }
    let unique = format!("{}-{:?}", std::process::id(), std::thread::current().id())
        .replace(|c: char| !c.is_ascii_alphanumeric(), "");
    let src = dir.join(format!("{name}-{unique}.c"));
    let tmp = dir.join(format!("{name}-{unique}.tmp"));
    std::fs::write(&src, source).unwrap();
    let args = |cmd: &mut Command| {
        cmd.args(["cc", "-target", "aarch64-linux-gnu.2.34", "-Os", "-s", "-o"])
            .arg(&tmp)
            .arg(&src);
    };
    // zig on PATH, or the one `pip install ziglang` provides (what cargo-zigbuild uses too).
    let mut zig = Command::new("zig");
    args(&mut zig);
    if !zig.output().is_ok_and(|o| o.status.success()) {
        let mut py = Command::new("python3");
        py.args(["-m", "ziglang"]);
        args(&mut py);
        let out = py.output().expect("python3 runs");
        assert!(
            out.status.success(),
            "cannot cross-compile the aarch64 stand-in (needs zig: `pip install ziglang`): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::rename(&tmp, &out).unwrap();
    let _ = std::fs::remove_file(&src);
    out
}

/// The ELF machine of `bytes` (62 x86_64, 183 aarch64).
pub fn elf_machine(bytes: &[u8]) -> u16 {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    u16::from_le_bytes([bytes[0x12], bytes[0x13]])
}

/// The `bootstrap` inside a Lambda zip, checked to be its only entry and executable.
pub fn bootstrap_of(zip: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    assert_eq!(archive.len(), 1, "a Lambda zip holds only bootstrap");
    let mut entry = archive.by_name("bootstrap").unwrap();
    assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
    bytes
}

/// base64 of SHA-256: Lambda's `CodeSha256` of a zip.
pub fn code_sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

impl Project {
    /// A project on its own moto; through the AWS realism layer when
    /// `MCPCTL_TEST_REALISM_SEED` is set (`MCPCTL_TEST_REALISM_SCALE` scales its windows).
    pub fn new(deploy_toml: &str) -> Self {
        let seed = std::env::var("MCPCTL_TEST_REALISM_SEED")
            .ok()
            .and_then(|s| s.parse().ok());
        Self::seeded(deploy_toml, seed)
    }

    /// A project whose AWS behaves like AWS: moto behind the realism layer, with the seed of
    /// `MCPCTL_TEST_REALISM_SEED` or 7. The lifecycle, convergence, lock and image tests run this
    /// way, so every deploy and destroy they check survives throttling, lagging reads and IAM
    /// propagation.
    pub fn like_aws(deploy_toml: &str) -> Self {
        let seed = std::env::var("MCPCTL_TEST_REALISM_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7);
        Self::seeded(deploy_toml, Some(seed))
    }

    fn seeded(deploy_toml: &str, seed: Option<u64>) -> Self {
        let moto = match seed {
            Some(seed) => {
                let scale = std::env::var("MCPCTL_TEST_REALISM_SCALE")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.3);
                MotoServer::realistic(seed, scale)
            }
            None => MotoServer::start(),
        };
        Self::on(moto, deploy_toml)
    }

    /// A project whose mcpctl talks to moto through the AWS realism layer; `sdk()` still reads
    /// moto directly.
    pub fn realistic(deploy_toml: &str, seed: u64, scale: f64) -> Self {
        Self::on(MotoServer::realistic(seed, scale), deploy_toml)
    }

    fn on(moto: MotoServer, deploy_toml: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("mcpctl-test-{}-{}", std::process::id(), moto.port));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("prebuilt")).unwrap();
        let p = Self { moto, dir };
        // Stand-ins of the architecture the configuration deploys (arm64 when it does not
        // parse: those tests fail before any binary is read).
        let architecture = mcpctl_stack::Config::parse(deploy_toml, "deploy.toml")
            .map(|c| c.architecture)
            .unwrap_or_default();
        p.use_stand_ins(architecture);
        p.write_config(deploy_toml);
        p
    }

    /// Puts the `architecture` stand-ins in `prebuilt()`.
    pub fn use_stand_ins(&self, architecture: Architecture) {
        let (server, authorizer) = stand_ins(architecture);
        std::fs::copy(server, self.prebuilt().join("mcpctl-server")).unwrap();
        std::fs::copy(authorizer, self.prebuilt().join("mcpctl-authorizer")).unwrap();
    }

    pub fn write_config(&self, deploy_toml: &str) {
        std::fs::write(self.dir.join("deploy.toml"), deploy_toml).unwrap();
    }

    pub fn prebuilt(&self) -> PathBuf {
        self.dir.join("prebuilt")
    }

    /// `mcpctl ARGS` in the project directory, talking to this moto only.
    pub fn mcpctl(&self, args: &[&str]) -> Output {
        self.mcpctl_env(args, &[])
    }

    pub fn mcpctl_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        cmd.envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        cmd.output().expect("mcpctl runs")
    }

    /// The `mcpctl ARGS` command, not yet run (for commands that keep running, like `--follow`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(mcpctl_binary());
        cmd.args(args).current_dir(&self.dir);
        for var in [
            "AWS_PROFILE",
            "MCPCTL_FAIL_AFTER_STEP",
            "MCPCTL_PREBUILT_DIR",
            "MCPCTL_CONFIG",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(self.moto.env());
        cmd
    }

    /// `deploy --prebuilt DIR -o json`, asserting success; returns the summary.
    pub fn deploy_json(&self) -> serde_json::Value {
        let out = self.mcpctl(&[
            "deploy",
            "--prebuilt",
            self.prebuilt().to_str().unwrap(),
            "-o",
            "json",
        ]);
        assert_success(&out);
        serde_json::from_slice(&out.stdout).expect("deploy -o json prints one JSON document")
    }

    pub async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(self.moto.raw_endpoint())
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private link to the `mcpctl` under test: other builds in the same target dir may relink
/// target/debug/mcpctl while a long test runs, and a link keeps this test's binary in place.
/// Links live in the target dir (same filesystem, so a link costs nothing) and each process
/// removes the links of processes that have ended: a stale link would otherwise pin a whole
/// old debug binary on disk once cargo relinks the original.
fn mcpctl_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let original = PathBuf::from(env!("CARGO_BIN_EXE_mcpctl"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mcpctl-bin");
        std::fs::create_dir_all(&dir).unwrap();
        remove_links_of_ended_processes(&dir);
        let private = dir.join(format!("mcpctl-{}", std::process::id()));
        let _ = std::fs::remove_file(&private);
        if std::fs::hard_link(&original, &private).is_err() {
            std::fs::copy(&original, &private).unwrap();
        }
        private
    })
}

fn remove_links_of_ended_processes(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix("mcpctl-"));
        if let Some(pid) = pid.filter(|p| p.parse::<u32>().is_ok()) {
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The secret's value under a staging label (`AWSCURRENT`, `AWSPREVIOUS`), if there is one.
pub async fn secret_value(p: &Project, secret_id: &str, stage: &str) -> Option<String> {
    aws_sdk_secretsmanager::Client::new(&p.sdk().await)
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await
        .ok()
        .and_then(|v| v.secret_string().map(str::to_string))
}

/// The ARNs of the managed policies attached to `role`.
pub async fn attached_policy_arns(iam: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    iam.list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap().to_string())
        .collect()
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "mcpctl failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Deploy's build and package steps, which run before the stack lock is taken.
pub fn is_build_line(line: &str) -> bool {
    line.starts_with("✓ build") || line.starts_with("✓ package")
}

/// stderr without the build and package progress lines.
pub fn without_build_lines(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !is_build_line(l))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Steps of a JSON summary whose change is not "unchanged".
pub fn changed_steps(summary: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    summary["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"] != "unchanged" && r["change"].get("done").is_none())
        .map(|r| (r["step"].as_str().unwrap().to_string(), r["change"].clone()))
        .collect()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Deploy cut after each of its steps (MCPCTL_FAIL_AFTER_STEP), then rerun: every rerun ends
/// where a clean deploy ends, and a third run changes nothing.
pub async fn deploy_cut_after_every_step(p: &Project) {
    let reference = p.deploy_json();
    let steps = reference["resources"].as_array().unwrap().len();
    assert_eq!(steps, 16, "{reference}");
    let expected = snapshot(p).await;
    for k in 1..=steps {
        p.moto.reset();
        let k_str = k.to_string();
        let prebuilt = p.prebuilt();
        let cut = p.mcpctl_env(
            &["deploy", "--prebuilt", prebuilt.to_str().unwrap()],
            &[("MCPCTL_FAIL_AFTER_STEP", k_str.as_str())],
        );
        assert!(
            !cut.status.success(),
            "step {k}: the injected failure did not stop deploy"
        );
        assert!(
            stderr(&cut).contains(&format!("stopped after step {k}")),
            "{}",
            stderr(&cut)
        );
        let rerun = p.deploy_json();
        assert_eq!(
            snapshot(p).await,
            expected,
            "after a cut at step {k} and a rerun"
        );
        let third = p.deploy_json();
        assert_eq!(
            third["mutating_calls"], 0,
            "step {k}: the rerun did not converge: {third}"
        );
        // Cut after the last step, everything was already done.
        let rerun_calls = rerun["mutating_calls"].as_u64().unwrap();
        assert_eq!(rerun_calls == 0, k == steps, "step {k}: {rerun}");
    }
}

/// Destroy cut after each of its steps, then rerun: every rerun leaves exactly what a clean
/// destroy leaves (the secret scheduled for deletion), and a third run changes nothing. The
/// stack must be named `conv`.
pub async fn destroy_cut_after_every_step(p: &Project) {
    p.deploy_json();
    let clean = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
    assert_success(&clean);
    let clean: Value = serde_json::from_slice(&clean.stdout).unwrap();
    let steps = clean["resources"].as_array().unwrap().len();
    assert!(steps >= 8, "{clean}");
    let expected = snapshot(p).await;
    assert!(secret_is_scheduled_for_deletion(p).await);

    let mut converged = 0;
    for k in 1..=steps {
        p.moto.reset();
        p.deploy_json();
        let k_str = k.to_string();
        let cut = p.mcpctl_env(
            &["destroy", "--yes"],
            &[("MCPCTL_FAIL_AFTER_STEP", k_str.as_str())],
        );
        assert!(
            !cut.status.success(),
            "step {k}: the injected failure did not stop destroy"
        );
        assert!(
            stderr(&cut).contains(&format!("stopped after step {k}")),
            "{}",
            stderr(&cut)
        );
        let rerun = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
        assert_success(&rerun);
        let rerun: Value = serde_json::from_slice(&rerun.stdout).unwrap();
        assert_eq!(rerun["left_behind"], serde_json::json!([]), "step {k}");
        assert_eq!(
            snapshot(p).await,
            expected,
            "after a cut at step {k} and a rerun"
        );
        assert!(
            secret_is_scheduled_for_deletion(p).await,
            "step {k}: the secret is not scheduled for deletion"
        );
        let third = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
        assert_success(&third);
        let third: Value = serde_json::from_slice(&third.stdout).unwrap();
        assert_eq!(third["mutating_calls"], 0, "step {k}: {third}");
        converged += 1;
    }
    eprintln!("destroy interrupted after each step and rerun: {converged}/{steps} converged");
}

pub async fn secret_is_scheduled_for_deletion(p: &Project) -> bool {
    let sdk = p.sdk().await;
    aws_sdk_secretsmanager::Client::new(&sdk)
        .describe_secret()
        .secret_id("conv/api-key")
        .send()
        .await
        .map(|s| s.deleted_date().is_some())
        .unwrap_or(false)
}

/// Everything moto holds for the stack, with generated ids replaced, so two deploys compare.
pub async fn snapshot(p: &Project) -> Value {
    let sdk = p.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let apigw = aws_sdk_apigatewayv2::Client::new(&sdk);
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let mut s = BTreeMap::new();

    let listed = secrets.list_secrets().send().await.unwrap();
    let names: Vec<_> = listed
        .secret_list()
        .iter()
        .map(|x| x.name().unwrap().to_string())
        .collect();
    s.insert("secrets", json!(names));

    let mut fns = BTreeMap::new();
    for f in lambda.list_functions().send().await.unwrap().functions() {
        let mut env: BTreeMap<String, String> = f
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        if env.contains_key("API_KEY_SECRET_ID") {
            env.insert("API_KEY_SECRET_ID".into(), "<secret arn>".into());
        }
        // Random per stack: only its shape is the same.
        if let Some(key) = env.get_mut(mcpctl_stack::env::REQUEST_STATE_KEY_VAR) {
            assert_eq!(key.len(), 64, "the request-state key is 256 bits in hex");
            *key = "<random 256-bit key>".into();
        }
        let policy = lambda
            .get_policy()
            .function_name(f.function_name().unwrap())
            .send()
            .await;
        let statements = policy
            .ok()
            .and_then(|p| p.policy().map(str::to_string))
            .map(|p| {
                serde_json::from_str::<Value>(&p).unwrap()["Statement"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .unwrap_or(0);
        fns.insert(
            f.function_name().unwrap().to_string(),
            json!({
                "runtime": f.runtime().map(|r| r.as_str().to_string()),
                "memory": f.memory_size(),
                "timeout": f.timeout(),
                "role": f.role(),
                "sha": f.code_sha256(),
                "architectures": f.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "env": env,
                "permissions": statements,
            }),
        );
    }
    s.insert("functions", json!(fns));

    let roles = iam.list_roles().send().await.unwrap();
    let mut role_state = BTreeMap::new();
    for r in roles.roles() {
        let attached = attached_policy_arns(&iam, r.role_name()).await;
        let inline = iam
            .list_role_policies()
            .role_name(r.role_name())
            .send()
            .await
            .unwrap();
        role_state.insert(
            r.role_name().to_string(),
            json!({"attached": attached, "inline": inline.policy_names()}),
        );
    }
    s.insert("roles", json!(role_state));

    let groups = logs.describe_log_groups().send().await.unwrap();
    let groups: Vec<_> = groups
        .log_groups()
        .iter()
        .map(|g| json!([g.log_group_name(), g.retention_in_days()]))
        .collect();
    s.insert("log_groups", json!(groups));

    let mut apis = Vec::new();
    for api in apigw.get_apis().send().await.unwrap().items() {
        let id = api.api_id().unwrap();
        let integrations = apigw.get_integrations().api_id(id).send().await.unwrap();
        let routes = apigw.get_routes().api_id(id).send().await.unwrap();
        let mut route_keys: Vec<_> = routes
            .items()
            .iter()
            .map(|r| r.route_key().unwrap().to_string())
            .collect();
        route_keys.sort();
        let authorizers: std::collections::BTreeSet<_> = routes
            .items()
            .iter()
            .filter_map(|r| r.authorizer_id())
            .collect();
        let stages = apigw.get_stages().api_id(id).send().await.unwrap();
        let stages: Vec<_> = stages
            .items()
            .iter()
            .map(|s| json!([s.stage_name(), s.auto_deploy()]))
            .collect();
        apis.push(json!({
            "name": api.name(),
            "integrations": integrations.items().len(),
            "routes": route_keys,
            "route_authorizers": authorizers.len(),
            "stages": stages,
        }));
    }
    s.insert("apis", json!(apis));
    json!(s)
}

/// A policy document as IAM returns it (URL-encoded) or as Lambda returns it (plain JSON).
pub fn policy(doc: &str) -> Value {
    serde_json::from_str(doc).unwrap_or_else(|_| {
        // IAM URL-encodes policy documents.
        let decoded: String = {
            let b = doc.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(
                        u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16)
                            .unwrap(),
                    );
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        };
        serde_json::from_str(&decoded).unwrap()
    })
}
