//! Regions: only a well-formed region code is ever shown or put in a link.

/// Shown when neither `detail.awsRegion` nor the envelope's `region` is a region code.
pub const UNKNOWN_REGION: &str = "unknown-region";

/// An AWS region code such as `us-east-1`, `us-gov-west-1` or `ap-southeast-7`: a two-letter
/// prefix, one or more lower-case words, a number; at most 25 characters.
pub fn is_region_code(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let lower_word = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    text.len() <= 25
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(lower_word)
        && parts
            .last()
            .is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_are_recognised_and_forgeries_refused() {
        for good in [
            "us-east-1",
            "us-gov-west-1",
            "cn-northwest-1",
            "ap-southeast-7",
            "us-isob-east-1",
            "eu-central-2",
        ] {
            assert!(is_region_code(good), "{good}");
        }
        for bad in [
            "evil.example.com/x",
            "us-east-1.evil.example.com",
            "us-east-1@evil",
            "us-east-1/",
            "US-EAST-1",
            "us-east",
            "useast1",
            "us--1",
            "us-east-123",
            "u-east-1",
            "",
            "us-east-1#frag",
            "aa-bbbbbbbbbbbbbbbbbbbbbb-1",
        ] {
            assert!(!is_region_code(bad), "{bad}");
        }
    }
}
