//! `mcpctl deploy` against moto_server: what it creates, and that it changes only what differs.

mod common;

use std::collections::HashMap;

use common::{assert_success, changed_steps, path_str, policy, stderr, stdout, Project};
use serde_json::Value;

const CONFIG: &str = r#"
name = "demo"
region = "us-east-1"

[server]
memory_mb = 512
timeout_s = 20

[server.env]
GREETING = "hello"

[authorizer]
accept = ["x-api-key"]
cache_ttl_s = 120
secret_cache_ttl_s = 30

[api]
throttling_burst = 40
throttling_rate = 80.0

[tags]
team = "platform"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn deploy_creates_every_resource_with_the_expected_configuration() {
    let p = Project::new(CONFIG);
    // A copy of the zips deploy uploads, to look inside what Lambda received.
    let uploaded = p.dir.join("uploaded");
    let out = p.mcpctl_env(
        &[
            "deploy",
            "--prebuilt",
            path_str(&p.prebuilt()),
            "-o",
            "json",
        ],
        &[("MCPCTL_KEEP_PACKAGES", path_str(&uploaded))],
    );
    assert_success(&out);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["architecture"], "arm64");
    let sdk = p.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let apigw = aws_sdk_apigatewayv2::Client::new(&sdk);
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);

    // Secret: a 256-bit hex key, tagged.
    let secret = secrets
        .describe_secret()
        .secret_id("demo/api-key")
        .send()
        .await
        .unwrap();
    let secret_arn = secret.arn().unwrap().to_string();
    let tags: HashMap<_, _> = secret
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tags.get("mcpctl:stack"), Some(&"demo"));
    assert_eq!(tags.get("team"), Some(&"platform"));
    let key = common::secret_value(&p, "demo/api-key", "AWSCURRENT")
        .await
        .unwrap();
    assert_eq!(key.len(), 64);
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()));

    // Functions.
    let server = lambda
        .get_function()
        .function_name("demo-server")
        .send()
        .await
        .unwrap();
    let c = server.configuration().unwrap();
    assert_eq!(c.runtime().unwrap().as_str(), "provided.al2023");
    assert_eq!(c.handler(), Some("bootstrap"));
    assert_eq!(c.memory_size(), Some(512));
    assert_eq!(c.timeout(), Some(20));
    // Graviton by default: arm64, running an aarch64 bootstrap (read back from the zip whose
    // CodeSha256 Lambda reports).
    assert_eq!(
        c.architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["arm64"]
    );
    let zip = std::fs::read(uploaded.join("server.zip")).unwrap();
    assert_eq!(c.code_sha256(), Some(common::code_sha256(&zip).as_str()));
    let bootstrap = common::bootstrap_of(&zip);
    assert_eq!(common::elf_machine(&bootstrap), 183, "aarch64");
    assert_eq!(
        bootstrap,
        std::fs::read(p.prebuilt().join("mcpctl-server")).unwrap()
    );
    let env = c.environment().unwrap().variables().unwrap();
    assert_eq!(
        env.get("RUST_LOG").map(String::as_str),
        Some(mcpctl_stack::env::SERVER_LOG_FILTER)
    );
    assert_eq!(env.get("GREETING").map(String::as_str), Some("hello"));
    // The request-state key every instance seals multi-round tool calls with: made once.
    let state_key = &env[mcpctl_stack::env::REQUEST_STATE_KEY_VAR];
    assert!(
        state_key.len() == 64 && state_key.chars().all(|c| c.is_ascii_hexdigit()),
        "a random 256-bit hex key"
    );
    assert_eq!(env.len(), 3);
    assert!(c.role().unwrap().ends_with(":role/demo-server-role"));
    assert_eq!(
        server
            .tags()
            .unwrap()
            .get("mcpctl:stack")
            .map(String::as_str),
        Some("demo")
    );
    let server_arn = c.function_arn().unwrap().to_string();

    let authorizer = lambda
        .get_function()
        .function_name("demo-authorizer")
        .send()
        .await
        .unwrap();
    let c = authorizer.configuration().unwrap();
    assert_eq!(c.runtime().unwrap().as_str(), "provided.al2023");
    assert_eq!(
        c.architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["arm64"]
    );
    let zip = std::fs::read(uploaded.join("authorizer.zip")).unwrap();
    assert_eq!(c.code_sha256(), Some(common::code_sha256(&zip).as_str()));
    let bootstrap = common::bootstrap_of(&zip);
    assert_eq!(common::elf_machine(&bootstrap), 183, "aarch64");
    assert_eq!(
        bootstrap,
        std::fs::read(p.prebuilt().join("mcpctl-authorizer")).unwrap()
    );
    assert_eq!(c.memory_size(), Some(128));
    assert_eq!(c.timeout(), Some(5));
    let env = c.environment().unwrap().variables().unwrap();
    assert_eq!(env.get("API_KEY_SECRET_ID"), Some(&secret_arn));
    assert_eq!(
        env.get("SECRET_CACHE_TTL_S").map(String::as_str),
        Some("30")
    );
    assert!(c.role().unwrap().ends_with(":role/demo-authorizer-role"));
    let authorizer_arn = c.function_arn().unwrap().to_string();

    // Roles: both only log; the authorizer also reads exactly the one secret.
    for role in ["demo-server-role", "demo-authorizer-role"] {
        let r = iam.get_role().role_name(role).send().await.unwrap();
        let trust = policy(r.role().unwrap().assume_role_policy_document().unwrap());
        assert_eq!(
            trust["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );
        let arns = common::attached_policy_arns(&iam, role).await;
        assert_eq!(
            arns,
            ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
        );
    }
    let inline = iam
        .list_role_policies()
        .role_name("demo-server-role")
        .send()
        .await
        .unwrap();
    assert!(inline.policy_names().is_empty());
    let inline = iam
        .list_role_policies()
        .role_name("demo-authorizer-role")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names().len(), 1);
    let doc = iam
        .get_role_policy()
        .role_name("demo-authorizer-role")
        .policy_name(&inline.policy_names()[0])
        .send()
        .await
        .unwrap();
    let doc = policy(doc.policy_document());
    let statements = doc["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], "secretsmanager:GetSecretValue");
    assert_eq!(statements[0]["Resource"], secret_arn.as_str());

    // Log groups with retention.
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/demo-")
        .send()
        .await
        .unwrap();
    let retention: HashMap<_, _> = groups
        .log_groups()
        .iter()
        .map(|g| (g.log_group_name().unwrap(), g.retention_in_days()))
        .collect();
    assert_eq!(retention.get("/aws/lambda/demo-server"), Some(&Some(14)));
    assert_eq!(
        retention.get("/aws/lambda/demo-authorizer"),
        Some(&Some(14))
    );

    // The HTTP API, its integration, authorizer, routes and stage.
    let apis = apigw.get_apis().send().await.unwrap();
    assert_eq!(apis.items().len(), 1);
    let api = &apis.items()[0];
    assert_eq!(api.name(), Some("demo-api"));
    assert_eq!(api.protocol_type().unwrap().as_str(), "HTTP");
    assert_eq!(
        api.tags().unwrap().get("mcpctl:stack").map(String::as_str),
        Some("demo")
    );
    let api_id = api.api_id().unwrap();
    assert_eq!(
        summary["endpoint"],
        format!("{}/mcp", api.api_endpoint().unwrap()).as_str()
    );

    let integrations = apigw
        .get_integrations()
        .api_id(api_id)
        .send()
        .await
        .unwrap();
    assert_eq!(integrations.items().len(), 1);
    let integration = &integrations.items()[0];
    assert_eq!(
        integration.integration_type().unwrap().as_str(),
        "AWS_PROXY"
    );
    assert_eq!(integration.integration_uri(), Some(server_arn.as_str()));
    assert_eq!(integration.payload_format_version(), Some("2.0"));

    let routes = apigw.get_routes().api_id(api_id).send().await.unwrap();
    let mut keys: Vec<_> = routes
        .items()
        .iter()
        .map(|r| r.route_key().unwrap().to_string())
        .collect();
    keys.sort();
    let mut expected: Vec<_> = mcpctl_stack::ROUTES.iter().map(|r| r.key()).collect();
    expected.sort();
    assert_eq!(keys, expected);
    let target = format!("integrations/{}", integration.integration_id().unwrap());
    let authorizer_id = routes.items()[0].authorizer_id().unwrap().to_string();
    for r in routes.items() {
        assert_eq!(r.target(), Some(target.as_str()));
        assert_eq!(r.authorization_type().unwrap().as_str(), "CUSTOM");
        assert_eq!(r.authorizer_id(), Some(authorizer_id.as_str()));
    }

    let a = apigw
        .get_authorizer()
        .api_id(api_id)
        .authorizer_id(&authorizer_id)
        .send()
        .await
        .unwrap();
    assert_eq!(a.name(), Some("demo-api-key"));
    assert_eq!(a.authorizer_type().unwrap().as_str(), "REQUEST");
    assert_eq!(a.authorizer_payload_format_version(), Some("2.0"));
    assert_eq!(a.enable_simple_responses(), Some(true));
    assert_eq!(a.identity_source(), ["$request.header.x-api-key"]);
    assert_eq!(a.authorizer_result_ttl_in_seconds(), Some(120));
    assert!(a.authorizer_uri().unwrap().contains(&authorizer_arn));

    let stage = apigw
        .get_stage()
        .api_id(api_id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.auto_deploy(), Some(true));
    let settings = stage.default_route_settings().unwrap();
    assert_eq!(settings.throttling_burst_limit(), Some(40));
    assert_eq!(settings.throttling_rate_limit(), Some(80.0));

    // Permissions: API Gateway may invoke each function, only from this API.
    for (function, suffix) in [
        ("demo-server", "/*".to_string()),
        ("demo-authorizer", format!("/authorizers/{authorizer_id}")),
    ] {
        let p = lambda
            .get_policy()
            .function_name(function)
            .send()
            .await
            .unwrap();
        let doc: Value = serde_json::from_str(p.policy().unwrap()).unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1, "{doc}");
        let s = &statements[0];
        assert_eq!(s["Principal"]["Service"], "apigateway.amazonaws.com", "{s}");
        let source = s["Condition"]["ArnLike"]["AWS:SourceArn"].as_str().unwrap();
        assert_eq!(
            source,
            format!("arn:aws:execute-api:us-east-1:123456789012:{api_id}{suffix}")
        );
    }

    // The summary names every step, and the API key appears nowhere.
    assert!(
        summary["mutating_calls"].as_u64().unwrap() >= 20,
        "{summary}"
    );
    assert_eq!(summary["api_key"], Value::Null);
    assert!(!summary.to_string().contains(key.as_str()));
}

