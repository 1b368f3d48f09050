//! Accounts: the 12-digit id, the human name an alert shows beside it (the operator's, or one
//! made safe from AWS Organizations), and the operator's table of names (`ACCOUNT_NAMES`).

use std::collections::HashMap;
use std::fmt;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| AccountId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A human name for an account, safe wherever an alert goes (SMS, email subject, chat markdown,
/// logs): 1 to `MAX_ACCOUNT_NAME` ASCII letters, digits, `-`, `_`, `.` and inner spaces.
/// Cannot be built otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AccountName(String);

/// Longest account name kept; longer ones would crowd the SMS.
const MAX_ACCOUNT_NAME: usize = 32;

impl AccountName {
    /// The operator's name from `ACCOUNT_NAMES`: refused unless it already has the form.
    pub fn parse(text: &str) -> Result<Self, String> {
        let name = text.trim();
        let name_ok = (1..=MAX_ACCOUNT_NAME).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_. ".contains(&b));
        if name_ok {
            Ok(AccountName(name.to_owned()))
        } else {
            Err(format!(
                "name {name:?} must be 1-{MAX_ACCOUNT_NAME} letters, digits, '-', '_', '.' or spaces"
            ))
        }
    }

    /// A name nobody here chose: AWS Organizations' account name, which any administrator of
    /// the management account can set, so it is as untrusted as a user agent. Every character
    /// other than an ASCII letter, digit, `-` or `_` becomes a space (controls and invisible
    /// format characters vanish first), spaces are collapsed, and a name longer than
    /// `MAX_ACCOUNT_NAME` is cut and ends in `..`. No `.` is kept inside, so no name can
    /// spell a domain that a phone, a mail client or Slack would turn into a link; and nothing
    /// that chat markdown or a mention could use is left. `None` when nothing is left.
    pub fn from_untrusted(text: &str) -> Option<Self> {
        // Organizations allows 50 characters; anything past a few times that is cut anyway.
        let visible = crate::sanitize::untrusted_line(text, 4 * MAX_ACCOUNT_NAME);
        let spaced: String = visible
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        let words: Vec<&str> = spaced.split_whitespace().collect();
        let mut name = words.join(" ");
        if name.len() > MAX_ACCOUNT_NAME {
            name.truncate(MAX_ACCOUNT_NAME - 2);
            name.truncate(name.trim_end().len());
            name.push_str("..");
        }
        (!name.is_empty()).then_some(AccountName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Human names for account ids, from `ACCOUNT_NAMES=111122223333=prod-payments,…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountNames(HashMap<AccountId, AccountName>);

impl AccountNames {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut names = HashMap::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, name) = entry
                .split_once('=')
                .ok_or_else(|| format!("entry {entry:?} has no '='"))?;
            let id = AccountId::parse(id.trim())
                .ok_or_else(|| format!("{:?} is not a 12-digit account id", id.trim()))?;
            let name = AccountName::parse(name).map_err(|problem| format!("{problem} ({id})"))?;
            names.insert(id, name);
        }
        Ok(AccountNames(names))
    }

    pub(crate) fn name_of(&self, id: &AccountId) -> Option<&AccountName> {
        self.0.get(id)
    }

    /// The name an alert shows for the account `id`: the operator's, which wins, else the one
    /// the account directory (AWS Organizations) gave, if it was asked.
    pub fn choose(
        &self,
        id: Option<&AccountId>,
        directory_name: Option<&AccountName>,
    ) -> Option<AccountName> {
        id.and_then(|id| self.name_of(id))
            .or(directory_name)
            .cloned()
    }
}

/// The account an alert is about: its id and, when known, its name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    /// `None` when the event named no 12-digit account anywhere: the alert still goes out.
    pub id: Option<AccountId>,
    /// From `ACCOUNT_NAMES` when it names this account, else from the account directory
    /// (AWS Organizations) when it was asked and answered in time.
    pub name: Option<AccountName>,
}

impl Account {
    /// `prod-payments (111122223333)`, just the id, or `an unknown account`.
    pub(crate) fn label(&self) -> impl fmt::Display + '_ {
        Label(self)
    }

    /// The id, or `unknown`.
    pub(crate) fn id_or_unknown(&self) -> &str {
        self.id.as_ref().map_or("unknown", AccountId::as_str)
    }
}

struct Label<'a>(&'a Account);

impl fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.name, &self.0.id) {
            (Some(name), Some(id)) => write!(f, "{name} ({id})"),
            (None, Some(id)) => f.write_str(id.as_str()),
            (_, None) => f.write_str("an unknown account"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_parse_and_reject_garbage() {
        let names =
            AccountNames::parse("111122223333=prod-payments, 444455556666=sandbox").unwrap();
        assert_eq!(
            names
                .name_of(&AccountId::parse("444455556666").unwrap())
                .map(AccountName::as_str),
            Some("sandbox")
        );
        assert!(AccountNames::parse("1234=x").is_err());
        assert!(AccountNames::parse("111122223333").is_err());
        assert!(AccountNames::parse("111122223333=bad\nname").is_err());
    }

    /// Organizations allows any printable ASCII up to 50 characters (and moto anything): what
    /// is kept is the operator's alphabet without the dot, at most 32 characters.
    #[test]
    fn untrusted_names_keep_a_plain_alphabet_and_length() {
        let name = |text: &str| AccountName::from_untrusted(text).map(|n| n.0);
        assert_eq!(name("prod-payments").as_deref(), Some("prod-payments"));
        assert_eq!(
            name("Prod (EU) payments").as_deref(),
            Some("Prod EU payments")
        );
        assert_eq!(
            name("evil.example.com").as_deref(),
            Some("evil example com")
        );
        assert_eq!(
            name("ops <!channel> *x* `y` [z](https://e.vil) & | @here").as_deref(),
            Some("ops channel x y z https e vil..")
        );
        assert_eq!(
            name("a\r\nSubject: b\u{202e}c\u{200b}d").as_deref(),
            Some("a Subject bcd")
        );
        assert_eq!(name("café ünïcode 🦀").as_deref(), Some("caf n code"));
        assert_eq!(name("  \t<>{}  ").as_deref(), None);
        assert_eq!(name("").as_deref(), None);
        let long = name(&"abcdefghij ".repeat(5)).unwrap();
        assert_eq!(long, "abcdefghij abcdefghij abcdefgh..");
        assert_eq!(long.len(), MAX_ACCOUNT_NAME);
        let cut_at_space = name(&format!("{} {}", "a".repeat(29), "b".repeat(10))).unwrap();
        assert_eq!(cut_at_space, format!("{}..", "a".repeat(29)));
        for text in ["x".repeat(50), "Ωa".repeat(40), "a.".repeat(30)] {
            let kept = name(&text).unwrap();
            assert!(AccountName::parse(&kept).is_ok(), "{kept:?}");
        }
    }
}
