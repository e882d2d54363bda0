//! `install` and `uninstall` on copies of the example project.

use std::fs;

use serde::Deserialize;

use crate::support::{chatbot, mc, mc_with_home, repo_root, write};

/// The documented JSON shape of `install --format json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstallReport {
    ok: bool,
    scope: String,
    path: String,
    status: String,
    backup: Option<String>,
    diff: Option<String>,
    migrations_dir: String,
    database: Option<String>,
    project: Option<String>,
    permission: Permission,
    error: Option<ErrorBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Permission {
    settings: String,
    rule: String,
    status: String,
    note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the fields document the shape
struct ErrorBody {
    code: String,
    message: String,
    hint: String,
}

/// The documented JSON shape of `uninstall --format json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UninstallReport {
    ok: bool,
    scope: String,
    path: String,
    status: String,
    backup: Option<String>,
    diff: Option<String>,
    settings: String,
    rule: String,
    rule_status: String,
    error: Option<ErrorBody>,
}

fn install(dir: &std::path::Path, extra: &[&str]) -> (i32, InstallReport) {
    let mut args = vec!["install", "--format", "json"];
    args.extend_from_slice(extra);
    let run = mc(dir, &args);
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr));
    (run.code, report)
}

const AGENT: &str = ".claude/agents/migration-creator.md";

