//! `mcpctl config CLIENT`: the snippet for the deployed stack (against moto) and for the local
//! dev stack (a temporary state dir), exactly as devstack's client_config renders it. By default
//! no snippet holds the key (stderr says how to provide it); `--inline-key` writes it in. The
//! exact output of every client is pinned by the golden files in tests/golden/config
//! (`MCPCTL_UPDATE_GOLDEN=1` rewrites them); the documented schemas are checked field by field
//! in devstack's client_config tests.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_success, stderr, stdout, Project};
use mcpctl_devstack::client_config::{self, Target};
use mcpctl_devstack::state::LocalState;
use serde_json::Value;

const CONFIG: &str = r#"
name = "cfgdemo"
region = "us-east-1"

[stages.prod]
server_memory_mb = 512
"#;

/// Every `mcpctl config` client and the extension of its golden file.
const CLIENTS: [(&str, &str); 8] = [
    ("cursor", "json"),
    ("vscode", "json"),
    ("claude", "sh"),
    ("windsurf", "json"),
    ("codex", "toml"),
    ("gemini", "json"),
    ("claude-api", "json"),
    ("openai", "json"),
];

const LOCAL_KEY: &str = "local-test-key-0123456789";
/// What the golden files are rendered for: a deployed-looking endpoint, so the hosted APIs get
/// their snippet without the "needs a public https:// URL" warning.
const GOLDEN_URL: &str = "https://abc123defg.execute-api.us-east-1.amazonaws.com/mcp";

fn json_out(out: &std::process::Output) -> Value {
    assert_success(out);
    serde_json::from_slice(&out.stdout).expect("stdout is only the JSON")
}

/// The `export MCPCTL_API_KEY=...` line of stderr, the key in it.
fn exported_key(err: &str) -> Option<&str> {
    err.lines()
        .find_map(|l| l.trim().strip_prefix("export MCPCTL_API_KEY="))
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/config")
}

