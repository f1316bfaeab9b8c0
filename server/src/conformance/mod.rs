//! The official MCP conformance suite's fixtures (`--features conformance` only): the tools,
//! resources, prompts and completions its server scenarios call, by the names and with the
//! behaviour the scenarios check (`@modelcontextprotocol/conformance`, see
//! `interop/conformance/`). They are served beside the example's tools, resources and prompts by
//! the same `McpServer` (this module has its `ServerHandler` in this build), router and
//! transport, and use the same machinery a user's tool would: `mcpctl_server::input` for
//! input-required results, `mcpctl_server::notify` for progress and log messages.
//!
//! Never part of a deployment: the feature is off by default and the Lambda build does not
//! enable it.

mod tools;

use mcpctl_server::handler::{is_2026_07_28_or_later, untyped_request};
use mcpctl_server::input::Input;
use rmcp::handler::server::prompt::PromptContext;
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, ContentBlock, ErrorData,
    GetPromptRequestParams, GetPromptResponse, GetPromptResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams, Prompt,
    PromptArgument, PromptMessage, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Reference, Resource, ResourceContents, ResourceTemplate, Role,
    ServerCapabilities,
};
use rmcp::model::{CustomRequest, CustomResult, ErrorCode, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, RoleServer, ServerHandler};

use crate::tools::{prompt_router, resource_router, server_config, tool_router, McpServer};

pub(crate) use tools::tools;

/// A 1×1 red PNG.
pub(crate) const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A WAV file with one silent sample.
pub(crate) const WAV_BASE64: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Resources, prompts, completions and logging, on top of the real server's tools. No
/// `listChanged` or `subscribe`: a stateless server has no stream to send those on.
#[allow(deprecated)]
pub(crate) fn add_capabilities(capabilities: &mut ServerCapabilities) {
    *capabilities = ServerCapabilities::builder()
        .enable_logging()
        .enable_completions()
        .enable_prompts()
        .enable_resources()
        .enable_tools()
        .build();
}

const STATIC_TEXT: &str = "test://static-text";
const STATIC_BINARY: &str = "test://static-binary";
const TEMPLATE: &str = "test://template/{id}/data";

pub(crate) fn list_resources(
    _request: Option<PaginatedRequestParams>,
    _context: RequestContext<RoleServer>,
) -> Result<ListResourcesResult, ErrorData> {
    Ok(ListResourcesResult::with_all_items(vec![
        Resource::new(STATIC_TEXT, "static-text")
            .with_description("A static text resource for testing")
            .with_mime_type("text/plain"),
        Resource::new(STATIC_BINARY, "static-binary")
            .with_description("A static binary resource (a 1x1 PNG) for testing")
            .with_mime_type("image/png"),
    ]))
}

pub(crate) fn list_resource_templates(
    _request: Option<PaginatedRequestParams>,
    _context: RequestContext<RoleServer>,
) -> Result<ListResourceTemplatesResult, ErrorData> {
    Ok(ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(TEMPLATE, "template")
            .with_description("A resource template with an {id} parameter")
            .with_mime_type("application/json"),
    ]))
}

