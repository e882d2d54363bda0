//! A small fluent helper for running the binary and reading its output.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_migration-creator"))
}

/// The virtualenv with yoyo-migrations and pre-commit. Tests that need it
/// fail, never skip, when it is missing.
pub fn venv() -> PathBuf {
    let venv = std::env::var_os("MIGRATION_CREATOR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    assert!(
        venv.join("bin").join("python").exists(),
        "no virtualenv at {}: run scripts/test-all.sh, which creates it",
        venv.display()
    );
    venv
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Run `migration-creator ARGS` in `dir` with colour off and HOME set to `home`.
pub fn mc_with_home(dir: &Path, home: &Path, args: &[&str]) -> Run {
    let out = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .output()
        .expect("run migration-creator");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `migration-creator ARGS` in `dir`, with a HOME that is not the user's.
pub fn mc(dir: &Path, args: &[&str]) -> Run {
    let home = dir.join(".test-home");
    mc_with_home(dir, &home, args)
}

/// A temporary copy of `examples/chatbot`.
pub fn chatbot() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("examples/chatbot"), tmp.path());
    tmp
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else if !rel.to_string_lossy().ends_with(".db") {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Apply `dir/migrations` to `url` with the real yoyo, from `dir`.
pub fn yoyo_apply(dir: &Path, url: &str) -> std::process::Output {
    std::process::Command::new(venv().join("bin/yoyo"))
        .args([
            "apply",
            "--batch",
            "--no-config-file",
            "--database",
            url,
            "migrations",
        ])
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Apply `dir/migrations` to `dir/instance/chatbot.db` with the real yoyo:
/// the developer's database, up to date.
pub fn yoyo_apply_to_instance(dir: &Path) {
    let out = yoyo_apply(dir, "sqlite:///instance/chatbot.db");
    assert!(
        out.status.success(),
        "yoyo apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Split a shell command line as a shell would (double and single quotes,
/// no expansions).
pub fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}
