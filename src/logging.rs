//! Logging to a file (being written).
