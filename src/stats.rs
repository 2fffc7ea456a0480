//! Distributions of repeated measurements: count, extremes, nearest-rank percentiles and
//! the mean.
//!
//! Percentiles use the nearest-rank method: the p-th percentile of n sorted samples is
//! the sample at 1-based rank `ceil(p / 100 * n)` (rank 1 for p = 0). It is always one of
//! the measured values, never an interpolation between two, so a p95 over 4 runs is the
//! slowest of them, which is what it honestly is.
//!
//! A leaf: plain numbers in, plain numbers out. Callers decide which samples count (a
//! failed run is never a latency sample).

use serde::{Deserialize, Serialize};

/// The summary of a set of samples. Every member but `n` is `None` when there are none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Dist {
    /// How many samples.
    pub n: usize,
    /// The smallest.
    pub min: Option<f64>,
    /// The median (nearest rank).
    pub p50: Option<f64>,
    /// The 95th percentile (nearest rank).
    pub p95: Option<f64>,
    /// The largest.
    pub max: Option<f64>,
    /// The arithmetic mean.
    pub mean: Option<f64>,
}

impl Dist {
    /// The distribution of `samples`; non-finite values are not samples and are skipped.
    pub fn of(samples: impl IntoIterator<Item = f64>) -> Self {
        let mut sorted: Vec<f64> = samples.into_iter().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Self::default();
        }
        let sum: f64 = sorted.iter().sum();
        Self {
            n,
            min: sorted.first().copied(),
            p50: percentile(&sorted, 50.0),
            p95: percentile(&sorted, 95.0),
            max: sorted.last().copied(),
            mean: Some(sum / n as f64),
        }
    }

    /// The same distribution with every value rounded to `places` decimals (for output:
    /// a mean of values given to the microsecond need not print more digits than they).
    pub fn rounded(self, places: i32) -> Self {
        let r = |v: Option<f64>| v.map(|v| round(v, places));
        Self {
            n: self.n,
            min: r(self.min),
            p50: r(self.p50),
            p95: r(self.p95),
            max: r(self.max),
            mean: r(self.mean),
        }
    }
}

/// The `p`-th percentile (0 to 100) of `sorted` (ascending) by nearest rank: the value at
/// 1-based rank `ceil(p / 100 * n)`, at least rank 1. `None` when `sorted` is empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    // In integer hundredths, so that 95% of 20 is exactly rank 19, not 19.000000000000004
    // (which `ceil` would make 20).
    let hundredths = (p * 100.0).round() as u128;
    let rank = (hundredths * n as u128).div_ceil(10_000).max(1);
    let index = usize::try_from(rank - 1).unwrap_or(usize::MAX).min(n - 1);
    sorted.get(index).copied()
}

/// The arithmetic mean of `values`, `None` when there are none.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// `v` rounded to `places` decimals.
pub fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_match_hand_computed_values() {
        // Sorted: 10 20 30 40 50 60 70 80 90 100 (n = 10).
        let samples = [70.0, 10.0, 100.0, 40.0, 20.0, 90.0, 30.0, 60.0, 80.0, 50.0];
        let d = Dist::of(samples);
        assert_eq!(d.n, 10);
        assert_eq!(d.min, Some(10.0));
        // p50: ceil(0.50 * 10) = rank 5 → 50.
        assert_eq!(d.p50, Some(50.0));
        // p95: ceil(0.95 * 10) = ceil(9.5) = rank 10 → 100.
        assert_eq!(d.p95, Some(100.0));
        assert_eq!(d.max, Some(100.0));
        assert_eq!(d.mean, Some(55.0));
    }

    #[test]
    fn small_and_exact_rank_cases() {
        // n = 4: p50 = rank 2, p95 = ceil(3.8) = rank 4.
        let d = Dist::of([4.0, 1.0, 3.0, 2.0]);
        assert_eq!((d.p50, d.p95, d.mean), (Some(2.0), Some(4.0), Some(2.5)));
        // n = 1: every statistic is the one sample.
        let d = Dist::of([7.5]);
        assert_eq!(
            (d.n, d.min, d.p50, d.p95, d.max, d.mean),
            (1, Some(7.5), Some(7.5), Some(7.5), Some(7.5), Some(7.5))
        );
        // n = 20: p95 = exactly rank 19 (no float drift up to rank 20).
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&twenty, 95.0), Some(19.0));
        assert_eq!(percentile(&twenty, 50.0), Some(10.0));
        assert_eq!(percentile(&twenty, 0.0), Some(1.0));
        assert_eq!(percentile(&twenty, 100.0), Some(20.0));
        // n = 3: p50 = ceil(1.5) = rank 2; p95 = ceil(2.85) = rank 3.
        let d = Dist::of([9.0, 3.0, 6.0]);
        assert_eq!((d.p50, d.p95), (Some(6.0), Some(9.0)));
    }

    #[test]
    fn no_samples_is_all_unknown_and_non_finite_values_are_not_samples() {
        let d = Dist::of([]);
        assert_eq!(d, Dist::default());
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"n":0,"min":null,"p50":null,"p95":null,"max":null,"mean":null}"#
        );
        let d = Dist::of([f64::NAN, 2.0, f64::INFINITY]);
        assert_eq!((d.n, d.mean), (1, Some(2.0)));
        assert_eq!(mean([]), None);
        assert_eq!(mean([1.0, 2.0]), Some(1.5));
    }

    #[test]
    fn rounding_keeps_n_and_rounds_every_value() {
        let d = Dist::of([1.0, 2.0, 2.0]).rounded(3);
        assert_eq!(d.mean, Some(1.667));
        assert_eq!(d.n, 3);
    }
}
