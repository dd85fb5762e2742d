//! The attempt timer of `get` (`TimerData`), from timestamps the caller passes: the crate never
//! reads a clock, so the same inputs always give the same timer.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The spec's `TimerData`. All in whole seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerData {
    /// Seconds from the attempt's start to `now`, or to its end once it ended; never negative
    /// (a start in the future — clock skew between writers — counts as 0).
    pub elapsed: i64,
    /// The simulation's `time_limit`; 0 = no limit (CONTENT.md).
    pub limit: i64,
    /// A limit is set and `elapsed >= limit`: time is up at the limit itself, not a second
    /// later (decided; the learner saw "0h 0m 0s").
    pub exceeded: bool,
    /// With a limit, the time remaining as `"{-}{h}h {m}m {s}s"` (SIMULATION.md's
    /// `"-0h 1m 5s"`: the countdown runs past 0 into negatives); without one, the elapsed time
    /// counting up.
    pub formatted: String,
    /// A limit is set and the remaining time is below 0.
    pub negative: bool,
}

/// The timer of an attempt started at `started_at` with `limit_seconds` (0 = none), that ended
/// at `ended_at` if it did, seen at `now`.
pub fn timer(
    started_at: OffsetDateTime,
    ended_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    limit_seconds: u32,
) -> TimerData {
    let elapsed = seconds_between(started_at, ended_at.unwrap_or(now));
    let limit = i64::from(limit_seconds);
    let (formatted, negative, exceeded) = if limit == 0 {
        (format_seconds(elapsed), false, false)
    } else {
        // elapsed is at most ~6e11 s (the span of OffsetDateTime), far from overflow.
        let remaining = limit - elapsed;
        (format_seconds(remaining), remaining < 0, elapsed >= limit)
    };
    TimerData {
        elapsed,
        limit,
        exceeded,
        formatted,
        negative,
    }
}

/// Whole seconds from `from` to `to`, 0 when `to` is earlier.
pub fn seconds_between(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    (to - from).whole_seconds().max(0)
}

/// `"1h 2m 3s"`, `"-0h 1m 5s"`; hours are not wrapped into days.
pub fn format_seconds(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    format!("{sign}{}h {}m {}s", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn counts_down_and_past_zero() {
        let t = timer(at(0), None, at(965), 900);
        assert_eq!(t.elapsed, 965);
        assert_eq!(t.formatted, "-0h 1m 5s");
        assert!(t.exceeded && t.negative);
        let t = timer(at(0), None, at(900), 900);
        assert_eq!(t.formatted, "0h 0m 0s");
        assert!(t.exceeded && !t.negative);
        let t = timer(at(0), None, at(1), 3_725);
        assert_eq!(t.formatted, "1h 2m 4s");
        assert!(!t.exceeded);
    }

    #[test]
    fn no_limit_counts_up_and_never_runs_out() {
        let t = timer(at(0), None, at(100_000), 0);
        assert_eq!(t.formatted, "27h 46m 40s");
        assert!(!t.exceeded && !t.negative);
    }

    #[test]
    fn an_ended_attempt_stops_and_skew_is_zero() {
        let t = timer(at(0), Some(at(30)), at(5_000), 60);
        assert_eq!((t.elapsed, t.exceeded), (30, false));
        assert_eq!(timer(at(10), None, at(0), 60).elapsed, 0);
    }
}
