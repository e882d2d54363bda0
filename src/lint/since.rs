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
    if rev.starts_with('-') {
        return Err(AppError::env(
            "git_failed",
            format!("`{rev}` is not a git revision"),
            "pass a branch, tag or commit: --since origin/main",
        ));
    }
    let commit = format!("{rev}^{{commit}}");
    git(root, &["rev-parse", "--verify", "--quiet", &commit]).map_err(|_| {
        AppError::env(
            "git_ref_not_found",
            format!("`{rev}` is not a commit of the repository at {}", root.display()),
            "pass a branch, tag or commit that exists (`git log --oneline`); in CI, fetch it first (`git fetch origin main`)",
        )
    })?;
    let top = PathBuf::from(git(root, &["rev-parse", "--show-toplevel"])?.trim());
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
        let path = migration_path(&top.join(new));
        if kind == 'D' {
            continue;
        }
        let list = out.entry(path).or_default();
        match kind {
            'A' | 'C' => {}
            'R' => list.push(finding(
                "applied_migration_modified",
                format!("renamed from {old} since {rev}: a database that applied it knows it by the old id, and yoyo will apply it again"),
                "rename it back; make a change to an applied migration in a new migration",
            )),
            _ => list.push(finding(
                "applied_migration_modified",
                format!("{new} existed at {rev} and was edited since: databases that applied it will not run the change"),
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
        out.entry(migration_path(&top.join(f))).or_default();
    }
    // git may spell the top folder through a link the project path does not.
    let canon_top = top.canonicalize().unwrap_or(top.clone());
    let canon_dir = dir.canonicalize().unwrap_or(dir.to_path_buf());
    Ok(out
        .into_iter()
        .map(|(p, v)| {
            let rel = p.strip_prefix(&top).or_else(|_| p.strip_prefix(&canon_top));
            let p = match (rel, canon_dir.strip_prefix(&canon_top)) {
                (Ok(rel), Ok(dir_rel)) => dir.join(rel.strip_prefix(dir_rel).unwrap_or(rel)),
                _ => p,
            };
            (p, v)
        })
        .collect())
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
