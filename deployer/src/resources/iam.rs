//! The two Lambda execution roles. Both trust lambda.amazonaws.com and may write their own logs
//! (AWSLambdaBasicExecutionRole); the authorizer role may also read exactly one secret.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use aws_sdk_iam::types::Tag;
use serde_json::{json, Value};

use super::{missing_tags, Ctx, Resource};
use crate::aws;
use crate::steps::Change;

const READ_SECRET_POLICY: &str = "read-api-key";

/// One role: the struct is the desired state.
pub struct Role {
    pub name: String,
    pub managed_policies: BTreeSet<String>,
    pub inline_policies: BTreeMap<String, Value>,
}

impl Role {
    /// The server only logs.
    pub fn server(ctx: &Ctx<'_>) -> Self {
        Self {
            name: ctx.names.server_role(),
            managed_policies: BTreeSet::from([basic_execution_policy(ctx)]),
            inline_policies: BTreeMap::new(),
        }
    }

    /// The authorizer logs and reads the one secret holding the API key, and with
    /// `[auth] mode = "oauth"` the token signing key's (`signing_arn`) too.
    pub fn authorizer(ctx: &Ctx<'_>, secret_arn: &str, signing_arn: Option<&str>) -> Self {
        Self {
            name: ctx.names.authorizer_role(),
            managed_policies: BTreeSet::from([basic_execution_policy(ctx)]),
            inline_policies: BTreeMap::from([(
                READ_SECRET_POLICY.to_string(),
                read_secrets(secret_arn, signing_arn),
            )]),
        }
    }

    /// The oauth function logs and reads exactly the two secrets: the API key's (to check the
    /// owner's consent) and the signing key's.
    pub fn oauth(ctx: &Ctx<'_>, secret_arn: &str, signing_arn: &str) -> Self {
        Self {
            name: crate::stack::oauth_role_name(ctx.config),
            managed_policies: BTreeSet::from([basic_execution_policy(ctx)]),
            inline_policies: BTreeMap::from([(
                READ_OAUTH_SECRETS_POLICY.to_string(),
                read_secrets(secret_arn, Some(signing_arn)),
            )]),
        }
    }
}

const READ_OAUTH_SECRETS_POLICY: &str = "read-oauth-secrets";

/// GetSecretValue on `secret_arn` (and `also`): a single resource stays a plain string, as
/// api-key stacks have always had it.
fn read_secrets(secret_arn: &str, also: Option<&str>) -> Value {
    let resource = match also {
        None => json!(secret_arn),
        Some(other) => json!([secret_arn, other]),
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": resource,
        }]
    })
}

fn basic_execution_policy(ctx: &Ctx<'_>) -> String {
    format!(
        "arn:{}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        ctx.partition()
    )
}

fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole",
        }]
    })
}

#[derive(Debug, Clone)]
pub struct RoleState {
    pub arn: String,
    pub trust: Option<Value>,
    pub managed_policies: BTreeSet<String>,
    pub inline_policies: BTreeMap<String, Option<Value>>,
    pub tags: HashMap<String, String>,
}

