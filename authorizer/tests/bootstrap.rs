//! The built `bootstrap` binary: clean one-line failures outside Lambda, and real invocations
//! through a minimal Lambda Runtime API against moto, with the SDK configured only by the
//! environment a Lambda container provides.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mcpctl_testkit::MotoServer;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_mcpctl-authorizer");
const K1: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const K2: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const K3: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

/// Runs the binary with exactly `vars` as its environment, for at most 30 s.
fn run_with(vars: &[(&str, &str)]) -> Output {
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the authorizer binary starts");
    for _ in 0..300 {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("the binary did not exit within 30 s");
}

fn assert_one_clean_line(output: &Output, expected: &[&str]) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "exit status {:?}",
        output.status
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.starts_with("mcpctl-authorizer: "), "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{part:?} missing from: {stderr}");
    }
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn missing_secret_id_is_one_clear_line() {
    let output = run_with(&[]);
    assert_one_clean_line(
        &output,
        &["API_KEY_SECRET_ID is not set", "Secrets Manager"],
    );
}

#[test]
fn bad_cache_ttl_is_one_clear_line() {
    let output = run_with(&[("API_KEY_SECRET_ID", "k"), ("SECRET_CACHE_TTL_S", "soon")]);
    assert_one_clean_line(&output, &["SECRET_CACHE_TTL_S", "\"soon\""]);
}

#[test]
fn bad_accept_is_one_clear_line() {
    let output = run_with(&[("API_KEY_SECRET_ID", "k"), ("API_KEY_ACCEPT", "basic")]);
    assert_one_clean_line(
        &output,
        &["API_KEY_ACCEPT", "\"basic\"", "x-api-key,bearer"],
    );
    let output = run_with(&[("API_KEY_SECRET_ID", "k"), ("API_KEY_ACCEPT", "")]);
    assert_one_clean_line(&output, &["API_KEY_ACCEPT names no header"]);
}

#[test]
fn outside_lambda_it_says_so_instead_of_panicking() {
    let output = run_with(&[("API_KEY_SECRET_ID", "mcp-server-api-key")]);
    assert_one_clean_line(
        &output,
        &[
            "must run under the Lambda runtime",
            "AWS_LAMBDA_RUNTIME_API",
            "mcpctl dev",
        ],
    );
}

/// A Lambda Runtime API that hands out `events` in order, then holds `/next` open (as Lambda does
/// when no request is waiting), and reports every result the function posts.
struct FakeRuntimeApi {
    addr: SocketAddr,
    results: mpsc::Receiver<(String, String)>,
}

impl FakeRuntimeApi {
    fn start(events: Vec<(String, Value)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, results) = mpsc::channel();
        std::thread::spawn(move || {
            let mut events = events.into_iter();
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let Some((path, body)) = read_request(&mut stream) else {
                    continue;
                };
                if path.ends_with("/runtime/invocation/next") {
                    match events.next() {
                        Some((id, event)) => {
                            let body = event.to_string();
                            let deadline_ms = std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .unwrap()
                                .as_millis()
                                + 5_000;
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                 Lambda-Runtime-Aws-Request-Id: {id}\r\n\
                                 Lambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
                                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:mcp-server-authorizer\r\n\
                                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(head.as_bytes());
                            let _ = stream.write_all(body.as_bytes());
                        }
                        None => held.push(stream),
                    }
                } else {
                    let _ = stream.write_all(
                        b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                    );
                    if tx.send((path, body)).is_err() {
                        break;
                    }
                }
            }
        });
        Self { addr, results }
    }

    fn next_result(&self) -> (String, String) {
        self.results
            .recv_timeout(Duration::from_secs(30))
            .expect("the function posted a result within 30 s")
    }
}

/// Reads one HTTP/1.1 request; returns its path and body (Content-Length or chunked).
fn read_request(stream: &mut TcpStream) -> Option<(String, String)> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let path = request_line.split_whitespace().nth(1)?.to_string();
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some((path, String::from_utf8_lossy(&body).into_owned()))
}

