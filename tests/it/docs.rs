//! What the README and docs quote is what the code does: the severity table in docs/rules.md is
//! the rule table, and the messages they show are the reviewed snapshots and the function's own
//! texts.

use rootwatch::detect::allowances::ALLOWANCES;
use rootwatch::detect::record::DetailType::{ApiCall, SignIn};
use rootwatch::detect::rules::{Condition, Events, RULES};
use rootwatch::domain::{CredentialKind, MfaState};

/// Where each checked text lives, relative to the crate root.
const README: &str = "README.md";
const RULES_DOC: &str = "docs/rules.md";
const FLOODS_DOC: &str = "docs/dedup-and-floods.md";
const ORGANIZATIONS_DOC: &str = "docs/organizations.md";
/// The reviewed snapshots the README and docs quote.
const SIGN_IN_SNAPSHOT: &str =
    "tests/snapshots/replay_events__root-console-sign-in-without-mfa.snap";
const FORWARDER_SNAPSHOT: &str = "tests/snapshots/replay_events__forwarder-failing.snap";

fn doc_path(name: &str) -> String {
    format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn read_doc(name: &str) -> String {
    std::fs::read_to_string(doc_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The generated table sits between a line that opens with this (the rest of the line says where
/// the table comes from) and the end marker.
const BEGIN: &str = "<!-- rules:begin";
const END: &str = "<!-- rules:end -->";

/// The "Severity rules" table of docs/rules.md, generated from the rule table.
fn markdown_table() -> String {
    let mut out = String::from(
        "| # | Rule | `kind` | Event | When | Severity | Headline | Reference |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (i, rule) in RULES.iter().enumerate() {
        let detail = match rule.detail {
            SignIn => "sign-in",
            ApiCall => "API call",
        };
        let source = rule
            .source
            .map(|s| s.trim_end_matches(".amazonaws.com"))
            .unwrap_or("any");
        // A row of several events names each beside its headline.
        let (event, headlines) = match rule.events {
            Events::Any(headline) => (
                format!("{detail} `{source}`: any"),
                format!("{}: `service:Name`", headline.done),
            ),
            Events::Named([(name, headline)]) => (
                format!("{detail} `{source}`: `{name}`"),
                headline.done.to_owned(),
            ),
            Events::Named(named) => (
                format!("{detail} `{source}`"),
                named
                    .iter()
                    .map(|(name, headline)| format!("`{name}`: {}", headline.done))
                    .collect::<Vec<_>>()
                    .join("<br>"),
            ),
        };
        let when = if rule.when.is_empty() {
            "—".to_owned()
        } else {
            rule.when
                .iter()
                .map(|c| describe(*c))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let reference = rule
            .reference
            .rsplit('/')
            .find(|part| !part.is_empty())
            .unwrap_or(rule.reference);
        out.push_str(&format!(
            "| {} | `{}` | `{}` | {event} | {when} | {} | {headlines} | [{reference}]({}) |\n",
            i + 1,
            rule.id,
            rule.kind.as_str(),
            rule.severity.as_str(),
            rule.reference,
        ));
    }
    out
}

/// How the README describes a condition of a rule.
fn describe(condition: Condition) -> &'static str {
    match condition {
        Condition::OnRootItself => "no `userName` (root's own credentials)",
        Condition::Failed => "failed",
        Condition::Succeeded => "succeeded",
        Condition::Mfa(MfaState::Used) => "MFA used",
        Condition::Mfa(MfaState::NotUsed) => "MFA not used",
        Condition::Mfa(MfaState::Unknown) => "MFA not recorded",
        Condition::ReadOnly => "read-only",
        Condition::Credential(CredentialKind::LongTermKey) => "long-term key `AKIA…`, no session",
        Condition::Credential(CredentialKind::ConsoleSession) => "console session",
        Condition::Credential(CredentialKind::AssumeRoot) => "`sts:AssumeRoot` session",
        Condition::Credential(CredentialKind::TemporaryKey) => "other temporary credentials",
        Condition::Credential(CredentialKind::Password) => "password",
        Condition::Credential(CredentialKind::NoCredential) => "no credential",
        Condition::Credential(CredentialKind::RecoveryLink) => "the mailed reset link",
        Condition::Credential(CredentialKind::Unknown) => "unknown credentials",
    }
}

/// The severity table in docs/rules.md is the rule table, row for row. Run with
/// `ROOTWATCH_WRITE_README=1` to rewrite it from `src/detect/rules.rs`, then review the diff.
#[test]
fn the_severity_table_is_the_rule_table() {
    let doc = read_doc(RULES_DOC);
    let marker = doc
        .find(BEGIN)
        .expect("docs/rules.md has the rules:begin marker");
    let start = marker
        + doc[marker..]
            .find('\n')
            .expect("the rules:begin marker ends its line")
        + 1;
    let end = start
        + doc[start..]
            .find(END)
            .expect("docs/rules.md has the rules:end marker");
    let expected = markdown_table();
    if doc[start..end] != expected && std::env::var_os("ROOTWATCH_WRITE_README").is_some() {
        std::fs::write(
            doc_path(RULES_DOC),
            format!("{}{expected}{}", &doc[..start], &doc[end..]),
        )
        .expect("write docs/rules.md");
        return;
    }
    assert_eq!(
        doc[start..end],
        expected,
        "docs/rules.md's severity table differs from src/detect/rules.rs; run \
         ROOTWATCH_WRITE_README=1 cargo test --test it docs:: and review the diff"
    );
}

/// The text between the line that opens with `begin` (the rest of that line says where the
/// text comes from) and `end`, in `doc`: its start and end.
fn between(doc: &str, begin: &str, end: &str) -> (usize, usize) {
    let marker = doc
        .find(begin)
        .unwrap_or_else(|| panic!("no {begin} marker"));
    let start = marker
        + doc[marker..]
            .find('\n')
            .unwrap_or_else(|| panic!("the {begin} marker ends its line"))
        + 1;
    let stop = start
        + doc[start..]
            .find(end)
            .unwrap_or_else(|| panic!("no {end} marker"));
    (start, stop)
}

/// The "Allowances" table of docs/rules.md, generated from the allowance table.
fn allowances_table() -> String {
    let mut out = String::from(
        "| Allowance | Task policy | Calls | Lowers to | Shown as | Reference |\n\
         |---|---|---|---|---|---|\n",
    );
    for row in ALLOWANCES {
        let policy = row
            .task_policy
            .rsplit('/')
            .next()
            .unwrap_or(row.task_policy);
        let calls = row
            .calls
            .iter()
            .map(|(source, name)| format!("`{}:{name}`", source.trim_end_matches(".amazonaws.com")))
            .collect::<Vec<_>>()
            .join(", ");
        let reference = row
            .reference
            .rsplit('/')
            .find(|part| !part.is_empty())
            .unwrap_or(row.reference);
        out.push_str(&format!(
            "| `{}` | [`{policy}`](https://docs.aws.amazon.com/aws-managed-policy/latest/reference/{policy}.html) | {calls} | {} | {} | [{reference}]({}) |\n",
            row.id,
            row.lowers_to.as_str(),
            row.reason,
            row.reference,
        ));
    }
    out
}

/// The "Allowances" table in docs/rules.md is the allowance table, row for row. Run with
/// `ROOTWATCH_WRITE_README=1` to rewrite it from `src/detect/allowances.rs`, then review the diff.
#[test]
fn the_allowances_table_is_the_allowance_rows() {
    let doc = read_doc(RULES_DOC);
    let (start, end) = between(&doc, "<!-- allowances:begin", "<!-- allowances:end -->");
    let expected = allowances_table();
    if doc[start..end] != expected && std::env::var_os("ROOTWATCH_WRITE_README").is_some() {
        std::fs::write(
            doc_path(RULES_DOC),
            format!("{}{expected}{}", &doc[..start], &doc[end..]),
        )
        .expect("write docs/rules.md");
        return;
    }
    assert_eq!(
        doc[start..end],
        expected,
        "docs/rules.md's allowances table differs from src/detect/allowances.rs; run \
         ROOTWATCH_WRITE_README=1 cargo test --test it docs:: and review the diff"
    );
}

/// The SMS and email shown in the README are the reviewed snapshot, word for word.
#[test]
fn the_quoted_sign_in_alert_is_the_reviewed_snapshot() {
    let readme = read_doc(README);
    let snapshot = read_doc(SIGN_IN_SNAPSHOT);
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

/// The notices that texts are paused, as docs/dedup-and-floods.md quotes them (one for root
/// activity, one for sign-in attempts), are what the function sends.
#[test]
fn the_quoted_pause_notices_are_the_functions() {
    use rootwatch::domain::{Account, AccountId, AccountName, Severity, SmsLimit, TextBucket};
    use rootwatch::render::sms::render_pause_notice;
    let doc = read_doc(FLOODS_DOC);
    let account = Account {
        id: AccountId::parse("111122223333"),
        name: AccountName::parse("prod-payments").ok(),
    };
    let now = "2026-11-21T09:30:00Z".parse().unwrap();
    for (bucket, severity) in [
        (TextBucket::RootActivity, Severity::Critical),
        (TextBucket::SignInAttempts, Severity::High),
    ] {
        let ceiling = rootwatch::ports::TextCeiling::new("111122223333", bucket, 10, now);
        let notice = render_pause_notice(
            &account,
            bucket,
            severity,
            ceiling.limit,
            ceiling.until(),
            SmsLimit::WHOLE_SEGMENT,
        );
        assert!(
            doc.contains(&format!("`{}`", notice.as_str())),
            "{FLOODS_DOC}'s notice differs: {notice}"
        );
    }
}

/// The kinds docs/dedup-and-floods.md counts as sign-in attempts (what anyone can cause without
/// a credential, with a text ceiling of their own) are the code's.
#[test]
fn the_kinds_anyone_can_cause_are_the_codes() {
    use rootwatch::domain::AlertKind;
    let kinds: Vec<String> = AlertKind::ALL
        .into_iter()
        .filter(|kind| kind.anyone_can_cause())
        .map(|kind| format!("`{}`", kind.as_str()))
        .collect();
    let listed = match kinds.split_last() {
        Some((last, [])) => format!("kind {last}"),
        Some((last, rest)) => format!("kinds {} and {last}", rest.join(", ")),
        None => panic!("no kind anyone can cause"),
    };
    let doc = read_doc(FLOODS_DOC);
    assert!(
        doc.contains(&listed),
        "{FLOODS_DOC} should list the sign-in attempts as: {listed}"
    );
}

/// The `forwarder-failing` SMS docs/organizations.md quotes is the reviewed snapshot's.
#[test]
fn the_quoted_forwarder_failing_sms_is_the_reviewed_snapshot() {
    let doc = read_doc(ORGANIZATIONS_DOC);
    let snapshot = read_doc(FORWARDER_SNAPSHOT);
    let sms = snapshot
        .split("--- sms")
        .nth(1)
        .and_then(|rest| rest.lines().nth(1))
        .expect("the snapshot has an SMS");
    assert!(
        doc.contains(&format!("`{sms}`")),
        "{ORGANIZATIONS_DOC}'s forwarder-failing SMS differs: {sms}"
    );
}

/// What still texts during a declaration, as docs/declaring.md lists it, is every CRITICAL row
/// of the rule table, in its order (the announcement lists the same, from the same rows).
#[test]
fn the_rules_that_still_text_when_declared_are_the_critical_rows() {
    const DECLARING_DOC: &str = "docs/declaring.md";
    let doc = read_doc(DECLARING_DOC);
    let (_, rest) = doc
        .split_once("<!-- still-texted:begin -->\n")
        .expect("docs/declaring.md has the still-texted:begin marker");
    let (listed, _) = rest
        .split_once("\n<!-- still-texted:end -->")
        .expect("docs/declaring.md has the still-texted:end marker");
    let critical: Vec<String> = RULES
        .iter()
        .filter(|rule| rule.severity == rootwatch::domain::Severity::Critical)
        .map(|rule| format!("`{}`", rule.id))
        .collect();
    assert_eq!(listed, critical.join(", "));
    let announced: Vec<String> = rootwatch::declare::render::still_texted()
        .iter()
        .map(|id| format!("`{id}`"))
        .collect();
    assert_eq!(announced, critical);
}
