//! The authorizer as an OAuth resource server (`[auth] mode = "oauth"`, docs/oauth.md): the
//! bearer token is an access token of this stack's authorization server (signature, expiry,
//! issuer, audience checked here, statelessly) or the stack's API key (kept for `mcpctl invoke`
//! and the owner's own clients). A request with no `Authorization` header never gets here: API
//! Gateway answers it with 401 itself, since `Authorization` is the identity source.

use std::collections::BTreeMap;

use tracing::info;

use crate::event::{AuthorizerEvent, Presented, SimpleResponse};
use crate::signing::{RawSecretSource, SigningKeyStore};
use crate::store::{KeyStore, SecretSource};
use crate::token::{looks_like_token, now_s, validate_access_token, TokenError};
use crate::{authorize_event, Accepted, SecretUnavailable};

/// The context key that tells the integration how the caller was authorized: `oauth` or `api-key`.
pub const AUTH_CONTEXT: &str = "auth";
/// The OAuth client the access token was issued to.
pub const CLIENT_ID_CONTEXT: &str = "clientId";

/// The issuer the authorizer expects: [`mcpctl_stack::oauth::ISSUER_VAR`] if set, else the
/// API's own origin from the event (`https://` + `requestContext.domainName`).
pub fn issuer_of(configured: Option<&str>, event: &AuthorizerEvent) -> Option<String> {
    if let Some(issuer) = configured.filter(|i| !i.is_empty()) {
        return Some(mcpctl_stack::oauth::issuer(issuer));
    }
    let domain = event
        .request_context
        .as_ref()
        .and_then(|c| c.domain_name.as_deref())
        .filter(|d| !d.is_empty())?;
    Some(format!("https://{domain}"))
}

/// Why an access token was refused, for the log line (never the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthDenial {
    NoToken,
    NoIssuer,
    Token(TokenError),
}

/// The verdict on `event` in oauth mode.
pub async fn authorize_oauth_event<S: SecretSource, R: RawSecretSource>(
    event: &AuthorizerEvent,
    key_store: &KeyStore<S>,
    signing: &SigningKeyStore<R>,
    configured_issuer: Option<&str>,
) -> Result<SimpleResponse, SecretUnavailable> {
    let token = match event.presented_key(Accepted::BEARER) {
        Presented::Key(token, _) => token.trim(),
        _ => "",
    };
    if !looks_like_token(token) {
        // The API key as a bearer token (or nothing usable): the API-key check, unchanged.
        let mut response = authorize_event(event, Accepted::BEARER, key_store).await?;
        if response.is_authorized {
            response
                .context
                .insert(AUTH_CONTEXT.to_string(), "api-key".to_string());
        }
        return Ok(response);
    }
    let request_id = event.request_id();
    let route = event.route();
    let Some(issuer) = issuer_of(configured_issuer, event) else {
        info!(request_id, route, reason = "no issuer known", "denied");
        return Ok(SimpleResponse::deny());
    };
    let audience = mcpctl_stack::oauth::resource(&issuer);
    let Some(keys) = signing.keys(Some(token)).await else {
        tracing::error!(
            request_id,
            route,
            "no verdict: the signing secret cannot be read"
        );
        return Err(SecretUnavailable);
    };
    match validate_access_token(&keys, token, &issuer, &audience, now_s()) {
        Ok(claims) => {
            info!(request_id, route, client_id = %claims.client_id, "allowed (access token)");
            Ok(SimpleResponse::allow(BTreeMap::from([
                (AUTH_CONTEXT.to_string(), "oauth".to_string()),
                (CLIENT_ID_CONTEXT.to_string(), claims.client_id),
            ])))
        }
        Err(e) => {
            info!(request_id, route, reason = %e, "denied (access token)");
            Ok(SimpleResponse::deny())
        }
    }
}
