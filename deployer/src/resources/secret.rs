//! The API key secret. Created with a random 256-bit hex key only when absent and never
//! overwritten by deploy: rotation is `mcpctl rotate-key`'s job. A secret left scheduled for
//! deletion by `destroy` is restored, so deploy → destroy → deploy keeps working. With
//! `[auth] mode = "oauth"` the token signing key's secret is made the same way (docs/oauth.md).

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
use aws_sdk_secretsmanager::operation::restore_secret::RestoreSecretError;
use aws_sdk_secretsmanager::types::Tag;
use aws_smithy_runtime_api::client::result::SdkError;
use mcpctl_stack::names::API_ID_TAG;

use super::{missing_tags, Ctx, Resource};
use crate::aws;
use crate::steps::Change;

/// A secret holding a random 256-bit key (64 hex characters).
pub struct Secret {
    pub name: String,
    pub description: String,
}

impl Secret {
    /// The API key's.
    pub fn api_key(ctx: &Ctx<'_>) -> Self {
        Self {
            name: ctx.names.secret(),
            description: format!("API key of the mcpctl stack {}", ctx.config.name),
        }
    }

    /// The OAuth token signing key's (`[auth] mode = "oauth"`); it never leaves AWS.
    pub fn signing_key(ctx: &Ctx<'_>) -> Self {
        Self {
            name: mcpctl_stack::oauth::signing_secret_name(ctx.config),
            description: format!(
                "OAuth token signing key of the mcpctl stack {}",
                ctx.config.name
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SecretState {
    pub arn: String,
    pub scheduled_for_deletion: bool,
    pub tags: HashMap<String, String>,
}

#[derive(Debug, Default, PartialEq)]
pub struct SecretPlan {
    pub create: bool,
    pub restore: bool,
    pub tags: BTreeMap<String, String>,
}

/// Reads the API key's secret; `None` when it does not exist at all.
pub async fn describe(ctx: &Ctx<'_>) -> Result<Option<SecretState>> {
    describe_named(ctx, &ctx.names.secret()).await
}

/// Reads the secret `name`; `None` when it does not exist at all.
pub async fn describe_named(ctx: &Ctx<'_>, name: &str) -> Result<Option<SecretState>> {
    match ctx
        .aws
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
    {
        Ok(out) => Ok(Some(SecretState {
            arn: out.arn().unwrap_or_default().to_string(),
            scheduled_for_deletion: out.deleted_date().is_some(),
            tags: out
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect(),
        })),
        Err(e) if aws::is_not_found(&e) => Ok(None),
        Err(e) => Err(aws::describe("DescribeSecret", &e)),
    }
}

impl Resource for Secret {
    type Current = Option<SecretState>;
    type Plan = SecretPlan;
    type Output = String;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        describe_named(ctx, &self.name).await
    }

    fn plan(&self, ctx: &Ctx<'_>, current: &Self::Current) -> SecretPlan {
        match current {
            None => SecretPlan {
                create: true,
                ..SecretPlan::default()
            },
            Some(s) => SecretPlan {
                create: false,
                restore: s.scheduled_for_deletion,
                tags: missing_tags(&s.tags, &ctx.tags),
            },
        }
    }

    fn change(plan: &SecretPlan) -> Change {
        if plan.create {
            return Change::Created;
        }
        let mut fields = Vec::new();
        if plan.restore {
            fields.push("restored from scheduled deletion".to_string());
        }
        if !plan.tags.is_empty() {
            fields.push("tags".to_string());
        }
        Change::updated(fields)
    }

    async fn apply(
        &self,
        ctx: &Ctx<'_>,
        current: Self::Current,
        plan: SecretPlan,
    ) -> Result<String> {
        let arn = current.map(|c| c.arn).unwrap_or_default();
        if plan.create {
            return self.create(ctx).await;
        }
        if plan.restore {
            let restored = aws::eventually(
                "Secrets Manager to finish deleting the old secret",
                aws::SECRET_NAME_RELEASE,
                |e: &SdkError<RestoreSecretError, _>| {
                    e.as_service_error()
                        .is_some_and(|s| s.is_invalid_request_exception())
                },
                || ctx.aws.secrets.restore_secret().secret_id(&arn).send(),
            )
            .await;
            match restored {
                Ok(_) => {}
                // It was being deleted for good (destroy --force) and now is gone.
                Err(e) if aws::is_not_found(&e) => return self.create(ctx).await,
                Err(e) => return Err(aws::describe("RestoreSecret", &e)),
            }
        }
        if !plan.tags.is_empty() {
            ctx.aws
                .secrets
                .tag_resource()
                .secret_id(&arn)
                .set_tags(Some(tags(&plan.tags)))
                .send()
                .await
                .map_err(aws::err("TagResource"))?;
        }
        Ok(arn)
    }
}

impl Secret {
    /// CreateSecret with a new random key. A secret deleted with `destroy --force` keeps its name
    /// "scheduled for deletion" for a while after DeleteSecret returns: retried until it is free.
    async fn create(&self, ctx: &Ctx<'_>) -> Result<String> {
        let name = &self.name;
        let key = mcpctl_devstack::state::new_api_key().context("generating a key")?;
        let created = aws::eventually(
            &format!("Secrets Manager to free the name {name} of the deleted secret"),
            aws::SECRET_NAME_RELEASE,
            |e: &SdkError<CreateSecretError, _>| {
                e.as_service_error()
                    .is_some_and(|s| s.is_invalid_request_exception())
                    && aws::error_message(e).contains("scheduled for deletion")
            },
            || {
                ctx.aws
                    .secrets
                    .create_secret()
                    .name(name)
                    .description(&self.description)
                    .secret_string(key.as_str())
                    .set_tags(Some(tags(&ctx.tags)))
                    .send()
            },
        )
        .await;
        match created {
            Ok(out) => Ok(out.arn().unwrap_or_default().to_string()),
            // Created meanwhile (our read lagged behind): use it, never overwrite its key.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_exists_exception()) =>
            {
                match describe_named(ctx, name).await? {
                    Some(state) => Ok(state.arn),
                    None => Err(aws::describe("CreateSecret", &e)),
                }
            }
            Err(e) => Err(aws::describe("CreateSecret", &e)),
        }
    }
}

/// The HTTP API id recorded on the secret, if any.
pub async fn recorded_api_id(ctx: &Ctx<'_>) -> Result<Option<String>> {
    Ok(describe(ctx)
        .await?
        .and_then(|s| s.tags.get(API_ID_TAG).cloned()))
}

/// Records the HTTP API's id on the secret (see [`API_ID_TAG`]). Nothing to do without a secret.
pub async fn record_api_id(ctx: &Ctx<'_>, api_id: &str) -> Result<()> {
    let Some(state) = describe(ctx).await? else {
        return Ok(());
    };
    if state.tags.get(API_ID_TAG).map(String::as_str) == Some(api_id) {
        return Ok(());
    }
    ctx.aws
        .secrets
        .tag_resource()
        .secret_id(&state.arn)
        .tags(Tag::builder().key(API_ID_TAG).value(api_id).build())
        .send()
        .await
        .map_err(aws::err("TagResource"))?;
    Ok(())
}

fn tags(map: &BTreeMap<String, String>) -> Vec<Tag> {
    map.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Schedules the secret `name` for deletion with AWS's recovery window, or deletes it at once
/// with `force`. A secret already scheduled counts as gone unless `force` asks to purge it now.
pub async fn remove(ctx: &Ctx<'_>, name: &str, force: bool) -> Result<Change> {
    let Some(state) = describe_named(ctx, name).await? else {
        return Ok(Change::Absent);
    };
    if state.scheduled_for_deletion && !force {
        return Ok(Change::Absent);
    }
    let delete = || {
        let call = ctx.aws.secrets.delete_secret().secret_id(&state.arn);
        if force {
            call.force_delete_without_recovery(true)
        } else {
            call.recovery_window_in_days(30)
        }
    };
    let mut result = delete().send().await;
    // Some endpoints refuse to purge a secret that is already scheduled: restore it, then purge.
    if state.scheduled_for_deletion
        && matches!(&result, Err(e) if aws::error_code(e) == Some("InvalidRequestException"))
    {
        ctx.aws
            .secrets
            .restore_secret()
            .secret_id(&state.arn)
            .send()
            .await
            .map_err(aws::err("RestoreSecret"))?;
        result = delete().send().await;
    }
    match result {
        Ok(_) => Ok(if force {
            Change::Done("deleted without recovery".into())
        } else {
            Change::Done("scheduled for deletion in 30 days (use --force to delete now)".into())
        }),
        Err(e) if aws::is_not_found(&e) => Ok(Change::Absent),
        Err(e) => Err(aws::describe("DeleteSecret", &e)),
    }
}

/// The API key with the given staging label (`AWSCURRENT`, `AWSPREVIOUS`).
pub async fn key(ctx: &Ctx<'_>, stage: &str) -> Result<Option<String>> {
    key_of(ctx, &ctx.names.secret(), stage).await
}

/// The value of secret `secret_id` with the given staging label.
pub async fn key_of(ctx: &Ctx<'_>, secret_id: &str, stage: &str) -> Result<Option<String>> {
    match ctx
        .aws
        .secrets
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await
    {
        Ok(out) => Ok(out.secret_string().map(str::to_string)),
        Err(e) if aws::is_not_found(&e) => Ok(None),
        Err(e) => Err(aws::describe("GetSecretValue", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_names_what_differs() {
        assert_eq!(
            Secret::change(&SecretPlan {
                create: true,
                ..Default::default()
            }),
            Change::Created
        );
        assert_eq!(Secret::change(&SecretPlan::default()), Change::Unchanged);
        let p = SecretPlan {
            restore: true,
            ..Default::default()
        };
        assert!(matches!(Secret::change(&p), Change::Updated(_)));
    }
}
