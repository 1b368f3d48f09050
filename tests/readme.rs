//! The README's severity table is documentation users rely on: it must match the code.

use rootwatch::classify::AlertKind;

#[test]
fn readme_severity_table_matches_the_rules() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let rows: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("| `") && l.trim_end().ends_with('|'))
        .collect();
    for kind in AlertKind::ALL {
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("| `{}` |", kind.as_str())))
            .unwrap_or_else(|| panic!("README has no severity row for `{}`", kind.as_str()));
        let severity = row
            .trim_end()
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap()
            .trim();
        assert_eq!(severity, kind.base_severity().as_str(), "README row: {row}");
    }
}

/// The SMS and email shown in the README are the reviewed snapshot, word for word.
#[test]
fn readme_example_is_the_reviewed_snapshot() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let snapshot = std::fs::read_to_string(format!(
        "{root}/tests/snapshots/replay_events__root-console-sign-in-without-mfa.snap"
    ))
    .expect("snapshot");
    let section = |title: &str| {
        let start = snapshot.find(title).expect(title) + title.len();
        let rest = &snapshot[start..];
        let body = rest.split_once('\n').map_or(rest, |(_, after)| after);
        body.split("\n--- ")
            .next()
            .unwrap_or(body)
            .trim()
            .to_owned()
    };
    let sms = section("--- sms");
    let subject = section("--- email subject ---");
    let email = section("--- email body ---");
    assert!(
        readme.contains(&sms),
        "README's SMS differs from the snapshot:\n{sms}"
    );
    assert!(
        readme.contains(&format!("subject `{subject}`")),
        "README's subject differs"
    );
    assert!(
        readme.contains(&email),
        "README's email differs from the snapshot:\n{email}"
    );
    let chars = sms.chars().count();
    assert!(readme.contains(&format!("**SMS** ({chars} characters")));
}
