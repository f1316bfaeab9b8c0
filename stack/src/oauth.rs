//! The OAuth 2.1 contract of a stack with `[auth] mode = "oauth"` (docs/oauth.md): the routes of
//! the authorization server, the environment of the oauth function and of the authorizer, the
//! token kinds and lifetimes. The oauth crate issues what the authorizer validates, deploy creates
//! these routes and `dev` serves them; with `mode = "api-key"` none of it exists.

use std::collections::BTreeMap;

use crate::config::AuthMode;
use crate::{Config, Route};

/// RFC 8414 authorization server metadata, at the root since the issuer is the API's origin.
pub const AUTHORIZATION_SERVER_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";
/// RFC 9728 protected resource metadata; also served path-suffixed with the MCP path
/// (`/.well-known/oauth-protected-resource/mcp`), where MCP clients look first.
pub const PROTECTED_RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const REGISTER_PATH: &str = "/oauth/register";

/// The authorizer context key (`requestContext.authorizer.lambda.auth`) saying how the caller
/// was authorized in oauth mode: `oauth`, `api-key`, or [`AUTH_INVALID_TOKEN`].
pub const AUTH_CONTEXT: &str = "auth";
/// The `auth` of a request whose bearer token has this stack's token shape but is invalid
/// (expired, tampered, another key, issuer or audience). The authorizer lets it through so that
/// the server can answer 401 (API Gateway's own refusal is a 403, and OAuth clients refresh or
/// authorize again on a 401 only); the server refuses it before any MCP handling.
pub const AUTH_INVALID_TOKEN: &str = "invalid_token";
/// With [`AUTH_INVALID_TOKEN`]: why the token was refused (`expired`, `bad signature`, ...).
pub const REASON_CONTEXT: &str = "reason";
/// With [`AUTH_INVALID_TOKEN`]: the protected resource metadata URL for `WWW-Authenticate`.
pub const RESOURCE_METADATA_CONTEXT: &str = "resourceMetadata";

/// The one scope: access to the MCP endpoint.
pub const SCOPE: &str = "mcp";

/// An authorization code is good for this long after consent.
pub const CODE_TTL_S: u64 = 60;
/// Access tokens: short, since a stateless resource server cannot revoke one.
pub const ACCESS_TOKEN_TTL_S: u64 = 3600;
/// A refresh token expires this long after it was issued; each use issues a new one.
pub const REFRESH_TOKEN_TTL_S: u64 = 30 * 86_400;
/// However often it is refreshed, a grant ends this long after the owner's consent.
pub const GRANT_MAX_AGE_S: u64 = 90 * 86_400;
/// The consent page's form must be submitted within this long.
pub const CONSENT_TTL_S: u64 = 600;
/// A client ID metadata document larger than this is refused.
pub const MAX_CLIENT_METADATA_BYTES: usize = 5 * 1024;
/// Fetching a client ID metadata document (connect, headers and body) takes at most this long.
pub const CLIENT_METADATA_TIMEOUT_MS: u64 = 3000;

/// The authorizer's mode: `api-key` or `oauth` ([`AuthMode::as_str`]).
pub const AUTH_MODE_VAR: &str = "AUTH_MODE";
/// The Secrets Manager secret holding the token signing key (AWSCURRENT signs, AWSPREVIOUS
/// still verifies during a rotation's overlap). Never the API key's secret.
pub const SIGNING_SECRET_ID_VAR: &str = "OAUTH_SIGNING_SECRET_ID";
/// The issuer (`https://API-ID.execute-api.REGION.amazonaws.com`, or a custom domain). Unset:
/// `https://` + the request's `requestContext.domainName`.
pub const ISSUER_VAR: &str = "OAUTH_ISSUER";
/// Dev and tests only: lets the oauth function fetch client metadata documents over plain http
/// from loopback addresses. The function refuses to start with it on real Lambda.
pub const DEV_ALLOW_LOOPBACK_FETCH_VAR: &str = "OAUTH_DEV_ALLOW_LOOPBACK_FETCH";

/// What a signed token is, as its JOSE `typ` header says. Each kind is also signed with its own
/// key derived from the signing secret, so one kind can never be passed off as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// RFC 9068 JWT access token, presented to the MCP endpoint.
    Access,
    /// An authorization code.
    Code,
    Refresh,
    /// A client id made by dynamic client registration: the registration itself, signed.
    Client,
    /// The consent form's CSRF token, bound to one authorization request.
    Consent,
}

impl TokenKind {
    pub fn typ(self) -> &'static str {
        match self {
            TokenKind::Access => "at+jwt",
            TokenKind::Code => "mcpctl-code+jwt",
            TokenKind::Refresh => "mcpctl-refresh+jwt",
            TokenKind::Client => "mcpctl-client+jwt",
            TokenKind::Consent => "mcpctl-consent+jwt",
        }
    }

    /// The label the kind's signing key is derived with.
    pub fn key_label(self) -> &'static str {
        match self {
            TokenKind::Access => "mcpctl-oauth/v1/access",
            TokenKind::Code => "mcpctl-oauth/v1/code",
            TokenKind::Refresh => "mcpctl-oauth/v1/refresh",
            TokenKind::Client => "mcpctl-oauth/v1/client",
            TokenKind::Consent => "mcpctl-oauth/v1/consent",
        }
    }
}

