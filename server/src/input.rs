//! Asking the client for input without a session: input-required results (SEP-2322, MCP
//! 2026-07-28).
//!
//! A stateless server cannot send the client a request in the middle of a call and wait for the
//! answer: the answer would come back as another HTTP request, maybe to another Lambda instance.
//! From 2026-07-28 a tool (or a prompt, or a resource read) answers instead with an
//! `InputRequiredResult`: the questions (`inputRequests`: elicitation, sampling, roots) and an
//! opaque `requestState`. The client asks its user or model and sends the same request again with
//! `inputResponses` and the `requestState` echoed back; the handler sees a new round.
//!
//! [`Input`] is what a handler reads at the start of a round: the answers so far and the state it
//! left in the previous round, verified. [`Ask`] builds the next `InputRequiredResult`.
//!
//! - The state is sealed with HMAC-SHA256 (rmcp's `RequestStateCodec`), bound to the request it
//!   belongs to (method, tool/prompt name or resource URI, and the arguments) and valid for
//!   [`STATE_TTL`]. A forged, altered, expired or re-targeted state is a JSON-RPC `-32602`.
//! - The key comes from `MCP_REQUEST_STATE_KEY` (at least 32 bytes) so every Lambda instance
//!   accepts the state any of them sealed. Without it each process makes a random key: fine for
//!   one local process; on Lambda a retry that reaches another instance is refused with `-32602`
//!   and the client has to start the call again.
//! - Only what the client declared in `_meta` `io.modelcontextprotocol/clientCapabilities` is
//!   asked; asking for more is `-32021` (missing required client capability, HTTP 400).
//! - Revisions before 2026-07-28 have no input-required results, and this server has no session
//!   to carry a server-to-client request: [`Ask::build`] refuses them (see [`legacy_refusal`]).
//!
//! In a `#[tool]` function, take `input: Input` *before* `Parameters<...>` (extractors run in
//! order, and `Input` reads the arguments it binds the state to):
//!
//! ```text
//! #[tool(description = "Greets you by name.")]
//! async fn greet(&self, input: Input) -> Result<CallToolResponse, ErrorData> {
//!     match input.elicitation("name")? {
//!         Some(answer) => Ok(CallToolResult::success(vec![ContentBlock::text(format!(
//!             "Hello, {}!", answer.content_str("name").unwrap_or("you")
//!         ))]).into()),
//!         None => Ok(input.ask().elicit("name", "Your name?", schema).build()?.into()),
//!     }
//! }
//! ```

// SEP-2577 deprecates sampling and roots in rmcp's types; the 2026-07-28 revision still has them.
#![allow(deprecated)]

use std::sync::OnceLock;
use std::time::Duration;

use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    ClientCapabilities, CreateMessageResult, ElicitResult, ElicitationAction, ErrorData,
    GetPromptRequestParams, InputRequest, InputRequests, InputRequiredResult, InputResponses,
    JsonObject, ListRootsResult, ProtocolVersion, ReadResourceRequestParams, RequestStateCodec,
    SealOptions,
};
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use serde_json::Value;

/// How long a sealed `requestState` is accepted: long enough for a person to answer a form.
pub const STATE_TTL: Duration = Duration::from_secs(15 * 60);

/// Environment variable holding the key that seals `requestState` (at least 32 bytes).
pub const KEY_ENV: &str = "MCP_REQUEST_STATE_KEY";

static CODEC: OnceLock<Result<RequestStateCodec, String>> = OnceLock::new();

/// Reads the sealing key once. Called at start-up so a bad `MCP_REQUEST_STATE_KEY` stops the
/// server instead of failing calls later; without the variable a random key is made.
pub fn init() -> Result<(), String> {
    codec().map(|_| ())
}

