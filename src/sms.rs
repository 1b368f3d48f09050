//! The SMS wording. One segment: at most 160 characters of the GSM-7 basic set, one line.
//!
//! Only fields that AWS sets or the operator configured appear here: no user agent, user name or
//! request parameter can reach a phone.

use std::fmt;

use crate::alert::{Alert, Outcome, SourceIp};
use crate::classify::{AlertKind, CredentialKind, MfaState};

/// Characters of one SMS segment.
pub const SMS_MAX: usize = 160;

/// The GSM 03.38 basic character set, without the line breaks an SMS alert must not contain.
/// (Characters of the extension table, such as `[`, `|` or `€`, take two septets and are excluded.)
const GSM7_BASIC: &str = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

pub fn is_gsm7_basic(c: char) -> bool {
    GSM7_BASIC.contains(c)
}

/// Text that fits one SMS segment. Cannot be built otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmsError {
    #[error("{0} characters, more than one {SMS_MAX}-character segment")]
    TooLong(usize),
    #[error("{0:?} is not in the GSM-7 basic set")]
    NotGsm7(char),
}

impl Sms {
    pub fn new(text: impl Into<String>) -> Result<Self, SmsError> {
        let text = text.into();
        if let Some(bad) = text.chars().find(|c| !is_gsm7_basic(*c)) {
            return Err(SmsError::NotGsm7(bad));
        }
        let len = text.chars().count();
        if len > SMS_MAX {
            return Err(SmsError::TooLong(len));
        }
        Ok(Sms(text))
    }

    /// Forces `text` into a segment: other characters become `?`, and a cut ends in `...`.
    pub fn fit(text: &str) -> Self {
        let mut out: String = text
            .chars()
            .map(|c| if is_gsm7_basic(c) { c } else { '?' })
            .collect();
        if out.chars().count() > SMS_MAX {
            out = out.chars().take(SMS_MAX - 3).collect();
            out.push_str("...");
        }
        Sms(out)
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
pub fn render_sms(alert: &Alert) -> Sms {
    let is_sign_in = alert.kind.is_sign_in();
    let what = if is_sign_in {
        alert.headline.to_owned()
    } else if alert.kind == AlertKind::ApiCall {
        format!("Root API call {}", short_call(alert))
    } else {
        format!("{}: {}", alert.headline, short_call(alert))
    };
    let via = if alert.credential == CredentialKind::AssumeRoot {
        " via AssumeRoot"
    } else {
        ""
    };
    let headline_says_mfa = matches!(
        alert.kind,
        AlertKind::SignInWithMfa | AlertKind::SignInWithoutMfa
    );
    let mfa = match (is_sign_in && !headline_says_mfa, alert.mfa) {
        (false, _) => "",
        (true, MfaState::Used) => " MFA yes.",
        (true, MfaState::NotUsed) => " MFA NO.",
        (true, MfaState::Unknown) => " MFA unknown.",
    };
    let failed = if alert.outcome == Outcome::Success || alert.kind == AlertKind::SignInFailed {
        ""
    } else {
        " (failed)"
    };
    let ip = match &alert.source_ip {
        SourceIp::Ip(ip) => ip.to_string(),
        _ => "n/a".into(),
    };
    let tail = format!(
        " IP {ip}. {} UTC {}",
        alert.event_time.format("%Y-%m-%d %H:%M"),
        alert.region
    );
    let head = format!(
        "{} {what}{via}{failed}.{mfa} Acct ",
        alert.severity.as_str()
    );
    // The account name is the only part that gives way when space runs short; the id stays.
    let id = alert.account.id.as_str();
    let budget = SMS_MAX.saturating_sub(head.len() + id.len() + 1 + tail.len());
    let name = match alert.account.name.as_deref() {
        Some(n) if n.len() < budget => format!("{n} "),
        _ => String::new(),
    };
    Sms::fit(&format!("{head}{name}{id}.{tail}"))
}

/// `iam:CreateUser` from `iam.amazonaws.com` + `CreateUser`, capped for the SMS.
fn short_call(alert: &Alert) -> String {
    let service = alert
        .event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(&alert.event_source);
    let call = format!("{service}:{}", alert.event_name);
    call.chars().take(48).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_extension_table_and_line_breaks() {
        assert_eq!(Sms::new("a[b"), Err(SmsError::NotGsm7('[')));
        assert_eq!(Sms::new("a\nb"), Err(SmsError::NotGsm7('\n')));
        assert_eq!(Sms::new("€"), Err(SmsError::NotGsm7('€')));
        assert!(Sms::new("Ça coûte 5£ @ 10:00?").is_err()); // û is not GSM-7
        assert!(Sms::new("Ça coute 5£ @ 10:00?").is_ok());
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(Sms::new("é".repeat(160)).is_ok());
        assert_eq!(Sms::new("é".repeat(161)), Err(SmsError::TooLong(161)));
    }

    #[test]
    fn fit_always_yields_a_valid_segment() {
        let fitted = Sms::fit(&format!("{}\n🦀[]", "x".repeat(300)));
        assert!(Sms::new(fitted.as_str()).is_ok());
        assert!(fitted.as_str().ends_with("..."));
        assert_eq!(Sms::fit("a\u{202e}b").as_str(), "a?b");
    }
}
