//! The one thing consumers receive: a stream event tagged with run, target and time.

use std::time::Instant;

use crate::provider::event::StreamEvent;

/// Identifies one send; events of an older run can be recognised and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct RunId(pub u64);

/// A stream event with its provenance and arrival time.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Which send this belongs to.
    pub run: RunId,
    /// Index of the target in the run's target list.
    pub target: usize,
    /// Monotonic arrival time of the network read that carried the event's first byte.
    pub at: Instant,
    /// The event.
    pub event: StreamEvent,
}