fn codec() -> Result<&'static RequestStateCodec, String> {
    CODEC
        .get_or_init(|| match std::env::var(KEY_ENV) {
            Ok(key) => {
                RequestStateCodec::try_new(key.into_bytes()).map_err(|e| format!("{KEY_ENV}: {e}"))
            }
            Err(_) => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|e| format!("cannot make a request-state key: {e}"))?;
                RequestStateCodec::try_new(key).map_err(|e| e.to_string())
            }
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The kinds of question an `InputRequiredResult` can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// `elicitation/create`: ask the user to fill in a form.
    Elicitation,
    /// `sampling/createMessage`: ask the client's model.
    Sampling,
    /// `roots/list`: ask for the client's roots.
    Roots,
}

impl InputKind {
    fn declared_by(self, capabilities: &ClientCapabilities) -> bool {
        match self {
            Self::Elicitation => capabilities.elicitation.is_some(),
            Self::Sampling => capabilities.sampling.is_some(),
            Self::Roots => capabilities.roots.is_some(),
        }
    }

    fn as_capability(self) -> Result<ClientCapabilities, ErrorData> {
        let name = match self {
            Self::Elicitation => "elicitation",
            Self::Sampling => "sampling",
            Self::Roots => "roots",
        };
        serde_json::from_value(serde_json::json!({ name: {} }))
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }
}

/// One round of a request that may ask the client for input: the verified state from the
/// previous round and the client's answers.
#[derive(Debug, Clone)]
pub struct Input {
    state: Option<Vec<u8>>,
    responses: InputResponses,
    capabilities: Option<ClientCapabilities>,
    protocol_version: Option<ProtocolVersion>,
    binding: Vec<u8>,
}

impl Input {
    /// A `tools/call` round. `request_state` is verified against the tool and its arguments.
    pub fn for_tool(
        name: &str,
        arguments: Option<&JsonObject>,
        request_state: Option<&str>,
        input_responses: Option<InputResponses>,
        context: &RequestContext<RoleServer>,
    ) -> Result<Self, ErrorData> {
        let binding = binding("tools/call", name, arguments);
        Self::new(binding, request_state, input_responses, context)
    }

    /// A `prompts/get` round.
    pub fn for_prompt(
        params: &GetPromptRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<Self, ErrorData> {
        let binding = binding("prompts/get", &params.name, params.arguments.as_ref());
        Self::new(
            binding,
            params.request_state.as_deref(),
            params.input_responses.clone(),
            context,
        )
    }

    /// A `resources/read` round.
    pub fn for_resource(
        params: &ReadResourceRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<Self, ErrorData> {
        let binding = binding("resources/read", &params.uri, None);
        Self::new(
            binding,
            params.request_state.as_deref(),
            params.input_responses.clone(),
            context,
        )
    }

    fn new(
        binding: Vec<u8>,
        request_state: Option<&str>,
        input_responses: Option<InputResponses>,
        context: &RequestContext<RoleServer>,
    ) -> Result<Self, ErrorData> {
        let state = match request_state {
            None => None,
            Some(sealed) => {
                let codec = codec().map_err(|e| ErrorData::internal_error(e, None))?;
                Some(codec.open_with(sealed, &binding).map_err(|e| {
                    ErrorData::invalid_params(
                        format!("requestState rejected ({e}); send the request again without requestState and inputResponses"),
                        None,
                    )
                })?)
            }
        };
        Ok(Self {
            state,
            responses: input_responses.unwrap_or_default(),
            capabilities: context.meta.client_capabilities(),
            protocol_version: context.protocol_version(),
            binding,
        })
    }

    /// What the handler sealed into the previous round's state; `None` on the first round.
    pub fn state(&self) -> Option<&[u8]> {
        self.state.as_deref()
    }

    /// Whether this request can be answered with an `InputRequiredResult` (2026-07-28 or later).
    pub fn supports_input_required(&self) -> bool {
        self.protocol_version
            .as_ref()
            .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
    }

    /// Whether the client declared the capability `kind` needs in this request's `_meta`.
    pub fn client_supports(&self, kind: InputKind) -> bool {
        self.capabilities
            .as_ref()
            .is_some_and(|c| kind.declared_by(c))
    }

    /// The client's answer under `key`, if it sent one. An answer that is not a valid result
    /// of that kind is `-32602`.
    fn response<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<T>, ErrorData> {
        match self.responses.get(key) {
            None => Ok(None),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|e| {
                    ErrorData::invalid_params(
                        format!("inputResponses.{key} is not a valid {what}: {e}"),
                        None,
                    )
                }),
        }
    }

    /// The answer to the elicitation asked under `key`.
    pub fn elicitation(&self, key: &str) -> Result<Option<ElicitAnswer>, ErrorData> {
        self.response::<ElicitResult>(key, "elicitation result")
            .map(|r| r.map(ElicitAnswer))
    }

    /// The answer to the sampling request asked under `key`.
    pub fn sampling(&self, key: &str) -> Result<Option<CreateMessageResult>, ErrorData> {
        self.response(key, "sampling result")
    }

    /// The answer to the roots request asked under `key`.
    pub fn roots(&self, key: &str) -> Result<Option<ListRootsResult>, ErrorData> {
        self.response(key, "roots result")
    }

    /// Starts the next round's questions.
    pub fn ask(&self) -> Ask<'_> {
        Ask {
            input: self,
            requests: Vec::new(),
            state: Vec::new(),
        }
    }
}

