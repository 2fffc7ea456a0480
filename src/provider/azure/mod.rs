//! What Azure OpenAI adds to the OpenAI wire formats it otherwise speaks: Microsoft Entra
//! ID tokens from the Azure CLI ([`cli`]), and the content filter's verdicts on the
//! prompt and the answer, in a stream or as a refused prompt ([`filter`]).
//!
//! Requests are built by the Chat Completions and Responses modules; the target's base
//! URL (deployment and `api-version` included) is made by `config`.

pub mod cli;
pub mod filter;

pub use filter::{ContentFilter, FilterVerdict};
