//! The in-memory copy of the OAuth signing secret (`[auth] mode = "oauth"`): read at most once
//! per TTL, kept when a re-read fails, re-read early (at most every
//! [`crate::store::EARLY_REFRESH_INTERVAL`]) when a token names a key this copy lacks, so tokens
//! signed right after `rotate-key` verify at once. Unlike the API key cache it holds the raw
//! secret, since it signs and verifies with it.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::store::{FetchError, EARLY_REFRESH_INTERVAL, RETRY_AFTER_FAILURE};
use crate::token::SigningKeys;

/// Where the signing secret comes from: Secrets Manager, or a fake in tests.
pub trait RawSecretSource: Send + Sync {
    /// The AWSCURRENT value and, if there is one, the AWSPREVIOUS value.
    fn versions(&self)
        -> impl Future<Output = Result<(String, Option<String>), FetchError>> + Send;

    fn secret_id(&self) -> &str;
}

#[derive(Default)]
struct Cache {
    keys: Option<SigningKeys>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    last_early: Option<Instant>,
    failed: bool,
}

pub struct SigningKeyStore<S> {
    source: S,
    ttl: Duration,
    cache: Mutex<Cache>,
}

impl<S: RawSecretSource> SigningKeyStore<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        Self {
            source,
            ttl,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The keys, read first if the copy is older than the TTL; `None` if the secret has never
    /// been read. `token`, if given, is about to be verified: when it names a key the copy lacks
    /// the secret is re-read (rate-limited) first.
    pub async fn keys(&self, token: Option<&str>) -> Option<SigningKeys> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        let stale = cache
            .fetched_at
            .is_none_or(|at| now.saturating_duration_since(at) >= self.ttl);
        let backing_off = cache.failed
            && cache
                .last_attempt
                .is_some_and(|at| now.saturating_duration_since(at) < RETRY_AFTER_FAILURE);
        if stale && !backing_off {
            self.refresh(&mut cache, now).await;
        }
        let unknown_kid = match (&cache.keys, token) {
            (Some(keys), Some(token)) => !keys.knows_kid_of(token),
            _ => false,
        };
        let early_recently = cache
            .last_early
            .is_some_and(|at| now.saturating_duration_since(at) < EARLY_REFRESH_INTERVAL);
        let read_just_now = stale && !backing_off;
        if unknown_kid && !early_recently && !read_just_now {
            cache.last_early = Some(now);
            self.refresh(&mut cache, now).await;
        }
        cache.keys.clone()
    }

    async fn refresh(&self, cache: &mut Cache, now: Instant) {
        cache.last_attempt = Some(now);
        match self.source.versions().await {
            Ok((current, previous)) => {
                cache.keys = Some(SigningKeys::new(
                    current.as_bytes(),
                    previous.as_deref().map(str::as_bytes),
                ));
                cache.fetched_at = Some(now);
                cache.failed = false;
            }
            Err(err) => {
                cache.failed = true;
                tracing::error!(
                    secret = self.source.secret_id(),
                    "cannot read the OAuth signing secret: {err}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcpctl_stack::oauth::TokenKind;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex as StdMutex;

    struct Fake {
        value: StdMutex<(String, Option<String>)>,
        reads: AtomicUsize,
    }

    impl RawSecretSource for Fake {
        async fn versions(&self) -> Result<(String, Option<String>), FetchError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.value.lock().unwrap().clone())
        }
        fn secret_id(&self) -> &str {
            "signing"
        }
    }

    #[tokio::test]
    async fn an_unknown_kid_rereads_once() {
        let store = SigningKeyStore::new(
            Fake {
                value: StdMutex::new(("a".into(), None)),
                reads: AtomicUsize::new(0),
            },
            Duration::from_secs(300),
        );
        let keys = store.keys(None).await.unwrap();
        assert_eq!(store.source.reads.load(Ordering::SeqCst), 1);
        // Rotated elsewhere: a token signed by the new key.
        *store.source.value.lock().unwrap() = ("b".into(), Some("a".into()));
        let newer = SigningKeys::new(b"b", Some(b"a"));
        let token = newer.sign(TokenKind::Access, &serde_json::json!({"exp": u64::MAX}));
        assert!(!keys.knows_kid_of(&token));
        let keys = store.keys(Some(&token)).await.unwrap();
        assert!(keys.knows_kid_of(&token));
        assert_eq!(store.source.reads.load(Ordering::SeqCst), 2);
        // A forged kid does not make every request a read.
        let forged = SigningKeys::new(b"zzz", None).sign(TokenKind::Access, &1);
        store.keys(Some(&forged)).await;
        store.keys(Some(&forged)).await;
        assert_eq!(store.source.reads.load(Ordering::SeqCst), 2);
    }
}
