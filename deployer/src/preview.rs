//! What `mcpctl deploy` would change, changing nothing (`mcpctl plan`, `mcpctl status`). Every
//! part of the stack declaration runs the same read → plan as in deploy, in the same order, with
//! the same desired state; only apply is left out. Ids and ARNs of resources that do not exist
//! yet are predicted from their names (or marked new), so later resources are still compared
//! with what deploy would give them.

use anyhow::Result;
use serde::Serialize;

use crate::artifacts::CodeHashes;
use crate::package::LambdaZip;
use crate::resources::api::{ApiState, HttpApi};
use crate::resources::authorizer::{ApiAuthorizer, AuthorizerState};
use crate::resources::function::{Code, Function, FunctionState};
use crate::resources::iam::{Role, RoleState};
use crate::resources::integration::Integration;
use crate::resources::logs::LogGroup;
use crate::resources::permission::Permission;
use crate::resources::repository::Repository;
use crate::resources::routes::Routes;
use crate::resources::secret::{Secret, SecretState};
use crate::resources::stage::Stage;
use crate::resources::{account_of, Ctx, Resource};
use crate::stack::{Part, STACK};
use crate::steps::Change;

/// Stands in for the id of an API Gateway resource that deploy would create.
const NEW: &str = "(new)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// Deploy deletes it (no longer used).
    Delete,
    None,
    /// Not a resource: what deploy will do (the build).
    Note,
}

#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub resource: String,
    pub action: Action,
    /// For an update: what differs. For a note: the note.
    pub fields: Vec<String>,
}

impl Planned {
    pub fn new(resource: impl Into<String>, change: Change) -> Self {
        let (action, fields) = match change {
            Change::Created => (Action::Create, Vec::new()),
            Change::Updated(fields) => (Action::Update, fields),
            Change::Unchanged | Change::Deleted | Change::Absent => (Action::None, Vec::new()),
            Change::Done(note) => (Action::Note, vec![note]),
        };
        Self {
            resource: resource.into(),
            action,
            fields,
        }
    }

    pub fn is_change(&self) -> bool {
        matches!(
            self.action,
            Action::Create | Action::Update | Action::Delete
        )
    }
}

/// Everything the plan read, for `mcpctl status` to report without reading it again.
pub struct Preview {
    pub changes: Vec<Planned>,
    pub secret: Option<SecretState>,
    pub server: Option<FunctionState>,
    pub authorizer: Option<FunctionState>,
    /// The oauth function (`[auth] mode = "oauth"`).
    pub oauth: Option<FunctionState>,
    pub api: Option<ApiState>,
    pub api_authorizer: Option<AuthorizerState>,
}

/// read → plan, without apply.
async fn preview<R: Resource>(resource: &R, ctx: &Ctx<'_>) -> Result<(Change, R::Current)> {
    let current = resource.read(ctx).await?;
    let change = R::change(&resource.plan(ctx, &current));
    Ok((change, current))
}

