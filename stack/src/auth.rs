//! How a caller presents the API key, and what API Gateway is told about it: the header names
//! and scheme the authorizer reads, and the authorizer's identity sources and result-cache TTL
//! that follow from `[authorizer] accept`. `deploy` configures the HTTP API authorizer with
//! [`identity_sources`] and [`effective_cache_ttl_s`], `dev` emulates exactly that, and the
//! authorizer reads the accepted headers from [`crate::env::ACCEPT_VAR`]; see
//! `docs/auth-headers.md` for the trade-off.

use std::fmt;

use serde::Deserialize;

use crate::Config;

/// The dedicated key header. API Gateway lower-cases header names in payload 2.0 events.
pub const API_KEY_HEADER: &str = "x-api-key";
/// The standard credentials header, lower-cased as payload 2.0 events carry it.
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// The `Authorization` scheme that carries the key (RFC 6750); matched case-insensitively.
pub const BEARER_SCHEME: &str = "Bearer";
/// How an HTTP API identity source names a request header.
pub const HEADER_IDENTITY_PREFIX: &str = "$request.header.";

/// One place a caller may put the key: `x-api-key: KEY` or `Authorization: Bearer KEY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum KeyHeader {
    #[serde(rename = "x-api-key")]
    XApiKey,
    #[serde(rename = "bearer")]
    Bearer,
}

impl KeyHeader {
    pub const ALL: [KeyHeader; 2] = [KeyHeader::XApiKey, KeyHeader::Bearer];

    /// The word deploy.toml and the authorizer's environment use: `x-api-key` or `bearer`.
    pub fn word(self) -> &'static str {
        match self {
            KeyHeader::XApiKey => "x-api-key",
            KeyHeader::Bearer => "bearer",
        }
    }

    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.word() == word)
    }

    /// The request header that carries the key, lower-cased.
    pub fn header(self) -> &'static str {
        match self {
            KeyHeader::XApiKey => API_KEY_HEADER,
            KeyHeader::Bearer => AUTHORIZATION_HEADER,
        }
    }

    /// The HTTP API identity source selecting that header. Header names in identity sources are
    /// case-insensitive; `Authorization` is spelled as the API Gateway guide spells it.
    pub fn identity_source(self) -> String {
        match self {
            KeyHeader::XApiKey => format!("{HEADER_IDENTITY_PREFIX}{API_KEY_HEADER}"),
            KeyHeader::Bearer => format!("{HEADER_IDENTITY_PREFIX}Authorization"),
        }
    }
}

impl fmt::Display for KeyHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// The set of accepted [`KeyHeader`]s, as the authorizer applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Accepted {
    pub x_api_key: bool,
    pub bearer: bool,
}

/// An `[authorizer] accept` list or an [`crate::env::ACCEPT_VAR`] value that names no header, or
/// something else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcceptError {
    #[error("names no header: accept at least one of \"x-api-key\", \"bearer\"")]
    Empty,
    #[error("names {0:?}, which is neither \"x-api-key\" nor \"bearer\"")]
    Unknown(String),
    #[error("names \"{0}\" twice")]
    Duplicate(KeyHeader),
}

impl Accepted {
    /// Both headers: the default.
    pub const BOTH: Accepted = Accepted {
        x_api_key: true,
        bearer: true,
    };
    pub const X_API_KEY: Accepted = Accepted {
        x_api_key: true,
        bearer: false,
    };
    pub const BEARER: Accepted = Accepted {
        x_api_key: false,
        bearer: true,
    };

    /// The set a list names; empty and repeated entries are refused, so a config error is never
    /// read as "accept nothing" or silently merged.
    pub fn from_list(list: &[KeyHeader]) -> Result<Self, AcceptError> {
        let mut accepted = Accepted {
            x_api_key: false,
            bearer: false,
        };
        for header in list {
            let slot = match header {
                KeyHeader::XApiKey => &mut accepted.x_api_key,
                KeyHeader::Bearer => &mut accepted.bearer,
            };
            if *slot {
                return Err(AcceptError::Duplicate(*header));
            }
            *slot = true;
        }
        if accepted.headers().is_empty() {
            return Err(AcceptError::Empty);
        }
        Ok(accepted)
    }

    pub fn contains(self, header: KeyHeader) -> bool {
        match header {
            KeyHeader::XApiKey => self.x_api_key,
            KeyHeader::Bearer => self.bearer,
        }
    }

