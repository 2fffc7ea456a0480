//! Shell completions and the man page, both generated from the command line's own
//! definition, so they can never drift from what `prism` accepts.

use std::io::{self, Write};

use clap_complete::Shell;

use super::AppError;

/// Which shell a completion script is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl From<CompletionShell> for Shell {
    fn from(s: CompletionShell) -> Self {
        match s {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
        }
    }
}

/// Write the completion script for `shell` of the command line `cli` to `out`.
pub fn write_completions(shell: CompletionShell, cli: &mut clap::Command, out: &mut dyn Write) {
    let name = cli.get_name().to_string();
    clap_complete::generate(Shell::from(shell), cli, name, out);
}

/// Write the man page (roff) of the command line `cli` to `out`.
pub fn write_man(cli: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(cli).render(out)
}

/// `prism completions SHELL`: the script on standard output.
pub fn completions(shell: CompletionShell, mut cli: clap::Command) -> Result<u8, AppError> {
    let mut out = Vec::new();
    write_completions(shell, &mut cli, &mut out);
    emit(&out)
}

/// `prism man`: the man page on standard output.
pub fn man(cli: clap::Command) -> Result<u8, AppError> {
    let mut out = Vec::new();
    write_man(cli, &mut out).map_err(|e| AppError::io("cannot write the man page", e))?;
    emit(&out)
}

fn emit(bytes: &[u8]) -> Result<u8, AppError> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| AppError::io("cannot write to standard output", e))?;
    Ok(0)
}
