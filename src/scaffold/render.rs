//! The migration file: a template rendered with the plan's steps as Python
//! literals that hold the SQL byte for byte, then read back with our reader
//! and compiled by the project's Python before it may be written.

use std::collections::HashMap;
use std::path::Path;

use minijinja::{context, Environment, Value};

use super::{refuse, Plan};
use crate::error::AppError;
use crate::migrations;

/// Templates shipped in the binary, one per kind; a project overrides one by
/// putting a file of the same name in `.migration-creator/templates/`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "create_table.py.j2",
        include_str!("../../templates/create_table.py.j2"),
    ),
    (
        "add_column.py.j2",
        include_str!("../../templates/add_column.py.j2"),
    ),
    (
        "create_index.py.j2",
        include_str!("../../templates/create_index.py.j2"),
    ),
    (
        "drop_index.py.j2",
        include_str!("../../templates/drop_index.py.j2"),
    ),
    (
        "rename_column.py.j2",
        include_str!("../../templates/rename_column.py.j2"),
    ),
    (
        "rename_table.py.j2",
        include_str!("../../templates/rename_table.py.j2"),
    ),
    (
        "rebuild_table.py.j2",
        include_str!("../../templates/rebuild_table.py.j2"),
    ),
    ("sql.py.j2", include_str!("../../templates/sql.py.j2")),
];

/// A Python string literal holding `s` exactly. A statement that spans lines
/// becomes one literal per line, joined by Python's implicit concatenation and
/// indented by `indent` outside the quotes, so no indentation ever enters the
/// SQL (a newline inside an SQL string literal stays exactly as given).
pub fn py_literal(s: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut pieces: Vec<String> = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('\n') {
        pieces.push(quote_py(&rest[..=i]));
        rest = &rest[i + 1..];
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(quote_py(rest));
    }
    pieces.join(&format!("\n{pad}"))
}

/// `s` as one double-quoted Python literal: backslashes, quotes and control
/// characters escaped, everything else as it is.
fn quote_py(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for the inside of a `"""` docstring that Python reads back as `s`.
fn docstring_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn template_source(root: &Path, name: &str) -> Result<String, AppError> {
    let custom = root.join(".migration-creator").join("templates").join(name);
    match std::fs::read_to_string(&custom) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
            .unwrap_or_default()),
        Err(e) => Err(AppError::io("read the template", &custom, &e)),
    }
}

pub fn render(root: &Path, plan: &Plan, depends: Option<&str>) -> Result<String, AppError> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("py", |v: String, indent: Option<usize>| {
        py_literal(&v, indent.unwrap_or(8))
    });
    let source = template_source(root, plan.template)?;
    let err = |e: minijinja::Error| {
        AppError::env(
            "template_error",
            format!("template {}: {e}", plan.template),
            "fix .migration-creator/templates/ or remove the override",
        )
    };
    env.add_template_owned(plan.template.to_string(), source)
        .map_err(err)?;
    let steps: Vec<HashMap<&str, Value>> = plan
        .steps
        .iter()
        .map(|(a, r)| {
            HashMap::from([
                ("apply", Value::from(a.clone())),
                ("rollback", Value::from(r.clone())),
            ])
        })
        .collect();
    let text = env
        .get_template(plan.template)
        .and_then(|t| t.render(context! { docstring => docstring_text(&plan.docstring), depends => depends, steps => steps, kind => plan.kind }))
        .map_err(err)?;
    Ok(text)
}

/// Compile the file with the project's Python (the interpreter of the yoyo
/// test-apply would use), so a file Python rejects is never written. Without
/// a Python, the read-back by our reader is the check.
pub fn compile_check(root: &Path, text: &str) -> Result<(), AppError> {
    use std::io::Write;
    let Some(python) =
        crate::engine::find_yoyo(None, root).and_then(|y| crate::engine::yoyo::python_of(&y).ok())
    else {
        return Ok(());
    };
    const CHECK: &str = "import sys\nsrc = sys.stdin.buffer.read()\ntry:\n    compile(src, 'migration', 'exec')\nexcept (SyntaxError, ValueError) as e:\n    print('line %s: %s' % (getattr(e, 'lineno', '?'), getattr(e, 'msg', e)))\n    sys.exit(1)\n";
    let child = std::process::Command::new(&python[0])
        .args(&python[1..])
        .args(["-c", CHECK])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return Ok(());
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    let Ok(out) = child.wait_with_output() else {
        return Ok(());
    };
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(refuse(
            "generated_file_invalid",
            format!(
                "Python cannot compile the migration scaffold would write ({})",
                String::from_utf8_lossy(&out.stdout).trim()
            ),
            "remove the characters Python rejects from the description or the SQL (or fix the template override in .migration-creator/templates/, if there is one), and run again",
        )),
        // A Python that cannot run the check is no verdict; the read-back stands.
        _ => Ok(()),
    }
}

/// Read the rendered file back with our own reader: it must hold exactly the
/// planned steps and dependency.
pub fn verify(text: &str, plan: &Plan, depends: Option<&str>) -> Result<(), AppError> {
    let read = migrations::python::read(text).map_err(|e| {
        AppError::env(
            "template_error",
            format!(
                "the generated file does not read back: line {}: {}",
                e.line, e.message
            ),
            "check the template override in .migration-creator/templates/",
        )
    })?;
    let want: Vec<(String, Option<String>)> = plan
        .steps
        .iter()
        .map(|(a, r)| (a.clone(), Some(r.clone())))
        .collect();
    let got: Vec<(String, Option<String>)> = read
        .steps
        .iter()
        .map(|s| (s.apply.clone(), s.rollback.clone()))
        .collect();
    let deps_ok = read.depends == depends.map(|d| vec![d.to_string()]).unwrap_or_default();
    // A template override may leave the docstring out; one it keeps must read back as given.
    let doc_ok = read
        .docstring
        .as_deref()
        .is_none_or(|d| d.trim() == plan.docstring.trim());
    if want != got || !deps_ok || !doc_ok {
        return Err(AppError::env(
            "template_error",
            "the generated file does not hold the planned steps when read back",
            "check the template override in .migration-creator/templates/",
        ));
    }
    Ok(())
}
