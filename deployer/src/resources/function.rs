//! A Lambda function on provided.al2023 (arm64 or x86_64, as deploy.toml's `architecture` says;
//! handler `bootstrap`) from a zip, or from an ECR image pinned by digest, updated only when the
//! code's SHA-256, its architecture or the configuration differ, waiting on the SDK waiters after
//! each change. The architecture belongs to the code: UpdateFunctionCode sets both at once.
//! Lambda cannot turn a zip function into an image function: switching `package` replaces the
//! function.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::Result;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::operation::create_function::CreateFunctionError;
use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError;
use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, PackageType, Runtime};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{missing_tags, Ctx, FieldDiff, Resource};
use crate::aws;
use crate::package::LambdaZip;
use crate::steps::Change;
use mcpctl_stack::config::Package;

const RUNTIME: Runtime = Runtime::Providedal2023;
const HANDLER: &str = "bootstrap";
const WAIT_LIMIT: Duration = Duration::from_secs(300);

/// Lambda's InvalidParameterValueException while IAM has not yet propagated a change: a new
/// role not yet assumable ("The role defined for the function cannot be assumed by Lambda."),
/// or a repository policy not yet letting Lambda pull the image ("Lambda does not have
/// permission to access the ECR image."). Other invalid values are errors at once.
fn permission_not_propagated(message: &str) -> bool {
    message.contains("cannot be assumed by Lambda")
        || (message.contains("ECR") && message.contains("permission"))
}

/// Lambda answers a repository policy that does not yet let it pull the image with 403
/// AccessDeniedException ("Lambda does not have permission to access the ECR image."), a code
/// the Lambda model does not declare for these operations, so it is matched by code.
fn image_pull_not_propagated<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    aws::error_code(e) == Some("AccessDeniedException")
        && permission_not_propagated(aws::error_message(e))
}

/// What the function runs, with the `CodeSha256` Lambda reports for it.
#[derive(Debug, Clone, PartialEq)]
pub enum Code {
    /// A deployment zip; its SHA-256 in base64.
    Zip { bytes: Vec<u8>, code_sha256: String },
    /// `<repository uri>@sha256:<hex>`; Lambda reports the hex as `CodeSha256`.
    Image { uri: String, code_sha256: String },
}

impl Code {
    pub fn zip(zip: LambdaZip) -> Self {
        Code::Zip {
            bytes: zip.bytes,
            code_sha256: zip.code_sha256,
        }
    }

    pub fn image(uri: String, digest: &str) -> Self {
        Code::Image {
            uri,
            code_sha256: digest.trim_start_matches("sha256:").to_string(),
        }
    }

    /// Code of `package`'s kind not known yet (`mcpctl plan` without `--prebuilt`).
    pub fn unknown(package: Package) -> Self {
        match package {
            Package::Zip => Code::Zip {
                bytes: vec![],
                code_sha256: String::new(),
            },
            Package::Image => Code::Image {
                uri: String::new(),
                code_sha256: String::new(),
            },
        }
    }

    pub fn code_sha256(&self) -> &str {
        match self {
            Code::Zip { code_sha256, .. } | Code::Image { code_sha256, .. } => code_sha256,
        }
    }

    pub fn set_code_sha256(&mut self, sha: String) {
        match self {
            Code::Zip { code_sha256, .. } | Code::Image { code_sha256, .. } => *code_sha256 = sha,
        }
    }

    fn package_type(&self) -> PackageType {
        match self {
            Code::Zip { .. } => PackageType::Zip,
            Code::Image { .. } => PackageType::Image,
        }
    }

    fn function_code(&self) -> FunctionCode {
        match self {
            Code::Zip { bytes, .. } => FunctionCode::builder()
                .zip_file(Blob::new(bytes.clone()))
                .build(),
            Code::Image { uri, .. } => FunctionCode::builder().image_uri(uri).build(),
        }
    }
}

pub struct Function {
    pub name: String,
    pub description: String,
    pub role_arn: String,
    pub code: Code,
    /// The instruction set `code` is built for.
    pub architecture: Architecture,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub env: BTreeMap<String, String>,
    /// Variables whose value deploy makes once (random, 256 bits) and keeps from then on, read
    /// back from the function's configuration: the server's request-state key.
    pub generated_env: &'static [&'static str],
}

