//! The fixture the event tests share: an in-memory secret, the documented payload-2.0 REQUEST
//! authorizer event, and the two recorded-shape events in `tests/fixtures/`: `x-api-key.json`
//! (identity source `$request.header.x-api-key`) and `bearer.json` (identity source
//! `$request.header.Authorization`), headers lower-cased as API Gateway passes them. With both
//! headers accepted the authorizer has no identity source, and [`without_identity_source`]
//! makes that event from either.
#![allow(dead_code)] // each test file uses its own subset

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use mcpctl_authorizer::Accepted;
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

/// `tests/fixtures/NAME.json`, whose key is [`CURRENT`].
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("the fixture exists");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// The `x-api-key.json` event with `key` in place of the real key, as API Gateway sends it for
/// the identity source `$request.header.x-api-key`.
pub fn x_api_key_event(key: &str) -> Value {
    let mut event = fixture("x-api-key");
    event["headers"]["x-api-key"] = json!(key);
    event["identitySource"] = json!([key]);
    event
}

/// The `bearer.json` event with `authorization` as the whole `Authorization` value, as API
/// Gateway sends it for the identity source `$request.header.Authorization`.
pub fn authorization_event(authorization: &str) -> Value {
    let mut event = fixture("bearer");
    event["headers"]["authorization"] = json!(authorization);
    event["identitySource"] = json!([authorization]);
    event
}

/// `Authorization: Bearer KEY`.
pub fn bearer_event(key: &str) -> Value {
    authorization_event(&format!("Bearer {key}"))
}

/// The event as API Gateway sends it when the authorizer has no identity source (both headers
/// accepted).
pub fn without_identity_source(mut event: Value) -> Value {
    if let Some(object) = event.as_object_mut() {
        object.remove("identitySource");
    }
    event
}

/// `event` with header `name` set to `value` as well.
pub fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    event["headers"][name] = json!(value);
    event
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
    serde_json::to_value(run(authorize(event, Accepted::BOTH, store))).unwrap()
}
