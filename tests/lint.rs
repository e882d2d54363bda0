//! `lint`: every rule with a case it must flag and a case it must not (as
//! squawk tests its rules), suppressions, configuration, `--since`, paths,
//! formats, and the project's own migration folders without a false error.

use std::path::Path;

use crate::support::{mc, repo_root, write};

/// The first migration of every case: two tables, a foreign key, an index,
/// a view and a trigger.
const BASE: &str = r#""""Base tables."""
from yoyo import step

steps = [
    step("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT, age INTEGER)", "DROP TABLE users"),
    step("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), title TEXT)", "DROP TABLE posts"),
    step("CREATE INDEX posts_title ON posts (title)", "DROP INDEX posts_title"),
]
"#;

/// A `.py` migration with these (apply, rollback) steps.
fn py(steps: &[(&str, Option<&str>)]) -> String {
    let mut out = String::from("\"\"\"A change.\"\"\"\nfrom yoyo import step\n\nsteps = [\n");
    for (apply, rollback) in steps {
        let r = rollback.map_or("None".to_string(), |r| format!("{r:?}"));
        out.push_str(&format!("    step({apply:?}, {r}),\n"));
    }
    out.push_str("]\n");
    out
}

/// A project with `migrations/0001_base.py` and `files` (name, text) in the
/// migrations folder; lint's JSON and exit code.
fn lint(files: &[(&str, &str)], args: &[&str]) -> (serde_json::Value, i32) {
    let dir = tempfile::tempdir().unwrap();
    lint_in(dir.path(), files, args)
}

fn lint_in(dir: &Path, files: &[(&str, &str)], args: &[&str]) -> (serde_json::Value, i32) {
    write(&dir.join("migrations/0001_base.py"), BASE);
    for (name, text) in files {
        write(&dir.join("migrations").join(name), text);
    }
    let mut all = vec!["lint", "--format", "json"];
    all.extend_from_slice(args);
    let run = mc(dir, &all);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}\n{}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    (run.json(), run.code)
}

fn codes(v: &serde_json::Value, file: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"].as_str().unwrap().ends_with(file))
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// `code` is reported for `file` (with the table's severity) when `bad` is
/// in the folder, and not when `good` is.
fn case(code: &str, file: &str, bad: &[(&str, &str)], good: &[(&str, &str)]) {
    let (v, exit) = lint(bad, &[]);
    let found = codes(&v, file);
    assert!(
        found.iter().any(|c| c == code),
        "{code} not reported for {file}: {found:?}\n{v:#}"
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap();
    let severity = migration_creator::lint::rules::rule_for(code)
        .unwrap()
        .severity
        .as_str();
    assert_eq!(f["severity"], severity, "{code}");
    assert_eq!(
        exit == 1,
        v["summary"]["errors"].as_u64().unwrap() > 0,
        "{v:#}"
    );
    assert!(f["line"].as_u64().unwrap() >= 1 && f["column"].as_u64().unwrap() >= 1);
    assert!(
        !f["hint"].as_str().unwrap().is_empty(),
        "{code} has no hint"
    );
    let (v, _) = lint(good, &[]);
    let found = codes(&v, file);
    assert!(
        !found.iter().any(|c| c == code),
        "{code} reported for the good case of {file}: {v:#}"
    );
}

#[test]
fn multiple_statements_in_step() {
    case(
        "multiple_statements_in_step",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "CREATE TABLE a (x); CREATE TABLE b (y)",
                Some("DROP TABLE a"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x TEXT DEFAULT ';');", Some("DROP TABLE a"))]),
        )],
    );
}

/// sqlparse (yoyo's splitter) joins the statements after a CREATE that
/// has a column named `begin`; yoyo then fails.
#[test]
fn a_column_named_begin_joins_statements_as_yoyo_does() {
    case(
        "multiple_statements_in_step",
        "0002_x.sql",
        &[
            ("0002_x.sql", "CREATE TABLE ev (id INTEGER PRIMARY KEY, begin TEXT);\nINSERT INTO ev (begin) VALUES ('a');\n"),
            ("0002_x.rollback.sql", "DELETE FROM ev;\nDROP TABLE ev;\n"),
        ],
        &[
            ("0002_x.sql", "CREATE TABLE ev (id INTEGER PRIMARY KEY, \"begin\" TEXT);\nINSERT INTO ev (\"begin\") VALUES ('a');\n"),
            ("0002_x.rollback.sql", "DELETE FROM ev;\nDROP TABLE ev;\n"),
        ],
    );
}

#[test]
fn transaction_control() {
    case(
        "transaction_control",
        "0002_x.sql",
        &[
            (
                "0002_x.sql",
                "CREATE TABLE a (x);\nCOMMIT;\nCREATE TABLE b (y);\n",
            ),
            (
                "0002_x.rollback.sql",
                "DROP TABLE a;\nSELECT 1;\nDROP TABLE b;\n",
            ),
        ],
        &[
            (
                "0002_x.sql",
                "-- transactional: false\nCREATE TABLE a (x);\nVACUUM;\n",
            ),
            ("0002_x.rollback.sql", "SELECT 1;\nDROP TABLE a;\n"),
        ],
    );
    case(
        "transaction_control",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[("PRAGMA journal_mode = WAL", Some("SELECT 1"))]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                ("PRAGMA journal_mode", Some("SELECT 1")),
                ("ROLLBACK TO SAVEPOINT x", Some("SELECT 1")),
            ]),
        )],
    );
}

#[test]
fn duplicate_migration_id() {
    case(
        "duplicate_migration_id",
        "0002_a.sql",
        &[
            (
                "0002_a.py",
                &py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]),
            ),
            ("0002_a.sql", "CREATE TABLE b (x);\n"),
        ],
        &[
            (
                "0002_a.py",
                &py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]),
            ),
            ("0003_a.sql", "CREATE TABLE b (x);\n"),
        ],
    );
}

#[test]
fn add_column_unsupported() {
    case(
        "add_column_unsupported",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "ALTER TABLE users ADD COLUMN handle TEXT UNIQUE",
                Some("ALTER TABLE users DROP COLUMN handle"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                (
                    "ALTER TABLE users ADD COLUMN handle TEXT CHECK (handle <> 'UNIQUE')",
                    Some("ALTER TABLE users DROP COLUMN handle"),
                ),
                (
                    "CREATE UNIQUE INDEX users_handle ON users (handle)",
                    Some("DROP INDEX users_handle"),
                ),
            ]),
        )],
    );
}