#[derive(Debug, Clone, Default)]
pub struct FunctionState {
    pub arn: String,
    pub code_sha256: String,
    /// `Zip` or `Image`.
    pub package_type: Option<String>,
    /// As Lambda reports it (ISO 8601), for `mcpctl status`.
    pub last_modified: Option<String>,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: String,
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    pub env: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub description: Option<String>,
    pub tags: HashMap<String, String>,
}

impl FunctionState {
    /// `arm64` or `x86_64`; Lambda's default, x86_64, when it reports none.
    pub fn architecture(&self) -> &str {
        self.architectures
            .first()
            .map_or(Architecture::X8664.as_str(), String::as_str)
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct FunctionPlan {
    pub create: bool,
    /// Delete and create again: the package type differs.
    pub replace: bool,
    pub code: bool,
    /// The code runs on the other architecture now (uploaded again, with it).
    pub architecture: bool,
    /// Configuration fields that differ.
    pub configuration: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

fn environment(env: &BTreeMap<String, String>) -> Environment {
    Environment::builder()
        .set_variables(Some(env.clone().into_iter().collect()))
        .build()
}

pub async fn read_function(ctx: &Ctx<'_>, name: &str) -> Result<Option<FunctionState>> {
    let out = match ctx
        .aws
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if aws::is_not_found(&e) => return Ok(None),
        Err(e) => return Err(aws::describe("GetFunction", &e)),
    };
    let Some(c) = out.configuration() else {
        return Ok(None);
    };
    Ok(Some(FunctionState {
        arn: c.function_arn().unwrap_or_default().to_string(),
        code_sha256: c.code_sha256().unwrap_or_default().to_string(),
        package_type: c.package_type().map(|p| p.as_str().to_string()),
        last_modified: c.last_modified().map(str::to_string),
        runtime: c.runtime().map(|r| r.as_str().to_string()),
        handler: c.handler().map(str::to_string),
        role: c.role().unwrap_or_default().to_string(),
        memory_mb: c.memory_size(),
        timeout_s: c.timeout(),
        env: c
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        architectures: c
            .architectures()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        description: c.description().map(str::to_string),
        tags: out.tags().cloned().unwrap_or_default(),
    }))
}

impl Resource for Function {
    type Current = Option<FunctionState>;
    type Plan = FunctionPlan;
    type Output = String;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        read_function(ctx, &self.name).await
    }

    fn plan(&self, ctx: &Ctx<'_>, current: &Self::Current) -> FunctionPlan {
        let Some(cur) = current else {
            return FunctionPlan {
                create: true,
                ..FunctionPlan::default()
            };
        };
        let package_type = self.code.package_type();
        if cur.package_type.as_deref().unwrap_or("Zip") != package_type.as_str() {
            return FunctionPlan {
                replace: true,
                ..FunctionPlan::default()
            };
        }
        let mut configuration = Vec::new();
        // An image brings its own entrypoint: no runtime, no handler.
        let (runtime, handler) = match package_type {
            PackageType::Zip => (Some(RUNTIME.as_str()), Some(HANDLER)),
            _ => (None, None),
        };
        configuration.field("runtime", &cur.runtime.as_deref(), &runtime);
        configuration.field("handler", &cur.handler.as_deref(), &handler);
        configuration.field("role", cur.role.as_str(), self.role_arn.as_str());
        configuration.field("memory", &cur.memory_mb, &Some(self.memory_mb));
        configuration.field("timeout", &cur.timeout_s, &Some(self.timeout_s));
        configuration.field("environment", &cur.env, &self.env_keeping(Some(cur)));
        configuration.field(
            "description",
            &cur.description.as_deref().unwrap_or_default(),
            &self.description.as_str(),
        );
        FunctionPlan {
            create: false,
            replace: false,
            code: cur.code_sha256 != self.code.code_sha256(),
            // Architecture is part of the code: changing it means uploading the code again.
            architecture: cur.architecture() != self.architecture.as_str(),
            configuration,
            tags: missing_tags(&cur.tags, &ctx.tags),
        }
    }

    fn change(plan: &FunctionPlan) -> Change {
        if plan.create {
            return Change::Created;
        }
        if plan.replace {
            return Change::Updated(vec!["package type (replaced)".into()]);
        }
        let mut fields = Vec::new();
        if plan.code {
            fields.push("code".to_string());
        }
        if plan.architecture {
            fields.push("architecture".to_string());
        }
        fields.extend(plan.configuration.iter().cloned());
        if !plan.tags.is_empty() {
            fields.push("tags".to_string());
        }
        Change::updated(fields)
    }

    async fn apply(
        &self,
        ctx: &Ctx<'_>,
        current: Self::Current,
        plan: FunctionPlan,
    ) -> Result<String> {
        let lambda = &ctx.aws.lambda;
        if plan.replace {
            remove(ctx, &self.name).await?;
        }
        if plan.create || plan.replace {
            let arn = self.create(ctx).await?;
            lambda
                .wait_until_function_active_v2()
                .function_name(&self.name)
                .wait(WAIT_LIMIT)
                .await
                .map_err(|e| anyhow::anyhow!("waiting for {} to become active: {e}", self.name))?;
            return Ok(arn);
        }
        let env = self.env_keeping(current.as_ref());
        let arn = current.map(|c| c.arn).unwrap_or_default();
        let code = plan.code || plan.architecture;
        if code || !plan.configuration.is_empty() {
            // A previous run may have been cut off while an update was still in progress.
            self.wait_updated(ctx).await?;
        }
        if code {
            aws::eventually(
                &format!("the last update of {} to finish", self.name),
                aws::IAM_PROPAGATION,
                |e: &SdkError<UpdateFunctionCodeError, _>| {
                    image_pull_not_propagated(e)
                        || e.as_service_error().is_some_and(|s| {
                            s.is_resource_conflict_exception()
                                || (s.is_invalid_parameter_value_exception()
                                    && permission_not_propagated(aws::error_message(e)))
                        })
                },
                || {
                    let update = lambda
                        .update_function_code()
                        .function_name(&self.name)
                        .architectures(self.architecture.clone());
                    let update = match &self.code {
                        Code::Zip { bytes, .. } => update.zip_file(Blob::new(bytes.clone())),
                        Code::Image { uri, .. } => update.image_uri(uri),
                    };
                    update.send()
                },
            )
            .await
            .map_err(aws::err("UpdateFunctionCode"))?;
            self.wait_updated(ctx).await?;
        }
        if !plan.configuration.is_empty() {
            aws::eventually(
                &format!("IAM to propagate the role of {}", self.name),
                aws::IAM_PROPAGATION,
                |e: &SdkError<UpdateFunctionConfigurationError, _>| {
                    e.as_service_error().is_some_and(|s| {
                        s.is_resource_conflict_exception()
                            || (s.is_invalid_parameter_value_exception()
                                && permission_not_propagated(aws::error_message(e)))
                    })
                },
                || {
                    let update = lambda.update_function_configuration();
                    let update = match &self.code {
                        Code::Zip { .. } => update.runtime(RUNTIME).handler(HANDLER),
                        Code::Image { .. } => update,
                    };
                    update
                        .function_name(&self.name)
                        .role(&self.role_arn)
                        .memory_size(self.memory_mb)
                        .timeout(self.timeout_s)
                        .description(&self.description)
                        .environment(environment(&env))
                        .send()
                },
            )
            .await
            .map_err(aws::err("UpdateFunctionConfiguration"))?;
            self.wait_updated(ctx).await?;
        }
        if !plan.tags.is_empty() {
            lambda
                .tag_resource()
                .resource(&arn)
                .set_tags(Some(plan.tags.into_iter().collect()))
                .send()
                .await
                .map_err(aws::err("TagResource"))?;
        }
        Ok(arn)
    }
}

impl Function {
    /// The MCP server as deploy.toml describes it, running `code`.
    pub fn server(ctx: &Ctx<'_>, role_arn: String, code: Code) -> Result<Self> {
        let config = ctx.config;
        Ok(Self {
            name: ctx.names.server_function(),
            description: format!("MCP server of the mcpctl stack {}", config.name),
            role_arn,
            code,
            architecture: lambda_architecture(config.architecture),
            memory_mb: as_i32(config.server.memory_mb)?,
            timeout_s: as_i32(config.server.timeout_s)?,
            env: mcpctl_stack::env::server_env(config),
            generated_env: &[mcpctl_stack::env::REQUEST_STATE_KEY_VAR],
        })
    }

