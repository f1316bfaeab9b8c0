//! Each function's log group, created before the function so it carries the stack tag and
//! deploy.toml's retention (Lambda would otherwise create it on first invocation, kept forever).
//! Tags are set at creation only: the tag APIs of CloudWatch Logs differ between AWS and moto.

use std::time::Duration;

use anyhow::Result;
use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
use aws_smithy_runtime_api::client::result::SdkError;

use super::{Ctx, Resource};
use crate::aws;
use crate::steps::Change;

/// How long a CreateLogGroup waits out a conflicting operation on the same name.
const ABORTED_LIMIT: Duration = Duration::from_secs(30);

pub struct LogGroup {
    pub name: String,
    pub retention_days: i32,
}

impl LogGroup {
    /// `/aws/lambda/<function>`, kept `retention_days`.
    pub fn of_function(ctx: &Ctx<'_>, function: &str, retention_days: u32) -> Result<Self> {
        Ok(Self {
            name: ctx.names.log_group(function),
            retention_days: i32::try_from(retention_days)
                .map_err(|_| anyhow::anyhow!("log retention {retention_days} is out of range"))?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupState {
    pub retention_days: Option<i32>,
}

#[derive(Debug, PartialEq)]
pub struct LogGroupPlan {
    pub create: bool,
    pub retention: bool,
}

/// How long a log group that exists may stay missing from DescribeLogGroups, which lags behind
/// CreateLogGroup and DeleteLogGroup.
const LISTING_LAG: Duration = Duration::from_secs(30);

/// The group as DescribeLogGroups lists it (the only read that gives its retention), `None`
/// when it does not exist. Whether it exists is asked by exact name first (DescribeLogStreams
/// of the group answers ResourceNotFoundException for a group that does not exist); a group
/// that exists but is not listed yet is listed again with backoff.
async fn read_group(ctx: &Ctx<'_>, name: &str) -> Result<Option<LogGroupState>> {
    if !exists(ctx, name).await? {
        return Ok(None);
    }
    let start = std::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let out = ctx
            .aws
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .map_err(aws::err("DescribeLogGroups"))?;
        if let Some(g) = out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        {
            return Ok(Some(LogGroupState {
                retention_days: g.retention_in_days(),
            }));
        }
        if start.elapsed() + delay > LISTING_LAG {
            // It exists, but its retention cannot be read: deploy sets it again.
            return Ok(Some(LogGroupState {
                retention_days: None,
            }));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(4));
    }
}

impl Resource for LogGroup {
    type Current = Option<LogGroupState>;
    type Plan = LogGroupPlan;
    type Output = ();

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        read_group(ctx, &self.name).await
    }

    fn plan(&self, _ctx: &Ctx<'_>, current: &Self::Current) -> LogGroupPlan {
        LogGroupPlan {
            create: current.is_none(),
            retention: current
                .as_ref()
                .is_none_or(|c| c.retention_days != Some(self.retention_days)),
        }
    }

    fn change(plan: &LogGroupPlan) -> Change {
        if plan.create {
            Change::Created
        } else if plan.retention {
            Change::Updated(vec!["retention".into()])
        } else {
            Change::Unchanged
        }
    }

    async fn apply(
        &self,
        ctx: &Ctx<'_>,
        _current: Self::Current,
        plan: LogGroupPlan,
    ) -> Result<()> {
        let logs = &ctx.aws.logs;
        if plan.create {
            // OperationAbortedException: another CreateLogGroup or DeleteLogGroup of the same
            // name is running (Lambda's own, or a previous run's): try again shortly.
            let created = aws::eventually(
                &format!("a concurrent operation on {} to finish", self.name),
                ABORTED_LIMIT,
                |e: &SdkError<CreateLogGroupError, _>| {
                    e.as_service_error()
                        .is_some_and(|s| s.is_operation_aborted_exception())
                },
                || {
                    logs.create_log_group()
                        .log_group_name(&self.name)
                        .set_tags(Some(ctx.tags.clone().into_iter().collect()))
                        .send()
                },
            )
            .await;
            match created {
                Ok(_) => {}
                // Lambda may have created it between our read and now, or our read lagged.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_already_exists_exception()) => {}
                Err(e) => return Err(aws::describe("CreateLogGroup", &e)),
            }
        }
        if plan.retention {
            logs.put_retention_policy()
                .log_group_name(&self.name)
                .retention_in_days(self.retention_days)
                .send()
                .await
                .map_err(aws::err("PutRetentionPolicy"))?;
        }
        Ok(())
    }
}

pub async fn remove(ctx: &Ctx<'_>, name: &str) -> Result<Change> {
    if !exists(ctx, name).await? {
        return Ok(Change::Absent);
    }
    match ctx
        .aws
        .logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(Change::Deleted),
        Err(e) if aws::is_not_found(&e) => Ok(Change::Absent),
        Err(e) => Err(aws::describe("DeleteLogGroup", &e)),
    }
}

/// Whether the group exists, by its exact name: DescribeLogStreams answers
/// ResourceNotFoundException for a group that does not exist, and is not a listing that lags.
pub async fn exists(ctx: &Ctx<'_>, name: &str) -> Result<bool> {
    group_exists(&ctx.aws.logs, name, "DescribeLogStreams").await
}

/// [`exists`] on any CloudWatch Logs client (the stack lock has its own, counted apart);
/// `operation` names the call in errors.
pub async fn group_exists(
    logs: &aws_sdk_cloudwatchlogs::Client,
    name: &str,
    operation: &'static str,
) -> Result<bool> {
    match logs
        .describe_log_streams()
        .log_group_name(name)
        .limit(1)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(aws::describe(operation, &e)),
    }
}
