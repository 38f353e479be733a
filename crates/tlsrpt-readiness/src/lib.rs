//! The readiness advisor: may a domain move its MTA-STS policy from `mode: testing` to
//! `mode: enforce`? (READINESS.md)
//!
//! [`assess`] weighs the stored reports of a window (days, reporters, sessions, failures by
//! result type, the policies reporters saw) together with the latest live check, and returns
//! an [`Assessment`]: a [`Verdict`], every [`Criterion`] with its evidence, the
//! [`Projection`] of what enforce would have done, and a [`Step`]-by-step plan. The
//! [`export`] functions render assessments as Markdown, JSON, CSV or a printable HTML page.
//!
//! Pure logic: no database, no network, no clock. The caller fills an [`Evidence`] from the
//! store (rows from [`Thresholds::earliest_day`] on) and the checker.
//!
//! The criteria, their thresholds and what pass, warn and fail mean are described in the
//! crate README.

pub use crate::assess::assess;
pub use crate::assessment::{
    Assessment, Breakdown, Criterion, DayProjection, Freshness, LiveCheckSummary, PolicyComparison,
    Projection, SeenPolicy, Status, Step, Verdict, Window,
};
pub use crate::criterion::CriterionId;
pub use crate::evidence::{Evidence, Excluded, FailureRow, PolicySeen, ReporterDay};
pub use crate::policy_diff::{LineDiff, diff_policy_lines, policy_lines};
pub use crate::thresholds::Thresholds;

pub mod export;

mod assess;
mod assessment;
mod counts;
mod criterion;
mod estimate;
mod evidence;
mod live;
mod plan;
mod policy_diff;
mod projection;
mod reports;
mod thresholds;
mod window;
