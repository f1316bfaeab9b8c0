//! Arbitrary authorizer invocations through the authorizer library with an in-memory secret:
//! never a panic, the key never in the response, allowed only for a request that carried a real
//! key in a header it accepts, and a request carrying exactly the current key in one accepted
//! header (and no other key) always allowed.
//!
//! Input: bytes starting with `{` (after whitespace) are parsed as the raw event JSON, as the
//! Lambda runtime does, and checked with both headers accepted (the default); anything else
//! drives a structured generator of payload-2.0 events (header names in any case, repeated and
//! comma-joined keys, `Authorization` with Bearer in any case and other schemes, identitySource)
//! under an `accept` it also chooses.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mcpctl_authorizer::{
    authorize, bearer_token, decide, Accepted, AuthorizerEvent, Decision, FetchError, KeyStage,
    KeyStore, SecretKeys, SecretSource, API_KEY_HEADER, AUTHORIZATION_HEADER, MAX_KEY_BYTES,
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
    "Authorization",
    "content-type",
];

/// What goes in front of a key in an `Authorization` value.
const SCHEMES: &[&str] = &[
    "Bearer ", "bearer ", "BEARER  ", "Bearer", "Bearer\t", "Basic ", "",
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
        let value = if name.eq_ignore_ascii_case(AUTHORIZATION_HEADER) && u.ratio(3, 4)? {
            format!("{}{}", u.choose(SCHEMES)?, key_value(u)?)
        } else {
            key_value(u)?
        };
        headers.insert(name, Value::String(value));
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

/// Every string the authorizer could have taken the key from under `accepted`, each with the
/// length of the value it came in (the limit applies to that).
fn presented_candidates(event: &Value, accepted: Accepted) -> Vec<(&str, usize)> {
    let headers = event["headers"].as_object();
    let named = |wanted: &'static str| {
        headers
            .into_iter()
            .flatten()
            .filter(move |(name, _)| name.eq_ignore_ascii_case(wanted))
            .filter_map(|(_, value)| value.as_str())
    };
    let mut candidates: Vec<(&str, usize)> = Vec::new();
    if accepted.x_api_key {
        candidates.extend(named(API_KEY_HEADER).map(|v| (v, v.len())));
    }
    if accepted.bearer {
        candidates.extend(
            named(AUTHORIZATION_HEADER).filter_map(|v| bearer_token(v).map(|t| (t, v.len()))),
        );
    }
    if let Some(first) = event["identitySource"].get(0).and_then(Value::as_str) {
        candidates.push((first, first.len()));
        if let Some(token) = bearer_token(first) {
            candidates.push((token, first.len()));
        }
    }
    candidates
}

/// `accepted` names exactly one header with exactly the current key, and no other header that
/// the authorizer reads carries anything.
fn unambiguously_current(value: &Value, accepted: Accepted) -> bool {
    let Some(headers) = value["headers"].as_object() else {
        return false;
    };
    let count = |wanted: &str| {
        headers
            .keys()
            .filter(|name| name.eq_ignore_ascii_case(wanted))
            .count()
    };
    let exact = |v: &str| v.len() <= MAX_KEY_BYTES && v.trim() == CURRENT;
    let api_key = headers.get(API_KEY_HEADER).and_then(Value::as_str);
    let authorization = headers.get(AUTHORIZATION_HEADER).and_then(Value::as_str);
    let via_api_key = accepted.x_api_key
        && count(API_KEY_HEADER) == 1
        && api_key.is_some_and(exact)
        && (!accepted.bearer || count(AUTHORIZATION_HEADER) == 0);
    let via_bearer = accepted.bearer
        && count(AUTHORIZATION_HEADER) == 1
        && authorization.is_some_and(|v| {
            v.len() <= MAX_KEY_BYTES && bearer_token(v).is_some_and(|t| t == CURRENT)
        })
        && (!accepted.x_api_key || count(API_KEY_HEADER) == 0);
    via_api_key || via_bearer
}

fuzz_target!(|data: &[u8]| {
    let raw_json = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let (event, value, accepted): (AuthorizerEvent, Value, Accepted) = if raw_json {
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
        (event, value, Accepted::BOTH)
    } else {
        let mut u = Unstructured::new(data);
        let Ok(accepted) = u.choose(&[Accepted::BOTH, Accepted::X_API_KEY, Accepted::BEARER])
        else {
            return;
        };
        let accepted = *accepted;
        let Ok(value) = structured_event(&mut u) else {
            return;
        };
        let Ok(event) = serde_json::from_value(value.clone()) else {
            return;
        };
        (event, value, accepted)
    };

    let fixture = fixture();
    let (decision, response) = fixture.runtime.block_on(async {
        (
            decide(&event, accepted, &fixture.store).await,
            authorize(&event, accepted, &fixture.store).await,
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

    let candidates = presented_candidates(&value, accepted);
    if let Decision::Allow(stage) = decision {
        let expected = match stage {
            KeyStage::Current => CURRENT,
            KeyStage::Previous => PREVIOUS,
        };
        assert!(
            candidates
                .iter()
                .any(|(c, len)| *len <= MAX_KEY_BYTES && c.trim() == expected),
            "allowed as {stage} without presenting that key"
        );
    }
    // The unambiguous case: exactly the current key in one accepted, lower-cased header.
    if unambiguously_current(&value, accepted) {
        assert_eq!(decision, Decision::Allow(KeyStage::Current));
    }
});
