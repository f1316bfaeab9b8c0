//! One function instance: a child process running the bootstrap binary, and the Lambda Runtime
//! API (2018-06-01) endpoint that only this process polls, as in a Lambda execution environment.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::body::{read_limited, BodyError};
use crate::{clock, ids, Log};

/// Lambda's synchronous invocation payload limit, request and response (6 MB).
pub const MAX_PAYLOAD_BYTES: usize = 6_291_556;

/// What the runtime answered for one invocation.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    /// The runtime posted to `/error` (an error the handler returned).
    Error(Bytes),
    /// The response passed [`MAX_PAYLOAD_BYTES`].
    TooLarge,
}

#[derive(Debug)]
pub enum InstanceError {
    /// The function timeout passed; the instance has been killed.
    Timeout,
    /// The process exited (or never started the runtime loop).
    Exited(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Spawned, running its init code; has not polled `/next` yet.
    Starting,
    /// Polled `/next` at least once.
    Ready,
    Exited(String),
}

/// One finished invocation, timed as Lambda times it.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// From the moment `/next` handed the event out to the moment the runtime's `/response`
    /// (or `/error`) body was received: Lambda's `Duration`.
    pub duration: Duration,
}

struct Pending {
    request_id: String,
    payload: Bytes,
    timeout: Duration,
    trace_id: String,
    reply: oneshot::Sender<(Outcome, Duration)>,
}

/// An event handed out and not answered yet.
struct Inflight {
    reply: oneshot::Sender<(Outcome, Duration)>,
    handed_out: Instant,
}

impl Inflight {
    fn answer(self, outcome: Outcome) {
        let _ = self.reply.send((outcome, self.handed_out.elapsed()));
    }
}

struct Api {
    next: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    inflight: Mutex<HashMap<String, Inflight>>,
    phase: watch::Sender<Phase>,
    init_error: Mutex<Option<String>>,
    function_arn: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these maps leaves it consistent; keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How to start one instance.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// Log prefix, e.g. `server#2`.
    pub label: String,
    pub binary: PathBuf,
    pub task_root: PathBuf,
    pub function_arn: String,
    /// The function's environment, without `AWS_LAMBDA_RUNTIME_API` (added per instance).
    pub env: Vec<(String, String)>,
}

pub struct Instance {
    pub label: String,
    pub pid: Option<u32>,
    pub started: Instant,
    queue: mpsc::Sender<Pending>,
    api: Arc<Api>,
    phase: watch::Receiver<Phase>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    runtime_api: JoinHandle<()>,
}

