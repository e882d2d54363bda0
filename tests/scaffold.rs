//! `scaffold`: every kind gives a migration the real yoyo applies, rolls back
//! to the prior schema and applies again; concurrent runs take distinct
//! numbers; refused requests leave nothing behind.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{bin, chatbot, mc, venv, write};

pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub fn yoyo(project: &Path, args: &[&str]) {
    let db = format!("sqlite:///{}", project.join("scratch.db").display());
    let mut all = vec![args[0], "--batch", "--no-config-file", "--database", &db];
    all.extend_from_slice(&args[1..]);
    all.push("migrations");
    let out = Command::new(venv().join("bin/yoyo"))
        .args(&all)
        .current_dir(project)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "yoyo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Schema objects with their SQL normalised (whitespace and identifier quotes
/// alone are no difference: SQLite rewrites references when a table is renamed).
pub fn objects(v: &serde_json::Value) -> serde_json::Value {
    fn normalize(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if k == "sql" {
                        if let Some(s) = v.as_str() {
                            *v = migration_creator::sqlite::schema::normalize_sql(s).into();
                        }
                    } else {
                        normalize(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(normalize),
            _ => {}
        }
    }
    let mut out = serde_json::json!({ "tables": v["tables"], "indexes": v["indexes"], "views": v["views"], "triggers": v["triggers"] });
    normalize(&mut out);
    out
}

pub fn db_schema(project: &Path) -> serde_json::Value {
    let run = mc(project, &["schema", "--database", "sqlite:///scratch.db"]);
    run.code(0);
    objects(&run.json())
}

pub fn scaffold(project: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["scaffold"];
    all.extend_from_slice(args);
    let run = mc(project, &all);
    run.code(0);
    let v = run.json();
    assert_eq!(v["ok"], true);
    v
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn every_kind_round_trips_through_the_real_yoyo() {
    let project = chatbot();
    let dir = project.path();
    yoyo(dir, &["apply"]);
    let kinds: Vec<Vec<&str>> = vec![
        vec![
            "create-table",
            "--table",
            "preferences",
            "--column",
            "user_id TEXT NOT NULL REFERENCES users(id)",
            "--column",
            "theme TEXT NOT NULL DEFAULT 'light'",
        ],
        vec![
            "add-column",
            "--table",
            "conversations",
            "--column",
            "archived INTEGER NOT NULL DEFAULT 0",
        ],
        vec![
            "create-index",
            "--table",
            "conversations",
            "--columns",
            "user_id,archived",
        ],
        vec![
            "create-index",
            "--table",
            "preferences",
            "--columns",
            "user_id",
            "--unique",
            "--name",
            "uq_preferences_user",
        ],
        vec!["drop-index", "--name", "idx_messages_conversation_id"],
        vec![
            "rename-column",
            "--table",
            "users",
            "--from",
            "display_name",
            "--to",
            "full_name",
        ],
        vec![
            "rename-table",
            "--from",
            "preferences",
            "--to",
            "user_preferences",
        ],
        vec![
            "sql",
            "--description",
            "Backfill titles",
            "--apply",
            "UPDATE conversations SET title = 'Untitled' WHERE title IS NULL",
            "--rollback",
            "SELECT 1",
        ],
        vec![
            "create-table",
            "--table",
            "tags",
            "--no-timestamps",
            "--column",
            "label TEXT NOT NULL",
        ],
    ];
    for (i, args) in kinds.iter().enumerate() {
        let before = db_schema(dir);
        let r = scaffold(dir, args);
        let id = r["id"].as_str().unwrap().to_string();
        assert_eq!(r["number"], 5 + i as u64);
        assert!(r["path"]
            .as_str()
            .unwrap()
            .starts_with(&format!("migrations/{:04}_", 5 + i)));
        assert_eq!(r["kind"], args[0]);
        assert_eq!(
            r["apply"].as_array().unwrap().len(),
            r["rollback"].as_array().unwrap().len()
        );
        yoyo(dir, &["apply"]);
        let after = db_schema(dir);
        if args[0] != "sql" {
            assert_ne!(before, after, "{args:?} changed nothing");
        }
        yoyo(dir, &["rollback", "-r", &id]);
        assert_eq!(
            db_schema(dir),
            before,
            "{args:?}: rollback does not restore the schema"
        );
        yoyo(dir, &["apply"]);
        assert_eq!(db_schema(dir), after, "{args:?}: re-apply differs");
    }
    // The generated files read back, and the schema of the migrations matches the database.
    assert_eq!(objects(&mc(dir, &["schema"]).json()), db_schema(dir));
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn scaffolding_into_a_folder_of_hazards_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    crate::support::copy_dir(
        &crate::support::repo_root().join("tests/fixtures/migrations/hazards"),
        &dir.join("migrations"),
    );
    yoyo(dir, &["apply"]);
    let before = db_schema(dir);
    let r = scaffold(
        dir,
        &[
            "add-column",
            "--table",
            "users",
            "--column",
            "nickname TEXT",
        ],
    );
    // The folder uses five digits at its widest.
    assert_eq!(r["path"], "migrations/00011_add_nickname_to_users.py");
    assert_eq!(r["depends"], "00010_wide");
    yoyo(dir, &["apply"]);
    let after = db_schema(dir);
    assert_ne!(before, after);
    yoyo(dir, &["rollback", "-r", r["id"].as_str().unwrap()]);
    assert_eq!(db_schema(dir), before);
    yoyo(dir, &["apply"]);
    assert_eq!(db_schema(dir), after);
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn twelve_concurrent_scaffolds_take_twelve_numbers() {
    let project = chatbot();
    let dir = project.path();
    let children: Vec<_> = (0..12)
        .map(|i| {
            Command::new(bin())
                .args([
                    "scaffold",
                    "create-table",
                    "--table",
                    &format!("parallel_{i}"),
                    "--column",
                    "note TEXT",
                ])
                .current_dir(dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut numbers = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        numbers.push(v["number"].as_u64().unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (5..17).collect::<Vec<u64>>());
    let files = listing(&dir.join("migrations"));
    assert_eq!(files.len(), 16, "{files:?}");
    let r = mc(dir, &["next-number"]).json();
    assert_eq!(r["duplicates"], serde_json::json!([]));
    yoyo(dir, &["apply"]);
    let tables = db_schema(dir)["tables"].as_array().unwrap().len();
    assert_eq!(tables, 3 + 12);
}

#[test]
fn refused_requests_write_nothing() {
    let project = chatbot();
    let dir = project.path();
    let before = listing(&dir.join("migrations"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["create-table", "--table", "users"], "table_exists"),
        (
            vec!["add-column", "--table", "nope", "--column", "x TEXT"],
            "table_not_found",
        ),
        (
            vec!["add-column", "--table", "users", "--column", "email TEXT"],
            "column_exists",
        ),
        (
            vec![
                "add-column",
                "--table",
                "users",
                "--column",
                "flag INTEGER NOT NULL",
            ],
            "not_null_without_default",
        ),
        (
            vec![
                "create-table",
                "--table",
                "t2",
                "--column",
                "g TEXT REFERENCES ghosts(id)",
            ],
            "foreign_key_target_missing",
        ),
        (
            vec![
                "create-table",
                "--table",
                "t2",
                "--column",
                "g TEXT REFERENCES users(nope)",
            ],
            "foreign_key_target_missing",
        ),
        (
            vec!["create-table", "--table", "users; DROP TABLE users"],
            "invalid_identifier",
        ),
        (
            vec!["create-table", "--table", "select"],
            "invalid_identifier",
        ),
        (
            vec![
                "create-index",
                "--table",
                "users",
                "--columns",
                "email) ; DROP TABLE users; --",
            ],
            "invalid_identifier",
        ),
        (
            vec![
                "add-column",
                "--table",
                "users",
                "--column",
                "bad TEXT DEFALT 1",
            ],
            "sql_error",
        ),
        (
            vec![
                "create-index",
                "--table",
                "messages",
                "--columns",
                "role",
                "--name",
                "idx_messages_conversation_id",
            ],
            "index_exists",
        ),
        (
            vec!["drop-index", "--name", "sqlite_autoindex_users_2"],
            "invalid_identifier",
        ),
        (vec!["drop-index", "--name", "idx_none"], "index_not_found"),
        (
            vec!["sql", "--description", "x", "--apply", "CREATE TABLE a (x)"],
            "unpaired_steps",
        ),
        (
            vec![
                "sql",
                "--description",
                "x",
                "--apply",
                "CREATE TABLE a (x)",
                "--rollback",
                "SELECT 1",
            ],
            "rollback_incomplete",
        ),
        (
            vec![
                "sql",
                "--description",
                "x",
                "--apply",
                "CREATE TABLE a (x); CREATE TABLE b (y)",
                "--rollback",
                "SELECT 1",
            ],
            "sql_error",
        ),
        // SQLite accepts both, with other columns than the ones asked for:
        // a `--` comment swallows the comma (and the next column), a comma
        // inside one --column adds a column.
        (
            vec![
                "create-table",
                "--table",
                "notes",
                "--column",
                "body TEXT -- free text",
                "--column",
                "n INTEGER NOT NULL DEFAULT 0",
            ],
            "sql_comment_in_definition",
        ),
        (
            vec![
                "create-table",
                "--table",
                "notes",
                "--column",
                "a TEXT /* note */",
                "--constraint",
                "CHECK (a <> '')",
            ],
            "sql_comment_in_definition",
        ),
        (
            vec![
                "create-table",
                "--table",
                "notes",
                "--column",
                "a TEXT, b INTEGER",
            ],
            "columns_mismatch",
        ),
        // yoyo runs each step with no parameters: a bind parameter fails
        // under the real yoyo, so scaffold refuses it wherever SQL goes.
        (
            vec![
                "sql",
                "--description",
                "x",
                "--apply",
                "INSERT INTO users (id, email) VALUES (?, 'p@x')",
                "--rollback",
                "DELETE FROM users WHERE email = 'p@x'",
            ],
            "sql_error",
        ),
        (
            vec![
                "add-column",
                "--table",
                "users",
                "--column",
                "flag INTEGER NOT NULL DEFAULT (:flag)",
            ],
            "sql_error",
        ),
    ];
    for (args, code) in cases {
        let mut all = vec!["scaffold"];
        all.extend_from_slice(&args);
        let run = mc(dir, &all);
        assert_ne!(run.code, 0, "{args:?}");
        let v = run.json();
        assert_eq!(v["ok"], false);
        assert_eq!(v["error"]["code"], code, "{args:?}: {v}");
        assert!(!v["error"]["hint"].as_str().unwrap().is_empty());
        assert_eq!(
            listing(&dir.join("migrations")),
            before,
            "{args:?} left a file"
        );
    }
}

#[test]
fn dry_run_spec_templates_and_no_depends() {
    let project = chatbot();
    let dir = project.path();
    let before = listing(&dir.join("migrations"));
    let r = scaffold(
        dir,
        &[
            "add-column",
            "--table",
            "users",
            "--column",
            "bio TEXT",
            "--dry-run",
        ],
    );
    assert_eq!(r["dry_run"], true);
    assert!(r["content"]
        .as_str()
        .unwrap()
        .contains("ALTER TABLE users ADD COLUMN bio TEXT"));
    assert_eq!(listing(&dir.join("migrations")), before);

    let mut child = Command::new(bin())
        .args(["scaffold", "--spec", "-", "--no-depends"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(br#"{"kind": "add-column", "table": "users", "column": "bio TEXT", "description": "Users get a bio"}"#).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["path"], "migrations/0005_users_get_a_bio.py");
    assert_eq!(v["depends"], serde_json::Value::Null);
    let text = std::fs::read_to_string(dir.join("migrations/0005_users_get_a_bio.py")).unwrap();
    assert!(!text.contains("__depends__"));

    write(
        &dir.join(".migration-creator/templates/create_index.py.j2"),
        "# house style\nfrom yoyo import step\n{% if depends %}__depends__ = {{ depends | py }}\n{% endif %}steps = [\n{% for s in steps %}    step({{ s.apply | py }}, {{ s.rollback | py }}),\n{% endfor %}]\n",
    );
    let r = scaffold(
        dir,
        &[
            "create-index",
            "--table",
            "users",
            "--columns",
            "display_name",
        ],
    );
    assert!(
        r["content"]
            .as_str()
            .unwrap()
            .starts_with("# house style\n"),
        "{}",
        r["content"]
    );
    assert_eq!(r["depends"], "0005_users_get_a_bio");
    let hidden: Vec<String> = listing(&dir.join("migrations"))
        .into_iter()
        .filter(|f| f.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "temporary files left: {hidden:?}");
}

/// A temporary file left in the migrations folder by a scaffold that was
/// killed mid-write is removed by the next one once it is an hour old; a
/// fresh one (another scaffold at work) is left alone.
#[test]
fn a_killed_scaffolds_temporary_file_is_cleaned_up_later() {
    let project = crate::support::chatbot();
    let dir = project.path();
    let stale = dir.join("migrations/.migration-creator-abc123.tmp");
    let fresh = dir.join("migrations/.migration-creator-def456.tmp");
    std::fs::write(&stale, "half a migration").unwrap();
    std::fs::write(&fresh, "being written").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let v = scaffold(
        dir,
        &[
            "create-index",
            "--table",
            "users",
            "--columns",
            "created_at",
        ],
    );
    assert_eq!(v["ok"], true, "{v}");
    assert!(!stale.exists(), "the stale temporary file is still there");
    assert!(fresh.exists(), "a fresh temporary file was removed");
}
