//! Terminal set-up and restore (being written).
