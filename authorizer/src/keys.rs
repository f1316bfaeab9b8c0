//! API keys as the authorizer holds and compares them: SHA-256 digests, compared in constant time.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// Longer presented keys are rejected before any hashing or secret lookup. Real keys are 64 hex
/// characters; the limit only has to be far above that and far below API Gateway's header limits.
pub const MAX_KEY_BYTES: usize = 4096;

/// Which version of the secret a key matched, named as Secrets Manager names the staging labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStage {
    Current,
    Previous,
}

impl KeyStage {
    pub fn label(self) -> &'static str {
        match self {
            KeyStage::Current => "AWSCURRENT",
            KeyStage::Previous => "AWSPREVIOUS",
        }
    }
}

impl fmt::Display for KeyStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The SHA-256 of a key. Comparing fixed-size digests means neither the position of the first
/// differing byte nor the key's length shows in the comparison time, and the cache never holds
/// a key in the clear.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyDigest([u8; 32]);

impl KeyDigest {
    pub fn of(key: &[u8]) -> Self {
        Self(Sha256::digest(key).into())
    }

    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyDigest(..)")
    }
}

/// The accepted keys: the secret's AWSCURRENT version and, during a rotation's overlap window,
/// its AWSPREVIOUS version.
#[derive(Clone, Debug)]
pub struct SecretKeys {
    current: KeyDigest,
    previous: Option<KeyDigest>,
}

impl SecretKeys {
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Self {
        Self {
            current: KeyDigest::of(current),
            previous: previous.map(KeyDigest::of),
        }
    }

    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }

    /// The stage `presented` matches, if any. Both stages are always compared, so the time taken
    /// does not tell a caller which one (if either) matched.
    pub fn stage_of(&self, presented: &KeyDigest) -> Option<KeyStage> {
        let current = self.current.ct_eq(presented);
        let previous = match &self.previous {
            Some(previous) => previous.ct_eq(presented),
            None => Choice::from(0),
        };
        if bool::from(current) {
            Some(KeyStage::Current)
        } else if bool::from(previous) {
            Some(KeyStage::Previous)
        } else {
            None
        }
    }
}

/// A secret value that holds no usable key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretFormatError {
    #[error("the secret value is empty")]
    Empty,
    #[error("the secret value is a JSON object without a string \"apiKey\" field")]
    NoApiKeyField,
    #[error("the secret is binary and not UTF-8 text")]
    NotText,
}

/// The key inside a SecretString: the whole (trimmed) string, or the `apiKey` field when the
/// string is a JSON object (the shape the console's key/value editor produces). Surrounding
/// whitespace is dropped because an HTTP header value cannot carry it anyway.
pub fn key_from_secret_string(value: &str) -> Result<String, SecretFormatError> {
    let trimmed = value.trim();
    let key = if trimmed.starts_with('{') {
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(trimmed) {
            Ok(object) => ["apiKey", "api_key", "API_KEY"]
                .iter()
                .find_map(|field| object.get(*field).and_then(|v| v.as_str()))
                .map(|key| key.trim().to_string())
                .ok_or(SecretFormatError::NoApiKeyField)?,
            // Not JSON after all: a key that happens to start with '{'.
            Err(_) => trimmed.to_string(),
        }
    } else {
        trimmed.to_string()
    };
    if key.is_empty() {
        return Err(SecretFormatError::Empty);
    }
    Ok(key)
}

/// The key inside a SecretBinary, for secrets stored as bytes: the same rules as for a string.
pub fn key_from_secret_binary(value: &[u8]) -> Result<String, SecretFormatError> {
    let text = std::str::from_utf8(value).map_err(|_| SecretFormatError::NotText)?;
    key_from_secret_string(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_json_secret_strings() {
        assert_eq!(key_from_secret_string("abc123").unwrap(), "abc123");
        assert_eq!(key_from_secret_string("  abc123\n").unwrap(), "abc123");
        assert_eq!(
            key_from_secret_string(r#"{"apiKey": "k-1", "other": 2}"#).unwrap(),
            "k-1"
        );
        assert_eq!(
            key_from_secret_string(r#"{"api_key":"k-2"}"#).unwrap(),
            "k-2"
        );
        assert_eq!(key_from_secret_string("{not json").unwrap(), "{not json");
        assert_eq!(
            key_from_secret_string(r#"{"key": "x"}"#),
            Err(SecretFormatError::NoApiKeyField)
        );
        assert_eq!(
            key_from_secret_string(r#"{"apiKey": 5}"#),
            Err(SecretFormatError::NoApiKeyField)
        );
        assert_eq!(key_from_secret_string(""), Err(SecretFormatError::Empty));
        assert_eq!(key_from_secret_string(" \n"), Err(SecretFormatError::Empty));
        assert_eq!(
            key_from_secret_string(r#"{"apiKey": " "}"#),
            Err(SecretFormatError::Empty)
        );
    }

    #[test]
    fn binary_secrets() {
        assert_eq!(key_from_secret_binary(b"abc\n").unwrap(), "abc");
        assert_eq!(
            key_from_secret_binary(&[0xff, 0xfe]),
            Err(SecretFormatError::NotText)
        );
    }

    #[test]
    fn stage_matching() {
        let keys = SecretKeys::new(b"new", Some(b"old"));
        assert_eq!(
            keys.stage_of(&KeyDigest::of(b"new")),
            Some(KeyStage::Current)
        );
        assert_eq!(
            keys.stage_of(&KeyDigest::of(b"old")),
            Some(KeyStage::Previous)
        );
        assert_eq!(keys.stage_of(&KeyDigest::of(b"other")), None);
        assert_eq!(keys.stage_of(&KeyDigest::of(b"new ")), None);
        assert_eq!(keys.stage_of(&KeyDigest::of(b"")), None);

        let only_current = SecretKeys::new(b"new", None);
        assert!(!only_current.has_previous());
        assert_eq!(only_current.stage_of(&KeyDigest::of(b"old")), None);
    }

    #[test]
    fn debug_output_hides_digests() {
        let keys = SecretKeys::new(b"secret-key", Some(b"older-key"));
        let shown = format!("{keys:?}");
        assert!(!shown.contains("secret-key"));
        assert!(shown.contains("KeyDigest(..)"));
    }
}
