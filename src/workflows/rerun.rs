//! The re-run plan: what a re-run sends and where (the targets resolved from the
//! recording and a config, a demo server for demo targets, the new session), sent
//! through the one send-and-record path ([`crate::workflows::send`]).
//!
//! Shared by `prism rerun` and the workbench's sessions browser; neither face is named
//! here: the workbench places the live streams in its panes through the sink.

pub mod experiment;

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::config::Config;
use crate::demo::Demo;
use crate::engine::{Cancels, RunId};
use crate::pricing::PriceTable;
use crate::provider::request::ChatRequest;
use crate::report::ResultRow;
use crate::session::schema::{KeyRef, TargetSettings};
use crate::session::{Outgoing, Recorded, Session, SessionWriter};
use crate::target::{KeySource, ProviderKind, Target};
use crate::workflows::send::{Job, JobId, Report, Send, SessionTarget};

/// One target to send again.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Index into the session's targets.
    pub index: usize,
    /// The target as recorded.
    pub recorded_target: Target,
    /// Where it goes now: the recorded settings, with the key, base URL, retries and
    /// timeouts of the `--config` target of the same name, and a demo target moved to
    /// a freshly started demo server.
    pub target: Target,
    /// Exactly the request it got in the recorded turn.
    pub request: ChatRequest,
    /// The recorded stream.
    pub recorded: Recorded,
    /// The recorded result row (rebuilt from the events when the stream was cut off).
    pub recorded_row: ResultRow,
}

/// A re-run ready to send: targets resolved, a demo server running when one is needed,
/// the new session created (unless not saving).
pub struct Prepared {
    /// The recorded session.
    pub session: Session,
    /// What to send, per target.
    pub entries: Vec<Entry>,
    /// The new session, when saving.
    pub writer: Option<SessionWriter>,
    prices: PriceTable,
    demo: Option<Demo>,
}

/// A re-run under way: what must be finished when its viewer is done with it.
pub struct Running {
    task: Option<JoinHandle<()>>,
    cancels: Option<Cancels>,
    writer: Option<SessionWriter>,
    demo: Option<Demo>,
}

impl Prepared {
    /// Resolve what to send for `session` (see [`plan`]), start a demo server if a target
    /// needs one, and create the new session under `save_to`.
    pub async fn new(
        session: Session,
        wanted: &[String],
        overrides: Option<&Config>,
        save_to: Option<&Path>,
        prices: &PriceTable,
    ) -> Result<Self, String> {
        let demo = if uses_demo(&session, wanted, overrides) {
            Some(
                // The whole lineup, so a session saved by `--demo all` finds every kind.
                Demo::start_with(crate::demo::Lineup::All)
                    .await
                    .map_err(|e| format!("cannot start the demo mock server: {e}"))?,
            )
        } else {
            None
        };
        let (s, wanted, overrides, p) = (
            session.clone(),
            wanted.to_vec(),
            overrides.cloned(),
            prices.clone(),
        );
        let bases = demo.as_ref().map(Demo::targets);
        // Rebuilding a cut-off row loads tokenizer tables, as do the recorded panes'
        // counts: load them off the async workers, once.
        let planned = tokio::task::spawn_blocking(move || {
            crate::tokens::warm_up();
            plan(&s, &wanted, overrides.as_ref(), bases.as_deref(), &p)
        })
        .await
        .map_err(|e| format!("cannot prepare the re-run: {e}"));
        let entries = match planned.and_then(|r| r) {
            Ok(e) => e,
            Err(e) => {
                if let Some(d) = demo {
                    d.stop().await;
                }
                return Err(e);
            }
        };
        let writer = match save_to {
            None => None,
            Some(root) => {
                let targets: Vec<Target> = entries.iter().map(|e| e.target.clone()).collect();
                // Creating a session syncs the disk: off the async workers.
                let (at, p) = (root.to_path_buf(), prices.clone());
                let made = tokio::task::spawn_blocking(move || SessionWriter::create(&at, &targets, p))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)));
                match made {
                    Ok(w) => Some(w),
                    Err(e) => {
                        if let Some(d) = demo {
                            d.stop().await;
                        }
                        return Err(format!(
                            "{}: cannot save the new run ({e}); pass --no-save to run without saving",
                            root.display()
                        ));
                    }
                }
            }
        };
        Ok(Self {
            session,
            entries,
            writer,
            prices: prices.clone(),
            demo,
        })
    }

    /// Start sending in a task of its own (see [`resend`]): entry `i` is reported to
    /// `sink` as `ids[i]`. `cancels` stops the requests.
    pub fn spawn(
        self,
        ids: &[JobId],
        cancels: Cancels,
        sink: impl FnMut(Report) -> bool + std::marker::Send + 'static,
    ) -> Running {
        let stop = cancels.clone();
        let send = resend(
            &self.session,
            &self.entries,
            ids,
            self.writer.as_ref(),
            &self.prices,
            cancels,
        );
        let task = tokio::spawn(send.run(sink));
        Running {
            task: Some(task),
            cancels: Some(stop),
            writer: self.writer,
            demo: self.demo,
        }
    }

    /// Nothing more to send: only the saving and the demo server are left to finish.
    pub fn stop(self) -> Running {
        Running {
            task: None,
            cancels: None,
            writer: self.writer,
            demo: self.demo,
        }
    }
}

