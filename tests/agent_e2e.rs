//! The agent's own instructions, followed literally: the shell commands are
//! taken from the installed agent text and run with the values a request
//! ("add an archived flag to conversations") would give.

use std::path::Path;
use std::process::Command;

use crate::support::{bin, chatbot, shell_words, venv};

/// The commands in the agent's ```bash blocks.
fn agent_commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_bash = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_bash = t == "```bash";
            continue;
        }
        if in_bash && t.starts_with("migration-creator ") {
            out.push(shell_words(t));
        }
    }
    out
}

fn run(dir: &Path, words: &[String], extra: &[&str]) -> serde_json::Value {
    assert_eq!(words[0], "migration-creator");
    let out = Command::new(bin())
        .args(&words[1..])
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{words:?}: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{words:?} {extra:?}: {v}");
    v
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn following_the_agent_adds_an_archived_flag_that_passes_test_apply() {
    let project = chatbot();
    let dir = project.path();
    // The developer's database, with the existing migrations applied.
    crate::support::yoyo_apply_to_instance(dir);
    let install = Command::new(bin())
        .args(["install", "--format", "json"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(install.status.success());
    let text = std::fs::read_to_string(dir.join(".claude/agents/migration-creator.md")).unwrap();
    follow_the_agent(dir, &text);
}

/// The plugin's agent has no paths in it: it starts with `context`, and the
/// line it hands the developer is filled in from what `context` said.
#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn following_the_plugins_agent_adds_an_archived_flag_that_passes_test_apply() {
    let project = chatbot();
    let dir = project.path();
    crate::support::yoyo_apply_to_instance(dir);
    let text =
        std::fs::read_to_string(crate::support::repo_root().join("agents/migration-creator.md"))
            .unwrap();
    follow_the_agent(dir, &text);
}

/// Run the agent's own commands for "add an archived flag to conversations"
/// on the example with its database up to date.
fn follow_the_agent(dir: &Path, text: &str) {
    let yoyo = venv().join("bin/yoyo");
    let commands = agent_commands(text);

    // 0. The plugin's agent asks for the project's configuration first.
    let mut filled: Vec<(&str, String)> = Vec::new();
    if text.contains("<migrations>") {
        assert_eq!(
            commands[0],
            ["migration-creator", "context"],
            "the plugin's agent starts with context"
        );
        let v = run(dir, &commands[0], &[]);
        assert_eq!(v["pending"], serde_json::json!([]), "{v}");
        filled.push((
            "<migrations>",
            v["migrations"]["dir"].as_str().unwrap().into(),
        ));
        filled.push(("<database>", v["database"]["url"].as_str().unwrap().into()));
        filled.push((
            "<yoyo>",
            v["yoyo"]["path"].as_str().unwrap_or("yoyo").into(),
        ));
    }

    // 1. See what exists.
    let schema = commands
        .iter()
        .find(|c| c[1] == "schema" && c.len() == 2)
        .expect("the agent runs `migration-creator schema`");
    let v = run(dir, schema, &[]);
    assert!(v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "conversations"));

    // 2. Scaffold with the request's values: table conversations, an archived flag.
    let mut scaffold = commands
        .iter()
        .find(|c| c[1] == "scaffold" && c[2] == "add-column")
        .expect("the agent shows scaffold add-column")
        .clone();
    let set = |words: &mut Vec<String>, flag: &str, value: &str| {
        let i = words
            .iter()
            .position(|w| w == flag)
            .unwrap_or_else(|| panic!("the agent's add-column line has no {flag}"));
        words[i + 1] = value.to_string();
    };
    set(&mut scaffold, "--table", "conversations");
    set(
        &mut scaffold,
        "--column",
        "archived INTEGER NOT NULL DEFAULT 0",
    );
    let v = run(dir, &scaffold, &[]);
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["path"], format!("migrations/{id}.py"));
    assert_eq!(id, "0005_add_archived_to_conversations");

    // 3. Prove it, under both engines.
    let test_apply = commands
        .iter()
        .find(|c| c[1] == "test-apply")
        .expect("the agent runs test-apply");
    for extra in [
        vec!["--engine", "native"],
        vec!["--engine", "yoyo", "--yoyo", yoyo.to_str().unwrap()],
    ] {
        let v = run(dir, test_apply, &extra);
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["applied"], serde_json::json!([id]));
        assert_eq!(v["rollback"]["restores_schema"], true);
        assert_eq!(
            v["changes"]["total"]["tables_altered"][0]["columns_added"],
            serde_json::json!(["archived"])
        );
    }

    // 4. The line the agent hands the developer works with the real yoyo.
    let line = text
        .lines()
        .find(|l| l.contains("Apply migration:"))
        .expect("the agent ends with the yoyo apply line");
    let mut cmd = line
        .split("Apply migration:")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    if !filled.is_empty() {
        // The plugin's line names its placeholders, then says where they come from.
        cmd = cmd.split(" (").next().unwrap().to_string();
        for (placeholder, value) in &filled {
            cmd = cmd.replace(placeholder, value);
        }
    }
    let (program, rest) = cmd.split_once(' ').unwrap();
    assert_eq!(
        rest,
        "apply --batch --database sqlite:///instance/chatbot.db migrations/"
    );
    // The installed agent names the project's virtualenv; the plugin's agent
    // names the yoyo `context` found.
    let expected_program = filled
        .iter()
        .find(|(p, _)| *p == "<yoyo>")
        .map_or(".venv/bin/yoyo", |(_, v)| v.as_str());
    assert_eq!(program, expected_program);
    let mut words = shell_words(&cmd);
    words[0] = yoyo.to_str().unwrap().to_string();
    let status = Command::new(&words[0])
        .args(&words[1..])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
    let conn = rusqlite::Connection::open(dir.join("instance/chatbot.db")).unwrap();
    let archived: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('conversations') WHERE name = 'archived'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(archived, 1);
}

