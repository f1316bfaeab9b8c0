//! The authorization server: metadata (RFC 8414, RFC 9728), stateless registration (RFC 7591),
//! the authorization endpoint with the owner's consent, and the token endpoint (authorization
//! code with PKCE S256, refresh token with rotation). Every grant is a signed token
//! (`mcpctl_authorizer::token`); the only state is per instance: the replay set of redeemed
//! codes and refresh tokens, and the consent attempt limiter (docs/oauth.md says what that
//! does and does not cover).

use std::collections::HashMap;
use std::sync::Mutex;

use mcpctl_authorizer::signing::{RawSecretSource, SigningKeyStore};
use mcpctl_authorizer::store::{KeyStore, Lookup, SecretSource};
use mcpctl_authorizer::token::{hex, now_s, SigningKeys, TokenError};
use mcpctl_authorizer::KeyDigest;
use mcpctl_stack::oauth::{
    self as contract, TokenKind, ACCESS_TOKEN_TTL_S, AUTHORIZATION_SERVER_METADATA_PATH,
    AUTHORIZE_PATH, CODE_TTL_S, CONSENT_TTL_S, GRANT_MAX_AGE_S, PROTECTED_RESOURCE_METADATA_PATH,
    REFRESH_TOKEN_TTL_S, REGISTER_PATH, SCOPE, TOKEN_PATH,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cimd::{self, FetchPolicy};
use crate::html;
use crate::http::{Params, Request, Response, MAX_BODY_BYTES};

/// Failed consent attempts allowed per source address per window, and per instance.
pub const MAX_FAILURES_PER_SOURCE: usize = 5;
pub const MAX_FAILURES_PER_INSTANCE: usize = 30;
pub const FAILURE_WINDOW_S: u64 = 300;
/// At most this many redeemed codes and refresh tokens are remembered per instance.
pub const MAX_REPLAY_ENTRIES: usize = 100_000;
/// At most this many redirect URIs per registration, each at most this long.
pub const MAX_REDIRECT_URIS: usize = 10;
pub const MAX_REDIRECT_URI_LEN: usize = 1024;
/// A registered client id is valid this long (it is the signed registration).
pub const CLIENT_ID_TTL_S: u64 = 10 * 365 * 86_400;

#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// [`contract::ISSUER_VAR`]; else from the request's domain name.
    pub issuer: Option<String>,
    pub fetch: FetchPolicy,
}

/// A client as the authorization server knows it for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: Option<String>,
    pub redirect_uris: Vec<String>,
    /// From a metadata document at `id` (else a registration, whose name is self-asserted).
    pub metadata_document: bool,
}

/// The signed registration that is a registered client's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Registration {
    name: Option<String>,
    redirect_uris: Vec<String>,
    iat: u64,
    exp: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Consent {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    state: Option<String>,
    resource: String,
    scope: String,
    iat: u64,
    exp: u64,
    jti: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Code {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    resource: String,
    scope: String,
    auth_time: u64,
    iat: u64,
    exp: u64,
    jti: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Refresh {
    client_id: String,
    resource: String,
    scope: String,
    /// When the owner consented: the whole grant ends [`GRANT_MAX_AGE_S`] later.
    auth_time: u64,
    /// The grant's id, the same in every refresh token of it.
    gid: String,
    /// How many times the grant was refreshed.
    generation: u64,
    iat: u64,
    exp: u64,
    jti: String,
}

pub struct AuthServer<S, R> {
    settings: Settings,
    api_key: KeyStore<S>,
    signing: SigningKeyStore<R>,
    /// Redeemed codes and refresh tokens (jti → exp).
    redeemed: Mutex<HashMap<String, u64>>,
    /// Failed consent attempts (source → times).
    failures: Mutex<HashMap<String, Vec<u64>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// 128 random bits as hex.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // Without a random source the ids would collide; a constant would be worse than failing,
    // but getrandom only fails on systems Lambda and dev do not run on.
    if getrandom::fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = Sha256::digest(t.to_le_bytes())[..16]
            .try_into()
            .unwrap_or([0; 16]);
    }
    hex(&bytes)
}

/// S256 of a PKCE code verifier (RFC 7636 4.2).
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A code verifier as RFC 7636 4.1 allows: 43 to 128 unreserved characters.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// A code challenge: the S256 of a verifier, 43 base64url characters.
fn valid_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A redirect URI a registration may name: https, or http on a loopback host (native apps,
/// RFC 8252 7.3), or a private-use scheme with a dot (RFC 8252 7.1); no fragment.
fn acceptable_redirect_uri(uri: &str) -> bool {
    if uri.len() > MAX_REDIRECT_URI_LEN {
        return false;
    }
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() {
        return false;
    }
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => matches!(
            url.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
        ),
        "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => false,
        scheme => scheme.contains('.'),
    }
}

/// `redirect_uri` with the response parameters appended to its query.
fn with_params(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_string(),
    }
}

