//! The SMS wording. One segment: at most 160 characters of the GSM-7 basic set, one line —
//! including what SNS puts in front of it; the body's budget is what the topic's display name
//! leaves of the segment ([`SmsLimit`]).
//!
//! Only fields that AWS sets or the operator configured appear here: no user agent, user name or
//! request parameter can reach a phone.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};

use crate::detect::alert::{Alert, SourceIp};
use crate::domain::{
    Account, AccountName, AlertKind, CredentialKind, MfaState, Severity, SmsLimit, TextBucket,
    TextPeriod, TextScope, is_gsm7_basic,
};
use crate::render::time::to_the_minute;
use crate::render::{CUT_MARK, Piece, TitleParts};

/// SMS body text that fits one segment after the topic's prefix. Cannot be built otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmsError {
    #[error("{0} characters, more than the {1} left in one segment")]
    TooLong(usize, usize),
    #[error("{0:?} is not in the GSM-7 basic set")]
    NotGsm7(char),
}

impl Sms {
    pub fn new(text: impl Into<String>, limit: SmsLimit) -> Result<Self, SmsError> {
        let text = text.into();
        if let Some(bad) = text.chars().find(|c| !is_gsm7_basic(*c)) {
            return Err(SmsError::NotGsm7(bad));
        }
        let len = text.chars().count();
        if len > limit.body_max() {
            return Err(SmsError::TooLong(len, limit.body_max()));
        }
        Ok(Sms(text))
    }

    /// Forces `text` into the budget: other characters become `?`, and a cut ends in `...`.
    pub fn fit(text: &str, limit: SmsLimit) -> Self {
        let mut out: String = text
            .chars()
            .map(|c| if is_gsm7_basic(c) { c } else { '?' })
            .collect();
        if out.chars().count() > limit.body_max() {
            out = out
                .chars()
                .take(limit.body_max().saturating_sub(CUT_MARK.len()))
                .collect();
            out.push_str(CUT_MARK);
        }
        Sms(out)
    }

    /// As [`Sms::fit`], keeping `text` itself when it already fits.
    pub(crate) fn fit_owned(text: String, limit: SmsLimit) -> Self {
        let mut len = 0;
        let valid = text.chars().all(|c| {
            len += 1;
            is_gsm7_basic(c)
        });
        if valid && len <= limit.body_max() {
            Sms(text)
        } else {
            Self::fit(&text, limit)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `CRITICAL Root console sign-in WITHOUT MFA. Acct prod-payments 111122223333. IP 192.0.2.110.
/// 2026-11-22 03:14 UTC us-east-1`
///
/// When the budget runs short, pieces give way in the order of `GIVE_WAY`: the call where the
/// headline already says what it did (it only repeats it), the account's name, the error code,
/// the end of the call where it is the news, the region, and last the end of the headline. Every
/// cut ends in `...`, and a call or code given way whole leaves `...` in its place. The severity,
/// the account id, the source IP and the time always stay.
pub fn render_sms(alert: &Alert, limit: SmsLimit) -> Sms {
    let max = limit.body_max();
    let mut parts = Parts::of(alert);
    let mut text = compose(alert, &parts);
    for step in GIVE_WAY {
        let over = text.chars().count().saturating_sub(max);
        if over == 0 {
            break;
        }
        if parts.give_way(step, over) {
            text = compose(alert, &parts);
        }
    }
    Sms::fit_owned(text, limit)
}

/// The order in which pieces give way.
const GIVE_WAY: [Piece; 6] = [
    Piece::NamedCall,
    Piece::AccountName,
    Piece::ErrorCode,
    Piece::NewsCall,
    Piece::Region,
    Piece::Headline,
];

/// What the text is made of, as far as it has given way.
struct Parts<'a> {
    title: TitleParts<'a>,
    account_name: Option<&'a str>,
    region: bool,
}

impl<'a> Parts<'a> {
    fn of(alert: &'a Alert) -> Self {
        Parts {
            title: TitleParts::of(alert),
            account_name: alert.account.name.as_ref().map(|n| n.as_str()),
            region: true,
        }
    }

    /// Gives up (some of) `piece` to save `over` characters; whether anything changed.
    fn give_way(&mut self, piece: Piece, over: usize) -> bool {
        match piece {
            Piece::AccountName => self.account_name.take().is_some(),
            Piece::Region => std::mem::replace(&mut self.region, false),
            _ => self.title.give_way(piece, over),
        }
    }
}

/// The SMS text from what is left of its parts, in one buffer.
fn compose(alert: &Alert, parts: &Parts<'_>) -> String {
    let mut text = String::with_capacity(192);
    text.push_str(alert.severity.as_str());
    text.push(' ');
    // Only a CRITICAL declared alert texts; it says so, and never gives way.
    if alert.declaration.declared().is_some() {
        text.push_str("DECLARED ");
    }
    parts.title.write_headline_and_call(&mut text);
    text.push_str(via(alert));
    // A failed attempt's headline already says it failed; the code says how.
    parts.title.write_error_code(&mut text);
    // A cut's mark ends the sentence.
    if !text.ends_with(CUT_MARK) {
        text.push('.');
    }
    text.push_str(mfa(alert));
    text.push_str(" Acct ");
    if let Some(name) = parts.account_name {
        let _ = write!(text, "{name} ");
    }
    text.push_str(alert.account.id_or_unknown());
    if let Some(caller) = &alert.external_caller {
        let _ = write!(text, " by ext root {caller}");
    }
    text.push_str(". IP ");
    match (&alert.source_ip, alert.source_ip.aws_name()) {
        (SourceIp::Ip(_), _) => {
            let _ = write!(text, "{}", alert.source_ip.display());
        }
        (_, Some(aws)) => text.push_str(aws),
        (SourceIp::Missing, _) => text.push_str("unknown"),
        // Not an IP nor a name AWS uses: whatever it is, it stays off the phone.
        (SourceIp::Other(_), None) => text.push_str("in email"),
    }
    text.push_str(". ");
    match alert.event_time {
        Some(time) => {
            let _ = write!(text, "{}", to_the_minute(time));
        }
        None => text.push_str("time unknown"),
    }
    if parts.region {
        text.push(' ');
        text.push_str(&alert.region);
    }
    text
}

fn via(alert: &Alert) -> &'static str {
    if alert.credential == CredentialKind::AssumeRoot && alert.kind != AlertKind::AssumeRootTask {
        " via AssumeRoot"
    } else {
        ""
    }
}

/// MFA for sign-ins whose headline does not already say it. A failed sign-in says nothing of
/// MFA: it may have failed before MFA was asked for.
fn mfa(alert: &Alert) -> &'static str {
    let headline_says_mfa = matches!(
        alert.kind,
        AlertKind::SignInWithMfa | AlertKind::SignInWithoutMfa | AlertKind::SignInMfaNotRecorded
    );
    if !alert.kind.is_sign_in() || headline_says_mfa || !alert.states_mfa() {
        return "";
    }
    match alert.mfa {
        MfaState::Used => " MFA yes.",
        MfaState::NotUsed => " MFA NO.",
        MfaState::Unknown => " MFA unknown.",
    }
}

