//! What the README quotes is what the code does: the severity table is the rule table, and the
//! messages it shows are the reviewed snapshots and the function's own texts.

use rootwatch::detect::rules::markdown_table;

/// The README, which holds the severity table and quotes the messages.
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
/// The reviewed snapshots the README quotes.
const SIGN_IN_SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/snapshots/replay_events__root-console-sign-in-without-mfa.snap"
);
const FORWARDER_SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/snapshots/replay_events__forwarder-failing.snap"
);

/// The generated table sits between a line that opens with this (the rest of the line says where
/// the table comes from) and the end marker.
const BEGIN: &str = "<!-- rules:begin";
const END: &str = "<!-- rules:end -->";

fn readme() -> String {
    std::fs::read_to_string(README).unwrap_or_else(|e| panic!("{README}: {e}"))
}

/// The README's severity table is the rule table, row for row. Run with
/// `ROOTWATCH_WRITE_README=1` to rewrite it from `src/detect/rules.rs`, then review the diff.
#[test]
fn the_severity_table_is_the_rule_table() {
    let readme = readme();
    let marker = readme
        .find(BEGIN)
        .expect("README has the rules:begin marker");
    let start = marker
        + readme[marker..]
            .find('\n')
            .expect("the rules:begin marker ends its line")
        + 1;
    let end = start
        + readme[start..]
            .find(END)
            .expect("README has the rules:end marker");
    let expected = markdown_table();
    if readme[start..end] != expected && std::env::var_os("ROOTWATCH_WRITE_README").is_some() {
        std::fs::write(
            README,
            format!("{}{expected}{}", &readme[..start], &readme[end..]),
        )
        .expect("write README.md");
        return;
    }
    assert_eq!(
        readme[start..end],
        expected,
        "README's severity table differs from src/detect/rules.rs; run \
         ROOTWATCH_WRITE_README=1 cargo test --test it docs:: and review the diff"
    );
}

/// The SMS and email shown in the README are the reviewed snapshot, word for word.
#[test]
fn the_quoted_sign_in_alert_is_the_reviewed_snapshot() {
    let readme = readme();
    let snapshot = std::fs::read_to_string(SIGN_IN_SNAPSHOT).expect("snapshot");
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

/// The notice that texts are paused, as the README quotes it, is what the function sends.
#[test]
fn the_quoted_pause_notice_is_the_functions() {
    use rootwatch::config::{AccountId, AccountName};
    use rootwatch::detect::alert::Account;
    use rootwatch::render::sms::{SmsLimit, render_pause_notice};
    let readme = readme();
    let account = Account {
        id: AccountId::parse("111122223333"),
        name: AccountName::parse("prod-payments").ok(),
    };
    let until = "2026-11-21T10:00:00Z".parse().unwrap();
    let notice = render_pause_notice(&account, 10, until, SmsLimit::WHOLE_SEGMENT);
    assert!(
        readme.contains(&format!("`{}`", notice.as_str())),
        "README's notice differs: {notice}"
    );
}

/// The `forwarder-failing` SMS the README quotes is the reviewed snapshot's.
#[test]
fn the_quoted_forwarder_failing_sms_is_the_reviewed_snapshot() {
    let readme = readme();
    let snapshot = std::fs::read_to_string(FORWARDER_SNAPSHOT).expect("snapshot");
    let sms = snapshot
        .split("--- sms")
        .nth(1)
        .and_then(|rest| rest.lines().nth(1))
        .expect("the snapshot has an SMS");
    assert!(
        readme.contains(&format!("`{sms}`")),
        "README's forwarder-failing SMS differs: {sms}"
    );
}
