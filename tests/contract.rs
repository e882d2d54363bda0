//! The output contract at its edges: usage errors, exit codes, a stdout that
//! cannot be written, and files created the way users expect.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::{bin, chatbot, mc, write};

#[test]
fn usage_errors_of_the_helpers_are_json_with_the_whole_message() {
    let project = chatbot();
    let dir = project.path();
    for (args, needle) in [
        (
            vec!["scaffold", "add-column", "--table", "users"],
            "--column",
        ),
        (vec!["test-apply", "--engine", "bogus"], "bogus"),
        (vec!["scaffold", "bogus-kind"], "bogus-kind"),
        (vec!["next-number", "--bogus"], "--bogus"),
        (vec!["validate", "--format", "json", "--bogus"], "--bogus"),
    ] {
        let run = mc(dir, &args);
        run.code(2);
        let v = run.json();
        assert_eq!(v["ok"], false, "{args:?}");
        assert_eq!(v["error"]["code"], "usage", "{args:?}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(needle),
            "{args:?}: {v}"
        );
    }
    // A person's command stays text.
    let run = mc(dir, &["validate", "--bogus"]);
    run.code(2);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("--bogus"));
    // A missing argument found after parsing is a usage error too.
    let run = mc(
        dir,
        &[
            "scaffold",
            "sql",
            "--apply",
            "SELECT 1",
            "--rollback",
            "SELECT 1",
        ],
    );
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "missing_argument");
}

#[test]
fn a_missing_project_folder_and_an_unwritable_stdout_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let run = mc(tmp.path(), &["validate", "-C", "/nonexistent/project"]);
    run.code(2);
    let project = chatbot();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(bin())
        .arg("next-number")
        .current_dir(project.path())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("output_failed"));
}

#[test]
fn new_files_get_the_umask_mode_and_a_dangling_link_does_not_block_a_number() {
    let project = chatbot();
    let dir = project.path();
    let probe = dir.join("probe");
    std::fs::write(&probe, "x").unwrap();
    let plain = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    // A dangling link takes the name the next migration would get.
    std::os::unix::fs::symlink(dir.join("nowhere.py"), dir.join("migrations/0005_bio.py")).unwrap();
    let run = mc(
        dir,
        &[
            "scaffold",
            "add-column",
            "--table",
            "users",
            "--column",
            "bio TEXT",
            "--description",
            "bio",
        ],
    );
    run.code(0);
    let v = run.json();
    assert_eq!(v["path"], "migrations/0006_bio.py", "{v}");
    let mode = std::fs::metadata(dir.join("migrations/0006_bio.py"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(
        mode, plain,
        "a new migration gets the mode any new file gets"
    );
    let run = mc(dir, &["install", "--format", "json"]);
    run.code(0);
    for f in [
        ".claude/agents/migration-creator.md",
        ".claude/settings.json",
    ] {
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, plain, "{f}");
    }
}

#[test]
fn a_linked_settings_file_is_written_through_and_a_read_only_one_refused() {
    let project = chatbot();
    let dir = project.path();
    write(
        &dir.join("shared/settings.json"),
        "{\"permissions\": {\"allow\": []}}\n",
    );
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    std::os::unix::fs::symlink("../shared/settings.json", dir.join(".claude/settings.json"))
        .unwrap();
    mc(dir, &["install"]).code(0);
    assert!(std::fs::symlink_metadata(dir.join(".claude/settings.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    let shared = std::fs::read_to_string(dir.join("shared/settings.json")).unwrap();
    assert!(shared.contains("Bash(migration-creator *)"), "{shared}");

    let project = chatbot();
    let dir = project.path();
    write(&dir.join(".claude/settings.json"), "{}\n");
    std::fs::set_permissions(
        dir.join(".claude/settings.json"),
        std::fs::Permissions::from_mode(0o444),
    )
    .unwrap();
    let run = mc(dir, &["install", "--format", "json"]);
    run.code(2);
    assert_eq!(
        run.json()["error"]["code"],
        "file_read_only",
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".claude/settings.json")).unwrap(),
        "{}\n"
    );
}

#[test]
fn errors_name_what_is_wrong() {
    let project = chatbot();
    let dir = project.path();
    // A Python syntax error is named as such, with where.
    write(
        &dir.join("migrations/0005_bad.py"),
        "from yoyo import step\nsteps = [step(\"CREATE TABLE x (a)\", \"DROP TABLE x\")\n",
    );
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(1);
    let e = run.json();
    assert_eq!(e["error"]["code"], "python_syntax_error");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("0005_bad.py:2:9"),
        "{e}"
    );
    assert!(
        !e["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--engine yoyo"),
        "{e}"
    );
    // A file that is not UTF-8 cannot be read.
    std::fs::write(dir.join("migrations/0005_bad.py"), b"\xff\xfe steps = []\n").unwrap();
    let run = mc(dir, &["schema"]);
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "migration_unreadable");
    std::fs::remove_file(dir.join("migrations/0005_bad.py")).unwrap();

    // A database with a hot journal, and one another process holds locked.
    let db = dir.join("instance/chatbot.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE t (x)").unwrap();
    drop(conn);
    // A writer that died in the middle of a transaction leaves a hot journal.
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg("import os, sqlite3, sys\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('PRAGMA cache_size = 1')\nc.execute('BEGIN')\nc.execute('INSERT INTO t SELECT zeroblob(4096) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) SELECT i FROM n)')\nos._exit(0)\n")
        .arg(&db)
        .status()
        .unwrap();
    assert!(status.success());
    let journal = dir.join("instance/chatbot.db-journal");
    assert!(
        std::fs::metadata(&journal).unwrap().len() > 0,
        "no hot journal was left"
    );
    let before = (
        std::fs::read(&db).unwrap(),
        std::fs::read(&journal).unwrap(),
    );
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "hot_journal", "{}", run.stdout);
    assert_eq!(
        (
            std::fs::read(&db).unwrap(),
            std::fs::read(&journal).unwrap()
        ),
        before
    );
    std::fs::remove_file(dir.join("instance/chatbot.db-journal")).unwrap();
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder
        .execute_batch(
            "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);",
        )
        .unwrap();
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(2);
    assert_eq!(
        run.json()["error"]["code"],
        "database_locked",
        "{}",
        run.stdout
    );
    drop(holder);
}

