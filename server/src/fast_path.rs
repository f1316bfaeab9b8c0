//! Plain `tools/list` and `tools/call` requests without rmcp's per-request transport machinery.
//!
//! Profiling the server under load showed most of each request going to rmcp's stateless HTTP
//! path: a serve loop, channels and three spawned tasks per request, the allocations that come
//! with them, and for `tools/list` re-serialising the same 2.8 KB of schemas. This module
//! removes that for the two requests clients repeat, without deciding anything rmcp decides:
//!
//! - A request is *plain* when its body is exactly `jsonrpc`, `id`, `method` and the usual
//!   params (no `_meta`, cursor, task or unknown field) and it carries no `Origin` and no
//!   `Mcp-*` header but `MCP-Protocol-Version`. For such a request rmcp's transport checks
//!   depend only on the `Host`, `Accept`, `Content-Type` and `MCP-Protocol-Version` values: the
//!   *key*.
//! - The first plain request of each method and key always goes through rmcp. Only if rmcp
//!   answers it with a JSON-RPC response (200, `application/json`) is the key trusted for that
//!   method; refusals are never remembered, so they keep coming from rmcp.
//! - `tools/list`: the tool table is fixed for the life of the process, so rmcp's answer is
//!   kept and replayed with the new request's id.
//! - `tools/call`: the request is parsed with rmcp's own types and dispatched through rmcp's own
//!   `Service::handle_request` (so the same tool router, argument checks and error mapping) with
//!   the context rmcp's stateless transport would build; only the per-request serve loop is
//!   skipped. That loop is what carries messages a tool sends to the client while it runs, so
//!   only tools listed in [`QUIET_TOOLS`] are called this way.
//!
//! Unit tests below send the same requests through rmcp alone and through this path and require
//! identical status, headers and bytes.

use std::sync::{Arc, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig, ClientJsonRpcMessage,
    ClientRequest, GetExtensions, GetMeta, Implementation, ProtocolVersion, RequestId,
    ServerJsonRpcMessage,
};
use rmcp::service::{serve_directly, Peer, RequestContext};
use rmcp::{RoleServer, Service};
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::tools::{McpServer, QUIET_TOOLS};

/// The fast path as a middleware on the `/mcp` route, inside the library's body checks
/// (`mcpctl_server::http::router_with`): it sees only a buffered JSON body of one JSON-RPC object.
pub async fn middleware(
    State(fast_path): State<Arc<FastPath>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != axum::http::Method::POST
        || !mcpctl_server::http::is_json_content_type(request.headers())
    {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, mcpctl_server::http::MAX_BODY_BYTES).await else {
        return mcpctl_server::http::internal_error();
    };
    let plain = Plain::recognize(&bytes, &parts.headers);
    if let Some(plain) = &plain {
        match plain.method {
            Method::ToolsList => {
                if let Some(answer) = fast_path.tools_list(plain) {
                    return answer;
                }
            }
            Method::ToolsCall => {
                if let Some(call) = fast_path.prepare_call(plain, &bytes) {
                    return call.run(parts).await;
                }
            }
        }
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    match plain {
        Some(plain) => remember(&fast_path, plain, response).await,
        None => response,
    }
}

/// Shows rmcp's answer to the fast path and hands it on to the client unchanged.
async fn remember(fast_path: &FastPath, plain: Plain, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    // rmcp answers a JSON request with one complete body; a stream (SSE) is passed on as is.
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/json");
    if !is_json {
        return Response::from_parts(parts, body);
    }
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            fast_path.remember(plain, parts.status, &parts.headers, &bytes);
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(_) => mcpctl_server::http::internal_error(),
    }
}

/// Distinct keys kept; a real deployment sees one or two.
const MAX_KEYS: usize = 16;

/// The headers rmcp reads for a plain POST, compared byte for byte.
const KEY_HEADERS: [&str; 4] = ["host", "accept", "content-type", PROTOCOL_VERSION_HEADER];
const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";

/// The start of every JSON-RPC response rmcp writes; the id follows it.
const BODY_START: &[u8] = br#"{"jsonrpc":"2.0","id":"#;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key([Option<HeaderValue>; 4]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    ToolsList,
    ToolsCall,
}

/// A plain request: what it asks and under which key.
#[derive(Debug)]
pub struct Plain {
    pub method: Method,
    pub id: RequestId,
    pub key: Key,
}

