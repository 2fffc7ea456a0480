//! Sending: the pre-flight checks, each target's own request from its conversation, the
//! session to save it in, and the run effect; and resending one pane.

use super::app::App;
use super::conversation::Sent;
use super::msg::{Effect, Job};
use crate::engine::RunId;
use crate::pricing::Picodollars;
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
use crate::provider::request::ChatRequest;

impl App {
    /// Send pane `i` its latest request again: the same turn, its own history.
    pub(super) fn retry_pane(&mut self, i: usize) -> Vec<Effect> {
        let Some(sent) = self.conversation.sent.get(i).cloned().flatten() else {
            self.notice = Some(format!(
                "nothing sent to this target yet: {} sends the prompt",
                self.keymap.send_keys()
            ));
            return Vec::new();
        };
        // A retry is a live send like any other: the budget and the confirmation apply.
        if crate::tokens::ready() {
            let check = crate::preflight::check(&self.targets[i], &sent.request, &self.prices);
            let worst = [check.worst_case.filter(|_| check.too_long.is_none())];
            let key = format!("retry {i}\u{0}{}\u{0}{}", sent.turn, sent.prompt);
            if !self.cost_allows(&worst, key) {
                return Vec::new();
            }
        }
        let mut effects = Vec::new();
        if let Some(run) = self.panes[i].run.filter(|_| self.panes[i].status.is_active()) {
            effects.push(Effect::Cancel { run, pane: Some(i) });
        }
        self.open_session(&mut effects);
        self.run = RunId(self.run.0 + 1);
        self.panes[i].start(self.run, self.now, &sent.request);
        effects.push(Effect::StartRun {
            run: self.run,
            turn: sent.turn,
            system: sent.request.system.clone(),
            prompt: sent.prompt,
            jobs: vec![Job {
                pane: i,
                target: self.targets[i].clone(),
                request: sent.request,
                history: sent.history,
                blocked: None,
            }],
        });
        effects
    }

    /// Whether a send with these worst cases may go now: within `budget_usd` of what was
    /// spent in this budget window, and confirmed when above `confirm_above_usd` (the
    /// same send, identified by `key`, asked twice in a row). Otherwise the notice says why.
    pub(super) fn cost_allows(&mut self, worst: &[Option<Picodollars>], key: String) -> bool {
        if let Some(budget) = self.budget_usd
            && let Some(why) = crate::preflight::over_budget(worst, self.spent.0, budget)
        {
            self.notice = Some(why);
            return false;
        }
        if let Some(limit) = self.confirm_above_usd {
            let dollars = crate::pricing::usd(worst.iter().flatten().sum());
            if dollars > limit && self.awaiting_confirm.as_deref() != Some(key.as_str()) {
                self.awaiting_confirm = Some(key);
                self.notice = Some(crate::preflight::confirm_message(dollars, limit));
                return false;
            }
        }
        self.awaiting_confirm = None;
        true
    }

    /// Ask for a session to be started before the first run of a conversation.
    pub(super) fn open_session(&mut self, effects: &mut Vec<Effect>) {
        if !self.session_open {
            self.session_open = true;
            effects.push(Effect::NewSession {
                targets: self.targets.clone(),
            });
        }
    }

    /// Send the prompt as the next turn: each enabled target gets its own conversation
    /// so far plus the prompt.
    pub(super) fn send(&mut self) -> Vec<Effect> {
        if let Err(why) = self.inline_schema.for_send() {
            self.notice = Some(why);
            return Vec::new();
        }
        if self.variants.is_experiment() {
            return self.send_experiment();
        }
        // A plain send puts the workbench's own panes back on screen.
        let mut effects = self.cancel_grid();
        self.drop_grid();
        effects.extend(self.send_plain());
        effects
    }

    /// Send the prompt to every enabled target, each with its conversation so far.
    fn send_plain(&mut self) -> Vec<Effect> {
        let prompt = self.prompt.lines().join("\n");
        if prompt.trim().is_empty() {
            self.notice = Some("nothing to send: the prompt is empty".into());
            return Vec::new();
        }
        let chosen: Vec<usize> = (0..self.targets.len()).filter(|i| self.enabled[*i]).collect();
        if chosen.is_empty() {
            self.notice = Some("every target is switched off (space on a pane toggles it)".into());
            return Vec::new();
        }
        let system = self.system.lines().join("\n");
        let system = (!system.trim().is_empty()).then_some(system);
        let turn = self.conversation.turn + 1;
        let requests: Vec<(usize, ChatRequest, Vec<u32>)> = chosen
            .iter()
            .map(|&i| {
                let (mut request, history) = self.conversation.request(i, system.clone(), &prompt);
                // The workbench's own schema, when there is one, over the target's.
                if let Ok(Some(schema)) = self.inline_schema.for_send() {
                    request.schema = Some(schema);
                }
                (i, request, history)
            })
            .collect();
        // Pre-flight needs the tokenizer tables; until they load, sends go unchecked
        // rather than wait.
        let mut blocked: Vec<(usize, String)> = Vec::new();
        if crate::tokens::ready() {
            let checks: Vec<_> = requests
                .iter()
                .map(|(i, request, _)| {
                    (
                        *i,
                        crate::preflight::check(&self.targets[*i], request, &self.prices),
                    )
                })
                .collect();
            // A target that cannot fit is not sent, so it costs nothing.
            let worst: Vec<_> = checks
                .iter()
                .filter(|(_, c)| c.too_long.is_none())
                .map(|(_, c)| c.worst_case)
                .collect();
            let key = format!("{turn}\u{0}{system:?}\u{0}{prompt}");
            if !self.cost_allows(&worst, key) {
                return Vec::new();
            }
            blocked = checks
                .into_iter()
                .filter_map(|(i, c)| c.too_long.map(|why| (i, why)))
                .collect();
        }
        // Named in full: the status bar masks names while they are hidden.
        let unpriced: Vec<&str> = chosen
            .iter()
            .map(|&i| &self.targets[i])
            .filter(|t| self.prices.for_target(t).is_none())
            .map(|t| t.name.as_str())
            .collect();
        if !unpriced.is_empty() && !self.warned_unpriced {
            self.warned_unpriced = true;
            self.notice = Some(format!(
                "no price known for {}: cost is not shown for it",
                unpriced.join(", ")
            ));
        }
        let mut effects = self.cancel_active();
        self.open_session(&mut effects);
        self.run = RunId(self.run.0 + 1);
        self.conversation.turn = turn;
        let mut jobs = Vec::with_capacity(requests.len());
        for (i, request, history) in requests {
            self.panes[i].start(self.run, self.now, &request);
            self.conversation.sent[i] = Some(Sent {
                turn,
                prompt: prompt.clone(),
                request: request.clone(),
                history: history.clone(),
            });
            let why = blocked.iter().find(|(b, _)| *b == i).map(|(_, why)| why.clone());
            jobs.push(Job {
                pane: i,
                target: self.targets[i].clone(),
                request,
                history,
                blocked: why.map(|w| ProviderError::new(ErrorKind::ContextLength, w)),
            });
        }
        let sent: Vec<usize> = jobs.iter().map(|j| j.pane).collect();
        self.begin_ballot(&sent);
        // A target that cannot fit shows why at once; the executor only records it.
        for job in &jobs {
            if let Some(e) = &job.blocked {
                self.apply_event(job.pane, self.now, &StreamEvent::Failed(Box::new(e.clone())));
            }
        }
        self.prompt_sent(&prompt);
        effects.push(Effect::StartRun {
            run: self.run,
            turn,
            system,
            prompt,
            jobs,
        });
        effects
    }
}
