//! Layers point one way: a command may use `commands/mod.rs`'s helpers and the modules below
//! the commands (`endpoint`, `local`, `signals`, `resources`, ...), never another command. What
//! two commands share lives below them.

use std::collections::BTreeSet;
use std::path::Path;

/// Every `super::NAME` and `crate::commands::NAME` in `source` (also `super::{A, B}`), where
/// NAME is one of `commands`.
fn imports(source: &str, commands: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for prefix in ["crate::commands::", "super::"] {
        for (at, _) in source.match_indices(prefix) {
            let rest = &source[at + prefix.len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .collect(),
                None => vec![rest],
            };
            for name in names {
                let name = name.trim_start();
                let end = name
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(name.len());
                if commands.contains(&name[..end]) {
                    found.insert(name[..end].to_string());
                }
            }
        }
    }
    found
}

#[test]
fn commands_do_not_import_each_other() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    let commands: BTreeSet<String> = files
        .iter()
        .map(|(name, _)| name.clone())
        .filter(|n| n != "mod")
        .collect();
    assert!(commands.contains("logs") && commands.contains("config"));
    let mut wrong = Vec::new();
    for (name, source) in files.iter().filter(|(n, _)| n != "mod") {
        for used in imports(source, &commands) {
            if used != *name {
                wrong.push(format!("commands/{name}.rs uses commands/{used}.rs"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "move what they share below the commands:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn imports_are_found_in_paths_and_groups() {
    let commands: BTreeSet<String> = ["dev", "plan", "status"].map(String::from).into();
    let src = "use super::plan::{self, Preview};\nlet s = super::dev::wait();\nuse super::{status, load_config};\nsuper::load_config(cli)";
    assert_eq!(
        imports(src, &commands),
        ["dev", "plan", "status"].map(String::from).into()
    );
    assert!(imports("use super::*; crate::commands::run(cli)", &commands).is_empty());
}
