//! The key never reaches a log line or a response. A test binary of its own: tracing caches each
//! callsite's interest process-wide, so a capturing subscriber beside parallel tests that run
//! without one can miss lines.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{bearer_event, event_with_key, parse, run, store, with_header, CURRENT, PREVIOUS};
use mcpctl_authorizer::{authorize, Accepted};

/// Collects everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn keys_never_reach_logs_or_responses() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let store = store();
    let wrong = "wrong-key-7d2f9c";
    let responses: Vec<String> = tracing::subscriber::with_default(subscriber, || {
        let mut events = Vec::new();
        for key in [CURRENT, PREVIOUS, wrong] {
            events.push(event_with_key(key));
            events.push(parse(bearer_event(key)));
        }
        // Both headers, different keys: denied, and neither key is named.
        events.push(parse(with_header(
            bearer_event(wrong),
            "x-api-key",
            CURRENT,
        )));
        events
            .iter()
            .map(|event| {
                serde_json::to_string(&run(authorize(event, Accepted::BOTH, &store))).unwrap()
            })
            .collect()
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("allowed") && logs.contains("denied"),
        "{logs}"
    );
    assert!(
        logs.contains("JKJaXmPLvHcESHA="),
        "logs carry the request id: {logs}"
    );
    // Which header carried the key is logged, and why a request was refused.
    assert!(logs.contains("key_in=\"x-api-key\""), "{logs}");
    assert!(logs.contains("key_in=\"bearer\""), "{logs}");
    assert!(logs.contains("carry different keys"), "{logs}");
    for key in [CURRENT, PREVIOUS, wrong] {
        assert!(!logs.contains(key), "a key leaked into the logs: {logs}");
        for response in &responses {
            assert!(!response.contains(key), "a key leaked into {response}");
        }
    }
}
