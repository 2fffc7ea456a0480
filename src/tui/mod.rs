//! The interactive workbench, grouped by role: [`model`] is the state and its pure update,
//! [`input`] turns keys into actions, [`effects`] runs the loop and the I/O the model asks
//! for, [`view`] draws the model (with [`render`] for documents and [`theme`] for colours),
//! [`workbench`] starts it all and [`terminal`] owns the terminal's modes.

pub mod editor;
pub mod effects;
pub mod input;
pub mod model;
pub mod render;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod workbench;
