//! The autosave actor: one thread per open session that appends records to
//! `events.jsonl` as they happen and keeps `meta.json` current.
//!
//! Whole lines are buffered in memory and written with one `write` at least every
//! [`FLUSH_EVERY`], and at once when a target's stream ends, so a killed process loses at
//! most the last interval and never leaves half a record in the middle of the file.
//! `meta.json` is replaced atomically (temp file, fsync, rename, fsync of the directory).
//! The thread owns the file; callers only send messages, so the UI never waits on disk.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::schema::{
    EventBody, EventRecord, ExperimentRecord, Meta, Record, RunCell, SendRecord, SentTarget, TargetSettings,
    VERSION,
};
use super::votes::VoteRecord;
use crate::engine::metrics::TargetRun;
use crate::pricing::{Picodollars, PriceTable};
use crate::provider::event::StreamEvent;
use crate::provider::request::ChatRequest;
use crate::target::Target;

/// Longest time a written record waits in memory before it reaches the file.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The log file inside a session directory.
pub const EVENTS_FILE: &str = "events.jsonl";
/// The summary file inside a session directory.
pub const META_FILE: &str = "meta.json";

/// One target of a send: its index in the session and the exact request it gets.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Index into the session's targets.
    pub target: usize,
    /// Earlier turns included in its history.
    pub history: Vec<u32>,
    /// The request as sent (for local token estimates in the recorded result).
    pub request: ChatRequest,
}

enum Cmd {
    Send {
        record: SendRecord,
        base: Instant,
        requests: Vec<(usize, ChatRequest)>,
    },
    Event {
        run: u64,
        target: usize,
        at: Instant,
        event: StreamEvent,
    },
    Resume {
        run: u64,
        targets: Vec<usize>,
    },
    Experiment(Box<ExperimentRecord>),
    Rename(Option<String>),
    Vote(VoteRecord),
    Close,
}

/// A handle on a session being written. Cheap to clone; the last one to close stops the
/// thread after writing everything queued.
#[derive(Debug, Clone)]
pub struct SessionWriter {
    tx: Sender<Cmd>,
    inner: Arc<Shared>,
    /// The experiment cell every send through this handle is a run of.
    cell: Option<RunCell>,
}

#[derive(Debug)]
struct Shared {
    id: String,
    dir: PathBuf,
    error: Mutex<Option<String>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Where a new or continued session starts counting.
struct Start {
    file: File,
    meta: Meta,
    targets: Vec<Target>,
}

impl SessionWriter {
    /// Create a new session under `root` for `targets`; nothing is sent yet.
    pub fn create(root: &Path, targets: &[Target], prices: PriceTable) -> io::Result<Self> {
        private_dir(root, true)?;
        let created = rfc3339(SystemTime::now());
        let (id, dir) = new_dir(root, &created)?;
        Self::create_in(id, dir, created, targets, prices)
    }

    /// Create a new session in `dir`, which must not exist; its name is the session id.
    pub fn create_at(dir: &Path, targets: &[Target], prices: PriceTable) -> io::Result<Self> {
        private_dir(dir, false)?;
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::create_in(id, dir.to_path_buf(), rfc3339(SystemTime::now()), targets, prices)
    }

    fn create_in(
        id: String,
        dir: PathBuf,
        created: String,
        targets: &[Target],
        prices: PriceTable,
    ) -> io::Result<Self> {
        let root = dir.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut options = OpenOptions::new();
        options.create_new(true).append(true);
        // Prompts and answers are private, like the summary (which is written 0600).
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(dir.join(EVENTS_FILE))?;
        let mut head = Vec::new();
        push_line(
            &mut head,
            &Record::Header {
                version: VERSION,
                id: id.clone(),
                created: created.clone(),
                prism: env!("CARGO_PKG_VERSION").to_string(),
                prices: prices.data(),
            },
        );
        push_line(
            &mut head,
            &Record::Targets {
                targets: targets.iter().map(TargetSettings::of).collect(),
            },
        );
        file.write_all(&head)?;
        file.sync_data()?;
        let meta = Meta {
            version: VERSION,
            id: id.clone(),
            name: None,
            created: created.clone(),
            updated: created,
            first_prompt: String::new(),
            targets: targets.iter().map(|t| t.name.clone()).collect(),
            turns: 0,
            cost_usd: 0.0,
            cost_incomplete: false,
            tags: Vec::new(),
        };
        write_meta(&dir, &meta)?;
        sync_dir(&root)?;
        Ok(Self::spawn(
            id,
            dir,
            Start {
                file,
                meta,
                targets: targets.to_vec(),
            },
            prices,
        ))
    }