/// The one text past a ceiling of a [`TextBucket`], sent instead of that alert's own, whose
/// severity it names (the alert itself goes to email and chat), and what is paused until when:
/// root activity for one account until the hour ends, `CRITICAL in email. Root activity texts
/// PAUSED for acct prod-payments 111122223333 until 10:00 UTC (10 sent). Email and chat still
/// get every alert.`; a bucket anyone can fill for every account until the UTC day ends, `HIGH
/// in email. Sign-in attempt texts PAUSED for all accounts until 00:00 UTC (10 sent today). Root
/// activity still texts; email and chat get all.` The account's name gives way first, then the
/// count.
pub fn render_pause_notice(
    account: &Account,
    bucket: TextBucket,
    severity: Severity,
    sent: u32,
    until: DateTime<Utc>,
    limit: SmsLimit,
) -> Sms {
    let compose = |name: Option<&AccountName>, count: bool| {
        let mut text = String::with_capacity(160);
        let _ = write!(
            text,
            "{} in email. {} texts PAUSED for ",
            severity.as_str(),
            bucket.describe()
        );
        match bucket.scope() {
            TextScope::Account => {
                text.push_str("acct ");
                if let Some(name) = name {
                    let _ = write!(text, "{name} ");
                }
                text.push_str(account.id_or_unknown());
            }
            TextScope::AllAccounts => text.push_str("all accounts"),
        }
        let _ = write!(text, " until {} UTC", until.format("%H:%M"));
        if count {
            let _ = write!(
                text,
                " ({sent} sent{})",
                match bucket.period() {
                    TextPeriod::Hour => "",
                    TextPeriod::Day => " today",
                }
            );
        }
        text.push_str(match bucket {
            TextBucket::RootActivity => ". Email and chat still get every alert.",
            // What a stranger or a member account can cause never pauses the root's texts.
            TextBucket::SignInAttempts | TextBucket::ForwarderFailures => {
                ". Root activity still texts; email and chat get all."
            }
        });
        text
    };
    let fits = |text: &String| text.chars().count() <= limit.body_max();
    let text = [
        compose(account.name.as_ref(), true),
        compose(None, true),
        compose(None, false),
    ]
    .into_iter()
    .find(fits)
    .unwrap_or_else(|| compose(None, false));
    Sms::fit_owned(text, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHOLE: SmsLimit = SmsLimit::WHOLE_SEGMENT;

    #[test]
    fn rejects_extension_table_and_line_breaks() {
        assert_eq!(Sms::new("a[b", WHOLE), Err(SmsError::NotGsm7('[')));
        assert_eq!(Sms::new("a\nb", WHOLE), Err(SmsError::NotGsm7('\n')));
        assert_eq!(Sms::new("€", WHOLE), Err(SmsError::NotGsm7('€')));
        assert!(Sms::new("Ça coûte 5£ @ 10:00?", WHOLE).is_err()); // û is not GSM-7
        assert!(Sms::new("Ça coute 5£ @ 10:00?", WHOLE).is_ok());
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(Sms::new("é".repeat(160), WHOLE).is_ok());
        assert_eq!(
            Sms::new("é".repeat(161), WHOLE),
            Err(SmsError::TooLong(161, 160))
        );
    }

    /// SNS sends "ROOTWATCH> " before the body: 11 of the 160 characters.
    #[test]
    fn the_body_keeps_within_what_the_display_name_leaves() {
        let limit = SmsLimit::after_display_name("rootwatch").unwrap();
        assert!(Sms::new("x".repeat(149), limit).is_ok());
        assert!(Sms::new("x".repeat(150), limit).is_err());
    }

    #[test]
    fn fit_always_yields_a_valid_body() {
        let limit = SmsLimit::after_display_name("rootwatch").unwrap();
        let fitted = Sms::fit(&format!("{}\n🦀[]", "x".repeat(300)), limit);
        assert!(Sms::new(fitted.as_str(), limit).is_ok());
        assert_eq!(fitted.as_str().chars().count(), 149);
        assert!(fitted.as_str().ends_with("..."));
        assert_eq!(Sms::fit("a\u{202e}b", WHOLE).as_str(), "a?b");
    }
}
