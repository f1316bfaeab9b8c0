//! The authorizer against Secrets Manager as moto_server implements it: staging labels move on
//! rotation, the cache holds a read for the TTL, and read failures degrade as designed.

use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_secretsmanager::Client;
use mcpctl_authorizer::{KeyDigest, KeyStage, KeyStore, Lookup, SecretsManagerSource};
use mcpctl_testkit::{MotoServer, REGION};

const K1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const K2: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const K3: &str = "3333333333333333333333333333333333333333333333333333333333333333";

fn client(moto: &MotoServer) -> Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(mcpctl_authorizer::secrets_manager::http_client())
        .endpoint_url(moto.endpoint())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .build();
    Client::from_conf(config)
}

async fn create_secret(client: &Client, name: &str, value: &str) -> String {
    let out = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create_secret");
    out.arn().expect("an ARN").to_string()
}

/// What `mcpctl rotate-key` does: a new value becomes AWSCURRENT, the old one AWSPREVIOUS.
async fn rotate(client: &Client, id: &str, value: &str) {
    client
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .version_stages("AWSCURRENT")
        .send()
        .await
        .expect("put_secret_value");
}

fn store(client: &Client, id: &str, ttl: Duration) -> KeyStore<SecretsManagerSource> {
    KeyStore::new(SecretsManagerSource::new(client.clone(), id), ttl)
}

async fn lookup(store: &KeyStore<SecretsManagerSource>, key: &str) -> Lookup {
    store.lookup(&KeyDigest::of(key.as_bytes())).await
}

#[tokio::test]
async fn rotation_keeps_the_previous_key_valid_for_the_overlap() {
    let moto = MotoServer::start();
    let sm = client(&moto);
    let arn = create_secret(&sm, "mcp-server-api-key", K1).await;
    let ttl = Duration::from_secs(60);

    // Never rotated: no AWSPREVIOUS exists, and that is not an error.
    let fresh = store(&sm, &arn, ttl);
    assert!(fresh.prefetch().await);
    assert_eq!(lookup(&fresh, K1).await, Lookup::Matched(KeyStage::Current));
    assert_eq!(lookup(&fresh, K2).await, Lookup::NoMatch);

    rotate(&sm, &arn, K2).await;
    // By name as well as by ARN.
    for id in [arn.as_str(), "mcp-server-api-key"] {
        let fresh = store(&sm, id, ttl);
        assert_eq!(lookup(&fresh, K2).await, Lookup::Matched(KeyStage::Current));
        assert_eq!(
            lookup(&fresh, K1).await,
            Lookup::Matched(KeyStage::Previous)
        );
        assert_eq!(lookup(&fresh, K3).await, Lookup::NoMatch);
        assert_eq!(lookup(&fresh, "").await, Lookup::NoMatch);
    }

    // A second rotation ends the first key's overlap.
    rotate(&sm, &arn, K3).await;
    let fresh = store(&sm, &arn, ttl);
    assert_eq!(lookup(&fresh, K3).await, Lookup::Matched(KeyStage::Current));
    assert_eq!(
        lookup(&fresh, K2).await,
        Lookup::Matched(KeyStage::Previous)
    );
    assert_eq!(lookup(&fresh, K1).await, Lookup::NoMatch);
}

