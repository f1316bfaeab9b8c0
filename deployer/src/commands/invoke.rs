//! `mcpctl invoke`: one MCP request through the rmcp client over Streamable HTTP, to the
//! deployed stack (URL from the API, key from the secret), the local dev stack (`--local`), or
//! any MCP server (`--url`, `--api-key`).

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context, Result};
use http::{HeaderName, HeaderValue};
use mcpctl_stack::auth::{KeyHeader, API_KEY_HEADER};
use rmcp::model::CallToolRequestParams;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::Value;

use crate::aws::Aws;
use crate::resources::Ctx;
use crate::{endpoint, local, Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// `initialize`, `tools/list` or `tools/call`.
    pub method: String,
    /// For tools/call: the tool name.
    pub tool: Option<String>,
    /// For tools/call: the arguments as a JSON object.
    pub arguments: Option<String>,
    /// Call this MCP endpoint instead of the deployed stack.
    #[arg(long)]
    pub url: Option<String>,
    /// Send this key (default: the stack's current key), as `x-api-key` unless --bearer.
    #[arg(long, env = "MCPCTL_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Send the key as `Authorization: Bearer KEY` instead of `x-api-key: KEY` (the default
    /// when the stack's `[authorizer] accept` has only `bearer`).
    #[arg(long)]
    pub bearer: bool,
    /// Call the local `mcpctl dev` stack.
    #[arg(long, conflicts_with = "url")]
    pub local: bool,
}

enum Request {
    Initialize,
    ListTools,
    CallTool(CallToolRequestParams),
}

fn parse_request(args: &Args) -> Result<Request> {
    match args.method.as_str() {
        "initialize" => Ok(Request::Initialize),
        "tools/list" => Ok(Request::ListTools),
        "tools/call" => {
            let name = args.tool.clone().context(
                "tools/call needs a tool name: mcpctl invoke tools/call NAME '{\"arg\": 1}'",
            )?;
            let mut params = CallToolRequestParams::new(name);
            if let Some(raw) = &args.arguments {
                let value: Value = serde_json::from_str(raw)
                    .map_err(|e| anyhow!("the tool arguments are not valid JSON ({e}): pass an object such as '{{\"city\": \"Kyiv\"}}'"))?;
                let Value::Object(map) = value else {
                    bail!(
                        "the tool arguments must be a JSON object such as '{{\"city\": \"Kyiv\"}}'"
                    );
                };
                params = params.with_arguments(map);
            }
            Ok(Request::CallTool(params))
        }
        other => bail!("unknown method {other:?}: use initialize, tools/list or tools/call"),
    }
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let request = parse_request(args)?;
    let (url, key) = target(cli, args).await?;
    let bearer = args.bearer
        || (args.url.is_none()
            && super::load_config(cli).is_ok_and(|c| {
                !mcpctl_stack::auth::accepted(&c)
                    .headers()
                    .contains(&KeyHeader::XApiKey)
            }));
    let mut headers = HashMap::new();
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.clone());
    if let Some(k) = key {
        let value = HeaderValue::from_str(&k)
            .map_err(|_| anyhow!("the API key is not a valid header value"))?;
        if bearer {
            // rmcp sends it as `Authorization: Bearer KEY`.
            config = config.auth_header(k);
        } else {
            headers.insert(HeaderName::from_static(API_KEY_HEADER), value);
        }
    }
    let transport = StreamableHttpClientTransport::from_config(config.custom_headers(headers));
    let client = ().serve(transport).await.map_err(|e| anyhow!(explain(&url, &e.to_string())))?;
    let result: Result<(Value, bool)> = async {
        match request {
            Request::Initialize => {
                let info = client
                    .peer_info()
                    .context("the server sent no initialize result")?;
                Ok((serde_json::to_value(&*info)?, false))
            }
            Request::ListTools => {
                let tools = client
                    .list_all_tools()
                    .await
                    .map_err(|e| anyhow!("tools/list failed: {e}"))?;
                Ok((serde_json::json!({ "tools": tools }), false))
            }
            Request::CallTool(params) => {
                let name = params.name.to_string();
                let r = client
                    .call_tool(params)
                    .await
                    .map_err(|e| anyhow!("tools/call {name} failed: {e}"))?;
                let is_error = r.is_error == Some(true);
                Ok((serde_json::to_value(&r)?, is_error))
            }
        }
    }
    .await;
    let _ = client.cancel().await;
    let (value, tool_error) = result?;
    match cli.output {
        Output::Json => super::print_json(&value)?,
        Output::Text => print!("{}", pretty(&args.method, &value)),
    }
    if tool_error {
        bail!("the tool reported an error");
    }
    Ok(())
}