#[test]
fn add_column_fails_on_data() {
    let good = py(&[(
        "ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT 'free'",
        Some("ALTER TABLE users DROP COLUMN plan"),
    )]);
    for bad in [
        "ALTER TABLE users ADD COLUMN plan TEXT NOT NULL",
        "ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT NULL",
        "ALTER TABLE users ADD COLUMN seen TEXT DEFAULT (datetime('now'))",
        "ALTER TABLE users ADD COLUMN score INTEGER NOT NULL DEFAULT 0 CHECK (score > 0)",
        "ALTER TABLE users ADD COLUMN score INTEGER DEFAULT (0) CHECK (score > 0)",
        "ALTER TABLE users ADD COLUMN slug TEXT GENERATED ALWAYS AS (lower(name)) STORED",
    ] {
        case(
            "add_column_fails_on_data",
            "0002_x.py",
            &[(
                "0002_x.py",
                &py(&[(bad, Some("ALTER TABLE users DROP COLUMN plan"))]),
            )],
            &[("0002_x.py", &good)],
        );
    }
    // A CHECK that reads other columns depends on the rows, which lint
    // does not have: a made-up row that breaks it is no finding.
    for fine in [
        "ALTER TABLE users ADD COLUMN b INTEGER DEFAULT 1 CHECK (name LIKE 'x%')",
        "ALTER TABLE users ADD COLUMN b TEXT DEFAULT '2025-01-01' CHECK (b >= email)",
        "ALTER TABLE users ADD COLUMN b INTEGER DEFAULT (1) CHECK (date(name) IS NOT NULL)",
    ] {
        let (v, exit) = lint(
            &[(
                "0002_x.py",
                &py(&[(fine, Some("ALTER TABLE users DROP COLUMN b"))]),
            )],
            &[],
        );
        assert_eq!(
            (exit, v["summary"]["errors"].as_u64()),
            (0, Some(0)),
            "{fine}: {v:#}"
        );
    }
    // A table made in the same migration has no rows yet.
    let (v, _) = lint(
        &[(
            "0002_x.py",
            &py(&[
                ("CREATE TABLE t (a)", Some("DROP TABLE t")),
                ("ALTER TABLE t ADD COLUMN b TEXT NOT NULL", Some("SELECT 1")),
            ]),
        )],
        &[],
    );
    assert!(
        !codes(&v, "0002_x.py").contains(&"add_column_fails_on_data".to_string()),
        "{v:#}"
    );
}

#[test]
fn drop_column_blocked() {
    case(
        "drop_column_blocked",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "ALTER TABLE posts DROP COLUMN title",
                Some("ALTER TABLE posts ADD COLUMN title TEXT"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                (
                    "DROP INDEX posts_title",
                    Some("CREATE INDEX posts_title ON posts (title)"),
                ),
                (
                    "ALTER TABLE posts DROP COLUMN title",
                    Some("ALTER TABLE posts ADD COLUMN title TEXT"),
                ),
            ]),
        )],
    );
}

#[test]
fn rebuild_renames_old_table() {
    case(
        "rebuild_renames_old_table",
        "0002_x.py",
        &[("0002_x.py", &py(&[
            ("ALTER TABLE users RENAME TO users_old", Some("ALTER TABLE users_old RENAME TO users")),
            ("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT '', name TEXT, age INTEGER)", Some("DROP TABLE users")),
            ("INSERT INTO users (id, email, name, age) SELECT id, coalesce(email, ''), name, age FROM users_old", Some("SELECT 1")),
            ("DROP TABLE users_old", Some("SELECT 1")),
        ]))],
        &[("0002_x.py", &py(&[
            ("CREATE TABLE users__new (id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT '', name TEXT, age INTEGER)", Some("DROP TABLE users__new")),
            ("INSERT INTO users__new (id, email, name, age) SELECT id, coalesce(email, ''), name, age FROM users", Some("SELECT 1")),
            ("DROP TABLE users", Some("SELECT 1")),
            ("ALTER TABLE users__new RENAME TO users", Some("SELECT 1")),
        ]))],
    );
}

#[test]
fn migration_fails() {
    case(
        "migration_fails",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[("CREATE INDEX i ON missing (x)", Some("DROP INDEX i"))]),
        )],
        &[(
            "0002_x.py",
            &py(&[("CREATE INDEX i ON users (name)", Some("DROP INDEX i"))]),
        )],
    );
}

#[test]
fn a_statement_that_never_ends_is_stopped_by_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("migrations/0001_base.py"), BASE);
    write(
        &dir.path().join("migrations/0002_x.py"),
        &py(&[(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) INSERT INTO users (age) SELECT i FROM n",
            Some("DELETE FROM users"),
        )]),
    );
    let run = mc(dir.path(), &["lint", "--format", "json", "--timeout", "1"]);
    run.code(1);
    let v = run.json();
    let f = &v["findings"][0];
    assert_eq!(f["code"], "migration_fails", "{v:#}");
    assert!(
        f["message"].as_str().unwrap().contains("--timeout"),
        "{v:#}"
    );
}

#[test]
fn python_syntax_error_and_unsupported_step() {
    case(
        "python_syntax_error",
        "0002_x.py",
        &[(
            "0002_x.py",
            "from yoyo import step\nsteps = [step(\"CREATE TABLE a (x)\"\n",
        )],
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]),
        )],
    );
    case(
        "unsupported_step",
        "0002_x.py",
        &[(
            "0002_x.py",
            "from yoyo import step\n\ndef f(conn):\n    pass\n\nsteps = [step(f)]\n",
        )],
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]),
        )],
    );
}

#[test]
fn a_migration_after_an_unreadable_one_is_not_blamed_for_it() {
    let (v, _) = lint(
        &[
            ("0002_x.py", "from yoyo import step\n\ndef f(conn):\n    conn.execute('CREATE TABLE made (x)')\n\nsteps = [step(f)]\n"),
            ("0003_y.py", &py(&[("CREATE INDEX made_x ON made (x)", Some("DROP INDEX made_x"))])),
        ],
        &[],
    );
    assert_eq!(codes(&v, "0003_y.py"), ["schema_incomplete"], "{v:#}");
    assert_eq!(v["summary"]["errors"], 0);
}

#[test]
fn dependency_error() {
    let mut bad = py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]);
    bad.push_str("__depends__ = {\"0009_nope\"}\n");
    let mut good = py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]);
    good.push_str("__depends__ = {\"0001_base\"}\n");
    let (v, exit) = lint(&[("0002_x.py", &bad)], &[]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "dependency_error"),
        "{v:#}"
    );
    assert_eq!(exit, 1);
    let (v, _) = lint(&[("0002_x.py", &good)], &[]);
    assert!(!v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "dependency_error"));
}

