//! Provider adapters: normalized requests out, normalized events in.

pub mod event;
pub mod request;
