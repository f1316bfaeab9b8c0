//! The API-key Lambda authorizer of an mcpctl stack.
//!
//! API Gateway (HTTP API v2, payload format 2.0, simple responses) calls it with each request's
//! headers; it takes the key from `x-api-key` or `Authorization: Bearer` (whichever
//! `[authorizer] accept` names) and answers `isAuthorized` by comparing it with the AWSCURRENT
//! and AWSPREVIOUS versions of a Secrets Manager secret, which it caches for a TTL. `main.rs` only wires this
//! library into `lambda_runtime`, so `mcpctl dev` and tests call the same logic directly.

pub mod config;
pub mod event;
pub mod keys;
pub mod oauth;
pub mod secrets_manager;
pub mod signing;
pub mod store;
pub mod token;

use std::collections::BTreeMap;

use tracing::info;

pub use config::{Config, ConfigError};
pub use event::{
    bearer_token, Accepted, AuthorizerEvent, KeyHeader, Presented, SimpleResponse, API_KEY_HEADER,
    AUTHORIZATION_HEADER,
};
pub use keys::{KeyDigest, KeyStage, SecretKeys, MAX_KEY_BYTES};
pub use secrets_manager::SecretsManagerSource;
pub use store::{FetchError, KeyStore, Lookup, SecretSource};

/// The context key that tells the integration which secret version the caller's key matched.
pub const KEY_STAGE_CONTEXT: &str = "keyStage";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(KeyStage),
    Deny(Denial),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    MissingKey,
    /// `x-api-key` and `Authorization: Bearer` carry different keys.
    ConflictingKeys,
    EmptyKey,
    KeyTooLong,
    WrongKey,
    /// The secret could not be read and no earlier copy is cached.
    SecretUnavailable,
}

impl Denial {
    pub fn reason(self) -> &'static str {
        match self {
            Denial::MissingKey => "no key in the accepted headers",
            Denial::ConflictingKeys => "x-api-key and Authorization: Bearer carry different keys",
            Denial::EmptyKey => "empty key",
            Denial::KeyTooLong => "key longer than 4 KiB",
            Denial::WrongKey => "key matches no version of the secret",
            Denial::SecretUnavailable => "the secret cannot be read",
        }
    }
}

/// The decision for one event, with the key taken from the `accepted` headers. Malformed keys
/// are refused before the secret is consulted.
pub async fn decide<S: SecretSource>(
    event: &AuthorizerEvent,
    accepted: Accepted,
    store: &KeyStore<S>,
) -> Decision {
    decide_via(event, accepted, store).await.0
}

/// [`decide`], and the header the key came in (for the log line).
async fn decide_via<S: SecretSource>(
    event: &AuthorizerEvent,
    accepted: Accepted,
    store: &KeyStore<S>,
) -> (Decision, Option<KeyHeader>) {
    let (key, via) = match event.presented_key(accepted) {
        Presented::Key(key, via) => (key, via),
        Presented::Missing => return (Decision::Deny(Denial::MissingKey), None),
        Presented::Conflict => return (Decision::Deny(Denial::ConflictingKeys), None),
        Presented::TooLong => return (Decision::Deny(Denial::KeyTooLong), None),
    };
    let decision = if key.len() > MAX_KEY_BYTES {
        Decision::Deny(Denial::KeyTooLong)
    } else {
        match key.trim() {
            "" => Decision::Deny(Denial::EmptyKey),
            key => match store.lookup(&KeyDigest::of(key.as_bytes())).await {
                Lookup::Matched(stage) => Decision::Allow(stage),
                Lookup::NoMatch => Decision::Deny(Denial::WrongKey),
                Lookup::Unavailable => Decision::Deny(Denial::SecretUnavailable),
            },
        }
    };
    (decision, Some(via))
}

/// The secret could not be read and no copy is cached, so no verdict can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the API key secret cannot be read")]
pub struct SecretUnavailable;

/// The authorizer's answer to one event, logged without the key. When the secret cannot be
/// read this is an error rather than a deny: API Gateway caches a deny for `cache_ttl_s` per key,
/// which would lock out every valid client for minutes after a brief outage, while a failed
/// invocation (500) is not cached and the client's retry is authorized again.
pub async fn authorize_event<S: SecretSource>(
    event: &AuthorizerEvent,
    accepted: Accepted,
    store: &KeyStore<S>,
) -> Result<SimpleResponse, SecretUnavailable> {
    let request_id = event.request_id();
    let route = event.route();
    let (decision, via) = decide_via(event, accepted, store).await;
    // Which header carried the key, never the key.
    let key_in = via.map_or("-", KeyHeader::word);
    match decision {
        Decision::Allow(stage) => {
            info!(
                request_id,
                route,
                key_in,
                key_stage = stage.label(),
                "allowed"
            );
            let context =
                BTreeMap::from([(KEY_STAGE_CONTEXT.to_string(), stage.label().to_string())]);
            Ok(SimpleResponse::allow(context))
        }
        Decision::Deny(Denial::SecretUnavailable) => {
            tracing::error!(
                request_id,
                route,
                "no verdict: the API key secret cannot be read"
            );
            Err(SecretUnavailable)
        }
        Decision::Deny(denial) => {
            info!(
                request_id,
                route,
                key_in,
                reason = denial.reason(),
                "denied"
            );
            Ok(SimpleResponse::deny())
        }
    }
}

/// [`authorize_event`] with "no verdict" as a deny: never lets a request through that was not
/// checked against the key.
pub async fn authorize<S: SecretSource>(
    event: &AuthorizerEvent,
    accepted: Accepted,
    store: &KeyStore<S>,
) -> SimpleResponse {
    authorize_event(event, accepted, store)
        .await
        .unwrap_or_else(|SecretUnavailable| SimpleResponse::deny())
}
