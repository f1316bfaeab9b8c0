//! The authorizer in `[auth] mode = "oauth"`: access tokens checked for signature, expiry,
//! issuer and audience on the documented payload-2.0 event (the issuer from its domainName, as
//! on AWS when none is configured); the API key still accepted as a bearer token, x-api-key not.

mod common;

use std::time::Duration;

use common::{authorization_event, parse, run, store, x_api_key_event, CURRENT};
use mcpctl_authorizer::oauth::authorize_oauth_event;
use mcpctl_authorizer::signing::{RawSecretSource, SigningKeyStore};
use mcpctl_authorizer::token::{now_s, AccessClaims, SigningKeys};
use mcpctl_authorizer::FetchError;
use mcpctl_stack::oauth::TokenKind;

const ISSUER: &str = "https://abcdef123.execute-api.us-east-1.amazonaws.com";

struct Signing(&'static str, Option<&'static str>);
impl RawSecretSource for Signing {
    async fn versions(&self) -> Result<(String, Option<String>), FetchError> {
        Ok((self.0.into(), self.1.map(str::to_string)))
    }
    fn secret_id(&self) -> &str {
        "signing"
    }
}

fn claims(aud: &str, exp: u64) -> AccessClaims {
    AccessClaims {
        iss: ISSUER.into(),
        sub: "owner".into(),
        aud: aud.into(),
        client_id: "https://client.example/c.json".into(),
        scope: "mcp".into(),
        iat: now_s(),
        exp,
        jti: "j".into(),
    }
}

fn verdict(authorization: &str, signing: Signing, issuer: Option<&str>) -> (bool, Option<String>) {
    let event = parse(authorization_event(authorization));
    let keys = store();
    let signing = SigningKeyStore::new(signing, Duration::from_secs(60));
    let r = run(authorize_oauth_event(&event, &keys, &signing, issuer)).unwrap();
    (r.is_authorized, r.context.get("auth").cloned())
}

#[test]
fn access_tokens_are_checked() {
    let keys = SigningKeys::new(b"sign-1", None);
    let aud = format!("{ISSUER}/mcp");
    let good = keys.sign(TokenKind::Access, &claims(&aud, now_s() + 600));
    assert_eq!(
        verdict(&format!("Bearer {good}"), Signing("sign-1", None), None),
        (true, Some("oauth".into()))
    );
    let oauth = (true, Some("oauth".to_string()));
    let invalid = (true, Some("invalid_token".to_string()));
    // Configured issuer other than the token's: refused (marked invalid for the server's 401).
    assert_eq!(
        verdict(
            &format!("Bearer {good}"),
            Signing("sign-1", None),
            Some("https://custom.example")
        ),
        invalid
    );
    // After rotation the previous key still verifies; after finalize it does not.
    assert_eq!(
        verdict(
            &format!("Bearer {good}"),
            Signing("sign-2", Some("sign-1")),
            None
        ),
        oauth
    );
    assert_eq!(
        verdict(&format!("Bearer {good}"), Signing("sign-2", None), None),
        invalid
    );
    for bad in [
        keys.sign(TokenKind::Access, &claims(&aud, now_s() - 1)),
        keys.sign(
            TokenKind::Access,
            &claims("https://other.example/mcp", now_s() + 600),
        ),
        keys.sign(TokenKind::Refresh, &claims(&aud, now_s() + 600)),
        SigningKeys::new(b"attacker", None).sign(TokenKind::Access, &claims(&aud, now_s() + 600)),
        format!("{}x", &good[..good.len() - 1]),
    ] {
        assert_eq!(
            verdict(&format!("Bearer {bad}"), Signing("sign-1", None), None),
            (true, Some("invalid_token".into()))
        );
    }
}

/// A token-shaped but invalid bearer is let through marked `auth=invalid_token`, with why and
/// where the metadata is, so the server answers 401 (docs/oauth.md); never `oauth`, never a
/// client id.
#[test]
fn invalid_tokens_are_passed_on_for_the_servers_401() {
    let keys = SigningKeys::new(b"sign-1", None);
    let aud = format!("{ISSUER}/mcp");
    let expired = keys.sign(TokenKind::Access, &claims(&aud, now_s() - 1));
    let good = keys.sign(TokenKind::Access, &claims(&aud, now_s() + 600));
    let other_audience = keys.sign(
        TokenKind::Access,
        &claims("https://other.example/mcp", now_s() + 600),
    );
    // This token's header and claims with another token's signature.
    let (signed, _) = good.rsplit_once('.').unwrap();
    let (_, signature) = other_audience.rsplit_once('.').unwrap();
    let tampered = format!("{signed}.{signature}");
    let refresh_kind = keys.sign(TokenKind::Refresh, &claims(&aud, now_s() + 600));
    for (token, reason) in [
        (expired.as_str(), "expired"),
        (tampered.as_str(), "bad signature"),
        (other_audience.as_str(), "issued for another resource"),
        (refresh_kind.as_str(), "a token of another kind"),
        ("a.b.c", "not a token of this stack"),
    ] {
        let event = parse(authorization_event(&format!("Bearer {token}")));
        let signing = SigningKeyStore::new(Signing("sign-1", None), Duration::from_secs(60));
        let r = run(authorize_oauth_event(&event, &store(), &signing, None)).unwrap();
        assert!(r.is_authorized, "{reason}");
        assert_eq!(
            r.context.get("auth").map(String::as_str),
            Some("invalid_token")
        );
        assert_eq!(r.context.get("reason").map(String::as_str), Some(reason));
        assert_eq!(
            r.context.get("resourceMetadata").map(String::as_str),
            Some(format!("{ISSUER}/.well-known/oauth-protected-resource/mcp").as_str())
        );
        assert!(!r.context.contains_key("clientId"));
        // The wire form API Gateway reads.
        let wire: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(wire["isAuthorized"], true);
        assert_eq!(wire["context"]["auth"], "invalid_token");
    }
}

#[test]
fn the_key_still_works_as_a_bearer_token_but_not_in_x_api_key() {
    assert_eq!(
        verdict(&format!("Bearer {CURRENT}"), Signing("sign-1", None), None),
        (true, Some("api-key".into()))
    );
    assert!(!verdict("Bearer wrong-key", Signing("sign-1", None), None).0);
    let event = parse(x_api_key_event(CURRENT));
    let signing = SigningKeyStore::new(Signing("sign-1", None), Duration::from_secs(60));
    let r = run(authorize_oauth_event(&event, &store(), &signing, None)).unwrap();
    assert!(!r.is_authorized);
}
