//! Declared root use: a person declares that the root user of one account will be used for a
//! while (a [`Declaration`], validated and announced by `declare`), and while it is in effect the
//! account's root alerts below CRITICAL go to email and chat only. What an alert found is its
//! [`DeclarationStatus`]; what a window's report lists, each [`NotedUse`].

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::domain::AccountId;
use crate::sanitize::quoted_exactly;

/// The range a declared root use comes from: IPv4 `/8`–`/32` or IPv6 `/16`–`/128`, written as
/// its network address (`192.0.2.0/24`, not `192.0.2.7/24`). Wider ranges declare nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceCidr {
    network: IpAddr,
    prefix: u8,
}

impl SourceCidr {
    /// Parses `a.b.c.d/n` or `v6::/n`; says what is wrong otherwise.
    pub fn parse(text: &str) -> Result<Self, String> {
        // The text is the declarer's: quoted exactly and short in what is said about it.
        let shown = quoted_exactly(text, 60);
        let (ip, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("{shown} is not a CIDR (address/prefix)"))?;
        let network: IpAddr = ip
            .parse()
            .map_err(|_| format!("{shown} does not start with an IP address"))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| format!("{shown} has no prefix length"))?;
        let (min, max) = match network {
            IpAddr::V4(_) => (8, 32),
            IpAddr::V6(_) => (16, 128),
        };
        if !(min..=max).contains(&prefix) {
            return Err(format!(
                "{shown}: the prefix must be /{min} to /{max} for this address family"
            ));
        }
        let cidr = SourceCidr { network, prefix };
        if bits(network) != bits(network) & cidr.mask() {
            return Err(format!(
                "{shown} has host bits set; write its network address"
            ));
        }
        Ok(cidr)
    }

    /// Whether `ip` is in the range (an address of the other family never is).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let same_family = matches!(
            (self.network, ip),
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_))
        );
        same_family && bits(ip) & self.mask() == bits(self.network) & self.mask()
    }

    /// The top `prefix` bits of an address of the range's family (`prefix` is at least 8, so
    /// no shift reaches 128).
    fn mask(&self) -> u128 {
        let width: u32 = match self.network {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        (u128::MAX << (128 - u32::from(self.prefix))) >> (128 - width)
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl fmt::Display for SourceCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A declaration as validated: every text sanitised and bounded, every time checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The declarer's id for it (`[0-9a-f-]`, 1-64).
    pub id: String,
    pub account: AccountId,
    /// When the window opens: the declared start, or [`BACKDATE`](crate::domain::limits::BACKDATE)
    /// before its announcement when that is later.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Self-stated, sanitised: what for.
    pub reason: String,
    /// Self-stated, sanitised: who.
    pub by: String,
    /// The caller the declaring tool reported (`sts:GetCallerIdentity`), as a plain token.
    pub caller_arn: Option<String>,
    pub source: Option<SourceCidr>,
    /// When it was ended early.
    pub ended_at: Option<DateTime<Utc>>,
    /// When a later declaration for the account replaced it.
    pub superseded_at: Option<DateTime<Utc>>,
}

/// Whether a declaration covers an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// In its time range and, with a source range, from inside it.
    Declared,
    /// In its time range, from outside its source range (or from no readable IP).
    OutsideSource,
    /// Not in its time range, or the event has no readable time.
    NotDeclared,
}

/// The declaration the unit tests share: alice's, for 111122223333, 09:00 to 10:00 UTC on
/// 2026-11-21, "Close support case 42", any source; change a field with `..example()`.
#[cfg(test)]
impl Declaration {
    pub(crate) fn example() -> Declaration {
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        Declaration {
            id: "d1".into(),
            account: AccountId::parse("111122223333").unwrap(),
            start: at("2026-11-21T09:00:00Z"),
            end: at("2026-11-21T10:00:00Z"),
            reason: "Close support case 42".into(),
            by: "alice".into(),
            caller_arn: None,
            source: None,
            ended_at: None,
            superseded_at: None,
        }
    }
}

impl Declaration {
    /// When the window closes: its end, or earlier when it was ended or replaced.
    pub fn closes(&self) -> DateTime<Utc> {
        [self.ended_at, self.superseded_at]
            .into_iter()
            .flatten()
            .fold(self.end, DateTime::min)
    }

    /// Whether `time` is in `[start, closes)`.
    pub fn in_time(&self, time: DateTime<Utc>) -> bool {
        self.start <= time && time < self.closes()
    }

    /// Whether the window covers an event at `event_time` from `ip`. A console call through an
    /// AWS proxy (`console_proxy`: `AWS Internal` with a console session's credential; CloudTrail
    /// hides its IP) counts as inside the source range: its session's sign-in was checked.
    pub fn covers(
        &self,
        event_time: Option<DateTime<Utc>>,
        ip: Option<IpAddr>,
        console_proxy: bool,
    ) -> Coverage {
        match event_time {
            Some(time) if self.in_time(time) => {}
            _ => return Coverage::NotDeclared,
        }
        match (&self.source, ip) {
            (None, _) => Coverage::Declared,
            (Some(_), None) if console_proxy => Coverage::Declared,
            (Some(range), Some(ip)) if range.contains(ip) => Coverage::Declared,
            _ => Coverage::OutsideSource,
        }
    }
}

