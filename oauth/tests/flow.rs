//! The authorization server end to end through its library, and every bad input getting the
//! right OAuth error and granting nothing: wrong PKCE verifier, reused or expired code, redirect
//! URI mismatch, wrong audience, expired or tampered token, a metadata document URL at a private
//! address, an oversized metadata document. A metadata document server on 127.0.0.1 is the
//! fixture, with the dev-only loopback policy.

use std::collections::HashMap;
use std::time::Duration;

use mcpctl_authorizer::signing::{RawSecretSource, SigningKeyStore};
use mcpctl_authorizer::token::{now_s, validate_access_token, SigningKeys, TokenError};
use mcpctl_authorizer::{FetchError, KeyStore, SecretKeys, SecretSource};
use mcpctl_oauth::server::s256;
use mcpctl_oauth::{AuthServer, FetchPolicy, Request, Response, Settings};
use mcpctl_stack::oauth::TokenKind;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ISSUER: &str = "https://api.example.com";
const AUDIENCE: &str = "https://api.example.com/mcp";
const KEY: &str = "6f1c0a9e5b2d4c7f8e3a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e";
const SIGNING: &str = "signing-secret-current-0123456789abcdef";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more";
const REDIRECT: &str = "http://127.0.0.1:3000/callback";

struct ApiKey;
impl SecretSource for ApiKey {
    async fn fetch(&self) -> Result<SecretKeys, FetchError> {
        Ok(SecretKeys::new(KEY.as_bytes(), None))
    }
    fn secret_id(&self) -> &str {
        "api-key"
    }
}

struct Signing;
impl RawSecretSource for Signing {
    async fn versions(&self) -> Result<(String, Option<String>), FetchError> {
        Ok((SIGNING.into(), None))
    }
    fn secret_id(&self) -> &str {
        "signing"
    }
}

type Server = AuthServer<ApiKey, Signing>;

fn server(allow_loopback: bool) -> Server {
    AuthServer::new(
        Settings {
            issuer: Some(ISSUER.into()),
            fetch: FetchPolicy { allow_loopback },
        },
        KeyStore::new(ApiKey, Duration::from_secs(60)),
        SigningKeyStore::new(Signing, Duration::from_secs(60)),
    )
}

fn keys() -> SigningKeys {
    SigningKeys::new(SIGNING.as_bytes(), None)
}

fn enc(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn get(path: &str, query: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        path: path.into(),
        query: enc(query),
        source_ip: "203.0.113.7".into(),
        ..Request::default()
    }
}

fn post_form(path: &str, form: &[(&str, &str)]) -> Request {
    Request {
        method: "POST".into(),
        path: path.into(),
        headers: HashMap::from([(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )]),
        body: enc(form).into_bytes(),
        source_ip: "203.0.113.7".into(),
        ..Request::default()
    }
}

fn body_json(r: &Response) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {} {}", r.status, r.body))
}

fn location_params(r: &Response) -> HashMap<String, String> {
    assert_eq!(r.status, 302, "{}", r.body);
    let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
    loc.query_pairs().into_owned().collect()
}

async fn register(s: &Server, redirect: &str) -> String {
    let r = s
        .handle(&Request {
            method: "POST".into(),
            path: "/oauth/register".into(),
            body: json!({"redirect_uris": [redirect], "client_name": "Test <Client>"})
                .to_string()
                .into_bytes(),
            ..Request::default()
        })
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    body_json(&r)["client_id"].as_str().unwrap().to_string()
}

/// The consent token of the page GET /oauth/authorize shows.
fn consent_token(page: &Response) -> String {
    assert_eq!(page.status, 200, "{}", page.body);
    let marker = "name=\"consent\" value=\"";
    let start = page.body.find(marker).unwrap() + marker.len();
    let end = start + page.body[start..].find('"').unwrap();
    page.body[start..end].to_string()
}

