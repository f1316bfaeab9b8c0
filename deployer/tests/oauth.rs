//! `mcpctl deploy` with `[auth] mode = "oauth"` against moto (docs/oauth.md, "What the deployer
//! creates"): the signing key's secret, the oauth function with its own role, log group,
//! integration, routes without the authorizer and invoke permission; the authorizer reading the
//! signing key; nothing changed on a second deploy; back to api-key removes all of it; plan,
//! policy, rotate-key and destroy know it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{assert_success, path_str, policy, stderr, Project};
use mcpctl_stack::env::SECRET_ID_VAR;
use mcpctl_stack::oauth::OAUTH_ROUTES;
use serde_json::{json, Value};

const OAUTH: &str = r#"
name = "oa"
region = "us-east-1"

[auth]
mode = "oauth"
"#;

const API_KEY: &str = r#"
name = "oa"
region = "us-east-1"
"#;

/// A project whose `--prebuilt` directory also holds an `mcpctl-oauth` stand-in (the
/// authorizer's: any Lambda-compatible binary of the right architecture will do).
fn project(config: &str) -> Project {
    with_oauth_stand_in(Project::new(config))
}

fn with_oauth_stand_in(p: Project) -> Project {
    std::fs::copy(
        p.prebuilt().join("mcpctl-authorizer"),
        p.prebuilt().join("mcpctl-oauth"),
    )
    .unwrap();
    p
}

