//! `test-apply`: both engines agree, failures are caught, and the real
//! database is never written.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{bin, chatbot, copy_dir, mc_with_home, repo_root, venv, write};

fn test_apply(project: &Path, engine: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let yoyo = venv().join("bin/yoyo");
    let mut args = vec![
        "test-apply",
        "--engine",
        engine,
        "--yoyo",
        yoyo.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let tmp = project.join(".tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = Command::new(bin())
        .args(&args)
        .current_dir(project)
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let leftovers: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    if !extra.contains(&"--keep") {
        assert!(
            leftovers.is_empty(),
            "scratch files left behind: {leftovers:?}"
        );
    }
    (out.status.code().unwrap(), v)
}

/// Both engines on the same project: the same exit, `ok`, `applied` and `changes`.
fn both(project: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let (native_code, native) = test_apply(project, "native", extra);
    let (yoyo_code, yoyo) = test_apply(project, "yoyo", extra);
    assert_eq!(native["engine"], "native");
    for key in ["source", "mode", "bytes"] {
        assert_eq!(
            native["database"][key], yoyo["database"][key],
            "engines disagree on database.{key}"
        );
    }
    assert_eq!(yoyo["engine"], "yoyo");
    assert_eq!(
        native_code, yoyo_code,
        "exit codes differ\nnative: {native}\nyoyo: {yoyo}"
    );
    for key in [
        "ok",
        "warnings",
        "applied",
        "changes",
        "rows",
        "rollback",
        "reapply",
        "queries",
        "foreign_key_violations",
        "checked_tables",
    ] {
        assert_eq!(
            native[key], yoyo[key],
            "engines disagree on {key}\nnative: {native}\nyoyo: {yoyo}"
        );
    }
    let failures = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                serde_json::json!([f["migration"], f["phase"], f["step"], f["code"], f["sql"]])
            })
            .collect()
    };
    assert_eq!(
        failures(&native),
        failures(&yoyo),
        "engines disagree on failures\nnative: {native}\nyoyo: {yoyo}"
    );
    (native_code, native)
}

