//! One Lambda function: a pool of instances started on demand (cold start), kept warm, one
//! invocation at a time each, at most `max_instances` at once, as Lambda scales.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::runtime::{
    Instance, InstanceError, InstanceSpec, Invocation, Outcome, MAX_PAYLOAD_BYTES,
};
use crate::Log;

/// Lambda gives a function's init phase at most 10 s.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Short name for logs: `server`, `authorizer`.
    pub label: String,
    /// The Lambda function name, e.g. `mcp-server-server`.
    pub name: String,
    pub binary: PathBuf,
    /// An executable that runs `binary` (e.g. under qemu-user); `binary` itself when `None`.
    /// The task root stays `binary`'s directory either way.
    pub launcher: Option<PathBuf>,
    pub memory_mb: u32,
    pub timeout: Duration,
    pub region: String,
    pub account_id: String,
    /// Everything but the Lambda-reserved variables, which [`Function`] adds.
    pub env: BTreeMap<String, String>,
    pub max_instances: usize,
}

impl FunctionSpec {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.name
        )
    }

    /// The environment Lambda gives every instance of this function.
    fn lambda_env(&self, task_root: &str) -> Vec<(String, String)> {
        let mut env: BTreeMap<String, String> = self.env.clone();
        let log_stream = format!(
            "{}/[$LATEST]{}",
            crate::clock::date_path(crate::clock::now_ms()),
            crate::ids::uuid_v4().replace('-', "")
        );
        for (k, v) in [
            ("AWS_LAMBDA_FUNCTION_NAME", self.name.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            ("_HANDLER", "bootstrap".to_string()),
            ("LAMBDA_TASK_ROOT", task_root.to_string()),
            ("LAMBDA_RUNTIME_DIR", task_root.to_string()),
            ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
            ("LANG", "en_US.UTF-8".to_string()),
            ("TZ", ":UTC".to_string()),
        ] {
            env.insert(k.to_string(), v);
        }
        env.into_iter().collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("the function timed out after {0:?}")]
    Timeout(Duration),
    #[error("the 30 s integration limit passed")]
    IntegrationTimeout,
    #[error("the function instance crashed: {0}")]
    Crashed(String),
    #[error("the function returned an error")]
    Function(Bytes),
    #[error("the function response is larger than 6 MB")]
    ResponseTooLarge,
    #[error("the event is larger than 6 MB")]
    RequestTooLarge,
    #[error("the dev stack is stopping")]
    Closed,
}

#[derive(Debug)]
pub struct Invoked {
    pub output: Bytes,
    pub instance: String,
    /// Init duration when this invocation started the instance (a cold start).
    pub init: Option<Duration>,
    pub duration: Duration,
}

#[derive(Debug)]
pub struct InvokeFailure {
    pub error: InvokeError,
    pub instance: Option<String>,
    pub cold: bool,
}

/// Counters a test or the log can read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FunctionStats {
    pub invocations: u64,
    pub cold_starts: u64,
    pub live_instances: usize,
    pub peak_instances: usize,
}

