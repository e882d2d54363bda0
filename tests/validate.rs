//! `validate`: the fixtures, the output formats, exit codes, and the cases
//! that need a folder (duplicates, links, size).

use serde::Deserialize;

use crate::support::{mc, repo_root, write};

/// The documented JSON shape of `validate --format json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    ok: bool,
    files: Vec<FileReport>,
    /// Only when a plugin was checked (tests/validate_plugin.rs).
    #[serde(default)]
    #[allow(dead_code)]
    plugins: Vec<serde_json::Value>,
    summary: Summary,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileReport {
    path: String,
    name: Option<String>,
    loads: bool,
    /// Only for a plugin's manifest and agents.
    #[serde(default)]
    plugin: Option<String>,
    diagnostics: Vec<Diag>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Diag {
    severity: String,
    code: String,
    message: String,
    line: usize,
    column: usize,
    end_column: usize,
    hint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the fields document the shape
struct Summary {
    files: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
}

fn report(run: &crate::support::Run) -> Report {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout))
}

/// Codes whose severity is error although the client loads the file: it then
/// refuses to spawn the agent (SPEC.md).
const SPAWN_REFUSALS: &[&str] = &["zero_tools"];

#[test]
fn fixtures_give_the_expected_diagnostics_and_match_the_client() {
    let dir = repo_root().join("tests/fixtures/agent-files");
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let run = mc(
        &repo_root(),
        &["validate", "--format", "json", "tests/fixtures/agent-files"],
    );
    run.code(1);
    let report = report(&run);
    let mut seen = 0;
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, client, codes) = (cols[0], cols[1], cols.get(2).copied().unwrap_or(""));
        let f = report
            .files
            .iter()
            .find(|f| f.path == format!("tests/fixtures/agent-files/{file}"))
            .unwrap_or_else(|| panic!("{file} not in the report"));
        let got: Vec<&str> = f.diagnostics.iter().map(|d| d.code.as_str()).collect();
        let want: Vec<&str> = codes.split(',').filter(|c| !c.is_empty()).collect();
        assert_eq!(got, want, "{file}");
        let refused_at_spawn = got.iter().any(|c| SPAWN_REFUSALS.contains(c));
        if !refused_at_spawn {
            assert_eq!(
                f.loads,
                client == "loaded",
                "{file}: the client says {client}"
            );
        }
        for d in &f.diagnostics {
            assert!(["error", "warning", "note"].contains(&d.severity.as_str()));
            let rule = migration_creator::agent_file::codes::rule(&d.code)
                .unwrap_or_else(|| panic!("{file}: `{}` is not in the rule table", d.code));
            assert_eq!(
                format!("{:?}", rule.severity).to_lowercase(),
                d.severity,
                "{file}: `{}` has the severity of its rule",
                d.code
            );
            assert!(d.line >= 1 && d.column >= 1 && !d.message.is_empty());
            assert!(d.end_column > d.column, "{file}: an empty span");
            assert!(
                d.hint.as_deref().is_some_and(|h| !h.is_empty()),
                "{file}: {} has no hint",
                d.code
            );
            if d.severity == "error" {
                assert!(!f.loads, "{file}: an error means the agent does not load");
            }
        }
        seen += 1;
    }
    assert_eq!(seen, report.files.len(), "every fixture has an expectation");
    assert_eq!(report.summary.files, seen);
    let errors: usize = report
        .files
        .iter()
        .flat_map(|f| &f.diagnostics)
        .filter(|d| d.severity == "error")
        .count();
    assert_eq!(report.summary.errors, errors);
    assert!(!report.ok);
}

#[test]
fn every_rule_code_in_the_readme_is_exercised() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("<!-- rules -->")
        .nth(1)
        .expect("README has a rules table")
        .split("<!-- /rules -->")
        .next()
        .unwrap();
    let expected =
        std::fs::read_to_string(repo_root().join("tests/fixtures/agent-files/expected.tsv"))
            .unwrap();
    let this_file = concat!(
        include_str!("validate.rs"),
        include_str!("validate_plugin.rs")
    );
    let mut codes = 0;
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let code = row.split('`').nth(1).unwrap();
        codes += 1;
        assert!(
            expected.contains(code) || this_file.contains(&format!("\"{code}\"")),
            "rule `{code}` has no fixture or test"
        );
    }
    assert!(codes >= 30, "found {codes} rule rows");
    // The README's table is the rule table in the code, row for row.
    assert_eq!(
        section.trim(),
        migration_creator::agent_file::codes::markdown_table().trim(),
        "README's rule table differs from src/agent_file/codes.rs"
    );
}

