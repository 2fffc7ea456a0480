//! Turning streamed text into wrapped, styled lines, incrementally.

pub mod doc;
pub mod styles;

pub use doc::Doc;
pub use styles::DocStyles;
