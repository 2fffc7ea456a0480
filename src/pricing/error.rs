//! Why a price table cannot be read.

/// Why a price table (Prism's TOML, or a LiteLLM JSON map) cannot be read. Each message
/// starts with `what` (the file, or "built-in prices.toml").
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The TOML is not a price table.
    #[error("{what}: {message}")]
    Toml {
        /// The table's name.
        what: String,
        /// The parser's explanation.
        message: String,
    },
    /// A price is not a decimal number.
    #[error("{what}: model `{model}`: `{field}` = \"{value}\" is not a decimal price")]
    BadPrice {
        /// The table's name.
        what: String,
        /// The entry's model id.
        model: String,
        /// The price field.
        field: String,
        /// The value as written.
        value: String,
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
}
