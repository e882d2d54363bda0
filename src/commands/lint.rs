//! `lint [PATH...]`: the SQLite + yoyo hazards in the project's migrations.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::LintArgs;
use crate::config::{self, ProjectConfig};
use crate::diagnostic::{render_github, render_sarif, render_text, SarifRule, Severity};
use crate::error::{AppError, ExitStatus};
use crate::lint::{self, Finding, LintConfig, Options};
use crate::output::{Printer, Report, Style};

/// The result of `lint`.
#[derive(Debug, Serialize)]
pub struct LintReport {
    pub ok: bool,
    /// The migrations folder, relative to the project root.
    pub migrations_dir: String,
    /// The files whose findings are reported, in yoyo's order.
    pub linted: Vec<String>,
    pub findings: Vec<Finding>,
    /// Findings hidden by `migration-creator: ignore` comments or `skip`.
    pub suppressed: usize,
    /// Paths given that are not migrations of the folder, with why.
    pub skipped: Vec<Skipped>,
    pub summary: Summary,
    #[serde(skip)]
    strict: bool,
    #[serde(skip)]
    sources: Vec<(String, String)>,
    /// The project root, which SARIF locations are relative to.
    #[serde(skip)]
    root: PathBuf,
}

#[derive(Debug, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

pub fn run(args: &LintArgs, root: &Path) -> Result<LintReport, AppError> {
    let mut config = ProjectConfig::load(root, args.dir.as_deref(), None)?;
    let mut paths = Vec::new();
    for p in &args.paths {
        let abs = config::normalize(&config::absolute(p)?);
        if !abs.exists() {
            return Err(AppError::env(
                "path_not_found",
                format!("{} does not exist", p.display()),
                "pass migration files of the migrations folder, or no path to lint them all",
            ));
        }
        paths.push((p, abs));
    }
    // Paths into a project below this one (pre-commit passes them from the
    // repository's top): lint the project they belong to.
    let mut settings_root = config.root.clone();
    if args.dir.is_none() {
        let mut found: Vec<(PathBuf, ProjectConfig)> = Vec::new();
        for (_, abs) in &paths {
            let folder = if abs.is_dir() {
                abs.clone()
            } else {
                abs.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            if folder == config.migrations {
                continue;
            }
            if let Some((project, c)) = project_of(&folder, &config.root)? {
                if !found.iter().any(|(p, _)| *p == project) {
                    found.push((project, c));
                }
            }
        }
        if found.len() > 1 {
            let names: Vec<String> = found.iter().map(|(p, _)| config.display(p)).collect();
            return Err(AppError::env(
                "paths_in_several_projects",
                format!(
                    "the paths belong to {} projects ({}); lint reads one project's migrations at a time",
                    found.len(),
                    names.join(", ")
                ),
                "run lint once per project, with -C PROJECT (or one pre-commit hook per project, with `args: [-C, PROJECT]`)",
            ));
        }
        if let Some((project, c)) = found.pop() {
            // Paths stay relative to where lint was run, as they were given.
            settings_root = project;
            config = ProjectConfig {
                root: config.root.clone(),
                ..c
            };
        }
    }
    let settings = LintConfig::load(&settings_root)?;
    let only = if paths.is_empty() {
        None
    } else {
        let mut list = Vec::new();
        let mut all = false;
        for (p, abs) in paths {
            if abs.is_dir() {
                if abs != config.migrations {
                    return Err(AppError::env(
                        "not_migrations_dir",
                        format!(
                            "{} is a folder, and not the migrations folder {}",
                            p.display(),
                            config.display(&config.migrations)
                        ),
                        format!(
                            "pass migration files, no path to lint the whole folder, or `--dir {}` if it holds this project's migrations",
                            p.display()
                        ),
                    ));
                }
                all = true;
            }
            list.push(abs);
        }
        (!all).then_some(list)
    };
    let opts = Options {
        only,
        since: args.since.clone(),
        virtual_files: Vec::new(),
        deadline: Some(std::time::Instant::now() + std::time::Duration::from_secs(args.timeout)),
    };
    let outcome = lint::lint_project(&config, &settings, &opts)?;
    Ok(LintReport::new(&config, outcome, args.strict))
}

/// The project whose migrations folder is `folder`, below `top` (the
/// project lint was started in): the nearest `yoyo.ini` between them whose
/// `sources` is `folder`, else, for a folder named `migrations`, the project
/// it stands in (the nearest folder above with a `pyproject.toml`, for lint's
/// settings, or the folder's parent). Returns the folder the settings are
/// read from, and the configuration.
fn project_of(folder: &Path, top: &Path) -> Result<Option<(PathBuf, ProjectConfig)>, AppError> {
    if !folder.starts_with(top) || folder == top {
        return Ok(None);
    }
    let below_top = || {
        folder
            .ancestors()
            .take_while(move |d| *d != top && d.starts_with(top))
    };
    if let Some(d) = below_top().find(|d| d.join("yoyo.ini").is_file()) {
        let c = ProjectConfig::load(d, None, None)?;
        return Ok((c.migrations == folder).then(|| (d.to_path_buf(), c)));
    }
    if folder.file_name().is_none_or(|n| n != "migrations") {
        return Ok(None);
    }
    let Some(parent) = folder.parent() else {
        return Ok(None);
    };
    let project = below_top()
        .skip(1)
        .find(|d| d.join("pyproject.toml").is_file())
        .unwrap_or(parent);
    let mut c = ProjectConfig::load(parent, None, None)?;
    c.migrations = folder.to_path_buf();
    c.migrations_origin = config::Origin::Default;
    Ok(Some((project.to_path_buf(), c)))
}

impl LintReport {
    pub fn new(config: &ProjectConfig, outcome: lint::Outcome, strict: bool) -> Self {
        let mut summary = Summary {
            files: outcome.linted.len(),
            ..Summary::default()
        };
        for f in &outcome.findings {
            match f.diagnostic.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Note => summary.notes += 1,
            }
        }
        let mut sources: Vec<(String, String)> = Vec::new();
        for f in &outcome.findings {
            if !sources.iter().any(|(p, _)| *p == f.file) {
                sources.push((
                    f.file.clone(),
                    std::fs::read_to_string(&f.path).unwrap_or_default(),
                ));
            }
        }
        LintReport {
            ok: summary.errors == 0 && !(strict && summary.warnings > 0),
            migrations_dir: config.display(&config.migrations),
            linted: outcome.linted,
            findings: outcome.findings,
            suppressed: outcome.suppressed,
            skipped: outcome
                .skipped
                .into_iter()
                .map(|(path, reason)| Skipped { path, reason })
                .collect(),
            summary,
            strict,
            sources,
            root: config.root.clone(),
        }
    }

    fn summary_line(&self) -> String {
        let s = &self.summary;
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let mut line = format!(
            "{} linted: {}, {}, {}",
            plural(s.files, "migration"),
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.notes, "note")
        );
        if self.suppressed > 0 {
            line.push_str(&format!(" ({} suppressed)", self.suppressed));
        }
        if self.strict && s.errors == 0 && s.warnings > 0 {
            line.push_str(" (--strict: warnings fail the check)");
        }
        line
    }
}