/// What the function found about an alert's account and time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DeclarationStatus {
    /// Declarations are off (no table or no stream): nothing is said.
    #[default]
    Off,
    /// No window covers the event.
    None,
    /// A window covers it.
    Declared(Box<Declaration>),
    /// A window covers its time, but it came from outside the declared source range.
    OutsideSource(Box<Declaration>),
    /// The lookup failed or was skipped: treated as not declared.
    Unchecked,
}

impl DeclarationStatus {
    pub fn is_off(&self) -> bool {
        matches!(self, DeclarationStatus::Off)
    }

    /// The window that covers the event, when one does.
    pub fn declared(&self) -> Option<&Declaration> {
        match self {
            DeclarationStatus::Declared(declaration) => Some(declaration),
            _ => None,
        }
    }

    fn as_str(&self) -> &'static str {
        match self {
            DeclarationStatus::Off => "off",
            DeclarationStatus::None => "none",
            DeclarationStatus::Declared(_) => "declared",
            DeclarationStatus::OutsideSource(_) => "outside-source",
            DeclarationStatus::Unchecked => "unchecked",
        }
    }
}

/// `{"status": "declared", "id", "by", "reason", "until", "source"}`; the alert leaves out `Off`.
impl Serialize for DeclarationStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("status", self.as_str())?;
        if let DeclarationStatus::Declared(d) | DeclarationStatus::OutsideSource(d) = self {
            map.serialize_entry("id", &d.id)?;
            map.serialize_entry("by", &d.by)?;
            map.serialize_entry("reason", &d.reason)?;
            map.serialize_entry(
                "until",
                &d.closes()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )?;
            map.serialize_entry("source", &d.source.map(|s| s.to_string()))?;
        }
        map.end()
    }
}

/// One root use noted for a window's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotedUse {
    /// The event's time (epoch seconds).
    pub time: DateTime<Utc>,
    /// `signin:ConsoleLogin`
    pub call: String,
    pub ip: String,
    /// `succeeded`, or the failure's code
    pub outcome: String,
    pub severity: String,
    pub kind: String,
    /// Whether it was declared (inside the source range), or only in the window's time.
    pub declared: bool,
}

/// A window's report as recorded: the declaration's snapshot, the uses noted, how many more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub declaration: Declaration,
    pub uses: Vec<NotedUse>,
    pub dropped: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cidrs_hold_their_range_and_refuse_too_wide_or_hosty_ones() {
        let v4 = SourceCidr::parse("192.0.2.0/24").unwrap();
        assert!(v4.contains(ip("192.0.2.10")));
        assert!(v4.contains(ip("192.0.2.255")));
        assert!(!v4.contains(ip("192.0.3.1")));
        assert!(!v4.contains(ip("::ffff:192.0.2.10")), "other family");
        assert_eq!(v4.to_string(), "192.0.2.0/24");
        let one = SourceCidr::parse("203.0.113.9/32").unwrap();
        assert!(one.contains(ip("203.0.113.9")));
        assert!(!one.contains(ip("203.0.113.8")));
        let v6 = SourceCidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(SourceCidr::parse("2001:db8::1/128").is_ok());
        for bad in [
            "0.0.0.0/0",
            "10.0.0.0/7",
            "::/0",
            "2001:db8::/15",
            "192.0.2.7/24",
            "192.0.2.0",
            "192.0.2.0/33",
            "x/24",
            "192.0.2.0/-1",
        ] {
            assert!(SourceCidr::parse(bad).is_err(), "{bad}");
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn declaration(source: Option<&str>) -> Declaration {
        Declaration {
            source: source.map(|s| SourceCidr::parse(s).unwrap()),
            ..Declaration::example()
        }
    }

    #[test]
    fn a_window_covers_its_time_and_source() {
        let open = declaration(None);
        let inside = Some(at("2026-11-21T09:30:00Z"));
        assert_eq!(open.covers(inside, None, false), Coverage::Declared);
        assert_eq!(
            open.covers(Some(at("2026-11-21T10:00:00Z")), None, false),
            Coverage::NotDeclared,
            "the end is not in it"
        );
        assert_eq!(
            open.covers(Some(at("2026-11-21T08:59:59Z")), None, false),
            Coverage::NotDeclared
        );
        assert_eq!(open.covers(None, None, false), Coverage::NotDeclared);

        let ranged = declaration(Some("192.0.2.0/24"));
        assert_eq!(
            ranged.covers(inside, Some(ip("192.0.2.10")), false),
            Coverage::Declared
        );
        assert_eq!(
            ranged.covers(inside, Some(ip("203.0.113.9")), false),
            Coverage::OutsideSource
        );
        assert_eq!(ranged.covers(inside, None, false), Coverage::OutsideSource);
        assert_eq!(ranged.covers(inside, None, true), Coverage::Declared);

        let mut ended = declaration(None);
        ended.ended_at = Some(at("2026-11-21T09:20:00Z"));
        assert_eq!(ended.closes(), at("2026-11-21T09:20:00Z"));
        assert_eq!(ended.covers(inside, None, false), Coverage::NotDeclared);
    }
}