#[test]
fn the_client_tables_are_the_version_the_fixtures_were_judged_with() {
    let expected =
        std::fs::read_to_string(repo_root().join("tests/fixtures/agent-files/expected.tsv"))
            .unwrap();
    let header = expected.lines().next().unwrap();
    assert!(
        header.contains(&format!(
            "client {} (claude-oracle)",
            migration_creator::agent_file::client::CLIENT_VERSION
        )),
        "{header}"
    );
}

#[test]
fn text_output_is_compiler_style_with_a_caret() {
    let run = mc(
        &repo_root(),
        &["validate", "tests/fixtures/agent-files/invalid-color.md"],
    );
    run.code(0);
    let expected = "\
tests/fixtures/agent-files/invalid-color.md:4:8: warning[invalid_color]: `color: magenta` is not a valid value; Claude Code ignores the field
  |
4 | color: magenta
  |        ^^^^^^^
  = hint: use red, blue, green, yellow, purple, orange, pink, cyan

1 file checked: 0 errors, 1 warning, 0 notes
";
    assert_eq!(run.stdout, expected);
}

#[test]
fn github_format_prints_annotations() {
    let run = mc(
        &repo_root(),
        &[
            "validate",
            "--format",
            "github",
            "tests/fixtures/agent-files/missing-name.md",
        ],
    );
    run.code(1);
    assert!(
        run.stdout.starts_with("::error file=tests/fixtures/agent-files/missing-name.md,line=1,col=1,title=missing_name::"),
        "{}",
        run.stdout
    );
}

#[test]
fn exit_codes_follow_the_contract() {
    let root = repo_root();
    mc(&root, &["validate", "tests/fixtures/agent-files/valid.md"]).code(0);
    mc(
        &root,
        &["validate", "tests/fixtures/agent-files/unknown-key.md"],
    )
    .code(0);
    mc(
        &root,
        &[
            "validate",
            "--strict",
            "tests/fixtures/agent-files/unknown-key.md",
        ],
    )
    .code(1);
    mc(
        &root,
        &["validate", "tests/fixtures/agent-files/missing-name.md"],
    )
    .code(1);
    let run = mc(&root, &["validate", "--format", "json", "no/such/file.md"]);
    run.code(2);
    let r = report(&run);
    assert_eq!(r.files[0].diagnostics[0].code, "path_not_found");
    mc(&root, &["validate", "--no-such-flag"]).code(2);
    let run = mc(&root, &["validate", "--format", "json", "--no-such-flag"]);
    run.code(2);
    assert_eq!(run.json()["error"]["code"], "usage");
}

#[test]
fn with_no_path_it_checks_both_agent_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let valid =
        std::fs::read_to_string(repo_root().join("tests/fixtures/agent-files/valid.md")).unwrap();
    write(&tmp.path().join(".claude/agents/valid.md"), &valid);
    write(
        &tmp.path().join("agents/nested/broken.md"),
        "no frontmatter\n",
    );
    write(&tmp.path().join("agents/notes.txt"), "not an agent\n");
    let run = mc(tmp.path(), &["validate", "--format", "json"]);
    run.code(1);
    let r = report(&run);
    let paths: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [".claude/agents/valid.md", "agents/nested/broken.md"]
    );
    assert_eq!(r.files[0].name.as_deref(), Some("valid"));
    // An empty project is not an error.
    let empty = tempfile::tempdir().unwrap();
    let run = mc(empty.path(), &["validate", "--format", "json"]);
    run.code(0);
    assert_eq!(report(&run).summary.files, 0);
}

#[test]
fn duplicate_names_in_one_folder_are_errors_on_both_files() {
    let tmp = tempfile::tempdir().unwrap();
    let agent = |n: &str| format!("---\nname: {n}\ndescription: d\n---\nbody\n");
    write(&tmp.path().join(".claude/agents/db.md"), &agent("db"));
    write(
        &tmp.path().join(".claude/agents/sub/db-copy.md"),
        &agent("db"),
    );
    write(&tmp.path().join(".claude/agents/other.md"), &agent("other"));
    let run = mc(tmp.path(), &["validate", "--format", "json"]);
    run.code(1);
    let r = report(&run);
    for (file, other) in [
        (".claude/agents/db.md", "sub/db-copy.md"),
        (".claude/agents/sub/db-copy.md", "agents/db.md"),
    ] {
        let f = r.files.iter().find(|f| f.path == file).unwrap();
        let d = f
            .diagnostics
            .iter()
            .find(|d| d.code == "duplicate_name")
            .expect(file);
        assert!(d.message.contains(other), "{}", d.message);
        assert_eq!(d.line, 2);
    }
    // Naming one file (as pre-commit does) still finds its twin.
    let run = mc(
        tmp.path(),
        &["validate", "--format", "json", ".claude/agents/db.md"],
    );
    run.code(1);
    assert_eq!(report(&run).files[0].diagnostics[0].code, "duplicate_name");
    mc(tmp.path(), &["validate", ".claude/agents/other.md"]).code(0);
}