pub struct Function {
    spec: FunctionSpec,
    instance_env: Vec<(String, String)>,
    task_root: PathBuf,
    idle: Mutex<Vec<Arc<Instance>>>,
    live: Mutex<Vec<Arc<Instance>>>,
    permits: Arc<Semaphore>,
    numbers: AtomicUsize,
    invocations: AtomicU64,
    cold_starts: AtomicU64,
    peak: AtomicUsize,
    closed: AtomicBool,
    log: Log,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Function {
    pub fn new(spec: FunctionSpec, log: Log) -> Self {
        let task_root = spec
            .binary
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let instance_env = spec.lambda_env(&task_root.display().to_string());
        Self {
            permits: Arc::new(Semaphore::new(spec.max_instances.max(1))),
            spec,
            instance_env,
            task_root,
            idle: Mutex::new(Vec::new()),
            live: Mutex::new(Vec::new()),
            numbers: AtomicUsize::new(0),
            invocations: AtomicU64::new(0),
            cold_starts: AtomicU64::new(0),
            peak: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            log,
        }
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    pub fn stats(&self) -> FunctionStats {
        FunctionStats {
            invocations: self.invocations.load(Ordering::Relaxed),
            cold_starts: self.cold_starts.load(Ordering::Relaxed),
            live_instances: lock(&self.live).len(),
            peak_instances: self.peak.load(Ordering::Relaxed),
        }
    }

    /// Process ids of the running instances.
    pub fn pids(&self) -> Vec<u32> {
        lock(&self.live).iter().filter_map(|i| i.pid).collect()
    }

    /// Runs one invocation: a warm idle instance if there is one, else a new one (cold start),
    /// waiting for a free slot when `max_instances` are busy. Everything ends by `deadline`.
    ///
    /// The invocation runs as its own task: a client that hangs up does not cancel a Lambda
    /// invocation, and the instance must go back to the pool when it finishes.
    pub async fn invoke(
        self: &Arc<Self>,
        payload: Bytes,
        trace_id: String,
        deadline: Instant,
    ) -> Result<Invoked, InvokeFailure> {
        let this = self.clone();
        tokio::spawn(async move { this.invoke_here(payload, trace_id, deadline).await })
            .await
            .unwrap_or_else(|_| {
                Err(InvokeFailure {
                    error: InvokeError::Closed,
                    instance: None,
                    cold: false,
                })
            })
    }

    async fn invoke_here(
        &self,
        payload: Bytes,
        trace_id: String,
        deadline: Instant,
    ) -> Result<Invoked, InvokeFailure> {
        let fail = |error, instance: Option<&Instance>, cold| InvokeFailure {
            error,
            instance: instance.map(|i| i.label.clone()),
            cold,
        };
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(fail(InvokeError::RequestTooLarge, None, false));
        }
        let permit =
            match tokio::time::timeout_at(deadline.into(), self.permits.clone().acquire_owned())
                .await
            {
                Ok(Ok(p)) => p,
                Ok(Err(_)) => return Err(fail(InvokeError::Closed, None, false)),
                Err(_) => return Err(fail(InvokeError::IntegrationTimeout, None, false)),
            };
        self.invocations.fetch_add(1, Ordering::Relaxed);

        let (instance, init) = match self.take_idle() {
            Some(i) => (i, None),
            None => {
                let spawned = Instant::now();
                let instance = self
                    .spawn()
                    .await
                    .map_err(|e| fail(InvokeError::Crashed(e), None, true))?;
                let limit = INIT_LIMIT.min(deadline.saturating_duration_since(Instant::now()));
                if let Err(why) = instance.ready(limit).await {
                    self.retire(&instance);
                    let error = if Instant::now() >= deadline {
                        InvokeError::IntegrationTimeout
                    } else {
                        InvokeError::Crashed(why)
                    };
                    return Err(fail(error, Some(&instance), true));
                }
                (instance, Some(spawned.elapsed()))
            }
        };
        let cold = init.is_some();

        let remaining = deadline.saturating_duration_since(Instant::now());
        let cut_by_gateway = remaining < self.spec.timeout;
        let timeout = self.spec.timeout.min(remaining);
        let result = instance.invoke(payload, timeout, trace_id).await;
        drop(permit);
        match result {
            Ok(Invocation {
                request_id,
                outcome,
                duration,
            }) => {
                self.report(&instance, request_id, duration, init);
                self.release(instance.clone());
                match outcome {
                    Outcome::Response(output) => Ok(Invoked {
                        output,
                        instance: instance.label.clone(),
                        init,
                        duration,
                    }),
                    Outcome::Error(body) => {
                        Err(fail(InvokeError::Function(body), Some(&instance), cold))
                    }
                    Outcome::TooLarge => {
                        Err(fail(InvokeError::ResponseTooLarge, Some(&instance), cold))
                    }
                }
            }
            Err(InstanceError::Timeout) => {
                self.retire(&instance);
                let error = if cut_by_gateway {
                    InvokeError::IntegrationTimeout
                } else {
                    self.log.line(&format!(
                        "[{}] Task timed out after {:.2} seconds: instance killed",
                        instance.label,
                        timeout.as_secs_f64()
                    ));
                    InvokeError::Timeout(timeout)
                };
                Err(fail(error, Some(&instance), cold))
            }
            Err(InstanceError::Exited(why)) => {
                self.retire(&instance);
                Err(fail(InvokeError::Crashed(why), Some(&instance), cold))
            }
        }
    }

    /// The line Lambda writes to CloudWatch after each invocation.
    fn report(
        &self,
        instance: &Instance,
        request_id: String,
        duration: Duration,
        init: Option<Duration>,
    ) {
        let report = Report::new(
            request_id,
            duration,
            init,
            self.spec.memory_mb,
            instance.max_memory_used_kb().unwrap_or(0),
        );
        self.log
            .line(&format!("[{}] {}", instance.label, report.line()));
        if init.is_some() && self.spec.launcher.is_some() {
            self.log.line(&format!(
                "[{}] (Max Memory Used is that of the emulator running the function, not of the function on Lambda)",
                instance.label
            ));
        }
    }

    fn take_idle(&self) -> Option<Arc<Instance>> {
        let mut idle = lock(&self.idle);
        while let Some(i) = idle.pop() {
            if i.is_alive() {
                return Some(i);
            }
            // Died while idle (crash between invocations): replaced by a cold start.
            self.forget(&i);
        }
        None
    }

    async fn spawn(&self) -> Result<Arc<Instance>, String> {
        if self.closed.load(Ordering::Relaxed) {
            return Err("the dev stack is stopping".into());
        }
        let number = self.numbers.fetch_add(1, Ordering::Relaxed) + 1;
        let spec = InstanceSpec {
            label: format!("{}#{number}", self.spec.label),
            binary: self
                .spec
                .launcher
                .clone()
                .unwrap_or_else(|| self.spec.binary.clone()),
            task_root: self.task_root.clone(),
            function_arn: self.spec.arn(),
            env: self.instance_env.clone(),
        };
        let instance = Instance::start(&spec, &self.log).await?;
        self.cold_starts.fetch_add(1, Ordering::Relaxed);
        let count = {
            let mut live = lock(&self.live);
            live.push(instance.clone());
            live.len()
        };
        self.peak.fetch_max(count, Ordering::Relaxed);
        if self.closed.load(Ordering::Relaxed) {
            // Raced with shutdown: do not leave it behind.
            self.retire(&instance);
            return Err("the dev stack is stopping".into());
        }
        Ok(instance)
    }

    fn release(&self, instance: Arc<Instance>) {
        if instance.is_alive() && !self.closed.load(Ordering::Relaxed) {
            lock(&self.idle).push(instance);
        } else {
            self.retire(&instance);
        }
    }

    fn retire(&self, instance: &Arc<Instance>) {
        instance.kill();
        self.forget(instance);
    }

    fn forget(&self, instance: &Arc<Instance>) {
        lock(&self.live).retain(|i| !Arc::ptr_eq(i, instance));
    }

    /// Stops every instance without waiting (for `Drop`).
    pub fn close_now(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.permits.close();
        lock(&self.idle).clear();
        for instance in std::mem::take(&mut *lock(&self.live)) {
            instance.kill();
        }
    }

    /// Kills every instance and waits until each is reaped.
    pub async fn shutdown(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.permits.close();
        lock(&self.idle).clear();
        let live: Vec<Arc<Instance>> = std::mem::take(&mut *lock(&self.live));
        for instance in &live {
            instance.kill();
        }
        for instance in &live {
            instance.stop(Duration::from_secs(5)).await;
        }
    }
}

/// One `REPORT` line, as Lambda writes it after each invocation:
/// `REPORT RequestId: ID\tDuration: 0.63 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax
/// Memory Used: 9 MB\tInit Duration: 2.90 ms` (the last field only on an instance's first
/// invocation).
///
/// Billing follows Lambda's: per started millisecond, at least 1 ms; on a cold start the init
/// phase is billed too (always so for custom runtimes like `provided.al2023`, and since
/// 2025-08-01 for every runtime), so `Billed Duration` is `ceil(Init Duration + Duration)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub request_id: String,
    /// Event handed out by `/next` → response received on `/response`.
    pub duration_ms: f64,
    pub billed_ms: u64,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u64,
    /// Spawn → first `/next`, on the invocation that started the instance.
    pub init_ms: Option<f64>,
}

