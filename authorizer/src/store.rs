//! The in-memory copy of the secret: read at most once per TTL on a warm authorizer, kept when a
//! re-read fails, and re-read early (rate-limited) when a key misses, so a just-rotated key works
//! within seconds instead of a full TTL.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::keys::{KeyDigest, KeyStage, SecretFormatError, SecretKeys};

/// After a failed read, wait this long before the next one: an outage must not turn every
/// request into a slow Secrets Manager call.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// A key that matches neither cached version triggers a re-read at most this often. It lets a key
/// made current by `rotate-key` work within seconds, while a stream of wrong keys costs at most
/// one Secrets Manager call per interval per warm authorizer.
pub const EARLY_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// Why reading the secret failed. Never carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("reading its {stage} version failed: {message}")]
    Read { stage: KeyStage, message: String },
    #[error("its {stage} version has neither SecretString nor SecretBinary")]
    NoValue { stage: KeyStage },
    #[error("its {stage} version holds no usable key: {source}")]
    Format {
        stage: KeyStage,
        #[source]
        source: SecretFormatError,
    },
}

/// Where the accepted keys come from: Secrets Manager in production, a fake in unit tests.
pub trait SecretSource: Send + Sync {
    /// Reads the current and (if any) previous version of the secret.
    fn fetch(&self) -> impl Future<Output = Result<SecretKeys, FetchError>> + Send;

    /// How logs name the secret: its id, never its value.
    fn secret_id(&self) -> &str;
}

/// What the cache says about a presented key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Matched(KeyStage),
    NoMatch,
    /// The secret has never been read successfully: nothing can be matched.
    Unavailable,
}

#[derive(Default)]
struct Cache {
    keys: Option<SecretKeys>,
    /// When the cached keys were read (the start of the read that returned them).
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    /// When a missed key last triggered a re-read. Kept apart from `last_attempt` so that the
    /// init and TTL reads do not use up the early re-read a just-rotated key needs: a denied new
    /// key would be cached as denied by API Gateway for `cache_ttl_s`.
    last_early_refresh: Option<Instant>,
    last_failed: bool,
}

impl Cache {
    fn is_stale(&self, now: Instant, ttl: Duration) -> bool {
        self.fetched_at
            .is_none_or(|at| now.saturating_duration_since(at) >= ttl)
    }

    fn attempted_within(&self, now: Instant, interval: Duration) -> bool {
        self.last_attempt
            .is_some_and(|at| now.saturating_duration_since(at) < interval)
    }
}

pub struct KeyStore<S> {
    source: S,
    ttl: Duration,
    cache: Mutex<Cache>,
}

impl<S: SecretSource> KeyStore<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        Self {
            source,
            ttl,
            cache: Mutex::new(Cache::default()),
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// Reads the secret now (at init, where Lambda gives the CPU boost), so the first request
    /// does not pay for it. A failure is logged and retried by the next lookup.
    pub async fn prefetch(&self) -> bool {
        let mut cache = self.cache.lock().await;
        self.refresh(&mut cache, Instant::now()).await;
        !cache.last_failed
    }

    /// Which stage `presented` matches, reading the secret first if the cached copy is older than
    /// the TTL. The lock is held across the read, so concurrent misses share one read.
    pub async fn lookup(&self, presented: &KeyDigest) -> Lookup {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        let backing_off = cache.last_failed && cache.attempted_within(now, RETRY_AFTER_FAILURE);
        let read_now = cache.is_stale(now, self.ttl) && !backing_off;
        if read_now {
            self.refresh(&mut cache, now).await;
        }
        let Some(keys) = &cache.keys else {
            return Lookup::Unavailable;
        };
        if let Some(stage) = keys.stage_of(presented) {
            return Lookup::Matched(stage);
        }
        let early_refreshed_recently = cache
            .last_early_refresh
            .is_some_and(|at| now.saturating_duration_since(at) < EARLY_REFRESH_INTERVAL);
        // A copy read by this very lookup is as fresh as an early re-read would be.
        if read_now || early_refreshed_recently {
            return Lookup::NoMatch;
        }
        cache.last_early_refresh = Some(now);
        info!(
            secret = self.source.secret_id(),
            "key matches neither cached version; re-reading the secret early in case it was just rotated"
        );
        self.refresh(&mut cache, now).await;
        match cache
            .keys
            .as_ref()
            .and_then(|keys| keys.stage_of(presented))
        {
            Some(stage) => Lookup::Matched(stage),
            None => Lookup::NoMatch,
        }
    }

