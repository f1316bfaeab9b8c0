//! The stack lock: `deploy` and `destroy` hold it while they change a stack, so two of them never
//! interleave (two racing deploys would otherwise both create the routes, the permissions or the
//! API, which AWS refuses half-way or, worse, accepts twice).
//!
//! The lock is a CloudWatch Logs log group, `/mcpctl/<stack>/lock`: creating a log group whose
//! name exists fails atomically on AWS and on moto, deleting one frees the name at once (a
//! Secrets Manager secret would keep its name "scheduled for deletion" for a while), it costs
//! nothing, and its tags say who holds it. Its calls are counted apart from the stack's
//! (`lock_calls`), so an unchanged redeploy still makes no mutating call to the stack.
//!
//! A holder that died leaves the lock behind. It is taken over, with a note, when the holder
//! ran on this host and its process is gone, or when its last heartbeat (a tag the holder
//! refreshes every [`HEARTBEAT`]) is older than [`LEASE`]; otherwise the user is told who holds
//! it and that `mcpctl unlock` frees it. Each holder tags the lock with a random token and
//! deletes it only while the token is still its own, so a holder whose lock was taken over
//! never deletes its successor's lock.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};

use crate::aws::{self, Aws};
use crate::resources::Ctx;

/// A live holder refreshes its heartbeat this often (the build runs before the lock is taken,
/// so a holder only waits on AWS).
pub const HEARTBEAT: Duration = Duration::from_secs(60);

/// Milliseconds between heartbeats instead of [`HEARTBEAT`] (tests).
pub const HEARTBEAT_ENV: &str = "MCPCTL_LOCK_HEARTBEAT_MS";

/// A lock whose last heartbeat is older than this was left by a holder that died elsewhere.
pub const LEASE: Duration = Duration::from_secs(10 * 60);

/// How long a lock that exists but cannot be read yet (DescribeLogGroups lags behind
/// CreateLogGroup) is read again before giving up.
const UNREADABLE_LIMIT: Duration = Duration::from_secs(30);

/// How often a waiting deploy looks at the lock again.
const LOCK_POLL: Duration = Duration::from_secs(2);

const HOLDER_TAG: &str = "mcpctl:lock-holder";
const HOST_TAG: &str = "mcpctl:lock-host";
const PID_TAG: &str = "mcpctl:lock-pid";
const TOKEN_TAG: &str = "mcpctl:lock-token";
const HEARTBEAT_TAG: &str = "mcpctl:lock-heartbeat";

/// Who holds a lock, as read back from its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    /// `deploy` or `destroy`.
    pub command: String,
    pub host: String,
    pub pid: u32,
    /// Milliseconds since the epoch, from the log group's creation time.
    pub since_ms: i64,
    /// The holder's last heartbeat (ms since the epoch), if it sent one.
    pub heartbeat_ms: Option<i64>,
    /// The holder's random token.
    pub token: Option<String>,
    /// The lock group's ARN, for tagging.
    pub arn: Option<String>,
}

impl Holder {
    /// As `status` and `unlock` print it with `-o json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "command": self.command,
            "host": self.host,
            "pid": self.pid,
            "since": mcpctl_stack::time::rfc3339(self.since_ms / 1000),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "`mcpctl {}` (pid {} on {}) since {}",
            self.command,
            self.pid,
            self.host,
            mcpctl_stack::time::rfc3339(self.since_ms / 1000)
        )
    }
}

/// Why a held lock may be taken over, if it may.
#[derive(Debug, PartialEq)]
pub enum Stale {
    /// The holder ran on this host and its process is gone.
    HolderEnded,
    /// No heartbeat for longer than [`LEASE`].
    Expired,
}

/// Pure: whether `holder` is stale, seen from `host` at `now_ms`, with `alive` telling whether a
/// local pid still runs.
pub fn stale(
    holder: &Holder,
    host: &str,
    now_ms: i64,
    alive: impl Fn(u32) -> bool,
) -> Option<Stale> {
    if holder.host == host && !alive(holder.pid) {
        Some(Stale::HolderEnded)
    } else if now_ms - holder.since_ms.max(holder.heartbeat_ms.unwrap_or(0))
        > LEASE.as_millis() as i64
    {
        Some(Stale::Expired)
    } else {
        None
    }
}

