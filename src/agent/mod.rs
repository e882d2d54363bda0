//! Our agent in a project: where it goes for a scope (`Target`), the text
//! install writes (rendered from the embedded template and checked with our
//! own validator), and how an installed copy compares with it. `install`,
//! `uninstall` and `doctor` share this.

use std::path::{Path, PathBuf};

use crate::agent_file::rules;
use crate::assets::{self, AGENT_FILE};
use crate::cli::{ProjectConfigArgs, Scope};
use crate::config::{self, ProjectConfig};
use crate::error::AppError;

/// Claude Code applies project allow rules only in a trusted workspace.
pub const TRUST_NOTE: &str =
    "Claude Code applies the allow rules of a project's .claude/settings.json only once you have trusted the workspace";

/// Where the agent and the settings file are for a scope.
pub struct Target {
    pub base: PathBuf,
    pub agent: PathBuf,
    pub settings: PathBuf,
    pub config: ProjectConfig,
}

impl Target {
    pub fn resolve(scope: Scope, root: &Path, flags: &ProjectConfigArgs) -> Result<Self, AppError> {
        let config = ProjectConfig::load(root, flags.dir.as_deref(), flags.database.as_deref())?;
        Self::for_config(scope, config)
    }

    /// Where the agent goes for `scope` in a project already configured.
    pub fn for_config(scope: Scope, config: ProjectConfig) -> Result<Self, AppError> {
        let claude_dir = match scope {
            Scope::Project => config.root.join(".claude"),
            Scope::User => home()?.join(".claude"),
        };
        Ok(Target {
            base: config.root.clone(),
            agent: claude_dir.join("agents").join(AGENT_FILE),
            settings: claude_dir.join("settings.json"),
            config,
        })
    }

    /// The installed agent's text, or None when there is none.
    pub fn read_agent(&self) -> Result<Option<String>, AppError> {
        match std::fs::read(&self.agent) {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AppError::io("read", &self.agent, &e)),
        }
    }

    pub fn display(&self, path: &Path) -> String {
        if let Ok(home) = home() {
            if !path.starts_with(&self.base) {
                if let Ok(rel) = path.strip_prefix(&home) {
                    return format!("~/{}", rel.to_string_lossy());
                }
            }
        }
        config::display_relative(&self.base, path)
    }
}

fn home() -> Result<PathBuf, AppError> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            AppError::env(
                "home_not_found",
                "HOME is not set, so ~/.claude/agents/ cannot be found",
                "set HOME, or install with --scope project",
            )
        })
}

pub fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Project => "project",
        Scope::User => "user",
    }
}

/// The rendered agent, checked with our own validator before use.
pub fn rendered_agent(config: &ProjectConfig) -> Result<String, AppError> {
    let text = assets::render_agent(config)?;
    let checked = rules::check("migration-creator", text.as_bytes());
    if let Some(d) = checked
        .diagnostics
        .iter()
        .find(|d| d.severity <= crate::agent_file::diagnostic::Severity::Warning)
    {
        return Err(AppError::env(
            "agent_invalid",
            format!(
                "the rendered agent does not validate: line {}: {}",
                d.line, d.message
            ),
            "check --dir and --database, or report this as a bug",
        ));
    }
    Ok(text)
}

/// How the agent installed at `target` compares with what install would write there.
pub fn installed_state(target: &Target) -> Result<Installed, AppError> {
    let current = target.read_agent()?;
    let expected = rendered_agent(&target.config)?;
    Ok(Installed::of(current.as_deref(), &expected))
}

/// How an installed agent compares with what install would write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    Missing,
    Current,
    /// Written by install for another version or configuration, never edited.
    Outdated,
    /// Edited by someone since install wrote it.
    Modified,
}

impl Installed {
    pub fn of(current: Option<&str>, new: &str) -> Self {
        match current {
            None => Installed::Missing,
            Some(c) if c == new => Installed::Current,
            Some(c) if assets::is_unedited_install(c) => Installed::Outdated,
            Some(_) => Installed::Modified,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Installed::Missing => "missing",
            Installed::Current => "current",
            Installed::Outdated => "outdated",
            Installed::Modified => "modified",
        }
    }
}

/// A unified diff from `old` to `new`.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}
