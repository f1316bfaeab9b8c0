//! What only the Lambda mode needs.

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
