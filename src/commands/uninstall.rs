//! `uninstall`: remove the agent `install` wrote (unless edited, or with
//! `--force`, keeping a .bak) and the permission rule it added. Nothing else.

use std::path::Path;

use serde::Serialize;

use crate::agent::{rendered_agent, scope_name, unified_diff, Installed, Target};
use crate::cli::UninstallArgs;
use crate::error::{AppError, ExitStatus};
use crate::fsutil;
use crate::output::{paint_diff, Printer, Report, Style};
use crate::settings::{self, RuleStatus, PERMISSION_RULE};

#[derive(Debug, Serialize)]
pub struct UninstallReport {
    pub ok: bool,
    pub scope: &'static str,
    pub path: String,
    /// removed, absent, refused; with --dry-run would_remove.
    pub status: &'static str,
    pub backup: Option<String>,
    /// Diff from what install writes to the edited file, when refused.
    pub diff: Option<String>,
    pub settings: String,
    pub rule: &'static str,
    /// removed or absent.
    pub rule_status: RuleStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AppError>,
}

pub fn run(args: &UninstallArgs, root: &Path) -> Result<UninstallReport, AppError> {
    // The agent is recognised by the checksum install wrote into it, so the
    // folders it was rendered with need not be given again.
    let target = Target::resolve(args.scope, root, &Default::default())?;
    let path = target.display(&target.agent);
    let current = target.read_agent()?;
    // A read-only settings.json holding the rule stops the command before
    // the agent is removed, not half-way.
    if !args.dry_run && settings::rule_status(&target.settings)? == RuleStatus::Present {
        fsutil::check_writable(
            &target.settings,
            "make it writable (chmod u+w) so the rule can be removed, then run again",
        )?;
    }
    let mut status = "absent";
    let mut backup = None;
    let mut diff = None;
    let mut error = None;
    if let Some(current) = &current {
        let new = rendered_agent(&target.config).unwrap_or_default();
        let edited = Installed::of(Some(current), &new) == Installed::Modified;
        if edited && !args.force {
            status = "refused";
            diff = Some(unified_diff(
                &new,
                current,
                "installed by migration-creator",
                &format!("{path} (yours)"),
            ));
            error = Some(AppError::problem(
                "agent_modified",
                format!("{path} has been edited since it was installed; it was left in place"),
                "run again with --force to remove it anyway (your version is kept as .bak)",
            ));
        } else if args.dry_run {
            status = "would_remove";
        } else {
            if edited {
                backup = Some(target.display(&fsutil::backup(&target.agent)?));
            }
            std::fs::remove_file(&target.agent)
                .map_err(|e| AppError::io("remove", &target.agent, &e))?;
            status = "removed";
        }
    }
    let rule_status = if status == "refused" {
        settings::rule_status(&target.settings)?
    } else {
        settings::remove_rule(&target.settings, args.dry_run)?
    };
    let report = UninstallReport {
        ok: error.is_none(),
        scope: scope_name(args.scope),
        path,
        status,
        backup,
        diff,
        settings: target.display(&target.settings),
        rule: PERMISSION_RULE,
        rule_status,
        error,
    };
    Ok(report)
}

impl Report for UninstallReport {
    fn status(&self) -> ExitStatus {
        if self.ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }

    fn refusal(&self) -> Option<&AppError> {
        self.error.as_ref()
    }

    fn text(&self, printer: &Printer) -> String {
        let report = self;
        let verb = match report.status {
            "removed" => "removed",
            "would_remove" => "would be removed",
            "refused" => "was left in place",
            _ => "is not installed",
        };
        let mut out = format!(
            "{} {verb}\n",
            printer.paint(Style::Bold, &format!("agent {}", report.path))
        );
        if let Some(b) = &report.backup {
            out.push_str(&format!("  backup: {b}\n"));
        }
        let rule = match report.rule_status {
            RuleStatus::WouldRemove => {
                format!("would remove `{PERMISSION_RULE}` from {}", report.settings)
            }
            RuleStatus::Removed => {
                format!("removed `{PERMISSION_RULE}` from {}", report.settings)
            }
            RuleStatus::Present => format!("`{PERMISSION_RULE}` kept in {}", report.settings),
            _ => format!("`{PERMISSION_RULE}` is not in {}", report.settings),
        };
        out.push_str(&format!("  permission: {rule}\n"));
        if let Some(d) = &report.diff {
            out.push('\n');
            out.push_str(&paint_diff(printer, d));
        }
        out
    }
}
