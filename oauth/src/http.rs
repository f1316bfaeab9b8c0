//! The API Gateway HTTP API (payload format 2.0) proxy event and response, as far as the
//! authorization server needs them.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

/// Form and JSON bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// One request. Deliberately not `Debug`: the body may hold the API key.
#[derive(Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub source_ip: String,
    /// `requestContext.domainName`.
    pub domain_name: Option<String>,
}

impl Request {
    pub fn from_event(event: &Value) -> Self {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let ctx = &event["requestContext"];
        let headers = event["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), s(v)))
                    .collect()
            })
            .unwrap_or_default();
        let raw = s(&event["body"]);
        let body = if event["isBase64Encoded"].as_bool() == Some(true) {
            STANDARD.decode(raw.as_bytes()).unwrap_or_default()
        } else {
            raw.into_bytes()
        };
        Self {
            method: s(&ctx["http"]["method"]).to_ascii_uppercase(),
            path: s(&event["rawPath"]),
            query: s(&event["rawQueryString"]),
            headers,
            body,
            source_ip: s(&ctx["http"]["sourceIp"]),
            domain_name: ctx["domainName"].as_str().map(str::to_string),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Query parameters; a repeated one keeps every value.
    pub fn query_params(&self) -> Params {
        Params::parse(self.query.as_bytes())
    }

    /// `application/x-www-form-urlencoded` body parameters.
    pub fn form(&self) -> Params {
        Params::parse(&self.body)
    }
}

/// Decoded `name=value` pairs.
#[derive(Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(bytes: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `name` if it is there exactly once (RFC 6749 3.1: parameters must not repeat).
    pub fn one(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(v), None) => Ok(Some(v.as_str()).filter(|v| !v.is_empty())),
            (Some(_), Some(_)) => Err(Repeated(name.to_string())),
        }
    }
}

/// A parameter given twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: String) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body,
        }
    }

    /// JSON, never cached (RFC 6749 5.1 for token responses; harmless elsewhere).
    pub fn json(status: u16, body: &Value) -> Self {
        Self::new(status, "application/json", body.to_string())
            .with("cache-control", "no-store")
            .with("pragma", "no-cache")
    }

    /// An OAuth error response (RFC 6749 5.2).
    pub fn oauth_error(status: u16, error: &str, description: &str) -> Self {
        Self::json(
            status,
            &json!({ "error": error, "error_description": description }),
        )
    }

    pub fn redirect(location: &str) -> Self {
        Self::new(302, "text/plain; charset=utf-8", String::new())
            .with("location", location)
            .with("cache-control", "no-store")
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The Lambda proxy response (payload format 2.0).
    pub fn to_event(&self) -> Value {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "statusCode": self.status,
            "headers": headers,
            "body": self.body,
            "isBase64Encoded": false,
        })
    }
}
