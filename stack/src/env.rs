//! The environment each function runs with: `deploy` writes it into the Lambda configuration and
//! `dev` starts the local instances with it, so both run the binaries the same way.

use std::collections::BTreeMap;

use crate::Config;

/// The authorizer reads its secret from this variable (an ARN or a name).
pub const SECRET_ID_VAR: &str = "API_KEY_SECRET_ID";
/// How long a warm authorizer keeps the secret before reading it again.
pub const SECRET_CACHE_TTL_VAR: &str = "SECRET_CACHE_TTL_S";
/// Which headers the authorizer takes the key from (`x-api-key,bearer`): the `[authorizer]
/// accept` list, so the authorizer reads exactly what API Gateway's identity sources and cache
/// key cover (`crate::auth`).
pub const ACCEPT_VAR: &str = "API_KEY_ACCEPT";

/// The server seals the state of a multi-round tool call (an input-required result's
/// `requestState`) with this key, at least 32 bytes, so that any instance can open what another
/// sealed. Deploy makes one random 256-bit value per stack and keeps it in the function's
/// configuration across deploys (`[server.env]` may set one instead); dev makes one per run.
pub const REQUEST_STATE_KEY_VAR: &str = "MCP_REQUEST_STATE_KEY";

/// The server's default log filter: its own events at info, rmcp's per-request chatter (three
/// lines for every request, each a CloudWatch cost) only when something is wrong.
pub const SERVER_LOG_FILTER: &str = "info,rmcp=warn";

/// `RUST_LOG` with [`SERVER_LOG_FILTER`] under `[server.env]`, which may override it.
pub fn server_env(config: &Config) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([("RUST_LOG".to_string(), SERVER_LOG_FILTER.to_string())]);
    env.extend(config.server.env.clone());
    env
}

/// The secret to check keys against, how long to cache it, and the headers that may carry a key.
pub fn authorizer_env(config: &Config, secret_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (SECRET_ID_VAR.to_string(), secret_id.to_string()),
        (
            SECRET_CACHE_TTL_VAR.to_string(),
            config.authorizer.secret_cache_ttl_s.to_string(),
        ),
        (
            ACCEPT_VAR.to_string(),
            crate::auth::accepted(config).env_value(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_env_lets_deploy_toml_override_the_log_level() {
        let mut c = Config::default();
        assert_eq!(
            server_env(&c).get("RUST_LOG").map(String::as_str),
            Some(SERVER_LOG_FILTER)
        );
        c.server.env.insert("RUST_LOG".into(), "debug".into());
        c.server.env.insert("A".into(), "1".into());
        let env = server_env(&c);
        assert_eq!(env.get("RUST_LOG").map(String::as_str), Some("debug"));
        assert_eq!(env.get("A").map(String::as_str), Some("1"));
    }

    #[test]
    fn authorizer_env_names_the_secret_and_ttl() {
        let env = authorizer_env(&Config::default(), "arn:aws:secretsmanager:x");
        assert_eq!(env[SECRET_ID_VAR], "arn:aws:secretsmanager:x");
        assert_eq!(env[SECRET_CACHE_TTL_VAR], "60");
        assert_eq!(env[ACCEPT_VAR], "x-api-key,bearer");
        let mut c = Config::default();
        c.authorizer.accept = vec![crate::auth::KeyHeader::Bearer];
        assert_eq!(authorizer_env(&c, "s")[ACCEPT_VAR], "bearer");
    }
}
