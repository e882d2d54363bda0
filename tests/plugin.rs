//! The repository is a Claude Code plugin and a marketplace. Its agent,
//! `agents/migration-creator.md`, is the installed agent's template rendered
//! a second way (no project paths; it starts with `migration-creator
//! context`): the drift tests keep the file equal to that rendering. The
//! ignored tests ask the real client (2.1.332, from `scripts/test-all.sh`)
//! whether it accepts the plugin and which agents it gives.

use std::path::{Path, PathBuf};
use std::process::Command;

use migration_creator::assets;
use migration_creator::config::ProjectConfig;

use crate::support::{mc, repo_root};

/// Regenerate the plugin's agent: `MIGRATION_CREATOR_BLESS=1 cargo test --test tests plugin::`.
const BLESS: &str = "MIGRATION_CREATOR_BLESS";

#[test]
fn the_plugin_agent_on_disk_is_the_templates_plugin_rendering() {
    let expected = assets::render_plugin_agent().unwrap();
    let path = repo_root().join(assets::PLUGIN_AGENT);
    if std::env::var_os(BLESS).is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == expected,
        "{} differs from the template's plugin rendering (edit src/agent/migration-creator.md.j2, then run {BLESS}=1 cargo test --test tests plugin::):\n{}",
        assets::PLUGIN_AGENT,
        migration_creator::agent::unified_diff(&on_disk, &expected, "on disk", "rendered")
    );
}

/// The lines of `text` that start a Markdown heading, outside code blocks.
fn headings(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|l| {
            if l.starts_with("```") {
                fenced = !fenced;
            }
            !fenced && l.starts_with('#')
        })
        .collect()
}

fn frontmatter(text: &str) -> &str {
    text.split("\n---\n").next().unwrap()
}

#[test]
fn the_installed_and_the_plugin_agent_are_one_template_rendered_two_ways() {
    let chatbot = repo_root().join("examples/chatbot");
    let config = ProjectConfig::load(&chatbot, None, None).unwrap();
    let installed = assets::render_agent(&config).unwrap();
    let plugin = assets::render_plugin_agent().unwrap();
    assert_eq!(frontmatter(&installed), frontmatter(&plugin));
    assert_eq!(headings(&installed), headings(&plugin));
    for text in [&installed, &plugin] {
        assert!(!text.contains("{{") && !text.contains("{%"), "{text}");
    }
    // The installed agent names the project's folders; the plugin's cannot
    // (the client fills nothing in), so it asks `context` first.
    assert!(
        installed.contains("`migrations/`") && installed.contains("sqlite:///instance/chatbot.db")
    );
    assert!(!installed.contains("migration-creator context"));
    assert!(!plugin.contains("sqlite:///instance") && !plugin.contains("`migrations/`"));
    let first_command = plugin
        .split("```bash\n")
        .nth(1)
        .and_then(|b| b.lines().next())
        .unwrap();
    assert_eq!(first_command, "migration-creator context");
    // Only the installed copy carries install's marker.
    assert!(assets::is_unedited_install(&installed));
    assert!(!plugin.contains("<!-- migration-creator install"));
}

#[test]
fn the_plugin_agent_validates_strictly() {
    let run = mc(
        &repo_root(),
        &[
            "validate",
            "--strict",
            "--format",
            "json",
            assets::PLUGIN_AGENT,
        ],
    );
    run.code(0);
    let v = run.json();
    // A file of the plugin checks the plugin: its manifest and its agent.
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{v:#}");
    assert_eq!(files[0]["path"], ".claude-plugin/plugin.json");
    assert_eq!(files[1]["path"], assets::PLUGIN_AGENT);
    assert_eq!(files[1]["name"], "migration-creator:migration-creator");
    assert!(files
        .iter()
        .all(|f| f["diagnostics"] == serde_json::json!([])));
}

/// The real client, 2.1.332: `MIGRATION_CREATOR_CLAUDE`, else what
/// `scripts/test-all.sh` installs with npm into `.tools/claude-code/`. Tests
/// that need it fail, never skip, when it is missing.
pub(crate) fn claude() -> PathBuf {
    let bin = std::env::var_os("MIGRATION_CREATOR_CLAUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/claude-code/node_modules/.bin/claude"));
    let version = Command::new(&bin).arg("--version").output();
    let version = version
        .as_ref()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        version.starts_with("2.1.332 "),
        "no Claude Code 2.1.332 at {} (got {version:?}): run scripts/test-all.sh, which installs it with npm",
        bin.display()
    );
    bin
}

