//! Any bytes at all give a report, never a panic, and the report is
//! consistent: a file "loads" exactly when it has no error.

use migration_creator::agent_file::diagnostic::Severity;
use migration_creator::agent_file::rules::check;
use proptest::prelude::*;

fn yamlish() -> impl Strategy<Value = String> {
    // Fragments that stress the frontmatter cutter, the YAML parser and the
    // lenient retry: fences, indicators, tabs, CR, anchors, aliases, nesting.
    let fragment = prop::sample::select(vec![
        "---",
        "\n",
        "\r\n",
        "\t",
        " ",
        "name",
        "description",
        "tools",
        "hooks",
        "model",
        ":",
        ": ",
        "-",
        "- ",
        "[",
        "]",
        "{",
        "}",
        "&a",
        "*a",
        "#",
        "!",
        "|",
        ">",
        "%",
        "@",
        "`",
        "'",
        "\"",
        "\\",
        "a",
        "Read",
        "Bash(",
        ")",
        ",",
        "yes",
        "1",
        "\u{feff}",
        "\u{ff1a}",
        "\u{0}",
        "\u{2028}",
        "é",
    ]);
    prop::collection::vec(fragment, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let c = check("x", &bytes);
        prop_assert!(c.diagnostics.iter().all(|d| d.line >= 1 && d.column >= 1));
    }

    #[test]
    fn frontmatter_like_text_never_panics(body in yamlish(), prefix in prop::bool::ANY) {
        let text = if prefix { format!("---\n{body}") } else { body };
        let c = check("x", text.as_bytes());
        let lines = text.split('\n').count();
        for d in &c.diagnostics {
            prop_assert!(d.line >= 1 && d.line <= lines + 1, "{:?} in {:?}", d, text);
        }
        if c.name.is_some() {
            prop_assert!(c.diagnostics.iter().all(|d| d.code != "missing_name" && d.code != "invalid_name"));
        }
        let _ = c.diagnostics.iter().any(|d| d.severity == Severity::Error);
    }
}

#[test]
fn hostile_inputs_give_diagnostics() {
    // Deep nesting and an alias bomb under a key the client ignores still load.
    let deep = format!(
        "---\nname: x\ndescription: d\nx: {}{}\n---\nbody\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let c = check("x", deep.as_bytes());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let mut bomb = String::from(
        "---\nname: x\ndescription: d\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        bomb.push_str(&format!(
            "x{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(", ")
        ));
    }
    bomb.push_str("---\nbody\n");
    assert!(!check("x", bomb.as_bytes()).has_errors());
    // The same bomb in a field the client reads is refused with a diagnostic.
    let in_tools = bomb.replace("x9: &a9", "tools: &a9");
    let c = check("x", in_tools.as_bytes());
    assert!(!c.diagnostics.is_empty());
    // Binary data.
    let c = check("x", &[0u8, 159, 146, 150, 255, 0, 1]);
    assert!(c.has_errors());
}
