//! `validate` on plugins (folders with `.claude-plugin/plugin.json`): each
//! fixture in tests/fixtures/plugins/ gives the codes listed here, the agents
//! `validate` says load are the ones the real client listed
//! (tests/fixtures/plugins/expected.tsv, which scripts/plugin-verdicts.sh
//! re-asks the client for), and the ignored test asks the client itself.

use std::path::Path;

use serde_json::Value;

use crate::support::{copy_dir, mc, repo_root, write};

const FIXTURES: &str = "tests/fixtures/plugins";

/// Per case: each file of the report (relative to the case), whether it
/// loads (for the manifest: whether the plugin loads), and its codes in
/// report order.
type Case = (
    &'static str,
    &'static [(&'static str, bool, &'static [&'static str])],
);

const EXPECTED: &[Case] = &[
    (
        "agent-name-number",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            ("agents/numbered.md", true, &["plugin_agent_name_style"]),
        ],
    ),
    (
        "agents-escape",
        &[(
            ".claude-plugin/plugin.json",
            false,
            &[
                "plugin_missing_metadata",
                "plugin_agents_folder_ignored",
                "plugin_agents_path",
            ],
        )],
    ),
    (
        "agents-folder",
        &[(
            ".claude-plugin/plugin.json",
            false,
            &[
                "plugin_missing_metadata",
                "plugin_agents_folder_ignored",
                "plugin_agents_path",
                "plugin_agents_path",
            ],
        )],
    ),
    (
        "agents-missing",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata", "plugin_agents_path_missing"],
            ),
            ("agents/helper.md", true, &[]),
        ],
    ),
    (
        "agents-no-dot-slash",
        &[(
            ".claude-plugin/plugin.json",
            false,
            &["plugin_missing_metadata", "plugin_agents_path"],
        )],
    ),
    (
        "agents-not-md",
        &[(
            ".claude-plugin/plugin.json",
            false,
            &[
                "plugin_missing_metadata",
                "plugin_agents_folder_ignored",
                "plugin_agents_path",
            ],
        )],
    ),
    (
        "agents-replace-default",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata", "plugin_agents_folder_ignored"],
            ),
            ("extra/special.md", true, &[]),
        ],
    ),
    (
        "agents-wrong-type",
        &[(
            ".claude-plugin/plugin.json",
            false,
            &["plugin_missing_metadata", "plugin_invalid_field"],
        )],
    ),
    (
        "author-string",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata", "plugin_ignored_field"],
            ),
            ("agents/helper.md", true, &[]),
        ],
    ),
    (
        "bad-hooks",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            ("agents/hooked.md", true, &["plugin_ignored_key"]),
        ],
    ),
    (
        "bad-json",
        &[
            (".claude-plugin/plugin.json", false, &["plugin_json_syntax"]),
            ("agents/helper.md", false, &["plugin_not_loaded"]),
        ],
    ),
    (
        "bad-yaml",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            (
                "agents/broken-yaml.md",
                true,
                &["plugin_frontmatter_ignored"],
            ),
            ("agents/broken.md", true, &["lenient_yaml"]),
        ],
    ),
    (
        "colon-name",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            ("agents/dash.md", true, &["plugin_agent_name_style"]),
            ("agents/odd.md", true, &["plugin_agent_name_style"]),
        ],
    ),
    (
        "duplicate-names",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            ("agents/one.md", false, &["duplicate_name", "name_mismatch"]),
            ("agents/team/three.md", true, &["name_mismatch"]),
            ("agents/two.md", false, &["duplicate_name", "name_mismatch"]),
        ],
    ),
    (
        "empty-agents-array",
        &[(
            ".claude-plugin/plugin.json",
            true,
            &["plugin_missing_metadata", "plugin_agents_folder_ignored"],
        )],
    ),
    (
        "ignored-keys",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            (
                "agents/guarded.md",
                true,
                &[
                    "plugin_ignored_key",
                    "plugin_ignored_key",
                    "plugin_ignored_key",
                    "plugin_ignored_key",
                ],
            ),
        ],
    ),
    (
        "metadata-wrong-types",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &[
                    "plugin_ignored_field",
                    "plugin_ignored_field",
                    "plugin_unknown_field",
                ],
            ),
            ("agents/helper.md", true, &[]),
        ],
    ),
    (
        "name-colon",
        &[
            (
                ".claude-plugin/plugin.json",
                false,
                &["plugin_missing_metadata", "plugin_invalid_name"],
            ),
            ("agents/helper.md", false, &["plugin_not_loaded"]),
        ],
    ),
    (
        "name-not-kebab",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata", "plugin_name_style"],
            ),
            ("agents/helper.md", true, &[]),
        ],
    ),
    (
        "name-not-string",
        &[
            (
                ".claude-plugin/plugin.json",
                false,
                &["plugin_missing_metadata", "plugin_missing_name"],
            ),
            ("agents/helper.md", false, &["plugin_not_loaded"]),
        ],
    ),
    (
        "name-spaces",
        &[
            (
                ".claude-plugin/plugin.json",
                false,
                &["plugin_missing_metadata", "plugin_invalid_name"],
            ),
            ("agents/helper.md", false, &["plugin_not_loaded"]),
        ],
    ),
    (
        "nested",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            ("agents/team/lead.md", true, &[]),
            ("agents/team/sub/deep.md", true, &[]),
            ("agents/top.md", true, &[]),
        ],
    ),
    (
        "no-description",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            ("agents/nameless.md", true, &["plugin_agent_name_from_file"]),
            ("agents/quiet.md", true, &["plugin_default_description"]),
        ],
    ),
    (
        "no-frontmatter",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            ("agents/reviewer.md", true, &["plugin_frontmatter_ignored"]),
        ],
    ),
    (
        "no-name",
        &[
            (
                ".claude-plugin/plugin.json",
                false,
                &["plugin_missing_name", "plugin_missing_metadata"],
            ),
            ("agents/helper.md", false, &["plugin_not_loaded"]),
        ],
    ),
    (
        "unknown-field",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &[
                    "plugin_missing_metadata",
                    "plugin_unknown_field",
                    "plugin_unknown_field",
                ],
            ),
            ("agents/helper.md", true, &[]),
        ],
    ),
    (
        "upper-md",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            (
                "agents/Loud.MD",
                true,
                &["plugin_extension_case", "name_mismatch"],
            ),
            (
                "agents/Shout.MD",
                true,
                &["plugin_frontmatter_ignored", "plugin_extension_case"],
            ),
            ("agents/other.markdown", false, &["wrong_extension"]),
            ("agents/quiet.Md", true, &["plugin_extension_case"]),
        ],
    ),
    (
        "valid-metadata",
        &[
            (".claude-plugin/plugin.json", true, &[]),
            ("agents/helper.md", true, &[]),
        ],
    ),
    (
        "valid-minimal",
        &[
            (
                ".claude-plugin/plugin.json",
                true,
                &["plugin_missing_metadata"],
            ),
            ("agents/helper.md", true, &[]),
        ],
    ),
    (
        "version-number",
        &[
            (
                ".claude-plugin/plugin.json",
                false,
                &["plugin_missing_metadata", "plugin_invalid_field"],
            ),
            ("agents/helper.md", false, &["plugin_not_loaded"]),
        ],
    ),
];

