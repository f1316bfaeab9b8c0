//! `mcpctl completions SHELL` and `mcpctl man`: generated from the real clap definition, so
//! every subcommand shows up.

mod common;

use common::{assert_success, stdout, Project};

const SUBCOMMANDS: &[&str] = &[
    "deploy",
    "destroy",
    "rotate-key",
    "invoke",
    "dev",
    "config",
    "plan",
    "status",
    "logs",
    "completions",
    "man",
];

#[test]
fn every_shell_gets_a_script_naming_the_subcommands() {
    let p = Project::new("name = \"c\"\n");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = p.mcpctl(&["completions", shell]);
        assert_success(&out);
        let script = stdout(&out);
        assert!(script.len() > 500, "{shell}: {script}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let out = p.mcpctl(&["completions", "tcsh"]);
    assert!(!out.status.success());
}

#[test]
fn man_page_is_roff_listing_the_subcommands() {
    let p = Project::new("name = \"c\"\n");
    let out = p.mcpctl(&["man"]);
    assert_success(&out);
    // roff writes a hyphen as `\-`.
    let page = stdout(&out).replace("\\-", "-");
    assert!(page.contains(".TH mcpctl 1"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "man page lacks {sub}");
    }
}
