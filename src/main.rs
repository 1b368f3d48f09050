//! Lambda entry point: wiring only. Config and the AWS clients are built once per cold start.

use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use rootwatch::account_directory::CachedDirectory;
use rootwatch::aws::alert_bus::EventBridgeBus;
use rootwatch::aws::cloudtrail::CloudTrailSource;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::finding_state::SessionTable;
use rootwatch::aws::heartbeats::DynamoHeartbeats;
use rootwatch::aws::iam::IamPosture;
use rootwatch::aws::organizations::{OrganizationAccounts, OrganizationsDirectory};
use rootwatch::aws::root_audit::OrganizationRoots;
use rootwatch::aws::sdk::{
    dynamodb_client, eventbridge_client, organizations_client, organizations_listing_client,
    sdk_config_loader, securityhub_client,
};
use rootwatch::aws::security_hub::{SecurityHubFindings, SessionFindings};
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::config::Config;
use rootwatch::coverage::Coverage;
use rootwatch::deliver::WithOutputs;
use rootwatch::dispatch::Function;
use rootwatch::domain::AccountId;
use rootwatch::domain::limits::STARTUP_CHECK_TIMEOUT;
use rootwatch::handler::Handler;
use rootwatch::invocation::Invocation;
use rootwatch::ports::{
    AccountDirectory, AlertPublisher, AlertState, Declarations, Heartbeats, MemberRoots,
    Organization, RootPosture, TrailSource, WatchdogState,
};
use rootwatch::posture::Posture;
use rootwatch::posture::members::MemberAudit;
use rootwatch::render::finding::Home;
use rootwatch::startup;
use rootwatch::watchdog::Watchdog;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON logs when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL / RUST_LOG.
    rootwatch::logging::init();

    let config =
        Config::from_env().inspect_err(|e| tracing::error!("invalid configuration: {e}"))?;
    let sdk_config = sdk_config_loader().load().await;
    let sns = SnsPublisher::new(
        aws_sdk_sns::Client::new(&sdk_config),
        config.topic_arn.clone(),
    );
    let tables = config.state_table.clone().map(|table| {
        let client = dynamodb_client(&sdk_config);
        let marks = DynamoWatchdogState::new(client.clone(), table.clone());
        (DynamoState::new(client, table), marks)
    });
    let region = sdk_config
        .region()
        .map_or_else(|| "unknown".to_owned(), |r| r.to_string());
    let events = alert_bus(&config, &sdk_config);
    let findings = findings(&config, &sdk_config);
    // Connect during init, not on the first alert; stops here if the topic cannot be used.
    let hub_check = async {
        if let Some(findings) = &findings {
            startup::check_security_hub(&findings.hub, &region, STARTUP_CHECK_TIMEOUT).await;
        }
    };
    let (config, ()) = tokio::join!(
        startup::connect(config, &sns, tables.as_ref().map(|(state, _)| state)),
        hub_check
    );
    let config = config?;
    tracing::info!(topic = config.topic_arn.as_str(), "rootwatch ready");
    // Findings are imported in the home account (the topic's) and region: with the default
    // product ARN, AWS takes a finding only from the account it is about (docs/security-hub.md).
    let home = Home {
        partition: config.topic_arn.partition().to_owned(),
        region: region.clone(),
        account: config.topic_arn.account().to_owned(),
    };
    let publisher = WithOutputs::new(sns, events, findings, home);
    let directory = directory(&config, &sdk_config);
    if tables.is_some() {
        tracing::info!(
            table = config.state_table.as_deref(),
            window_secs = config.session_window.as_secs(),
            sms_ceiling_per_hour = config.sms_ceiling_per_hour,
            "dedup, SMS coalescing and the hourly SMS ceiling on"
        );
    } else {
        tracing::warn!(
            "STATE_TABLE is not set: running stateless; every event is alerted, every alert pages \
             and texts have no ceiling (SMS_CEILING_PER_HOUR needs the table)"
        );
    }
    match &config.declaration_stream_arn {
        Some(stream) => tracing::info!(
            stream = stream.as_str(),
            "declarations on: the state table's stream rings for declared root use"
        ),
        None => tracing::info!(
            "declarations off (DECLARATION_STREAM_ARN is not set): record batches are refused"
        ),
    }
    // Without a table both are `None`, which the ports read as stateless.
    let (state, marks) = tables.unzip();
    let watchdog = watchdog(&config, &sdk_config, &publisher, marks);
    let posture = posture(&config, &sdk_config);
    let coverage = coverage(&config, &sdk_config, &watchdog.region);
    let checks_rule = config.checks_rule_arn.clone();
    let handler = Handler::new(config, publisher, state).with_directory(directory);
    serve(Function {
        handler,
        watchdog,
        posture: Some(posture),
        coverage,
        checks_rule,
    })
    .await
}

/// With `ALERT_EVENT_BUS`: every alert also put on that bus.
fn alert_bus(config: &Config, sdk_config: &aws_config::SdkConfig) -> Option<EventBridgeBus> {
    match &config.alert_event_bus {
        Some(bus) => {
            tracing::info!(
                bus = bus.as_str(),
                "alert events on: every alert is put on the bus"
            );
            Some(EventBridgeBus::new(eventbridge_client(sdk_config), bus))
        }
        None => {
            tracing::info!("alert events off (ALERT_EVENT_BUS is not set)");
            None
        }
    }
}

