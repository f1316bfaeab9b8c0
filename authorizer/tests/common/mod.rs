//! The fixture the event tests share: an in-memory secret and the documented payload-2.0
//! REQUEST authorizer event.
#![allow(dead_code)] // each test file uses its own subset

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcpctl_authorizer::{
    authorize, AuthorizerEvent, FetchError, KeyStore, SecretKeys, SecretSource,
};
use serde_json::{json, Value};

pub const CURRENT: &str = "6f1c0a9e5b2d4c7f8e3a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e";
pub const PREVIOUS: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub struct StaticSource {
    current: &'static str,
    previous: Option<&'static str>,
    pub reads: AtomicUsize,
}

impl SecretSource for StaticSource {
    async fn fetch(&self) -> Result<SecretKeys, FetchError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(SecretKeys::new(
            self.current.as_bytes(),
            self.previous.map(str::as_bytes),
        ))
    }

    fn secret_id(&self) -> &str {
        "mcp-server-api-key"
    }
}

pub fn store() -> KeyStore<StaticSource> {
    KeyStore::new(
        StaticSource {
            current: CURRENT,
            previous: Some(PREVIOUS),
            reads: AtomicUsize::new(0),
        },
        Duration::from_secs(60),
    )
}

/// The documented payload-2.0 REQUEST authorizer event, with `headers` and `identitySource` as
/// API Gateway fills them for the identity source `$request.header.x-api-key`.
pub fn event_json(headers: Value, identity_source: Value) -> Value {
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/POST/mcp",
        "identitySource": identity_source,
        "routeKey": "POST /mcp",
        "rawPath": "/mcp",
        "rawQueryString": "",
        "cookies": ["cookie1", "cookie2"],
        "headers": headers,
        "queryStringParameters": {},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "authentication": null,
            "domainName": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef123",
            "http": {
                "method": "POST",
                "path": "/mcp",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0"
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "POST /mcp",
            "stage": "$default",
            "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390u64
        },
        "pathParameters": {},
        "stageVariables": {}
    })
}

pub fn event_with_key(key: &str) -> AuthorizerEvent {
    parse(event_json(
        json!({
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            "content-length": "87",
            "host": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "x-api-key": key,
            "x-forwarded-for": "203.0.113.7",
            "x-forwarded-proto": "https"
        }),
        json!([key]),
    ))
}

pub fn parse(value: Value) -> AuthorizerEvent {
    serde_json::from_value(value).expect("a payload-2.0 event deserializes")
}

pub fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

pub fn response_json(event: &AuthorizerEvent, store: &KeyStore<StaticSource>) -> Value {
    serde_json::to_value(run(authorize(event, store))).unwrap()
}
