//! The interactive workbench.

pub mod render;
pub mod terminal;
pub mod theme;
