//! `--since REV`: the migrations added or changed since a git revision, so a
//! project adopting `lint` checks new work and leaves applied migrations as
//! they are. A migration that existed at REV and was edited or renamed is a
//! finding of its own (`applied_migration_modified`): databases that applied
//! it will not run it again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{finding, Pending};
use crate::error::AppError;

fn git(root: &Path, args: &[&str]) -> Result<String, AppError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| {
            AppError::env(
                "git_not_found",
                format!("--since needs git, which could not be run: {e}"),
                "install git, or lint without --since",
            )
        })?;
    if !out.status.success() {
        return Err(AppError::env(
            "git_failed",
            format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            "check that the project is a git repository and the revision exists (`git log --oneline`)",
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The files of `dir` added, changed or renamed since `rev` (committed,
/// staged, in the work tree, or untracked), each with the findings the
/// change itself makes.
pub fn changes(
    root: &Path,
    dir: &Path,
    rev: &str,
) -> Result<BTreeMap<PathBuf, Vec<Pending>>, AppError> {
    if rev.starts_with('-') || rev.is_empty() {
        return Err(AppError::env(
            "invalid_revision",
            format!("`{rev}` is not a git revision (git would read it as an option)"),
            "pass a branch, tag or commit: --since origin/main",
        ));
    }
    let top = match git(root, &["rev-parse", "--show-toplevel"]) {
        Ok(top) => PathBuf::from(top.trim()),
        Err(e) if e.code == "git_failed" => {
            return Err(AppError::env(
                "not_a_git_repository",
                format!(
                    "--since compares with a git revision, and {} is not in a git repository",
                    root.display()
                ),
                "lint without --since (every migration is reported), or run it in the project's git work tree",
            ))
        }
        Err(e) => return Err(e),
    };
    let commit = format!("{rev}^{{commit}}");
    git(root, &["rev-parse", "--verify", "--quiet", "--end-of-options", &commit]).map_err(|_| {
        AppError::env(
            "git_ref_not_found",
            format!("`{rev}` is not a commit of the repository at {}", top.display()),
            "pass a branch, tag or commit that exists (`git log --oneline`); in CI, fetch it first (`git fetch origin main`)",
        )
    })?;
    // git names files from its top; the project may be a folder below it,
    // and git may spell the top through a link the project path does not.
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let root_in_top = canon(root)
        .strip_prefix(canon(&top))
        .map(Path::to_path_buf)
        .ok();
    let dir_in_top = canon(dir)
        .strip_prefix(canon(&top))
        .map(Path::to_path_buf)
        .ok();
    let in_project = |name: &str| -> PathBuf {
        let rel = Path::new(name);
        let under = |base: &Option<PathBuf>, path: &Path| {
            base.as_deref()
                .and_then(|b| rel.strip_prefix(b).ok())
                .map(|r| path.join(r))
        };
        under(&dir_in_top, dir)
            .or_else(|| under(&root_in_top, root))
            .unwrap_or_else(|| top.join(rel))
    };
    let shown = |name: &str| crate::config::display_relative(root, &in_project(name));
    let dir_arg = dir.to_string_lossy().into_owned();
    let diff = git(
        root,
        &[
            "diff",
            "--name-status",
            "-M",
            "--no-color",
            "-z",
            rev,
            "--",
            &dir_arg,
        ],
    )?;
    let mut out: BTreeMap<PathBuf, Vec<Pending>> = BTreeMap::new();
    let mut fields = diff.split('\0').filter(|f| !f.is_empty());
    while let Some(status) = fields.next() {
        let kind = status.chars().next().unwrap_or(' ');
        let (old, new) = if kind == 'R' || kind == 'C' {
            (fields.next(), fields.next())
        } else {
            let p = fields.next();
            (p, p)
        };
        let (Some(old), Some(new)) = (old, new) else {
            break;
        };
        let path = migration_path(&in_project(new));
        let rollback = path != in_project(new);
        if kind == 'D' {
            // A deleted rollback file changes its migration (when it stays).
            if rollback && path.exists() {
                out.entry(path).or_default().push(finding(
                    "applied_migration_modified",
                    format!("{} existed at {rev} and was deleted since: databases that applied its migration keep a rollback that no longer exists here", shown(old)),
                    "restore it; make a change to an applied migration in a new migration",
                ));
            }
            continue;
        }
        let list = out.entry(path).or_default();
        match kind {
            'A' | 'C' => {}
            'R' => list.push(finding(
                "applied_migration_modified",
                format!("renamed from {} since {rev}: a database that applied it knows it by the old id, and yoyo will apply it again", shown(old)),
                "rename it back; make a change to an applied migration in a new migration",
            )),
            _ => list.push(finding(
                "applied_migration_modified",
                format!("{} existed at {rev} and was edited since: databases that applied it will not run the change", shown(new)),
                "undo the edit and make the change in a new migration (`migration-creator scaffold ...`)",
            )),
        }
    }
    let untracked = git(
        root,
        &[
            "ls-files",
            "--others",
            "--exclude-standard",
            "-z",
            "--full-name",
            "--",
            &dir_arg,
        ],
    )?;
    for f in untracked.split('\0').filter(|f| !f.is_empty()) {
        out.entry(migration_path(&in_project(f))).or_default();
    }
    Ok(out)
}

/// A rollback file stands for its migration.
fn migration_path(p: &Path) -> PathBuf {
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
    match name
        .as_deref()
        .and_then(|n| n.strip_suffix(".rollback.sql"))
    {
        Some(base) => p.with_file_name(format!("{base}.sql")),
        None => p.to_path_buf(),
    }
}