fn validate_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["validate", "--format", "json"];
    all.extend_from_slice(args);
    let run = mc(dir, &all);
    let code = run.code;
    (code, run.json())
}

/// The client's verdicts: case -> (`claude plugin validate` passes, the
/// agents it lists).
fn client_verdicts() -> Vec<(String, bool, Vec<String>)> {
    let text = std::fs::read_to_string(repo_root().join(FIXTURES).join("expected.tsv")).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(lines.next(), Some("case\tvalidate\tagents"));
    lines
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "{l}");
            let agents = cols[2]
                .split(',')
                .filter(|a| *a != "-" && !a.is_empty())
                .map(str::to_string)
                .collect();
            (cols[0].to_string(), cols[1] == "pass", agents)
        })
        .collect()
}

fn case_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir(repo_root().join(FIXTURES))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

/// The agents `validate` says the client lists for the plugin in `report`.
fn loaded_agents(report: &Value) -> Vec<String> {
    let plugins = report["plugins"].as_array().expect("a plugins array");
    assert_eq!(plugins.len(), 1, "{report:#}");
    let mut agents: Vec<String> = plugins[0]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    agents.sort();
    agents
}

#[test]
fn every_fixture_gives_its_codes() {
    let cases = case_dirs();
    let listed: Vec<&str> = EXPECTED.iter().map(|(c, _)| *c).collect();
    assert_eq!(cases, listed, "every fixture folder has an expectation");
    for (case, files) in EXPECTED {
        let dir = format!("{FIXTURES}/{case}");
        let (code, report) = validate_json(&repo_root(), &[&dir]);
        let got: Vec<(String, bool, Vec<String>)> = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = f["path"].as_str().unwrap();
                let rel = path
                    .strip_prefix(&format!("{dir}/"))
                    .unwrap_or_else(|| panic!("{case}: {path} is outside the plugin"));
                let codes = f["diagnostics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["code"].as_str().unwrap().to_string())
                    .collect();
                (rel.to_string(), f["loads"].as_bool().unwrap(), codes)
            })
            .collect();
        let want: Vec<(String, bool, Vec<String>)> = files
            .iter()
            .map(|(p, l, c)| (p.to_string(), *l, c.iter().map(|s| s.to_string()).collect()))
            .collect();
        assert_eq!(got, want, "{case}");
        let errors = report["summary"]["errors"].as_u64().unwrap();
        assert_eq!(code, if errors > 0 { 1 } else { 0 }, "{case}: exit code");
        for f in report["files"].as_array().unwrap() {
            assert_eq!(f["plugin"], report["plugins"][0]["name"], "{case}");
            for d in f["diagnostics"].as_array().unwrap() {
                let code = d["code"].as_str().unwrap();
                let rule = migration_creator::agent_file::codes::rule(code)
                    .unwrap_or_else(|| panic!("{case}: `{code}` is not in the rule table"));
                assert_eq!(
                    format!("{:?}", rule.severity).to_lowercase(),
                    d["severity"].as_str().unwrap(),
                    "{case}: `{code}`"
                );
                assert!(d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1);
                assert!(
                    d["end_column"].as_u64() > d["column"].as_u64(),
                    "{case}: {d}"
                );
                assert!(
                    d["hint"].as_str().is_some_and(|h| !h.is_empty()),
                    "{case}: `{code}` has no hint"
                );
            }
        }
    }
}

