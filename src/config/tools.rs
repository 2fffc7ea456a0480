//! `tools = "file"`, `tool_choice` and `tool_results = "file"` (top level, `[defaults]`, a
//! `[[target]]`): the files are read and checked at load, relative to the config file's
//! directory, and a named `tool_choice` must name one of the target's tools.

use std::path::Path;

use toml::Spanned;

use super::Located;
use crate::target::{ProviderKind, Target, ToolChoice, Toolset};

/// The three keys as written in one table.
#[derive(Debug, Clone, Default)]
pub(super) struct ToolKeys {
    pub tools: Option<Spanned<String>>,
    pub tool_choice: Option<Spanned<String>>,
    pub tool_results: Option<Spanned<String>>,
}

/// The top-level keys, read once and shared by every target that sets none of its own.
#[derive(Debug, Clone, Default)]
pub(super) struct Shared {
    tools: Option<Toolset>,
    choice: Option<Spanned<String>>,
    results: Option<crate::target::ToolResults>,
}

/// Read the top-level keys.
pub(super) fn shared(keys: ToolKeys, dir: &Path) -> Result<Shared, Located> {
    Ok(Shared {
        tools: definitions(keys.tools.as_ref(), dir)?,
        choice: keys.tool_choice,
        results: results(keys.tool_results.as_ref(), dir)?,
    })
}

/// Give `target` its tools (its own file, else the shared one), its `tool_choice` and its
/// canned results; warn where Bedrock cannot honour `none`.
pub(super) fn apply(
    target: &mut Target,
    own: ToolKeys,
    shared: &Shared,
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<(), Located> {
    let tools = match definitions(own.tools.as_ref(), dir)? {
        Some(set) => Some(set),
        None => shared.tools.clone(),
    };
    let choice = own.tool_choice.or_else(|| shared.choice.clone());
    let canned = match results(own.tool_results.as_ref(), dir)? {
        Some(r) => Some(r),
        None => shared.results.clone(),
    };
    let Some(mut set) = tools else {
        if let Some(c) = &choice {
            return Err((
                c.span().start,
                "`tool_choice` is set but no `tools` file is: add `tools = \"tools.toml\"`".into(),
            ));
        }
        return Ok(());
    };
    if let Some(c) = choice {
        let parsed =
            crate::tools::choice(&set, c.get_ref(), "`tool_choice`").map_err(|e| (c.span().start, e))?;
        if parsed == ToolChoice::None && target.provider == ProviderKind::Bedrock {
            warnings.push(format!(
                "target `{}`: Bedrock Converse has no tool_choice \"none\": its requests go without the tools",
                target.name
            ));
        }
        set.choice = Some(parsed);
    }
    set.results = canned;
    target.params.tools = Some(set);
    Ok(())
}

/// Read the tools file a `tools` key names, if any.
pub(super) fn definitions(field: Option<&Spanned<String>>, dir: &Path) -> Result<Option<Toolset>, Located> {
    let Some(field) = field else { return Ok(None) };
    crate::tools::definitions_from_file(&dir.join(field.get_ref()))
        .map(Some)
        .map_err(|e| (field.span().start, format!("`tools`: {e}")))
}

/// Read the canned results file a `tool_results` key names, if any.
pub(super) fn results(
    field: Option<&Spanned<String>>,
    dir: &Path,
) -> Result<Option<crate::target::ToolResults>, Located> {
    let Some(field) = field else { return Ok(None) };
    crate::tools::results_from_file(&dir.join(field.get_ref()))
        .map(Some)
        .map_err(|e| (field.span().start, format!("`tool_results`: {e}")))
}

/// Check a variant's `tool_choice` (at byte `at`) against every target it runs on, when
/// the variant has no tools file of its own: each must offer tools, and a named choice
/// must name one of them.
pub(super) fn check_variant_choice(
    choice: &str,
    at: usize,
    targets: &[Target],
) -> Result<ToolChoice, Located> {
    for target in targets {
        let Some(set) = &target.params.tools else {
            return Err((
                at,
                format!(
                    "[[variant]] `tool_choice` is set but target `{}` has no `tools`: add `tools = \"tools.toml\"` to the variant or the target",
                    target.name
                ),
            ));
        };
        crate::tools::choice(
            set,
            choice,
            &format!("[[variant]] `tool_choice` on target `{}`", target.name),
        )
        .map_err(|e| (at, e))?;
    }
    Ok(ToolChoice::parse(choice))
}