/// With `SECURITY_HUB_FINDINGS=true` (and so a state table): one finding per root session.
fn findings(config: &Config, sdk_config: &aws_config::SdkConfig) -> Option<SessionFindings> {
    let table = config
        .state_table
        .as_ref()
        .filter(|_| config.security_hub_findings)?;
    tracing::info!("Security Hub findings on: one per root session");
    Some(SessionFindings {
        sessions: SessionTable::new(dynamodb_client(sdk_config), table.clone()),
        hub: SecurityHubFindings::new(securityhub_client(sdk_config)),
    })
}

/// With `HEARTBEAT_TABLE` and `COVERAGE_REGIONS`: heartbeats recorded, and checked against the
/// organization's active accounts (`ListAccounts`).
fn coverage(
    config: &Config,
    sdk_config: &aws_config::SdkConfig,
    region: &str,
) -> Option<Coverage<DynamoHeartbeats, OrganizationAccounts>> {
    let table = config.heartbeat_table.as_ref()?;
    if config.coverage_regions.is_empty() {
        tracing::warn!("HEARTBEAT_TABLE is set without COVERAGE_REGIONS: coverage is off");
        return None;
    }
    let home_account = AccountId::parse(config.topic_arn.account())?;
    tracing::info!(
        table = table.as_str(),
        regions = ?config.coverage_regions,
        "coverage on: heartbeats recorded, checked on the checks schedule"
    );
    Some(Coverage {
        heartbeats: DynamoHeartbeats::new(dynamodb_client(sdk_config), table.clone()),
        organization: OrganizationAccounts::new(organizations_listing_client(
            sdk_config,
            config.topic_arn.partition(),
        )),
        regions: config.coverage_regions.clone(),
        home_account,
        home_region: region.to_owned(),
        sms_limit: config.sms_limit,
        runbook_url: config.runbook_url.clone(),
    })
}

/// With `ACCOUNT_NAMES_FROM_ORGANIZATIONS=true`: AWS Organizations, asked for the accounts
/// `ACCOUNT_NAMES` does not name.
fn directory(
    config: &Config,
    sdk_config: &aws_config::SdkConfig,
) -> Option<CachedDirectory<OrganizationsDirectory>> {
    if !config.account_names_from_organizations {
        return None;
    }
    let client = organizations_client(sdk_config, config.topic_arn.partition());
    tracing::info!(
        region = client.config().region().map(|r| r.to_string()),
        "account names from AWS Organizations (DescribeAccount) on"
    );
    Some(CachedDirectory::new(OrganizationsDirectory::new(client)))
}

/// The watchdog checks the function's own account (its topic's) in the SDK's region.
fn watchdog<P: Clone, W: WatchdogState>(
    config: &Config,
    sdk_config: &aws_config::SdkConfig,
    publisher: &P,
    state: W,
) -> Watchdog<CloudTrailSource, P, W> {
    Watchdog {
        trails: CloudTrailSource::new(aws_sdk_cloudtrail::Client::new(sdk_config)),
        publisher: publisher.clone(),
        state,
        account: config.topic_arn.account().to_owned(),
        region: sdk_config
            .region()
            .map_or_else(|| "unknown".to_owned(), |r| r.to_string()),
        sms_limit: config.sms_limit,
        runbook_url: config.runbook_url.clone(),
    }
}

/// The posture check reads the root user of the function's own account (its topic's) and, with
/// `MEMBER_ROOT_AUDIT`, the organization's members'.
fn posture(
    config: &Config,
    sdk_config: &aws_config::SdkConfig,
) -> Posture<IamPosture, OrganizationRoots> {
    let account = config.topic_arn.account().to_owned();
    let partition = config.topic_arn.partition();
    let members = config.member_root_audit.then(|| {
        tracing::info!("member root audit on: centralized root access read on each tick");
        MemberAudit {
            roots: OrganizationRoots::new(
                sdk_config,
                organizations_listing_client(sdk_config, partition),
                partition,
            ),
            home: account.clone(),
            sms_limit: config.sms_limit,
            runbook_url: config.runbook_url.clone(),
        }
    });
    let name = AccountId::parse(&account)
        .and_then(|id| config.account_names.choose(Some(&id), None))
        .map(|name| name.to_string());
    Posture {
        reader: IamPosture::new(aws_sdk_iam::Client::new(sdk_config)),
        members,
        partition: config.topic_arn.partition().to_owned(),
        account,
        name,
        sms_limit: config.sms_limit,
        runbook_url: config.runbook_url.clone(),
    }
}

async fn serve<P, S, T, W, D, R, M, H, O>(
    function: Function<P, S, T, W, D, R, M, H, O>,
) -> Result<(), Error>
where
    P: AlertPublisher,
    S: AlertState + Declarations,
    T: TrailSource,
    W: WatchdogState,
    D: AccountDirectory,
    R: RootPosture,
    M: MemberRoots,
    H: Heartbeats + Clone + Send + Sync + 'static,
    O: Organization,
{
    let function = &function;
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "rootwatch".into());
    let name = name.as_str();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = Utc::now();
        let invocation = Invocation::from_context(&event.context, now);
        // Boxed: the SDK's nested futures inside would exceed the compiler's layout depth.
        let (result, metrics) = Box::pin(function.handle(&event.payload, &invocation, now)).await;
        // Embedded Metric Format: a whole JSON line on stdout, read by CloudWatch Logs.
        if let Some(line) = metrics.emf(name, Utc::now()) {
            println!("{line}");
        }
        for line in metrics.coverage_emf(name, Utc::now()) {
            println!("{line}");
        }
        result
    }))
    .await
}