pub(crate) fn read_resource(
    request: ReadResourceRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<ReadResourceResponse, ErrorData> {
    // Resources take no input here, but a stray requestState is still verified.
    Input::for_resource(&request, &context)?;
    let uri = request.uri;
    let contents = match uri.as_str() {
        STATIC_TEXT => ResourceContents::text("This is the content of the static text resource.", &uri),
        STATIC_BINARY => ResourceContents::blob(PNG_BASE64, &uri).with_mime_type("image/png"),
        _ => match template_id(&uri) {
            Some(id) => ResourceContents::text(
                serde_json::json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") })
                    .to_string(),
                &uri,
            )
            .with_mime_type("application/json"),
            // SEP-2164: an unknown URI is an error naming it, never empty contents (rmcp sends
            // the code as -32602 from 2026-07-28, -32002 before).
            None => {
                return Err(ErrorData::resource_not_found(
                    "Resource not found",
                    Some(serde_json::json!({ "uri": uri })),
                ))
            }
        },
    };
    Ok(ReadResourceResult::new(vec![contents]).into())
}

/// `{id}` of `test://template/{id}/data`.
fn template_id(uri: &str) -> Option<&str> {
    let id = uri
        .strip_prefix("test://template/")?
        .strip_suffix("/data")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

fn argument(name: &str, description: &str) -> PromptArgument {
    PromptArgument::new(name)
        .with_description(description)
        .with_required(true)
}

pub(crate) fn list_prompts(
    _request: Option<PaginatedRequestParams>,
    _context: RequestContext<RoleServer>,
) -> Result<ListPromptsResult, ErrorData> {
    Ok(ListPromptsResult::with_all_items(vec![
        Prompt::new(
            "test_simple_prompt",
            Some("A simple prompt without arguments"),
            None,
        ),
        Prompt::new(
            "test_prompt_with_arguments",
            Some("A prompt with two required arguments"),
            Some(vec![
                argument("arg1", "First test argument"),
                argument("arg2", "Second test argument"),
            ]),
        ),
        Prompt::new(
            "test_prompt_with_embedded_resource",
            Some("A prompt that embeds a resource"),
            Some(vec![argument(
                "resourceUri",
                "URI of the resource to embed",
            )]),
        ),
        Prompt::new(
            "test_prompt_with_image",
            Some("A prompt with an image"),
            None,
        ),
        Prompt::new(
            "test_input_required_result_prompt",
            Some("A prompt that asks the client for context first (input-required result)"),
            None,
        ),
    ]))
}

pub(crate) fn get_prompt(
    request: GetPromptRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<GetPromptResponse, ErrorData> {
    let input = Input::for_prompt(&request, &context)?;
    let arg = |name: &str| -> Result<String, ErrorData> {
        request
            .arguments
            .as_ref()
            .and_then(|a| a.get(name))
            .and_then(|v| v.as_str())
            .map(String::from)
            .ok_or_else(|| {
                ErrorData::invalid_params(format!("missing required argument {name}"), None)
            })
    };
    let messages = match request.name.as_str() {
        "test_simple_prompt" => vec![PromptMessage::new_text(
            Role::User,
            "This is a simple prompt for testing.",
        )],
        "test_prompt_with_arguments" => {
            let (arg1, arg2) = (arg("arg1")?, arg("arg2")?);
            vec![PromptMessage::new_text(
                Role::User,
                format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"),
            )]
        }
        "test_prompt_with_embedded_resource" => vec![
            PromptMessage::new(
                Role::User,
                ContentBlock::resource(ResourceContents::text(
                    "Embedded resource content for testing.",
                    arg("resourceUri")?,
                )),
            ),
            PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
        ],
        "test_prompt_with_image" => vec![
            PromptMessage::new(Role::User, ContentBlock::image(PNG_BASE64, "image/png")),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ],
        "test_input_required_result_prompt" => match input.elicitation("user_context")? {
            Some(answer) => vec![PromptMessage::new_text(
                Role::User,
                format!(
                    "Use this context: {}",
                    answer.content_str("context").unwrap_or("(none given)")
                ),
            )],
            None => {
                return Ok(input
                    .ask()
                    .elicit(
                        "user_context",
                        "What context should the prompt use?",
                        serde_json::json!({
                            "type": "object",
                            "properties": { "context": { "type": "string" } },
                            "required": ["context"],
                        }),
                    )
                    .build()?
                    .into())
            }
        },
        other => {
            return Err(ErrorData::invalid_params(
                format!("prompt not found: {other}"),
                None,
            ))
        }
    };
    Ok(GetPromptResult::new(messages).into())
}

/// Values for `test_prompt_with_arguments`' `arg1` that start with what was typed so far.
pub(crate) fn complete(
    request: CompleteRequestParams,
    _context: RequestContext<RoleServer>,
) -> Result<CompleteResult, ErrorData> {
    const CANDIDATES: &[&str] = &["paris", "park", "party", "test-value", "testing"];
    let values = match &request.r#ref {
        Reference::Prompt(prompt) if prompt.name == "test_prompt_with_arguments" => CANDIDATES
            .iter()
            .filter(|c| c.starts_with(&request.argument.value))
            .map(|c| (*c).to_owned())
            .collect(),
        _ => Vec::new(),
    };
    let completion = CompletionInfo::new(values).map_err(|e| ErrorData::internal_error(e, None))?;
    Ok(CompleteResult::new(completion))
}

/// The conformance build's handler: the example's tools, resources and prompts with the
/// suite's fixtures beside them, plus completions and `logging/setLevel`.
#[tool_handler(router = tool_router())]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        server_config().clone()
    }

    /// `logging/setLevel` exists only before 2026-07-28. The level cannot be kept: the next
    /// request may reach another instance, so it is accepted and log messages follow the rule
    /// in `mcpctl_server::notify::Log`.
    #[allow(deprecated)]
    async fn set_level(
        &self,
        _request: rmcp::model::SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if is_2026_07_28_or_later(&context) {
            return Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                "logging/setLevel",
                None,
            ));
        }
        Ok(())
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut result = list_resources(request, context.clone())?;
        result
            .resources
            .extend(resource_router().list_resources(&context).resources);
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let mut result = list_resource_templates(request, context.clone())?;
        result.resource_templates.extend(
            resource_router()
                .list_resource_templates(&context)
                .resource_templates,
        );
        Ok(result)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri.starts_with("test://") {
            read_resource(request, context)
        } else {
            resource_router().read(self, request, context).await
        }
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let mut result = list_prompts(request, context)?;
        result.prompts.extend(prompt_router().list_all());
        Ok(result)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if request.name.starts_with("test_") {
            get_prompt(request, context)
        } else {
            prompt_router()
                .get_prompt(PromptContext::new(
                    self,
                    request.name,
                    request.arguments,
                    context,
                ))
                .await
        }
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        complete(request, context)
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        Err(untyped_request(&request, &context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_ids() {
        assert_eq!(template_id("test://template/123/data"), Some("123"));
        assert_eq!(template_id("test://template//data"), None);
        assert_eq!(template_id("test://template/1/2/data"), None);
        assert_eq!(template_id("test://static-text"), None);
    }
}