#[test]
fn validate_lists_the_agents_the_client_listed() {
    let verdicts = client_verdicts();
    let names: Vec<&str> = verdicts.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(
        case_dirs(),
        names,
        "expected.tsv has every fixture, in order"
    );
    for (case, _, client_agents) in &verdicts {
        let (_, report) = validate_json(&repo_root(), &[&format!("{FIXTURES}/{case}")]);
        assert_eq!(&loaded_agents(&report), client_agents, "{case}");
        // A plugin the client refuses loads nothing; one it loads lists what
        // the files marked `loads` are named (a duplicate once).
        let plugin = &report["plugins"][0];
        let mut from_files: Vec<String> = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !f["path"].as_str().unwrap().ends_with("plugin.json"))
            .filter(|f| {
                f["loads"] == true
                    || f["diagnostics"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|d| d["severity"] == "error")
                        .all(|d| d["code"] == "duplicate_name")
            })
            .filter_map(|f| f["name"].as_str().map(str::to_string))
            .collect();
        from_files.sort();
        from_files.dedup();
        if plugin["loads"] == true {
            assert_eq!(&from_files, client_agents, "{case}");
        } else {
            assert!(
                client_agents.is_empty(),
                "{case}: a refused plugin loads no agent"
            );
        }
    }
}

fn diagnostic<'a>(report: &'a Value, path_end: &str, code: &str) -> &'a Value {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with(path_end))
        .flat_map(|f| f["diagnostics"].as_array().unwrap())
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} on {path_end}: {report:#}"))
}

/// The text at a diagnostic's line and column.
fn text_at(file: &Path, d: &Value) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let line = text
        .lines()
        .nth(d["line"].as_u64().unwrap() as usize - 1)
        .unwrap();
    let from = d["column"].as_u64().unwrap() as usize - 1;
    let to = d["end_column"].as_u64().unwrap() as usize - 1;
    line.chars().skip(from).take(to - from).collect()
}