#[test]
fn install_writes_a_valid_agent_for_the_project_and_the_rule_once() {
    let project = chatbot();
    let dir = project.path();
    let (code, r) = install(dir, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        (r.status.as_str(), r.scope.as_str(), r.path.as_str()),
        ("created", "project", AGENT)
    );
    assert!(r.ok && r.error.is_none() && r.diff.is_none() && r.backup.is_none());
    assert_eq!(r.migrations_dir, "migrations");
    assert_eq!(r.database.as_deref(), Some("sqlite:///instance/chatbot.db"));
    assert_eq!(
        (r.permission.status.as_str(), r.permission.rule.as_str()),
        ("added", "Bash(migration-creator *)")
    );
    assert_eq!(r.permission.settings, ".claude/settings.json");
    assert!(r.permission.note.contains("trusted"));

    let text = fs::read_to_string(dir.join(AGENT)).unwrap();
    assert!(text.contains("migrations/NNNN_description.py"));
    assert!(
        text.contains("yoyo apply --batch --database sqlite:///instance/chatbot.db migrations/")
    );
    mc(dir, &["validate", "--strict", AGENT]).code(0);

    // A second run changes nothing, not even the modification time.
    let before = fs::metadata(dir.join(AGENT)).unwrap().modified().unwrap();
    let settings_before = fs::read_to_string(dir.join(".claude/settings.json")).unwrap();
    let (code, r) = install(dir, &[]);
    assert_eq!(
        (code, r.status.as_str(), r.permission.status.as_str()),
        (0, "unchanged", "present")
    );
    assert_eq!(
        fs::metadata(dir.join(AGENT)).unwrap().modified().unwrap(),
        before
    );
    assert_eq!(
        fs::read_to_string(dir.join(".claude/settings.json")).unwrap(),
        settings_before
    );
    let settings: serde_json::Value = serde_json::from_str(&settings_before).unwrap();
    assert_eq!(
        settings["permissions"]["allow"],
        serde_json::json!(["Bash(migration-creator *)"])
    );
    let leftovers: Vec<_> = fs::read_dir(dir.join(".claude/agents"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no temporary files are left: {leftovers:?}"
    );
}

#[test]
fn an_edited_agent_survives_a_plain_install_and_force_keeps_a_backup() {
    let project = chatbot();
    let dir = project.path();
    install(dir, &[]);
    let edited = fs::read_to_string(dir.join(AGENT))
        .unwrap()
        .replace("You are a database", "You are a careful database");
    fs::write(dir.join(AGENT), &edited).unwrap();

    let (code, r) = install(dir, &[]);
    assert_eq!((code, r.status.as_str(), r.ok), (1, "refused", false));
    assert_eq!(r.error.as_ref().unwrap().code, "agent_modified");
    assert!(r.error.as_ref().unwrap().hint.contains("--force"));
    assert!(
        r.diff
            .as_deref()
            .unwrap()
            .contains("-You are a careful database"),
        "{:?}",
        r.diff
    );
    assert_eq!(fs::read_to_string(dir.join(AGENT)).unwrap(), edited);

    let text_run = mc(dir, &["install"]);
    text_run.code(1);
    assert!(
        text_run.stdout.contains("+You are a database"),
        "{}",
        text_run.stdout
    );
    assert!(
        text_run.stderr.contains("error[agent_modified]"),
        "{}",
        text_run.stderr
    );

    let (code, r) = install(dir, &["--check"]);
    assert_eq!((code, r.status.as_str()), (1, "modified"));

    let (code, r) = install(dir, &["--force"]);
    assert_eq!((code, r.status.as_str()), (0, "replaced"));
    let backup = r.backup.unwrap();
    assert_eq!(backup, ".claude/agents/migration-creator.md.bak");
    assert_eq!(fs::read_to_string(dir.join(&backup)).unwrap(), edited);
    let (code, r) = install(dir, &["--check"]);
    assert_eq!((code, r.status.as_str()), (0, "current"));

    // A second forced replacement never overwrites the first backup.
    fs::write(dir.join(AGENT), "edited again\n").unwrap();
    let (_, r) = install(dir, &["--force"]);
    assert_eq!(
        r.backup.as_deref(),
        Some(".claude/agents/migration-creator.md.bak.1")
    );
    assert_eq!(fs::read_to_string(dir.join(&backup)).unwrap(), edited);
}

#[test]
fn an_unedited_older_install_is_updated_without_force() {
    let project = chatbot();
    let dir = project.path();
    // Installed when the project had no database configured.
    fs::rename(dir.join("yoyo.ini"), dir.join("yoyo.ini.off")).unwrap();
    install(dir, &[]);
    fs::rename(dir.join("yoyo.ini.off"), dir.join("yoyo.ini")).unwrap();
    let (code, r) = install(dir, &["--check"]);
    assert_eq!((code, r.status.as_str()), (1, "outdated"));
    let (code, r) = install(dir, &[]);
    assert_eq!((code, r.status.as_str()), (0, "updated"));
    assert!(r.diff.unwrap().contains("+1. Apply migration: .venv/bin/yoyo apply --batch --database sqlite:///instance/chatbot.db"));
}

#[test]
fn dry_run_and_check_write_nothing() {
    let project = chatbot();
    let dir = project.path();
    let (code, r) = install(dir, &["--check"]);
    assert_eq!(
        (code, r.status.as_str(), r.permission.status.as_str()),
        (1, "missing", "absent")
    );
    let (code, r) = install(dir, &["--dry-run"]);
    assert_eq!(
        (code, r.status.as_str(), r.permission.status.as_str()),
        (0, "would_create", "added")
    );
    assert!(r.diff.unwrap().contains("+name: migration-creator"));
    assert!(!dir.join(".claude").exists(), "--dry-run wrote something");
}

#[test]
fn settings_keep_every_other_key_and_entry_in_order() {
    let project = chatbot();
    let dir = project.path();
    let original = r#"{
  "model": "opus",
  "permissions": {
    "deny": ["Read(.env)"],
    "allow": ["Bash(make test)", "Read"]
  },
  "env": {"A": "1"}
}
"#;
    write(&dir.join(".claude/settings.json"), original);
    install(dir, &[]);
    let text = fs::read_to_string(dir.join(".claude/settings.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["permissions"]["allow"],
        serde_json::json!(["Bash(make test)", "Read", "Bash(migration-creator *)"])
    );
    assert_eq!(v["permissions"]["deny"], serde_json::json!(["Read(.env)"]));
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["model", "permissions", "env"]);

    let run = mc(dir, &["uninstall", "--format", "json"]);
    run.code(0);
    let u: UninstallReport = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (u.status.as_str(), u.rule_status.as_str(), u.scope.as_str()),
        ("removed", "removed", "project")
    );
    assert!(u.ok && u.backup.is_none() && u.diff.is_none() && u.error.is_none());
    assert_eq!(
        (u.path.as_str(), u.settings.as_str(), u.rule.as_str()),
        (AGENT, ".claude/settings.json", "Bash(migration-creator *)")
    );
    let after: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join(".claude/settings.json")).unwrap())
            .unwrap();
    let before: serde_json::Value = serde_json::from_str(original).unwrap();
    assert_eq!(after, before, "uninstall restores the settings");
    assert!(!dir.join(AGENT).exists());
}

