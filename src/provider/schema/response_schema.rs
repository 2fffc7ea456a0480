//! JSON Schema to the OpenAPI-3 subset Gemini's `generationConfig.responseSchema` takes
//! (`schema_mode = "response_schema"`), and a list of what could not be said in it.
//!
//! What carries over: `type` (upper case: `STRING`, `OBJECT`...), `format`, `title`,
//! `description`, `nullable`, string `enum`, `properties`, `required`, `items`,
//! `minItems`/`maxItems`, `minLength`/`maxLength`, `pattern`, `minimum`/`maximum`,
//! `minProperties`/`maxProperties`, `anyOf`, `default` and `example`. Some keywords are
//! rewritten to say the same thing: `type: [T, "null"]` and an `anyOf` branch of
//! `{"type": "null"}` become `nullable`, a string `const` a one-value `enum`, local
//! `$ref`s (`#/$defs/...`, `#/definitions/...`) are inlined unless they recurse, an
//! `enum` without a type is typed `STRING`, and
//! `examples` gives its first value as `example`. Every object gets `propertyOrdering`
//! in the order its properties were written, since Gemini otherwise orders them
//! alphabetically.
//!
//! Everything else (`additionalProperties`, `allOf`, `oneOf`, `not`, `if`,
//! `prefixItems`, `uniqueItems`, `multipleOf`, exclusive bounds, non-string `enum` or
//! `const`, a recursive `$ref`...) is dropped, and each drop is reported by the JSON
//! pointer of the keyword in the original schema, so the loss is said at load and never
//! silent.

use serde_json::{Map, Value};

/// Metadata that constrains nothing: dropped without a word.
const SILENT: [&str; 6] = ["$schema", "$id", "$comment", "$defs", "definitions", "$anchor"];

/// Keywords the subset takes as they are.
const KEPT: [&str; 13] = [
    "title",
    "description",
    "default",
    "example",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "minProperties",
    "maxProperties",
];

/// `format` values the Gemini API accepts, per type; others are dropped.
fn format_allowed(ty: Option<&str>, format: &str) -> bool {
    match ty {
        Some("STRING") => matches!(format, "enum" | "date-time"),
        Some("INTEGER") => matches!(format, "int32" | "int64"),
        Some("NUMBER") => matches!(format, "float" | "double"),
        _ => false,
    }
}

/// The translated schema, and the JSON pointers (with the keyword's name) of what it
/// had to drop, in document order.
pub fn translate(schema: &Value) -> (Value, Vec<String>) {
    let mut t = Translator {
        root: schema,
        dropped: Vec::new(),
        expanding: Vec::new(),
    };
    let out = t.node(schema, "");
    (out, t.dropped)
}

struct Translator<'a> {
    root: &'a Value,
    dropped: Vec<String>,
    /// The `$ref`s being inlined, outermost first: one met again recurses.
    expanding: Vec<String>,
}

