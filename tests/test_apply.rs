//! `test-apply`: both engines agree, failures are caught, and the real
//! database is never written.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{bin, chatbot, copy_dir, mc, mc_with_home, repo_root, venv, write};

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
    // scaffold reads the database (read-only, WAL frames included) and warns
    // with the duplicate values; --no-data reads nothing and says so.
    let before = file_bytes(&db);
    let quiet = mc_with_home(
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
            "--no-data",
            "--dry-run",
        ],
    );
    quiet.code(0);
    assert_eq!(quiet.json()["data_checked"], false);
    assert_eq!(quiet.json()["warnings"], serde_json::json!([]));
    let run = mc_with_home(
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
    );
    run.code(0);
    let r = run.json();
    assert_eq!(r["data_checked"], true);
    assert_eq!(r["warnings"][0]["code"], "duplicates", "{r}");
    assert!(
        r["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2 rows of conversations that share 1 value of (user_id, title), for example ('u1', 'same') (2 rows)"),
        "{r}"
    );
    assert_eq!(file_bytes(&db), before, "scaffold changed the database");
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
                .contains("unique_index_conversations_user_id_title"),
            "{v}"
        );
        assert_eq!(f["phase"], "apply");
        assert!(
            f["error"].as_str().unwrap().contains("UNIQUE"),
            "{engine}: {f}"
        );
        // The hint names the duplicate values, read from the scratch copy.
        assert_eq!(f["code"], "constraint", "{engine}: {f}");
        assert_eq!(f["step"], 1, "{engine}: {f}");
        assert!(f["sql"]
            .as_str()
            .unwrap()
            .starts_with("CREATE UNIQUE INDEX"));
        let hint = f["hint"].as_str().unwrap();
        assert!(
            hint.starts_with("2 rows of conversations share 1 value of (user_id, title), for example ('u1', 'same') (2 rows)"),
            "{engine}: {hint}"
        );
        assert!(hint.contains("ask the developer"), "{engine}: {hint}");
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
    conn.execute_batch(
        "CREATE TABLE early (id TEXT PRIMARY KEY);
         CREATE TABLE _yoyo_migration (migration_hash VARCHAR(64), migration_id VARCHAR(255), applied_at_utc TIMESTAMP, PRIMARY KEY (migration_hash));
         PRAGMA journal_mode = WAL;",
    )
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
    // The schema-only copy of a closed WAL database that holds yoyo's tables
    // reads their rows without a second open of the file.
    let run = mc_with_home(
        dir,
        dir,
        &["test-apply", "--engine", "native", "--schema-only"],
    );
    run.code(0);
    assert_eq!(run.json()["database"]["mode"], "schema-only");
    assert_eq!(
        (listing(), file_bytes(&db)),
        before,
        "--schema-only created or changed files"
    );
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