/// The client, offline: an empty HOME, no update checks, and the model API
/// pointed at `api` (a loopback stand-in) with a dummy key.
pub(crate) fn client(home: &Path, api: Option<&str>) -> Command {
    let mut cmd = Command::new(claude());
    cmd.env("HOME", home)
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("ANTHROPIC_API_KEY", "sk-test")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .env_remove("CLAUDE_CODE_OAUTH_TOKEN")
        .env("ANTHROPIC_BASE_URL", api.unwrap_or("http://127.0.0.1:9"))
        .stdin(std::process::Stdio::null());
    cmd
}

pub(crate) fn output(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run claude");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A loopback stand-in for the model API: it keeps each request body and
/// answers 400, so the client ends after its first request.
struct Api {
    url: String,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Api {
    fn start() -> Api {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0usize;
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                keep.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                let msg = r#"{"type":"error","error":{"type":"invalid_request_error","message":"captured"}}"#;
                let status = if first.starts_with("POST") {
                    "400 Bad Request"
                } else {
                    "404 Not Found"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{msg}",
                    msg.len()
                );
            }
        });
        Api { url, bodies }
    }

    /// The agent names the client listed to the model ("Available agent
    /// types" in its request; a plugin's agents are `plugin:agent`).
    fn agents(&self) -> Vec<String> {
        fn strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::String(s) => out.push(s),
                serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut names = Vec::new();
        for body in self.bodies.lock().unwrap().iter() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
                continue;
            };
            let mut all = Vec::new();
            strings(&v, &mut all);
            for s in all {
                let Some(i) = s.find("Available agent types") else {
                    continue;
                };
                for line in s[i..].lines().skip(1) {
                    match line.strip_prefix("- ").and_then(|l| l.split_once(": ")) {
                        Some((name, _)) => names.push(name.to_string()),
                        None if names.is_empty() => continue,
                        None => break,
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// One session (`claude -p hi`) in `project`; the agents it offered the model.
pub(crate) fn session_agents(project: &Path, home: &Path, extra: &[&str]) -> Vec<String> {
    let api = Api::start();
    let mut cmd = client(home, Some(&api.url));
    cmd.args(extra).args(["-p", "hi"]).current_dir(project);
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("claude -p did not end within 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    api.agents()
}

#[test]
#[ignore = "needs Claude Code 2.1.332 from npm; scripts/test-all.sh installs it"]
fn the_real_client_validates_the_plugin_and_the_marketplace_strictly() {
    let home = tempfile::tempdir().unwrap();
    let repo = repo_root();
    // The repository holds both manifests; the client validates the
    // marketplace for the folder and names what its plugin gives. Each
    // manifest is checked on its own too.
    for (target, kind, agents) in [
        (
            repo.clone(),
            "marketplace",
            Some("migration-creator:migration-creator"),
        ),
        (
            repo.join(".claude-plugin/plugin.json"),
            "plugin",
            Some("migration-creator:migration-creator"),
        ),
        (
            repo.join(".claude-plugin/marketplace.json"),
            "marketplace",
            None,
        ),
    ] {
        let (ok, stdout, stderr) = output(
            client(home.path(), None)
                .args(["plugin", "validate", "--strict", "--json"])
                .arg(&target)
                .current_dir(&repo),
        );
        let v: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
        assert!(ok && v["success"] == true, "{}: {v:#}", target.display());
        assert_eq!(v["manifest"]["type"], kind, "{v:#}");
        assert_eq!(v["manifest"]["errors"], serde_json::json!([]), "{v:#}");
        assert_eq!(v["manifest"]["warnings"], serde_json::json!([]), "{v:#}");
        if let Some(agent) = agents {
            assert_eq!(
                v["provides"]["agents"],
                serde_json::json!([agent]),
                "{}: {v:#}",
                target.display()
            );
        }
    }
}

#[test]
#[ignore = "needs Claude Code 2.1.332 from npm; scripts/test-all.sh installs it"]
fn the_real_client_lists_the_plugins_agent() {
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let without = session_agents(project.path(), home.path(), &[]);
    assert!(
        !without.is_empty() && !without.iter().any(|a| a.contains("migration-creator")),
        "{without:?}"
    );
    let repo = repo_root();
    let with = session_agents(
        project.path(),
        home.path(),
        &["--plugin-dir", repo.to_str().unwrap()],
    );
    let added: Vec<&String> = with.iter().filter(|a| !without.contains(a)).collect();
    assert_eq!(added, ["migration-creator:migration-creator"], "{with:?}");
}

/// The files a clone of the repository has (tracked, or new and not ignored).
fn copy_checkout(to: &Path) {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success());
    for rel in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).unwrap());
        let from = repo_root().join(rel);
        if from.is_file() {
            std::fs::create_dir_all(to.join(rel).parent().unwrap()).unwrap();
            std::fs::copy(&from, to.join(rel)).unwrap();
        }
    }
}

