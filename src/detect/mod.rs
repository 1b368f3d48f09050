//! Detection, the pure core's first half: the event model and its tolerant parser
//! ([`record`]), the rule table ([`rules`]) and the engine that applies it ([`classify`]), and
//! enrichment into an [`alert::Alert`] ([`alert`]). No I/O, no clock, no environment.

pub mod alert;
pub mod classify;
pub mod record;
pub mod rules;