#[test]
fn manifest_diagnostics_point_into_the_json() {
    let root = repo_root();
    let manifest = |case: &str| {
        root.join(FIXTURES)
            .join(case)
            .join(".claude-plugin/plugin.json")
    };

    let (_, r) = validate_json(&root, &[&format!("{FIXTURES}/bad-json")]);
    let d = diagnostic(&r, "plugin.json", "plugin_json_syntax");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(1))
    );
    assert_eq!(d["severity"], "error");

    let (_, r) = validate_json(&root, &[&format!("{FIXTURES}/unknown-field")]);
    let d = diagnostic(&r, "plugin.json", "plugin_unknown_field");
    assert_eq!(text_at(&manifest("unknown-field"), d), "\"descripton\"");
    assert_eq!(d["hint"], "did you mean `description`?");
    assert_eq!(d["severity"], "warning");

    let (_, r) = validate_json(&root, &[&format!("{FIXTURES}/agents-missing")]);
    let d = diagnostic(&r, "plugin.json", "plugin_agents_path_missing");
    assert_eq!(
        text_at(&manifest("agents-missing"), d),
        "\"./agents/nope.md\""
    );

    let (_, r) = validate_json(&root, &[&format!("{FIXTURES}/version-number")]);
    let d = diagnostic(&r, "plugin.json", "plugin_invalid_field");
    assert_eq!(text_at(&manifest("version-number"), d), "3");

    let (_, r) = validate_json(&root, &[&format!("{FIXTURES}/name-spaces")]);
    let d = diagnostic(&r, "plugin.json", "plugin_invalid_name");
    assert_eq!(text_at(&manifest("name-spaces"), d), "\"my plugin\"");
    assert_eq!(r["plugins"][0]["loads"], false);

    let (_, r) = validate_json(&root, &[&format!("{FIXTURES}/author-string")]);
    let d = diagnostic(&r, "plugin.json", "plugin_ignored_field");
    assert_eq!(text_at(&manifest("author-string"), d), "\"A. Author\"");
    assert_eq!(r["plugins"][0]["loads"], true);
}

#[test]
fn plugin_agents_are_judged_as_the_client_loads_them() {
    let root = repo_root();
    let (_, r) = validate_json(&root, &[&format!("{FIXTURES}/ignored-keys")]);
    let keys: Vec<String> = r["files"][1]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| text_at(&root.join(r["files"][1]["path"].as_str().unwrap()), d))
        .collect();
    assert_eq!(
        keys,
        ["permissionMode", "hooks", "mcpServers", "initialPrompt"]
    );

    // The same file that loads from a plugin is dropped from .claude/agents/.
    let tmp = tempfile::tempdir().unwrap();
    let text = "You review pull requests.\n";
    write(&tmp.path().join(".claude/agents/reviewer.md"), text);
    write(&tmp.path().join("plugin/agents/reviewer.md"), text);
    write(
        &tmp.path().join("plugin/.claude-plugin/plugin.json"),
        "{\"name\": \"p\"}",
    );
    let (code, r) = validate_json(tmp.path(), &[".claude/agents", "plugin"]);
    assert_eq!(code, 1);
    let by_path = |p: &str| {
        r["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p}: {r:#}"))
            .clone()
    };
    let plain = by_path(".claude/agents/reviewer.md");
    assert_eq!(plain["loads"], false);
    assert_eq!(plain["diagnostics"][0]["code"], "missing_frontmatter");
    let in_plugin = by_path("plugin/agents/reviewer.md");
    assert_eq!(in_plugin["loads"], true);
    assert_eq!(in_plugin["name"], "p:reviewer");
    assert_eq!(
        in_plugin["diagnostics"][0]["code"],
        "plugin_frontmatter_ignored"
    );
    assert!(
        in_plugin["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"Agent from p plugin\""),
        "{in_plugin:#}"
    );
}

