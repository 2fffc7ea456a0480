//! Where the workbench meets the world: the UI loop, the one executor of the effects the
//! model asks for, the autosaver behind it, and the recordings (replay player, re-run
//! sends) it starts.

pub mod autosave;
pub mod event_loop;
pub mod executor;
pub mod experiment;
pub mod follow_up;
pub mod recording;
