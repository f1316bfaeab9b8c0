//! The gateway, authorizer cache, runtime API and instance pool, driven with the fixture
//! function (fast, and able to sleep, crash and misbehave on request).

mod common;

use std::time::Duration;

use common::{fixture_binary, pid_alive, start, start_with};
use mcpctl_stack::Config;
use serde_json::Value;

fn config(text: &str) -> Config {
    Config::parse(text, "deploy.toml").unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap()
}

async fn post(
    url: &str,
    key: Option<&str>,
    fixture: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = client()
        .post(url)
        .header("content-type", "application/json")
        .header("x-fixture", fixture)
        .body("{\"jsonrpc\":\"2.0\"}");
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_authorizer_cache_and_event_shape() {
    let bin = fixture_binary();
    let s = start(
        config("name = \"fx\"\n[server.env]\nFIXTURE_SETTING = \"from-toml\"\n[authorizer]\naccept = [\"x-api-key\"]\ncache_ttl_s = 300\n"),
        bin.clone(),
        bin,
        "shape",
    )
    .await;
    let url = s.stack.url();
    let base = url.trim_end_matches("/mcp");

    // Unmatched routes never reach the authorizer.
    let r = client().post(format!("{base}/other")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.text().await.unwrap(), r#"{"message":"Not Found"}"#);
    let r = client().put(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // Missing identity source: 401 without invoking the authorizer.
    let (status, _, body) = post(&url, None, "").await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(s.stack.stats().authorizer.invocations, 0);

    // A wrong key is denied once by the authorizer, then from the cache.
    let (status, _, body) = post(&url, Some("wrong"), "").await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    assert_eq!(s.stack.stats().authorizer.invocations, 1);
    for _ in 0..3 {
        assert_eq!(post(&url, Some("wrong"), "").await.0, 403);
    }
    assert_eq!(
        s.stack.stats().authorizer.invocations,
        1,
        "denial was not cached"
    );
    assert!(s.lines.any(|l| l.contains("auth=deny(cached)")));

    // The right key reaches the integration with a payload 2.0 event.
    let r = client()
        .post(format!("{url}?a=1&a=2&b=x%20y"))
        .header("x-api-key", &s.key)
        .header("content-type", "application/json")
        .header("cookie", "c1=v1; c2=v2")
        .header("X-Mixed-Case", "one")
        .header("user-agent", "devstack-test")
        .body("{\"jsonrpc\":\"2.0\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("apigw-requestid").is_some());
    assert_eq!(r.headers()["set-cookie"], "fixture=1; Path=/");
    let echoed: Value = r.json().await.unwrap();
    let e = &echoed["event"];
    assert_eq!(e["version"], "2.0");
    assert_eq!(e["routeKey"], "POST /mcp");
    assert_eq!(e["rawPath"], "/mcp");
    assert_eq!(e["rawQueryString"], "a=1&a=2&b=x%20y");
    assert_eq!(e["queryStringParameters"]["a"], "1,2");
    assert_eq!(e["queryStringParameters"]["b"], "x y");
    assert_eq!(e["cookies"], serde_json::json!(["c1=v1", "c2=v2"]));
    assert_eq!(e["headers"]["x-mixed-case"], "one");
    assert_eq!(e["body"], "{\"jsonrpc\":\"2.0\"}");
    assert_eq!(e["isBase64Encoded"], false);
    let rc = &e["requestContext"];
    assert_eq!(rc["stage"], "$default");
    assert_eq!(rc["routeKey"], "POST /mcp");
    assert_eq!(rc["http"]["method"], "POST");
    assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(rc["http"]["userAgent"], "devstack-test");
    assert_eq!(rc["authorizer"]["lambda"]["fixture"], "yes");
    assert!(rc["timeEpoch"].as_u64().unwrap() > 1_600_000_000_000);
    assert!(rc["time"].as_str().unwrap().ends_with(" +0000"));
    assert_eq!(
        echoed["function_arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:fx-server"
    );
    assert!(echoed["deadline_ms"].as_u64().unwrap() > rc["timeEpoch"].as_u64().unwrap());
    assert_eq!(echoed["env"]["AWS_LAMBDA_FUNCTION_NAME"], "fx-server");
    assert_eq!(echoed["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(echoed["env"]["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(echoed["env"]["_HANDLER"], "bootstrap");
    assert_eq!(echoed["env"]["FIXTURE_SETTING"], "from-toml");

    // Instance output lands in the dev log under the instance's name; a cold start is logged.
    assert!(s
        .lines
        .any(|l| l.starts_with("[server#1] fixture handling")));
    assert!(s
        .lines
        .any(|l| l.contains("POST /mcp 200 auth=allow") && l.contains("cold server#1")));
    let (status, _, _) = post(&url, Some(&s.key), "").await;
    assert_eq!(status, 200);
    assert!(s
        .lines
        .any(|l| l.contains("auth=allow(cached)") && l.contains("warm server#1")));
    assert_eq!(s.stack.stats().server.cold_starts, 1);

    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_crashes_and_bad_output_map_like_api_gateway() {
    let bin = fixture_binary();
    let s = start(
        config("name = \"fx\"\n[server]\ntimeout_s = 1\n"),
        bin.clone(),
        bin,
        "errors",
    )
    .await;
    let url = s.stack.url();
    let key = Some(s.key.as_str());

    // Warm it first, so the timeout below is the function's, not init's.
    assert_eq!(post(&url, key, "").await.0, 200);
    let (status, _, body) = post(&url, key, "sleep:3000").await;
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"message":"Service Unavailable"}"#)
    );
    assert!(s
        .lines
        .any(|l| l.contains("Task timed out after 1.00 seconds")));
    let (status, _, _) = post(&url, key, "").await;
    assert_eq!(status, 200, "the request after a timeout must work");
    assert_eq!(
        s.stack.stats().server.cold_starts,
        2,
        "the timed-out instance was not replaced"
    );

    let (status, _, body) = post(&url, key, "crash").await;
    assert_eq!(
        (status, body.as_str()),
        (502, r#"{"message":"Internal Server Error"}"#)
    );
    assert!(s
        .lines
        .any(|l| l.contains("process exited (exit status 3)")));
    assert_eq!(
        post(&url, key, "").await.0,
        200,
        "a crashed instance is replaced"
    );

    let (status, headers, body) = post(&url, key, "bare").await;
    assert_eq!((status, body.as_str()), (200, r#"{"bare":true}"#));
    assert_eq!(headers["content-type"], "application/json");

    assert_eq!(post(&url, key, "big").await.0, 502);
    assert_eq!(post(&url, key, "error").await.0, 500);
    assert_eq!(post(&url, key, "garbage").await.0, 500);

    let huge = vec![b'a'; 10 * 1024 * 1024 + 1];
    let r = client()
        .post(&url)
        .header("x-api-key", &s.key)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);

    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_scale_out_and_shutdown_leaves_nothing() {
    let bin = fixture_binary();
    let s = start(config("name = \"fx\"\n"), bin.clone(), bin, "concurrency").await;
    let url = s.stack.url();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let url = url.clone();
        let key = s.key.clone();
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..7 {
                statuses.push(post(&url, Some(&key), "sleep:50").await.0);
            }
            statuses
        }));
    }
    let mut ok = 0;
    for t in tasks {
        for status in t.await.unwrap() {
            assert_eq!(status, 200);
            ok += 1;
        }
    }
    assert_eq!(ok, 56);
    let stats = s.stack.stats();
    assert!(stats.server.peak_instances > 1, "{stats:?}");
    assert!(stats.server.peak_instances <= 10, "{stats:?}");
    assert_eq!(stats.server.invocations, 56);

    let pids = s.stack.instance_pids();
    assert!(pids.len() > 1);
    s.stack.shutdown().await;
    for pid in pids {
        assert!(!pid_alive(pid), "instance {pid} survived shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_load_has_no_failures() {
    let bin = fixture_binary();
    let s = start(config("name = \"fx\"\n"), bin.clone(), bin, "rotate").await;
    let url = s.stack.url();
    let old = s.key.clone();
    let mut failures = 0;
    for i in 0..40 {
        if i == 10 {
            s.state.rotate().unwrap();
        }
        let key = if i < 25 {
            old.clone()
        } else {
            s.state.keys().unwrap().unwrap().current
        };
        if post(&url, Some(&key), "").await.0 != 200 {
            failures += 1;
        }
    }
    assert_eq!(failures, 0);
    // After finalize the old key is refused once its cached verdict is not used: a fresh
    // identity (the new key) still passes.
    s.state.finalize().unwrap();
    let current = s.state.keys().unwrap().unwrap().current;
    assert_eq!(post(&url, Some(&current), "").await.0, 200);
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_does_not_leak_the_instance() {
    let bin = fixture_binary();
    let s = start(config("name = \"fx\"\n"), bin.clone(), bin, "hangup").await;
    let url = s.stack.url();
    assert_eq!(post(&url, Some(&s.key), "").await.0, 200);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(&url)
        .header("x-api-key", &s.key)
        .header("x-fixture", "sleep:800")
        .body("{}")
        .send()
        .await;
    assert!(gave_up.is_err(), "the client should have timed out");
    // The invocation finishes anyway and its instance goes back to the pool.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(post(&url, Some(&s.key), "").await.0, 200);
    let stats = s.stack.stats();
    assert_eq!(stats.server.cold_starts, 1, "{stats:?}");
    assert_eq!(stats.server.live_instances, 1, "{stats:?}");
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_integration_limit_answers_504() {
    let bin = fixture_binary();
    // A 2.5 s stand-in for the 30 s limit, below the function's own 8 s timeout.
    let s = start_with(
        config("name = \"fx\"\n[server]\ntimeout_s = 8\n"),
        bin.clone(),
        bin,
        "limit",
        Duration::from_millis(2500),
    )
    .await;
    let url = s.stack.url();
    assert_eq!(post(&url, Some(&s.key), "").await.0, 200);
    let (status, _, body) = post(&url, Some(&s.key), "sleep:5000").await;
    assert_eq!(
        (status, body.as_str()),
        (504, r#"{"message":"Gateway Timeout"}"#)
    );
    assert_eq!(post(&url, Some(&s.key), "").await.0, 200);
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_init_is_a_502_and_is_retried_next_time() {
    let bin = fixture_binary();
    let s = start(
        config("name = \"fx\"\n[server.env]\nFIXTURE_INIT = \"exit\"\n"),
        bin.clone(),
        bin,
        "init",
    )
    .await;
    let url = s.stack.url();
    for _ in 0..2 {
        let (status, _, body) = post(&url, Some(&s.key), "").await;
        assert_eq!(
            (status, body.as_str()),
            (502, r#"{"message":"Internal Server Error"}"#)
        );
    }
    assert!(s
        .lines
        .any(|l| l.contains("process exited during init (exit status 7)")));
    // Each request tried a fresh instance; none is left running.
    let stats = s.stack.stats();
    assert_eq!(stats.server.cold_starts, 2, "{stats:?}");
    assert_eq!(stats.server.live_instances, 0, "{stats:?}");
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_is_answered_by_the_gateway() {
    let bin = fixture_binary();
    let s = start(
        config(
            "name = \"fx\"\n[api.cors]\nallow_origins = [\"https://app.example.com\"]\nallow_headers = [\"content-type\", \"x-api-key\"]\nmax_age_s = 300\n",
        ),
        bin.clone(),
        bin,
        "cors",
    )
    .await;
    let url = s.stack.url();
    let r = client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-api-key,content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        r.headers()["access-control-allow-methods"],
        "POST,GET,DELETE,OPTIONS"
    );
    assert_eq!(
        r.headers()["access-control-allow-headers"],
        "content-type,x-api-key"
    );
    assert_eq!(r.headers()["access-control-max-age"], "300");
    let stats = s.stack.stats();
    assert_eq!(
        (stats.authorizer.invocations, stats.server.invocations),
        (0, 0)
    );

    let r = client()
        .post(&url)
        .header("origin", "https://app.example.com")
        .header("x-api-key", &s.key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let r = client()
        .post(&url)
        .header("origin", "https://elsewhere.example")
        .header("x-api-key", &s.key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_error_report_fails_the_request_and_ends_the_instance() {
    let bin = fixture_binary();
    let s = start(
        config("name = \"fx\"\n[server.env]\nFIXTURE_INIT = \"report\"\n"),
        bin.clone(),
        bin,
        "initerror",
    )
    .await;
    let url = s.stack.url();
    let (status, _, _) = post(&url, Some(&s.key), "").await;
    assert_eq!(status, 502);
    assert!(s
        .lines
        .any(|l| l.contains("init failed: fixture init failed")));
    let stats = s.stack.stats();
    assert_eq!(stats.server.live_instances, 0, "{stats:?}");
    s.stack.shutdown().await;
}

/// An execution environment ends as a whole: what a bootstrap started in the background (a
/// server behind an adapter, say) dies with its instance, as on Lambda.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstraps_children_end_with_its_instance() {
    use std::os::unix::fs::PermissionsExt;
    let fixture = fixture_binary();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("mcpctl-devstack-group-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("child.pid");
    let script = dir.join("bootstrap");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 600 &\necho $! > '{}'\nexec '{}'\n",
            pid_file.display(),
            fixture.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = start(config("name = \"fx\"\n"), script, fixture, "group").await;
    let (status, _, body) = post(&s.stack.url(), Some(&s.key), "echo").await;
    assert_eq!(status, 200, "{body}");
    let child: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(child));
    s.stack.shutdown().await;
    for _ in 0..100 {
        if !pid_alive(child) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !pid_alive(child),
        "the bootstrap's child {child} outlived the instance"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
