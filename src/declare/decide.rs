//! What to do about a declaration as read: the pure decision ([`decide`]) and the validation it
//! rests on ([`validate`]), the one authority on what a declaration may say (the CLI mirrors it).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use sha2::{Digest, Sha256};

use crate::domain::limits::{
    BACKDATE, CLOCK_SKEW, MAX_DECLARED_BY, MAX_DECLARED_MINUTES, MAX_REASON,
};
use crate::domain::{AccountId, Declaration, SourceCidr};
use crate::ports::{DeclarationRequest, Window};
use crate::sanitize::{plain_token, untrusted_line};

/// Whether an announcement is about a new declaration or an edited one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new declaration; `supersedes` the id of the account's window it replaces.
    New { supersedes: Option<String> },
    /// The same declaration with other content: the window as it was announced.
    Changed(Box<Declaration>),
}

/// What one doorbell comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing to announce: no item (a TTL removal or a forged doorbell), or already announced.
    Nothing { why: &'static str },
    /// The declaration is refused; `ends` the account's open window, which it was meant to change.
    AnnounceInvalid {
        problem: String,
        digest: String,
        ends: Option<Window>,
    },
    /// The announced declaration was ended early: no announcement, the window closes.
    End { window: Window, at: DateTime<Utc> },
    /// Announce, then open (unless `over`: its time has already passed).
    Announce {
        window: Window,
        change: Change,
        over: bool,
    },
}

/// Decides what `request` (for `account`, read now) does given the account's announced window.
pub fn decide(
    account: &AccountId,
    request: Option<&DeclarationRequest>,
    current: Option<&Window>,
    now: DateTime<Utc>,
) -> Step {
    let Some(request) = request else {
        return Step::Nothing {
            why: "no declaration item: removed by its TTL, or a doorbell for nothing",
        };
    };
    let declaration = match validate(account, request, now) {
        Ok(declaration) => declaration,
        Err(problem) => {
            let ends = current.filter(|w| w.declaration.closes() > now).cloned();
            return Step::AnnounceInvalid {
                problem,
                digest: raw_digest(request),
                ends,
            };
        }
    };
    let digest = digest(&declaration, request);
    let mut declaration = declaration;
    if let Some(standing) = current.filter(|w| w.declaration.id != declaration.id) {
        // A new declaration replaces the standing one from when it starts; one written to start
        // no later (a hand-written item, a clock behind) starts a second after it, so that it can
        // open at all (a window only gives way to one that starts later). The digest keeps the
        // declared start, so a re-read is still the same declaration.
        let after = standing.declaration.start + TimeDelta::seconds(1);
        if declaration.start < after {
            if after >= declaration.end {
                return Step::AnnounceInvalid {
                    problem: format!(
                        "its window ends before declaration {}, which it would replace, starts",
                        standing.declaration.id
                    ),
                    digest: raw_digest(request),
                    ends: current.filter(|w| w.declaration.closes() > now).cloned(),
                };
            }
            declaration.start = after;
        }
    }
    match current {
        Some(window) if window.digest == digest && window.declaration.id == declaration.id => {
            match (declaration.ended_at, window.declaration.ended_at) {
                (Some(at), None) => Step::End {
                    window: window.clone(),
                    at,
                },
                _ => Step::Nothing {
                    why: "already announced",
                },
            }
        }
        current => {
            let change = match current {
                Some(previous) if previous.declaration.id == declaration.id => {
                    Change::Changed(Box::new(previous.declaration.clone()))
                }
                other => Change::New {
                    supersedes: other.map(|w| w.declaration.id.clone()),
                },
            };
            let over = declaration.closes() <= now;
            let open = current.filter(|w| w.declaration.closes() > now);
            if over && let Some(standing) = open {
                // It replaced the item of a window in effect, which can then no longer be ended
                // through it: the window ends now, as for an invalid write.
                return Step::AnnounceInvalid {
                    problem: format!(
                        "its window had passed when it was read, and it replaced declaration {}",
                        standing.declaration.id
                    ),
                    digest: raw_digest(request),
                    ends: Some(standing.clone()),
                };
            }
            Step::Announce {
                window: Window {
                    declaration,
                    digest,
                },
                change,
                over,
            }
        }
    }
}