/// rmcp's successful answer for one key: the status and headers to repeat.
#[derive(Debug, Clone)]
struct Answer {
    status: StatusCode,
    /// Without `content-length`: hyper sets it for each body.
    headers: HeaderMap,
}

#[derive(Debug)]
struct Entry {
    key: Key,
    /// rmcp's `tools/list` answer and its body after the id: `,"result":{...}}`.
    tools_list: Option<(Answer, Bytes)>,
    /// rmcp's `tools/call` answer shape, and the client stand-in handed to tools.
    tools_call: Option<(Answer, Peer<RoleServer>)>,
}

#[derive(Debug, Default)]
pub struct FastPath {
    entries: RwLock<Vec<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainBody<'a> {
    jsonrpc: &'a str,
    id: RequestId,
    method: &'a str,
    /// Absent or an object; `null` and other types fail here and go to rmcp.
    #[serde(default, borrow)]
    params: PlainParams<'a>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PlainParams<'a> {
    #[serde(borrow)]
    name: Option<&'a str>,
    /// Checked by rmcp's parser and the tool router, exactly as without the fast path.
    arguments: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct CallBody {
    params: CallToolRequestParams,
}

/// A `tools/call` parsed by rmcp's own types, ready to run.
pub struct PreparedCall {
    request: ClientRequest,
    id: RequestId,
    answer: Answer,
    peer: Peer<RoleServer>,
}

impl Plain {
    /// `Some` when `body` and `headers` make a plain `tools/list` or `tools/call`.
    pub fn recognize(body: &[u8], headers: &HeaderMap) -> Option<Self> {
        // serde reads a struct from a JSON array too; a JSON-RPC request is an object.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        let request: PlainBody = serde_json::from_slice(body).ok()?;
        if request.jsonrpc != "2.0" {
            return None;
        }
        let params = request.params;
        let method = match request.method {
            "tools/list" if params.name.is_none() && params.arguments.is_none() => {
                Method::ToolsList
            }
            "tools/call" if params.name.is_some_and(|name| QUIET_TOOLS.contains(&name)) => {
                Method::ToolsCall
            }
            _ => return None,
        };
        // Origins are matched against patterns, sessions and the per-request `Mcp-*` headers
        // of newer revisions against the body: leave those requests to rmcp.
        if headers.contains_key(axum::http::header::ORIGIN)
            || headers.keys().any(|name| {
                name.as_str().starts_with("mcp-") && name.as_str() != PROTOCOL_VERSION_HEADER
            })
        {
            return None;
        }
        let mut key: [Option<HeaderValue>; 4] = Default::default();
        for (slot, name) in key.iter_mut().zip(KEY_HEADERS) {
            let mut values = headers.get_all(name).iter();
            *slot = values.next().cloned();
            if values.next().is_some() {
                return None;
            }
        }
        Some(Self {
            method,
            id: request.id,
            key: Key(key),
        })
    }
}

impl FastPath {
    /// The kept `tools/list` answer for a plain request, carrying its id.
    pub fn tools_list(&self, plain: &Plain) -> Option<Response> {
        let entries = self.entries.read().ok()?;
        let (answer, after_id) = entries
            .iter()
            .find(|e| e.key == plain.key)?
            .tools_list
            .as_ref()?;
        let id = serde_json::to_vec(&plain.id).ok()?;
        let mut body = Vec::with_capacity(BODY_START.len() + id.len() + after_id.len());
        body.extend_from_slice(BODY_START);
        body.extend_from_slice(&id);
        body.extend_from_slice(after_id);
        Some(answer.response(body))
    }

    /// A plain `tools/call` whose key rmcp has already accepted, typed as rmcp types it.
    pub fn prepare_call(&self, plain: &Plain, body: &[u8]) -> Option<PreparedCall> {
        let (answer, peer) = {
            let entries = self.entries.read().ok()?;
            let (answer, peer) = entries
                .iter()
                .find(|e| e.key == plain.key)?
                .tools_call
                .as_ref()?;
            (answer.clone(), peer.clone())
        };
        // `recognize` has checked the envelope (jsonrpc, id, method, no `_meta` or task), so
        // the typed request is rmcp's own params type with nothing beside it: what rmcp's
        // message parser builds, without its trial-and-error over every message kind.
        let CallBody { params } = serde_json::from_slice(body).ok()?;
        Some(PreparedCall {
            id: plain.id.clone(),
            request: ClientRequest::CallToolRequest(CallToolRequest::new(params)),
            answer,
            peer,
        })
    }

    /// Keeps what rmcp answered to a plain request, if it is a JSON-RPC response.
    pub fn remember(&self, plain: Plain, status: StatusCode, headers: &HeaderMap, body: &Bytes) {
        if status != StatusCode::OK {
            return;
        }
        let Ok(id) = serde_json::to_vec(&plain.id) else {
            return;
        };
        let Some(after_id) = body
            .strip_prefix(BODY_START)
            .and_then(|rest| rest.strip_prefix(id.as_slice()))
            .filter(|rest| rest.starts_with(b","))
        else {
            return;
        };
        let after_id = body.slice(body.len() - after_id.len()..);
        let mut headers = headers.clone();
        headers.remove(axum::http::header::CONTENT_LENGTH);
        let answer = Answer { status, headers };
        let known = |entries: &Vec<Entry>| {
            entries.iter().any(|e| {
                e.key == plain.key
                    && match plain.method {
                        Method::ToolsList => e.tools_list.is_some(),
                        Method::ToolsCall => e.tools_call.is_some(),
                    }
            })
        };
        if self.entries.read().map_or(true, |e| known(&e)) {
            return;
        }
        // Built before taking the write lock: it spawns.
        let peer = (plain.method == Method::ToolsCall).then(|| detached_peer(&plain.key));
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        let index = match entries.iter().position(|e| e.key == plain.key) {
            Some(i) => i,
            None if entries.len() < MAX_KEYS => {
                entries.push(Entry {
                    key: plain.key,
                    tools_list: None,
                    tools_call: None,
                });
                entries.len() - 1
            }
            None => return,
        };
        let entry = &mut entries[index];
        match peer {
            None => {
                entry.tools_list.get_or_insert((answer, after_id));
            }
            Some(peer) => {
                entry.tools_call.get_or_insert((answer, peer));
            }
        }
    }

    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        self.entries
            .read()
            .map(|e| {
                (
                    e.iter().filter(|e| e.tools_list.is_some()).count(),
                    e.iter().filter(|e| e.tools_call.is_some()).count(),
                )
            })
            .unwrap_or_default()
    }
}

impl PreparedCall {
    /// Runs the call the way rmcp's serve loop does and writes the response rmcp would.
    pub async fn run(self, parts: Parts) -> Response {
        let Self {
            mut request,
            id,
            answer,
            peer,
        } = self;
        let mut context = RequestContext::new(id.clone(), peer);
        context.meta = std::mem::take(request.get_meta_mut());
        context.extensions = std::mem::take(request.extensions_mut());
        // rmcp hands tools the HTTP request parts the same way.
        context.extensions.insert(parts);
        let message = match McpServer.handle_request(request, context).await {
            Ok(result) => ServerJsonRpcMessage::response(result, id),
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        match serde_json::to_vec(&message) {
            Ok(body) => answer.response(body),
            Err(_) => mcpctl_server::http::internal_error(),
        }
    }
}

impl Answer {
    fn response(&self, body: Vec<u8>) -> Response {
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// The client as rmcp's stateless transport describes it for a request under `key` (version
/// from `MCP-Protocol-Version`, else 2025-03-26), with no connection behind it: a quiet tool
/// never writes to it.
fn detached_peer(key: &Key) -> Peer<RoleServer> {
    let version = key.0[3]
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|s| serde_json::from_value(serde_json::Value::String(s.to_owned())).ok())
        .unwrap_or(ProtocolVersion::V_2025_03_26);
    let info = ClientConfig::new(ClientCapabilities::default(), Implementation::default())
        .with_protocol_version(version);
    let transport = (
        futures::sink::drain::<ServerJsonRpcMessage>(),
        futures::stream::pending::<ClientJsonRpcMessage>(),
    );
    // Dropping the running service stops its (idle) loop at once; the peer keeps the info.
    serve_directly(McpServer, transport, Some(info))
        .peer()
        .clone()
}

#[cfg(test)]
mod tests {
    //! The fast path must be invisible: every request gets the same status, headers and bytes
    //! through it as from rmcp alone.

