//! Making text safe to show a person.
//!
//! Anything a caller of an AWS API can choose (user agent, user names, request parameters, error
//! messages that echo them) is untrusted: it must not be able to forge extra lines in an email,
//! reorder text with bidi controls, hide text with zero-width characters, or grow a message
//! without bound.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Characters that change how surrounding text is displayed without being visible themselves:
/// the Unicode general category `Cf` (format: zero-width characters, bidi controls, the tag block
/// U+E0000–E007F, soft hyphen, …), from the Unicode tables in `unicode-properties`, plus the
/// variation selectors, which are marks but render nothing on their own.
/// No ASCII character is `Cf`, so ASCII (nearly all real text) skips the table search.
fn is_invisible_format(c: char) -> bool {
    !c.is_ascii()
        && (c.general_category() == GeneralCategory::Format
            || matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}'))
}

/// One line of untrusted text: control and invisible formatting characters removed, runs of
/// whitespace collapsed to one space, and at most `max_chars` characters (an ellipsis marks a cut).
pub fn untrusted_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if is_invisible_format(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    truncate_chars(out, max_chars)
}

/// Untrusted text shown as it is, quoted, on one line: `"` and `\\` are escaped, and so is every
/// character [`untrusted_line`] would remove or fold — controls, whitespace other than a plain
/// space, invisible formatting (`\\n`, `\\u{202e}`) — so a value that differs from a trusted one
/// only by such a character (a leading space, a zero-width joiner) is shown to differ. At most
/// `max_chars` characters of `text` are shown; an ellipsis after the quote marks a cut.
pub(crate) fn quoted_exactly(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4) + 2);
    out.push('"');
    for c in text.chars().take(max_chars) {
        if c == '"' || c == '\\' {
            out.push('\\');
            out.push(c);
        } else if c.is_control() || (c.is_whitespace() && c != ' ') || is_invisible_format(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// Cuts `text` to at most `max_chars` characters, ending in `…` when something was cut.
fn truncate_chars(text: String, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text;
    }
    let keep = max_chars.saturating_sub(1);
    let mut cut: String = text.chars().take(keep).collect();
    if max_chars > 0 {
        cut.push('…');
    }
    cut
}

/// A short identifier for places that allow only a plain alphabet (SMS, subject): characters
/// outside `[A-Za-z0-9._:/@+-]` are dropped and the result is cut to `max_chars`.
pub(crate) fn plain_token(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._:/@+-".contains(*c))
        .take(max_chars)
        .collect()
}

/// Text for logs and error messages that may echo values from an event. Logs outlive alerts and
/// reach more people, so email addresses and phone numbers in it are replaced by `[redacted]`:
/// any token with an `@`, a `+` followed by 7 or more digits, or a run of 7-15 digits (dashes
/// allowed) other than a 12-digit account id.
pub(crate) fn redact_contacts(text: &str) -> String {
    const SEPARATORS: &str = "\"'`,;()[]{}<>";
    let is_separator = |c: char| c.is_whitespace() || SEPARATORS.contains(c);
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if looks_like_contact(token) {
            out.push_str("[redacted]");
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in text.chars() {
        if is_separator(c) {
            flush(&mut token, &mut out);
            out.push(c);
        } else {
            token.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

fn looks_like_contact(token: &str) -> bool {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    let phone_like = token
        .trim_start_matches('+')
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == '.');
    let account_id = token.len() == 12 && digits == 12;
    token.contains('@')
        || (token.starts_with('+') && digits >= 7)
        || (phone_like && (7..=15).contains(&digits) && !account_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_and_bidi_and_collapses_whitespace() {
        let hostile = "curl\r\n\r\nSubject: fake\t\u{202E}gnp.exe\u{200B} \u{0007}";
        assert_eq!(untrusted_line(hostile, 100), "curl Subject: fake gnp.exe");
    }

    /// Every `Cf` character, not a hand-kept list: the tag block (invisible "ASCII" that some
    /// renderers and language models read), soft hyphen, Arabic and Mongolian format marks.
    #[test]
    fn strips_every_format_character() {
        let hidden =
            "a\u{E0041}\u{E0042}\u{E007F}b\u{00AD}c\u{180E}d\u{2066}e\u{FEFF}f\u{FE0F}g\u{110BD}h";
        assert_eq!(untrusted_line(hidden, 100), "abcdefgh");
        for c in [
            '\u{0600}',
            '\u{06DD}',
            '\u{200D}',
            '\u{206F}',
            '\u{E0001}',
            '\u{1D173}',
        ] {
            assert_eq!(
                untrusted_line(&format!("x{c}y"), 10),
                "xy",
                "U+{:04X}",
                c as u32
            );
        }
    }

    /// What `untrusted_line` would fold away is shown escaped instead, so nothing of the text is
    /// hidden and it still holds no line break or invisible character.
    #[test]
    fn quoted_exactly_escapes_what_would_be_hidden() {
        assert_eq!(quoted_exactly(" aws.x ", 80), r#"" aws.x ""#);
        assert_eq!(
            quoted_exactly("a\n\t\u{202e}b\u{200D}c\u{E0041}\"\\", 80),
            r#""a\n\t\u{202e}b\u{200d}c\u{e0041}\"\\""#
        );
        assert_eq!(quoted_exactly("ééé", 2), "\"éé\"…");
        let shown = quoted_exactly("x\r\n\u{2028}\u{FEFF}y", 80);
        assert!(
            shown.chars().all(|c| !c.is_control()
                && !is_invisible_format(c)
                && (c == ' ' || !c.is_whitespace())),
            "{shown}"
        );
    }

    #[test]
    fn caps_length_in_characters_with_an_ellipsis() {
        let long = "é".repeat(50);
        let out = untrusted_line(&long, 10);
        assert_eq!(out.chars().count(), 10);
        assert!(out.ends_with('…'));
    }

    #[test]
    fn keeps_ordinary_text() {
        let ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) 🦀";
        assert_eq!(untrusted_line(ua, 200), ua);
    }

    #[test]
    fn contacts_are_redacted_and_ids_kept() {
        let text = r#"invalid type: string "alice@example.com", expected a boolean; call +1 555 or +15555550100 or 555-555-0100"#;
        assert_eq!(
            redact_contacts(text),
            r#"invalid type: string "[redacted]", expected a boolean; call +1 555 or [redacted] or [redacted]"#
        );
        let ids =
            "event 0f3b2c4d-1a2b-4c3d-8e9f-a1b2c3d4e5f6 in 111122223333 at 2026-11-21T03:14:07Z";
        assert_eq!(redact_contacts(ids), ids);
    }

    #[test]
    fn plain_token_drops_everything_outside_its_alphabet() {
        assert_eq!(plain_token("iam:Create User\n[x]", 40), "iam:CreateUserx");
        assert_eq!(plain_token("abcdef", 3), "abc");
    }

    #[test]
    fn no_ascii_character_is_a_format_character() {
        for c in (0..128u8).map(char::from) {
            assert_ne!(c.general_category(), GeneralCategory::Format, "{c:?}");
        }
    }
}
