//! `context`: the project's configuration as one JSON document, parsed back
//! with serde. The database is only read (its bytes and the files beside it
//! are unchanged); what cannot be known is a warning, not a failure.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::support::{bin, chatbot, mc, mc_with_home, venv, write, yoyo_apply, Run};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Context {
    ok: bool,
    version: String,
    project: String,
    config_file: Option<String>,
    migrations: Migrations,
    database: Database,
    yoyo: Yoyo,
    engine: String,
    pending: Option<Vec<String>>,
    agent: Agent,
    warnings: Vec<Warning>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Migrations {
    dir: String,
    origin: String,
    exists: bool,
    count: usize,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Database {
    url: Option<String>,
    origin: String,
    path: Option<String>,
    exists: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Yoyo {
    found: bool,
    path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Agent {
    project: Scope,
    user: Option<Scope>,
    permission: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scope {
    path: String,
    state: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Warning {
    code: String,
    message: String,
    hint: String,
}

/// `context` with no yoyo anywhere: `--yoyo` names a file that is not there.
fn context(dir: &Path, extra: &[&str]) -> (Run, Context) {
    let mut args = vec!["context", "--yoyo", "no-such-yoyo"];
    args.extend_from_slice(extra);
    let run = mc(dir, &args);
    run.code(0);
    let parsed = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (run, parsed)
}

/// The migration ids in a folder, in file-name order (yoyo's order when no
/// migration declares `__depends__` out of it, as in the example).
fn ids_in(dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".py"))
        .map(|n| n.trim_end_matches(".py").to_string())
        .collect();
    ids.sort();
    ids
}

/// yoyo's key for a migration: the hex SHA-256 of its id.
fn yoyo_hash(id: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A database whose `_yoyo_migration` records `applied`, as yoyo leaves it.
fn database_with_applied(path: &Path, applied: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE _yoyo_migration (migration_hash VARCHAR(64) PRIMARY KEY, migration_id VARCHAR(255), applied_at_utc TIMESTAMP);
         CREATE TABLE _yoyo_version (version INT NOT NULL PRIMARY KEY, installed_at_utc TIMESTAMP);
         INSERT INTO _yoyo_version VALUES (2, '2026-01-01 00:00:00');",
    )
    .unwrap();
    for id in applied {
        conn.execute(
            "INSERT INTO _yoyo_migration VALUES (?1, ?2, '2026-01-01 00:00:00')",
            (yoyo_hash(id), id),
        )
        .unwrap();
    }
}

#[test]
fn applied_means_what_yoyo_means_by_hash_and_a_damaged_table_is_no_answer() {
    let project = chatbot();
    let dir = project.path();
    let all = ids_in(&dir.join("migrations"));
    let db = dir.join("instance/chatbot.db");
    database_with_applied(&db, &all[..2]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    // yoyo keys rows by migration_hash: an edited migration_id changes
    // nothing, a row whose hash is not the id's does not count.
    conn.execute(
        "UPDATE _yoyo_migration SET migration_id = 'renamed by hand' WHERE migration_id = ?1",
        [&all[0]],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO _yoyo_migration VALUES ('not-a-hash', ?1, '2026-01-01 00:00:00')",
        [&all[2]],
    )
    .unwrap();
    let (_, c) = context(dir, &[]);
    assert_eq!(c.pending, Some(all[2..].to_vec()));

    // A NULL hash matches no migration, as in yoyo: nothing else changes.
    conn.execute("INSERT INTO _yoyo_migration VALUES (NULL, 'x', NULL)", [])
        .unwrap();
    drop(conn);
    let (_, c) = context(dir, &[]);
    assert_eq!(c.pending, Some(all[2..].to_vec()));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    // A table of another shape: yoyo cannot read it, and neither may we say
    // "nothing applied" (every migration would look pending).
    // A table of another shape: the same.
    std::fs::remove_file(&db).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE _yoyo_migration (id INTEGER)")
        .unwrap();
    drop(conn);
    let (_, c) = context(dir, &[]);
    assert_eq!(c.pending, None);
    assert_eq!(c.warnings[0].code, "yoyo_state_unreadable");
    assert!(c.warnings[0].hint.contains("_yoyo_migration"));

    // A migration yoyo cannot import is pending, and said.
    write(&dir.join("migrations/0999_broken.py"), "steps = [\n");
    let (_, c) = context(dir, &["--database", "sqlite:///fresh.db"]);
    assert_eq!(
        c.pending
            .as_ref()
            .and_then(|p| p.last())
            .map(String::as_str),
        Some("0999_broken")
    );
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert_eq!(c.warnings[0].code, "python_syntax_error");
    assert!(c.warnings[0]
        .message
        .starts_with("migrations/0999_broken.py:"));
    std::fs::remove_file(dir.join("migrations/0999_broken.py")).unwrap();

    // A `__depends__` the reader cannot read may reorder what is pending:
    // the order is given in file-name order, and said to be a guess.
    write(
        &dir.join("migrations/0000_later.py"),
        "from yoyo import step\n\n__depends__ = {\"0004_\" + \"index_messages_conversation_id\"}\n\nsteps = [step(\"CREATE TABLE later (x)\", \"DROP TABLE later\")]\n",
    );
    let (_, c) = context(dir, &["--database", "sqlite:///fresh.db"]);
    let codes: Vec<&str> = c.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["unsupported_step"]);
    assert!(c.warnings[0]
        .message
        .starts_with("migrations/0000_later.py:"));
    assert!(c.warnings[0].message.contains("__depends__"));
    std::fs::remove_file(dir.join("migrations/0000_later.py")).unwrap();

    // test-apply refuses such a database instead of applying everything.
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "yoyo_state_unreadable");
}

#[test]
fn without_a_database_every_migration_is_pending() {
    let project = chatbot();
    let dir = project.path();
    let (_, c) = context(dir, &[]);
    let all = ids_in(&dir.join("migrations"));
    assert!(c.ok);
    assert_eq!(c.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        Path::new(&c.project),
        std::fs::canonicalize(dir).unwrap().as_path()
    );
    assert_eq!(c.config_file.as_deref(), Some("yoyo.ini"));
    assert_eq!(
        (c.migrations.dir.as_str(), c.migrations.origin.as_str()),
        ("migrations", "yoyo.ini")
    );
    assert!(c.migrations.exists);
    assert_eq!(c.migrations.count, all.len());
    // The same number next-number gives.
    let next = mc(dir, &["next-number"]).json();
    assert_eq!(c.migrations.next.as_deref(), next["next"].as_str());
    assert_eq!(
        c.database.url.as_deref(),
        Some("sqlite:///instance/chatbot.db")
    );
    assert_eq!(c.database.origin, "yoyo.ini");
    assert_eq!(c.database.path.as_deref(), Some("instance/chatbot.db"));
    assert!(!c.database.exists);
    assert!(!c.yoyo.found && c.yoyo.path.is_none());
    assert_eq!(c.engine, "native");
    assert_eq!(c.pending, Some(all));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn pending_is_read_from_the_database_without_writing_it() {
    let project = chatbot();
    let dir = project.path();
    let all = ids_in(&dir.join("migrations"));
    let db = dir.join("instance/chatbot.db");
    database_with_applied(&db, &all[..2]);
    let before = std::fs::read(&db).unwrap();
    let (_, c) = context(dir, &[]);
    assert!(c.database.exists);
    assert_eq!(c.pending, Some(all[2..].to_vec()));
    assert_eq!(std::fs::read(&db).unwrap(), before);
    for side in ["-wal", "-shm", "-journal"] {
        assert!(!dir.join(format!("instance/chatbot.db{side}")).exists());
    }
}

#[test]
fn flags_override_yoyo_ini() {
    let project = chatbot();
    let dir = project.path();
    write(
        &dir.join("db/migrations/0001_a.sql"),
        "CREATE TABLE a (id TEXT);\n",
    );
    let (_, c) = context(
        dir,
        &["--dir", "db/migrations", "--database", "sqlite:///other.db"],
    );
    assert_eq!(
        (c.migrations.dir.as_str(), c.migrations.origin.as_str()),
        ("db/migrations", "flag")
    );
    assert_eq!(c.migrations.count, 1);
    assert_eq!(c.database.path.as_deref(), Some("other.db"));
    assert_eq!(c.database.origin, "flag");
    assert_eq!(c.pending, Some(vec!["0001_a".to_string()]));
}

#[test]
fn the_engine_is_the_one_test_apply_picks() {
    let project = chatbot();
    let dir = project.path();
    // A yoyo that exists is found and picked by `auto`.
    let fake = dir.join("tools/yoyo");
    write(&fake, "#!/bin/sh\nexit 1\n");
    let run = mc(dir, &["context", "--yoyo", "tools/yoyo"]);
    let v = run.code(0).json();
    assert_eq!(v["yoyo"]["found"], true);
    assert_eq!(v["yoyo"]["path"], "tools/yoyo");
    assert_eq!(v["engine"], "yoyo");
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn pending_and_engine_agree_with_test_apply_and_the_real_yoyo() {
    let project = chatbot();
    let dir = project.path();
    let yoyo = venv().join("bin/yoyo");
    let all = ids_in(&dir.join("migrations"));
    // The real yoyo applies the first two migrations to the developer's database.
    let status = Command::new(&yoyo)
        .args([
            "apply",
            "--batch",
            "--no-config-file",
            "--database",
            "sqlite:///instance/chatbot.db",
            "-r",
            &all[1],
            "migrations",
        ])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
    let yoyo_arg = yoyo.to_str().unwrap();
    let c = mc(dir, &["context", "--yoyo", yoyo_arg]).json();
    assert_eq!(c["engine"], "yoyo");
    let pending: Vec<String> = serde_json::from_value(c["pending"].clone()).unwrap();
    assert_eq!(pending, all[2..].to_vec());
    let t = mc(dir, &["test-apply", "--yoyo", yoyo_arg]).json();
    assert_eq!(t["engine"], c["engine"]);
    assert_eq!(t["applied"], c["pending"]);
}

#[test]
fn the_agents_install_state_and_the_permission() {
    let project = chatbot();
    let dir = project.path();
    let (_, c) = context(dir, &[]);
    assert_eq!(c.agent.project.path, ".claude/agents/migration-creator.md");
    assert_eq!(c.agent.project.state, "missing");
    assert_eq!(c.agent.permission, Some(false));
    let user = c.agent.user.expect("HOME is set");
    // mc's HOME is inside the project, so the path is the project's.
    assert_eq!(
        (user.path.as_str(), user.state.as_str()),
        (".test-home/.claude/agents/migration-creator.md", "missing")
    );
    // A HOME elsewhere is shown as ~, and an install there is seen.
    let home = tempfile::tempdir().unwrap();
    mc_with_home(dir, home.path(), &["install", "--scope", "user"]).code(0);
    let run = mc_with_home(dir, home.path(), &["context"]);
    let v = run.code(0).json();
    assert_eq!(
        v["agent"]["user"]["path"],
        "~/.claude/agents/migration-creator.md"
    );
    assert_eq!(v["agent"]["user"]["state"], "current");
    assert_eq!(v["agent"]["project"]["state"], "missing");

    mc(dir, &["install"]).code(0);
    let (_, c) = context(dir, &[]);
    assert_eq!(c.agent.project.state, "current");
    assert_eq!(c.agent.permission, Some(true));

    let agent = dir.join(".claude/agents/migration-creator.md");
    let text = std::fs::read_to_string(&agent).unwrap();
    std::fs::write(&agent, text.replace("You are", "You are, really,")).unwrap();
    let (_, c) = context(dir, &[]);
    assert_eq!(c.agent.project.state, "modified");

    // Another configuration makes the untouched install outdated.
    mc(dir, &["install", "--force"]).code(0);
    let (_, c) = context(dir, &["--database", "sqlite:///elsewhere.db"]);
    assert_eq!(c.agent.project.state, "outdated");
}

#[test]
fn what_cannot_be_known_is_a_warning_with_a_hint() {
    let project = chatbot();
    let dir = project.path();
    std::fs::rename(dir.join("migrations"), dir.join("moved")).unwrap();
    write(&dir.join(".claude/settings.json"), "{ not json");
    let (_, c) = context(dir, &["--database", "postgresql://db/app"]);
    assert!(c.ok);
    assert!(!c.migrations.exists);
    assert_eq!((c.migrations.count, c.migrations.next), (0, None));
    assert_eq!(c.pending, None);
    assert_eq!(c.database.path, None);
    assert_eq!(c.agent.permission, None);
    let codes: Vec<&str> = c.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "migrations_dir_not_found",
            "unsupported_database",
            "settings_invalid"
        ]
    );
    assert!(c
        .warnings
        .iter()
        .all(|w| !w.hint.is_empty() && !w.message.contains(&*dir.to_string_lossy())));

    // A database that is not a SQLite file: pending cannot be read.
    std::fs::rename(dir.join("moved"), dir.join("migrations")).unwrap();
    write(
        &dir.join("instance/chatbot.db"),
        "not a database at all, just text\n",
    );
    let (_, c) = context(dir, &[]);
    assert_eq!(c.pending, None);
    assert_eq!(c.warnings[0].code, "sqlite_error");
}

#[test]
fn text_output_and_json_errors() {
    let project = chatbot();
    let dir = project.path();
    let run = mc(dir, &["context", "--format", "text", "--yoyo", "none"]);
    run.code(0);
    assert!(
        run.stdout
            .contains("database: sqlite:///instance/chatbot.db (yoyo.ini), does not exist yet"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("engine (test-apply --engine auto): native"));

    let run = mc(dir, &["context", "-C", "does/not/exist"]);
    run.code(2);
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "project_dir_not_found");

    let out = Command::new(bin())
        .args(["context", "--format", "sarif"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "unsupported_format");
}

/// A database URL names the file yoyo opens: its query and fragment cut off,
/// its path percent-decoded (yoyo hands SQLite `file:PATH` as a URI).
#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn the_database_is_the_file_the_real_yoyo_opens() {
    for (url, file) in [
        ("sqlite:///instance/my%20app.db", "instance/my app.db"),
        ("sqlite:///instance/q%3Fx.db", "instance/q?x.db"),
        ("sqlite:///instance/a%23b.db", "instance/a#b.db"),
        ("sqlite:///instance/a#b.db", "instance/a"),
    ] {
        let project = chatbot();
        let dir = project.path();
        std::fs::create_dir_all(dir.join("instance")).unwrap();
        let status = yoyo_apply(dir, url).status;
        assert!(status.success(), "{url}");
        assert!(
            dir.join(file).is_file(),
            "yoyo did not create {file} for {url}"
        );
        let (_, c) = context(dir, &["--database", url]);
        assert_eq!(c.database.path.as_deref(), Some(file), "{url}");
        assert!(c.database.exists, "{url}");
        assert_eq!(c.pending, Some(Vec::new()), "{url}: {:?}", c.warnings);
        let v = mc(
            dir,
            &["test-apply", "--engine", "native", "--database", url],
        )
        .json();
        assert_eq!(v["applied"], serde_json::json!([]), "{url}: {v}");
        assert_eq!(v["database"]["source"], file, "{url}: {v}");
    }
}

/// A database without `_yoyo_version` holds yoyo's first schema, which yoyo
/// upgrades (reading `id`, `ctime`): pending is what yoyo then applies; a
/// newer table without its `_yoyo_version` makes yoyo fail, and is said.
#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn yoyos_first_schema_is_read_as_yoyo_upgrades_it() {
    let project = chatbot();
    let dir = project.path();
    let all = ids_in(&dir.join("migrations"));
    let db = dir.join("instance/chatbot.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE _yoyo_migration (id VARCHAR(255) NOT NULL PRIMARY KEY, ctime TIMESTAMP);
         CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, created_at TEXT, updated_at TEXT);",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO _yoyo_migration VALUES (?1, '2016-01-01 00:00:00')",
        [&all[0]],
    )
    .unwrap();
    drop(conn);
    let (_, c) = context(dir, &[]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.pending, Some(all[1..].to_vec()));
    // test-apply's native engine upgrades its copy as yoyo would.
    let v = mc(dir, &["test-apply", "--engine", "native"]).json();
    assert_eq!(v["applied"], serde_json::json!(all[1..]), "{v}");
    // The real yoyo upgrades the table and applies exactly those.
    let out = yoyo_apply(dir, "sqlite:///instance/chatbot.db");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, c) = context(dir, &[]);
    assert_eq!(c.pending, Some(Vec::new()));

    // yoyo's current tables without _yoyo_version: yoyo cannot upgrade them.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("DROP TABLE _yoyo_version").unwrap();
    drop(conn);
    let (_, c) = context(dir, &[]);
    assert_eq!(c.pending, None);
    assert_eq!(c.warnings[0].code, "yoyo_state_unreadable");
    let out = yoyo_apply(dir, "sqlite:///instance/chatbot.db");
    assert!(
        !out.status.success(),
        "yoyo applied a database it cannot upgrade"
    );
}
