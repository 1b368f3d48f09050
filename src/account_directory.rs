//! Account names from a directory (AWS Organizations' `DescribeAccount`, behind the port
//! [`AccountDirectory`]): [`CachedDirectory`] asks it at most once per account for the warm
//! function's life and never for longer than [`LOOKUP_BUDGET`].
//!
//! A name is a courtesy: the alert always carries the account id. So a lookup that fails, is
//! refused or is slow costs the alert at most the budget, falls back to the id, and is not tried
//! again for [`FAILURE_BACKOFF`]: a flood of events during an outage pays the budget once, not
//! once per event. `aws/organizations.rs` is the real adapter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

use crate::domain::limits::{FAILURE_BACKOFF, LOOKUP_BUDGET};
use crate::domain::{AccountId, AccountName};
use crate::ports::{AccountDirectory, DirectoryError};

/// At most this many accounts are remembered; past it the memory starts afresh. An organization
/// has far fewer (the default quota is 10, raised on request into the thousands).
const MAX_REMEMBERED: usize = 10_000;

/// What is remembered of one account.
#[derive(Debug, Clone)]
enum Known {
    /// The directory answered: its name made safe, or `None` if nothing usable was left.
    Answered(Option<AccountName>),
    /// The directory does not know the account; ask again after this.
    NotFound { until: Instant },
}

#[derive(Debug, Default)]
struct Memory {
    accounts: HashMap<AccountId, Known>,
    /// Every lookup is paused until then, after a failure of the directory itself.
    paused_until: Option<Instant>,
}

/// A directory asked at most once per account for the life of the warm function, within
/// [`LOOKUP_BUDGET`], with failures remembered for [`FAILURE_BACKOFF`].
#[derive(Debug)]
pub struct CachedDirectory<D> {
    directory: D,
    budget: Duration,
    backoff: Duration,
    memory: Mutex<Memory>,
}

impl<D: AccountDirectory> CachedDirectory<D> {
    pub fn new(directory: D) -> Self {
        Self {
            directory,
            budget: LOOKUP_BUDGET,
            backoff: FAILURE_BACKOFF,
            memory: Mutex::default(),
        }
    }

    /// The directory behind the cache.
    pub fn directory(&self) -> &D {
        &self.directory
    }

    /// The account's name, safe to show, or `None` (the alert then shows the id alone). Takes
    /// at most the budget; never fails.
    pub(crate) async fn name_of(&self, id: &AccountId) -> Option<AccountName> {
        if let Some(remembered) = self.remembered(id, Instant::now()) {
            return remembered;
        }
        let answer = tokio::time::timeout(self.budget, self.directory.account_name(id))
            .await
            .unwrap_or(Err(DirectoryError::Timeout));
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        if memory.accounts.len() >= MAX_REMEMBERED {
            memory.accounts.clear();
        }
        match answer {
            Ok(text) => {
                let name = text.as_deref().and_then(AccountName::from_untrusted);
                if text.is_some() && name.is_none() {
                    warn!(stage = "enrich", account = %id, "the organization's name for this account has nothing showable; showing the id");
                }
                memory
                    .accounts
                    .insert(id.clone(), Known::Answered(name.clone()));
                name
            }
            Err(err) => {
                let until = Instant::now() + self.backoff;
                warn!(
                    stage = "enrich",
                    account = %id,
                    error_kind = err.kind(),
                    retry_after_secs = self.backoff.as_secs(),
                    "no account name from AWS Organizations, showing the id: {err}"
                );
                if err.concerns_only_the_account() {
                    memory
                        .accounts
                        .insert(id.clone(), Known::NotFound { until });
                } else {
                    memory.paused_until = Some(until);
                }
                None
            }
        }
    }

    /// `Some(answer)` when the directory need not be asked now.
    fn remembered(&self, id: &AccountId, now: Instant) -> Option<Option<AccountName>> {
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        match memory.accounts.get(id) {
            Some(Known::Answered(name)) => return Some(name.clone()),
            Some(Known::NotFound { until }) if *until > now => return Some(None),
            _ => {}
        }
        memory
            .paused_until
            .is_some_and(|until| until > now)
            .then_some(None)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A directory that answers from a script and counts the questions.
    struct Fake {
        answer: Result<Option<&'static str>, DirectoryError>,
        /// How long it takes to answer.
        delay: Duration,
        asked: AtomicUsize,
    }

    impl Fake {
        fn answering(answer: Result<Option<&'static str>, DirectoryError>) -> Self {
            Fake {
                answer,
                delay: Duration::ZERO,
                asked: AtomicUsize::new(0),
            }
        }

        fn asked(&self) -> usize {
            self.asked.load(Ordering::SeqCst)
        }
    }

    impl AccountDirectory for Fake {
        async fn account_name(&self, _id: &AccountId) -> Result<Option<String>, DirectoryError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.answer.clone().map(|n| n.map(str::to_owned))
        }
    }