/// What deploy would change, given the code it would upload (`None`: built at deploy time, so
/// the code is not compared): each part of the stack declaration in deploy's order.
pub async fn preview_stack(ctx: &Ctx<'_>, code: Option<CodeHashes>) -> Result<Preview> {
    let names = &ctx.names;
    let config = ctx.config;
    let partition = ctx.partition();
    let region = &ctx.aws.region;
    let mut changes = Vec::new();
    if code.is_none() {
        changes.push(Planned::new(
            "code",
            Change::Done(format!(
                "{} built for {} at deploy (pass --prebuilt DIR to compare)",
                config.server.package, config.architecture
            )),
        ));
    }
    let (server_code, authorizer_code, oauth_code) = match code {
        Some((server, authorizer, oauth)) => (Some(server), Some(authorizer), oauth),
        None => (None, None, None),
    };
    let mut p = Preview {
        changes: Vec::new(),
        secret: None,
        server: None,
        authorizer: None,
        oauth: None,
        api: None,
        api_authorizer: None,
    };
    let oauth_name = mcpctl_stack::oauth::function_name(config);
    let oauth_mode = config.auth.mode == mcpctl_stack::config::AuthMode::OAuth;
    let mut signing_arn = format!("{NEW} signing secret");
    let mut oauth_role: Option<(String, Option<RoleState>)> = None;
    let mut oauth_integration_id = NEW.to_string();
    // Ids and ARNs later parts are compared with: read, or predicted from names.
    let mut secret_arn = format!("{NEW} secret");
    let mut account = "000000000000".to_string();
    let mut role_arns = [None, None];
    let mut integration_id = NEW.to_string();
    let mut authorizer_id = NEW.to_string();
    let role_arn = |state: Option<&RoleState>, name: &str, account: &str| {
        state.map_or_else(
            || format!("arn:{partition}:iam::{account}:role/{name}"),
            |r| r.arn.clone(),
        )
    };
    let function_arn = |state: &Option<FunctionState>, name: &str, account: &str| {
        state.as_ref().map_or_else(
            || format!("arn:{partition}:lambda:{region}:{account}:function:{name}"),
            |f| f.arn.clone(),
        )
    };
    for part in STACK {
        if !part.deployed_with(config) {
            continue;
        }
        let label = part.label(ctx);
        let change = match part {
            Part::OAuthSecret => {
                let (change, secret) = preview(&Secret::signing_key(ctx), ctx).await?;
                if let Some(s) = &secret {
                    signing_arn = s.arn.clone();
                }
                change
            }
            Part::OAuthRole => {
                let role = Role::oauth(ctx, &secret_arn, &signing_arn);
                let (change, state) = preview(&role, ctx).await?;
                oauth_role = Some((role.name.clone(), state));
                change
            }
            Part::OAuthLogGroup => {
                preview(
                    &LogGroup::of_function(ctx, &oauth_name, config.authorizer.log_retention_days)?,
                    ctx,
                )
                .await?
                .0
            }
            Part::OAuthFunction => {
                let role = oauth_role
                    .as_ref()
                    .map(|(name, state)| role_arn(state.as_ref(), name, &account))
                    .unwrap_or_default();
                let function =
                    Function::oauth(ctx, role, &secret_arn, &signing_arn, LambdaZip::empty())?;
                let (change, state) = preview_function(ctx, function, oauth_code.clone()).await?;
                p.oauth = state;
                change
            }
            Part::OAuthIntegration if p.api.is_none() => Change::Created,
            Part::OAuthIntegration => {
                let integration = Integration {
                    api_id: api_id(&p),
                    function_arn: function_arn(&p.oauth, &oauth_name, &account),
                    reuse_other: false,
                };
                let (change, current) = preview(&integration, ctx).await?;
                if let Some(i) = current {
                    oauth_integration_id = i.id;
                }
                change
            }
            Part::OAuthPermission if p.oauth.is_none() => Change::Created,
            Part::OAuthPermission => {
                let arn = function_arn(&p.oauth, &oauth_name, &account);
                preview(&Permission::oauth(ctx, &arn, &api_id(&p)), ctx)
                    .await?
                    .0
            }
            Part::Secret => {
                let (change, secret) = preview(&Secret::api_key(ctx), ctx).await?;
                // A new secret's ARN ends in a random suffix nobody can predict.
                if let Some(s) = &secret {
                    secret_arn = s.arn.clone();
                    account = account_of(&s.arn).unwrap_or(&account).to_string();
                }
                p.secret = secret;
                change
            }
            Part::ServerRole | Part::AuthorizerRole => {
                let (role, at) = if part == Part::ServerRole {
                    (Role::server(ctx), 0)
                } else {
                    let signing = oauth_mode.then_some(signing_arn.as_str());
                    (Role::authorizer(ctx, &secret_arn, signing), 1)
                };
                let (change, state) = preview(&role, ctx).await?;
                // Role and function ARNs are fixed by name and account, so a resource deploy
                // would create still gets compared with the ARN it will have.
                if let Some(arn) = state.as_ref().and_then(|r| account_of(&r.arn)) {
                    account = arn.to_string();
                }
                role_arns[at] = Some((role.name.clone(), state));
                change
            }
            Part::ServerLogGroup | Part::AuthorizerLogGroup => {
                let (function, days) = if part == Part::ServerLogGroup {
                    (names.server_function(), config.server.log_retention_days)
                } else {
                    (
                        names.authorizer_function(),
                        config.authorizer.log_retention_days,
                    )
                };
                preview(&LogGroup::of_function(ctx, &function, days)?, ctx)
                    .await?
                    .0
            }
            Part::Repository => {
                let tag = server_code.as_deref().map(crate::resources::image::tag_of);
                preview(&Repository::new(ctx, &account, tag), ctx).await?.0
            }
            Part::Image => match &server_code {
                Some(_) => Change::Done("pushed at deploy if new".into()),
                None => Change::Done("built and pushed at deploy".into()),
            },
            Part::ServerFunction | Part::AuthorizerFunction => {
                let at = usize::from(part == Part::AuthorizerFunction);
                let role = role_arns[at]
                    .as_ref()
                    .map(|(name, state)| role_arn(state.as_ref(), name, &account))
                    .unwrap_or_default();
                let (function, code) = if part == Part::ServerFunction {
                    (
                        Function::server(ctx, role, Code::unknown(config.package))?,
                        server_code.clone(),
                    )
                } else {
                    (
                        Function::authorizer(
                            ctx,
                            role,
                            &secret_arn,
                            oauth_mode.then_some(signing_arn.as_str()),
                            LambdaZip::empty(),
                        )?,
                        authorizer_code.clone(),
                    )
                };
                let (change, state) = preview_function(ctx, function, code).await?;
                if part == Part::ServerFunction {
                    p.server = state;
                } else {
                    p.authorizer = state;
                }
                change
            }
            Part::HttpApi => {
                let (change, api) = preview(&HttpApi::new(ctx), ctx).await?;
                p.api = api;
                change
            }
            // Nothing hangs off an API that does not exist yet: deploy creates all of it.
            Part::Integration | Part::Authorizer | Part::Routes | Part::Stage
                if p.api.is_none() =>
            {
                Change::Created
            }
            Part::Integration => {
                let integration = Integration {
                    api_id: api_id(&p),
                    function_arn: function_arn(&p.server, &names.server_function(), &account),
                    reuse_other: true,
                };
                let (change, current) = preview(&integration, ctx).await?;
                if let Some(i) = current {
                    integration_id = i.id;
                }
                change
            }
            Part::Authorizer => {
                let authorizer_arn =
                    function_arn(&p.authorizer, &names.authorizer_function(), &account);
                let authorizer = ApiAuthorizer::new(ctx, &api_id(&p), &authorizer_arn);
                let (change, current) = preview(&authorizer, ctx).await?;
                if let Some(a) = &current {
                    authorizer_id = a.id.clone();
                }
                p.api_authorizer = current;
                change
            }
            Part::Routes => {
                let routes = Routes {
                    api_id: api_id(&p),
                    integration_id: integration_id.clone(),
                    authorizer_id: authorizer_id.clone(),
                    oauth_integration_id: oauth_mode.then(|| oauth_integration_id.clone()),
                };
                preview(&routes, ctx).await?.0
            }
            Part::Stage => preview(&Stage::new(ctx, &api_id(&p)), ctx).await?.0,
            // A function that does not exist yet has no permissions.
            Part::ServerPermission if p.server.is_none() => Change::Created,
            Part::AuthorizerPermission if p.authorizer.is_none() => Change::Created,
            Part::ServerPermission => {
                let arn = function_arn(&p.server, &names.server_function(), &account);
                preview(&Permission::server(ctx, &arn, &api_id(&p)), ctx)
                    .await?
                    .0
            }
            Part::AuthorizerPermission => {
                let arn = function_arn(&p.authorizer, &names.authorizer_function(), &account);
                let permission = Permission::authorizer(ctx, &arn, &api_id(&p), &authorizer_id);
                preview(&permission, ctx).await?.0
            }
        };
        changes.push(Planned::new(label, change));
    }
    // What deploy removes because this configuration does not use it.
    for part in STACK
        .iter()
        .rev()
        .filter(|p| !p.deployed_with(config) && p.retired_alone())
    {
        if !part.left(ctx, &[]).await?.is_empty() {
            changes.push(Planned {
                resource: part.label(ctx),
                action: Action::Delete,
                fields: vec![part.unused_because(config)],
            });
        }
    }
    p.changes = changes;
    Ok(p)
}

