//! Arbitrary authorizer invocations through the authorizer library with an in-memory secret:
//! never a panic, the key never in the response, allowed only for a request that carried a real
//! key, and a request carrying exactly the current key always allowed.
//!
//! Input: bytes starting with `{` (after whitespace) are parsed as the raw event JSON, as the
//! Lambda runtime does; anything else drives a structured generator of payload-2.0 events
//! (header names in any case, repeated and comma-joined keys, identitySource).
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mcpctl_authorizer::{
    authorize, decide, AuthorizerEvent, Decision, FetchError, KeyStage, KeyStore, SecretKeys,
    SecretSource, API_KEY_HEADER, MAX_KEY_BYTES,
};
use serde_json::{json, Map, Value};

const CURRENT: &str = "6f1c0a9e5b2d4c7f8e3a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e";
const PREVIOUS: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct InMemorySecret;

impl SecretSource for InMemorySecret {
    async fn fetch(&self) -> Result<SecretKeys, FetchError> {
        Ok(SecretKeys::new(
            CURRENT.as_bytes(),
            Some(PREVIOUS.as_bytes()),
        ))
    }

    fn secret_id(&self) -> &str {
        "fuzz-secret"
    }
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: KeyStore<InMemorySecret>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime"),
        store: KeyStore::new(InMemorySecret, Duration::from_secs(300)),
    })
}

const NAMES: &[&str] = &[
    "x-api-key",
    "X-Api-Key",
    "X-API-KEY",
    "x-api-key ",
    "x_api_key",
    "authorization",
    "content-type",
];

/// A key-ish value: the real keys, near misses of them, or arbitrary text.
fn key_value(u: &mut Unstructured) -> arbitrary::Result<String> {
    let current = CURRENT.to_string();
    Ok(match u.int_in_range(0..=9)? {
        0 => current,
        1 => PREVIOUS.to_string(),
        2 => format!("{CURRENT},{CURRENT}"),
        3 => CURRENT[..u.int_in_range(0..=CURRENT.len() - 1)?].to_string(),
        4 => {
            let mut bytes = current.into_bytes();
            let at = u.choose_index(bytes.len())?;
            bytes[at] = u.int_in_range(0x20..=0x7e)?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        5 => format!("{CURRENT}{}", String::arbitrary(u)?),
        6 => format!(" {CURRENT}\t"),
        7 => CURRENT.repeat(u.int_in_range(1..=80)?),
        _ => String::arbitrary(u)?,
    })
}

fn structured_event(u: &mut Unstructured) -> arbitrary::Result<Value> {
    let mut headers = Map::new();
    for _ in 0..u.int_in_range(0..=4)? {
        let name = if u.ratio(1, 8)? {
            String::arbitrary(u)?
        } else {
            u.choose(NAMES)?.to_string()
        };
        headers.insert(name, Value::String(key_value(u)?));
    }
    let mut event = json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/POST/mcp",
        "routeKey": "POST /mcp",
        "rawPath": "/mcp",
        "headers": headers,
        "requestContext": {"requestId": "fuzz", "http": {"method": "POST", "path": "/mcp"}},
    });
    if u.arbitrary()? {
        let sources = (0..u.int_in_range(0..=2)?)
            .map(|_| key_value(u))
            .collect::<arbitrary::Result<Vec<_>>>()?;
        event["identitySource"] = json!(sources);
    }
    if u.ratio(1, 16)? {
        event["headers"] = Value::Null;
    }
    Ok(event)
}

/// Every string the authorizer could have taken the key from.
fn presented_candidates(event: &Value) -> Vec<&str> {
    let mut candidates: Vec<&str> = event["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.eq_ignore_ascii_case(API_KEY_HEADER))
        .filter_map(|(_, value)| value.as_str())
        .collect();
    if let Some(first) = event["identitySource"].get(0).and_then(Value::as_str) {
        candidates.push(first);
    }
    candidates
}

fuzz_target!(|data: &[u8]| {
    let raw_json = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let (event, value): (AuthorizerEvent, Value) = if raw_json {
        // The bytes straight into the typed event, as the Lambda runtime reads an invocation; a
        // document it refuses (not JSON, a duplicate field, a wrong type) is an invocation
        // error, which API Gateway answers as a deny. The untyped copy feeds the checks below.
        let Ok(event) = serde_json::from_slice(data) else {
            return;
        };
        // serde_json skips an ignored field's string without checking its UTF-8, so the typed
        // parse can accept bytes the untyped one refuses; the checks need the untyped view.
        let Ok(value) = serde_json::from_slice(data) else {
            return;
        };
        (event, value)
    } else {
        let Ok(value) = structured_event(&mut Unstructured::new(data)) else {
            return;
        };
        let Ok(event) = serde_json::from_value(value.clone()) else {
            return;
        };
        (event, value)
    };

    let fixture = fixture();
    let (decision, response) = fixture.runtime.block_on(async {
        (
            decide(&event, &fixture.store).await,
            authorize(&event, &fixture.store).await,
        )
    });

    let shown = serde_json::to_string(&response).expect("response serialises");
    assert!(
        !shown.contains(CURRENT) && !shown.contains(PREVIOUS),
        "key in response: {shown}"
    );
    assert_eq!(
        response.is_authorized,
        matches!(decision, Decision::Allow(_))
    );

    let candidates = presented_candidates(&value);
    if let Decision::Allow(stage) = decision {
        let expected = match stage {
            KeyStage::Current => CURRENT,
            KeyStage::Previous => PREVIOUS,
        };
        assert!(
            candidates
                .iter()
                .any(|c| c.len() <= MAX_KEY_BYTES && c.trim() == expected),
            "allowed as {stage} without presenting that key"
        );
    }
    // The unambiguous case: API Gateway's lower-cased header with the current key.
    let canonical = value["headers"][API_KEY_HEADER].as_str();
    if canonical.is_some_and(|key| key.len() <= MAX_KEY_BYTES && key.trim() == CURRENT) {
        assert_eq!(decision, Decision::Allow(KeyStage::Current));
    }
});
