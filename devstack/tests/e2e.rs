//! The real `mcpctl-server` and `mcpctl-authorizer` binaries behind the dev stack, driven by the
//! rmcp client exactly as an MCP host would use the deployed API.

mod common;

use std::time::Duration;

use common::start;
use mcpctl_devstack::function::Report;
use mcpctl_stack::Config;
use mcpctl_testkit::mcp::{call, connect, try_connect};
use serde_json::json;

fn binaries() -> (std::path::PathBuf, std::path::PathBuf) {
    (
        mcpctl_testkit::build_binary("mcpctl-server", "mcpctl-server"),
        mcpctl_testkit::build_binary("mcpctl-authorizer", "mcpctl-authorizer"),
    )
}

async fn raw_post(url: &str, key: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_client_uses_every_tool_through_the_real_binaries() {
    let (server, authorizer) = binaries();
    let s = start(Config::default(), server, authorizer, "e2e").await;
    let url = s.stack.url();

    let client = connect(&url, Some(&s.key)).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "calculate",
            "get_server_status",
            "get_weather",
            "lookup_user"
        ]
    );

    let weather = call(&client, "get_weather", json!({"city": "Kyiv"})).await;
    assert_eq!(weather.is_error, Some(false));
    assert_eq!(weather.structured_content.expect("weather")["city"], "Kyiv");
    let product = call(
        &client,
        "calculate",
        json!({"operation": "multiply", "a": 6, "b": 7}),
    )
    .await;
    assert_eq!(product.structured_content.expect("result")["result"], 42.0);
    let status = call(&client, "get_server_status", json!({})).await;
    let status = status.structured_content.expect("status");
    assert_eq!(status["status"], "healthy");
    // The region comes from the Lambda environment the dev stack gives the instance.
    assert_eq!(status["region"], "us-east-1");
    let user = call(&client, "lookup_user", json!({"user_id": "2"})).await;
    assert_eq!(user.structured_content.expect("user")["name"], "Bob Smith");
    client.cancel().await.expect("client closes");

    let stats = s.stack.stats();
    assert_eq!(stats.server.cold_starts, 1, "{stats:?}");
    assert!(stats.server.invocations >= 6, "{stats:?}");
    // Both key headers accepted (the default): no identity source, no cache, so the authorizer
    // ran for every request the server got.
    assert_eq!(
        stats.authorizer.invocations, stats.server.invocations,
        "{stats:?}"
    );

    // A REPORT line per invocation, in Lambda's format, with consistent fields.
    for (function, memory_mb) in [("server", 256), ("authorizer", 128)] {
        let lines = s.lines.0.lock().unwrap().clone();
        let reports: Vec<Report> = lines
            .iter()
            .filter(|l| l.starts_with(&format!("[{function}#")) && l.contains("] REPORT "))
            .map(|l| Report::parse(l).unwrap_or_else(|| panic!("unparsable: {l}")))
            .collect();
        assert_eq!(reports.len() as u64, stats.server.invocations, "{function}");
        assert!(reports[0].init_ms.is_some_and(|ms| ms > 0.0), "{function}");
        assert!(
            reports[1..].iter().all(|r| r.init_ms.is_none()),
            "{function}"
        );
        for r in &reports {
            assert_eq!(r.memory_size_mb, memory_mb, "{function}: {r:?}");
            assert!(r.duration_ms > 0.0, "{function}: {r:?}");
            let billed_from = r.duration_ms + r.init_ms.unwrap_or(0.0);
            // The printed values are rounded to 0.01 ms; billing used the exact ones.
            assert!(
                r.billed_ms as f64 + 0.01 >= billed_from
                    && (r.billed_ms as f64) < billed_from + 1.01,
                "{function}: billed is ceil(init + duration): {r:?}"
            );
            assert!(r.max_memory_used_mb > 0, "{function}: {r:?}");
            assert!(
                r.max_memory_used_mb <= u64::from(memory_mb),
                "{function}: {r:?}"
            );
            assert_eq!(r.request_id.len(), 36, "{function}: {r:?}");
        }
    }

    // The same client without the right key cannot even initialize.
    let before = s.stack.stats().authorizer.invocations;
    let refused = try_connect(&url, Some("not-the-key")).await;
    assert!(refused.is_err(), "a wrong key must not initialize");
    assert_eq!(s.stack.stats().authorizer.invocations, before + 1);

    // No identity source means no 401 shortcut: the authorizer runs and denies.
    assert_eq!(raw_post(&url, None).await, 403);
    assert_eq!(raw_post(&url, Some("wrong-key")).await, 403);
    assert_eq!(raw_post(&url, Some("wrong-key")).await, 403);
    assert_eq!(s.stack.stats().authorizer.invocations, before + 4);
    s.stack.shutdown().await;
}

