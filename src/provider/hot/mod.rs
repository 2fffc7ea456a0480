//! Typed decoding of the events that make up almost all of a stream.
//!
//! Nearly every event of a streamed answer is the same small shape: an OpenAI chat chunk
//! with one choice and a few characters of `delta.content`, an Anthropic
//! `content_block_delta`. Building a generic [`serde_json::Value`] for each (a map per
//! object, an owned string per key and value) was most of the CPU a stream cost. Here
//! each such event is decoded into a borrowed struct instead: strings point into the
//! payload unless they hold escapes, and fields the decoders never read are skipped
//! without being built.
//!
//! The typed path is a fast path, never a second parser with its own opinions: it
//! accepts only payloads in which it knows every field (`deny_unknown_fields`), and
//! returns `None` for anything else (another event type, an unknown or duplicate field, a
//! value of an unexpected type, an error object, usage), which the decoder then reads
//! through its `Value` path as before. Whatever it accepts, it decodes to exactly the
//! events the `Value` path gives (tests/hot_path.rs replays every wire fixture both ways).

use std::cell::Cell;

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{Deserializer, Visitor};

pub mod anthropic;
pub mod gemini;
pub mod openai;
pub mod responses;

/// A string of the payload: borrowed from it unless it holds escapes. (A bare
/// `Option<Cow<str>>` field would always be copied: serde borrows only a `Cow` that is
/// the field's whole type.)
#[derive(Debug, Deserialize)]
pub(crate) struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// Where `text`, a slice of `data`, lies in it, when it is the whole body of one JSON
/// string there (a quote right before and right after it): as serde hands out a string
/// it borrowed, one that held no escapes. `None` for any other slice.
pub(crate) fn string_body(data: &str, text: &str) -> Option<std::ops::Range<usize>> {
    let start = (text.as_ptr() as usize).checked_sub(data.as_ptr() as usize)?;
    let end = start + text.len();
    let bytes = data.as_bytes();
    let quoted = start > 0 && end < bytes.len() && bytes[start - 1] == b'"' && bytes[end] == b'"';
    quoted.then_some(start..end)
}

/// The text of `t` when it has any.
pub(crate) fn non_empty(t: Option<Text<'_>>) -> Option<Cow<'_, str>> {
    t.map(|t| t.0).filter(|t| !t.is_empty())
}

/// A JSON object, never an array. Derived structs also accept an array of their fields
/// in order, which the `Value` path would read as no object at all.
pub(crate) struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(MapOnly(d)).map(Obj)
    }
}

/// Parse `data` as an object of type `T`; `None` when it is anything else.
pub(crate) fn object<'a, T: Deserialize<'a>>(data: &'a str) -> Option<T> {
    if !typed_path_on() {
        return None;
    }
    serde_json::from_str::<Obj<T>>(data).ok().map(|o| o.0)
}

/// Whether the typed path may read events on this thread (see [`value_path_only`]).
pub(crate) fn typed_path_on() -> bool {
    !VALUE_PATH_ONLY.with(Cell::get)
}

thread_local! {
    static VALUE_PATH_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` with the typed path turned off on this thread, so every event goes through
/// the `Value` path: what the differential tests compare against.
#[doc(hidden)]
pub fn value_path_only<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            VALUE_PATH_ONLY.with(|v| v.set(self.0));
        }
    }
    let _restore = Restore(VALUE_PATH_ONLY.with(|v| v.replace(true)));
    f()
}

/// Asks for a map whatever the visitor asked for.
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: u32,
        b: u32,
    }

    #[test]
    fn only_objects_are_accepted() {
        assert_eq!(object::<Pair>(r#"{"a":1,"b":2}"#), Some(Pair { a: 1, b: 2 }));
        assert_eq!(
            serde_json::from_str::<Pair>("[1,2]").ok(),
            Some(Pair { a: 1, b: 2 }),
            "what a derived struct alone would accept"
        );
        assert_eq!(object::<Pair>("[1,2]"), None);
        assert_eq!(object::<Pair>(r#"{"a":1,"b":2} x"#), None, "trailing bytes");
    }
}
