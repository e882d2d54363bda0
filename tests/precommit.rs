//! The pre-commit hook, run by the real pre-commit and by prek (its Rust
//! twin, which reads the same hook files) from the test virtualenv against a
//! temporary git repository.

use std::path::Path;
use std::process::Command;

use crate::support::{repo_root, venv, write};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// The hook runners: the executable in the virtualenv, and the variable
/// that moves its cache.
#[derive(Clone, Copy)]
enum Runner {
    PreCommit,
    Prek,
}

impl Runner {
    fn command(self) -> Command {
        let (bin, home_var, home) = match self {
            Runner::PreCommit => ("pre-commit", "PRE_COMMIT_HOME", "pre-commit-home"),
            Runner::Prek => ("prek", "PREK_HOME", "prek-home"),
        };
        let mut cmd = Command::new(venv().join("bin").join(bin));
        cmd.env(home_var, repo_root().join("target").join(home));
        cmd
    }
}

fn try_repo(runner: Runner, dir: &Path, files: &[&str]) -> (bool, String) {
    try_hook(runner, dir, "validate-agents", files)
}

fn try_hook(runner: Runner, dir: &Path, hook: &str, files: &[&str]) -> (bool, String) {
    let target = repo_root().join("target");
    let out = runner
        .command()
        .args(["try-repo", repo_root().to_str().unwrap(), hook, "--files"])
        .args(files)
        .current_dir(dir)
        // Cache the hook's cargo build between runs (and runners).
        .env("CARGO_TARGET_DIR", target.join("pre-commit-build"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
#[ignore = "needs pre-commit from the virtualenv; scripts/test-all.sh runs it"]
fn pre_commit_runs_the_hook_on_agent_files() {
    hook_on_agent_files(Runner::PreCommit);
}

#[test]
#[ignore = "needs prek from the virtualenv; scripts/test-all.sh runs it"]
fn prek_runs_the_hook_on_agent_files() {
    hook_on_agent_files(Runner::Prek);
}

fn hook_on_agent_files(runner: Runner) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    write(
        &dir.join(".claude/agents/good.md"),
        "---\nname: good\ndescription: Reviews code.\ntools: Read, Grep\n---\nReview the change.\n",
    );
    write(
        &dir.join(".claude/agents/broken.md"),
        "---\nname: broken\ntools: Read\n---\nNo description.\n",
    );
    git(dir, &["add", "."]);

    let (ok, out) = try_repo(runner, dir, &[".claude/agents/good.md"]);
    assert!(ok, "a valid agent passes:\n{out}");
    assert!(out.contains("validate Claude Code agent files"), "{out}");

    let (ok, out) = try_repo(
        runner,
        dir,
        &[".claude/agents/good.md", ".claude/agents/broken.md"],
    );
    assert!(!ok, "a broken agent fails:\n{out}");
    assert!(
        out.contains(".claude/agents/broken.md:1:1: error[missing_description]"),
        "{out}"
    );
}

#[test]
#[ignore = "needs pre-commit and prek from the virtualenv; scripts/test-all.sh runs it"]
fn pre_commit_runs_check_migrations_on_staged_migrations() {
    for runner in [Runner::PreCommit, Runner::Prek] {
        check_migrations_under(runner);
    }
}

fn check_migrations_under(runner: Runner) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    write(
        &dir.join("migrations/0001_users.py"),
        "from yoyo import step\nsteps = [step(\"CREATE TABLE users (id INTEGER PRIMARY KEY)\", \"DROP TABLE users\")]\n",
    );
    write(
        &dir.join("migrations/0002_email.py"),
        "from yoyo import step\nsteps = [step(\"ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT ''\", \"ALTER TABLE users DROP COLUMN email\")]\n",
    );
    git(dir, &["add", "."]);
    // Only the new file is passed; it is checked on the schema 0001 builds.
    let (ok, out) = try_hook(
        runner,
        dir,
        "check-migrations",
        &["migrations/0002_email.py"],
    );
    assert!(ok, "a safe migration passes:\n{out}");
    assert!(out.contains("lint yoyo migrations"), "{out}");
    write(
        &dir.join("migrations/0003_plan.py"),
        "from yoyo import step\nsteps = [step(\"ALTER TABLE users ADD COLUMN plan TEXT NOT NULL\", \"ALTER TABLE users DROP COLUMN plan\")]\n",
    );
    git(dir, &["add", "."]);
    let (ok, out) = try_hook(
        runner,
        dir,
        "check-migrations",
        &["migrations/0003_plan.py"],
    );
    assert!(
        !ok,
        "a migration that fails on rows fails the commit:\n{out}"
    );
    assert!(
        out.contains("migrations/0003_plan.py:2:10: error[add_column_fails_on_data]"),
        "{out}"
    );
}

/// The `repo: local` set-up the README gives, run by the real pre-commit
/// with the binary on PATH.
#[test]
#[ignore = "needs pre-commit from the virtualenv; scripts/test-all.sh runs it"]
fn the_readmes_local_hook_runs_validate() {
    readmes_local_hook(Runner::PreCommit);
}

#[test]
#[ignore = "needs prek from the virtualenv; scripts/test-all.sh runs it"]
fn the_readmes_local_hook_runs_validate_under_prek() {
    readmes_local_hook(Runner::Prek);
}

fn readmes_local_hook(runner: Runner) {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let config = readme
        .split("```yaml\n")
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.contains("repo: local"))
        .expect("the README has a repo: local set-up");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    write(&dir.join(".pre-commit-config.yaml"), config);
    write(
        &dir.join(".claude/agents/broken.md"),
        "---\nname: broken\ntools: Read\n---\nNo description.\n",
    );
    git(dir, &["add", "."]);
    let bin_dir = crate::support::bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = runner
        .command()
        .args(["run", "--all-files"])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(".claude/agents/broken.md:1:1: error[missing_description]"),
        "{text}"
    );
}

