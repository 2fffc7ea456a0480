//! The follow-up round: when a target's first answer ends in tool calls and the target
//! has canned results, the same run sends one more request (the conversation, the
//! assistant's calls, one result per call) and that answer is the final one.
//!
//! The first round's `Done` is withheld and a [`StreamEvent::ToolRound`] marks the
//! boundary, so a consumer folds both rounds into one run (see `metrics`). A call with no
//! canned result gets `{"error": "no canned result for NAME"}`, and a note says so.
//!
//! Results typed in the workbench answer a first round that already ended: [`continue_each`]
//! starts from that recorded round (its request, text and calls) and sends only the
//! follow-up, with the same calls, ids and arguments the user saw. It emits the same
//! `ToolRound` first, so a consumer folds it as the second round of the run it continues.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use tokio::sync::{Barrier, mpsc};
use tokio_util::sync::CancellationToken;

use super::batch::BatchReceiver;
use super::{Cancels, RunHandle, RunOptions, TargetEvents, attempts};
use crate::provider::client::TimedClient;
use crate::provider::credentials::Credentials;
use crate::provider::event::{SentResult, StreamEvent, ToolRound};
use crate::provider::request::{CalledTool, ChatRequest, Message, ToolResult};
use crate::provider::stream::Emit;
use crate::target::{Target, ToolResults};

/// A first round that ended in tool calls, recorded, and the results to answer it with.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuation {
    /// The target that answered.
    pub target: Target,
    /// The turn's request, as the first round sent it.
    pub request: ChatRequest,
    /// The first round's visible text.
    pub text: String,
    /// Its calls: ids, names and arguments exactly as received, in call order.
    pub calls: Vec<CalledTool>,
    /// What to send back for them.
    pub results: ToolResults,
}

/// What the first round said, as far as a follow-up needs it.
#[derive(Debug, Default)]
struct FirstRound {
    text: String,
    calls: Vec<CalledTool>,
    /// The round ended normally with calls: its `Done` was withheld.
    follow_up: bool,
}

impl FirstRound {
    /// Note `event`; `false` for the `Done` a follow-up replaces.
    fn observe(&mut self, event: &StreamEvent) -> bool {
        match event {
            StreamEvent::TextDelta(t) => self.text.push_str(t),
            StreamEvent::TextRun(r) => self.text.push_str(&r.text),
            StreamEvent::ToolCallDelta(d) => {
                if self.calls.len() <= d.index {
                    self.calls.resize_with(d.index + 1, || CalledTool {
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                    });
                }
                let call = &mut self.calls[d.index];
                if let Some(id) = &d.id {
                    call.id.clone_from(id);
                }
                if let Some(name) = &d.name {
                    call.name.clone_from(name);
                }
                call.arguments.push_str(&d.arguments);
            }
            StreamEvent::Done if !self.calls.is_empty() => {
                self.follow_up = true;
                return false;
            }
            _ => {}
        }
        true
    }
}

impl Continuation {
    /// The follow-up request it sends: the turn's request, the assistant's text and
    /// calls, a result for each call.
    pub fn follow_up_request(&self) -> ChatRequest {
        follow_up(
            &self.request,
            self.text.clone(),
            self.calls.clone(),
            &self.results,
        )
        .0
    }
}

/// Run `first` (the request for `request`), then, if it ends in tool calls, the
/// follow-up with `results`. Ends with one terminal event, like [`attempts::run`].
#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    client: &TimedClient,
    target: &Target,
    request: &ChatRequest,
    first: reqwest::Request,
    (results, credentials): (&ToolResults, &Credentials),
    cancel: &CancellationToken,
    emit: &mut Emit<'_>,
) {
    let mut seen = FirstRound::default();
    attempts::run(client, target, first, cancel, &mut |at, event| {
        if seen.observe(&event) {
            emit(at, event);
        }
    })
    .await;
    if !seen.follow_up {
        return;
    }
    if cancel.is_cancelled() {
        emit(Instant::now(), StreamEvent::Cancelled);
        return;
    }
    let notes = missing(&seen.calls, results);
    let (next, round) = follow_up(request, seen.text, seen.calls, results);
    for note in notes {
        emit(Instant::now(), StreamEvent::Note(note));
    }
    emit(Instant::now(), StreamEvent::ToolRound(round));
    match crate::provider::build_request(&client.http, target, &next, credentials) {
        Ok(req) => attempts::run(client, target, req, cancel, emit).await,
        Err(e) => emit(Instant::now(), StreamEvent::Failed(Box::new(e))),
    }
}