#[test]
fn help_says_each_commands_default_and_strict_says_why_it_failed() {
    let tmp = tempfile::tempdir().unwrap();
    for (cmd, default) in [
        ("scaffold", "json"),
        ("validate", "text"),
        ("test-apply", "json"),
        ("doctor", "text"),
    ] {
        let run = mc(tmp.path(), &[cmd, "--help"]);
        run.code(0);
        assert!(
            run.stdout
                .contains(&format!("Output format [default: {default}]")),
            "{cmd}: {}",
            run.stdout
        );
    }
    let run = mc(
        &crate::support::repo_root(),
        &[
            "validate",
            "--strict",
            "tests/fixtures/agent-files/invalid-color.md",
        ],
    );
    run.code(1);
    assert!(
        run.stdout.contains("--strict: warnings fail the check"),
        "{}",
        run.stdout
    );
    // A symlink loop among agent files is a warning, skipped.
    let agents = tmp.path().join(".claude/agents");
    std::fs::create_dir_all(&agents).unwrap();
    std::os::unix::fs::symlink("b.md", agents.join("a.md")).unwrap();
    std::os::unix::fs::symlink("a.md", agents.join("b.md")).unwrap();
    let run = mc(tmp.path(), &["validate", "--format", "json"]);
    run.code(0);
    let v = run.json();
    assert_eq!(
        v["files"][0]["diagnostics"][0]["code"], "symlink_loop",
        "{v}"
    );
    // uninstall --dry-run says what it would do.
    let project = chatbot();
    mc(project.path(), &["install"]).code(0);
    let run = mc(
        project.path(),
        &["uninstall", "--dry-run", "--format", "json"],
    );
    run.code(0);
    assert_eq!(run.json()["rule_status"], "would_remove");
}

#[test]
fn run_from_a_subfolder_commands_work_on_the_project() {
    let project = chatbot();
    let dir = project.path();
    let sub = dir.join("migrations");
    let run = crate::support::mc_with_home(&sub, &dir.join(".home"), &["install", "--dry-run"]);
    run.code(0);
    let root = dir.canonicalize().unwrap();
    assert!(
        run.stdout
            .contains(&format!("(project {})", root.display())),
        "{}",
        run.stdout
    );
    assert!(!sub.join(".claude").exists());
    let run =
        crate::support::mc_with_home(&sub, &dir.join(".home"), &["install", "--format", "json"]);
    run.code(0);
    assert!(dir.join(".claude/agents/migration-creator.md").is_file());
    assert!(
        !sub.join(".claude").exists(),
        "nothing is created in the subfolder"
    );
    let run = mc(&sub, &["next-number"]);
    run.code(0);
    assert_eq!(run.json()["next"], "0005");
}

