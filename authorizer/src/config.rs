//! The authorizer's settings, read once at init from the function's environment.

use std::time::Duration;

use mcpctl_stack::auth::{AcceptError, Accepted};

pub const SECRET_ID_VAR: &str = mcpctl_stack::env::SECRET_ID_VAR;
pub const CACHE_TTL_VAR: &str = mcpctl_stack::env::SECRET_CACHE_TTL_VAR;
pub const ACCEPT_VAR: &str = mcpctl_stack::env::ACCEPT_VAR;
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
/// A day: beyond that a rotated key would effectively never reach a warm authorizer.
pub const MAX_CACHE_TTL_S: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// ARN or name of the Secrets Manager secret holding the API key.
    pub secret_id: String,
    /// How long a read of the secret is trusted before it is read again.
    pub cache_ttl: Duration,
    /// The headers a key is taken from. Unset: both, as `[authorizer] accept` defaults to.
    pub accepted: Accepted,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{SECRET_ID_VAR} is not set: set it to the ARN or name of the Secrets Manager secret that holds the API key")]
    MissingSecretId,
    #[error("{CACHE_TTL_VAR} must be a whole number of seconds between 0 and {MAX_CACHE_TTL_S} (got {0:?})")]
    BadCacheTtl(String),
    #[error("{ACCEPT_VAR} {0}; it lists where the key may be, e.g. \"x-api-key,bearer\"")]
    BadAccept(AcceptError),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret_id = lookup(SECRET_ID_VAR)
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .ok_or(ConfigError::MissingSecretId)?;
        let cache_ttl = match lookup(CACHE_TTL_VAR) {
            None => DEFAULT_CACHE_TTL,
            Some(raw) if raw.trim().is_empty() => DEFAULT_CACHE_TTL,
            Some(raw) => raw
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= MAX_CACHE_TTL_S)
                .map(Duration::from_secs)
                .ok_or(ConfigError::BadCacheTtl(raw))?,
        };
        let accepted = match lookup(ACCEPT_VAR) {
            None => Accepted::BOTH,
            Some(raw) => Accepted::parse_env(&raw).map_err(ConfigError::BadAccept)?,
        };
        Ok(Self {
            secret_id,
            cache_ttl,
            accepted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn secret_id_is_required() {
        assert_eq!(config(&[]), Err(ConfigError::MissingSecretId));
        assert_eq!(
            config(&[(SECRET_ID_VAR, "  ")]),
            Err(ConfigError::MissingSecretId)
        );
        let message = ConfigError::MissingSecretId.to_string();
        assert!(message.contains("API_KEY_SECRET_ID"), "{message}");
    }

    #[test]
    fn ttl_defaults_and_parses() {
        let c = config(&[(SECRET_ID_VAR, "arn:aws:secretsmanager:us-east-1:1:secret:k")]).unwrap();
        assert_eq!(c.secret_id, "arn:aws:secretsmanager:us-east-1:1:secret:k");
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        let c = config(&[(SECRET_ID_VAR, "k"), (CACHE_TTL_VAR, "0")]).unwrap();
        assert_eq!(c.cache_ttl, Duration::ZERO);
        let c = config(&[(SECRET_ID_VAR, "k"), (CACHE_TTL_VAR, " 300 ")]).unwrap();
        assert_eq!(c.cache_ttl, Duration::from_secs(300));
        for bad in ["-1", "1.5", "ten", "86401"] {
            assert_eq!(
                config(&[(SECRET_ID_VAR, "k"), (CACHE_TTL_VAR, bad)]),
                Err(ConfigError::BadCacheTtl(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn accepted_headers_default_to_both_and_parse() {
        let c = config(&[(SECRET_ID_VAR, "k")]).unwrap();
        assert_eq!(c.accepted, Accepted::BOTH);
        for (raw, expected) in [
            ("x-api-key,bearer", Accepted::BOTH),
            ("bearer", Accepted::BEARER),
            (" x-api-key ", Accepted::X_API_KEY),
        ] {
            let c = config(&[(SECRET_ID_VAR, "k"), (ACCEPT_VAR, raw)]).unwrap();
            assert_eq!(c.accepted, expected, "{raw}");
        }
        // Set but naming nothing is a mistake, not "accept nothing" or "accept everything".
        for bad in ["", "basic", "bearer,bearer", "x-api-key;bearer"] {
            let e = config(&[(SECRET_ID_VAR, "k"), (ACCEPT_VAR, bad)]).unwrap_err();
            assert!(matches!(e, ConfigError::BadAccept(_)), "{bad}: {e}");
            assert!(e.to_string().starts_with("API_KEY_ACCEPT "), "{e}");
        }
    }
}
