//! The dev log: one sink every part writes whole lines to, so request lines and function output
//! interleave by line, never mid-line.

use std::io::Write;
use std::sync::Arc;

#[derive(Clone)]
pub struct Log(Arc<dyn Fn(&str) + Send + Sync>);

impl Log {
    /// Lines to stderr, leaving stdout for what the user copies (URL, key, configs).
    pub fn stderr() -> Self {
        Self(Arc::new(|line: &str| {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        }))
    }

    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub fn line(&self, line: &str) {
        (self.0)(line)
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Log")
    }
}
