//! `authorize` on payload-2.0 events shaped like the ones API Gateway sends (the example in the
//! HTTP API Lambda authorizer documentation), against an in-memory secret.

mod common;

use std::sync::atomic::Ordering;

use common::{event_json, event_with_key, parse, response_json, run, store, CURRENT, PREVIOUS};
use mcpctl_authorizer::{authorize, decide, Decision, Denial, KeyStage, SimpleResponse};
use serde_json::{json, Value};

#[test]
fn current_and_previous_keys_are_allowed_with_their_stage_in_the_context() {
    let store = store();
    assert_eq!(
        response_json(&event_with_key(CURRENT), &store),
        json!({"isAuthorized": true, "context": {"keyStage": "AWSCURRENT"}})
    );
    assert_eq!(
        response_json(&event_with_key(PREVIOUS), &store),
        json!({"isAuthorized": true, "context": {"keyStage": "AWSPREVIOUS"}})
    );
    assert_eq!(
        store.source().reads.load(Ordering::SeqCst),
        1,
        "one read serves both"
    );
}

#[test]
fn wrong_and_malformed_keys_are_denied() {
    let store = store();
    let long = "a".repeat(64 * 1024);
    let just_over = "b".repeat(4097);
    let cases: Vec<(&str, Denial)> = vec![
        ("not-the-key", Denial::WrongKey),
        (&CURRENT[..63], Denial::WrongKey),
        (
            "6F1C0A9E5B2D4C7F8E3A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C1D0E",
            Denial::WrongKey,
        ),
        ("ключ-🔑-clé", Denial::WrongKey),
        ("", Denial::EmptyKey),
        ("   ", Denial::EmptyKey),
        (&long, Denial::KeyTooLong),
        (&just_over, Denial::KeyTooLong),
    ];
    for (key, expected) in cases {
        let event = event_with_key(key);
        assert_eq!(
            run(decide(&event, &store)),
            Decision::Deny(expected),
            "key of {} bytes",
            key.len()
        );
        assert_eq!(
            response_json(&event, &store),
            json!({"isAuthorized": false, "context": {}})
        );
    }
}

#[test]
fn a_key_appended_to_the_right_one_is_denied() {
    let store = store();
    // Two x-api-key headers reach the authorizer comma-joined; neither alone is what was sent.
    let joined = format!("{CURRENT},{PREVIOUS}");
    assert_eq!(
        run(decide(&event_with_key(&joined), &store)),
        Decision::Deny(Denial::WrongKey)
    );
    let padded = format!("{CURRENT}\0");
    assert_eq!(
        run(decide(&event_with_key(&padded), &store)),
        Decision::Deny(Denial::WrongKey)
    );
}

#[test]
fn malformed_keys_never_read_the_secret() {
    let store = store();
    for key in ["", &"x".repeat(64 * 1024)] {
        run(authorize(&event_with_key(key), &store));
    }
    run(authorize(&parse(event_json(json!({}), json!([]))), &store));
    assert_eq!(store.source().reads.load(Ordering::SeqCst), 0);
}

#[test]
fn missing_header_is_denied() {
    let store = store();
    let no_key = parse(event_json(json!({"host": "example.com"}), json!([])));
    assert_eq!(
        run(decide(&no_key, &store)),
        Decision::Deny(Denial::MissingKey)
    );
    let null_everything = parse(event_json(Value::Null, Value::Null));
    assert_eq!(
        run(decide(&null_everything, &store)),
        Decision::Deny(Denial::MissingKey)
    );
    let bare = parse(json!({"version": "2.0", "type": "REQUEST"}));
    assert_eq!(
        run(decide(&bare, &store)),
        Decision::Deny(Denial::MissingKey)
    );
}

#[test]
fn header_name_case_does_not_matter() {
    let store = store();
    for name in ["x-api-key", "X-Api-Key", "X-API-KEY", "x-API-key"] {
        let event = parse(event_json(json!({ name: CURRENT }), json!([])));
        assert_eq!(
            run(decide(&event, &store)),
            Decision::Allow(KeyStage::Current),
            "{name}"
        );
    }
    // The lower-cased header API Gateway sends wins over any other spelling.
    let both = parse(event_json(
        json!({"x-api-key": PREVIOUS, "X-Api-Key": "wrong"}),
        json!([]),
    ));
    assert_eq!(
        run(decide(&both, &store)),
        Decision::Allow(KeyStage::Previous)
    );
}

#[test]
fn identity_source_is_the_fallback() {
    let store = store();
    let only_identity = parse(event_json(json!({"host": "h"}), json!([CURRENT])));
    assert_eq!(
        run(decide(&only_identity, &store)),
        Decision::Allow(KeyStage::Current)
    );
    // The header is what the client sent; a differing identitySource does not override it.
    let header_wins = parse(event_json(json!({"x-api-key": "wrong"}), json!([CURRENT])));
    assert_eq!(
        run(decide(&header_wins, &store)),
        Decision::Deny(Denial::WrongKey)
    );
}

#[test]
fn responses_round_trip_in_the_simple_format() {
    let text = r#"{"isAuthorized":true,"context":{"keyStage":"AWSPREVIOUS"}}"#;
    let parsed: SimpleResponse = serde_json::from_str(text).unwrap();
    assert!(parsed.is_authorized);
    assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
}
