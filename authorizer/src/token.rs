//! The signed tokens of `[auth] mode = "oauth"` (docs/oauth.md): compact JWS with HS256, one
//! format for access tokens (RFC 9068 `at+jwt`), authorization codes, refresh tokens, client ids
//! made by registration and consent form tokens, told apart by the `typ` header and signed with a
//! key derived per kind from the signing secret, so a token of one kind never verifies as another.
//! The oauth function signs with the secret's AWSCURRENT version; both it and the authorizer
//! verify with AWSCURRENT and AWSPREVIOUS (the `kid` header says which), so a rotation by
//! `rotate-key` overlaps exactly as the API key's does.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use mcpctl_stack::oauth::TokenKind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Longer tokens are refused before any decoding.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// How far a token's `iat` may be ahead of this machine's clock.
pub const CLOCK_SKEW_S: u64 = 60;

/// Why a token is not accepted. Never carries the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a token of this stack")]
    Malformed,
    #[error("too long")]
    TooLong,
    #[error("a token of another kind")]
    WrongKind,
    #[error("signed with an unknown key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("issued in the future")]
    NotYetValid,
    #[error("issued by another issuer")]
    WrongIssuer,
    #[error("issued for another resource")]
    WrongAudience,
}

/// One version of the signing secret, ready to sign and verify.
#[derive(Clone)]
struct SigningKey {
    kid: String,
    secret: Vec<u8>,
}

impl SigningKey {
    fn new(secret: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"mcpctl-oauth/v1/kid\0");
        h.update(secret);
        let digest = h.finalize();
        Self {
            kid: hex(&digest[..6]),
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, kind: TokenKind) -> HmacSha256 {
        let mut derive = <HmacSha256 as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        derive.update(kind.key_label().as_bytes());
        let derived = derive.finalize().into_bytes();
        <HmacSha256 as KeyInit>::new_from_slice(&derived)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }
}

/// The signing keys: AWSCURRENT signs; AWSCURRENT and, during an overlap, AWSPREVIOUS verify.
#[derive(Clone)]
pub struct SigningKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKeys(kid {}, previous {:?})",
            self.current.kid,
            self.previous.as_ref().map(|p| p.kid.as_str())
        )
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

impl SigningKeys {
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Self {
        Self {
            current: SigningKey::new(current),
            previous: previous.map(SigningKey::new),
        }
    }

    /// Whether `token`'s `kid` names a key this copy does not hold (the secret was rotated
    /// since it was read).
    pub fn knows_kid_of(&self, token: &str) -> bool {
        match decode_header(token) {
            Some(h) => self.key(&h.kid).is_some(),
            None => true,
        }
    }

    fn key(&self, kid: &str) -> Option<&SigningKey> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| k.kid == kid)
    }

    /// `claims` as a token of `kind`, signed with the current key.
    pub fn sign<T: Serialize>(&self, kind: TokenKind, claims: &T) -> String {
        let header = Header {
            alg: "HS256".into(),
            typ: kind.typ().into(),
            kid: self.current.kid.clone(),
        };
        let signing_input = format!("{}.{}", b64_json(&header), b64_json(claims));
        let mut mac = self.current.mac(kind);
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The claims of `token` if it is a well-formed token of `kind` signed by one of the keys,
    /// not expired (`exp`, seconds) and not issued in the future (`iat`) at `now`.
    pub fn verify<T: DeserializeOwned>(
        &self,
        kind: TokenKind,
        token: &str,
        now: u64,
    ) -> Result<T, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(header64), Some(payload64), Some(signature64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Header = decode_json(header64).ok_or(TokenError::Malformed)?;
        if header.alg != "HS256" {
            return Err(TokenError::Malformed);
        }
        if header.typ != kind.typ() {
            return Err(TokenError::WrongKind);
        }
        let key = self.key(&header.kid).ok_or(TokenError::UnknownKey)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature64)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = key.mac(kind);
        mac.update(header64.as_bytes());
        mac.update(b".");
        mac.update(payload64.as_bytes());
        // Constant time.
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload: serde_json::Value = decode_json(payload64).ok_or(TokenError::Malformed)?;
        let exp = payload
            .get("exp")
            .and_then(serde_json::Value::as_u64)
            .ok_or(TokenError::Malformed)?;
        if now >= exp {
            return Err(TokenError::Expired);
        }
        if let Some(iat) = payload.get("iat").and_then(serde_json::Value::as_u64) {
            if iat > now + CLOCK_SKEW_S {
                return Err(TokenError::NotYetValid);
            }
        }
        serde_json::from_value(payload).map_err(|_| TokenError::Malformed)
    }
}

/// The claims of an access token (RFC 9068).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    /// The MCP endpoint's URL (RFC 8707 resource).
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

