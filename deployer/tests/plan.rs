//! `mcpctl plan` against moto: everything to create on an empty account, nothing after a
//! deploy, exactly the edited setting after editing deploy.toml; never a mutating call.

mod common;

use common::{assert_success, stdout, Project};
use serde_json::Value;

const CONFIG: &str = r#"
name = "plandemo"
region = "us-east-1"

[server]
memory_mb = 256

[stages.prod]
server_memory_mb = 1024
"#;

fn plan_json(p: &Project, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "-o", "json"];
    args.extend_from_slice(extra);
    let out = p.mcpctl(&args);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).expect("plan -o json prints JSON");
    assert_eq!(v["mutating_calls"], 0, "plan changed something: {v:#}");
    assert!(
        v["api_calls"].as_u64().unwrap() > 0,
        "plan read nothing: {v:#}"
    );
    v
}

fn actions(v: &Value, action: &str) -> Vec<String> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == action)
        .map(|c| c["resource"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_shows_creates_then_nothing_then_exactly_the_edit() {
    let p = Project::new(CONFIG);
    let prebuilt = p.prebuilt();
    let prebuilt = prebuilt.to_str().unwrap();

    // Empty account: every resource is a create; plan itself leaves the account empty.
    let v = plan_json(&p, &[]);
    let creates = actions(&v, "create");
    for r in [
        "secret plandemo/api-key",
        "role plandemo-server-role",
        "role plandemo-authorizer-role",
        "log group /aws/lambda/plandemo-server",
        "function plandemo-server",
        "function plandemo-authorizer",
        "http api plandemo-api",
        "routes",
        "stage $default",
        "permission plandemo-server",
        "permission plandemo-authorizer",
    ] {
        assert!(creates.contains(&r.to_string()), "{r} not planned: {v:#}");
    }
    assert!(actions(&v, "update").is_empty(), "{v:#}");
    assert_eq!(v["to_create"].as_u64().unwrap() as usize, creates.len());
    let notes = actions(&v, "note");
    assert_eq!(notes, ["code"], "{v:#}");
    // Still nothing there: a second plan says the same.
    assert_eq!(plan_json(&p, &[])["changes"], v["changes"]);

    let text = p.mcpctl(&["plan"]);
    assert_success(&text);
    let text = stdout(&text);
    assert!(text.contains("+ function plandemo-server"), "{text}");
    // Built for deploy.toml's architecture: arm64 unless it says otherwise.
    assert!(text.contains("built for arm64 at deploy"), "{text}");

    p.deploy_json();

    // Deployed: nothing to change, with or without comparing the code.
    let v = plan_json(&p, &[]);
    assert!(actions(&v, "create").is_empty(), "{v:#}");
    assert!(actions(&v, "update").is_empty(), "{v:#}");
    let v = plan_json(&p, &["--prebuilt", prebuilt]);
    assert!(actions(&v, "update").is_empty(), "{v:#}");
    assert!(actions(&v, "note").is_empty(), "{v:#}");
    let text = stdout(&p.mcpctl(&["plan"]));
    assert!(text.contains("Nothing to change"), "{text}");

    // One edit: exactly that change.
    p.write_config(&CONFIG.replace("memory_mb = 256", "memory_mb = 512"));
    let v = plan_json(&p, &[]);
    assert!(actions(&v, "create").is_empty(), "{v:#}");
    let updates: Vec<&Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "update")
        .collect();
    assert_eq!(updates.len(), 1, "{v:#}");
    assert_eq!(updates[0]["resource"], "function plandemo-server");
    assert_eq!(updates[0]["fields"], serde_json::json!(["memory"]));
    let text = stdout(&p.mcpctl(&["plan"]));
    assert!(
        text.contains("~ function plandemo-server") && text.contains("update (memory)"),
        "{text}"
    );

    // Other code than deployed: with --prebuilt the code change shows up.
    std::fs::copy(
        p.prebuilt().join("mcpctl-authorizer"),
        p.prebuilt().join("mcpctl-server"),
    )
    .unwrap();
    let v = plan_json(&p, &["--prebuilt", prebuilt]);
    let server = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "function plandemo-server")
        .unwrap()
        .clone();
    assert_eq!(
        server["fields"],
        serde_json::json!(["code", "memory"]),
        "{v:#}"
    );

    // And deploy then applies exactly what plan said.
    let summary = p.deploy_json();
    let changed = common::changed_steps(&summary);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].0, "function plandemo-server");

    // Another stage is another stack: all of it still to create.
    let v = plan_json(&p, &["--stage", "prod"]);
    assert_eq!(v["stack"], "plandemo-prod");
    assert!(actions(&v, "update").is_empty(), "{v:#}");
    assert!(actions(&v, "create").contains(&"function plandemo-prod-server".to_string()));

    // After destroy the secret waits for deletion: plan says deploy restores it.
    assert_success(&p.mcpctl(&["destroy", "--yes"]));
    let v = plan_json(&p, &[]);
    let secret = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "secret plandemo/api-key")
        .unwrap()
        .clone();
    assert_eq!(secret["action"], "update", "{v:#}");
    assert_eq!(
        secret["fields"],
        serde_json::json!(["restored from scheduled deletion"])
    );
    assert!(actions(&v, "create").contains(&"function plandemo-server".to_string()));
}

/// The changes plan lists are exactly the steps deploy then changes, from every partial state an
/// interrupted deploy can leave (ids and ARNs of missing resources are predicted, not guessed).
#[test]
fn plan_predicts_deploy_after_an_interruption_at_every_step() {
    let p = Project::new(CONFIG);
    let prebuilt = p.prebuilt();
    let prebuilt = prebuilt.to_str().unwrap();
    let full = p.deploy_json();
    let steps = full["resources"].as_array().unwrap().len();
    assert!(steps >= 15, "{full:#}");
    for k in 1..steps {
        p.moto.reset();
        let k_str = k.to_string();
        let out = p.mcpctl_env(
            &["deploy", "--prebuilt", prebuilt, "-o", "json"],
            &[("MCPCTL_FAIL_AFTER_STEP", k_str.as_str())],
        );
        assert!(!out.status.success(), "deploy was to stop after step {k}");
        let v = plan_json(&p, &["--prebuilt", prebuilt]);
        let mut planned: Vec<String> = actions(&v, "create");
        planned.extend(actions(&v, "update"));
        planned.sort();
        let summary = p.deploy_json();
        let mut changed: Vec<String> = common::changed_steps(&summary)
            .into_iter()
            .map(|(step, _)| step)
            .collect();
        changed.sort();
        assert_eq!(planned, changed, "after stopping at step {k}: plan {v:#}");
    }
}
