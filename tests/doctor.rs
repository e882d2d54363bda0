//! `doctor`: every problem it can describe is a check with its fix (exit 1),
//! never an error; only a bad flag or a missing project folder exits 2.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{bin, chatbot, mc, venv, write, Run};

const CALLABLE: &str = "from yoyo import step\n\ndef up(conn):\n    pass\n\nsteps = [step(up)]\n";

fn doctor(dir: &Path) -> Run {
    mc(dir, &["doctor", "--format", "json"])
}

/// The check named `name`, which must be there.
fn check(v: &Value, name: &str) -> Value {
    v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no `{name}` check in {v:#}"))
}

fn text(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {v:#}"))
        .to_string()
}

/// Every check has a name, `ok`, a detail, and a fix exactly when not ok.
fn assert_shape(v: &Value) {
    assert_eq!(v.as_object().unwrap().len(), 2, "{v:#}");
    let checks = v["checks"].as_array().unwrap();
    for c in checks {
        assert!(c["name"].is_string() && c["detail"].is_string(), "{c:#}");
        assert_eq!(c["fix"].is_string(), c["ok"] == false, "{c:#}");
    }
    let all_ok = checks.iter().all(|c| c["ok"] == true);
    assert_eq!(v["ok"], all_ok, "{v:#}");
}

/// `doctor --format json` in `dir` with PATH set to a folder that holds a
/// `python3` and no `yoyo` (the example project has no .venv).
fn doctor_without_yoyo(dir: &Path, extra: &[&str]) -> Run {
    let path_dir = tempfile::tempdir().unwrap();
    let python = std::fs::canonicalize(venv().join("bin/python")).unwrap();
    std::os::unix::fs::symlink(python, path_dir.path().join("python3")).unwrap();
    assert!(!dir.join(".venv").exists());
    let out = Command::new(bin())
        .args(["doctor", "--format", "json"])
        .args(extra)
        .current_dir(dir)
        .env("HOME", dir.join(".test-home"))
        .env("NO_COLOR", "1")
        .env("PATH", path_dir.path())
        .output()
        .expect("run migration-creator");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_broken_settings_json_is_a_check_with_its_fix() {
    let project = chatbot();
    let dir = project.path();
    let settings = dir.join(".claude/settings.json");
    for (content, says) in [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
        (
            r#"{"permissions": []}"#,
            "`permissions` in .claude/settings.json is not an object",
        ),
        (
            r#"{"permissions": {"allow": "x"}}"#,
            "`permissions.allow` in .claude/settings.json is not a list",
        ),
    ] {
        write(&settings, content);
        let run = doctor(dir);
        run.code(1);
        let v = run.json();
        assert_shape(&v);
        let permission = check(&v, "permission");
        assert_eq!(permission["ok"], false);
        let detail = text(&permission, "detail");
        assert!(detail.contains(says), "{content}: {detail}");
        assert!(detail.contains(".claude/settings.json"), "{detail}");
        assert!(
            !detail.contains(&*dir.to_string_lossy()),
            "absolute path: {detail}"
        );
        let fix = text(&permission, "fix");
        assert!(fix.contains("fix .claude/settings.json by hand"), "{fix}");
        assert!(fix.contains("migration-creator install"), "{fix}");
        // The other checks still ran.
        assert_eq!(check(&v, "migrations")["ok"], true);
        assert_eq!(check(&v, "agent")["ok"], false);
        assert_eq!(std::fs::read_to_string(&settings).unwrap(), content);
    }

    write(&settings, "{not json");
    let run = mc(dir, &["doctor"]);
    run.code(1);
    assert!(
        run.stdout
            .contains("FIX  permission: .claude/settings.json is not valid JSON"),
        "{}",
        run.stdout
    );

    // A settings.json that cannot be read as a file.
    std::fs::remove_file(&settings).unwrap();
    std::fs::create_dir(&settings).unwrap();
    let v = doctor(dir).code(1).json();
    assert_shape(&v);
    let permission = check(&v, "permission");
    assert_eq!(
        permission["detail"],
        ".claude/settings.json is a folder, not a file"
    );
    assert!(text(&permission, "fix").contains("move the folder .claude/settings.json"));
}

#[test]
fn a_claude_agents_file_where_the_folder_belongs_is_a_check_with_its_fix() {
    let project = chatbot();
    let dir = project.path();
    write(&dir.join(".claude/agents"), "not a folder");
    let run = doctor(dir);
    run.code(1);
    let v = run.json();
    assert_shape(&v);
    let agent = check(&v, "agent");
    assert_eq!(agent["ok"], false);
    assert_eq!(
        agent["detail"],
        ".claude/agents is a file, not a folder, so .claude/agents/migration-creator.md cannot be read"
    );
    let fix = text(&agent, "fix");
    assert!(fix.contains("move .claude/agents out of the way"), "{fix}");
    assert!(fix.contains("migration-creator install"), "{fix}");
    // The permission check does not need the folder.
    assert_eq!(check(&v, "permission")["ok"], false);
    assert!(text(&check(&v, "permission"), "detail").contains("is not in .claude/settings.json"));

    // `.claude` itself a file: both checks name it.
    std::fs::remove_dir_all(dir.join(".claude")).unwrap();
    write(&dir.join(".claude"), "");
    let v = doctor(dir).code(1).json();
    assert_shape(&v);
    for name in ["agent", "permission"] {
        let c = check(&v, name);
        assert_eq!(c["ok"], false);
        assert!(
            text(&c, "detail").starts_with(".claude is a file, not a folder"),
            "{c:#}"
        );
        assert!(
            text(&c, "fix").contains("move .claude out of the way"),
            "{c:#}"
        );
    }
}

#[test]
fn a_missing_migrations_folder_is_a_check_with_its_fix() {
    let project = chatbot();
    let dir = project.path();
    std::fs::remove_dir_all(dir.join("migrations")).unwrap();
    let run = doctor(dir);
    run.code(1);
    let v = run.json();
    assert_shape(&v);
    let migrations = check(&v, "migrations");
    assert_eq!(migrations["ok"], false);
    assert_eq!(
        migrations["detail"],
        "migrations folder migrations does not exist"
    );
    assert!(text(&migrations, "fix").contains("--dir"));
    assert_eq!(check(&v, "configuration")["ok"], true);
    assert!(check(&v, "agent")["detail"]
        .as_str()
        .unwrap()
        .contains("not installed"));

    // The same with --dir naming a folder that is not there.
    let v = mc(dir, &["doctor", "--format", "json", "--dir", "db/none"])
        .code(1)
        .json();
    assert_eq!(
        check(&v, "migrations")["detail"],
        "migrations folder db/none does not exist"
    );
}

#[test]
fn an_unreadable_yoyo_ini_is_a_check_and_the_checks_it_feeds_say_so() {
    let project = chatbot();
    let dir = project.path();
    std::fs::write(dir.join("yoyo.ini"), b"[DEFAULT]\nsources = \xff\xfe\n").unwrap();
    let run = doctor(dir);
    run.code(1);
    let v = run.json();
    assert_shape(&v);
    let configuration = check(&v, "configuration");
    assert_eq!(configuration["ok"], false);
    let detail = text(&configuration, "detail");
    assert!(detail.starts_with("cannot read yoyo.ini: "), "{detail}");
    assert!(text(&configuration, "fix").contains("yoyo.ini"));
    for name in ["migrations", "agent"] {
        let c = check(&v, name);
        assert_eq!(c["ok"], false);
        assert!(text(&c, "detail").starts_with("not checked"), "{c:#}");
        assert!(text(&c, "fix").contains("fix yoyo.ini first"), "{c:#}");
    }
    assert!(text(&check(&v, "permission"), "detail").contains("is not in .claude/settings.json"));
}

#[test]
fn a_missing_yoyo_is_a_note_when_the_native_engine_reads_every_migration() {
    let project = chatbot();
    let dir = project.path();
    mc(dir, &["install"]).code(0);
    let run = doctor_without_yoyo(dir, &[]);
    run.code(0);
    let v = run.json();
    assert_shape(&v);
    assert_eq!(v["ok"], true);
    let yoyo = check(&v, "yoyo");
    assert_eq!(yoyo["ok"], true);
    assert_eq!(yoyo["fix"], Value::Null);
    let detail = text(&yoyo, "detail");
    assert!(
        detail.starts_with("not found in .venv/bin/ or on PATH"),
        "{detail}"
    );
    assert!(
        detail.contains("test-apply uses its native engine"),
        "{detail}"
    );
}

#[test]
fn a_missing_yoyo_is_a_problem_when_a_migration_has_a_python_step() {
    let project = chatbot();
    let dir = project.path();
    mc(dir, &["install"]).code(0);
    write(&dir.join("migrations/0005_callable.py"), CALLABLE);
    let run = doctor_without_yoyo(dir, &[]);
    run.code(1);
    let v = run.json();
    assert_shape(&v);
    let yoyo = check(&v, "yoyo");
    assert_eq!(yoyo["ok"], false);
    let detail = text(&yoyo, "detail");
    assert!(detail.contains("native engine cannot read"), "{detail}");
    assert!(
        detail.contains("migrations/0005_callable.py:6:"),
        "{detail}"
    );
    let fix = text(&yoyo, "fix");
    assert!(
        fix.contains("yoyo-migrations") && fix.contains(".venv"),
        "{fix}"
    );
    // Nothing else is wrong: the callable is only a problem without yoyo.
    let failing: Vec<&Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failing.len(), 1, "{v:#}");

    // A post-apply hook with a Python step counts too.
    std::fs::remove_file(dir.join("migrations/0005_callable.py")).unwrap();
    write(&dir.join("migrations/post-apply.py"), CALLABLE);
    let v = doctor_without_yoyo(dir, &[]).code(1).json();
    assert!(text(&check(&v, "yoyo"), "detail").contains("migrations/post-apply.py"));

    // With yoyo, the same folder is fine.
    let yoyo_path = venv().join("bin/yoyo");
    let run = doctor_without_yoyo(dir, &["--yoyo", yoyo_path.to_str().unwrap()]);
    run.code(0);
    let yoyo = check(&run.json(), "yoyo");
    assert_eq!(yoyo["ok"], true);
    assert!(
        text(&yoyo, "detail").contains("yoyo-migrations 9.0.0"),
        "{yoyo:#}"
    );

    // A --yoyo that names nothing is a problem of its own.
    let v = doctor_without_yoyo(dir, &["--yoyo", "/nonexistent/yoyo"])
        .code(1)
        .json();
    let yoyo = check(&v, "yoyo");
    assert_eq!(yoyo["ok"], false);
    assert!(text(&yoyo, "fix").contains("--yoyo"));
}

#[test]
fn only_a_bad_flag_or_a_missing_project_folder_exits_2() {
    let project = chatbot();
    let dir = project.path();
    mc(dir, &["doctor", "--no-such-flag"]).code(2);
    let run = mc(dir, &["doctor", "--format", "json", "-C", "nowhere"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "project_dir_not_found");
}