impl Report {
    pub fn new(
        request_id: String,
        duration: Duration,
        init: Option<Duration>,
        memory_size_mb: u32,
        max_memory_used_kb: u64,
    ) -> Self {
        let duration_ms = duration.as_secs_f64() * 1000.0;
        let init_ms = init.map(|d| d.as_secs_f64() * 1000.0);
        Self {
            request_id,
            duration_ms,
            billed_ms: billed_ms(duration_ms + init_ms.unwrap_or(0.0)),
            memory_size_mb,
            max_memory_used_mb: max_memory_used_kb.div_ceil(1024),
            init_ms,
        }
    }

    pub fn line(&self) -> String {
        let init = self
            .init_ms
            .map(|ms| format!("\tInit Duration: {ms:.2} ms"))
            .unwrap_or_default();
        format!(
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB{init}",
            self.request_id, self.duration_ms, self.billed_ms, self.memory_size_mb, self.max_memory_used_mb
        )
    }

    /// Reads a line [`Report::line`] wrote (anything before `REPORT`, like a `[server#1] `
    /// prefix, is skipped); `None` if it is not one.
    pub fn parse(line: &str) -> Option<Self> {
        let rest = &line[line.find("REPORT RequestId: ")?..];
        let mut fields = rest.split('\t');
        let request_id = fields
            .next()?
            .strip_prefix("REPORT RequestId: ")?
            .to_string();
        let mut report = Self {
            request_id,
            duration_ms: f64::NAN,
            billed_ms: 0,
            memory_size_mb: 0,
            max_memory_used_mb: 0,
            init_ms: None,
        };
        let mut seen = 0;
        for field in fields {
            let (name, value) = field.split_once(": ")?;
            let number = value
                .strip_suffix(" ms")
                .or_else(|| value.strip_suffix(" MB"))?;
            match name {
                "Duration" => report.duration_ms = number.parse().ok()?,
                "Billed Duration" => report.billed_ms = number.parse().ok()?,
                "Memory Size" => report.memory_size_mb = number.parse().ok()?,
                "Max Memory Used" => report.max_memory_used_mb = number.parse().ok()?,
                "Init Duration" => report.init_ms = Some(number.parse().ok()?),
                _ => return None,
            }
            seen += 1;
        }
        (seen >= 4 && report.duration_ms.is_finite()).then_some(report)
    }
}

