//! `mcpctl config CLIENT`: the snippet for the deployed stack (against moto) and for the local
//! dev stack (a temporary state dir), exactly as devstack's client_config renders it.

mod common;

use common::{assert_success, stderr, stdout, Project};
use mcpctl_devstack::state::LocalState;
use serde_json::Value;

const CONFIG: &str = r#"
name = "cfgdemo"
region = "us-east-1"

[stages.prod]
server_memory_mb = 512
"#;

#[tokio::test(flavor = "multi_thread")]
async fn deployed_snippets_carry_the_endpoint_and_current_key() {
    let p = Project::new(CONFIG);

    // Nothing deployed yet: one clear line.
    let out = p.mcpctl(&["config", "cursor"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(
        err,
        "error: stack cfgdemo is not deployed in us-east-1: run `mcpctl deploy` first\n"
    );
    assert_eq!(stdout(&out), "");

    let summary = p.deploy_json();
    let endpoint = summary["endpoint"].as_str().unwrap().to_string();
    let key = common::secret_value(&p, "cfgdemo/api-key", "AWSCURRENT")
        .await
        .unwrap();

    let out = p.mcpctl(&["config", "cursor"]);
    assert_success(&out);
    let cursor: Value = serde_json::from_slice(&out.stdout).expect("stdout is only the JSON");
    assert_eq!(cursor["mcpServers"]["cfgdemo"]["url"], endpoint.as_str());
    assert_eq!(
        cursor["mcpServers"]["cfgdemo"]["headers"]["x-api-key"],
        key.as_str()
    );

    let vscode: Value = serde_json::from_slice(&p.mcpctl(&["config", "vscode"]).stdout).unwrap();
    assert_eq!(vscode["servers"]["cfgdemo"]["type"], "http");
    assert_eq!(vscode["servers"]["cfgdemo"]["url"], endpoint.as_str());
    assert_eq!(
        vscode["servers"]["cfgdemo"]["headers"]["x-api-key"],
        key.as_str()
    );

    let windsurf: Value =
        serde_json::from_slice(&p.mcpctl(&["config", "windsurf"]).stdout).unwrap();
    assert_eq!(
        windsurf["mcpServers"]["cfgdemo"]["serverUrl"],
        endpoint.as_str()
    );

    let claude = stdout(&p.mcpctl(&["config", "claude"]));
    assert_eq!(
        claude.trim(),
        format!("claude mcp add --transport http cfgdemo {endpoint} --header \"x-api-key: {key}\"")
    );

    // After a rotation the snippet has the new key.
    let rotated = p.mcpctl(&["rotate-key"]);
    assert_success(&rotated);
    let new_key = stdout(&rotated).trim().to_string();
    assert_ne!(new_key, key);
    let cursor: Value = serde_json::from_slice(&p.mcpctl(&["config", "cursor"]).stdout).unwrap();
    assert_eq!(
        cursor["mcpServers"]["cfgdemo"]["headers"]["x-api-key"],
        new_key.as_str()
    );

    // Another stage is another stack, not deployed yet.
    let out = p.mcpctl(&["--stage", "prod", "config", "cursor"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cfgdemo-prod is not deployed"),
        "{}",
        stderr(&out)
    );

    // -o json wraps the same document.
    let out = p.mcpctl(&["config", "cursor", "-o", "json"]);
    assert_success(&out);
    let wrapped: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(wrapped["url"], endpoint.as_str());
    assert_eq!(wrapped["config"], cursor);
}

/// A destroyed stack, and one whose key secret is gone: one line, no AWS error.
#[tokio::test(flavor = "multi_thread")]
async fn config_of_a_destroyed_stack_says_it_is_not_deployed() {
    let p = Project::new(CONFIG);
    p.deploy_json();
    aws_sdk_secretsmanager::Client::new(&p.sdk().await)
        .delete_secret()
        .secret_id("cfgdemo/api-key")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let out = p.mcpctl(&["config", "vscode"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "error: stack cfgdemo is not deployed in us-east-1 (it has no API key secret): run `mcpctl deploy` first\n"
    );

    assert_success(&p.mcpctl(&["destroy", "--yes"]));
    for client in ["cursor", "claude"] {
        let out = p.mcpctl(&["config", client]);
        assert!(!out.status.success());
        assert_eq!(
            stderr(&out),
            "error: stack cfgdemo is not deployed in us-east-1: run `mcpctl deploy` first\n"
        );
        assert_eq!(stdout(&out), "");
    }
}

#[test]
fn local_snippets_use_the_running_dev_endpoint_or_the_default() {
    let p = Project::new(CONFIG);
    let state = LocalState::beside(&p.dir.join("deploy.toml"));
    state.set_key("local-test-key-0123456789").unwrap();
    state.set_endpoint("http://127.0.0.1:9123/mcp").unwrap();

    let out = p.mcpctl(&["config", "vscode", "--local"]);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["servers"]["cfgdemo"]["url"], "http://127.0.0.1:9123/mcp");
    assert_eq!(
        v["servers"]["cfgdemo"]["headers"]["x-api-key"],
        "local-test-key-0123456789"
    );

    // Not running: where `mcpctl dev` listens by default, same key.
    state.clear_endpoint();
    let out = p.mcpctl(&["config", "claude", "--local"]);
    assert_success(&out);
    assert_eq!(
        stdout(&out).trim(),
        "claude mcp add --transport http cfgdemo http://127.0.0.1:8080/mcp --header \"x-api-key: local-test-key-0123456789\""
    );
}

#[test]
fn local_without_state_creates_the_key_dev_will_use() {
    let p = Project::new(CONFIG);
    let out = p.mcpctl(&["config", "cursor", "--local"]);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = LocalState::beside(&p.dir.join("deploy.toml"))
        .keys()
        .unwrap()
        .expect("a key was stored")
        .current;
    assert_eq!(
        v["mcpServers"]["cfgdemo"]["headers"]["x-api-key"],
        key.as_str()
    );
    assert_eq!(key.len(), 64);
}

#[test]
fn unknown_client_is_refused() {
    let p = Project::new(CONFIG);
    let out = p.mcpctl(&["config", "emacs", "--local"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cursor"), "{}", stderr(&out));
}
