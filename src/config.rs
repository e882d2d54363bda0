//! Where the project's migrations and database are. Highest first:
//! command-line flags, the nearest `yoyo.ini` (its `[DEFAULT]` `sources` and
//! `database`, relative paths resolved against the ini file's folder), then
//! the defaults (`migrations/`, no database).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::error::AppError;

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Flag,
    YoyoIni,
    Default,
}

/// The project's configuration, resolved.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// The project root (absolute).
    pub root: PathBuf,
    /// The `yoyo.ini` in use, if any.
    pub ini: Option<PathBuf>,
    /// The migrations folder (absolute).
    pub migrations: PathBuf,
    pub migrations_origin: Origin,
    /// The database URL, with a relative SQLite path rewritten against the project root.
    pub database: Option<String>,
    pub database_origin: Origin,
}

impl ProjectConfig {
    /// Resolve the configuration for the project at `root`.
    pub fn load(
        root: &Path,
        dir_flag: Option<&Path>,
        database_flag: Option<&str>,
    ) -> Result<Self, AppError> {
        let root = absolute(root)?;
        if !root.is_dir() {
            return Err(AppError::env(
                "project_dir_not_found",
                format!("project folder {} does not exist", root.display()),
                "pass an existing folder with -C/--project-dir",
            ));
        }
        let ini = find_yoyo_ini(&root);
        let values = match &ini {
            Some(path) => read_yoyo_ini(path)?,
            None => HashMap::new(),
        };
        let ini_dir = ini
            .as_ref()
            .and_then(|p| p.parent())
            .unwrap_or(&root)
            .to_path_buf();

        let (migrations, migrations_origin) = if let Some(dir) = dir_flag {
            (normalize(&root.join(dir)), Origin::Flag)
        } else if let Some(first) = values
            .get("sources")
            .and_then(|s| s.split_whitespace().next())
        {
            (normalize(&ini_dir.join(first)), Origin::YoyoIni)
        } else {
            (root.join("migrations"), Origin::Default)
        };

        let (database, database_origin) = if let Some(url) = database_flag {
            (Some(rebase_sqlite_url(url, &root, &root)), Origin::Flag)
        } else if let Some(url) = values.get("database").filter(|u| !u.trim().is_empty()) {
            (
                Some(rebase_sqlite_url(url.trim(), &ini_dir, &root)),
                Origin::YoyoIni,
            )
        } else {
            (None, Origin::Default)
        };

        Ok(ProjectConfig {
            root,
            ini,
            migrations,
            migrations_origin,
            database,
            database_origin,
        })
    }

    /// The SQLite database file the configured URL names, if one is configured.
    pub fn database_file(&self) -> Result<Option<PathBuf>, AppError> {
        let Some(url) = &self.database else {
            return Ok(None);
        };
        sqlite_path(url, &self.root).map(Some).ok_or_else(|| {
            AppError::env(
                "unsupported_database",
                format!("`{url}` is not a SQLite database file URL"),
                "pass --database sqlite:///path/to/file.db",
            )
        })
    }

    /// `path` relative to the project root when it is inside it.
    pub fn display(&self, path: &Path) -> String {
        display_relative(&self.root, path)
    }
}

/// `path` relative to `root` when inside it (with `/` separators), else as is.
pub fn display_relative(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => path.to_string_lossy().into_owned(),
    }
}

/// The absolute form of `path` (against the working directory), normalised.
pub fn absolute(path: &Path) -> Result<PathBuf, AppError> {
    let cwd = std::env::current_dir()
        .map_err(|e| AppError::io("read the working directory", Path::new("."), &e))?;
    Ok(normalize(&cwd.join(path)))
}

/// Remove `.` and resolve `..` lexically.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The nearest `yoyo.ini`: in `root` or the closest ancestor.
pub fn find_yoyo_ini(root: &Path) -> Option<PathBuf> {
    root.ancestors()
        .map(|d| d.join("yoyo.ini"))
        .find(|p| p.is_file())
}