/// One readable line for a failed session start; rmcp's message names its transport types.
fn explain(url: &str, error: &str) -> String {
    let status = error
        .split("HTTP ")
        .nth(1)
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(401) => format!("{url} wants an API key (HTTP 401): pass --api-key or use the stack's key"),
        Some(403) => format!(
            "{url} refused the API key, or got none (HTTP 403): a finalized rotation may have dropped it; `mcpctl deploy --show-key` prints the current one"
        ),
        Some(404) => format!("no MCP endpoint at {url} (HTTP 404): check the URL and the stage"),
        Some(code) => format!("{url} answered HTTP {code} to initialize"),
        None => {
            // Keep the cause, drop rmcp's type names.
            let cause = error.rsplit("error: ").next().unwrap_or(error).trim();
            format!("cannot initialize an MCP session with {url}: {cause}")
        }
    }
}

/// The endpoint and the key to send.
async fn target(cli: &Cli, args: &Args) -> Result<(String, Option<String>)> {
    if let Some(url) = &args.url {
        return Ok((url.clone(), args.api_key.clone()));
    }
    if args.local {
        let state = local::state(cli, None);
        let url = state.endpoint()?;
        let key = match &args.api_key {
            Some(k) => k.clone(),
            None => state.keys_or_create()?.current,
        };
        return Ok((url, Some(key)));
    }
    let config = super::load_config(cli)?;
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let api = endpoint::api_endpoint(&ctx).await?;
    let key = match &args.api_key {
        Some(k) => k.clone(),
        None => endpoint::current_key(&ctx).await?,
    };
    Ok((super::endpoint_url(&api, &config.api.stage), Some(key)))
}

/// Human-readable rendering: server identity, a tool table, or the tool's text content.
fn pretty(method: &str, v: &Value) -> String {
    let mut out = String::new();
    match method {
        "initialize" => {
            let server = &v["serverInfo"];
            out.push_str(&format!(
                "server:   {} {}\nprotocol: {}\n",
                server["name"].as_str().unwrap_or("?"),
                server["version"].as_str().unwrap_or(""),
                v["protocolVersion"].as_str().unwrap_or("?")
            ));
            if let Some(caps) = v["capabilities"].as_object() {
                let names: Vec<&str> = caps.keys().map(String::as_str).collect();
                out.push_str(&format!("features: {}\n", names.join(", ")));
            }
            if let Some(i) = v["instructions"].as_str() {
                out.push_str(&format!("\n{i}\n"));
            }
        }
        "tools/list" => {
            for tool in v["tools"].as_array().into_iter().flatten() {
                let params: Vec<String> = tool["inputSchema"]["properties"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{}({})\n    {}\n",
                    tool["name"].as_str().unwrap_or("?"),
                    params.join(", "),
                    tool["description"].as_str().unwrap_or("")
                ));
            }
        }
        _ => {
            for block in v["content"].as_array().into_iter().flatten() {
                match block["text"].as_str() {
                    Some(text) => out.push_str(text),
                    None => out.push_str(&block.to_string()),
                }
                out.push('\n');
            }
            if v["content"].as_array().is_none_or(|c| c.is_empty()) {
                if let Some(s) = v.get("structuredContent") {
                    out.push_str(&format!("{s}\n"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(method: &str, tool: Option<&str>, arguments: Option<&str>) -> Args {
        Args {
            method: method.into(),
            tool: tool.map(str::to_string),
            arguments: arguments.map(str::to_string),
            url: None,
            api_key: None,
            bearer: false,
            local: false,
        }
    }

    #[test]
    fn requests_parse_and_bad_input_is_one_clear_line() {
        assert!(matches!(
            parse_request(&args("tools/list", None, None)),
            Ok(Request::ListTools)
        ));
        assert!(matches!(
            parse_request(&args("tools/call", Some("calculate"), Some("{\"a\":1}"))),
            Ok(Request::CallTool(_))
        ));
        let e = parse_request(&args("tools/call", Some("x"), Some("[1]")))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("JSON object"), "{e}");
        assert!(parse_request(&args("tools/call", None, None)).is_err());
        assert!(parse_request(&args("ping", None, None)).is_err());
    }

    #[test]
    fn session_errors_are_explained_in_one_line() {
        let rmcp = "Send message error Transport [rmcp::transport::worker::WorkerTransport<X>] error: unexpected server response: HTTP 403 Forbidden: {}, when send initialize request";
        let e = explain("https://h/mcp", rmcp);
        assert!(
            e.contains("refused the API key, or got none (HTTP 403)"),
            "{e}"
        );
        assert!(!e.contains("rmcp::"), "{e}");
        assert!(explain("u", "... HTTP 401 Unauthorized").contains("--api-key"));
        assert!(explain("u", "... HTTP 404 Not Found").contains("no MCP endpoint"));
        let e = explain(
            "u",
            "Transport [rmcp::X<Y>] error: error sending request: connection refused",
        );
        assert_eq!(
            e,
            "cannot initialize an MCP session with u: error sending request: connection refused"
        );
    }

    #[test]
    fn pretty_call_prints_text_content() {
        let v = serde_json::json!({"content": [{"type": "text", "text": "12"}]});
        assert_eq!(pretty("tools/call", &v), "12\n");
        let tools = serde_json::json!({"tools": [{"name": "calc", "description": "adds",
            "inputSchema": {"properties": {"a": {}, "b": {}}}}]});
        assert_eq!(pretty("tools/list", &tools), "calc(a, b)\n    adds\n");
    }
}
