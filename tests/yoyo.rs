//! The example project is a real yoyo project: the real yoyo 9.0.0 applies
//! and rolls back its migrations.

use std::process::Command;

use crate::support::{chatbot, venv};

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn yoyo_applies_and_rolls_back_the_example_migrations() {
    let project = chatbot();
    let db = project.path().join("scratch.db");
    let url = format!("sqlite:///{}", db.display());
    let yoyo = venv().join("bin/yoyo");
    let run = |args: &[&str]| {
        let out = Command::new(&yoyo)
            .args(args)
            .current_dir(project.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "yoyo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "apply",
        "--batch",
        "--no-config-file",
        "--database",
        &url,
        "migrations",
    ]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let names = |conn: &rusqlite::Connection| -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%yoyo%' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        names(&conn),
        [
            "conversations",
            "idx_messages_conversation_id",
            "messages",
            "users"
        ]
    );
    drop(conn);
    run(&[
        "rollback",
        "--batch",
        "--no-config-file",
        "--database",
        &url,
        "--all",
        "migrations",
    ]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert!(names(&conn).is_empty());
}
