//! The alert topic's ARN, checked once: every alert is published to it, and it names the
//! function's own account and partition.

use crate::domain::AccountId;

/// The ARN of a standard SNS topic: `arn:<partition>:sns:<region>:<account>:<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn(String);

impl TopicArn {
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let [arn, partition, service, region, account, name] = parts.as_slice() else {
            return Err("expected 6 colon-separated parts".into());
        };
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if *arn != "arn" || !partition.starts_with("aws") || *service != "sns" {
            Err("expected it to start with arn:aws…:sns:".into())
        } else if region.is_empty() {
            Err("the region is empty".into())
        } else if AccountId::parse(account).is_none() {
            Err("the account is not 12 digits".into())
        } else if name.ends_with(".fifo") {
            Err("FIFO topics cannot deliver SMS or email; use a standard topic".into())
        } else if !name_ok {
            Err("the topic name must be 1-256 letters, digits, '-' or '_'".into())
        } else {
            Ok(TopicArn(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The topic's account: the function's own (the template creates the topic beside it).
    pub fn account(&self) -> &str {
        self.0.split(':').nth(4).unwrap_or_default()
    }

    /// The topic's partition (`aws`, `aws-cn`, `aws-us-gov`, …): the function's own.
    pub fn partition(&self) -> &str {
        self.0.split(':').nth(1).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:rootwatch-alerts";

    #[test]
    fn the_partition_comes_from_the_topic() {
        for (arn, partition) in [
            (TOPIC, "aws"),
            ("arn:aws-cn:sns:cn-north-1:111122223333:t", "aws-cn"),
            (
                "arn:aws-us-gov:sns:us-gov-west-1:111122223333:t",
                "aws-us-gov",
            ),
        ] {
            assert_eq!(TopicArn::parse(arn).unwrap().partition(), partition);
        }
    }
}
