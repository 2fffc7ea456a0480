//! Tool results typed in the workbench (alt-t): when answers ended in tool calls and their
//! targets have no canned results, an editor over the panes (like the inline schema's)
//! opens with a JSON object keyed by each tool called. Closing it checks the JSON; a valid
//! object runs the follow-up round for every such pane through the same machinery as
//! canned results, so the session records both rounds, their usage and the results sent
//! (marked not canned). The round machinery runs inside one send, so the turn is sent
//! again: its first round asks the model anew, then the follow-up answers its calls.
//!
//! An invalid object keeps the editor open with `line:col` in its title: nothing typed is
//! lost. Emptying the editor closes it without sending.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;
use serde_json::Value;

use super::app::App;
use super::msg::{Effect, Job};
use crate::engine::RunId;
use crate::keys::Action;
use crate::provider::event::FinishReason;
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
                !canned
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

    /// Send again, with `results` for the follow-up, every pane awaiting results.
    fn follow_up_with(&mut self, results: BTreeMap<String, Value>) -> Vec<Effect> {
        let panes = self.panes_awaiting_results();
        let mut jobs = Vec::new();
        let mut sent_turn = None;
        for &i in &panes {
            let Some(sent) = self.conversation.sent.get(i).cloned().flatten() else {
                continue;
            };
            let mut target = self.targets[i].clone();
            if let Some(tools) = target.params.tools.as_mut() {
                tools.results = Some(ToolResults {
                    results: results.clone(),
                    typed: true,
                });
            }
            sent_turn.get_or_insert((sent.turn, sent.prompt.clone()));
            jobs.push((i, target, sent));
        }
        let Some((turn, prompt)) = sent_turn else {
            self.notice = Some("tool results: no answer awaits them any more: nothing sent".into());
            return Vec::new();
        };
        // A live send like any other: the budget and the confirmation apply.
        if crate::tokens::ready() {
            let worst: Vec<_> = (jobs.iter())
                .map(|(_, target, sent)| {
                    let check = crate::preflight::check(target, &sent.request, &self.prices);
                    check.worst_case.filter(|_| check.too_long.is_none())
                })
                .collect();
            let panes: Vec<String> = jobs.iter().map(|(i, _, _)| i.to_string()).collect();
            let key = format!("tool results {}\u{0}{turn}\u{0}{prompt}", panes.join(","));
            if !self.cost_allows(&worst, key) {
                return Vec::new();
            }
        }
        let mut effects = Vec::new();
        self.open_session(&mut effects);
        self.run = RunId(self.run.0 + 1);
        for (i, _, sent) in &jobs {
            self.panes[*i].start(self.run, self.now, &sent.request);
        }
        self.notice = Some(format!(
            "tool results: the turn goes again to {} pane(s), then one follow-up round answers its calls",
            jobs.len()
        ));
        effects.push(Effect::StartRun {
            run: self.run,
            turn,
            system: jobs.first().and_then(|(_, _, s)| s.request.system.clone()),
            prompt,
            jobs: jobs
                .into_iter()
                .map(|(pane, target, sent)| Job {
                    pane,
                    target,
                    request: sent.request,
                    history: sent.history,
                    blocked: None,
                })
                .collect(),
        });
        effects
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