#[test]
fn second_deploy_makes_no_mutating_call() {
    let p = Project::new(CONFIG);
    let first = p.deploy_json();
    let second = p.deploy_json();
    assert_eq!(second["mutating_calls"], 0, "{second}");
    assert!(changed_steps(&second).is_empty(), "{second}");
    assert_eq!(first["endpoint"], second["endpoint"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_state_key_outlives_configuration_updates() {
    let p = Project::new(CONFIG);
    let key = || async {
        let lambda = aws_sdk_lambda::Client::new(&p.sdk().await);
        let c = lambda
            .get_function_configuration()
            .function_name("demo-server")
            .send()
            .await
            .unwrap();
        c.environment().unwrap().variables().unwrap()[mcpctl_stack::env::REQUEST_STATE_KEY_VAR]
            .clone()
    };
    p.deploy_json();
    let first = key().await;
    p.write_config(&CONFIG.replace("GREETING = \"hello\"", "GREETING = \"hi\""));
    let s = p.deploy_json();
    assert_eq!(
        changed_steps(&s),
        [(
            "function demo-server".to_string(),
            serde_json::json!({"updated": ["environment"]})
        )],
        "{s}"
    );
    assert_eq!(key().await, first, "kept across an environment update");
    assert_eq!(p.deploy_json()["mutating_calls"], 0);
}

#[test]
fn changing_one_field_changes_only_that_resource() {
    let p = Project::new(CONFIG);
    p.deploy_json();

    p.write_config(&CONFIG.replace("memory_mb = 512", "memory_mb = 1024"));
    let s = p.deploy_json();
    assert_eq!(
        changed_steps(&s),
        [(
            "function demo-server".to_string(),
            serde_json::json!({"updated": ["memory"]})
        )],
        "{s}"
    );
    assert_eq!(s["mutating_calls"], 1, "{s}");

    // New code for the authorizer only (another aarch64 binary): one UpdateFunctionCode.
    std::fs::copy(
        p.prebuilt().join("mcpctl-server"),
        p.prebuilt().join("mcpctl-authorizer"),
    )
    .unwrap();
    let s = p.deploy_json();
    assert_eq!(
        changed_steps(&s),
        [(
            "function demo-authorizer".to_string(),
            serde_json::json!({"updated": ["code"]})
        )],
        "{s}"
    );
    assert_eq!(s["mutating_calls"], 1, "{s}");

    // The authorizer cache TTL lives on the API Gateway authorizer only.
    p.write_config(
        &CONFIG
            .replace("memory_mb = 512", "memory_mb = 1024")
            .replace("cache_ttl_s = 120", "cache_ttl_s = 60"),
    );
    let s = p.deploy_json();
    assert_eq!(
        changed_steps(&s),
        [(
            "authorizer demo-api-key".to_string(),
            serde_json::json!({"updated": ["cache ttl"]})
        )],
        "{s}"
    );
    assert_eq!(p.deploy_json()["mutating_calls"], 0);
}

#[test]
fn text_output_shows_the_endpoint_and_the_key_only_with_show_key() {
    let p = Project::new(CONFIG);
    let prebuilt = p.prebuilt();
    let out = p.mcpctl(&["deploy", "--prebuilt", prebuilt.to_str().unwrap()]);
    assert_success(&out);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("Endpoint: https://"), "{text}");
    assert!(
        text.contains(".execute-api.us-east-1.amazonaws.com/mcp"),
        "{text}"
    );
    assert!(text.contains("--show-key"), "{text}");
    assert!(
        text.contains("aws secretsmanager get-secret-value --secret-id demo/api-key"),
        "{text}"
    );
    // Every step is reported, with its elapsed time.
    assert!(text.contains("function demo-server: created ("), "{text}");

    let shown = p.mcpctl(&[
        "deploy",
        "--prebuilt",
        prebuilt.to_str().unwrap(),
        "--show-key",
    ]);
    assert_success(&shown);
    let shown = stdout(&shown);
    let key = shown
        .lines()
        .find_map(|l| l.strip_prefix("API key:"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(key.len(), 64, "{shown}");
    assert!(!text.contains(&key), "the key leaked without --show-key");

    // Neither destroy's nor a JSON deploy's output carries it.
    let json = p.mcpctl(&[
        "deploy",
        "--prebuilt",
        prebuilt.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let destroy = p.mcpctl(&["destroy", "--yes"]);
    for out in [&json, &destroy] {
        assert_success(out);
        assert!(!stdout(out).contains(&key) && !stderr(out).contains(&key));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_is_set_changed_and_removed_on_the_api_only() {
    let with_cors = |origin: &str| {
        format!(
            "name = \"cors\"\n[api.cors]\nallow_origins = [\"{origin}\"]\nallow_headers = [\"Content-Type\", \"x-api-key\"]\nmax_age_s = 600\n"
        )
    };
    let p = Project::new(&with_cors("https://a.example"));
    p.deploy_json();
    let apigw = aws_sdk_apigatewayv2::Client::new(&p.sdk().await);
    let cors = || async {
        let apis = apigw.get_apis().send().await.unwrap();
        apis.items()[0].cors_configuration().cloned()
    };
    let c = cors().await.expect("CORS is configured");
    assert_eq!(c.allow_origins(), ["https://a.example"]);
    assert_eq!(c.max_age(), Some(600));
    let mut methods = c.allow_methods().to_vec();
    methods.sort();
    assert_eq!(methods, ["DELETE", "GET", "OPTIONS", "POST"]);
    assert_eq!(p.deploy_json()["mutating_calls"], 0);

    p.write_config(&with_cors("https://b.example"));
    let s = p.deploy_json();
    assert_eq!(
        changed_steps(&s),
        [(
            "http api cors-api".to_string(),
            serde_json::json!({"updated": ["cors"]})
        )]
    );
    assert_eq!(cors().await.unwrap().allow_origins(), ["https://b.example"]);

    p.write_config("name = \"cors\"\n");
    let s = p.deploy_json();
    assert_eq!(s["mutating_calls"], 1, "{s}");
    assert!(cors().await.is_none());
}

/// Changing `api.stage` moves the endpoint to the new stage and deletes the old one, which would
/// otherwise keep serving the old URL.
#[tokio::test(flavor = "multi_thread")]
async fn changing_the_stage_removes_the_old_one() {
    let p = Project::new("name = \"stg\"\nregion = \"us-east-1\"\n");
    p.deploy_json();
    p.write_config("name = \"stg\"\nregion = \"us-east-1\"\n[api]\nstage = \"v1\"\n");
    let summary = p.deploy_json();
    assert!(
        summary["endpoint"].as_str().unwrap().ends_with("/v1/mcp"),
        "{summary}"
    );
    let apigw = aws_sdk_apigatewayv2::Client::new(&p.sdk().await);
    let api = apigw.get_apis().send().await.unwrap().items()[0]
        .api_id()
        .unwrap()
        .to_string();
    let stages: Vec<String> = apigw
        .get_stages()
        .api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|s| s.stage_name().unwrap().to_string())
        .collect();
    assert_eq!(stages, ["v1"]);
    assert_eq!(p.deploy_json()["mutating_calls"], 0);
}

/// `[authorizer] accept`: one header is the identity source and the cache key; both headers
/// (the default) mean no identity source, so API Gateway lets bearer-only requests reach the
/// authorizer, and no cache. Switching converges and a rerun changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_accepted_key_headers_set_identity_sources_and_cache() {
    let p = Project::new("name = \"acc\"\nregion = \"us-east-1\"\n");
    p.deploy_json();
    assert_eq!(read(&p).await, (Vec::<String>::new(), 0));
    let env = p.deploy_json();
    assert_eq!(env["mutating_calls"], 0, "{env}");

    p.write_config(
        "name = \"acc\"\nregion = \"us-east-1\"\n[authorizer]\naccept = [\"x-api-key\"]\n",
    );
    p.deploy_json();
    assert_eq!(
        read(&p).await,
        (vec!["$request.header.x-api-key".to_string()], 300)
    );
    p.write_config("name = \"acc\"\nregion = \"us-east-1\"\n[authorizer]\naccept = [\"bearer\"]\n");
    p.deploy_json();
    assert_eq!(
        read(&p).await,
        (vec!["$request.header.Authorization".to_string()], 300)
    );
    // Back to both: the identity source is cleared and the cache turned off in one update.
    p.write_config("name = \"acc\"\nregion = \"us-east-1\"\n");
    p.deploy_json();
    assert_eq!(read(&p).await, (Vec::<String>::new(), 0));
    assert_eq!(p.deploy_json()["mutating_calls"], 0);
}

/// The stack's authorizer: its identity sources and result TTL.
async fn read(p: &Project) -> (Vec<String>, i32) {
    let apigw = aws_sdk_apigatewayv2::Client::new(&p.sdk().await);
    let api = apigw.get_apis().send().await.unwrap().items()[0]
        .api_id()
        .unwrap()
        .to_string();
    let a = apigw.get_authorizers().api_id(&api).send().await.unwrap();
    let a = &a.items()[0];
    (
        a.identity_source().to_vec(),
        a.authorizer_result_ttl_in_seconds().unwrap_or(0),
    )
}
