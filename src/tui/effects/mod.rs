//! Where the workbench meets the world: the UI loop, the executor of the effects the model
//! asks for, and the autosaver behind it.

pub mod autosave;
pub mod event_loop;
pub mod executor;
