//! `mcpctl deploy`: converge every resource of the stack, in dependency order, each step
//! read → plan → apply. A second run with nothing changed makes no mutating call.

use std::path::PathBuf;

use anyhow::Result;

use serde_json::json;

use crate::artifacts::{oauth_zip, package_both, ServerPackage};
use crate::aws::Aws;
use crate::build::{self, PREBUILT_ENV};
use crate::lock;
use crate::package::LambdaZip;
use crate::platform::Platform;
use crate::resources::api::{ApiInfo, HttpApi};
use crate::resources::authorizer::ApiAuthorizer;
use crate::resources::function::{Code, Function};
use crate::resources::iam::Role;
use crate::resources::image::{self, Image};
use crate::resources::integration::Integration;
use crate::resources::logs::LogGroup;
use crate::resources::permission::Permission;
use crate::resources::repository::Repository;
use crate::resources::routes::Routes;
use crate::resources::secret::{self, Secret};
use crate::resources::stage::Stage;
use crate::resources::{account_of, converge, Ctx};
use crate::stack::{Part, STACK};
use crate::steps::{Change, Steps};
use crate::{Cli, Output};
use mcpctl_stack::config::AuthMode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub lock_timeout: lock::LockTimeout,
    /// Print the API key (otherwise only how to get it).
    #[arg(long)]
    pub show_key: bool,
    /// Skip the build: take the server's binary (named as deploy.toml's `[server] package`,
    /// `mcpctl-server` by default) and `mcpctl-authorizer` from DIR (still checked for
    /// deploy.toml's `architecture` and glibc <= 2.34); with `[auth] mode = "oauth"` also
    /// `mcpctl-oauth`.
    #[arg(long, value_name = "DIR", env = PREBUILT_ENV)]
    pub prebuilt: Option<PathBuf>,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    crate::stack::check_supported(&config)?;
    let platform = Platform::of(config.architecture);
    let oauth = config.auth.mode == AuthMode::OAuth;
    // Bad prebuilt binaries fail before anything in AWS is touched.
    let prebuilt = args
        .prebuilt
        .as_deref()
        .map(|dir| build::prebuilt_for(dir, &config, platform))
        .transpose()?;
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let names = &ctx.names;
    let mut steps = Steps::new(cli.output, aws.calls.clone())?;
    let project_dir = cli
        .config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    // The build runs before the lock is taken: a cold release build takes minutes, and
    // nothing in AWS is touched until it succeeds.
    let binaries = steps
        .run("build", async {
            let how = if prebuilt.is_some() {
                "prebuilt"
            } else {
                "built"
            };
            let b = match prebuilt {
                Some(b) => b,
                None => {
                    build::zigbuild_for(&project_dir, &config.server.package, oauth, platform)
                        .await?
                }
            };
            Ok((Change::Done(b.describe(how)), b))
        })
        .await?;
    let (packages, oauth_package) = steps
        .run("package", async {
            let (change, both) = package_both(config.package, &binaries)?;
            let oauth = oauth_zip(&binaries)?;
            let change = match (change, &oauth) {
                (Change::Done(what), Some(zip)) => {
                    Change::Done(format!("{what} + oauth zip {} KiB", zip.bytes.len() / 1024))
                }
                (change, _) => change,
            };
            Ok((change, (both, oauth)))
        })
        .await?;
    if let Some(dir) = std::env::var_os(KEEP_PACKAGES_ENV) {
        keep_packages(
            std::path::Path::new(&dir),
            &packages,
            oauth_package.as_ref(),
        )?;
    }
    let Deployed { api, image } = lock::while_locked(
        &ctx,
        "deploy",
        args.lock_timeout.wait(),
        converge_stack(&ctx, &mut steps, packages, oauth_package),
    )
    .await?;

    let endpoint = super::endpoint_url(&api.endpoint, &config.api.stage);
    let key = if args.show_key {
        secret::key(&ctx, "AWSCURRENT").await?
    } else {
        None
    };
    let get_key = format!(
        "mcpctl deploy --show-key, or aws secretsmanager get-secret-value --secret-id {} --query SecretString --output text",
        names.secret()
    );
    match cli.output {
        Output::Json => super::print_json(&json!({
            "stack": config.name,
            "region": config.region,
            "architecture": config.architecture.as_str(),
            "server_package": config.server.package,
            "endpoint": endpoint,
            "image": image,
            "secret_id": names.secret(),
            "api_key": key,
            "resources": steps.records,
            "mutating_calls": aws.calls.mutating_count(),
            "api_calls": aws.calls.total(),
            "lock_calls": aws.lock_calls.total(),
            "elapsed_ms": steps.elapsed().as_millis(),
        }))?,
        Output::Text => {
            steps.note(&format!(
                "deployed {} in {:.1}s ({} changes)",
                config.name,
                steps.elapsed().as_secs_f64(),
                aws.calls.mutating_count()
            ));
            println!("Endpoint: {endpoint}");
            if let Some(image) = &image {
                println!("Image:    {image}");
            }
            match key {
                Some(k) => println!("API key:  {k}"),
                None => println!("API key:  {get_key}"),
            }
            let stage = cli
                .stage
                .as_deref()
                .map(|s| format!(" --stage {s}"))
                .unwrap_or_default();
            println!("Try it:   mcpctl{stage} invoke tools/list");
        }
    }
    Ok(())
}

