//! `schema`: what the migrations produce equals what the real yoyo builds,
//! and a database is read without being written.

use std::path::Path;
use std::process::Command;

use crate::support::{chatbot, mc, repo_root, venv, write};

fn yoyo_apply(sources: &Path, db: &Path) {
    let out = Command::new(venv().join("bin/yoyo"))
        .args(["apply", "--batch", "--no-config-file", "--database"])
        .arg(format!("sqlite:///{}", db.display()))
        .arg(sources)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "yoyo apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn schema_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["schema"];
    all.extend_from_slice(args);
    let run = mc(dir, &all);
    run.code(0);
    run.json()
}

fn objects(v: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "tables": v["tables"], "indexes": v["indexes"], "views": v["views"], "triggers": v["triggers"] })
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn the_schema_of_the_migrations_is_what_yoyo_builds() {
    for dir in [
        "examples/chatbot/migrations",
        "tests/fixtures/migrations/hazards",
    ] {
        let sources = repo_root().join(dir);
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("yoyo.db");
        yoyo_apply(&sources, &db);
        let ours = schema_json(&repo_root(), &["--dir", dir]);
        assert_eq!(ours["source"], "migrations");
        let url = format!("sqlite:///{}", db.display());
        let theirs = schema_json(&repo_root(), &["--database", &url]);
        assert_eq!(theirs["source"], "database");
        assert_eq!(objects(&ours), objects(&theirs), "{dir}");
        // yoyo's own tables are left out.
        let names: Vec<&str> = theirs["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.contains("yoyo")), "{names:?}");
    }
}

#[test]
fn a_database_is_read_without_being_written_even_in_wal_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    // Another process keeps the database open in WAL mode with frames not yet checkpointed.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL); CREATE INDEX idx_notes_body ON notes(body);").unwrap();
    let wal = tmp.path().join("app.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    let before = (std::fs::read(&db).unwrap(), std::fs::read(&wal).unwrap());
    let v = schema_json(tmp.path(), &["--database", "sqlite:///app.db"]);
    assert_eq!(v["database"], "app.db");
    assert_eq!(v["tables"][0]["name"], "notes");
    assert_eq!(v["indexes"][0]["name"], "idx_notes_body");
    assert_eq!(
        (std::fs::read(&db).unwrap(), std::fs::read(&wal).unwrap()),
        before
    );
    drop(conn);
}

#[test]
fn table_narrows_and_an_unknown_table_is_refused() {
    let project = chatbot();
    let v = schema_json(project.path(), &["--table", "messages"]);
    assert_eq!(v["tables"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["tables"][0]["foreign_keys"][0]["references_table"],
        "conversations"
    );
    assert!(v["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["name"] == "idx_messages_conversation_id"));
    let run = mc(project.path(), &["schema", "--table", "nope"]);
    run.code(1);
    let e = run.json();
    assert_eq!(e["error"]["code"], "table_not_found");
    assert!(e["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("conversations"));
}

#[test]
fn a_failing_or_unreadable_migration_is_named() {
    let project = chatbot();
    write(
        &project.path().join("migrations/0005_bad.py"),
        "from yoyo import step\nsteps = [\n    step(\"CREATE TABLE x (id TEXT REFERENCES\", \"DROP TABLE x\"),\n]\n",
    );
    let run = mc(project.path(), &["schema"]);
    run.code(1);
    let e = run.json();
    assert_eq!(e["error"]["code"], "migration_failed");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("migrations/0005_bad.py:3: 0005_bad failed: "),
        "{message}"
    );
    assert!(
        message.contains("syntax error") || message.contains("incomplete input"),
        "{message}"
    );

    write(
        &project.path().join("migrations/0005_bad.py"),
        "from yoyo import step\nstep(lambda conn: None)\n",
    );
    let run = mc(project.path(), &["schema"]);
    run.code(1);
    let e = run.json();
    assert_eq!(e["error"]["code"], "unsupported_step");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("migrations/0005_bad.py:2:"),
        "{e}"
    );

    write(
        &project.path().join("migrations/0005_bad.py"),
        "from yoyo import step\nstep('CREATE TABLE a (x); CREATE TABLE b (y)')\n",
    );
    let run = mc(project.path(), &["schema"]);
    run.code(1);
    assert!(run.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("more than one SQL statement"));
}

#[test]
fn a_closed_wal_database_is_read_without_creating_files_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE notes (id TEXT PRIMARY KEY); PRAGMA journal_mode = WAL;")
        .unwrap();
    drop(conn);
    let names = || {
        let mut v: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let (names_before, bytes_before) = (names(), std::fs::read(&db).unwrap());
    let v = schema_json(tmp.path(), &["--database", "sqlite:///app.db"]);
    assert_eq!(v["tables"][0]["name"], "notes");
    assert_eq!(
        names(),
        names_before,
        "files were created beside the database"
    );
    assert!(
        std::fs::read(&db).unwrap() == bytes_before,
        "the database changed"
    );
}
