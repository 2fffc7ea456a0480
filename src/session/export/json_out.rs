//! The JSON export: everything, in a stable shape.

use super::*;

/// JSON with everything, pretty-printed into `out` with a final newline: the format
/// version, the summary, the targets' settings and every turn with each target's recorded
/// events and result row (`null` for a stream that never finished; its events are all
/// there).
pub fn write_json(session: &Session, mut out: impl Write) -> io::Result<()> {
    // Serialized straight from the loaded session: a `Value` of the whole document costs
    // over a kilobyte per event, several times the session itself.
    let document = Document {
        version: VERSION,
        meta: &session.meta,
        targets: &session.targets,
        experiment: session.experiment.as_ref(),
        turns: Turns(session),
    };
    crate::masking::to_writer_pretty(&mut out, &document)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    meta: &'a Meta,
    targets: &'a [TargetSettings],
    #[serde(skip_serializing_if = "Option::is_none")]
    experiment: Option<&'a ExperimentRecord>,
    turns: Turns<'a>,
}

struct Turns<'a>(&'a Session);

impl Serialize for Turns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.turns.iter().map(|turn| TurnOut {
            number: turn.number,
            system: turn.system.as_deref(),
            prompt: &turn.prompt,
            wall: &turn.wall,
            answers: Answers(&turn.answers, &self.0.cells),
        }))
    }
}

#[derive(Serialize)]
struct TurnOut<'a> {
    number: u32,
    system: Option<&'a str>,
    prompt: &'a str,
    wall: &'a str,
    answers: Answers<'a>,
}

struct Answers<'a>(&'a BTreeMap<usize, Recorded>, &'a BTreeMap<u64, RunCell>);

impl Serialize for Answers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(&target, r)| AnswerOut {
            target,
            run: r.run,
            cell: self.1.get(&r.run),
            history: &r.history,
            interrupted: r.interrupted,
            row: r.row.as_ref(),
            events: Events(&r.events),
        }))
    }
}

#[derive(Serialize)]
struct AnswerOut<'a> {
    target: usize,
    run: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<&'a RunCell>,
    history: &'a [u32],
    interrupted: bool,
    row: Option<&'a ResultRow>,
    events: Events<'a>,
}

struct Events<'a>(&'a [(u64, EventBody)]);

impl Serialize for Events<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(t_ns, event)| EventOut { t_ns: *t_ns, event }))
    }
}

/// An event as in the log, its time first: `{"t_ns": …, "event": "text", "text": …}`.
#[derive(Serialize)]
struct EventOut<'a> {
    t_ns: u64,
    #[serde(flatten)]
    event: &'a EventBody,
}