async fn authorize_page(s: &Server, client_id: &str, redirect: &str) -> Response {
    s.handle(&get(
        "/oauth/authorize",
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("code_challenge", &s256(VERIFIER)),
            ("code_challenge_method", "S256"),
            ("state", "st-1"),
            ("resource", AUDIENCE),
        ],
    ))
    .await
}

/// Consent with the right key: the code.
async fn code_for(s: &Server, client_id: &str) -> String {
    let page = authorize_page(s, client_id, REDIRECT).await;
    let token = consent_token(&page);
    let r = s
        .handle(&post_form(
            "/oauth/authorize",
            &[
                ("consent", &token),
                ("api_key", KEY),
                ("decision", "approve"),
            ],
        ))
        .await;
    let p = location_params(&r);
    assert_eq!(p["state"], "st-1");
    assert_eq!(p["iss"], ISSUER);
    p["code"].clone()
}

async fn exchange(
    s: &Server,
    client_id: &str,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> Response {
    s.handle(&post_form(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("resource", AUDIENCE),
        ],
    ))
    .await
}

async fn refresh(s: &Server, client_id: &str, token: &str) -> Response {
    s.handle(&post_form(
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", client_id),
        ],
    ))
    .await
}

fn assert_error(r: &Response, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let b = body_json(r);
    assert_eq!(b["error"], error, "{}", r.body);
    assert!(b.get("access_token").is_none());
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn metadata_documents() {
    let s = server(false);
    let m = body_json(
        &s.handle(&get("/.well-known/oauth-authorization-server", &[]))
            .await,
    );
    assert_eq!(m["issuer"], ISSUER);
    assert_eq!(
        m["authorization_endpoint"],
        "https://api.example.com/oauth/authorize"
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["client_id_metadata_document_supported"], true);
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let p = body_json(&s.handle(&get(path, &[])).await);
        assert_eq!(p["resource"], AUDIENCE);
        assert_eq!(p["authorization_servers"], json!([ISSUER]));
    }
}

#[tokio::test]
async fn registration_consent_token_refresh() {
    let s = server(false);
    let client = register(&s, REDIRECT).await;
    let page = authorize_page(&s, &client, REDIRECT).await;
    // The page names the client (escaped) and the redirect URI, and cannot be framed.
    assert!(page.body.contains("Test &lt;Client&gt;"), "{}", page.body);
    assert!(page.body.contains(REDIRECT));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let code = code_for(&s, &client).await;
    let r = exchange(&s, &client, &code, VERIFIER, REDIRECT).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let t = body_json(&r);
    assert_eq!(t["token_type"], "Bearer");
    let access = t["access_token"].as_str().unwrap();
    let claims = validate_access_token(&keys(), access, ISSUER, AUDIENCE, now_s()).unwrap();
    assert_eq!(claims.client_id, client);
    // Refresh rotates: the new refresh token works, the used one never again.
    let r1 = t["refresh_token"].as_str().unwrap().to_string();
    let t2 = body_json(&refresh(&s, &client, &r1).await);
    let r2 = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    assert!(validate_access_token(
        &keys(),
        t2["access_token"].as_str().unwrap(),
        ISSUER,
        AUDIENCE,
        now_s()
    )
    .is_ok());
    assert_error(&refresh(&s, &client, &r1).await, 400, "invalid_grant");
    assert_eq!(refresh(&s, &client, &r2).await.status, 200);
    // And r2, now used, never again.
    assert_error(&refresh(&s, &client, &r2).await, 400, "invalid_grant");
}

