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
