//! The sessions browser: the saved sessions newest first, narrowed by typing, with
//! open, rename, delete, replay and re-run. Pure state; the directory is read and
//! changed by the executor, which answers with messages.

use std::path::PathBuf;

use crate::session::schema::Meta;
use crate::session::store::Listed;

/// One row of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The session directory.
    pub dir: PathBuf,
    /// The session id.
    pub id: String,
    /// Its summary, or why it cannot be read (one line).
    pub meta: Result<Meta, String>,
}

impl Entry {
    /// The entry for a listed session.
    pub fn of(listed: &Listed) -> Self {
        Self {
            dir: listed.dir.clone(),
            id: listed.id(),
            // The directory is the row itself; the file name and position are enough.
            meta: listed.meta.clone().map_err(|e| {
                let file = e
                    .file()
                    .and_then(std::path::Path::file_name)
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match e.position() {
                    Some((line, col)) => format!("{file}:{line}:{col}: {}", e.detail()),
                    None => format!("{file}: {}", e.detail()),
                }
            }),
        }
    }

    /// Whether every word of `filter` occurs in its id, name, first prompt or targets.
    pub fn matches(&self, filter: &str) -> bool {
        let hay = match &self.meta {
            Ok(m) => format!(
                "{} {} {} {}",
                self.id,
                m.name.as_deref().unwrap_or(""),
                m.first_prompt,
                m.targets.join(" ")
            ),
            Err(e) => format!("{} {e}", self.id),
        }
        .to_lowercase();
        filter.to_lowercase().split_whitespace().all(|w| hay.contains(w))
    }
}

/// What the keyboard is doing in the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Editing {
    /// Typing narrows the list.
    Filter,
    /// Typing edits the selected session's name; Enter saves it.
    Rename(String),
    /// `y` deletes the selected session; anything else keeps it.
    ConfirmDelete,
}

/// The browser's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Browser {
    /// Every session, newest first; `None` until the directory has been read.
    pub entries: Option<Vec<Entry>>,
    /// Why the directory could not be read.
    pub error: Option<String>,
    /// The filter text.
    pub filter: String,
    /// Index into [`Self::visible`].
    pub selected: usize,
    /// What typing does.
    pub editing: Editing,
}

impl Default for Browser {
    fn default() -> Self {
        Self {
            entries: None,
            error: None,
            filter: String::new(),
            selected: 0,
            editing: Editing::Filter,
        }
    }
}

impl Browser {
    /// Take a fresh listing, keeping the selection on the same session when it is still
    /// there.
    pub fn listed(&mut self, listed: Result<Vec<Listed>, String>) {
        let keep = self.current().map(|e| e.dir.clone());
        match listed {
            Ok(l) => {
                self.entries = Some(l.iter().map(Entry::of).collect());
                self.error = None;
            }
            Err(e) => {
                self.entries = Some(Vec::new());
                self.error = Some(e);
            }
        }
        self.selected = keep
            .and_then(|d| self.visible().iter().position(|e| e.dir == d))
            .unwrap_or(self.selected);
        self.clamp();
    }

    /// The entries the filter lets through.
    pub fn visible(&self) -> Vec<&Entry> {
        self.entries
            .iter()
            .flatten()
            .filter(|e| e.matches(&self.filter))
            .collect()
    }

    /// The selected entry.
    pub fn current(&self) -> Option<&Entry> {
        self.visible().get(self.selected).copied()
    }

    /// Move the selection by `delta`, staying in the list.
    pub fn step(&mut self, delta: isize) {
        let n = self.visible().len();
        if n > 0 {
            self.selected = self.selected.saturating_add_signed(delta).min(n - 1);
        }
    }

    /// Type `c` into whatever is being edited.
    pub fn type_char(&mut self, c: char) {
        match &mut self.editing {
            Editing::Rename(name) => name.push(c),
            _ => {
                self.filter.push(c);
                self.selected = 0;
            }
        }
    }

    /// Delete the last character of whatever is being edited.
    pub fn backspace(&mut self) {
        match &mut self.editing {
            Editing::Rename(name) => {
                name.pop();
            }
            _ => {
                self.filter.pop();
                self.clamp();
            }
        }
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.visible().len().saturating_sub(1));
    }
}