    use axum::http::Request;
    use mcpctl_server::http::{router_with, HttpOptions};
    use tower::ServiceExt;

    use super::*;

    /// The server's router with this fast path, or with rmcp alone.
    fn router_with_fast_path(
        options: HttpOptions,
        fast_path: Option<Arc<FastPath>>,
    ) -> axum::Router {
        router_with(Arc::new(McpServer), options, |mcp| match fast_path {
            Some(fast_path) => {
                mcp.route_layer(axum::middleware::from_fn_with_state(fast_path, middleware))
            }
            None => mcp,
        })
    }

    type Reply = (StatusCode, Vec<(String, Vec<u8>)>, Vec<u8>);

    async fn send(router: &axum::Router, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut request = Request::post("/mcp");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let mut headers: Vec<(String, Vec<u8>)> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect();
        headers.sort();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        (status, headers, body)
    }

    /// get_server_status differs between any two calls in its clock fields only.
    fn without_clock(body: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(body);
        let mut out = String::new();
        let mut rest: &str = &text;
        // Blank the values of "timestamp" and "uptime_s" (plain and JSON-escaped in "text").
        while let Some(pos) = ["timestamp", "uptime_s"]
            .iter()
            .filter_map(|f| rest.find(f).map(|p| (p, f.len())))
            .min()
        {
            let (start, len) = pos;
            let value_start = start + len;
            out.push_str(&rest[..value_start]);
            let tail = &rest[value_start..];
            let end = tail.find([',', '}']).unwrap_or(tail.len());
            out.push('#');
            rest = &tail[end..];
        }
        out.push_str(rest);
        out.into_bytes()
    }