    /// Continue writing the session in `dir`, whose summary is `meta`, with `targets`
    /// (the session's own, in its order).
    pub fn append(dir: &Path, meta: Meta, targets: Vec<Target>, prices: PriceTable) -> io::Result<Self> {
        let file = OpenOptions::new().append(true).open(dir.join(EVENTS_FILE))?;
        Ok(Self::spawn(
            meta.id.clone(),
            dir.to_path_buf(),
            Start { file, meta, targets },
            prices,
        ))
    }

    fn spawn(id: String, dir: PathBuf, start: Start, prices: PriceTable) -> Self {
        let (tx, rx) = mpsc::channel();
        let inner = Arc::new(Shared {
            id,
            dir: dir.clone(),
            error: Mutex::new(None),
            thread: Mutex::new(None),
        });
        let shared = inner.clone();
        let thread = std::thread::Builder::new()
            .name("prism-session".into())
            .spawn(move || {
                let mut actor = Actor {
                    dir,
                    file: start.file,
                    pending: Vec::new(),
                    pending_since: None,
                    // An older build's noisy float sum reads as the exact amount it meant.
                    cost: crate::pricing::usd_to_pd(start.meta.cost_usd).unwrap_or(0),
                    meta: start.meta,
                    meta_behind: false,
                    targets: start.targets,
                    prices,
                    runs: HashMap::new(),
                };
                if let Err(e) = actor.run(&rx) {
                    if let Ok(mut slot) = shared.error.lock() {
                        *slot = Some(e.to_string());
                    }
                    tracing::error!("session {}: {e}", shared.id);
                }
            });
        if let (Ok(t), Ok(mut slot)) = (thread, inner.thread.lock()) {
            *slot = Some(t);
        }
        Self {
            tx,
            inner,
            cell: None,
        }
    }

    /// A handle on the same session whose sends are recorded as runs of `cell`; events
    /// and everything else are recorded as through `self`.
    pub fn for_cell(&self, cell: RunCell) -> Self {
        Self {
            cell: Some(cell),
            ..self.clone()
        }
    }