/// Testing knob: a directory where deploy leaves a copy of the zips it uploads
/// (`server.zip`, `authorizer.zip`), so a test can look inside what AWS received (its
/// `CodeSha256` ties the copy to the upload).
const KEEP_PACKAGES_ENV: &str = "MCPCTL_KEEP_PACKAGES";

fn keep_packages(
    dir: &std::path::Path,
    (server, authorizer): &(ServerPackage, LambdaZip),
    oauth: Option<&LambdaZip>,
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    if let ServerPackage::Zip(zip) = server {
        std::fs::write(dir.join("server.zip"), &zip.bytes)?;
    }
    std::fs::write(dir.join("authorizer.zip"), &authorizer.bytes)?;
    if let Some(zip) = oauth {
        std::fs::write(dir.join("oauth.zip"), &zip.bytes)?;
    }
    Ok(())
}

/// What the output names: the HTTP API, and the image the server runs (`package = "image"`).
struct Deployed {
    api: ApiInfo,
    image: Option<String>,
}

/// Each part of the stack declaration in order, read → plan → apply; returns the HTTP API and
/// the image the server runs, if any.
async fn converge_stack(
    ctx: &Ctx<'_>,
    steps: &mut Steps,
    (server_package, authorizer_zip): (ServerPackage, LambdaZip),
    oauth_zip: Option<LambdaZip>,
) -> Result<Deployed> {
    let config = ctx.config;
    let mut server_package = Some(server_package);
    let mut authorizer_zip = Some(authorizer_zip);
    let mut oauth_zip = oauth_zip;
    let mut out = Outputs::default();
    for part in STACK {
        if !part.deployed_with(config) {
            continue;
        }
        let label = part.label(ctx);
        match part {
            Part::Secret => {
                let secret = Secret::api_key(ctx);
                out.secret_arn = Some(steps.run(label, converge(&secret, ctx)).await?)
            }
            Part::OAuthSecret => {
                let secret = Secret::signing_key(ctx);
                out.signing_arn = Some(steps.run(label, converge(&secret, ctx)).await?)
            }
            Part::OAuthRole => {
                let role = Role::oauth(ctx, need(&out.secret_arn)?, need(&out.signing_arn)?);
                out.oauth_role = Some(steps.run(label, converge(&role, ctx)).await?)
            }
            Part::OAuthLogGroup => {
                let group = LogGroup::of_function(
                    ctx,
                    &mcpctl_stack::oauth::function_name(config),
                    config.authorizer.log_retention_days,
                )?;
                steps.run(label, converge(&group, ctx)).await?
            }
            Part::OAuthFunction => {
                let zip = oauth_zip
                    .take()
                    .ok_or_else(|| anyhow::anyhow!("the oauth function was not packaged"))?;
                let function = Function::oauth(
                    ctx,
                    need(&out.oauth_role)?.clone(),
                    need(&out.secret_arn)?,
                    need(&out.signing_arn)?,
                    zip,
                )?;
                out.oauth_arn = Some(steps.run(label, converge(&function, ctx)).await?)
            }
            Part::OAuthIntegration => {
                let integration = Integration {
                    api_id: need(&out.api)?.id.clone(),
                    function_arn: need(&out.oauth_arn)?.clone(),
                    reuse_other: false,
                };
                out.oauth_integration_id =
                    Some(steps.run(label, converge(&integration, ctx)).await?)
            }
            Part::OAuthPermission => {
                let permission = Permission::oauth(ctx, need(&out.oauth_arn)?, &need(&out.api)?.id);
                steps.run(label, converge(&permission, ctx)).await?
            }
            Part::ServerRole => {
                out.server_role = Some(steps.run(label, converge(&Role::server(ctx), ctx)).await?)
            }
            Part::AuthorizerRole => {
                let role =
                    Role::authorizer(ctx, need(&out.secret_arn)?, out.signing_arn.as_deref());
                out.authorizer_role = Some(steps.run(label, converge(&role, ctx)).await?)
            }
            Part::ServerLogGroup | Part::AuthorizerLogGroup => {
                let (function, days) = if part == Part::ServerLogGroup {
                    (
                        ctx.names.server_function(),
                        config.server.log_retention_days,
                    )
                } else {
                    (
                        ctx.names.authorizer_function(),
                        config.authorizer.log_retention_days,
                    )
                };
                let group = LogGroup::of_function(ctx, &function, days)?;
                steps.run(label, converge(&group, ctx)).await?
            }
            Part::Repository => {
                let account = account_of(need(&out.server_role)?).unwrap_or_default();
                let deployed_tag = match &server_package {
                    Some(ServerPackage::Image(image)) => Some(image::tag_of(&image.digest())),
                    _ => None,
                };
                let repository = Repository::new(ctx, account, deployed_tag);
                out.repository_uri = Some(steps.run(label, converge(&repository, ctx)).await?)
            }
            Part::Image => {
                let Some(ServerPackage::Image(image)) = &server_package else {
                    anyhow::bail!("the server was not packaged as an image");
                };
                let push = Image {
                    repository: ctx.names.ecr_repository(),
                    repository_uri: need(&out.repository_uri)?.clone(),
                    image,
                };
                let uri = steps
                    .run(format!("{label}:{}", push.tag()), converge(&push, ctx))
                    .await?;
                out.image = Some((uri, image.digest()));
            }
            Part::ServerFunction => {
                let code = match server_package.take() {
                    Some(ServerPackage::Zip(zip)) => Code::zip(zip),
                    Some(ServerPackage::Image(_)) => {
                        let (uri, digest) = need(&out.image)?;
                        Code::image(uri.clone(), digest)
                    }
                    None => anyhow::bail!("the server package was used twice"),
                };
                let server = Function::server(ctx, need(&out.server_role)?.clone(), code)?;
                out.server_arn = Some(steps.run(label, converge(&server, ctx)).await?)
            }
            Part::AuthorizerFunction => {
                let zip = authorizer_zip
                    .take()
                    .ok_or_else(|| anyhow::anyhow!("the authorizer package was used twice"))?;
                let authorizer = Function::authorizer(
                    ctx,
                    need(&out.authorizer_role)?.clone(),
                    need(&out.secret_arn)?,
                    out.signing_arn.as_deref(),
                    zip,
                )?;
                out.authorizer_arn = Some(steps.run(label, converge(&authorizer, ctx)).await?)
            }
            Part::HttpApi => {
                out.api = Some(steps.run(label, converge(&HttpApi::new(ctx), ctx)).await?)
            }
            Part::Integration => {
                let integration = Integration {
                    api_id: need(&out.api)?.id.clone(),
                    function_arn: need(&out.server_arn)?.clone(),
                    reuse_other: true,
                };
                out.integration_id = Some(steps.run(label, converge(&integration, ctx)).await?)
            }
            Part::Authorizer => {
                let authorizer =
                    ApiAuthorizer::new(ctx, &need(&out.api)?.id, need(&out.authorizer_arn)?);
                out.authorizer_id = Some(steps.run(label, converge(&authorizer, ctx)).await?)
            }
            Part::Routes => {
                let routes = Routes {
                    api_id: need(&out.api)?.id.clone(),
                    integration_id: need(&out.integration_id)?.clone(),
                    authorizer_id: need(&out.authorizer_id)?.clone(),
                    oauth_integration_id: out.oauth_integration_id.clone(),
                };
                steps.run(label, converge(&routes, ctx)).await?
            }
            Part::Stage => {
                let stage = Stage::new(ctx, &need(&out.api)?.id);
                steps.run(label, converge(&stage, ctx)).await?
            }
            Part::ServerPermission => {
                let permission =
                    Permission::server(ctx, need(&out.server_arn)?, &need(&out.api)?.id);
                steps.run(label, converge(&permission, ctx)).await?
            }
            Part::AuthorizerPermission => {
                let permission = Permission::authorizer(
                    ctx,
                    need(&out.authorizer_arn)?,
                    &need(&out.api)?.id,
                    need(&out.authorizer_id)?,
                );
                steps.run(label, converge(&permission, ctx)).await?
            }
        }
    }
    // Parts this configuration does not use (the image repository of a stack switched to zip,
    // the authorization server of one back in api-key mode) go, now that nothing runs from
    // them and no route leads to them; reads only when there is nothing to remove.
    // Backwards, as destroy: the integration before its function, a function before its role.
    for part in STACK
        .iter()
        .rev()
        .filter(|p| !p.deployed_with(config) && p.retired_alone())
    {
        if !part.left(ctx, &[]).await?.is_empty() {
            steps
                .run(part.label(ctx), async {
                    Ok((part.remove(ctx, false).await?, ()))
                })
                .await?;
        }
    }
    Ok(Deployed {
        api: need(&out.api)?.clone(),
        image: out.image.map(|(uri, _)| uri),
    })
}

/// What earlier parts gave the later ones.
#[derive(Default)]
struct Outputs {
    secret_arn: Option<String>,
    server_role: Option<String>,
    authorizer_role: Option<String>,
    repository_uri: Option<String>,
    /// The image URI and its digest.
    image: Option<(String, String)>,
    server_arn: Option<String>,
    authorizer_arn: Option<String>,
    api: Option<ApiInfo>,
    integration_id: Option<String>,
    authorizer_id: Option<String>,
    /// `[auth] mode = "oauth"` only.
    signing_arn: Option<String>,
    oauth_role: Option<String>,
    oauth_arn: Option<String>,
    oauth_integration_id: Option<String>,
}

/// The output of a part declared earlier in [`STACK`].
fn need<T>(value: &Option<T>) -> Result<&T> {
    value
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the stack declaration is out of order"))
}
