//! API Gateway's built-in CORS, as `[api.cors]` configures it on the deployed HTTP API: the
//! gateway answers preflight requests itself (no route, no authorizer) and sets
//! `access-control-allow-origin` on responses, ignoring CORS headers from the integration.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use mcpctl_stack::config::CorsConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_headers: Vec<String>,
    /// The route methods plus OPTIONS, what deploy configures.
    pub allow_methods: Vec<String>,
    pub max_age_s: u32,
}

impl Cors {
    pub fn from_config(c: &CorsConfig) -> Self {
        let mut allow_methods: Vec<String> = mcpctl_stack::ROUTES
            .iter()
            .map(|r| r.method.to_string())
            .collect();
        allow_methods.push("OPTIONS".into());
        Self {
            allow_origins: c.allow_origins.clone(),
            allow_headers: c.allow_headers.clone(),
            allow_methods,
            max_age_s: c.max_age_s,
        }
    }

    /// The `access-control-allow-origin` value for `origin`, if it is allowed.
    fn allow_origin(&self, origin: &str) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") {
            Some("*".into())
        } else {
            self.allow_origins
                .iter()
                .find(|o| o.eq_ignore_ascii_case(origin))
                .map(|_| origin.to_string())
        }
    }

    /// The gateway's own answer to a preflight request, or `None` when this is not one.
    pub fn preflight(&self, method: &Method, headers: &HeaderMap) -> Option<Response> {
        let origin = headers.get("origin")?.to_str().ok()?;
        if method != Method::OPTIONS || !headers.contains_key("access-control-request-method") {
            return None;
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let Some(allowed) = self.allow_origin(origin) else {
            return Some(response);
        };
        let allow_headers = if self.allow_headers.iter().any(|h| h == "*") {
            headers
                .get("access-control-request-headers")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        } else {
            self.allow_headers.join(",")
        };
        let h = response.headers_mut();
        for (name, value) in [
            ("access-control-allow-origin", allowed),
            ("access-control-allow-methods", self.allow_methods.join(",")),
            ("access-control-allow-headers", allow_headers),
            ("access-control-max-age", self.max_age_s.to_string()),
        ] {
            if value.is_empty() {
                continue;
            }
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(HeaderName::from_static(name), v);
            }
        }
        Some(response)
    }

    /// Replaces any CORS headers of the integration with the gateway's.
    pub fn decorate(&self, request: &HeaderMap, response: &mut Response) {
        let h = response.headers_mut();
        let theirs: Vec<HeaderName> = h
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for k in theirs {
            h.remove(k);
        }
        let origin = request.get("origin").and_then(|v| v.to_str().ok());
        if let Some(allowed) = origin.and_then(|o| self.allow_origin(o)) {
            if let Ok(v) = HeaderValue::from_str(&allowed) {
                h.insert("access-control-allow-origin", v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str]) -> Cors {
        Cors::from_config(&CorsConfig {
            allow_origins: origins.iter().map(|s| s.to_string()).collect(),
            allow_headers: vec!["content-type".into(), "x-api-key".into()],
            max_age_s: 600,
        })
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn preflight_from_an_allowed_origin_gets_the_rules() {
        let c = cors(&["https://app.example.com"]);
        let r = c
            .preflight(
                &Method::OPTIONS,
                &headers(&[
                    ("origin", "https://app.example.com"),
                    ("access-control-request-method", "POST"),
                ]),
            )
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
        assert_eq!(h["access-control-allow-methods"], "POST,GET,DELETE,OPTIONS");
        assert_eq!(h["access-control-allow-headers"], "content-type,x-api-key");
        assert_eq!(h["access-control-max-age"], "600");
    }

    #[test]
    fn other_origins_and_plain_options_are_not_granted() {
        let c = cors(&["https://app.example.com"]);
        let r = c
            .preflight(
                &Method::OPTIONS,
                &headers(&[
                    ("origin", "https://evil.example"),
                    ("access-control-request-method", "POST"),
                ]),
            )
            .unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none());
        assert!(c
            .preflight(
                &Method::OPTIONS,
                &headers(&[("origin", "https://app.example.com")])
            )
            .is_none());
        assert!(c.preflight(&Method::POST, &headers(&[])).is_none());
    }

    #[test]
    fn responses_carry_the_gateway_origin_only() {
        let c = cors(&["*"]);
        let mut r = StatusCode::OK.into_response();
        r.headers_mut().insert(
            "access-control-allow-origin",
            HeaderValue::from_static("https://x"),
        );
        c.decorate(&headers(&[("origin", "https://y")]), &mut r);
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
    }
}
