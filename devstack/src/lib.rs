//! Local API Gateway HTTP API v2 + Lambda Runtime API emulation that runs the real binaries:
//! `mcpctl dev` in a library, so integration tests drive exactly what users run.

mod body;
pub mod client_config;
mod clock;
pub mod cors;
pub mod event;
pub mod function;
mod gateway;
mod ids;
mod log;
pub mod runtime;
pub mod secrets;
pub mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mcpctl_stack::{Config, StackNames};

pub use function::FunctionStats;
pub use gateway::{INTEGRATION_LIMIT, MAX_REQUEST_BYTES};
pub use log::Log;
pub use state::{KeyPair, LocalState};

/// The oauth function's binary (`[auth] mode = "oauth"`), looked for beside the authorizer's.
pub const OAUTH_BIN: &str = "mcpctl-oauth";
/// Set to 1 in `mcpctl dev`'s environment to let the oauth function fetch client metadata
/// documents from this machine over http (test fixtures). Never set on Lambda.
pub const DEV_OAUTH_ALLOW_LOOPBACK_VAR: &str = "MCPCTL_DEV_OAUTH_ALLOW_LOOPBACK_FETCH";
const OAUTH_MEMORY_MB: u32 = 128;
const OAUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// The account id every local ARN carries.
pub const LOCAL_ACCOUNT_ID: &str = "000000000000";
/// The API id in local `requestContext`s.
pub const LOCAL_API_ID: &str = "devstack00";
/// Lambda's default per-function concurrency is far higher; a laptop is not.
pub const DEFAULT_MAX_INSTANCES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    // Not a `source`: the CLI prints the root cause, and the hint must survive.
    #[error("cannot listen on {addr}: {error} (pick another with --port)")]
    Bind {
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error("cannot start the local Secrets Manager: {0}")]
    Secrets(std::io::Error),
    #[error("{what} binary {path} does not exist")]
    MissingBinary { what: &'static str, path: String },
    #[error("cannot write the launcher of the functions: {0}")]
    Launcher(std::io::Error),
    #[error("cannot make the server's request-state key: {0}")]
    RequestStateKey(state::StateError),
}

/// Runs every function instance as `program args... BINARY` instead of `BINARY`: how
/// `mcpctl dev --arch arm64` runs the arm64 Lambda binaries on an x86_64 machine
/// (`qemu-aarch64 -L /usr/aarch64-linux-gnu`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launcher {
    pub program: PathBuf,
    pub args: Vec<std::ffi::OsString>,
}

/// The launcher scripts of one stack (`exec program args... BINARY "$@"`), removed with it.
struct LauncherDir(PathBuf);

impl LauncherDir {
    fn create() -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("mcpctl-dev-launch-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        Ok(Self(dir))
    }

    /// An executable `name` that runs `binary` through `launcher` with the same arguments.
    fn script(
        &self,
        name: &str,
        launcher: &Launcher,
        binary: &std::path::Path,
    ) -> std::io::Result<PathBuf> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::PermissionsExt;
        // Single-quoted for the shell, any byte but `'` as is.
        let quote = |s: &std::ffi::OsStr| {
            let mut q = b" '".to_vec();
            for &b in s.as_bytes() {
                if b == b'\'' {
                    q.extend_from_slice(b"'\\''");
                } else {
                    q.push(b);
                }
            }
            q.push(b'\'');
            q
        };
        let mut script = b"#!/bin/sh\nexec".to_vec();
        script.extend(quote(launcher.program.as_os_str()));
        for arg in &launcher.args {
            script.extend(quote(arg));
        }
        // Absolute: the instance runs in the binary's directory.
        let binary = std::fs::canonicalize(binary)?;
        script.extend(quote(binary.as_os_str()));
        script.extend_from_slice(b" \"$@\"\n");
        let path = self.0.join(name);
        std::fs::write(&path, script)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
        Ok(path)
    }
}

impl Drop for LauncherDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Everything `mcpctl dev` needs to run.
#[derive(Debug, Clone)]
pub struct DevOptions {
    pub config: Config,
    pub server_bin: PathBuf,
    pub authorizer_bin: PathBuf,
    pub state: LocalState,
    pub bind: SocketAddr,
    pub max_instances: usize,
    /// API Gateway's integration limit; [`INTEGRATION_LIMIT`] except in tests that cannot
    /// wait 30 s.
    pub integration_limit: Duration,
    pub log: Log,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DevStats {
    pub server: FunctionStats,
    pub authorizer: FunctionStats,
}

/// A running dev stack. Call [`DevStack::shutdown`] to stop it; dropping it also kills every
/// instance.
pub struct DevStack {
    addr: SocketAddr,
    gateway: Arc<gateway::Gateway>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<()>>,
    _secrets: secrets::SecretsStandIn,
    _launchers: Option<LauncherDir>,
}

impl DevStack {
    /// Binds the gateway and starts serving; functions start lazily on their first request.
    pub async fn start(options: DevOptions) -> Result<Self, DevError> {
        Self::start_with_launcher(options, None).await
    }

