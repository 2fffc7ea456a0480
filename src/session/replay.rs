//! Recorded streams back into timed events: the order and the gaps they arrived with,
//! optionally faster.

use std::time::Duration;

use super::reader::{Recorded, Session, Turn};
use super::schema::EventBody;
use crate::provider::event::{ErrorKind, ProviderError};

/// How fast to play a recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// Real time divided by this factor.
    Times(f64),
    /// No waiting at all.
    Max,
}

impl std::str::FromStr for Speed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "max" => Ok(Self::Max),
            n => match n.trim_end_matches('x').parse::<f64>() {
                Ok(f) if f.is_finite() && f > 0.0 => Ok(Self::Times(f)),
                _ => Err(format!(
                    "speed `{s}`: expected a positive number (1, 2, 4) or `max`"
                )),
            },
        }
    }
}

impl Speed {
    /// Wall-clock offset at which an event recorded `t_ns` after the send is played.
    pub fn wall(self, t_ns: u64) -> Duration {
        match self {
            Self::Max => Duration::ZERO,
            Self::Times(f) => Duration::from_nanos(t_ns).div_f64(f),
        }
    }
}

/// One event to play: when (nanoseconds after the send, as recorded), for which target.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Recorded arrival, nanoseconds after the send.
    pub t_ns: u64,
    /// Session target index.
    pub target: usize,
    /// The event.
    pub event: EventBody,
}

/// Every target's events of `turn`, merged in arrival order (each target's own order
/// kept). A stream the process never finished ends with an `interrupted` failure.
pub fn schedule(turn: &Turn) -> Vec<Step> {
    let mut steps = Vec::new();
    for (&target, recorded) in &turn.answers {
        steps.extend(recorded.events.iter().map(|(t, e)| Step {
            t_ns: *t,
            target,
            event: e.clone(),
        }));
        if recorded.interrupted {
            steps.push(Step {
                t_ns: last_time(recorded),
                target,
                event: interrupted(),
            });
        }
    }
    steps.sort_by_key(|s| s.t_ns);
    steps
}

fn last_time(r: &Recorded) -> u64 {
    r.events.last().map_or(0, |(t, _)| *t)
}

/// What a replay of an experiment session shows, said when it starts; `None` for any
/// other session. The reader keeps one turn per (case, variant, repeat), each target's
/// run of that cell in its own pane, so no turn mixes cells.
pub fn experiment_notice(session: &Session) -> Option<String> {
    let e = session.experiment.as_ref()?;
    let counted = session.turns.len().saturating_sub(e.warmup as usize);
    let warmups = match e.warmup {
        0 => String::new(),
        1 => "turn 1 is the warmup, then ".into(),
        w => format!("turns 1 to {w} are the warmups, then "),
    };
    Some(format!(
        "experiment: {warmups}{counted} turns, one per (case, variant, repeat); its cells: prism sessions show {}",
        session.meta.id
    ))
}

/// The failure shown for a stream cut off by a crash or a kill.
pub fn interrupted() -> EventBody {
    let e = interrupted_error();
    EventBody::Failed {
        kind: e.kind,
        http_status: None,
        message: e.message,
        retryable: false,
        raw_body: None,
        retry_after_ms: None,
    }
}

/// See [`interrupted`].
pub fn interrupted_error() -> ProviderError {
    ProviderError::new(
        ErrorKind::Interrupted,
        "interrupted: Prism stopped while this answer was streaming; the text above is what was saved",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_parse_and_scale() {
        assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
        assert_eq!("2".parse::<Speed>(), Ok(Speed::Times(2.0)));
        assert_eq!("4x".parse::<Speed>(), Ok(Speed::Times(4.0)));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
        assert_eq!(Speed::Times(2.0).wall(1_000_000), Duration::from_micros(500));
        assert_eq!(Speed::Max.wall(1_000_000), Duration::ZERO);
    }
}
