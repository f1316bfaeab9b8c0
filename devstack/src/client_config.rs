//! Ready-to-paste MCP client configurations for an endpoint and key: one function per client so
//! `mcpctl dev` and any later `mcpctl config` print exactly the same snippets.

use serde_json::{json, Value};

/// What a client needs to reach one MCP server.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The name the server gets in the client's list.
    pub name: &'a str,
    /// The full MCP endpoint, e.g. `http://127.0.0.1:8080/mcp`.
    pub url: &'a str,
    pub api_key: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Cursor,
    VsCode,
    ClaudeCode,
    Windsurf,
}

impl Client {
    pub const ALL: [Client; 4] = [
        Client::Cursor,
        Client::VsCode,
        Client::ClaudeCode,
        Client::Windsurf,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Client::Cursor => "Cursor",
            Client::VsCode => "VS Code",
            Client::ClaudeCode => "Claude Code",
            Client::Windsurf => "Windsurf",
        }
    }

    /// Where the snippet goes.
    pub fn location(self) -> &'static str {
        match self {
            Client::Cursor => ".cursor/mcp.json",
            Client::VsCode => ".vscode/mcp.json",
            Client::ClaudeCode => "run in a terminal",
            Client::Windsurf => "~/.codeium/windsurf/mcp_config.json",
        }
    }

    /// The snippet itself: pretty JSON for file-based clients, a command for Claude Code.
    pub fn snippet(self, target: &Target<'_>) -> String {
        match self.json(target) {
            Some(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()),
            None => format!(
                "claude mcp add --transport http {} {} --header \"x-api-key: {}\"",
                shell_word(target.name),
                shell_word(target.url),
                target.api_key
            ),
        }
    }

    /// The JSON document for clients configured by a file.
    pub fn json(self, t: &Target<'_>) -> Option<Value> {
        let headers = json!({ "x-api-key": t.api_key });
        match self {
            Client::Cursor => Some(json!({
                "mcpServers": { t.name: { "url": t.url, "headers": headers } }
            })),
            // Current VS Code speaks Streamable HTTP as "http" (not "sse").
            Client::VsCode => Some(json!({
                "servers": { t.name: { "type": "http", "url": t.url, "headers": headers } }
            })),
            Client::Windsurf => Some(json!({
                "mcpServers": { t.name: { "serverUrl": t.url, "headers": headers } }
            })),
            Client::ClaudeCode => None,
        }
    }
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

/// All snippets, titled, as `mcpctl dev` prints them.
pub fn render_all(target: &Target<'_>) -> String {
    let mut out = String::new();
    for client in Client::ALL {
        out.push_str(&format!("{} ({}):\n", client.title(), client.location()));
        out.push_str(&client.snippet(target));
        out.push_str("\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Target<'static> = Target {
        name: "mcp-server",
        url: "http://127.0.0.1:8080/mcp",
        api_key: "k123",
    };

    #[test]
    fn cursor_and_windsurf_differ_only_in_url_key() {
        let c = Client::Cursor.json(&T).unwrap();
        assert_eq!(c["mcpServers"]["mcp-server"]["url"], T.url);
        assert_eq!(
            c["mcpServers"]["mcp-server"]["headers"]["x-api-key"],
            "k123"
        );
        let w = Client::Windsurf.json(&T).unwrap();
        assert_eq!(w["mcpServers"]["mcp-server"]["serverUrl"], T.url);
        assert!(w["mcpServers"]["mcp-server"].get("url").is_none());
    }

    #[test]
    fn vscode_uses_http_type() {
        let v = Client::VsCode.json(&T).unwrap();
        assert_eq!(v["servers"]["mcp-server"]["type"], "http");
        assert_eq!(v["servers"]["mcp-server"]["headers"]["x-api-key"], "k123");
    }

    #[test]
    fn claude_code_is_a_command() {
        assert_eq!(
            Client::ClaudeCode.snippet(&T),
            "claude mcp add --transport http mcp-server http://127.0.0.1:8080/mcp --header \"x-api-key: k123\""
        );
        let odd = Target {
            name: "my server",
            ..T
        };
        assert!(Client::ClaudeCode.snippet(&odd).contains("'my server'"));
    }

    #[test]
    fn render_all_has_every_client() {
        let all = render_all(&T);
        for c in Client::ALL {
            assert!(all.contains(c.location()));
        }
    }
}
