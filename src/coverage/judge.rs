//! The coverage judgement: every expected cell (an active account × a covered region) against
//! the heartbeats seen, by hash lookups. Pure: the same inputs always give the same cells.
//!
//! | state | when |
//! |---|---|
//! | `home` | the home account in the home region: the home stack's own rules watch it |
//! | `watched` | its last heartbeat is at most [`SILENT_AFTER`] + [`CLOCK_SKEW`] old |
//! | `pending` | never seen, and the check (or the account) started at most that long ago |
//! | `blind` | otherwise |

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::limits::{CLOCK_SKEW, GAPS_PER_REGION, SILENT_AFTER};
use crate::domain::{AccountId, AccountName};
pub use crate::ports::Member;

/// A cell's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Home,
    Watched,
    Pending,
    Blind,
}

impl State {
    pub const ALL: [State; 4] = [State::Home, State::Watched, State::Pending, State::Blind];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Home => "home",
            State::Watched => "watched",
            State::Pending => "pending",
            State::Blind => "blind",
        }
    }
}

/// One account × region and what the heartbeats say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub account: AccountId,
    pub name: Option<AccountName>,
    pub region: String,
    pub state: State,
    pub last_seen: Option<DateTime<Utc>>,
}

/// What must be covered and where the home stack runs.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub members: &'a [Member],
    pub regions: &'a [String],
    pub home_account: &'a AccountId,
    pub home_region: &'a str,
}

/// The last heartbeat of each cell, by (region, account).
pub type Seen = HashMap<(String, AccountId), DateTime<Utc>>;

/// How long a cell may be silent: two heartbeat intervals and the clock skew.
fn silence() -> chrono::Duration {
    chrono::Duration::from_std(SILENT_AFTER + CLOCK_SKEW).unwrap_or_default()
}

/// Every expected cell's state, accounts by id, each account's regions in `regions`' order.
/// `started` is when coverage was first checked: a cell never seen is pending until two
/// heartbeats could have come since then (or since its account joined, if later), so a fresh
/// start does not page every cell.
pub fn judge(
    expected: Expected,
    seen: &Seen,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Cell> {
    let silence = silence();
    let mut members: Vec<&Member> = expected.members.iter().collect();
    members.sort_by(|a, b| a.id.cmp(&b.id));
    members.dedup_by(|a, b| a.id == b.id);
    let mut cells = Vec::with_capacity(members.len() * expected.regions.len());
    let mut key = (String::new(), expected.home_account.clone());
    for member in members {
        for region in expected.regions {
            key.0.clone_from(region);
            key.1.clone_from(&member.id);
            let last_seen = seen.get(&key).copied();
            let since = member.joined.map_or(started, |joined| joined.max(started));
            let state = if member.id == *expected.home_account && region == expected.home_region {
                State::Home
            } else if last_seen.is_some_and(|at| now - at <= silence) {
                State::Watched
            } else if last_seen.is_none() && now - since <= silence {
                State::Pending
            } else {
                State::Blind
            };
            cells.push(Cell {
                account: member.id.clone(),
                name: member.name.clone(),
                region: region.clone(),
                state,
                last_seen,
            });
        }
    }
    cells
}

/// Cells with a recent heartbeat that are not expected: a region missing from
/// `COVERAGE_REGIONS`, or an account that left. Reported, never alerted.
pub fn unexpected(expected: Expected, seen: &Seen, now: DateTime<Utc>) -> usize {
    let silence = silence();
    seen.iter()
        .filter(|((region, account), at)| {
            now - **at <= silence
                && (!expected.regions.contains(region)
                    || !expected.members.iter().any(|m| m.id == *account))
        })
        .count()
}

/// The blind cells of one region, as one finding: each cell named, or, past
/// [`GAPS_PER_REGION`], the region as a whole with the first of them named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub region: String,
    /// Blind cells, by account id; at most [`GAPS_PER_REGION`] when `whole_region`.
    pub cells: Vec<Cell>,
    /// How many cells of the region are blind, and how many it has.
    pub blind: usize,
    pub of: usize,
}

impl Gap {
    /// Whether the region is one finding rather than a list of cells.
    pub fn whole_region(&self) -> bool {
        self.blind > GAPS_PER_REGION
    }
}

/// The gaps of `cells`, one per region with a blind cell, in `regions`' order.
pub fn gaps(cells: &[Cell], regions: &[String]) -> Vec<Gap> {
    regions
        .iter()
        .filter_map(|region| {
            let in_region = cells.iter().filter(|c| c.region == *region);
            let of = in_region.clone().count();
            let blind: Vec<&Cell> = in_region.filter(|c| c.state == State::Blind).collect();
            (!blind.is_empty()).then(|| Gap {
                region: region.clone(),
                blind: blind.len(),
                of,
                cells: blind.into_iter().take(GAPS_PER_REGION).cloned().collect(),
            })
        })
        .collect()
}