impl<S: SecretSource, R: RawSecretSource> AuthServer<S, R> {
    pub fn new(settings: Settings, api_key: KeyStore<S>, signing: SigningKeyStore<R>) -> Self {
        Self {
            settings,
            api_key,
            signing,
            redeemed: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Reads both secrets (at init, where Lambda gives the CPU boost).
    pub async fn prefetch(&self) {
        self.api_key.prefetch().await;
        self.signing.keys(None).await;
    }

    fn issuer(&self, req: &Request) -> Option<String> {
        if let Some(i) = self.settings.issuer.as_deref().filter(|i| !i.is_empty()) {
            return Some(contract::issuer(i));
        }
        let domain = req.domain_name.as_deref().filter(|d| !d.is_empty())?;
        Some(format!("https://{domain}"))
    }

    /// Answers one request.
    pub async fn handle(&self, req: &Request) -> Response {
        let Some(issuer) = self.issuer(req) else {
            return Response::oauth_error(500, "server_error", "the issuer is not known");
        };
        if req.body.len() > MAX_BODY_BYTES {
            return Response::oauth_error(413, "invalid_request", "the request body is too large");
        }
        let resource_metadata_suffixed =
            format!("{PROTECTED_RESOURCE_METADATA_PATH}{}", contract::mcp_path());
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", AUTHORIZATION_SERVER_METADATA_PATH) => metadata(&issuer),
            ("GET", p)
                if p == PROTECTED_RESOURCE_METADATA_PATH || p == resource_metadata_suffixed =>
            {
                resource_metadata(&issuer)
            }
            ("POST", REGISTER_PATH) => self.register(req).await,
            ("GET", AUTHORIZE_PATH) => self.authorize(req, &issuer).await,
            ("POST", AUTHORIZE_PATH) => self.consent(req, &issuer).await,
            ("POST", TOKEN_PATH) => self.token(req, &issuer).await,
            _ => Response::json(404, &json!({ "message": "Not Found" })),
        }
    }

    async fn keys(&self, token: Option<&str>) -> Result<SigningKeys, Response> {
        self.signing.keys(token).await.ok_or_else(|| {
            Response::oauth_error(
                503,
                "temporarily_unavailable",
                "the signing key cannot be read",
            )
        })
    }

    /// The client `client_id` names: a metadata document, or a registration signed here.
    pub async fn client(&self, client_id: &str) -> Result<Client, String> {
        if cimd::is_metadata_url(client_id, self.settings.fetch) {
            let m = cimd::fetch(client_id, self.settings.fetch)
                .await
                .map_err(|e| e.to_string())?;
            // The same rules as for a registration: no javascript:, no plain http elsewhere.
            if let Some(bad) = m.redirect_uris.iter().find(|u| !acceptable_redirect_uri(u)) {
                return Err(format!(
                    "the client metadata document lists {bad:?}, which is not an https URL, a loopback http URL or a private-use scheme"
                ));
            }
            return Ok(Client {
                id: m.client_id,
                name: m.client_name,
                redirect_uris: m.redirect_uris,
                metadata_document: true,
            });
        }
        let keys = self
            .keys(Some(client_id))
            .await
            .map_err(|_| "the signing key cannot be read".to_string())?;
        let r: Registration = keys
            .verify(TokenKind::Client, client_id, now_s())
            .map_err(|_| "unknown client_id".to_string())?;
        Ok(Client {
            id: client_id.to_string(),
            name: r.name,
            redirect_uris: r.redirect_uris,
            metadata_document: false,
        })
    }

    /// RFC 7591: the registration, checked and signed, is the client id. Public clients only.
    async fn register(&self, req: &Request) -> Response {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            redirect_uris: Vec<String>,
            #[serde(default)]
            client_name: Option<String>,
            #[serde(default)]
            grant_types: Option<Vec<String>>,
            #[serde(default)]
            response_types: Option<Vec<String>>,
        }
        let body: Body = match serde_json::from_slice(&req.body) {
            Ok(b) => b,
            Err(e) => {
                return Response::oauth_error(
                    400,
                    "invalid_client_metadata",
                    &format!("the body is not a client metadata JSON object: {e}"),
                )
            }
        };
        if body.redirect_uris.is_empty() || body.redirect_uris.len() > MAX_REDIRECT_URIS {
            return Response::oauth_error(
                400,
                "invalid_redirect_uri",
                &format!("redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs"),
            );
        }
        if let Some(bad) = body
            .redirect_uris
            .iter()
            .find(|u| !acceptable_redirect_uri(u))
        {
            return Response::oauth_error(
                400,
                "invalid_redirect_uri",
                &format!(
                    "{bad:?} is not an https URL, a loopback http URL or a private-use scheme"
                ),
            );
        }
        let grants_ok = body.grant_types.as_ref().is_none_or(|g| {
            g.iter()
                .all(|g| g == "authorization_code" || g == "refresh_token")
        });
        let responses_ok = body
            .response_types
            .as_ref()
            .is_none_or(|r| r.iter().all(|r| r == "code"));
        if !grants_ok || !responses_ok {
            return Response::oauth_error(
                400,
                "invalid_client_metadata",
                "only the authorization_code and refresh_token grants (response type code) are supported",
            );
        }
        let name = body
            .client_name
            .map(|n| {
                n.chars()
                    .filter(|c| !c.is_control())
                    .take(100)
                    .collect::<String>()
            })
            .filter(|n| !n.trim().is_empty());
        let keys = match self.keys(None).await {
            Ok(k) => k,
            Err(r) => return r,
        };
        let now = now_s();
        let registration = Registration {
            name: name.clone(),
            redirect_uris: body.redirect_uris.clone(),
            iat: now,
            exp: now + CLIENT_ID_TTL_S,
        };
        let client_id = keys.sign(TokenKind::Client, &registration);
        let mut out = json!({
            "client_id": client_id,
            "client_id_issued_at": now,
            "redirect_uris": body.redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        });
        if let Some(name) = name {
            out["client_name"] = json!(name);
        }
        Response::json(201, &out)
    }

