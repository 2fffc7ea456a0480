//! Tool results typed in the workbench (alt-t): when answers ended in tool calls and their
//! targets have no canned results, an editor over the panes (like the inline schema's)
//! opens with a JSON object keyed by each tool called. Closing it checks the JSON; a valid
//! object continues every such pane's turn with one follow-up round: only the follow-up
//! request goes out, carrying the calls the pane shows (same ids, names and arguments)
//! and the typed result for each. Nothing of the first round is sent again.
//!
//! The pane keeps its first round and folds the follow-up in as its second round, as for
//! canned results: usage summed with each round's part kept, TTFT the first round's. The
//! time the user spent typing is nobody's latency: total leaves out the wait from the
//! first round's end to the follow-up's dispatch, tokens/s and ITL leave out the whole
//! wait between the rounds, and the elapsed clock goes on from the first round's. The
//! session records the follow-up in the first round's run (see
//! [`crate::session::SessionWriter::resume`]), results marked not canned. Only a pane in
//! its first round is offered: one follow-up round, as for canned results.
//!
//! An invalid object keeps the editor open with `line:col` in its title: nothing typed is
//! lost. Emptying the editor closes it without sending.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;
use serde_json::Value;

use super::app::App;
use super::msg::{Effect, FollowUp};
use super::pane::PaneStatus;
use crate::engine::{Continuation, RunId};
use crate::keys::Action;
use crate::pricing::Picodollars;
use crate::provider::event::FinishReason;
use crate::provider::request::CalledTool;
use crate::target::ToolResults;

/// Where the typed results stand.
#[derive(Default)]
pub struct TypedResults {
    /// The editor, while open.
    pub editor: Option<TextArea<'static>>,
    /// Each tool's last typed result, offered again the next time.
    pub last: BTreeMap<String, Value>,
    /// Why the last closing was refused (the editor stays open).
    pub problem: Option<String>,
    /// Per pane in its follow-up, the first round's cost already counted as spent: the
    /// follow-up's end counts both rounds, so this much is taken back then.
    pub counted: BTreeMap<usize, Picodollars>,
}

/// `text` as results by tool name, or why it is not: `line:col` and what is wrong.
pub fn parse(text: &str) -> Result<BTreeMap<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
        Ok(_) => Err("1:1: expected a JSON object of results by tool name".into()),
        Err(e) => Err(format!("{}:{}: {e}", e.line(), e.column())),
    }
}

/// The editor's starting text: one entry per tool, its earlier result or `""`.
pub fn prefill(names: &[String], known: impl Fn(&str) -> Option<Value>) -> String {
    let map: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| {
            (
                n.clone(),
                known(n).unwrap_or_else(|| Value::String(String::new())),
            )
        })
        .collect();
    serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_else(|_| "{}".into())
}

impl App {
    /// The text in the open results editor; `None` when it is closed.
    pub fn tool_results_draft(&self) -> Option<String> {
        Some(self.typed_results.editor.as_ref()?.lines().join("\n"))
    }

    /// The panes whose latest answer ended in tool calls that nothing answered: their
    /// target has no canned results, and the pane is done.
    pub(crate) fn panes_awaiting_results(&self) -> Vec<usize> {
        (0..self.panes.len())
            .filter(|&i| {
                let p = &self.panes[i];
                // Without tools of its own a target has nothing to carry results in.
                let canned = (self.targets[i].params.tools.as_ref()).is_none_or(|t| t.results.is_some());
                let called = !p.metrics.tool_calls.is_empty()
                    && matches!(p.metrics.finish_reason(), Some((FinishReason::ToolCalls, _)));
                // One follow-up round, as for canned results.
                let first_round = p.metrics.tool_rounds.count() == 1;
                !canned
                    && first_round
                    && called
                    && !p.status.is_active()
                    && self.conversation.sent.get(i).is_some_and(Option::is_some)
            })
            .collect()
    }

    /// Open the results editor, or close it: check what was typed and run the follow-up.
    pub(super) fn toggle_tool_results(&mut self) -> Vec<Effect> {
        let Some(editor) = self.typed_results.editor.take() else {
            self.open_tool_results();
            return Vec::new();
        };
        let text = editor.lines().join("\n");
        if text.trim().is_empty() {
            self.typed_results.problem = None;
            self.notice = Some("tool results: nothing typed, nothing sent".into());
            return Vec::new();
        }
        match parse(&text) {
            Ok(results) => {
                self.typed_results.problem = None;
                self.typed_results.last.extend(results.clone());
                self.follow_up_with(results)
            }
            Err(why) => {
                // Keep it open with the problem in its title: nothing typed is lost.
                self.typed_results.problem = Some(why.clone());
                self.typed_results.editor = Some(editor);
                self.notice = Some(format!(
                    "tool results: {why}: fix it and press esc, or empty the editor to send nothing"
                ));
                Vec::new()
            }
        }
    }

