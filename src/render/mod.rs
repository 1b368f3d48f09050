//! Rendering, the pure core's second half: one alert as an SMS segment ([`sms`]), an email
//! subject and body ([`email`]), a Slack/Teams message through AWS Chatbot ([`chat`]), and the
//! one SNS message that carries them all ([`notification`]).

pub mod chat;
pub mod email;
pub mod event;
pub mod finding;
pub mod notification;
pub mod sms;
pub mod time;

use std::borrow::Cow;

use crate::detect::alert::Alert;

/// What marks a cut: a shortened name never reads as a real one.
const CUT_MARK: &str = "...";

/// `piece` shortened by `over` characters, its end replaced by [`CUT_MARK`], when at least
/// `keep_at_least` of its characters stay; `None` when it should give way whole instead (and
/// leave the mark alone in its place, where a reader needs to know something was there).
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
    /// The call, where the headline already says what happened: given up whole, unmarked (the
    /// headline says it).
    NamedCall,
    /// Cut, or given up for the mark alone when too little of it would stay: ` (...)`.
    ErrorCode,
    /// The call, where it is the news: its end is cut, or it is given up for the mark alone
    /// (`: ...`), taking its error code with it.
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
        // What the call and the code leave when too little of them would stay.
        let or_mark = |cut: Option<Cow<'a, str>>| Some(cut.unwrap_or(Cow::Borrowed(CUT_MARK)));
        match piece {
            Piece::NamedCall if !self.call_is_news => self.call.take().is_some(),
            Piece::NewsCall if self.call_is_news => match &self.call {
                Some(call) => {
                    let shorter = cut(call, KEEP_CALL);
                    if shorter.is_none() {
                        // The call's code goes with it: one mark says both are in the email.
                        self.error_code = None;
                    }
                    self.call = or_mark(shorter);
                    true
                }
                None => false,
            },
            Piece::ErrorCode => match &self.error_code {
                Some(code) => {
                    self.error_code = or_mark(cut(code, KEEP_CODE));
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
}