    /// GET /oauth/authorize: checks the request, then shows the consent page. Errors about the
    /// client or its redirect URI are shown, never redirected (RFC 6749 4.1.2.1).
    async fn authorize(&self, req: &Request, issuer: &str) -> Response {
        let q = req.query_params();
        let p = |name: &str| q.one(name);
        let (client_id, redirect_uri) = match (p("client_id"), p("redirect_uri")) {
            (Ok(Some(c)), Ok(r)) => (c.to_string(), r.map(str::to_string)),
            (Err(rep), _) | (_, Err(rep)) => {
                return html::error_page(400, &format!("{} is given more than once", rep.0))
            }
            (Ok(None), _) => return html::error_page(400, "the request has no client_id"),
        };
        let client = match self.client(&client_id).await {
            Ok(c) => c,
            Err(why) => return html::error_page(400, &format!("invalid client: {why}")),
        };
        let redirect_uri = match redirect_uri {
            Some(r) => r,
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => {
                return html::error_page(
                    400,
                    "the request has no redirect_uri and the client has several",
                )
            }
        };
        // Exact string match (OAuth 2.1 2.3.1 / RFC 9700 2.1).
        if !client.redirect_uris.contains(&redirect_uri) {
            return html::error_page(
                400,
                "redirect_uri is not one of the client's registered redirect URIs",
            );
        }
        let state = match p("state") {
            Ok(s) => s.map(str::to_string),
            Err(rep) => {
                return html::error_page(400, &format!("{} is given more than once", rep.0))
            }
        };
        let fail = |error: &str, description: &str| {
            let mut params = vec![("error", error), ("error_description", description)];
            if let Some(s) = &state {
                params.push(("state", s));
            }
            params.push(("iss", issuer));
            Response::redirect(&with_params(&redirect_uri, &params))
        };
        let one = |name: &str| q.one(name).map(|v| v.map(str::to_string));
        let (Ok(response_type), Ok(challenge), Ok(method), Ok(resource), Ok(_scope)) = (
            one("response_type"),
            one("code_challenge"),
            one("code_challenge_method"),
            one("resource"),
            one("scope"),
        ) else {
            return fail("invalid_request", "a parameter is given more than once");
        };
        if response_type.as_deref() != Some("code") {
            return fail(
                "unsupported_response_type",
                "response_type must be \"code\"",
            );
        }
        let Some(challenge) = challenge else {
            return fail(
                "invalid_request",
                "PKCE is required: code_challenge is missing",
            );
        };
        if method.as_deref() != Some("S256") {
            return fail("invalid_request", "code_challenge_method must be S256");
        }
        if !valid_challenge(&challenge) {
            return fail("invalid_request", "code_challenge is not an S256 challenge");
        }
        let ours = contract::resource(issuer);
        if let Some(r) = &resource {
            if r.trim_end_matches('/') != ours {
                return fail(
                    "invalid_target",
                    &format!("this server issues tokens for {ours} only"),
                );
            }
        }
        let keys = match self.keys(None).await {
            Ok(k) => k,
            Err(r) => return r,
        };
        let now = now_s();
        let consent = Consent {
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.clone(),
            code_challenge: challenge,
            state,
            resource: ours.clone(),
            scope: SCOPE.into(),
            iat: now,
            exp: now + CONSENT_TTL_S,
            jti: random_id(),
        };
        let token = keys.sign(TokenKind::Consent, &consent);
        html::consent_page(&client, &redirect_uri, &ours, &token, None)
    }

