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

/// The context key that tells the integration how the caller was authorized: `oauth`,
/// `api-key`, or [`AUTH_INVALID_TOKEN`] (the server answers that with 401).
pub use mcpctl_stack::oauth::{
    AUTH_CONTEXT, AUTH_INVALID_TOKEN, REASON_CONTEXT, RESOURCE_METADATA_CONTEXT,
};
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

/// The verdict on `event` in oauth mode:
///
/// - a valid access token: allowed, `auth=oauth` and the client id in the context;
/// - anything that is not token-shaped (the API key as a bearer token, or a wrong one): the
///   API-key check, unchanged (a wrong key is a 403);
/// - a token-shaped bearer that fails validation (expired, tampered, signed with another key,
///   another issuer or audience, another kind): **allowed with `auth=invalid_token`**, the reason
///   and the resource metadata URL in the context. The server refuses such a request with 401
///   and `WWW-Authenticate: Bearer error="invalid_token"` before any MCP handling
///   (`mcpctl_server::lambda::refuse_invalid_token`): API Gateway's own refusal would be a 403,
///   and OAuth clients refresh or authorize again only on a 401. A cached verdict for the token
///   stays right: an invalid token never becomes valid.
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
            info!(
                request_id,
                route,
                reason = %e,
                "invalid access token: passed on as auth=invalid_token for the server's 401"
            );
            Ok(SimpleResponse::allow(BTreeMap::from([
                (AUTH_CONTEXT.to_string(), AUTH_INVALID_TOKEN.to_string()),
                (REASON_CONTEXT.to_string(), e.to_string()),
                (
                    RESOURCE_METADATA_CONTEXT.to_string(),
                    mcpctl_stack::oauth::resource_metadata_url(&issuer),
                ),
            ])))
        }
    }
}
