//! The JSON API Gateway HTTP APIs exchange with Lambda, payload format 2.0: the authorizer's
//! REQUEST event and simple response, and the AWS_PROXY integration event and response mapping,
//! field for field as AWS documents them.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::clock;

/// What API Gateway knows about one incoming request.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    pub method: String,
    pub path: String,
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
    pub source_ip: String,
    pub local_port: u16,
    pub request_id: String,
    pub trace_id: String,
    pub time_epoch_ms: u64,
}

/// The API this gateway pretends to be.
#[derive(Debug, Clone)]
pub struct ApiIdentity {
    pub account_id: String,
    pub api_id: String,
    pub region: String,
    pub stage: String,
}

impl ApiIdentity {
    pub fn route_arn(&self, method: &str, path: &str) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
            self.region, self.account_id, self.api_id, self.stage, method, path
        )
    }
}

/// Header values joined by ',' under lower-cased names, as payload 2.0 carries them; cookies
/// travel separately in `cookies`, never as a header.
fn headers_v2(req: &GatewayRequest) -> (Map<String, Value>, Vec<String>) {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in &req.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).to_string();
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from),
            );
            continue;
        }
        headers
            .entry(name.as_str().to_string())
            .or_default()
            .push(value);
    }
    // API Gateway adds these on the way to the integration.
    let forwarded = [
        ("x-forwarded-for", req.source_ip.clone()),
        ("x-forwarded-port", req.local_port.to_string()),
        ("x-forwarded-proto", "http".to_string()),
        ("x-amzn-trace-id", trace_root(&req.trace_id)),
    ];
    for (name, value) in forwarded {
        headers
            .entry(name.to_string())
            .or_insert_with(|| vec![value]);
    }
    let map = headers
        .into_iter()
        .map(|(k, v)| (k, Value::String(v.join(","))))
        .collect();
    (map, cookies)
}

fn trace_root(trace_id: &str) -> String {
    trace_id.split(';').next().unwrap_or(trace_id).to_string()
}

/// Repeated parameters are comma-joined, as in payload 2.0.
fn query_parameters(raw: &str) -> Option<Map<String, Value>> {
    if raw.is_empty() {
        return None;
    }
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        params
            .entry(k.into_owned())
            .or_default()
            .push(v.into_owned());
    }
    Some(
        params
            .into_iter()
            .map(|(k, v)| (k, Value::String(v.join(","))))
            .collect(),
    )
}

/// API Gateway passes a body as text when its content type is textual and it is valid UTF-8,
/// and base64-encodes anything else.
fn body_v2(req: &GatewayRequest) -> Option<(String, bool)> {
    if req.body.is_empty() {
        return None;
    }
    let content_type = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let textual = content_type.starts_with("text/")
        || [
            "json",
            "xml",
            "javascript",
            "x-www-form-urlencoded",
            "graphql",
            "yaml",
        ]
        .iter()
        .any(|t| content_type.contains(t));
    match std::str::from_utf8(&req.body) {
        Ok(text) if textual => Some((text.to_string(), false)),
        _ => Some((
            base64::engine::general_purpose::STANDARD.encode(&req.body),
            true,
        )),
    }
}

/// `example.com:8080` → `example.com`, `[::1]:8080` → `[::1]`.
fn host_without_port(host: &str) -> String {
    match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => host[..i].to_string(),
        _ => host.to_string(),
    }
}

fn request_context(req: &GatewayRequest, api: &ApiIdentity, route_key: &str) -> Map<String, Value> {
    let domain_name = req
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(host_without_port)
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let domain_prefix = domain_name
        .split('.')
        .next()
        .unwrap_or(&domain_name)
        .to_string();
    let user_agent = req
        .headers
        .get("user-agent")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
        .unwrap_or_default();
    let mut ctx = Map::new();
    ctx.insert("accountId".into(), json!(api.account_id));
    ctx.insert("apiId".into(), json!(api.api_id));
    ctx.insert("domainName".into(), json!(domain_name));
    ctx.insert("domainPrefix".into(), json!(domain_prefix));
    ctx.insert(
        "http".into(),
        json!({
            "method": req.method,
            "path": req.path,
            "protocol": "HTTP/1.1",
            "sourceIp": req.source_ip,
            "userAgent": user_agent,
        }),
    );
    ctx.insert("requestId".into(), json!(req.request_id));
    ctx.insert("routeKey".into(), json!(route_key));
    ctx.insert("stage".into(), json!(api.stage));
    ctx.insert("time".into(), json!(clock::clf_time(req.time_epoch_ms)));
    ctx.insert("timeEpoch".into(), json!(req.time_epoch_ms));
    ctx
}

