//! `next-number`: the number the next migration should carry, and every
//! numbering hazard yoyo would accept in silence (`migrations::numbering`).

use std::path::Path;

use crate::cli::{Format, NextNumberArgs};
use crate::config::ProjectConfig;
use crate::error::{AppError, ExitStatus};
use crate::migrations::{self, numbering::compute};
use crate::output::Printer;

pub fn run(args: &NextNumberArgs, root: &Path, printer: &Printer) -> Result<ExitStatus, AppError> {
    let config = ProjectConfig::load(root, args.dir.as_deref(), None)?;
    let display = |p: &Path| config.display(p);
    let discovery = migrations::discover(&config.migrations, &display)?;
    let report = compute(&discovery, &config.display(&config.migrations), &display);
    if printer.format == Format::Json {
        printer.json(&report);
    } else {
        let mut out = format!(
            "next: {} ({} migrations in {}/)\n",
            report.next, report.count, report.directory
        );
        if let Some(l) = &report.latest {
            out.push_str(&format!("latest: {}\n", l.file));
        }
        for w in &report.warnings {
            out.push_str(&format!("warning[{}]: {}\n", w.code, w.message));
        }
        printer.out(&out);
    }
    Ok(ExitStatus::Success)
}
