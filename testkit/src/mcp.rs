//! The official Rust MCP client (rmcp) used as an MCP host uses it, for the tests of the server
//! on its own and behind the dev stack.

use std::collections::HashMap;

use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

pub type Client = RunningService<RoleClient, ClientConfig>;

/// Streamable HTTP to `url`, initialized; `api_key` goes in the `x-api-key` header.
pub async fn connect(url: &str, api_key: Option<&str>) -> Client {
    try_connect(url, api_key)
        .await
        .unwrap_or_else(|e| panic!("initialize fails: {e}"))
}

/// [`connect`], with the initialize failure as text (a refused key, for instance).
pub async fn try_connect(url: &str, api_key: Option<&str>) -> Result<Client, String> {
    let mut headers = HashMap::new();
    if let Some(key) = api_key {
        headers.insert(
            http::HeaderName::from_static("x-api-key"),
            http::HeaderValue::from_str(key).expect("an API key is a header value"),
        );
    }
    let transport = StreamableHttpClientTransport::with_client(
        reqwest::Client::new(),
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).custom_headers(headers),
    );
    ClientConfig::default()
        .serve(transport)
        .await
        .map_err(|e| e.to_string())
}

/// `tools/call NAME ARGS`; panics only when the call itself fails (a tool error is a result).
pub async fn call(client: &Client, name: &'static str, args: Value) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name);
    params.arguments = args.as_object().cloned();
    client.call_tool(params).await.expect("tools/call answers")
}