impl Translator<'_> {
    fn drop(&mut self, pointer: String) {
        self.dropped.push(pointer);
    }

    fn node(&mut self, schema: &Value, at: &str) -> Value {
        let Value::Object(obj) = schema else {
            // `true` (anything) has no subset form but the empty schema; `false` none.
            if schema == &Value::Bool(false) {
                self.drop(at.to_string());
            }
            return Value::Object(Map::new());
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            return self.reference(reference, obj, at);
        }
        let mut out = Map::new();
        let mut nullable = false;
        let ty = self.kind(obj, at, &mut nullable);
        if let Some(ty) = &ty {
            out.insert("type".into(), Value::String(ty.clone()));
        }
        for (key, value) in obj {
            let here = format!("{at}/{}", escape(key));
            match key.as_str() {
                "type" | "$ref" => {}
                k if SILENT.contains(&k) => {}
                k if KEPT.contains(&k) => {
                    out.insert(key.clone(), value.clone());
                }
                "format" => match value.as_str() {
                    Some(f) if format_allowed(ty.as_deref(), f) => {
                        out.insert(key.clone(), value.clone());
                    }
                    _ => self.drop(here),
                },
                "nullable" => nullable |= value == &Value::Bool(true),
                "enum" => match strings(value) {
                    Some(values) => {
                        out.insert("enum".into(), values);
                    }
                    None => self.drop(here),
                },
                "const" => match value {
                    Value::String(_) => {
                        out.insert("enum".into(), Value::Array(vec![value.clone()]));
                    }
                    _ => self.drop(here),
                },
                "examples" => {
                    if let Some(first) = value.as_array().and_then(|a| a.first()) {
                        out.entry("example").or_insert_with(|| first.clone());
                    }
                }
                "properties" => {
                    let Value::Object(props) = value else {
                        self.drop(here);
                        continue;
                    };
                    let mut translated = Map::new();
                    for (name, sub) in props {
                        let sub_at = format!("{here}/{}", escape(name));
                        translated.insert(name.clone(), self.node(sub, &sub_at));
                    }
                    let order = props.keys().cloned().map(Value::String).collect();
                    out.insert("properties".into(), Value::Object(translated));
                    out.insert("propertyOrdering".into(), Value::Array(order));
                }
                "required" => {
                    out.insert(key.clone(), value.clone());
                }
                "items" => match value {
                    Value::Object(_) | Value::Bool(true) => {
                        let items = self.node(value, &here);
                        out.insert("items".into(), items);
                    }
                    _ => self.drop(here),
                },
                "anyOf" => {
                    let Some(branches) = value.as_array() else {
                        self.drop(here);
                        continue;
                    };
                    let mut kept = Vec::new();
                    for (i, branch) in branches.iter().enumerate() {
                        if branch.get("type").and_then(Value::as_str) == Some("null") {
                            nullable = true;
                        } else {
                            kept.push(self.node(branch, &format!("{here}/{i}")));
                        }
                    }
                    // One branch left besides `null`: that branch, nullable.
                    if kept.len() == 1 && ty.is_none() {
                        if let Some(Value::Object(only)) = kept.pop() {
                            for (k, v) in only {
                                out.entry(k).or_insert(v);
                            }
                        }
                    } else if !kept.is_empty() {
                        out.insert("anyOf".into(), Value::Array(kept));
                    }
                }
                _ => self.drop(here),
            }
        }
        if nullable {
            out.insert("nullable".into(), Value::Bool(true));
        }
        // The subset's `enum` is of strings, and wants the type said.
        if out.contains_key("enum") && !out.contains_key("type") {
            out.insert("type".into(), Value::String("STRING".into()));
        }
        Value::Object(out)
    }

    /// The upper-case type, reading `[T, "null"]` as a nullable `T`. Any other list of
    /// types has no subset form: dropped.
    fn kind(&mut self, obj: &Map<String, Value>, at: &str, nullable: &mut bool) -> Option<String> {
        let ty = obj.get("type")?;
        match ty {
            Value::String(t) => Some(t.to_ascii_uppercase()),
            Value::Array(types) => {
                let named: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                *nullable |= named.contains(&"null");
                let rest: Vec<&&str> = named.iter().filter(|t| **t != "null").collect();
                match rest.as_slice() {
                    [one] => Some(one.to_ascii_uppercase()),
                    [] => Some("NULL".into()),
                    _ => {
                        self.drop(format!("{at}/type"));
                        None
                    }
                }
            }
            _ => {
                self.drop(format!("{at}/type"));
                None
            }
        }
    }

    /// A `$ref` inlined; its siblings other than metadata are dropped (JSON Schema
    /// before 2019-09 ignores them too).
    fn reference(&mut self, reference: &str, obj: &Map<String, Value>, at: &str) -> Value {
        for key in obj.keys() {
            if key != "$ref" && !SILENT.contains(&key.as_str()) && key != "description" {
                self.drop(format!("{at}/{}", escape(key)));
            }
        }
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| self.root.pointer(pointer));
        match target {
            Some(target) if !self.expanding.iter().any(|r| r == reference) => {
                self.expanding.push(reference.to_string());
                let mut out = self.node(target, at);
                self.expanding.pop();
                if let (Value::Object(out), Some(d)) = (&mut out, obj.get("description")) {
                    out.insert("description".into(), d.clone());
                }
                out
            }
            // Recursive or not local: nothing the subset can say.
            _ => {
                self.drop(format!("{at}/$ref"));
                Value::Object(Map::new())
            }
        }
    }
}

/// An `enum` of strings as it is; any other value makes the whole `enum` unsayable.
fn strings(value: &Value) -> Option<Value> {
    let values = value.as_array()?;
    values
        .iter()
        .all(Value::is_string)
        .then(|| Value::Array(values.clone()))
}

/// A JSON pointer token (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
