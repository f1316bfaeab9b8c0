//! A test fixture function for the dev stack, speaking the Lambda Runtime API through the same
//! `lambda_runtime` crate the real binaries use.
//!
//! As `*-authorizer` (by AWS_LAMBDA_FUNCTION_NAME) it is a payload 2.0 simple-response
//! authorizer that reads both key versions from the Secrets Manager endpoint on every call.
//! Otherwise it is an integration whose behaviour the request's `x-fixture` header selects:
//! `sleep:MS`, `crash`, `bare`, `big`, `error`, `garbage`; anything else echoes the event.
//! FIXTURE_INIT=exit|hang|report makes init exit, never finish, or post to /init/error.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn secret(stage: &str) -> Option<String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER").ok()?;
    let id = std::env::var("API_KEY_SECRET_ID").ok()?;
    let response = reqwest::Client::new()
        .post(endpoint)
        .header("x-amz-target", "secretsmanager.GetSecretValue")
        .header("content-type", "application/x-amz-json-1.1")
        .body(json!({"SecretId": id, "VersionStage": stage}).to_string())
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let v: Value = response.json().await.ok()?;
    v["SecretString"].as_str().map(String::from)
}

async fn authorizer(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let key = event.payload["headers"]["x-api-key"].as_str().unwrap_or("");
    let mut valid = Vec::new();
    for stage in ["AWSCURRENT", "AWSPREVIOUS"] {
        if let Some(k) = secret(stage).await {
            valid.push(k);
        }
    }
    let ok = !key.is_empty() && valid.iter().any(|k| k == key);
    Ok(json!({"isAuthorized": ok, "context": {"fixture": "yes"}}))
}

async fn integration(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let mode = event.payload["headers"]["x-fixture"]
        .as_str()
        .unwrap_or("")
        .to_string();
    println!(
        "fixture handling {} mode={mode:?}",
        event.context.request_id
    );
    if let Some(ms) = mode.strip_prefix("sleep:") {
        let ms: u64 = ms.parse().unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    match mode.as_str() {
        "crash" => std::process::exit(3),
        "bare" => return Ok(json!({"bare": true})),
        "big" => {
            return Ok(json!({"statusCode": 200, "body": "x".repeat(7 * 1024 * 1024)}));
        }
        "error" => return Err("fixture error".into()),
        "garbage" => return Ok(json!({"statusCode": "teapot"})),
        _ => {}
    }
    Ok(json!({
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-instance-pid": std::process::id().to_string()},
        "cookies": ["fixture=1; Path=/"],
        "body": json!({
            "event": event.payload,
            "deadline_ms": event.context.deadline,
            "function_arn": event.context.invoked_function_arn,
            "env": {
                "AWS_LAMBDA_FUNCTION_NAME": std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok(),
                "AWS_LAMBDA_FUNCTION_VERSION": std::env::var("AWS_LAMBDA_FUNCTION_VERSION").ok(),
                "_HANDLER": std::env::var("_HANDLER").ok(),
                "FIXTURE_SETTING": std::env::var("FIXTURE_SETTING").ok(),
            },
        }).to_string(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Misbehaving during init, before the runtime loop starts.
    match std::env::var("FIXTURE_INIT").as_deref() {
        Ok("exit") => std::process::exit(7),
        Ok("hang") => std::thread::sleep(std::time::Duration::from_secs(3600)),
        Ok("report") => {
            // Reports an init error the way a runtime does, then stays up: Lambda must end it.
            let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
            let _ = reqwest::Client::new()
                .post(format!("http://{api}/2018-06-01/runtime/init/error"))
                .header("lambda-runtime-function-error-type", "Runtime.FixtureInit")
                .body(r#"{"errorMessage":"fixture init failed","errorType":"Runtime.FixtureInit"}"#)
                .send()
                .await;
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
        _ => {}
    }
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    if name.ends_with("-authorizer") {
        lambda_runtime::run(service_fn(authorizer)).await
    } else {
        lambda_runtime::run(service_fn(integration)).await
    }
}
