//! Progress and log messages a tool sends while it runs, as a stateless server can.
//!
//! Both travel on the response to the request itself: when a handler sends one, rmcp answers
//! that request with `text/event-stream` (the messages, then the result) instead of one JSON
//! body. Behind API Gateway the stream is delivered whole when the function returns (buffered,
//! not incremental), which is still a valid response: the client sees every message, in order,
//! before the result.
//!
//! - [`Progress`]: `notifications/progress`, only when the request carried
//!   `_meta.progressToken`.
//! - [`Log`]: `notifications/message`. From 2026-07-28 only when the request asked for it with
//!   `_meta` `io.modelcontextprotocol/logLevel`, and only at that level or above. Earlier
//!   revisions set the level with `logging/setLevel` for the session; a stateless server has no
//!   session to keep it in, so it cannot apply a level set by an earlier request, and sends
//!   every message: for the request at hand no level is known.
//!
//! Sending fails only when the client has gone; that is not the tool's problem, so both ignore
//! it.

// SEP-2577 deprecates logging in rmcp's types; the 2026-07-28 revision still has it.
#![allow(deprecated)]

use rmcp::model::{
    LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
    ProtocolVersion,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::RoleServer;
use serde_json::Value;

/// Reports progress of the current request, if the client asked for it.
#[derive(Debug, Clone)]
pub struct Progress {
    peer: Peer<RoleServer>,
    token: Option<ProgressToken>,
}

impl Progress {
    pub fn new(context: &RequestContext<RoleServer>) -> Self {
        Self {
            peer: context.peer.clone(),
            token: context.meta.get_progress_token(),
        }
    }

    /// Whether the client asked for progress (sent a `progressToken`).
    pub fn requested(&self) -> bool {
        self.token.is_some()
    }

    /// Sends `progress` (of `total`, if known) with an optional message.
    pub async fn report(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = self.token.clone() else {
            return;
        };
        let mut params = ProgressNotificationParam::new(token, progress);
        if let Some(total) = total {
            params = params.with_total(total);
        }
        if let Some(message) = message {
            params = params.with_message(message);
        }
        let _ = self.peer.notify_progress(params).await;
    }
}

/// Sends log messages for the current request at the level the client asked for.
#[derive(Debug, Clone)]
pub struct Log {
    peer: Peer<RoleServer>,
    threshold: Option<u8>,
    logger: Option<String>,
}

/// Severity order of the MCP log levels (RFC 5424).
fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl Log {
    pub fn new(context: &RequestContext<RoleServer>) -> Self {
        let per_request = context
            .protocol_version()
            .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        let threshold = if per_request {
            context.meta.log_level().map(rank)
        } else {
            Some(rank(LoggingLevel::Debug))
        };
        Self {
            peer: context.peer.clone(),
            threshold,
            logger: None,
        }
    }

    /// Names the logger in every message.
    pub fn with_logger(mut self, logger: impl Into<String>) -> Self {
        self.logger = Some(logger.into());
        self
    }

    /// Whether a message at `level` would be sent.
    pub fn enabled(&self, level: LoggingLevel) -> bool {
        self.threshold.is_some_and(|t| rank(level) >= t)
    }

    /// Sends `data` (a string or any JSON) at `level`, if enabled.
    pub async fn send(&self, level: LoggingLevel, data: impl Into<Value>) {
        if !self.enabled(level) {
            return;
        }
        let mut params = LoggingMessageNotificationParam::new(level, data.into());
        params.logger = self.logger.clone();
        let _ = self.peer.notify_logging_message(params).await;
    }

    pub async fn debug(&self, message: &str) {
        self.send(LoggingLevel::Debug, message).await;
    }

    pub async fn info(&self, message: &str) {
        self.send(LoggingLevel::Info, message).await;
    }

    pub async fn warning(&self, message: &str) {
        self.send(LoggingLevel::Warning, message).await;
    }

    pub async fn error(&self, message: &str) {
        self.send(LoggingLevel::Error, message).await;
    }
}
