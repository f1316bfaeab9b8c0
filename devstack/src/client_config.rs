//! Ready-to-paste MCP client configurations: one function per client ([`cursor`], [`vscode`],
//! [`claude_code`], [`windsurf`], [`codex`], [`gemini`], [`claude_api`], [`openai`]), each taking
//! the endpoint, the server's name, a [`KeyMode`] and the header that carries the key, so
//! `mcpctl config CLIENT` and `mcpctl dev`'s banner print exactly the same snippets.
//!
//! [`KeyMode::Env`] (the default) keeps the key out of the snippet, which may well end up in a
//! repository: clients that expand variables read it from [`API_KEY_ENV`], VS Code asks for it
//! (an `inputs` entry with `"password": true`), and the two HTTP APIs, which expand nothing, get
//! [`KEY_PLACEHOLDER`]. [`KeyMode::Inline`] (`--inline-key`) writes the key in.
//!
//! The header is `x-api-key` whenever `[authorizer] accept` takes it ([`key_header`], every
//! client but the Claude API can send a custom header), else `Authorization: Bearer`; the Claude
//! API sends nothing but a bearer token ([`McpClient::header`]). Each function cites the
//! documentation its format follows; `docs/clients.md` has the table.

use mcpctl_stack::auth::{Accepted, KeyHeader};
use mcpctl_stack::Config;
use serde_json::Value;

/// The environment variable the default snippets read the key from.
pub const API_KEY_ENV: &str = "MCPCTL_API_KEY";
/// What the snippets of clients that expand no variables hold instead of the key.
pub const KEY_PLACEHOLDER: &str = "<MCPCTL_API_KEY>";
/// The `anthropic-beta` value the Messages API's MCP connector needs (the current version; the
/// earlier `mcp-client-2025-04-04` is deprecated).
pub const CLAUDE_MCP_BETA: &str = "mcp-client-2025-11-20";

/// The header snippets put the key in for `config`: `x-api-key` when `[authorizer] accept`
/// includes it (every client here but the Claude API can send a custom header), else
/// `Authorization: Bearer`.
pub fn key_header(config: &Config) -> KeyHeader {
    if mcpctl_stack::auth::accepted(config).x_api_key {
        KeyHeader::XApiKey
    } else {
        KeyHeader::Bearer
    }
}

/// The header line carrying `value` (the key, or a reference to it) in `header`: its name as
/// clients write it, and its value.
fn header_line(header: KeyHeader, value: &str) -> (&'static str, String) {
    match header {
        KeyHeader::XApiKey => (mcpctl_stack::auth::API_KEY_HEADER, value.to_string()),
        KeyHeader::Bearer => (
            "Authorization",
            format!("{} {value}", mcpctl_stack::auth::BEARER_SCHEME),
        ),
    }
}

/// What a client needs to reach one MCP server.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The name the server gets in the client's list.
    pub name: &'a str,
    /// The full MCP endpoint, e.g. `http://127.0.0.1:8080/mcp`.
    pub url: &'a str,
    pub api_key: &'a str,
}

impl<'a> Target<'a> {
    /// [`KeyMode::Inline`] with this target's key when `inline`, else [`KeyMode::Env`].
    pub fn key_mode(&self, inline: bool) -> KeyMode<'a> {
        if inline {
            KeyMode::Inline(self.api_key)
        } else {
            KeyMode::Env
        }
    }
}

/// Whether the key is written into a snippet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode<'a> {
    /// Kept out: [`API_KEY_ENV`] where the client expands variables, a VS Code input, or
    /// [`KEY_PLACEHOLDER`] for clients that expand nothing. The key is not even at hand.
    Env,
    /// Written in (`--inline-key`).
    Inline(&'a str),
}

impl KeyMode<'_> {
    /// The key, or `reference` to it when it is kept out.
    fn or(self, reference: &str) -> String {
        match self {
            KeyMode::Env => reference.to_string(),
            KeyMode::Inline(key) => key.to_string(),
        }
    }
}

/// Where a snippet's client gets the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// It is written in.
    Inline,
    /// From [`API_KEY_ENV`]: the client reads it (or, for Claude Code, the shell expands it).
    Env,
    /// VS Code asks for it the first time the server starts, by this input id.
    Prompt { input: String },
    /// The client expands nothing: the snippet has [`KEY_PLACEHOLDER`].
    Placeholder,
    /// The client signs in with OAuth (`[auth] mode = "oauth"`): the snippet is only the URL, and
    /// the stack's consent page asks for the key once.
    OAuth,
}

impl KeySource {
    /// `inline`, `env`, `prompt` or `placeholder`.
    pub fn word(&self) -> &'static str {
        match self {
            KeySource::Inline => "inline",
            KeySource::Env => "env",
            KeySource::Prompt { .. } => "prompt",
            KeySource::Placeholder => "placeholder",
            KeySource::OAuth => "oauth",
        }
    }
}

/// What a snippet is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Toml,
    /// A shell command line.
    Shell,
    /// What to type into a client's form, one `Field: value` line each.
    Text,
}

impl Format {
    pub fn word(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Toml => "toml",
            Format::Shell => "shell",
            Format::Text => "text",
        }
    }
}

/// One client's configuration for one server.
#[derive(Debug, Clone, PartialEq)]
pub struct Snippet {
    pub client: McpClient,
    pub format: Format,
    /// Exactly what to paste, write to the file, or run.
    pub text: String,
    /// The document as JSON (a TOML document as the equivalent JSON); `None` for a command.
    pub value: Option<Value>,
    pub key: KeySource,
    /// The header the key travels in.
    pub header: KeyHeader,
}

impl Snippet {
    /// How this snippet's client gets the key, for a person (`mcpctl config` prints it on
    /// stderr). The key itself appears only where the snippet needs it from the user: in the
    /// `export` line that sets [`API_KEY_ENV`], or as what to paste into VS Code's prompt; never
    /// for a placeholder.
    pub fn key_help(&self, api_key: &str) -> String {
        let title = self.client.title();
        match &self.key {
            KeySource::Inline => {
                "it contains the API key: keep it out of version control.".to_string()
            }
            KeySource::Env if self.client == McpClient::ClaudeCode => format!(
                "the key is not in it: the shell puts in ${API_KEY_ENV} when it runs the command, so set that first:\n  {}",
                export_line(api_key)
            ),
            KeySource::Env => format!(
                "the key is not in it: {title} reads it from the environment variable {API_KEY_ENV}, so set that where {title} starts:\n  {}",
                export_line(api_key)
            ),
            KeySource::Prompt { input } => format!(
                "the key is not in it: {title} asks for it (input \"{input}\") when the server first starts and keeps it in its secret storage; paste:\n  {api_key}"
            ),
            KeySource::Placeholder => format!(
                "the key is not in it: the {title} expands no environment variables, so the snippet has the placeholder {KEY_PLACEHOLDER}: put the key there in your code (from ${API_KEY_ENV}, say), or pass --inline-key to have it written in."
            ),
            KeySource::OAuth => format!(
                "no key and no header: {title} signs in with OAuth (it finds the stack's authorization server and registers itself; leave any OAuth client ID and secret empty). On the consent page it opens, check the client name and the redirect URI, then approve with the stack's API key:\n  {api_key}"
            ),
        }
    }
}

/// The shell line that sets [`API_KEY_ENV`] to `api_key`.
pub fn export_line(api_key: &str) -> String {
    format!("export {API_KEY_ENV}={}", shell_word(api_key))
}

