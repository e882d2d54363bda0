//! `lint`'s settings in `pyproject.toml`:
//!
//! ```toml
//! [tool.migration-creator.lint]
//! skip = ["renames_column"]                       # codes never reported
//! severity = { drops_table = "error", insert_select_star = "note" }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::rules::{rule_for, RULES};
use crate::diagnostic::Severity;
use crate::error::AppError;

/// What the project asks of `lint`.
#[derive(Debug, Clone, Default)]
pub struct LintConfig {
    pub skip: Vec<String>,
    pub severity: BTreeMap<&'static str, Severity>,
    /// Where the settings came from (`pyproject.toml`, or none).
    pub source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

fn invalid(why: String) -> AppError {
    AppError::env(
        "invalid_lint_config",
        format!("pyproject.toml [tool.migration-creator.lint]: {why}"),
        "keys: skip = [codes], severity = { code = \"error\" | \"warning\" | \"note\" }; `migration-creator lint --help` lists the codes",
    )
}

/// The closest known code, for a did-you-mean.
fn suggest(code: &str) -> String {
    crate::suggest::did_you_mean(code, RULES.iter().map(|r| r.code))
        .map_or(String::new(), |c| format!(" (did you mean `{c}`?)"))
}

impl LintConfig {
    /// The settings in `root/pyproject.toml`, or none.
    pub fn load(root: &Path) -> Result<LintConfig, AppError> {
        let Some(section) = crate::config::pyproject_section(root, "lint", invalid)? else {
            return Ok(LintConfig::default());
        };
        let raw: Raw = section
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string().trim().to_string()))?;
        let known = |code: &str| -> Result<&'static str, AppError> {
            rule_for(code)
                .map(|r| r.code)
                .ok_or_else(|| invalid(format!("`{code}` is not a lint code{}", suggest(code))))
        };
        let mut config = LintConfig {
            source: Some("pyproject.toml".into()),
            ..LintConfig::default()
        };
        for code in &raw.skip {
            config.skip.push(known(code)?.to_string());
        }
        for (code, level) in &raw.severity {
            let code = known(code)?;
            let sev = match level.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "note" => Severity::Note,
                other => {
                    return Err(invalid(format!(
                        "severity `{other}` for `{code}` is not error, warning or note"
                    )))
                }
            };
            config.severity.insert(code, sev);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<LintConfig, AppError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pyproject.toml"), text).unwrap();
        LintConfig::load(dir.path())
    }

    #[test]
    fn settings_are_read_and_checked() {
        let c = load("[tool.migration-creator.lint]\nskip = [\"renames_column\"]\nseverity = { drops_table = \"error\" }\n").unwrap();
        assert_eq!(c.skip, ["renames_column"]);
        assert_eq!(c.severity.get("drops_table"), Some(&Severity::Error));
        let e = load("[tool.migration-creator.lint]\nskip = [\"drop_table\"]\n").unwrap_err();
        assert_eq!(e.code, "invalid_lint_config");
        assert!(
            e.message.contains("did you mean `drops_table`"),
            "{}",
            e.message
        );
        let e = load("[tool.migration-creator.lint]\nseverity = { drops_table = \"fatal\" }\n")
            .unwrap_err();
        assert!(e.message.contains("fatal"), "{}", e.message);
        let e = load("[tool.migration-creator.lint]\nskips = []\n").unwrap_err();
        assert!(e.message.contains("skips"), "{}", e.message);
        assert!(load("[tool.other]\nx = 1\n").unwrap().source.is_none());
    }
}