    /// The API key authorizer as deploy.toml describes it, reading `secret_arn`; with
    /// `[auth] mode = "oauth"` also validating access tokens signed with `signing_arn`'s key.
    pub fn authorizer(
        ctx: &Ctx<'_>,
        role_arn: String,
        secret_arn: &str,
        signing_arn: Option<&str>,
        code: LambdaZip,
    ) -> Result<Self> {
        let config = ctx.config;
        Ok(Self {
            name: ctx.names.authorizer_function(),
            description: format!("API key authorizer of the mcpctl stack {}", config.name),
            role_arn,
            code: Code::zip(code),
            architecture: lambda_architecture(config.architecture),
            memory_mb: as_i32(config.authorizer.memory_mb)?,
            timeout_s: as_i32(config.authorizer.timeout_s)?,
            env: authorizer_env(config, secret_arn, signing_arn),
            generated_env: &[],
        })
    }

    /// The authorization server (`[auth] mode = "oauth"`, docs/oauth.md): 128 MB, 10 s, reading
    /// both secrets. No issuer: it takes the request's domain name (the API's own origin), and
    /// never the dev-only loopback switch.
    pub fn oauth(
        ctx: &Ctx<'_>,
        role_arn: String,
        secret_arn: &str,
        signing_arn: &str,
        code: LambdaZip,
    ) -> Result<Self> {
        let config = ctx.config;
        Ok(Self {
            name: mcpctl_stack::oauth::function_name(config),
            description: format!(
                "OAuth authorization server of the mcpctl stack {}",
                config.name
            ),
            role_arn,
            code: Code::zip(code),
            architecture: lambda_architecture(config.architecture),
            memory_mb: OAUTH_MEMORY_MB,
            timeout_s: OAUTH_TIMEOUT_S,
            env: mcpctl_stack::oauth::oauth_function_env(config, secret_arn, signing_arn, None),
            generated_env: &[],
        })
    }