#[test]
fn uninstall_needs_no_folders_and_scaffolds_share_one_lock_whatever_tmpdir() {
    let project = chatbot();
    let dir = project.path();
    let run = mc(dir, &["uninstall", "--help"]);
    assert!(
        !run.stdout.contains("--dir") && !run.stdout.contains("--database"),
        "{}",
        run.stdout
    );
    // Installed with other folders: the checksum says it is unedited, so it goes.
    mc(
        dir,
        &["install", "--dir", "db/migrations", "--no-permissions"],
    )
    .code(0);
    let run = mc(dir, &["uninstall", "--format", "json"]);
    run.code(0);
    assert_eq!(run.json()["status"], "removed");

    // Eight scaffolds at once, with two different TMPDIRs, adding eight columns.
    let tmp_a = tempfile::tempdir().unwrap();
    let tmp_b = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..8)
        .map(|i| {
            Command::new(bin())
                .args(["scaffold", "add-column", "--table", "users", "--column"])
                .arg(format!("c{i} TEXT"))
                .current_dir(dir)
                .env(
                    "TMPDIR",
                    if i % 2 == 0 {
                        tmp_a.path()
                    } else {
                        tmp_b.path()
                    },
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let numbers: Vec<&str> = names.iter().map(|n| &n[..4]).collect();
    let mut unique = numbers.clone();
    unique.dedup();
    assert_eq!(numbers, unique, "two migrations share a number: {names:?}");
    assert_eq!(names.len(), 12, "{names:?}");
}

#[test]
fn a_wal_without_its_shm_is_named_and_left_alone() {
    let project = chatbot();
    let dir = project.path();
    let db = dir.join("instance/chatbot.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    // A database with frames in its -wal, copied while open: the copy has a
    // -wal with content and no -shm.
    let held = dir.join("held.db");
    let conn = rusqlite::Connection::open(&held).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
    )
    .unwrap();
    std::fs::copy(&held, &db).unwrap();
    std::fs::copy(dir.join("held.db-wal"), dir.join("instance/chatbot.db-wal")).unwrap();
    drop(conn);
    let before = (
        std::fs::read(&db).unwrap(),
        std::fs::read(dir.join("instance/chatbot.db-wal")).unwrap(),
    );
    let run = mc(dir, &["test-apply", "--engine", "native"]);
    run.code(2);
    assert_eq!(
        run.json()["error"]["code"],
        "wal_without_shm",
        "{}",
        run.stdout
    );
    assert!(
        !dir.join("instance/chatbot.db-shm").exists(),
        "no -shm was made beside the database"
    );
    assert_eq!(
        (
            std::fs::read(&db).unwrap(),
            std::fs::read(dir.join("instance/chatbot.db-wal")).unwrap()
        ),
        before
    );
}

#[test]
fn edges_a_second_review_found() {
    let project = chatbot();
    let dir = project.path();
    // A bad --format value on a JSON helper is a JSON usage error.
    let run = mc(dir, &["next-number", "--format", "xml"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "usage");
    let run = mc(dir, &["next-number", "--format", "github"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "unsupported_format");
    // --help to a full stdout exits 2.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(bin())
        .arg("--help")
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A read-only settings.json stops install before the agent is written.
    write(&dir.join(".claude/settings.json"), "{\"k\": 1}\n");
    std::fs::set_permissions(
        dir.join(".claude/settings.json"),
        std::fs::Permissions::from_mode(0o444),
    )
    .unwrap();
    mc(dir, &["install"]).code(2);
    assert!(
        !dir.join(".claude/agents/migration-creator.md").exists(),
        "half an install"
    );
    std::fs::set_permissions(
        dir.join(".claude/settings.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // A dangling link where the agent goes is refused, nothing is written through it.
    std::fs::create_dir_all(dir.join(".claude/agents")).unwrap();
    let outside = dir.join("outside.md");
    std::os::unix::fs::symlink(&outside, dir.join(".claude/agents/migration-creator.md")).unwrap();
    let run = mc(dir, &["install", "--format", "json"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "dangling_link");
    assert!(!outside.exists());
    std::fs::remove_file(dir.join(".claude/agents/migration-creator.md")).unwrap();
    // Uninstall through a linked settings.json that held only the rule keeps the link.
    std::fs::remove_file(dir.join(".claude/settings.json")).unwrap();
    write(&dir.join("real/s.json"), "{}\n");
    std::os::unix::fs::symlink("../real/s.json", dir.join(".claude/settings.json")).unwrap();
    mc(dir, &["install"]).code(0);
    mc(dir, &["uninstall"]).code(0);
    assert!(std::fs::symlink_metadata(dir.join(".claude/settings.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!std::fs::read_to_string(dir.join("real/s.json"))
        .unwrap()
        .contains("migration-creator"));
    // Relative --dir typed in a subfolder means that subfolder's path.
    std::fs::create_dir_all(dir.join("deep")).unwrap();
    let run = mc(
        &dir.join("deep"),
        &["next-number", "--dir", "../migrations"],
    );
    run.code(0);
    assert_eq!(run.json()["next"], "0005");
}

#[test]
fn bash_completion_completes_a_subcommands_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let run = mc(tmp.path(), &["completions", "bash"]);
    run.code(0);
    let script = tmp.path().join("c.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(migration-creator doctor --); COMP_CWORD=2; _migration__creator migration-creator -- doctor; echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(words.contains("--yoyo"), "{words}");
}