#[tokio::test]
async fn json_secret_values_are_read_through_their_api_key_field() {
    let moto = MotoServer::start();
    let sm = client(&moto);
    let arn = create_secret(&sm, "json-key", &format!(r#"{{"apiKey": "{K1}"}}"#)).await;
    rotate(&sm, &arn, K2).await;
    let fresh = store(&sm, &arn, Duration::from_secs(60));
    assert_eq!(lookup(&fresh, K2).await, Lookup::Matched(KeyStage::Current));
    assert_eq!(
        lookup(&fresh, K1).await,
        Lookup::Matched(KeyStage::Previous)
    );
}

#[tokio::test]
async fn a_cached_read_is_used_until_the_ttl_passes() {
    let moto = MotoServer::start();
    let sm = client(&moto);
    let arn = create_secret(&sm, "ttl-key", K1).await;
    let ttl = Duration::from_secs(1);
    let cached = store(&sm, &arn, ttl);
    let read_at = Instant::now();
    assert!(cached.prefetch().await);

    // Two rotations: K1 is in neither stage any more, K3 is current.
    rotate(&sm, &arn, K2).await;
    rotate(&sm, &arn, K3).await;
    // K1 matches the cached copy, so no read happens (a miss would re-read early instead).
    let still_old = lookup(&cached, K1).await;
    let checked_within_ttl = read_at.elapsed() < ttl;
    if checked_within_ttl {
        assert_eq!(
            still_old,
            Lookup::Matched(KeyStage::Current),
            "within the TTL the cached copy answers"
        );
    } else {
        eprintln!("machine too slow to check inside a 1 s TTL; only checking expiry");
    }

    // Bounded wait for the TTL to pass, then the next lookup reads the secret again.
    tokio::time::sleep(ttl.saturating_sub(read_at.elapsed()) + Duration::from_millis(50)).await;
    assert_eq!(
        lookup(&cached, K3).await,
        Lookup::Matched(KeyStage::Current)
    );
    assert_eq!(
        lookup(&cached, K2).await,
        Lookup::Matched(KeyStage::Previous)
    );
    assert_eq!(lookup(&cached, K1).await, Lookup::NoMatch);
}

#[tokio::test]
async fn a_just_rotated_key_works_before_the_ttl_via_the_early_reread() {
    let moto = MotoServer::start();
    let sm = client(&moto);
    let arn = create_secret(&sm, "early-key", K1).await;
    let cached = store(&sm, &arn, Duration::from_secs(600));
    assert!(cached.prefetch().await);
    rotate(&sm, &arn, K2).await;
    // Right after the init read, the new key's miss re-reads at once, long before the 600 s TTL.
    assert_eq!(
        lookup(&cached, K2).await,
        Lookup::Matched(KeyStage::Current)
    );
    assert_eq!(
        lookup(&cached, K1).await,
        Lookup::Matched(KeyStage::Previous)
    );
    // A second rotation inside the early re-read interval is not seen yet (wrong keys cannot
    // hammer Secrets Manager); after the interval it is.
    rotate(&sm, &arn, K3).await;
    assert_eq!(lookup(&cached, K3).await, Lookup::NoMatch);
    tokio::time::sleep(mcpctl_authorizer::store::EARLY_REFRESH_INTERVAL).await;
    assert_eq!(
        lookup(&cached, K3).await,
        Lookup::Matched(KeyStage::Current)
    );
}

#[tokio::test]
async fn read_failures_deny_when_cold_and_keep_the_cached_copy_when_warm() {
    let moto = MotoServer::start();
    let sm = client(&moto);

    // Cold, and the secret does not exist (yet): nothing can be matched, nothing panics.
    let cold = store(&sm, "not-created-yet", Duration::from_secs(60));
    assert!(!cold.prefetch().await);
    assert_eq!(lookup(&cold, K1).await, Lookup::Unavailable);
    create_secret(&sm, "not-created-yet", K1).await;
    tokio::time::sleep(mcpctl_authorizer::store::RETRY_AFTER_FAILURE).await;
    assert_eq!(lookup(&cold, K1).await, Lookup::Matched(KeyStage::Current));

    // Warm, then the secret goes away: the cached copy keeps serving after the TTL.
    let ttl = Duration::from_secs(1);
    let warm = store(&sm, "not-created-yet", ttl);
    assert!(warm.prefetch().await);
    sm.delete_secret()
        .secret_id("not-created-yet")
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("delete_secret");
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    assert_eq!(lookup(&warm, K1).await, Lookup::Matched(KeyStage::Current));
    assert_eq!(lookup(&warm, K2).await, Lookup::NoMatch);

    // An unreachable endpoint behaves the same way as a missing secret.
    drop(moto);
    let gone = store(&sm, "anything", ttl);
    assert!(!gone.prefetch().await);
    assert_eq!(lookup(&gone, K1).await, Lookup::Unavailable);
}
