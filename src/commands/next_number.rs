//! `next-number`: the number the next migration should carry, and every
//! numbering hazard yoyo would accept in silence (`migrations::numbering`).

use std::path::Path;

use crate::cli::NextNumberArgs;
use crate::config::ProjectConfig;
use crate::error::{AppError, ExitStatus};
use crate::migrations;
use crate::migrations::numbering::{compute, NextNumberReport};
use crate::output::{Printer, Report};

pub fn run(args: &NextNumberArgs, root: &Path) -> Result<NextNumberReport, AppError> {
    let config = ProjectConfig::load(root, args.dir.as_deref(), None)?;
    let display = |p: &Path| config.display(p);
    let discovery = migrations::discover(&config.migrations, &display)?;
    Ok(compute(
        &discovery,
        &config.display(&config.migrations),
        &display,
    ))
}

impl Report for NextNumberReport {
    fn text(&self, _printer: &Printer) -> String {
        let mut out = format!(
            "next: {} ({} migrations in {}/)\n",
            self.next, self.count, self.directory
        );
        if let Some(l) = &self.latest {
            out.push_str(&format!("latest: {}\n", l.file));
        }
        for w in &self.warnings {
            out.push_str(&format!("warning[{}]: {}\n", w.code, w.message));
        }
        out
    }

    fn status(&self) -> ExitStatus {
        ExitStatus::Success
    }
}
