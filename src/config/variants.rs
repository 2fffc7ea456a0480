//! `[[variant]]` tables: named versions of the system prompt and/or the prompt, with
//! optional sampling overrides, for A/B experiments (`prism run`).
//!
//! ```toml
//! [[variant]]
//! name = "terse"
//! system = "Answer in one sentence."
//!
//! [[variant]]
//! name = "hot"            # same prompts, another temperature
//! temperature = 1.2
//!
//! [[variant]]
//! name = "must-call"      # same prompts, the model must call a tool
//! tool_choice = "required"
//! ```
//!
//! A variant without its own `system` or `prompt` takes the run's (`--system`,
//! `--prompt`). Names are unique; numbers follow the target keys' ranges.

use serde::Deserialize;
use toml::Spanned;

use super::Located;
use crate::target::{Params, Target, ToolChoice, ToolDef, ToolResults};

/// Highest temperature any provider accepts; a target whose provider accepts less is
/// checked when the variant is applied to it.
const MAX_TEMPERATURE: f64 = 2.0;

/// One `[[variant]]` table as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantFile {
    pub name: Option<Spanned<String>>,
    pub system: Option<String>,
    pub prompt: Option<String>,
    pub temperature: Option<Spanned<f64>>,
    pub top_p: Option<Spanned<f64>>,
    pub max_tokens: Option<Spanned<u32>>,
    pub seed: Option<i64>,
    /// A JSON Schema file this variant's answers must follow.
    pub schema: Option<Spanned<String>>,
    /// A tools file this variant offers instead of the target's tools.
    pub tools: Option<Spanned<String>>,
    /// How this variant asks the model to use the tools.
    pub tool_choice: Option<Spanned<String>>,
    /// A canned results file this variant's follow-up round sends.
    pub tool_results: Option<Spanned<String>>,
}

/// A named version of the prompts and sampling parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Variant {
    /// Unique name, shown in every output.
    pub name: String,
    /// Its system prompt; `None` takes the run's.
    pub system: Option<String>,
    /// Its prompt; `None` takes the run's.
    pub prompt: Option<String>,
    /// Parameters it sets on every target it runs on.
    pub params: ParamOverrides,
    /// Where it was defined (`prism.toml:12:1`, `--variant`), for messages.
    pub origin: String,
}

/// Sampling parameters a variant sets; `None` leaves the target's own.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParamOverrides {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<i64>,
    /// The schema every answer must follow (`schema = "file.json"` in the variant).
    pub schema: Option<crate::target::OutputSchema>,
    /// The tool definitions offered instead of the target's (`tools = "file"`).
    pub tools: Option<Vec<ToolDef>>,
    /// The `tool_choice` sent instead of the target's.
    pub tool_choice: Option<ToolChoice>,
    /// The canned results sent instead of the target's (`tool_results = "file"`).
    pub tool_results: Option<ToolResults>,
}

impl ParamOverrides {
    /// Whether it sets nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `params` with every override set.
    pub fn apply(&self, params: &mut Params) {
        if let Some(v) = self.temperature {
            params.temperature = Some(v);
        }
        if let Some(v) = self.top_p {
            params.top_p = Some(v);
        }
        if let Some(v) = self.max_tokens {
            params.max_tokens = Some(v);
        }
        if let Some(v) = self.seed {
            params.seed = Some(v);
        }
        if let Some(v) = &self.schema {
            params.schema = Some(v.clone());
        }
        self.apply_tools(params);
    }

    /// Whether it changes anything about tools.
    pub fn sets_tools(&self) -> bool {
        self.tools.is_some() || self.tool_choice.is_some() || self.tool_results.is_some()
    }

    /// The target's tools with this variant's definitions, choice and results in place
    /// of its own. A target left with no definitions sends no tools (nor a choice).
    fn apply_tools(&self, params: &mut Params) {
        if !self.sets_tools() {
            return;
        }
        let mut set = params.tools.clone().unwrap_or_default();
        if let Some(defs) = &self.tools {
            set.tools.clone_from(defs);
        }
        if let Some(choice) = &self.tool_choice {
            set.choice = Some(choice.clone());
        }
        if let Some(results) = &self.tool_results {
            set.results = Some(results.clone());
        }
        params.tools = (!set.tools.is_empty()).then_some(set);
    }
}