#[test]
#[cfg(unix)]
fn a_database_behind_a_link_and_a_stray_shm_are_read_as_sqlite_reads_them() {
    use sha2::{Digest, Sha256};
    let project = chatbot();
    let dir = project.path();
    // The app's database lives elsewhere; instance/chatbot.db links to it.
    // SQLite keeps its -wal and -shm beside the real file.
    let real = dir.join("real/app.db");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::create_dir_all(dir.join("instance")).unwrap();
    std::os::unix::fs::symlink("../real/app.db", dir.join("instance/chatbot.db")).unwrap();
    let app = rusqlite::Connection::open(&real).unwrap();
    app.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE marker (x); INSERT INTO marker VALUES (1), (2);",
    )
    .unwrap();
    assert!(dir.join("real/app.db-wal").exists());
    // The rows are only in the -wal: a copy that skipped it would have none.
    let run = mc(
        dir,
        &[
            "test-apply",
            "--engine",
            "native",
            "--query",
            "SELECT count(*) FROM marker",
        ],
    );
    run.code(0);
    let v = run.json();
    assert_eq!(v["queries"][0]["rows"], serde_json::json!([[2]]), "{v}");
    // What yoyo recorded in the -wal counts as applied.
    let first = "0001_create_users";
    let hash: String = Sha256::digest(first.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    app.execute_batch(&format!(
        "CREATE TABLE _yoyo_migration (migration_hash VARCHAR(64) PRIMARY KEY, migration_id VARCHAR(255), applied_at_utc TIMESTAMP);
         CREATE TABLE _yoyo_version (version INT NOT NULL PRIMARY KEY, installed_at_utc TIMESTAMP);
         INSERT INTO _yoyo_version VALUES (2, '2026-01-01 00:00:00');
         INSERT INTO _yoyo_migration VALUES ('{hash}', '{first}', '2026-01-01 00:00:00');"
    ))
    .unwrap();
    let v = mc(dir, &["context", "--yoyo", "none"]).json();
    let pending = v["pending"].as_array().unwrap();
    assert!(
        !pending.is_empty() && !pending.contains(&serde_json::json!(first)),
        "{v}"
    );
    drop(app);

    // A -shm with no -wal beside it (a crash, a -wal removed by hand): read
    // the file alone, never create a -wal beside the user's database.
    assert!(!dir.join("real/app.db-wal").exists());
    std::fs::write(dir.join("real/app.db-shm"), b"").unwrap();
    let before = (listing(&dir.join("real")), file_bytes(&real));
    let run = mc(
        dir,
        &[
            "test-apply",
            "--engine",
            "native",
            "--query",
            "SELECT count(*) FROM marker",
        ],
    );
    assert_eq!(run.json()["queries"][0]["rows"], serde_json::json!([[2]]));
    mc(dir, &["context", "--yoyo", "none"]).code(0);
    mc(
        dir,
        &["schema", "--database", "sqlite:///instance/chatbot.db"],
    )
    .code(0);
    assert_eq!(
        (listing(&dir.join("real")), file_bytes(&real)),
        before,
        "files beside the database were created or changed"
    );
}

#[test]
fn schema_only_copies_virtual_tables_without_their_shadow_tables() {
    let project = chatbot();
    let dir = project.path();
    let db = dir.join("instance/chatbot.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE VIRTUAL TABLE docs USING fts5(title, body);
         INSERT INTO docs VALUES ('a', 'b');
         CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);",
    )
    .unwrap();
    drop(conn);
    let run = mc(
        dir,
        &[
            "test-apply",
            "--engine",
            "native",
            "--schema-only",
            "--query",
            "SELECT count(*) FROM docs",
        ],
    );
    let v = run.json();
    run.code(0);
    assert_eq!(v["database"]["mode"], "schema-only", "{v}");
    // The schema, not the rows: the virtual table is there, empty.
    assert_eq!(v["queries"][0]["rows"], serde_json::json!([[0]]), "{v}");
}

#[test]
fn queries_may_run_pragmas_that_report_and_never_one_that_sets() {
    let project = chatbot();
    let dir = project.path();
    let run = mc(
        dir,
        &[
            "test-apply",
            "--engine",
            "native",
            "--query",
            "PRAGMA table_info(users)",
            "--query",
            "SELECT name FROM pragma_index_list('messages') WHERE origin = 'c'",
            "--query",
            "PRAGMA user_version = 7",
            "--query",
            "PRAGMA journal_mode = WAL",
        ],
    );
    run.code(0);
    let v = run.json();
    let q = v["queries"].as_array().unwrap();
    assert!(q[0]["error"].is_null(), "{v}");
    assert!(
        q[0]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[1] == "email"),
        "{v}"
    );
    assert_eq!(
        q[1]["rows"],
        serde_json::json!([["idx_messages_conversation_id"]]),
        "{v}"
    );
    for setting in &q[2..] {
        assert!(
            setting["error"].as_str().unwrap().starts_with("refused:"),
            "{v}"
        );
    }
}