impl Report for LintReport {
    fn text(&self, printer: &Printer) -> String {
        let mut out = String::new();
        for s in &self.skipped {
            out.push_str(&format!(
                "{}: {}: {}\n",
                printer.paint(Style::Bold, &s.path),
                printer.paint(Style::Note, "skipped"),
                s.reason
            ));
        }
        for f in &self.findings {
            let source = self
                .sources
                .iter()
                .find(|(p, _)| *p == f.file)
                .map(|(_, t)| t.as_str());
            out.push_str(&render_text(printer, &f.file, source, &f.diagnostic));
            out.push('\n');
        }
        let style = if self.summary.errors > 0 {
            Style::Error
        } else if self.ok {
            Style::Hint
        } else {
            Style::Warning
        };
        out.push_str(&printer.paint(style, &self.summary_line()));
        out.push('\n');
        out
    }

    fn status(&self) -> ExitStatus {
        if self.ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }

    fn github(&self) -> Option<String> {
        Some(
            self.findings
                .iter()
                .map(|f| render_github(&f.file, &f.diagnostic))
                .collect(),
        )
    }

    fn github_log(&self) -> Option<String> {
        Some(self.summary_line())
    }

    fn sarif(&self) -> Option<String> {
        let rules: Vec<SarifRule> = lint::rules::RULES
            .iter()
            .map(|r| SarifRule {
                code: r.code,
                severity: r.severity,
                doc: r.doc,
            })
            .collect();
        // A file outside the project root is still named from it (`../`).
        let paths: Vec<String> = self
            .findings
            .iter()
            .map(|f| {
                if Path::new(&f.file).is_absolute() {
                    config::relative_from(&self.root, &f.path).unwrap_or_else(|| f.file.clone())
                } else {
                    f.file.clone()
                }
            })
            .collect();
        let results: Vec<_> = paths
            .iter()
            .zip(&self.findings)
            .map(|(p, f)| (p.as_str(), &f.diagnostic))
            .collect();
        Some(render_sarif(&rules, &results))
    }
}
