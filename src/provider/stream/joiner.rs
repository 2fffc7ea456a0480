//! Text pieces of one read, joined on their way out of the stream reader.

use std::time::Instant;

use super::Emit;
use crate::provider::event::{Piece, StreamEvent, TextRun};

/// The way out of [`super::read_stream`]: consecutive text pieces (of the answer, or of
/// the reasoning) stamped with the same read go out as one [`TextRun`]. A fast stream (a local server, a gateway releasing a buffered
/// burst) brings hundreds of pieces per read, and every event costs the same on its way
/// to the screen whatever its size; the numbers are the same either way. A lone piece
/// goes out as the `TextDelta` it was.
pub(super) struct Joiner<'e, 'a> {
    emit: &'e mut Emit<'a>,
    held: Held,
}

/// Text held back until it is known whether the next piece joins it.
enum Held {
    Nothing,
    Piece(Instant, Kind, Piece),
    Run(Instant, Kind, TextRun),
}

/// What the held text is: pieces of the answer and of the reasoning never join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Answer,
    Reasoning,
}

impl Kind {
    fn piece(self, piece: Piece) -> StreamEvent {
        match self {
            Self::Answer => StreamEvent::TextDelta(piece),
            Self::Reasoning => StreamEvent::ReasoningDelta(piece),
        }
    }

    fn run(self, run: TextRun) -> StreamEvent {
        match self {
            Self::Answer => StreamEvent::TextRun(run),
            Self::Reasoning => StreamEvent::ReasoningRun(run),
        }
    }
}

impl<'e, 'a> Joiner<'e, 'a> {
    pub(super) fn new(emit: &'e mut Emit<'a>) -> Self {
        Self {
            emit,
            held: Held::Nothing,
        }
    }

    pub(super) fn send(&mut self, at: Instant, event: StreamEvent) {
        match event {
            StreamEvent::TextDelta(piece) if !piece.is_empty() => self.join(at, Kind::Answer, &piece),
            StreamEvent::ReasoningDelta(piece) if !piece.is_empty() => self.join(at, Kind::Reasoning, &piece),
            other => {
                self.flush();
                (self.emit)(at, other);
            }
        }
    }

    /// A piece of answer text (as a `TextDelta` would carry it; an empty one is nothing).
    pub(super) fn text(&mut self, at: Instant, piece: &str) {
        if !piece.is_empty() {
            self.join(at, Kind::Answer, piece);
        }
    }

    /// Pieces of answer text, all from the read stamped `at`; how many there were (empty
    /// ones too).
    pub(super) fn texts<'t>(&mut self, at: Instant, mut pieces: impl Iterator<Item = &'t str>) -> usize {
        let mut given = 0;
        while let Some(piece) = pieces.next() {
            given += 1;
            self.text(at, piece);
            // Once this read's text is a run, the rest of the pieces go straight into it.
            if let Held::Run(held_at, Kind::Answer, run) = &mut self.held
                && *held_at == at
            {
                for piece in pieces.by_ref() {
                    given += 1;
                    if !piece.is_empty() {
                        run.push(piece);
                    }
                }
                break;
            }
        }
        given
    }

    fn join(&mut self, at: Instant, kind: Kind, piece: &str) {
        match &mut self.held {
            // Nearly every piece of a fast stream: one more for the run of its read.
            Held::Run(held_at, held, run) if *held_at == at && *held == kind => run.push(piece),
            Held::Piece(held_at, held, first) if *held_at == at && *held == kind => {
                self.held = Held::Run(at, kind, TextRun::of(first, piece));
            }
            _ => {
                self.flush();
                self.held = Held::Piece(at, kind, piece.into());
            }
        }
    }

    /// Send the text held back, if any.
    pub(super) fn flush(&mut self) {
        match std::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            Held::Piece(at, kind, piece) => (self.emit)(at, kind.piece(piece)),
            Held::Run(at, kind, run) => (self.emit)(at, kind.run(run)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn text_pieces_of_one_read_go_out_joined_and_nothing_else_is_touched() {
        let (one, two) = (Instant::now(), Instant::now() + Duration::from_millis(3));
        let mut out = Vec::new();
        let mut collect = |at: Instant, e: StreamEvent| out.push((at, e));
        let mut joiner = Joiner::new(&mut collect);
        let text = |t: &str| StreamEvent::TextDelta(t.into());
        joiner.send(one, text("He"));
        joiner.send(one, text("llo"));
        joiner.send(one, text(","));
        joiner.send(two, text(" you"));
        joiner.send(two, StreamEvent::ReasoningDelta("hm".into()));
        joiner.send(two, StreamEvent::ReasoningDelta(", so".into()));
        joiner.send(two, text(""));
        joiner.send(two, text("!"));
        joiner.flush();
        joiner.flush();
        joiner.send(two, StreamEvent::Done);
        let run = TextRun {
            text: "Hello,".into(),
            pieces: 3,
            first: 2,
        };
        assert_eq!(
            out,
            vec![
                (one, StreamEvent::TextRun(run)),
                // Another read: a new piece, alone, stays the delta it was.
                (two, text(" you")),
                // Reasoning joins its own kind, never the answer's.
                (
                    two,
                    StreamEvent::ReasoningRun(TextRun {
                        text: "hm, so".into(),
                        pieces: 2,
                        first: 2,
                    })
                ),
                (two, text("")),
                (two, text("!")),
                (two, StreamEvent::Done),
            ]
        );
    }

    #[test]
    fn a_read_s_pieces_given_at_once_join_as_one_at_a_time_would() {
        let (one, two) = (Instant::now(), Instant::now() + Duration::from_millis(3));
        let one_at_a_time = |reads: &[(Instant, &[&str])]| {
            let mut out = Vec::new();
            let mut collect = |at: Instant, e: StreamEvent| out.push((at, e));
            let mut joiner = Joiner::new(&mut collect);
            for (at, pieces) in reads {
                for p in *pieces {
                    joiner.text(*at, p);
                }
            }
            joiner.flush();
            out
        };
        let at_once = |reads: &[(Instant, &[&str])]| {
            let mut out = Vec::new();
            let mut collect = |at: Instant, e: StreamEvent| out.push((at, e));
            let mut joiner = Joiner::new(&mut collect);
            for (at, pieces) in reads {
                assert_eq!(joiner.texts(*at, pieces.iter().copied()), pieces.len());
            }
            joiner.flush();
            out
        };
        // Empty pieces, and a read that opens with one while the last read's run is held:
        // nothing of the new read may land in the old read's run.
        let cases: [&[(Instant, &[&str])]; 4] = [
            &[(one, &["a", "b", "", "c"]), (two, &["", "d", "e"])],
            &[(one, &["", "", "a"]), (two, &["b"])],
            &[(one, &["a", "b"]), (two, &[""]), (two, &["c", "d"])],
            &[(one, &[]), (two, &["x", "", "y", "z"])],
        ];
        for reads in cases {
            assert_eq!(at_once(reads), one_at_a_time(reads), "{reads:?}");
        }
    }
}