/// The schema of `db` as `schema --database` reports it (null when absent).
fn schema_of(project: &Path, db: &Path) -> serde_json::Value {
    if !db.exists() {
        return serde_json::json!({"tables": [], "indexes": [], "views": [], "triggers": []});
    }
    let url = format!("sqlite:///{}", db.display());
    let run = mc(project, &["schema", "--database", &url]);
    run.code(0);
    let v = run.json();
    serde_json::json!({
        "tables": v["tables"], "indexes": v["indexes"], "views": v["views"], "triggers": v["triggers"],
    })
}

/// The round trip done with yoyo's own commands on a copy of the project's
/// database: the schemas before, after `yoyo apply`, after `yoyo rollback
/// --all` and after a second `yoyo apply`.
fn yoyo_cli_round_trip(project: &Path, source: Option<&Path>) -> [serde_json::Value; 4] {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("copy.db");
    if let Some(src) = source {
        std::fs::copy(src, &copy).unwrap();
    }
    let yoyo = |cmd: &str| {
        let mut c = Command::new(venv().join("bin/yoyo"));
        c.args([cmd, "--batch", "--no-config-file", "--database"])
            .arg(format!("sqlite:///{}", copy.display()));
        if cmd == "rollback" {
            c.arg("--all");
        }
        c.arg(project.join("migrations")).current_dir(project);
        let _ = c.output().unwrap();
    };
    let s0 = schema_of(project, &copy);
    yoyo("apply");
    let s1 = schema_of(project, &copy);
    yoyo("rollback");
    let s2 = schema_of(project, &copy);
    yoyo("apply");
    let s3 = schema_of(project, &copy);
    [s0, s1, s2, s3]
}

