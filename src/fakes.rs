//! The fakes the unit tests put behind the ports (the integration tests use moto instead).

use std::sync::Mutex;

use crate::ports::{AlertPublisher, DeliveryError};
use crate::render::notification::Notification;

/// A publisher that keeps what it was given and answers `msg-1`, `msg-2`, …; or fails every
/// time; or never answers.
#[derive(Debug, Default)]
pub struct FakePublisher {
    pub sent: Mutex<Vec<Notification>>,
    fail: bool,
    silent: bool,
}

impl FakePublisher {
    /// Refuses every publish, as a throttled SNS would.
    pub fn failing() -> Self {
        Self {
            fail: true,
            ..Self::default()
        }
    }

    /// Never answers.
    pub fn silent() -> Self {
        Self {
            silent: true,
            ..Self::default()
        }
    }

    /// How many notifications it published.
    pub fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

impl AlertPublisher for FakePublisher {
    async fn publish(&self, notification: &Notification) -> Result<String, DeliveryError> {
        if self.silent {
            std::future::pending::<()>().await;
        }
        if self.fail {
            return Err(DeliveryError {
                event_id: notification
                    .event_id
                    .clone()
                    .unwrap_or_else(|| "(none)".into()),
                reason: "throttled".into(),
            });
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(notification.clone());
        Ok(format!("msg-{}", sent.len()))
    }
}

/// An alert bus that keeps what it was given, or refuses every entry.
#[derive(Debug, Default)]
pub struct FakeEvents {
    pub put: Mutex<Vec<crate::render::event::AlertEvent>>,
    pub fail: bool,
}

impl crate::ports::AlertEvents for FakeEvents {
    async fn put(
        &self,
        event: &crate::render::event::AlertEvent,
    ) -> Result<(), crate::ports::OutputError> {
        if self.fail {
            return Err(crate::ports::OutputError::event("refused"));
        }
        self.put.lock().unwrap().push(event.clone());
        Ok(())
    }
}

/// Sessions in memory, noted as the state table's one atomic write notes them, and every finding
/// imported. `meanwhile`: an alert of the same session noted by "another invocation" just after
/// this one's first import, as a concurrent invocation would.
#[derive(Debug, Default)]
pub struct FakeFindings {
    pub sessions: Mutex<std::collections::BTreeMap<String, crate::render::finding::SessionRecord>>,
    pub imported: Mutex<Vec<crate::render::finding::Finding>>,
    pub meanwhile: Mutex<Option<(crate::render::finding::FindingEntry, String)>>,
}

impl crate::ports::Findings for FakeFindings {
    async fn note(
        &self,
        entry: &crate::render::finding::FindingEntry,
        alert_id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::render::finding::SessionRecord, crate::ports::OutputError> {
        let mut sessions = self.sessions.lock().unwrap();
        let before = sessions.remove(&entry.session);
        let record = crate::render::finding::SessionRecord::noted(before, entry, alert_id, now);
        sessions.insert(entry.session.clone(), record.clone());
        Ok(record)
    }

    async fn current(
        &self,
        session: &str,
    ) -> Result<Option<crate::render::finding::SessionRecord>, crate::ports::OutputError> {
        Ok(self.sessions.lock().unwrap().get(session).cloned())
    }

    async fn import(
        &self,
        finding: &crate::render::finding::Finding,
    ) -> Result<(), crate::ports::OutputError> {
        self.imported.lock().unwrap().push(finding.clone());
        let meanwhile = self.meanwhile.lock().unwrap().take();
        if let Some((entry, id)) = meanwhile {
            let mut sessions = self.sessions.lock().unwrap();
            let before = sessions.remove(&entry.session);
            let now = before.as_ref().map(|r| r.created_at).unwrap_or_default();
            let record = crate::render::finding::SessionRecord::noted(before, &entry, &id, now);
            sessions.insert(entry.session.clone(), record);
        }
        Ok(())
    }
}
