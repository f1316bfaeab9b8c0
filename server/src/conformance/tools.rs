//! The suite's fixture tools. Names, arguments and results follow the scenario descriptions of
//! `@modelcontextprotocol/conformance` (`conformance list --server`, and each scenario's
//! "Server Implementation Requirements").

// SEP-2577 deprecates sampling and roots in rmcp's types; the 2026-07-28 revision still has them.
#![allow(deprecated)]

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, ErrorData, JsonObject, ResourceContents, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{schemars, tool, tool_router, RoleServer};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{PNG_BASE64, WAV_BASE64};
use crate::tools::McpServer;
use mcpctl_server::input::{Input, InputKind};
use mcpctl_server::notify::{Log, Progress};

/// Every fixture tool.
pub(crate) fn tools() -> ToolRouter<McpServer> {
    McpServer::fixture_tools().with_route(json_schema_2020_12_tool())
}

fn text(text: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

/// What a tool that needs the client's input answers on a revision before 2026-07-28: a tool
/// error the model can read (see `mcpctl_server::input::legacy_refusal`).
fn needs_2026(what: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!(
        "{what} needs protocol version 2026-07-28 or later: this server is stateless, so it asks for input with input-required results, which earlier revisions do not have"
    ))])
}

fn name_form() -> Value {
    json!({
        "type": "object",
        "properties": { "name": { "type": "string" } },
        "required": ["name"],
    })
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PromptArgs {
    /// The prompt to send to the LLM.
    pub prompt: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct MessageArgs {
    /// The message to show the user.
    pub message: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct HeaderArgs {
    /// Region to route to; mirrored into the `Mcp-Param-Region` header (SEP-2243).
    #[schemars(extend("x-mcp-header" = "Region"))]
    pub region: String,
    /// Priority; mirrored into the `Mcp-Param-Priority` header.
    #[schemars(extend("x-mcp-header" = "Priority"))]
    pub priority: Option<i64>,
    /// Free text, not mirrored into a header.
    pub note: Option<String>,
}

#[tool_router(router = fixture_tools, vis = "pub(crate)")]
impl McpServer {
    #[tool(description = "Tests simple text content response")]
    pub async fn test_simple_text(&self) -> CallToolResult {
        text("This is a simple text response for testing.")
    }

    #[tool(description = "Tests image content response")]
    pub async fn test_image_content(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::image(PNG_BASE64, "image/png")])
    }

    #[tool(description = "Tests audio content response")]
    pub async fn test_audio_content(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::audio(WAV_BASE64, "audio/wav")])
    }

    #[tool(description = "Tests embedded resource content response")]
    pub async fn test_embedded_resource(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::resource(ResourceContents::text(
            "This is an embedded resource content.",
            "test://embedded-resource",
        ))])
    }

    #[tool(description = "Tests response with multiple content types (text, image, resource)")]
    pub async fn test_multiple_content_types(&self) -> CallToolResult {
        CallToolResult::success(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(PNG_BASE64, "image/png"),
            ContentBlock::resource(
                ResourceContents::text(
                    json!({ "test": "data", "value": 123 }).to_string(),
                    "test://mixed-content-resource",
                )
                .with_mime_type("application/json"),
            ),
        ])
    }

    #[tool(description = "Tests error response handling: always a tool error")]
    pub async fn test_error_handling(&self) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(
            "This tool intentionally returns an error for testing",
        )])
    }

    #[tool(description = "Tests tool that emits log messages during execution")]
    pub async fn test_tool_with_logging(
        &self,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        three_logs(&context).await;
        text("Tool with logging executed successfully")
    }

    #[tool(
        description = "Sends log messages only at or above the level the request asked for in _meta (2026-07-28)"
    )]
    pub async fn test_logging_tool(&self, context: RequestContext<RoleServer>) -> CallToolResult {
        three_logs(&context).await;
        text("Logging tool executed")
    }

    #[tool(description = "Tests tool that reports progress notifications")]
    pub async fn test_tool_with_progress(
        &self,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let progress = Progress::new(&context);
        for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            progress
                .report(
                    step,
                    Some(100.0),
                    Some(&format!("Completed step {step} of 100")),
                )
                .await;
        }
        text(format!(
            "Progress reported: {}",
            if progress.requested() {
                "yes"
            } else {
                "no token"
            }
        ))
    }

    #[tool(description = "Tests sampling: asks the client's model for a completion of `prompt`")]
    pub async fn test_sampling(
        &self,
        input: Input,
        Parameters(PromptArgs { prompt }): Parameters<PromptArgs>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !input.supports_input_required() {
            return Ok(needs_2026("Sampling").into());
        }
        match input.sampling("completion")? {
            Some(answer) => Ok(text(format!("LLM response: {}", sampled_text(&answer))).into()),
            None => Ok(input
                .ask()
                .sample("completion", &prompt, 100)
                .build()?
                .into()),
        }
    }

    #[tool(description = "Tests elicitation: asks the user for a username and email")]
    pub async fn test_elicitation(
        &self,
        input: Input,
        Parameters(MessageArgs { message }): Parameters<MessageArgs>,
    ) -> Result<CallToolResponse, ErrorData> {
        let schema = json!({
            "type": "object",
            "properties": {
                "username": { "type": "string", "description": "User's response" },
                "email": { "type": "string", "description": "User's email address" },
            },
            "required": ["username", "email"],
        });
        elicit_once(&input, "Elicitation", "response", &message, schema)
    }

    #[tool(description = "Tests elicitation with default values per SEP-1034")]
    pub async fn test_elicitation_sep1034_defaults(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "description": "User name", "default": "John Doe" },
                "age": { "type": "integer", "description": "User age", "default": 30 },
                "score": { "type": "number", "description": "User score", "default": 95.5 },
                "status": {
                    "type": "string",
                    "description": "User status",
                    "enum": ["active", "inactive", "pending"],
                    "default": "active",
                },
                "verified": { "type": "boolean", "description": "Verification status", "default": true },
            },
            "required": [],
        });
        elicit_once(
            &input,
            "Elicitation",
            "form",
            "Please review and update the form fields with defaults",
            schema,
        )
    }

    #[tool(description = "Tests elicitation with the five enum schema forms of SEP-1330")]
    pub async fn test_elicitation_sep1330_enums(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        let schema = json!({
            "type": "object",
            "properties": {
                "untitledSingle": { "type": "string", "enum": ["option1", "option2", "option3"] },
                "titledSingle": {
                    "type": "string",
                    "oneOf": [
                        { "const": "value1", "title": "First Option" },
                        { "const": "value2", "title": "Second Option" },
                        { "const": "value3", "title": "Third Option" },
                    ],
                },
                "legacyEnum": {
                    "type": "string",
                    "enum": ["opt1", "opt2", "opt3"],
                    "enumNames": ["Option One", "Option Two", "Option Three"],
                },
                "untitledMulti": {
                    "type": "array",
                    "items": { "type": "string", "enum": ["option1", "option2", "option3"] },
                },
                "titledMulti": {
                    "type": "array",
                    "items": {
                        "anyOf": [
                            { "const": "value1", "title": "First Choice" },
                            { "const": "value2", "title": "Second Choice" },
                            { "const": "value3", "title": "Third Choice" },
                        ],
                    },
                },
            },
            "required": [],
        });
        elicit_once(
            &input,
            "Elicitation",
            "form",
            "Please pick from the enums",
            schema,
        )
    }

    #[tool(description = "SEP-2322: asks for the user's name with one elicitation")]
    pub async fn test_input_required_result_elicitation(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        match input.elicitation("user_name")? {
            Some(answer) => Ok(text(format!(
                "Hello, {}!",
                answer.content_str("name").unwrap_or("whoever you are")
            ))
            .into()),
            // A missing answer (or only answers to other keys) is asked again.
            None => Ok(input
                .ask()
                .elicit("user_name", "What is your name?", name_form())
                .build()?
                .into()),
        }
    }

    #[tool(description = "SEP-2322: asks the client's model one question")]
    pub async fn test_input_required_result_sampling(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        match input.sampling("capital_question")? {
            Some(answer) => Ok(text(format!("The model said: {}", sampled_text(&answer))).into()),
            None => Ok(input
                .ask()
                .sample("capital_question", "What is the capital of France?", 100)
                .build()?
                .into()),
        }
    }

    #[tool(description = "SEP-2322: asks for the client's roots")]
    pub async fn test_input_required_result_list_roots(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        let roots = input.roots("client_roots")?;
        match roots {
            Some(roots) => {
                let uris: Vec<String> = roots.roots.iter().map(|r| r.uri.clone()).collect();
                Ok(text(format!("Client roots: {}", uris.join(", "))).into())
            }
            None => Ok(input.ask().roots("client_roots").build()?.into()),
        }
    }

    #[tool(description = "SEP-2322: round-trips requestState and checks it on the retry")]
    pub async fn test_input_required_result_request_state(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        match (input.state(), input.elicitation("confirm")?) {
            (Some(b"awaiting-confirmation"), Some(answer)) => Ok(text(format!(
                "state-ok: confirmed={}",
                answer
                    .content()
                    .and_then(|c| c.get("ok"))
                    .unwrap_or(&Value::Null)
            ))
            .into()),
            _ => Ok(input
                .ask()
                .elicit(
                    "confirm",
                    "Please confirm",
                    json!({
                        "type": "object",
                        "properties": { "ok": { "type": "boolean" } },
                        "required": ["ok"],
                    }),
                )
                .state(b"awaiting-confirmation".to_vec())
                .build()?
                .into()),
        }
    }

    #[tool(description = "SEP-2322: asks for an elicitation, a sampling and the roots at once")]
    pub async fn test_input_required_result_multiple_inputs(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        let roots = input.roots("client_roots")?;
        match (
            input.elicitation("user_name")?,
            input.sampling("greeting")?,
            roots,
        ) {
            (Some(name), Some(greeting), Some(roots)) => Ok(text(format!(
                "{} {} ({} roots)",
                sampled_text(&greeting),
                name.content_str("name").unwrap_or("you"),
                roots.roots.len()
            ))
            .into()),
            _ => Ok(input
                .ask()
                .elicit("user_name", "What is your name?", name_form())
                .sample("greeting", "Generate a greeting", 50)
                .roots("client_roots")
                .state(b"all-three".to_vec())
                .build()?
                .into()),
        }
    }

    #[tool(description = "SEP-2322: three rounds, the requestState changing every round")]
    pub async fn test_input_required_result_multi_round(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        let state = input
            .state()
            .map(|s| String::from_utf8_lossy(s).into_owned());
        match state.as_deref() {
            Some(name) if name.starts_with("round-2:") => match input.elicitation("step2")? {
                Some(answer) => Ok(text(format!(
                    "{} likes {}",
                    &name["round-2:".len()..],
                    answer.content_str("color").unwrap_or("no colour")
                ))
                .into()),
                None => ask_step2(&input, name),
            },
            Some("round-1") => match input.elicitation("step1")? {
                Some(answer) => {
                    let name = format!("round-2:{}", answer.content_str("name").unwrap_or("?"));
                    ask_step2(&input, &name)
                }
                None => ask_step1(&input),
            },
            _ => ask_step1(&input),
        }
    }

    #[tool(description = "SEP-2322: HMAC-sealed requestState; a tampered one is refused (-32602)")]
    pub async fn test_input_required_result_tampered_state(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        // `input` exists only if the echoed state verified.
        match (input.state(), input.elicitation("confirm")?) {
            (Some(b"sealed"), Some(_)) => Ok(text("requestState verified").into()),
            _ => Ok(input
                .ask()
                .elicit(
                    "confirm",
                    "Please confirm",
                    json!({
                        "type": "object",
                        "properties": { "ok": { "type": "boolean" } },
                        "required": ["ok"],
                    }),
                )
                .state(b"sealed".to_vec())
                .build()?
                .into()),
        }
    }

    #[tool(
        description = "SEP-2322: asks only what the client declared it can answer (sampling, elicitation, roots)"
    )]
    pub async fn test_input_required_result_capabilities(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        if input.state().is_some() {
            return Ok(text("Thanks for the answers").into());
        }
        let mut ask = input.ask().state(b"asked".to_vec());
        let mut asked = false;
        if input.client_supports(InputKind::Sampling) {
            ask = ask.sample("model_opinion", "Say something nice", 20);
            asked = true;
        }
        if input.client_supports(InputKind::Elicitation) {
            ask = ask.elicit("user_name", "What is your name?", name_form());
            asked = true;
        }
        if input.client_supports(InputKind::Roots) {
            ask = ask.roots("client_roots");
            asked = true;
        }
        if !asked {
            return Ok(text("The client declared nothing to ask it with").into());
        }
        Ok(ask.build()?.into())
    }

    #[tool(
        description = "Needs sampling: a client that did not declare it gets -32021 (missing required client capability)"
    )]
    pub async fn test_missing_capability(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        match input.sampling("answer")? {
            Some(answer) => Ok(text(format!("The model said: {}", sampled_text(&answer))).into()),
            None => Ok(input
                .ask()
                .sample("answer", "Say hello", 20)
                .build()?
                .into()),
        }
    }

    #[tool(
        description = "Asks for user input mid-call: on a stateless server that is an input-required result, never a request on the response stream"
    )]
    pub async fn test_streaming_elicitation(
        &self,
        input: Input,
    ) -> Result<CallToolResponse, ErrorData> {
        match input.elicitation("user_name")? {
            Some(answer) => Ok(text(format!(
                "Hello, {}!",
                answer.content_str("name").unwrap_or("there")
            ))
            .into()),
            None => Ok(input
                .ask()
                .elicit("user_name", "What is your name?", name_form())
                .build()?
                .into()),
        }
    }

    #[tool(
        description = "SEP-2243: arguments mirrored into Mcp-Param-* headers (x-mcp-header), checked by the transport"
    )]
    pub async fn test_x_mcp_header(
        &self,
        Parameters(HeaderArgs {
            region,
            priority,
            note,
        }): Parameters<HeaderArgs>,
    ) -> CallToolResult {
        text(format!(
            "region={region} priority={} note={}",
            priority.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            note.as_deref().unwrap_or("-")
        ))
    }
}

