use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The real server binary on a free port, as a user runs it; killed on drop.
pub struct LocalServer {
    child: Child,
    pub addr: SocketAddr,
}

#[allow(dead_code)] // not every test binary starts every kind of server
impl LocalServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Self {
        Self::start_program(Path::new(env!("CARGO_BIN_EXE_mcpctl-server")), env)
    }

    /// Another program built on the library (an example), the same way.
    pub fn start_program(program: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(program)
            .env("PORT", "0")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("server binary starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server prints its address");
        let addr = line
            .trim()
            .strip_prefix("MCP server listening on http://")
            .and_then(|rest| rest.strip_suffix("/mcp"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Self { child, addr }
    }

    #[allow(dead_code)] // not every test binary connects a client
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit; `None` if it did not exit.
    #[allow(dead_code)]
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