/// test-apply's verdicts agree with the round trip yoyo's own commands make.
fn agrees_with_yoyo_cli(project: &Path, source: Option<&Path>, v: &serde_json::Value) {
    let [s0, s1, s2, s3] = yoyo_cli_round_trip(project, source);
    let names = |s: &serde_json::Value| -> Vec<String> {
        s["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let added: Vec<String> = names(&s1)
        .into_iter()
        .filter(|t| !names(&s0).contains(t))
        .collect();
    let mut expected = v["changes"]["total"]["tables_added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    expected.sort();
    assert_eq!(added, expected, "tables yoyo apply adds\n{v}");
    assert_eq!(
        v["rollback"]["restores_schema"].as_bool().unwrap(),
        s2 == s0,
        "restores_schema disagrees with yoyo rollback --all\n{v}"
    );
    if v["reapply"]["ok"] == true {
        assert_eq!(s3, s1, "a second yoyo apply differs though reapply.ok\n{v}");
    }
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn verdicts_match_a_round_trip_with_yoyos_own_commands() {
    let project = chatbot();
    let (_, v) = both(project.path(), &[]);
    agrees_with_yoyo_cli(project.path(), None, &v);

    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &repo_root().join("tests/fixtures/migrations/hazards"),
        &tmp.path().join("migrations"),
    );
    let (_, v) = both(tmp.path(), &[]);
    assert_eq!(v["rollback"]["restores_schema"], false);
    agrees_with_yoyo_cli(tmp.path(), None, &v);
}

/// A project whose real database holds rows, in WAL mode, held open by this
/// test with frames still in its -wal, so -wal and -shm exist too.
fn project_with_open_wal_database() -> (tempfile::TempDir, rusqlite::Connection) {
    let project = chatbot();
    let dir = project.path();
    crate::support::yoyo_apply_to_instance(dir);
    let conn = rusqlite::Connection::open(dir.join("instance/chatbot.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         INSERT INTO users (id, email) VALUES ('u1', 'a@example.com'), ('u2', 'b@example.com');
         INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', 'same'), ('c2', 'u1', 'same'), ('c3', 'u2', 'other');",
    )
    .unwrap();
    (project, conn)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn migrations_cannot_reach_the_real_database() {
    let (project, conn) = project_with_open_wal_database();
    let dir = project.path();
    let db = dir.join("instance/chatbot.db");
    let before = (file_bytes(&db), listing(db.parent().unwrap()));
    assert!(
        before.0.iter().all(Option::is_some),
        "db, -wal and -shm exist"
    );
    let absolute = db.display().to_string();
    let attacks = [
        "ATTACH DATABASE 'instance/chatbot.db' AS live".to_string(),
        format!("ATTACH DATABASE '{absolute}' AS live"),
        "ATTACH DATABASE 'instance/' || 'chatbot.db' AS live".to_string(),
        format!("ATTACH DATABASE 'file:{absolute}?mode=rw' AS live"),
        "VACUUM INTO 'instance/stolen.db'".to_string(),
        "SELECT load_extension('instance/evil')".to_string(),
    ];
    for (attack, transactional) in attacks.iter().flat_map(|a| [(a, "True"), (a, "False")]) {
        if attack.starts_with("VACUUM") && transactional == "True" {
            // SQLite refuses VACUUM inside a transaction before anything else.
            continue;
        }
        write(
            &dir.join("migrations/0005_attack.py"),
            &format!(
                "from yoyo import step\n\n__transactional__ = {transactional}\n\nsteps = [\n    step({attack:?}, \"SELECT 1\"),\n    step(\"DELETE FROM live.conversations\", \"SELECT 1\"),\n]\n"
            ),
        );
        let (code, v) = both(dir, &[]);
        assert_eq!(code, 1, "{attack}: {v}");
        let f = &v["failures"][0];
        assert_eq!(f["code"], "outside_scratch", "{attack}: {v}");
        assert_eq!(f["step"], 1, "{attack}: {v}");
        assert!(f["hint"].as_str().unwrap().contains("sealed scratch copy"));
        assert_eq!(
            (file_bytes(&db), listing(db.parent().unwrap())),
            before,
            "{attack}: the real database or its folder changed"
        );
    }

    // A refusal the migration goes on without is still a failure: the same
    // migration run by yoyo on the real database would reach the other file.
    write(
        &dir.join("migrations/0005_attack.py"),
        "from yoyo import step\n\nsteps = [\n    step(\"CREATE TABLE tags (id TEXT)\", \"DROP TABLE tags\"),\n    step(\"ATTACH DATABASE 'instance/chatbot.db' AS live\", ignore_errors=\"apply\"),\n    step(\"DELETE FROM live.conversations\", ignore_errors=\"apply\"),\n]\n",
    );
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failures"][0]["code"], "outside_scratch", "{v}");
    assert_eq!(v["failures"][0]["step"], 2, "{v}");
    write(
        &dir.join("migrations/0005_attack.py"),
        &format!(
            "import sqlite3\nfrom yoyo import step\n\ndef up(conn):\n    try:\n        sqlite3.connect({absolute:?}).execute('DELETE FROM conversations')\n    except Exception:\n        pass\n\nsteps = [step(up)]\n"
        ),
    );
    let (code, v) = test_apply(dir, "yoyo", &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failures"][0]["code"], "outside_scratch", "{v}");
    assert!(
        v["failures"][0]["error"]
            .as_str()
            .unwrap()
            .contains("went on without it"),
        "{v}"
    );
    assert_eq!(
        (file_bytes(&db), listing(db.parent().unwrap())),
        before,
        "the real database or its folder changed"
    );

    // Python callables, under the yoyo engine: sqlite3.connect and the
    // Connection class on the real file are refused.
    for call in [
        format!("sqlite3.connect({absolute:?})"),
        "sqlite3.connect('instance/chatbot.db')".to_string(),
        format!("sqlite3.Connection({absolute:?})"),
        format!("sqlite3.connect('file:{absolute}', uri=True)"),
        // SQLite takes the last `mode`: this one opens the file read-write.
        format!("sqlite3.connect('file:{absolute}?mode=memory&mode=rw', uri=True)"),
        format!("sqlite3.connect('file:{absolute}?mode=memory&mode=rw')"),
        // Lifting the seal of the connection yoyo hands the step.
        format!("(conn.set_authorizer(None), conn)[1]; real = sqlite3.connect({absolute:?})"),
    ] {
        write(
            &dir.join("migrations/0005_attack.py"),
            &format!(
                "import sqlite3\nfrom yoyo import step\n\ndef up(conn):\n    real = {call}\n    real.execute('DELETE FROM conversations')\n    real.commit()\n\nsteps = [step(up)]\n"
            ),
        );
        let (code, v) = test_apply(dir, "yoyo", &[]);
        assert_eq!(code, 1, "{call}: {v}");
        assert_eq!(v["failures"][0]["code"], "outside_scratch", "{call}: {v}");
        assert_eq!(
            (file_bytes(&db), listing(db.parent().unwrap())),
            before,
            "{call}: the real database or its folder changed"
        );
    }
    drop(conn);
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn rows_are_counted_and_queries_read_the_backfill() {
    let (project, conn) = project_with_open_wal_database();
    let dir = project.path();
    // A seed whose rollback deletes nothing.
    write(
        &dir.join("migrations/0005_seed.py"),
        "from yoyo import step\n\nsteps = [\n    step(\"INSERT INTO users (id, email) VALUES ('seed', 'seed@example.com')\", \"SELECT 1\"),\n]\n",
    );
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["rollback"]["restores_schema"], true);
    assert_eq!(v["rollback"]["restores_rows"], false);
    assert_eq!(
        v["rollback"]["differences"],
        serde_json::json!(["rows: table users has 3 rows after the rollback, 2 before the apply"])
    );
    assert_eq!(
        v["rows"],
        serde_json::json!([{"table": "users", "before": 2, "after_apply": 3, "after_rollback": 3, "after_reapply": 3}])
    );
    // The re-apply then meets the row the rollback left behind.
    let f = &v["failures"][0];
    assert_eq!(
        (&f["phase"], &f["code"]),
        (
            &serde_json::json!("reapply"),
            &serde_json::json!("constraint")
        )
    );
    assert!(
        f["hint"]
            .as_str()
            .unwrap()
            .contains("the rollback did not undo"),
        "{f}"
    );

    // Fixed, plus a backfill the query reads back.
    write(
        &dir.join("migrations/0005_seed.py"),
        "from yoyo import step\n\nsteps = [\n    step(\"INSERT INTO users (id, email) VALUES ('seed', 'seed@example.com')\", \"DELETE FROM users WHERE id = 'seed'\"),\n]\n",
    );
    write(
        &dir.join("migrations/0006_backfill.py"),
        "from yoyo import step\n\n__depends__ = {'0005_seed'}\n\nsteps = [\n    step(\"UPDATE users SET display_name = upper(email) WHERE display_name IS NULL\", \"UPDATE users SET display_name = NULL\"),\n]\n",
    );
    let query = "SELECT id, display_name FROM users ORDER BY id";
    let (code, v) = both(dir, &["--query", query, "--query", "DELETE FROM users"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["rollback"]["restores_rows"], true);
    assert_eq!(
        v["queries"][0]["columns"],
        serde_json::json!(["id", "display_name"])
    );
    assert_eq!(
        v["queries"][0]["rows"],
        serde_json::json!([
            ["seed", "SEED@EXAMPLE.COM"],
            ["u1", "A@EXAMPLE.COM"],
            ["u2", "B@EXAMPLE.COM"]
        ])
    );
    assert!(v["queries"][1]["error"]
        .as_str()
        .unwrap()
        .contains("only statements that read"));
    assert!(v["checked_tables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "users"));

    // --only: one pending migration and what it depends on.
    write(
        &dir.join("migrations/0007_other.py"),
        "from yoyo import step\n\nsteps = [step(\"CREATE TABLE other (id TEXT PRIMARY KEY)\", \"DROP TABLE other\")]\n",
    );
    let (code, v) = both(dir, &["--only", "0006_backfill"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["applied"],
        serde_json::json!(["0005_seed", "0006_backfill"])
    );
    for (only, code) in [
        ("0001_create_users", "not_pending"),
        ("0099_nope", "migration_not_found"),
    ] {
        let run = mc(dir, &["test-apply", "--engine", "native", "--only", only]);
        run.code(2);
        assert_eq!(run.json()["error"]["code"], code);
    }
    drop(conn);
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn failing_hooks_non_transactional_migrations_and_timeouts() {
    let project = chatbot();
    let dir = project.path();
    // A migration that never finishes importing is a timeout, named; not a
    // yoyo that cannot be used.
    write(
        &dir.join("migrations/0005_hang.py"),
        "import time\n\nwhile True:\n    time.sleep(0.05)\n",
    );
    let (code, v) = test_apply(dir, "yoyo", &["--timeout", "3"]);
    assert_eq!(code, 1, "{v}");
    let f = &v["failures"][0];
    assert_eq!(
        (&f["code"], &f["migration"]),
        (
            &serde_json::json!("timeout"),
            &serde_json::json!("0005_hang")
        ),
        "{v}"
    );
    assert!(
        f["error"].as_str().unwrap().contains("--timeout (3 s)"),
        "{v}"
    );
    std::fs::remove_file(dir.join("migrations/0005_hang.py")).unwrap();

    // A failing post-apply hook fails the run under both engines.
    write(
        &dir.join("migrations/post-apply.py"),
        "from yoyo import step\n\nsteps = [step(\"INSERT INTO nowhere VALUES (1)\")]\n",
    );
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failures"][0]["migration"], "post-apply");
    assert_eq!(v["failures"][0]["phase"], "apply");
    assert!(v["failures"][0]["error"]
        .as_str()
        .unwrap()
        .contains("no such table: nowhere"));
    std::fs::remove_file(dir.join("migrations/post-apply.py")).unwrap();

    // A non-transactional migration that fails midway: yoyo undoes the steps
    // that ran, and both engines report the same step.
    write(
        &dir.join("migrations/0005_loose.py"),
        "from yoyo import step\n\n__transactional__ = False\n\nsteps = [\n    step(\"CREATE TABLE loose (id TEXT)\", \"DROP TABLE loose\"),\n    step(\"INSERT INTO missing VALUES (1)\", \"SELECT 1\"),\n]\n",
    );
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failures"][0]["step"], 2);
    assert_eq!(v["failures"][0]["code"], "step_failed");
    assert!(v["changes"]["total"]["tables_added"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t != "loose"));
    std::fs::remove_file(dir.join("migrations/0005_loose.py")).unwrap();

    // A yoyo that hangs is stopped.
    write(
        &dir.join("migrations/0005_hang.py"),
        "import time\nfrom yoyo import step\n\ndef up(conn):\n    time.sleep(120)\n\nsteps = [step(up)]\n",
    );
    let (code, v) = test_apply(dir, "yoyo", &["--timeout", "1"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failures"][0]["code"], "timeout");
    assert_eq!(v["failures"][0]["migration"], "0005_hang");
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn a_yoyo_that_does_nothing_fails() {
    let project = chatbot();
    let dir = project.path();
    let run = mc(
        dir,
        &["test-apply", "--engine", "yoyo", "--yoyo", "/bin/true"],
    );
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "yoyo_not_usable");

    // A yoyo whose API says yes to everything and records nothing.
    let fake = tempfile::tempdir().unwrap();
    write(
        &fake.path().join("lib/yoyo/__init__.py"),
        "import os\n\nclass _List(list):\n    post_apply = []\n\nclass _M:\n    def __init__(self, id):\n        self.id = id\n        self.steps = []\n    def load(self):\n        pass\n\ndef read_migrations(src):\n    return _List(_M(f[:-3]) for f in sorted(os.listdir(src)) if f.endswith('.py'))\n\nclass _Backend:\n    def to_apply(self, ms):\n        return ms\n    def apply_one(self, m, mark=True):\n        pass\n    def rollback_one(self, m):\n        pass\n\ndef get_backend(uri):\n    return _Backend()\n",
    );
    write(
        &fake.path().join("lib/yoyo/migrations.py"),
        "class MigrationStep:\n    def apply(self, backend, force=False):\n        pass\n    def rollback(self, backend, force=False):\n        pass\n\nclass StepGroup(MigrationStep):\n    pass\n",
    );
    let script = fake.path().join("bin/yoyo");
    write(
        &script,
        &format!("#!{}\n", venv().join("bin/python").display()),
    );
    let out = Command::new(bin())
        .args(["test-apply", "--engine", "yoyo", "--yoyo"])
        .arg(&script)
        .current_dir(dir)
        .env("PYTHONPATH", fake.path().join("lib"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["failures"][0]["code"], "not_recorded", "{v}");
    assert_eq!(v["failures"][0]["migration"], "0001_create_users");
}

#[test]
fn database_paths_that_are_not_files_and_a_private_scratch() {
    let project = chatbot();
    let dir = project.path();
    // A configured database that does not exist: an empty run, with a warning.
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(0);
    let v = run.json();
    assert_eq!(
        v["warnings"],
        serde_json::json!([
            "database instance/chatbot.db does not exist: the migrations ran on an empty database"
        ])
    );
    // A folder, and a FIFO.
    std::fs::create_dir_all(dir.join("instance/chatbot.db")).unwrap();
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "database_not_a_file");
    std::fs::remove_dir(dir.join("instance/chatbot.db")).unwrap();
    let status = Command::new("mkfifo")
        .arg(dir.join("instance/chatbot.db"))
        .status()
        .unwrap();
    assert!(status.success());
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "database_not_a_file");
    std::fs::remove_file(dir.join("instance/chatbot.db")).unwrap();

    // The scratch folder and copy are the owner's alone.
    use std::os::unix::fs::PermissionsExt;
    let run = mc(dir, &["test-apply", "--engine", "native", "--keep"]);
    run.code(0);
    let kept = std::path::PathBuf::from(run.json()["scratch"].as_str().unwrap());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(kept.parent().unwrap()), 0o700);
    assert_eq!(mode(&kept), 0o600);
    std::fs::remove_dir_all(kept.parent().unwrap()).unwrap();
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn engines_agree_where_connections_and_transactions_differ() {
    let project = chatbot();
    let dir = project.path();
    // A failing non-transactional migration whose undo fails midway: yoyo
    // stops undoing there, and so does the native engine.
    write(
        &dir.join("migrations/0005_loose.py"),
        "from yoyo import step\n\n__transactional__ = False\n\nsteps = [\n    step(\"CREATE TABLE a (x)\", \"DROP TABLE a\"),\n    step(\"INSERT INTO users (id, email) VALUES ('n', 'n@x')\", \"DELETE FROM nosuch\"),\n    step(\"CREATE TABLE b (x)\", \"DROP TABLE b\"),\n    step(\"INSERT INTO nosuch VALUES (1)\"),\n]\n",
    );
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failures"][0]["step"], 4, "{v}");
    std::fs::remove_file(dir.join("migrations/0005_loose.py")).unwrap();

    // yoyo runs a step with no parameters: a bind parameter fails the step
    // under Python's sqlite3 (rusqlite alone would bind NULL), in a .py step
    // and in a .sql statement alike; a `?` inside a string is no parameter.
    for (file, text) in [
        (
            "0005_param.py",
            "from yoyo import step\n\nsteps = [step(\"INSERT INTO users (id, email) VALUES (?, 'p@x')\", \"DELETE FROM users WHERE email = 'p@x'\")]\n",
        ),
        (
            "0005_param.sql",
            "INSERT INTO users (id, email) VALUES (:id, 'p@x');\n",
        ),
    ] {
        write(&dir.join("migrations").join(file), text);
        let (code, v) = both(dir, &[]);
        assert_eq!(code, 1, "{file}: {v}");
        assert_eq!(v["failures"][0]["code"], "step_failed", "{file}: {v}");
        assert!(
            v["failures"][0]["error"]
                .as_str()
                .unwrap()
                .contains("Incorrect number of bindings supplied"),
            "{file}: {v}"
        );
        std::fs::remove_file(dir.join("migrations").join(file)).unwrap();
    }
    write(
        &dir.join("migrations/0005_literal.py"),
        "from yoyo import step\n\nsteps = [step(\"INSERT INTO users (id, email) VALUES ('?', ':x@y')\", \"DELETE FROM users WHERE id = '?'\")]\n",
    );
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 0, "{v}");
    std::fs::remove_file(dir.join("migrations/0005_literal.py")).unwrap();

    // A post-apply hook that removes yoyo's record of a migration: the real
    // yoyo would apply it again next time.
    write(
        &dir.join("migrations/post-apply.sql"),
        "DELETE FROM _yoyo_migration WHERE migration_id = '0001_create_users';\n",
    );
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failures"][0]["code"], "not_recorded", "{v}");
    assert!(v["failures"][0]["error"]
        .as_str()
        .unwrap()
        .ends_with("no longer lists 0001_create_users"));
    std::fs::remove_file(dir.join("migrations/post-apply.sql")).unwrap();

    // What a migration leaves on its connection does not outlive it (yoyo
    // opens a connection per migration); a COMMIT inside a step, and a
    // RELEASE of a savepoint the engine did not make, behave as under yoyo.
    write(
        &dir.join("migrations/0005_session.py"),
        "from yoyo import step\n\nsteps = [\n    step(\"ATTACH ':memory:' AS scratchpad\", \"SELECT 1\"),\n    step(\"CREATE TEMP TABLE notes (x)\", \"SELECT 1\"),\n    step(\"CREATE TABLE kept (x)\", \"DROP TABLE kept\"),\n    step(\"COMMIT\", \"SELECT 1\"),\n]\n",
    );
    let (code, v) = both(dir, &[]);
    // Both engines run it the same way; lint's transaction_control error on
    // the COMMIT is what fails the run.
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failures"], serde_json::json!([]), "{v}");
    assert!(
        v["lint"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "transaction_control" && f["step"] == 4),
        "{v}"
    );
    write(
        &dir.join("migrations/0005_session.py"),
        "from yoyo import step\n\nsteps = [step(\"RELEASE step\", \"SELECT 1\")]\n",
    );
    let (code, v) = both(dir, &[]);
    assert_eq!(code, 1, "{v}");
    std::fs::remove_file(dir.join("migrations/0005_session.py")).unwrap();

    // A statement that never ends is stopped by --timeout under both engines.
    write(
        &dir.join("migrations/0005_forever.py"),
        "from yoyo import step\n\nsteps = [step(\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c\")]\n",
    );
    for engine in ["native", "yoyo"] {
        let (code, v) = test_apply(dir, engine, &["--timeout", "2"]);
        assert_eq!(code, 1, "{engine}: {v}");
        assert_eq!(v["failures"][0]["code"], "timeout", "{engine}: {v}");
    }
    std::fs::remove_file(dir.join("migrations/0005_forever.py")).unwrap();

    // --query runs on a connection of its own that can only read: settings,
    // transactions and endless queries cannot change the verdicts.
    let (code, v) = both(
        dir,
        &[
            "--timeout",
            "5",
            "--query",
            "PRAGMA query_only = 1",
            "--query",
            "BEGIN",
            "--query",
            "PRAGMA locking_mode = EXCLUSIVE",
            "--query",
            "ATTACH ':memory:' AS x",
            "--query",
            "",
            "--query",
            "SELECT count(*) FROM users",
        ],
    );
    assert_eq!(code, 0, "{v}");
    let errors: Vec<bool> = v["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["error"].is_string())
        .collect();
    assert_eq!(errors, [true, true, true, true, true, false], "{v}");
    assert_eq!(v["queries"][5]["rows"], serde_json::json!([[0]]));

    // A group that ignores errors: yoyo undoes the whole group, which
    // flattened steps cannot say, so the native engine refuses to guess.
    write(
        &dir.join("migrations/0005_group.py"),
        "from yoyo import group, step\n\nsteps = [group([step(\"CREATE TABLE g (x)\", \"DROP TABLE g\"), step(\"INSERT INTO nosuch VALUES (1)\")], ignore_errors='all')]\n",
    );
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "unsupported_step");
    let (code, v) = test_apply(dir, "yoyo", &[]);
    assert_eq!(code, 0, "{v}");
}