/// `token` as an access token for `audience` issued by `issuer`, valid at `now`.
pub fn validate_access_token(
    keys: &SigningKeys,
    token: &str,
    issuer: &str,
    audience: &str,
    now: u64,
) -> Result<AccessClaims, TokenError> {
    let claims: AccessClaims = keys.verify(TokenKind::Access, token, now)?;
    if claims.iss != issuer {
        return Err(TokenError::WrongIssuer);
    }
    if claims.aud != audience {
        return Err(TokenError::WrongAudience);
    }
    Ok(claims)
}

/// Whether `value` has the shape of one of these tokens (three base64url parts), as opposed to
/// an API key.
pub fn looks_like_token(value: &str) -> bool {
    value.split('.').count() == 3
}

fn decode_header(token: &str) -> Option<Header> {
    decode_json(token.split('.').next()?)
}

fn decode_json<T: DeserializeOwned>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds since the Unix epoch.
pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Serializing plain structs of strings and numbers cannot fail.
fn b64_json<T: Serialize + ?Sized>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://api.example.com";
    const AUD: &str = "https://api.example.com/mcp";

    fn claims(exp: u64) -> AccessClaims {
        AccessClaims {
            iss: ISS.into(),
            sub: "owner".into(),
            aud: AUD.into(),
            client_id: "https://client.example/cimd.json".into(),
            scope: "mcp".into(),
            iat: 1000,
            exp,
            jti: "j1".into(),
        }
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let keys = SigningKeys::new(b"k1", None);
        let t = keys.sign(TokenKind::Access, &claims(2000));
        assert!(looks_like_token(&t));
        assert_eq!(
            validate_access_token(&keys, &t, ISS, AUD, 1500),
            Ok(claims(2000))
        );
        assert_eq!(
            validate_access_token(&keys, &t, ISS, AUD, 2000),
            Err(TokenError::Expired)
        );
        assert_eq!(
            validate_access_token(&keys, &t, ISS, "https://other/mcp", 1500),
            Err(TokenError::WrongAudience)
        );
        assert_eq!(
            validate_access_token(&keys, &t, "https://other", AUD, 1500),
            Err(TokenError::WrongIssuer)
        );
        assert_eq!(
            validate_access_token(&keys, &t, ISS, AUD, 100),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn tampering_and_other_kinds_are_refused() {
        let keys = SigningKeys::new(b"k1", None);
        let t = keys.sign(TokenKind::Access, &claims(2000));
        let (head, rest) = t.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let mut forged = claims(9999);
        forged.aud = AUD.into();
        let forged64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            validate_access_token(&keys, &format!("{head}.{forged64}.{sig}"), ISS, AUD, 1500),
            Err(TokenError::BadSignature)
        );
        // A flipped signature character.
        let mut bad = t.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert!(
            validate_access_token(&keys, std::str::from_utf8(&bad).unwrap(), ISS, AUD, 1500)
                .is_err()
        );
        // Another secret.
        let other = SigningKeys::new(b"k2", None);
        assert_eq!(
            validate_access_token(&other, &t, ISS, AUD, 1500),
            Err(TokenError::UnknownKey)
        );
        // The same claims as a refresh token are not an access token, even re-labelled.
        let r = keys.sign(TokenKind::Refresh, &claims(2000));
        assert_eq!(
            validate_access_token(&keys, &r, ISS, AUD, 1500),
            Err(TokenError::WrongKind)
        );
        let (_, r_rest) = r.split_once('.').unwrap();
        assert_eq!(
            validate_access_token(&keys, &format!("{head}.{r_rest}"), ISS, AUD, 1500),
            Err(TokenError::BadSignature)
        );
        // alg none, garbage, too long.
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt","kid":"x"}"#);
        assert_eq!(
            validate_access_token(&keys, &format!("{none}.{forged64}."), ISS, AUD, 1500),
            Err(TokenError::Malformed)
        );
        for junk in ["", "a.b", "a.b.c", "...", "a.b.c.d"] {
            assert!(validate_access_token(&keys, junk, ISS, AUD, 1500).is_err());
        }
        assert_eq!(
            validate_access_token(&keys, &"a".repeat(MAX_TOKEN_BYTES + 1), ISS, AUD, 1500),
            Err(TokenError::TooLong)
        );
    }

    #[test]
    fn rotation_keeps_the_previous_key_verifying() {
        let old = SigningKeys::new(b"old", None);
        let t = old.sign(TokenKind::Access, &claims(2000));
        let rotated = SigningKeys::new(b"new", Some(b"old"));
        assert!(rotated.knows_kid_of(&t));
        assert!(validate_access_token(&rotated, &t, ISS, AUD, 1500).is_ok());
        let finalized = SigningKeys::new(b"new", None);
        assert!(!finalized.knows_kid_of(&t));
        assert_eq!(
            validate_access_token(&finalized, &t, ISS, AUD, 1500),
            Err(TokenError::UnknownKey)
        );
        // New tokens are signed with the new key.
        let t2 = rotated.sign(TokenKind::Access, &claims(2000));
        assert!(validate_access_token(&finalized, &t2, ISS, AUD, 1500).is_ok());
        assert!(!format!("{rotated:?}").contains("new"));
    }
}