/// Fields both events share, in AWS's order.
fn common(req: &GatewayRequest, route_key: &str) -> Map<String, Value> {
    let (headers, cookies) = headers_v2(req);
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!(route_key));
    event.insert("rawPath".into(), json!(req.path));
    event.insert("rawQueryString".into(), json!(req.raw_query));
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    }
    event.insert("headers".into(), Value::Object(headers));
    if let Some(q) = query_parameters(&req.raw_query) {
        event.insert("queryStringParameters".into(), Value::Object(q));
    }
    event
}

/// The REQUEST authorizer event, payload format 2.0. `identity_source` holds the values of the
/// authorizer's identity sources; with none configured it is an empty list.
pub fn authorizer_event(
    req: &GatewayRequest,
    api: &ApiIdentity,
    route_key: &str,
    identity_source: &[String],
) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("type".into(), json!("REQUEST"));
    event.insert(
        "routeArn".into(),
        json!(api.route_arn(&req.method, &req.path)),
    );
    event.insert("identitySource".into(), json!(identity_source));
    event.extend(common(req, route_key));
    event.insert(
        "requestContext".into(),
        Value::Object(request_context(req, api, route_key)),
    );
    Value::Object(event)
}

/// The AWS_PROXY integration event, payload format 2.0; `authorizer_context` becomes
/// `requestContext.authorizer.lambda`.
pub fn integration_event(
    req: &GatewayRequest,
    api: &ApiIdentity,
    route_key: &str,
    authorizer_context: Option<&Value>,
) -> Value {
    let mut event = common(req, route_key);
    let mut ctx = request_context(req, api, route_key);
    if let Some(lambda) = authorizer_context {
        ctx.insert("authorizer".into(), json!({ "lambda": lambda }));
    }
    event.insert("requestContext".into(), Value::Object(ctx));
    if let Some((body, encoded)) = body_v2(req) {
        event.insert("body".into(), json!(body));
        event.insert("isBase64Encoded".into(), json!(encoded));
    } else {
        event.insert("isBase64Encoded".into(), json!(false));
    }
    Value::Object(event)
}

/// The authorizer's decision, from a simple response `{"isAuthorized": bool, "context": {..}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthDecision {
    pub authorized: bool,
    pub context: Option<Value>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct BadOutput(pub String);

pub fn authorizer_decision(output: &[u8]) -> Result<AuthDecision, BadOutput> {
    let value: Value = serde_json::from_slice(output)
        .map_err(|e| BadOutput(format!("authorizer output is not JSON: {e}")))?;
    let authorized = value
        .get("isAuthorized")
        .and_then(Value::as_bool)
        .ok_or_else(|| BadOutput("authorizer output has no boolean isAuthorized".into()))?;
    let context = match value.get("context") {
        None | Some(Value::Null) => None,
        Some(c @ Value::Object(_)) => Some(c.clone()),
        Some(_) => return Err(BadOutput("authorizer context is not an object".into())),
    };
    Ok(AuthDecision {
        authorized,
        context,
    })
}

/// An HTTP response built from a function's output.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
}

/// Headers that describe the connection, not the payload: the gateway sets its own.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
];