#[test]
fn the_manifest_or_a_file_of_a_plugin_checks_the_whole_plugin() {
    let root = repo_root();
    let whole = validate_json(&root, &[&format!("{FIXTURES}/nested")]).1;
    for path in [
        format!("{FIXTURES}/nested/.claude-plugin/plugin.json"),
        format!("{FIXTURES}/nested/agents/team/lead.md"),
        format!("{FIXTURES}/nested/agents/team"),
    ] {
        let (code, r) = validate_json(&root, &[&path]);
        assert_eq!(code, 0, "{path}");
        assert_eq!(r["files"], whole["files"], "{path}");
        assert_eq!(
            loaded_agents(&r),
            ["nested:team:lead", "nested:team:sub:deep", "nested:top"],
            "{path}"
        );
    }
    // Named twice, reported once.
    let (_, r) = validate_json(
        &root,
        &[
            &format!("{FIXTURES}/nested"),
            &format!("{FIXTURES}/nested/agents/top.md"),
        ],
    );
    assert_eq!(r["files"], whole["files"]);
    assert_eq!(r["plugins"].as_array().unwrap().len(), 1);
}

#[test]
fn with_no_path_a_plugin_root_checks_its_agents_as_plugin_agents() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &repo_root().join(FIXTURES).join("no-description"),
        tmp.path(),
    );
    write(
        &tmp.path().join(".claude/agents/plain.md"),
        "---\nname: plain\n---\nNo description.\n",
    );
    let (code, r) = validate_json(tmp.path(), &[]);
    // The project agent has no description: an error there; the plugin's
    // agent without one loads with the client's stand-in description.
    assert_eq!(code, 1);
    let paths: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            ".claude/agents/plain.md",
            ".claude-plugin/plugin.json",
            "agents/nameless.md",
            "agents/quiet.md"
        ]
    );
    assert_eq!(
        r["files"][0]["diagnostics"][0]["code"],
        "missing_description"
    );
    assert_eq!(
        r["files"][3]["diagnostics"][0]["code"],
        "plugin_default_description"
    );
    assert_eq!(r["files"][3]["loads"], true);
    assert_eq!(
        loaded_agents(&r),
        ["no-description:nameless", "no-description:quiet"]
    );
}

#[test]
fn the_repository_is_a_clean_plugin() {
    let (code, r) = validate_json(&repo_root(), &["--strict", ".claude-plugin/plugin.json"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(loaded_agents(&r), ["migration-creator:migration-creator"]);
    assert_eq!(r["summary"]["warnings"], 0);
    assert_eq!(r["summary"]["notes"], 0);
}

#[test]
fn text_github_and_sarif_carry_manifest_diagnostics() {
    let root = repo_root();
    let case = format!("{FIXTURES}/unknown-field");
    let manifest = format!("{case}/.claude-plugin/plugin.json");
    let text = mc(&root, &["validate", &case]);
    text.code(0);
    assert!(
        text.stdout
            .contains(&format!("{manifest}:3:3: warning[plugin_unknown_field]")),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("\"descripton\": \"typo of description\""),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("^^^^^^^^^^^^"),
        "a caret under the key:\n{}",
        text.stdout
    );

    let github = mc(&root, &["validate", "--format", "github", &case]);
    assert!(
        github.stdout.contains(&format!(
            "::warning file={manifest},line=3,col=3,title=plugin_unknown_field::"
        )),
        "{}",
        github.stdout
    );

    let sarif = mc(&root, &["validate", "--format", "sarif", &case]);
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "plugin_unknown_field")
        .unwrap_or_else(|| panic!("{log:#}"));
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], manifest.as_str());
    assert_eq!(loc["region"]["startLine"], 3);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|r| r["id"] == "plugin_json_syntax"));
}

#[test]
fn strict_fails_on_plugin_warnings() {
    let root = repo_root();
    let case = format!("{FIXTURES}/ignored-keys");
    assert_eq!(validate_json(&root, &[&case]).0, 0);
    let (code, r) = validate_json(&root, &["--strict", &case]);
    assert_eq!(code, 1);
    assert_eq!(r["ok"], false);
}