#[test]
fn rollback_missing_and_noop() {
    case(
        "rollback_missing",
        "0002_x.py",
        &[("0002_x.py", &py(&[("CREATE TABLE a (x)", None)]))],
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]),
        )],
    );
    case(
        "rollback_missing",
        "0002_x.sql",
        &[("0002_x.sql", "CREATE TABLE a (x);\n")],
        &[
            ("0002_x.sql", "CREATE TABLE a (x);\n"),
            ("0002_x.rollback.sql", "DROP TABLE a;\n"),
        ],
    );
    case(
        "rollback_missing",
        "0002_x.sql",
        &[
            ("0002_x.sql", "CREATE TABLE a (x);\nCREATE TABLE b (x);\n"),
            ("0002_x.rollback.sql", "DROP TABLE b;\n"),
        ],
        &[
            ("0002_x.sql", "CREATE TABLE a (x);\nCREATE TABLE b (x);\n"),
            ("0002_x.rollback.sql", "DROP TABLE b;\nDROP TABLE a;\n"),
        ],
    );
    case(
        "rollback_noop",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x)", Some("-- nothing to do"))]),
        )],
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]),
        )],
    );
    case(
        "rollback_noop",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x)", Some("SELECT 1"))]),
        )],
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x)", Some("DROP TABLE IF EXISTS a"))]),
        )],
    );
}

#[test]
fn foreign_keys_pragma_ignored() {
    case(
        "foreign_keys_pragma_ignored",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "PRAGMA foreign_keys = ON",
                Some("PRAGMA foreign_keys = OFF"),
            )]),
        )],
        &[(
            "0002_x.py",
            &format!(
                "{}__transactional__ = False\n",
                py(&[(
                    "PRAGMA foreign_keys = ON",
                    Some("PRAGMA foreign_keys = OFF")
                )])
            ),
        )],
    );
}

#[test]
fn ignore_errors() {
    case(
        "ignore_errors",
        "0002_x.py",
        &[("0002_x.py", "from yoyo import step\nsteps = [step(\"CREATE TABLE a (x)\", \"DROP TABLE a\", ignore_errors=\"apply\")]\n")],
        &[("0002_x.py", "from yoyo import step\nsteps = [step(\"CREATE TABLE a (x)\", \"DROP TABLE a\")]\n")],
    );
    case(
        "ignore_errors",
        "0002_x.py",
        &[("0002_x.py", "from yoyo import step, group\nsteps = [group([step(\"CREATE TABLE a (x)\", \"DROP TABLE a\")], ignore_errors=\"all\")]\n")],
        &[("0002_x.py", "from yoyo import step, group\nsteps = [group([step(\"CREATE TABLE a (x)\", \"DROP TABLE a\")])]\n")],
    );
}

#[test]
fn empty_step() {
    case(
        "empty_step",
        "0002_x.py",
        &[("0002_x.py", &py(&[("  -- later  ", Some("SELECT 1"))]))],
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]),
        )],
    );
}

#[test]
fn directive_after_sql() {
    case(
        "directive_after_sql",
        "0002_x.sql",
        &[
            ("0002_x.sql", "CREATE TABLE a (x);\n-- depends: 0001_base\n"),
            ("0002_x.rollback.sql", "DROP TABLE a;\n"),
        ],
        &[
            (
                "0002_x.sql",
                "-- depends: 0001_base\nCREATE TABLE a (x);\n-- step: rollback means nothing\n",
            ),
            ("0002_x.rollback.sql", "DROP TABLE a;\n"),
        ],
    );
}

#[test]
fn non_migration_file() {
    case(
        "non_migration_file",
        "helpers.py",
        &[("helpers.py", "def slug(x):\n    return x.lower()\n")],
        &[(
            "0002_helpers.py",
            &py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]),
        )],
    );
    case(
        "non_migration_file",
        "__init__.py",
        &[("__init__.py", "")],
        &[],
    );
}

#[test]
fn orphan_rollback() {
    case(
        "orphan_rollback",
        "0002_x.rollback.sql",
        &[("0002_x.rollback.sql", "DROP TABLE a;\n")],
        &[
            ("0002_x.rollback.sql", "DROP TABLE a;\n"),
            ("0002_x.sql", "CREATE TABLE a (x);\n"),
        ],
    );
}

#[test]
fn ambiguous_order() {
    let a = py(&[("CREATE TABLE a (x)", Some("DROP TABLE a"))]);
    let b = py(&[("CREATE TABLE b (x)", Some("DROP TABLE b"))]);
    let b_after_a = format!("{b}__depends__ = {{\"0002_a\"}}\n");
    case(
        "ambiguous_order",
        "0002_b.py",
        &[("0002_a.py", &a), ("0002_b.py", &b)],
        &[("0002_a.py", &a), ("0002_b.py", &b_after_a)],
    );
    case(
        "ambiguous_order",
        "00010_b.py",
        &[("0002_a.py", &a), ("00010_b.py", &b)],
        &[("0002_a.py", &a), ("0010_b.py", &b)],
    );
}

#[test]
fn unique_index_on_existing_table() {
    case(
        "unique_index_on_existing_table",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "CREATE UNIQUE INDEX users_email ON users (email)",
                Some("DROP INDEX users_email"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                ("CREATE TABLE tags (name TEXT)", Some("DROP TABLE tags")),
                (
                    "CREATE UNIQUE INDEX tags_name ON tags (name)",
                    Some("DROP INDEX tags_name"),
                ),
            ]),
        )],
    );
}

/// A rebuild of posts in the recommended order, with `extra` steps at the end.
fn rebuild_posts(definition: &str, copy: &str, extra: &[(&str, Option<&str>)]) -> String {
    let mut steps: Vec<(&str, Option<&str>)> = vec![
        (definition, Some("DROP TABLE posts__new")),
        (copy, Some("SELECT 1")),
        ("DROP TABLE posts", Some("SELECT 1")),
        ("ALTER TABLE posts__new RENAME TO posts", Some("SELECT 1")),
    ];
    steps.extend_from_slice(extra);
    py(&steps)
}

#[test]
fn rebuild_loses_objects() {
    let def = "CREATE TABLE posts__new (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), title TEXT)";
    let copy = "INSERT INTO posts__new (id, user_id, title) SELECT id, user_id, title FROM posts";
    case(
        "rebuild_loses_objects",
        "0002_x.py",
        &[("0002_x.py", &rebuild_posts(def, copy, &[]))],
        &[(
            "0002_x.py",
            &rebuild_posts(
                def,
                copy,
                &[(
                    "CREATE INDEX posts_title ON posts (title)",
                    Some("SELECT 1"),
                )],
            ),
        )],
    );
}

#[test]
fn rebuild_changes_column() {
    let keep = "CREATE TABLE posts__new (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), title TEXT)";
    let strict = "CREATE TABLE posts__new (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), title TEXT NOT NULL)";
    let copy = "INSERT INTO posts__new (id, user_id, title) SELECT id, user_id, title FROM posts";
    let index = [(
        "CREATE INDEX posts_title ON posts (title)",
        Some("SELECT 1"),
    )];
    case(
        "rebuild_changes_column",
        "0002_x.py",
        &[("0002_x.py", &rebuild_posts(strict, copy, &index))],
        &[("0002_x.py", &rebuild_posts(keep, copy, &index))],
    );
}

