//! `mcpctl plan`: what `mcpctl deploy` would change, changing nothing. Every resource runs the
//! same read → plan as in deploy, in the same order, with the same desired state; only apply is
//! left out. Ids and ARNs of resources that do not exist yet are predicted from their names (or
//! marked new), so later resources are still compared with what deploy would give them.

use std::path::PathBuf;

use anyhow::Result;
use mcpctl_stack::config::Package;
use serde::Serialize;
use serde_json::json;

use crate::aws::Aws;
use crate::build::{self, PREBUILT_ENV};
use crate::package::LambdaZip;
use crate::resources::api::{ApiState, HttpApi};
use crate::resources::authorizer::{ApiAuthorizer, AuthorizerState};
use crate::resources::function::{Code, Function, FunctionState};
use crate::resources::iam::Role;
use crate::resources::integration::Integration;
use crate::resources::logs::LogGroup;
use crate::resources::permission::Permission;
use crate::resources::repository::Repository;
use crate::resources::routes::Routes;
use crate::resources::secret::{Secret, SecretState};
use crate::resources::stage::Stage;
use crate::resources::{account_of, Ctx, Resource};
use crate::steps::Change;
use crate::{Cli, Output};

/// Stands in for the id of an API Gateway resource that deploy would create.
const NEW: &str = "(new)";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Compare the code too: zip `mcpctl-server` and `mcpctl-authorizer` from DIR and compare
    /// their hashes with the deployed ones (otherwise the code is built at deploy time).
    #[arg(long, value_name = "DIR", env = PREBUILT_ENV)]
    pub prebuilt: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
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
    fn new(resource: impl Into<String>, change: Change) -> Self {
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
        matches!(self.action, Action::Create | Action::Update)
    }
}

/// Everything the plan read, for `mcpctl status` to report without reading it again.
pub struct Preview {
    pub changes: Vec<Planned>,
    pub secret: Option<SecretState>,
    pub server: Option<FunctionState>,
    pub authorizer: Option<FunctionState>,
    pub api: Option<ApiState>,
    pub api_authorizer: Option<AuthorizerState>,
}

/// read → plan, without apply.
async fn preview<R: Resource>(resource: &R, ctx: &Ctx<'_>) -> Result<(Change, R::Current)> {
    let current = resource.read(ctx).await?;
    let change = R::change(&resource.plan(ctx, &current));
    Ok((change, current))
}

/// The `CodeSha256` each function would get: the server's, the authorizer's.
pub type CodeHashes = (String, String);

