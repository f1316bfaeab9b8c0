//! The one step runner every command uses: shows each step with its elapsed time (a spinner on a
//! terminal, plain lines otherwise, nothing with `--output json`), records what changed and how
//! many mutating calls it took, and can stop after step k to test that a rerun converges.

use std::fmt;
use std::future::Future;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::aws::CallLog;
use crate::Output;

/// Stops a command with an error right after step k (1-based), as if it had crashed there.
pub const FAIL_AFTER_ENV: &str = "MCPCTL_FAIL_AFTER_STEP";

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    /// The fields that differed.
    Updated(Vec<String>),
    Unchanged,
    Deleted,
    /// Destroy found nothing to delete.
    Absent,
    /// A step that is not a resource (build, package): what it produced.
    Done(String),
}

impl Change {
    pub fn updated(fields: Vec<String>) -> Self {
        if fields.is_empty() {
            Change::Unchanged
        } else {
            Change::Updated(fields)
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Created => f.write_str("created"),
            Change::Updated(fields) => write!(f, "updated ({})", fields.join(", ")),
            Change::Unchanged => f.write_str("unchanged"),
            Change::Deleted => f.write_str("deleted"),
            Change::Absent => f.write_str("already gone"),
            Change::Done(what) => f.write_str(what),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step: String,
    pub change: Change,
    pub elapsed_ms: u128,
    pub mutating_calls: usize,
}

enum Display {
    Spinner,
    Lines,
    Quiet,
}

pub struct Steps {
    display: Display,
    calls: CallLog,
    fail_after: Option<usize>,
    started: Instant,
    pub records: Vec<StepRecord>,
}

impl Steps {
    pub fn new(output: Output, calls: CallLog) -> Result<Self> {
        let display = match output {
            Output::Json => Display::Quiet,
            Output::Text if std::io::stderr().is_terminal() => Display::Spinner,
            Output::Text => Display::Lines,
        };
        let fail_after =
            match std::env::var(FAIL_AFTER_ENV) {
                Ok(v) => Some(v.parse::<usize>().with_context(|| {
                    format!("{FAIL_AFTER_ENV} must be a step number, got {v:?}")
                })?),
                Err(_) => None,
            };
        Ok(Self {
            display,
            calls,
            fail_after,
            started: Instant::now(),
            records: Vec::new(),
        })
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Runs one step; `work` returns what changed and the step's value.
    pub async fn run<T, F>(&mut self, label: impl Into<String>, work: F) -> Result<T>
    where
        F: Future<Output = Result<(Change, T)>>,
    {
        let label = label.into();
        let spinner = match self.display {
            Display::Spinner => {
                let bar = ProgressBar::new_spinner().with_message(label.clone());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} {elapsed:.dim}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(Duration::from_millis(100));
                Some(bar)
            }
            _ => None,
        };
        let before = self.calls.mutating_count();
        let start = Instant::now();
        let result = work.await;
        let elapsed = start.elapsed();
        let (change, value) = match result {
            Ok(ok) => ok,
            Err(e) => {
                let line = format!("✗ {label} ({:.1}s)", elapsed.as_secs_f64());
                self.finish_line(spinner, &line);
                return Err(e.context(label));
            }
        };
        let line = format!("✓ {label}: {change} ({:.1}s)", elapsed.as_secs_f64());
        self.finish_line(spinner, &line);
        self.records.push(StepRecord {
            step: label.clone(),
            change,
            elapsed_ms: elapsed.as_millis(),
            mutating_calls: self.calls.mutating_count() - before,
        });
        if self.fail_after == Some(self.records.len()) {
            bail!(
                "stopped after step {} ({label}) because {FAIL_AFTER_ENV} is set",
                self.records.len()
            );
        }
        Ok(value)
    }

    fn finish_line(&self, spinner: Option<ProgressBar>, line: &str) {
        match (spinner, &self.display) {
            (Some(bar), _) => {
                if let Ok(style) = ProgressStyle::with_template("{msg}") {
                    bar.set_style(style);
                }
                bar.finish_with_message(line.to_string());
            }
            (None, Display::Lines) => eprintln!("{line}"),
            _ => {}
        }
    }

    /// Prints a line in text mode (spinner or plain), nothing in JSON mode.
    pub fn note(&self, line: &str) {
        if !matches!(self.display, Display::Quiet) {
            eprintln!("{line}");
        }
    }
}
