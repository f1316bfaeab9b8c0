//! One Lambda function: a pool of instances started on demand (cold start), kept warm, one
//! invocation at a time each, at most `max_instances` at once, as Lambda scales.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::runtime::{Instance, InstanceError, InstanceSpec, Outcome, MAX_PAYLOAD_BYTES};
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
        let started = Instant::now();
        let result = instance.invoke(payload, timeout, trace_id).await;
        let duration = started.elapsed();
        drop(permit);
        match result {
            Ok((request_id, outcome)) => {
                self.report(&instance, &request_id, duration, init);
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
        request_id: &str,
        duration: Duration,
        init: Option<Duration>,
    ) {
        let init = init
            .map(|d| format!("\tInit Duration: {:.2} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_default();
        self.log.line(&format!(
            "[{}] REPORT RequestId: {request_id}\tDuration: {:.2} ms\tMemory Size: {} MB{init}",
            instance.label,
            duration.as_secs_f64() * 1000.0,
            self.spec.memory_mb,
        ));
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
