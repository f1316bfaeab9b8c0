//! Shared setup for the dev stack's integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use mcpctl_devstack::{DevOptions, DevStack, LocalState, Log};
use mcpctl_stack::Config;

/// Builds the fixture function (an example of this crate) and returns its path.
pub fn fixture_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "mcpctl-devstack",
            "--example",
            "fixture_fn",
        ])
        .current_dir(mcpctl_testkit::workspace_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the fixture failed");
    mcpctl_testkit::target_dir()
        .join("debug")
        .join("examples")
        .join("fixture_fn")
}

pub fn scratch_state(tag: &str) -> LocalState {
    // Under the target dir, so `cargo clean` takes these with it.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "mcpctl-devstack-{tag}-{}-{}",
        std::process::id(),
        mcpctl_devstack::state::new_api_key().unwrap()
    ));
    LocalState::new(dir)
}

/// Every dev log line, for assertions.
#[derive(Clone, Default)]
pub struct Lines(pub Arc<Mutex<Vec<String>>>);

impl Lines {
    pub fn log(&self) -> Log {
        let lines = self.0.clone();
        Log::new(move |l| {
            eprintln!("{l}");
            lines.lock().unwrap().push(l.to_string());
        })
    }
    /// The status of every request the gateway logged (`[api] POST /mcp 200 ...`).
    pub fn api_statuses(&self) -> Vec<u16> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("[api] "))
            .filter_map(|l| l.split_whitespace().nth(3).and_then(|s| s.parse().ok()))
            .collect()
    }
    pub fn any(&self, f: impl Fn(&str) -> bool) -> bool {
        self.0.lock().unwrap().iter().any(|l| f(l))
    }
}

pub struct Started {
    pub stack: DevStack,
    pub state: LocalState,
    pub key: String,
    pub lines: Lines,
}

pub async fn start(config: Config, server: PathBuf, authorizer: PathBuf, tag: &str) -> Started {
    start_with(
        config,
        server,
        authorizer,
        tag,
        mcpctl_devstack::INTEGRATION_LIMIT,
    )
    .await
}

pub async fn start_with(
    config: Config,
    server: PathBuf,
    authorizer: PathBuf,
    tag: &str,
    integration_limit: std::time::Duration,
) -> Started {
    let state = scratch_state(tag);
    let key = state.keys_or_create().unwrap().current;
    let lines = Lines::default();
    let stack = DevStack::start(DevOptions {
        config,
        server_bin: server,
        authorizer_bin: authorizer,
        state: state.clone(),
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_instances: 10,
        integration_limit,
        log: lines.log(),
    })
    .await
    .unwrap();
    Started {
        stack,
        state,
        key,
        lines,
    }
}

pub fn pid_alive(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie would still show, with state Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