fn epoch(seconds: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(seconds, 0).single()
}

fn is_account(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Validates a declaration read for `account` at `now`; the problem, said for people, if not.
pub fn validate(
    account: &AccountId,
    request: &DeclarationRequest,
    now: DateTime<Utc>,
) -> Result<Declaration, String> {
    if let Some(name) = request.malformed.first() {
        return Err(format!("attribute {name} has the wrong type"));
    }
    let key_account = request.pk.strip_prefix("declaration#").unwrap_or_default();
    if key_account != account.as_str() || !is_account(key_account) {
        return Err("the key is not declaration# and a 12-digit account id".into());
    }
    if request.account_id.as_deref() != Some(key_account) {
        return Err("account_id is not the account of the key".into());
    }
    let id = request.declaration_id.as_deref().unwrap_or_default();
    if !(1..=64).contains(&id.len())
        || !id
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b'-'))
    {
        return Err("declaration_id is not 1-64 characters of 0-9, a-f and -".into());
    }
    let (Some(start), Some(end)) = (
        request.window_start.and_then(epoch),
        request.window_end.and_then(epoch),
    ) else {
        return Err("window_start and window_end must both be times (epoch seconds)".into());
    };
    if start > now + CLOCK_SKEW {
        return Err(format!(
            "window_start is in the future; a declaration starts when it is written (within {} minutes)",
            CLOCK_SKEW.as_secs() / 60
        ));
    }
    if end <= start {
        return Err("window_end is not after window_start".into());
    }
    if end - start > TimeDelta::minutes(MAX_DECLARED_MINUTES) {
        return Err(format!(
            "the window is {} minutes long; at most {MAX_DECLARED_MINUTES} may be declared at once",
            (end - start).num_minutes()
        ));
    }
    let reason = untrusted_line(
        request.declared_reason.as_deref().unwrap_or_default(),
        MAX_REASON,
    );
    if reason.is_empty() {
        return Err("declared_reason is empty".into());
    }
    let by = untrusted_line(
        request.declared_by.as_deref().unwrap_or_default(),
        MAX_DECLARED_BY,
    );
    if by.is_empty() {
        return Err("declared_by is empty".into());
    }
    let caller_arn = request
        .caller_arn
        .as_deref()
        .map(|arn| plain_token(arn, 200))
        .filter(|arn| !arn.is_empty());
    let source = match request.source_cidr.as_deref() {
        None => None,
        Some(text) => Some(SourceCidr::parse(text).map_err(|e| format!("source_cidr: {e}"))?),
    };
    let ended_at = match request.ended_at {
        None => None,
        Some(seconds) => match epoch(seconds) {
            // An end after the window's own end changes nothing.
            Some(at) if at >= start => Some(at.min(end)),
            _ => return Err("ended_at is not within the window".into()),
        },
    };
    let backdated = now - TimeDelta::from_std(BACKDATE).unwrap_or_default();
    Ok(Declaration {
        id: id.to_owned(),
        account: account.clone(),
        start: start.max(backdated),
        end,
        reason,
        by,
        caller_arn,
        source,
        ended_at,
        superseded_at: None,
    })
}

