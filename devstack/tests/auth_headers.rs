//! `x-api-key: KEY` and `Authorization: Bearer KEY` through the dev gateway and the real
//! `mcpctl-authorizer` binary (the fixture function stands in for the server and echoes the
//! event it gets), under each `[authorizer] accept`: the identity sources and result cache that
//! `mcpctl_stack::auth` derives, emulated as API Gateway applies them.
//!
//! - both accepted: no identity source, so no 401 shortcut and no cache; every request runs the
//!   authorizer, which denies (403) a request without a key;
//! - one accepted: that header is the identity source; a request without it is answered 401
//!   before the authorizer runs, and verdicts are cached per value of that header.

mod common;

use std::time::{Duration, Instant};

use common::{fixture_binary, start, Started};
use mcpctl_stack::Config;
use serde_json::Value;

fn config(text: &str) -> Config {
    Config::parse(text, "deploy.toml").unwrap()
}

async fn stack(text: &str, tag: &str) -> Started {
    let authorizer = mcpctl_testkit::build_binary("mcpctl-authorizer", "mcpctl-authorizer");
    start(config(text), fixture_binary(), authorizer, tag).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap()
}

/// POSTs with `headers`; the status, the body, and the event the server got (when it ran).
async fn post(url: &str, headers: &[(&str, &str)]) -> (u16, String, Option<Value>) {
    let mut req = client()
        .post(url)
        .header("content-type", "application/json")
        .body("{\"jsonrpc\":\"2.0\"}");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    let event = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.get("event").cloned());
    (status, body, event)
}

fn invocations(s: &Started) -> u64 {
    s.stack.stats().authorizer.invocations
}

const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