#[derive(Debug, Default, PartialEq)]
pub struct RolePlan {
    pub create: bool,
    pub trust: bool,
    pub attach: Vec<String>,
    pub detach: Vec<String>,
    pub put_inline: Vec<String>,
    pub delete_inline: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// IAM returns policy documents URL-encoded; moto returns them as sent. Accept both.
fn parse_policy(doc: &str) -> Option<Value> {
    serde_json::from_str(doc)
        .ok()
        .or_else(|| serde_json::from_str(&percent_decode(doc)).ok())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// IAM may normalise a single action or resource into a one-element list; compare the meaning.
fn same_policy(a: &Value, b: &Value) -> bool {
    normalise(a) == normalise(b)
}

fn normalise(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.len() == 1 => normalise(&items[0]),
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

/// The role's result, or `return Ok(None)` when it does not exist (anymore): IAM reads are
/// eventually consistent, so GetRole may still show a role that the next read no longer finds.
macro_rules! or_gone {
    ($call:expr, $operation:literal) => {
        match $call.send().await {
            Ok(out) => out,
            Err(e) if aws::is_not_found(&e) => return Ok(None),
            Err(e) => return Err(aws::describe($operation, &e)),
        }
    };
}

pub async fn read_role(ctx: &Ctx<'_>, name: &str) -> Result<Option<RoleState>> {
    let iam = &ctx.aws.iam;
    let role = or_gone!(iam.get_role().role_name(name), "GetRole").role;
    let Some(role) = role else { return Ok(None) };
    let attached = or_gone!(
        iam.list_attached_role_policies().role_name(name),
        "ListAttachedRolePolicies"
    );
    let inline_names = or_gone!(iam.list_role_policies().role_name(name), "ListRolePolicies");
    let mut inline_policies = BTreeMap::new();
    for policy in inline_names.policy_names() {
        let doc = or_gone!(
            iam.get_role_policy().role_name(name).policy_name(policy),
            "GetRolePolicy"
        );
        inline_policies.insert(policy.clone(), parse_policy(doc.policy_document()));
    }
    let tags = or_gone!(iam.list_role_tags().role_name(name), "ListRoleTags");
    Ok(Some(RoleState {
        arn: role.arn().to_string(),
        trust: role.assume_role_policy_document().and_then(parse_policy),
        managed_policies: attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect(),
        inline_policies,
        tags: tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    }))
}

impl Resource for Role {
    type Current = Option<RoleState>;
    type Plan = RolePlan;
    type Output = String;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        read_role(ctx, &self.name).await
    }

    fn plan(&self, ctx: &Ctx<'_>, current: &Self::Current) -> RolePlan {
        let Some(cur) = current else {
            return RolePlan {
                create: true,
                attach: self.managed_policies.iter().cloned().collect(),
                put_inline: self.inline_policies.keys().cloned().collect(),
                ..RolePlan::default()
            };
        };
        RolePlan {
            create: false,
            trust: !cur.trust.as_ref().is_some_and(|t| same_policy(t, &trust_policy())),
            attach: self
                .managed_policies
                .difference(&cur.managed_policies)
                .cloned()
                .collect(),
            detach: cur
                .managed_policies
                .difference(&self.managed_policies)
                .cloned()
                .collect(),
            put_inline: self
                .inline_policies
                .iter()
                .filter(|(name, doc)| {
                    !matches!(cur.inline_policies.get(*name), Some(Some(c)) if same_policy(c, doc))
                })
                .map(|(name, _)| name.clone())
                .collect(),
            delete_inline: cur
                .inline_policies
                .keys()
                .filter(|name| !self.inline_policies.contains_key(*name))
                .cloned()
                .collect(),
            tags: missing_tags(&cur.tags, &ctx.tags),
        }
    }

    fn change(plan: &RolePlan) -> Change {
        if plan.create {
            return Change::Created;
        }
        let mut fields = Vec::new();
        if plan.trust {
            fields.push("trust policy".to_string());
        }
        fields.extend(plan.attach.iter().map(|p| format!("attach {}", short(p))));
        fields.extend(plan.detach.iter().map(|p| format!("detach {}", short(p))));
        fields.extend(plan.put_inline.iter().map(|p| format!("policy {p}")));
        fields.extend(
            plan.delete_inline
                .iter()
                .map(|p| format!("remove policy {p}")),
        );
        if !plan.tags.is_empty() {
            fields.push("tags".to_string());
        }
        Change::updated(fields)
    }

    async fn apply(&self, ctx: &Ctx<'_>, current: Self::Current, plan: RolePlan) -> Result<String> {
        let iam = &ctx.aws.iam;
        let name = &self.name;
        let trust = trust_policy().to_string();
        let arn = if plan.create {
            let out = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(&trust)
                .description(format!(
                    "Lambda role of the mcpctl stack {}",
                    ctx.config.name
                ))
                .set_tags(Some(iam_tags(&ctx.tags)?))
                .send()
                .await
                .map_err(aws::err("CreateRole"))?;
            out.role.map(|r| r.arn).unwrap_or_default()
        } else {
            current.map(|c| c.arn).unwrap_or_default()
        };
        if plan.trust {
            iam.update_assume_role_policy()
                .role_name(name)
                .policy_document(&trust)
                .send()
                .await
                .map_err(aws::err("UpdateAssumeRolePolicy"))?;
        }
        for policy in &plan.attach {
            iam.attach_role_policy()
                .role_name(name)
                .policy_arn(policy)
                .send()
                .await
                .map_err(aws::err("AttachRolePolicy"))?;
        }
        for policy in &plan.detach {
            iam.detach_role_policy()
                .role_name(name)
                .policy_arn(policy)
                .send()
                .await
                .map_err(aws::err("DetachRolePolicy"))?;
        }
        for policy in &plan.put_inline {
            let doc = self
                .inline_policies
                .get(policy)
                .context("planned an inline policy that is not desired")?;
            iam.put_role_policy()
                .role_name(name)
                .policy_name(policy)
                .policy_document(doc.to_string())
                .send()
                .await
                .map_err(aws::err("PutRolePolicy"))?;
        }
        for policy in &plan.delete_inline {
            iam.delete_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .map_err(aws::err("DeleteRolePolicy"))?;
        }
        if !plan.create && !plan.tags.is_empty() {
            iam.tag_role()
                .role_name(name)
                .set_tags(Some(iam_tags(&plan.tags)?))
                .send()
                .await
                .map_err(aws::err("TagRole"))?;
        }
        Ok(arn)
    }
}

fn short(policy_arn: &str) -> &str {
    policy_arn.rsplit('/').next().unwrap_or(policy_arn)
}

fn iam_tags(map: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    map.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .context("building an IAM tag")
        })
        .collect()
}

