#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::provider::event::ToolCallDelta;
use crate::target::{Params, ProviderKind};

fn target(provider: ProviderKind, model: &str, mode: Option<SchemaMode>) -> Target {
    Target {
        name: "t".into(),
        provider,
        model: model.into(),
        base_url: "http://127.0.0.1:1".into(),
        key: crate::target::KeySource::None,
        params: Params {
            schema: Some(OutputSchema {
                name: "order".into(),
                schema: json!({"type": "object"}),
                strict: true,
            }),
            schema_mode: mode,
            ..Params::default()
        },
    }
}

#[test]
fn each_kind_has_its_default_mode() {
    let mode_of = |p, m| mode(&target(p, m, None));
    assert_eq!(mode_of(ProviderKind::OpenAi, "gpt-4o"), SchemaMode::JsonSchema);
    assert_eq!(
        mode_of(ProviderKind::Gemini, "gemini-2.5-flash"),
        SchemaMode::JsonSchema
    );
    assert_eq!(
        mode_of(ProviderKind::Bedrock, "anthropic.claude"),
        SchemaMode::Tool
    );
    assert_eq!(
        mode_of(ProviderKind::Anthropic, "claude-sonnet-4-5-20250929"),
        SchemaMode::JsonSchema
    );
    assert_eq!(
        mode_of(ProviderKind::Anthropic, "claude-3-5-haiku-20241022"),
        SchemaMode::Tool
    );
    // A mode the API does not offer falls back to its default.
    let t = target(ProviderKind::Gemini, "gemini-2.5-flash", Some(SchemaMode::Tool));
    assert_eq!(mode(&t), SchemaMode::JsonSchema);
    let t = target(
        ProviderKind::OpenAiCompatible,
        "llama",
        Some(SchemaMode::JsonObject),
    );
    assert_eq!(mode(&t), SchemaMode::JsonObject);
}

#[test]
fn the_requests_schema_wins_over_the_targets() {
    let t = target(ProviderKind::OpenAi, "gpt-4o", None);
    let mut request = ChatRequest::single(None, "hi");
    assert_eq!(effective(&t, &request).unwrap().name, "order");
    request.schema = Some(OutputSchema {
        name: "mine".into(),
        schema: json!(true),
        strict: false,
    });
    assert_eq!(effective(&t, &request).unwrap().name, "mine");
    assert_eq!(forced_tool(&t, &request), None);
    let claude3 = target(ProviderKind::Anthropic, "claude-3-5-haiku-20241022", None);
    assert_eq!(forced_tool(&claude3, &request), Some("mine"));
}

#[test]
fn a_forced_tools_input_becomes_the_answer() {
    let head = StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
        index: 0,
        id: Some("toolu_1".into()),
        name: Some("order".into()),
        arguments: String::new(),
    }));
    assert_eq!(as_answer(head), None);
    let piece = StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
        index: 0,
        arguments: "{\"id\":".into(),
        ..ToolCallDelta::default()
    }));
    assert_eq!(as_answer(piece), Some(StreamEvent::TextDelta("{\"id\":".into())));
    let finish = StreamEvent::Finish(Finish {
        reason: FinishReason::ToolCalls,
        raw: Some("tool_use".into()),
    });
    assert_eq!(
        as_answer(finish),
        Some(StreamEvent::Finish(Finish {
            reason: FinishReason::Stop,
            raw: Some("tool_use".into()),
        }))
    );
    let length = StreamEvent::Finish(Finish {
        reason: FinishReason::Length,
        raw: None,
    });
    assert_eq!(as_answer(length.clone()), Some(length));
}

#[test]
fn response_schema_translation_golden() {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "id": {"type": "integer", "format": "int64", "minimum": 1},
            "when": {"type": "string", "format": "date-time"},
            "email": {"type": "string", "format": "email", "pattern": "^.+@.+$"},
            "note": {"type": ["string", "null"], "maxLength": 80},
            "status": {"enum": ["open", "shut"]},
            "kind": {"const": "order"},
            "size": {"enum": [1, 2]},
            "owner": {"$ref": "#/$defs/person"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": true},
            "total": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        },
        "required": ["id", "owner"],
        "additionalProperties": false,
        "$defs": {
            "person": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "boss": {"$ref": "#/$defs/person"}},
                "required": ["name"]
            }
        }
    });
    let (out, dropped) = response_schema::translate(&schema);
    assert_eq!(
        out,
        json!({
            "type": "OBJECT",
            "properties": {
                "id": {"type": "INTEGER", "format": "int64", "minimum": 1},
                "when": {"type": "STRING", "format": "date-time"},
                "email": {"type": "STRING", "pattern": "^.+@.+$"},
                "note": {"type": "STRING", "maxLength": 80, "nullable": true},
                "status": {"type": "STRING", "enum": ["open", "shut"]},
                "kind": {"type": "STRING", "enum": ["order"]},
                "size": {},
                "owner": {
                    "type": "OBJECT",
                    "properties": {"name": {"type": "STRING"}, "boss": {}},
                    "propertyOrdering": ["name", "boss"],
                    "required": ["name"]
                },
                "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1},
                "total": {"type": "NUMBER", "nullable": true},
                "either": {}
            },
            "propertyOrdering": [
                "id", "when", "email", "note", "status", "kind", "size", "owner", "tags", "total", "either"
            ],
            "required": ["id", "owner"]
        })
    );
    assert_eq!(
        dropped,
        [
            "/properties/email/format",
            "/properties/size/enum",
            "/properties/owner/properties/boss/$ref",
            "/properties/tags/uniqueItems",
            "/properties/either/oneOf",
            "/additionalProperties",
        ]
    );
}

#[test]
fn response_schema_is_sent_translated_and_its_losses_are_a_load_warning() {
    let mut t = target(
        ProviderKind::Gemini,
        "gemini-2.5-flash",
        Some(SchemaMode::ResponseSchema),
    );
    t.params.schema = Some(OutputSchema {
        name: "order".into(),
        schema: json!({"type": "object", "properties": {"id": {"type": "string", "pattern": "^o"}},
            "additionalProperties": false}),
        strict: true,
    });
    let mut body = Map::new();
    gemini(&mut body, &t, &ChatRequest::single(None, "hi"));
    assert_eq!(
        body["generationConfig"],
        json!({"responseMimeType": "application/json", "responseSchema": {
            "type": "OBJECT",
            "properties": {"id": {"type": "STRING", "pattern": "^o"}},
            "propertyOrdering": ["id"]
        }})
    );
    assert_eq!(
        translation_warning(&t).unwrap(),
        "schema `order` as Gemini `responseSchema` drops what that subset cannot say: \
         /additionalProperties; use `schema_mode = \"json_schema\"` to send the whole schema"
    );
    // The full JSON Schema mode loses nothing, so it says nothing.
    t.params.schema_mode = Some(SchemaMode::JsonSchema);
    assert_eq!(translation_warning(&t), None);
}
