//! `mcpctl status` against moto: what is deployed, key age, drift from deploy.toml; read-only
//! and never showing the key.

mod common;

use common::{assert_success, stdout, Project};
use serde_json::Value;

const CONFIG: &str = r#"
name = "statdemo"
region = "us-east-1"

[server]
memory_mb = 384
timeout_s = 15

[authorizer]
accept = ["x-api-key"]
cache_ttl_s = 120
"#;

fn status_json(p: &Project) -> Value {
    let out = p.mcpctl(&["status", "-o", "json"]);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mutating_calls"], 0, "{v:#}");
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reports_the_deployment_key_age_and_drift() {
    let p = Project::new(CONFIG);

    let v = status_json(&p);
    assert_eq!(v["deployed"], false, "{v:#}");
    let text = stdout(&p.mcpctl(&["status"]));
    assert!(text.contains("not deployed"), "{text}");

    let summary = p.deploy_json();
    let v = status_json(&p);
    assert_eq!(v["deployed"], true);
    assert_eq!(v["endpoint"], summary["endpoint"]);
    let server = &v["functions"]["server"];
    assert_eq!(server["memory_mb"], 384);
    assert_eq!(server["timeout_s"], 15);
    assert!(
        server["last_modified"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{v:#}"
    );
    assert_eq!(server["code_sha256"].as_str().unwrap().len(), 44, "{v:#}");
    assert_eq!(v["functions"]["authorizer"]["memory_mb"], 128);
    assert_eq!(v["authorizer_cache_ttl_s"], 120);
    let age = v["api_key"]["current_age_s"].as_i64().unwrap();
    assert!((0..600).contains(&age), "key age {age}");
    assert_eq!(v["api_key"]["previous_still_valid"], false);
    assert_eq!(v["in_sync"], true, "{v:#}");
    assert_eq!(v["drift"], serde_json::json!([]));

    // The key appears nowhere in the output.
    let key = common::secret_value(&p, "statdemo/api-key", "AWSCURRENT")
        .await
        .unwrap();
    let out = p.mcpctl(&["status"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(!text.contains(&key) && !v.to_string().contains(&key));
    assert!(
        text.contains(summary["endpoint"].as_str().unwrap()),
        "{text}"
    );
    assert!(text.contains("384 MB / 15 s"), "{text}");
    assert!(text.contains("120 s per key"), "{text}");
    assert!(text.contains("In sync"), "{text}");

    // After a rotation the old key is reported as still valid.
    assert_success(&p.mcpctl(&["rotate-key"]));
    assert_eq!(status_json(&p)["api_key"]["previous_still_valid"], true);

    // Drift: deploy.toml edited, and a change made behind mcpctl's back.
    p.write_config(&CONFIG.replace("cache_ttl_s = 120", "cache_ttl_s = 60"));
    aws_sdk_lambda::Client::new(&p.sdk().await)
        .update_function_configuration()
        .function_name("statdemo-server")
        .timeout(3)
        .send()
        .await
        .unwrap();
    let v = status_json(&p);
    assert_eq!(v["in_sync"], false);
    let drift: Vec<(String, Value)> = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["resource"].as_str().unwrap().to_string(),
                d["fields"].clone(),
            )
        })
        .collect();
    assert_eq!(
        drift,
        [
            (
                "function statdemo-server".to_string(),
                serde_json::json!(["timeout"])
            ),
            (
                "authorizer statdemo-api-key".to_string(),
                serde_json::json!(["cache ttl"])
            ),
        ],
        "{v:#}"
    );
    let text = stdout(&p.mcpctl(&["status"]));
    assert!(text.contains("Drift from"), "{text}");
    assert!(text.contains("update (cache ttl)"), "{text}");

    // Destroyed: only the secret waits for deletion, which is not a deployment.
    assert_success(&p.mcpctl(&["destroy", "--yes"]));
    let v = status_json(&p);
    assert_eq!(v["deployed"], false, "{v:#}");
    assert_eq!(v["api_key"]["scheduled_for_deletion"], true);
    assert!(stdout(&p.mcpctl(&["status"])).contains("not deployed"));
}
