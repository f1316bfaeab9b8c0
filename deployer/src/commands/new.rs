//! `mcpctl new NAME`: a project that works at once. A Cargo workspace with the user's server
//! crate (one example tool and its tests, on the `mcpctl-server` library), a crate that brings
//! the authorizer in as a dependency (deploy builds `mcpctl-authorizer` from it, no code
//! copied), deploy.toml naming the server package, a README with the two commands and a
//! .gitignore keeping `.mcpctl/`, keys and `target/` out. `mcpctl dev`, `mcpctl deploy` and
//! `cargo test` then work in it unchanged.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use mcpctl_stack::config::{package_name_error, AUTHORIZER_PACKAGE, DEFAULT_SERVER_PACKAGE};
use mcpctl_stack::Config;
use serde_json::json;

use crate::{Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The project's name: its server package (and binary) and its stack name.
    pub name: String,
    /// The directory to create (default: ./NAME); it must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Take mcpctl's crates from this checkout of mcpctl (path dependencies). Default: the
    /// source tree this mcpctl was built from, while it exists.
    #[arg(long, value_name = "DIR", conflicts_with = "mcpctl_git")]
    pub mcpctl_path: Option<PathBuf>,
    /// Take mcpctl's crates from this git repository instead.
    #[arg(long, value_name = "URL")]
    pub mcpctl_git: Option<String>,
    /// With --mcpctl-git: the commit to pin.
    #[arg(long, value_name = "COMMIT", requires = "mcpctl_git")]
    pub mcpctl_rev: Option<String>,
}

/// Package names the generated workspace already holds (members and mcpctl's crates).
const TAKEN: &[&str] = &[
    "authorizer",
    DEFAULT_SERVER_PACKAGE,
    AUTHORIZER_PACKAGE,
    "mcpctl-stack",
    "mcpctl",
];

/// Each file of the project: its path in the project and its template.
const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/new/Cargo.toml.in"),
    ),
    (
        "server/Cargo.toml",
        include_str!("../../templates/new/server/Cargo.toml.in"),
    ),
    (
        "server/src/main.rs",
        include_str!("../../templates/new/server/src/main.rs.in"),
    ),
    (
        "authorizer/Cargo.toml",
        include_str!("../../templates/new/authorizer/Cargo.toml.in"),
    ),
    (
        "authorizer/src/lib.rs",
        include_str!("../../templates/new/authorizer/src/lib.rs.in"),
    ),
    (
        "deploy.toml",
        include_str!("../../templates/new/deploy.toml.in"),
    ),
    (
        "README.md",
        include_str!("../../templates/new/README.md.in"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/new/gitignore.in"),
    ),
];

/// Where the project's Cargo.toml takes mcpctl's crates from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A checkout of mcpctl (its root directory).
    Path(PathBuf),
    Git {
        url: String,
        rev: Option<String>,
    },
}

impl Source {
    /// The dependency of crate `dir` (`server`, `authorizer`), as a TOML inline table.
    fn dependency(&self, dir: &str) -> String {
        match self {
            Source::Path(root) => format!("{{ path = {} }}", toml_string(&root.join(dir))),
            Source::Git { url, rev: None } => format!("{{ git = {} }}", quoted(url)),
            Source::Git {
                url,
                rev: Some(rev),
            } => {
                format!("{{ git = {}, rev = {} }}", quoted(url), quoted(rev))
            }
        }
    }

    /// For the README: where the crates come from.
    fn describe(&self) -> String {
        match self {
            Source::Path(root) => format!("the mcpctl checkout at `{}`", root.display()),
            Source::Git { url, rev: None } => {
                format!("the git repository {url} (its default branch)")
            }
            Source::Git {
                url,
                rev: Some(rev),
            } => format!("the git repository {url} at {rev}"),
        }
    }
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_string(path: &Path) -> String {
    quoted(&path.display().to_string())
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let stack = check_name(&args.name)?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    check_target(&dir)?;
    let source = source(args)?;
    let files = render(&args.name, &stack, &source)?;
    write(&dir, &files)?;
    match cli.output {
        Output::Json => super::print_json(&json!({
            "path": dir.display().to_string(),
            "package": args.name,
            "stack": stack,
            "files": files.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        })),
        Output::Text => {
            println!(
                "Created {} in {}: your tools are in server/src/main.rs.\n",
                args.name,
                dir.display()
            );
            println!("  cd {}", dir.display());
            println!("  mcpctl dev       # the stack on this machine, with an API key");
            println!("  cargo test       # the tools' tests");
            println!("  mcpctl deploy    # the stack on AWS Lambda");
            Ok(())
        }
    }
}

/// `name` as the server package, and the stack name it gives (`_` becomes `-`); one line on
/// what is wrong otherwise.
pub fn check_name(name: &str) -> Result<String> {
    if let Some(problem) = package_name_error(name) {
        bail!("invalid project name: it names the server's Cargo package, so it {problem}");
    }
    if TAKEN.contains(&name) {
        bail!("invalid project name {name:?}: the project already has a package of that name; choose another");
    }
    let stack = name.replace('_', "-");
    if stack.len() > 40 {
        bail!(
            "invalid project name: it is also the stack name, the prefix of every AWS resource, so it must be at most 40 characters (got {})",
            name.len()
        );
    }
    Ok(stack)
}

/// The project directory must be new or empty.
fn check_target(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} already exists and is not empty: choose another NAME or --path DIR",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => bail!(
            "{} already exists and is a file: choose another NAME or --path DIR",
            dir.display()
        ),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// `--mcpctl-git`, else `--mcpctl-path`, else the source tree this mcpctl was built from.
