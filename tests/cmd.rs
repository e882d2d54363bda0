//! CLI cases as files: `tests/cmd/*.toml` (and `*.md` pages of console
//! sessions), each a command line with its expected stdout, stderr and exit
//! code, run by trycmd. They read as documentation; `TRYCMD=overwrite cargo
//! test cmd_cases` refreshes them after a deliberate change.

#[test]
fn cmd_cases() {
    trycmd::TestCases::new()
        .register_bin("migration-creator", crate::support::bin())
        .case("tests/cmd/*.toml")
        .case("tests/cmd/*.md");
}
