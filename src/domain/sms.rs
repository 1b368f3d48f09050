//! The SMS segment: 160 characters of the GSM-7 basic set, and what SNS leaves of it for the
//! body once it has put the topic's display name in front ([`SmsLimit`]).
//!
//! SNS starts every SMS sent through a topic with the topic's display name, upper-cased, and
//! `> ` (SNS Developer Guide, "Publishing to a topic").

/// Characters of one SMS segment.
const SMS_MAX: usize = 160;

/// The GSM 03.38 basic character set, without the line breaks an SMS alert must not contain.
/// (Characters of the extension table, such as `[`, `|` or `€`, take two septets and are excluded.)
const GSM7_BASIC: &str = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The ASCII part of [`GSM7_BASIC`] as a table, built from it at compile time: nearly every
/// character of an SMS is ASCII, and scanning the string for each one was 40% of rendering.
const GSM7_ASCII: [bool; 128] = {
    let bytes = GSM7_BASIC.as_bytes();
    let mut table = [false; 128];
    let mut i = 0;
    while i < bytes.len() {
        // Bytes of multi-byte characters are all >= 0x80, so they never land here.
        if bytes[i] < 128 {
            table[bytes[i] as usize] = true;
        }
        i += 1;
    }
    table
};

pub fn is_gsm7_basic(c: char) -> bool {
    match u8::try_from(c) {
        Ok(b) if b.is_ascii() => GSM7_ASCII[usize::from(b)],
        _ => GSM7_BASIC.contains(c),
    }
}

/// How many characters an SMS body may have once SNS has put the topic's display name in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLimit {
    body_max: usize,
}

/// Characters reserved when the display name is not known: a 10-character name and `> `.
const UNKNOWN_PREFIX_RESERVE: usize = 12;

impl SmsLimit {
    /// A topic without a display name: the whole segment.
    pub const WHOLE_SEGMENT: SmsLimit = SmsLimit { body_max: SMS_MAX };
    /// The display name was not configured: reserve room for a 10-character one.
    pub const UNKNOWN_DISPLAY_NAME: SmsLimit = SmsLimit {
        body_max: SMS_MAX - UNKNOWN_PREFIX_RESERVE,
    };

    /// The budget after SNS's prefix for a topic with this display name. The upper-cased name
    /// must itself be GSM-7 (or the whole message would be sent as UCS-2, 70 characters a
    /// segment) and leave room for a useful body.
    pub fn after_display_name(display_name: &str) -> Result<Self, String> {
        if display_name.is_empty() {
            return Ok(Self::WHOLE_SEGMENT);
        }
        let prefix = sns_sms_prefix(display_name);
        if let Some(bad) = prefix.chars().find(|c| !is_gsm7_basic(*c)) {
            return Err(format!(
                "{bad:?} in the upper-cased display name {prefix:?} is not in the GSM-7 basic set"
            ));
        }
        let used = prefix.chars().count();
        if used > 40 {
            return Err(format!(
                "the SMS prefix {prefix:?} would take {used} of the {SMS_MAX} characters"
            ));
        }
        Ok(SmsLimit {
            body_max: SMS_MAX - used,
        })
    }

    /// Characters available to the body.
    pub(crate) fn body_max(self) -> usize {
        self.body_max
    }
}

/// What SNS puts before every SMS sent through a topic with this display name.
fn sns_sms_prefix(display_name: &str) -> String {
    format!("{}> ", display_name.to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SNS sends "ROOTWATCH> " before the body: 11 of the 160 characters.
    #[test]
    fn the_display_name_prefix_comes_out_of_the_budget() {
        let limit = SmsLimit::after_display_name("rootwatch").unwrap();
        assert_eq!(sns_sms_prefix("rootwatch"), "ROOTWATCH> ");
        assert_eq!(limit.body_max(), 149);
        assert_eq!(
            SmsLimit::after_display_name("").unwrap(),
            SmsLimit::WHOLE_SEGMENT
        );
        assert_eq!(SmsLimit::UNKNOWN_DISPLAY_NAME.body_max(), 148);
    }

    /// Upper-casing can leave GSM-7: `ù` is in the set, `Ù` is not.
    #[test]
    fn a_display_name_that_would_force_ucs2_is_refused() {
        assert!(SmsLimit::after_display_name("sécurité").is_ok());
        assert!(SmsLimit::after_display_name("où").is_err());
        assert!(SmsLimit::after_display_name("alerts[1]").is_err());
        assert!(SmsLimit::after_display_name(&"x".repeat(39)).is_err());
    }

    #[test]
    fn the_ascii_table_agrees_with_the_alphabet() {
        for c in (0..=0xFFFF).filter_map(char::from_u32) {
            assert_eq!(is_gsm7_basic(c), GSM7_BASIC.contains(c), "{c:?}");
        }
    }
}
