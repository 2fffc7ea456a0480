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

/// How a chord is written, for error messages.
pub const CHORD_SYNTAX: &str = "write modifiers (ctrl, alt, shift) then one key, joined by `-` or `+`, e.g. `ctrl-enter`, `Ctrl+Enter`, `alt-up`, `f5`, `G`; a key is one character, f1-f12, space or a named key (enter, esc, tab, backspace, up, down, left, right, home, end, pageup, pagedown, delete)";

/// Other spellings of named keys and modifiers, as other tools write them.
const ALIASES: [(&str, &str); 6] = [
    ("return", "enter"),
    ("escape", "esc"),
    ("pgup", "pageup"),
    ("pgdn", "pagedown"),
    ("del", "delete"),
    ("control", "ctrl"),
];

/// `-` or `+`: both join modifiers to a key (`ctrl-s`, `ctrl+s`).
fn is_separator(c: char) -> bool {
    c == '-' || c == '+'
}

/// The modifiers part and the key part of a chord as written.
fn split_chord(s: &str) -> (&str, &str) {
    let mut rev = s.chars().rev();
    // `-` or `+` alone, or after a separator (`ctrl--`, `ctrl++`), is that key itself.
    match (rev.next(), rev.next()) {
        (Some(k), Some(sep)) if is_separator(k) && is_separator(sep) => {
            return (&s[..s.len() - 2], &s[s.len() - 1..]);
        }
        (Some(k), None) if is_separator(k) => return ("", s),
        _ => {}
    }
    match s.rsplit_once(is_separator) {
        Some((m, k)) if !k.is_empty() => (m, k),
        _ => ("", s),
    }
}

/// A name in lower case with its alias resolved (`Return` → `enter`).
fn canonical(name: &str) -> String {
    let lower = name.to_lowercase();
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map_or(lower, |(_, real)| real.to_string())
}

impl FromStr for KeyChord {
    type Err = String;

    /// Modifiers and named keys are case-insensitive (`Ctrl+Enter`); a character key keeps
    /// its case, because `G` and `g` are different keys.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut chord = KeyChord {
            code: KeyCodeKey::Named("esc"),
            ctrl: false,
            alt: false,
            shift: false,
        };
        let s = s.trim();
        let (mods, key) = split_chord(s);
        for m in mods.split(is_separator).filter(|m| !m.is_empty()) {
            match canonical(m).as_str() {
                "ctrl" => chord.ctrl = true,
                "alt" => chord.alt = true,
                "shift" => chord.shift = true,
                _ => return Err(format!("unknown modifier `{m}` in `{s}`: {CHORD_SYNTAX}")),
            }
        }
        let named = canonical(key);
        chord.code = if named == "space" {
            KeyCodeKey::Named("space")
        } else if let Some(n) = named
            .strip_prefix('f')
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=12).contains(n))
        {
            KeyCodeKey::F(n)
        } else if let Some(name) = NAMED_KEYS.iter().find(|n| **n == named) {
            KeyCodeKey::Named(name)
        } else {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCodeKey::Char(if chord.ctrl { c.to_ascii_lowercase() } else { c }),
                _ if key.is_empty() => return Err(format!("no key in `{s}`: {CHORD_SYNTAX}")),
                _ => return Err(format!("unknown key `{key}` in `{s}`: {CHORD_SYNTAX}")),
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
        let e = "ctrl-entr".parse::<KeyChord>().unwrap_err();
        assert!(
            e.starts_with("unknown key `entr` in `ctrl-entr`: write modifiers"),
            "{e}"
        );
        assert!(e.contains("e.g. `ctrl-enter`, `Ctrl+Enter`"), "{e}");
        assert!("".parse::<KeyChord>().unwrap_err().starts_with("no key in ``"));
    }

    #[test]
    fn plus_and_minus_and_any_case_spell_the_same_chord() {
        let want = KeyChord {
            code: KeyCodeKey::Named("enter"),
            ctrl: true,
            alt: false,
            shift: false,
        };
        for s in [
            "ctrl-enter",
            "ctrl+enter",
            "Ctrl+Enter",
            "CTRL-ENTER",
            "control+return",
        ] {
            assert_eq!(s.parse::<KeyChord>(), Ok(want), "{s}");
        }
        let up = "Alt+Shift+Up".parse::<KeyChord>().unwrap();
        assert!(up.alt && up.shift && up.code == KeyCodeKey::Named("up"));
        assert_eq!("ctrl+F5".parse::<KeyChord>().unwrap().code, KeyCodeKey::F(5));
        assert_eq!("ctrl+S".parse::<KeyChord>().unwrap().code, KeyCodeKey::Char('s'));
        // A character key keeps its case: `G` is shift-g, not `g`.
        assert_eq!("G".parse::<KeyChord>().unwrap().code, KeyCodeKey::Char('G'));
        assert_eq!("alt+G".parse::<KeyChord>().unwrap().code, KeyCodeKey::Char('G'));
        for (s, c) in [
            ("+", '+'),
            ("-", '-'),
            ("ctrl++", '+'),
            ("alt+-", '-'),
            ("ctrl-+", '+'),
        ] {
            assert_eq!(s.parse::<KeyChord>().unwrap().code, KeyCodeKey::Char(c), "{s}");
        }
        assert_eq!(
            "ctrl+enter".parse::<KeyChord>().unwrap().to_string(),
            "ctrl-enter"
        );
    }
}