impl Running {
    /// Nothing running.
    pub fn idle() -> Self {
        Self {
            task: None,
            cancels: None,
            writer: None,
            demo: None,
        }
    }

    /// Cancel what still streams, wait (briefly) for its last events to be saved, close
    /// the new session and stop the demo server. Returns the new session's id, or why
    /// it was not saved completely.
    pub async fn finish(self) -> Result<Option<String>, String> {
        if let Some(c) = &self.cancels {
            c.cancel_all();
        }
        if let Some(task) = self.task {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        if let Some(d) = self.demo {
            d.stop().await;
        }
        let Some(w) = self.writer else {
            return Ok(None);
        };
        // Closing waits for the disk: off the async workers.
        let w = tokio::task::spawn_blocking(move || {
            w.close();
            w
        })
        .await
        .map_err(|e| format!("the new run was not saved completely: {e}"))?;
        match w.error() {
            Some(e) => Err(format!("the new run was not saved completely: {e}")),
            None => Ok(Some(w.id().to_string())),
        }
    }
}

/// Whether any chosen target still goes to the demo mock server.
fn uses_demo(session: &Session, wanted: &[String], overrides: Option<&Config>) -> bool {
    session
        .targets
        .iter()
        .filter(|t| wanted.is_empty() || wanted.contains(&t.name))
        .any(|t| needs_demo(t, &t.name, overrides))
}

/// The targets to send again and what each gets: the session's last turn, for every
/// target that answered it (or the `wanted` ones). `demo` lists a running demo's targets,
/// whose base URLs replace the dead ones of demo targets.
pub fn plan(
    session: &Session,
    wanted: &[String],
    overrides: Option<&Config>,
    demo: Option<&[Target]>,
    prices: &PriceTable,
) -> Result<Vec<Entry>, String> {
    let id = &session.meta.id;
    let turn = session
        .turns
        .last()
        .ok_or_else(|| format!("session {id} has no sends: nothing to send again"))?;
    if let Some(missing) = wanted
        .iter()
        .find(|w| !session.targets.iter().any(|t| &t.name == *w))
    {
        let names: Vec<&str> = session.targets.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "no target named `{missing}` in session {id}; it has: {}",
            names.join(", ")
        ));
    }
    let mut out = Vec::new();
    for (index, settings) in session.targets.iter().enumerate() {
        if !wanted.is_empty() && !wanted.contains(&settings.name) {
            continue;
        }
        let Some(recorded) = turn.answers.get(&index) else {
            if wanted.is_empty() {
                continue;
            }
            return Err(format!(
                "target `{}` did not answer turn {} of session {id}: pick another with --target",
                settings.name, turn.number
            ));
        };
        let recorded_target = recorded_target(settings)?;
        let target = send_to(&recorded_target, &settings.name, overrides, demo)?;
        let request = session.request_for(turn, index);
        let recorded_row = recorded.row.clone().unwrap_or_else(|| {
            crate::report::row(&recorded_target, &request, &recorded.fold(Instant::now()), prices)
        });
        out.push(Entry {
            index,
            recorded_target,
            target,
            request,
            recorded: recorded.clone(),
            recorded_row,
        });
    }
    if out.is_empty() {
        return Err(format!(
            "no target answered turn {} of session {id}: nothing to send again",
            turn.number
        ));
    }
    Ok(out)
}

/// The target as recorded; one whose provider this build does not know cannot be sent.
pub fn recorded_target(settings: &TargetSettings) -> Result<Target, String> {
    settings.to_target().ok_or_else(|| {
        format!(
            "target `{}` uses provider `{}`, unknown to this Prism: upgrade Prism to send it again",
            settings.name, settings.provider
        )
    })
}

