//! Mock provider server (being written).