fn event(key: &str) -> Value {
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/POST/mcp",
        "identitySource": [key],
        "routeKey": "POST /mcp",
        "rawPath": "/mcp",
        "rawQueryString": "",
        "headers": {"x-api-key": key, "content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "http": {"method": "POST", "path": "/mcp", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7"},
            "requestId": "req-under-test",
            "routeKey": "POST /mcp",
            "stage": "$default"
        }
    })
}

fn create_rotated_secret(moto: &MotoServer, name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .http_client(mcpctl_authorizer::secrets_manager::http_client())
            .endpoint_url(moto.endpoint())
            .region(aws_sdk_secretsmanager::config::Region::new(
                mcpctl_testkit::REGION,
            ))
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "moto",
            ))
            .build();
        let sm = aws_sdk_secretsmanager::Client::from_conf(config);
        sm.create_secret()
            .name(name)
            .secret_string(K1)
            .send()
            .await
            .expect("create");
        sm.put_secret_value()
            .secret_id(name)
            .secret_string(K2)
            .version_stages("AWSCURRENT")
            .send()
            .await
            .expect("rotate");
    });
}

/// Serves three events through the real binary and returns the posted results and its logs.
fn invoke_through_runtime_api(env: Vec<(&'static str, String)>) -> (Vec<(String, Value)>, String) {
    let events = [K2, K1, K3]
        .iter()
        .enumerate()
        .map(|(i, key)| (format!("req-{i}"), event(key)))
        .collect();
    let api = FakeRuntimeApi::start(events);
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(env)
        .env("API_KEY_SECRET_ID", "mcp-server-api-key")
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "mcp-server-authorizer")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the authorizer binary starts");
    let results: Vec<(String, Value)> = (0..3)
        .map(|_| {
            let (path, body) = api.next_result();
            (
                path,
                serde_json::from_str(&body).unwrap_or(Value::String(body)),
            )
        })
        .collect();
    let _ = child.kill();
    let output = child.wait_with_output().expect("output");
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (results, logs)
}

fn assert_verdicts(results: &[(String, Value)], logs: &str) {
    let expected = [
        (
            "req-0",
            json!({"isAuthorized": true, "context": {"keyStage": "AWSCURRENT"}}),
        ),
        (
            "req-1",
            json!({"isAuthorized": true, "context": {"keyStage": "AWSPREVIOUS"}}),
        ),
        ("req-2", json!({"isAuthorized": false, "context": {}})),
    ];
    for ((path, body), (id, verdict)) in results.iter().zip(expected) {
        assert_eq!(
            path,
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
            "{logs}"
        );
        assert_eq!(body, &verdict, "{logs}");
    }
    for key in [K1, K2, K3] {
        assert!(!logs.contains(key), "a key reached the logs: {logs}");
    }
    assert!(!logs.contains("panicked"), "{logs}");
}

#[test]
fn serves_invocations_with_credentials_and_endpoint_from_the_environment() {
    let moto = MotoServer::start();
    create_rotated_secret(&moto, "mcp-server-api-key");

    // The generic endpoint variable, as moto-backed tests set it.
    let (results, logs) = invoke_through_runtime_api(moto.env());
    assert_verdicts(&results, &logs);
    assert!(
        logs.contains("allowed") && logs.contains("denied"),
        "{logs}"
    );

    // The Secrets Manager-specific variable alone, as `mcpctl dev` may set it.
    let env = moto
        .env()
        .into_iter()
        .map(|(k, v)| match k {
            "AWS_ENDPOINT_URL" => ("AWS_ENDPOINT_URL_SECRETS_MANAGER", v),
            _ => (k, v),
        })
        .collect();
    let (results, logs) = invoke_through_runtime_api(env);
    assert_verdicts(&results, &logs);
}