    /// Too many failed attempts from `source` (or on this instance) in the window.
    fn limited(&self, source: &str, now: u64) -> bool {
        let mut failures = lock(&self.failures);
        failures.retain(|_, times| {
            times.retain(|t| now.saturating_sub(*t) < FAILURE_WINDOW_S);
            !times.is_empty()
        });
        let total: usize = failures.values().map(Vec::len).sum();
        total >= MAX_FAILURES_PER_INSTANCE
            || failures
                .get(source)
                .is_some_and(|t| t.len() >= MAX_FAILURES_PER_SOURCE)
    }

    fn record_failure(&self, source: &str, now: u64) {
        lock(&self.failures)
            .entry(source.to_string())
            .or_default()
            .push(now);
    }

    /// POST /oauth/authorize: the owner's answer on the consent page.
    async fn consent(&self, req: &Request, issuer: &str) -> Response {
        let form = req.form();
        let Ok(Some(token)) = form.one("consent") else {
            return html::error_page(
                400,
                "the consent form is incomplete: start again from the client",
            );
        };
        let keys = match self.keys(Some(token)).await {
            Ok(k) => k,
            Err(r) => return r,
        };
        let now = now_s();
        let consent: Consent = match keys.verify(TokenKind::Consent, token, now) {
            Ok(c) => c,
            Err(TokenError::Expired) => {
                return html::error_page(
                    400,
                    "the consent page expired: start again from the client",
                )
            }
            Err(_) => {
                return html::error_page(
                    400,
                    "the consent form is not valid: start again from the client",
                )
            }
        };
        let redirect = |params: &[(&str, &str)]| {
            let mut all: Vec<(&str, &str)> = params.to_vec();
            if let Some(s) = &consent.state {
                all.push(("state", s));
            }
            all.push(("iss", issuer));
            Response::redirect(&with_params(&consent.redirect_uri, &all))
        };
        if form.one("decision").ok().flatten() == Some("deny") {
            return redirect(&[
                ("error", "access_denied"),
                ("error_description", "the owner denied the request"),
            ]);
        }
        let source = if req.source_ip.is_empty() {
            "-"
        } else {
            req.source_ip.as_str()
        };
        // The client as it is now (a metadata document may have changed since the page).
        let client = match self.client(&consent.client_id).await {
            Ok(c) if c.redirect_uris.contains(&consent.redirect_uri) => c,
            Ok(_) => return html::error_page(400, "the client no longer lists this redirect_uri"),
            Err(why) => return html::error_page(400, &format!("invalid client: {why}")),
        };
        if self.limited(source, now) {
            tracing::warn!(source, "consent attempts rate-limited");
            return html::error_page(429, "too many wrong keys: wait a few minutes and try again")
                .with("retry-after", &FAILURE_WINDOW_S.to_string());
        }
        let key = form.one("api_key").ok().flatten().unwrap_or("").trim();
        let matched = match self.api_key.lookup(&KeyDigest::of(key.as_bytes())).await {
            Lookup::Matched(_) => !key.is_empty(),
            Lookup::NoMatch => false,
            Lookup::Unavailable => {
                return html::error_page(503, "the API key cannot be checked right now: try again")
            }
        };
        if !matched {
            self.record_failure(source, now);
            tracing::info!(source, client_id = %consent.client_id, "consent refused: wrong key");
            return html::consent_page(
                &client,
                &consent.redirect_uri,
                &consent.resource,
                token,
                Some("That is not the API key of this stack."),
            )
            .with_status(403);
        }
        let code = Code {
            client_id: consent.client_id.clone(),
            redirect_uri: consent.redirect_uri.clone(),
            code_challenge: consent.code_challenge.clone(),
            resource: consent.resource.clone(),
            scope: consent.scope.clone(),
            auth_time: now,
            iat: now,
            exp: now + CODE_TTL_S,
            jti: random_id(),
        };
        tracing::info!(client_id = %consent.client_id, "consent given");
        let code = keys.sign(TokenKind::Code, &code);
        redirect(&[("code", &code)])
    }

