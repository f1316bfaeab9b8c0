//! The API Gateway HTTP API v2 data plane: route selection from the shared route table, the
//! REQUEST authorizer with its result cache, the AWS_PROXY integration, and API Gateway's own
//! error responses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::body::{read_limited, BodyError};
use crate::cors::Cors;
use crate::event::{self, ApiIdentity, GatewayRequest};
use crate::function::{Function, InvokeError, InvokeFailure};
use crate::{clock, ids, Log};

/// API Gateway HTTP APIs accept request payloads up to 10 MB.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// API Gateway HTTP APIs end every integration at 30 s.
pub const INTEGRATION_LIMIT: Duration = Duration::from_secs(30);

/// How the gateway behaves: what deploy configures on the HTTP API.
pub struct GatewaySettings {
    pub api: ApiIdentity,
    /// The OAuth routes (`mcpctl_stack::oauth::routes`): to the oauth function, no authorizer.
    pub oauth_routes: &'static [mcpctl_stack::Route],
    /// The authorizer's identity sources (`mcpctl_stack::auth::identity_sources`): a request
    /// missing any of them is refused with 401 before the authorizer runs, and their values are
    /// the result cache key. None: every request reaches the authorizer.
    pub identity_sources: Vec<String>,
    /// The authorizer result cache TTL (`mcpctl_stack::auth::effective_cache_ttl_s`; zero: off).
    /// API Gateway caches only with at least one identity source, and so does this gateway.
    pub cache_ttl: Duration,
    pub cors: Option<Cors>,
    pub integration_limit: Duration,
    /// For `x-forwarded-port`.
    pub local_port: u16,
}

pub struct Gateway {
    settings: GatewaySettings,
    pub server: Arc<Function>,
    pub authorizer: Arc<Function>,
    /// The oauth function, with `[auth] mode = "oauth"`.
    pub oauth: Option<Arc<Function>>,
    /// Verdicts by identity source values.
    cache: Mutex<HashMap<Vec<String>, (Instant, event::AuthDecision)>>,
    log: Log,
}

/// How the request was authorised, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// No route, or no identity: the authorizer was not asked.
    None,
    Allow,
    Deny,
    CachedAllow,
    CachedDeny,
    Error,
}

impl Auth {
    fn as_str(self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Allow => "allow",
            Auth::Deny => "deny",
            Auth::CachedAllow => "allow(cached)",
            Auth::CachedDeny => "deny(cached)",
            Auth::Error => "error",
        }
    }
}

/// API Gateway's own error bodies.
fn gateway_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        serde_json::json!({ "message": message }).to_string(),
    )
        .into_response()
}

