//! The local Secrets Manager stand-in speaks GetSecretValue as AWS JSON 1.1 and re-reads the key
//! file on every call.

mod common;

use mcpctl_devstack::secrets::{SecretIdentity, SecretsStandIn};
use serde_json::{json, Value};

async fn get(endpoint: &str, target: &str, body: Value) -> (u16, Option<String>, Value) {
    let r = reqwest::Client::new()
        .post(endpoint)
        .header("x-amz-target", target)
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string());
    (status, kind, r.json().await.unwrap())
}

#[tokio::test]
async fn get_secret_value_serves_both_stages_and_follows_rotation() {
    let state = common::scratch_state("secrets");
    let first = state.keys_or_create().unwrap();
    let identity = SecretIdentity {
        name: "app/api-key".into(),
        region: "eu-west-1".into(),
        account_id: "000000000000".into(),
    };
    let standin = SecretsStandIn::start(state.clone(), identity.clone())
        .await
        .unwrap();
    let endpoint = standin.endpoint();
    const GET: &str = "secretsmanager.GetSecretValue";

    let (status, _, v) = get(&endpoint, GET, json!({"SecretId": "app/api-key"})).await;
    assert_eq!(status, 200);
    assert_eq!(v["SecretString"], first.current.as_str());
    assert_eq!(v["Name"], "app/api-key");
    assert_eq!(v["ARN"], identity.arn().as_str());
    assert_eq!(v["VersionStages"], json!(["AWSCURRENT"]));
    assert!(v["CreatedDate"].as_f64().unwrap() > 1.6e9);
    let current_version = v["VersionId"].as_str().unwrap().to_string();
    assert_eq!(current_version.len(), 36);

    // No previous version yet: what Secrets Manager answers for a missing staging label.
    let (status, kind, v) = get(
        &endpoint,
        GET,
        json!({"SecretId": identity.arn(), "VersionStage": "AWSPREVIOUS"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(kind.as_deref(), Some("ResourceNotFoundException"));
    assert_eq!(v["__type"], "ResourceNotFoundException");
    assert!(v["message"].as_str().unwrap().contains("AWSPREVIOUS"));

    // Rotation on disk is visible on the next call, with no restart.
    let rotated = state.rotate().unwrap();
    let (_, _, v) = get(
        &endpoint,
        GET,
        json!({"SecretId": "app/api-key", "VersionStage": "AWSCURRENT"}),
    )
    .await;
    assert_eq!(v["SecretString"], rotated.current.as_str());
    let (status, _, v) = get(
        &endpoint,
        GET,
        json!({"SecretId": "app/api-key", "VersionStage": "AWSPREVIOUS"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["SecretString"], first.current.as_str());
    assert_eq!(
        v["VersionId"],
        current_version.as_str(),
        "a key keeps its version id"
    );
    assert_eq!(v["VersionStages"], json!(["AWSPREVIOUS"]));

    let (status, kind, _) = get(&endpoint, GET, json!({"SecretId": "other"})).await;
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("ResourceNotFoundException"))
    );
    let (status, kind, _) = get(&endpoint, "secretsmanager.PutSecretValue", json!({})).await;
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("UnknownOperationException"))
    );
    let _ = std::fs::remove_dir_all(state.dir());
}