/// `--lock-timeout`, shared by the commands that take the lock.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct LockTimeout {
    /// Wait up to SECONDS for another deploy or destroy of the stack to finish instead of
    /// stopping at once.
    #[arg(long = "lock-timeout", value_name = "SECONDS", default_value_t = 0)]
    pub seconds: u64,
}

impl LockTimeout {
    pub fn wait(self) -> Duration {
        Duration::from_secs(self.seconds)
    }
}

/// A held lock; [`StackLock::release`] gives it back.
#[derive(Debug)]
pub struct StackLock {
    name: String,
    token: String,
}

/// Runs `work` holding the stack's lock, and releases the lock whatever `work` returns. Ctrl-C
/// or SIGTERM stops `work` at its next await, releases the lock and says how to finish.
pub async fn while_locked<T>(
    ctx: &Ctx<'_>,
    command: &str,
    wait: Duration,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let lock = StackLock::acquire(ctx, command, wait).await?;
    let result = tokio::select! {
        r = work => r,
        lost = lock.heartbeat(ctx) => Err(lost),
        signal = interrupted() => Err(anyhow!(
            "interrupted by {signal}: the stack lock is released; rerun `mcpctl {command}` to finish \
             (every step is safe to repeat)"
        )),
    };
    let released = lock.release(ctx).await;
    let value = result?;
    released?;
    Ok(value)
}

async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = term.recv() => "SIGTERM",
    }
}

