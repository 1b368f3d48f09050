//! Rendering, the pure core's second half: one alert as an SMS segment ([`sms`]), an email
//! subject and body ([`email`]), a Slack/Teams message through AWS Chatbot ([`chat`]), and the
//! one SNS message that carries them all ([`notification`]).

pub mod chat;
pub mod email;
pub mod notification;
pub mod sms;
pub mod time;

/// Compact JSON of `value`, written into one buffer of `capacity` bytes (sized for the longest
/// sample's text, so it is not grown and copied along the way). `None` if serialising failed.
pub(crate) fn json_text(value: &impl serde::Serialize, capacity: usize) -> Option<String> {
    let mut bytes = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut bytes, value).ok()?;
    String::from_utf8(bytes).ok()
}

/// Appends `text` as a JSON string, escaped exactly as serde_json escapes it (`\"`, `\\`,
/// `\b \f \n \r \t`, other controls as `\u00xx`; everything else as is). Sixteen bytes at a
/// time are checked with one test the compiler vectorises, and runs needing no escape are copied
/// whole: serde_json's byte-by-byte scan was a fifth of the core's instructions.
pub(crate) fn push_json_str(out: &mut String, text: &str) {
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
pub(crate) fn push_json_strs<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
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
