//! The gaps between content events, summarised as they arrive in a fixed amount of memory.
//!
//! A run of 100k tokens would keep 16 bytes a token if it kept every gap, more than the
//! text itself. Only the numbers shown are kept instead: the count, sum, minimum and
//! maximum exactly, and the distribution for the mean, median and 95th percentile:
//!
//! - exactly, while there are at most [`EXACT_UP_TO`] gaps (every stream a test pins
//!   against the server's send times, and most real answers);
//! - beyond that, in a log-bucket histogram (the DDSketch mapping): a gap of `x` ns falls
//!   in bucket `i = ceil(log_γ x)` and reads back as `2γ^i / (γ + 1)`, within
//!   [`RELATIVE_ERROR`] (1%) of every value in that bucket. Gaps of zero (events from the
//!   same network read) are counted apart and read back as exactly zero. The buckets
//!   span only the indices seen, at most about 1 500 from 1 ns to an hour, so the memory
//!   is bounded whatever the length of the stream.

use std::time::Duration;

/// Gaps kept exactly before switching to the histogram.
pub const EXACT_UP_TO: usize = 1024;

/// The most a percentile read from the histogram can differ from the true gap of that
/// rank, as a fraction of it.
pub const RELATIVE_ERROR: f64 = 0.01;

/// γ = (1 + α) / (1 − α): bucket bounds grow by this factor.
const GAMMA: f64 = (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR);

/// Mean, percentiles and extremes of the gaps, in a bounded amount of memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItlStats {
    count: u64,
    sum: Duration,
    min: Option<Duration>,
    max: Option<Duration>,
    /// Every gap, while there are at most [`EXACT_UP_TO`]; emptied (and freed) when the
    /// histogram takes over.
    exact: Vec<Duration>,
    /// The histogram, once there were more than [`EXACT_UP_TO`] gaps.
    histogram: Option<Histogram>,
}

/// Log buckets over nanoseconds; `counts[k]` is bucket `first + k`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Histogram {
    zeros: u64,
    first: i32,
    counts: Vec<u64>,
}

impl Histogram {
    fn index(nanos: f64) -> i32 {
        // nanos ≥ 1 here, so the log is finite and ≥ 0; an hour is about 1 450.
        (nanos.ln() / GAMMA.ln()).ceil() as i32
    }

    fn value(index: i32) -> f64 {
        2.0 * GAMMA.powi(index) / (GAMMA + 1.0)
    }

    fn add(&mut self, gap: Duration) {
        let nanos = gap.as_nanos() as f64;
        if nanos < 1.0 {
            self.zeros += 1;
            return;
        }
        let i = Self::index(nanos);
        if self.counts.is_empty() {
            self.first = i;
        }
        if i < self.first {
            let grow = usize::try_from(self.first - i).unwrap_or(0);
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first = i;
        }
        let k = usize::try_from(i - self.first).unwrap_or(0);
        if k >= self.counts.len() {
            self.counts.resize(k + 1, 0);
        }
        self.counts[k] += 1;
    }

    /// The gap of 1-based `rank` in sorted order, as nanoseconds.
    fn at_rank(&self, rank: u64) -> f64 {
        if rank <= self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        let mut last = 0.0;
        for (k, &n) in self.counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            seen += n;
            last = Self::value(self.first + i32::try_from(k).unwrap_or(i32::MAX));
            if seen >= rank {
                break;
            }
        }
        last
    }
}

