//! When the secret cannot be read there is no verdict: the bootstrap fails the invocation
//! (API Gateway answers 500 and caches nothing) instead of a deny that would be cached per key.

mod common;

use std::time::Duration;

use common::{event_with_key, run};
use mcpctl_authorizer::{
    authorize, authorize_event, Accepted, FetchError, KeyStage, KeyStore, SecretKeys, SecretSource,
    SecretUnavailable,
};

struct Unreadable;

impl SecretSource for Unreadable {
    async fn fetch(&self) -> Result<SecretKeys, FetchError> {
        Err(FetchError::Read {
            stage: KeyStage::Current,
            message: "endpoint unreachable".into(),
        })
    }

    fn secret_id(&self) -> &str {
        "test/api-key"
    }
}

#[test]
fn unreadable_secret_is_no_verdict_not_a_deny() {
    let store = KeyStore::new(Unreadable, Duration::from_secs(60));
    let event = event_with_key("some-key");
    assert_eq!(
        run(authorize_event(&event, Accepted::BOTH, &store)),
        Err(SecretUnavailable)
    );
    // The lenient form still never lets an unchecked request through.
    let response = serde_json::to_value(run(authorize(&event, Accepted::BOTH, &store))).unwrap();
    assert_eq!(response["isAuthorized"], false);
}

#[test]
fn malformed_keys_are_denied_without_the_secret() {
    let store = KeyStore::new(Unreadable, Duration::from_secs(60));
    let response =
        run(authorize_event(&event_with_key(""), Accepted::BOTH, &store)).expect("a verdict");
    assert_eq!(
        serde_json::to_value(response).unwrap()["isAuthorized"],
        false
    );
}