fn plan_json(p: &Project) -> Value {
    let out = p.mcpctl(&["plan", "--prebuilt", path_str(&p.prebuilt()), "-o", "json"]);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mutating_calls"], 0, "{v:#}");
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

const OAUTH_LABELS: [&str; 6] = [
    "secret oa-oauth-signing-key",
    "role oa-oauth-role",
    "log group /aws/lambda/oa-oauth",
    "function oa-oauth",
    "integration oa-oauth (AWS_PROXY, payload 2.0)",
    "permission oa-oauth",
];

async fn secret_arn(secrets: &aws_sdk_secretsmanager::Client, id: &str) -> String {
    secrets
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string()
}

async fn inline_policies(iam: &aws_sdk_iam::Client, role: &str) -> BTreeMap<String, Value> {
    let names = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for name in names.policy_names() {
        let doc = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        out.insert(name.clone(), policy(doc.policy_document()));
    }
    out
}

fn env_of(c: &aws_sdk_lambda::types::FunctionConfiguration) -> BTreeMap<String, String> {
    c.environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_on_an_empty_account_lists_the_oauth_parts_and_api_key_mode_has_none() {
    let p = project(OAUTH);
    let creates = actions(&plan_json(&p), "create");
    for label in OAUTH_LABELS {
        assert!(creates.contains(&label.to_string()), "{label}: {creates:?}");
    }
    // A named API stage would not match the issuer (the API's origin): one clear error.
    p.write_config(&format!("{OAUTH}\n[api]\nstage = \"prod\"\n"));
    for command in ["plan", "deploy"] {
        let out = p.mcpctl(&[command, "--prebuilt", path_str(&p.prebuilt())]);
        assert!(!out.status.success(), "{command}");
        assert!(
            stderr(&out).contains("[api] stage = \"$default\""),
            "{command}: {}",
            stderr(&out)
        );
    }
    p.write_config(API_KEY);
    let v = plan_json(&p);
    let all: Vec<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["resource"].as_str().unwrap().to_string())
        .collect();
    assert!(!all.iter().any(|r| r.contains("oauth")), "{all:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn oauth_deploy_creates_the_authorization_server_and_converges() {
    let p = project(OAUTH);
    let summary = p.deploy_json();
    let created: Vec<String> = summary["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"] == "created")
        .filter_map(|r| r["step"].as_str().map(str::to_string))
        .collect();
    for label in OAUTH_LABELS {
        assert!(created.contains(&label.to_string()), "{label}: {summary:#}");
    }
    let sdk = p.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let apigw = aws_sdk_apigatewayv2::Client::new(&sdk);
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);

    // The signing key: 256 random bits as 64 hex characters, tagged, not the API key.
    let signing = common::secret_value(&p, "oa-oauth-signing-key", "AWSCURRENT")
        .await
        .expect("signing key");
    assert_eq!(signing.len(), 64);
    assert!(signing.chars().all(|c| c.is_ascii_hexdigit()));
    let api_key = common::secret_value(&p, "oa/api-key", "AWSCURRENT")
        .await
        .unwrap();
    assert_ne!(signing, api_key);
    let d = secrets
        .describe_secret()
        .secret_id("oa-oauth-signing-key")
        .send()
        .await
        .unwrap();
    assert!(d
        .tags()
        .iter()
        .any(|t| t.key() == Some("mcpctl:stack") && t.value() == Some("oa")));
    let signing_arn = secret_arn(&secrets, "oa-oauth-signing-key").await;
    let api_key_arn = secret_arn(&secrets, "oa/api-key").await;

    // Its role: logs, and GetSecretValue on exactly the two secrets; nothing else.
    assert_eq!(
        common::attached_policy_arns(&iam, "oa-oauth-role").await,
        ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    );
    let read_both = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [api_key_arn, signing_arn],
        }]
    });
    assert_eq!(
        inline_policies(&iam, "oa-oauth-role").await,
        BTreeMap::from([("read-oauth-secrets".to_string(), read_both.clone())])
    );
    // The authorizer's role reads the signing key too.
    assert_eq!(
        inline_policies(&iam, "oa-authorizer-role").await,
        BTreeMap::from([("read-api-key".to_string(), read_both)])
    );

    // The function: 128 MB, 10 s, the two secrets and the cache TTL; no issuer (the request's
    // domain name is the API's origin), never the dev-only loopback switch.
    let f = lambda
        .get_function()
        .function_name("oa-oauth")
        .send()
        .await
        .unwrap();
    let c = f.configuration().unwrap();
    assert_eq!(c.memory_size(), Some(128));
    assert_eq!(c.timeout(), Some(10));
    assert_eq!(c.handler(), Some("bootstrap"));
    assert!(c.role().unwrap().ends_with(":role/oa-oauth-role"));
    assert_eq!(
        env_of(c),
        BTreeMap::from([
            (SECRET_ID_VAR.to_string(), api_key_arn.clone()),
            ("OAUTH_SIGNING_SECRET_ID".to_string(), signing_arn.clone()),
            ("SECRET_CACHE_TTL_S".to_string(), "60".to_string()),
        ])
    );
    let oauth_arn = c.function_arn().unwrap().to_string();
    assert!(f
        .tags()
        .is_some_and(|t| t.get("mcpctl:stack").map(String::as_str) == Some("oa")));
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/oa-oauth")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);

    // The authorizer validates access tokens.
    let a = lambda
        .get_function()
        .function_name("oa-authorizer")
        .send()
        .await
        .unwrap();
    let env = env_of(a.configuration().unwrap());
    assert_eq!(env["AUTH_MODE"], "oauth");
    assert_eq!(env["OAUTH_SIGNING_SECRET_ID"], signing_arn);
    assert_eq!(env[SECRET_ID_VAR], api_key_arn);
    assert!(!env.contains_key("OAUTH_ISSUER"));

    // Routes: the MCP ones behind the authorizer, the OAuth ones to the oauth integration
    // without it.
    let api_id = apigw.get_apis().send().await.unwrap().items()[0]
        .api_id()
        .unwrap()
        .to_string();
    let integrations = apigw
        .get_integrations()
        .api_id(&api_id)
        .send()
        .await
        .unwrap();
    assert_eq!(integrations.items().len(), 2);
    let oauth_integration = integrations
        .items()
        .iter()
        .find(|i| i.integration_uri() == Some(oauth_arn.as_str()))
        .expect("an integration to the oauth function");
    assert_eq!(oauth_integration.payload_format_version(), Some("2.0"));
    let target = format!(
        "integrations/{}",
        oauth_integration.integration_id().unwrap()
    );
    let routes = apigw.get_routes().api_id(&api_id).send().await.unwrap();
    let keys: BTreeSet<String> = routes
        .items()
        .iter()
        .filter_map(|r| r.route_key().map(str::to_string))
        .collect();
    let wanted: BTreeSet<String> = mcpctl_stack::ROUTES
        .iter()
        .chain(OAUTH_ROUTES)
        .map(|r| r.key())
        .collect();
    assert_eq!(keys, wanted);
    for r in routes.items() {
        let key = r.route_key().unwrap();
        if OAUTH_ROUTES.iter().any(|o| o.key() == key) {
            assert_eq!(r.target(), Some(target.as_str()), "{key}");
            assert_ne!(
                r.authorization_type().map(|a| a.as_str()),
                Some("CUSTOM"),
                "{key}"
            );
            assert!(r.authorizer_id().is_none_or(str::is_empty), "{key}");
        } else {
            assert_ne!(r.target(), Some(target.as_str()), "{key}");
            assert_eq!(r.authorization_type().unwrap().as_str(), "CUSTOM", "{key}");
        }
    }
    let authorizers = apigw
        .get_authorizers()
        .api_id(&api_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        authorizers.items()[0].identity_source(),
        ["$request.header.Authorization"]
    );

    // API Gateway may invoke the oauth function, from this API only.
    let policy_doc = lambda
        .get_policy()
        .function_name("oa-oauth")
        .send()
        .await
        .unwrap();
    let doc = policy(policy_doc.policy().unwrap());
    let statement = &doc["Statement"][0];
    assert_eq!(
        statement["Principal"]["Service"],
        "apigateway.amazonaws.com"
    );
    assert!(statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        .as_str()
        .unwrap()
        .ends_with(&format!(":{api_id}/*")));

    // Nothing changed: no mutating call, and plan agrees.
    let again = p.deploy_json();
    assert_eq!(again["mutating_calls"], 0, "{again:#}");
    let v = plan_json(&p);
    assert!(
        actions(&v, "create").is_empty() && actions(&v, "update").is_empty(),
        "{v:#}"
    );

    // Status names the oauth function and sees no drift.
    let out = p.mcpctl(&["status", "-o", "json"]);
    assert_success(&out);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["in_sync"], true, "{status:#}");
    assert_eq!(status["auth_mode"], "oauth");
    assert_eq!(status["functions"]["oauth"]["memory_mb"], 128, "{status:#}");
    let out = p.mcpctl(&["status"]);
    assert!(
        common::stdout(&out).contains("OAuth"),
        "{}",
        common::stdout(&out)
    );

    // The policy grants the oauth parts.
    let out = p.mcpctl(&["policy"]);
    assert_success(&out);
    let doc = common::stdout(&out);
    for arn in [
        "arn:aws:lambda:us-east-1:*:function:oa-oauth",
        "arn:aws:iam::*:role/oa-oauth-role",
        "arn:aws:secretsmanager:us-east-1:*:secret:oa-oauth-signing-key-??????",
        "arn:aws:logs:us-east-1:*:log-group:/aws/lambda/oa-oauth",
    ] {
        assert!(doc.contains(arn), "{arn}: {doc}");
    }
    // New oauth code: plan --prebuilt sees exactly that, deploy uploads it.
    std::fs::copy(
        p.prebuilt().join("mcpctl-server"),
        p.prebuilt().join("mcpctl-oauth"),
    )
    .unwrap();
    let v = plan_json(&p);
    let updates: Vec<&Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "update")
        .collect();
    assert_eq!(
        updates,
        [&json!({"resource": "function oa-oauth", "action": "update", "fields": ["code"]})],
        "{v:#}"
    );
    let redeployed = p.deploy_json();
    assert_eq!(
        common::changed_steps(&redeployed),
        [(
            "function oa-oauth".to_string(),
            json!({"updated": ["code"]})
        )],
        "{redeployed:#}"
    );

    // Without the oauth binary, --prebuilt is one clear error before AWS is touched.
    std::fs::remove_file(p.prebuilt().join("mcpctl-oauth")).unwrap();
    let out = p.mcpctl(&["deploy", "--prebuilt", path_str(&p.prebuilt())]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("mcpctl-oauth") && stderr(&out).contains("[auth] mode"),
        "{}",
        stderr(&out)
    );

    p.write_config(API_KEY);
    let out = p.mcpctl(&["policy"]);
    assert!(!common::stdout(&out).contains("oauth"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_key_rotates_and_finalizes_the_signing_key_too() {
    let p = project(OAUTH);
    p.deploy_json();
    let before = common::secret_value(&p, "oa-oauth-signing-key", "AWSCURRENT")
        .await
        .unwrap();
    let out = p.mcpctl(&["rotate-key", "-o", "json"]);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signing_key_rotated"], true);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&before));
    let current = common::secret_value(&p, "oa-oauth-signing-key", "AWSCURRENT")
        .await
        .unwrap();
    assert_ne!(current, before);
    assert!(!text.contains(&current), "the signing key is never printed");
    assert_eq!(
        common::secret_value(&p, "oa-oauth-signing-key", "AWSPREVIOUS")
            .await
            .as_deref(),
        Some(before.as_str())
    );
    // A second rotation would cut the overlap short.
    let again = p.mcpctl(&["rotate-key"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--finalize"), "{}", stderr(&again));
    let out = p.mcpctl(&["rotate-key", "--finalize", "-o", "json"]);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["previous_key_dropped"], true);
    assert_eq!(
        common::secret_value(&p, "oa-oauth-signing-key", "AWSPREVIOUS").await,
        None
    );
    assert_eq!(
        common::secret_value(&p, "oa-oauth-signing-key", "AWSCURRENT")
            .await
            .as_deref(),
        Some(current.as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn back_to_api_key_removes_the_oauth_parts_and_destroy_leaves_nothing() {
    let p = project(OAUTH);
    p.deploy_json();
    let sdk = p.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let apigw = aws_sdk_apigatewayv2::Client::new(&sdk);
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);

    p.write_config(API_KEY);
    let v = plan_json(&p);
    let deletes = actions(&v, "delete");
    for label in [
        "secret oa-oauth-signing-key",
        "role oa-oauth-role",
        "log group /aws/lambda/oa-oauth",
        "function oa-oauth",
        "integration oa-oauth (AWS_PROXY, payload 2.0)",
    ] {
        assert!(deletes.contains(&label.to_string()), "{label}: {v:#}");
    }
    let summary = p.deploy_json();
    assert!(summary["mutating_calls"].as_u64().unwrap() > 0);
    assert!(lambda
        .get_function()
        .function_name("oa-oauth")
        .send()
        .await
        .is_err());
    assert!(iam
        .get_role()
        .role_name("oa-oauth-role")
        .send()
        .await
        .is_err());
    let d = secrets
        .describe_secret()
        .secret_id("oa-oauth-signing-key")
        .send()
        .await
        .unwrap();
    assert!(d.deleted_date().is_some(), "scheduled for deletion");
    let api_id = apigw.get_apis().send().await.unwrap().items()[0]
        .api_id()
        .unwrap()
        .to_string();
    let integrations = apigw
        .get_integrations()
        .api_id(&api_id)
        .send()
        .await
        .unwrap();
    assert_eq!(integrations.items().len(), 1);
    let routes = apigw.get_routes().api_id(&api_id).send().await.unwrap();
    assert_eq!(routes.items().len(), mcpctl_stack::ROUTES.len());
    assert!(routes
        .items()
        .iter()
        .all(|r| r.authorization_type().unwrap().as_str() == "CUSTOM"));
    // The authorizer is an api-key one again, exactly.
    let a = lambda
        .get_function()
        .function_name("oa-authorizer")
        .send()
        .await
        .unwrap();
    let env = env_of(a.configuration().unwrap());
    assert!(!env.contains_key("AUTH_MODE") && !env.contains_key("OAUTH_SIGNING_SECRET_ID"));
    let api_key_arn = secret_arn(&secrets, "oa/api-key").await;
    assert_eq!(
        inline_policies(&iam, "oa-authorizer-role").await["read-api-key"]["Statement"][0]
            ["Resource"],
        json!(api_key_arn)
    );
    let again = p.deploy_json();
    assert_eq!(again["mutating_calls"], 0, "{again:#}");

    // And back to oauth (the signing secret restored), then destroy leaves nothing.
    p.write_config(OAUTH);
    p.deploy_json();
    let d = secrets
        .describe_secret()
        .secret_id("oa-oauth-signing-key")
        .send()
        .await
        .unwrap();
    assert!(d.deleted_date().is_none(), "restored");
    let out = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["left_behind"], json!([]), "{v:#}");
    assert_eq!(v["foreign"], json!([]), "{v:#}");
    assert!(lambda
        .get_function()
        .function_name("oa-oauth")
        .send()
        .await
        .is_err());
    assert!(iam
        .get_role()
        .role_name("oa-oauth-role")
        .send()
        .await
        .is_err());
    let d = secrets
        .describe_secret()
        .secret_id("oa-oauth-signing-key")
        .send()
        .await
        .unwrap();
    assert!(d.deleted_date().is_some());
    assert!(apigw.get_apis().send().await.unwrap().items().is_empty());
}

/// Deploy cut after each of its steps, then run again: plan predicts exactly what the rerun
/// changes, the rerun converges, and a third run changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_oauth_deploy_converges_from_every_step() {
    let p = project(OAUTH);
    let prebuilt = p.prebuilt();
    let prebuilt = path_str(&prebuilt);
    let full = p.deploy_json();
    let steps = full["resources"].as_array().unwrap().len();
    assert_eq!(steps, 22, "{full:#}");
    for k in 1..steps {
        p.moto.reset();
        let k_str = k.to_string();
        let cut = p.mcpctl_env(
            &["deploy", "--prebuilt", prebuilt, "-o", "json"],
            &[("MCPCTL_FAIL_AFTER_STEP", k_str.as_str())],
        );
        assert!(!cut.status.success(), "deploy was to stop after step {k}");
        let v = plan_json(&p);
        let mut planned = actions(&v, "create");
        planned.extend(actions(&v, "update"));
        planned.sort();
        let rerun = p.deploy_json();
        let mut changed: Vec<String> = common::changed_steps(&rerun)
            .into_iter()
            .map(|(step, _)| step)
            .collect();
        changed.sort();
        assert_eq!(planned, changed, "after a cut at step {k}");
        let third = p.deploy_json();
        assert_eq!(third["mutating_calls"], 0, "step {k}: {third:#}");
    }
}

/// The same life, against an AWS that behaves like AWS (throttling, lagging reads, IAM
/// propagation: the realism layer the lifecycle tests use).
#[tokio::test(flavor = "multi_thread")]
async fn oauth_lifecycle_survives_an_aws_like_aws() {
    let p = with_oauth_stand_in(Project::like_aws(OAUTH));
    p.deploy_json();
    let again = p.deploy_json();
    assert_eq!(again["mutating_calls"], 0, "{again:#}");
    p.write_config(API_KEY);
    p.deploy_json();
    let again = p.deploy_json();
    assert_eq!(again["mutating_calls"], 0, "{again:#}");
    p.write_config(OAUTH);
    p.deploy_json();
    let out = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["left_behind"], json!([]), "{v:#}");
}