impl StackLock {
    /// Takes the lock, waiting up to `wait` for a live holder to finish, or says who holds
    /// it. Two takers of a stale lock cannot both win: each deletes only the group it read (same
    /// creation time), then creates, and one create fails.
    pub async fn acquire(ctx: &Ctx<'_>, command: &str, wait: Duration) -> Result<Self> {
        let name = ctx.names.lock();
        let host = this_host();
        let pid = std::process::id();
        let token = hex::encode(rand::random::<[u8; 16]>());
        let mut tags: HashMap<String, String> = ctx.tags.clone().into_iter().collect();
        tags.insert(TOKEN_TAG.into(), token.clone());
        tags.insert(HOLDER_TAG.into(), command.into());
        tags.insert(HOST_TAG.into(), host.clone());
        tags.insert(PID_TAG.into(), pid.to_string());
        let lock = &ctx.aws.lock;
        let deadline = Instant::now() + wait;
        let mut takeovers = 0;
        let mut unreadable_since: Option<Instant> = None;
        let mut said_waiting = false;
        loop {
            let created = lock
                .create_log_group()
                .log_group_name(&name)
                .set_tags(Some(tags.clone()))
                .send()
                .await;
            match created {
                Ok(_) => return Ok(Self { name, token }),
                // Exists, or (OperationAbortedException) someone is creating or deleting it
                // right now: either way it is not ours; see who holds it.
                Err(e)
                    if e.as_service_error().is_some_and(|s| {
                        s.is_resource_already_exists_exception()
                            || s.is_operation_aborted_exception()
                    }) => {}
                Err(e) => return Err(aws::describe("CreateLogGroup (stack lock)", &e)),
            }
            let Some(holder) = read_holder(ctx.aws, &name).await? else {
                // Released between our create and our read, or not visible yet: try again.
                let since = *unreadable_since.get_or_insert_with(Instant::now);
                if since.elapsed() > UNREADABLE_LIMIT {
                    bail!("the stack lock {name} exists but cannot be read; run `mcpctl unlock`");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            };
            unreadable_since = None;
            match stale(&holder, &host, now_ms(), process_alive) {
                None if Instant::now() < deadline => {
                    if !said_waiting {
                        eprintln!(
                            "waiting up to {} s for the stack lock held by {}",
                            wait.as_secs(),
                            holder.describe()
                        );
                        said_waiting = true;
                    }
                    let left = deadline.saturating_duration_since(Instant::now());
                    tokio::time::sleep(left.min(LOCK_POLL)).await;
                }
                None => bail!(
                    "stack {} is locked by {}: another deploy or destroy of it is running; rerun \
                     when it ends (or with --lock-timeout SECONDS to wait), or run `mcpctl \
                     unlock` if it died",
                    ctx.config.name,
                    holder.describe()
                ),
                // One takeover at most: a second conflict means someone live took it meanwhile.
                Some(_) if takeovers > 0 => bail!(
                    "stack {} is locked by another deploy or destroy that just started; rerun \
                     when it ends",
                    ctx.config.name
                ),
                Some(why) => {
                    let reason = match why {
                        Stale::HolderEnded => "its process has ended",
                        Stale::Expired => "it has had no heartbeat for 10 minutes",
                    };
                    eprintln!(
                        "note: taking over the stack lock held by {}: {reason}",
                        holder.describe()
                    );
                    delete_if_same(ctx.aws, &name, holder.since_ms).await?;
                    takeovers += 1;
                }
            }
        }
    }

    /// Deletes the lock if it is still ours (our token); leaves a successor's lock alone.
    pub async fn release(self, ctx: &Ctx<'_>) -> Result<()> {
        match read_holder(ctx.aws, &self.name).await? {
            Some(h) if h.token.as_deref() == Some(self.token.as_str()) => {
                delete(ctx.aws, &self.name).await
            }
            // Not visible yet (DescribeLogGroups lags) or tags unread: it can only be ours, as
            // nobody takes over a lock younger than the lease.
            Some(h) if h.token.is_none() => delete(ctx.aws, &self.name).await,
            None => delete(ctx.aws, &self.name).await,
            Some(h) => {
                eprintln!(
                    "warning: the stack lock was taken over by {} meanwhile; left it alone",
                    h.describe()
                );
                Ok(())
            }
        }
    }

    /// Refreshes the heartbeat tag every [`HEARTBEAT`] for as long as it is polled; returns
    /// only when the lock is no longer ours (taken over by someone else).
    async fn heartbeat(&self, ctx: &Ctx<'_>) -> anyhow::Error {
        // Testing knob: a shorter beat, so a test sees a takeover within seconds.
        let beat = std::env::var(HEARTBEAT_ENV)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(HEARTBEAT, Duration::from_millis);
        loop {
            tokio::time::sleep(beat).await;
            let holder = match read_holder(ctx.aws, &self.name).await {
                Ok(Some(h)) => h,
                // A failed or lagging read is no proof of anything: try at the next beat.
                Ok(None) | Err(_) => continue,
            };
            if holder.token.as_deref().is_some_and(|t| t != self.token) {
                return anyhow!(
                    "the stack lock was taken over by {} while this command ran; stopped",
                    holder.describe()
                );
            }
            let Some(arn) = holder.arn else { continue };
            let _ = ctx
                .aws
                .lock
                .tag_resource()
                .resource_arn(arn)
                .tags(HEARTBEAT_TAG, now_ms().to_string())
                .send()
                .await;
        }
    }
}

/// `mcpctl unlock`: frees the lock whoever holds it; says who did, if anyone.
pub async fn force_unlock(ctx: &Ctx<'_>) -> Result<Option<Holder>> {
    let name = ctx.names.lock();
    let holder = read_holder(ctx.aws, &name).await?;
    if holder.is_some() {
        delete(ctx.aws, &name).await?;
    }
    Ok(holder)
}

/// The current holder, `None` when the lock is free. Whether the lock exists is asked by its
/// exact name (DescribeLogStreams answers ResourceNotFoundException for a missing group);
/// DescribeLogGroups, which gives its creation time, lags behind creates and deletes, so a
/// lock that exists but is not listed yet is listed again for a while, and a listed lock that
/// does not exist is no holder.
pub async fn read_holder(aws: &Aws, name: &str) -> Result<Option<Holder>> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(250);
    let group = loop {
        if !crate::resources::logs::group_exists(&aws.lock, name, "DescribeLogStreams (stack lock)")
            .await?
        {
            return Ok(None);
        }
        let out = aws
            .lock
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .map_err(aws::err("DescribeLogGroups (stack lock)"))?;
        if let Some(group) = out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        {
            break group.clone();
        }
        if start.elapsed() + delay > UNREADABLE_LIMIT {
            return Ok(None);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(4));
    };
    let mut tags = HashMap::new();
    // `arn` ends in `:*` on AWS; the tagging APIs take it without.
    let arn = group
        .log_group_arn()
        .map(str::to_string)
        .or_else(|| group.arn().map(|a| a.trim_end_matches(":*").to_string()));
    if let Some(arn) = &arn {
        match aws
            .lock
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
        {
            Ok(out) => tags = out.tags().cloned().unwrap_or_default(),
            Err(e) if aws::is_not_found(&e) => return Ok(None),
            Err(e) => return Err(aws::describe("ListTagsForResource (stack lock)", &e)),
        }
    }
    let tag = |k: &str| tags.get(k).cloned().unwrap_or_else(|| "unknown".into());
    Ok(Some(Holder {
        command: tag(HOLDER_TAG),
        host: tag(HOST_TAG),
        pid: tags.get(PID_TAG).and_then(|p| p.parse().ok()).unwrap_or(0),
        since_ms: group.creation_time().unwrap_or(0),
        heartbeat_ms: tags.get(HEARTBEAT_TAG).and_then(|t| t.parse().ok()),
        token: tags.get(TOKEN_TAG).cloned(),
        arn,
    }))
}

