//! What `mcpctl dev` keeps between runs, under a local state dir (`.mcpctl/dev` beside
//! deploy.toml by default): the API key pair the local Secrets Manager stand-in serves, and the
//! URL of the running dev stack so `invoke --local` and `rotate-key --local` find it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot use the local state dir {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the local key file {path} is corrupt: delete it and run `mcpctl dev` again")]
    Corrupt { path: String },
    #[error("no random source: {0}")]
    Random(String),
    #[error("no local dev stack is running: start one with `mcpctl dev`")]
    NotRunning,
}

/// The two versions of the secret, as Secrets Manager's staging labels name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPair {
    #[serde(rename = "AWSCURRENT")]
    pub current: String,
    #[serde(
        rename = "AWSPREVIOUS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub previous: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LocalState {
    dir: PathBuf,
}

fn to_json(pair: &KeyPair) -> Result<Vec<u8>, StateError> {
    serde_json::to_vec_pretty(pair).map_err(|e| StateError::Random(e.to_string()))
}

/// A fresh 256-bit key as 64 hex characters.
pub fn new_api_key() -> Result<String, StateError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StateError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

impl LocalState {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `.mcpctl/dev` beside the given deploy.toml.
    pub fn beside(config_path: &Path) -> Self {
        let base = config_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        Self::new(base.join(".mcpctl").join("dev"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn keys_path(&self) -> PathBuf {
        self.dir.join("api-key.json")
    }

    /// The OAuth signing key pair (`[auth] mode = "oauth"`), separate from the API key.
    fn signing_keys_path(&self) -> PathBuf {
        self.dir.join("oauth-signing-key.json")
    }

    fn endpoint_path(&self) -> PathBuf {
        self.dir.join("endpoint")
    }

    fn io(&self, path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
        let path = path.display().to_string();
        move |source| StateError::Io { path, source }
    }

    /// The stored keys, if any.
    pub fn keys(&self) -> Result<Option<KeyPair>, StateError> {
        self.read_pair(&self.keys_path())
    }

    /// The key pair stored at `path` (the API key's or the signing key's file), if any.
    fn read_pair(&self, path: &Path) -> Result<Option<KeyPair>, StateError> {
        match fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|_| StateError::Corrupt {
                        path: path.display().to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(path)(e)),
        }
    }

    /// The stored keys, or a newly generated current key stored first.
    pub fn keys_or_create(&self) -> Result<KeyPair, StateError> {
        if let Some(k) = self.keys()? {
            return Ok(k);
        }
        let pair = KeyPair {
            current: new_api_key()?,
            previous: None,
        };
        self.write_keys(&pair)?;
        Ok(pair)
    }

    /// Forces `key` as the only valid key (`mcpctl dev --api-key`).
    pub fn set_key(&self, key: &str) -> Result<KeyPair, StateError> {
        let pair = KeyPair {
            current: key.to_string(),
            previous: None,
        };
        self.write_keys(&pair)?;
        Ok(pair)
    }

    /// New current key; the old one stays valid as AWSPREVIOUS. The OAuth signing key, if
    /// there is one, rotates with it, with the same overlap.
    pub fn rotate(&self) -> Result<KeyPair, StateError> {
        let old = self.keys_or_create()?;
        let pair = KeyPair {
            current: new_api_key()?,
            previous: Some(old.current),
        };
        self.write_keys(&pair)?;
        if let Some(signing) = self.signing_keys()? {
            let rotated = KeyPair {
                current: new_api_key()?,
                previous: Some(signing.current),
            };
            self.write_private(&self.signing_keys_path(), &to_json(&rotated)?)?;
        }
        Ok(pair)
    }

    /// Drops AWSPREVIOUS: only the current key is accepted afterwards (and only the current
    /// signing key verifies tokens).
    pub fn finalize(&self) -> Result<KeyPair, StateError> {
        let mut pair = self.keys_or_create()?;
        pair.previous = None;
        self.write_keys(&pair)?;
        if let Some(mut signing) = self.signing_keys()? {
            signing.previous = None;
            self.write_private(&self.signing_keys_path(), &to_json(&signing)?)?;
        }
        Ok(pair)
    }

    /// The stored OAuth signing keys, if any.
    pub fn signing_keys(&self) -> Result<Option<KeyPair>, StateError> {
        self.read_pair(&self.signing_keys_path())
    }

    /// The stored OAuth signing keys, or a new 256-bit key stored first.
    pub fn signing_keys_or_create(&self) -> Result<KeyPair, StateError> {
        if let Some(k) = self.signing_keys()? {
            return Ok(k);
        }
        let pair = KeyPair {
            current: new_api_key()?,
            previous: None,
        };
        self.write_private(&self.signing_keys_path(), &to_json(&pair)?)?;
        Ok(pair)
    }

    fn write_keys(&self, pair: &KeyPair) -> Result<(), StateError> {
        let bytes =
            serde_json::to_vec_pretty(pair).map_err(|e| StateError::Random(e.to_string()))?;
        self.write_private(&self.keys_path(), &bytes)
    }

    /// Records the URL of the running dev stack.
    pub fn set_endpoint(&self, url: &str) -> Result<(), StateError> {
        self.write_private(&self.endpoint_path(), url.as_bytes())
    }

    pub fn clear_endpoint(&self) {
        let _ = fs::remove_file(self.endpoint_path());
    }

    /// The URL of the running dev stack (`http://127.0.0.1:8080/mcp`).
    pub fn endpoint(&self) -> Result<String, StateError> {
        match fs::read_to_string(self.endpoint_path()) {
            Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(StateError::NotRunning),
        }
    }

    /// Written to a temporary file then renamed, so a reader never sees half a key; mode 0600
    /// because it holds a credential.
    fn write_private(&self, path: &Path, bytes: &[u8]) -> Result<(), StateError> {
        fs::create_dir_all(&self.dir).map_err(self.io(&self.dir))?;
        let tmp = path.with_extension("tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(self.io(&tmp))?;
        file.write_all(bytes).map_err(self.io(&tmp))?;
        file.sync_all().map_err(self.io(&tmp))?;
        fs::rename(&tmp, path).map_err(self.io(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> LocalState {
        let dir = std::env::temp_dir().join(format!(
            "mcpctl-state-{}-{}",
            std::process::id(),
            new_api_key().unwrap()
        ));
        LocalState::new(dir)
    }

    #[test]
    fn key_is_created_once_then_kept() {
        let s = scratch();
        let a = s.keys_or_create().unwrap();
        assert_eq!(a.current.len(), 64);
        assert_eq!(s.keys_or_create().unwrap(), a);
        let _ = fs::remove_dir_all(s.dir());
    }

    #[test]
    fn rotate_keeps_previous_until_finalize() {
        let s = scratch();
        let a = s.keys_or_create().unwrap();
        let b = s.rotate().unwrap();
        assert_ne!(a.current, b.current);
        assert_eq!(b.previous.as_deref(), Some(a.current.as_str()));
        let c = s.finalize().unwrap();
        assert_eq!(c.current, b.current);
        assert_eq!(c.previous, None);
        let _ = fs::remove_dir_all(s.dir());
    }

    #[test]
    fn the_signing_key_rotates_with_the_api_key() {
        let s = scratch();
        s.keys_or_create().unwrap();
        // No signing key yet: rotation does not make one.
        s.rotate().unwrap();
        assert_eq!(s.signing_keys().unwrap(), None);
        let a = s.signing_keys_or_create().unwrap();
        assert_ne!(a.current, s.keys().unwrap().unwrap().current);
        s.rotate().unwrap();
        let b = s.signing_keys().unwrap().unwrap();
        assert_eq!(b.previous.as_deref(), Some(a.current.as_str()));
        s.finalize().unwrap();
        let c = s.signing_keys().unwrap().unwrap();
        assert_eq!((c.current, c.previous), (b.current, None));
        let _ = fs::remove_dir_all(s.dir());
    }

    #[test]
    fn endpoint_absent_means_not_running() {
        let s = scratch();
        assert!(matches!(s.endpoint(), Err(StateError::NotRunning)));
        s.set_endpoint("http://127.0.0.1:1/mcp").unwrap();
        assert_eq!(s.endpoint().unwrap(), "http://127.0.0.1:1/mcp");
        let _ = fs::remove_dir_all(s.dir());
    }
}