/// Every client `mcpctl config` configures: those that can send a static header or a bearer
/// token to a Streamable HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum McpClient {
    Cursor,
    VsCode,
    ClaudeCode,
    Windsurf,
    Codex,
    Gemini,
    ClaudeApi,
    OpenAi,
    /// ChatGPT's developer-mode apps (connectors): OAuth only.
    ChatGpt,
    /// claude.ai custom connectors (also Claude Desktop and the mobile apps): OAuth only.
    ClaudeAi,
}

impl McpClient {
    pub const ALL: [McpClient; 8] = [
        McpClient::Cursor,
        McpClient::VsCode,
        McpClient::ClaudeCode,
        McpClient::Windsurf,
        McpClient::Codex,
        McpClient::Gemini,
        McpClient::ClaudeApi,
        McpClient::OpenAi,
    ];

    /// The clients that sign in with OAuth only (`[auth] mode = "oauth"`, docs/oauth.md): no
    /// header, no key in their configuration, just the URL. Not in [`McpClient::ALL`] (the
    /// header clients `mcpctl dev` prints).
    pub const OAUTH: [McpClient; 2] = [McpClient::ChatGpt, McpClient::ClaudeAi];

    /// The word `mcpctl config` takes.
    pub fn id(self) -> &'static str {
        match self {
            McpClient::Cursor => "cursor",
            McpClient::VsCode => "vscode",
            McpClient::ClaudeCode => "claude",
            McpClient::Windsurf => "windsurf",
            McpClient::Codex => "codex",
            McpClient::Gemini => "gemini",
            McpClient::ClaudeApi => "claude-api",
            McpClient::OpenAi => "openai",
            McpClient::ChatGpt => "chatgpt",
            McpClient::ClaudeAi => "claude-ai",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            McpClient::Cursor => "Cursor",
            McpClient::VsCode => "VS Code",
            McpClient::ClaudeCode => "Claude Code",
            McpClient::Windsurf => "Windsurf",
            McpClient::Codex => "Codex CLI",
            McpClient::Gemini => "Gemini CLI",
            McpClient::ClaudeApi => "Claude API",
            McpClient::OpenAi => "OpenAI Responses API",
            McpClient::ChatGpt => "ChatGPT",
            McpClient::ClaudeAi => "claude.ai",
        }
    }

    /// Where the snippet goes.
    pub fn location(self) -> &'static str {
        match self {
            McpClient::Cursor => ".cursor/mcp.json",
            McpClient::VsCode => ".vscode/mcp.json",
            McpClient::ClaudeCode => "run in a terminal",
            McpClient::Windsurf => "~/.codeium/windsurf/mcp_config.json",
            McpClient::Codex => "~/.codex/config.toml",
            McpClient::Gemini => "~/.gemini/settings.json",
            McpClient::ClaudeApi => {
                "Messages API request body, sent with the header anthropic-beta: mcp-client-2025-11-20"
            }
            McpClient::OpenAi => "an entry of `tools` in a Responses API request",
            McpClient::ChatGpt => {
                "Settings → Apps & Connectors: developer mode on under Advanced settings, then Create"
            }
            McpClient::ClaudeAi => {
                "Settings → Connectors → Add custom connector; the same in Claude Desktop and the mobile apps"
            }
        }
    }

    /// Request headers the snippet needs beside itself (the Claude API's beta header).
    pub fn request_headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            McpClient::ClaudeApi => &[("anthropic-beta", CLAUDE_MCP_BETA)],
            _ => &[],
        }
    }

    /// The client connects from its provider's servers, so it needs a public `https://` URL: a
    /// local `mcpctl dev` endpoint is out of its reach.
    pub fn hosted(self) -> bool {
        matches!(
            self,
            McpClient::ClaudeApi | McpClient::OpenAi | McpClient::ChatGpt | McpClient::ClaudeAi
        )
    }

    /// The client signs in with OAuth only: it needs `[auth] mode = "oauth"`.
    pub fn oauth_only(self) -> bool {
        McpClient::OAUTH.contains(&self)
    }

    /// The header this client sends the key in, given what the authorizer accepts: `x-api-key`
    /// when accepted, else `Authorization: Bearer`. The Claude API sends only a bearer token:
    /// `None` when that is not accepted.
    pub fn header(self, accepted: Accepted) -> Option<KeyHeader> {
        // The API key as a bearer token, or (OAuth clients) the access token.
        if self == McpClient::ClaudeApi || self.oauth_only() {
            return accepted.bearer.then_some(KeyHeader::Bearer);
        }
        if accepted.x_api_key {
            Some(KeyHeader::XApiKey)
        } else if accepted.bearer {
            Some(KeyHeader::Bearer)
        } else {
            None
        }
    }

    /// This client's snippet for the server `name` at `url` (the function for the client).
    pub fn snippet(self, url: &str, name: &str, key: KeyMode<'_>, header: KeyHeader) -> Snippet {
        let client = match self {
            McpClient::Cursor => cursor,
            McpClient::VsCode => vscode,
            McpClient::ClaudeCode => claude_code,
            McpClient::Windsurf => windsurf,
            McpClient::Codex => codex,
            McpClient::Gemini => gemini,
            McpClient::ClaudeApi => claude_api,
            McpClient::OpenAi => openai,
            McpClient::ChatGpt => chatgpt,
            McpClient::ClaudeAi => claude_ai,
        };
        client(url, name, key, header)
    }
}

/// The header map most clients take: `{"x-api-key": VALUE}` or `{"Authorization": "Bearer
/// VALUE"}`, VALUE being the key or `reference`.
fn headers(header: KeyHeader, key: KeyMode<'_>, reference: &str) -> Doc {
    let (name, value) = header_line(header, &key.or(reference));
    Doc::obj([(name, Doc::str(value))])
}

fn json_snippet(client: McpClient, doc: Doc, key: KeySource, header: KeyHeader) -> Snippet {
    Snippet {
        client,
        format: Format::Json,
        text: doc.pretty(0),
        value: Some(doc.value()),
        key,
        header,
    }
}

fn source(key: KeyMode<'_>, kept_out: KeySource) -> KeySource {
    match key {
        KeyMode::Env => kept_out,
        KeyMode::Inline(_) => KeySource::Inline,
    }
}

/// Cursor, `.cursor/mcp.json` (or `~/.cursor/mcp.json`): `mcpServers.NAME` with `url` and
/// `headers`. Cursor resolves `${env:NAME}` in `url` and `headers`, so the key stays in the
/// environment.
///
/// Docs: <https://cursor.com/docs/context/mcp> (remote servers: `url`, `headers`; "Config
/// interpolation": "Cursor resolves variables in these fields: `command`, `args`, `env`, `url`,
/// and `headers`", syntax `${env:NAME}`).
pub fn cursor(url: &str, name: &str, key: KeyMode<'_>, header: KeyHeader) -> Snippet {
    let server = Doc::obj([
        ("url", Doc::str(url)),
        (
            "headers",
            headers(header, key, &format!("${{env:{API_KEY_ENV}}}")),
        ),
    ]);
    json_snippet(
        McpClient::Cursor,
        Doc::obj([("mcpServers", Doc::obj([(name, server)]))]),
        source(key, KeySource::Env),
        header,
    )
}