/// `actual` equals the golden file `name` (or replaces it with `MCPCTL_UPDATE_GOLDEN=1`).
fn golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("MCPCTL_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; MCPCTL_UPDATE_GOLDEN=1 writes it", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs (MCPCTL_UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deployed_snippets_carry_the_endpoint_and_current_key() {
    let p = Project::new(CONFIG);

    // Nothing deployed yet: one clear line.
    let out = p.mcpctl(&["config", "cursor"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(
        err,
        "error: stack cfgdemo is not deployed in us-east-1: run `mcpctl deploy` first\n"
    );
    assert_eq!(stdout(&out), "");

    let summary = p.deploy_json();
    let endpoint = summary["endpoint"].as_str().unwrap().to_string();
    let key = common::secret_value(&p, "cfgdemo/api-key", "AWSCURRENT")
        .await
        .unwrap();

    // By default the key is not in the snippet; stderr says how to set it, key included.
    let out = p.mcpctl(&["config", "cursor"]);
    let cursor = json_out(&out);
    assert_eq!(cursor["mcpServers"]["cfgdemo"]["url"], endpoint.as_str());
    assert_eq!(
        cursor["mcpServers"]["cfgdemo"]["headers"]["x-api-key"],
        "${env:MCPCTL_API_KEY}"
    );
    assert!(!stdout(&out).contains(&key));
    assert_eq!(exported_key(&stderr(&out)), Some(key.as_str()));
    // --inline-key: the old form, the key written in.
    let inline = json_out(&p.mcpctl(&["config", "cursor", "--inline-key"]));
    assert_eq!(
        inline["mcpServers"]["cfgdemo"]["headers"]["x-api-key"],
        key.as_str()
    );

    let vscode = json_out(&p.mcpctl(&["config", "vscode"]));
    assert_eq!(vscode["servers"]["cfgdemo"]["type"], "http");
    assert_eq!(vscode["servers"]["cfgdemo"]["url"], endpoint.as_str());
    assert_eq!(vscode["inputs"][0]["password"], true);
    assert_eq!(
        vscode["servers"]["cfgdemo"]["headers"]["x-api-key"],
        format!("${{input:{}}}", vscode["inputs"][0]["id"].as_str().unwrap())
    );
    let vscode = json_out(&p.mcpctl(&["config", "vscode", "--inline-key"]));
    assert_eq!(
        vscode["servers"]["cfgdemo"]["headers"]["x-api-key"],
        key.as_str()
    );

    let windsurf = json_out(&p.mcpctl(&["config", "windsurf"]));
    assert_eq!(
        windsurf["mcpServers"]["cfgdemo"]["serverUrl"],
        endpoint.as_str()
    );

    let claude = stdout(&p.mcpctl(&["config", "claude"]));
    assert_eq!(
        claude.trim(),
        format!("claude mcp add --transport http cfgdemo {endpoint} --header \"x-api-key: ${{MCPCTL_API_KEY:?set MCPCTL_API_KEY first}}\"")
    );
    let claude = stdout(&p.mcpctl(&["config", "claude", "--inline-key"]));
    assert_eq!(
        claude.trim(),
        format!("claude mcp add --transport http cfgdemo {endpoint} --header \"x-api-key: {key}\"")
    );

    // The deployed endpoint is public https: the hosted APIs get no warning.
    let out = p.mcpctl(&["config", "claude-api"]);
    let api = json_out(&out);
    assert_eq!(api["mcp_servers"][0]["url"], endpoint.as_str());
    assert_eq!(
        api["mcp_servers"][0]["authorization_token"],
        "<MCPCTL_API_KEY>"
    );
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains(&key),
        "placeholder clients never print the key"
    );

    // After a rotation the snippet has the new key.
    let rotated = p.mcpctl(&["rotate-key"]);
    assert_success(&rotated);
    let new_key = stdout(&rotated).trim().to_string();
    assert_ne!(new_key, key);
    let out = p.mcpctl(&["config", "cursor", "--inline-key"]);
    assert_eq!(
        json_out(&out)["mcpServers"]["cfgdemo"]["headers"]["x-api-key"],
        new_key.as_str()
    );
    let out = p.mcpctl(&["config", "codex"]);
    assert_success(&out);
    assert_eq!(exported_key(&stderr(&out)), Some(new_key.as_str()));

    // Another stage is another stack, not deployed yet.
    let out = p.mcpctl(&["--stage", "prod", "config", "cursor"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cfgdemo-prod is not deployed"),
        "{}",
        stderr(&out)
    );

    // -o json wraps the same document, with how to provide the key.
    let wrapped = json_out(&p.mcpctl(&["config", "cursor", "-o", "json"]));
    assert_eq!(wrapped["url"], endpoint.as_str());
    assert_eq!(wrapped["config"], cursor);
    assert_eq!(wrapped["key"], "env");
    assert_eq!(wrapped["header"], "x-api-key");
    assert_eq!(wrapped["env_var"], "MCPCTL_API_KEY");
    assert_eq!(
        wrapped["export"],
        format!("export MCPCTL_API_KEY={new_key}")
    );
    assert_eq!(wrapped["api_key"], new_key.as_str());
    assert_eq!(
        serde_json::from_str::<Value>(wrapped["text"].as_str().unwrap()).unwrap(),
        cursor
    );
}

/// A destroyed stack, and one whose key secret is gone: one line, no AWS error.
#[tokio::test(flavor = "multi_thread")]
async fn config_of_a_destroyed_stack_says_it_is_not_deployed() {
    let p = Project::new(CONFIG);
    p.deploy_json();
    aws_sdk_secretsmanager::Client::new(&p.sdk().await)
        .delete_secret()
        .secret_id("cfgdemo/api-key")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let out = p.mcpctl(&["config", "vscode"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "error: stack cfgdemo is not deployed in us-east-1 (it has no API key secret): run `mcpctl deploy` first\n"
    );

    assert_success(&p.mcpctl(&["destroy", "--yes"]));
    for client in ["cursor", "claude", "codex"] {
        let out = p.mcpctl(&["config", client]);
        assert!(!out.status.success());
        assert_eq!(
            stderr(&out),
            "error: stack cfgdemo is not deployed in us-east-1: run `mcpctl deploy` first\n"
        );
        assert_eq!(stdout(&out), "");
    }
}

#[test]
fn local_snippets_use_the_running_dev_endpoint_or_the_default() {
    let p = Project::new(CONFIG);
    let state = LocalState::beside(&p.dir.join("deploy.toml"));
    state.set_key(LOCAL_KEY).unwrap();
    state.set_endpoint("http://127.0.0.1:9123/mcp").unwrap();

    let v = json_out(&p.mcpctl(&["config", "vscode", "--local", "--inline-key"]));
    assert_eq!(v["servers"]["cfgdemo"]["url"], "http://127.0.0.1:9123/mcp");
    assert_eq!(v["servers"]["cfgdemo"]["headers"]["x-api-key"], LOCAL_KEY);

    // Not running: where `mcpctl dev` listens by default, same key.
    state.clear_endpoint();
    let out = p.mcpctl(&["config", "claude", "--local"]);
    assert_success(&out);
    assert_eq!(
        stdout(&out).trim(),
        "claude mcp add --transport http cfgdemo http://127.0.0.1:8080/mcp --header \"x-api-key: ${MCPCTL_API_KEY:?set MCPCTL_API_KEY first}\""
    );
    assert_eq!(exported_key(&stderr(&out)), Some(LOCAL_KEY));

    // The hosted APIs cannot reach a local stack: said, but the snippet is still printed.
    let out = p.mcpctl(&["config", "openai", "--local"]);
    assert_success(&out);
    assert!(
        stderr(&out).contains("warning: the OpenAI Responses API connects from its provider's servers and needs a public https:// URL, which http://127.0.0.1:8080/mcp is not"),
        "{}",
        stderr(&out)
    );
    assert_eq!(json_out(&out)["type"], "mcp");
}

#[test]
fn local_without_state_creates_the_key_dev_will_use() {
    let p = Project::new(CONFIG);
    let out = p.mcpctl(&["config", "cursor", "--local"]);
    let v = json_out(&out);
    let key = LocalState::beside(&p.dir.join("deploy.toml"))
        .keys()
        .unwrap()
        .expect("a key was stored")
        .current;
    assert_eq!(key.len(), 64);
    assert_eq!(exported_key(&stderr(&out)), Some(key.as_str()));
    assert_eq!(
        v["mcpServers"]["cfgdemo"]["headers"]["x-api-key"],
        "${env:MCPCTL_API_KEY}"
    );
    let v = json_out(&p.mcpctl(&["config", "cursor", "--local", "--inline-key"]));
    assert_eq!(
        v["mcpServers"]["cfgdemo"]["headers"]["x-api-key"],
        key.as_str()
    );
}

/// Every client, both forms: the key is never in the default snippet (stdout, and `config` of
/// `-o json`), always in the `--inline-key` one; stderr shows it only for clients that read it
/// from the environment or ask for it, never for a placeholder.
#[test]
fn no_client_writes_the_key_unless_told_to() {
    let p = Project::new(CONFIG);
    let state = LocalState::beside(&p.dir.join("deploy.toml"));
    state.set_key(LOCAL_KEY).unwrap();
    state.set_endpoint(GOLDEN_URL).unwrap();
    for (client, _) in CLIENTS {
        let out = p.mcpctl(&["config", client, "--local"]);
        assert_success(&out);
        assert!(
            !stdout(&out).contains(LOCAL_KEY),
            "{client}: {}",
            stdout(&out)
        );
        let err = stderr(&out);
        let wrapped = json_out(&p.mcpctl(&["config", client, "--local", "-o", "json"]));
        assert!(
            !wrapped["config"].to_string().contains(LOCAL_KEY),
            "{client}"
        );
        assert!(!wrapped["text"].to_string().contains(LOCAL_KEY), "{client}");
        assert_eq!(wrapped["text"].as_str().unwrap(), stdout(&out).trim_end());
        match wrapped["key"].as_str().unwrap() {
            "env" => {
                assert_eq!(exported_key(&err), Some(LOCAL_KEY), "{client}: {err}");
                assert_eq!(err.matches(LOCAL_KEY).count(), 1, "{client}: once");
            }
            "prompt" => {
                assert_eq!(client, "vscode");
                assert_eq!(err.matches(LOCAL_KEY).count(), 1, "{err}");
            }
            "placeholder" => {
                assert!(["claude-api", "openai"].contains(&client));
                assert!(!err.contains(LOCAL_KEY), "{client}: {err}");
                assert!(wrapped.get("api_key").is_none());
                assert!(stdout(&out).contains("<MCPCTL_API_KEY>"));
            }
            other => panic!("{client}: key {other}"),
        }

        let out = p.mcpctl(&["config", client, "--local", "--inline-key"]);
        assert_success(&out);
        assert_eq!(stdout(&out).matches(LOCAL_KEY).count(), 1, "{client}");
        assert!(stderr(&out).contains("it contains the API key"), "{client}");
        let wrapped =
            json_out(&p.mcpctl(&["config", client, "--local", "--inline-key", "-o", "json"]));
        assert_eq!(wrapped["key"], "inline");
        assert!(
            wrapped["config"].to_string().contains(LOCAL_KEY),
            "{client}"
        );
    }
}

/// Codex's snippet is TOML: it parses, and it is the document `-o json` gives.
#[test]
fn the_codex_snippet_is_the_documented_toml() {
    let p = Project::new(CONFIG);
    let state = LocalState::beside(&p.dir.join("deploy.toml"));
    state.set_key(LOCAL_KEY).unwrap();
    state.set_endpoint(GOLDEN_URL).unwrap();
    for inline in [false, true] {
        let mut args = vec!["config", "codex", "--local"];
        if inline {
            args.push("--inline-key");
        }
        let text = stdout(&p.mcpctl(&args));
        let parsed: toml::Table = toml::from_str(&text).expect("valid TOML");
        let server = &parsed["mcp_servers"]["cfgdemo"];
        assert_eq!(server["url"].as_str(), Some(GOLDEN_URL));
        let (field, value) = if inline {
            ("http_headers", LOCAL_KEY)
        } else {
            ("env_http_headers", "MCPCTL_API_KEY")
        };
        assert_eq!(server[field]["x-api-key"].as_str(), Some(value), "{text}");
        assert_eq!(server.as_table().map(|t| t.len()), Some(2), "{text}");

        args.extend(["-o", "json"]);
        let wrapped = json_out(&p.mcpctl(&args));
        assert_eq!(wrapped["format"], "toml");
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            wrapped["config"],
            "the TOML is the JSON document"
        );
    }
}

/// `[authorizer] accept` decides the header: bearer-only stacks get `Authorization: Bearer`,
/// and the Claude API, which sends nothing else, is refused for an x-api-key-only stack.
#[test]
fn the_header_follows_authorizer_accept() {
    let p = Project::new(&format!("{CONFIG}\n[authorizer]\naccept = [\"bearer\"]\n"));
    LocalState::beside(&p.dir.join("deploy.toml"))
        .set_key(LOCAL_KEY)
        .unwrap();
    let v = json_out(&p.mcpctl(&["config", "cursor", "--local"]));
    let headers = &v["mcpServers"]["cfgdemo"]["headers"];
    assert_eq!(headers["Authorization"], "Bearer ${env:MCPCTL_API_KEY}");
    assert!(headers.get("x-api-key").is_none());
    let codex = stdout(&p.mcpctl(&["config", "codex", "--local"]));
    assert!(
        codex.ends_with("bearer_token_env_var = \"MCPCTL_API_KEY\"\n"),
        "{codex}"
    );
    let claude = stdout(&p.mcpctl(&["config", "claude", "--local", "--inline-key"]));
    assert!(
        claude.ends_with(&format!("--header \"Authorization: Bearer {LOCAL_KEY}\"\n")),
        "{claude}"
    );

    p.write_config(&format!(
        "{CONFIG}\n[authorizer]\naccept = [\"x-api-key\"]\n"
    ));
    let out = p.mcpctl(&["config", "claude-api", "--local"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "error: Claude API sends the key only as `Authorization: Bearer`, which [authorizer] accept in deploy.toml does not take: add \"bearer\" to it and deploy\n"
    );
    assert_eq!(stdout(&out), "");
    // Every other client sends x-api-key there.
    let v = json_out(&p.mcpctl(&["config", "openai", "--local"]));
    assert_eq!(v["headers"]["x-api-key"], "<MCPCTL_API_KEY>");
}

/// The exact output of every client in both forms, what stderr says about the key, and the
/// client section of `mcpctl dev`'s banner: tests/golden/config.
#[test]
fn snippets_match_the_golden_files() {
    let p = Project::new(CONFIG);
    let state = LocalState::beside(&p.dir.join("deploy.toml"));
    state.set_key(LOCAL_KEY).unwrap();
    state.set_endpoint(GOLDEN_URL).unwrap();
    let mut notes = String::new();
    for (client, ext) in CLIENTS {
        let out = p.mcpctl(&["config", client, "--local"]);
        assert_success(&out);
        golden(&format!("{client}.{ext}"), &stdout(&out));
        notes.push_str(&format!("$ mcpctl config {client}\n{}\n", stderr(&out)));
        let out = p.mcpctl(&["config", client, "--local", "--inline-key"]);
        assert_success(&out);
        golden(&format!("{client}.inline.{ext}"), &stdout(&out));
    }
    golden("stderr.txt", &notes);
    golden(
        "dev-banner.txt",
        &client_config::render_all(&Target {
            name: "mcp-server",
            url: "http://127.0.0.1:8080/mcp",
            api_key: "66a8266f25d4b528e869e29cfd0b95fd5fa49b5e06f552a3c60735f8d2d08e64",
        }),
    );
}

#[test]
fn unknown_client_is_refused() {
    let p = Project::new(CONFIG);
    let out = p.mcpctl(&["config", "emacs", "--local"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for client in ["cursor", "codex", "gemini", "claude-api", "openai"] {
        assert!(err.contains(client), "{err}");
    }
}

/// `[auth] mode = "oauth"`: ChatGPT and claude.ai get what to type into their connector forms
/// (the URL, no header, no key even with --inline-key; stderr says the consent page asks for the
/// key), the header clients are told the key goes as a bearer token only; in api-key mode the
/// OAuth clients are refused with what to change. tests/golden/config/{chatgpt,claude-ai}.txt.
#[test]
fn oauth_clients_get_the_url_in_oauth_mode_only() {
    let p = Project::new(CONFIG);
    let out = p.mcpctl(&["config", "chatgpt", "--local"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "error: ChatGPT signs in with OAuth only: set [auth] mode = \"oauth\" in deploy.toml and deploy (docs/oauth.md)\n"
    );
    assert_eq!(stdout(&out), "");

    let p = Project::new(&format!("{CONFIG}\n[auth]\nmode = \"oauth\"\n"));
    let state = LocalState::beside(&p.dir.join("deploy.toml"));
    state.set_key(LOCAL_KEY).unwrap();
    state.set_endpoint(GOLDEN_URL).unwrap();
    let mut notes = String::new();
    for client in ["chatgpt", "claude-ai"] {
        let out = p.mcpctl(&["config", client, "--local"]);
        assert_success(&out);
        golden(&format!("{client}.txt"), &stdout(&out));
        notes.push_str(&format!("$ mcpctl config {client}\n{}\n", stderr(&out)));
        let inline = p.mcpctl(&["config", client, "--local", "--inline-key"]);
        assert_eq!(stdout(&inline), stdout(&out), "no key is ever written in");
        assert!(!stdout(&out).contains(LOCAL_KEY));
        let v = json_out(&p.mcpctl(&["config", client, "--local", "-o", "json"]));
        assert_eq!(v["url"], GOLDEN_URL);
        assert_eq!(v["config"]["url"], GOLDEN_URL);
        assert_eq!(v["key"], "oauth");
        assert_eq!(v["api_key"], LOCAL_KEY);
    }
    let out = p.mcpctl(&["config", "cursor", "--local"]);
    assert_success(&out);
    notes.push_str(&format!("$ mcpctl config cursor\n{}\n", stderr(&out)));
    assert!(stdout(&out).contains("\"Authorization\": \"Bearer ${env:MCPCTL_API_KEY}\""));
    golden("stderr-oauth.txt", &notes);
}