/// The first 16 hex digits of a SHA-256 over `parts`, each length-prefixed.
fn hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a valid declaration announces, but its end: the declared start (not the backdated one,
/// which moves with the clock), so a re-read has the same digest and any edit another.
pub fn digest(declaration: &Declaration, request: &DeclarationRequest) -> String {
    let start = request.window_start.unwrap_or_default().to_string();
    let end = declaration.end.timestamp().to_string();
    let source = declaration
        .source
        .map(|s| s.to_string())
        .unwrap_or_default();
    hash(&[
        &declaration.id,
        declaration.account.as_str(),
        &start,
        &end,
        &declaration.reason,
        &declaration.by,
        declaration.caller_arn.as_deref().unwrap_or_default(),
        &source,
    ])
}

/// An invalid declaration's digest, over its raw attributes.
fn raw_digest(request: &DeclarationRequest) -> String {
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    hash(&[
        &request.pk,
        request.declaration_id.as_deref().unwrap_or_default(),
        request.account_id.as_deref().unwrap_or_default(),
        &number(request.window_start),
        &number(request.window_end),
        request.declared_reason.as_deref().unwrap_or_default(),
        request.declared_by.as_deref().unwrap_or_default(),
        request.caller_arn.as_deref().unwrap_or_default(),
        request.source_cidr.as_deref().unwrap_or_default(),
        &number(request.ended_at),
        &request.malformed.join(","),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    const NOW: &str = "2026-11-21T09:00:00Z";

    fn account() -> AccountId {
        AccountId::parse("111122223333").unwrap()
    }

    fn request() -> DeclarationRequest {
        DeclarationRequest {
            pk: "declaration#111122223333".into(),
            declaration_id: Some("0f3b2c4d1a2b4c3d8e9fa1b2c3d4e5f6".into()),
            account_id: Some("111122223333".into()),
            window_start: Some(at(NOW).timestamp()),
            window_end: Some(at("2026-11-21T10:00:00Z").timestamp()),
            declared_reason: Some("Close support case 42".into()),
            declared_by: Some("alice".into()),
            caller_arn: Some("arn:aws:sts::111122223333:assumed-role/BreakGlass/alice".into()),
            source_cidr: Some("192.0.2.0/24".into()),
            ended_at: None,
            malformed: Vec::new(),
        }
    }

    fn announced(request: &DeclarationRequest) -> Window {
        match decide(&account(), Some(request), None, at(NOW)) {
            Step::Announce { window, .. } => window,
            other => panic!("{other:?}"),
        }
    }

    /// A new declaration written to start no later than the standing one starts just after it,
    /// so that its window can open; a re-read of it is the same declaration.
    #[test]
    fn a_new_declaration_starts_after_the_one_it_replaces() {
        let standing = announced(&request());
        let mut next = request();
        next.declaration_id = Some("d2".into());
        let step = decide(&account(), Some(&next), Some(&standing), at(NOW));
        let Step::Announce { window, change, .. } = step else {
            panic!("{step:?}");
        };
        assert_eq!(
            window.declaration.start,
            standing.declaration.start + TimeDelta::seconds(1)
        );
        assert_eq!(
            change,
            Change::New {
                supersedes: Some(standing.declaration.id.clone())
            }
        );
        assert!(matches!(
            decide(&account(), Some(&next), Some(&window), at(NOW)),
            Step::Nothing { .. }
        ));

        next.window_end = Some(at(NOW).timestamp());
        next.window_start = Some(at(NOW).timestamp() - 60);
        assert!(matches!(
            decide(&account(), Some(&next), Some(&standing), at(NOW)),
            Step::AnnounceInvalid { ends: Some(_), .. }
        ));
    }

    #[test]
    fn a_valid_declaration_is_announced_new_then_nothing_then_ended() {
        let request = request();
        let step = decide(&account(), Some(&request), None, at(NOW));
        assert!(
            matches!(
                &step,
                Step::Announce {
                    change: Change::New { supersedes: None },
                    over: false,
                    ..
                }
            ),
            "{step:?}"
        );
        let window = announced(&request);
        assert_eq!(
            decide(&account(), Some(&request), Some(&window), at(NOW)),
            Step::Nothing {
                why: "already announced"
            }
        );
        let mut ended = request.clone();
        ended.ended_at = Some(at("2026-11-21T09:20:00Z").timestamp());
        assert!(matches!(
            decide(&account(), Some(&ended), Some(&window), at(NOW)),
            Step::End { .. }
        ));
        assert!(matches!(
            decide(&account(), None, Some(&window), at(NOW)),
            Step::Nothing { .. }
        ));
    }

    #[test]
    fn an_edit_is_announced_as_changed_and_another_id_supersedes() {
        let window = announced(&request());
        let mut edited = request();
        edited.declared_reason = Some("Close support case 43".into());
        assert!(matches!(
            decide(&account(), Some(&edited), Some(&window), at(NOW)),
            Step::Announce {
                change: Change::Changed(_),
                ..
            }
        ));
        let mut other = request();
        other.declaration_id = Some("abc".into());
        let step = decide(&account(), Some(&other), Some(&window), at(NOW));
        assert!(
            matches!(&step, Step::Announce { change: Change::New { supersedes: Some(id) }, .. } if id == "0f3b2c4d1a2b4c3d8e9fa1b2c3d4e5f6"),
            "{step:?}"
        );
    }

    /// The digest keys the announcement's claim for a week: it must not change between builds.
    #[test]
    fn the_digest_is_stable_and_ignores_the_end_and_the_clock() {
        let window = announced(&request());
        assert_eq!(window.digest, "67a29b23f2df9970");
        let mut ended = request();
        ended.ended_at = Some(at("2026-11-21T09:20:00Z").timestamp());
        let later = at("2026-11-21T09:40:00Z");
        match decide(&account(), Some(&ended), None, later) {
            Step::Announce { window: w, .. } => assert_eq!(w.digest, window.digest),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_declarations_say_why_and_end_the_open_window() {
        let window = announced(&request());
        type Edit = fn(&mut DeclarationRequest);
        let cases: [(&str, Edit); 12] = [
            ("wrong type", |r| r.malformed = vec!["window_end".into()]),
            ("key", |r| r.pk = "declaration#444455556666".into()),
            ("account_id", |r| r.account_id = Some("444455556666".into())),
            ("declaration_id", |r| {
                r.declaration_id = Some("ID WITH SPACES".into())
            }),
            ("declaration_id", |r| r.declaration_id = Some("ABC".into())),
            ("future", |r| {
                r.window_start = Some(at("2026-11-21T09:06:00Z").timestamp())
            }),
            ("not after", |r| r.window_end = r.window_start),
            ("480", |r| {
                r.window_end = Some(at("2026-11-21T19:00:00Z").timestamp())
            }),
            ("declared_reason", |r| {
                r.declared_reason = Some(" \n\u{202e} ".into())
            }),
            ("declared_by", |r| r.declared_by = None),
            ("source_cidr", |r| r.source_cidr = Some("0.0.0.0/0".into())),
            ("ended_at", |r| r.ended_at = Some(0)),
        ];
        for (problem, edit) in cases {
            let mut request = request();
            edit(&mut request);
            match decide(&account(), Some(&request), Some(&window), at(NOW)) {
                Step::AnnounceInvalid {
                    problem: said,
                    ends,
                    ..
                } => {
                    assert!(said.contains(problem), "{problem}: {said}");
                    assert_eq!(ends.as_ref(), Some(&window));
                }
                other => panic!("{problem}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_late_announcement_is_backdated_at_most_and_a_past_one_is_over() {
        let mut request = request();
        request.window_start = Some(at("2026-11-21T08:00:00Z").timestamp());
        let window = announced(&request);
        assert_eq!(window.declaration.start, at("2026-11-21T08:45:00Z"));
        match decide(&account(), Some(&request), None, at("2026-11-21T10:00:00Z")) {
            Step::Announce { over, .. } => assert!(over),
            other => panic!("{other:?}"),
        }
    }

    /// A past declaration that replaces the item of a window in effect ends that window: it
    /// cannot be ended through its item any more.
    #[test]
    fn a_past_declaration_ends_the_window_it_replaced() {
        let standing = announced(&request());
        let mut past = request();
        past.declaration_id = Some("d2".into());
        past.window_start = Some(at("2026-11-21T09:05:00Z").timestamp());
        past.window_end = Some(at("2026-11-21T09:08:00Z").timestamp());
        match decide(
            &account(),
            Some(&past),
            Some(&standing),
            at("2026-11-21T09:10:00Z"),
        ) {
            Step::AnnounceInvalid {
                ends: Some(w),
                problem,
                ..
            } => {
                assert_eq!(w, standing);
                assert!(problem.contains("had passed"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
        // With no window in effect it is only announced as over.
        match decide(&account(), Some(&past), None, at("2026-11-21T09:10:00Z")) {
            Step::Announce { over, .. } => assert!(over),
            other => panic!("{other:?}"),
        }
    }
}