/// VS Code, `.vscode/mcp.json`: `servers.NAME` with `"type": "http"` (Streamable HTTP), `url`
/// and `headers`. The key is an `inputs` entry (`promptString`, `"password": true`) referenced
/// as `${input:ID}`: VS Code asks for it when the server first starts and keeps it in its secret
/// storage, so the file can be committed.
///
/// Docs: <https://code.visualstudio.com/docs/copilot/reference/mcp-configuration> (`servers`,
/// `inputs`; HTTP servers: `type`, `url`, `headers`; input variables `promptString` with
/// `password`, used as `${input:ID}`).
pub fn vscode(url: &str, name: &str, key: KeyMode<'_>, header: KeyHeader) -> Snippet {
    let input = format!("{name}-api-key");
    let server = Doc::obj([
        ("type", Doc::str("http")),
        ("url", Doc::str(url)),
        (
            "headers",
            headers(header, key, &format!("${{input:{input}}}")),
        ),
    ]);
    let servers = ("servers", Doc::obj([(name, server)]));
    let doc = match key {
        KeyMode::Inline(_) => Doc::obj([servers]),
        KeyMode::Env => Doc::obj([
            (
                "inputs",
                Doc::Arr(vec![Doc::obj([
                    ("type", Doc::str("promptString")),
                    ("id", Doc::str(input.as_str())),
                    (
                        "description",
                        Doc::str(format!("API key of the {name} MCP server")),
                    ),
                    ("password", Doc::Bool(true)),
                ])]),
            ),
            servers,
        ]),
    };
    json_snippet(
        McpClient::VsCode,
        doc,
        source(key, KeySource::Prompt { input }),
        header,
    )
}

/// Claude Code: `claude mcp add --transport http NAME URL --header "NAME: VALUE"`, run in a
/// shell, which expands `$MCPCTL_API_KEY` (and stops with a message if it is unset, instead of
/// registering an empty key). Claude Code keeps the result in `~/.claude.json`, not in the
/// project.
///
/// Docs: <https://code.claude.com/docs/en/mcp> ("Option 1: Add a remote HTTP server":
/// `claude mcp add --transport http <name> <url>`, with `--header "Authorization: Bearer ..."`).
pub fn claude_code(url: &str, name: &str, key: KeyMode<'_>, header: KeyHeader) -> Snippet {
    let reference = format!("${{{API_KEY_ENV}:?set {API_KEY_ENV} first}}");
    let (header_name, value) = header_line(header, &key.or(&reference));
    let line = format!("{header_name}: {value}");
    // The reference must stay expandable (double quotes); a written-in key is quoted so the
    // shell takes it as it is.
    let argument = match key {
        KeyMode::Env => format!("\"{line}\""),
        KeyMode::Inline(_) if line.chars().all(double_quote_safe) => format!("\"{line}\""),
        KeyMode::Inline(_) => shell_word(&line),
    };
    Snippet {
        client: McpClient::ClaudeCode,
        format: Format::Shell,
        text: format!(
            "claude mcp add --transport http {} {} --header {argument}",
            shell_word(name),
            shell_word(url),
        ),
        value: None,
        key: source(key, KeySource::Env),
        header,
    }
}

/// Windsurf, `~/.codeium/windsurf/mcp_config.json`: `mcpServers.NAME` with `serverUrl` (not
/// `url`) and `headers`; Windsurf interpolates `${env:VAR}` in `serverUrl`, `url` and `headers`.
///
/// Docs: <https://docs.windsurf.com/windsurf/cascade/mcp> (remote HTTP servers: `serverUrl`,
/// `headers`; "supports variable interpolation in the following fields: command, args, env,
/// serverUrl, url, and headers", syntax `${env:VAR_NAME}`).
pub fn windsurf(url: &str, name: &str, key: KeyMode<'_>, header: KeyHeader) -> Snippet {
    let server = Doc::obj([
        ("serverUrl", Doc::str(url)),
        (
            "headers",
            headers(header, key, &format!("${{env:{API_KEY_ENV}}}")),
        ),
    ]);
    json_snippet(
        McpClient::Windsurf,
        Doc::obj([("mcpServers", Doc::obj([(name, server)]))]),
        source(key, KeySource::Env),
        header,
    )
}

/// Codex CLI, `~/.codex/config.toml` (or a trusted project's `.codex/config.toml`): a
/// `[mcp_servers.NAME]` table with `url`. Kept out, the key is named by its variable:
/// `env_http_headers = { "x-api-key" = "MCPCTL_API_KEY" }`, or `bearer_token_env_var =
/// "MCPCTL_API_KEY"` for `Authorization: Bearer`; written in, it is `http_headers` (Codex has no
/// inline bearer token field).
///
/// Docs: <https://github.com/openai/codex/blob/main/docs/config.md#streamable-http> (`url`,
/// `bearer_token_env_var`, `http_headers`, `env_http_headers`), also
/// <https://developers.openai.com/codex/mcp>.
pub fn codex(url: &str, name: &str, key: KeyMode<'_>, header: KeyHeader) -> Snippet {
    // (field, value): a string, or a one-entry inline table.
    let (field, entry): (&str, Result<String, (String, String)>) = match (key, header) {
        (KeyMode::Env, KeyHeader::XApiKey) => (
            "env_http_headers",
            Err((
                mcpctl_stack::auth::API_KEY_HEADER.to_string(),
                API_KEY_ENV.to_string(),
            )),
        ),
        (KeyMode::Env, KeyHeader::Bearer) => ("bearer_token_env_var", Ok(API_KEY_ENV.to_string())),
        (KeyMode::Inline(k), header) => {
            let (header_name, value) = header_line(header, k);
            ("http_headers", Err((header_name.to_string(), value)))
        }
    };
    let (toml_value, json_value) = match &entry {
        Ok(s) => (toml_string(s), Value::String(s.clone())),
        Err((k, v)) => (
            format!("{{ {} = {} }}", toml_string(k), toml_string(v)),
            serde_json::json!({ k.as_str(): v }),
        ),
    };
    let text = format!(
        "[mcp_servers.{}]\nurl = {}\n{field} = {toml_value}",
        toml_key(name),
        toml_string(url),
    );
    let value = serde_json::json!({ "mcp_servers": { name: { "url": url, field: json_value } } });
    Snippet {
        client: McpClient::Codex,
        format: Format::Toml,
        text,
        value: Some(value),
        key: source(key, KeySource::Env),
        header,
    }
}

/// Gemini CLI, `~/.gemini/settings.json` (or `.gemini/settings.json`): `mcpServers.NAME` with
/// `httpUrl` (Streamable HTTP; `url` would be SSE) and `headers`. Gemini CLI resolves `$VAR` in
/// every string of settings.json as it loads it.
///
/// Docs: <https://geminicli.com/docs/tools/mcp-server> (`httpUrl`: "HTTP streaming endpoint
/// URL", `headers`: "Custom HTTP headers when using `url` or `httpUrl`") and
/// <https://geminicli.com/docs/cli/configuration> ("String values within your `settings.json`
/// files can reference environment variables using either `$VAR_NAME` or `${VAR_NAME}`").
pub fn gemini(url: &str, name: &str, key: KeyMode<'_>, header: KeyHeader) -> Snippet {
    let server = Doc::obj([
        ("httpUrl", Doc::str(url)),
        ("headers", headers(header, key, &format!("${API_KEY_ENV}"))),
    ]);
    json_snippet(
        McpClient::Gemini,
        Doc::obj([("mcpServers", Doc::obj([(name, server)]))]),
        source(key, KeySource::Env),
        header,
    )
}

