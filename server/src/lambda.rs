//! What only the Lambda mode needs.

/// The service the Lambda runtime calls: the stage prefix removed, then `router` with the
/// response-size guard.
pub fn app(
    router: axum::Router,
) -> tower::util::MapRequest<axum::Router, fn(lambda_http::Request) -> lambda_http::Request> {
    tower::ServiceBuilder::new()
        .map_request(strip_stage_prefix as fn(lambda_http::Request) -> lambda_http::Request)
        .service(router.layer(axum::middleware::from_fn(limit_response_size)))
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