/// The API's id, or [`NEW`] when deploy would create it.
fn api_id(p: &Preview) -> String {
    p.api
        .as_ref()
        .map_or_else(|| NEW.to_string(), |a| a.id.clone())
}

/// Without the code deploy would upload, the function is compared as if its code were the
/// deployed one.
async fn preview_function(
    ctx: &Ctx<'_>,
    mut function: Function,
    code_sha256: Option<String>,
) -> Result<(Change, Option<FunctionState>)> {
    let current = function.read(ctx).await?;
    function
        .code
        .set_code_sha256(match (code_sha256, &current) {
            (Some(sha), _) => sha,
            (None, Some(cur)) => cur.code_sha256.clone(),
            (None, None) => String::new(),
        });
    let change = Function::change(&function.plan(ctx, &current));
    Ok((change, current))
}

/// One line per resource: `+` create, `~` update (with the fields), blank unchanged.
pub fn render(changes: &[Planned]) -> String {
    let width = changes.iter().map(|c| c.resource.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in changes {
        let (mark, what) = match c.action {
            Action::Create => ("+", "create".to_string()),
            Action::Update => ("~", format!("update ({})", c.fields.join(", "))),
            Action::Delete => ("-", format!("delete ({})", c.fields.join(", "))),
            Action::None => (" ", "no change".to_string()),
            Action::Note => ("=", c.fields.join(", ")),
        };
        out.push_str(&format!("  {mark} {:<width$}  {what}\n", c.resource));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_map_to_actions_and_render_with_marks() {
        let planned = vec![
            Planned::new("secret s/api-key", Change::Created),
            Planned::new("function s-server", Change::Updated(vec!["memory".into()])),
            Planned::new("role r", Change::Unchanged),
            Planned::new("code", Change::Done("built at deploy".into())),
        ];
        assert_eq!(
            planned.iter().map(|p| p.action).collect::<Vec<_>>(),
            [Action::Create, Action::Update, Action::None, Action::Note]
        );
        assert_eq!(planned.iter().filter(|p| p.is_change()).count(), 2);
        let text = render(&planned);
        assert!(text.contains("+ secret s/api-key   create"), "{text}");
        assert!(
            text.contains("~ function s-server  update (memory)"),
            "{text}"
        );
        assert!(text.contains("= code"), "{text}");
    }

    #[test]
    fn account_comes_from_the_arn() {
        assert_eq!(
            account_of("arn:aws:iam::123456789012:role/x"),
            Some("123456789012")
        );
        assert_eq!(account_of("(new) secret"), None);
    }
}
