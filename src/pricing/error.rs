//! Why price data cannot be read.

/// Why price data (the built-in snapshot, a LiteLLM JSON map, Prism's TOML notes) cannot
/// be read. Each message starts with `what` (the file).
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The TOML is not what Prism expects.
    #[error("{what}: {message}")]
    Toml {
        /// The file's name.
        what: String,
        /// The parser's explanation.
        message: String,
    },
    /// A price is not a decimal number.
    #[error("{what}: model `{model}`: `{field}` = \"{value}\" is not a decimal price")]
    BadPrice {
        /// The file's name.
        what: String,
        /// The entry's model id.
        model: String,
        /// The price field.
        field: String,
        /// The value as written.
        value: String,
    },
    /// An entry of a LiteLLM map has a price or limit that is not one.
    #[error("{what}: entry `{entry}`: `{field}` = {value} {why}; fix or remove the entry")]
    BadEntry {
        /// The map's name.
        what: String,
        /// The entry's key.
        entry: String,
        /// The field.
        field: String,
        /// The value as JSON.
        value: String,
        /// What is wrong with it.
        why: String,
    },
    /// The LiteLLM map is not JSON.
    #[error("{what}:{}:{}: not valid JSON: {source}", source.line(), source.column())]
    Json {
        /// The map's name.
        what: String,
        /// The parser's error, with its position.
        source: serde_json::Error,
    },
    /// The LiteLLM map is JSON but not an object of models.
    #[error("{what}: expected a JSON object of models")]
    NotAnObject {
        /// The map's name.
        what: String,
    },
    /// A snapshot-format file (built in) is damaged.
    #[error("{what}:{line}: {message}")]
    Snapshot {
        /// The file's name.
        what: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The built-in price data did not load (a build defect; the message says where).
    #[error("{0}")]
    Builtin(String),
}