/// A variant's tool definitions, choice and canned results, each `None` when not set.
type ToolOverrides = (Option<Vec<ToolDef>>, Option<ToolChoice>, Option<ToolResults>);

/// A variant's `tools`, `tool_choice` and `tool_results`, read and checked: a named
/// choice must name one of the variant's own tools when it has a file (else it is checked
/// against every target's tools).
fn tool_overrides(
    v: &VariantFile,
    dir: &std::path::Path,
    targets: &[Target],
) -> Result<ToolOverrides, Located> {
    let set = super::tools::definitions(v.tools.as_ref(), dir)?;
    let results = super::tools::results(v.tool_results.as_ref(), dir)?;
    let choice = match (&v.tool_choice, &set) {
        (None, _) => None,
        (Some(c), Some(set)) => Some(
            crate::tools::choice(set, c.get_ref(), "[[variant]] `tool_choice`")
                .map_err(|e| (c.span().start, e))?,
        ),
        (Some(c), None) => Some(super::tools::check_variant_choice(
            c.get_ref(),
            c.span().start,
            targets,
        )?),
    };
    Ok((set.map(|s| s.tools), choice, results))
}

/// Validate the `[[variant]]` tables. `locate` turns a byte offset into `file:line:col`.
pub fn resolve(
    tables: Vec<Spanned<VariantFile>>,
    dir: &std::path::Path,
    targets: &[Target],
    locate: impl Fn(usize) -> String,
) -> Result<Vec<Variant>, Located> {
    let mut out: Vec<Variant> = Vec::new();
    for table in tables {
        let at = table.span().start;
        let mut v = table.into_inner();
        let name = match v.name.take() {
            Some(n) if !n.get_ref().trim().is_empty() => n,
            Some(n) => return Err((n.span().start, "`name` must not be empty".into())),
            None => return Err((at, "missing `name` in [[variant]]".into())),
        };
        if out.iter().any(|o| o.name == *name.get_ref()) {
            return Err((
                name.span().start,
                format!(
                    "duplicate variant name `{}`: names must be unique",
                    name.get_ref()
                ),
            ));
        }
        let (tools, tool_choice, tool_results) = tool_overrides(&v, dir, targets)?;
        let params = ParamOverrides {
            temperature: fraction(v.temperature, "temperature", MAX_TEMPERATURE)?,
            top_p: fraction(v.top_p, "top_p", 1.0)?,
            max_tokens: super::limits::max_tokens(v.max_tokens)?,
            seed: v.seed,
            schema: super::schema::load(v.schema.as_ref(), dir)?,
            tools,
            tool_choice,
            tool_results,
        };
        out.push(Variant {
            name: name.into_inner(),
            system: v.system,
            prompt: v.prompt,
            params,
            origin: locate(at),
        });
    }
    Ok(out)
}

