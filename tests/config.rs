//! yoyo.ini is read as yoyo 9.0.0 reads it: every file yoyo refuses is
//! refused (exit 2, `config_invalid` or `config_encoding`, naming the file
//! and the line), every file it takes is taken, with the same values.

use std::path::Path;
use std::process::Command;

use crate::support::{mc, venv, write};

/// How yoyo refuses a file, and how we do.
struct Refused {
    code: &'static str,
    /// The file the message names, relative to the project.
    file: &'static str,
    line: usize,
    /// What the Python error yoyo stops on says.
    python: &'static str,
}

struct Case {
    name: &'static str,
    ini: &'static [u8],
    /// `sub/other.ini`, for `%include`.
    other: Option<&'static [u8]>,
    /// `Ok(folder)`: taken, with `sources` naming this folder.
    verdict: Result<&'static str, Refused>,
}

const fn refused(
    code: &'static str,
    file: &'static str,
    line: usize,
    python: &'static str,
) -> Result<&'static str, Refused> {
    Err(Refused {
        code,
        file,
        line,
        python,
    })
}

const CASES: &[Case] = &[
    Case {
        name: "utf-8 bom",
        ini: b"\xef\xbb\xbf[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n",
        other: None,
        verdict: refused("config_encoding", "yoyo.ini", 1, "MissingSectionHeaderError"),
    },
    Case {
        name: "not utf-8",
        ini: b"[DEFAULT]\n# caf\xe9\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n",
        other: None,
        verdict: refused("config_encoding", "yoyo.ini", 2, "UnicodeDecodeError"),
    },
    Case {
        name: "section header without ]",
        ini: b"[DEFAULT\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 1, "MissingSectionHeaderError"),
    },
    Case {
        name: "other section header without ]",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n[other\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 4, "ParsingError"),
    },
    Case {
        name: "no section header",
        ini: b"# settings\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 2, "MissingSectionHeaderError"),
    },
    Case {
        name: "unknown %(name)s in sources",
        ini: b"[DEFAULT]\nsources = %(nope)s/db\ndatabase = sqlite:///%(here)s/t.db\n[other]\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 2, "InterpolationMissingOptionError"),
    },
    Case {
        name: "unknown %(name)s in another key, no other section",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\nnote = %(nope)s\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 4, "InterpolationMissingOptionError"),
    },
    Case {
        name: "lone % in another key, no other section",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\nnote = 50%\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 4, "InterpolationSyntaxError"),
    },
    Case {
        name: "lone % in database",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/50%.db\n[other]\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 3, "InterpolationSyntaxError"),
    },
    Case {
        name: "%% in sources, stored back by yoyo",
        ini: b"[DEFAULT]\nsources = db 5%%\ndatabase = sqlite:///%(here)s/t.db\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 2, "invalid interpolation syntax"),
    },
    Case {
        name: "duplicate key",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\nSources = db\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 4, "DuplicateOptionError"),
    },
    Case {
        name: "duplicate key in another section",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n[x]\na = 1\na: 2\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 6, "DuplicateOptionError"),
    },
    Case {
        name: "duplicate section",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n[x]\n[y]\n[x]\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 6, "DuplicateSectionError"),
    },
    Case {
        name: "a line that is no setting",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\nsources db\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 4, "ParsingError"),
    },
    Case {
        name: "batch_mode not a boolean",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\nbatch_mode = maybe\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 4, "Not a boolean"),
    },
    Case {
        name: "missing %include",
        ini: b"[DEFAULT]\n%include = sub/nope.ini\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n",
        other: None,
        verdict: refused("config_invalid", "yoyo.ini", 2, "FileNotFoundError"),
    },
    Case {
        name: "unknown %(name)s in an included file's section",
        ini: b"[DEFAULT]\n%include = sub/other.ini\nsources = db\ndatabase = sqlite:///%(here)s/t.db\n",
        other: Some(b"[DEFAULT]\n[y]\nnote = %(nope)s\n"),
        verdict: refused("config_invalid", "sub/other.ini", 3, "InterpolationMissingOptionError"),
    },
    Case {
        name: "comments, : separators, continuation lines, %(here)s, %%, CRLF",
        ini: b"# yoyo\r\n; settings\r\n[DEFAULT] for yoyo\r\nsources: db\r\n  # comment\r\n\r\n  migrations\r\ndatabase = sqlite:///%(here)s/t%%1.db\r\nverbosity = 0\r\nbatch_mode = ON\r\nmigration_table = t%%%%x\r\nnote = 100%% %(home)s\r\n[DEFAULT]\r\nnote2 = [x\r\n",
        other: None,
        verdict: Ok("db"),
    },
    Case {
        name: "what yoyo does not read may be wrong when there is another section",
        ini: b"[DEFAULT]\nsources = db\ndatabase = sqlite:///%(here)s/t.db\nnote = 50% %(nope)s\n[other]\nsources = %(nope)s\n",
        other: None,
        verdict: Ok("db"),
    },
    Case {
        name: "%include and an optional missing one",
        ini: b"[DEFAULT]\n%include = sub/other.ini ?sub/nope.ini\ndatabase = sqlite:///%(here)s/t.db\n",
        other: Some(b"[DEFAULT]\nsources = db\n"),
        verdict: Ok("db"),
    },
];