/// The routes of the authorization server: they go to the oauth function, without the
/// authorizer (they are how a client gets a token in the first place).
pub const OAUTH_ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: AUTHORIZATION_SERVER_METADATA_PATH,
    },
    Route {
        method: "GET",
        path: PROTECTED_RESOURCE_METADATA_PATH,
    },
    Route {
        method: "GET",
        path: "/.well-known/oauth-protected-resource/mcp",
    },
    Route {
        method: "GET",
        path: AUTHORIZE_PATH,
    },
    Route {
        method: "POST",
        path: AUTHORIZE_PATH,
    },
    Route {
        method: "POST",
        path: TOKEN_PATH,
    },
    Route {
        method: "POST",
        path: REGISTER_PATH,
    },
];

/// The OAuth routes `config` has: none unless `[auth] mode = "oauth"`.
pub fn routes(config: &Config) -> &'static [Route] {
    match config.auth.mode {
        AuthMode::ApiKey => &[],
        AuthMode::OAuth => OAUTH_ROUTES,
    }
}

/// The OAuth route matching `method` and `path` in `config`, as API Gateway would select it.
pub fn find(config: &Config, method: &str, path: &str) -> Option<&'static Route> {
    routes(config)
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
}

/// The MCP endpoint's path (the first route of the route table).
pub fn mcp_path() -> &'static str {
    crate::ROUTES.first().map_or("/mcp", |r| r.path)
}

/// The issuer of a stack served at `origin` (`https://host`, no trailing slash).
pub fn issuer(origin: &str) -> String {
    origin.trim_end_matches('/').to_string()
}

/// The access tokens' audience and the RFC 8707 resource: the MCP endpoint's URL.
pub fn resource(issuer: &str) -> String {
    format!("{}{}", issuer.trim_end_matches('/'), mcp_path())
}

/// Where an unauthenticated client finds the protected resource metadata.
pub fn resource_metadata_url(issuer: &str) -> String {
    format!(
        "{}{PROTECTED_RESOURCE_METADATA_PATH}{}",
        issuer.trim_end_matches('/'),
        mcp_path()
    )
}

/// The name of the signing key's secret, next to the API key's.
pub fn signing_secret_name(config: &Config) -> String {
    format!("{}-oauth-signing-key", config.name)
}

/// The name of the oauth function (and, with `-role`, of its role).
pub fn function_name(config: &Config) -> String {
    format!("{}-oauth", config.name)
}

/// The oauth function's environment: the two secrets (the API key's, read only to check the
/// owner's consent; the signing key's), how long it caches them (the authorizer's
/// `secret_cache_ttl_s`, so a rotation reaches both alike), and the issuer when it is known.
pub fn oauth_function_env(
    config: &Config,
    api_key_secret_id: &str,
    signing_secret_id: &str,
    issuer: Option<&str>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        (
            crate::env::SECRET_ID_VAR.to_string(),
            api_key_secret_id.to_string(),
        ),
        (
            SIGNING_SECRET_ID_VAR.to_string(),
            signing_secret_id.to_string(),
        ),
        (
            crate::env::SECRET_CACHE_TTL_VAR.to_string(),
            config.authorizer.secret_cache_ttl_s.to_string(),
        ),
    ]);
    if let Some(issuer) = issuer {
        env.insert(ISSUER_VAR.to_string(), issuer.to_string());
    }
    env
}

/// What the authorizer needs on top of [`crate::env::authorizer_env`] in oauth mode.
pub fn authorizer_env(
    config: &Config,
    signing_secret_id: &str,
    issuer: Option<&str>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert(
        AUTH_MODE_VAR.to_string(),
        config.auth.mode.as_str().to_string(),
    );
    if config.auth.mode == AuthMode::OAuth {
        env.insert(
            SIGNING_SECRET_ID_VAR.to_string(),
            signing_secret_id.to_string(),
        );
        if let Some(issuer) = issuer {
            env.insert(ISSUER_VAR.to_string(), issuer.to_string());
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_mode_has_no_oauth_route() {
        let c = Config::default();
        assert!(routes(&c).is_empty());
        assert!(find(&c, "GET", AUTHORIZATION_SERVER_METADATA_PATH).is_none());
        let mut c = Config::default();
        c.auth.mode = AuthMode::OAuth;
        assert_eq!(routes(&c).len(), 7);
        assert!(find(&c, "get", "/.well-known/oauth-protected-resource/mcp").is_some());
        assert!(find(&c, "PUT", TOKEN_PATH).is_none());
        // No OAuth route shadows an MCP route.
        for r in OAUTH_ROUTES {
            assert!(crate::routes::find(r.method, r.path).is_none(), "{r:?}");
        }
    }

    #[test]
    fn urls_derive_from_the_issuer() {
        let i = issuer("https://abc.execute-api.us-east-1.amazonaws.com/");
        assert_eq!(i, "https://abc.execute-api.us-east-1.amazonaws.com");
        assert_eq!(
            resource(&i),
            "https://abc.execute-api.us-east-1.amazonaws.com/mcp"
        );
        assert_eq!(
            resource_metadata_url(&i),
            "https://abc.execute-api.us-east-1.amazonaws.com/.well-known/oauth-protected-resource/mcp"
        );
        assert!(OAUTH_ROUTES
            .iter()
            .any(|r| r.path == format!("{PROTECTED_RESOURCE_METADATA_PATH}{}", mcp_path())));
    }

    #[test]
    fn token_kinds_are_distinct() {
        let kinds = [
            TokenKind::Access,
            TokenKind::Code,
            TokenKind::Refresh,
            TokenKind::Client,
            TokenKind::Consent,
        ];
        let typs: std::collections::BTreeSet<_> = kinds.iter().map(|k| k.typ()).collect();
        let labels: std::collections::BTreeSet<_> = kinds.iter().map(|k| k.key_label()).collect();
        assert_eq!(typs.len(), kinds.len());
        assert_eq!(labels.len(), kinds.len());
    }
}