/// A client's answer to an elicitation.
#[derive(Debug, Clone)]
pub struct ElicitAnswer(pub ElicitResult);

impl ElicitAnswer {
    /// The user submitted the form.
    pub fn accepted(&self) -> bool {
        self.0.action == ElicitationAction::Accept
    }

    /// `accept`, `decline` or `cancel`, as on the wire.
    pub fn action(&self) -> String {
        serde_json::to_value(&self.0.action)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }

    /// The submitted form (an object), if accepted.
    pub fn content(&self) -> Option<&Value> {
        self.0.content.as_ref()
    }

    /// One string field of the submitted form.
    pub fn content_str(&self, field: &str) -> Option<&str> {
        self.content()?.get(field)?.as_str()
    }
}

/// The questions of the next round, and the state to find again in it.
#[derive(Debug)]
pub struct Ask<'a> {
    input: &'a Input,
    requests: Vec<(String, InputKind, Value)>,
    state: Vec<u8>,
}

impl Ask<'_> {
    /// Asks the user to fill in a form (`requested_schema`: a flat JSON Schema object).
    pub fn elicit(mut self, key: &str, message: &str, requested_schema: Value) -> Self {
        self.requests.push((
            key.to_owned(),
            InputKind::Elicitation,
            serde_json::json!({
                "method": "elicitation/create",
                "params": { "mode": "form", "message": message, "requestedSchema": requested_schema },
            }),
        ));
        self
    }

    /// Asks the client's model one user message.
    pub fn sample(mut self, key: &str, prompt: &str, max_tokens: u32) -> Self {
        self.requests.push((
            key.to_owned(),
            InputKind::Sampling,
            serde_json::json!({
                "method": "sampling/createMessage",
                "params": {
                    "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
                    "maxTokens": max_tokens,
                },
            }),
        ));
        self
    }

    /// Asks for the client's roots.
    pub fn roots(mut self, key: &str) -> Self {
        self.requests.push((
            key.to_owned(),
            InputKind::Roots,
            serde_json::json!({ "method": "roots/list", "params": {} }),
        ));
        self
    }

    /// What the handler wants back in the next round ([`Input::state`]); sealed, not encrypted:
    /// the client can read it, so no secrets.
    pub fn state(mut self, state: impl Into<Vec<u8>>) -> Self {
        self.state = state.into();
        self
    }

    /// The `InputRequiredResult`: `-32021` if a question needs a capability the client did not
    /// declare; refused on revisions before 2026-07-28 ([`legacy_refusal`]).
    pub fn build(self) -> Result<InputRequiredResult, ErrorData> {
        if !self.input.supports_input_required() {
            return Err(legacy_refusal());
        }
        let mut requests = InputRequests::new();
        for (key, kind, request) in self.requests {
            if !self.input.client_supports(kind) {
                return Err(ErrorData::missing_required_client_capability(
                    kind.as_capability()?,
                ));
            }
            let request: InputRequest = serde_json::from_value(request).map_err(|e| {
                ErrorData::internal_error(format!("input request {key}: {e}"), None)
            })?;
            requests.insert(key, request);
        }
        let codec = codec().map_err(|e| ErrorData::internal_error(e, None))?;
        let sealed = codec.seal_with(
            &self.state,
            &SealOptions::new()
                .associated_data(&self.input.binding)
                .ttl(STATE_TTL),
        );
        let requests = (!requests.is_empty()).then_some(requests);
        Ok(InputRequiredResult::new(requests, Some(sealed)))
    }
}