    /// Records `jti` as redeemed; false if it already was (a replay).
    fn redeem(&self, jti: &str, exp: u64, now: u64) -> bool {
        let mut redeemed = lock(&self.redeemed);
        if redeemed.len() >= MAX_REPLAY_ENTRIES {
            redeemed.retain(|_, e| *e > now);
        }
        if redeemed.contains_key(jti) {
            return false;
        }
        if redeemed.len() >= MAX_REPLAY_ENTRIES {
            // Full of live entries: refusing is safer than forgetting.
            return false;
        }
        redeemed.insert(jti.to_string(), exp);
        true
    }

    async fn token(&self, req: &Request, issuer: &str) -> Response {
        let form = req.form();
        let get = |name: &str| form.one(name);
        let grant = match get("grant_type") {
            Ok(Some(g)) => g.to_string(),
            Ok(None) => {
                return Response::oauth_error(400, "invalid_request", "grant_type is missing")
            }
            Err(r) => return repeated(&r.0),
        };
        match grant.as_str() {
            "authorization_code" => self.code_grant(&form, issuer).await,
            "refresh_token" => self.refresh_grant(&form, issuer).await,
            _ => Response::oauth_error(
                400,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            ),
        }
    }

    async fn code_grant(&self, form: &Params, issuer: &str) -> Response {
        let mut values = Vec::new();
        for name in [
            "code",
            "redirect_uri",
            "code_verifier",
            "client_id",
            "resource",
        ] {
            match form.one(name) {
                Ok(v) => values.push(v),
                Err(r) => return repeated(&r.0),
            }
        }
        let [code, redirect_uri, verifier, client_id, resource] = values[..] else {
            return Response::oauth_error(500, "server_error", "unreachable");
        };
        let (Some(code), Some(verifier), Some(client_id)) = (code, verifier, client_id) else {
            return Response::oauth_error(
                400,
                "invalid_request",
                "code, code_verifier and client_id are required",
            );
        };
        let keys = match self.keys(Some(code)).await {
            Ok(k) => k,
            Err(r) => return r,
        };
        let now = now_s();
        let grant: Code = match keys.verify(TokenKind::Code, code, now) {
            Ok(c) => c,
            Err(TokenError::Expired) => {
                return Response::oauth_error(
                    400,
                    "invalid_grant",
                    "the authorization code expired",
                )
            }
            Err(_) => {
                return Response::oauth_error(
                    400,
                    "invalid_grant",
                    "the authorization code is not valid",
                )
            }
        };
        if grant.client_id != client_id {
            return Response::oauth_error(
                400,
                "invalid_grant",
                "the authorization code was issued to another client",
            );
        }
        if redirect_uri != Some(grant.redirect_uri.as_str()) {
            return Response::oauth_error(
                400,
                "invalid_grant",
                "redirect_uri does not match the authorization request",
            );
        }
        if !valid_verifier(verifier) || s256(verifier) != grant.code_challenge {
            return Response::oauth_error(400, "invalid_grant", "PKCE verification failed");
        }
        if let Some(r) = resource {
            if r.trim_end_matches('/') != grant.resource {
                return Response::oauth_error(
                    400,
                    "invalid_target",
                    "resource does not match the authorization request",
                );
            }
        }
        // Last, so a failed attempt does not burn the code of the client that holds the verifier.
        if !self.redeem(&grant.jti, grant.exp, now) {
            tracing::warn!(client_id = %grant.client_id, "authorization code replayed");
            return Response::oauth_error(
                400,
                "invalid_grant",
                "the authorization code was already used",
            );
        }
        self.issue(
            &keys,
            issuer,
            &grant.client_id,
            &grant.resource,
            &grant.scope,
            grant.auth_time,
            &random_id(),
            0,
            now,
        )
    }

