//! Arbitrary HTTP requests through the server's complete router, as the local server and the
//! Lambda build assemble it: never a panic, never a 5xx, and a body labelled JSON is JSON.
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

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use mcpctl_server::{lambda, router, HttpOptions};
use tower::ServiceExt;

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
    local: Router,
    lambda: Router,
    lambda_with_origins: Router,
}

/// Built once: the routers are stateless (no MCP sessions), so reusing them between inputs
/// cannot hide a bug behind state left by an earlier input.
fn apps() -> &'static Apps {
    static APPS: OnceLock<Apps> = OnceLock::new();
    APPS.get_or_init(|| {
        let lambda_app = |origins: Option<Vec<String>>| {
            router(HttpOptions::lambda(origins))
                .layer(axum::middleware::from_fn(lambda::limit_response_size))
        };
        Apps {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
            local: router(HttpOptions::local(Vec::new())),
            lambda: lambda_app(None),
            lambda_with_origins: lambda_app(Some(vec!["https://app.example".into()])),
        }
    })
}

fn pick<'a>(list: &[&'a str], byte: u8) -> &'a str {
    list[usize::from(byte) % list.len()]
}

fuzz_target!(|data: &[u8]| {
    if data.len() < CONTROL_BYTES {
        return;
    }
    let (control, mut rest) = data.split_at(CONTROL_BYTES);
    let apps = apps();
    let app = match control[0] % 3 {
        0 => apps.local.clone(),
        1 => apps.lambda.clone(),
        _ => apps.lambda_with_origins.clone(),
    };

    let method = Method::from_bytes(pick(METHODS, control[1]).as_bytes()).expect("method");
    // A HEAD response keeps the GET response's headers but never has a body.
    let expect_body = method != Method::HEAD;
    let mut request = Request::builder()
        .method(method)
        .uri(pick(PATHS, control[2]));
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
        request = request.header(HeaderName::from_static(name), value);
    }
    let request = request
        .body(Body::from(rest.to_vec()))
        .expect("request parts are valid");

    apps.runtime.block_on(async move {
        let response = app.oneshot(request).await.expect("router is infallible");
        let status = response.status();
        assert!(
            !status.is_server_error(),
            "status {status} for a client's request"
        );
        let json_labelled = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body is readable");
        if json_labelled && expect_body {
            assert!(
                serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
                "status {status}: body labelled application/json is not JSON: {}",
                String::from_utf8_lossy(&body)
            );
        }
    });
});