/// How many cells are in each state.
pub fn counts(cells: &[Cell]) -> Vec<(State, usize)> {
    State::ALL
        .iter()
        .map(|state| (*state, cells.iter().filter(|c| c.state == *state).count()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn id(n: u64) -> AccountId {
        AccountId::parse(&format!("{n:012}")).unwrap()
    }

    fn members(n: u64) -> Vec<Member> {
        (1..=n)
            .map(|i| Member {
                id: id(i),
                name: AccountName::from_untrusted(&format!("member-{i}")),
                joined: None,
            })
            .collect()
    }

    fn regions() -> Vec<String> {
        vec!["us-east-1".into(), "eu-west-1".into()]
    }

    const T0: &str = "2026-11-21T00:00:00Z";

    #[test]
    fn each_state_by_its_rule() {
        let members = members(3);
        let regions = regions();
        let home = id(1);
        let expected = Expected {
            members: &members,
            regions: &regions,
            home_account: &home,
            home_region: "us-east-1",
        };
        let now = at("2026-11-21T05:00:00Z");
        let mut seen = Seen::new();
        seen.insert(("eu-west-1".into(), id(1)), at("2026-11-21T02:56:00Z"));
        seen.insert(("us-east-1".into(), id(2)), at("2026-11-21T02:54:00Z"));
        let cells = judge(expected, &seen, at(T0), now);
        let states: Vec<(&str, &str, State)> = cells
            .iter()
            .map(|c| (&c.account.as_str()[9..], c.region.as_str(), c.state))
            .collect();
        assert_eq!(
            states,
            [
                ("001", "us-east-1", State::Home),
                ("001", "eu-west-1", State::Watched),
                ("002", "us-east-1", State::Blind),
                ("002", "eu-west-1", State::Blind),
                ("003", "us-east-1", State::Blind),
                ("003", "eu-west-1", State::Blind),
            ]
        );
        let gaps = gaps(&cells, &regions);
        assert_eq!(gaps.len(), 2);
        assert_eq!((gaps[0].blind, gaps[0].of), (2, 3));
        assert!(!gaps[0].whole_region());
    }

    /// A fresh start pages nothing: every cell never seen is pending for two intervals and the
    /// skew, then blind; a new account's cells are pending from when it joined.
    #[test]
    fn the_grace_covers_a_fresh_start_and_a_new_account() {
        let mut members = members(2);
        members[1].joined = Some(at("2026-11-21T04:00:00Z"));
        let regions = regions();
        let home = id(9);
        let expected = Expected {
            members: &members,
            regions: &regions,
            home_account: &home,
            home_region: "us-east-1",
        };
        let seen = Seen::new();
        let states = |now| {
            judge(expected, &seen, at(T0), at(now))
                .iter()
                .map(|c| c.state)
                .collect::<Vec<_>>()
        };
        assert!(
            states("2026-11-21T02:05:00Z")
                .iter()
                .all(|s| *s == State::Pending)
        );
        assert_eq!(
            states("2026-11-21T02:06:00Z"),
            [State::Blind, State::Blind, State::Pending, State::Pending]
        );
        assert!(
            states("2026-11-21T06:06:00Z")
                .iter()
                .all(|s| *s == State::Blind)
        );
    }

    #[test]
    fn many_silent_accounts_in_a_region_are_one_finding() {
        let members = members(25);
        let regions = regions();
        let home = id(99);
        let expected = Expected {
            members: &members,
            regions: &regions,
            home_account: &home,
            home_region: "us-east-1",
        };
        let now = at("2026-11-21T05:00:00Z");
        let mut seen = Seen::new();
        for m in &members {
            seen.insert(("us-east-1".into(), m.id.clone()), now);
        }
        let cells = judge(expected, &seen, at(T0), now);
        let gaps = gaps(&cells, &regions);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].region, "eu-west-1");
        assert!(gaps[0].whole_region());
        assert_eq!((gaps[0].blind, gaps[0].of), (25, 25));
        assert_eq!(gaps[0].cells.len(), GAPS_PER_REGION);
    }

    #[test]
    fn a_heartbeat_from_an_uncovered_region_is_unexpected() {
        let members = members(1);
        let regions = regions();
        let home = id(1);
        let expected = Expected {
            members: &members,
            regions: &regions,
            home_account: &home,
            home_region: "us-east-1",
        };
        let now = at("2026-11-21T05:00:00Z");
        let mut seen = Seen::new();
        seen.insert(("ap-south-1".into(), id(1)), now);
        seen.insert(("eu-west-1".into(), id(1)), now);
        seen.insert(("eu-west-1".into(), id(7)), now);
        assert_eq!(unexpected(expected, &seen, now), 2);
    }
}
