//! The GSM 7-bit default alphabet, written out for the tests from 3GPP TS 23.038 §6.2.1, so that
//! what a phone receives is judged independently of `src/render/sms.rs`.

/// 3GPP TS 23.038 §6.2.1, the GSM 7-bit default alphabet: 128 characters, one septet each,
/// listed in code order 0x00–0x7F (0x1B is the escape to the extension table, not a character).
pub const DEFAULT_ALPHABET: [char; 127] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', /* ESC */ 'Æ', 'æ', 'ß',
    'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

/// 3GPP TS 23.038 §6.2.1.1, the extension table: escape + character, two septets each.
pub const EXTENSION_TABLE: [char; 10] = ['\u{000C}', '^', '{', '}', '\\', '[', '~', ']', '|', '€'];

pub const SEGMENT_SEPTETS: usize = 160;

/// Septets `text` takes in GSM-7, or `None` if it cannot be sent in GSM-7 at all (SNS would
/// fall back to UCS-2: 70 characters a segment).
pub fn septets(text: &str) -> Option<usize> {
    text.chars()
        .map(|c| {
            if DEFAULT_ALPHABET.contains(&c) {
                Some(1)
            } else if EXTENSION_TABLE.contains(&c) {
                Some(2)
            } else {
                None
            }
        })
        .sum()
}

/// The phone's view: SNS's prefix (the topic's display name, upper-cased, and `> `), then the body.
pub fn on_the_phone(display_name: &str, body: &str) -> String {
    format!("{}> {body}", display_name.to_uppercase())
}

/// Why an SMS body would not reach the phone as one clean segment, if it would not.
pub fn segment_problem(display_name: &str, body: &str) -> Option<String> {
    let phone = on_the_phone(display_name, body);
    match septets(&phone) {
        None => Some(format!("not GSM-7: {phone:?}")),
        Some(n) if n > SEGMENT_SEPTETS => Some(format!("{n} septets: {phone:?}")),
        _ if body.contains(['\n', '\r']) => Some(format!("spans lines: {body:?}")),
        _ => None,
    }
}

/// Why SNS would refuse a subject (SNS API Reference, Publish: ASCII, no line breaks or control
/// characters, at most 100 characters, not empty), if it would.
pub fn subject_problem(subject: &str) -> Option<String> {
    if subject.is_empty() || subject.len() > 100 {
        return Some(format!("{} characters: {subject:?}", subject.len()));
    }
    subject
        .chars()
        .find(|c| !(' '..='~').contains(c))
        .map(|c| format!("{c:?} in {subject:?}"))
}