fn file_bytes(db: &Path) -> Vec<Option<Vec<u8>>> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| std::fs::read(format!("{}{s}", db.display())).ok())
        .collect()
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn engines_agree_on_every_migration_in_the_suite() {
    // The example on an empty database.
    let project = chatbot();
    let (code, v) = both(project.path(), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["database"]["mode"], "empty");
    assert_eq!(v["applied"].as_array().unwrap().len(), 4);
    assert_eq!(
        v["changes"]["total"]["tables_added"],
        serde_json::json!(["conversations", "messages", "users"])
    );

    // The hazards folder: 0003_group has a step without a rollback, and both
    // engines see that its rollback leaves table t3c behind.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &repo_root().join("tests/fixtures/migrations/hazards"),
        &tmp.path().join("migrations"),
    );
    let (code, v) = both(tmp.path(), &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["applied"].as_array().unwrap().len(), 10);
    assert_eq!(v["rollback"]["restores_schema"], false);
    assert!(
        v["rollback"]["differences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "0003_group: after its rollback, table t3c added"),
        "{v}"
    );

    // Every scaffold kind, pending on top of a database the real yoyo built.
    let project = chatbot();
    let dir = project.path();
    crate::support::yoyo_apply_to_instance(dir);
    for args in [
        vec![
            "scaffold",
            "create-table",
            "--table",
            "preferences",
            "--column",
            "user_id TEXT NOT NULL REFERENCES users(id)",
        ],
        vec![
            "scaffold",
            "add-column",
            "--table",
            "conversations",
            "--column",
            "archived INTEGER NOT NULL DEFAULT 0",
        ],
        vec![
            "scaffold",
            "create-index",
            "--table",
            "conversations",
            "--columns",
            "user_id,archived",
            "--unique",
        ],
        vec![
            "scaffold",
            "drop-index",
            "--name",
            "idx_messages_conversation_id",
        ],
        vec![
            "scaffold",
            "rename-column",
            "--table",
            "users",
            "--from",
            "display_name",
            "--to",
            "full_name",
        ],
        vec![
            "scaffold",
            "rename-table",
            "--from",
            "preferences",
            "--to",
            "user_preferences",
        ],
    ] {
        mc_with_home(dir, dir, &args).code(0);
    }
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["database"]["mode"], "full");
    assert_eq!(v["applied"].as_array().unwrap().len(), 6);
    assert_eq!(v["changes"]["per_migration"].as_array().unwrap().len(), 6);
    let (code, v) = both(dir, &["--schema-only"]);
    assert_eq!(
        (code, v["database"]["mode"].as_str()),
        (0, Some("schema-only"))
    );
    assert_eq!(v["applied"].as_array().unwrap().len(), 6);
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn a_rollback_that_restores_nothing_fails() {
    let project = chatbot();
    write(
        &project.path().join("migrations/0005_archived.py"),
        "from yoyo import step\n\nsteps = [\n    step(\n        \"ALTER TABLE conversations ADD COLUMN archived INTEGER NOT NULL DEFAULT 0\",\n        \"-- SQLite doesn't support DROP COLUMN before 3.35.0\",\n    ),\n]\n",
    );
    let (code, v) = both(project.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["rollback"]["restores_schema"], false);
    let diffs: Vec<&str> = v["rollback"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(
        diffs,
        ["0005_archived: after its rollback, column conversations.archived added"]
    );
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn duplicates_only_in_the_wal_of_an_open_database_fail_the_unique_index() {
    let project = chatbot();
    let dir = project.path();
    let db = dir.join("instance/chatbot.db");
    crate::support::yoyo_apply_to_instance(dir);
    // Another process (this test) holds the database open in WAL mode; the
    // duplicate rows exist only in WAL frames that were never checkpointed.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         INSERT INTO users (id, email) VALUES ('u1', 'a@example.com'), ('u2', 'b@example.com');
         INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', 'same'), ('c2', 'u1', 'same');",
    )
    .unwrap();
    assert!(
        std::fs::metadata(dir.join("instance/chatbot.db-wal"))
            .unwrap()
            .len()
            > 0
    );
    mc_with_home(
        dir,
        dir,
        &[
            "scaffold",
            "create-index",
            "--table",
            "conversations",
            "--columns",
            "user_id,title",
            "--unique",
        ],
    )
    .code(0);
    let before = file_bytes(&db);
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["applied"], serde_json::json!([]));
    assert_eq!(
        file_bytes(&db),
        before,
        "the real database, -wal or -shm changed"
    );
    // Each engine names the failing migration and SQLite's complaint.
    for engine in ["native", "yoyo"] {
        let (_, v) = test_apply(dir, engine, &[]);
        let f = &v["failures"][0];
        assert!(
            f["migration"]
                .as_str()
                .unwrap()
                .contains("idx_conversations_user_id_title"),
            "{v}"
        );
        assert_eq!(f["phase"], "apply");
        assert!(
            f["error"].as_str().unwrap().contains("UNIQUE"),
            "{engine}: {f}"
        );
    }
    assert_eq!(file_bytes(&db), before);
    drop(conn);
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn the_real_database_is_unchanged_after_success_and_after_a_kill() {
    let project = chatbot();
    let dir = project.path();
    let db = dir.join("instance/chatbot.db");
    crate::support::yoyo_apply_to_instance(dir);
    mc_with_home(
        dir,
        dir,
        &[
            "scaffold",
            "add-column",
            "--table",
            "users",
            "--column",
            "bio TEXT",
        ],
    )
    .code(0);
    let before = file_bytes(&db);
    let (code, _) = both(dir, &[]);
    assert_eq!(code, 0);
    assert_eq!(file_bytes(&db), before);
    // Killed midway through a yoyo run.
    let yoyo = venv().join("bin/yoyo");
    let mut child = Command::new(bin())
        .args([
            "test-apply",
            "--engine",
            "yoyo",
            "--yoyo",
            yoyo.to_str().unwrap(),
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(file_bytes(&db), before);
}

#[test]
fn keep_leaves_the_scratch_copy_and_native_refuses_callables() {
    let project = chatbot();
    let dir = project.path();
    let run = mc_with_home(dir, dir, &["test-apply", "--engine", "native", "--keep"]);
    run.code(0);
    let v = run.json();
    let kept = v["scratch"].as_str().unwrap().to_string();
    assert!(Path::new(&kept).is_file());
    std::fs::remove_dir_all(Path::new(&kept).parent().unwrap()).unwrap();

    write(
        &dir.join("migrations/0005_callable.py"),
        "from yoyo import step\n\ndef up(conn):\n    pass\n\nsteps = [step(up)]\n",
    );
    let run = mc_with_home(dir, dir, &["test-apply", "--engine", "native"]);
    run.code(1);
    let v = run.json();
    assert_eq!(v["error"]["code"], "unsupported_step");
    assert!(v["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("--engine yoyo"));
}

#[test]
fn doctor_reports_each_problem_with_its_fix() {
    let project = chatbot();
    let dir = project.path();
    let run = mc_with_home(dir, dir, &["doctor", "--format", "json"]);
    run.code(1);
    let v = run.json();
    let check = |name: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(check("agent")["ok"], false);
    assert!(check("agent")["fix"]
        .as_str()
        .unwrap()
        .contains("migration-creator install"));
    assert_eq!(check("permission")["ok"], false);
    assert_eq!(check("migrations")["ok"], true);
    assert_eq!(check("sqlite (migration-creator)")["ok"], true);
    assert!(check("configuration")["detail"]
        .as_str()
        .unwrap()
        .contains("sqlite:///instance/chatbot.db (yoyo.ini)"));
    mc_with_home(dir, dir, &["install"]).code(0);
    write(&dir.join("migrations/0004_dup.py"), "");
    let v = mc_with_home(dir, dir, &["doctor", "--format", "json"]).json();
    let check = |name: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(check("agent")["ok"], true);
    assert_eq!(check("permission")["ok"], true);
    assert_eq!(check("migrations")["ok"], false);
    assert!(check("migrations")["fix"]
        .as_str()
        .unwrap()
        .contains("duplicate_number"));
}

#[test]
fn closed_wal_and_read_only_databases_are_copied_without_creating_files() {
    let project = chatbot();
    let dir = project.path();
    let db = dir.join("instance/chatbot.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE early (id TEXT PRIMARY KEY); PRAGMA journal_mode = WAL;")
        .unwrap();
    drop(conn);
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(db.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = (listing(), file_bytes(&db));
    let run = mc_with_home(dir, dir, &["test-apply", "--engine", "native"]);
    run.code(0);
    let v = run.json();
    assert_eq!(v["database"]["mode"], "full");
    assert!(
        v["changes"]["total"]["tables_added"]
            .as_array()
            .unwrap()
            .len()
            == 3
    );
    assert_eq!(
        (listing(), file_bytes(&db)),
        before,
        "files beside the database were created or changed"
    );

    // A database in rollback-journal mode whose file is read-only.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA journal_mode = DELETE;").unwrap();
    drop(conn);
    let mut perms = std::fs::metadata(&db).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&db, perms).unwrap();
    let before = (listing(), file_bytes(&db));
    let run = mc_with_home(dir, dir, &["test-apply", "--engine", "native"]);
    run.code(0);
    assert_eq!((listing(), file_bytes(&db)), before);
}