/// The key never shows in the dev log: not in the gateway's lines, not in the authorizer's.
fn assert_no_key_in_logs(s: &Started, keys: &[&str]) {
    let lines = s.lines.0.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.starts_with("[authorizer#")),
        "the authorizer logged nothing"
    );
    for line in lines.iter() {
        for key in keys {
            assert!(!line.contains(key), "a key reached the log: {line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_headers_accepted_by_default_every_request_runs_the_authorizer() {
    let s = stack("name = \"both\"\n", "auth-both").await;
    let url = s.stack.url();
    let key = s.key.clone();
    let bearer = format!("Bearer {key}");
    let spaced = format!("bearer   {key}");

    for headers in [
        vec![("x-api-key", key.as_str())],
        vec![("authorization", bearer.as_str())],
        vec![("Authorization", spaced.as_str())],
        vec![
            ("x-api-key", key.as_str()),
            ("authorization", bearer.as_str()),
        ],
        // Authorization without the Bearer scheme is not a key, so it cannot conflict.
        vec![("x-api-key", key.as_str()), ("authorization", "Basic dTpw")],
    ] {
        let (status, body, event) = post(&url, &headers).await;
        assert_eq!(status, 200, "{headers:?}: {body}");
        let event = event.expect("the server ran");
        assert_eq!(
            event["requestContext"]["authorizer"]["lambda"]["keyStage"], "AWSCURRENT",
            "{headers:?}"
        );
    }
    assert_eq!(invocations(&s), 5);
    // The same headers again: no cache, the authorizer runs each time.
    for _ in 0..3 {
        assert_eq!(post(&url, &[("authorization", &bearer)]).await.0, 200);
    }
    assert_eq!(invocations(&s), 8, "a verdict was cached");

    // No identity source, so no 401 shortcut: the authorizer runs and denies.
    for headers in [
        vec![],
        vec![("authorization", "Basic dTpw")],
        vec![("authorization", "Bearer")],
        vec![("x-api-key", "")],
    ] {
        let (status, body, _) = post(&url, &headers).await;
        assert_eq!((status, body.as_str()), (403, FORBIDDEN), "{headers:?}");
    }
    assert_eq!(invocations(&s), 12);
    // Wrong keys in either header, and two different keys, are denied every time.
    for headers in [
        vec![("x-api-key", "wrong-key")],
        vec![("authorization", "Bearer wrong-key")],
        vec![
            ("x-api-key", key.as_str()),
            ("authorization", "Bearer wrong-key"),
        ],
        vec![
            ("x-api-key", "wrong-key"),
            ("authorization", bearer.as_str()),
        ],
    ] {
        for _ in 0..2 {
            let (status, body, _) = post(&url, &headers).await;
            assert_eq!((status, body.as_str()), (403, FORBIDDEN), "{headers:?}");
        }
    }
    assert_eq!(invocations(&s), 20);
    assert!(!s.lines.any(|l| l.contains("(cached)")));
    assert!(s.lines.any(|l| l.contains("carry different keys")));
    assert!(s.lines.any(|l| l.contains("key_in=\"bearer\"")));
    assert_no_key_in_logs(&s, &[&key, "wrong-key"]);
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_api_key_only_refuses_a_missing_header_with_401_and_caches() {
    let s = stack(
        "name = \"xak\"\n[authorizer]\naccept = [\"x-api-key\"]\ncache_ttl_s = 300\n",
        "auth-xak",
    )
    .await;
    let url = s.stack.url();
    let key = s.key.clone();
    let bearer = format!("Bearer {key}");

    // The identity source is missing: 401 before the authorizer, whatever else is there.
    for headers in [
        vec![],
        vec![("authorization", bearer.as_str())],
        vec![("x-api-key", "")],
    ] {
        let (status, body, _) = post(&url, &headers).await;
        assert_eq!((status, body.as_str()), (401, UNAUTHORIZED), "{headers:?}");
    }
    assert_eq!(invocations(&s), 0);

    // A wrong key: denied once by the authorizer, then from the cache.
    for _ in 0..3 {
        let (status, body, _) = post(&url, &[("x-api-key", "wrong-key")]).await;
        assert_eq!((status, body.as_str()), (403, FORBIDDEN));
    }
    assert_eq!(invocations(&s), 1);
    assert!(s.lines.any(|l| l.contains("auth=deny(cached)")));

    // The right key: allowed once, then from the cache. Authorization is not read (the cache
    // key is x-api-key alone), so a stray Bearer token changes nothing.
    assert_eq!(post(&url, &[("x-api-key", &key)]).await.0, 200);
    assert_eq!(invocations(&s), 2);
    let (status, _, event) = post(
        &url,
        &[
            ("x-api-key", &key),
            ("authorization", "Bearer something-else"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        event.expect("the server ran")["requestContext"]["authorizer"]["lambda"]["keyStage"],
        "AWSCURRENT",
        "the cached context reaches the server"
    );
    assert_eq!(invocations(&s), 2);
    assert!(s.lines.any(|l| l.contains("auth=allow(cached)")));
    assert_no_key_in_logs(&s, &[&key, "wrong-key"]);
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_only_keys_the_cache_on_authorization() {
    let s = stack(
        "name = \"brr\"\n[authorizer]\naccept = [\"bearer\"]\ncache_ttl_s = 300\n",
        "auth-bearer",
    )
    .await;
    let url = s.stack.url();
    let key = s.key.clone();
    let bearer = format!("Bearer {key}");

    for headers in [vec![], vec![("x-api-key", key.as_str())]] {
        let (status, body, _) = post(&url, &headers).await;
        assert_eq!((status, body.as_str()), (401, UNAUTHORIZED), "{headers:?}");
    }
    assert_eq!(invocations(&s), 0);

    // Authorization is there, so the authorizer runs; another scheme is no key.
    let (status, body, _) = post(&url, &[("authorization", "Basic dTpw")]).await;
    assert_eq!((status, body.as_str()), (403, FORBIDDEN));
    assert_eq!(invocations(&s), 1);
    for _ in 0..3 {
        let (status, body, _) = post(&url, &[("authorization", "Bearer wrong-key")]).await;
        assert_eq!((status, body.as_str()), (403, FORBIDDEN));
    }
    assert_eq!(invocations(&s), 2);

    // The header name in any case; the value is the cache key, so another spelling of the
    // scheme is one more authorizer run, with the same verdict.
    assert_eq!(post(&url, &[("Authorization", &bearer)]).await.0, 200);
    assert_eq!(post(&url, &[("authorization", &bearer)]).await.0, 200);
    assert_eq!(invocations(&s), 3);
    assert_eq!(
        post(&url, &[("authorization", &format!("bearer {key}"))])
            .await
            .0,
        200
    );
    assert_eq!(invocations(&s), 4);
    // x-api-key is not read: its cached verdict for this Authorization stands.
    assert_eq!(
        post(&url, &[("authorization", &bearer), ("x-api-key", "other")])
            .await
            .0,
        200
    );
    assert_eq!(invocations(&s), 4);
    assert_no_key_in_logs(&s, &[&key, "wrong-key"]);
    s.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_identity_header_is_one_comma_joined_cache_key() {
    // Two x-api-key headers reach the authorizer comma-joined; the cache must key on that same
    // value, or a deny for "KEY,wrong" would be served to the next request with KEY alone.
    let s = stack(
        "name = \"rep\"\n[authorizer]\naccept = [\"x-api-key\"]\n",
        "auth-repeat",
    )
    .await;
    let url = s.stack.url();
    let r = client()
        .post(&url)
        .header("x-api-key", &s.key)
        .header("x-api-key", "wrong")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(post(&url, &[("x-api-key", &s.key)]).await.0, 200);
    assert_eq!(invocations(&s), 2);
    s.stack.shutdown().await;
}

/// Not a pass/fail check: what a request costs with the authorizer run every time (both headers
/// accepted) against a cached verdict (x-api-key only), warm, on this machine. Printed for
/// docs/auth-headers.md; run with `--nocapture` to see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_latency_with_and_without_the_cache() {
    const N: usize = 40;
    let mut medians = Vec::new();
    for (text, label) in [
        (
            "name = \"lat\"\n[authorizer]\naccept = [\"x-api-key\"]\n",
            "cached",
        ),
        ("name = \"lat\"\n", "authorizer every request"),
    ] {
        let s = stack(text, "auth-latency").await;
        let url = s.stack.url();
        // Warm both functions (and, with the cache, fill it).
        assert_eq!(post(&url, &[("x-api-key", &s.key)]).await.0, 200);
        let mut times = Vec::with_capacity(N);
        for _ in 0..N {
            let started = Instant::now();
            assert_eq!(post(&url, &[("x-api-key", &s.key)]).await.0, 200);
            times.push(started.elapsed());
        }
        times.sort();
        let median = times[N / 2];
        eprintln!(
            "{label}: median {:.2} ms, p90 {:.2} ms over {N} warm requests ({} authorizer invocations)",
            median.as_secs_f64() * 1000.0,
            times[N * 9 / 10].as_secs_f64() * 1000.0,
            invocations(&s)
        );
        medians.push(median);
        s.stack.shutdown().await;
    }
    assert_eq!(medians.len(), 2);
}
