//! Fixtures for integration tests. Everything binds to 127.0.0.1 and every wait is bounded.

pub mod mcp;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on right now.
/// The first line `child` prints on stdout (piped), or `None` if none comes within `timeout`:
/// how a test waits for `mcpctl dev`'s JSON banner without blocking past its limit.
pub fn first_stdout_line(child: &mut Child, timeout: Duration) -> Option<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(timeout).ok()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

/// Polls `addr` until it accepts a TCP connection, for at most `limit`.
pub fn wait_for_port(addr: SocketAddr, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A `moto_server` on a free loopback port, killed on drop. Dummy credentials and the endpoint
/// are what [`MotoServer::env`] returns, so SDK clients and child processes reach it alone.
///
/// It runs through `testkit/moto_server_ecr.py`, which fills in the ECR layer upload API moto
/// lacks (image pushes), keeps every pushed blob in [`MotoServer::blob_dir`], and Lambda checks
/// that an image function's image was really pushed (`MOTO_LAMBDA_STUB_ECR=false`).
pub struct MotoServer {
    child: Child,
    /// Where mcpctl talks: moto itself, or the AWS realism layer in front of it.
    pub port: u16,
    /// moto without the realism layer (the same backends), for tests reading the true state.
    pub raw_port: u16,
    /// `<dir>/<repository>/<hex digest>` for every blob pushed to ECR.
    pub blob_dir: PathBuf,
    pub realism: Option<Realism>,
}

/// The AWS realism layer (`testkit/moto_realism.py`, rules in `testkit/REALISM.md`): throttling,
/// eventual consistency, asynchronous deletes, IAM propagation, Lambda states, in front of moto.
#[derive(Debug, Clone)]
pub struct Realism {
    pub seed: u64,
    /// Multiplies every window (list lag, name release, propagation, Pending).
    pub scale: f64,
}

/// Seeds for the realism runs: `MCPCTL_REALISM_SEEDS=1,2,3` or the default five.
pub fn realism_seeds() -> Vec<u64> {
    std::env::var("MCPCTL_REALISM_SEEDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| vec![1, 2, 3, 4, 5])
}

pub const REGION: &str = "us-east-1";

impl MotoServer {
    pub fn start() -> Self {
        Self::launch(None)
    }

    /// moto behind the AWS realism layer with this seed and scale.
    pub fn realistic(seed: u64, scale: f64) -> Self {
        Self::launch(Some(Realism { seed, scale }))
    }

    fn launch(realism: Option<Realism>) -> Self {
        let port = free_port();
        // Two distinct free ports (the OS may hand the same one out twice in a row).
        let raw_port = match realism {
            Some(_) => std::iter::repeat_with(free_port)
                .take(100)
                .find(|p| *p != port)
                .expect("a second free port on 127.0.0.1"),
            None => port,
        };
        let blob_dir = target_dir()
            .join("tmp")
            .join(format!("moto-ecr-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&blob_dir);
        let launcher = workspace_root().join("testkit").join("moto_server_ecr.py");
        let mut command = Command::new("python3");
        command
            .arg(launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Without the managed policies AWSLambdaBasicExecutionRole cannot be attached.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_LAMBDA_STUB_ECR", "false")
            .env("MOTO_ECR_BLOB_DIR", &blob_dir)
            .env_remove("MOTO_REALISM_SEED")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(r) = &realism {
            command
                .args(["--raw-port", &raw_port.to_string()])
                .env("MOTO_REALISM_SEED", r.seed.to_string())
                .env("MOTO_REALISM_SCALE", r.scale.to_string());
        }
        let child = command
            .spawn()
            .expect("python3 not found: moto_server needs `pip install 'moto[server]'`");
        let server = Self {
            child,
            port,
            raw_port,
            blob_dir,
            realism,
        };
        for p in [port, raw_port] {
            let addr: SocketAddr = ([127, 0, 0, 1], p).into();
            assert!(
                wait_for_port(addr, Duration::from_secs(60)),
                "moto_server did not listen on {addr} within 60 s"
            );
        }
        server
    }

    /// moto without the realism layer: what AWS would show once everything has settled.
    pub fn raw_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.raw_port)
    }

    /// What the realism layer injected so far (`GET /_realism/stats`), `None` without it.
    pub fn realism_stats(&self) -> Option<serde_json::Value> {
        self.realism.as_ref()?;
        let (status, _, body) = http_request(
            ([127, 0, 0, 1], self.port).into(),
            "GET",
            "/_realism/stats",
            &[],
            b"",
        )
        .ok()?;
        (status == 200)
            .then(|| serde_json::from_slice(&body).ok())
            .flatten()
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for a process (or an aws-config loader) that must talk to this moto only.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_SESSION_TOKEN", "testing".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_DEFAULT_REGION", REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
    }

    /// Wipes every resource, so tests sharing one server start clean.
    pub fn reset(&self) {
        let _ = http_request(
            ([127, 0, 0, 1], self.port).into(),
            "POST",
            "/moto-api/reset",
            &[],
            b"",
        );
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.blob_dir);
    }
}

/// (status, lower-cased headers, body).
pub type HttpResponse = (u16, Vec<(String, String)>, Vec<u8>);

/// A minimal blocking HTTP/1.1 client for tests that must see raw status codes and headers.
/// Returns (status, lower-cased headers, body).
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(req.as_bytes())?;
    // A server may answer (413) before reading all of a large body; a failed write is fine then.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    Ok((status, headers, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = pos + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// The workspace root (where Cargo.toml with [workspace] lives).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives inside the workspace")
        .to_path_buf()
}

/// Builds `package`'s binaries for the host (debug profile, like `cargo test`) and returns the path
/// of `bin` in the target directory. Cargo's own lock keeps concurrent callers safe.
pub fn build_binary(package: &str, bin: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {package} failed");
    target_dir().join("debug").join(bin)
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}
