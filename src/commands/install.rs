//! `install`: write the embedded agent, rendered for this project, into
//! `.claude/agents/`, and add the permission rule for our helpers.

use std::path::Path;

use serde::Serialize;

use crate::agent::{rendered_agent, scope_name, unified_diff, Installed, Target, TRUST_NOTE};
use crate::cli::{InstallArgs, Scope};
use crate::config::Origin;
use crate::error::{AppError, ExitStatus};
use crate::fsutil;
use crate::output::{paint_diff, Printer, Report, Style};
use crate::settings::{self, RuleStatus, PERMISSION_RULE};

/// The result of `install`.
#[derive(Debug, Serialize)]
pub struct InstallReport {
    pub ok: bool,
    pub scope: &'static str,
    /// The agent file.
    pub path: String,
    /// created, updated, unchanged, replaced; with --dry-run would_create,
    /// would_update, would_replace; with --check current, missing, outdated, modified.
    pub status: &'static str,
    /// Where the edited agent was kept (with --force).
    pub backup: Option<String>,
    /// Unified diff from the file on disk to what install writes, when they differ.
    pub diff: Option<String>,
    pub migrations_dir: String,
    pub database: Option<String>,
    /// The project the agent belongs to (absolute), for the project scope.
    pub project: Option<String>,
    pub permission: PermissionReport,
    /// Set when the command refused to act.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AppError>,
    #[serde(skip)]
    pub dry_run: bool,
    #[serde(skip)]
    pub exit: ExitStatus,
}

#[derive(Debug, Serialize)]
pub struct PermissionReport {
    pub settings: String,
    pub rule: &'static str,
    /// added, present, skipped (--no-permissions); removed or absent for uninstall.
    pub status: RuleStatus,
    pub note: &'static str,
}

pub fn run(args: &InstallArgs, root: &Path, printer: &Printer) -> Result<InstallReport, AppError> {
    let target = Target::resolve(args.scope, root, &args.config)?;
    if args.scope == Scope::User && target.config.migrations_origin == Origin::YoyoIni {
        printer.log("note: the user-scope agent serves every project; it names this project's folders only because you passed -C or ran it here");
    }
    let new = rendered_agent(&target.config)?;
    let current = target.read_agent()?;
    let agent_display = target.display(&target.agent);
    let diff = match current.as_deref() {
        Some(c) if c != new => Some(unified_diff(
            c,
            &new,
            &format!("{agent_display} (installed)"),
            &format!("{agent_display} (new)"),
        )),
        None if args.dry_run => Some(unified_diff("", &new, "/dev/null", &agent_display)),
        _ => None,
    };
    let installed = Installed::of(current.as_deref(), &new);
    let edited = installed == Installed::Modified;

    if !args.no_permissions && !args.check {
        // Read the settings first, so that a broken or read-only
        // settings.json stops the command before the agent is written.
        if settings::add_rule(&target.settings, true)? == RuleStatus::Added && !args.dry_run {
            fsutil::check_writable(
                &target.settings,
                "make it writable (chmod u+w), or install with --no-permissions and add the rule yourself",
            )?;
        }
    }
    let mut error = None;
    let mut backup = None;
    let status: &'static str;
    let mut exit = ExitStatus::Success;

    if args.check {
        status = installed.as_str();
        if status != "current" {
            exit = ExitStatus::Failure;
            error = Some(AppError::problem(
                "agent_not_current",
                format!("{agent_display} is {status}"),
                if edited {
                    "review the diff; run `migration-creator install --force` to replace it (your version is kept as .bak)"
                } else {
                    "run `migration-creator install`"
                },
            ));
        }
    } else if edited && !args.force {
        status = "refused";
        exit = ExitStatus::Failure;
        error = Some(AppError::problem(
            "agent_modified",
            format!("{agent_display} has been edited since it was installed; it was left as it is"),
            "review the diff; run again with --force to replace it (your version is kept as .bak), or keep your edits",
        ));
    } else {
        let (would, did) = match installed {
            Installed::Missing => ("would_create", "created"),
            Installed::Current => ("unchanged", "unchanged"),
            Installed::Modified => ("would_replace", "replaced"),
            Installed::Outdated => ("would_update", "updated"),
        };
        if args.dry_run || did == "unchanged" {
            status = would;
        } else {
            if edited {
                backup = Some(target.display(&fsutil::backup(&target.agent)?));
            }
            fsutil::write_atomic(&target.agent, new.as_bytes())?;
            status = did;
        }
    }

    let rule_status = if args.no_permissions {
        RuleStatus::Skipped
    } else if args.check || status == "refused" {
        settings::rule_status(&target.settings)?
    } else {
        settings::add_rule(&target.settings, args.dry_run)?
    };

    let report = InstallReport {
        ok: exit == ExitStatus::Success,
        scope: scope_name(args.scope),
        path: agent_display,
        status,
        backup,
        diff,
        migrations_dir: target.config.display(&target.config.migrations),
        database: target.config.database.clone(),
        project: (args.scope == Scope::Project).then(|| target.config.root.display().to_string()),
        permission: PermissionReport {
            settings: target.display(&target.settings),
            rule: PERMISSION_RULE,
            status: rule_status,
            note: TRUST_NOTE,
        },
        error,
        dry_run: args.dry_run,
        exit,
    };
    Ok(report)
}