#[test]
fn insert_select_star() {
    case(
        "insert_select_star",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[
                (
                    "CREATE TABLE u2 (id INTEGER PRIMARY KEY, email TEXT, name TEXT, age INTEGER)",
                    Some("DROP TABLE u2"),
                ),
                ("INSERT INTO u2 SELECT * FROM users", Some("DELETE FROM u2")),
            ]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                (
                    "CREATE TABLE u2 (id INTEGER PRIMARY KEY, email TEXT, name TEXT, age INTEGER)",
                    Some("DROP TABLE u2"),
                ),
                (
                    "INSERT INTO u2 (id, email) SELECT id, email FROM users",
                    Some("DELETE FROM u2"),
                ),
            ]),
        )],
    );
}

#[test]
fn foreign_key_target_invalid() {
    case(
        "foreign_key_target_invalid",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "CREATE TABLE likes (user_email TEXT REFERENCES users(email))",
                Some("DROP TABLE likes"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[(
                "CREATE TABLE likes (user_id INTEGER REFERENCES users(id))",
                Some("DROP TABLE likes"),
            )]),
        )],
    );
    case(
        "foreign_key_target_invalid",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "CREATE TABLE likes (tag_id INTEGER REFERENCES tags(id))",
                Some("DROP TABLE likes"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[(
                "CREATE TABLE likes (user_id INTEGER REFERENCES users)",
                Some("DROP TABLE likes"),
            )]),
        )],
    );
}

#[test]
fn double_quoted_string() {
    case(
        "double_quoted_string",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "UPDATE users SET name = \"anonymous\" WHERE name IS NULL",
                Some("SELECT 1"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[(
                "UPDATE users SET \"name\" = 'anonymous' WHERE \"email\" IS NULL",
                Some("SELECT 1"),
            )]),
        )],
    );
    case(
        "double_quoted_string",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "CREATE TABLE s (state TEXT CHECK (state IN (\"open\", \"closed\")))",
                Some("DROP TABLE s"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[(
                "CREATE TABLE s (state TEXT CHECK (state IN ('open', 'closed')))",
                Some("DROP TABLE s"),
            )]),
        )],
    );
}

#[test]
fn drops_table_and_column() {
    case(
        "drops_table",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "DROP TABLE posts",
                Some("CREATE TABLE posts (id INTEGER PRIMARY KEY)"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                ("CREATE TABLE tmp (x)", Some("SELECT 1")),
                ("DROP TABLE tmp", Some("SELECT 1")),
            ]),
        )],
    );
    case(
        "drops_column",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "ALTER TABLE users DROP COLUMN age",
                Some("ALTER TABLE users ADD COLUMN age INTEGER"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[(
                "ALTER TABLE users ADD COLUMN nick TEXT",
                Some("ALTER TABLE users DROP COLUMN nick"),
            )]),
        )],
    );
}

#[test]
fn renames() {
    case(
        "renames_table",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "ALTER TABLE posts RENAME TO articles",
                Some("ALTER TABLE articles RENAME TO posts"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                ("CREATE TABLE t (x)", Some("DROP TABLE t")),
                (
                    "ALTER TABLE t RENAME TO u",
                    Some("ALTER TABLE u RENAME TO t"),
                ),
            ]),
        )],
    );
    case(
        "renames_column",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[(
                "ALTER TABLE users RENAME COLUMN name TO full_name",
                Some("ALTER TABLE users RENAME COLUMN full_name TO name"),
            )]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                ("CREATE TABLE t (x)", Some("DROP TABLE t")),
                (
                    "ALTER TABLE t RENAME COLUMN x TO y",
                    Some("ALTER TABLE t RENAME COLUMN y TO x"),
                ),
            ]),
        )],
    );
}

#[test]
fn suppressions_hide_findings_and_unused_ones_are_reported() {
    let dropped = "from yoyo import step\n\nsteps = [\n    # migration-creator: ignore drops_table -- archived to S3 in 0001\n    step(\"DROP TABLE posts\", \"CREATE TABLE posts (id INTEGER PRIMARY KEY)\"),\n    step(\"ALTER TABLE users DROP COLUMN age\", \"ALTER TABLE users ADD COLUMN age INTEGER\"),  # migration-creator: ignore drops_column -- never read\n]\n";
    let (v, _) = lint(&[("0002_x.py", dropped)], &[]);
    assert_eq!(codes(&v, "0002_x.py"), Vec::<String>::new(), "{v:#}");
    assert_eq!(v["suppressed"], 2);

    // Inside a step string, and in a .sql file before the statement.
    let inside = py(&[(
        "-- migration-creator: ignore drops_table -- archived\nDROP TABLE posts",
        Some("SELECT 1"),
    )]);
    let (v, _) = lint(&[("0002_x.py", &inside)], &[]);
    assert!(
        !codes(&v, "0002_x.py").contains(&"drops_table".to_string()),
        "{v:#}"
    );
    let sql = "CREATE TABLE a (x);\n-- migration-creator: ignore drops_table -- archived\nDROP TABLE posts;\n";
    let (v, _) = lint(
        &[
            ("0002_x.sql", sql),
            (
                "0002_x.rollback.sql",
                "CREATE TABLE posts (id INTEGER PRIMARY KEY);\nDROP TABLE a;\n",
            ),
        ],
        &[],
    );
    assert_eq!(codes(&v, "0002_x.sql"), ["rollback_noop"; 0], "{v:#}");

    // The whole file; a suppression that matches nothing; one without a reason.
    let file = "# migration-creator: ignore-file rollback_missing -- data fixes\nfrom yoyo import step\nsteps = [\n    step(\"UPDATE users SET name = 'x'\"),\n    step(\"UPDATE users SET age = 1\"),\n]\n";
    let (v, _) = lint(&[("0002_x.py", file)], &[]);
    assert_eq!(codes(&v, "0002_x.py"), Vec::<String>::new(), "{v:#}");
    let unused = "from yoyo import step\nsteps = [\n    # migration-creator: ignore drops_table -- stale\n    step(\"CREATE TABLE a (x)\", \"DROP TABLE a\"),\n    # migration-creator: ignore rollback_missing\n    step(\"CREATE TABLE b (x)\"),\n    # migration-creator: ignore no_such_code -- typo\n    step(\"CREATE TABLE c (x)\", \"DROP TABLE c\"),\n]\n";
    let (v, _) = lint(&[("0002_x.py", unused)], &[]);
    let found = codes(&v, "0002_x.py");
    assert_eq!(
        found,
        ["unused_ignore", "ignore_without_reason", "unused_ignore"],
        "{v:#}"
    );
    let lines: Vec<u64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 5, 7]);
}