    fn open_tool_results(&mut self) {
        let panes = self.panes_awaiting_results();
        if panes.is_empty() {
            self.notice = Some(
                "no answer ended in tool calls without canned results: send a prompt that calls a tool first"
                    .into(),
            );
            return;
        }
        let mut names: Vec<String> = Vec::new();
        for &i in &panes {
            for call in &self.panes[i].metrics.tool_calls {
                if let Some(name) = call.name.as_ref().filter(|n| !names.contains(n)) {
                    names.push(name.clone());
                }
            }
        }
        let text = prefill(&names, |n| self.typed_results.last.get(n).cloned());
        let mut editor = TextArea::from(text.lines().map(str::to_string));
        editor.move_cursor(ratatui_textarea::CursorMove::Bottom);
        editor.move_cursor(ratatui_textarea::CursorMove::End);
        self.typed_results.problem = None;
        self.typed_results.editor = Some(editor);
    }

    /// Continue every pane awaiting results with one follow-up round answering the calls
    /// it shows with `results`.
    fn follow_up_with(&mut self, results: BTreeMap<String, Value>) -> Vec<Effect> {
        let results = ToolResults { results, typed: true };
        let mut jobs = Vec::new();
        let mut sent_turn = None;
        for i in self.panes_awaiting_results() {
            let (Some(sent), Some(first)) = (self.conversation.sent[i].clone(), self.panes[i].run) else {
                continue;
            };
            let metrics = &self.panes[i].metrics;
            let calls = (metrics.tool_calls.iter())
                .map(|c| CalledTool {
                    id: c.id.clone().unwrap_or_default(),
                    name: c.name.clone().unwrap_or_default(),
                    arguments: c.arguments.clone(),
                })
                .collect();
            sent_turn.get_or_insert((sent.turn, sent.prompt.clone()));
            let continuation = Continuation {
                target: self.targets[i].clone(),
                request: sent.request,
                text: metrics.text.clone(),
                calls,
                results: results.clone(),
            };
            jobs.push(FollowUp {
                pane: i,
                first,
                continuation,
            });
        }
        let Some((turn, prompt)) = sent_turn else {
            self.notice = Some("tool results: no answer awaits them any more: nothing sent".into());
            return Vec::new();
        };
        // A live send like any other: the budget and the confirmation apply, to the
        // follow-up request alone.
        if crate::tokens::ready() {
            let worst: Vec<_> = (jobs.iter())
                .map(|j| {
                    let c = &j.continuation;
                    let check = crate::preflight::check(&c.target, &c.follow_up_request(), &self.prices);
                    check.worst_case.filter(|_| check.too_long.is_none())
                })
                .collect();
            let panes: Vec<String> = jobs.iter().map(|j| j.pane.to_string()).collect();
            let key = format!("tool results {}\u{0}{turn}\u{0}{prompt}", panes.join(","));
            if !self.cost_allows(&worst, key) {
                return Vec::new();
            }
        }
        self.run = RunId(self.run.0 + 1);
        for job in &jobs {
            self.resume_pane(job.pane);
        }
        self.notice = Some(format!(
            "tool results: one follow-up round to {} pane(s) answers the calls shown; the first round is not sent again",
            jobs.len()
        ));
        vec![Effect::ContinueRun { run: self.run, jobs }]
    }

    /// Pane `i`, whose first round ended, goes on as run `self.run`: its text, calls and
    /// numbers stay, the follow-up folds in after them.
    fn resume_pane(&mut self, i: usize) {
        let p = &mut self.panes[i];
        p.run = Some(self.run);
        p.status = PaneStatus::Queued;
        self.dirty = true;
    }

    /// Pane `i`'s run, which had ended, goes on with a follow-up round dispatched `at`
    /// (live, or played back from a session): the run logged and the cost counted at its
    /// first end are taken back, since its next end logs and prices both rounds; the
    /// elapsed clock goes on from the first round's, the pause left out.
    pub(super) fn reopen(&mut self, i: usize, at: std::time::Instant) {
        if self.is_live(i)
            && let Some((cost, _)) = self.pane_cost(i)
        {
            self.typed_results.counted.insert(i, cost);
        }
        self.unlog_run(i);
        let p = &mut self.panes[i];
        if !p.status.is_active() {
            p.status = PaneStatus::Queued;
        }
        if let (Some(queued), Some(end)) = (p.queued_at, p.metrics.ended_at) {
            p.queued_at = at.checked_sub(end.saturating_duration_since(queued));
        }
    }

    /// A key while the results editor is open: esc (or the results key) closes it, anything
    /// else edits. `None` when it is not open.
    pub(super) fn tool_results_key(&mut self, key: KeyEvent, action: Option<Action>) -> Option<Vec<Effect>> {
        if action == Some(Action::Quit) && key.modifiers.contains(KeyModifiers::CONTROL) {
            return None;
        }
        let editor = self.typed_results.editor.as_mut()?;
        if key.code == KeyCode::Esc || action == Some(Action::ToolResults) {
            return Some(self.toggle_tool_results());
        }
        editor.input(key);
        Some(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn an_invalid_object_says_where() {
        let why = parse("{\n  \"get_weather\": ,\n}").unwrap_err();
        assert!(why.starts_with("2:"), "{why}");
        assert!(parse("[1]").unwrap_err().contains("JSON object"));
        assert_eq!(
            parse(r#"{"now": "12:00"}"#).unwrap(),
            [("now".to_string(), json!("12:00"))].into()
        );
    }

    #[test]
    fn the_prefill_has_one_entry_per_tool_with_its_earlier_result() {
        let names = ["get_weather".to_string(), "now".to_string()];
        let text = prefill(&names, |n| (n == "now").then(|| json!("12:00")));
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"get_weather": "", "now": "12:00"})
        );
    }
}
