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
