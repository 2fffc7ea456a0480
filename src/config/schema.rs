//! `schema = "file.json"` (top level, `[defaults]`, a `[[target]]`) and `schema_mode`:
//! the schema is read and checked at load, relative to the config file's directory.

use std::path::Path;

use toml::Spanned;

use super::Located;
use crate::target::{OutputSchema, SchemaMode, Target};

/// Read the schema file a `schema` key names, if any.
pub(super) fn load(field: Option<&Spanned<String>>, dir: &Path) -> Result<Option<OutputSchema>, Located> {
    let Some(field) = field else { return Ok(None) };
    let file = dir.join(field.get_ref());
    crate::schema::from_file(&file)
        .map(Some)
        .map_err(|e| (field.span().start, format!("`schema`: {e}")))
}

/// Give `target` its own schema (or the file's shared one) and its `schema_mode`, refusing
/// a mode its API does not offer.
pub(super) fn apply(
    target: &mut Target,
    (schema, mode): (Option<Spanned<String>>, Option<Spanned<String>>),
    shared: Option<&OutputSchema>,
    dir: &Path,
) -> Result<(), Located> {
    target.params.schema = match load(schema.as_ref(), dir)? {
        Some(own) => Some(own),
        None => shared.cloned(),
    };
    let Some(mode) = mode else { return Ok(()) };
    let at = mode.span().start;
    let parsed: SchemaMode = mode
        .get_ref()
        .parse()
        .map_err(|e| (at, format!("`schema_mode`: {e}")))?;
    let spec = target.spec();
    let offered = SchemaMode::offered_by(spec.protocol);
    if !offered.contains(&parsed) {
        let names: Vec<&str> = offered.iter().map(|m| m.as_str()).collect();
        return Err((
            at,
            format!(
                "`schema_mode = \"{}\"`: {} does not offer it; use {}",
                parsed.as_str(),
                spec.display_name,
                names.join(" or ")
            ),
        ));
    }
    target.params.schema_mode = Some(parsed);
    Ok(())
}
