//! Editing the prompt in the user's own editor: `$VISUAL`, else `$EDITOR`, else `vi`,
//! split into words the way a shell would (`code --wait`, `"/opt/My Editor/ed" -n`), on
//! a fresh temporary file that no other user can guess or pre-create, removed afterwards.
//!
//! The terminal side (leaving raw mode while the editor runs) is the workbench's; this
//! module only knows the command and the file.

use std::path::Path;

/// The editor to run, as words: the program, then its own arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditorCommand {
    words: Vec<String>,
    /// The variable it came from and its value, for messages: `$EDITOR ("code --wait")`.
    origin: String,
}

impl EditorCommand {
    /// The editor named by `VISUAL`, else `EDITOR` (an empty one counts as unset), else
    /// `vi`; read through `env` so tests pass values in. A value a shell could not split
    /// (an unclosed quote) is an error naming the variable.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<EditorCommand, String> {
        let chosen = ["VISUAL", "EDITOR"]
            .into_iter()
            .find_map(|var| env(var).filter(|v| !v.trim().is_empty()).map(|v| (var, v)));
        let Some((var, value)) = chosen else {
            return Ok(EditorCommand {
                words: vec!["vi".into()],
                origin: "vi (no $VISUAL or $EDITOR)".into(),
            });
        };
        let origin = format!("${var} ({value:?})");
        let words = shell_words::split(&value).map_err(|e| {
            format!(
                "{origin} is not a command line a shell could run ({e}); fix it, e.g. {var}=\"code --wait\""
            )
        })?;
        Ok(EditorCommand { words, origin })
    }

    /// The program and its arguments, as they will be run (the file comes after them).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Runs the editor on `file` and waits for it. A failure to start it or a non-zero
    /// exit is an error that says the prompt is unchanged.
    pub fn run(&self, file: &Path) -> Result<(), String> {
        let (program, args) = self
            .words
            .split_first()
            .ok_or_else(|| format!("{} names no program", self.origin))?;
        let status = std::process::Command::new(program)
            .args(args)
            .arg(file)
            .status()
            .map_err(|e| format!("cannot run {}: {e}; the prompt is unchanged", self.origin))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} exited with {status}; the prompt is unchanged",
                self.origin
            ))
        }
    }
}

/// The prompt in a temporary `prism-prompt-<random>.md` file (the `.md` so editors
/// highlight it), created with a random name and owner-only permissions, and removed when
/// this is dropped, whatever happened in between.
pub struct PromptFile {
    path: tempfile::TempPath,
}

impl PromptFile {
    /// A new file holding `text`.
    pub fn create(text: &str) -> Result<PromptFile, String> {
        let mut file = tempfile::Builder::new()
            .prefix("prism-prompt-")
            .suffix(".md")
            .tempfile()
            .map_err(|e| format!("cannot create a temporary file for the editor: {e}"))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", file.path().display()))?;
        // Closed before the editor opens it: some editors replace the file rather than
        // write into it, and the path is all that is kept.
        Ok(PromptFile {
            path: file.into_temp_path(),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its text now (after the editor), and the file removed.
    pub fn read(self) -> Result<String, String> {
        std::fs::read_to_string(&self.path).map_err(|e| format!("cannot read {}: {e}", self.path.display()))
    }
}