    fn id(text: &str) -> AccountId {
        AccountId::parse(text).unwrap()
    }

    fn name(text: &str) -> Option<AccountName> {
        Some(AccountName::parse(text).unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn a_name_is_asked_for_once_per_account_and_kept() {
        let cached = CachedDirectory::new(Fake::answering(Ok(Some("prod-payments"))));
        let member = id("444455556666");
        for _ in 0..3 {
            assert_eq!(cached.name_of(&member).await, name("prod-payments"));
        }
        assert_eq!(cached.directory().asked(), 1);
        tokio::time::advance(Duration::from_secs(24 * 3600)).await;
        assert_eq!(cached.name_of(&member).await, name("prod-payments"));
        assert_eq!(
            cached.directory().asked(),
            1,
            "kept for the warm function's life"
        );
        cached.name_of(&id("777788889999")).await;
        assert_eq!(
            cached.directory().asked(),
            2,
            "another account is asked for"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_name_is_made_safe_and_an_unshowable_one_is_no_name() {
        let cached = CachedDirectory::new(Fake::answering(Ok(Some("<!here> evil.example.com"))));
        assert_eq!(
            cached.name_of(&id("444455556666")).await,
            name("here evil example com")
        );
        let cached = CachedDirectory::new(Fake::answering(Ok(Some("<>[]"))));
        assert_eq!(cached.name_of(&id("444455556666")).await, None);
        cached.name_of(&id("444455556666")).await;
        assert_eq!(
            cached.directory().asked(),
            1,
            "an answer without a name is kept too"
        );
        let cached = CachedDirectory::new(Fake::answering(Ok(None)));
        assert_eq!(cached.name_of(&id("444455556666")).await, None);
    }

    /// A directory that never answers costs the budget once; then nothing for the back-off.
    #[tokio::test(start_paused = true)]
    async fn a_silent_directory_costs_the_budget_once_per_backoff() {
        let mut silent = Fake::answering(Ok(Some("late")));
        silent.delay = Duration::from_secs(3600);
        let cached = CachedDirectory::new(silent);
        let started = Instant::now();
        assert_eq!(cached.name_of(&id("444455556666")).await, None);
        assert_eq!(started.elapsed(), LOOKUP_BUDGET);
        let again = Instant::now();
        for account in ["444455556666", "777788889999", "111122223333"] {
            assert_eq!(cached.name_of(&id(account)).await, None);
        }
        assert_eq!(again.elapsed(), Duration::ZERO, "paused: nobody waits");
        assert_eq!(cached.directory().asked(), 1);
        tokio::time::advance(FAILURE_BACKOFF).await;
        assert_eq!(cached.name_of(&id("777788889999")).await, None);
        assert_eq!(
            cached.directory().asked(),
            2,
            "asked again after the back-off"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_directory_failure_pauses_every_lookup_for_the_backoff() {
        for err in [
            DirectoryError::AccessDenied,
            DirectoryError::NotInUse,
            DirectoryError::Throttled,
            DirectoryError::Unreachable("connection refused".into()),
            DirectoryError::Other("ServiceException".into()),
        ] {
            let cached = CachedDirectory::new(Fake::answering(Err(err.clone())));
            assert_eq!(cached.name_of(&id("444455556666")).await, None);
            assert_eq!(cached.name_of(&id("777788889999")).await, None);
            assert_eq!(cached.directory().asked(), 1, "{err:?}");
            tokio::time::advance(FAILURE_BACKOFF - Duration::from_secs(1)).await;
            cached.name_of(&id("777788889999")).await;
            assert_eq!(cached.directory().asked(), 1, "{err:?}");
            tokio::time::advance(Duration::from_secs(1)).await;
            cached.name_of(&id("777788889999")).await;
            assert_eq!(cached.directory().asked(), 2, "{err:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_account_pauses_only_that_account() {
        let cached = CachedDirectory::new(Fake::answering(Err(DirectoryError::AccountNotFound)));
        cached.name_of(&id("444455556666")).await;
        cached.name_of(&id("444455556666")).await;
        assert_eq!(cached.directory().asked(), 1);
        cached.name_of(&id("777788889999")).await;
        assert_eq!(
            cached.directory().asked(),
            2,
            "other accounts are still asked for"
        );
        tokio::time::advance(FAILURE_BACKOFF).await;
        cached.name_of(&id("444455556666")).await;
        assert_eq!(cached.directory().asked(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn the_memory_is_bounded() {
        let cached = CachedDirectory::new(Fake::answering(Ok(Some("x"))));
        for n in 0..(MAX_REMEMBERED as u64 + 1) {
            cached
                .name_of(&id(&format!("{:012}", 100_000_000_000 + n)))
                .await;
        }
        assert!(cached.memory.lock().unwrap().accounts.len() <= MAX_REMEMBERED);
    }
}
