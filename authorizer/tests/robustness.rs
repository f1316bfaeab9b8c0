//! Every key a client can put in front of the authorizer, other than a real one, is denied: 1000
//! random keys, every near miss of the real key, empty, 64 KiB, unicode, header-name case
//! variants and repeated headers (which API Gateway hands over comma-joined), each in `x-api-key`
//! and in `Authorization: Bearer` (scheme in several cases and spacings), under every
//! `[authorizer] accept` that reads that header. The real keys are accepted in every placement
//! API Gateway can give them.
//!
//! The random keys come from a fixed seed so a failure is reproducible; set
//! `ROBUSTNESS_SEED` to try others.

mod common;

use common::{event_json, parse, run, store, StaticSource, CURRENT, PREVIOUS};
use mcpctl_authorizer::{authorize, decide, Accepted, Decision, KeyStage, KeyStore, MAX_KEY_BYTES};
use serde_json::{json, Value};

/// Header names a client may spell the key header with; API Gateway lower-cases them, but the
/// authorizer must not depend on that.
const NAME_VARIANTS: &[&str] = &[
    "x-api-key",
    "X-Api-Key",
    "X-API-KEY",
    "x-API-key",
    "X-aPi-KeY",
];

/// SplitMix64: a reproducible stream without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn char(&mut self) -> char {
        match self.below(4) {
            // Key-shaped: the alphabet real keys use.
            0 | 1 => char::from(b"0123456789abcdef"[self.below(16)]),
            2 => char::from(0x20 + self.below(0x5f) as u8),
            // Any Unicode scalar value (surrogates redrawn).
            _ => loop {
                if let Some(c) = char::from_u32((self.next() % 0x11_0000) as u32) {
                    break c;
                }
            },
        }
    }

    fn string(&mut self, len: usize) -> String {
        (0..len).map(|_| self.char()).collect()
    }
}

fn seed() -> u64 {
    std::env::var("ROBUSTNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6d63_7063_746c)
}

/// 1000 random keys of random length, half of them starting with part of the real key.
fn random_wrong_keys() -> Vec<String> {
    let mut rng = Rng(seed());
    (0..1000)
        .map(|i| {
            let len = 1 + rng.below(if i % 10 == 0 { 4096 } else { 200 });
            if i % 2 == 0 {
                rng.string(len)
            } else {
                let keep = rng.below(CURRENT.len());
                format!("{}{}", &CURRENT[..keep], rng.string(len))
            }
        })
        .collect()
}

/// Keys one edit away from the real one, and the other malformed shapes.
fn crafted_wrong_keys() -> Vec<String> {
    let mut keys = Vec::new();
    // Every proper prefix, and every one-character change, deletion and insertion.
    for i in 0..CURRENT.len() {
        keys.push(CURRENT[..i].to_string());
        let original = CURRENT.as_bytes()[i];
        let changed = if original == b'0' { '1' } else { '0' };
        keys.push(format!("{}{changed}{}", &CURRENT[..i], &CURRENT[i + 1..]));
        keys.push(format!("{}{}", &CURRENT[..i], &CURRENT[i + 1..]));
        keys.push(format!("{}x{}", &CURRENT[..i], &CURRENT[i..]));
    }
    keys.push(format!("{CURRENT}0"));
    keys.push(CURRENT.to_uppercase());
    keys.push(CURRENT.chars().rev().collect());
    keys.push(format!("{}{}", &CURRENT[..32], &PREVIOUS[32..]));
    keys.push(format!("{CURRENT}\0"));
    keys.push(format!("\0{CURRENT}"));
    // Empty and blank.
    keys.extend(["", " ", "\t", "\r\n", "  \t  "].map(String::from));
    // 64 KiB: random, the key repeated, the key padded past the length limit.
    keys.push(Rng(seed() ^ 1).string(64 * 1024));
    keys.push(CURRENT.repeat(1024));
    keys.push(format!("{CURRENT}{}", " ".repeat(64 * 1024)));
    keys.push("a".repeat(MAX_KEY_BYTES + 1));
    // Unicode: look-alikes and invisible characters around the real key.
    keys.push(CURRENT.replace('a', "\u{0430}")); // Cyrillic a
    keys.push(
        CURRENT
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xfee0).unwrap_or(c))
            .collect(),
    ); // full-width
    keys.push(format!("{CURRENT}\u{200b}")); // zero-width space
    keys.push(format!("\u{feff}{CURRENT}")); // byte-order mark
    keys.push(format!("\u{202e}{CURRENT}")); // right-to-left override
    keys.push(CURRENT.replace('e', "e\u{0301}")); // combining accent
    keys.push("ключ-🔑-clé".to_string());
    keys.push("🔑".repeat(1024));
    // Repeated headers, comma-joined as API Gateway passes them on.
    for joined in [
        format!("{CURRENT},{CURRENT}"),
        format!("{CURRENT}, {CURRENT}"),
        format!("wrong,{CURRENT}"),
        format!("{CURRENT},wrong"),
        format!(",{CURRENT}"),
        format!("{CURRENT},"),
        format!("{CURRENT},{PREVIOUS}"),
        format!("{PREVIOUS},{CURRENT}"),
    ] {
        keys.push(joined);
    }
    keys
}

