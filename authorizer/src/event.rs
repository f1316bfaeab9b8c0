//! The API Gateway HTTP API (v2) Lambda authorizer event, payload format 2.0, and the "simple"
//! response API Gateway accepts when the authorizer has `EnableSimpleResponses`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// The header clients send the key in. API Gateway lower-cases header names in 2.0 events.
pub const API_KEY_HEADER: &str = "x-api-key";

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
    /// The values of the authorizer's identity sources, in order (`$request.header.x-api-key`).
    pub identity_source: Option<Vec<String>>,
    /// Lower-cased header names; repeated headers arrive comma-joined.
    pub headers: Option<HashMap<String, String>>,
    pub request_context: Option<RequestContext>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub http: Option<HttpDetails>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpDetails {
    pub method: Option<String>,
    pub path: Option<String>,
    pub source_ip: Option<String>,
}

impl AuthorizerEvent {
    /// The key the caller presented: the `x-api-key` header, else the first identity source.
    /// Header names are matched case-insensitively so a hand-written or test event with
    /// `X-Api-Key` behaves like the lower-cased one API Gateway sends.
    pub fn api_key(&self) -> Option<&str> {
        if let Some(headers) = &self.headers {
            let exact = headers.get(API_KEY_HEADER);
            let any_case = || {
                headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(API_KEY_HEADER))
                    .map(|(_, value)| value)
            };
            if let Some(value) = exact.or_else(any_case) {
                return Some(value);
            }
        }
        self.identity_source.as_ref()?.first().map(String::as_str)
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