/// Lambda's billed duration of `ms`: every started millisecond, at least one.
fn billed_ms(ms: f64) -> u64 {
    // Lambda bills whole ms of what it measured; a value printed as 0.999999 still bills 1.
    (ms.ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_has_lambdas_fields_and_parses_back() {
        let warm = Report::new(
            "8f5c1a2e-0000-4000-8000-000000000001".into(),
            Duration::from_micros(630),
            None,
            128,
            9 * 1024 - 100,
        );
        assert_eq!(
            warm.line(),
            "REPORT RequestId: 8f5c1a2e-0000-4000-8000-000000000001\tDuration: 0.63 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB"
        );
        assert_eq!(
            Report::parse(&format!("[server#1] {}", warm.line())),
            Some(warm)
        );

        let cold = Report::new(
            "id".into(),
            Duration::from_micros(1_200),
            Some(Duration::from_micros(2_900)),
            256,
            4000,
        );
        // Init is billed: ceil(2.90 + 1.20) = 5.
        assert_eq!(cold.billed_ms, 5);
        assert!(cold.line().ends_with("\tBilled Duration: 5 ms\tMemory Size: 256 MB\tMax Memory Used: 4 MB\tInit Duration: 2.90 ms"));
        assert_eq!(
            Report::parse(&cold.line()).and_then(|r| r.init_ms),
            Some(2.9)
        );

        assert_eq!(billed_ms(0.0), 1);
        assert_eq!(billed_ms(1.0), 1);
        assert_eq!(billed_ms(1.01), 2);
        assert_eq!(Report::parse("[api] POST /mcp 200"), None);
        assert_eq!(Report::parse("REPORT RequestId: x\tDuration: fast"), None);
    }
}
