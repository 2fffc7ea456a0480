//! The key vocabulary: what a key can do ([`Action`]), how a key is written
//! ([`KeyChord`]) and where a binding applies ([`Mode`]).
//!
//! `config` reads `[keys.<mode>]` tables with it and the workbench binds with it, so it
//! sits below both and knows nothing of terminals: turning a terminal's key event into a
//! chord, the default bindings and the help rows live in `tui::keymap`.

mod action;
mod chord;

pub use action::Action;
pub use chord::{KeyChord, KeyCodeKey, Mode, NAMED_KEYS};