/// The Claude Messages API's MCP connector: the request body's `mcp_servers` entry (`type`
/// `"url"`, `url`, `name`, `authorization_token`, sent as `Authorization: Bearer`) and the
/// `mcp_toolset` in `tools` that every server needs, with the header `anthropic-beta:
/// mcp-client-2025-11-20` ([`CLAUDE_MCP_BETA`]). A request body expands no variables: kept out,
/// the token is [`KEY_PLACEHOLDER`]. `header` is ignored: the connector sends only a bearer
/// token. The URL must be public and `https://`.
///
/// Docs: <https://platform.claude.com/docs/en/agents-and-tools/mcp-connector> (beta header;
/// `mcp_servers`: `type`, `url` "Must start with https://", `name` "Must be referenced by exactly
/// one MCPToolset", `authorization_token`; `tools`: `{"type": "mcp_toolset", "mcp_server_name"}`).
pub fn claude_api(url: &str, name: &str, key: KeyMode<'_>, _header: KeyHeader) -> Snippet {
    let doc = Doc::obj([
        (
            "mcp_servers",
            Doc::Arr(vec![Doc::obj([
                ("type", Doc::str("url")),
                ("url", Doc::str(url)),
                ("name", Doc::str(name)),
                ("authorization_token", Doc::str(key.or(KEY_PLACEHOLDER))),
            ])]),
        ),
        (
            "tools",
            Doc::Arr(vec![Doc::obj([
                ("type", Doc::str("mcp_toolset")),
                ("mcp_server_name", Doc::str(name)),
            ])]),
        ),
    ]);
    json_snippet(
        McpClient::ClaudeApi,
        doc,
        source(key, KeySource::Placeholder),
        KeyHeader::Bearer,
    )
}

/// The OpenAI Responses API's remote MCP tool, an entry of `tools`: `type` `"mcp"`,
/// `server_label`, `server_url` and `headers`. A request body expands no variables: kept out,
/// the key is [`KEY_PLACEHOLDER`]. `require_approval` is left to its default (OpenAI asks for
/// approval before sharing data with the server).
///
/// Docs: <https://developers.openai.com/api/docs/guides/tools-remote-mcp> (`type`,
/// `server_label`, `server_url`, `authorization`, approvals) and the Responses API reference
/// <https://platform.openai.com/docs/api-reference/responses/create> (MCP tool `headers`:
/// "Optional HTTP headers to send to the MCP server. Use for authentication or other purposes").
pub fn openai(url: &str, name: &str, key: KeyMode<'_>, header: KeyHeader) -> Snippet {
    let doc = Doc::obj([
        ("type", Doc::str("mcp")),
        ("server_label", Doc::str(name)),
        ("server_url", Doc::str(url)),
        ("headers", headers(header, key, KEY_PLACEHOLDER)),
    ]);
    json_snippet(
        McpClient::OpenAi,
        doc,
        source(key, KeySource::Placeholder),
        header,
    )
}

/// In `[auth] mode = "oauth"`, what a header client's snippet should say beside itself: the key
/// goes as `Authorization: Bearer` only (the snippets use it: [`key_header`]), `x-api-key` is
/// refused, and the OAuth clients have their own entries. `None` otherwise.
pub fn auth_mode_note(config: &Config, client: McpClient) -> Option<String> {
    (config.auth.mode == mcpctl_stack::config::AuthMode::OAuth && !client.oauth_only()).then(|| {
        let ids: Vec<String> = McpClient::OAUTH
            .iter()
            .map(|c| format!("`mcpctl config {}`", c.id()))
            .collect();
        format!(
            "[auth] mode = \"oauth\": the key goes as `Authorization: Bearer` only (x-api-key is refused); ChatGPT and claude.ai sign in with OAuth instead: {}.",
            ids.join(", ")
        )
    })
}

/// What to type into a form: `Field: value` lines, and the same as a JSON object (`fields`
/// keys).
fn form_snippet(client: McpClient, lines: &[(&str, &str, &str)]) -> Snippet {
    let text = lines
        .iter()
        .map(|(label, _, value)| format!("{label}: {value}"))
        .collect::<Vec<_>>()
        .join("\n");
    let value = Value::Object(
        lines
            .iter()
            .map(|(_, key, value)| (key.to_string(), Value::String(value.to_string())))
            .collect(),
    );
    Snippet {
        client,
        format: Format::Text,
        text,
        value: Some(value),
        key: KeySource::OAuth,
        header: KeyHeader::Bearer,
    }
}

/// ChatGPT, a developer-mode app (formerly "connector"), `[auth] mode = "oauth"` only: the form
/// asks for a name, the MCP server URL and the authentication, OAuth. There is no header or key
/// field: ChatGPT discovers the authorization server (RFC 9728, then RFC 8414), registers itself
/// and opens the consent page. `key` and `header` are ignored: nothing secret is in it.
///
/// Docs: <https://help.openai.com/en/articles/12584461-developer-mode-apps-and-full-mcp-connectors-in-chatgpt-beta>
/// (developer mode, apps with full MCP support; "formerly connectors") and
/// <https://developers.openai.com/apps-sdk/deploy/connect-chatgpt> (Settings → Connectors →
/// Advanced → Developer mode, then Create: name, description, the public `/mcp` URL). The
/// labels move between releases (Settings → Apps, Apps & Connectors).
pub fn chatgpt(url: &str, name: &str, _key: KeyMode<'_>, _header: KeyHeader) -> Snippet {
    form_snippet(
        McpClient::ChatGpt,
        &[
            ("Name", "name", name),
            ("MCP Server URL", "url", url),
            ("Authentication", "authentication", "OAuth"),
        ],
    )
}

/// claude.ai custom connectors (the same in Claude Desktop and the mobile apps, which share the
/// account's connectors), `[auth] mode = "oauth"` only: a name and the remote MCP server URL;
/// the OAuth client ID and secret under Advanced settings stay empty (Claude registers itself,
/// or presents its client ID metadata document). `key` and `header` are ignored.
///
/// Docs: <https://support.claude.com/en/articles/11175166-getting-started-with-custom-connectors-using-remote-mcp>
/// (Settings → Connectors → Add custom connector: name, remote MCP server URL, optional OAuth
/// client ID and secret under Advanced settings; authless or OAuth servers; Claude connects from
/// Anthropic's cloud, so the URL must be public) and
/// <https://support.claude.com/en/articles/11503834-building-custom-connectors-via-remote-mcp-servers>.
pub fn claude_ai(url: &str, name: &str, _key: KeyMode<'_>, _header: KeyHeader) -> Snippet {
    form_snippet(
        McpClient::ClaudeAi,
        &[
            ("Name", "name", name),
            ("Remote MCP server URL", "url", url),
        ],
    )
}

/// A JSON document that keeps its keys in order (serde_json's map sorts them).
enum Doc {
    Str(String),
    Bool(bool),
    Arr(Vec<Doc>),
    Obj(Vec<(String, Doc)>),
}

impl Doc {
    fn str(s: impl Into<String>) -> Doc {
        Doc::Str(s.into())
    }