/// Detaches and deletes every policy of the role, then the role.
pub async fn remove(ctx: &Ctx<'_>, name: &str) -> Result<Change> {
    let iam = &ctx.aws.iam;
    let Some(state) = read_role(ctx, name).await? else {
        return Ok(Change::Absent);
    };
    // Not-found on the way means a read showed a role (or policy) already deleted.
    for policy in &state.managed_policies {
        match iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(policy)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if aws::is_not_found(&e) => {}
            Err(e) => return Err(aws::describe("DetachRolePolicy", &e)),
        }
    }
    for policy in state.inline_policies.keys() {
        match iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if aws::is_not_found(&e) => {}
            Err(e) => return Err(aws::describe("DeleteRolePolicy", &e)),
        }
    }
    match iam.delete_role().role_name(name).send().await {
        Ok(_) => Ok(Change::Deleted),
        Err(e) if aws::is_not_found(&e) => Ok(Change::Absent),
        Err(e) => Err(aws::describe("DeleteRole", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_policies_parse() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(
            parse_policy(encoded),
            Some(json!({"Version": "2012-10-17"}))
        );
        assert_eq!(parse_policy("{\"a\":1}"), Some(json!({"a": 1})));
    }

    #[test]
    fn single_element_lists_compare_equal() {
        let a = json!({"Statement": [{"Action": "x", "Resource": "r"}]});
        let b = json!({"Statement": {"Action": ["x"], "Resource": ["r"]}});
        assert!(same_policy(&a, &b));
        let c = json!({"Statement": [{"Action": "x", "Resource": "other"}]});
        assert!(!same_policy(&a, &c));
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;

    #[test]
    fn role_plan_fixes_only_what_differs() {
        let aws = crate::aws::Aws::offline();
        let config = mcpctl_stack::Config::default();
        let ctx = Ctx::new(&aws, &config);
        let role = Role::authorizer(&ctx, "arn:aws:secretsmanager:us-east-1:1:secret:x", None);
        let mut current = RoleState {
            arn: "arn:role".into(),
            trust: Some(trust_policy()),
            managed_policies: role.managed_policies.clone(),
            inline_policies: role
                .inline_policies
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
            tags: ctx.tags.clone().into_iter().collect(),
        };
        assert_eq!(role.plan(&ctx, &Some(current.clone())), RolePlan::default());

        // Someone widened the policy to every secret and attached admin: both are undone.
        current.inline_policies.insert(
            READ_SECRET_POLICY.into(),
            Some(json!({"Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}]})),
        );
        current
            .managed_policies
            .insert("arn:aws:iam::aws:policy/AdministratorAccess".into());
        let plan = role.plan(&ctx, &Some(current));
        assert_eq!(plan.put_inline, [READ_SECRET_POLICY]);
        assert_eq!(plan.detach, ["arn:aws:iam::aws:policy/AdministratorAccess"]);
        assert!(plan.attach.is_empty() && !plan.trust && !plan.create);
    }
}