impl Instance {
    /// Starts the Runtime API endpoint, then the process pointed at it.
    pub async fn start(spec: &InstanceSpec, log: &Log) -> Result<Arc<Self>, String> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| format!("cannot open a runtime API port: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot open a runtime API port: {e}"))?;
        let (queue, next) = mpsc::channel(1);
        let (phase_tx, phase) = watch::channel(Phase::Starting);
        let api = Arc::new(Api {
            next: tokio::sync::Mutex::new(next),
            inflight: Mutex::new(HashMap::new()),
            phase: phase_tx,
            init_error: Mutex::new(None),
            function_arn: spec.function_arn.clone(),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(invocation_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            // The Extensions API, as far as an extension that subscribes to no events uses it
            // (the Lambda Web Adapter registers itself so): register, then wait for ever.
            .route("/2020-01-01/extension/register", post(extension_register))
            .route(
                "/2020-01-01/extension/event/next",
                get(std::future::pending::<Response>),
            )
            .layer(DefaultBodyLimit::disable())
            .with_state(api.clone());
        let runtime_api = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });

        let mut cmd = tokio::process::Command::new(&spec.binary);
        cmd.env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .current_dir(&spec.task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Own process group: a terminal's Ctrl-C reaches only `mcpctl dev`, which then stops the
        // instances itself in order.
        #[cfg(unix)]
        cmd.process_group(0);
        #[cfg(target_os = "linux")]
        {
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: prctl, getppid and _exit are async-signal-safe, as pre_exec requires.
            unsafe {
                cmd.pre_exec(move || {
                    // Dies with us even if we are SIGKILLed and have no chance to clean up.
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    if libc::getppid() != parent {
                        libc::_exit(1);
                    }
                    Ok(())
                });
            }
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                runtime_api.abort();
                return Err(format!("cannot start {}: {e}", spec.binary.display()));
            }
        };
        let pid = child.id();
        if let Some(out) = child.stdout.take() {
            tokio::spawn(forward_lines(out, spec.label.clone(), log.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(forward_lines(err, spec.label.clone(), log.clone()));
        }

        let (kill, kill_rx) = oneshot::channel::<()>();
        let watcher_api = api.clone();
        let watcher_log = log.clone();
        let label = spec.label.clone();
        tokio::spawn(async move {
            // A dropped sender also means "kill": the instance is gone.
            let (status, killed) = tokio::select! {
                s = child.wait() => (s, false),
                _ = kill_rx => {
                    kill_group(pid);
                    let _ = child.start_kill();
                    (child.wait().await, true)
                }
            };
            // Lambda ends the whole execution environment: whatever the bootstrap started
            // (a server behind an adapter, say) goes with it.
            kill_group(pid);
            let why = match status {
                Ok(s) => describe_exit(s),
                Err(e) => e.to_string(),
            };
            if !killed {
                watcher_log.line(&format!("[{label}] process exited ({why})"));
            }
            lock(&watcher_api.inflight).clear();
            watcher_api.phase.send_replace(Phase::Exited(why));
        });

        Ok(Arc::new(Self {
            label: spec.label.clone(),
            pid,
            started: Instant::now(),
            queue,
            api,
            phase,
            kill: Mutex::new(Some(kill)),
            runtime_api,
        }))
    }

    /// Waits until the runtime polls for its first event (end of init), at most `limit`.
    pub async fn ready(&self, limit: Duration) -> Result<(), String> {
        let mut phase = self.phase.clone();
        let outcome = tokio::time::timeout(limit, async {
            phase
                .wait_for(|p| *p != Phase::Starting)
                .await
                .map(|p| p.clone())
        })
        .await;
        match outcome {
            Ok(Ok(Phase::Ready)) => Ok(()),
            Ok(Ok(Phase::Exited(why))) => Err(match lock(&self.api.init_error).clone() {
                Some(init) => format!("init failed: {init}"),
                None => format!("process exited during init ({why})"),
            }),
            Ok(Ok(Phase::Starting)) | Ok(Err(_)) => Err("instance vanished during init".into()),
            Err(_) => {
                self.kill();
                Err(format!(
                    "init did not finish within {} s: killed",
                    limit.as_secs_f32()
                ))
            }
        }
    }

    /// Lambda's `Max Memory Used`, in kB: the peak resident set (`VmHWM`) of the process,
    /// plus that of every process it started (a bootstrap script with a server and an adapter
    /// behind it is one execution environment). The sum of peaks is an upper bound of the peak
    /// of the sum; for one process it is exact. `None` once the process is gone.
    pub fn max_memory_used_kb(&self) -> Option<u64> {
        let root = self.pid?;
        let mut total = 0;
        let mut todo = vec![root];
        let mut seen = 0;
        while let Some(pid) = todo.pop() {
            seen += 1;
            if seen > 256 {
                break;
            }
            let status = match std::fs::read_to_string(format!("/proc/{pid}/status")) {
                Ok(s) => s,
                Err(_) if pid == root => return None,
                // A child that exited meanwhile.
                Err(_) => continue,
            };
            total += status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0);
            if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
                for task in tasks.flatten() {
                    if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                        todo.extend(
                            children
                                .split_whitespace()
                                .filter_map(|c| c.parse::<u32>().ok()),
                        );
                    }
                }
            }
        }
        Some(total)
    }

    pub fn is_alive(&self) -> bool {
        !matches!(*self.phase.borrow(), Phase::Exited(_))
    }

    /// Delivers one event and waits for its outcome; on timeout the process is killed, as
    /// Lambda does with an execution environment whose function timed out.
    pub async fn invoke(
        &self,
        payload: Bytes,
        timeout: Duration,
        trace_id: String,
    ) -> Result<Invocation, InstanceError> {
        let (reply, answer) = oneshot::channel();
        let request_id = ids::uuid_v4();
        let pending = Pending {
            request_id: request_id.clone(),
            payload,
            timeout,
            trace_id,
            reply,
        };
        if self.queue.try_send(pending).is_err() {
            return Err(InstanceError::Exited(
                "instance is busy or gone".to_string(),
            ));
        }
        let mut phase = self.phase.clone();
        let exited = async move {
            let _ = phase.wait_for(|p| matches!(p, Phase::Exited(_))).await;
        };
        tokio::select! {
            biased;
            outcome = answer => match outcome {
                Ok((outcome, duration)) => Ok(Invocation { request_id, outcome, duration }),
                Err(_) => Err(InstanceError::Exited(self.exit_reason())),
            },
            _ = exited => Err(InstanceError::Exited(self.exit_reason())),
            _ = tokio::time::sleep(timeout) => {
                self.kill();
                Err(InstanceError::Timeout)
            }
        }
    }

    fn exit_reason(&self) -> String {
        match &*self.phase.borrow() {
            Phase::Exited(why) => why.clone(),
            _ => "the runtime dropped the invocation".to_string(),
        }
    }

    /// Sends SIGKILL; the process is reaped in the background.
    pub fn kill(&self) {
        lock(&self.kill).take();
    }

    /// Kills the process and waits until it is reaped, at most `limit`.
    pub async fn stop(&self, limit: Duration) {
        self.kill();
        let mut phase = self.phase.clone();
        let _ = tokio::time::timeout(limit, async {
            let _ = phase.wait_for(|p| matches!(p, Phase::Exited(_))).await;
        })
        .await;
        self.runtime_api.abort();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
        self.runtime_api.abort();
    }
}