    /// The environment to run with: deploy.toml's, plus each generated variable with the value
    /// the function already has (a new random one when it has none, or one too short to be a
    /// key). `[server.env]` setting one of them wins.
    fn env_keeping(&self, current: Option<&FunctionState>) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        for &var in self.generated_env {
            if env.contains_key(var) {
                continue;
            }
            let kept = current
                .and_then(|c| c.env.get(var))
                .filter(|v| v.len() >= 32)
                .cloned();
            let value = kept.unwrap_or_else(|| hex::encode(rand::random::<[u8; 32]>()));
            env.insert(var.to_string(), value);
        }
        env
    }

    /// CreateFunction, retried with backoff while IAM has not yet propagated a new role or the
    /// repository policy that lets Lambda pull the image (up to two minutes).
    async fn create(&self, ctx: &Ctx<'_>) -> Result<String> {
        let out = aws::eventually(
            &format!("IAM to propagate the permissions of {}", self.name),
            aws::IAM_PROPAGATION,
            |e: &SdkError<CreateFunctionError, _>| {
                image_pull_not_propagated(e)
                    || e.as_service_error().is_some_and(|s| {
                        // A function of this name still being deleted (package type switch).
                        s.is_resource_conflict_exception()
                            || (s.is_invalid_parameter_value_exception()
                                && permission_not_propagated(aws::error_message(e)))
                    })
            },
            || {
                let create = ctx.aws.lambda.create_function();
                let create = match &self.code {
                    Code::Zip { .. } => create.runtime(RUNTIME).handler(HANDLER),
                    Code::Image { .. } => create,
                };
                create
                    .function_name(&self.name)
                    .description(&self.description)
                    .package_type(self.code.package_type())
                    .architectures(self.architecture.clone())
                    .role(&self.role_arn)
                    .memory_size(self.memory_mb)
                    .timeout(self.timeout_s)
                    .environment(environment(&self.env_keeping(None)))
                    .code(self.code.function_code())
                    .set_tags(Some(ctx.tags.clone().into_iter().collect()))
                    .send()
            },
        )
        .await
        .map_err(aws::err("CreateFunction"))?;
        Ok(out.function_arn().unwrap_or_default().to_string())
    }

    async fn wait_updated(&self, ctx: &Ctx<'_>) -> Result<()> {
        ctx.aws
            .lambda
            .wait_until_function_updated_v2()
            .function_name(&self.name)
            .wait(WAIT_LIMIT)
            .await
            .map_err(|e| {
                anyhow::anyhow!("waiting for the update of {} to finish: {e}", self.name)
            })?;
        Ok(())
    }
}