fn is_denied(event: &Value, accepted: Accepted, store: &KeyStore<StaticSource>) -> bool {
    let event = parse(event.clone());
    let denied = !matches!(run(decide(&event, accepted, store)), Decision::Allow(_));
    let response =
        serde_json::to_value(run(authorize(&event, accepted, store))).expect("serialises");
    denied && response == json!({"isAuthorized": false, "context": {}})
}

/// `Authorization` spellings of `Bearer KEY` a client may send: any case of the scheme, one or
/// more spaces.
const BEARER_VARIANTS: &[&str] = &["Bearer ", "bearer ", "BEARER ", "Bearer    "];

/// The places a key can reach the authorizer, each under an `accept` that reads it: the header
/// API Gateway lower-cases, a header name in another case (a hand-made or future event), and only
/// the identity source. With one header accepted, identitySource carries that header's value
/// (it is the one identity source); with both, there is no identity source.
fn placements(key: &str) -> Vec<(String, Accepted, Value)> {
    let mut events = Vec::new();
    for name in NAME_VARIANTS {
        events.push((
            format!("header {name}, x-api-key accepted"),
            Accepted::X_API_KEY,
            event_json(json!({ *name: key }), json!([key])),
        ));
        events.push((
            format!("header {name}, both accepted"),
            Accepted::BOTH,
            event_json(json!({ *name: key }), Value::Null),
        ));
    }
    events.push((
        "identitySource only, x-api-key accepted".into(),
        Accepted::X_API_KEY,
        event_json(json!({"host": "h"}), json!([key])),
    ));
    for name in ["authorization", "Authorization"] {
        for scheme in BEARER_VARIANTS {
            let value = format!("{scheme}{key}");
            events.push((
                format!("header {name}: {scheme:?}, bearer accepted"),
                Accepted::BEARER,
                event_json(json!({ name: value }), json!([value])),
            ));
            events.push((
                format!("header {name}: {scheme:?}, both accepted"),
                Accepted::BOTH,
                event_json(json!({ name: value }), Value::Null),
            ));
        }
    }
    events.push((
        "identitySource only, bearer accepted".into(),
        Accepted::BEARER,
        event_json(json!({"host": "h"}), json!([format!("Bearer {key}")])),
    ));
    events
}

/// How many placements [`placements`] makes for one key.
fn placement_count() -> usize {
    placements("k").len()
}

#[test]
fn every_wrong_key_is_denied_in_every_placement() {
    let store = store();
    let random = random_wrong_keys();
    let crafted = crafted_wrong_keys();
    assert_eq!(random.len(), 1000);
    let mut checked = 0;
    let mut accepted = Vec::new();
    for key in random.iter().chain(&crafted) {
        // A random draw equal to a real key is impossible in practice; skip rather than flake.
        if [CURRENT, PREVIOUS].contains(&key.trim()) && key.len() <= MAX_KEY_BYTES {
            continue;
        }
        for (placement, accepted_headers, event) in placements(key) {
            checked += 1;
            if !is_denied(&event, accepted_headers, &store) {
                accepted.push(format!(
                    "{placement}: {:?}",
                    key.chars().take(80).collect::<String>()
                ));
            }
        }
    }
    assert!(accepted.is_empty(), "wrong keys accepted: {accepted:#?}");
    assert!(
        checked >= (1000 + crafted.len() - 1) * placement_count(),
        "only {checked} checks ran"
    );
    eprintln!(
        "{} wrong keys ({} random, {} crafted) x {} placements: {checked} events, all denied",
        random.len() + crafted.len(),
        random.len(),
        crafted.len(),
        checked / (random.len() + crafted.len())
    );
}

