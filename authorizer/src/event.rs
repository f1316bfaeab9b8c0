//! The API Gateway HTTP API (v2) Lambda authorizer event, payload format 2.0, and the "simple"
//! response API Gateway accepts when the authorizer has `EnableSimpleResponses`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::keys::MAX_KEY_BYTES;

pub use mcpctl_stack::auth::{
    bearer_token, Accepted, KeyHeader, API_KEY_HEADER, AUTHORIZATION_HEADER,
};

/// A REQUEST authorizer event, payload format 2.0. Only what the decision and the logs need is
/// typed; everything else API Gateway sends is ignored, and every field may be missing, so an
/// unexpected event shape is a deny rather than a failed invocation.
///
/// Deliberately not `Debug`: the headers hold the API key and must never reach a log line.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthorizerEvent {
    pub version: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub route_arn: Option<String>,
    pub route_key: Option<String>,
    pub raw_path: Option<String>,
    /// The values of the authorizer's identity sources, in order: the `x-api-key` or the
    /// `Authorization` value when that header is the one identity source, none when both
    /// headers are accepted (the authorizer then has no identity source).
    pub identity_source: Option<Vec<String>>,
    /// Lower-cased header names; repeated headers arrive comma-joined.
    pub headers: Option<HashMap<String, String>>,
    pub request_context: Option<RequestContext>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    /// The API's host name: the issuer of `[auth] mode = "oauth"` when none is configured.
    pub domain_name: Option<String>,
    pub http: Option<HttpDetails>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpDetails {
    pub method: Option<String>,
    pub path: Option<String>,
    pub source_ip: Option<String>,
}

/// Where the caller's key is, as far as the accepted headers tell.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No accepted header carries a key.
    Missing,
    /// The key (an `x-api-key` value as sent, the token of a Bearer value) and its header.
    Key(&'a str, KeyHeader),
    /// `x-api-key` and `Authorization: Bearer` both carry a key, and not the same one.
    Conflict,
    /// A header carrying the key is longer than [`MAX_KEY_BYTES`], whitespace included.
    TooLong,
}

// Deliberately not derived: the key must never reach a log line through `{:?}`.
impl std::fmt::Debug for Presented<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Presented::Missing => f.write_str("Missing"),
            Presented::Key(_, via) => write!(f, "Key(.., {via})"),
            Presented::Conflict => f.write_str("Conflict"),
            Presented::TooLong => f.write_str("TooLong"),
        }
    }
}

impl AuthorizerEvent {
    /// The value of header `name` (lower case). Names are matched case-insensitively so a
    /// hand-written or test event with `X-Api-Key` behaves like the lower-cased one API Gateway
    /// sends; the lower-cased spelling wins when both are there.
    fn header(&self, name: &str) -> Option<&str> {
        let headers = self.headers.as_ref()?;
        headers
            .get(name)
            .or_else(|| {
                headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value)
            })
            .map(String::as_str)
    }

    /// The key the caller presented in the `accepted` headers: `x-api-key: KEY`, or
    /// `Authorization: Bearer KEY` (any other `Authorization` carries no key). Both carrying
    /// one is accepted only when they are the same key; otherwise it is a [`Presented::Conflict`]
    /// (which key would be meant?). A header that is not accepted is not looked at: API Gateway
    /// caches the verdict under the identity source alone, so it must depend on nothing else.
    ///
    /// With neither header in the event at all, the first identity source stands in for the
    /// header (a hand-made event, or a future one that leaves headers out): as the raw key when
    /// `x-api-key` is accepted, else as an `Authorization` value.
    pub fn presented_key(&self, accepted: Accepted) -> Presented<'_> {
        let api_key = self.header(API_KEY_HEADER).filter(|_| accepted.x_api_key);
        let authorization = self
            .header(AUTHORIZATION_HEADER)
            .filter(|_| accepted.bearer);
        let bearer = authorization.and_then(bearer_token);
        // Measured before any trimming, so neither header can carry a key padded past the limit.
        let too_long = |value: Option<&str>| value.is_some_and(|v| v.len() > MAX_KEY_BYTES);
        if too_long(api_key) || (bearer.is_some() && too_long(authorization)) {
            return Presented::TooLong;
        }
        match (api_key, bearer) {
            // Two client-supplied values: comparing them reveals nothing about the secret.
            (Some(key), Some(token)) if key.trim() == token => {
                Presented::Key(key, KeyHeader::XApiKey)
            }
            (Some(_), Some(_)) => Presented::Conflict,
            (Some(key), None) => Presented::Key(key, KeyHeader::XApiKey),
            (None, Some(token)) => Presented::Key(token, KeyHeader::Bearer),
            (None, None) if authorization.is_some() => Presented::Missing,
            (None, None) => {
                let Some(first) = self.identity_source.as_ref().and_then(|s| s.first()) else {
                    return Presented::Missing;
                };
                if first.len() > MAX_KEY_BYTES {
                    return Presented::TooLong;
                }
                if accepted.x_api_key {
                    Presented::Key(first, KeyHeader::XApiKey)
                } else {
                    match bearer_token(first) {
                        Some(token) => Presented::Key(token, KeyHeader::Bearer),
                        None => Presented::Missing,
                    }
                }
            }
        }
    }

    pub fn request_id(&self) -> &str {
        self.request_context
            .as_ref()
            .and_then(|c| c.request_id.as_deref())
            .unwrap_or("-")
    }

    pub fn route(&self) -> &str {
        self.route_key.as_deref().unwrap_or("-")
    }
}

/// `{"isAuthorized": bool, "context": {...}}`: the simple response format of HTTP API authorizers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleResponse {
    pub is_authorized: bool,
    /// Passed to the integration as `$context.authorizer.*`; never holds the key.
    pub context: BTreeMap<String, String>,
}

impl SimpleResponse {
    pub fn allow(context: BTreeMap<String, String>) -> Self {
        Self {
            is_authorized: true,
            context,
        }
    }

    pub fn deny() -> Self {
        Self {
            is_authorized: false,
            context: BTreeMap::new(),
        }
    }
}