const OAUTH_MEMORY_MB: i32 = 128;
const OAUTH_TIMEOUT_S: i32 = 10;

/// The authorizer's environment: api-key mode's exactly as always; oauth mode adds
/// `AUTH_MODE=oauth` and the signing secret (no issuer: the request's domain name is the API's
/// origin).
fn authorizer_env(
    config: &mcpctl_stack::Config,
    secret_arn: &str,
    signing_arn: Option<&str>,
) -> BTreeMap<String, String> {
    let mut env = mcpctl_stack::env::authorizer_env(config, secret_arn);
    if let (mcpctl_stack::config::AuthMode::OAuth, Some(signing)) = (config.auth.mode, signing_arn)
    {
        env.extend(mcpctl_stack::oauth::authorizer_env(config, signing, None));
    }
    env
}

/// Lambda's name for deploy.toml's `architecture`.
pub fn lambda_architecture(architecture: mcpctl_stack::config::Architecture) -> Architecture {
    match architecture {
        mcpctl_stack::config::Architecture::Arm64 => Architecture::Arm64,
        mcpctl_stack::config::Architecture::X86_64 => Architecture::X8664,
    }
}

fn as_i32(v: u32) -> Result<i32> {
    i32::try_from(v).map_err(|_| anyhow::anyhow!("{v} is out of range"))
}

