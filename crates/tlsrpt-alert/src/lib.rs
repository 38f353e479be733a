//! Alert rules for issue #9: each rule is a small pure function from a domain's evidence
//! (daily rollups of trusted reports, the latest live check, the advisor's verdict) to
//! the conditions that hold ([`NewAlert`]s). The [`Evaluator`] reads that evidence from
//! the store, runs the rules with each domain's settings ([`RulesConfig`] and its
//! [`DomainOverride`]), and records the outcome with `Store::sync_alerts`, which opens,
//! keeps and resolves alerts and queues their notifications.
//!
//! Only trusted reports count: a forged report can neither raise nor clear an alert.

mod background;
pub mod checks;
mod config;
mod evaluate;
pub mod reports;
mod rule;

pub use config::{AlertRules, DomainOverride, DomainRules, RulesConfig};
pub use evaluate::{Evaluation, Evaluator};
pub use rule::{Family, Rule};
pub use tlsrpt_store::NewAlert;
