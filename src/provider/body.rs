//! Request-body helpers shared by the adapters.

use serde_json::{Map, Value};

/// Merge the user's `extra` table into a request body. Objects merge key by key (so
/// `extra.generationConfig.thinkingConfig` adds to the generated `generationConfig`),
/// anything else replaces, and `null` removes a key Prism would otherwise send.
pub fn merge_extra(body: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (k, v) in extra {
        match (body.get_mut(k), v) {
            (_, Value::Null) => {
                body.remove(k);
            }
            (Some(Value::Object(existing)), Value::Object(add)) => merge_extra(existing, add),
            _ => {
                body.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Insert `value` under `key` when it is known.
pub fn put<T: Into<Value>>(body: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        body.insert(key.to_string(), v.into());
    }
}

/// Parse one JSON payload from the wire. The message says what was wrong; the payload
/// itself is kept on the error for debugging, never shown as the message.
pub fn parse_json(data: &str, what: &str) -> Result<Value, super::event::ProviderError> {
    serde_json::from_str(data).map_err(|e| super::event::ProviderError {
        raw_body: Some(data.to_string()),
        ..super::event::ProviderError::new(
            super::event::ErrorKind::Malformed,
            format!("{what} is not valid JSON ({e})"),
        )
    })
}

/// A non-negative integer field.
pub fn uint(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn extra_merges_objects_replaces_values_and_null_removes() {
        let mut body = json!({"a": 1, "cfg": {"x": 1}, "drop": true})
            .as_object()
            .cloned()
            .unwrap();
        let extra = json!({"a": 2, "cfg": {"y": 2}, "drop": null, "new": [1]});
        merge_extra(&mut body, extra.as_object().unwrap());
        assert_eq!(
            Value::Object(body),
            json!({"a": 2, "cfg": {"x": 1, "y": 2}, "new": [1]})
        );
    }
}