#[test]
fn files_over_the_client_limit_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let big = format!(
        "---\nname: big\ndescription: d\n---\n{}",
        "x".repeat(1_048_577)
    );
    write(&tmp.path().join("big.md"), &big);
    let run = mc(tmp.path(), &["validate", "--format", "json", "big.md"]);
    run.code(1);
    assert_eq!(report(&run).files[0].diagnostics[0].code, "file_too_large");
    // Exactly at the limit still loads.
    let header = "---\nname: big\ndescription: d\n---\n";
    let at_limit = format!("{header}{}", "x".repeat(1_048_576 - header.len()));
    write(&tmp.path().join("big.md"), &at_limit);
    assert_eq!(at_limit.len(), 1_048_576);
    mc(tmp.path(), &["validate", "big.md"]).code(0);
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_broken_links_are_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let agents = tmp.path().join(".claude/agents");
    write(
        &agents.join("ok.md"),
        "---\nname: ok\ndescription: d\n---\nbody\n",
    );
    std::os::unix::fs::symlink(&agents, agents.join("loop")).unwrap();
    std::os::unix::fs::symlink(agents.join("missing.md"), agents.join("dangling.md")).unwrap();
    let run = mc(tmp.path(), &["validate", "--format", "json"]);
    run.code(0);
    let r = report(&run);
    let codes: Vec<&str> = r
        .files
        .iter()
        .flat_map(|f| &f.diagnostics)
        .map(|d| d.code.as_str())
        .collect();
    assert!(codes.contains(&"symlink_loop"), "{codes:?}");
    assert!(codes.contains(&"broken_link"), "{codes:?}");
    assert!(r
        .files
        .iter()
        .any(|f| f.name.as_deref() == Some("ok") && f.loads));
}

#[cfg(unix)]
#[test]
fn unreadable_files_exit_2_after_checking_the_rest() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let locked = tmp.path().join("agents/locked.md");
    write(&locked, "---\nname: locked\ndescription: d\n---\nbody\n");
    write(
        &tmp.path().join("agents/fine.md"),
        "---\nname: fine\ndescription: d\n---\nbody\n",
    );
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        // Running as root: permissions do not stop reads, so a directory that
        // cannot be listed is the only unreadable entry we can make. Use a path
        // through a regular file instead, which no user can read.
        let run = mc(
            tmp.path(),
            &[
                "validate",
                "--format",
                "json",
                "agents/fine.md/not-a-dir.md",
            ],
        );
        run.code(2);
        let r = report(&run);
        assert!(["unreadable", "path_not_found"].contains(&r.files[0].diagnostics[0].code.as_str()));
        return;
    }
    let run = mc(tmp.path(), &["validate", "--format", "json"]);
    run.code(2);
    let r = report(&run);
    assert!(r
        .files
        .iter()
        .any(|f| f.diagnostics.iter().any(|d| d.code == "unreadable")));
    assert!(r.files.iter().any(|f| f.name.as_deref() == Some("fine")));
}

#[test]
fn explicit_non_markdown_files_get_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("agents/readme.txt"), "hello\n");
    let run = mc(
        tmp.path(),
        &["validate", "--format", "json", "agents/readme.txt"],
    );
    run.code(0);
    assert_eq!(
        report(&run).files[0].diagnostics[0].code,
        "not_an_agent_file"
    );
}

#[test]
fn the_shipped_agent_and_the_dogfood_copy_are_clean() {
    let run = mc(&repo_root(), &["validate", "--strict", "--format", "json"]);
    run.code(0);
    let r = report(&run);
    let paths: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            ".claude/agents/migration-creator.md",
            ".claude-plugin/plugin.json",
            "agents/migration-creator.md"
        ]
    );
    // The repository is a plugin: its agents/ folder is the plugin's.
    assert_eq!(r.files[2].plugin.as_deref(), Some("migration-creator"));
    assert_eq!(
        r.files[2].name.as_deref(),
        Some("migration-creator:migration-creator")
    );
    assert_eq!(r.files[0].plugin, None);
    assert!(r.files.iter().all(|f| f.diagnostics.is_empty()), "{r:?}");
}