/// SIGKILL to the instance's process group (each instance is the leader of its own).
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| libc::pid_t::try_from(p).ok()) {
        // SAFETY: kill has no memory effects; a group that is already gone gives ESRCH.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "unknown exit".to_string(),
    }
}

async fn forward_lines(stream: impl AsyncRead + Unpin, label: String, log: Log) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                log.line(&format!("[{label}] {}", text.trim_end()));
            }
        }
    }
}

fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({ "errorMessage": message, "errorType": error_type }).to_string(),
    )
        .into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

async fn next_invocation(State(api): State<Arc<Api>>) -> Response {
    api.phase.send_if_modified(|p| {
        if *p == Phase::Starting {
            *p = Phase::Ready;
            true
        } else {
            false
        }
    });
    // Long poll: the runtime waits here, frozen in real Lambda, until an event arrives.
    let pending = api.next.lock().await.recv().await;
    let Some(p) = pending else {
        return runtime_error(
            StatusCode::GONE,
            "ShutDown",
            "the instance is shutting down",
        );
    };
    let deadline_ms = clock::now_ms() + p.timeout.as_millis() as u64;
    lock(&api.inflight).insert(
        p.request_id.clone(),
        Inflight {
            reply: p.reply,
            handed_out: Instant::now(),
        },
    );
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &p.request_id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header("lambda-runtime-invoked-function-arn", &api.function_arn)
        .header("lambda-runtime-trace-id", &p.trace_id)
        .body(Body::from(p.payload))
        .unwrap_or_else(|_| {
            runtime_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                "bad event",
            )
        })
}

fn take_inflight(api: &Api, id: &str) -> Option<Inflight> {
    lock(&api.inflight).remove(id)
}

async fn invocation_response(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let Some(reply) = take_inflight(&api, &id) else {
        return runtime_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        );
    };
    match read_limited(body, MAX_PAYLOAD_BYTES).await {
        Ok(bytes) => {
            reply.answer(Outcome::Response(bytes));
            accepted()
        }
        Err(BodyError::TooLarge(limit)) => {
            reply.answer(Outcome::TooLarge);
            runtime_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({limit} bytes)."),
            )
        }
        Err(e) => {
            reply.answer(Outcome::Error(Bytes::from(
                json!({"errorMessage": e.to_string(), "errorType": "Runtime.BadResponse"})
                    .to_string(),
            )));
            runtime_error(StatusCode::BAD_REQUEST, "InvalidResponse", &e.to_string())
        }
    }
}

async fn invocation_error(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let Some(reply) = take_inflight(&api, &id) else {
        return runtime_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        );
    };
    let bytes = read_limited(body, MAX_PAYLOAD_BYTES)
        .await
        .unwrap_or_else(|_| Bytes::from_static(b"{}"));
    reply.answer(Outcome::Error(bytes));
    accepted()
}

async fn extension_register(State(api): State<Arc<Api>>) -> Response {
    let name = api
        .function_arn
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    (
        StatusCode::OK,
        [
            ("content-type", "application/json".to_string()),
            ("lambda-extension-identifier", ids::uuid_v4()),
        ],
        json!({ "functionName": name, "functionVersion": "$LATEST", "handler": "bootstrap" })
            .to_string(),
    )
        .into_response()
}

async fn init_error(State(api): State<Arc<Api>>, body: Body) -> Response {
    let bytes = read_limited(body, 64 * 1024).await.unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).to_string());
    *lock(&api.init_error) = Some(message.clone());
    // Lambda tears the environment down after an init error; the pool retires this instance.
    api.phase
        .send_replace(Phase::Exited(format!("init error: {message}")));
    accepted()
}
