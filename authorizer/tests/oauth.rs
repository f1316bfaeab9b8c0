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
    // Configured issuer other than the token's: refused.
    assert!(
        !verdict(
            &format!("Bearer {good}"),
            Signing("sign-1", None),
            Some("https://custom.example")
        )
        .0
    );
    // After rotation the previous key still verifies; after finalize it does not.
    assert!(
        verdict(
            &format!("Bearer {good}"),
            Signing("sign-2", Some("sign-1")),
            None
        )
        .0
    );
    assert!(!verdict(&format!("Bearer {good}"), Signing("sign-2", None), None).0);
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
            (false, None)
        );
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
