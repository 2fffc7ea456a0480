//! Key chords as users write them (`ctrl-s`, `alt-enter`, `G`, `?`) and the modes
//! bindings apply in.

use std::fmt;
use std::str::FromStr;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Everywhere.
    Global,
    /// While the prompt or system editor has focus.
    Editor,
    /// While a pane has focus.
    Panes,
    /// While the sessions browser is open (plain keys type the filter there).
    Sessions,
}

impl Mode {
    /// Name used in config (`[keys.global]`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Editor => "editor",
            Self::Panes => "panes",
            Self::Sessions => "sessions",
        }
    }
}

/// One key with modifiers, e.g. `ctrl-s`, `alt-enter`, `G`, `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyChord {
    /// Key.
    pub code: KeyCodeKey,
    /// Ctrl / Alt (Shift is folded into the character for printable keys).
    pub ctrl: bool,
    /// Alt.
    pub alt: bool,
    /// Shift, for non-character keys (`shift-tab`...).
    pub shift: bool,
}

/// A key code that can be ordered and hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeKey {
    /// A printable character.
    Char(char),
    /// F1..F12.
    F(u8),
    /// Any other named key.
    Named(&'static str),
}

/// The names of the non-character keys a chord can use (besides `space`).
pub const NAMED_KEYS: [&str; 14] = [
    "enter",
    "esc",
    "tab",
    "backtab",
    "backspace",
    "up",
    "down",
    "left",
    "right",
    "home",
    "end",
    "pageup",
    "pagedown",
    "delete",
];

impl FromStr for KeyChord {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut chord = KeyChord {
            code: KeyCodeKey::Named("esc"),
            ctrl: false,
            alt: false,
            shift: false,
        };
        // `-` alone, or a trailing `-` after a modifier (`ctrl--`), is the minus key.
        let (mods, key) = match s.strip_suffix("--") {
            Some(m) => (m, "-"),
            None => match s.rsplit_once('-') {
                Some((m, k)) if !k.is_empty() => (m, k),
                _ => ("", s),
            },
        };
        for m in mods.split('-').filter(|m| !m.is_empty()) {
            match m {
                "ctrl" => chord.ctrl = true,
                "alt" => chord.alt = true,
                "shift" => chord.shift = true,
                _ => return Err(format!("unknown modifier `{m}` in `{s}` (use ctrl, alt, shift)")),
            }
        }
        chord.code = if key == "space" {
            KeyCodeKey::Named("space")
        } else if let Some(n) = key
            .strip_prefix('f')
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=12).contains(n))
        {
            KeyCodeKey::F(n)
        } else if let Some(name) = NAMED_KEYS.iter().find(|n| **n == key) {
            KeyCodeKey::Named(name)
        } else {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCodeKey::Char(if chord.ctrl { c.to_ascii_lowercase() } else { c }),
                _ => return Err(format!("unknown key `{key}` in `{s}`")),
            }
        };
        Ok(chord)
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (on, name) in [(self.ctrl, "ctrl-"), (self.alt, "alt-"), (self.shift, "shift-")] {
            if on {
                f.write_str(name)?;
            }
        }
        match self.code {
            KeyCodeKey::Char(c) => write!(f, "{c}"),
            KeyCodeKey::F(n) => write!(f, "f{n}"),
            KeyCodeKey::Named(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_chords_say_why() {
        assert!(
            "hyper-x"
                .parse::<KeyChord>()
                .unwrap_err()
                .contains("unknown modifier `hyper`")
        );
        assert!(
            "ctrl-nope"
                .parse::<KeyChord>()
                .unwrap_err()
                .contains("unknown key `nope`")
        );
        assert_eq!("ctrl--".parse::<KeyChord>().unwrap().code, KeyCodeKey::Char('-'));
    }
}