impl ItlStats {
    /// Count one gap.
    pub fn push(&mut self, gap: Duration) {
        if gap.is_zero()
            && let Some(h) = &mut self.histogram
        {
            // Events of one read share its arrival, and on a fast stream most gaps are
            // these: nothing to sum or bucket (the largest gap is already at least 0).
            h.zeros += 1;
            self.count += 1;
            self.min = Some(Duration::ZERO);
            return;
        }
        self.count += 1;
        self.sum += gap;
        self.min = Some(self.min.map_or(gap, |m| m.min(gap)));
        self.max = Some(self.max.map_or(gap, |m| m.max(gap)));
        match &mut self.histogram {
            Some(h) => h.add(gap),
            None if self.exact.len() < EXACT_UP_TO => self.exact.push(gap),
            None => {
                let mut h = Histogram::default();
                for g in std::mem::take(&mut self.exact) {
                    h.add(g);
                }
                h.add(gap);
                self.histogram = Some(h);
            }
        }
    }

    /// Count `n` gaps of zero: events that came in one read with the one before them. The
    /// summary is the one `n` calls of [`Self::push`] would leave.
    pub fn push_zeros(&mut self, n: u64) {
        let mut left = n;
        while left > 0 && self.histogram.is_none() {
            self.push(Duration::ZERO);
            left -= 1;
        }
        if let Some(h) = &mut self.histogram
            && left > 0
        {
            h.zeros += left;
            self.count += left;
            self.min = Some(Duration::ZERO);
        }
    }

    /// Gaps counted.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether no gap was counted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The shortest gap.
    pub fn min(&self) -> Option<Duration> {
        self.min
    }

    /// The longest gap.
    pub fn max(&self) -> Option<Duration> {
        self.max
    }