#[test]
fn every_command_the_agent_names_parses() {
    // The agent must never tell the model to use a flag the tool lacks: every
    // command line in its text is accepted by clap (with --help, nothing runs).
    let text =
        std::fs::read_to_string(crate::support::repo_root().join("agents/migration-creator.md"))
            .unwrap();
    let commands = agent_commands(&text);
    assert!(commands.len() >= 10, "{commands:?}");
    for words in commands {
        let tmp = tempfile::tempdir().unwrap();
        let out = Command::new(bin())
            .args(&words[1..])
            .arg("--help")
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{words:?} is not a valid command line: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn following_the_agent_changes_a_check_with_rebuild_table() {
    let project = chatbot();
    let dir = project.path();
    let yoyo = venv().join("bin/yoyo");
    crate::support::yoyo_apply_to_instance(dir);
    let conn = rusqlite::Connection::open(dir.join("instance/chatbot.db")).unwrap();
    conn.execute_batch(
        "INSERT INTO users (id, email) VALUES ('u1', 'ann@example.com'), ('u2', 'bob@example.com');
         INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', 'hello');",
    )
    .unwrap();
    drop(conn);
    let text =
        std::fs::read_to_string(crate::support::repo_root().join("agents/migration-creator.md"))
            .unwrap();
    let commands = agent_commands(&text);
    // The request: "emails must be longer than three characters". The agent
    // starts from the table's definition as `schema --table` shows it.
    let schema = run(
        dir,
        &shell_words("migration-creator schema --table users"),
        &[],
    );
    let current = schema["tables"][0]["sql"].as_str().unwrap().to_string();
    let definition = current.replacen(
        "email TEXT NOT NULL UNIQUE",
        "email TEXT NOT NULL UNIQUE CHECK (length(email) > 3)",
        1,
    );
    assert_ne!(definition, current);
    let mut rebuild = commands
        .iter()
        .find(|c| c[1] == "scaffold" && c[2] == "rebuild-table")
        .expect("the agent shows scaffold rebuild-table")
        .clone();
    let i = rebuild.iter().position(|w| w == "--table").unwrap();
    rebuild[i + 1] = "users".into();
    let i = rebuild.iter().position(|w| w == "--definition").unwrap();
    rebuild[i + 1] = definition;
    let v = run(dir, &rebuild, &[]);
    assert_eq!(v["kind"], "rebuild-table");
    assert_eq!(v["rebuild"]["rollback_loses"], serde_json::json!([]));
    assert_eq!(v["data_checked"], true);
    assert_eq!(v["warnings"], serde_json::json!([]));
    let test_apply = commands.iter().find(|c| c[1] == "test-apply").unwrap();
    for extra in [
        vec!["--engine", "native"],
        vec!["--engine", "yoyo", "--yoyo", yoyo.to_str().unwrap()],
    ] {
        let v = run(dir, test_apply, &extra);
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["rows"][0]["table"], "users");
        assert_eq!(v["rows"][0]["after_reapply"], 2);
        assert_eq!(v["foreign_key_violations"], serde_json::json!([]));
    }
}
