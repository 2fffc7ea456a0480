//! The workbench's state and its pure update: the app, its panes and their history, the
//! conversation, the sessions browser, compare, replay and a borrowed session. Nothing here
//! does I/O; it answers messages with effects for [`super::effects`] to carry out.

pub mod app;
pub mod borrowed;
pub mod browser;
pub mod compare;
pub mod conversation;
pub mod msg;
pub mod pane;
pub mod pane_history;
pub mod prompt_check;
pub mod recall;
pub mod replay;
mod send;
mod sessions;
