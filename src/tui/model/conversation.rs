//! Each pane's own conversation: the exchanges it took part in and the request its next
//! turn gets.
//!
//! Targets never see each other's answers. Pane `i`'s history holds only the turns where
//! target `i` itself finished with text; a turn it failed, was cancelled in or answered
//! with nothing is left out, and every send lists the turns it included, so a saved
//! session says exactly what each target was shown.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::provider::request::{ChatRequest, Message};
use crate::session::{Recorded, Session};

/// One earlier turn as one target saw it. Never edited once filed (a retry files a new
/// one), so what is worked out from its text can be kept by its [`Exchange::id`].
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Turn number, from 1.
    pub turn: u32,
    /// The user's prompt.
    pub prompt: String,
    /// This target's own answer.
    pub answer: String,
    id: u64,
}

impl Exchange {
    /// A newly filed exchange, with an id no other exchange in the process has.
    pub fn new(turn: u32, prompt: String, answer: String) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            turn,
            prompt,
            answer,
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Which exchange this is: copies share it, two exchanges filed apart never do.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// Equal when they say the same, however each was filed.
impl PartialEq for Exchange {
    fn eq(&self, other: &Self) -> bool {
        (self.turn, &self.prompt, &self.answer) == (other.turn, &other.prompt, &other.answer)
    }
}

impl Eq for Exchange {}

/// What a pane was last sent: enough to send it again and to file its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The turn it belongs to.
    pub turn: u32,
    /// The turn's prompt.
    pub prompt: String,
    /// The exact request.
    pub request: ChatRequest,
    /// Earlier turns included in `request`.
    pub history: Vec<u32>,
}

/// Every pane's conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// The newest turn sent; 0 before the first send.
    pub turn: u32,
    /// Per pane, its finished exchanges, oldest first.
    pub history: Vec<Vec<Exchange>>,
    /// Per pane, its latest send.
    pub sent: Vec<Option<Sent>>,
}

impl Conversation {
    /// An empty conversation for `panes` panes.
    pub fn new(panes: usize) -> Self {
        Self {
            turn: 0,
            history: vec![Vec::new(); panes],
            sent: vec![None; panes],
        }
    }

    /// The request pane `pane` gets for `prompt`: the system prompt, its own earlier
    /// exchanges, then the prompt; and the turns that went in.
    pub fn request(&self, pane: usize, system: Option<String>, prompt: &str) -> (ChatRequest, Vec<u32>) {
        let mut messages = Vec::new();
        let mut turns = Vec::new();
        for e in self.history.get(pane).into_iter().flatten() {
            messages.push(Message::user(e.prompt.clone()));
            messages.push(Message::assistant(e.answer.clone()));
            turns.push(e.turn);
        }
        messages.push(Message::user(prompt));
        (
            ChatRequest {
                system,
                messages,
                schema: None,
            },
            turns,
        )
    }

    /// File how pane `pane`'s latest send ended. The latest outcome of a turn decides,
    /// so a retry that fails takes back an answer an earlier attempt gave.
    pub fn settle(&mut self, pane: usize, done: bool, answer: &str) {
        let Some(Some(sent)) = self.sent.get(pane) else {
            return;
        };
        let (turn, prompt) = (sent.turn, sent.prompt.clone());
        let Some(history) = self.history.get_mut(pane) else {
            return;
        };
        history.retain(|e| e.turn != turn);
        if done && !answer.is_empty() {
            history.push(Exchange::new(turn, prompt, answer.to_string()));
            history.sort_by_key(|e| e.turn);
        }
    }

    /// The conversation a saved session holds, with each target's latest send.
    pub fn from_session(session: &Session) -> Self {
        let n = session.targets.len();
        let mut c = Self::new(n);
        for turn in &session.turns {
            c.turn = c.turn.max(turn.number);
            for (&target, recorded) in &turn.answers {
                if target >= n {
                    continue;
                }
                c.sent[target] = Some(Sent {
                    turn: turn.number,
                    prompt: turn.prompt.clone(),
                    request: session.request_for(turn, target),
                    history: recorded.history.clone(),
                });
                if finished_with_text(recorded) {
                    c.history[target].push(Exchange::new(turn.number, turn.prompt.clone(), recorded.text()));
                }
            }
        }
        c
    }
}

/// Whether a recorded answer counts as the target's side of its turn.
fn finished_with_text(r: &Recorded) -> bool {
    r.completed() && !r.interrupted && !r.text().is_empty()
}
