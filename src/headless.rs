//! headless (being written).
