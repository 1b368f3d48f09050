//! Detection, the pure core's first stages: parse (the event model and its tolerant
//! parser, [`record`]), classify (the rule table, [`rules`], and the engine that applies it,
//! [`classify`]), the allowances that may lower a classified `sts:AssumeRoot` task
//! ([`allowances`]), and enrich (an [`alert::Alert`], [`alert`]). No I/O, no clock, no
//! environment.

pub mod alert;
pub mod allowances;
pub mod classify;
pub mod own_audit;
pub mod record;
pub mod rules;
