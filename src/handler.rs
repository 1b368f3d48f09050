//! The handler: the pipeline's stages in order. parse → classify → allowances → enrich → render
//! is the pure core ([`decide`]); deliver claims, publishes and records ([`Handler::handle`],
//! [`crate::deliver`]). The pure core is split where the account's name is needed:
//! [`parse_and_classify`], then (in organization mode) the account directory is asked within
//! its budget, side by side with the state table for the account's declared window
//! ([`WindowLookup`]), then [`enrich_and_render`] with both. After delivery a use inside a
//! window is noted for its root-use report. A member forwarder's failing alarm takes the same
//! path as a root event ([`crate::forwarder`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::account_directory::CachedDirectory;
use crate::config::Config;
use crate::deliver::{AlertGuard, Delivered, alert_claim, deliver, forwarder_claim};
use crate::detect::alert::{Alert, declaration_status, enrich, event_account, noted_use};
use crate::detect::classify::{Ignored, Verdict, classify};
use crate::detect::own_audit;
use crate::detect::record::{EventError, ParsedEvent, check_source, parse_event};
use crate::domain::limits::{LOOKUP_BUDGET, STATE_RESERVE};
use crate::domain::{
    Account, AccountId, AccountName, Declaration, DeclarationStatus, NotificationKind, Severity,
};
use crate::error::HandlerError;
use crate::forwarder::render::render as forwarder_render;
use crate::forwarder::{Alarm, ForwarderFailure, is_alarm_state_change, read_alarm};
use crate::invocation::{Budget, Invocation};
use crate::ports::{
    AccountDirectory, AlertPublisher, AlertState, Claim, Declarations, EventKey, NoDirectory,
};
use crate::render::notification::{Notification, render};

/// What rootwatch decided to do with an event, before any I/O.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Alert {
        alert: Box<Alert>,
        notification: Box<Notification>,
    },
    /// A member account's forwarder could not forward some events: a `forwarder-failing` alert.
    ForwarderFailing {
        failure: Box<ForwarderFailure>,
        notification: Box<Notification>,
    },
    Ignore {
        event_id: Option<String>,
        reason: String,
    },
    /// A forwarder's heartbeat: recorded for coverage, never published
    /// ([`crate::coverage`]).
    Heartbeat(crate::ports::Heartbeat),
}

impl Decision {
    /// What would be published, when something would.
    pub fn notification(&self) -> Option<&Notification> {
        match self {
            Decision::Alert { notification, .. }
            | Decision::ForwarderFailing { notification, .. } => Some(notification),
            Decision::Ignore { .. } | Decision::Heartbeat(_) => None,
        }
    }
}

/// The pure core, every stage but delivery: the same payload and config always give the same
/// decision.
pub fn decide(payload: &Value, config: &Config) -> Result<Decision, EventError> {
    Ok(enrich_and_render(
        parse_and_classify(payload)?,
        config,
        None,
        &WindowLookup::Off,
    ))
}

/// What the state table said of the account's declared window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowLookup {
    /// Declarations are off (no table or no stream): not asked.
    Off,
    /// The account's announced window, or `None`.
    Found(Option<Declaration>),
    /// Not answered in time, failed, or skipped: treated as not declared.
    Unchecked,
}

/// What parse and classify made of a payload: everything the account-name lookup needs to know
/// before the alert is enriched.
#[derive(Debug, Clone, PartialEq)]
pub enum Classified {
    /// A root event the rule table alerts on, and its verdict.
    Root {
        parsed: Box<ParsedEvent>,
        verdict: Verdict,
    },
    /// A member account's forwarder could not forward some events.
    ForwarderFailing(Box<ForwarderFailure>),
    /// A forwarder's heartbeat ([`crate::coverage`]): recorded, never published.
    Heartbeat(crate::ports::Heartbeat),
    Ignore(Ignored),
}

impl Classified {
    /// The account the alert is about, the one to name; `None` for an ignored event.
    pub fn account(&self) -> Option<AccountId> {
        match self {
            Classified::Root { parsed, .. } => event_account(parsed),
            Classified::ForwarderFailing(failure) => failure.account.id.clone(),
            Classified::Heartbeat(_) | Classified::Ignore(_) => None,
        }
    }
}

