//! The interactive workbench.

pub mod app;
pub mod autosave;
pub mod borrowed;
pub mod browser;
pub mod compare;
pub mod conversation;
pub mod event_loop;
pub mod executor;
pub mod keymap;
pub mod layout;
pub mod msg;
pub mod pane;
pub mod pane_history;
pub mod prompt_check;
pub mod recall;
pub mod render;
pub mod replay;
mod send;
mod sessions;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod workbench;
