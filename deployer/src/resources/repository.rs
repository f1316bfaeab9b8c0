//! The ECR repository holding the server image (`package = "image"`): tags immutable (each tag
//! names one content digest), scanned on push (basic scanning is free), a lifecycle policy
//! keeping the newest images only, so redeploys do not pile up storage, and a repository policy
//! letting Lambda pull for the server function alone (what Lambda would otherwise add itself,
//! and only if the deploying principal may set repository policies).

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Tag};
use serde_json::json;

use super::{missing_tags, Ctx, Resource};
use crate::aws;
use crate::steps::Change;

/// Images kept besides the deployed one.
pub const KEEP_IMAGES: u32 = 5;

pub struct Repository {
    pub name: String,
    /// The server function, the only one Lambda may pull for.
    pub function_arn: String,
    /// The tag of the image the function runs, which the lifecycle policy never expires (a
    /// redeploy of an older build is not the newest image). `None`: not known (plan without
    /// the code), keep whichever tag the current policy protects.
    pub deployed_tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryState {
    pub uri: String,
    pub arn: String,
    pub immutable_tags: bool,
    pub scan_on_push: bool,
    pub lifecycle_policy: Option<serde_json::Value>,
    pub repository_policy: Option<serde_json::Value>,
    pub tags: HashMap<String, String>,
}

#[derive(Debug, Default, PartialEq)]
pub struct RepositoryPlan {
    pub create: bool,
    pub tag_mutability: bool,
    pub scan_on_push: bool,
    pub lifecycle_policy: bool,
    pub repository_policy: bool,
    pub tags: BTreeMap<String, String>,
}

impl Repository {
    /// `account` is the caller's (the function ARN is fixed by name and account).
    pub fn new(ctx: &Ctx<'_>, account: &str, deployed_tag: Option<String>) -> Self {
        Self {
            deployed_tag,
            name: ctx.names.ecr_repository(),
            function_arn: format!(
                "arn:{}:lambda:{}:{account}:function:{}",
                ctx.partition(),
                ctx.aws.region,
                ctx.names.server_function()
            ),
        }
    }

    fn repository_policy(&self) -> serde_json::Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "LambdaECRImageRetrievalPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Condition": {"StringLike": {"aws:sourceArn": self.function_arn}},
            }],
        })
    }

    /// Rule 1 selects the deployed image by its tag and expires nothing (one image has that
    /// tag); ECR never lets a lower-priority rule expire an image a higher-priority rule's tags
    /// select. Rule 2 keeps the newest [`KEEP_IMAGES`] of the rest.
    fn lifecycle_policy(deployed_tag: Option<&str>) -> serde_json::Value {
        let mut rules = Vec::new();
        if let Some(tag) = deployed_tag {
            rules.push(json!({
                "rulePriority": 1,
                "description": "never expire the deployed image",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": [tag],
                    "countType": "imageCountMoreThan",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            }));
        }
        rules.push(json!({
            "rulePriority": 2,
            "description": format!("keep the newest {KEEP_IMAGES} images"),
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": KEEP_IMAGES,
            },
            "action": {"type": "expire"},
        }));
        json!({ "rules": rules })
    }

    /// The policy deploy sets: protecting `deployed_tag`, or the tag the current policy does.
    fn desired_lifecycle_policy(&self, current: Option<&serde_json::Value>) -> serde_json::Value {
        let protected = self.deployed_tag.clone().or_else(|| {
            current?["rules"]
                .as_array()?
                .iter()
                .find(|r| r["rulePriority"] == 1)?["selection"]["tagPrefixList"][0]
                .as_str()
                .map(str::to_string)
        });
        Self::lifecycle_policy(protected.as_deref())
    }
}