    fn obj<const N: usize>(fields: [(&str, Doc); N]) -> Doc {
        Doc::Obj(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn value(&self) -> Value {
        match self {
            Doc::Str(s) => Value::String(s.clone()),
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Arr(items) => Value::Array(items.iter().map(Doc::value).collect()),
            Doc::Obj(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.value())).collect())
            }
        }
    }

    /// Two-space indentation, like `serde_json::to_string_pretty`.
    fn pretty(&self, depth: usize) -> String {
        let pad = "  ".repeat(depth + 1);
        let (open, close, items): (&str, &str, Vec<String>) = match self {
            Doc::Str(s) => return Value::String(s.clone()).to_string(),
            Doc::Bool(b) => return b.to_string(),
            Doc::Arr(items) => (
                "[",
                "]",
                items
                    .iter()
                    .map(|v| format!("{pad}{}", v.pretty(depth + 1)))
                    .collect(),
            ),
            Doc::Obj(fields) => (
                "{",
                "}",
                fields
                    .iter()
                    .map(|(k, v)| {
                        format!("{pad}{}: {}", Value::String(k.clone()), v.pretty(depth + 1))
                    })
                    .collect(),
            ),
        };
        if items.is_empty() {
            return format!("{open}{close}");
        }
        format!(
            "{open}\n{}\n{}{close}",
            items.join(",\n"),
            "  ".repeat(depth)
        )
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, else quoted.
fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        toml_string(s)
    }
}

/// Characters a POSIX shell takes literally inside double quotes.
fn double_quote_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || " -_./:@=+,%~".contains(c)
}

/// Quotes a word for a POSIX shell only when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Every snippet for `target`, titled, as `mcpctl dev` prints them: the key kept out (with the
/// `export` line that sets it, once) and in `x-api-key`.
pub fn render_all(target: &Target<'_>) -> String {
    render_all_with(target, KeyHeader::XApiKey)
}

/// [`render_all`] with the key in `header` (what [`key_header`] picks for the deploy.toml).
pub fn render_all_with(target: &Target<'_>, header: KeyHeader) -> String {
    render(target, KeyMode::Env, header)
}

/// Every snippet for `target`, titled. With the key kept out, one `export` line first says how
/// to set it. The hosted APIs are left out (with a line saying why) unless the URL is
/// `https://`: they connect from their providers' servers, which cannot reach a local stack.
pub fn render(target: &Target<'_>, key: KeyMode<'_>, header: KeyHeader) -> String {
    let mut out = String::new();
    if key == KeyMode::Env {
        out.push_str(&format!(
            "The snippets keep the key out of the files: they read it from {API_KEY_ENV} (VS Code asks for it instead). Set it where the clients start:\n  {}\n\n",
            export_line(target.api_key)
        ));
    }
    let reachable = target.url.starts_with("https://");
    let mut left_out = Vec::new();
    for client in McpClient::ALL {
        if client.hosted() && !reachable {
            left_out.push(client);
            continue;
        }
        let header = if client == McpClient::ClaudeApi {
            KeyHeader::Bearer
        } else {
            header
        };
        let snippet = client.snippet(target.url, target.name, key, header);
        out.push_str(&format!("{} ({}):\n", client.title(), client.location()));
        out.push_str(&snippet.text);
        out.push_str("\n\n");
    }
    if !left_out.is_empty() {
        let titles: Vec<&str> = left_out.iter().map(|c| c.title()).collect();
        let ids: Vec<String> = left_out
            .iter()
            .map(|c| format!("`mcpctl config {}`", c.id()))
            .collect();
        out.push_str(&format!(
            "{}: not for {} (they connect from their providers' servers, which need a public https:// URL); {} give them for the deployed stack.\n\n",
            titles.join(" and "),
            target.url,
            ids.join(" and ")
        ));
    }
    out
}

/// The four clients `mcpctl dev -o json` lists, their snippets with the key written in (that
/// output carries the key anyway). Everything else uses [`McpClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Cursor,
    VsCode,
    ClaudeCode,
    Windsurf,
}

impl From<Client> for McpClient {
    fn from(c: Client) -> Self {
        match c {
            Client::Cursor => McpClient::Cursor,
            Client::VsCode => McpClient::VsCode,
            Client::ClaudeCode => McpClient::ClaudeCode,
            Client::Windsurf => McpClient::Windsurf,
        }
    }
}

impl Client {
    pub const ALL: [Client; 4] = [
        Client::Cursor,
        Client::VsCode,
        Client::ClaudeCode,
        Client::Windsurf,
    ];

