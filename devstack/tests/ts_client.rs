//! The official TypeScript SDK client (interop/ts-client/client.mjs, shared with the server's
//! interop check) through the dev stack: the same client code, now behind the gateway, the
//! authorizer and the Lambda runtime API. Needs Node and `npm ci` in interop/ts-client, so it
//! runs only with MCPCTL_NODE_TESTS=1 (scripts/test and CI set it up).

mod common;

use std::process::Command;

use common::start;
use mcpctl_stack::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_client_through_the_dev_stack() {
    if std::env::var("MCPCTL_NODE_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: set MCPCTL_NODE_TESTS=1 (after `npm ci` in interop/ts-client)");
        return;
    }
    let client_dir = mcpctl_testkit::workspace_root()
        .join("interop")
        .join("ts-client");
    assert!(
        client_dir
            .join("node_modules")
            .join("@modelcontextprotocol")
            .is_dir(),
        "run `npm ci` in {} first",
        client_dir.display()
    );
    let server = mcpctl_testkit::build_binary("mcpctl-server", "mcpctl-server");
    let authorizer = mcpctl_testkit::build_binary("mcpctl-authorizer", "mcpctl-authorizer");
    let s = start(Config::default(), server, authorizer, "ts").await;
    let url = s.stack.url();

    let run = |key: &str| {
        let url = url.clone();
        let key = key.to_string();
        let dir = client_dir.clone();
        tokio::task::spawn_blocking(move || {
            Command::new("node")
                .arg("client.mjs")
                .arg(&url)
                .arg(&key)
                .current_dir(dir)
                .output()
                .expect("node runs")
        })
    };
    let ok = run(&s.key).await.unwrap();
    assert!(
        ok.status.success(),
        "TS client failed:\n{}\n{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    // The same client with a wrong key must fail (403 from the gateway), or the check above
    // proves nothing about the authorizer.
    let denied = run("wrong-key-wrong-key").await.unwrap();
    assert!(!denied.status.success(), "a wrong key must not get through");
    assert!(s.lines.any(|l| l.contains("403 auth=deny")));
    s.stack.shutdown().await;
}