#[test]
fn bad_manifests_never_panic() {
    let deep = "[".repeat(100_000);
    let manifests: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        "\u{feff}".as_bytes().to_vec(),
        b"\xff\xfe{\"name\": \"x\"}".to_vec(),
        b"null".to_vec(),
        b"[1, 2]".to_vec(),
        b"\"name\"".to_vec(),
        deep.into_bytes(),
        b"{\"name\": \"x\", \"agents\": [\"./".to_vec(),
        b"{\"name\": \"x\", \"agents\": [null, 1, {}]}".to_vec(),
        b"{\"name\": \"x\", \"agents\": \"./\"}".to_vec(),
        b"{\"name\": \"x\", \"agents\": \"./.md\"}".to_vec(),
        b"{\"name\": \"x\", \"agents\": \"./../../../etc/passwd.md\"}".to_vec(),
        b"{\"name\": \"x\", \"author\": {\"name\": 5}, \"keywords\": \"a\"}".to_vec(),
        b"{\"name\": \"\\u0000\\u202e\"}".to_vec(),
        b"{\"\\ud800\": 1, \"name\": \"x\"}".to_vec(),
        "{\"名前\": \"x\", \"name\": \"é\"}".as_bytes().to_vec(),
    ];
    for (i, bytes) in manifests.iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(".claude-plugin")).unwrap();
        std::fs::write(tmp.path().join(".claude-plugin/plugin.json"), bytes).unwrap();
        write(
            &tmp.path().join("agents/a.md"),
            "---\nname: a\ndescription: d\n---\nbody\n",
        );
        let (code, r) = validate_json(tmp.path(), &["."]);
        assert!(code == 0 || code == 1, "case {i}: exit {code}");
        assert_eq!(
            r["files"][0]["path"], ".claude-plugin/plugin.json",
            "case {i}"
        );
        let text = mc(tmp.path(), &["validate", "."]);
        assert!(
            text.code == 0 || text.code == 1,
            "case {i}: {}",
            text.stderr
        );
    }
}

