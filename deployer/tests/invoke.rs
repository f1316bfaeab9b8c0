//! `mcpctl invoke` through the rmcp client against the real server binary running locally, and
//! `rotate-key --local`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{assert_success, stderr, stdout, Project};
use mcpctl_devstack::state::LocalState;
use serde_json::Value;

/// The real `mcpctl-server` as a plain HTTP server on a free port; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start() -> Self {
        let bin = mcpctl_testkit::build_binary("mcpctl-server", "mcpctl-server");
        let mut child = Command::new(bin)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mcpctl-server starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("MCP server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn invoke_initialize_list_and_call_against_a_running_server() {
    let server = Server::start();
    let p = Project::new("name = \"inv\"\n");
    let url = server.url.as_str();

    let out = p.mcpctl(&["invoke", "--url", url, "initialize"]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("server:   mcpctl-server"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("tools"), "{}", stdout(&out));

    let out = p.mcpctl(&["invoke", "--url", url, "tools/list"]);
    assert_success(&out);
    for tool in ["calculate", "get_weather"] {
        assert!(stdout(&out).contains(tool), "{}", stdout(&out));
    }

    let out = p.mcpctl(&["invoke", "--url", url, "-o", "json", "tools/list"]);
    assert_success(&out);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let calc = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "calculate")
        .expect("calculate is listed");
    assert!(calc["inputSchema"]["properties"]["operation"].is_object());

    let args = r#"{"operation": "multiply", "a": 6, "b": 7}"#;
    let out = p.mcpctl(&["invoke", "--url", url, "tools/call", "calculate", args]);
    assert_success(&out);
    assert!(stdout(&out).contains("42"), "{}", stdout(&out));
    let out = p.mcpctl(&[
        "invoke",
        "--url",
        url,
        "-o",
        "json",
        "tools/call",
        "calculate",
        args,
    ]);
    assert_success(&out);
    let called: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(called["structuredContent"]["result"], 42.0, "{called}");

    // A tool error is reported and fails the command; bad arguments are one clear line.
    let out = p.mcpctl(&[
        "invoke",
        "--url",
        url,
        "tools/call",
        "calculate",
        r#"{"operation": "divide", "a": 1, "b": 0}"#,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the tool reported an error"),
        "{}",
        stderr(&out)
    );
    let out = p.mcpctl(&[
        "invoke",
        "--url",
        url,
        "tools/call",
        "calculate",
        "{not json",
    ]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn invoke_local_uses_the_dev_stack_state_and_rotate_key_local_rotates_it() {
    let server = Server::start();
    let p = Project::new("name = \"inv\"\n");
    let state = LocalState::beside(&p.dir.join("deploy.toml"));

    let out = p.mcpctl(&["invoke", "--local", "tools/list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("mcpctl dev"), "{}", stderr(&out));

    state.set_endpoint(&server.url).unwrap();
    let out = p.mcpctl(&["invoke", "--local", "tools/list"]);
    assert_success(&out);
    assert!(stdout(&out).contains("calculate"));

    let before = state.keys_or_create().unwrap();
    let out = p.mcpctl(&["rotate-key", "--local"]);
    assert_success(&out);
    let after = state.keys().unwrap().unwrap();
    assert_ne!(after.current, before.current);
    assert_eq!(after.previous.as_deref(), Some(before.current.as_str()));
    assert_eq!(stdout(&out).trim(), after.current);

    let out = p.mcpctl(&["rotate-key", "--local", "--finalize"]);
    assert_success(&out);
    assert_eq!(state.keys().unwrap().unwrap().previous, None);
}

#[test]
fn invoke_finds_the_deployed_endpoint_and_key_by_name() {
    let p = Project::new("name = \"inv\"\n");
    let out = p.mcpctl(&["invoke", "tools/list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("mcpctl deploy"), "{}", stderr(&out));

    let summary = p.deploy_json();
    let endpoint = summary["endpoint"].as_str().unwrap();
    // moto does not serve execute-api hosts, so the call itself cannot succeed here; the error
    // shows that the URL came from the deployed API.
    let out = p.mcpctl(&["invoke", "tools/list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(endpoint), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim_end().lines().count(),
        1,
        "{}",
        stderr(&out)
    );
}

/// Not deployed (never, half, or destroyed): one line saying so and what to do, never an AWS
/// error.
#[tokio::test(flavor = "multi_thread")]
async fn invoke_on_a_stack_that_is_not_deployed_says_so_in_one_line() {
    let p = Project::new("name = \"gone\"\nregion = \"us-east-1\"\n");
    let not_deployed =
        "error: stack gone is not deployed in us-east-1: run `mcpctl deploy` first\n";
    for args in [
        &["invoke", "tools/list"][..],
        &["invoke", "--api-key", "0123456789abcdef", "initialize"],
    ] {
        let out = p.mcpctl(args);
        assert!(!out.status.success());
        assert_eq!(stderr(&out), not_deployed, "{args:?}");
        assert_eq!(stdout(&out), "");
    }

    // The API is there but its key secret was deleted behind mcpctl's back.
    p.deploy_json();
    aws_sdk_secretsmanager::Client::new(&p.sdk().await)
        .delete_secret()
        .secret_id("gone/api-key")
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let out = p.mcpctl(&["invoke", "tools/list"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "error: stack gone is not deployed in us-east-1 (its API key secret is scheduled for deletion): run `mcpctl deploy` first\n"
    );

    assert_success(&p.mcpctl(&["destroy", "--yes"]));
    let out = p.mcpctl(&["invoke", "tools/list"]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out), not_deployed);
}
