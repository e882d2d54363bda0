//! The README's console blocks for the example project are what the commands
//! print: each `$ migration-creator ... -C examples/chatbot ...` line is run
//! on a fresh copy of the example and its output compared with the block.
//! In JSON, a string ending in `...` matches any string it starts, and a
//! `"...": "..."` entry stands for the fields the README folds away.

use std::path::Path;
use std::process::Command;

use crate::support::{bin, copy_dir, repo_root, shell_words};

fn matches(expected: &serde_json::Value, actual: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (expected, actual) {
        (Value::String(e), Value::String(a)) if e.ends_with("...") => {
            a.starts_with(e.trim_end_matches("..."))
        }
        (Value::String(e), _) if e == "..." => true,
        (Value::Object(e), Value::Object(a)) => {
            let folded = e.contains_key("...");
            e.iter()
                .filter(|(k, _)| k.as_str() != "...")
                .all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av)))
                && (folded || a.keys().all(|k| e.contains_key(k)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        (e, a) => e == a,
    }
}

#[test]
fn readme_outputs_for_the_example_are_what_the_commands_print() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let mut checked = 0;
    let mut state: Option<(String, tempfile::TempDir)> = None;
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("\n```").next().unwrap();
        let joined = block.replace("\\\n", " ");
        let mut lines = joined.lines().peekable();
        while let Some(line) = lines.next() {
            let Some(cmd) = line.strip_prefix("$ ") else {
                continue;
            };
            let mut output = Vec::new();
            while let Some(next) = lines.peek() {
                if next.starts_with("$ ") {
                    break;
                }
                output.push(lines.next().unwrap());
            }
            let args = shell_words(cmd);
            if args.first().map(String::as_str) != Some("migration-creator")
                || !cmd.contains("-C examples/chatbot")
                || args[1] == "doctor"
            {
                continue;
            }
            // The same command again runs on the state the first one left.
            let dir = match state.take() {
                Some((prev, dir)) if prev == cmd => dir,
                _ => {
                    let dir = tempfile::tempdir().unwrap();
                    copy_dir(
                        &repo_root().join("examples/chatbot"),
                        &dir.path().join("examples/chatbot"),
                    );
                    dir
                }
            };
            let out = Command::new(bin())
                .args(&args[1..])
                .current_dir(dir.path())
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            let actual = String::from_utf8_lossy(&out.stdout).into_owned();
            let expected = output.join("\n");
            match serde_json::from_str::<serde_json::Value>(&expected) {
                Ok(e) => {
                    let a: serde_json::Value = serde_json::from_str(&actual)
                        .unwrap_or_else(|err| panic!("{cmd}: not JSON ({err}):\n{actual}"));
                    assert!(
                        matches(&e, &a),
                        "README differs for `{cmd}`\nREADME:\n{expected}\nactual:\n{actual}"
                    );
                }
                Err(_) => assert_eq!(
                    actual.trim_end(),
                    expected.trim_end(),
                    "README differs for `{cmd}`"
                ),
            }
            checked += 1;
            state = Some((cmd.to_string(), dir));
        }
    }
    assert!(checked >= 5, "checked {checked} README commands");
    let _ = Path::new(".");
}
