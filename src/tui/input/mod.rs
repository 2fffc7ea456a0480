//! What keys mean: the keymap from chords to actions.

pub mod keymap;
