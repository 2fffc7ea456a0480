//! The workbench's state and its pure update: the app, what its panes show (its own
//! targets, a replay, a comparison, a session borrowed from the browser) and what is drawn
//! over them, the panes and their history, the conversation and the sessions browser.
//! Nothing here does I/O; it answers messages with effects for [`super::effects`] to
//! carry out.

pub mod app;
pub mod blind;
pub mod borrowed;
pub mod browser;
pub mod compare;
pub mod conversation;
pub mod grid;
pub mod grid_cell;
pub mod grid_vote;
pub mod inline_schema;
mod input;
pub mod msg;
pub mod pane;
pub mod pane_history;
mod pick_diff;
pub mod prompt_check;
mod read;
pub mod recall;
pub mod replay;
pub mod scoreboard;
mod send;
mod sessions;
pub mod tool_calls;
pub mod typed_results;
pub mod variants;
pub mod workspace;