#[test]
#[ignore = "needs pre-commit and prek from the virtualenv; scripts/test-all.sh runs it"]
fn the_hook_runs_on_a_changed_plugin_manifest() {
    for runner in [Runner::PreCommit, Runner::Prek] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        write(
            &dir.join(".claude-plugin/plugin.json"),
            "{\"name\": \"demo\", \"version\": \"1.0.0\",}\n",
        );
        write(
            &dir.join("agents/helper.md"),
            "---\nname: helper\ndescription: Helps.\n---\nYou help.\n",
        );
        git(dir, &["add", "."]);
        let (ok, out) = try_repo(runner, dir, &[".claude-plugin/plugin.json"]);
        assert!(!ok, "a broken manifest fails the commit:\n{out}");
        assert!(
            out.contains(".claude-plugin/plugin.json:1:37: error[plugin_json_syntax]"),
            "{out}"
        );
        write(
            &dir.join(".claude-plugin/plugin.json"),
            "{\"name\": \"demo\", \"version\": \"1.0.0\", \"description\": \"d\", \"author\": {\"name\": \"t\"}}\n",
        );
        git(dir, &["add", "."]);
        let (ok, out) = try_repo(runner, dir, &[".claude-plugin/plugin.json"]);
        assert!(ok, "a valid plugin passes:\n{out}");
        assert!(out.contains("validate Claude Code agent files"), "{out}");
    }
}

/// pre-commit runs hooks from the repository's top and passes paths
/// relative to it: check-migrations (its entry and files pattern, run as a
/// local hook with the binary on PATH) lints a project in a subfolder.
#[test]
#[ignore = "needs pre-commit from the virtualenv; scripts/test-all.sh runs it"]
fn check_migrations_finds_a_project_in_a_subfolder() {
    let hooks = std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    let hook = hooks
        .split("- id: ")
        .find(|h| h.starts_with("check-migrations"))
        .expect("the check-migrations hook");
    let field = |name: &str| {
        hook.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} in {hook}"))
            .trim()
            .to_string()
    };
    let config = format!(
        "repos:\n  - repo: local\n    hooks:\n      - id: check-migrations\n        name: lint yoyo migrations\n        entry: {}\n        language: system\n        files: {}\n        types: [file]\n",
        field("entry:"),
        field("files:")
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    write(&dir.join(".pre-commit-config.yaml"), &config);
    write(
        &dir.join("backend/migrations/0001_users.py"),
        "from yoyo import step\nsteps = [step(\"CREATE TABLE users (id INTEGER PRIMARY KEY)\", \"DROP TABLE users\")]\n",
    );
    write(
        &dir.join("backend/migrations/0002_plan.py"),
        "from yoyo import step\nsteps = [step(\"ALTER TABLE users ADD COLUMN plan TEXT NOT NULL\", \"ALTER TABLE users DROP COLUMN plan\")]\n",
    );
    git(dir, &["add", "."]);
    let bin_dir = crate::support::bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Runner::PreCommit
        .command()
        .args(["run", "--files", "backend/migrations/0002_plan.py"])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("backend/migrations/0002_plan.py:2:10: error[add_column_fails_on_data]"),
        "{text}"
    );
}