/// The pure core's first half: refuses an envelope no AWS service sent, then parses and
/// classifies (a root event by the rule table, a forwarder's alarm by its name and state).
pub fn parse_and_classify(payload: &Value) -> Result<Classified, EventError> {
    check_source(payload)?;
    if let Some(heartbeat) = crate::coverage::heartbeat::parse(payload)? {
        return Ok(Classified::Heartbeat(heartbeat));
    }
    if is_alarm_state_change(payload) {
        return Ok(match read_alarm(payload)? {
            Alarm::Failing(failure) => Classified::ForwarderFailing(failure),
            Alarm::Other { event_id, reason } => Classified::Ignore(Ignored { event_id, reason }),
        });
    }
    let parsed = parse_event(payload)?;
    Ok(match classify(&parsed.event) {
        Ok(verdict) => Classified::Root {
            parsed: Box::new(parsed),
            verdict,
        },
        Err(ignored) => Classified::Ignore(ignored),
    })
}

/// The pure core's second half: applies the allowances ([`Verdict::allow`]), names the account
/// (an `ACCOUNT_NAMES` entry wins over `directory_name`, what the account directory calls it),
/// enriches (with whether `window` covers the event) and renders.
pub fn enrich_and_render(
    classified: Classified,
    config: &Config,
    directory_name: Option<&AccountName>,
    window: &WindowLookup,
) -> Decision {
    let name = |id: Option<&AccountId>| config.account_names.choose(id, directory_name);
    match classified {
        Classified::Root { parsed, .. }
            if own_audit::is_own_audit(&parsed.event, &config.function_role) =>
        {
            Decision::Ignore {
                event_id: parsed.event.detail.valid_event_id().map(str::to_owned),
                reason: own_audit::REASON.to_owned(),
            }
        }
        Classified::Root { parsed, verdict } => {
            let id = event_account(&parsed);
            let account = Account {
                name: name(id.as_ref()),
                id,
            };
            let verdict = verdict.allow(&parsed.event, &config.assume_root_issuers);
            let mut alert = enrich(&parsed, verdict, account, config.runbook_url.as_deref());
            alert.declaration = match window {
                WindowLookup::Off => DeclarationStatus::Off,
                WindowLookup::Unchecked => DeclarationStatus::Unchecked,
                WindowLookup::Found(window) => declaration_status(&alert, window.as_ref()),
            };
            let notification = render(&alert, config.sms_limit);
            Decision::Alert {
                alert: Box::new(alert),
                notification: Box::new(notification),
            }
        }
        Classified::ForwarderFailing(mut failure) => {
            failure.account.name = name(failure.account.id.as_ref());
            let notification =
                forwarder_render(&failure, config.sms_limit, config.runbook_url.as_deref());
            Decision::ForwarderFailing {
                failure,
                notification: Box::new(notification),
            }
        }
        Classified::Heartbeat(heartbeat) => Decision::Heartbeat(heartbeat),
        Classified::Ignore(Ignored { event_id, reason }) => Decision::Ignore { event_id, reason },
    }
}

/// The function's response, also logged: what happened to the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Outcome {
    #[serde(rename_all = "camelCase")]
    Alerted {
        event_id: Option<String>,
        kind: NotificationKind,
        severity: Severity,
        /// Whether phones get it (the session's first alert, or a critical act new in it,
        /// within its text ceiling; or the notice that texts are paused).
        page: bool,
        /// Whether texts of its bucket were paused when it came: `page` is then
        /// `true` for the one notice that says so, `false` after it (email and chat only).
        texts_paused: bool,
        message_id: String,
        /// Whether the state table guarded this publish against duplicates; `false` without a
        /// table, or when it did not answer and the alert went out anyway.
        deduplicated: bool,
    },
    #[serde(rename_all = "camelCase")]
    Ignored {
        event_id: Option<String>,
        reason: String,
    },
    /// Already alerted by an earlier delivery of the same event.
    #[serde(rename_all = "camelCase")]
    Duplicate { event_id: Option<String> },
}

