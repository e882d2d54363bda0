//! scaffold at the edges: SQL and docstrings reach Python byte for byte,
//! what fails only on rows is refused before a file exists, table rebuilds
//! keep rows and dependents both ways under the real yoyo, and the table
//! shapes public projects use are written by checked kinds.

use std::path::Path;
use std::process::Command;

use crate::scaffold::{db_schema, listing, scaffold, yoyo};
use crate::support::{chatbot, mc, venv, write};

fn query(dir: &Path, sql: &str) -> Vec<Vec<rusqlite::types::Value>> {
    let conn = rusqlite::Connection::open(dir.join("scratch.db")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let width = stmt.column_count();
    stmt.query_map([], |r| (0..width).map(|i| r.get(i)).collect())
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn text(v: &rusqlite::types::Value) -> String {
    match v {
        rusqlite::types::Value::Text(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// Python's own view of a migration file: its docstring and compile verdict.
fn python_docstring(path: &Path) -> String {
    let out = Command::new(venv().join("bin/python"))
        .args(["-c", "import ast, sys; print(ast.get_docstring(ast.parse(open(sys.argv[1], encoding='utf-8').read()), clean=False), end='')"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn sql_defaults_and_docstrings_reach_python_byte_for_byte() {
    let project = chatbot();
    let dir = project.path();
    let body = "line1\nline2\n\tindented \\ backslash \"quoted\" '''";
    scaffold(
        dir,
        &[
            "create-table",
            "--table",
            "notes",
            "--column",
            "body TEXT NOT NULL DEFAULT 'a\n  b'",
        ],
    );
    let literal = format!("'{}'", body.replace('\'', "''"));
    scaffold(
        dir,
        &[
            "sql",
            "--description",
            "seed a note",
            "--apply",
            &format!("INSERT INTO notes (id, body) VALUES ('n1', {literal})"),
            "--rollback",
            "DELETE FROM notes WHERE id = 'n1'",
        ],
    );
    yoyo(dir, &["apply"]);
    let rows = query(dir, "SELECT body FROM notes");
    assert_eq!(text(&rows[0][0]), body);
    let default = query(
        dir,
        "SELECT dflt_value FROM pragma_table_info('notes') WHERE name = 'body'",
    );
    assert_eq!(text(&default[0][0]), "'a\n  b'");

    for summary in [
        r"\N{x} is not a name",
        "three \"\"\" quotes",
        r"back\slash\",
        "quo'te \"s\"",
        "tab\there\r\nand more",
    ] {
        let run = mc(
            dir,
            &[
                "scaffold",
                "sql",
                "--description",
                summary,
                "--summary",
                summary,
                "--apply",
                "SELECT 1",
                "--rollback",
                "SELECT 2",
            ],
        );
        run.code(0);
        let v = run.json();
        let path = dir.join(v["path"].as_str().unwrap());
        assert_eq!(
            python_docstring(&path).trim(),
            summary.trim(),
            "{}",
            v["content"]
        );
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn what_fails_only_on_rows_is_refused_and_leaves_nothing() {
    let project = chatbot();
    let dir = project.path();
    let before = listing(&dir.join("migrations"));
    for (column, code) in [
        (
            "stamp TEXT DEFAULT CURRENT_TIMESTAMP",
            "non_constant_default",
        ),
        ("r BLOB DEFAULT (randomblob(4))", "non_constant_default"),
        (
            "g INTEGER GENERATED ALWAYS AS (1) STORED",
            "stored_generated_column",
        ),
        ("n TEXT NOT NULL DEFAULT NULL", "not_null_without_default"),
        (
            "c INTEGER DEFAULT 0 CHECK (c > 0)",
            "check_fails_on_default",
        ),
        ("u TEXT UNIQUE", "add_column_unsupported"),
    ] {
        let run = mc(
            dir,
            &[
                "scaffold",
                "add-column",
                "--table",
                "users",
                "--column",
                column,
            ],
        );
        run.code(1);
        assert_eq!(
            run.json()["error"]["code"],
            code,
            "{column}: {}",
            run.stdout
        );
    }
    // A statement that fails whatever rows it meets is not a data-only
    // refusal: made-up rows cannot tell, so it is a warning for test-apply to settle.
    let run = mc(
        dir,
        &[
            "scaffold",
            "sql",
            "--description",
            "copy",
            "--apply",
            "INSERT INTO users SELECT * FROM users",
            "--rollback",
            "SELECT 1",
            "--dry-run",
        ],
    );
    run.code(0);
    assert_eq!(
        run.json()["warnings"][0]["code"],
        "fails_on_made_up_rows",
        "{}",
        run.stdout
    );
    // yoyo's own tables.
    for args in [
        vec![
            "scaffold",
            "create-table",
            "--table",
            "_yoyo_migration",
            "--column",
            "x TEXT",
        ],
        vec![
            "scaffold",
            "rename-table",
            "--from",
            "users",
            "--to",
            "yoyo_lock",
        ],
        vec![
            "scaffold",
            "sql",
            "--description",
            "log",
            "--apply",
            "CREATE TABLE _yoyo_log (x)",
            "--rollback",
            "DROP TABLE _yoyo_log",
        ],
        vec![
            "scaffold",
            "sql",
            "--description",
            "mark",
            "--apply",
            "DELETE FROM _YOYO_VERSION",
            "--rollback",
            "SELECT 1",
        ],
    ] {
        let run = mc(dir, &args);
        run.code(1);
        assert_eq!(
            run.json()["error"]["code"],
            "reserved_name",
            "{args:?}: {}",
            run.stdout
        );
    }
    assert_eq!(
        listing(&dir.join("migrations")),
        before,
        "a refused request left a file"
    );
}

/// A chatbot project whose scratch.db holds rows, an index, a trigger and a
/// view on users, and conversations referencing users.
fn project_with_dependents() -> tempfile::TempDir {
    let project = chatbot();
    let dir = project.path();
    scaffold(
        dir,
        &[
            "create-index",
            "--table",
            "users",
            "--columns",
            "display_name",
        ],
    );
    scaffold(
        dir,
        &[
            "sql",
            "--description",
            "touch users on update",
            "--apply",
            "CREATE TRIGGER users_touch AFTER UPDATE OF email ON users BEGIN UPDATE users SET updated_at = 'touched' WHERE id = NEW.id; END",
            "--rollback",
            "DROP TRIGGER users_touch",
        ],
    );
    scaffold(
        dir,
        &[
            "sql",
            "--description",
            "named users view",
            "--apply",
            "CREATE VIEW named_users AS SELECT id, email FROM users WHERE display_name IS NOT NULL",
            "--rollback",
            "DROP VIEW named_users",
        ],
    );
    yoyo(dir, &["apply"]);
    let conn = rusqlite::Connection::open(dir.join("scratch.db")).unwrap();
    conn.execute_batch(
        "INSERT INTO users (id, email, display_name) VALUES ('u1', 'ann@example.com', 'Ann'), ('u2', 'bob@example.org', NULL), ('u3', 'cy@example.net', 'Cy');
         INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', 'hello'), ('c2', 'u3', 'hi');",
    )
    .unwrap();
    project
}

fn counts(dir: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(dir.join("scratch.db")).unwrap();
    let n = |t: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    (n("users"), n("conversations"))
}

fn fk_violations(dir: &Path) -> usize {
    query(dir, "SELECT * FROM pragma_foreign_key_check").len()
}

/// Apply the newest migration with yoyo, roll it back, apply it again: rows,
/// dependents and foreign keys hold in each direction. Returns the schema
/// after the apply, then rolls back and removes the file.
fn rebuild_round_trip(
    dir: &Path,
    id: &str,
    path: &Path,
    dependents_kept: bool,
) -> serde_json::Value {
    let s0 = db_schema(dir);
    let rows = counts(dir);
    yoyo(dir, &["apply"]);
    let s1 = db_schema(dir);
    assert_eq!(counts(dir), rows, "{id}: rows after apply");
    assert_eq!(fk_violations(dir), 0, "{id}: foreign keys after apply");
    let names = |s: &serde_json::Value, key: &str| -> Vec<String> {
        s[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect()
    };
    for key in ["views", "triggers"] {
        if dependents_kept || key == "triggers" {
            assert_eq!(names(&s1, key), names(&s0, key), "{id}: {key} after apply");
        }
    }
    // Other tables' foreign keys still point at users, never at a renamed table.
    let conversations = s1["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "conversations")
        .unwrap();
    assert!(
        conversations["sql"]
            .as_str()
            .unwrap()
            .contains("REFERENCES users"),
        "{conversations}"
    );
    yoyo(dir, &["rollback", "-r", id]);
    assert_eq!(db_schema(dir), s0, "{id}: the rollback restores the schema");
    assert_eq!(counts(dir), rows, "{id}: rows after rollback");
    assert_eq!(fk_violations(dir), 0, "{id}: foreign keys after rollback");
    yoyo(dir, &["apply"]);
    assert_eq!(
        db_schema(dir),
        s1,
        "{id}: the re-apply gives the same schema"
    );
    assert_eq!(counts(dir), rows, "{id}: rows after re-apply");
    yoyo(dir, &["rollback", "-r", id]);
    std::fs::remove_file(path).unwrap();
    s1
}

const USERS: &str = "CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))
)";

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn rebuild_table_keeps_rows_and_dependents_both_ways() {
    let project = project_with_dependents();
    let dir = project.path();
    let db = format!("sqlite:///{}", dir.join("scratch.db").display());

    // A CHECK change, and a type change.
    for (what, definition) in [
        (
            "check",
            USERS.replace(
                "email TEXT NOT NULL UNIQUE",
                "email TEXT NOT NULL UNIQUE CHECK (length(email) > 3)",
            ),
        ),
        (
            "type",
            USERS.replace("display_name TEXT", "display_name VARCHAR(100)"),
        ),
    ] {
        let run = mc(
            dir,
            &[
                "scaffold",
                "rebuild-table",
                "--table",
                "users",
                "--definition",
                &definition,
            ],
        );
        run.code(0);
        let v = run.json();
        assert_eq!(v["kind"], "rebuild-table");
        assert_eq!(
            v["rebuild"]["recreated"],
            serde_json::json!([
                "index idx_users_display_name",
                "trigger users_touch",
                "view named_users"
            ]),
            "{what}"
        );
        assert_eq!(
            v["rebuild"]["rollback_loses"],
            serde_json::json!([]),
            "{what}"
        );
        let s1 = rebuild_round_trip(
            dir,
            v["id"].as_str().unwrap(),
            &dir.join(v["path"].as_str().unwrap()),
            true,
        );
        let users = s1["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "users")
            .unwrap()
            .to_string();
        assert!(
            users.contains(if what == "check" {
                "CHECK(length(email) > 3)"
            } else {
                "VARCHAR(100)"
            }),
            "{what}: {users}"
        );
    }

    // A dropped indexed column: refused, naming the index, until the index goes first.
    let without = USERS.replace("    display_name TEXT,\n", "");
    let run = mc(
        dir,
        &[
            "scaffold",
            "rebuild-table",
            "--table",
            "users",
            "--definition",
            &without,
        ],
    );
    run.code(1);
    let e = run.json();
    assert_eq!(e["error"]["code"], "dependent_breaks");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("idx_users_display_name"));
    // The view uses display_name too: it goes in the same migration, and comes back on rollback.
    let spec = serde_json::json!([
        {"kind": "drop-index", "name": "idx_users_display_name"},
        {"kind": "sql", "description": "drop the named users view", "apply": "DROP VIEW named_users", "rollback": "CREATE VIEW named_users AS SELECT id, email FROM users WHERE display_name IS NOT NULL"},
        {"kind": "rebuild-table", "table": "users", "definition": without},
    ]);
    let spec_path = dir.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let run = mc(
        dir,
        &[
            "scaffold",
            "--spec",
            spec_path.to_str().unwrap(),
            "--description",
            "drop display_name",
        ],
    );
    run.code(0);
    let v = run.json();
    assert_eq!(v["kind"], "drop-index+sql+rebuild-table");
    assert_eq!(
        v["rebuild"]["columns_dropped"],
        serde_json::json!(["display_name"])
    );
    assert_eq!(
        v["rebuild"]["rollback_loses"],
        serde_json::json!(["the values of users.display_name"])
    );
    assert_eq!(v["warnings"][0]["code"], "rollback_loses_data");
    rebuild_round_trip(
        dir,
        v["id"].as_str().unwrap(),
        &dir.join(v["path"].as_str().unwrap()),
        false,
    );

    // An added NOT NULL column filled by --map.
    let with_domain = USERS.replace(
        "    display_name TEXT,\n",
        "    display_name TEXT,\n    email_domain TEXT NOT NULL,\n",
    );
    let run = mc(
        dir,
        &[
            "scaffold",
            "rebuild-table",
            "--table",
            "users",
            "--definition",
            &with_domain,
        ],
    );
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "not_null_without_value");
    let run = mc(
        dir,
        &[
            "scaffold",
            "rebuild-table",
            "--table",
            "users",
            "--definition",
            &with_domain,
            "--map",
            "email_domain=substr(email, instr(email, '@') + 1)",
        ],
    );
    run.code(0);
    let v = run.json();
    assert_eq!(
        v["rebuild"]["columns_added"],
        serde_json::json!(["email_domain"])
    );
    assert_eq!(
        v["rebuild"]["columns_mapped"],
        serde_json::json!(["email_domain"])
    );
    let id = v["id"].as_str().unwrap().to_string();
    yoyo(dir, &["apply"]);
    let domains: Vec<String> = query(dir, "SELECT email_domain FROM users ORDER BY id")
        .iter()
        .map(|r| text(&r[0]))
        .collect();
    assert_eq!(domains, ["example.com", "example.org", "example.net"]);
    yoyo(dir, &["rollback", "-r", &id]);
    std::fs::remove_file(dir.join(v["path"].as_str().unwrap())).unwrap();

    // The project's database (read-only) tells which rows a new shape rejects.
    std::fs::create_dir_all(dir.join("instance")).unwrap();
    std::fs::copy(dir.join("scratch.db"), dir.join("instance/chatbot.db")).unwrap();
    let strict = USERS.replace(
        "email TEXT NOT NULL UNIQUE",
        "email TEXT NOT NULL UNIQUE CHECK (length(email) > 14)",
    );
    let run = mc(
        dir,
        &[
            "scaffold",
            "rebuild-table",
            "--table",
            "users",
            "--definition",
            &strict,
            "--dry-run",
        ],
    );
    run.code(0);
    let v = run.json();
    assert_eq!(v["data_checked"], true);
    let rejected = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "rows_rejected")
        .cloned();
    assert!(
        rejected.as_ref().is_some_and(|w| w["message"]
            .as_str()
            .unwrap()
            .starts_with("1 of the 3 rows of users")),
        "{v}"
    );
    let run = mc(
        dir,
        &[
            "scaffold",
            "rebuild-table",
            "--table",
            "users",
            "--definition",
            &strict,
            "--dry-run",
            "--no-data",
        ],
    );
    assert_eq!(run.json()["warnings"], serde_json::json!([]));
    std::fs::remove_dir_all(dir.join("instance")).unwrap();

    // test-apply agrees: both engines prove a rebuild on the copy with rows.
    let run = mc(
        dir,
        &[
            "scaffold",
            "rebuild-table",
            "--table",
            "users",
            "--definition",
            &USERS.replace(
                "email TEXT NOT NULL UNIQUE",
                "email TEXT NOT NULL UNIQUE COLLATE NOCASE",
            ),
        ],
    );
    run.code(0);
    for engine in ["native", "yoyo"] {
        let yoyo_bin = venv().join("bin/yoyo");
        let run = mc(
            dir,
            &[
                "test-apply",
                "--engine",
                engine,
                "--yoyo",
                yoyo_bin.to_str().unwrap(),
                "--database",
                &db,
            ],
        );
        run.code(0);
        let v = run.json();
        assert_eq!(
            v["rows"][0],
            serde_json::json!({"table": "users", "before": 3, "after_apply": 3, "after_rollback": 3, "after_reapply": 3}),
            "{engine}: {v}"
        );
    }
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn public_table_shapes_are_written_by_checked_kinds() {
    let project = chatbot();
    let dir = project.path();
    scaffold(
        dir,
        &[
            "create-table",
            "--table",
            "tags",
            "--primary-key",
            "none",
            "--column",
            "id INTEGER PRIMARY KEY AUTOINCREMENT",
            "--column",
            "name TEXT NOT NULL",
            "--no-timestamps",
        ],
    );
    scaffold(
        dir,
        &[
            "create-table",
            "--table",
            "memberships",
            "--primary-key",
            "user_id,tag_id",
            "--without-rowid",
            "--no-timestamps",
            "--column",
            "user_id TEXT NOT NULL",
            "--column",
            "tag_id INTEGER NOT NULL",
            "--constraint",
            "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
            "--constraint",
            "FOREIGN KEY (tag_id) REFERENCES tags(id) ON DELETE CASCADE",
        ],
    );
    scaffold(
        dir,
        &[
            "create-table",
            "--table",
            "slugs",
            "--column",
            "owner TEXT NOT NULL",
            "--column",
            "slug TEXT NOT NULL",
            "--constraint",
            "UNIQUE (owner, slug)",
        ],
    );
    let seed = scaffold(
        dir,
        &[
            "insert-rows",
            "--table",
            "tags",
            "--rows",
            r#"[{"id": 1, "name": "red"}, {"id": 2, "name": "it's blue"}]"#,
        ],
    );
    assert_eq!(
        seed["rollback"],
        serde_json::json!([
            "DELETE FROM tags WHERE id = 1",
            "DELETE FROM tags WHERE id = 2"
        ])
    );
    // A table and its indexes, one migration.
    let spec = serde_json::json!([
        {"kind": "create-table", "table": "projects", "columns": ["owner_id TEXT NOT NULL REFERENCES users(id)", "name TEXT NOT NULL"]},
        {"kind": "create-index", "table": "projects", "columns": ["owner_id"]},
        {"kind": "create-index", "table": "projects", "columns": ["owner_id", "name"], "unique": true},
    ]);
    let spec_path = dir.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let v = scaffold(dir, &["--spec", spec_path.to_str().unwrap()]);
    assert_eq!(v["kind"], "create-table+create-index+create-index");
    assert_eq!(v["apply"].as_array().unwrap().len(), 3);
    assert!(v["summary"]
        .as_str()
        .unwrap()
        .contains("Create the projects table."));

    // A refusal whose cause is the kind names the kind that can do it.
    let run = mc(
        dir,
        &[
            "scaffold",
            "add-column",
            "--table",
            "users",
            "--column",
            "email2 TEXT UNIQUE",
        ],
    );
    run.code(1);
    assert!(run.json()["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("rebuild-table"));

    yoyo(dir, &["apply"]);
    let s1 = db_schema(dir);
    let tables: Vec<&str> = s1["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in ["tags", "memberships", "slugs", "projects"] {
        assert!(tables.contains(&t), "{t} in {tables:?}");
    }
    assert_eq!(
        query(dir, "SELECT count(*) FROM tags")[0][0],
        rusqlite::types::Value::Integer(2)
    );
    yoyo(dir, &["rollback", "--all"]);
    assert_eq!(db_schema(dir)["tables"], serde_json::json!([]));
    yoyo(dir, &["apply"]);
    assert_eq!(db_schema(dir), s1);
    assert_eq!(
        query(dir, "SELECT name FROM tags ORDER BY id")
            .iter()
            .map(|r| text(&r[0]))
            .collect::<Vec<_>>(),
        ["red", "it's blue"]
    );
}

#[test]
fn project_conventions_come_from_pyproject() {
    let project = chatbot();
    let dir = project.path();
    write(
        &dir.join("pyproject.toml"),
        "[project]\nname = \"chatbot\"\n\n[tool.migration-creator.conventions]\nid_column = \"id INTEGER PRIMARY KEY AUTOINCREMENT\"\ntimestamps = false\nif_not_exists = false\n",
    );
    let v = scaffold(
        dir,
        &[
            "create-table",
            "--table",
            "tags",
            "--column",
            "name TEXT NOT NULL",
            "--dry-run",
        ],
    );
    assert_eq!(
        v["apply"][0],
        "CREATE TABLE tags (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    name TEXT NOT NULL\n)"
    );
    assert_eq!(v["rollback"][0], "DROP TABLE tags");
    for bad in [
        "id_colum = \"x\"",
        "id_column = \"id\"",
        "id_column = \"id INTEGER PRIMARY KEY, evil TEXT\"",
        "timestamp_column_type = \"\"",
        "timestamps = \"yes\"",
    ] {
        write(
            &dir.join("pyproject.toml"),
            &format!("[tool.migration-creator.conventions]\n{bad}\n"),
        );
        let run = mc(
            dir,
            &[
                "scaffold",
                "create-table",
                "--table",
                "tags",
                "--column",
                "name TEXT",
                "--dry-run",
            ],
        );
        run.code(2);
        assert_eq!(run.json()["error"]["code"], "invalid_conventions", "{bad}");
    }
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn rebuild_keeps_rowids_and_counters_and_refuses_what_it_would_break() {
    let project = chatbot();
    let dir = project.path();
    scaffold(
        dir,
        &[
            "create-table",
            "--table",
            "items",
            "--primary-key",
            "none",
            "--no-timestamps",
            "--column",
            "id INTEGER PRIMARY KEY AUTOINCREMENT",
            "--column",
            "name TEXT NOT NULL",
        ],
    );
    scaffold(
        dir,
        &[
            "create-table",
            "--table",
            "notes",
            "--primary-key",
            "none",
            "--no-timestamps",
            "--column",
            "slug TEXT PRIMARY KEY",
            "--column",
            "body TEXT",
        ],
    );
    scaffold(
        dir,
        &[
            "sql",
            "--description",
            "user names",
            "--apply",
            "CREATE VIEW user_emails AS SELECT id, email FROM users",
            "--rollback",
            "DROP VIEW user_emails",
        ],
    );
    scaffold(
        dir,
        &[
            "sql",
            "--description",
            "view on view",
            "--apply",
            "CREATE VIEW user_email_count AS SELECT count(*) AS n FROM user_emails",
            "--rollback",
            "DROP VIEW user_email_count",
        ],
    );
    scaffold(dir, &["sql", "--description", "name trigger", "--apply", "CREATE TRIGGER users_named AFTER INSERT ON users BEGIN UPDATE users SET display_name = lower(display_name) WHERE id = NEW.id; END", "--rollback", "DROP TRIGGER users_named"]);
    yoyo(dir, &["apply"]);
    let conn = rusqlite::Connection::open(dir.join("scratch.db")).unwrap();
    conn.execute_batch(
        "INSERT INTO items (name) VALUES ('a'), ('b'), ('c'), ('d'), ('e'); DELETE FROM items WHERE id IN (3, 5);
         INSERT INTO notes (slug, body) VALUES ('k1', 'one'), ('k2', 'two'), ('k3', 'three'); DELETE FROM notes WHERE slug = 'k1';
         INSERT INTO users (id, email, display_name) VALUES ('u1', 'a@example.com', 'a');",
    )
    .unwrap();
    drop(conn);
    let seq = |dir: &Path| {
        query(dir, "SELECT seq FROM sqlite_sequence WHERE name = 'items'")[0][0].clone()
    };
    let rowids = |dir: &Path| {
        query(dir, "SELECT rowid, slug FROM notes ORDER BY rowid")
            .iter()
            .map(|r| format!("{:?}:{}", r[0], text(&r[1])))
            .collect::<Vec<_>>()
    };
    assert_eq!(seq(dir), rusqlite::types::Value::Integer(5));
    let before_rowids = rowids(dir);

    for (table, definition) in [
        ("items", "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL CHECK (length(name) > 0))"),
        ("notes", "CREATE TABLE notes (slug TEXT PRIMARY KEY, body TEXT NOT NULL DEFAULT '')"),
        ("users", USERS),
    ] {
        let run = mc(dir, &["scaffold", "rebuild-table", "--table", table, "--definition", definition]);
        run.code(0);
        let v = run.json();
        let id = v["id"].as_str().unwrap().to_string();
        let s0 = db_schema(dir);
        yoyo(dir, &["apply"]);
        assert_eq!(seq(dir), rusqlite::types::Value::Integer(5), "{table}: the AUTOINCREMENT counter after apply");
        assert_eq!(rowids(dir), before_rowids, "{table}: rowids after apply");
        assert_eq!(query(dir, "SELECT n FROM user_email_count")[0][0], rusqlite::types::Value::Integer(1), "{table}: the view on a view reads");
        yoyo(dir, &["rollback", "-r", &id]);
        assert_eq!(db_schema(dir), s0, "{table}: rollback");
        assert_eq!(seq(dir), rusqlite::types::Value::Integer(5), "{table}: the counter after rollback");
        assert_eq!(rowids(dir), before_rowids, "{table}: rowids after rollback");
        std::fs::remove_file(dir.join(v["path"].as_str().unwrap())).unwrap();
    }

    // A trigger that uses a dropped column, and a key other tables reference.
    let run = mc(
        dir,
        &[
            "scaffold",
            "rebuild-table",
            "--table",
            "users",
            "--definition",
            &USERS.replace("    display_name TEXT,\n", ""),
        ],
    );
    run.code(1);
    let e = run.json();
    assert_eq!(e["error"]["code"], "dependent_breaks", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("users_named"),
        "{e}"
    );
    let run = mc(
        dir,
        &[
            "scaffold",
            "rebuild-table",
            "--table",
            "users",
            "--definition",
            &USERS.replace("id TEXT PRIMARY KEY", "id TEXT"),
        ],
    );
    run.code(1);
    assert_eq!(
        run.json()["error"]["code"],
        "foreign_key_mismatch",
        "{}",
        run.stdout
    );
}

#[test]
fn tables_with_quoted_names_can_be_changed() {
    let project = chatbot();
    let dir = project.path();
    write(
        &dir.join("migrations/0005_order.py"),
        "from yoyo import step\n\nsteps = [step('CREATE TABLE \"order\" (id TEXT PRIMARY KEY)', 'DROP TABLE \"order\"')]\n",
    );
    let v = scaffold(
        dir,
        &[
            "add-column",
            "--table",
            "order",
            "--column",
            "total INTEGER NOT NULL DEFAULT 0",
            "--dry-run",
        ],
    );
    assert_eq!(
        v["apply"][0],
        "ALTER TABLE \"order\" ADD COLUMN total INTEGER NOT NULL DEFAULT 0"
    );
    // A new name is still held to the plain rules.
    let run = mc(
        dir,
        &[
            "scaffold",
            "create-table",
            "--table",
            "select",
            "--column",
            "x TEXT",
        ],
    );
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "invalid_identifier");
}