    pub fn title(self) -> &'static str {
        McpClient::from(self).title()
    }

    /// Where the snippet goes.
    pub fn location(self) -> &'static str {
        McpClient::from(self).location()
    }

    /// The snippet with the key written in `x-api-key`.
    pub fn snippet(self, target: &Target<'_>) -> String {
        self.snippet_with(target, KeyHeader::XApiKey)
    }

    /// [`Client::snippet`] with the key in `header`.
    pub fn snippet_with(self, target: &Target<'_>, header: KeyHeader) -> String {
        self.inline(target, header).text
    }

    /// The JSON document for clients configured by a file, key written in `x-api-key`.
    pub fn json(self, target: &Target<'_>) -> Option<Value> {
        self.json_with(target, KeyHeader::XApiKey)
    }

    /// [`Client::json`] with the key in `header`.
    pub fn json_with(self, target: &Target<'_>, header: KeyHeader) -> Option<Value> {
        self.inline(target, header).value
    }

    fn inline(self, target: &Target<'_>, header: KeyHeader) -> Snippet {
        McpClient::from(self).snippet(
            target.url,
            target.name,
            KeyMode::Inline(target.api_key),
            header,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Target<'static> = Target {
        name: "mcp-server",
        url: "http://127.0.0.1:8080/mcp",
        api_key: "k123",
    };
    const URL: &str = "https://abc123.execute-api.us-east-1.amazonaws.com/mcp";
    const KEY: &str = "0123456789abcdef0123456789abcdef";

    /// What a client's documentation allows in its configuration (the part mcpctl writes).
    enum Schema {
        Str,
        Bool,
        /// This exact string.
        Const(&'static str),
        /// Any string satisfying the check (e.g. "is the URL", "is a key reference").
        StrThat(fn(&str) -> bool),
        /// Exactly one element.
        One(&'static Schema),
        /// Any keys, each value of this schema.
        Map(&'static Schema),
        /// These fields (name, required, schema) and no others.
        Obj(&'static [(&'static str, bool, Schema)]),
    }

    fn check(value: &Value, schema: &Schema, at: &str) -> Result<(), String> {
        let fail = |what: &str| Err(format!("{at}: {what}, got {value}"));
        match schema {
            Schema::Str => value
                .as_str()
                .map(|_| ())
                .ok_or(())
                .or_else(|_| fail("a string")),
            Schema::Bool => value
                .as_bool()
                .map(|_| ())
                .ok_or(())
                .or_else(|_| fail("a bool")),
            Schema::Const(s) => {
                if value.as_str() == Some(s) {
                    Ok(())
                } else {
                    fail(&format!("{s:?}"))
                }
            }
            Schema::StrThat(ok) => match value.as_str() {
                Some(s) if ok(s) => Ok(()),
                _ => fail("a string that passes its check"),
            },
            Schema::One(item) => match value.as_array().map(Vec::as_slice) {
                Some([v]) => check(v, item, &format!("{at}[0]")),
                _ => fail("an array of one"),
            },
            Schema::Map(item) => match value.as_object() {
                Some(map) => map
                    .iter()
                    .try_for_each(|(k, v)| check(v, item, &format!("{at}.{k}"))),
                None => fail("an object"),
            },
            Schema::Obj(fields) => {
                let Some(map) = value.as_object() else {
                    return fail("an object");
                };
                for k in map.keys() {
                    if !fields.iter().any(|(name, _, _)| name == k) {
                        return Err(format!("{at}: {k:?} is not in the documented schema"));
                    }
                }
                for (name, required, field) in fields.iter() {
                    match map.get(*name) {
                        Some(v) => check(v, field, &format!("{at}.{name}"))?,
                        None if *required => return Err(format!("{at}: {name:?} missing")),
                        None => {}
                    }
                }
                Ok(())
            }
        }
    }

    fn is_url(s: &str) -> bool {
        s == URL
    }
    fn is_name(s: &str) -> bool {
        s == "mcp-server"
    }

    /// One server entry of `mcpServers`/`servers`/`mcp_servers`, keyed by the server's name.
    macro_rules! named {
        ($server:expr) => {
            Schema::Obj(&[("mcp-server", true, $server)])
        };
    }

    // https://cursor.com/docs/context/mcp: remote server fields `url`, `headers` (and `auth`,
    // `type`, which mcpctl does not write).
    static CURSOR: Schema = Schema::Obj(&[(
        "mcpServers",
        true,
        named!(Schema::Obj(&[
            ("url", true, Schema::StrThat(is_url)),
            ("headers", false, Schema::Map(&Schema::Str)),
            ("type", false, Schema::Str),
        ])),
    )]);
    // https://code.visualstudio.com/docs/copilot/reference/mcp-configuration: `inputs` entries
    // (`type` promptString, `id`, `description`, `password`), HTTP servers (`type` "http", `url`,
    // `headers`).
    static VSCODE: Schema = Schema::Obj(&[
        (
            "inputs",
            false,
            Schema::One(&Schema::Obj(&[
                ("type", true, Schema::Const("promptString")),
                ("id", true, Schema::Str),
                ("description", true, Schema::Str),
                ("password", false, Schema::Bool),
            ])),
        ),
        (
            "servers",
            true,
            named!(Schema::Obj(&[
                ("type", true, Schema::Const("http")),
                ("url", true, Schema::StrThat(is_url)),
                ("headers", false, Schema::Map(&Schema::Str)),
            ])),
        ),
    ]);
    // https://docs.windsurf.com/windsurf/cascade/mcp: remote servers take `serverUrl`, `headers`.
    static WINDSURF: Schema = Schema::Obj(&[(
        "mcpServers",
        true,
        named!(Schema::Obj(&[
            ("serverUrl", true, Schema::StrThat(is_url)),
            ("headers", false, Schema::Map(&Schema::Str)),
        ])),
    )]);
    // https://github.com/openai/codex/blob/main/docs/config.md#streamable-http: `url`,
    // `bearer_token_env_var` (a variable name), `http_headers` (name to value),
    // `env_http_headers` (name to variable name).
    static CODEX: Schema = Schema::Obj(&[(
        "mcp_servers",
        true,
        named!(Schema::Obj(&[
            ("url", true, Schema::StrThat(is_url)),
            ("bearer_token_env_var", false, Schema::Str),
            ("http_headers", false, Schema::Map(&Schema::Str)),
            ("env_http_headers", false, Schema::Map(&Schema::Str)),
        ])),
    )]);
    // https://geminicli.com/docs/tools/mcp-server: `httpUrl` (Streamable HTTP), `headers`.
    static GEMINI: Schema = Schema::Obj(&[(
        "mcpServers",
        true,
        named!(Schema::Obj(&[
            ("httpUrl", true, Schema::StrThat(is_url)),
            ("headers", false, Schema::Map(&Schema::Str)),
        ])),
    )]);
    // https://platform.claude.com/docs/en/agents-and-tools/mcp-connector: `mcp_servers` entries
    // (`type` "url", `url`, `name`, `authorization_token`) and an `mcp_toolset` naming each.
    static CLAUDE_API: Schema = Schema::Obj(&[
        (
            "mcp_servers",
            true,
            Schema::One(&Schema::Obj(&[
                ("type", true, Schema::Const("url")),
                ("url", true, Schema::StrThat(is_url)),
                ("name", true, Schema::StrThat(is_name)),
                ("authorization_token", false, Schema::Str),
            ])),
        ),
        (
            "tools",
            true,
            Schema::One(&Schema::Obj(&[
                ("type", true, Schema::Const("mcp_toolset")),
                ("mcp_server_name", true, Schema::StrThat(is_name)),
            ])),
        ),
    ]);
    // https://developers.openai.com/api/docs/guides/tools-remote-mcp and the Responses API
    // reference: `type` "mcp", `server_label`, `server_url`, `headers`, `authorization`, ...
    static OPENAI: Schema = Schema::Obj(&[
        ("type", true, Schema::Const("mcp")),
        ("server_label", true, Schema::StrThat(is_name)),
        ("server_url", true, Schema::StrThat(is_url)),
        ("headers", false, Schema::Map(&Schema::Str)),
        ("authorization", false, Schema::Str),
        ("server_description", false, Schema::Str),
        ("require_approval", false, Schema::Str),
    ]);

    fn schema(client: McpClient) -> Option<&'static Schema> {
        match client {
            McpClient::Cursor => Some(&CURSOR),
            McpClient::VsCode => Some(&VSCODE),
            McpClient::Windsurf => Some(&WINDSURF),
            McpClient::Codex => Some(&CODEX),
            McpClient::Gemini => Some(&GEMINI),
            McpClient::ClaudeApi => Some(&CLAUDE_API),
            McpClient::OpenAi => Some(&OPENAI),
            McpClient::ClaudeCode | McpClient::ChatGpt | McpClient::ClaudeAi => None,
        }
    }

    fn all_snippets() -> Vec<(Snippet, Option<&'static str>)> {
        let mut out = Vec::new();
        for client in McpClient::ALL {
            for header in KeyHeader::ALL {
                out.push((
                    client.snippet(URL, "mcp-server", KeyMode::Env, header),
                    None,
                ));
                out.push((
                    client.snippet(URL, "mcp-server", KeyMode::Inline(KEY), header),
                    Some(KEY),
                ));
            }
        }
        out
    }

    /// Every header value in the document, wherever the client keeps them.
    fn header_values(s: &Snippet) -> Vec<String> {
        let v = s.value.as_ref().expect("a document");
        let maps = match s.client {
            McpClient::Cursor | McpClient::Windsurf | McpClient::Gemini => {
                vec![&v["mcpServers"]["mcp-server"]["headers"]]
            }
            McpClient::VsCode => vec![&v["servers"]["mcp-server"]["headers"]],
            McpClient::OpenAi => vec![&v["headers"]],
            McpClient::Codex => {
                let server = &v["mcp_servers"]["mcp-server"];
                return ["http_headers", "env_http_headers"]
                    .iter()
                    .filter_map(|f| server.get(*f))
                    .chain(server.get("bearer_token_env_var"))
                    .flat_map(|h| match h {
                        Value::Object(m) => m.values().cloned().collect::<Vec<_>>(),
                        other => vec![other.clone()],
                    })
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
            }
            McpClient::ClaudeApi => {
                return vec![v["mcp_servers"][0]["authorization_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()]
            }
            McpClient::ClaudeCode | McpClient::ChatGpt | McpClient::ClaudeAi => unreachable!(),
        };
        maps.iter()
            .flat_map(|m| m.as_object().into_iter().flatten())
            .filter_map(|(_, v)| v.as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn every_document_follows_its_clients_documented_schema() {
        for (s, _) in all_snippets() {
            let Some(schema) = schema(s.client) else {
                continue;
            };
            let value = s.value.as_ref().expect("a document");
            check(value, schema, s.client.id())
                .unwrap_or_else(|e| panic!("{:?} {:?}: {e}", s.key, s.header));
        }
    }

    #[test]
    fn the_schema_check_catches_a_wrong_document() {
        let w = windsurf(URL, "mcp-server", KeyMode::Env, KeyHeader::XApiKey);
        let err = check(w.value.as_ref().unwrap(), &CURSOR, "cursor").unwrap_err();
        assert!(
            err.contains("\"serverUrl\" is not in the documented schema"),
            "{err}"
        );
        let mut v = vscode(URL, "mcp-server", KeyMode::Env, KeyHeader::XApiKey)
            .value
            .unwrap();
        v["servers"]["mcp-server"]["type"] = "sse".into();
        assert!(check(&v, &VSCODE, "vscode").is_err());
        let mut c = claude_api(URL, "mcp-server", KeyMode::Env, KeyHeader::Bearer)
            .value
            .unwrap();
        c["tools"][0]["mcp_server_name"] = "other".into();
        assert!(check(&c, &CLAUDE_API, "claude-api").is_err());
    }

    #[test]
    fn json_text_is_the_document_in_documented_order() {
        for (s, _) in all_snippets() {
            if s.format != Format::Json {
                continue;
            }
            let parsed: Value = serde_json::from_str(&s.text).unwrap();
            assert_eq!(Some(parsed), s.value, "{}", s.text);
        }
        let v = vscode(URL, "mcp-server", KeyMode::Env, KeyHeader::XApiKey);
        assert!(v
            .text
            .starts_with("{\n  \"inputs\": [\n    {\n      \"type\": \"promptString\","));
        assert!(v.text.contains("\n  ],\n  \"servers\": {\n"), "{}", v.text);
    }

    #[test]
    fn the_default_form_never_holds_the_key_and_inline_always_does() {
        for (s, key) in all_snippets() {
            match key {
                None => {
                    assert!(!s.text.contains(KEY), "{}", s.text);
                    assert_ne!(s.key, KeySource::Inline);
                }
                Some(key) => {
                    assert_eq!(s.key, KeySource::Inline);
                    if s.client == McpClient::ClaudeCode {
                        assert!(s.text.contains(key));
                        continue;
                    }
                    let values = header_values(&s);
                    let want = match s.header {
                        KeyHeader::XApiKey => key.to_string(),
                        KeyHeader::Bearer if s.client == McpClient::ClaudeApi => key.to_string(),
                        KeyHeader::Bearer => format!("Bearer {key}"),
                    };
                    assert_eq!(values, [want], "{:?} {}", s.client, s.text);
                }
            }
        }
    }

    #[test]
    fn kept_out_the_key_is_a_reference_each_client_expands() {
        let env = |c: McpClient, h| c.snippet(URL, "mcp-server", KeyMode::Env, h);
        let x = KeyHeader::XApiKey;
        let b = KeyHeader::Bearer;
        let first = |s: &Snippet| header_values(s).remove(0);
        assert_eq!(first(&env(McpClient::Cursor, x)), "${env:MCPCTL_API_KEY}");
        assert_eq!(
            first(&env(McpClient::Cursor, b)),
            "Bearer ${env:MCPCTL_API_KEY}"
        );
        assert_eq!(first(&env(McpClient::Windsurf, x)), "${env:MCPCTL_API_KEY}");
        assert_eq!(first(&env(McpClient::Gemini, x)), "$MCPCTL_API_KEY");
        assert_eq!(first(&env(McpClient::Gemini, b)), "Bearer $MCPCTL_API_KEY");
        assert_eq!(first(&env(McpClient::ClaudeApi, x)), KEY_PLACEHOLDER);
        assert_eq!(first(&env(McpClient::OpenAi, x)), KEY_PLACEHOLDER);

        let v = env(McpClient::VsCode, x);
        let doc = v.value.as_ref().unwrap();
        assert_eq!(doc["inputs"][0]["id"], "mcp-server-api-key");
        assert_eq!(doc["inputs"][0]["password"], true);
        assert_eq!(
            doc["servers"]["mcp-server"]["headers"]["x-api-key"],
            "${input:mcp-server-api-key}"
        );
        assert_eq!(
            v.key,
            KeySource::Prompt {
                input: "mcp-server-api-key".into()
            }
        );

        assert_eq!(
            env(McpClient::Codex, x).text,
            format!("[mcp_servers.mcp-server]\nurl = \"{URL}\"\nenv_http_headers = {{ \"x-api-key\" = \"MCPCTL_API_KEY\" }}")
        );
        assert_eq!(
            env(McpClient::Codex, b).text,
            format!("[mcp_servers.mcp-server]\nurl = \"{URL}\"\nbearer_token_env_var = \"MCPCTL_API_KEY\"")
        );
        assert_eq!(
            McpClient::Codex
                .snippet(URL, "mcp-server", KeyMode::Inline(KEY), b)
                .text,
            format!("[mcp_servers.mcp-server]\nurl = \"{URL}\"\nhttp_headers = {{ \"Authorization\" = \"Bearer {KEY}\" }}")
        );

        for (client, source) in [
            (McpClient::Cursor, "env"),
            (McpClient::ClaudeCode, "env"),
            (McpClient::Windsurf, "env"),
            (McpClient::Codex, "env"),
            (McpClient::Gemini, "env"),
            (McpClient::VsCode, "prompt"),
            (McpClient::ClaudeApi, "placeholder"),
            (McpClient::OpenAi, "placeholder"),
        ] {
            assert_eq!(env(client, x).key.word(), source, "{client:?}");
        }
    }

    #[test]
    fn claude_code_is_a_command_the_shell_expands() {
        assert_eq!(
            claude_code(T.url, T.name, KeyMode::Env, KeyHeader::XApiKey).text,
            "claude mcp add --transport http mcp-server http://127.0.0.1:8080/mcp --header \"x-api-key: ${MCPCTL_API_KEY:?set MCPCTL_API_KEY first}\""
        );
        assert_eq!(
            claude_code(T.url, T.name, KeyMode::Env, KeyHeader::Bearer).text,
            "claude mcp add --transport http mcp-server http://127.0.0.1:8080/mcp --header \"Authorization: Bearer ${MCPCTL_API_KEY:?set MCPCTL_API_KEY first}\""
        );
        assert_eq!(
            Client::ClaudeCode.snippet(&T),
            "claude mcp add --transport http mcp-server http://127.0.0.1:8080/mcp --header \"x-api-key: k123\""
        );
        let odd = Target {
            name: "my server",
            api_key: "a$b'c",
            ..T
        };
        let text = Client::ClaudeCode.snippet(&odd);
        assert!(text.contains("'my server'"), "{text}");
        assert!(text.ends_with(r"--header 'x-api-key: a$b'\''c'"), "{text}");
    }

    #[test]
    fn odd_names_stay_valid_documents() {
        let odd = "a\"b.c";
        let cursor = cursor(URL, odd, KeyMode::Env, KeyHeader::XApiKey);
        let parsed: Value = serde_json::from_str(&cursor.text).unwrap();
        assert!(parsed["mcpServers"].get(odd).is_some());
        let codex = codex(URL, odd, KeyMode::Inline("k\\\"\n"), KeyHeader::XApiKey);
        assert!(
            codex.text.starts_with("[mcp_servers.\"a\\\"b.c\"]\nurl = "),
            "{}",
            codex.text
        );
        assert!(
            codex.text.ends_with("{ \"x-api-key\" = \"k\\\\\\\"\\n\" }"),
            "{}",
            codex.text
        );
    }

    #[test]
    fn the_claude_api_sends_only_a_bearer_token() {
        assert_eq!(
            McpClient::ClaudeApi.header(Accepted::BOTH),
            Some(KeyHeader::Bearer)
        );
        assert_eq!(McpClient::ClaudeApi.header(Accepted::X_API_KEY), None);
        assert_eq!(
            McpClient::Cursor.header(Accepted::BOTH),
            Some(KeyHeader::XApiKey)
        );
        assert_eq!(
            McpClient::OpenAi.header(Accepted::BEARER),
            Some(KeyHeader::Bearer)
        );
        let s = claude_api(URL, "mcp-server", KeyMode::Inline(KEY), KeyHeader::XApiKey);
        assert_eq!(s.header, KeyHeader::Bearer);
        assert_eq!(
            McpClient::ClaudeApi.request_headers(),
            [("anthropic-beta", "mcp-client-2025-11-20")]
        );
        assert!(McpClient::ClaudeApi.location().contains(CLAUDE_MCP_BETA));
    }

    #[test]
    fn key_help_shows_the_key_only_where_the_user_needs_it() {
        for client in McpClient::ALL {
            let s = client.snippet(URL, "mcp-server", KeyMode::Env, KeyHeader::XApiKey);
            let help = s.key_help(KEY);
            match s.key {
                KeySource::Env => {
                    assert!(
                        help.ends_with(&format!("\n  export MCPCTL_API_KEY={KEY}")),
                        "{help}"
                    )
                }
                KeySource::Prompt { .. } => assert!(help.ends_with(&format!("\n  {KEY}"))),
                KeySource::Placeholder => {
                    assert!(!help.contains(KEY));
                    assert!(help.contains("--inline-key"));
                }
                KeySource::OAuth => assert!(help.ends_with(&format!("\n  {KEY}"))),
                KeySource::Inline => unreachable!(),
            }
        }
        assert_eq!(export_line("a b"), "export MCPCTL_API_KEY='a b'");
    }

    #[test]
    fn legacy_clients_write_the_key_in() {
        let c = Client::Cursor.json(&T).unwrap();
        assert_eq!(c["mcpServers"]["mcp-server"]["url"], T.url);
        assert_eq!(
            c["mcpServers"]["mcp-server"]["headers"]["x-api-key"],
            "k123"
        );
        let w = Client::Windsurf.json(&T).unwrap();
        assert_eq!(w["mcpServers"]["mcp-server"]["serverUrl"], T.url);
        let v = Client::VsCode.json(&T).unwrap();
        assert_eq!(v["servers"]["mcp-server"]["type"], "http");
        assert!(v.get("inputs").is_none());
        assert_eq!(
            Client::VsCode.snippet(&T),
            "{\n  \"servers\": {\n    \"mcp-server\": {\n      \"type\": \"http\",\n      \"url\": \"http://127.0.0.1:8080/mcp\",\n      \"headers\": {\n        \"x-api-key\": \"k123\"\n      }\n    }\n  }\n}"
        );
        assert!(Client::ClaudeCode.json(&T).is_none());
    }

    #[test]
    fn bearer_snippets_send_authorization() {
        let c = Client::Cursor.json_with(&T, KeyHeader::Bearer).unwrap();
        let headers = &c["mcpServers"]["mcp-server"]["headers"];
        assert_eq!(headers["Authorization"], "Bearer k123");
        assert!(headers.get("x-api-key").is_none());
        assert_eq!(
            Client::ClaudeCode.snippet_with(&T, KeyHeader::Bearer),
            "claude mcp add --transport http mcp-server http://127.0.0.1:8080/mcp --header \"Authorization: Bearer k123\""
        );
        for c in [Client::Cursor, Client::VsCode, Client::Windsurf] {
            let parsed: Value =
                serde_json::from_str(&c.snippet_with(&T, KeyHeader::Bearer)).unwrap();
            assert_eq!(Some(parsed), c.json_with(&T, KeyHeader::Bearer));
        }
        let all = render_all_with(&T, KeyHeader::Bearer);
        assert!(
            all.contains("\"Authorization\": \"Bearer ${env:MCPCTL_API_KEY}\""),
            "{all}"
        );
        assert!(!all.contains("x-api-key"), "{all}");
    }

    #[test]
    fn key_header_prefers_x_api_key_when_accepted() {
        let mut c = Config::default();
        assert_eq!(key_header(&c), KeyHeader::XApiKey);
        c.authorizer.accept = vec![KeyHeader::Bearer];
        assert_eq!(key_header(&c), KeyHeader::Bearer);
        c.authorizer.accept = vec![KeyHeader::XApiKey];
        assert_eq!(key_header(&c), KeyHeader::XApiKey);
    }

    #[test]
    fn render_all_has_every_local_client_and_the_export_line_once() {
        let all = render_all(&T);
        for c in McpClient::ALL {
            assert_eq!(all.contains(c.location()), !c.hosted(), "{c:?}");
        }
        assert_eq!(all.matches("export MCPCTL_API_KEY=k123").count(), 1);
        assert_eq!(all.matches("k123").count(), 1, "{all}");
        assert!(
            all.contains("Claude API and OpenAI Responses API: not for http://127.0.0.1:8080/mcp")
        );
        // A public URL gets the hosted APIs too; written in, no export line.
        let public = Target { url: URL, ..T };
        let inline = render(&public, KeyMode::Inline("k123"), KeyHeader::XApiKey);
        for c in McpClient::ALL {
            assert!(inline.contains(c.title()), "{c:?}");
        }
        assert!(!inline.contains("export"));
        assert!(inline.contains("\"authorization_token\": \"k123\""));
    }

    /// ChatGPT and claude.ai: the URL and the fields of their forms, never a key or a header,
    /// even with `--inline-key`; they need oauth mode, and in oauth mode the header clients are
    /// told the key goes as a bearer token only.
    #[test]
    fn oauth_clients_get_the_url_only() {
        let url = "https://abc.execute-api.us-east-1.amazonaws.com/mcp";
        for client in McpClient::OAUTH {
            assert!(client.oauth_only() && client.hosted());
            assert!(!McpClient::ALL.contains(&client));
            for key in [KeyMode::Env, KeyMode::Inline("k123")] {
                let s = client.snippet(url, "srv", key, KeyHeader::XApiKey);
                assert_eq!(s.format, Format::Text);
                assert_eq!(s.key, KeySource::OAuth);
                assert!(
                    !s.text.contains("k123") && !s.text.contains("x-api-key"),
                    "{}",
                    s.text
                );
                assert!(s.text.lines().any(|l| l.ends_with(&format!(": {url}"))));
                assert_eq!(s.value.as_ref().unwrap()["url"], url);
                assert!(s.key_help("k123").contains("consent page"));
            }
            assert_eq!(
                client.header(Accepted::BEARER),
                Some(KeyHeader::Bearer),
                "{client:?}"
            );
        }
        assert_eq!(
            chatgpt(url, "srv", KeyMode::Env, KeyHeader::Bearer).text,
            format!("Name: srv\nMCP Server URL: {url}\nAuthentication: OAuth")
        );
        assert_eq!(
            claude_ai(url, "srv", KeyMode::Env, KeyHeader::Bearer).text,
            format!("Name: srv\nRemote MCP server URL: {url}")
        );
        let mut config = Config::default();
        assert_eq!(auth_mode_note(&config, McpClient::Cursor), None);
        config.auth.mode = mcpctl_stack::config::AuthMode::OAuth;
        assert!(auth_mode_note(&config, McpClient::Cursor)
            .unwrap()
            .contains("`Authorization: Bearer` only"));
        assert_eq!(auth_mode_note(&config, McpClient::ChatGpt), None);
        assert_eq!(key_header(&config), KeyHeader::Bearer);
    }
}