/// Read the `[DEFAULT]` section of a yoyo.ini as Python's configparser does
/// (keys lowercased, `=` or `:`, `#`/`;` comments, indented continuation
/// lines, `%(name)s` interpolation with `here` set to the file's folder).
pub fn read_yoyo_ini(path: &Path) -> Result<HashMap<String, String>, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| AppError::io("read", path, &e))?;
    let here = path
        .parent()
        .unwrap_or(Path::new("."))
        .to_string_lossy()
        .into_owned();
    Ok(parse_ini_defaults(&text, &here))
}

fn parse_ini_defaults(text: &str, here: &str) -> HashMap<String, String> {
    let mut raw: HashMap<String, String> = HashMap::new();
    let mut section = String::new();
    let mut last_key: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            if trimmed.is_empty() {
                last_key = None;
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let (Some(key), true) = (&last_key, section == "DEFAULT") {
                if let Some(v) = raw.get_mut(key) {
                    v.push('\n');
                    v.push_str(trimmed);
                }
            }
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.to_string();
            last_key = None;
            continue;
        }
        let split = trimmed.find(['=', ':']);
        if let (Some(i), true) = (split, section == "DEFAULT") {
            let key = trimmed[..i].trim().to_lowercase();
            let value = trimmed[i + 1..].trim().to_string();
            raw.insert(key.clone(), value);
            last_key = Some(key);
        }
    }
    raw.entry("here".into()).or_insert_with(|| here.to_string());
    let lookup = raw.clone();
    raw.into_iter()
        .map(|(k, v)| (k, interpolate(&v, &lookup, 0)))
        .collect()
}

fn interpolate(value: &str, vars: &HashMap<String, String>, depth: usize) -> String {
    if depth > 10 || !value.contains('%') {
        return value.to_string();
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if let Some(end) = after.strip_prefix('(').and_then(|a| a.find(")s")) {
            let name = after[1..1 + end].to_lowercase();
            match vars.get(&name) {
                Some(v) => out.push_str(&interpolate(v, vars, depth + 1)),
                None => out.push_str(&rest[i..i + 3 + end + 1]),
            }
            rest = &after[end + 3..];
        } else {
            out.push('%');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Rewrite a `sqlite:///relative/path` URL so the path is resolved against
/// `base` and then expressed relative to `root` (the folder the agent runs
/// yoyo from). Absolute paths, `:memory:` and other schemes stay as they are.
pub fn rebase_sqlite_url(url: &str, base: &Path, root: &Path) -> String {
    let Some(path) = url.strip_prefix("sqlite:///") else {
        return url.to_string();
    };
    let (path, query) = match path.find('?') {
        Some(i) => (&path[..i], &path[i..]),
        None => (path, ""),
    };
    if path.is_empty() || path.starts_with('/') || path == ":memory:" {
        return url.to_string();
    }
    let resolved = normalize(&base.join(path));
    match resolved.strip_prefix(root) {
        Ok(rel) => format!(
            "sqlite:///{}{query}",
            rel.to_string_lossy().replace('\\', "/")
        ),
        Err(_) => format!("sqlite:///{}{query}", resolved.to_string_lossy()),
    }
}

/// The file a SQLite URL names, if it is one.
pub fn sqlite_path(url: &str, root: &Path) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite:///")?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(normalize(&root.join(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_defaults_follow_configparser() {
        let v = parse_ini_defaults(
            "[DEFAULT]\nSources = db/migrations\n  more\ndatabase: sqlite:///%(here)s/app.db\n; c\n[other]\nsources = x\n",
            "/p",
        );
        assert_eq!(v["sources"], "db/migrations\nmore");
        assert_eq!(v["database"], "sqlite:////p/app.db");
    }

    #[test]
    fn sqlite_urls_are_rebased_on_the_project_root() {
        let root = Path::new("/p");
        assert_eq!(
            rebase_sqlite_url("sqlite:///instance/app.db", Path::new("/p/sub"), root),
            "sqlite:///sub/instance/app.db"
        );
        assert_eq!(
            rebase_sqlite_url("sqlite:////abs/app.db", root, root),
            "sqlite:////abs/app.db"
        );
        assert_eq!(
            rebase_sqlite_url("sqlite:///../x.db", root, root),
            "sqlite:////x.db"
        );
        assert_eq!(
            rebase_sqlite_url("postgresql://h/db", root, root),
            "postgresql://h/db"
        );
    }
}
