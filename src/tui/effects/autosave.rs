//! The workbench's side of sessions on disk: the writer of the conversation in progress,
//! and the browser's reads and edits of the sessions directory.
//!
//! Saving never stops the workbench: a session that cannot be created or written is
//! reported once as a notice and the sends go on unsaved. Directory reads run on the
//! blocking pool and answer with a message, so a slow disk never stalls a frame.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::UnboundedSender;

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
    writer: Option<Recorder>,
    /// Sessions no longer added to whose last streams may still be recording.
    closing: Vec<SessionWriter>,
}

/// A cheap handle the run tasks record through.
#[derive(Debug, Clone)]
pub struct Recorder {
    writer: SessionWriter,
    /// Whether a write failure was already reported.
    reported: Arc<AtomicBool>,
}

impl Recorder {
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

impl Saver {
    /// Save sessions under `root` (and browse them there); `None` saves nothing.
    pub fn new(root: Option<PathBuf>, prices: PriceTable) -> Self {
        Self {
            root,
            prices,
            writer: None,
            closing: Vec::new(),
        }
    }

    /// The recorder of the session in progress, if one is being written.
    pub fn recorder(&self) -> Option<Recorder> {
        self.writer.clone()
    }

    /// The sessions directory, when saving is on.
    pub fn root(&self) -> Option<&std::path::Path> {
        self.root.as_deref()
    }

    /// Start a new session for `targets`.
    pub fn start(&mut self, targets: &[Target], tx: &UnboundedSender<Msg>) {
        self.detach();
        let Some(root) = &self.root else { return };
        let made = SessionWriter::create(root, targets, self.prices.clone()).map_err(|e| {
            format!(
                "cannot create a session in {}: {e} (--sessions-dir or sessions_dir picks another directory)",
                root.display()
            )
        });
        self.adopt(made, tx);
    }

    /// Continue the session in `dir`.
    pub fn resume(&mut self, dir: &Path, meta: Meta, targets: Vec<Target>, tx: &UnboundedSender<Msg>) {
        self.detach();
        if self.root.is_none() {
            return;
        }
        // Two writers appending to one log could interleave; the old one finishes first.
        self.finish_closing(dir);
        let made = SessionWriter::append(dir, meta, targets, self.prices.clone())
            .map_err(|e| format!("cannot append to {}: {e}", dir.display()));
        self.adopt(made, tx);
    }

    fn adopt(&mut self, made: Result<SessionWriter, String>, tx: &UnboundedSender<Msg>) {
        match made {
            Ok(writer) => {
                tx.send(Msg::Saving(Ok(writer.id().to_string()))).ok();
                self.writer = Some(Recorder {
                    writer,
                    reported: Arc::new(AtomicBool::new(false)),
                });
            }
            Err(why) => {
                tracing::warn!("{why}");
                tx.send(Msg::Saving(Err(why))).ok();
            }
        }
    }

    /// Stop saving new sends into the current session. Streams still running keep
    /// recording how they end; the writer finishes when the last of them does.
    pub fn detach(&mut self) {
        if let Some(r) = self.writer.take() {
            self.closing.push(r.writer);
        }
    }

    /// Write everything queued, of this session and of those detached earlier, and stop
    /// writing; waits for the disk.
    pub fn close(&mut self) {
        self.detach();
        for w in self.closing.drain(..) {
            w.close();
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

    /// List the sessions directory; answers with [`Msg::SessionList`].
    pub fn list(&self, tx: &UnboundedSender<Msg>) {
        let Some(root) = self.root.clone() else {
            tx.send(Msg::SessionList(Err("sessions are not saved here".into())))
                .ok();
            return;
        };
        let tx = tx.clone();
        tokio::task::spawn_blocking(move || {
            let listed =
                store::list(&root).map_err(|e| format!("{}: cannot list sessions: {e}", root.display()));
            tx.send(Msg::SessionList(listed)).ok();
        });
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
    pub fn rename(&self, dir: &Path, name: &str, tx: &UnboundedSender<Msg>) {
        let notice = match store::rename(dir, name) {
            Ok(()) if name.trim().is_empty() => "name cleared".to_string(),
            Ok(()) => format!("renamed to “{}”", name.trim()),
            Err(e) => e.to_string(),
        };
        // The writer rewrites the summary after every send, so the session being written
        // must learn its name too or the next send would undo the rename; told last, its
        // summary (with the running cost) is the one that stays.
        if let Some(r) = self.writer.as_ref().filter(|r| r.writer.dir() == dir) {
            let name = name.trim();
            r.writer.rename((!name.is_empty()).then(|| name.to_string()));
        }
        tx.send(Msg::Notice(notice)).ok();
        self.list(tx);
    }

    /// Delete the session in `dir`, unless it is the one being written; then list again.
    pub fn delete(&mut self, dir: &Path, tx: &UnboundedSender<Msg>) {
        let notice = if self.writer.as_ref().is_some_and(|r| r.writer.dir() == dir) {
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
        tx.send(Msg::Notice(notice)).ok();
        self.list(tx);
    }
}