    async fn refresh(&self, cache: &mut Cache, now: Instant) {
        cache.last_attempt = Some(now);
        match self.source.fetch().await {
            Ok(keys) => {
                cache.keys = Some(keys);
                cache.fetched_at = Some(now);
                cache.last_failed = false;
            }
            Err(err) => {
                cache.last_failed = true;
                let secret = self.source.secret_id();
                match cache.fetched_at {
                    Some(at) => warn!(
                        secret,
                        cached_age_s = now.saturating_duration_since(at).as_secs(),
                        "cannot re-read the API key secret, still using the cached copy: {err}"
                    ),
                    None => error!(
                        secret,
                        "cannot read the API key secret, denying every request until it can be read: {err}"
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex as StdMutex;

    /// A secret whose versions and availability the test changes, counting reads.
    struct FakeSource {
        versions: StdMutex<Option<(String, Option<String>)>>,
        reads: AtomicUsize,
    }

    impl FakeSource {
        fn new(current: &str, previous: Option<&str>) -> Self {
            let source = Self {
                versions: StdMutex::new(None),
                reads: AtomicUsize::new(0),
            };
            source.set(current, previous);
            source
        }

        fn set(&self, current: &str, previous: Option<&str>) {
            *self.versions.lock().unwrap() =
                Some((current.to_string(), previous.map(str::to_string)));
        }

        fn fail(&self) {
            *self.versions.lock().unwrap() = None;
        }

        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }
    }

    impl SecretSource for FakeSource {
        async fn fetch(&self) -> Result<SecretKeys, FetchError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            match &*self.versions.lock().unwrap() {
                Some((current, previous)) => Ok(SecretKeys::new(
                    current.as_bytes(),
                    previous.as_deref().map(str::as_bytes),
                )),
                None => Err(FetchError::Read {
                    stage: KeyStage::Current,
                    message: "service unavailable".into(),
                }),
            }
        }

        fn secret_id(&self) -> &str {
            "test-secret"
        }
    }

    fn digest(key: &str) -> KeyDigest {
        KeyDigest::of(key.as_bytes())
    }

    const TTL: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn warm_lookups_do_not_reread_until_the_ttl_passes() {
        let store = KeyStore::new(FakeSource::new("k1", None), TTL);
        for _ in 0..10 {
            assert_eq!(
                store.lookup(&digest("k1")).await,
                Lookup::Matched(KeyStage::Current)
            );
        }
        assert_eq!(store.source().reads(), 1);

        store.source().set("k2", Some("k1"));
        tokio::time::advance(TTL - Duration::from_secs(1)).await;
        assert_eq!(
            store.lookup(&digest("k1")).await,
            Lookup::Matched(KeyStage::Current)
        );
        assert_eq!(store.source().reads(), 1);

        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            store.lookup(&digest("k1")).await,
            Lookup::Matched(KeyStage::Previous)
        );
        assert_eq!(
            store.lookup(&digest("k2")).await,
            Lookup::Matched(KeyStage::Current)
        );
        assert_eq!(store.source().reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_ttl_reads_every_time() {
        let store = KeyStore::new(FakeSource::new("k1", None), Duration::ZERO);
        for _ in 0..3 {
            assert_eq!(
                store.lookup(&digest("k1")).await,
                Lookup::Matched(KeyStage::Current)
            );
            assert_eq!(store.lookup(&digest("nope")).await, Lookup::NoMatch);
        }
        assert_eq!(store.source().reads(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_reread_keeps_serving_the_cached_copy() {
        let store = KeyStore::new(FakeSource::new("k1", None), TTL);
        assert!(store.prefetch().await);
        store.source().fail();
        tokio::time::advance(TTL).await;
        assert_eq!(
            store.lookup(&digest("k1")).await,
            Lookup::Matched(KeyStage::Current)
        );
        assert_eq!(store.source().reads(), 2);
        // Within the back-off no further read is attempted.
        assert_eq!(
            store.lookup(&digest("k1")).await,
            Lookup::Matched(KeyStage::Current)
        );
        assert_eq!(store.source().reads(), 2);
        // After it the read is retried, and a recovered secret is picked up.
        store.source().set("k2", Some("k1"));
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        assert_eq!(
            store.lookup(&digest("k2")).await,
            Lookup::Matched(KeyStage::Current)
        );
        assert_eq!(store.source().reads(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn no_cached_copy_means_unavailable_with_bounded_retries() {
        let source = FakeSource::new("k1", None);
        source.fail();
        let store = KeyStore::new(source, TTL);
        assert!(!store.prefetch().await);
        for _ in 0..20 {
            assert_eq!(store.lookup(&digest("k1")).await, Lookup::Unavailable);
        }
        assert_eq!(store.source().reads(), 1, "retries wait for the back-off");
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        assert_eq!(store.lookup(&digest("k1")).await, Lookup::Unavailable);
        assert_eq!(store.source().reads(), 2);

        store.source().set("k1", None);
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        assert_eq!(
            store.lookup(&digest("k1")).await,
            Lookup::Matched(KeyStage::Current)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_miss_rereads_early_at_most_once_per_interval() {
        let store = KeyStore::new(FakeSource::new("k1", None), TTL);
        assert!(store.prefetch().await);
        store.source().set("k2", Some("k1"));

        // A key rotated in right after the init read works at once: the init read does not use
        // up the early re-read (a deny here would be cached by API Gateway for minutes).
        assert_eq!(
            store.lookup(&digest("k2")).await,
            Lookup::Matched(KeyStage::Current)
        );
        assert_eq!(store.source().reads(), 2);

        // A flood of wrong keys costs one read per interval, not one per request (the re-read
        // for k2 just now counts).
        for _ in 0..100 {
            assert_eq!(store.lookup(&digest("wrong")).await, Lookup::NoMatch);
        }
        assert_eq!(store.source().reads(), 2);
        tokio::time::advance(EARLY_REFRESH_INTERVAL / 2).await;
        for _ in 0..100 {
            assert_eq!(store.lookup(&digest("wrong")).await, Lookup::NoMatch);
        }
        assert_eq!(store.source().reads(), 2);
        tokio::time::advance(EARLY_REFRESH_INTERVAL).await;
        for _ in 0..100 {
            assert_eq!(store.lookup(&digest("wrong")).await, Lookup::NoMatch);
        }
        assert_eq!(store.source().reads(), 3);
    }
}
