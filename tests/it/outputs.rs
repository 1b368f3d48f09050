//! The outputs after SNS: the structured alert event (its schema, the events the on-call
//! transformers are tested on, the alert bus on moto) and the Security Hub finding (on moto).

/// Every alert's event against `docs/schemas/alert-event.v1.json`; the committed fixtures.
pub(crate) mod event_schema;
/// `PutEvents` on a custom bus with a rule into SQS; `BatchImportFindings` and the sessions in
/// the state table, on moto.
mod on_moto;