async fn delete_if_same(aws: &Aws, name: &str, since_ms: i64) -> Result<()> {
    match read_holder(aws, name).await? {
        Some(h) if h.since_ms == since_ms => delete(aws, name).await,
        _ => Ok(()),
    }
}

async fn delete(aws: &Aws, name: &str) -> Result<()> {
    match aws
        .lock
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if aws::is_not_found(&e) => Ok(()),
        Err(e) => Err(aws::describe("DeleteLogGroup (stack lock)", &e)),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Without /proc (macOS) every pid counts as alive: only the lease frees such a lock.
fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.exists() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(host: &str, pid: u32, since_ms: i64) -> Holder {
        Holder {
            command: "deploy".into(),
            host: host.into(),
            pid,
            since_ms,
            heartbeat_ms: None,
            token: None,
            arn: None,
        }
    }

    #[test]
    fn a_heartbeat_keeps_an_old_lock_alive() {
        let lease = LEASE.as_millis() as i64;
        let mut h = holder("elsewhere", 7, 1_000);
        h.heartbeat_ms = Some(1_000 + lease);
        assert_eq!(stale(&h, "here", 1_000 + lease + 10, |_| true), None);
        assert_eq!(
            stale(&h, "here", 1_000 + 2 * lease + 1, |_| true),
            Some(Stale::Expired)
        );
    }

    #[test]
    fn a_live_holder_keeps_the_lock() {
        let h = holder("here", 7, 1_000);
        assert_eq!(stale(&h, "here", 2_000, |_| true), None);
        assert_eq!(stale(&h, "elsewhere", 2_000, |_| false), None);
    }

    #[test]
    fn an_ended_local_holder_loses_it() {
        let h = holder("here", 7, 1_000);
        assert_eq!(
            stale(&h, "here", 2_000, |p| p != 7),
            Some(Stale::HolderEnded)
        );
    }

    #[test]
    fn any_holder_loses_it_after_the_lease() {
        let h = holder("elsewhere", 7, 1_000);
        let after = 1_000 + LEASE.as_millis() as i64 + 1;
        assert_eq!(stale(&h, "here", after, |_| true), Some(Stale::Expired));
        assert_eq!(stale(&h, "here", after - 2, |_| true), None);
    }

    #[test]
    fn this_process_is_alive() {
        assert!(process_alive(std::process::id()));
    }
}
