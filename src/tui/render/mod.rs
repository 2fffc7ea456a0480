//! Turning streamed text into wrapped, styled lines, incrementally.

pub mod styles;

pub use styles::DocStyles;
