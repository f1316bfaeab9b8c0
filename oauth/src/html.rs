//! The consent page and the error page: plain HTML, every value escaped, never framed, never
//! cached, no script.

use mcpctl_stack::oauth::AUTHORIZE_PATH;

use crate::http::Response;
use crate::server::Client;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: u16, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em}}\
         code{{word-break:break-all}}.error{{color:#b00}}</style></head><body>\n{body}\n</body></html>\n",
        escape(title)
    );
    Response::new(status, "text/html; charset=utf-8", html)
        .with("cache-control", "no-store")
        .with("x-frame-options", "DENY")
        .with(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        )
        .with("referrer-policy", "no-referrer")
        .with("x-content-type-options", "nosniff")
}

pub fn error_page(status: u16, message: &str) -> Response {
    page(
        status,
        "Authorization failed",
        &format!(
            "<h1>Authorization failed</h1>\n<p class=\"error\">{}</p>",
            escape(message)
        ),
    )
}

/// The page the owner approves on: who asks, where the grant goes, for what; the form carries
/// the signed consent token and takes the API key.
pub fn consent_page(
    client: &Client,
    redirect_uri: &str,
    resource: &str,
    consent_token: &str,
    error: Option<&str>,
) -> Response {
    let name = client.name.as_deref().unwrap_or("An unnamed client");
    let provenance = if client.metadata_document {
        format!(
            "Its metadata is published at <code>{}</code>.",
            escape(&client.id)
        )
    } else {
        "It registered itself: the name is its own claim, not verified.".to_string()
    };
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Allow access to this MCP server?</h1>\n\
         <p><strong>{name}</strong> asks for access to <code>{resource}</code>. {provenance}</p>\n\
         <p>If you approve, the grant is sent to <code>{redirect}</code>.</p>\n\
         {error}<form method=\"post\" action=\"{action}\">\n\
         <input type=\"hidden\" name=\"consent\" value=\"{token}\">\n\
         <p><label>The stack's API key: <input type=\"password\" name=\"api_key\" autocomplete=\"off\" required></label></p>\n\
         <p><button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button></p>\n\
         </form>",
        name = escape(name),
        resource = escape(resource),
        redirect = escape(redirect_uri),
        action = AUTHORIZE_PATH,
        token = escape(consent_token),
    );
    page(200, "Allow access?", &body)
}