    /// The accepted headers in [`KeyHeader::ALL`] order.
    pub fn headers(self) -> Vec<KeyHeader> {
        KeyHeader::ALL
            .into_iter()
            .filter(|h| self.contains(*h))
            .collect()
    }

    /// The value of [`crate::env::ACCEPT_VAR`]: the words joined by ',' (`x-api-key,bearer`).
    pub fn env_value(self) -> String {
        self.headers()
            .iter()
            .map(|h| h.word())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses an [`Accepted::env_value`]; spaces around the words are allowed.
    pub fn parse_env(value: &str) -> Result<Self, AcceptError> {
        let list = value
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| KeyHeader::from_word(w).ok_or_else(|| AcceptError::Unknown(w.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_list(&list)
    }
}

/// What `config` accepts. [`Config::validate`] refuses a list this would fail on; should an
/// unvalidated one get here, both headers are accepted, as by default.
///
/// With `[auth] mode = "oauth"` only `Authorization: Bearer` (an access token, or the key): a
/// request without it must get API Gateway's own 401, which starts an MCP client's OAuth
/// discovery (docs/oauth.md), and `x-api-key` would be a second way in that OAuth clients never use.
pub fn accepted(config: &Config) -> Accepted {
    if config.auth.mode == crate::config::AuthMode::OAuth {
        return Accepted::BEARER;
    }
    Accepted::from_list(&config.authorizer.accept).unwrap_or(Accepted::BOTH)
}

/// The identity sources of the HTTP API authorizer for `config`.
///
/// API Gateway answers 401 without invoking the authorizer when any identity source is missing
/// from a request, and uses the identity source values as the result cache key. So:
/// - one accepted header: that header is the identity source (a request without it is refused
///   by API Gateway, and verdicts are cached per value of that header);
/// - both: no identity source at all, since either header alone must reach the authorizer.
///   API Gateway then invokes the authorizer for every request, and cannot cache (it needs at
///   least one identity source to cache): see [`effective_cache_ttl_s`].
pub fn identity_sources(config: &Config) -> Vec<String> {
    let accepted = accepted(config);
    match accepted.headers().as_slice() {
        [only] => vec![only.identity_source()],
        _ => Vec::new(),
    }
}

/// `AuthorizerResultTtlInSeconds` for `config`: `authorizer.cache_ttl_s` when there is an
/// identity source to key the cache on, else 0 ("to enable caching, your authorizer must have at
/// least one identity source", API Gateway developer guide).
///
/// In oauth mode at most [`OAUTH_MAX_CACHE_TTL_S`]: a cached allow outlives the access token's
/// expiry by up to the TTL.
pub fn effective_cache_ttl_s(config: &Config) -> u32 {
    if identity_sources(config).is_empty() {
        0
    } else if config.auth.mode == crate::config::AuthMode::OAuth {
        config.authorizer.cache_ttl_s.min(OAUTH_MAX_CACHE_TTL_S)
    } else {
        config.authorizer.cache_ttl_s
    }
}

/// The longest an authorizer verdict on an access token is cached by API Gateway.
pub const OAUTH_MAX_CACHE_TTL_S: u32 = 60;

/// The header an identity source selects (`$request.header.x-api-key` → `x-api-key`), if it
/// selects one.
pub fn identity_source_header(source: &str) -> Option<&str> {
    source
        .strip_prefix(HEADER_IDENTITY_PREFIX)
        .filter(|h| !h.is_empty())
}

/// The key in an `Authorization` value: scheme `Bearer` in any case, one or more spaces, the
/// token; the whole value and the token trimmed. Any other scheme, or `Bearer` without a token,
/// carries no key.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case(BEARER_SCHEME) {
        return None;
    }
    Some(token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_accepting(accept: &[KeyHeader], cache_ttl_s: u32) -> Config {
        let mut c = Config::default();
        c.authorizer.accept = accept.to_vec();
        c.authorizer.cache_ttl_s = cache_ttl_s;
        c
    }

    #[test]
    fn both_headers_mean_no_identity_source_and_no_cache() {
        let c = config_accepting(&[KeyHeader::XApiKey, KeyHeader::Bearer], 300);
        assert!(identity_sources(&c).is_empty());
        assert_eq!(effective_cache_ttl_s(&c), 0);
        // The order in deploy.toml does not matter.
        let c = config_accepting(&[KeyHeader::Bearer, KeyHeader::XApiKey], 300);
        assert!(identity_sources(&c).is_empty());
        assert_eq!(effective_cache_ttl_s(&c), 0);
        assert_eq!(accepted(&c), Accepted::BOTH);
    }

    #[test]
    fn the_default_accepts_both() {
        let c = Config::default();
        assert_eq!(accepted(&c), Accepted::BOTH);
        assert!(identity_sources(&c).is_empty());
        assert_eq!(effective_cache_ttl_s(&c), 0);
    }

    #[test]
    fn one_header_is_the_identity_source_and_keeps_the_cache() {
        let c = config_accepting(&[KeyHeader::XApiKey], 300);
        assert_eq!(identity_sources(&c), ["$request.header.x-api-key"]);
        assert_eq!(effective_cache_ttl_s(&c), 300);
        let c = config_accepting(&[KeyHeader::Bearer], 120);
        assert_eq!(identity_sources(&c), ["$request.header.Authorization"]);
        assert_eq!(effective_cache_ttl_s(&c), 120);
        let c = config_accepting(&[KeyHeader::XApiKey], 0);
        assert_eq!(effective_cache_ttl_s(&c), 0);
    }

    #[test]
    fn oauth_mode_takes_bearer_only_and_caches_briefly() {
        let mut c = config_accepting(&[KeyHeader::XApiKey, KeyHeader::Bearer], 300);
        c.auth.mode = crate::config::AuthMode::OAuth;
        assert_eq!(accepted(&c), Accepted::BEARER);
        assert_eq!(identity_sources(&c), ["$request.header.Authorization"]);
        assert_eq!(effective_cache_ttl_s(&c), OAUTH_MAX_CACHE_TTL_S);
        c.authorizer.cache_ttl_s = 10;
        assert_eq!(effective_cache_ttl_s(&c), 10);
    }

    #[test]
    fn identity_sources_name_their_headers() {
        for h in KeyHeader::ALL {
            let source = h.identity_source();
            let header = identity_source_header(&source).unwrap();
            assert!(header.eq_ignore_ascii_case(h.header()), "{source}");
        }
        assert_eq!(identity_source_header("$context.routeKey"), None);
        assert_eq!(identity_source_header("$request.header."), None);
    }

    #[test]
    fn bearer_tokens() {
        for (value, token) in [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER abc", Some("abc")),
            ("bEaReR abc", Some("abc")),
            ("Bearer    abc", Some("abc")),
            ("  Bearer abc  ", Some("abc")),
            ("Bearer abc def", Some("abc def")),
            ("Bearer abc,Bearer def", Some("abc,Bearer def")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearer    ", None),
            ("Bearer\tabc", None),
            ("Bearerabc", None),
            ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", None),
            ("Token abc", None),
            ("abc", None),
            ("", None),
            (" Bearer", None),
            ("Bearer: abc", None),
            ("Bearer\u{a0}abc", None),
        ] {
            assert_eq!(bearer_token(value), token, "{value:?}");
        }
    }

    #[test]
    fn accepted_lists_and_env_values() {
        assert_eq!(
            Accepted::from_list(&[KeyHeader::XApiKey]),
            Ok(Accepted::X_API_KEY)
        );
        assert_eq!(
            Accepted::from_list(&[KeyHeader::Bearer]),
            Ok(Accepted::BEARER)
        );
        assert_eq!(Accepted::from_list(&[]), Err(AcceptError::Empty));
        assert_eq!(
            Accepted::from_list(&[KeyHeader::Bearer, KeyHeader::Bearer]),
            Err(AcceptError::Duplicate(KeyHeader::Bearer))
        );
        for a in [Accepted::BOTH, Accepted::X_API_KEY, Accepted::BEARER] {
            assert_eq!(Accepted::parse_env(&a.env_value()), Ok(a));
        }
        assert_eq!(Accepted::BOTH.env_value(), "x-api-key,bearer");
        assert_eq!(
            Accepted::parse_env(" bearer , x-api-key "),
            Ok(Accepted::BOTH)
        );
        assert_eq!(Accepted::parse_env(""), Err(AcceptError::Empty));
        assert_eq!(Accepted::parse_env(" , "), Err(AcceptError::Empty));
        assert_eq!(
            Accepted::parse_env("x-api-key,Bearer"),
            Err(AcceptError::Unknown("Bearer".into()))
        );
    }
}