#[test]
fn broken_settings_stop_install_before_anything_is_written() {
    let project = chatbot();
    let dir = project.path();
    write(&dir.join(".claude/settings.json"), "{ not json");
    let run = mc(dir, &["install", "--format", "json"]);
    run.code(2);
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "settings_invalid");
    assert!(!dir.join(AGENT).exists());
    assert_eq!(
        fs::read_to_string(dir.join(".claude/settings.json")).unwrap(),
        "{ not json"
    );
    // --no-permissions does not read it.
    let (code, r) = install(dir, &["--no-permissions"]);
    assert_eq!((code, r.permission.status.as_str()), (0, "skipped"));
}

#[test]
fn uninstall_refuses_an_edited_agent_without_force() {
    let project = chatbot();
    let dir = project.path();
    install(dir, &[]);
    fs::write(
        dir.join(AGENT),
        "---\nname: migration-creator\ndescription: mine\n---\nmine\n",
    )
    .unwrap();
    let run = mc(dir, &["uninstall", "--format", "json"]);
    run.code(1);
    let u: UninstallReport = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (u.status.as_str(), u.rule_status.as_str()),
        ("refused", "present")
    );
    assert_eq!(u.error.unwrap().code, "agent_modified");
    assert!(dir.join(AGENT).exists());
    let run = mc(dir, &["uninstall", "--force", "--format", "json"]);
    run.code(0);
    let u: UninstallReport = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(u.status, "removed");
    assert_eq!(
        fs::read_to_string(dir.join(u.backup.unwrap())).unwrap(),
        "---\nname: migration-creator\ndescription: mine\n---\nmine\n"
    );
    // The settings file held only our rule, so it is gone.
    assert!(!dir.join(".claude/settings.json").exists());
    let run = mc(dir, &["uninstall", "--format", "json"]);
    run.code(0);
    assert_eq!(run.json()["status"], "absent");
}

#[test]
fn flags_override_yoyo_ini_and_relative_paths_follow_the_ini() {
    let project = chatbot();
    let dir = project.path();
    let (_, r) = install(
        dir,
        &[
            "--dry-run",
            "--dir",
            "db/migrations",
            "--database",
            "sqlite:///data/app.db",
        ],
    );
    assert_eq!(
        (r.migrations_dir.as_str(), r.database.as_deref()),
        ("db/migrations", Some("sqlite:///data/app.db"))
    );
    // Run from a subfolder of a project with a yoyo.ini: the project is the
    // folder of the yoyo.ini, and its relative paths are relative to it.
    let sub = dir.join("service");
    fs::create_dir_all(&sub).unwrap();
    let (_, r) = install(&sub, &["--dry-run"]);
    assert_eq!(r.migrations_dir, "migrations");
    assert_eq!(
        r.project.as_deref().map(std::path::PathBuf::from),
        Some(dir.canonicalize().unwrap())
    );
    // With -C the subfolder is the project, and the yoyo.ini above still applies.
    let (_, r) = install(&sub, &["--dry-run", "-C", "."]);
    assert_eq!(
        r.migrations_dir,
        dir.join("migrations").display().to_string()
    );
    assert_eq!(
        r.database.as_deref(),
        Some(format!("sqlite:///{}/instance/chatbot.db", dir.display()).as_str())
    );
}

#[test]
fn user_scope_installs_into_home() {
    let project = chatbot();
    let home = tempfile::tempdir().unwrap();
    let run = mc_with_home(
        project.path(),
        home.path(),
        &["install", "--scope", "user", "--format", "json"],
    );
    run.code(0);
    let v = run.json();
    assert_eq!(v["path"], "~/.claude/agents/migration-creator.md");
    assert_eq!(v["permission"]["settings"], "~/.claude/settings.json");
    assert!(home
        .path()
        .join(".claude/agents/migration-creator.md")
        .exists());
    assert!(!project.path().join(".claude").exists());
    mc_with_home(
        project.path(),
        home.path(),
        &["uninstall", "--scope", "user"],
    )
    .code(0);
    assert!(!home
        .path()
        .join(".claude/agents/migration-creator.md")
        .exists());
}

#[test]
fn this_repository_dogfoods_the_agent() {
    // .claude/agents/migration-creator.md is exactly what install writes here;
    // after editing agents/, run `cargo run -- install --no-permissions`.
    let (code, r) = install(&repo_root(), &["--check", "--no-permissions"]);
    assert_eq!((code, r.status.as_str()), (0, "current"), "{:?}", r.diff);
}

#[test]
fn json_errors_use_the_envelope() {
    let tmp = tempfile::tempdir().unwrap();
    let run = mc(
        tmp.path(),
        &["install", "--format", "json", "-C", "does/not/exist"],
    );
    run.code(2);
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "project_dir_not_found");
    assert!(v["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("--project-dir"));
}