fn fraction(v: Option<Spanned<f64>>, key: &str, max: f64) -> Result<Option<f64>, Located> {
    let Some(s) = v else { return Ok(None) };
    let x = *s.get_ref();
    if (0.0..=max).contains(&x) {
        return Ok(Some(x));
    }
    Err((
        s.span().start,
        format!("[[variant]] `{key}` = {x} is out of range: give a number from 0 to {max}"),
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::parse;

    const TARGET: &str = "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\n";

    fn parse_str(text: &str) -> Result<crate::config::Config, String> {
        parse(text, Path::new("prism.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn variants_load_in_file_order_with_their_overrides() {
        let c = parse_str(&format!(
            "{TARGET}\n[[variant]]\nname = \"terse\"\nsystem = \"Be brief.\"\n\n[[variant]]\nname = \"hot\"\ntemperature = 1.5\nseed = 7\n"
        ))
        .unwrap();
        let [terse, hot] = &c.variants[..] else {
            panic!("two variants: {:?}", c.variants)
        };
        assert_eq!(terse.name, "terse");
        assert_eq!(terse.system.as_deref(), Some("Be brief."));
        assert_eq!(terse.prompt, None);
        assert!(terse.params.is_empty());
        assert_eq!(terse.origin, "prism.toml:6:1");
        assert_eq!(hot.params.temperature, Some(1.5));
        assert_eq!(hot.params.seed, Some(7));
    }

    #[test]
    fn variant_problems_point_at_the_key() {
        let e = parse_str(&format!(
            "{TARGET}[[variant]]\nname = \"a\"\n[[variant]]\nname = \"a\"\n"
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "prism.toml:8:8: duplicate variant name `a`: names must be unique"
        );
        let e = parse_str(&format!("{TARGET}[[variant]]\nsystem = \"x\"\n")).unwrap_err();
        assert_eq!(e, "prism.toml:5:1: missing `name` in [[variant]]");
        let e = parse_str(&format!("{TARGET}[[variant]]\nname = \"x\"\ntemperature = 3.0\n")).unwrap_err();
        assert!(
            e.starts_with("prism.toml:7:15: [[variant]] `temperature` = 3 is out of range"),
            "{e}"
        );
        let e = parse_str(&format!("{TARGET}[[variant]]\nname = \"x\"\ntemprature = 1.0\n")).unwrap_err();
        assert!(
            e.starts_with(
                "prism.toml:7:1: unknown key \"temprature\" in [[variant]] — did you mean \"temperature\"?"
            ),
            "{e}"
        );
    }

    #[test]
    fn max_concurrency_is_inherited_from_defaults_and_must_be_positive() {
        let c = parse_str(&format!(
            "[defaults]\nmax_concurrency = 3\n{TARGET}[[target]]\nname = \"b\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\nmax_concurrency = 1\n"
        ))
        .unwrap();
        assert_eq!(c.max_concurrency.get("a"), Some(&3));
        assert_eq!(c.max_concurrency.get("b"), Some(&1));
        let c = parse_str(TARGET).unwrap();
        assert!(c.max_concurrency.is_empty());
        let e = parse_str(&format!("{TARGET}max_concurrency = 0\n")).unwrap_err();
        assert!(
            e.starts_with("prism.toml:5:19: `max_concurrency` = 0 is out of range"),
            "{e}"
        );
    }

    #[test]
    fn a_variants_tools_replace_the_targets_pieces_it_sets() {
        use crate::target::{Params, ToolChoice, ToolDef, ToolResults, Toolset};
        let def = |name: &str| ToolDef {
            name: name.into(),
            description: String::new(),
            parameters: serde_json::json!({"type": "object"}),
        };
        let results = ToolResults {
            results: [("a".to_string(), serde_json::json!("ok"))].into(),
            typed: false,
        };
        let mut params = Params {
            tools: Some(Toolset {
                tools: vec![def("a")],
                choice: Some(ToolChoice::Auto),
                results: Some(results.clone()),
            }),
            ..Params::default()
        };
        let v = super::ParamOverrides {
            tools: Some(vec![def("b")]),
            tool_choice: Some(ToolChoice::Required),
            ..super::ParamOverrides::default()
        };
        v.apply(&mut params);
        let set = params.tools.unwrap();
        assert_eq!(set.tools, vec![def("b")]);
        assert_eq!(set.choice, Some(ToolChoice::Required));
        assert_eq!(
            set.results,
            Some(results),
            "results the variant leaves alone stay"
        );
        // A choice alone on a target without tools sends nothing about tools.
        let mut bare = Params::default();
        super::ParamOverrides {
            tool_choice: Some(ToolChoice::Required),
            ..super::ParamOverrides::default()
        }
        .apply(&mut bare);
        assert_eq!(bare.tools, None);
    }

    #[test]
    fn a_variant_tool_choice_needs_tools_on_every_target() {
        let e = parse_str(&format!(
            "{TARGET}[[variant]]\nname = \"x\"\ntool_choice = \"required\"\n"
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "prism.toml:7:15: [[variant]] `tool_choice` is set but target `a` has no `tools`: add `tools = \"tools.toml\"` to the variant or the target"
        );
    }
}
