//! Arbitrary HTTP requests through the server's complete router with the example tools, as the
//! local server and the Lambda build assemble it: never a panic, never a 5xx, a body labelled
//! JSON is JSON.
//!
//! Input layout (so seeds can be written by hand, see fuzz/README.md):
//!   byte 0: mode (local / Lambda / Lambda with an origin allow-list)
//!   byte 1: method, byte 2: path
//!   bytes 3..9: one byte per header (content-type, accept, origin, mcp-protocol-version, host,
//!     mcp-session-id), taken modulo N+2 for a header with N well-known values: 0 = absent,
//!     1..=N = the N-th well-known value, N+1 = raw bytes taken, length-prefixed by one byte,
//!     from the input after the control bytes
//!   rest: the request body.
#![no_main]

use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use mcpctl_server::{lambda, router, HttpOptions};
use tower::ServiceExt;

/// The example tools the `mcpctl-server` binary serves (a module of the binary, not the library).
#[allow(dead_code)]
#[path = "../../server/src/tools/mod.rs"]
mod tools;

const CONTROL_BYTES: usize = 9;

const METHODS: &[&str] = &["POST", "GET", "DELETE", "PUT", "OPTIONS", "HEAD", "PATCH"];
const PATHS: &[&str] = &[
    "/mcp",
    "/mcp/",
    "/",
    "/MCP",
    "/mcp?session=1",
    "/prod/mcp",
    "/mcp/../mcp",
    "/mcp%00",
];

/// Each header the transport looks at, with the values clients actually send plus near misses.
const HEADERS: &[(&str, &[&str])] = &[
    (
        "content-type",
        &[
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "text/plain",
            "application/jsonx",
            "",
            "multipart/form-data; boundary=x",
        ],
    ),
    (
        "accept",
        &[
            "application/json, text/event-stream",
            "application/json",
            "text/event-stream",
            "*/*",
            "text/html",
            "",
        ],
    ),
    (
        "origin",
        &[
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "https://app.example",
            "https://evil.example",
            "null",
            "http://[::1]:1",
        ],
    ),
    (
        "mcp-protocol-version",
        &[
            "2025-03-26",
            "2025-06-18",
            "2024-11-05",
            "2025-11-25",
            "1999-01-01",
            "",
        ],
    ),
    (
        "host",
        &[
            "localhost",
            "127.0.0.1:8080",
            "[::1]:80",
            "evil.example",
            "abc123.execute-api.us-east-1.amazonaws.com",
        ],
    ),
    (
        "mcp-session-id",
        &["abc", "00000000-0000-0000-0000-000000000000"],
    ),
];

struct Apps {
    runtime: tokio::runtime::Runtime,
    modes: [Router; 3],
}

/// Built once and reused for every input, as a warm Lambda or a long-running local server
/// reuses them.
fn apps() -> &'static Apps {
    static APPS: OnceLock<Apps> = OnceLock::new();
    APPS.get_or_init(|| {
        let build = |options: HttpOptions, lambda_mode: bool| {
            let app = router(tools::McpServer, options);
            if lambda_mode {
                app.layer(axum::middleware::from_fn(lambda::limit_response_size))
            } else {
                app
            }
        };
        Apps {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
            modes: [
                build(HttpOptions::local(Vec::new()), false),
                build(HttpOptions::lambda(None), true),
                build(
                    HttpOptions::lambda(Some(vec!["https://app.example".into()])),
                    true,
                ),
            ],
        }
    })
}

fn pick<'a>(list: &[&'a str], byte: u8) -> &'a str {
    list[usize::from(byte) % list.len()]
}

struct Answer {
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

async fn answer(app: &Router, request: Request<Body>) -> Answer {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("router is infallible");
    let status = response.status();
    let content_type = response.headers().get("content-type").cloned();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body is readable");
    Answer {
        status,
        content_type,
        body,
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < CONTROL_BYTES {
        return;
    }
    let (control, mut rest) = data.split_at(CONTROL_BYTES);
    let apps = apps();
    let app = &apps.modes[usize::from(control[0]) % 3];

    let method = Method::from_bytes(pick(METHODS, control[1]).as_bytes()).expect("method");
    // A HEAD response keeps the GET response's headers but never has a body.
    let expect_body = method != Method::HEAD;
    let uri = pick(PATHS, control[2]);
    let mut headers = Vec::new();
    for (&choice, (name, known)) in control[3..].iter().zip(HEADERS) {
        let choice = usize::from(choice) % (known.len() + 2);
        let value = if choice == 0 {
            continue;
        } else if choice <= known.len() {
            HeaderValue::from_static(known[choice - 1])
        } else {
            // A raw value: one length byte, then that many bytes (as many as are left).
            let Some((&len, tail)) = rest.split_first() else {
                continue;
            };
            let (raw, tail) = tail.split_at(usize::from(len).min(tail.len()));
            rest = tail;
            match HeaderValue::from_bytes(raw) {
                Ok(v) => v,
                // Not a value hyper would ever hand the router.
                Err(_) => continue,
            }
        };
        headers.push((HeaderName::from_static(name), value));
    }
    let body = Bytes::copy_from_slice(rest);
    let request = || {
        let mut builder = Request::builder().method(method.clone()).uri(uri);
        for (name, value) in &headers {
            builder = builder.header(name, value);
        }
        builder
            .body(Body::from(body.clone()))
            .expect("request parts are valid")
    };

    apps.runtime.block_on(async {
        let shipped = answer(app, request()).await;
        let status = shipped.status;
        assert!(
            !status.is_server_error(),
            "status {status} for a client's request"
        );
        let json_labelled = shipped
            .content_type
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if json_labelled && expect_body {
            assert!(
                serde_json::from_slice::<serde_json::Value>(&shipped.body).is_ok(),
                "status {status}: body labelled application/json is not JSON: {}",
                String::from_utf8_lossy(&shipped.body)
            );
        }
    });
});