#[test]
fn configuration_skips_and_sets_severities() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("pyproject.toml"),
        "[tool.migration-creator.lint]\nskip = [\"rollback_missing\"]\nseverity = { drops_table = \"error\" }\n",
    );
    let m = py(&[("DROP TABLE posts", None)]);
    let (v, exit) = lint_in(dir.path(), &[("0002_x.py", &m)], &[]);
    assert_eq!(codes(&v, "0002_x.py"), ["drops_table"], "{v:#}");
    assert_eq!(v["findings"][0]["severity"], "error");
    assert_eq!(exit, 1);
    assert_eq!(v["suppressed"], 1);

    write(
        &dir.path().join("pyproject.toml"),
        "[tool.migration-creator.lint]\nskip = [\"drop_table\"]\n",
    );
    let run = mc(dir.path(), &["lint", "--format", "json"]);
    run.code(2);
    let e = run.json();
    assert_eq!(e["error"]["code"], "invalid_lint_config");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("drops_table"),
        "{e:#}"
    );
}

#[test]
fn strict_fails_on_warnings() {
    let m = py(&[("CREATE TABLE a (x)", None)]);
    let (v, exit) = lint(&[("0002_x.py", &m)], &[]);
    assert_eq!((v["ok"].as_bool(), exit), (Some(true), 0));
    let (v, exit) = lint(&[("0002_x.py", &m)], &["--strict"]);
    assert_eq!((v["ok"].as_bool(), exit), (Some(false), 1));
}

#[test]
fn paths_limit_the_report_but_not_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (v, _) = lint_in(
        dir.path(),
        &[
            ("0002_x.py", &py(&[("CREATE TABLE a (x)", None)])),
            (
                "0003_y.py",
                &py(&[("CREATE INDEX a_x ON a (x)", Some("DROP INDEX a_x"))]),
            ),
        ],
        &["migrations/0003_y.py"],
    );
    assert_eq!(v["linted"], serde_json::json!(["migrations/0003_y.py"]));
    assert_eq!(
        v["findings"],
        serde_json::json!([]),
        "0003 is checked on the schema 0002 builds: {v:#}"
    );
    let run = mc(dir.path(), &["lint", "--format", "json", "README.md"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "path_not_found");
    write(&dir.path().join("notes.txt"), "x");
    let run = mc(
        dir.path(),
        &[
            "lint",
            "--format",
            "json",
            "notes.txt",
            "migrations/0002_x.py",
        ],
    );
    let v = run.json();
    assert_eq!(v["skipped"][0]["path"], "notes.txt", "{v:#}");
    assert_eq!(v["linted"], serde_json::json!(["migrations/0002_x.py"]));
}

fn git(dir: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn since_reports_new_work_and_edits_to_applied_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(&p.join("migrations/0001_base.py"), BASE);
    write(
        &p.join("migrations/0002_old.py"),
        &py(&[("DROP TABLE posts", None)]),
    );
    git(p, &["init", "-q", "-b", "main"]);
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "base"]);
    // Nothing changed: nothing linted, the old hazards stay as they are.
    let run = mc(p, &["lint", "--format", "json", "--since", "main"]);
    run.code(0);
    assert_eq!(run.json()["linted"], serde_json::json!([]));
    // A new file (untracked) and an edit to an applied one.
    write(
        &p.join("migrations/0003_new.py"),
        &py(&[("CREATE TABLE a (x)", None)]),
    );
    write(
        &p.join("migrations/0001_base.py"),
        &format!("{BASE}# edited\n"),
    );
    let run = mc(p, &["lint", "--format", "json", "--since", "main"]);
    let v = run.json();
    assert_eq!(
        v["linted"],
        serde_json::json!(["migrations/0001_base.py", "migrations/0003_new.py"]),
        "{v:#}"
    );
    assert_eq!(codes(&v, "0001_base.py"), ["applied_migration_modified"]);
    assert_eq!(codes(&v, "0003_new.py"), ["rollback_missing"]);
    // A rename.
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "more"]);
    git(
        p,
        &["mv", "migrations/0002_old.py", "migrations/0002_older.py"],
    );
    let v = mc(p, &["lint", "--format", "json", "--since", "HEAD"]).json();
    assert_eq!(
        codes(&v, "0002_older.py")[0],
        "applied_migration_modified",
        "{v:#}"
    );
    // A revision that does not exist.
    let run = mc(p, &["lint", "--format", "json", "--since", "nope"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "git_ref_not_found");
}

#[test]
fn text_github_and_sarif_formats() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    lint_in(
        p,
        &[(
            "0002_x.py",
            &py(&[("CREATE TABLE a (x); DROP TABLE posts", Some("DROP TABLE a"))]),
        )],
        &[],
    );
    let run = mc(p, &["lint"]);
    run.code(1);
    assert!(
        run.stdout
            .contains("migrations/0002_x.py:5:5: error[multiple_statements_in_step]:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  = hint: split it"), "{}", run.stdout);
    assert!(
        run.stdout
            .ends_with("2 migrations linted: 1 error, 0 warnings, 0 notes\n"),
        "{}",
        run.stdout
    );
    let run = mc(p, &["lint", "--format", "github"]);
    assert!(
        run.stdout.starts_with(
            "::error file=migrations/0002_x.py,line=5,col=5,title=multiple_statements_in_step::"
        ),
        "{}",
        run.stdout
    );
    let run = mc(p, &["lint", "--format", "sarif"]);
    run.code(1);
    let log = run.json();
    check_sarif(&log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "multiple_statements_in_step");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
}

/// The fields SARIF 2.1.0's schema requires, and the references between them.
pub fn check_sarif(log: &serde_json::Value) {
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert!(driver["name"].is_string());
    let rules = driver["rules"].as_array().expect("rules");
    for r in rules {
        assert!(
            r["id"].is_string()
                && r["shortDescription"]["text"].is_string()
                && r["help"]["text"].is_string(),
            "{r}"
        );
        assert!(["error", "warning", "note"]
            .contains(&r["defaultConfiguration"]["level"].as_str().unwrap()));
    }
    for res in runs[0]["results"].as_array().expect("results") {
        assert!(res["message"]["text"].is_string(), "{res}");
        let i = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.contains(' ') && !uri.starts_with('/'), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn the_projects_own_folders_have_no_false_error() {
    let root = repo_root();
    for (project, dir) in [
        ("examples/chatbot", None),
        ("tests/cmd/chatbot", None),
        ("tests/fixtures/migrations/hazards", Some(".")),
    ] {
        let mut args = vec!["lint", "--format", "json"];
        if let Some(d) = dir {
            args.extend(["--dir", d]);
        }
        let run = mc(&root.join(project), &args);
        let v = run.json();
        assert_eq!(v["summary"]["errors"], 0, "{project}: {v:#}");
        run.code(0);
    }
}

#[test]
fn the_readme_rules_table_matches_the_code() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- lint-rules -->")
        .expect("README has the lint rules table");
    let end = readme[start..].find("<!-- /lint-rules -->").unwrap() + start;
    let table = &readme[start..end];
    let rows: Vec<(String, String)> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[2].to_string())
        })
        .collect();
    let code: Vec<(String, String)> = migration_creator::lint::rules::RULES
        .iter()
        .map(|r| (r.code.to_string(), r.severity.as_str().to_string()))
        .collect();
    assert_eq!(rows, code);
}