/// Info messages 50 ms apart, as `test_tool_with_logging` asks.
async fn three_logs(context: &RequestContext<RoleServer>) {
    let log = Log::new(context).with_logger("mcpctl-conformance");
    log.info("Tool execution started").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    log.info("Tool processing data").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    log.info("Tool execution completed").await;
}

/// One elicitation, then the answer as text; a tool error before 2026-07-28.
fn elicit_once(
    input: &Input,
    what: &str,
    key: &str,
    message: &str,
    schema: Value,
) -> Result<CallToolResponse, ErrorData> {
    if !input.supports_input_required() {
        return Ok(needs_2026(what).into());
    }
    match input.elicitation(key)? {
        Some(answer) => Ok(text(format!(
            "Elicitation completed: action={}, content={}",
            answer.action(),
            answer.content().cloned().unwrap_or_else(|| json!({}))
        ))
        .into()),
        None => Ok(input.ask().elicit(key, message, schema).build()?.into()),
    }
}

fn ask_step1(input: &Input) -> Result<CallToolResponse, ErrorData> {
    Ok(input
        .ask()
        .elicit("step1", "Step 1: What is your name?", name_form())
        .state(b"round-1".to_vec())
        .build()?
        .into())
}

fn ask_step2(input: &Input, state: &str) -> Result<CallToolResponse, ErrorData> {
    Ok(input
        .ask()
        .elicit(
            "step2",
            "Step 2: What is your favorite color?",
            json!({
                "type": "object",
                "properties": { "color": { "type": "string" } },
                "required": ["color"],
            }),
        )
        .state(state.as_bytes().to_vec())
        .build()?
        .into())
}