/// rmcp's own `auth_header` sends `Authorization: Bearer KEY`, as MCP clients with an "API key"
/// or "bearer token" field do: accepted like x-api-key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_with_a_bearer_token_uses_the_tools() {
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::ServiceExt;

    let bearer_client = |url: &str, token: &str| {
        StreamableHttpClientTransport::with_client(
            reqwest::Client::new(),
            StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(token),
        )
    };
    let (server, authorizer) = binaries();
    let s = start(Config::default(), server, authorizer, "e2e-bearer").await;
    let url = s.stack.url();
    let client = rmcp::model::ClientConfig::default()
        .serve(bearer_client(&url, &s.key))
        .await
        .expect("initialize with a bearer token");
    let product = call(
        &client,
        "calculate",
        json!({"operation": "add", "a": 2, "b": 3}),
    )
    .await;
    assert_eq!(product.structured_content.expect("result")["result"], 5.0);
    client.cancel().await.expect("client closes");
    let refused = rmcp::model::ClientConfig::default()
        .serve(bearer_client(&url, "not-the-key"))
        .await;
    assert!(refused.is_err(), "a wrong bearer token must not initialize");
    assert!(s
        .lines
        .any(|l| l.contains("allowed") && l.contains("key_in=\"bearer\"")));

    // Where only x-api-key is accepted, a bearer-only client is refused by the gateway itself.
    s.stack.shutdown().await;
    let (server, authorizer) = binaries();
    let only_x_api_key =
        Config::parse("[authorizer]\naccept = [\"x-api-key\"]\n", "deploy.toml").expect("valid");
    let s = start(only_x_api_key, server, authorizer, "e2e-bearer-refused").await;
    let refused = rmcp::model::ClientConfig::default()
        .serve(bearer_client(&s.stack.url(), &s.key))
        .await;
    assert!(
        refused.is_err(),
        "x-api-key only must refuse a bearer token"
    );
    assert_eq!(s.stack.stats().authorizer.invocations, 0, "401 before it");
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_key_under_load_fails_no_request() {
    let (server, authorizer) = binaries();
    let s = start(Config::default(), server, authorizer, "e2e-rotate").await;
    let url = s.stack.url();
    let old = s.key.clone();

    // A warm stack first, as when a user rotates the key of a running one: the authorizer has
    // read the secret at init. Its early re-read on an unknown key is rate-limited to one per
    // 5 s (counting that init read), so clients switch once that has passed; a switch inside
    // the window is denied (and, where the gateway caches verdicts, the denial cached: see the
    // report on rotation).
    assert_eq!(raw_post(&url, Some(&old)).await, 200);
    tokio::time::sleep(Duration::from_millis(5500)).await;

    let mut tasks = Vec::new();
    for t in 0..4 {
        let url = url.clone();
        let old = old.clone();
        let state = s.state.clone();
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for i in 0..30 {
                // Clients move to the new key at different times after the rotation.
                let key = if i < 10 + t * 3 {
                    old.clone()
                } else {
                    state.keys().unwrap().unwrap().current
                };
                let status = raw_post(&url, Some(&key)).await;
                if status != 200 {
                    failures.push((i, status));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            failures
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rotated = s.state.rotate().unwrap();
    assert_eq!(rotated.previous.as_deref(), Some(old.as_str()));
    for t in tasks {
        assert_eq!(t.await.unwrap(), Vec::<(i32, u16)>::new());
    }
    assert_eq!(raw_post(&url, Some(&rotated.current)).await, 200);
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_all_succeed_and_scale_out() {
    let (server, authorizer) = binaries();
    let s = start(Config::default(), server, authorizer, "e2e-concurrency").await;
    let url = s.stack.url();
    let mut tasks = Vec::new();
    // 50 requests from 8 tasks, each its own MCP client session.
    for t in 0..8usize {
        let url = url.clone();
        let key = s.key.clone();
        tasks.push(tokio::spawn(async move {
            let client = connect(&url, Some(&key)).await;
            let calls = if t < 2 { 7 } else { 6 } - 1; // the initialize above counts as one
            for i in 0..calls {
                let r = call(
                    &client,
                    "calculate",
                    json!({"operation": "add", "a": t, "b": i}),
                )
                .await;
                assert_eq!(
                    r.structured_content.expect("result")["result"],
                    (t + i) as f64
                );
            }
            client.cancel().await.expect("client closes");
        }));
    }
    for t in tasks {
        t.await.expect("every client succeeded");
    }
    let stats = s.stack.stats();
    assert!(stats.server.peak_instances > 1, "{stats:?}");
    assert!(stats.server.peak_instances <= 10, "{stats:?}");
    let statuses = s.lines.api_statuses();
    assert!(statuses.len() >= 50, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s < 500), "{statuses:?}");
    s.stack.shutdown().await;
}