    /// The mean gap in milliseconds, exact (to f64 precision).
    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum.as_secs_f64() * 1e3 / self.count as f64)
    }

    /// Whether percentiles are exact (at most [`EXACT_UP_TO`] gaps) rather than within
    /// [`RELATIVE_ERROR`].
    pub fn is_exact(&self) -> bool {
        self.histogram.is_none()
    }

    /// The nearest-rank percentile (`q` in 0..=1) in milliseconds: exact up to
    /// [`EXACT_UP_TO`] gaps, within [`RELATIVE_ERROR`] after, and never outside the exact
    /// minimum and maximum.
    pub fn percentile_ms(&self, q: f64) -> Option<f64> {
        let (min, max) = (self.min?, self.max?);
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let ms = match &self.histogram {
            Some(h) => {
                let ns = h
                    .at_rank(rank)
                    .clamp(min.as_nanos() as f64, max.as_nanos() as f64);
                ns / 1e6
            }
            None => {
                let mut sorted = self.exact.clone();
                sorted.sort_unstable();
                let i = usize::try_from(rank).unwrap_or(usize::MAX).min(sorted.len()) - 1;
                sorted[i].as_secs_f64() * 1e3
            }
        };
        Some(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_counted_at_once_leave_what_one_by_one_would() {
        // Before, across and after the switch to the histogram.
        for (before, zeros) in [(0, 3), (5, EXACT_UP_TO as u64), (EXACT_UP_TO - 2, 10), (3000, 7)] {
            let mut one_by_one = ItlStats::default();
            let mut at_once = ItlStats::default();
            for k in 0..before {
                let gap = Duration::from_micros(50 + (k as u64 * 37) % 900);
                one_by_one.push(gap);
                at_once.push(gap);
            }
            for _ in 0..zeros {
                one_by_one.push(Duration::ZERO);
            }
            at_once.push_zeros(zeros);
            assert_eq!(at_once, one_by_one, "{before} gaps, then {zeros} zeros");
        }
    }

    /// Nearest-rank percentile of a list, the reference the summary must match.
    fn reference_ms(gaps: &[Duration], q: f64) -> f64 {
        let mut sorted = gaps.to_vec();
        sorted.sort_unstable();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1e3
    }

    /// A spread of gaps: mostly a few ms, some zeros (same read), a few long stalls.
    fn gaps(n: usize) -> Vec<Duration> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        (0..n)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match i % 50 {
                    0 => Duration::ZERO,
                    1 => Duration::from_millis(800 + state % 4000),
                    _ => Duration::from_micros(500 + state % 40_000),
                }
            })
            .collect()
    }

    fn summarise(all: &[Duration]) -> ItlStats {
        let mut s = ItlStats::default();
        for &g in all {
            s.push(g);
        }
        s
    }

    #[test]
    fn up_to_the_threshold_every_number_is_exact() {
        let all = gaps(EXACT_UP_TO);
        let s = summarise(&all);
        assert!(s.is_exact());
        for q in [0.0, 0.5, 0.95, 1.0] {
            assert_eq!(s.percentile_ms(q), Some(reference_ms(&all, q)), "q={q}");
        }
        assert_eq!(s.len(), EXACT_UP_TO as u64);
        assert_eq!(s.max(), all.iter().max().copied());
        assert_eq!(s.min(), Some(Duration::ZERO));
    }

    #[test]
    fn beyond_it_percentiles_stay_within_one_percent_and_extremes_exact() {
        let all = gaps(100_000);
        let s = summarise(&all);
        assert!(!s.is_exact());
        for q in [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let want = reference_ms(&all, q);
            let got = s.percentile_ms(q).unwrap();
            assert!(
                (got - want).abs() <= want * RELATIVE_ERROR + 1e-12,
                "q={q}: {got} vs {want}"
            );
        }
        // Gaps of zero read back as zero, not as the smallest bucket.
        assert_eq!(s.percentile_ms(0.01), Some(0.0));
        assert_eq!(s.max(), all.iter().max().copied());
        assert_eq!(s.min(), all.iter().min().copied());
        let exact_mean = all.iter().sum::<Duration>().as_secs_f64() * 1e3 / all.len() as f64;
        assert_eq!(s.mean_ms(), Some(exact_mean));
    }

    #[test]
    fn a_stream_of_mostly_zero_gaps_reads_back_as_it_was() {
        // A fast stream: most events share a read with the one before.
        let all: Vec<Duration> = gaps(50_000)
            .into_iter()
            .enumerate()
            .map(|(i, g)| if i % 10 < 7 { Duration::ZERO } else { g })
            .collect();
        let s = summarise(&all);
        assert_eq!(s.len(), all.len() as u64);
        for q in [0.5, 0.7, 0.71, 0.9, 0.99, 1.0] {
            let want = reference_ms(&all, q);
            let got = s.percentile_ms(q).unwrap();
            assert!(
                (got - want).abs() <= want * RELATIVE_ERROR,
                "q={q}: {got} vs {want}"
            );
        }
        assert_eq!(s.percentile_ms(0.7), Some(0.0));
        assert_eq!(s.min(), Some(Duration::ZERO));
        assert_eq!(s.max(), all.iter().max().copied());
        let exact_mean = all.iter().sum::<Duration>().as_secs_f64() * 1e3 / all.len() as f64;
        assert_eq!(s.mean_ms(), Some(exact_mean));
    }

    #[test]
    fn the_memory_kept_does_not_grow_with_the_stream() {
        let s = summarise(&gaps(10_000));
        let buckets = s.histogram.as_ref().unwrap().counts.len();
        let s = summarise(&gaps(200_000));
        let h = s.histogram.as_ref().unwrap();
        assert_eq!(s.exact.capacity(), 0, "the exact list is freed");
        // Same range of values, same buckets: nothing is kept per gap.
        assert!(h.counts.len() <= buckets + 5, "{} vs {buckets}", h.counts.len());
        assert!(h.counts.len() < 1_500);
    }

    #[test]
    fn nothing_counted_gives_nothing() {
        let s = ItlStats::default();
        assert!(s.is_empty());
        assert_eq!((s.percentile_ms(0.5), s.mean_ms(), s.max()), (None, None, None));
        // A single huge gap and a single tiny one.
        let s = summarise(&[Duration::from_secs(3600), Duration::from_nanos(1)]);
        assert_eq!(s.percentile_ms(1.0), Some(3_600_000.0));
    }
}