    fn list(id: &str) -> String {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#)
    }

    fn call(id: &str, name: &str, arguments: &str) -> String {
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{arguments}}}}}"#
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_are_byte_identical_to_rmcp_alone() {
        let fast_path = Arc::new(FastPath::default());
        let fast = router_with_fast_path(HttpOptions::local(Vec::new()), Some(fast_path.clone()));
        let plain = router_with_fast_path(HttpOptions::local(Vec::new()), None);

        let base: Vec<(&str, &str)> = vec![
            ("host", "127.0.0.1:8080"),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut h = base.clone();
            for (name, value) in extra {
                h.retain(|(n, _)| n != name);
                h.push((name, value));
            }
            h
        };
        let header_sets = [
            base.clone(),
            with(&[("mcp-protocol-version", "2025-06-18")]),
            with(&[("mcp-protocol-version", "2025-11-25")]),
            with(&[("mcp-protocol-version", "2025-03-26")]),
            with(&[("mcp-protocol-version", "2026-07-28")]),
            with(&[("mcp-protocol-version", "1999-01-01")]),
            with(&[("host", "localhost")]),
            with(&[("host", "evil.example")]),
            with(&[("accept", "text/event-stream, application/json")]),
            with(&[("accept", "application/json")]),
            with(&[("accept", "application/json;q=0, text/event-stream")]),
            with(&[("content-type", "application/json; charset=utf-8")]),
            with(&[("origin", "http://evil.example")]),
            with(&[("origin", "http://localhost:6274")]),
            with(&[("mcp-method", "tools/list")]),
            with(&[("mcp-session-id", "abc")]),
        ];
        let calc = r#"{"operation":"multiply","a":6,"b":7}"#;
        let bodies = [
            list("1"),
            list("2"),
            list("0"),
            list("-7"),
            list("9223372036854775807"),
            list("9223372036854775808"),
            list("1.0"),
            list("1e2"),
            list("1.5"),
            list("null"),
            list(r#""abc""#),
            list(r#""""#),
            list(r#""quote \" and \u00e9 and \n""#),
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":null}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"x"}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":{"progressToken":1}}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","extra":true}"#.to_owned(),
            r#"{"jsonrpc":"1.0","id":3,"method":"tools/list"}"#.to_owned(),
            r#"{"id":4,"method":"tools/list","jsonrpc":"2.0"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","method":"tools/list"}"#.to_owned(),
            call("5", "calculate", calc),
            call("6", "calculate", calc),
            call(r#""s""#, "calculate", calc),
            call("1.0", "calculate", calc),
            call("null", "calculate", calc),
            call("7", "calculate", r#"{"operation":"divide","a":1,"b":0}"#),
            call("7", "calculate", r#"{"operation":"pow","a":1,"b":2}"#),
            call("7", "calculate", r#"{"operation":"add","a":"x","b":2}"#),
            call("7", "calculate", r#"{"operation":"add","a":1}"#),
            call("7", "calculate", r#"{"operation":"add","a":1,"b":2,"c":3}"#),
            call("7", "calculate", r#"{}"#),
            call("7", "calculate", "5"),
            call("7", "calculate", "null"),
            call("7", "calculate", "[]"),
            call("8", "get_weather", r#"{"city":"Kyiv"}"#),
            call("8", "get_weather", r#"{"city":"  "}"#),
            call("8", "get_weather", r#"{"town":"Kyiv"}"#),
            call("9", "lookup_user", r#"{"user_id":"2"}"#),
            call("9", "lookup_user", r#"{"user_id":"999"}"#),
            call("10", "get_server_status", "{}"),
            call("11", "no_such_tool", "{}"),
            r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"calculate"}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"arguments":{}}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"get_server_status","arguments":{},"_meta":{"progressToken":1}}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"get_server_status","arguments":{},"task":{}}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":null}"#.to_owned(),
        ];

        // Twice over: the first pass teaches the fast path, the second is answered by it.
        for pass in 0..2 {
            for headers in &header_sets {
                for body in &bodies {
                    let expected = send(&plain, headers, body).await;
                    let got = send(&fast, headers, body).await;
                    let (expected, got) = if body.contains("get_server_status") {
                        (
                            (expected.0, expected.1, without_clock(&expected.2)),
                            (got.0, got.1, without_clock(&got.2)),
                        )
                    } else {
                        (expected, got)
                    };
                    assert_eq!(
                        got,
                        expected,
                        "pass {pass}, headers {headers:?}, body {body}\ngot  {}\nwant {}",
                        String::from_utf8_lossy(&got.2),
                        String::from_utf8_lossy(&expected.2)
                    );
                }
            }
        }
        // Only header combinations rmcp accepted were learnt: base, three known versions,
        // localhost, the reordered Accept and the charset; for both methods.
        assert_eq!(fast_path.counts(), (7, 7));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn learnt_answers_carry_the_new_id_and_the_real_result() {
        let fast_path = Arc::new(FastPath::default());
        let fast = router_with_fast_path(HttpOptions::local(Vec::new()), Some(fast_path.clone()));
        let headers = [
            ("host", "127.0.0.1"),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        let (status, _, first) = send(&fast, &headers, &list("1")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, _, second) = send(&fast, &headers, &list(r#""x""#)).await;
        let first: serde_json::Value = serde_json::from_slice(&first).unwrap();
        let second: serde_json::Value = serde_json::from_slice(&second).unwrap();
        assert_eq!(second["id"], "x");
        assert_eq!(first["result"], second["result"]);
        // The four real tools; the conformance build adds the suite's fixtures.
        let tools = if cfg!(feature = "conformance") {
            crate::tools::tool_router().list_all().len()
        } else {
            4
        };
        assert_eq!(
            first["result"]["tools"].as_array().map(Vec::len),
            Some(tools)
        );

        send(
            &fast,
            &headers,
            &call("1", "calculate", r#"{"operation":"add","a":1,"b":1}"#),
        )
        .await;
        assert_eq!(fast_path.counts(), (1, 1));
        let (status, _, body) = send(
            &fast,
            &headers,
            &call("42", "calculate", r#"{"operation":"multiply","a":6,"b":7}"#),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["id"], 42);
        assert_eq!(v["result"]["structuredContent"]["result"], 42.0);
    }

    #[test]
    fn only_quiet_tools_and_plain_shapes_are_recognized() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1"));
        let recognized = |body: &str, headers: &HeaderMap| {
            Plain::recognize(body.as_bytes(), headers).map(|p| p.method)
        };
        assert_eq!(recognized(&list("1"), &headers), Some(Method::ToolsList));
        assert_eq!(
            recognized(&call("1", "calculate", "{}"), &headers),
            Some(Method::ToolsCall)
        );
        assert_eq!(recognized(&call("1", "not_quiet", "{}"), &headers), None);
        assert_eq!(recognized(r#"["2.0", 1, "tools/list"]"#, &headers), None);
        assert_eq!(
            recognized(
                r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
                &headers
            ),
            None
        );
        let mut with_origin = headers.clone();
        with_origin.insert("origin", HeaderValue::from_static("http://localhost"));
        assert_eq!(recognized(&list("1"), &with_origin), None);
        let mut twice = headers.clone();
        twice.append("host", HeaderValue::from_static("localhost"));
        assert_eq!(recognized(&list("1"), &twice), None);
    }
}
