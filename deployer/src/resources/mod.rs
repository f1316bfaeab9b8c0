//! Every AWS resource of a stack is one module with the same shape: a struct that *is* the
//! desired state, `read` the current state, `plan` the difference (pure, unit-tested), `apply`
//! only that, tagging what it creates. [`converge`] is the one driver for all of them.

pub mod api;
pub mod authorizer;
pub mod function;
pub mod iam;
pub mod image;
pub mod integration;
pub mod logs;
pub mod permission;
pub mod repository;
pub mod routes;
pub mod secret;
pub mod stage;

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use mcpctl_stack::{Config, StackNames};

use crate::aws::Aws;
use crate::steps::Change;

/// What every resource needs: the clients, the configuration, the names and the tags.
pub struct Ctx<'a> {
    pub aws: &'a Aws,
    pub config: &'a Config,
    pub names: StackNames,
    /// deploy.toml's `[tags]` plus `mcpctl:stack=<name>`.
    pub tags: BTreeMap<String, String>,
}

impl<'a> Ctx<'a> {
    pub fn new(aws: &'a Aws, config: &'a Config) -> Self {
        let mut tags = config.tags.clone();
        tags.insert(
            mcpctl_stack::names::STACK_TAG.to_string(),
            config.name.clone(),
        );
        Self {
            aws,
            config,
            names: StackNames::new(config.name.clone()),
            tags,
        }
    }

    /// `aws`, `aws-cn` or `aws-us-gov`, for ARNs we build ourselves.
    pub fn partition(&self) -> &'static str {
        partition(&self.aws.region)
    }
}

/// `arn:aws:service:region:ACCOUNT:...` → ACCOUNT.
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// One AWS resource: the implementing struct holds the desired state.
pub trait Resource {
    /// What AWS has now (usually `Option<...>`, `None` when absent).
    type Current;
    /// The difference between desired and current.
    type Plan;
    /// What later steps need (an ARN, an id).
    type Output;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current>;
    fn plan(&self, ctx: &Ctx<'_>, current: &Self::Current) -> Self::Plan;
    fn change(plan: &Self::Plan) -> Change;
    /// Applies `plan` and nothing else; an empty plan makes no call that changes anything.
    async fn apply(
        &self,
        ctx: &Ctx<'_>,
        current: Self::Current,
        plan: Self::Plan,
    ) -> Result<Self::Output>;
}

/// read → plan → apply, reporting what changed.
pub async fn converge<R: Resource>(resource: &R, ctx: &Ctx<'_>) -> Result<(Change, R::Output)> {
    let current = resource.read(ctx).await?;
    let plan = resource.plan(ctx, &current);
    let change = R::change(&plan);
    let output = resource.apply(ctx, current, plan).await?;
    Ok((change, output))
}

/// The tags to (re)set so `current` carries all of `desired`. Tags someone else added are kept:
/// they may be cost allocation or policy tags mcpctl does not own.
pub fn missing_tags(
    current: &HashMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The plan of a resource created whole or updated in one call naming the fields that differ.
#[derive(Debug, Default, PartialEq)]
pub struct WholeOrFields {
    pub create: bool,
    pub update: Vec<String>,
}

impl WholeOrFields {
    pub fn create() -> Self {
        Self {
            create: true,
            update: Vec::new(),
        }
    }

    pub fn update(fields: Vec<String>) -> Self {
        Self {
            create: false,
            update: fields,
        }
    }

    pub fn change(&self) -> Change {
        if self.create {
            Change::Created
        } else {
            Change::updated(self.update.clone())
        }
    }
}

/// Collects the names of the fields whose current value differs from the desired one.
pub trait FieldDiff {
    fn field<T: PartialEq + ?Sized>(&mut self, name: &str, current: &T, desired: &T);
}

impl FieldDiff for Vec<String> {
    fn field<T: PartialEq + ?Sized>(&mut self, name: &str, current: &T, desired: &T) {
        if current != desired {
            self.push(name.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tags_keeps_foreign_tags_and_fixes_ours() {
        let current = HashMap::from([
            ("team".to_string(), "x".to_string()),
            ("mcpctl:stack".to_string(), "old".to_string()),
        ]);
        let desired = BTreeMap::from([("mcpctl:stack".to_string(), "new".to_string())]);
        let m = missing_tags(&current, &desired);
        assert_eq!(m, desired);
        assert!(missing_tags(
            &HashMap::from([("mcpctl:stack".into(), "new".into())]),
            &desired
        )
        .is_empty());
    }

    #[test]
    fn partition_follows_region() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