#[tokio::test]
async fn wrong_pkce_verifier_grants_nothing() {
    let s = server(false);
    let client = register(&s, REDIRECT).await;
    let code = code_for(&s, &client).await;
    let wrong = "x".repeat(43);
    assert_error(
        &exchange(&s, &client, &code, &wrong, REDIRECT).await,
        400,
        "invalid_grant",
    );
    assert_error(
        &exchange(&s, &client, &code, "short", REDIRECT).await,
        400,
        "invalid_grant",
    );
    // The failed attempts did not burn the code for the client holding the verifier.
    assert_eq!(
        exchange(&s, &client, &code, VERIFIER, REDIRECT)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn reused_code_grants_nothing() {
    let s = server(false);
    let client = register(&s, REDIRECT).await;
    let code = code_for(&s, &client).await;
    assert_eq!(
        exchange(&s, &client, &code, VERIFIER, REDIRECT)
            .await
            .status,
        200
    );
    assert_error(
        &exchange(&s, &client, &code, VERIFIER, REDIRECT).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn expired_code_grants_nothing() {
    let s = server(false);
    let client = register(&s, REDIRECT).await;
    let now = now_s();
    let expired = keys().sign(
        TokenKind::Code,
        &json!({
            "client_id": client, "redirect_uri": REDIRECT, "code_challenge": s256(VERIFIER),
            "resource": AUDIENCE, "scope": "mcp", "auth_time": now - 120, "iat": now - 120,
            "exp": now - 60, "jti": "j-expired",
        }),
    );
    let r = exchange(&s, &client, &expired, VERIFIER, REDIRECT).await;
    assert_error(&r, 400, "invalid_grant");
    assert!(r.body.contains("expired"), "{}", r.body);
    // A code signed by another key, or an access token passed as a code.
    let forged =
        SigningKeys::new(b"attacker", None).sign(TokenKind::Code, &json!({"exp": now + 60}));
    assert_error(
        &exchange(&s, &client, &forged, VERIFIER, REDIRECT).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn redirect_uri_mismatch_grants_nothing() {
    let s = server(false);
    let client = register(&s, REDIRECT).await;
    // At the authorization endpoint: an error page, never a redirect to the unregistered URI.
    for wrong in [
        "http://127.0.0.1:3000/callback/",
        "https://evil.example/cb",
        "http://127.0.0.1:3001/callback",
    ] {
        let r = authorize_page(&s, &client, wrong).await;
        assert_eq!(r.status, 400, "{wrong}");
        assert!(r.header("location").is_none());
        assert!(!r.body.contains("name=\"consent\""));
    }
    // At the token endpoint: a redirect_uri other than the authorization request's.
    let code = code_for(&s, &client).await;
    assert_error(
        &exchange(&s, &client, &code, VERIFIER, "http://127.0.0.1:3000/other").await,
        400,
        "invalid_grant",
    );
    // A registration with a redirect URI that is neither https nor loopback is refused.
    let r = s
        .handle(&Request {
            method: "POST".into(),
            path: "/oauth/register".into(),
            body: json!({"redirect_uris": ["http://evil.example/cb"]})
                .to_string()
                .into_bytes(),
            ..Request::default()
        })
        .await;
    assert_error(&r, 400, "invalid_redirect_uri");
}

#[tokio::test]
async fn wrong_audience_grants_nothing() {
    let s = server(false);
    let client = register(&s, REDIRECT).await;
    // The authorization request names another resource: invalid_target back to the client.
    let r = s
        .handle(&get(
            "/oauth/authorize",
            &[
                ("response_type", "code"),
                ("client_id", &client),
                ("redirect_uri", REDIRECT),
                ("code_challenge", &s256(VERIFIER)),
                ("code_challenge_method", "S256"),
                ("state", "st-1"),
                ("resource", "https://other.example/mcp"),
            ],
        ))
        .await;
    let p = location_params(&r);
    assert_eq!(p["error"], "invalid_target");
    assert!(!p.contains_key("code"));
    // The token request names another resource.
    let code = code_for(&s, &client).await;
    let r = s
        .handle(&post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", VERIFIER),
                ("client_id", &client),
                ("redirect_uri", REDIRECT),
                ("resource", "https://other.example/mcp"),
            ],
        ))
        .await;
    assert_error(&r, 400, "invalid_target");
    // A token for another audience is refused by the resource server's check.
    let now = now_s();
    let foreign = keys().sign(
        TokenKind::Access,
        &json!({"iss": ISSUER, "sub": "owner", "aud": "https://other.example/mcp", "client_id": client,
                "scope": "mcp", "iat": now, "exp": now + 60, "jti": "j"}),
    );
    assert_eq!(
        validate_access_token(&keys(), &foreign, ISSUER, AUDIENCE, now),
        Err(TokenError::WrongAudience)
    );
}

#[tokio::test]
async fn expired_or_tampered_tokens_grant_nothing() {
    let s = server(false);
    let client = register(&s, REDIRECT).await;
    let code = code_for(&s, &client).await;
    let t = body_json(&exchange(&s, &client, &code, VERIFIER, REDIRECT).await);
    let access = t["access_token"].as_str().unwrap();
    let refresh_token = t["refresh_token"].as_str().unwrap();
    // The access token after its expiry.
    assert_eq!(
        validate_access_token(&keys(), access, ISSUER, AUDIENCE, now_s() + 3601),
        Err(TokenError::Expired)
    );
    // One changed character in the payload or the signature.
    for part in [1, 2] {
        let mut pieces: Vec<String> = access.split('.').map(str::to_string).collect();
        let p = &mut pieces[part];
        let c = if p.starts_with('A') { "B" } else { "A" };
        p.replace_range(0..1, c);
        let tampered = pieces.join(".");
        assert!(validate_access_token(&keys(), &tampered, ISSUER, AUDIENCE, now_s()).is_err());
    }
    // A refresh token tampered with, another client's, or an access token as a refresh token.
    let mut tampered = refresh_token.to_string();
    tampered.pop();
    tampered.push(if refresh_token.ends_with('A') {
        'B'
    } else {
        'A'
    });
    assert_error(&refresh(&s, &client, &tampered).await, 400, "invalid_grant");
    let other = register(&s, "https://other.example/cb").await;
    assert_error(
        &refresh(&s, &other, refresh_token).await,
        400,
        "invalid_grant",
    );
    assert_error(&refresh(&s, &client, access).await, 400, "invalid_grant");
    // An expired refresh token.
    let now = now_s();
    let old = keys().sign(
        TokenKind::Refresh,
        &json!({"client_id": client, "resource": AUDIENCE, "scope": "mcp", "auth_time": now - 100,
                "gid": "g", "generation": 3, "iat": now - 100, "exp": now - 1, "jti": "r-old"}),
    );
    assert_error(&refresh(&s, &client, &old).await, 400, "invalid_grant");
    // The untouched one still works.
    assert_eq!(refresh(&s, &client, refresh_token).await.status, 200);
}

#[tokio::test]
async fn consent_needs_the_key_and_a_valid_form() {
    let s = server(false);
    let client = register(&s, REDIRECT).await;
    let token = consent_token(&authorize_page(&s, &client, REDIRECT).await);
    // A wrong key: the page again, no code.
    let r = s
        .handle(&post_form(
            "/oauth/authorize",
            &[
                ("consent", &token),
                ("api_key", "wrong"),
                ("decision", "approve"),
            ],
        ))
        .await;
    assert_eq!(r.status, 403);
    assert!(r.header("location").is_none());
    // A forged or altered form token (CSRF): refused.
    let forged =
        SigningKeys::new(b"attacker", None).sign(TokenKind::Consent, &json!({"exp": now_s() + 60}));
    let r = s
        .handle(&post_form(
            "/oauth/authorize",
            &[("consent", &forged), ("api_key", KEY)],
        ))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    // Deny: access_denied to the client.
    let r = s
        .handle(&post_form(
            "/oauth/authorize",
            &[("consent", &token), ("decision", "deny")],
        ))
        .await;
    assert_eq!(location_params(&r)["error"], "access_denied");
    // Rate limit: after 5 wrong keys from one address even the right key waits.
    for _ in 0..4 {
        s.handle(&post_form(
            "/oauth/authorize",
            &[("consent", &token), ("api_key", "wrong")],
        ))
        .await;
    }
    let r = s
        .handle(&post_form(
            "/oauth/authorize",
            &[("consent", &token), ("api_key", KEY)],
        ))
        .await;
    assert_eq!(r.status, 429, "{}", r.body);
    // Without PKCE: invalid_request to the client; plain is refused.
    for method in ["plain", ""] {
        let r = s
            .handle(&get(
                "/oauth/authorize",
                &[
                    ("response_type", "code"),
                    ("client_id", &client),
                    ("redirect_uri", REDIRECT),
                    ("code_challenge", &s256(VERIFIER)),
                    ("code_challenge_method", method),
                ],
            ))
            .await;
        assert_eq!(location_params(&r)["error"], "invalid_request");
    }
}

/// A one-connection-at-a-time HTTP server on 127.0.0.1 serving `body` at every path.
async fn fixture(body: impl Fn(u16) -> String + Send + Sync + 'static) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let b = body(port);
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{b}",
                b.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    port
}

#[tokio::test]
async fn client_metadata_documents() {
    let port = fixture(|port| {
        json!({
            "client_id": format!("http://127.0.0.1:{port}/client.json"),
            "client_name": "Fixture client",
            "redirect_uris": [REDIRECT],
        })
        .to_string()
    })
    .await;
    let client_id = format!("http://127.0.0.1:{port}/client.json");
    // With the dev-only policy: the whole flow with a metadata document client.
    let s = server(true);
    let page = authorize_page(&s, &client_id, REDIRECT).await;
    assert!(page.body.contains("Fixture client"));
    let code = code_for(&s, &client_id).await;
    assert_eq!(
        exchange(&s, &client_id, &code, VERIFIER, REDIRECT)
            .await
            .status,
        200
    );
    // Without it (as on Lambda) the same URL is not a metadata document and not a client.
    let strict = server(false);
    assert_eq!(
        authorize_page(&strict, &client_id, REDIRECT).await.status,
        400
    );
    // An https URL at a private or loopback address is never fetched.
    for url in [
        "https://127.0.0.1/client.json",
        "https://10.0.0.8/c.json",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/c.json",
    ] {
        let r = authorize_page(&strict, url, REDIRECT).await;
        assert_eq!(r.status, 400, "{url}");
        assert!(r.body.contains("non-public address"), "{url}: {}", r.body);
    }
}

#[tokio::test]
async fn oversized_client_metadata_document_is_refused() {
    let port = fixture(|port| {
        json!({
            "client_id": format!("http://127.0.0.1:{port}/big.json"),
            "client_name": "x".repeat(6000),
            "redirect_uris": [REDIRECT],
        })
        .to_string()
    })
    .await;
    let s = server(true);
    let r = authorize_page(&s, &format!("http://127.0.0.1:{port}/big.json"), REDIRECT).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("larger than 5120 bytes"), "{}", r.body);
    assert!(!r.body.contains("name=\"consent\""));
}

#[tokio::test]
async fn a_document_with_an_unacceptable_redirect_uri_is_refused() {
    let port = fixture(|port| {
        json!({"client_id": format!("http://127.0.0.1:{port}/c.json"), "redirect_uris": ["javascript:alert(1)"]})
            .to_string()
    })
    .await;
    let s = server(true);
    let r = authorize_page(
        &s,
        &format!("http://127.0.0.1:{port}/c.json"),
        "javascript:alert(1)",
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    assert!(r.body.contains("not an https URL"), "{}", r.body);
}

#[tokio::test]
async fn a_document_naming_another_client_id_is_refused() {
    let port = fixture(|_| {
        json!({"client_id": "https://someone.else/c.json", "redirect_uris": [REDIRECT]}).to_string()
    })
    .await;
    let s = server(true);
    let r = authorize_page(&s, &format!("http://127.0.0.1:{port}/c.json"), REDIRECT).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not the URL"), "{}", r.body);
}
