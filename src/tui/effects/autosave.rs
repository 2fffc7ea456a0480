//! The workbench's side of sessions on disk: the writer of the conversation in progress,
//! and the browser's reads and edits of the sessions directory.
//!
//! Saving never stops the workbench: a session that cannot be created or written is
//! reported once as a notice and the sends go on unsaved. Nothing here waits for the
//! disk on the caller's task. Creating a session (and syncing it), continuing one,
//! renaming, deleting, listing and waiting for a detached writer to close run on one
//! thread of their own, in the order they were asked for, and answer with messages; a
//! session is loaded on the blocking pool. A send made while its session is still being
//! created waits for it ([`SessionSlot`]) rather than go unrecorded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{oneshot, watch};

use crate::pricing::PriceTable;
use crate::provider::event::StreamEvent;
use crate::session::schema::Meta;
use crate::session::{SessionWriter, store};
use crate::target::Target;
use crate::tui::model::msg::Msg;

/// Owner of the session writer and of the sessions directory.
#[derive(Debug, Default)]
pub struct Saver {
    /// The sessions directory; `None` turns saving and the browser off.
    root: Option<PathBuf>,
    prices: PriceTable,
    /// The session new sends are recorded in, once the disk thread has it ready.
    current: Option<SessionSlot>,
    /// The disk thread's queue, once it runs.
    disk: Option<std::sync::mpsc::Sender<Job>>,
}

/// A cheap handle the run tasks record through.
#[derive(Debug, Clone)]
pub struct Recorder {
    writer: SessionWriter,
    /// Whether a write failure was already reported.
    reported: Arc<AtomicBool>,
}