/// A project folder holding `case`'s files and empty `db/` and `migrations/`.
fn project(case: &Case) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("db")).unwrap();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(dir.join("yoyo.ini"), case.ini).unwrap();
    if let Some(other) = case.other {
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/other.ini"), other).unwrap();
    }
    tmp
}

/// Our verdict: `Ok(folder)` (what `sources` names), or the error, checked
/// against the case: exit 2, the code, the file and the line.
fn check_ours(case: &Case, dir: &Path) -> bool {
    let run = mc(dir, &["next-number", "--format", "json"]);
    match &case.verdict {
        Ok(folder) => {
            let v = run.code(0).json();
            assert_eq!(v["directory"], *folder, "{}", case.name);
            true
        }
        Err(r) => {
            let v = run.code(2).json();
            let error = &v["error"];
            assert_eq!(error["code"], r.code, "{}: {error:#}", case.name);
            let message = error["message"].as_str().unwrap_or_default();
            let file = dir.join(r.file);
            assert!(
                message.contains(&format!("{}: line {} ", file.display(), r.line))
                    || message.contains(&format!("{}: line {}:", file.display(), r.line)),
                "{}: {message}",
                case.name
            );
            assert!(
                !error["hint"].as_str().unwrap_or_default().is_empty(),
                "{}",
                case.name
            );
            false
        }
    }
}

#[test]
fn yoyo_ini_files_are_taken_or_refused_as_yoyo_9_does() {
    for case in CASES {
        let project = project(case);
        check_ours(case, project.path());
    }
}

#[test]
fn a_bom_is_refused_with_a_hint_to_save_without_it() {
    let project = project(&CASES[0]);
    let v = mc(project.path(), &["next-number", "--format", "json"])
        .code(2)
        .json();
    assert_eq!(v["error"]["code"], "config_encoding");
    assert!(v["error"]["hint"]
        .as_str()
        .unwrap_or_default()
        .contains("without a BOM"));
}

#[test]
fn a_yoyo_ini_in_a_parent_folder_is_checked_too() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        &tmp.path().join("yoyo.ini"),
        "[DEFAULT]\nsources = a\nsources = b\n",
    );
    let app = tmp.path().join("app");
    std::fs::create_dir_all(app.join("migrations")).unwrap();
    let v = mc(&app, &["next-number", "--format", "json"])
        .code(2)
        .json();
    assert_eq!(v["error"]["code"], "config_invalid");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "{}: line 3:",
            tmp.path().join("yoyo.ini").display()
        )),
        "{message}"
    );
}

/// The real yoyo's verdict on the project in `dir`: `yoyo list --batch`
/// reads ./yoyo.ini, as every yoyo command does, with the HOME `mc` gives.
fn yoyo_verdict(dir: &Path) -> Result<(), String> {
    let out = Command::new(venv().join("bin/yoyo"))
        .args(["list", "--batch"])
        .current_dir(dir)
        .env("HOME", dir.join(".test-home"))
        .output()
        .expect("run yoyo");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
#[ignore = "needs yoyo from the virtualenv; scripts/test-all.sh runs it"]
fn yoyo_9_takes_and_refuses_the_same_yoyo_ini_files() {
    for case in CASES {
        let project = project(case);
        let ours = check_ours(case, project.path());
        match (yoyo_verdict(project.path()), &case.verdict) {
            (Ok(()), _) => assert!(ours, "{}: yoyo takes the file, we refuse it", case.name),
            (Err(stderr), Ok(_)) => {
                panic!(
                    "{}: yoyo refuses the file, we take it:\n{stderr}",
                    case.name
                )
            }
            (Err(stderr), Err(r)) => assert!(
                stderr.contains(r.python),
                "{}: yoyo refuses the file for another reason than {}:\n{stderr}",
                case.name,
                r.python
            ),
        }
    }
}