#[test]
fn the_real_keys_are_accepted_in_every_placement() {
    let store = store();
    for (key, stage) in [(CURRENT, KeyStage::Current), (PREVIOUS, KeyStage::Previous)] {
        for (placement, accepted, event) in placements(key) {
            let event = parse(event);
            assert_eq!(
                run(decide(&event, accepted, &store)),
                Decision::Allow(stage),
                "{placement}"
            );
            let response = serde_json::to_value(run(authorize(&event, accepted, &store))).unwrap();
            assert_eq!(
                response,
                json!({"isAuthorized": true, "context": {"keyStage": stage.label()}}),
                "{placement}"
            );
        }
    }
}

#[test]
fn a_real_key_next_to_a_wrong_one_is_denied() {
    let store = store();
    for accepted in [Accepted::BOTH, Accepted::X_API_KEY] {
        // API Gateway's lower-cased header is what the client sent under x-api-key; a real key
        // in another spelling or in identitySource does not override it.
        for name in &NAME_VARIANTS[1..] {
            let event = event_json(json!({"x-api-key": "wrong", *name: CURRENT}), json!([]));
            assert!(is_denied(&event, accepted, &store), "{name}");
        }
        let event = event_json(json!({"x-api-key": "wrong"}), json!([CURRENT]));
        assert!(is_denied(&event, accepted, &store));
        // A second identity source value is never consulted.
        let event = event_json(json!({"host": "h"}), json!(["wrong", CURRENT]));
        assert!(is_denied(&event, accepted, &store));
    }
    for accepted in [Accepted::BOTH, Accepted::BEARER] {
        let bearer = format!("Bearer {CURRENT}");
        for (headers, identity) in [
            // The lower-cased header wins over another spelling, as for x-api-key.
            (
                json!({"authorization": "Bearer wrong", "Authorization": bearer}),
                json!([]),
            ),
            (json!({"authorization": "Bearer wrong"}), json!([bearer])),
            // Authorization without the Bearer scheme holds no key, and then identitySource is
            // not asked either: the header is what the client sent.
            (json!({"authorization": "Basic abc"}), json!([bearer])),
            (json!({"authorization": CURRENT}), json!([CURRENT])),
            (json!({"host": "h"}), json!(["Bearer wrong", bearer])),
        ] {
            let event = event_json(headers, identity);
            assert!(is_denied(&event, accepted, &store), "{event}");
        }
    }
    // Both headers with different keys: whichever is real, the request is refused.
    for (x_api_key, bearer) in [(CURRENT, "wrong"), ("wrong", CURRENT), (CURRENT, PREVIOUS)] {
        let event = event_json(
            json!({"x-api-key": x_api_key, "authorization": format!("Bearer {bearer}")}),
            Value::Null,
        );
        assert!(is_denied(&event, Accepted::BOTH, &store), "{event}");
    }
}

#[test]
fn events_without_a_usable_key_are_denied() {
    let store = store();
    for event in [
        event_json(json!({}), json!([])),
        event_json(Value::Null, Value::Null),
        event_json(json!({"x-api-key": ""}), json!([""])),
        event_json(json!({"authorization": CURRENT}), json!([])),
        event_json(json!({"x_api_key": CURRENT}), json!([])),
        event_json(json!({"x-api-key ": CURRENT}), json!([])),
        event_json(json!({"authorization": "Bearer"}), json!([])),
        event_json(json!({"authorization": "Bearer   "}), json!([])),
        event_json(
            json!({"authorization": format!("Bearer\t{CURRENT}")}),
            json!([]),
        ),
        event_json(
            json!({"authorization": format!("Basic {CURRENT}")}),
            json!([]),
        ),
        event_json(
            json!({"authorization": format!("Token {CURRENT}")}),
            json!([]),
        ),
        event_json(
            json!({"authorization": format!("Bearer{CURRENT}")}),
            json!([]),
        ),
        event_json(
            json!({"proxy-authorization": format!("Bearer {CURRENT}")}),
            json!([]),
        ),
        json!({"version": "2.0", "type": "REQUEST"}),
        json!({}),
    ] {
        for accepted in [Accepted::BOTH, Accepted::X_API_KEY, Accepted::BEARER] {
            assert!(is_denied(&event, accepted, &store), "{event}");
        }
    }
    // A header that is not accepted is not read, whatever it holds.
    let event = event_json(json!({"x-api-key": CURRENT}), json!([]));
    assert!(is_denied(&event, Accepted::BEARER, &store));
    let event = event_json(
        json!({"authorization": format!("Bearer {CURRENT}")}),
        json!([]),
    );
    assert!(is_denied(&event, Accepted::X_API_KEY, &store));
}