    async fn refresh_grant(&self, form: &Params, issuer: &str) -> Response {
        let mut values = Vec::new();
        for name in ["refresh_token", "client_id", "resource"] {
            match form.one(name) {
                Ok(v) => values.push(v),
                Err(r) => return repeated(&r.0),
            }
        }
        let [token, client_id, resource] = values[..] else {
            return Response::oauth_error(500, "server_error", "unreachable");
        };
        let (Some(token), Some(client_id)) = (token, client_id) else {
            return Response::oauth_error(
                400,
                "invalid_request",
                "refresh_token and client_id are required",
            );
        };
        let keys = match self.keys(Some(token)).await {
            Ok(k) => k,
            Err(r) => return r,
        };
        let now = now_s();
        let grant: Refresh = match keys.verify(TokenKind::Refresh, token, now) {
            Ok(g) => g,
            Err(TokenError::Expired) => {
                return Response::oauth_error(400, "invalid_grant", "the refresh token expired")
            }
            Err(_) => {
                return Response::oauth_error(
                    400,
                    "invalid_grant",
                    "the refresh token is not valid",
                )
            }
        };
        if grant.client_id != client_id {
            return Response::oauth_error(
                400,
                "invalid_grant",
                "the refresh token was issued to another client",
            );
        }
        if let Some(r) = resource {
            if r.trim_end_matches('/') != grant.resource {
                return Response::oauth_error(
                    400,
                    "invalid_target",
                    "resource does not match the grant",
                );
            }
        }
        if now >= grant.auth_time + GRANT_MAX_AGE_S {
            return Response::oauth_error(
                400,
                "invalid_grant",
                "the grant is too old: authorize again",
            );
        }
        if !self.redeem(&grant.jti, grant.exp, now) {
            tracing::warn!(client_id = %grant.client_id, grant = %grant.gid, generation = grant.generation, "refresh token replayed");
            return Response::oauth_error(
                400,
                "invalid_grant",
                "the refresh token was already used",
            );
        }
        self.issue(
            &keys,
            issuer,
            &grant.client_id,
            &grant.resource,
            &grant.scope,
            grant.auth_time,
            &grant.gid,
            grant.generation + 1,
            now,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        keys: &SigningKeys,
        issuer: &str,
        client_id: &str,
        resource: &str,
        scope: &str,
        auth_time: u64,
        gid: &str,
        generation: u64,
        now: u64,
    ) -> Response {
        let access = mcpctl_authorizer::token::AccessClaims {
            iss: issuer.to_string(),
            sub: "owner".into(),
            aud: resource.to_string(),
            client_id: client_id.to_string(),
            scope: scope.to_string(),
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_S,
            jti: random_id(),
        };
        let refresh = Refresh {
            client_id: client_id.to_string(),
            resource: resource.to_string(),
            scope: scope.to_string(),
            auth_time,
            gid: gid.to_string(),
            generation,
            iat: now,
            exp: (now + REFRESH_TOKEN_TTL_S).min(auth_time + GRANT_MAX_AGE_S),
            jti: random_id(),
        };
        Response::json(
            200,
            &json!({
                "access_token": keys.sign(TokenKind::Access, &access),
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_TTL_S,
                "refresh_token": keys.sign(TokenKind::Refresh, &refresh),
                "scope": scope,
            }),
        )
    }
}

fn repeated(name: &str) -> Response {
    Response::oauth_error(
        400,
        "invalid_request",
        &format!("{name} is given more than once"),
    )
}

/// RFC 8414 metadata.
pub fn metadata(issuer: &str) -> Response {
    Response::json(
        200,
        &json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
            "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
            "registration_endpoint": format!("{issuer}{REGISTER_PATH}"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": [SCOPE],
            "client_id_metadata_document_supported": true,
            "authorization_response_iss_parameter_supported": true,
        }),
    )
}

/// RFC 9728 metadata of the MCP endpoint.
pub fn resource_metadata(issuer: &str) -> Response {
    Response::json(
        200,
        &json!({
            "resource": contract::resource(issuer),
            "authorization_servers": [issuer],
            "scopes_supported": [SCOPE],
            "bearer_methods_supported": ["header"],
            "resource_name": "mcpctl MCP server",
        }),
    )
}
