//! What only the Lambda mode needs.

/// The service the Lambda runtime calls: the stage prefix removed, then `router` with the
/// response-size guard.
pub fn app(
    router: axum::Router,
) -> tower::util::MapRequest<axum::Router, fn(lambda_http::Request) -> lambda_http::Request> {
    tower::ServiceBuilder::new()
        .map_request(strip_stage_prefix as fn(lambda_http::Request) -> lambda_http::Request)
        .service(
            router
                .layer(axum::middleware::from_fn(limit_response_size))
                // Outermost: an invalid token is refused before anything else runs.
                .layer(axum::middleware::from_fn(refuse_invalid_token)),
        )
}

/// What the authorizer said about a request whose bearer token is invalid (`[auth] mode =
/// "oauth"`, docs/oauth.md): why, and where the protected resource metadata is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidToken {
    pub reason: String,
    pub resource_metadata: Option<String>,
}

/// The authorizer's verdict in `requestContext.authorizer.lambda`, if it marked the bearer token
/// invalid (`auth=invalid_token`). None in api-key mode, for a valid token, and in local mode
/// (no API Gateway, no authorizer, no request context).
pub fn invalid_token(extensions: &lambda_http::http::Extensions) -> Option<InvalidToken> {
    use lambda_http::request::RequestContext;
    use mcpctl_stack::oauth::{
        AUTH_CONTEXT, AUTH_INVALID_TOKEN, REASON_CONTEXT, RESOURCE_METADATA_CONTEXT,
    };
    let Some(RequestContext::ApiGatewayV2(ctx)) = extensions.get::<RequestContext>() else {
        return None;
    };
    let fields = &ctx.authorizer.as_ref()?.fields;
    let text = |key: &str| fields.get(key).and_then(|v| v.as_str()).map(str::to_string);
    if text(AUTH_CONTEXT).as_deref() != Some(AUTH_INVALID_TOKEN) {
        return None;
    }
    Some(InvalidToken {
        reason: text(REASON_CONTEXT).unwrap_or_else(|| "invalid access token".to_string()),
        resource_metadata: text(RESOURCE_METADATA_CONTEXT),
    })
}

/// Only what can go inside a quoted-string of `WWW-Authenticate` unchanged.
fn quotable(value: &str) -> String {
    value
        .chars()
        .filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\')
        .collect()
}