impl Recorder {
    /// Record through `writer`.
    pub fn new(writer: SessionWriter) -> Self {
        Self {
            writer,
            reported: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The writer.
    pub fn writer(&self) -> &SessionWriter {
        &self.writer
    }

    /// After an event was recorded: when it ended a stream, check that the file is still
    /// being written and say so once if not.
    pub fn check_written(&self, event: &StreamEvent, tx: &UnboundedSender<Msg>) {
        if event.is_terminal()
            && let Some(why) = self.writer.error()
            && !self.reported.swap(true, Ordering::Relaxed)
        {
            tx.send(Msg::Saving(Err(format!(
                "{}: {why}",
                self.writer.dir().display()
            ))))
            .ok();
        }
    }
}

/// The session of the conversation in progress as the disk thread makes it: being
/// created or opened, then ready (or not saved, when that failed).
#[derive(Debug, Clone)]
pub struct SessionSlot(watch::Receiver<Option<Option<Recorder>>>);

impl SessionSlot {
    /// The recorder once the disk thread has answered (`Some(None)`: not saved), `None`
    /// while it is still at work.
    pub fn ready(&self) -> Option<Option<Recorder>> {
        self.0.borrow().clone()
    }

    /// A slot the caller fills in, for tests of what waits on it.
    #[cfg(test)]
    pub(crate) fn pending() -> (watch::Sender<Option<Option<Recorder>>>, Self) {
        let (fill, slot) = watch::channel(None);
        (fill, Self(slot))
    }

    /// Wait for the disk thread's answer; `None` when the session is not saved.
    pub async fn recorder(mut self) -> Option<Recorder> {
        match self.0.wait_for(Option::is_some).await {
            Ok(answer) => answer.clone().flatten(),
            // The disk thread is gone: nothing will be saved.
            Err(_) => None,
        }
    }
}

/// Disk work, in the order it was asked for.
enum Job {
    Start {
        targets: Vec<Target>,
        slot: watch::Sender<Option<Option<Recorder>>>,
    },
    Resume {
        dir: PathBuf,
        meta: Meta,
        targets: Vec<Target>,
        slot: watch::Sender<Option<Option<Recorder>>>,
    },
    Detach,
    List,
    Rename {
        dir: PathBuf,
        name: String,
    },
    Delete(PathBuf),
    Close(oneshot::Sender<()>),
}

impl Saver {
    /// Save sessions under `root` (and browse them there); `None` saves nothing.
    pub fn new(root: Option<PathBuf>, prices: PriceTable) -> Self {
        Self {
            root,
            prices,
            current: None,
            disk: None,
        }
    }

    /// A saver whose session in progress is `slot`, for tests of the sends that wait on it.
    #[cfg(test)]
    pub(crate) fn recording_into(slot: SessionSlot) -> Self {
        Self {
            current: Some(slot),
            ..Self::default()
        }
    }

    /// The session new sends are recorded in, if one is being saved.
    pub fn current(&self) -> Option<SessionSlot> {
        self.current.clone()
    }

    /// The sessions directory, when saving is on.
    pub fn root(&self) -> Option<&std::path::Path> {
        self.root.as_deref()
    }

    /// Start a new session for `targets`.
    pub fn start(&mut self, targets: &[Target], tx: &UnboundedSender<Msg>) {
        self.detach();
        if self.root.is_none() {
            return;
        }
        let (slot, current) = watch::channel(None);
        self.current = Some(SessionSlot(current));
        self.queue(
            Job::Start {
                targets: targets.to_vec(),
                slot,
            },
            tx,
        );
    }

    /// Continue the session in `dir`.
    pub fn resume(&mut self, dir: &Path, meta: Meta, targets: Vec<Target>, tx: &UnboundedSender<Msg>) {
        self.detach();
        if self.root.is_none() {
            return;
        }
        let (slot, current) = watch::channel(None);
        self.current = Some(SessionSlot(current));
        self.queue(
            Job::Resume {
                dir: dir.to_path_buf(),
                meta,
                targets,
                slot,
            },
            tx,
        );
    }

    /// Stop saving new sends into the current session. Streams still running keep
    /// recording how they end; the writer finishes when the last of them does.
    pub fn detach(&mut self) {
        if self.current.take().is_some()
            && let Some(disk) = &self.disk
        {
            let _ = disk.send(Job::Detach);
        }
    }

    /// Write everything queued, of this session and of those detached earlier, and stop
    /// writing; returns once the disk thread has done all it was asked and every writer
    /// has closed.
    pub async fn close(&mut self) {
        self.current = None;
        let Some(disk) = self.disk.take() else {
            return;
        };
        let (done, closed) = oneshot::channel();
        if disk.send(Job::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }

    /// List the sessions directory; answers with [`Msg::SessionList`].
    pub fn list(&mut self, tx: &UnboundedSender<Msg>) {
        if self.root.is_none() {
            tx.send(Msg::SessionList(Err("sessions are not saved here".into())))
                .ok();
            return;
        }
        self.queue(Job::List, tx);
    }

    /// Load the session in `dir`; answers with [`Msg::SessionLoaded`].
    pub fn load(&self, dir: PathBuf, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        tokio::task::spawn_blocking(move || {
            let loaded = crate::session::load(&dir)
                .map(Box::new)
                .map_err(|e| e.to_string());
            tx.send(Msg::SessionLoaded(loaded)).ok();
        });
    }

    /// Name the session in `dir`, then list again.
    pub fn rename(&mut self, dir: &Path, name: &str, tx: &UnboundedSender<Msg>) {
        self.queue(
            Job::Rename {
                dir: dir.to_path_buf(),
                name: name.to_string(),
            },
            tx,
        );
    }

    /// Delete the session in `dir`, unless it is the one being written; then list again.
    pub fn delete(&mut self, dir: &Path, tx: &UnboundedSender<Msg>) {
        self.queue(Job::Delete(dir.to_path_buf()), tx);
    }

    /// Hand `job` to the disk thread, starting it on first use.
    fn queue(&mut self, job: Job, tx: &UnboundedSender<Msg>) {
        if self.disk.is_none() {
            let (queue, jobs) = std::sync::mpsc::channel();
            let disk = Disk {
                root: self.root.clone(),
                prices: self.prices.clone(),
                tx: tx.clone(),
                current: None,
                closing: Vec::new(),
            };
            match std::thread::Builder::new()
                .name("prism-sessions".into())
                .spawn(move || disk.serve(&jobs))
            {
                Ok(_) => self.disk = Some(queue),
                Err(e) => {
                    // The job is dropped: a session waiting for it reads as not saved.
                    let why = format!("cannot start saving sessions: {e}");
                    tracing::warn!("{why}");
                    tx.send(Msg::Saving(Err(why))).ok();
                    return;
                }
            }
        }
        if let Some(disk) = &self.disk {
            let _ = disk.send(job);
        }
    }
}

/// The disk thread's state: the writer of the session in progress and the detached ones
/// whose last streams may still be recording.
struct Disk {
    root: Option<PathBuf>,
    prices: PriceTable,
    tx: UnboundedSender<Msg>,
    current: Option<SessionWriter>,
    closing: Vec<SessionWriter>,
}

impl Disk {
    fn serve(mut self, jobs: &std::sync::mpsc::Receiver<Job>) {
        for job in jobs {
            match job {
                Job::Start { targets, slot } => {
                    self.detach();
                    let Some(root) = &self.root else { continue };
                    let made = SessionWriter::create(root, &targets, self.prices.clone()).map_err(|e| {
                        format!(
                            "cannot create a session in {}: {e} (--sessions-dir or sessions_dir picks another directory)",
                            root.display()
                        )
                    });
                    self.adopt(made, &slot);
                }
                Job::Resume {
                    dir,
                    meta,
                    targets,
                    slot,
                } => {
                    self.detach();
                    // Two writers appending to one log could interleave; the old one finishes first.
                    self.finish_closing(&dir);
                    let made = SessionWriter::append(&dir, meta, targets, self.prices.clone())
                        .map_err(|e| format!("cannot append to {}: {e}", dir.display()));
                    self.adopt(made, &slot);
                }
                Job::Detach => self.detach(),
                Job::List => self.list(),
                Job::Rename { dir, name } => self.rename(&dir, &name),
                Job::Delete(dir) => self.delete(&dir),
                Job::Close(done) => {
                    self.detach();
                    for w in self.closing.drain(..) {
                        w.close();
                    }
                    let _ = done.send(());
                    return;
                }
            }
        }
    }

    fn adopt(&mut self, made: Result<SessionWriter, String>, slot: &watch::Sender<Option<Option<Recorder>>>) {
        match made {
            Ok(writer) => {
                self.tx.send(Msg::Saving(Ok(writer.id().to_string()))).ok();
                slot.send_replace(Some(Some(Recorder::new(writer.clone()))));
                self.current = Some(writer);
            }
            Err(why) => {
                tracing::warn!("{why}");
                self.tx.send(Msg::Saving(Err(why))).ok();
                slot.send_replace(Some(None));
            }
        }
    }

    fn detach(&mut self) {
        if let Some(w) = self.current.take() {
            self.closing.push(w);
        }
    }

    fn finish_closing(&mut self, dir: &Path) {
        self.closing.retain(|w| {
            let done = w.dir() == dir;
            if done {
                w.close();
            }
            !done
        });
    }

    fn list(&self) {
        let listed = match &self.root {
            Some(root) => {
                store::list(root).map_err(|e| format!("{}: cannot list sessions: {e}", root.display()))
            }
            None => Err("sessions are not saved here".into()),
        };
        self.tx.send(Msg::SessionList(listed)).ok();
    }

    fn rename(&self, dir: &Path, name: &str) {
        let notice = match store::rename(dir, name) {
            Ok(()) if name.trim().is_empty() => "name cleared".to_string(),
            Ok(()) => format!("renamed to “{}”", name.trim()),
            Err(e) => e.to_string(),
        };
        // The writer rewrites the summary after every send, so the session being written
        // must learn its name too or the next send would undo the rename; told last, its
        // summary (with the running cost) is the one that stays.
        if let Some(w) = self.current.as_ref().filter(|w| w.dir() == dir) {
            let name = name.trim();
            w.rename((!name.is_empty()).then(|| name.to_string()));
        }
        self.tx.send(Msg::Notice(notice)).ok();
        self.list();
    }

    fn delete(&mut self, dir: &Path) {
        let notice = if self.current.as_ref().is_some_and(|w| w.dir() == dir) {
            "that session is being saved now: start a new conversation first, then delete it".to_string()
        } else {
            self.finish_closing(dir);
            match store::delete(dir) {
                Ok(()) => format!(
                    "deleted {}",
                    dir.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
                ),
                Err(e) => e.to_string(),
            }
        };
        self.tx.send(Msg::Notice(notice)).ok();
        self.list();
    }
}
