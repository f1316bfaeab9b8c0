//! Ready-to-paste MCP client configurations for an endpoint and key: one function per client so
//! `mcpctl dev` and any later `mcpctl config` print exactly the same snippets.

use serde_json::Value;

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

    /// The snippet itself: pretty JSON for file-based clients (keys in the order the clients'
    /// documentation shows them), a command for Claude Code.
    pub fn snippet(self, target: &Target<'_>) -> String {
        match self.document(target) {
            Some(doc) => doc.pretty(0),
            None => format!(
                "claude mcp add --transport http {} {} --header \"x-api-key: {}\"",
                shell_word(target.name),
                shell_word(target.url),
                target.api_key
            ),
        }
    }

    /// The JSON document for clients configured by a file.
    pub fn json(self, target: &Target<'_>) -> Option<Value> {
        self.document(target).map(|d| d.value())
    }

    fn document<'a>(self, t: &Target<'a>) -> Option<Doc<'a>> {
        let headers = || Doc::Object(vec![("x-api-key", Doc::Str(t.api_key))]);
        let server = match self {
            Client::Cursor => Doc::Object(vec![("url", Doc::Str(t.url)), ("headers", headers())]),
            // Current VS Code speaks Streamable HTTP as "http" (not "sse").
            Client::VsCode => Doc::Object(vec![
                ("type", Doc::Str("http")),
                ("url", Doc::Str(t.url)),
                ("headers", headers()),
            ]),
            Client::Windsurf => {
                Doc::Object(vec![("serverUrl", Doc::Str(t.url)), ("headers", headers())])
            }
            Client::ClaudeCode => return None,
        };
        let list = if self == Client::VsCode {
            "servers"
        } else {
            "mcpServers"
        };
        Some(Doc::Object(vec![(
            list,
            Doc::Object(vec![(t.name, server)]),
        )]))
    }
}

/// A JSON document that keeps its keys in order (serde_json's map sorts them).
enum Doc<'a> {
    Str(&'a str),
    Object(Vec<(&'a str, Doc<'a>)>),
}

impl Doc<'_> {
    fn value(&self) -> Value {
        match self {
            Doc::Str(s) => Value::String(s.to_string()),
            Doc::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.value()))
                    .collect(),
            ),
        }
    }

    /// Two-space indentation, like `serde_json::to_string_pretty`.
    fn pretty(&self, depth: usize) -> String {
        match self {
            Doc::Str(s) => Value::String(s.to_string()).to_string(),
            Doc::Object(fields) => {
                let pad = "  ".repeat(depth + 1);
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{pad}{}: {}",
                            Value::String(k.to_string()),
                            v.pretty(depth + 1)
                        )
                    })
                    .collect();
                format!("{{\n{}\n{}}}", body.join(",\n"), "  ".repeat(depth))
            }
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
    fn snippets_are_valid_json_in_documented_order() {
        let text = Client::VsCode.snippet(&T);
        assert_eq!(
            text,
            "{\n  \"servers\": {\n    \"mcp-server\": {\n      \"type\": \"http\",\n      \"url\": \"http://127.0.0.1:8080/mcp\",\n      \"headers\": {\n        \"x-api-key\": \"k123\"\n      }\n    }\n  }\n}"
        );
        for c in [Client::Cursor, Client::VsCode, Client::Windsurf] {
            let parsed: Value = serde_json::from_str(&c.snippet(&T)).unwrap();
            assert_eq!(Some(parsed), c.json(&T));
        }
        let odd = Target { name: "a\"b", ..T };
        let parsed: Value = serde_json::from_str(&Client::Cursor.snippet(&odd)).unwrap();
        assert!(parsed["mcpServers"].get("a\"b").is_some());
    }

    #[test]
    fn render_all_has_every_client() {
        let all = render_all(&T);
        for c in Client::ALL {
            assert!(all.contains(c.location()));
        }
    }
}