#[test]
#[ignore = "needs Claude Code 2.1.332 from npm; scripts/test-all.sh installs it"]
fn the_real_client_installs_the_plugin_from_the_marketplace() {
    let home = tempfile::tempdir().unwrap();
    let market = tempfile::tempdir().unwrap();
    copy_checkout(market.path());
    let project = tempfile::tempdir().unwrap();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join(".claude-plugin/marketplace.json")).unwrap(),
    )
    .unwrap();
    let id = format!("migration-creator@{}", manifest["name"].as_str().unwrap());
    for args in [
        vec![
            "plugin",
            "marketplace",
            "add",
            market.path().to_str().unwrap(),
        ],
        vec!["plugin", "install", &id, "--scope", "project"],
    ] {
        let (ok, stdout, stderr) = output(
            client(home.path(), None)
                .args(&args)
                .current_dir(project.path()),
        );
        assert!(ok, "claude {args:?}:\n{stdout}\n{stderr}");
    }
    let settings: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.path().join(".claude/settings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(settings["enabledPlugins"][&id], true, "{settings:#}");
    let agents = session_agents(project.path(), home.path(), &[]);
    assert!(
        agents
            .iter()
            .any(|a| a == "migration-creator:migration-creator"),
        "{agents:?}"
    );
}

#[test]
fn the_manifests_carry_the_crates_metadata() {
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(repo_root().join(".claude-plugin").join(name)).unwrap(),
        )
        .unwrap()
    };
    let plugin = read("plugin.json");
    assert_eq!(plugin["name"], env!("CARGO_PKG_NAME"));
    assert_eq!(plugin["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(plugin["license"], env!("CARGO_PKG_LICENSE"));
    let license = std::fs::read_to_string(repo_root().join("LICENSE")).unwrap();
    let author = plugin["author"]["name"].as_str().unwrap();
    assert!(license.contains(author), "the author is LICENSE's holder");
    let market = read("marketplace.json");
    let entry = &market["plugins"][0];
    assert_eq!(entry["name"], plugin["name"]);
    assert_eq!(entry["source"], "./");
    assert!(repo_root().join(assets::PLUGIN_AGENT).is_file());
}