pub async fn read_repository(ctx: &Ctx<'_>, name: &str) -> Result<Option<RepositoryState>> {
    let ecr = &ctx.aws.ecr;
    let out = match ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if aws::error_code(&e) == Some("RepositoryNotFoundException") => return Ok(None),
        Err(e) => return Err(aws::describe("DescribeRepositories", &e)),
    };
    let Some(repo) = out.repositories().first() else {
        return Ok(None);
    };
    let arn = repo.repository_arn().unwrap_or_default().to_string();
    let lifecycle_policy = match ecr
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
    {
        Ok(p) => p
            .lifecycle_policy_text()
            .and_then(|t| serde_json::from_str(t).ok()),
        Err(e) if aws::error_code(&e) == Some("LifecyclePolicyNotFoundException") => None,
        Err(e) => return Err(aws::describe("GetLifecyclePolicy", &e)),
    };
    let repository_policy = match ecr
        .get_repository_policy()
        .repository_name(name)
        .send()
        .await
    {
        Ok(p) => p.policy_text().and_then(|t| serde_json::from_str(t).ok()),
        Err(e) if aws::error_code(&e) == Some("RepositoryPolicyNotFoundException") => None,
        Err(e) => return Err(aws::describe("GetRepositoryPolicy", &e)),
    };
    let tags = ecr
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(aws::err("ListTagsForResource"))?
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    Ok(Some(RepositoryState {
        uri: repo.repository_uri().unwrap_or_default().to_string(),
        arn,
        immutable_tags: repo.image_tag_mutability() == Some(&ImageTagMutability::Immutable),
        scan_on_push: repo
            .image_scanning_configuration()
            .is_some_and(|c| c.scan_on_push()),
        lifecycle_policy,
        repository_policy,
        tags,
    }))
}

fn ecr_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>> {
    tags.into_iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

impl Resource for Repository {
    type Current = Option<RepositoryState>;
    type Plan = RepositoryPlan;
    /// The repository URI, `<account>.dkr.ecr.<region>.amazonaws.com/<name>`.
    type Output = String;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        read_repository(ctx, &self.name).await
    }

    fn plan(&self, ctx: &Ctx<'_>, current: &Self::Current) -> RepositoryPlan {
        let Some(cur) = current else {
            return RepositoryPlan {
                create: true,
                lifecycle_policy: true,
                repository_policy: true,
                ..RepositoryPlan::default()
            };
        };
        RepositoryPlan {
            create: false,
            tag_mutability: !cur.immutable_tags,
            scan_on_push: !cur.scan_on_push,
            lifecycle_policy: cur.lifecycle_policy.as_ref()
                != Some(&self.desired_lifecycle_policy(cur.lifecycle_policy.as_ref())),
            repository_policy: cur.repository_policy.as_ref() != Some(&self.repository_policy()),
            tags: missing_tags(&cur.tags, &ctx.tags),
        }
    }

    fn change(plan: &RepositoryPlan) -> Change {
        if plan.create {
            return Change::Created;
        }
        let fields = [
            (plan.tag_mutability, "tag mutability"),
            (plan.scan_on_push, "scan on push"),
            (plan.lifecycle_policy, "lifecycle policy"),
            (plan.repository_policy, "repository policy"),
            (!plan.tags.is_empty(), "tags"),
        ];
        Change::updated(
            fields
                .iter()
                .filter(|(differs, _)| *differs)
                .map(|(_, f)| f.to_string())
                .collect(),
        )
    }

    async fn apply(
        &self,
        ctx: &Ctx<'_>,
        current: Self::Current,
        plan: RepositoryPlan,
    ) -> Result<String> {
        let ecr = &ctx.aws.ecr;
        let scanning = ImageScanningConfiguration::builder()
            .scan_on_push(true)
            .build();
        let lifecycle_policy = self
            .desired_lifecycle_policy(current.as_ref().and_then(|c| c.lifecycle_policy.as_ref()));
        let (uri, arn) = match current {
            Some(cur) => (cur.uri, cur.arn),
            None => {
                let out = ecr
                    .create_repository()
                    .repository_name(&self.name)
                    .image_tag_mutability(ImageTagMutability::Immutable)
                    .image_scanning_configuration(scanning.clone())
                    .set_tags(Some(ecr_tags(ctx.tags.clone())?))
                    .send()
                    .await
                    .map_err(aws::err("CreateRepository"))?;
                let repo = out.repository();
                (
                    repo.and_then(|r| r.repository_uri())
                        .unwrap_or_default()
                        .to_string(),
                    repo.and_then(|r| r.repository_arn())
                        .unwrap_or_default()
                        .to_string(),
                )
            }
        };
        if plan.tag_mutability {
            ecr.put_image_tag_mutability()
                .repository_name(&self.name)
                .image_tag_mutability(ImageTagMutability::Immutable)
                .send()
                .await
                .map_err(aws::err("PutImageTagMutability"))?;
        }
        if plan.scan_on_push {
            ecr.put_image_scanning_configuration()
                .repository_name(&self.name)
                .image_scanning_configuration(scanning)
                .send()
                .await
                .map_err(aws::err("PutImageScanningConfiguration"))?;
        }
        if plan.lifecycle_policy {
            ecr.put_lifecycle_policy()
                .repository_name(&self.name)
                .lifecycle_policy_text(lifecycle_policy.to_string())
                .send()
                .await
                .map_err(aws::err("PutLifecyclePolicy"))?;
        }
        if plan.repository_policy {
            ecr.set_repository_policy()
                .repository_name(&self.name)
                .policy_text(self.repository_policy().to_string())
                .send()
                .await
                .map_err(aws::err("SetRepositoryPolicy"))?;
        }
        if !plan.tags.is_empty() {
            ecr.tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(ecr_tags(plan.tags)?))
                .send()
                .await
                .map_err(aws::err("TagResource"))?;
        }
        Ok(uri)
    }
}