fn internal_error() -> Response {
    gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why the authorizer step stopped a request.
struct Rejection {
    status: StatusCode,
    message: &'static str,
    auth: Auth,
}

struct Outcome {
    response: Response,
    route: String,
    auth: Auth,
    /// `cold server#1` / `warm server#2`, when the integration ran.
    integration: Option<String>,
    /// Answered by the gateway's CORS handling, which sets its own headers.
    preflight: bool,
}

impl Gateway {
    pub fn new(
        settings: GatewaySettings,
        server: Arc<Function>,
        authorizer: Arc<Function>,
        oauth: Option<Arc<Function>>,
        log: Log,
    ) -> Self {
        Self {
            settings,
            server,
            authorizer,
            oauth,
            cache: Mutex::new(HashMap::new()),
            log,
        }
    }

    async fn handle(&self, source: SocketAddr, request: Request) -> Response {
        let started = Instant::now();
        let request_id = ids::api_request_id();
        let origin_headers = self
            .settings
            .cors
            .as_ref()
            .map(|_| request.headers().clone());
        let outcome = self.route(source, request, &request_id, started).await;
        let mut response = outcome.response;
        if let (Some(cors), Some(headers)) = (&self.settings.cors, &origin_headers) {
            if !outcome.preflight {
                cors.decorate(headers, &mut response);
            }
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("apigw-requestid", v);
        }
        self.log.line(&format!(
            "[api] {} {} auth={} {} ms{}",
            outcome.route,
            response.status().as_u16(),
            outcome.auth.as_str(),
            started.elapsed().as_millis(),
            outcome
                .integration
                .map(|i| format!(" {i}"))
                .unwrap_or_default(),
        ));
        response
    }

    async fn route(
        &self,
        source: SocketAddr,
        request: Request,
        request_id: &str,
        started: Instant,
    ) -> Outcome {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        if let Some(cors) = &self.settings.cors {
            if let Some(response) = cors.preflight(&parts.method, &parts.headers) {
                return Outcome {
                    response,
                    route: format!("{} {path} (CORS preflight)", parts.method),
                    auth: Auth::None,
                    integration: None,
                    preflight: true,
                };
            }
        }
        let oauth_route = self
            .settings
            .oauth_routes
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(parts.method.as_str()) && r.path == path);
        let Some(route) = mcpctl_stack::routes::find(parts.method.as_str(), &path).or(oauth_route)
        else {
            return Outcome {
                response: gateway_error(StatusCode::NOT_FOUND, "Not Found"),
                route: format!("{} {path}", parts.method),
                auth: Auth::None,
                integration: None,
                preflight: false,
            };
        };
        let route_key = route.key();
        let done = |response, auth, integration| Outcome {
            response,
            route: route_key.clone(),
            auth,
            integration,
            preflight: false,
        };
        let body = match read_limited(body, MAX_REQUEST_BYTES).await {
            Ok(b) => b,
            Err(BodyError::TooLarge(_)) => {
                return done(
                    gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
                    Auth::None,
                    None,
                )
            }
            Err(BodyError::Read(_)) => {
                return done(
                    gateway_error(StatusCode::BAD_REQUEST, "Bad Request"),
                    Auth::None,
                    None,
                )
            }
        };
        let now_ms = clock::now_ms();
        let req = GatewayRequest {
            method: parts.method.to_string(),
            path,
            raw_query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts.headers,
            body,
            source_ip: source.ip().to_string(),
            local_port: self.settings.local_port,
            request_id: request_id.to_string(),
            trace_id: ids::trace_id(now_ms),
            time_epoch_ms: now_ms,
        };
        let deadline = started + self.settings.integration_limit;

        // The OAuth routes have no authorizer: they are how a client gets a token.
        let (auth, context, function) = match (oauth_route.is_some(), &self.oauth) {
            (true, Some(oauth)) => (Auth::None, None, oauth),
            _ => match self.authorize(&req, &route_key, deadline).await {
                Ok((auth, context)) => (auth, context, &self.server),
                Err(r) => return done(gateway_error(r.status, r.message), r.auth, None),
            },
        };

        let event =
            event::integration_event(&req, &self.settings.api, &route_key, context.as_ref());
        let payload = bytes::Bytes::from(event.to_string());
        match function
            .invoke(payload, req.trace_id.clone(), deadline)
            .await
        {
            Ok(invoked) => {
                let temperature = if invoked.init.is_some() {
                    "cold"
                } else {
                    "warm"
                };
                let integration = Some(format!("{temperature} {}", invoked.instance));
                match event::map_response(&invoked.output) {
                    Ok(mapped) => {
                        let mut response = Response::new(Body::from(mapped.body));
                        *response.status_mut() = mapped.status;
                        for (name, value) in mapped.headers {
                            response.headers_mut().append(name, value);
                        }
                        done(response, auth, integration)
                    }
                    Err(e) => {
                        self.log.line(&format!(
                            "[api] {}: malformed Lambda proxy response: {e}",
                            invoked.instance
                        ));
                        done(internal_error(), auth, integration)
                    }
                }
            }
            Err(failure) => {
                let integration = failure
                    .instance
                    .as_ref()
                    .map(|i| format!("{} {i}", if failure.cold { "cold" } else { "warm" }));
                done(self.integration_failure(&failure), auth, integration)
            }
        }
    }

    /// API Gateway's answer when the integration fails, as a client sees it.
    fn integration_failure(&self, failure: &InvokeFailure) -> Response {
        match &failure.error {
            InvokeError::Timeout(_) => {
                gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            }
            InvokeError::IntegrationTimeout => {
                gateway_error(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout")
            }
            InvokeError::Crashed(why) => {
                self.log.line(&format!(
                    "[api] {}: {why}",
                    failure.instance.as_deref().unwrap_or("server")
                ));
                gateway_error(StatusCode::BAD_GATEWAY, "Internal Server Error")
            }
            InvokeError::ResponseTooLarge => {
                gateway_error(StatusCode::BAD_GATEWAY, "Internal Server Error")
            }
            InvokeError::Function(body) => {
                self.log.line(&format!(
                    "[api] {}: function error {}",
                    failure.instance.as_deref().unwrap_or("server"),
                    String::from_utf8_lossy(body)
                ));
                internal_error()
            }
            InvokeError::RequestTooLarge => {
                gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
            }
            InvokeError::Closed => {
                gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            }
        }
    }

    /// The value of each identity source, in order, or `None` if one is missing or empty. A
    /// header sent more than once counts with its values comma-joined, as the event carries it,
    /// so the cache key is exactly what the authorizer sees.
    fn identity_values(&self, req: &GatewayRequest) -> Option<Vec<String>> {
        self.settings
            .identity_sources
            .iter()
            .map(|source| {
                // Only header identity sources are ever configured; any other cannot be met.
                let name = mcpctl_stack::auth::identity_source_header(source)?;
                let values: Vec<String> = req
                    .headers
                    .get_all(name)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
                    .collect();
                Some(values.join(",")).filter(|v| !v.is_empty())
            })
            .collect()
    }

    /// Runs the REQUEST authorizer (or answers from its cache). `Err` is the response to send.
    async fn authorize(
        &self,
        req: &GatewayRequest,
        route_key: &str,
        deadline: Instant,
    ) -> Result<(Auth, Option<Value>), Rejection> {
        // Every identity source must be present and non-empty, or API Gateway answers 401
        // without running the authorizer.
        let Some(identity) = self.identity_values(req) else {
            return Err(Rejection {
                status: StatusCode::UNAUTHORIZED,
                message: "Unauthorized",
                auth: Auth::None,
            });
        };
        let caching = !self.settings.cache_ttl.is_zero() && !identity.is_empty();
        let verdict = |decision: &event::AuthDecision, cached: bool| {
            let auth = match (decision.authorized, cached) {
                (true, false) => Auth::Allow,
                (true, true) => Auth::CachedAllow,
                (false, false) => Auth::Deny,
                (false, true) => Auth::CachedDeny,
            };
            if decision.authorized {
                Ok((auth, decision.context.clone()))
            } else {
                Err(Rejection {
                    status: StatusCode::FORBIDDEN,
                    message: "Forbidden",
                    auth,
                })
            }
        };
        if caching {
            let cache = lock(&self.cache);
            if let Some((at, decision)) = cache.get(&identity) {
                if at.elapsed() < self.settings.cache_ttl {
                    return verdict(decision, true);
                }
            }
        }
        let event = event::authorizer_event(req, &self.settings.api, route_key, &identity);
        let timeout = self.authorizer.spec().timeout;
        let auth_deadline = deadline.min(Instant::now() + timeout);
        let invoked = self
            .authorizer
            .invoke(
                bytes::Bytes::from(event.to_string()),
                req.trace_id.clone(),
                auth_deadline,
            )
            .await;
        let decision = match invoked {
            Ok(invoked) => event::authorizer_decision(&invoked.output),
            Err(failure) => Err(event::BadOutput(failure.error.to_string())),
        };
        let decision = match decision {
            Ok(d) => d,
            Err(e) => {
                self.log.line(&format!("[api] authorizer failed: {e}"));
                return Err(Rejection {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message: "Internal Server Error",
                    auth: Auth::Error,
                });
            }
        };
        if caching {
            let mut cache = lock(&self.cache);
            // Expired entries go when the cache is touched, so it cannot grow without bound.
            let ttl = self.settings.cache_ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            cache.insert(identity, (Instant::now(), decision.clone()));
        }
        verdict(&decision, false)
    }
}

pub async fn serve(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    gateway.handle(source, request).await
}