/// The handler of root events and forwarders' alarms: configuration plus its edges, the
/// publisher, the state store and, in organization mode, the account directory that names
/// member accounts.
#[derive(Debug)]
pub struct Handler<P, S, D = NoDirectory> {
    pub config: Config,
    pub publisher: P,
    pub state: S,
    /// Asked for the names `ACCOUNT_NAMES` does not give; `None`: never asked.
    pub directory: Option<CachedDirectory<D>>,
}

impl<P, S> Handler<P, S> {
    /// The function without an account directory.
    pub fn new(config: Config, publisher: P, state: S) -> Self {
        Self {
            config,
            publisher,
            state,
            directory: None,
        }
    }
}

impl<P, S, D> Handler<P, S, D> {
    /// The same function asking `directory` for account names (`None`: never asking).
    pub fn with_directory<E>(self, directory: Option<CachedDirectory<E>>) -> Handler<P, S, E> {
        Handler {
            config: self.config,
            publisher: self.publisher,
            state: self.state,
            directory,
        }
    }
}

impl<P: AlertPublisher, S: AlertState + Declarations, D: AccountDirectory> Handler<P, S, D> {
    /// Handles one invocation: decides, publishes when there is an alert, and logs the outcome.
    /// `invocation` names the claim's owner and sets the deadline every step keeps to; `now` is
    /// the wall clock at the start, read once (later times add a monotonic clock to it) and used
    /// to compare leases and set expiry in the state table.
    pub async fn handle(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<Outcome, HandlerError> {
        let budget = Budget::start(invocation, now);
        let classified = match parse_and_classify(payload) {
            Ok(classified) => classified,
            Err(err) => return Err(self.reject(err)),
        };
        // Only an alert's account is named: an ignored event costs no lookup.
        let account = classified.account();
        let (directory_name, window) = tokio::join!(
            self.directory_name(account.clone(), &budget),
            self.window_of(&classified, account.as_ref(), &budget)
        );
        match enrich_and_render(classified, &self.config, directory_name.as_ref(), &window) {
            Decision::Heartbeat(heartbeat) => {
                // The dispatcher records heartbeats; one reaching the handler is only ignored.
                let reason = format!("heartbeat from {} {}", heartbeat.account, heartbeat.region);
                info!(stage = "classify", %reason, "ignored");
                Ok(Outcome::Ignored {
                    event_id: None,
                    reason,
                })
            }
            Decision::Ignore { event_id, reason } => {
                info!(stage = "classify", event_id = event_id.as_deref(), %reason, "ignored");
                Ok(Outcome::Ignored { event_id, reason })
            }
            Decision::Alert {
                alert,
                notification,
            } => {
                let key = EventKey::of(alert.event_id.as_deref(), payload);
                let claim =
                    alert_claim(&alert, key.clone(), invocation, &self.config, budget.now());
                let outcome = self
                    .deliver(claim, *notification, &alert.account, &budget)
                    .await?;
                self.note(&alert, &key, &budget).await;
                Ok(outcome)
            }
            Decision::ForwarderFailing {
                failure,
                notification,
            } => {
                // An alarm state change has no CloudTrail id: its envelope's id keys it, which
                // a redelivery keeps.
                let key = EventKey::of(None, payload);
                let claim = forwarder_claim(&failure, key, invocation, &self.config, budget.now());
                self.deliver(claim, *notification, &failure.account, &budget)
                    .await
            }
        }
    }

    /// Logs an event that cannot become an alert, and fails the invocation with it.
    pub(crate) fn reject(&self, err: EventError) -> HandlerError {
        let err = HandlerError::from(err);
        error!(
            stage = "parse",
            event_id = err.event_id(),
            error_type = err.error_type(),
            retryable = false,
            "{err}"
        );
        err
    }

    /// What the directory calls the event's account: asked only in organization mode, only
    /// for an account `ACCOUNT_NAMES` does not name (the operator's name wins, and costs no
    /// call), and only when the invocation can afford the lookup's budget and still publish.
    async fn directory_name(
        &self,
        account: Option<AccountId>,
        budget: &Budget,
    ) -> Option<AccountName> {
        let directory = self.directory.as_ref()?;
        let account = account?;
        if self.config.account_names.name_of(&account).is_some() {
            return None;
        }
        if !budget.can_publish_after(LOOKUP_BUDGET) {
            warn!(stage = "enrich", %account, "too little time left to ask AWS Organizations for the account name; showing the id");
            return None;
        }
        directory.name_of(&account).await
    }

    /// The account's announced window: asked only for a root alert with declarations on, and
    /// only when the invocation can afford the lookup's budget and still publish.
    async fn window_of(
        &self,
        classified: &Classified,
        account: Option<&AccountId>,
        budget: &Budget,
    ) -> WindowLookup {
        if self.config.declaration_stream_arn.is_none()
            || !matches!(classified, Classified::Root { .. })
        {
            return WindowLookup::Off;
        }
        let Some(account) = account else {
            return WindowLookup::Unchecked;
        };
        if !budget.can_publish_after(LOOKUP_BUDGET) {
            warn!(stage = "enrich", %account, "too little time left to look up a declared window; treated as not declared");
            return WindowLookup::Unchecked;
        }
        match tokio::time::timeout(LOOKUP_BUDGET, self.state.window(account)).await {
            Ok(Ok(window)) => WindowLookup::Found(window.map(|w| w.declaration)),
            Ok(Err(err)) => {
                warn!(stage = "enrich", %account, "declared window not read; treated as not declared: {err}");
                WindowLookup::Unchecked
            }
            Err(_) => {
                warn!(stage = "enrich", %account, "declared window not read within the lookup budget; treated as not declared");
                WindowLookup::Unchecked
            }
        }
    }

    /// Notes a published (or already published) alert in its window's report, when the window's
    /// time covers it, source range or not. Never fails the alert.
    async fn note(&self, alert: &Alert, key: &EventKey, budget: &Budget) {
        let (DeclarationStatus::Declared(declaration)
        | DeclarationStatus::OutsideSource(declaration)) = &alert.declaration
        else {
            return;
        };
        let Some(time) = alert.event_time else {
            return;
        };
        if budget.left() < STATE_RESERVE {
            warn!(
                stage = "note",
                key = key.as_str(),
                "too little time left to note the use for the root-use report"
            );
            return;
        }
        let noted = noted_use(alert, time);
        match self
            .state
            .note(&declaration.account, &declaration.id, key.as_str(), &noted)
            .await
        {
            Ok(true) => {}
            Ok(false) => info!(
                stage = "note",
                key = key.as_str(),
                "the window's report is full or not kept; counted as dropped"
            ),
            Err(err) => warn!(
                stage = "note",
                key = key.as_str(),
                "use not noted for the root-use report: {err}"
            ),
        }
    }

    /// Delivers one alert about `account`, the account whose texts it counts against (and
    /// which a notice that texts are paused names).
    async fn deliver(
        &self,
        claim: Claim,
        mut notification: Notification,
        account: &Account,
        budget: &Budget,
    ) -> Result<Outcome, HandlerError> {
        let mut guard = AlertGuard {
            state: &self.state,
            claim,
            account,
            sms_limit: self.config.sms_limit,
        };
        let event_id = notification.event_id.clone();
        Ok(
            match deliver(&self.publisher, &mut guard, &mut notification, budget).await? {
                Delivered::Duplicate => Outcome::Duplicate { event_id },
                Delivered::Published {
                    message_id,
                    page,
                    deduplicated,
                } => Outcome::Alerted {
                    event_id,
                    kind: notification.kind,
                    severity: notification.severity,
                    page: notification.page,
                    texts_paused: page.texts_paused(),
                    message_id,
                    deduplicated,
                },
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AlertKind;
    use crate::fakes::FakePublisher;
    use crate::ports::Stateless;
    use crate::samples::{every_sample, sample};

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:rootwatch-alerts";

    fn app(publisher: FakePublisher) -> Handler<FakePublisher, Stateless> {
        let config =
            Config::from_lookup(|k| (k == "ALERT_TOPIC_ARN").then(|| TOPIC.to_owned())).unwrap();
        Handler::new(config, publisher, Stateless)
    }

    /// An invocation with Lambda's whole 30 s ahead of it.
    fn invocation() -> Invocation {
        Invocation::new("req-1", Utc::now() + chrono::Duration::seconds(30))
    }

    /// The kind and the outcome row read the same fact from the record; they must agree, also
    /// for a sign-in record that carries no answer at all.
    #[test]
    fn a_failed_sign_in_kind_always_comes_with_a_failed_outcome() {
        let mut unanswered = sample("root-console-sign-in-without-mfa");
        unanswered["detail"]["responseElements"] = Value::Null;
        let mut events = vec![unanswered];
        events.extend(every_sample().into_iter().map(|(_, event)| event));
        let config = app(FakePublisher::default()).config;
        let mut sign_ins = 0;
        for event in events {
            if let Ok(Decision::Alert { alert, .. }) = decide(&event, &config) {
                if alert.event_name == "ConsoleLogin" {
                    sign_ins += 1;
                    let failed = alert.attempt != crate::detect::alert::Attempt::Success;
                    assert_eq!(alert.kind == AlertKind::SignInFailed, failed, "{alert:?}");
                }
            }
        }
        assert!(sign_ins >= 5);
    }

    #[tokio::test]
    async fn alerts_are_published_once_and_ignored_events_not_at_all() {
        let app = app(FakePublisher::default());
        let alerted = app
            .handle(
                &sample("root-access-key-created"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(matches!(
            alerted,
            Outcome::Alerted { kind: NotificationKind::Root(AlertKind::AccessKeyCreated), severity: Severity::Critical, ref message_id, .. }
                if message_id == "msg-1"
        ));
        let ignored = app
            .handle(
                &sample("iam-user-console-sign-in"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(matches!(ignored, Outcome::Ignored { .. }));
        assert_eq!(app.publisher.sent.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn without_a_table_alerts_say_they_were_not_deduplicated() {
        let app = app(FakePublisher::default());
        let alerted = app
            .handle(
                &sample("root-access-key-created"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(
            matches!(
                alerted,
                Outcome::Alerted {
                    deduplicated: false,
                    ..
                }
            ),
            "{alerted:?}"
        );
    }

    #[tokio::test]
    async fn too_little_time_left_fails_retryably_at_once_without_publishing() {
        let app = app(FakePublisher::default());
        let now = Utc::now();
        let near = Invocation::new("req-1", now + chrono::Duration::seconds(5));
        let err = app
            .handle(&sample("root-access-key-created"), &near, now)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(err.error_type(), "Rootwatch.OutOfTime.Retryable");
        assert!(app.publisher.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_publish_fails_the_invocation_as_retryable() {
        let app = app(FakePublisher::failing());
        let err = app
            .handle(
                &sample("root-access-key-created"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        let diagnostic = lambda_runtime::Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, "Rootwatch.DeliveryFailed.Retryable");
    }

    /// A directory that knows one name, or never answers, and counts the questions.
    struct FakeDirectory {
        name: Option<&'static str>,
        asked: std::sync::atomic::AtomicUsize,
    }

    impl FakeDirectory {
        fn naming(name: Option<&'static str>) -> CachedDirectory<Self> {
            CachedDirectory::new(FakeDirectory {
                name,
                asked: Default::default(),
            })
        }
    }

    impl AccountDirectory for FakeDirectory {
        async fn account_name(
            &self,
            _id: &AccountId,
        ) -> Result<Option<String>, crate::ports::DirectoryError> {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match self.name {
                Some(name) => Ok(Some(name.to_owned())),
                None => std::future::pending().await,
            }
        }
    }

    const MEMBER: &str = "444455556666";

    /// `root-access-key-created`, recorded in a member account.
    fn member_event() -> Value {
        let text = serde_json::to_string(&sample("root-access-key-created")).unwrap();
        serde_json::from_str(&text.replace("111122223333", MEMBER)).unwrap()
    }

    fn org_app(
        account_names: &str,
        directory: CachedDirectory<FakeDirectory>,
    ) -> Handler<FakePublisher, Stateless, FakeDirectory> {
        let config = Config::from_lookup(|k| match k {
            "ALERT_TOPIC_ARN" => Some(TOPIC.to_owned()),
            "ACCOUNT_NAMES" => Some(account_names.to_owned()),
            _ => None,
        })
        .unwrap();
        Handler::new(config, FakePublisher::default(), Stateless).with_directory(Some(directory))
    }

    fn asked(app: &Handler<FakePublisher, Stateless, FakeDirectory>) -> usize {
        let directory = app.directory.as_ref().unwrap().directory();
        directory.asked.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn sent_subject(app: &Handler<FakePublisher, Stateless, FakeDirectory>) -> String {
        let sent = app.publisher.sent.lock().unwrap();
        sent.last().unwrap().subject.as_str().to_owned()
    }

    #[tokio::test]
    async fn the_directory_names_the_events_account() {
        let app = org_app("", FakeDirectory::naming(Some("prod-payments")));
        app.handle(&member_event(), &invocation(), Utc::now())
            .await
            .unwrap();
        assert!(
            sent_subject(&app).ends_with(" - prod-payments (444455556666)"),
            "{}",
            sent_subject(&app)
        );
        assert_eq!(asked(&app), 1);
    }

    /// The operator said what the account is called: that name, and no call.
    #[tokio::test]
    async fn an_account_names_entry_wins_and_skips_the_directory() {
        let app = org_app(
            "444455556666=payments-eu",
            FakeDirectory::naming(Some("prod-payments")),
        );
        app.handle(&member_event(), &invocation(), Utc::now())
            .await
            .unwrap();
        assert!(sent_subject(&app).ends_with(" - payments-eu (444455556666)"));
        assert_eq!(asked(&app), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_directory_delays_the_alert_by_the_budget_at_most() {
        let app = org_app("", FakeDirectory::naming(None));
        let started = tokio::time::Instant::now();
        let outcome = app
            .handle(&member_event(), &invocation(), Utc::now())
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
        assert_eq!(started.elapsed(), LOOKUP_BUDGET);
        assert!(sent_subject(&app).ends_with(" - 444455556666"));
    }

    /// With little time left the publish comes first: no lookup.
    #[tokio::test]
    async fn near_the_deadline_the_directory_is_not_asked() {
        let app = org_app("", FakeDirectory::naming(Some("prod-payments")));
        let now = Utc::now();
        let near = Invocation::new("req-1", now + chrono::Duration::milliseconds(6500));
        app.handle(&member_event(), &near, now).await.unwrap();
        assert_eq!(asked(&app), 0);
        assert!(sent_subject(&app).ends_with(" - 444455556666"));
    }

    #[tokio::test]
    async fn ignored_events_cost_no_lookup() {
        let app = org_app("", FakeDirectory::naming(Some("prod-payments")));
        let outcome = app
            .handle(
                &sample("iam-user-console-sign-in"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Ignored { .. }));
        assert_eq!(asked(&app), 0);
    }

    /// Every alerting sample, put under a source that is not AWS's: refused before anything
    /// else, never published.
    #[tokio::test]
    async fn an_envelope_no_aws_service_sent_is_refused_and_publishes_nothing() {
        let app = app(FakePublisher::default());
        let mut refused = 0;
        for (name, mut event) in every_sample() {
            if !matches!(decide(&event, &app.config), Ok(Decision::Alert { .. })) {
                continue;
            }
            event["source"] = "com.example.forged".into();
            let err = app
                .handle(&event, &invocation(), Utc::now())
                .await
                .unwrap_err();
            assert_eq!(err.error_type(), "Rootwatch.UntrustedSource", "{name:?}");
            assert!(!err.is_retryable(), "{name:?}");
            refused += 1;
        }
        assert!(refused >= 30, "{refused}");
        assert!(app.publisher.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_malformed_event_is_not_retryable_and_publishes_nothing() {
        let app = app(FakePublisher::default());
        let err = app
            .handle(
                &serde_json::json!({"detail-type": 1}),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap_err();
        assert!(!err.is_retryable());
        assert!(app.publisher.sent.lock().unwrap().is_empty());
    }
}