/// Deletes the repository with every image in it; reads first, so a stack without one (a zip
/// stack) makes no mutating call.
pub async fn remove(ctx: &Ctx<'_>) -> Result<Change> {
    if read_repository(ctx, &ctx.names.ecr_repository())
        .await?
        .is_none()
    {
        return Ok(Change::Absent);
    }
    match ctx
        .aws
        .ecr
        .delete_repository()
        .repository_name(ctx.names.ecr_repository())
        .force(true)
        .send()
        .await
    {
        Ok(_) => Ok(Change::Deleted),
        Err(e) if aws::error_code(&e) == Some("RepositoryNotFoundException") => Ok(Change::Absent),
        Err(e) => Err(aws::describe("DeleteRepository", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::Aws;
    use mcpctl_stack::Config;

    fn state(ctx: &Ctx<'_>) -> RepositoryState {
        RepositoryState {
            uri: "1.dkr.ecr.us-east-1.amazonaws.com/s-server".into(),
            arn: "arn:aws:ecr:us-east-1:1:repository/s-server".into(),
            immutable_tags: true,
            scan_on_push: true,
            lifecycle_policy: Some(Repository::lifecycle_policy(Some("mcpctl-aaaa"))),
            repository_policy: Some(Repository::new(ctx, "1", None).repository_policy()),
            tags: ctx.tags.clone().into_iter().collect(),
        }
    }

    #[test]
    fn only_what_differs_is_planned() {
        let aws = Aws::offline();
        let config = Config::default();
        let ctx = Ctx::new(&aws, &config);
        let repo = Repository::new(&ctx, "1", Some("mcpctl-aaaa".into()));
        assert!(repo.plan(&ctx, &None).create);
        // Without the code (plan), the tag the policy protects is kept.
        let unknown = Repository::new(&ctx, "1", None);
        assert!(!unknown.plan(&ctx, &Some(state(&ctx))).lifecycle_policy);
        // Another deployed image: its tag is protected instead.
        let other = Repository::new(&ctx, "1", Some("mcpctl-bbbb".into()));
        assert!(other.plan(&ctx, &Some(state(&ctx))).lifecycle_policy);
        let same = state(&ctx);
        assert_eq!(
            Repository::change(&repo.plan(&ctx, &Some(same.clone()))),
            Change::Unchanged
        );
        let drifted = RepositoryState {
            immutable_tags: false,
            lifecycle_policy: None,
            ..same.clone()
        };
        let plan = repo.plan(&ctx, &Some(drifted));
        assert!(plan.tag_mutability && plan.lifecycle_policy && !plan.scan_on_push);
        assert!(!plan.repository_policy);
        assert_eq!(
            Repository::change(&plan),
            Change::Updated(vec!["tag mutability".into(), "lifecycle policy".into()])
        );
        // A policy that lets Lambda pull for any function is narrowed back to ours.
        let mut wide = repo.repository_policy();
        wide["Statement"][0]["Condition"] = json!({"StringLike": {"aws:sourceArn": "*"}});
        let plan = repo.plan(
            &ctx,
            &Some(RepositoryState {
                repository_policy: Some(wide),
                ..same
            }),
        );
        assert_eq!(
            Repository::change(&plan),
            Change::Updated(vec!["repository policy".into()])
        );
    }
}
