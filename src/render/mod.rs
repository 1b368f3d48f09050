//! Rendering, the pure core's second half: one alert as an SMS segment ([`sms`]), an email
//! subject and body ([`email`]), a Slack/Teams message through AWS Chatbot ([`chat`]), and the
//! one SNS message that carries them all ([`notification`]).

pub mod chat;
pub mod email;
pub mod notification;
pub mod sms;
pub mod time;

use std::borrow::Cow;

use crate::detect::alert::Alert;

/// What marks a cut: a shortened name never reads as a real one.
const CUT_MARK: &str = "...";

/// `piece` shortened by `over` characters, its end replaced by [`CUT_MARK`], when at least
/// `keep_at_least` of its characters stay; `None` when it should give way whole instead.
fn shorten(piece: &str, over: usize, keep_at_least: usize) -> Option<String> {
    let keep = piece
        .chars()
        .count()
        .checked_sub(over + CUT_MARK.len())
        .filter(|keep| *keep >= keep_at_least)?;
    let mut cut: String = piece.chars().take(keep).collect();
    cut.push_str(CUT_MARK);
    Some(cut)
}

/// A piece of a message that can give way when the message would be too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    AccountName,
    /// The call, where the headline already says what happened: given up whole.
    NamedCall,
    /// Cut, or given up when too little of it would stay.
    ErrorCode,
    /// The call, where it is the news: its end is cut before it is given up.
    NewsCall,
    Region,
    /// The last resort: its end is cut.
    Headline,
}

/// Shortest part of a cut piece worth keeping: less reads as noise.
const KEEP_CODE: usize = 8;
const KEEP_CALL: usize = 12;
const KEEP_HEADLINE: usize = 4;

/// An alert's title (headline, call, error code) as far as it has given way.
pub(crate) struct TitleParts<'a> {
    headline: Cow<'a, str>,
    call: Option<Cow<'a, str>>,
    call_is_news: bool,
    error_code: Option<Cow<'a, str>>,
}

impl<'a> TitleParts<'a> {
    pub(crate) fn of(alert: &'a Alert) -> Self {
        TitleParts {
            headline: Cow::Borrowed(alert.headline),
            call: alert.call.as_ref().map(|c| Cow::Borrowed(c.text.as_str())),
            call_is_news: alert.call.as_ref().is_some_and(|c| c.is_news),
            error_code: alert.error_code().map(Cow::Borrowed),
        }
    }

    /// Gives up (some of) `piece`, if it is one of the title's, to save `over` characters;
    /// whether anything changed.
    pub(crate) fn give_way(&mut self, piece: Piece, over: usize) -> bool {
        let cut = |text: &Cow<'_, str>, keep| shorten(text, over, keep).map(Cow::Owned);
        match piece {
            Piece::NamedCall if !self.call_is_news => self.call.take().is_some(),
            Piece::NewsCall if self.call_is_news => match &self.call {
                Some(call) => {
                    self.call = cut(call, KEEP_CALL);
                    true
                }
                None => false,
            },
            Piece::ErrorCode => match &self.error_code {
                Some(code) => {
                    self.error_code = cut(code, KEEP_CODE);
                    true
                }
                None => false,
            },
            Piece::Headline => match cut(&self.headline, KEEP_HEADLINE) {
                Some(shorter) => {
                    self.headline = shorter;
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// `Root API call: s3:CreateBucket`
    pub(crate) fn write_headline_and_call(&self, out: &mut String) {
        out.push_str(&self.headline);
        if let Some(call) = &self.call {
            out.push_str(": ");
            out.push_str(call);
        }
    }

    /// ` (AccessDenied)`, for a failed attempt.
    pub(crate) fn write_error_code(&self, out: &mut String) {
        if let Some(code) = &self.error_code {
            out.push_str(" (");
            out.push_str(code);
            out.push(')');
        }
    }
}

/// Compact JSON of `value`, written into one buffer of `capacity` bytes (sized for the longest
/// sample's text, so it is not grown and copied along the way). `None` if serialising failed.
fn json_text(value: &impl serde::Serialize, capacity: usize) -> Option<String> {
    let mut bytes = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut bytes, value).ok()?;
    String::from_utf8(bytes).ok()
}

/// Appends `text` as a JSON string, escaped exactly as serde_json escapes it (`\"`, `\\`,
/// `\b \f \n \r \t`, other controls as `\u00xx`; everything else as is). Sixteen bytes at a
/// time are checked with one test the compiler vectorises, and runs needing no escape are copied
/// whole: serde_json's byte-by-byte scan was a fifth of the core's instructions.
fn push_json_str(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let needs_escape = |b: u8| (b < 0x20) | (b == b'"') | (b == b'\\');
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push('"');
    // `text[start..at]` is the run not yet copied; escaped bytes are ASCII, so every cut falls
    // on a character boundary.
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        let end = (at + 16).min(bytes.len());
        let clean_block = <&[u8; 16]>::try_from(&bytes[at..end])
            .is_ok_and(|block| !block.iter().fold(false, |any, &b| any | needs_escape(b)));
        if clean_block {
            at = end;
            continue;
        }
        for (i, &b) in bytes[at..end].iter().enumerate() {
            if !needs_escape(b) {
                continue;
            }
            out.push_str(&text[start..at + i]);
            start = at + i + 1;
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                0x08 => out.push_str("\\b"),
                0x0C => out.push_str("\\f"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                _ => {
                    out.push_str("\\u00");
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0xF)]));
                }
            }
        }
        at = end;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Appends a JSON array of strings.
fn push_json_strs<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, item);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_marks_the_cut_or_gives_way_whole() {
        assert_eq!(
            shorten("s3:PutBucketPolicy", 5, 4).as_deref(),
            Some("s3:PutBuck...")
        );
        assert_eq!(shorten("s3:PutBucketPolicy", 5, 11), None);
        assert_eq!(shorten("ab", 0, 0), None, "no room for the mark");
        assert_eq!(shorten("ééééé", 1, 1).as_deref(), Some("é..."));
    }

    /// Every character class serde_json treats apart, alone and amid plain text.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut texts: Vec<String> = (0u32..0x80)
            .chain([0x7F, 0xA0, 0x2028, 0x202E, 0x1F980])
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b"))
            .collect();
        texts.extend(["".into(), "plain".into(), "\"\\\n\u{1}é`<>&|".into()]);
        let long: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{t}{}", "x".repeat(15), "ü".repeat(20)))
            .collect();
        texts.extend(long);
        texts.push("0123456789abcdef\n0123456789abcdef\"é".repeat(3));
        for text in texts {
            let mut ours = String::new();
            push_json_str(&mut ours, &text);
            assert_eq!(ours, serde_json::to_string(&text).unwrap(), "{text:?}");
        }
    }
}
