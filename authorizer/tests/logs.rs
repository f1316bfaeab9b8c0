//! The key never reaches a log line or a response. A test binary of its own: tracing caches each
//! callsite's interest process-wide, so a capturing subscriber beside parallel tests that run
//! without one can miss lines.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{event_with_key, run, store, CURRENT, PREVIOUS};
use mcpctl_authorizer::authorize;

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
        [CURRENT, PREVIOUS, wrong]
            .iter()
            .map(|key| {
                serde_json::to_string(&run(authorize(&event_with_key(key), &store))).unwrap()
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
    for key in [CURRENT, PREVIOUS, wrong] {
        assert!(!logs.contains(key), "a key leaked into the logs: {logs}");
        for response in &responses {
            assert!(!response.contains(key), "a key leaked into {response}");
        }
    }
}