/// The 1-based steps `code` is reported for in `file`.
fn steps_of(v: &serde_json::Value, file: &str, code: &str) -> Vec<u64> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"].as_str().unwrap().ends_with(file) && f["code"] == code)
        .map(|f| f["step"].as_u64().unwrap_or(0))
        .collect()
}

/// A `#` comment at the end of a multi-line `step(...)` call (or an SQL
/// comment after a statement's `;`) covers that step, never the next one.
#[test]
fn a_trailing_suppression_covers_its_own_step_only() {
    let closing = "from yoyo import step\n\nsteps = [\n    step(\n        \"DROP TABLE posts\",\n        \"CREATE TABLE posts (id INTEGER PRIMARY KEY)\",\n    ),  # migration-creator: ignore drops_table -- archived in 0001\n    step(\"DROP TABLE users\", \"CREATE TABLE users (id INTEGER PRIMARY KEY)\"),\n]\n";
    let last_arg = "from yoyo import step\n\nsteps = [\n    step(\"DROP TABLE posts\",\n         \"CREATE TABLE posts (id INTEGER PRIMARY KEY)\"),  # migration-creator: ignore drops_table -- archived in 0001\n    step(\"DROP TABLE users\", \"CREATE TABLE users (id INTEGER PRIMARY KEY)\"),\n]\n";
    for text in [closing, last_arg] {
        let (v, _) = lint(&[("0002_x.py", text)], &[]);
        assert_eq!(steps_of(&v, "0002_x.py", "drops_table"), [2], "{v:#}");
        assert_eq!(codes(&v, "0002_x.py"), ["drops_table"], "{v:#}");
        assert_eq!(v["suppressed"], 1, "{v:#}");
    }
    // An own-line comment between the arguments covers its step too.
    let between = "from yoyo import step\n\nsteps = [\n    step(\n        \"DROP TABLE posts\",\n        # migration-creator: ignore drops_table -- archived in 0001\n        \"CREATE TABLE posts (id INTEGER PRIMARY KEY)\",\n    ),\n    step(\"DROP TABLE users\", \"CREATE TABLE users (id INTEGER PRIMARY KEY)\"),\n]\n";
    let (v, _) = lint(&[("0002_x.py", between)], &[]);
    assert_eq!(steps_of(&v, "0002_x.py", "drops_table"), [2], "{v:#}");

    let sql = "DROP TABLE posts; -- migration-creator: ignore drops_table -- archived in 0001\nDROP TABLE users;\n";
    let (v, _) = lint(
        &[
            ("0002_x.sql", sql),
            (
                "0002_x.rollback.sql",
                "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
            ),
        ],
        &[],
    );
    assert_eq!(steps_of(&v, "0002_x.sql", "drops_table"), [2], "{v:#}");
    assert_eq!(v["suppressed"], 1, "{v:#}");
}

/// Text that looks like a suppression inside a docstring, a Python string
/// that is not step SQL, or an SQL string literal is not a comment.
#[test]
fn suppression_text_in_strings_is_not_a_suppression() {
    let docstring = "\"\"\"Drop posts.\n\nTo keep a drop quiet, write\n# migration-creator: ignore-file drops_table -- why\nor -- migration-creator: ignore-file drops_table -- why\n\"\"\"\nfrom yoyo import step\n\nsteps = [\n    step(\"DROP TABLE posts\", \"CREATE TABLE posts (id INTEGER PRIMARY KEY)\"),\n]\n";
    let literal = "from yoyo import step\n\nsteps = [\n    step(\"INSERT INTO posts (title) VALUES ('-- migration-creator: ignore-file drops_table -- doc')\", \"DELETE FROM posts\"),\n    step(\"DROP TABLE posts\", \"CREATE TABLE posts (id INTEGER PRIMARY KEY)\"),\n]\n";
    let help = "from yoyo import step\n\nHELP = '# migration-creator: ignore-file drops_table -- doc'\n\nsteps = [\n    step(\"DROP TABLE posts\", \"CREATE TABLE posts (id INTEGER PRIMARY KEY)\"),\n]\n";
    for text in [docstring, literal, help] {
        let (v, _) = lint(&[("0002_x.py", text)], &[]);
        let found = codes(&v, "0002_x.py");
        assert!(found.contains(&"drops_table".to_string()), "{v:#}");
        assert!(
            !found.iter().any(|c| c.contains("ignore")),
            "a string was read as a suppression: {v:#}"
        );
        assert_eq!(v["suppressed"], 0, "{v:#}");
    }
    let sql = "INSERT INTO posts (title) VALUES ('-- migration-creator: ignore-file drops_table -- doc');\nDROP TABLE posts;\n";
    let (v, _) = lint(
        &[
            ("0002_x.sql", sql),
            (
                "0002_x.rollback.sql",
                "CREATE TABLE posts (id INTEGER PRIMARY KEY);\nDELETE FROM posts;\n",
            ),
        ],
        &[],
    );
    assert_eq!(codes(&v, "0002_x.sql"), ["drops_table"], "{v:#}");
    assert_eq!(v["suppressed"], 0, "{v:#}");

    // A real SQL comment in a constant passed to step() by name counts.
    let constant = "from yoyo import step\n\nDROP = \"-- migration-creator: ignore drops_table -- archived in 0001\\nDROP TABLE posts\"\n\nsteps = [\n    step(\"CREATE TABLE a (x)\", \"DROP TABLE a\"),\n    step(DROP, \"CREATE TABLE posts (id INTEGER PRIMARY KEY)\"),\n]\n";
    let (v, _) = lint(&[("0002_x.py", constant)], &[]);
    assert_eq!(codes(&v, "0002_x.py"), Vec::<String>::new(), "{v:#}");
    assert_eq!(v["suppressed"], 1, "{v:#}");
}

/// A finding about the whole file (`step` null, at 1:1) is suppressed with
/// `ignore-file`; a line-level `ignore` of it elsewhere says so.
#[test]
fn whole_file_findings_take_ignore_file() {
    let line = "from yoyo import step\n\n# migration-creator: ignore non_migration_file -- shared helpers\nX = 1\n";
    let (v, _) = lint(&[("0002_helpers.py", line)], &[]);
    assert_eq!(
        codes(&v, "0002_helpers.py"),
        ["non_migration_file", "unused_ignore"],
        "{v:#}"
    );
    let f = &v["findings"][0];
    assert_eq!((f["line"].as_u64(), f["step"].is_null()), (Some(1), true));
    let unused = v["findings"][1]["message"].as_str().unwrap();
    assert!(
        unused.contains("whole file") && unused.contains("ignore-file non_migration_file"),
        "{unused}"
    );
    let file = line.replace(
        "ignore non_migration_file",
        "ignore-file non_migration_file",
    );
    let (v, _) = lint(&[("0002_helpers.py", &file)], &[]);
    assert_eq!(codes(&v, "0002_helpers.py"), Vec::<String>::new(), "{v:#}");
    assert_eq!(v["suppressed"], 1);
    // On line 1, the finding's own line, `ignore` covers it too.
    let sql = "-- migration-creator: ignore rollback_missing -- a data fix, nothing to undo\nUPDATE users SET age = 0;\n";
    let (v, _) = lint(&[("0002_fix.sql", sql)], &[]);
    assert_eq!(codes(&v, "0002_fix.sql"), Vec::<String>::new(), "{v:#}");
    assert_eq!(v["suppressed"], 1);
}