/// Deleting the function also deletes its resource policy (the API Gateway permissions).
pub async fn remove(ctx: &Ctx<'_>, name: &str) -> Result<Change> {
    if read_function(ctx, name).await?.is_none() {
        return Ok(Change::Absent);
    }
    match ctx
        .aws
        .lambda
        .delete_function()
        .function_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(Change::Deleted),
        Err(e) if aws::is_not_found(&e) => Ok(Change::Absent),
        Err(e) => Err(aws::describe("DeleteFunction", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Function {
        Function {
            name: "s-server".into(),
            description: "d".into(),
            role_arn: "arn:role".into(),
            code: Code::Zip {
                bytes: vec![],
                code_sha256: "sha".into(),
            },
            architecture: Architecture::Arm64,
            memory_mb: 256,
            timeout_s: 29,
            env: BTreeMap::from([("RUST_LOG".into(), "info".into())]),
            generated_env: &["MCP_REQUEST_STATE_KEY"],
        }
    }

    fn same_as(f: &Function) -> FunctionState {
        FunctionState {
            arn: "arn:fn".into(),
            code_sha256: f.code.code_sha256().to_string(),
            package_type: Some("Zip".into()),
            last_modified: None,
            runtime: Some("provided.al2023".into()),
            handler: Some("bootstrap".into()),
            role: f.role_arn.clone(),
            memory_mb: Some(f.memory_mb),
            timeout_s: Some(f.timeout_s),
            env: f.env_keeping(None),
            architectures: vec![f.architecture.as_str().into()],
            description: Some(f.description.clone()),
            tags: HashMap::new(),
        }
    }

    #[test]
    fn only_what_differs_is_planned() {
        let aws = crate::aws::Aws::offline();
        let config = mcpctl_stack::Config::default();
        let ctx = Ctx::new(&aws, &config);
        let f = desired();
        let mut cur = same_as(&f);
        cur.tags = ctx.tags.clone().into_iter().collect();
        let plan = f.plan(&ctx, &Some(cur.clone()));
        assert_eq!(plan, FunctionPlan::default());
        assert_eq!(Function::change(&plan), Change::Unchanged);

        cur.memory_mb = Some(512);
        let plan = f.plan(&ctx, &Some(cur.clone()));
        assert_eq!(plan.configuration, ["memory"]);
        assert!(!plan.code);

        cur.code_sha256 = "other".into();
        cur.env.insert("EXTRA".into(), "1".into());
        let plan = f.plan(&ctx, &Some(cur.clone()));
        assert!(plan.code);
        assert_eq!(
            Function::change(&plan),
            Change::Updated(vec!["code".into(), "memory".into(), "environment".into()])
        );

        assert!(f.plan(&ctx, &None).create);

        // The same function as an image: replaced, as Lambda cannot change the package type.
        let image = Function {
            code: Code::image("r@sha256:ab".into(), "sha256:ab"),
            ..desired()
        };
        let plan = image.plan(&ctx, &Some(same_as(&f)));
        assert!(plan.replace, "{plan:?}");
        // An image function has no runtime or handler to compare.
        let mut cur = same_as(&image);
        cur.package_type = Some("Image".into());
        cur.runtime = None;
        cur.handler = None;
        cur.tags = ctx.tags.clone().into_iter().collect();
        assert_eq!(image.plan(&ctx, &Some(cur)), FunctionPlan::default());
    }

    #[test]
    fn a_generated_variable_is_made_once_and_kept() {
        let aws = crate::aws::Aws::offline();
        let config = mcpctl_stack::Config::default();
        let ctx = Ctx::new(&aws, &config);
        let f = desired();
        let fresh = f.env_keeping(None);
        let key = &fresh["MCP_REQUEST_STATE_KEY"];
        assert_eq!(key.len(), 64, "256 bits in hex");
        assert_ne!(f.env_keeping(None)["MCP_REQUEST_STATE_KEY"], *key, "random");

        // Deployed with it: the same value again, nothing to change.
        let mut cur = same_as(&f);
        cur.tags = ctx.tags.clone().into_iter().collect();
        cur.env = fresh.clone();
        assert_eq!(f.env_keeping(Some(&cur)), fresh);
        assert_eq!(f.plan(&ctx, &Some(cur.clone())), FunctionPlan::default());

        // Deployed before mcpctl set it, or with a value too short to be a key: one is made.
        for env in [f.env.clone(), {
            let mut e = fresh.clone();
            e.insert("MCP_REQUEST_STATE_KEY".into(), "short".into());
            e
        }] {
            cur.env = env;
            assert_eq!(
                f.plan(&ctx, &Some(cur.clone())).configuration,
                ["environment"]
            );
            assert_eq!(f.env_keeping(Some(&cur))["MCP_REQUEST_STATE_KEY"].len(), 64);
        }

        // [server.env] naming it wins.
        let mut own = desired();
        own.env
            .insert("MCP_REQUEST_STATE_KEY".into(), "k".repeat(40));
        assert_eq!(
            own.env_keeping(Some(&cur))["MCP_REQUEST_STATE_KEY"],
            "k".repeat(40)
        );
    }

    #[test]
    fn the_architecture_goes_with_the_code() {
        let aws = crate::aws::Aws::offline();
        let config = mcpctl_stack::Config::default();
        let ctx = Ctx::new(&aws, &config);
        let arm = desired();
        let mut cur = same_as(&arm);
        cur.tags = ctx.tags.clone().into_iter().collect();
        assert_eq!(cur.architecture(), "arm64");
        assert_eq!(arm.plan(&ctx, &Some(cur.clone())), FunctionPlan::default());

        // Deployed as x86_64 (or before Lambda reported architectures: its default, x86_64).
        for deployed in [vec!["x86_64".to_string()], vec![]] {
            cur.architectures = deployed;
            let plan = arm.plan(&ctx, &Some(cur.clone()));
            assert!(plan.architecture && !plan.code, "{plan:?}");
            assert!(plan.configuration.is_empty(), "{plan:?}");
            assert_eq!(
                Function::change(&plan),
                Change::Updated(vec!["architecture".into()])
            );
        }
        // The usual switch: other code, other architecture.
        cur.code_sha256 = "x86 build".into();
        assert_eq!(
            Function::change(&arm.plan(&ctx, &Some(cur.clone()))),
            Change::Updated(vec!["code".into(), "architecture".into()])
        );

        let x86 = Function {
            architecture: Architecture::X8664,
            ..desired()
        };
        let mut cur = same_as(&x86);
        cur.tags = ctx.tags.clone().into_iter().collect();
        assert_eq!(x86.plan(&ctx, &Some(cur.clone())), FunctionPlan::default());
        cur.architectures = vec![];
        assert_eq!(x86.plan(&ctx, &Some(cur)), FunctionPlan::default());
        assert_eq!(
            lambda_architecture(mcpctl_stack::config::Architecture::Arm64),
            Architecture::Arm64
        );
        assert_eq!(
            lambda_architecture(mcpctl_stack::config::Architecture::X86_64),
            Architecture::X8664
        );
    }
}
