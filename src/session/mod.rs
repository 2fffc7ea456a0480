//! Sessions: every send and every stream event, saved as it happens, so a comparison
//! can be reopened, replayed with its original timing, sent again and exported.
//!
//! Layout and schema are in [`schema`]; [`writer`] appends, [`reader`] loads and
//! validates, [`store`] finds sessions on disk, [`replay`] turns recordings back into
//! timed events, [`export`] writes them out as Markdown, JSON or CSV.

pub mod compare;
mod error;
pub mod export;
pub mod local_time;
pub mod reader;
pub mod replay;
pub mod schema;
pub mod store;
pub mod total;
pub mod votes;
pub mod writer;

pub use reader::{Recorded, Session, SessionError, Turn, load};
pub use schema::VERSION;
pub use writer::{Outgoing, SessionWriter};

#[cfg(test)]
mod tests;