/// The error for a request that would need to ask the client for input on a revision before
/// 2026-07-28: those carry such questions as server-to-client requests inside a session, and
/// this server keeps none (each request may reach a different Lambda instance).
pub fn legacy_refusal() -> ErrorData {
    ErrorData::invalid_request(
        "this call needs input from the client (elicitation, sampling or roots); a stateless server can only ask for it with input-required results, protocol version 2026-07-28 or later",
        None,
    )
}

/// What a sealed state is bound to: the method, the target and the arguments, in a canonical
/// form (object keys sorted) so the client's key order does not matter.
fn binding(method: &str, target: &str, arguments: Option<&JsonObject>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(method.as_bytes());
    out.push(0);
    out.extend_from_slice(target.as_bytes());
    out.push(0);
    if let Some(arguments) = arguments {
        canonical(&Value::Object(arguments.clone()), &mut out);
    }
    out
}

fn canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(&Value::String(key.clone()), out);
                out.push(b':');
                if let Some(v) = map.get(key) {
                    canonical(v, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

/// `input: Input` as a `#[tool]` argument. Put it before `Parameters<...>`, which takes the
/// arguments this binds the state to.
impl<S> FromContextPart<ToolCallContext<'_, S>> for Input {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        let request_state = context.request_state.take();
        let input_responses = context.input_responses.take();
        Input::for_tool(
            &context.name,
            context.arguments.as_ref(),
            request_state.as_deref(),
            input_responses,
            &context.request_context,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_ignores_key_order_but_not_values() {
        let a: JsonObject = serde_json::from_str(r#"{"b":1,"a":{"y":[1,2],"x":"s"}}"#).unwrap();
        let b: JsonObject = serde_json::from_str(r#"{"a":{"x":"s","y":[1,2]},"b":1}"#).unwrap();
        let c: JsonObject = serde_json::from_str(r#"{"a":{"x":"s","y":[2,1]},"b":1}"#).unwrap();
        assert_eq!(binding("m", "t", Some(&a)), binding("m", "t", Some(&b)));
        assert_ne!(binding("m", "t", Some(&a)), binding("m", "t", Some(&c)));
        assert_ne!(binding("m", "t", None), binding("m", "u", None));
    }

    #[test]
    fn sealed_state_opens_only_for_its_binding() {
        let codec = codec().unwrap();
        let sealed = codec.seal_with(
            b"step=2",
            &SealOptions::new().associated_data(b"tools/call\0x\0{}"),
        );
        assert_eq!(
            codec.open_with(&sealed, b"tools/call\0x\0{}").unwrap(),
            b"step=2"
        );
        assert!(codec.open_with(&sealed, b"tools/call\0y\0{}").is_err());
        assert!(codec
            .open_with(&format!("{sealed}-TAMPERED"), b"tools/call\0x\0{}")
            .is_err());
    }
}