/// A folder as PATH: the migrations folder means all of it; another folder
/// is refused, never linted as nothing.
#[test]
fn a_folder_path_lints_the_folder_or_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = py(&[("DROP TABLE posts", Some("SELECT 1"))]);
    for arg in ["migrations/", "migrations", "./migrations"] {
        let (v, exit) = lint_in(dir.path(), &[("0002_x.py", &m)], &[arg]);
        assert_eq!(
            v["linted"],
            serde_json::json!(["migrations/0001_base.py", "migrations/0002_x.py"]),
            "{arg}: {v:#}"
        );
        assert_eq!(
            codes(&v, "0002_x.py"),
            ["rollback_noop", "drops_table"],
            "{v:#}"
        );
        assert_eq!(exit, 0);
    }
    write(&dir.path().join("docs/notes.py"), "x = 1\n");
    let run = mc(dir.path(), &["lint", "--format", "json", "docs"]);
    run.code(2);
    let e = run.json();
    assert_eq!(e["error"]["code"], "not_migrations_dir", "{e:#}");
    assert!(
        e["error"]["hint"].as_str().unwrap().contains("--dir docs"),
        "{e:#}"
    );
}

/// Paths into a project in a subfolder (how pre-commit passes them, from
/// the repository's top): lint finds the project the files belong to.
#[test]
fn paths_into_a_project_in_a_subfolder_lint_that_project() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    // A yoyo.ini that names the folder, and lint settings beside it.
    let api = dir.path().join("services/api");
    write(&api.join("yoyo.ini"), "[DEFAULT]\nsources = db/versions\n");
    write(
        &api.join("pyproject.toml"),
        "[tool.migration-creator.lint]\nskip = [\"rollback_noop\"]\n",
    );
    write(&api.join("db/versions/0001_base.py"), BASE);
    write(
        &api.join("db/versions/0002_x.py"),
        &py(&[("DROP TABLE posts", Some("SELECT 1"))]),
    );
    let run = mc(
        dir.path(),
        &[
            "lint",
            "--format",
            "json",
            "services/api/db/versions/0002_x.py",
        ],
    );
    run.code(0);
    let v = run.json();
    assert_eq!(v["migrations_dir"], "services/api/db/versions", "{v:#}");
    assert_eq!(
        v["linted"],
        serde_json::json!(["services/api/db/versions/0002_x.py"])
    );
    assert_eq!(codes(&v, "0002_x.py"), ["drops_table"], "{v:#}");
    assert_eq!(v["suppressed"], 1, "pyproject.toml of the project: {v:#}");

    // No yoyo.ini: the default layout, PROJECT/migrations/.
    let web = dir.path().join("web");
    write(&web.join("migrations/0001_base.py"), BASE);
    write(
        &web.join("migrations/0002_y.py"),
        &py(&[("DROP TABLE users", Some("SELECT 1"))]),
    );
    let run = mc(
        dir.path(),
        &["lint", "--format", "json", "web/migrations/0002_y.py"],
    );
    run.code(0);
    let v = run.json();
    assert_eq!(v["migrations_dir"], "web/migrations", "{v:#}");
    assert_eq!(
        codes(&v, "0002_y.py"),
        ["rollback_noop", "drops_table"],
        "{v:#}"
    );
    let run = mc(dir.path(), &["lint", "--format", "json", "web/migrations"]);
    run.code(0);
    assert_eq!(run.json()["summary"]["files"], 2);

    // Files of two projects in one call.
    let run = mc(
        dir.path(),
        &[
            "lint",
            "--format",
            "json",
            "web/migrations/0002_y.py",
            "services/api/db/versions/0002_x.py",
        ],
    );
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "paths_in_several_projects");
}

/// A path given twice (or spelled two ways) is one entry of `skipped`.
#[test]
fn a_path_is_skipped_once() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("notes.txt"), "x");
    write(&dir.path().join("migrations/post-apply.py"), "x = 1\n");
    let (v, _) = lint_in(
        dir.path(),
        &[],
        &[
            "notes.txt",
            "./notes.txt",
            "migrations/post-apply.py",
            "migrations/../migrations/post-apply.py",
            "migrations/0001_base.py",
            "migrations/0001_base.py",
        ],
    );
    let skipped: Vec<&str> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["notes.txt", "migrations/post-apply.py"], "{v:#}");
    assert_eq!(v["linted"], serde_json::json!(["migrations/0001_base.py"]));
}

/// A `.sql` migration's rollback file that does nothing, or one of whose
/// statements does nothing, is `rollback_noop` as a step's would be.
#[test]
fn rollback_noop_in_sql_migrations() {
    let create = "CREATE TABLE b (x TEXT);\n";
    for rollback in ["", "-- nothing to undo\n", "SELECT 1;\n"] {
        let (v, _) = lint(
            &[("0002_b.sql", create), ("0002_b.rollback.sql", rollback)],
            &[],
        );
        assert_eq!(
            codes(&v, "0002_b.sql"),
            ["rollback_noop"],
            "{rollback:?}: {v:#}"
        );
        assert!(v["findings"][0]["step"].is_null(), "{v:#}");
        assert!(
            v["findings"][0]["message"]
                .as_str()
                .unwrap()
                .contains("0002_b.rollback.sql"),
            "{v:#}"
        );
    }
    // yoyo pairs statements in reverse: CREATE e gets the SELECT.
    let (v, _) = lint(
        &[
            (
                "0002_e.sql",
                "CREATE TABLE e (x TEXT);\nCREATE TABLE f (x TEXT);\n",
            ),
            ("0002_e.rollback.sql", "DROP TABLE f;\nSELECT 1;\n"),
        ],
        &[],
    );
    assert_eq!(codes(&v, "0002_e.sql"), ["rollback_noop"], "{v:#}");
    assert_eq!(steps_of(&v, "0002_e.sql", "rollback_noop"), [1], "{v:#}");
    // A rollback that undoes the statements is fine.
    let (v, _) = lint(
        &[
            (
                "0002_e.sql",
                "CREATE TABLE e (x TEXT);\nCREATE TABLE f (x TEXT);\n",
            ),
            ("0002_e.rollback.sql", "DROP TABLE f;\nDROP TABLE e;\n"),
        ],
        &[],
    );
    assert_eq!(codes(&v, "0002_e.sql"), Vec::<String>::new(), "{v:#}");
}

