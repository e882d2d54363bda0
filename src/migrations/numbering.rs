//! Migration numbers as a folder uses them: the next free number at the
//! width in use, and every numbering hazard yoyo would accept in silence
//! (duplicates, gaps, mixed widths, a width about to overflow, files that
//! carry no number). `next-number` prints this; `scaffold` numbers with it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::Discovery;

#[derive(Debug, Serialize)]
pub struct NextNumberReport {
    pub ok: bool,
    /// The number as it should appear in the file name (`"0028"`).
    pub next: String,
    pub number: u64,
    pub width: usize,
    pub directory: String,
    /// Migrations yoyo will apply (hooks and rollback files aside).
    pub count: usize,
    pub latest: Option<Latest>,
    pub duplicates: Vec<Duplicate>,
    pub gaps: Vec<Gap>,
    /// Migrations yoyo will apply that carry no number.
    pub unnumbered: Vec<String>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Serialize)]
pub struct Latest {
    pub id: String,
    pub file: String,
    pub number: u64,
}

#[derive(Debug, Serialize)]
pub struct Duplicate {
    pub number: u64,
    pub files: Vec<String>,
}

/// Numbers missing between two migrations, inclusive.
#[derive(Debug, Serialize)]
pub struct Gap {
    pub from: u64,
    pub to: u64,
}

#[derive(Debug, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// The leading digits of a migration id, as a number and a width.
pub fn number_of(id: &str) -> Option<(u64, usize)> {
    let digits: String = id.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    digits.parse().ok().map(|n| (n, digits.len()))
}

/// Compute the report for a discovered folder.
pub fn compute(
    d: &Discovery,
    directory: &str,
    display: &dyn Fn(&Path) -> String,
) -> NextNumberReport {
    let mut warnings = Vec::new();
    let mut by_number: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut widths: BTreeMap<usize, usize> = BTreeMap::new();
    let mut unnumbered = Vec::new();
    let mut latest: Option<Latest> = None;
    for m in &d.migrations {
        let file = display(&m.path);
        let accidental = m.file_name == "__init__.py"
            || m.file_name.starts_with('_')
            || m.file_name.starts_with('.');
        if accidental {
            warnings.push(Warning {
                code: "accidental_migration",
                message: format!("{file} is a migration to yoyo, which will try to apply it; move or rename it if it is not one"),
            });
        }
        match number_of(&m.id) {
            Some((n, w)) => {
                by_number.entry(n).or_default().push(file.clone());
                *widths.entry(w).or_default() += 1;
                if latest.as_ref().is_none_or(|l| n >= l.number) {
                    latest = Some(Latest {
                        id: m.id.clone(),
                        file,
                        number: n,
                    });
                }
            }
            None => {
                if !accidental {
                    warnings.push(Warning {
                        code: "unnumbered_migration",
                        message: format!("{file} has no number; yoyo applies it after every numbered migration (string order)"),
                    });
                }
                unnumbered.push(file);
            }
        }
    }
    for p in &d.orphan_rollbacks {
        warnings.push(Warning {
            code: "orphan_rollback",
            message: format!(
                "{} has no matching .sql migration; yoyo ignores it",
                display(p)
            ),
        });
    }
    let duplicates: Vec<Duplicate> = by_number
        .iter()
        .filter(|(_, f)| f.len() > 1)
        .map(|(n, f)| Duplicate {
            number: *n,
            files: f.clone(),
        })
        .collect();
    for dup in &duplicates {
        warnings.push(Warning {
            code: "duplicate_number",
            message: format!("number {} is used by {} migrations: {} (often two branches merged); yoyo applies both", dup.number, dup.files.len(), dup.files.join(", ")),
        });
    }
    let mut gaps = Vec::new();
    let mut prev: Option<u64> = None;
    for &n in by_number.keys() {
        if let Some(p) = prev {
            if n > p + 1 {
                gaps.push(Gap {
                    from: p + 1,
                    to: n - 1,
                });
            }
        }
        prev = Some(n);
    }
    if widths.len() > 1 {
        let list: Vec<String> = widths
            .iter()
            .map(|(w, c)| format!("{c} with {w} digits"))
            .collect();
        warnings.push(Warning {
            code: "mixed_widths",
            message: format!("migration numbers have mixed widths ({}); yoyo orders by string, so widths must not change", list.join(", ")),
        });
    }
    let width = widths.keys().next_back().copied().unwrap_or(4);
    let number = by_number.keys().next_back().map_or(1, |n| n + 1);
    let next = format!("{number:0width$}");
    if next.len() > width {
        warnings.push(Warning {
            code: "width_overflow",
            message: format!(
                "{next} needs more digits than the {width} in use; yoyo sorts by string, so {next}_* would run before {}_*",
                "9".repeat(width)
            ),
        });
    }
    NextNumberReport {
        ok: true,
        next,
        number,
        width,
        directory: directory.to_string(),
        count: d.migrations.len(),
        latest,
        duplicates,
        gaps,
        unnumbered,
        warnings,
    }
}