/// The client, asked for every fixture: the agents it lists are exactly the
/// ones `validate` says load, and `claude plugin validate` still gives the
/// verdict expected.tsv recorded.
#[test]
#[ignore = "needs Claude Code 2.1.332 from npm; scripts/test-all.sh installs it"]
fn the_real_client_loads_exactly_the_agents_validate_says_load() {
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let root = repo_root();
    let verdicts = client_verdicts();
    let mut checked = 0;
    for case in case_dirs() {
        let dir = root.join(FIXTURES).join(&case);
        let (_, report) = validate_json(&root, &[&format!("{FIXTURES}/{case}")]);
        let mut listed: Vec<String> = crate::plugin::session_agents(
            project.path(),
            home.path(),
            &["--plugin-dir", dir.to_str().unwrap()],
        )
        .into_iter()
        .filter(|a| a.contains(':'))
        .collect();
        listed.sort();
        assert_eq!(loaded_agents(&report), listed, "{case}");
        let (passes, stdout, stderr) = crate::plugin::output(
            crate::plugin::client(home.path(), None)
                .args(["plugin", "validate"])
                .arg(&dir)
                .current_dir(&root),
        );
        // `claude plugin validate` is stricter or laxer than the loader in
        // places (a metadata field of the wrong type fails it, a plugin name
        // with `:` passes it): it must give what expected.tsv recorded.
        let recorded = verdicts
            .iter()
            .find(|(c, _, _)| *c == case)
            .unwrap_or_else(|| panic!("{case} is not in expected.tsv"));
        assert_eq!(
            passes, recorded.1,
            "{case}: claude plugin validate changed its verdict:\n{stdout}{stderr}"
        );
        if report["plugins"][0]["loads"] == false {
            assert!(
                listed.is_empty(),
                "{case}: validate says the plugin is refused"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked} fixtures");
}

/// A plugin in a temporary folder: its manifest and agent files.
fn temp_plugin(manifest: &str, agents: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join(".claude-plugin/plugin.json"), manifest);
    for (name, text) in agents {
        write(&tmp.path().join("agents").join(name), text);
    }
    tmp
}

fn codes_of(report: &Value, path: &str) -> Vec<String> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .flat_map(|f| f["diagnostics"].as_array().unwrap())
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rarer_manifests_and_agents() {
    let agent = "---\nname: a\ndescription: d\n---\nbody\n";
    let full = "\"version\": \"1.0.0\", \"description\": \"d\", \"author\": {\"name\": \"me\"}";

    let tmp = temp_plugin("[1, 2]", &[("a.md", agent)]);
    let (code, r) = validate_json(tmp.path(), &["."]);
    assert_eq!(code, 1);
    assert_eq!(
        codes_of(&r, ".claude-plugin/plugin.json"),
        ["plugin_manifest_not_object"]
    );
    assert_eq!(codes_of(&r, "agents/a.md"), ["plugin_not_loaded"]);

    // Not kebab-case: the client loads it; marketplaces want kebab-case.
    let tmp = temp_plugin(
        &format!("{{\"name\": \"My_Plugin\", {full}}}"),
        &[("a.md", agent)],
    );
    let (code, r) = validate_json(tmp.path(), &["."]);
    assert_eq!(code, 0);
    assert_eq!(
        codes_of(&r, ".claude-plugin/plugin.json"),
        ["plugin_name_style"]
    );
    assert_eq!(loaded_agents(&r), ["My_Plugin:a"]);

    // A marketplace field in plugin.json, and a name over 256 characters.
    let long = format!(
        "---\nname: {}\ndescription: d\n---\nbody\n",
        "a".repeat(300)
    );
    let tmp = temp_plugin(
        &format!("{{\"name\": \"p\", \"category\": \"x\", {full}}}"),
        &[("long.md", &long)],
    );
    let (code, r) = validate_json(tmp.path(), &["."]);
    assert_eq!(code, 0);
    let d = diagnostic(&r, "plugin.json", "plugin_unknown_field");
    assert!(
        d["message"].as_str().unwrap().contains("marketplace.json"),
        "{d}"
    );
    assert_eq!(codes_of(&r, "agents/long.md"), ["plugin_name_ignored"]);
    assert_eq!(loaded_agents(&r), ["p:long"]);

    // A non-string name is read as text; `when_to_use` describes the agent.
    let tmp = temp_plugin(
        &format!("{{\"name\": \"p\", {full}}}"),
        &[(
            "n.md",
            "---\nname: 42\nwhen_to_use: Use it for numbers.\n---\nbody\n",
        )],
    );
    let (_, r) = validate_json(tmp.path(), &["."]);
    assert_eq!(codes_of(&r, "agents/n.md"), ["plugin_agent_name_style"]);
    assert_eq!(loaded_agents(&r), ["p:42"]);
}

/// The README's plugin example is what `validate` prints for it.
#[test]
fn the_readmes_plugin_example_is_what_validate_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my-plugin");
    write(
        &dir.join(".claude-plugin/plugin.json"),
        "{\n  \"name\": \"my-plugin\",\n  \"version\": \"1.0.0\",\n  \"description\": \"Review helpers.\",\n  \"author\": {\"name\": \"A. Author\"},\n  \"keywrods\": [\"review\"]\n}\n",
    );
    write(
        &dir.join("agents/review/security.md"),
        "---\nname: security\ndescription: Use to review a change for security problems.\npermissionMode: plan\n---\nYou review changes for security problems.\n",
    );
    write(
        &dir.join("agents/summary.md"),
        "You summarise a pull request.\n",
    );
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let expected = readme
        .split("$ migration-creator validate my-plugin\n")
        .nth(1)
        .expect("the README shows validate on my-plugin")
        .split("\n```")
        .next()
        .unwrap();
    let run = mc(tmp.path(), &["validate", "my-plugin"]);
    run.code(0);
    assert_eq!(run.stdout.trim_end(), expected.trim_end());
    let (_, r) = validate_json(tmp.path(), &["my-plugin"]);
    let shown: Value = serde_json::from_str(&format!(
        "{{{}}}",
        readme
            .split("```json\n\"plugins\": ")
            .nth(1)
            .expect("the README shows the plugins list")
            .split("\n```")
            .next()
            .map(|b| format!("\"plugins\": {b}"))
            .unwrap()
    ))
    .unwrap();
    assert_eq!(shown["plugins"], r["plugins"]);
}

#[test]
fn a_folder_of_plugins_checks_each_as_a_plugin() {
    let (code, r) = validate_json(&repo_root(), &[FIXTURES]);
    assert_eq!(code, 1);
    assert_eq!(r["plugins"].as_array().unwrap().len(), case_dirs().len());
    let reviewer = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == format!("{FIXTURES}/no-frontmatter/agents/reviewer.md"))
        .unwrap();
    assert_eq!(reviewer["loads"], true, "{reviewer:#}");
    assert_eq!(reviewer["name"], "no-frontmatter:reviewer");
}