/// `--since` in a project below the repository's top: deleting an applied
/// migration's rollback file modifies it, and paths in messages are the
/// project's; a revision that starts with `-` and a folder outside git are
/// refused with codes of their own.
#[test]
fn since_edges() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    let p = top.join("app");
    write(&p.join("yoyo.ini"), "[DEFAULT]\nsources = migrations\n");
    write(&p.join("migrations/0001_base.py"), BASE);
    write(
        &p.join("migrations/0002_a.sql"),
        "CREATE TABLE a (x TEXT);\n",
    );
    write(&p.join("migrations/0002_a.rollback.sql"), "DROP TABLE a;\n");
    write(
        &p.join("migrations/0003_b.py"),
        &py(&[("CREATE TABLE b (x)", Some("DROP TABLE b"))]),
    );
    git(top, &["init", "-q", "-b", "main"]);
    git(top, &["add", "."]);
    git(top, &["commit", "-qm", "base"]);
    std::fs::remove_file(p.join("migrations/0002_a.rollback.sql")).unwrap();
    git(
        top,
        &["mv", "app/migrations/0003_b.py", "app/migrations/0003_c.py"],
    );
    let run = mc(&p, &["lint", "--format", "json", "--since", "main"]);
    let v = run.json();
    assert_eq!(
        v["linted"],
        serde_json::json!(["migrations/0002_a.sql", "migrations/0003_c.py"]),
        "{v:#}"
    );
    let found = codes(&v, "0002_a.sql");
    assert!(
        found.contains(&"applied_migration_modified".to_string()),
        "{v:#}"
    );
    for f in v["findings"].as_array().unwrap() {
        let message = f["message"].as_str().unwrap();
        assert!(
            !message.contains("app/"),
            "a path from the git top: {message}"
        );
    }
    let renamed = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "migrations/0003_c.py")
        .unwrap();
    assert!(
        renamed["message"]
            .as_str()
            .unwrap()
            .contains("renamed from migrations/0003_b.py"),
        "{renamed:#}"
    );

    for rev in ["--all", "--output=x", "-p"] {
        let run = mc(&p, &["lint", "--format", "json", &format!("--since={rev}")]);
        run.code(2);
        assert_eq!(run.json()["error"]["code"], "invalid_revision", "{rev}");
    }
    assert!(!p.join("x").exists());

    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("migrations/0001_base.py"), BASE);
    let run = mc(
        outside.path(),
        &["lint", "--format", "json", "--since", "main"],
    );
    run.code(2);
    let e = run.json();
    assert_eq!(e["error"]["code"], "not_a_git_repository", "{e:#}");
    assert!(
        e["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("without --since"),
        "{e:#}"
    );
}

/// A migrations folder outside the project root: SARIF locations stay
/// relative to %SRCROOT% (`../...`), as code scanning resolves them.
#[test]
fn sarif_locations_outside_the_root_are_relative() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("app");
    write(
        &project.join("yoyo.ini"),
        "[DEFAULT]\nsources = ../shared_db\n",
    );
    write(&dir.path().join("shared_db/0001_base.py"), BASE);
    write(
        &dir.path().join("shared_db/0002_x.py"),
        &py(&[(
            "CREATE TABLE a (x); CREATE TABLE b (y)",
            Some("DROP TABLE a"),
        )]),
    );
    let run = mc(&project, &["lint", "--format", "sarif"]);
    run.code(1);
    let log = run.json();
    check_sarif(&log);
    let loc = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uri"], "../shared_db/0002_x.py", "{loc:#}");
    assert_eq!(loc["uriBaseId"], "%SRCROOT%");
}

/// `"..."` in a view's or a trigger's body is resolved only when the view
/// is read or the trigger fires, not when it is made.
#[test]
fn double_quoted_strings_in_view_and_trigger_bodies() {
    let bad_view = py(&[(
        "CREATE VIEW free_users AS SELECT id FROM users WHERE name = \"free\"",
        Some("DROP VIEW free_users"),
    )]);
    let good_view = py(&[(
        "CREATE VIEW free_users AS SELECT \"id\" FROM users WHERE \"name\" = 'free'",
        Some("DROP VIEW free_users"),
    )]);
    case(
        "double_quoted_string",
        "0002_x.py",
        &[("0002_x.py", &bad_view)],
        &[("0002_x.py", &good_view)],
    );
    for (event, body) in [
        (
            "AFTER INSERT ON users",
            "INSERT INTO posts (title) VALUES (\"added\")",
        ),
        (
            "BEFORE UPDATE OF email ON users",
            "UPDATE posts SET title = \"changed\" WHERE user_id = new.id",
        ),
        (
            "AFTER DELETE ON users",
            "DELETE FROM posts WHERE title = \"gone\"",
        ),
    ] {
        let bad = py(&[(
            &format!("CREATE TRIGGER tr {event} BEGIN {body}; END"),
            Some("DROP TRIGGER tr"),
        )]);
        let good = py(&[(
            &format!(
                "CREATE TRIGGER tr {event} BEGIN {}; END",
                body.replace('"', "'")
            ),
            Some("DROP TRIGGER tr"),
        )]);
        case(
            "double_quoted_string",
            "0002_x.py",
            &[("0002_x.py", &bad)],
            &[("0002_x.py", &good)],
        );
        let (v, _) = lint(&[("0002_x.py", &bad)], &[]);
        assert_eq!(
            steps_of(&v, "0002_x.py", "double_quoted_string"),
            [1],
            "{v:#}"
        );
    }
}

/// `SELECT u.*` copies by position as `SELECT *` does.
#[test]
fn insert_select_qualified_star() {
    case(
        "insert_select_star",
        "0002_x.py",
        &[(
            "0002_x.py",
            &py(&[
                ("CREATE TABLE u2 (id INTEGER PRIMARY KEY, email TEXT, name TEXT, age INTEGER)", Some("DROP TABLE u2")),
                ("INSERT INTO u2 SELECT u.* FROM users AS u", Some("DELETE FROM u2")),
            ]),
        )],
        &[(
            "0002_x.py",
            &py(&[
                ("CREATE TABLE u2 (id INTEGER PRIMARY KEY, email TEXT, name TEXT, age INTEGER)", Some("DROP TABLE u2")),
                ("INSERT INTO u2 (id, email, name, age) SELECT u.id, u.email, u.name, u.age FROM users AS u", Some("DELETE FROM u2")),
            ]),
        )],
    );
    let (v, _) = lint(
        &[(
            "0002_x.py",
            &py(&[
                (
                    "CREATE TABLE u2 (id INTEGER PRIMARY KEY, email TEXT, name TEXT, age INTEGER)",
                    Some("DROP TABLE u2"),
                ),
                (
                    "INSERT INTO u2 SELECT DISTINCT \"u\".* FROM users AS \"u\"",
                    Some("DELETE FROM u2"),
                ),
            ]),
        )],
        &[],
    );
    assert_eq!(codes(&v, "0002_x.py"), ["insert_select_star"], "{v:#}");
}