/// What API Gateway renames an integration response's `WWW-Authenticate` to.
pub const REMAPPED_WWW_AUTHENTICATE: &str = "x-amzn-remapped-www-authenticate";

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The payload 2.0 response mapping: an object with `statusCode` is a response description;
/// any other valid JSON is the body of a 200 `application/json` response.
pub fn map_response(output: &[u8]) -> Result<MappedResponse, BadOutput> {
    let value: Value = serde_json::from_slice(output)
        .map_err(|e| BadOutput(format!("function output is not JSON: {e}")))?;
    let Some(status) = value.get("statusCode").filter(|_| value.is_object()) else {
        return Ok(MappedResponse {
            status: StatusCode::OK,
            headers: vec![(
                HeaderName::from_static("content-type"),
                HeaderValue::from_static("application/json"),
            )],
            body: trim_ascii(output).to_vec(),
        });
    };
    let status = status
        .as_u64()
        .or_else(|| status.as_str().and_then(|s| s.parse().ok()))
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .filter(|s| (100..=599).contains(&s.as_u16()))
        .ok_or_else(|| BadOutput(format!("invalid statusCode {status}")))?;

    let mut headers = Vec::new();
    let mut push = |name: &str, value: String| -> Result<(), BadOutput> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| BadOutput(format!("invalid header name {name:?}")))?;
        if HOP_BY_HOP.contains(&name.as_str()) {
            return Ok(());
        }
        // API Gateway hands an integration's WWW-Authenticate to the client under another name
        // (docs/oauth.md, "WWW-Authenticate behind API Gateway"): clients see the 401 only.
        let name = if name == axum::http::header::WWW_AUTHENTICATE {
            HeaderName::from_static(REMAPPED_WWW_AUTHENTICATE)
        } else {
            name
        };
        let value = HeaderValue::from_str(&value)
            .map_err(|_| BadOutput(format!("invalid value for header {name}")))?;
        headers.push((name, value));
        Ok(())
    };
    let mut single_names = Vec::new();
    if let Some(h) = value.get("headers").filter(|h| !h.is_null()) {
        let h = h
            .as_object()
            .ok_or_else(|| BadOutput("headers is not an object".into()))?;
        for (name, v) in h {
            let v = scalar_string(v)
                .ok_or_else(|| BadOutput(format!("header {name} is not a string")))?;
            single_names.push(name.to_ascii_lowercase());
            push(name, v)?;
        }
    }
    if let Some(h) = value.get("multiValueHeaders").filter(|h| !h.is_null()) {
        let h = h
            .as_object()
            .ok_or_else(|| BadOutput("multiValueHeaders is not an object".into()))?;
        for (name, values) in h {
            // A name in `headers` wins, as in API Gateway's merge.
            if single_names.contains(&name.to_ascii_lowercase()) {
                continue;
            }
            let values = values
                .as_array()
                .ok_or_else(|| BadOutput(format!("multiValueHeaders.{name} is not a list")))?;
            for v in values {
                let v = scalar_string(v)
                    .ok_or_else(|| BadOutput(format!("header {name} is not a string")))?;
                push(name, v)?;
            }
        }
    }
    if let Some(c) = value.get("cookies").filter(|c| !c.is_null()) {
        let c = c
            .as_array()
            .ok_or_else(|| BadOutput("cookies is not a list".into()))?;
        for cookie in c {
            let cookie = cookie
                .as_str()
                .ok_or_else(|| BadOutput("a cookie is not a string".into()))?;
            push("set-cookie", cookie.to_string())?;
        }
    }
    let encoded = value
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let body = match value.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if encoded => base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| BadOutput("body is not valid base64".into()))?,
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    Ok(MappedResponse {
        status,
        headers,
        body,
    })
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &[u8], content_type: Option<&str>) -> GatewayRequest {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        headers.insert("user-agent", HeaderValue::from_static("agent/1"));
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        headers.insert("x-api-key", HeaderValue::from_static("k"));
        headers.insert("cookie", HeaderValue::from_static("c1=1; c2=2"));
        if let Some(ct) = content_type {
            headers.insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        GatewayRequest {
            method: "POST".into(),
            path: "/mcp".into(),
            raw_query: "p=1&p=2&q=a%20b".into(),
            headers,
            body: bytes::Bytes::copy_from_slice(body),
            source_ip: "127.0.0.1".into(),
            local_port: 8080,
            request_id: "abc=".into(),
            trace_id: "Root=1-5e60d79e-000000000000000000000000;Parent=1;Sampled=0".into(),
            time_epoch_ms: 1_583_348_638_390,
        }
    }

    fn api() -> ApiIdentity {
        ApiIdentity {
            account_id: "000000000000".into(),
            api_id: "devapi".into(),
            region: "us-east-1".into(),
            stage: "$default".into(),
        }
    }

    #[test]
    fn integration_event_matches_the_documented_shape() {
        let ctx = json!({"keyVersion": "current"});
        let e = integration_event(
            &request(b"{\"a\":1}", Some("application/json")),
            &api(),
            "POST /mcp",
            Some(&ctx),
        );
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "POST /mcp");
        assert_eq!(e["rawPath"], "/mcp");
        assert_eq!(e["rawQueryString"], "p=1&p=2&q=a%20b");
        assert_eq!(e["cookies"], json!(["c1=1", "c2=2"]));
        assert_eq!(e["headers"]["x-multi"], "a,b");
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["headers"]["x-forwarded-for"], "127.0.0.1");
        assert_eq!(e["queryStringParameters"], json!({"p": "1,2", "q": "a b"}));
        let rc = &e["requestContext"];
        assert_eq!(rc["accountId"], "000000000000");
        assert_eq!(rc["apiId"], "devapi");
        assert_eq!(rc["domainName"], "127.0.0.1");
        assert_eq!(rc["http"]["method"], "POST");
        assert_eq!(rc["http"]["path"], "/mcp");
        assert_eq!(rc["http"]["protocol"], "HTTP/1.1");
        assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(rc["http"]["userAgent"], "agent/1");
        assert_eq!(rc["requestId"], "abc=");
        assert_eq!(rc["routeKey"], "POST /mcp");
        assert_eq!(rc["stage"], "$default");
        assert_eq!(rc["time"], "04/Mar/2020:19:03:58 +0000");
        assert_eq!(rc["timeEpoch"], 1_583_348_638_390u64);
        assert_eq!(rc["authorizer"]["lambda"], ctx);
        assert_eq!(e["body"], "{\"a\":1}");
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn host_port_is_stripped_for_domain_name() {
        assert_eq!(host_without_port("a.b:80"), "a.b");
        assert_eq!(host_without_port("[::1]:8080"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
        assert_eq!(host_without_port("localhost"), "localhost");
    }

    #[test]
    fn binary_body_is_base64_and_empty_body_is_absent() {
        let e = integration_event(
            &request(&[0xff, 0x00], Some("application/octet-stream")),
            &api(),
            "POST /mcp",
            None,
        );
        assert_eq!(e["body"], "/wA=");
        assert_eq!(e["isBase64Encoded"], true);
        assert!(e["requestContext"].get("authorizer").is_none());
        let e = integration_event(&request(b"", None), &api(), "POST /mcp", None);
        assert!(e.get("body").is_none());
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn www_authenticate_is_remapped_as_api_gateway_does() {
        let r = map_response(
            br#"{"statusCode":401,"headers":{"WWW-Authenticate":"Bearer error=\"invalid_token\"","content-type":"application/json"},"body":"{}"}"#,
        )
        .unwrap();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert!(!names.contains(&"www-authenticate"), "{names:?}");
        let remapped = r
            .headers
            .iter()
            .find(|(n, _)| n == REMAPPED_WWW_AUTHENTICATE)
            .map(|(_, v)| v.to_str().unwrap());
        assert_eq!(remapped, Some(r#"Bearer error="invalid_token""#));
    }

    #[test]
    fn authorizer_event_is_request_type_with_identity_source() {
        let e = authorizer_event(
            &request(b"x", None),
            &api(),
            "POST /mcp",
            &["k".to_string()],
        );
        assert_eq!(e["type"], "REQUEST");
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["identitySource"], json!(["k"]));
        assert_eq!(
            e["routeArn"],
            "arn:aws:execute-api:us-east-1:000000000000:devapi/$default/POST/mcp"
        );
        assert_eq!(e["headers"]["x-api-key"], "k");
        assert!(e.get("body").is_none());
    }

    #[test]
    fn decision_requires_boolean() {
        assert_eq!(
            authorizer_decision(br#"{"isAuthorized":true,"context":{"a":1}}"#).unwrap(),
            AuthDecision {
                authorized: true,
                context: Some(json!({"a":1}))
            }
        );
        assert!(
            !authorizer_decision(br#"{"isAuthorized":false}"#)
                .unwrap()
                .authorized
        );
        assert!(authorizer_decision(br#"{"isAuthorized":"yes"}"#).is_err());
        assert!(authorizer_decision(b"nope").is_err());
    }

    #[test]
    fn response_object_is_mapped() {
        let r = map_response(
            br#"{"statusCode":201,"headers":{"content-type":"text/plain","x-a":"1"},
                "multiValueHeaders":{"x-b":["1","2"],"x-a":["ignored"]},
                "cookies":["s=1; Path=/"],"body":"aGk=","isBase64Encoded":true}"#,
        )
        .unwrap();
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.body, b"hi");
        let h: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        assert!(h.contains(&("x-b".into(), "2".into())));
        assert!(h.contains(&("set-cookie".into(), "s=1; Path=/".into())));
        assert_eq!(h.iter().filter(|(k, _)| k == "x-a").count(), 1);
    }

    #[test]
    fn bare_json_becomes_a_200_json_body() {
        let r = map_response(b" {\"hello\":\"world\"} ").unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, b"{\"hello\":\"world\"}");
        assert_eq!(r.headers[0].1, "application/json");
        assert_eq!(map_response(b"42").unwrap().body, b"42");
    }

    #[test]
    fn invalid_output_is_an_error() {
        assert!(map_response(b"not json").is_err());
        assert!(map_response(br#"{"statusCode":"abc"}"#).is_err());
        assert!(map_response(br#"{"statusCode":700}"#).is_err());
        assert!(map_response(br#"{"statusCode":200,"headers":[1]}"#).is_err());
    }
}