/// What deploy would change, given the code it would upload (`None`: built at deploy time, so
/// the code is not compared).
pub async fn preview_stack(ctx: &Ctx<'_>, code: Option<CodeHashes>) -> Result<Preview> {
    let names = &ctx.names;
    let partition = ctx.partition();
    let region = &ctx.aws.region;
    let mut changes = Vec::new();

    let (change, secret) = preview(&Secret, ctx).await?;
    changes.push(Planned::new(format!("secret {}", names.secret()), change));
    // A new secret's ARN ends in a random suffix nobody can predict.
    let secret_arn = secret
        .as_ref()
        .map_or_else(|| format!("{NEW} secret"), |s| s.arn.clone());

    let server_role = Role::server(ctx);
    let (change, server_role_state) = preview(&server_role, ctx).await?;
    changes.push(Planned::new(format!("role {}", server_role.name), change));
    let authorizer_role = Role::authorizer(ctx, &secret_arn);
    let (change, authorizer_role_state) = preview(&authorizer_role, ctx).await?;
    changes.push(Planned::new(
        format!("role {}", authorizer_role.name),
        change,
    ));

    // Role and function ARNs are fixed by name and account, so a resource deploy would create
    // still gets compared with the ARN it will have.
    let account = [
        secret.as_ref().map(|s| s.arn.as_str()),
        server_role_state.as_ref().map(|r| r.arn.as_str()),
        authorizer_role_state.as_ref().map(|r| r.arn.as_str()),
    ]
    .into_iter()
    .flatten()
    .find_map(account_of)
    .unwrap_or("000000000000")
    .to_string();
    let role_arn = |state: Option<&crate::resources::iam::RoleState>, name: &str| {
        state.map_or_else(
            || format!("arn:{partition}:iam::{account}:role/{name}"),
            |r| r.arn.clone(),
        )
    };
    let server_role_arn = role_arn(server_role_state.as_ref(), &server_role.name);
    let authorizer_role_arn = role_arn(authorizer_role_state.as_ref(), &authorizer_role.name);

    let compare_code = code.is_some();
    if !compare_code {
        changes.push(Planned::new(
            "code",
            Change::Done("built at deploy (pass --prebuilt DIR to compare)".into()),
        ));
    }

    for (function, days) in [
        (
            names.server_function(),
            ctx.config.server.log_retention_days,
        ),
        (
            names.authorizer_function(),
            ctx.config.authorizer.log_retention_days,
        ),
    ] {
        let group = LogGroup::of_function(ctx, &function, days)?;
        let (change, _) = preview(&group, ctx).await?;
        changes.push(Planned::new(format!("log group {}", group.name), change));
    }

    if ctx.config.package == Package::Image {
        let repository = Repository::new(ctx, &account);
        let (change, _) = preview(&repository, ctx).await?;
        changes.push(Planned::new(
            format!("repository {}", repository.name),
            change,
        ));
    }

    let (server_code, authorizer_code) = match code {
        Some(pair) => (Some(pair.0), Some(pair.1)),
        None => (None, None),
    };
    let (change, server) = preview_function(
        ctx,
        Function::server(ctx, server_role_arn, Code::unknown(ctx.config.package))?,
        server_code,
    )
    .await?;
    changes.push(Planned::new(
        format!("function {}", names.server_function()),
        change,
    ));
    let (change, authorizer) = preview_function(
        ctx,
        Function::authorizer(ctx, authorizer_role_arn, &secret_arn, LambdaZip::empty())?,
        authorizer_code,
    )
    .await?;
    changes.push(Planned::new(
        format!("function {}", names.authorizer_function()),
        change,
    ));
    let function_arn = |state: &Option<FunctionState>, name: &str| {
        state.as_ref().map_or_else(
            || format!("arn:{partition}:lambda:{region}:{account}:function:{name}"),
            |f| f.arn.clone(),
        )
    };
    let server_arn = function_arn(&server, &names.server_function());
    let authorizer_arn = function_arn(&authorizer, &names.authorizer_function());

    let (change, api) = preview(&HttpApi::new(ctx), ctx).await?;
    changes.push(Planned::new(format!("http api {}", names.api()), change));
    let mut api_authorizer = None;
    let api_id = match &api {
        Some(a) => {
            let integration = Integration {
                api_id: a.id.clone(),
                function_arn: server_arn.clone(),
            };
            let (change, current) = preview(&integration, ctx).await?;
            changes.push(Planned::new("integration (AWS_PROXY, payload 2.0)", change));
            let integration_id = current.map_or_else(|| NEW.to_string(), |i| i.id);

            let authorizer = ApiAuthorizer::new(ctx, &a.id, &authorizer_arn);
            let (change, current) = preview(&authorizer, ctx).await?;
            changes.push(Planned::new(
                format!("authorizer {}", authorizer.name),
                change,
            ));
            let authorizer_id = current
                .as_ref()
                .map_or_else(|| NEW.to_string(), |c| c.id.clone());
            api_authorizer = current;

            let routes = Routes {
                api_id: a.id.clone(),
                integration_id,
                authorizer_id,
            };
            let (change, _) = preview(&routes, ctx).await?;
            changes.push(Planned::new("routes", change));
            let stage = Stage::new(ctx, &a.id);
            let (change, _) = preview(&stage, ctx).await?;
            changes.push(Planned::new(format!("stage {}", stage.name), change));
            a.id.clone()
        }
        None => {
            // Nothing hangs off an API that does not exist yet: deploy creates all of it.
            changes.push(Planned::new(
                "integration (AWS_PROXY, payload 2.0)",
                Change::Created,
            ));
            changes.push(Planned::new(
                format!("authorizer {}", names.authorizer()),
                Change::Created,
            ));
            changes.push(Planned::new("routes", Change::Created));
            changes.push(Planned::new(
                format!("stage {}", ctx.config.api.stage),
                Change::Created,
            ));
            NEW.to_string()
        }
    };
    let authorizer_id = api_authorizer.as_ref().map_or(NEW, |a| a.id.as_str());
    for (function, exists, permission) in [
        (
            names.server_function(),
            server.is_some(),
            Permission::server(ctx, &server_arn, &api_id),
        ),
        (
            names.authorizer_function(),
            authorizer.is_some(),
            Permission::authorizer(ctx, &authorizer_arn, &api_id, authorizer_id),
        ),
    ] {
        let change = if exists {
            preview(&permission, ctx).await?.0
        } else {
            Change::Created
        };
        changes.push(Planned::new(format!("permission {function}"), change));
    }

    Ok(Preview {
        changes,
        secret,
        server,
        authorizer,
        api,
        api_authorizer,
    })
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

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    let code = match &args.prebuilt {
        Some(dir) => Some(super::deploy::code_hashes(&config, &build::prebuilt(dir)?)?),
        None => None,
    };
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let preview = preview_stack(&ctx, code).await?;
    let changes = &preview.changes;
    let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
    match cli.output {
        Output::Json => super::print_json(&json!({
            "stack": config.name,
            "region": config.region,
            "changes": changes,
            "to_create": count(Action::Create),
            "to_update": count(Action::Update),
            "unchanged": count(Action::None),
            "mutating_calls": aws.calls.mutating_count(),
            "api_calls": aws.calls.total(),
        }))?,
        Output::Text => {
            println!(
                "Plan for stack {} in {} (nothing was changed):",
                config.name, config.region
            );
            print!("{}", render(changes));
            if changes.iter().any(Planned::is_change) {
                println!(
                    "{} to create, {} to update, {} unchanged. Apply with `mcpctl deploy`.",
                    count(Action::Create),
                    count(Action::Update),
                    count(Action::None)
                );
            } else {
                println!(
                    "Nothing to change: the stack matches {}.",
                    cli.config.display()
                );
            }
        }
    }
    Ok(())
}

/// One line per resource: `+` create, `~` update (with the fields), blank unchanged.
pub fn render(changes: &[Planned]) -> String {
    let width = changes.iter().map(|c| c.resource.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in changes {
        let (mark, what) = match c.action {
            Action::Create => ("+", "create".to_string()),
            Action::Update => ("~", format!("update ({})", c.fields.join(", "))),
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
