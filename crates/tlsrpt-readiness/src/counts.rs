//! Session counts come from reports that any mail operator can send: they are added with
//! saturation, so that absurd counts skew a figure instead of crashing the assessment.

/// `*total += n`, saturating.
pub(crate) fn add(total: &mut u64, n: u64) {
    *total = total.saturating_add(n);
}

/// The saturating sum.
pub(crate) fn sum(values: impl IntoIterator<Item = u64>) -> u64 {
    values.into_iter().fold(0, u64::saturating_add)
}
