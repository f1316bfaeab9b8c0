//! `mcpctl deploy`: converge every resource of the stack, in dependency order, each step
//! read → plan → apply. A second run with nothing changed makes no mutating call.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mcpctl_stack::config::Package;
use mcpctl_stack::Config;

use super::plan::CodeHashes;
use serde_json::json;

use crate::aws::Aws;
use crate::build::{self, Binaries, PREBUILT_ENV};
use crate::image::{self, OciImage};
use crate::lock;
use crate::package::{self, LambdaZip};
use crate::resources::api::{ApiInfo, HttpApi};
use crate::resources::authorizer::ApiAuthorizer;
use crate::resources::function::{Code, Function};
use crate::resources::iam::Role;
use crate::resources::image::Image;
use crate::resources::integration::Integration;
use crate::resources::logs::LogGroup;
use crate::resources::permission::Permission;
use crate::resources::repository::Repository;
use crate::resources::routes::Routes;
use crate::resources::secret::{self, Secret};
use crate::resources::stage::Stage;
use crate::resources::{account_of, converge, Ctx};
use crate::steps::{Change, Steps};
use crate::{Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub lock_timeout: lock::LockTimeout,
    /// Print the API key (otherwise only how to get it).
    #[arg(long)]
    pub show_key: bool,
    /// Skip the build: take `mcpctl-server` and `mcpctl-authorizer` from DIR (still checked for
    /// x86_64 and glibc <= 2.34).
    #[arg(long, value_name = "DIR", env = PREBUILT_ENV)]
    pub prebuilt: Option<PathBuf>,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    // Bad prebuilt binaries fail before anything in AWS is touched.
    let prebuilt = args.prebuilt.as_deref().map(build::prebuilt).transpose()?;
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
    let Deployed { api, image } = lock::while_locked(
        &ctx,
        "deploy",
        args.lock_timeout.wait(),
        converge_stack(&ctx, &mut steps, prebuilt, &project_dir),
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

/// What the output names: the HTTP API, and the image the server runs (`package = "image"`).
struct Deployed {
    api: ApiInfo,
    image: Option<String>,
}

/// Every resource in dependency order, each read → plan → apply; returns the HTTP API and
/// the image the server runs, if any.
async fn converge_stack(
    ctx: &Ctx<'_>,
    steps: &mut Steps,
    prebuilt: Option<Binaries>,
    project_dir: &Path,
) -> Result<Deployed> {
    let names = &ctx.names;
    let config = ctx.config;
    let secret_arn = steps
        .run(format!("secret {}", names.secret()), converge(&Secret, ctx))
        .await?;
    let server_role = steps
        .run(
            format!("role {}", names.server_role()),
            converge(&Role::server(ctx), ctx),
        )
        .await?;
    let authorizer_role = steps
        .run(
            format!("role {}", names.authorizer_role()),
            converge(&Role::authorizer(ctx, &secret_arn), ctx),
        )
        .await?;

    let binaries = steps
        .run("build", async {
            let how = if prebuilt.is_some() {
                "prebuilt"
            } else {
                "built"
            };
            let b = match prebuilt {
                Some(b) => b,
                None => build::zigbuild(project_dir).await?,
            };
            let glibc = b.newest_glibc.as_deref().unwrap_or("no glibc");
            Ok((Change::Done(format!("{how}, needs {glibc}")), b))
        })
        .await?;
    let (server_package, authorizer_zip) = steps
        .run("package", async { package_both(config.package, &binaries) })
        .await?;

    let server_fn = names.server_function();
    let authorizer_fn = names.authorizer_function();
    for (function, days) in [
        (&server_fn, config.server.log_retention_days),
        (&authorizer_fn, config.authorizer.log_retention_days),
    ] {
        let group = LogGroup::of_function(ctx, function, days)?;
        steps
            .run(format!("log group {}", group.name), converge(&group, ctx))
            .await?;
    }

    let mut image_uri = None;
    let server_code = match server_package {
        ServerPackage::Zip(zip) => Code::zip(zip),
        ServerPackage::Image(image) => {
            let account = account_of(&server_role).unwrap_or_default().to_string();
            let repository = Repository::new(ctx, &account);
            let repository_uri = steps
                .run(
                    format!("repository {}", repository.name),
                    converge(&repository, ctx),
                )
                .await?;
            let push = Image {
                repository: repository.name.clone(),
                repository_uri,
                image: &image,
            };
            let uri = steps
                .run(
                    format!("image {}:{}", repository.name, push.tag()),
                    converge(&push, ctx),
                )
                .await?;
            image_uri = Some(uri.clone());
            Code::image(uri, &image.digest())
        }
    };
    let server = Function::server(ctx, server_role, server_code)?;
    let server_arn = steps
        .run(format!("function {server_fn}"), converge(&server, ctx))
        .await?;
    let authorizer = Function::authorizer(ctx, authorizer_role, &secret_arn, authorizer_zip)?;
    let authorizer_arn = steps
        .run(
            format!("function {authorizer_fn}"),
            converge(&authorizer, ctx),
        )
        .await?;

    let api = steps
        .run(
            format!("http api {}", names.api()),
            converge(&HttpApi::new(ctx), ctx),
        )
        .await?;
    let integration = Integration {
        api_id: api.id.clone(),
        function_arn: server_arn.clone(),
    };
    let integration_id = steps
        .run(
            "integration (AWS_PROXY, payload 2.0)",
            converge(&integration, ctx),
        )
        .await?;
    let api_authorizer = ApiAuthorizer::new(ctx, &api.id, &authorizer_arn);
    let authorizer_id = steps
        .run(
            format!("authorizer {}", api_authorizer.name),
            converge(&api_authorizer, ctx),
        )
        .await?;
    let routes = Routes {
        api_id: api.id.clone(),
        integration_id,
        authorizer_id: authorizer_id.clone(),
    };
    steps.run("routes", converge(&routes, ctx)).await?;
    let stage = Stage::new(ctx, &api.id);
    steps
        .run(format!("stage {}", stage.name), converge(&stage, ctx))
        .await?;
    steps
        .run(
            format!("permission {server_fn}"),
            converge(&Permission::server(ctx, &server_arn, &api.id), ctx),
        )
        .await?;
    steps
        .run(
            format!("permission {authorizer_fn}"),
            converge(
                &Permission::authorizer(ctx, &authorizer_arn, &api.id, &authorizer_id),
                ctx,
            ),
        )
        .await?;

    Ok(Deployed {
        api,
        image: image_uri,
    })
}

/// The server as deploy.toml's `package` says; the authorizer is always a zip (small, and
/// cold starts faster than an image).
pub enum ServerPackage {
    Zip(LambdaZip),
    Image(OciImage),
}

/// Both packages, deterministic; `mcpctl plan --prebuilt` compares their hashes too.
pub fn package_both(
    package: Package,
    binaries: &Binaries,
) -> Result<(Change, (ServerPackage, LambdaZip))> {
    let read = |path: &Path| -> Result<Vec<u8>> {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let server = read(&binaries.server)?;
    let authorizer = package::bootstrap_zip(&read(&binaries.authorizer)?)?;
    let (server, what) = match package {
        Package::Zip => {
            let zip = package::bootstrap_zip(&server)?;
            let what = format!("server zip {} KiB", zip.bytes.len() / 1024);
            (ServerPackage::Zip(zip), what)
        }
        Package::Image => {
            let image = image::build(&server, Path::new("/"))?;
            let what = format!(
                "server image {} KiB ({} files)",
                image.layer.bytes.len() / 1024,
                image.files.len()
            );
            (ServerPackage::Image(image), what)
        }
    };
    let what = format!(
        "{what} + authorizer zip {} KiB",
        authorizer.bytes.len() / 1024
    );
    Ok((Change::Done(what), (server, authorizer)))
}

/// The `CodeSha256` Lambda would report for each function after deploying `binaries`.
pub fn code_hashes(config: &Config, binaries: &Binaries) -> Result<CodeHashes> {
    let (_, (server, authorizer)) = package_both(config.package, binaries)?;
    let server = match server {
        ServerPackage::Zip(zip) => zip.code_sha256,
        ServerPackage::Image(image) => image.digest().trim_start_matches("sha256:").to_string(),
    };
    Ok((server, authorizer.code_sha256))
}
