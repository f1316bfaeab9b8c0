//! `authorize` on payload-2.0 events shaped like the ones API Gateway sends (the example in the
//! HTTP API Lambda authorizer documentation, and the fixtures in `tests/fixtures/` for a key in
//! `x-api-key` and in `Authorization: Bearer`), against an in-memory secret.

mod common;

use std::sync::atomic::Ordering;

use common::{
    authorization_event, bearer_event, event_json, event_with_key, fixture, parse, response_json,
    run, store, with_header, without_identity_source, x_api_key_event, CURRENT, PREVIOUS,
};
use mcpctl_authorizer::{authorize, decide, Accepted, Decision, Denial, KeyStage, SimpleResponse};
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
            run(decide(&event, Accepted::BOTH, &store)),
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
        run(decide(&event_with_key(&joined), Accepted::BOTH, &store)),
        Decision::Deny(Denial::WrongKey)
    );
    let padded = format!("{CURRENT}\0");
    assert_eq!(
        run(decide(&event_with_key(&padded), Accepted::BOTH, &store)),
        Decision::Deny(Denial::WrongKey)
    );
}

#[test]
fn malformed_keys_never_read_the_secret() {
    let store = store();
    for key in ["", &"x".repeat(64 * 1024)] {
        run(authorize(&event_with_key(key), Accepted::BOTH, &store));
    }
    run(authorize(
        &parse(event_json(json!({}), json!([]))),
        Accepted::BOTH,
        &store,
    ));
    assert_eq!(store.source().reads.load(Ordering::SeqCst), 0);
}

#[test]
fn missing_header_is_denied() {
    let store = store();
    let no_key = parse(event_json(json!({"host": "example.com"}), json!([])));
    assert_eq!(
        run(decide(&no_key, Accepted::BOTH, &store)),
        Decision::Deny(Denial::MissingKey)
    );
    let null_everything = parse(event_json(Value::Null, Value::Null));
    assert_eq!(
        run(decide(&null_everything, Accepted::BOTH, &store)),
        Decision::Deny(Denial::MissingKey)
    );
    let bare = parse(json!({"version": "2.0", "type": "REQUEST"}));
    assert_eq!(
        run(decide(&bare, Accepted::BOTH, &store)),
        Decision::Deny(Denial::MissingKey)
    );
}