    /// [`DevStack::start`], each function instance run through `launcher` if there is one.
    pub async fn start_with_launcher(
        options: DevOptions,
        launcher: Option<Launcher>,
    ) -> Result<Self, DevError> {
        for (what, path) in [
            ("server", &options.server_bin),
            ("authorizer", &options.authorizer_bin),
        ] {
            if !path.is_file() {
                return Err(DevError::MissingBinary {
                    what,
                    path: path.display().to_string(),
                });
            }
        }
        let (launchers, server_launcher, authorizer_launcher) = match &launcher {
            Some(l) => {
                let dir = LauncherDir::create().map_err(DevError::Launcher)?;
                let server = dir.script("server", l, &options.server_bin);
                let authorizer = dir.script("authorizer", l, &options.authorizer_bin);
                let server = server.map_err(DevError::Launcher)?;
                let authorizer = authorizer.map_err(DevError::Launcher)?;
                (Some(dir), Some(server), Some(authorizer))
            }
            None => (None, None, None),
        };
        let config = &options.config;
        let names = StackNames::new(&config.name);
        let secret = secrets::SecretIdentity {
            name: names.secret(),
            region: config.region.clone(),
            account_id: LOCAL_ACCOUNT_ID.into(),
        };
        // `[auth] mode = "oauth"`: the oauth function (its binary beside the authorizer's) and
        // the signing key's secret, served by the same stand-in.
        let oauth_mode = config.auth.mode == mcpctl_stack::config::AuthMode::OAuth;
        let oauth_bin = options.authorizer_bin.with_file_name(OAUTH_BIN);
        if oauth_mode && !oauth_bin.is_file() {
            return Err(DevError::MissingBinary {
                what: "oauth",
                path: oauth_bin.display().to_string(),
            });
        }
        let signing = oauth_mode.then(|| secrets::SecretIdentity {
            name: mcpctl_stack::oauth::signing_secret_name(config),
            region: config.region.clone(),
            account_id: LOCAL_ACCOUNT_ID.into(),
        });
        if signing.is_some() {
            options
                .state
                .signing_keys_or_create()
                .map_err(|e| DevError::Secrets(std::io::Error::other(e.to_string())))?;
        }
        let secrets = secrets::SecretsStandIn::start_with_signing(
            options.state.clone(),
            secret.clone(),
            signing.clone(),
        )
        .await
        .map_err(DevError::Secrets)?;

        let listener = tokio::net::TcpListener::bind(options.bind)
            .await
            .map_err(|error| DevError::Bind {
                addr: options.bind,
                error,
            })?;
        let addr = listener.local_addr().map_err(|error| DevError::Bind {
            addr: options.bind,
            error,
        })?;

        // What deploy sets, from the one definition both use.
        let mut server_env = mcpctl_stack::env::server_env(config);
        // One request-state key for every instance of this run, as deploy keeps one per stack.
        if !server_env.contains_key(mcpctl_stack::env::REQUEST_STATE_KEY_VAR) {
            let key = state::new_api_key().map_err(DevError::RequestStateKey)?;
            server_env.insert(mcpctl_stack::env::REQUEST_STATE_KEY_VAR.to_string(), key);
        }
        let mut authorizer_env = mcpctl_stack::env::authorizer_env(config, &secret.arn());
        let mut oauth_env = BTreeMap::new();
        if let Some(signing) = &signing {
            let mut origin = addr;
            if origin.ip().is_unspecified() {
                origin.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            let issuer = format!("http://{origin}");
            authorizer_env.extend(mcpctl_stack::oauth::authorizer_env(
                config,
                &signing.arn(),
                Some(&issuer),
            ));
            oauth_env = mcpctl_stack::oauth::oauth_function_env(
                config,
                &secret.arn(),
                &signing.arn(),
                Some(&issuer),
            );
            oauth_env.insert(
                "AWS_ENDPOINT_URL_SECRETS_MANAGER".to_string(),
                secrets.endpoint(),
            );
            // Client metadata documents on this machine (test fixtures): only when asked.
            if std::env::var(DEV_OAUTH_ALLOW_LOOPBACK_VAR).as_deref() == Ok("1") {
                oauth_env.insert(
                    mcpctl_stack::oauth::DEV_ALLOW_LOOPBACK_FETCH_VAR.to_string(),
                    "1".to_string(),
                );
            }
        }
        authorizer_env.insert(
            "AWS_ENDPOINT_URL_SECRETS_MANAGER".to_string(),
            secrets.endpoint(),
        );
        for env in [&mut server_env, &mut authorizer_env, &mut oauth_env] {
            // Lambda hands every function role credentials; these dummies keep SDKs from
            // reaching for the developer's real ones or for instance metadata.
            for (k, v) in [
                ("AWS_ACCESS_KEY_ID", "ASIADEVSTACKLOCAL000"),
                ("AWS_SECRET_ACCESS_KEY", "devstack-local-secret"),
                ("AWS_SESSION_TOKEN", "devstack-local-session"),
                ("AWS_CONFIG_FILE", "/dev/null"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ] {
                env.insert(k.to_string(), v.to_string());
            }
            // Set in the shell running `mcpctl dev`, these win: a local debugging choice.
            for k in ["RUST_LOG", "RUST_BACKTRACE"] {
                if let Ok(v) = std::env::var(k) {
                    env.insert(k.to_string(), v);
                }
            }
        }
        let server = Arc::new(function::Function::new(
            function::FunctionSpec {
                label: "server".into(),
                name: names.server_function(),
                binary: options.server_bin.clone(),
                launcher: server_launcher,
                memory_mb: config.server.memory_mb,
                timeout: Duration::from_secs(config.server.timeout_s.into()),
                region: config.region.clone(),
                account_id: LOCAL_ACCOUNT_ID.into(),
                env: server_env,
                max_instances: options.max_instances,
            },
            options.log.clone(),
        ));
        let authorizer = Arc::new(function::Function::new(
            function::FunctionSpec {
                label: "authorizer".into(),
                name: names.authorizer_function(),
                binary: options.authorizer_bin.clone(),
                launcher: authorizer_launcher,
                memory_mb: config.authorizer.memory_mb,
                timeout: Duration::from_secs(config.authorizer.timeout_s.into()),
                region: config.region.clone(),
                account_id: LOCAL_ACCOUNT_ID.into(),
                env: authorizer_env,
                max_instances: options.max_instances,
            },
            options.log.clone(),
        ));
        let oauth = if oauth_mode {
            let oauth_launcher = match (&launchers, &launcher) {
                (Some(dir), Some(l)) => Some(
                    dir.script("oauth", l, &oauth_bin)
                        .map_err(DevError::Launcher)?,
                ),
                _ => None,
            };
            Some(Arc::new(function::Function::new(
                function::FunctionSpec {
                    label: "oauth".into(),
                    name: mcpctl_stack::oauth::function_name(config),
                    binary: oauth_bin.clone(),
                    launcher: oauth_launcher,
                    memory_mb: OAUTH_MEMORY_MB,
                    timeout: OAUTH_TIMEOUT,
                    region: config.region.clone(),
                    account_id: LOCAL_ACCOUNT_ID.into(),
                    env: oauth_env,
                    max_instances: options.max_instances,
                },
                options.log.clone(),
            )))
        } else {
            None
        };
        let gateway = Arc::new(gateway::Gateway::new(
            gateway::GatewaySettings {
                oauth_routes: mcpctl_stack::oauth::routes(config),
                api: event::ApiIdentity {
                    account_id: LOCAL_ACCOUNT_ID.into(),
                    api_id: LOCAL_API_ID.into(),
                    region: config.region.clone(),
                    stage: "$default".into(),
                },
                identity_sources: mcpctl_stack::auth::identity_sources(config),
                cache_ttl: Duration::from_secs(
                    mcpctl_stack::auth::effective_cache_ttl_s(config).into(),
                ),
                cors: config.api.cors.as_ref().map(cors::Cors::from_config),
                integration_limit: options.integration_limit,
                local_port: addr.port(),
            },
            server,
            authorizer,
            oauth,
            options.log.clone(),
        ));
        let app = axum::Router::new()
            .fallback(gateway::serve)
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(gateway.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        });
        Ok(Self {
            addr,
            gateway,
            stop: Some(stop),
            serving: Some(serving),
            _secrets: secrets,
            _launchers: launchers,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP endpoint: the path of the first route in the shared route table. A wildcard
    /// bind (`--bind 0.0.0.0`) is shown as loopback, an address this machine can dial.
    pub fn url(&self) -> String {
        let path = mcpctl_stack::ROUTES.first().map_or("/mcp", |r| r.path);
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}{path}")
    }

    pub fn stats(&self) -> DevStats {
        DevStats {
            server: self.gateway.server.stats(),
            authorizer: self.gateway.authorizer.stats(),
        }
    }

    /// Process ids of every running function instance.
    pub fn instance_pids(&self) -> Vec<u32> {
        let mut pids = self.gateway.server.pids();
        pids.extend(self.gateway.authorizer.pids());
        if let Some(oauth) = &self.gateway.oauth {
            pids.extend(oauth.pids());
        }
        pids
    }

    /// Stops accepting requests, gives in-flight ones a moment, then kills every instance and
    /// waits until each is reaped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(serving) = self.serving.take() {
            let abort = serving.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), serving)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        self.gateway.server.shutdown().await;
        self.gateway.authorizer.shutdown().await;
        if let Some(oauth) = &self.gateway.oauth {
            oauth.shutdown().await;
        }
    }
}

impl Drop for DevStack {
    fn drop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.abort();
        }
        // Each instance's watcher kills its process once the instance is dropped; tokio's
        // kill_on_drop covers a runtime that is already gone.
        self.gateway.server.close_now();
        self.gateway.authorizer.close_now();
        if let Some(oauth) = &self.gateway.oauth {
            oauth.close_now();
        }
    }
}