/// Where `recorded` goes now: its recorded settings, with the key, base URL, retries and
/// timeouts of the config target named `name`, and a demo target moved to the running
/// demo server (`demo` lists its targets).
pub fn send_to(
    recorded: &Target,
    name: &str,
    overrides: Option<&Config>,
    demo: Option<&[Target]>,
) -> Result<Target, String> {
    let mut target = recorded.clone();
    if let Some(c) = overrides.and_then(|c| c.targets.iter().find(|c| c.name == name)) {
        // The sampling parameters stay as recorded: the point is the same request.
        target.key = c.key.clone();
        // An Azure target's Entra ID token source goes with its key, its price with it.
        target.params.entra = c.params.entra;
        target.params.price_as.clone_from(&c.params.price_as);
        target.base_url.clone_from(&c.base_url);
        target.params.count_tokens = c.params.count_tokens;
        target.params.retry = c.params.retry;
        target.params.timeouts = c.params.timeouts;
    }
    if target.key == KeySource::Demo {
        target.base_url = demo
            .and_then(|d| demo_base(d, target.provider))
            .ok_or_else(|| format!("target `{name}` needs the demo server, which did not start"))?;
    }
    Ok(target)
}

/// Whether a recorded target named `name` still goes to the demo mock server.
pub fn needs_demo(settings: &TargetSettings, name: &str, overrides: Option<&Config>) -> bool {
    match overrides.and_then(|c| c.targets.iter().find(|c| c.name == name)) {
        Some(c) => c.key == KeySource::Demo,
        None => settings.key == KeyRef::Demo,
    }
}

/// The demo server's base URL for `kind`: that of the demo target of the same kind, else
/// of one speaking the same protocol (compatible servers speak OpenAI's).
fn demo_base(demo: &[Target], kind: ProviderKind) -> Option<String> {
    let protocol = kind.spec().protocol;
    demo.iter()
        .find(|t| t.provider == kind)
        .or_else(|| demo.iter().find(|t| t.provider.spec().protocol == protocol))
        .map(|t| t.base_url.clone())
}

/// The send of a re-run: every entry's request again, all released together through the
/// one send path, entry `i` reported as `ids[i]` (one id per entry) and recorded as
/// target `i` of the new session. When saving, the earlier turns are copied into the
/// new session first, so it holds the whole conversation; the send is recorded after
/// them. Nothing is counted or refused again: the requests are exactly the recorded ones.
pub fn resend(
    session: &Session,
    entries: &[Entry],
    ids: &[JobId],
    writer: Option<&SessionWriter>,
    prices: &PriceTable,
    cancels: Cancels,
) -> Send {
    let copied = writer.map_or(0, |w| copy_earlier_turns(session, entries, w));
    let (turn, system, prompt) = session.turns.last().map_or((0, None, String::new()), |t| {
        (t.number, t.system.clone(), t.prompt.clone())
    });
    let jobs = entries
        .iter()
        .zip(ids)
        .enumerate()
        .map(|(k, (e, id))| Job {
            id: *id,
            session: SessionTarget(k),
            target: e.target.clone(),
            request: e.request.clone(),
            history: e.recorded.history.clone(),
            blocked: None,
        })
        .collect();
    Send {
        run: RunId(copied + 1),
        turn,
        system,
        prompt,
        jobs,
        session: writer.cloned(),
        prices: prices.clone(),
        cancels,
        provider_counts: false,
    }
}

/// Write the turns before the last one into the new session as they were recorded (for
/// the chosen targets, renumbered in their new order). Returns the last run id used.
fn copy_earlier_turns(session: &Session, entries: &[Entry], w: &SessionWriter) -> u64 {
    let Some((_, earlier)) = session.turns.split_last() else {
        return 0;
    };
    let mut run = 0;
    for turn in earlier {
        let sent: Vec<(usize, &Entry, &Recorded)> = entries
            .iter()
            .enumerate()
            .filter_map(|(k, e)| turn.answers.get(&e.index).map(|r| (k, e, r)))
            .collect();
        if sent.is_empty() {
            continue;
        }
        run += 1;
        let base = Instant::now();
        let out: Vec<Outgoing> = sent
            .iter()
            .map(|(k, e, r)| Outgoing {
                target: *k,
                history: r.history.clone(),
                request: session.request_for(turn, e.index),
            })
            .collect();
        w.send(run, turn.number, turn.system.clone(), &turn.prompt, base, &out);
        for (k, _, r) in &sent {
            for (t, body) in &r.events {
                w.event(run, *k, base + Duration::from_nanos(*t), &body.to_event(base));
            }
        }
    }
    run
}