/// The text of a sampling answer.
fn sampled_text(answer: &rmcp::model::CreateMessageResult) -> String {
    serde_json::to_value(answer)
        .ok()
        .and_then(|v| v["content"]["text"].as_str().map(String::from))
        .unwrap_or_else(|| "(no text)".to_owned())
}

/// SEP-1613/SEP-2106: an input schema using JSON Schema 2020-12 keywords, listed exactly as
/// written (no schema generator in between).
fn json_schema_2020_12_tool() -> ToolRoute<McpServer> {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": { "street": { "type": "string" }, "city": { "type": "string" } },
            },
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" },
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": {
            "properties": { "contactMethod": { "const": "phone" } },
            "required": ["contactMethod"],
        },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false,
    });
    let schema: JsonObject = match schema {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    };
    let tool = Tool::new(
        "json_schema_2020_12_tool",
        "Tool with JSON Schema 2020-12 features",
        Arc::new(schema),
    );
    ToolRoute::new_dyn(tool, echo_arguments)
}

fn echo_arguments(
    context: ToolCallContext<'_, McpServer>,
) -> BoxFuture<'_, Result<CallToolResponse, ErrorData>> {
    let arguments = context.arguments.clone().unwrap_or_default();
    Box::pin(async move { Ok(text(format!("Received: {}", Value::Object(arguments))).into()) })
}