impl Report for InstallReport {
    fn status(&self) -> ExitStatus {
        self.exit
    }

    fn refusal(&self) -> Option<&AppError> {
        self.error.as_ref()
    }

    fn text(&self, printer: &Printer) -> String {
        let r = self;
        let dry_run = self.dry_run;
        let mut out = String::new();
        let verb = match r.status {
            "created" => "installed",
            "updated" => "updated",
            "replaced" => "replaced (your edited version is kept as the backup below)",
            "unchanged" => "already up to date",
            "would_create" => "would be installed",
            "would_update" => "would be updated",
            "would_replace" => "would be replaced (your edited version kept as .bak)",
            "current" => "is current",
            "missing" => "is missing",
            "outdated" => "is outdated",
            "modified" => "has been edited",
            _ => "was not changed",
        };
        // Run from a subfolder, say which project the agent went into.
        let elsewhere = r
            .project
            .as_deref()
            .filter(|p| std::env::current_dir().map_or(true, |cwd| cwd != std::path::Path::new(p)));
        out.push_str(&format!(
            "{} {verb}{}\n",
            printer.paint(Style::Bold, &format!("agent {}", r.path)),
            elsewhere
                .map(|p| format!(" (project {p})"))
                .unwrap_or_default()
        ));
        if let Some(b) = &r.backup {
            out.push_str(&format!("  backup: {b}\n"));
        }
        out.push_str(&format!(
            "  migrations: {}   database: {}\n",
            r.migrations_dir,
            r.database.as_deref().unwrap_or("(none configured)")
        ));
        let p = &r.permission;
        let rule_line = match p.status {
            RuleStatus::Added if dry_run => format!("would add `{}` to {}", p.rule, p.settings),
            RuleStatus::Added => format!("added `{}` to {}", p.rule, p.settings),
            RuleStatus::Present => format!("`{}` is in {}", p.rule, p.settings),
            RuleStatus::Absent => format!("`{}` is not in {}", p.rule, p.settings),
            RuleStatus::Skipped => "permission rule skipped (--no-permissions)".to_string(),
            RuleStatus::Removed => format!("removed `{}` from {}", p.rule, p.settings),
            RuleStatus::WouldRemove => format!("would remove `{}` from {}", p.rule, p.settings),
        };
        out.push_str(&format!("  permission: {rule_line}\n"));
        if matches!(p.status, RuleStatus::Added | RuleStatus::Present) {
            out.push_str(&format!("  note: {}\n", p.note));
        }
        if let Some(diff) = &r.diff {
            if r.status != "unchanged" {
                out.push('\n');
                out.push_str(&paint_diff(printer, diff));
            }
        }
        out
    }
}
