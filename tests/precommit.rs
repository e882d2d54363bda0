//! The pre-commit hook, run by the real pre-commit from the test virtualenv
//! against a temporary git repository.

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

fn try_repo(dir: &Path, files: &[&str]) -> (bool, String) {
    let pre_commit = venv().join("bin/pre-commit");
    let target = repo_root().join("target");
    let out = Command::new(pre_commit)
        .args([
            "try-repo",
            repo_root().to_str().unwrap(),
            "validate-agents",
            "--files",
        ])
        .args(files)
        .current_dir(dir)
        // Cache pre-commit's environments and the hook's cargo build between runs.
        .env("PRE_COMMIT_HOME", target.join("pre-commit-home"))
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

    let (ok, out) = try_repo(dir, &[".claude/agents/good.md"]);
    assert!(ok, "a valid agent passes:\n{out}");
    assert!(out.contains("validate Claude Code agent files"), "{out}");

    let (ok, out) = try_repo(dir, &[".claude/agents/good.md", ".claude/agents/broken.md"]);
    assert!(!ok, "a broken agent fails:\n{out}");
    assert!(
        out.contains(".claude/agents/broken.md:1:1: error[missing_description]"),
        "{out}"
    );
}