/// The 401 for an invalid or expired access token (RFC 6750 3.1, the MCP authorization spec):
/// `WWW-Authenticate: Bearer error="invalid_token", error_description, resource_metadata`. Behind
/// API Gateway the header reaches the client renamed `x-amzn-Remapped-WWW-Authenticate`; the 401
/// status is what makes a client refresh its token or authorize again, and the well-known
/// fallback finds the metadata.
pub fn invalid_token_response(invalid: &InvalidToken) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let description = format!("access token {}", quotable(&invalid.reason));
    let mut challenge =
        format!(r#"Bearer error="invalid_token", error_description="{description}""#);
    if let Some(url) = &invalid.resource_metadata {
        challenge.push_str(&format!(r#", resource_metadata="{}""#, quotable(url)));
    }
    let body = serde_json::json!({
        "error": "invalid_token",
        "error_description": description,
    });
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Refuses, before any MCP handling, a request the authorizer marked `auth=invalid_token`: no
/// tool, resource or prompt ever sees it.
pub async fn refuse_invalid_token(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some(invalid) = invalid_token(request.extensions()) {
        tracing::info!(reason = %invalid.reason, "401: invalid access token");
        return invalid_token_response(&invalid);
    }
    next.run(request).await
}

/// On a named API Gateway stage the raw path starts with `/{stage}`; routes are matched without
/// it, so the same `/mcp` route serves `$default` and named stages alike.
pub fn strip_stage_prefix(mut request: lambda_http::Request) -> lambda_http::Request {
    use lambda_http::request::RequestContext;
    let stage = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|s| s != "$default") else {
        return request;
    };
    let prefix = format!("/{stage}/");
    let uri = request.uri();
    if let Some(rest) = uri.path().strip_prefix(prefix.as_str()) {
        let path_and_query = match uri.query() {
            Some(q) => format!("/{rest}?{q}"),
            None => format!("/{rest}"),
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(new_uri) = lambda_http::http::Uri::from_parts(parts) {
                *request.uri_mut() = new_uri;
            }
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;

    fn request(path: &str, stage: Option<&str>) -> lambda_http::Request {
        let mut req = lambda_http::Request::default();
        *req.uri_mut() = path.parse().unwrap();
        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.stage = stage.map(String::from);
        req.extensions_mut()
            .insert(RequestContext::ApiGatewayV2(ctx));
        req
    }

    mod oauth {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use crate::prelude::*;
        use tower::ServiceExt;

        /// How often the probe tool ran.
        static RAN: AtomicUsize = AtomicUsize::new(0);

        #[derive(Clone)]
        struct Probe {
            tool_router: ToolRouter<Self>,
        }

        #[tool_router]
        impl Probe {
            #[tool(description = "Counts its calls.")]
            async fn probe(&self) -> String {
                RAN.fetch_add(1, Ordering::SeqCst);
                "ran".into()
            }
        }

        #[tool_handler(router = self.tool_router)]
        impl ServerHandler for Probe {}

        /// The payload-2.0 integration event API Gateway sends after the authorizer let an
        /// expired access token through as `auth=invalid_token`.
        const FIXTURE: &str = include_str!("../tests/fixtures/invalid-token.json");

        fn event(lambda_context: Option<serde_json::Value>) -> lambda_http::Request {
            let mut e: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
            match lambda_context {
                Some(c) => e["requestContext"]["authorizer"]["lambda"] = c,
                None => {
                    e["requestContext"]
                        .as_object_mut()
                        .unwrap()
                        .remove("authorizer");
                }
            }
            lambda_http::request::from_str(&e.to_string()).unwrap()
        }

        async fn call(request: lambda_http::Request) -> (u16, Option<String>, serde_json::Value) {
            let router = crate::router(
                Probe {
                    tool_router: Probe::tool_router(),
                },
                crate::HttpOptions::lambda(None),
            );
            let response = super::super::app(router).oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_string());
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, challenge, serde_json::from_slice(&body).unwrap())
        }

        /// The fixture as sent is refused with 401 before the tool runs; the same event with
        /// `auth=oauth`, or with api-key mode's context, or with no authorizer at all, reaches
        /// it (so the refusal is what kept it out).
        #[tokio::test]
        async fn invalid_token_is_401_and_never_reaches_a_tool() {
            let fixture = lambda_http::request::from_str(FIXTURE).unwrap();
            assert_eq!(
                super::super::invalid_token(fixture.extensions()),
                Some(super::super::InvalidToken {
                    reason: "expired".into(),
                    resource_metadata: Some(
                        "https://abcdef123.execute-api.us-east-1.amazonaws.com/.well-known/oauth-protected-resource/mcp".into()
                    ),
                })
            );
            let before = RAN.load(Ordering::SeqCst);
            let (status, challenge, body) = call(fixture).await;
            assert_eq!(status, 401);
            assert_eq!(
                challenge.as_deref(),
                Some(
                    r#"Bearer error="invalid_token", error_description="access token expired", resource_metadata="https://abcdef123.execute-api.us-east-1.amazonaws.com/.well-known/oauth-protected-resource/mcp""#
                )
            );
            assert_eq!(body["error"], "invalid_token");
            assert_eq!(RAN.load(Ordering::SeqCst), before, "the tool ran");

            // Without a metadata URL, and with a quote in the reason: still a well-formed 401.
            let (status, challenge, _) = call(event(Some(
                serde_json::json!({"auth": "invalid_token", "reason": "bad \"sig\""}),
            )))
            .await;
            assert_eq!(status, 401);
            assert_eq!(
                challenge.as_deref(),
                Some(r#"Bearer error="invalid_token", error_description="access token bad sig""#)
            );
            assert_eq!(RAN.load(Ordering::SeqCst), before, "the tool ran");

            for allowed in [
                Some(serde_json::json!({"auth": "oauth", "clientId": "c"})),
                Some(serde_json::json!({"keyStage": "AWSCURRENT"})),
                None,
            ] {
                let runs = RAN.load(Ordering::SeqCst);
                let (status, challenge, body) = call(event(allowed.clone())).await;
                assert_eq!(status, 200, "{allowed:?}: {body}");
                assert_eq!(challenge, None);
                assert_eq!(body["result"]["content"][0]["text"], "ran", "{allowed:?}");
                assert_eq!(RAN.load(Ordering::SeqCst), runs + 1, "{allowed:?}");
            }
        }
    }

    #[test]
    fn named_stage_prefix_is_removed() {
        let r = strip_stage_prefix(request("/prod/mcp?x=1", Some("prod")));
        assert_eq!(r.uri().path(), "/mcp");
        assert_eq!(r.uri().query(), Some("x=1"));
    }

    #[test]
    fn default_stage_and_other_paths_are_untouched() {
        assert_eq!(
            strip_stage_prefix(request("/mcp", Some("$default")))
                .uri()
                .path(),
            "/mcp"
        );
        assert_eq!(
            strip_stage_prefix(request("/mcp", None)).uri().path(),
            "/mcp"
        );
        assert_eq!(
            strip_stage_prefix(request("/other/mcp", Some("prod")))
                .uri()
                .path(),
            "/other/mcp"
        );
    }
}

/// Lambda refuses an invocation response over 6 MB, and API Gateway then answers the client
/// with a bare 500. The body travels JSON-escaped inside the response document, so it is measured
/// escaped, with room for the status and headers.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
const ENVELOPE_RESERVE: usize = 4 * 1024;

/// Length of `body` once written as a JSON string.
fn escaped_len(body: &[u8]) -> usize {
    body.iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
        + 2
}

/// Replaces a response Lambda could not return with a JSON-RPC error the client can read,
/// keeping the request id so the client matches it to its call.
pub async fn limit_response_size(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return axum::http::StatusCode::BAD_GATEWAY.into_response(),
    };
    if escaped_len(&bytes) + ENVELOPE_RESERVE <= MAX_RESPONSE_BYTES {
        return axum::response::Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let id = serde_json::from_slice::<IdOnly>(&bytes)
        .map(|m| m.id)
        .unwrap_or(serde_json::Value::Null);
    tracing::warn!(
        bytes = bytes.len(),
        "response over Lambda's 6 MB limit replaced by an error"
    );
    let error = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": -32603,
            "message": format!(
                "Response too large: {} bytes exceed AWS Lambda's 6 MB response limit; ask for less data",
                bytes.len()
            ),
        },
    });
    (
        axum::http::StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        error.to_string(),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct IdOnly {
    #[serde(default)]
    id: serde_json::Value,
}

#[cfg(test)]
mod size_tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    async fn call(size: usize) -> serde_json::Value {
        let app = axum::Router::new()
            .route(
                "/mcp",
                post(move || async move {
                    let text = "\"".repeat(size);
                    serde_json::json!({"jsonrpc": "2.0", "id": 7, "result": {"text": text}})
                        .to_string()
                }),
            )
            .layer(axum::middleware::from_fn(limit_response_size));
        let response = app
            .oneshot(
                axum::http::Request::post("/mcp")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn small_responses_pass_unchanged() {
        let v = call(1000).await;
        assert_eq!(v["result"]["text"].as_str().unwrap().len(), 1000);
    }

    #[tokio::test]
    async fn oversize_response_becomes_jsonrpc_error_with_same_id() {
        // 2 MB of quotes: 4 MB in the body, 8 MB once escaped into Lambda's response document.
        let v = call(2 * 1024 * 1024).await;
        assert_eq!(v["id"], 7);
        assert_eq!(v["error"]["code"], -32603);
        assert!(v["error"]["message"].as_str().unwrap().contains("6 MB"));
    }

    #[test]
    fn escaping_is_measured() {
        assert_eq!(escaped_len(b"ab"), 4);
        assert_eq!(escaped_len(b"\"\\"), 6);
        assert_eq!(escaped_len(&[0x01]), 8);
    }
}