/// Send the follow-up of each recorded first round in `jobs`, all released together:
/// nothing of the first rounds is sent again. Each target's events start with the
/// [`StreamEvent::ToolRound`] (at its dispatch), then the follow-up's attempts, ending
/// with one terminal event, like [`super::fan_out_each`]. Must be called inside a tokio
/// runtime; `cancels` covers every job.
pub async fn continue_each(jobs: &[Continuation], opts: RunOptions, cancels: Cancels) -> RunHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let barrier = Arc::new(Barrier::new(jobs.len() + 1));
    let mut tasks = Vec::with_capacity(jobs.len());
    for (index, job) in jobs.iter().enumerate() {
        let cancel = cancels.token(index);
        let notes = missing(&job.calls, &job.results);
        let (next, round) = follow_up(&job.request, job.text.clone(), job.calls.clone(), &job.results);
        let prepared = super::prepare(&job.target, &next).await;
        let events = TargetEvents::new(tx.clone(), opts.run, index);
        let (sink, target) = (events.clone(), job.target.clone());
        let work = async move {
            let mut emit = |at: Instant, event: StreamEvent| sink.send(at, event);
            // First, so a consumer that saw the first round end reopens the run here.
            emit(Instant::now(), StreamEvent::ToolRound(round));
            for note in notes {
                emit(Instant::now(), StreamEvent::Note(note));
            }
            match prepared {
                Ok((client, req, _)) => attempts::run(&client, &target, req, &cancel, &mut emit).await,
                Err(e) => emit(Instant::now(), StreamEvent::Failed(Box::new(e))),
            }
        };
        tasks.push(super::spawn_target(
            events,
            barrier.clone(),
            job.target.name.clone(),
            work,
        ));
    }
    barrier.wait().await;
    RunHandle {
        events: BatchReceiver::new(rx),
        cancels,
        tasks,
    }
}

/// A note for each call that `results` has nothing for (it gets an error result).
fn missing(calls: &[CalledTool], results: &ToolResults) -> Vec<String> {
    (calls.iter())
        .filter(|c| results.for_call(&c.id, &c.name).is_none())
        .map(|c| {
            let name = &c.name;
            if results.typed {
                format!(
                    "tool round: no typed result for `{name}`; sent an error result (give it one in the tool results editor)"
                )
            } else {
                format!(
                    "tool round: no canned result for `{name}`; sent an error result (add it to the tool results file)"
                )
            }
        })
        .collect()
}

/// The follow-up request: `request` plus the assistant's `text` and `calls` and a result
/// for each call.
fn follow_up(
    request: &ChatRequest,
    text: String,
    calls: Vec<CalledTool>,
    canned: &ToolResults,
) -> (ChatRequest, ToolRound) {
    let sent: Vec<SentResult> = calls
        .iter()
        .map(|c| match canned.for_call(&c.id, &c.name) {
            Some(v) => SentResult {
                call_id: c.id.clone(),
                name: c.name.clone(),
                content: v.clone(),
                canned: !canned.typed,
            },
            None => SentResult {
                call_id: c.id.clone(),
                name: c.name.clone(),
                content: json!({ "error": format!("no canned result for {}", c.name) }),
                canned: false,
            },
        })
        .collect();
    let results = sent
        .iter()
        .map(|s| ToolResult {
            call_id: s.call_id.clone(),
            name: s.name.clone(),
            content: s.content.clone(),
        })
        .collect();
    let mut next = request.clone();
    next.messages.push(Message::tool_calls(text, calls));
    next.messages.push(Message::tool_results(results));
    (
        next,
        ToolRound {
            round: 2,
            results: sent,
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::provider::event::ToolCallDelta;

    #[test]
    fn calls_assemble_and_only_their_done_is_withheld() {
        let mut seen = FirstRound::default();
        assert!(seen.observe(&StreamEvent::TextDelta("Let me check. ".into())));
        for d in [
            ToolCallDelta {
                index: 0,
                id: Some("c1".into()),
                name: Some("get_weather".into()),
                arguments: String::new(),
            },
            ToolCallDelta {
                index: 1,
                id: Some("c2".into()),
                name: Some("now".into()),
                arguments: String::new(),
            },
            ToolCallDelta {
                index: 0,
                arguments: "{\"city\":".into(),
                ..Default::default()
            },
            ToolCallDelta {
                index: 0,
                arguments: "\"Paris\"}".into(),
                ..Default::default()
            },
        ] {
            assert!(seen.observe(&StreamEvent::ToolCallDelta(Box::new(d))));
        }
        assert!(!seen.observe(&StreamEvent::Done));
        let canned = ToolResults {
            results: [("get_weather".to_string(), json!({"temp_c": 21}))].into(),
            typed: false,
        };
        let (next, round) = follow_up(
            &ChatRequest::single(None, "weather?"),
            seen.text,
            seen.calls,
            &canned,
        );
        assert_eq!(next.messages.len(), 3);
        assert_eq!(next.messages[1].content, "Let me check. ");
        assert_eq!(next.messages[1].tool_calls[0].arguments, "{\"city\":\"Paris\"}");
        assert_eq!(next.messages[1].tool_calls[1].arguments, "");
        let results = &next.messages[2].tool_results;
        assert_eq!(results[0].content, json!({"temp_c": 21}));
        assert_eq!(results[1].content, json!({"error": "no canned result for now"}));
        assert!(round.results[0].canned && !round.results[1].canned);
        let typed = ToolResults {
            typed: true,
            ..canned
        };
        let mut again = FirstRound::default();
        again.observe(&StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
            index: 0,
            id: Some("c1".into()),
            name: Some("get_weather".into()),
            arguments: "{}".into(),
        })));
        let (_, round) = follow_up(
            &ChatRequest::single(None, "weather?"),
            again.text,
            again.calls,
            &typed,
        );
        assert_eq!(round.results[0].content, json!({"temp_c": 21}));
        assert!(
            !round.results[0].canned,
            "a typed result is recorded as not canned"
        );
        let mut plain = FirstRound::default();
        assert!(
            plain.observe(&StreamEvent::Done),
            "a run without calls ends as it did"
        );
    }
}