#[test]
fn header_name_case_does_not_matter() {
    let store = store();
    for name in ["x-api-key", "X-Api-Key", "X-API-KEY", "x-API-key"] {
        let event = parse(event_json(json!({ name: CURRENT }), json!([])));
        assert_eq!(
            run(decide(&event, Accepted::BOTH, &store)),
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
        run(decide(&both, Accepted::BOTH, &store)),
        Decision::Allow(KeyStage::Previous)
    );
}

#[test]
fn identity_source_is_the_fallback() {
    let store = store();
    let only_identity = parse(event_json(json!({"host": "h"}), json!([CURRENT])));
    assert_eq!(
        run(decide(&only_identity, Accepted::BOTH, &store)),
        Decision::Allow(KeyStage::Current)
    );
    // The header is what the client sent; a differing identitySource does not override it.
    let header_wins = parse(event_json(json!({"x-api-key": "wrong"}), json!([CURRENT])));
    assert_eq!(
        run(decide(&header_wins, Accepted::BOTH, &store)),
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

/// The decision for a recorded-shape event under `accepted`.
fn decision(event: serde_json::Value, accepted: Accepted) -> Decision {
    run(decide(&parse(event), accepted, &store()))
}

#[test]
fn the_recorded_events_are_allowed_under_every_accept_that_reads_their_header() {
    let x_api_key = fixture("x-api-key");
    let bearer = fixture("bearer");
    // As API Gateway sends them with one identity source: that header's value.
    assert_eq!(x_api_key["identitySource"], json!([CURRENT]));
    assert_eq!(
        bearer["identitySource"],
        json!([format!("Bearer {CURRENT}")])
    );
    let allowed = Decision::Allow(KeyStage::Current);
    assert_eq!(decision(x_api_key.clone(), Accepted::X_API_KEY), allowed);
    assert_eq!(decision(bearer.clone(), Accepted::BEARER), allowed);
    // With both accepted there is no identity source.
    assert_eq!(
        decision(without_identity_source(x_api_key.clone()), Accepted::BOTH),
        allowed
    );
    assert_eq!(
        decision(without_identity_source(bearer.clone()), Accepted::BOTH),
        allowed
    );
    // A header that is not accepted is not read.
    assert_eq!(
        decision(without_identity_source(x_api_key), Accepted::BEARER),
        Decision::Deny(Denial::MissingKey)
    );
    assert_eq!(
        decision(without_identity_source(bearer), Accepted::X_API_KEY),
        Decision::Deny(Denial::MissingKey)
    );
}

#[test]
fn both_headers_give_the_same_verdicts() {
    let store = store();
    for (make, accepted) in [
        (
            x_api_key_event as fn(&str) -> serde_json::Value,
            Accepted::X_API_KEY,
        ),
        (bearer_event, Accepted::BEARER),
    ] {
        for accept in [accepted, Accepted::BOTH] {
            let check = |key: &str| {
                let mut event = make(key);
                if accept == Accepted::BOTH {
                    event = without_identity_source(event);
                }
                run(decide(&parse(event), accept, &store))
            };
            assert_eq!(check(CURRENT), Decision::Allow(KeyStage::Current));
            assert_eq!(check(PREVIOUS), Decision::Allow(KeyStage::Previous));
            assert_eq!(check("not-the-key"), Decision::Deny(Denial::WrongKey));
            assert_eq!(check(&CURRENT[..63]), Decision::Deny(Denial::WrongKey));
            assert_eq!(check(&"k".repeat(4097)), Decision::Deny(Denial::KeyTooLong));
        }
    }
    assert_eq!(
        run(decide(
            &parse(x_api_key_event("  ")),
            Accepted::BOTH,
            &store
        )),
        Decision::Deny(Denial::EmptyKey)
    );
}

#[test]
fn the_bearer_scheme_is_any_case_with_one_or_more_spaces() {
    for value in [
        format!("Bearer {CURRENT}"),
        format!("bearer {CURRENT}"),
        format!("BEARER {CURRENT}"),
        format!("Bearer   {CURRENT}"),
        format!("  Bearer {CURRENT} "),
    ] {
        for accepted in [Accepted::BEARER, Accepted::BOTH] {
            assert_eq!(
                decision(authorization_event(&value), accepted),
                Decision::Allow(KeyStage::Current),
                "{value:?}"
            );
        }
    }
    // Anything else in Authorization is not a key: denied as missing, never compared.
    for value in [
        CURRENT.to_string(),
        format!("Basic {CURRENT}"),
        format!("Token {CURRENT}"),
        format!("Bearer{CURRENT}"),
        format!("Bearer\t{CURRENT}"),
        format!("Bearer: {CURRENT}"),
        "Bearer".to_string(),
        "Bearer    ".to_string(),
    ] {
        for accepted in [Accepted::BEARER, Accepted::BOTH] {
            let event = parse(authorization_event(&value));
            let store = store();
            assert_eq!(
                run(decide(&event, accepted, &store)),
                Decision::Deny(Denial::MissingKey),
                "{value:?}"
            );
            assert_eq!(store.source().reads.load(Ordering::SeqCst), 0);
        }
    }
    // Two Authorization headers arrive comma-joined: not the key.
    let joined = format!("Bearer {CURRENT},Bearer {CURRENT}");
    assert_eq!(
        decision(authorization_event(&joined), Accepted::BOTH),
        Decision::Deny(Denial::WrongKey)
    );
}

#[test]
fn both_headers_must_agree() {
    let both = |api_key: &str, authorization: &str| {
        let event = with_header(
            without_identity_source(x_api_key_event(api_key)),
            "authorization",
            authorization,
        );
        decision(event, Accepted::BOTH)
    };
    assert_eq!(
        both(CURRENT, &format!("Bearer {CURRENT}")),
        Decision::Allow(KeyStage::Current)
    );
    assert_eq!(
        both(&format!(" {CURRENT}"), &format!("bearer  {CURRENT}")),
        Decision::Allow(KeyStage::Current)
    );
    for (api_key, authorization) in [
        (CURRENT, format!("Bearer {PREVIOUS}")),
        (CURRENT, "Bearer wrong".to_string()),
        ("wrong", format!("Bearer {CURRENT}")),
        ("", format!("Bearer {CURRENT}")),
    ] {
        assert_eq!(
            both(api_key, &authorization),
            Decision::Deny(Denial::ConflictingKeys),
            "{api_key:?} / {authorization:?}"
        );
    }
    // Authorization that is not Bearer carries no key, so it cannot conflict: a client may send
    // Basic credentials for a proxy next to its x-api-key.
    assert_eq!(
        both(CURRENT, "Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
        Decision::Allow(KeyStage::Current)
    );
    // With one header accepted the other is not read: API Gateway caches the verdict under
    // that one header's value, so it must not depend on the other.
    let stray = with_header(x_api_key_event(CURRENT), "authorization", "Bearer other");
    assert_eq!(
        decision(stray, Accepted::X_API_KEY),
        Decision::Allow(KeyStage::Current)
    );
    let stray = with_header(bearer_event(CURRENT), "x-api-key", "other");
    assert_eq!(
        decision(stray, Accepted::BEARER),
        Decision::Allow(KeyStage::Current)
    );
}

#[test]
fn denials_name_their_reason_without_the_key() {
    for denial in [
        Denial::MissingKey,
        Denial::ConflictingKeys,
        Denial::EmptyKey,
        Denial::KeyTooLong,
        Denial::WrongKey,
        Denial::SecretUnavailable,
    ] {
        assert!(!denial.reason().is_empty());
    }
    let presented = parse(bearer_event(CURRENT));
    let shown = format!("{:?}", presented.presented_key(Accepted::BOTH));
    assert_eq!(shown, "Key(.., bearer)");
}
