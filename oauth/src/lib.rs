//! The stateless OAuth 2.1 authorization server of an mcpctl stack with `[auth] mode = "oauth"`
//! (docs/oauth.md). `main.rs` runs [`server::AuthServer`] as a Lambda function behind API
//! Gateway; `mcpctl dev` runs the same binary behind its emulation, and tests call the library.

pub mod cimd;
pub mod html;
pub mod http;
pub mod server;

pub use cimd::FetchPolicy;
pub use http::{Request, Response};
pub use server::{AuthServer, Client, Settings};

/// Settings from the function's environment. The loopback fetch switch is refused on real
/// Lambda (`AWS_EXECUTION_ENV` is set there, and never by `mcpctl dev`).
pub fn settings_from_env(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(Settings, String, String), String> {
    use mcpctl_stack::oauth::{DEV_ALLOW_LOOPBACK_FETCH_VAR, ISSUER_VAR, SIGNING_SECRET_ID_VAR};
    let required = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{name} is not set"))
    };
    let api_key_secret = required(mcpctl_stack::env::SECRET_ID_VAR)?;
    let signing_secret = required(SIGNING_SECRET_ID_VAR)?;
    let allow_loopback = match lookup(DEV_ALLOW_LOOPBACK_FETCH_VAR).as_deref() {
        None | Some("") | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            return Err(format!(
                "{DEV_ALLOW_LOOPBACK_FETCH_VAR} must be 1 or 0 (got {other:?})"
            ))
        }
    };
    if allow_loopback && lookup("AWS_EXECUTION_ENV").is_some_and(|v| !v.is_empty()) {
        return Err(format!(
            "{DEV_ALLOW_LOOPBACK_FETCH_VAR} is for mcpctl dev and tests only, never on Lambda"
        ));
    }
    Ok((
        Settings {
            issuer: lookup(ISSUER_VAR).filter(|v| !v.is_empty()),
            fetch: FetchPolicy { allow_loopback },
        },
        api_key_secret,
        signing_secret,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcpctl_stack::oauth::{DEV_ALLOW_LOOPBACK_FETCH_VAR, SIGNING_SECRET_ID_VAR};

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        settings_from_env(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .map(|(s, _, _)| s)
    }

    const SECRETS: [(&str, &str); 2] = [
        (mcpctl_stack::env::SECRET_ID_VAR, "api-key"),
        (SIGNING_SECRET_ID_VAR, "signing"),
    ];

    #[test]
    fn both_secrets_are_required() {
        assert!(settings(&[]).is_err());
        assert!(settings(&SECRETS[..1])
            .unwrap_err()
            .contains(SIGNING_SECRET_ID_VAR));
        assert_eq!(settings(&SECRETS).unwrap().fetch, FetchPolicy::default());
    }

    #[test]
    fn the_loopback_switch_is_refused_on_lambda() {
        let on = [SECRETS[0], SECRETS[1], (DEV_ALLOW_LOOPBACK_FETCH_VAR, "1")];
        assert!(settings(&on).unwrap().fetch.allow_loopback);
        let lambda = [
            SECRETS[0],
            SECRETS[1],
            (DEV_ALLOW_LOOPBACK_FETCH_VAR, "1"),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ];
        assert!(settings(&lambda).unwrap_err().contains("never on Lambda"));
        let bad = [
            SECRETS[0],
            SECRETS[1],
            (DEV_ALLOW_LOOPBACK_FETCH_VAR, "yes"),
        ];
        assert!(settings(&bad).is_err());
    }
}
