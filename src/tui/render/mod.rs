//! Turning streamed text into wrapped, styled lines, incrementally.
//!
//! [`Doc`] is the entry point. Text flows through `scan` (which pieces are final),
//! [`markdown`] and [`highlight`] (final pieces into width-independent logical lines,
//! once), and `wrap` (logical lines into rows for the current width).

mod cells;
mod code;
pub mod doc;
pub mod highlight;
pub mod markdown;
mod scan;
pub mod styles;
mod table;
mod wrap;

#[cfg(test)]
mod tests;

pub use doc::Doc;
pub use styles::DocStyles;