fn source(args: &Args) -> Result<Source> {
    if let Some(url) = &args.mcpctl_git {
        return Ok(Source::Git {
            url: url.clone(),
            rev: args.mcpctl_rev.clone(),
        });
    }
    if let Some(dir) = &args.mcpctl_path {
        let root = std::path::absolute(dir)
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        if !is_mcpctl_checkout(&root) {
            bail!(
                "--mcpctl-path {}: not a checkout of mcpctl (no server/Cargo.toml of mcpctl-server and authorizer/Cargo.toml of mcpctl-authorizer there)",
                dir.display()
            );
        }
        return Ok(Source::Path(root));
    }
    match built_from() {
        Some(root) => Ok(Source::Path(root)),
        None => bail!(
            "the mcpctl source tree this mcpctl was built from is gone: pass --mcpctl-path DIR (a checkout of mcpctl) or --mcpctl-git URL [--mcpctl-rev COMMIT]"
        ),
    }
}

/// The source tree this `mcpctl` was built from, if it still holds mcpctl's crates.
fn built_from() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .filter(|root| is_mcpctl_checkout(root))
}

fn is_mcpctl_checkout(root: &Path) -> bool {
    let holds = |dir: &str, package: &str| {
        std::fs::read_to_string(root.join(dir).join("Cargo.toml"))
            .is_ok_and(|t| t.contains(&format!("name = \"{package}\"")))
    };
    holds("server", DEFAULT_SERVER_PACKAGE) && holds("authorizer", AUTHORIZER_PACKAGE)
}

/// Every file of the project, its placeholders filled in; the deploy.toml is checked to load.
pub fn render(name: &str, stack: &str, source: &Source) -> Result<Vec<(&'static str, String)>> {
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{stack}}", stack)
            .replace("{{mcpctl_server}}", &source.dependency("server"))
            .replace("{{mcpctl_authorizer}}", &source.dependency("authorizer"))
            .replace("{{source}}", &source.describe())
            .replace(
                "{{reference}}",
                "mcpctl's own deploy.toml, and docs/new-project.md",
            )
    };
    let files: Vec<(&'static str, String)> = FILES.iter().map(|(p, t)| (*p, fill(t))).collect();
    if let Some((_, text)) = files.iter().find(|(p, _)| *p == "deploy.toml") {
        Config::parse(text, "deploy.toml").context("the generated deploy.toml does not load")?;
    }
    Ok(files)
}

fn write(dir: &Path, files: &[(&'static str, String)]) -> Result<()> {
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_cargo_packages_and_stack_names() {
        assert_eq!(check_name("demo").unwrap(), "demo");
        assert_eq!(check_name("my_tools").unwrap(), "my-tools");
        for (name, says) in [
            (
                "my tools",
                "must be ASCII letters, digits, '-' and '_' only",
            ),
            ("1st", "must start with a letter"),
            ("fn", "Rust or Cargo reserves that name"),
            ("", "must be 1-64 characters"),
            ("authorizer", "already has a package of that name"),
            ("mcpctl-server", "already has a package of that name"),
            (&"a".repeat(41), "at most 40 characters"),
        ] {
            let e = check_name(name).unwrap_err().to_string();
            assert!(e.starts_with("invalid project name"), "{name}: {e}");
            assert!(e.contains(says), "{name}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn the_project_names_its_server_package_and_takes_mcpctl_from_the_source() {
        let root = PathBuf::from("/src/mcpctl");
        let files = render("demo", "demo", &Source::Path(root)).unwrap();
        let file = |p: &str| &files.iter().find(|(f, _)| *f == p).unwrap().1;
        for (path, text) in &files {
            assert!(
                !text.contains("{{"),
                "{path} has a placeholder left: {text}"
            );
        }
        let config = Config::parse(file("deploy.toml"), "deploy.toml").unwrap();
        assert_eq!(config.server.package, "demo");
        assert_eq!(config.name, "demo");
        assert!(file("server/Cargo.toml").contains("name = \"demo\""));
        let workspace = file("Cargo.toml");
        assert!(
            workspace.contains("mcpctl-server = { path = \"/src/mcpctl/server\" }")
                && workspace.contains("mcpctl-authorizer = { path = \"/src/mcpctl/authorizer\" }")
                && workspace.contains("[profile.local]"),
            "{workspace}"
        );
        assert!(file("server/src/main.rs").contains("mcpctl_server::run(Tools::new())"));
        let ignored: Vec<&str> = file(".gitignore").lines().collect();
        for entry in ["/target/", "/.mcpctl/", "*.key"] {
            assert!(ignored.contains(&entry), "{entry} not ignored");
        }
        let readme = file("README.md");
        assert!(readme.contains("mcpctl dev") && readme.contains("mcpctl deploy"));
        assert!(readme.contains("rev = \"COMMIT\""), "{readme}");

        let git = Source::Git {
            url: "https://example.com/mcpctl.git".into(),
            rev: Some("abc123".into()),
        };
        let files = render("demo", "demo", &git).unwrap();
        assert!(files[0].1.contains(
            "mcpctl-server = { git = \"https://example.com/mcpctl.git\", rev = \"abc123\" }"
        ));
    }

    #[test]
    fn refuses_a_directory_that_is_not_empty() {
        let dir = std::env::temp_dir().join(format!("mcpctl-new-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        check_target(&dir).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        check_target(&dir).unwrap();
        std::fs::write(dir.join("x"), "").unwrap();
        let e = check_target(&dir).unwrap_err().to_string();
        assert!(
            e.ends_with("already exists and is not empty: choose another NAME or --path DIR"),
            "{e}"
        );
        let e = check_target(&dir.join("x")).unwrap_err().to_string();
        assert!(e.contains("is a file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
