//! The permission rule in `.claude/settings.json` that lets the agent run our
//! helpers without a prompt. Every other key and entry is kept as it is, in
//! its order; the rule is never added twice.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::AppError;
use crate::fsutil;

/// The rule `install` adds to `permissions.allow`.
pub const PERMISSION_RULE: &str = "Bash(migration-creator *)";

/// What happened to the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Added,
    Present,
    Removed,
    /// `--dry-run`: it would be removed.
    WouldRemove,
    Absent,
    Skipped,
}

/// Read settings.json; a missing file is an empty object.
fn read(path: &Path) -> Result<Option<Map<String, Value>>, AppError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AppError::io("read", path, &e)),
    };
    if text.trim().is_empty() {
        return Ok(Some(Map::new()));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(AppError::env(
            "settings_invalid",
            format!("{} is not a JSON object", path.display()),
            "fix the file by hand, or pass --no-permissions",
        )),
        Err(e) => Err(AppError::env(
            "settings_invalid",
            format!("{} is not valid JSON: {e}", path.display()),
            "fix the file by hand, or pass --no-permissions",
        )),
    }
}

fn write(path: &Path, map: &Map<String, Value>) -> Result<(), AppError> {
    let mut text = serde_json::to_string_pretty(map).expect("settings serialize");
    text.push('\n');
    fsutil::write_atomic(path, text.as_bytes())
}

fn has_rule(map: &Map<String, Value>) -> bool {
    map.get("permissions")
        .and_then(|p| p.get("allow"))
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(PERMISSION_RULE)))
}

/// Whether the rule is in `path`, without changing anything.
pub fn rule_status(path: &Path) -> Result<RuleStatus, AppError> {
    Ok(if read(path)?.is_some_and(|m| has_rule(&m)) {
        RuleStatus::Present
    } else {
        RuleStatus::Absent
    })
}

/// Add the rule to `path` (creating the file when needed). With `dry_run`,
/// only say what would happen.
pub fn add_rule(path: &Path, dry_run: bool) -> Result<RuleStatus, AppError> {
    let mut map = read(path)?.unwrap_or_default();
    if has_rule(&map) {
        return Ok(RuleStatus::Present);
    }
    let permissions = map
        .entry("permissions")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(permissions) = permissions else {
        return Err(AppError::env(
            "settings_invalid",
            format!("`permissions` in {} is not an object", path.display()),
            "fix the file by hand, or pass --no-permissions",
        ));
    };
    let allow = permissions
        .entry("allow")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(allow) = allow else {
        return Err(AppError::env(
            "settings_invalid",
            format!("`permissions.allow` in {} is not a list", path.display()),
            "fix the file by hand, or pass --no-permissions",
        ));
    };
    allow.push(Value::String(PERMISSION_RULE.to_string()));
    if !dry_run {
        write(path, &map)?;
    }
    Ok(RuleStatus::Added)
}

/// Remove the rule from `path`. Containers that only held the rule go with it,
/// and a settings file left empty is deleted; nothing else changes.
pub fn remove_rule(path: &Path, dry_run: bool) -> Result<RuleStatus, AppError> {
    let Some(mut map) = read(path)? else {
        return Ok(RuleStatus::Absent);
    };
    if !has_rule(&map) {
        return Ok(RuleStatus::Absent);
    }
    if let Some(Value::Object(permissions)) = map.get_mut("permissions") {
        if let Some(Value::Array(allow)) = permissions.get_mut("allow") {
            allow.retain(|v| v.as_str() != Some(PERMISSION_RULE));
            if allow.is_empty() {
                permissions.shift_remove("allow");
            }
        }
        if permissions.is_empty() {
            map.shift_remove("permissions");
        }
    }
    if dry_run {
        return Ok(RuleStatus::WouldRemove);
    }
    // A file that held only our rule goes; a linked one is written through
    // (removing the link would leave the rule in the file it points at).
    let linked = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if map.is_empty() && !linked {
        std::fs::remove_file(path).map_err(|e| AppError::io("remove", path, &e))?;
    } else {
        write(path, &map)?;
    }
    Ok(RuleStatus::Removed)
}