    /// Record an experiment's design; call it once, before its first send.
    pub fn experiment(&self, record: ExperimentRecord) {
        let _ = self.tx.send(Cmd::Experiment(Box::new(record)));
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The session directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Why saving stopped, if it did (disk full, directory removed...).
    pub fn error(&self) -> Option<String> {
        self.inner.error.lock().ok().and_then(|e| e.clone())
    }

    /// Record a send made at `base` (the instant event times are measured from).
    pub fn send(
        &self,
        run: u64,
        turn: u32,
        system: Option<String>,
        prompt: &str,
        base: Instant,
        to: &[Outgoing],
    ) {
        let record = SendRecord {
            run,
            turn,
            wall: rfc3339(SystemTime::now()),
            system,
            prompt: prompt.to_string(),
            targets: to
                .iter()
                .map(|o| SentTarget {
                    target: o.target,
                    history: o.history.clone(),
                })
                .collect(),
            cell: self.cell,
        };
        let requests = to.iter().map(|o| (o.target, o.request.clone())).collect();
        let _ = self.tx.send(Cmd::Send {
            record,
            base,
            requests,
        });
    }

    /// Record one event of `target` (session index) in `run`.
    pub fn event(&self, run: u64, target: usize, at: Instant, event: &StreamEvent) {
        let _ = self.tx.send(Cmd::Event {
            run,
            target,
            at,
            event: event.clone(),
        });
    }

    /// The streams of `targets` in `run`, which had ended, go on: a follow-up round (tool
    /// results typed after the first round ended) is recorded into the same run, its
    /// events timed from the run's send, its result replacing the one written at the first
    /// end. Until it ends the streams count as open, so a crash leaves them interrupted.
    /// A run this writer did not record (opened from disk) is not resumed: its events are
    /// dropped, as for any unknown run.
    pub fn resume(&self, run: u64, targets: &[usize]) {
        let _ = self.tx.send(Cmd::Resume {
            run,
            targets: targets.to_vec(),
        });
    }

    /// Record a vote; written and flushed at once, since nothing follows it to wait for.
    pub fn vote(&self, vote: VoteRecord) {
        let _ = self.tx.send(Cmd::Vote(vote));
    }

    /// Give the session a name (`None` clears it).
    pub fn rename(&self, name: Option<String>) {
        let _ = self.tx.send(Cmd::Rename(name));
    }

    /// Write everything queued and stop the thread; waits for it.
    pub fn close(&self) {
        let _ = self.tx.send(Cmd::Close);
        let thread = self.inner.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

struct RunState {
    base: Instant,
    requests: HashMap<usize, ChatRequest>,
    folds: HashMap<usize, TargetRun>,
    /// Targets whose stream has not ended yet.
    open: HashSet<usize>,
    /// The cost already added to the session's total for each target's row: a resumed
    /// stream's later row replaces it, so only the difference is added.
    counted: HashMap<usize, Picodollars>,
}

struct Actor {
    dir: PathBuf,
    file: File,
    pending: Vec<u8>,
    pending_since: Option<Instant>,
    meta: Meta,
    /// `meta.cost_usd` exactly: rows' costs are summed here, never as floats.
    cost: Picodollars,
    /// Log lines were written since `meta.json` last was.
    meta_behind: bool,
    targets: Vec<Target>,
    prices: PriceTable,
    runs: HashMap<u64, RunState>,
}

impl Actor {
    fn run(&mut self, rx: &Receiver<Cmd>) -> io::Result<()> {
        loop {
            let wait = self.pending_since.map_or(Duration::from_secs(3600), |s| {
                FLUSH_EVERY.saturating_sub(s.elapsed())
            });
            match rx.recv_timeout(wait) {
                Ok(Cmd::Close) | Err(RecvTimeoutError::Disconnected) => {
                    self.flush()?;
                    self.file.sync_data()?;
                    // The summary is written after the log's last line, so that a
                    // listing can tell a session closed normally from one a crash cut.
                    // Streams left open are what a crash leaves: the summary stays
                    // behind, and a listing prices them from the log.
                    let open = self.runs.values().any(|r| !r.open.is_empty());
                    if self.meta_behind && !open {
                        self.save_meta()?;
                    }
                    return Ok(());
                }
                Ok(cmd) => self.handle(cmd)?,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if self.pending_since.is_some_and(|s| s.elapsed() >= FLUSH_EVERY) {
                self.flush()?;
            }
        }
    }

    fn handle(&mut self, cmd: Cmd) -> io::Result<()> {
        match cmd {
            Cmd::Send {
                record,
                base,
                requests,
            } => {
                if self.meta.first_prompt.is_empty() {
                    self.meta.first_prompt = first_line(&record.prompt);
                }
                self.meta.turns = self.meta.turns.max(record.turn);
                self.meta.updated.clone_from(&record.wall);
                self.runs.insert(
                    record.run,
                    RunState {
                        base,
                        open: requests.iter().map(|(t, _)| *t).collect(),
                        requests: requests.into_iter().collect(),
                        folds: HashMap::new(),
                        counted: HashMap::new(),
                    },
                );
                self.push(&Record::Send(record));
                self.flush()?;
                self.save_meta()?;
            }
            Cmd::Event {
                run,
                target,
                at,
                event,
            } => {
                let Some(state) = self.runs.get_mut(&run) else {
                    return Ok(());
                };
                let body = EventBody::of(&event, state.base);
                let t_ns =
                    u64::try_from(at.saturating_duration_since(state.base).as_nanos()).unwrap_or(u64::MAX);
                if event.is_terminal() {
                    state.open.remove(&target);
                }
                let fold = state.folds.entry(target).or_default();
                fold.apply(at, &event);
                let row = event
                    .is_terminal()
                    .then(|| {
                        let t = self.targets.get(target)?;
                        let request = state.requests.get(&target).cloned().unwrap_or_default();
                        Some(crate::report::row(t, &request, fold, &self.prices))
                    })
                    .flatten();
                // A row's cost is the float nearest its exact amount, so its decimal form
                // gives that amount back. A resumed stream's row holds every round: what
                // its first row already added to the total is taken back.
                let cost = row.as_ref().and_then(|r| r.cost_usd).map(|c| {
                    let cost = crate::pricing::usd_to_pd(c).unwrap_or(0);
                    (cost, state.counted.insert(target, cost).unwrap_or(0))
                });
                self.push(&Record::Event(EventRecord {
                    run,
                    target,
                    t_ns,
                    event: body,
                }));
                if let Some(row) = row {
                    match cost {
                        Some((cost, before)) => {
                            self.cost = (self.cost + cost).saturating_sub(before);
                            self.meta.cost_usd = crate::pricing::usd(self.cost);
                        }
                        // Tokens were used but their price is unknown: the total is a lower bound.
                        None => self.meta.cost_incomplete |= row.usage.output_tokens.is_some(),
                    }
                    self.push(&Record::Result {
                        run,
                        target,
                        row: Box::new(row),
                    });
                    self.flush()?;
                    self.save_meta()?;
                }
            }
            Cmd::Resume { run, targets } => {
                if let Some(state) = self.runs.get_mut(&run) {
                    state.open.extend(targets);
                }
            }
            Cmd::Experiment(record) => {
                self.push(&Record::Experiment(*record));
                self.flush()?;
            }
            Cmd::Rename(name) => {
                self.meta.name = name;
                self.save_meta()?;
            }
            Cmd::Vote(vote) => {
                self.meta.updated.clone_from(&vote.wall);
                self.push(&Record::Vote(vote));
                self.flush()?;
                self.save_meta()?;
            }
            Cmd::Close => {}
        }
        Ok(())
    }

    fn push(&mut self, record: &Record) {
        push_line(&mut self.pending, record);
        self.pending_since.get_or_insert_with(Instant::now);
    }

    fn save_meta(&mut self) -> io::Result<()> {
        write_meta(&self.dir, &self.meta)?;
        self.meta_behind = false;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.file.write_all(&self.pending)?;
            self.pending.clear();
            self.meta_behind = true;
        }
        self.pending_since = None;
        Ok(())
    }
}

fn push_line(buf: &mut Vec<u8>, record: &Record) {
    // Serializing plain data into memory cannot fail. Keys are masked here too: the
    // prompt, the answer and the error body all come from outside.
    if crate::masking::to_writer(&mut *buf, record).is_ok() {
        buf.push(b'\n');
    }
}

/// The first line of `text`, trimmed and cut to 100 characters.
pub fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let mut out: String = line.chars().take(100).collect();
    if line.chars().count() > 100 {
        out.push('…');
    }
    out
}

/// `time` as RFC 3339 UTC with milliseconds.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// Make a fresh directory named `YYYYMMDD-HHMMSS-xxxx` from the creation time.
fn new_dir(root: &Path, created: &str) -> io::Result<(String, PathBuf)> {
    use std::hash::BuildHasher;
    let stamp: String = created
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect::<String>();
    let stamp = format!(
        "{}-{}",
        &stamp[..8.min(stamp.len())],
        &stamp[8.min(stamp.len())..]
    );
    for attempt in 0u32..64 {
        let salt = std::collections::hash_map::RandomState::new().hash_one((std::process::id(), attempt));
        let id = format!("{stamp}-{:04x}", salt & 0xffff);
        let dir = root.join(&id);
        match private_dir(&dir, false) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("cannot find a free session name"))
}

/// Create `dir` readable by its owner only (0700 on Unix), like the files in it: prompts
/// and answers are private. `recursive` creates missing parents the same way and accepts
/// an existing directory, whose mode is left alone (it may be one the user chose).
fn private_dir(dir: &Path, recursive: bool) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(recursive);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Replace `meta.json` in `dir` atomically.
pub fn write_meta(dir: &Path, meta: &Meta) -> io::Result<()> {
    let mut bytes = Vec::new();
    crate::masking::to_writer_pretty(&mut bytes, meta).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write_atomically(&dir.join(META_FILE), &bytes)
}

/// Write `bytes` to `path` so that a reader sees the old file or the new one, never a
/// mix: a temp file in the same directory, fsync, rename over, fsync the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |w| w.write_all(bytes))
}

/// [`write_atomically`] for output produced piece by piece: `fill` writes into a buffered
/// temp file, so a large document never has to exist in memory as a whole. When `fill`
/// fails the temp file is removed and `path` is left as it was.
pub fn write_atomically_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    let mut buffered = io::BufWriter::new(&mut tmp);
    fill(&mut buffered)?;
    buffered.into_inner().map_err(io::IntoInnerError::into_error)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    // Directory fsync makes the rename durable; some filesystems refuse it, harmlessly.
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput || e.kind() == io::ErrorKind::PermissionDenied => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn sessions_and_the_root_made_for_them_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("data").join("sessions");
        let w = SessionWriter::create(&root, &[], PriceTable::default()).unwrap();
        w.close();
        assert_eq!(mode(&tmp.path().join("data")), 0o700);
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(w.dir()), 0o700);
        for file in [EVENTS_FILE, META_FILE] {
            assert_eq!(mode(&w.dir().join(file)), 0o600, "{file}");
        }
        let at = root.join("named");
        let w = SessionWriter::create_at(&at, &[], PriceTable::default()).unwrap();
        w.close();
        assert_eq!(mode(&at), 0o700);
    }

    #[test]
    fn a_streamed_write_that_fails_midway_leaves_the_old_file_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.json");
        write_atomically(&path, b"old\n").unwrap();
        // Past the buffer's capacity, so part of it has reached the temp file on disk.
        let chunk = vec![b'x'; 64 * 1024];
        let e = write_atomically_with(&path, |w| {
            w.write_all(&chunk)?;
            Err(io::Error::other("encoder gave up"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "encoder gave up");
        assert_eq!(std::fs::read(&path).unwrap(), b"old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        write_atomically_with(&path, |w| {
            w.write_all(&chunk)?;
            w.write_all(b"\n")
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), chunk.len() + 1);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
