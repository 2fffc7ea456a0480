//! Text pieces of one read, joined on their way out of the stream reader.

use std::time::Instant;

use super::Emit;
use crate::provider::event::{Piece, StreamEvent, TextRun};

/// The way out of [`super::read_stream`]: consecutive text pieces stamped with the same read go
/// out as one [`TextRun`]. A fast stream (a local server, a gateway releasing a buffered
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
    Piece(Instant, Piece),
    Run(Instant, TextRun),
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
            StreamEvent::TextDelta(piece) if !piece.is_empty() => self.text(at, &piece),
            other => {
                self.flush();
                (self.emit)(at, other);
            }
        }
    }

    /// A piece of answer text (as a `TextDelta` would carry it; an empty one is nothing).
    pub(super) fn text(&mut self, at: Instant, piece: &str) {
        if piece.is_empty() {
            return;
        }
        match &mut self.held {
            // Nearly every piece of a fast stream: one more for the run of its read.
            Held::Run(held_at, run) if *held_at == at => run.push(piece),
            Held::Piece(held_at, first) if *held_at == at => {
                self.held = Held::Run(at, TextRun::of(first, piece));
            }
            _ => {
                self.flush();
                self.held = Held::Piece(at, piece.into());
            }
        }
    }

    /// Send the text held back, if any.
    pub(super) fn flush(&mut self) {
        match std::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            Held::Piece(at, piece) => (self.emit)(at, StreamEvent::TextDelta(piece)),
            Held::Run(at, run) => (self.emit)(at, StreamEvent::TextRun(run)),
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
                (two, StreamEvent::ReasoningDelta("hm".into())),
                (two, text("")),
                (two, text("!")),
                (two, StreamEvent::Done),
            ]
        );
    }
}
