//! Shared by the integration tests: a moto_server, a project directory with deploy.toml and
//! stand-in Lambda binaries, the `mcpctl` binary as a subprocess, and SDK clients to read back
//! what it made.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region};
use mcpctl_testkit::{MotoServer, REGION};

pub struct Project {
    pub moto: MotoServer,
    pub dir: PathBuf,
}

/// Real x86_64 ELF binaries linked against glibc <= 2.34, tiny so moto stores them fast. The
/// deploy path checks them exactly like release builds (the real zigbuild has its own test).
pub const SERVER_STAND_IN: &str = "/bin/true";
pub const AUTHORIZER_STAND_IN: &str = "/bin/false";

impl Project {
    pub fn new(deploy_toml: &str) -> Self {
        let moto = MotoServer::start();
        let dir =
            std::env::temp_dir().join(format!("mcpctl-test-{}-{}", std::process::id(), moto.port));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("prebuilt")).unwrap();
        std::fs::copy(SERVER_STAND_IN, dir.join("prebuilt/mcpctl-server")).unwrap();
        std::fs::copy(AUTHORIZER_STAND_IN, dir.join("prebuilt/mcpctl-authorizer")).unwrap();
        let p = Self { moto, dir };
        p.write_config(deploy_toml);
        p
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
            .endpoint_url(self.moto.endpoint())
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
fn mcpctl_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let original = PathBuf::from(env!("CARGO_BIN_EXE_mcpctl"));
        let dir = std::env::temp_dir().join(format!("mcpctl-bin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let private = dir.join("mcpctl");
        let _ = std::fs::remove_file(&private);
        if std::fs::hard_link(&original, &private).is_err() {
            std::fs::copy(&original, &private).unwrap();
        }
        private
    })
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
