//! The domain, at the bottom of the crate: the words every other module speaks, each a type that
//! cannot hold an invalid value. Accounts and their names ([`AccountId`], [`AccountName`],
//! [`AccountNames`], [`Account`]), the alert topic ([`TopicArn`]), regions, what an alert is
//! about and how bad ([`Severity`], [`AlertKind`], [`NotificationKind`]) and which of an
//! account's text ceilings it counts against ([`TextBucket`]), how root
//! authenticated ([`CredentialKind`], [`MfaState`]), the SMS segment ([`SmsLimit`] and the GSM-7
//! alphabet), declared root use ([`Declaration`], [`DeclarationStatus`]) and every time limit the
//! function keeps ([`limits`]).
//!
//! Nothing here imports from the rest of the crate except [`crate::sanitize`]; everything else
//! imports from here.

mod account;
mod credential;
mod declaration;
mod issuer;
mod kind;
pub mod limits;
mod region;
mod severity;
mod sms;
mod topic;

pub use account::{Account, AccountId, AccountName, AccountNames};
pub use credential::{CredentialKind, MfaState};
pub use declaration::{Coverage, Declaration, DeclarationStatus, NotedUse, Report, SourceCidr};
pub use issuer::AssumeRootIssuers;
pub use kind::{AlertKind, NotificationKind, PostureKind, TextBucket, TextPeriod, TextScope};
pub use region::{UNKNOWN_REGION, is_region_code};
pub use severity::Severity;
pub use sms::{SmsLimit, is_gsm7_basic};
pub use topic::TopicArn;
