//! The migration reader against the real yoyo 9.0.0, and `next-number`.

use std::path::Path;
use std::process::Command;

use migration_creator::migrations;
use serde::Deserialize;

use crate::support::{mc, repo_root, venv, write};

/// Our reading of a folder in yoyo's shape: id, depends, transactional, steps.
fn ours(dir: &Path) -> serde_json::Value {
    let display = |p: &Path| p.display().to_string();
    let d = migrations::discover(dir, &display).unwrap();
    let read: Vec<_> = d
        .migrations
        .iter()
        .map(|f| migrations::read(f).unwrap())
        .collect();
    let ordered = migrations::order(read, &display).unwrap();
    let list: Vec<serde_json::Value> = ordered
        .iter()
        .map(|m| {
            let mut depends = m.depends.clone();
            depends.sort();
            serde_json::json!({
                "id": m.file.id,
                "depends": depends,
                "transactional": m.transactional,
                "steps": m.steps.iter().map(|s| serde_json::json!([s.apply, s.rollback])).collect::<Vec<_>>(),
            })
        })
        .collect();
    let hooks: Vec<&str> = d.hooks.iter().map(|h| h.id.as_str()).collect();
    serde_json::json!({ "migrations": list, "hooks": hooks })
}

fn yoyos(dir: &Path) -> serde_json::Value {
    let out = Command::new(venv().join("bin/python"))
        .arg(repo_root().join("tests/yoyo_read.py"))
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn the_reader_agrees_with_yoyo_on_every_hazard() {
    for dir in [
        "tests/fixtures/migrations/hazards",
        "examples/chatbot/migrations",
    ] {
        let dir = repo_root().join(dir);
        let mut theirs = yoyos(&dir);
        // yoyo keeps a .sql step's trailing `;`; so do we. Nothing to adjust.
        let mine = ours(&dir);
        if mine != theirs {
            let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap();
            theirs["note"] = "yoyo".into();
            panic!(
                "{}\n--- ours ---\n{}\n--- yoyo ---\n{}",
                dir.display(),
                pretty(&mine),
                pretty(&theirs)
            );
        }
    }
}

#[test]
fn python_callables_and_computed_sql_are_refused_with_a_position() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("0001_callable.py", "from yoyo import step\n\ndef apply(conn):\n    conn.execute('x')\n\nsteps = [step(apply)]\n", 6),
        ("0002_percent.py", "from yoyo import step\nT = 'users'\nsteps = [\n    step('DROP TABLE %s' % T),\n]\n", 4),
        ("0003_fstring.py", "from yoyo import step\nT = 'users'\nstep(f'DROP TABLE {T}')\n", 3),
        ("0004_computed.py", "import os\nfrom yoyo import step\nSQL = os.environ['SQL']\nstep(SQL)\n", 3),
    ];
    for (name, src, line) in cases {
        write(&tmp.path().join(name), src);
        let display = |p: &Path| p.display().to_string();
        let d = migrations::discover(tmp.path(), &display).unwrap();
        let f = d.migrations.iter().find(|f| f.file_name == name).unwrap();
        let err = migrations::read(f).unwrap_err();
        assert_eq!(
            (err.code, err.line),
            ("unsupported_step", line),
            "{name}: {err:?}"
        );
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NextNumber {
    ok: bool,
    next: String,
    number: u64,
    width: usize,
    directory: String,
    count: usize,
    latest: Option<Latest>,
    duplicates: Vec<Duplicate>,
    gaps: Vec<Gap>,
    unnumbered: Vec<String>,
    warnings: Vec<Warning>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Latest {
    id: String,
    file: String,
    number: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Duplicate {
    number: u64,
    files: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Gap {
    from: u64,
    to: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Warning {
    code: String,
    message: String,
}

fn next_number(dir: &Path, args: &[&str]) -> NextNumber {
    let mut all = vec!["next-number"];
    all.extend_from_slice(args);
    let run = mc(dir, &all);
    run.code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout))
}

#[test]
fn next_number_reports_every_hazard() {
    let r = next_number(
        &repo_root(),
        &["--dir", "tests/fixtures/migrations/hazards"],
    );
    assert!(r.ok);
    assert_eq!((r.next.as_str(), r.number, r.width), ("00011", 11, 5));
    assert_eq!(r.directory, "tests/fixtures/migrations/hazards");
    // post-apply hooks and rollback files are not migrations.
    assert_eq!(r.count, 10);
    let latest = r.latest.unwrap();
    assert_eq!((latest.id.as_str(), latest.number), ("00010_wide", 10));
    assert_eq!(
        latest.file,
        "tests/fixtures/migrations/hazards/00010_wide.py"
    );
    assert_eq!(r.duplicates.len(), 1);
    assert_eq!(r.duplicates[0].number, 3);
    assert_eq!(r.duplicates[0].files.len(), 2);
    assert_eq!(
        r.gaps,
        vec![
            Gap { from: 4, to: 4 },
            Gap { from: 6, to: 6 },
            Gap { from: 8, to: 9 }
        ]
    );
    assert_eq!(r.unnumbered.len(), 3, "{:?}", r.unnumbered);
    let codes: Vec<&str> = r.warnings.iter().map(|w| w.code.as_str()).collect();
    for code in [
        "accidental_migration",
        "unnumbered_migration",
        "orphan_rollback",
        "duplicate_number",
        "mixed_widths",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert!(r.warnings.iter().all(|w| !w.message.is_empty()));
}

#[test]
fn next_number_on_the_example_and_on_an_empty_folder() {
    let r = next_number(&repo_root().join("examples/chatbot"), &[]);
    assert_eq!((r.next.as_str(), r.count, r.warnings.len()), ("0005", 4, 0));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("migrations")).unwrap();
    let r = next_number(tmp.path(), &[]);
    assert_eq!(
        (r.next.as_str(), r.number, r.width, r.latest.is_none()),
        ("0001", 1, 4, true)
    );
}

#[test]
fn next_number_warns_before_the_width_overflows() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("migrations/9999_last.py"), "");
    let r = next_number(tmp.path(), &[]);
    assert_eq!(r.next, "10000");
    assert!(
        r.warnings.iter().any(|w| w.code == "width_overflow"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_missing_migrations_folder_is_an_environment_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = mc(tmp.path(), &["next-number"]);
    run.code(2);
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "migrations_dir_not_found");
    let hint = v["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("--dir") && hint.contains("yoyo.ini"),
        "{hint}"
    );
}
