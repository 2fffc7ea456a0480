//! Reading a theme file: TOML in, per-role styles out, every mistake reported at its place.
//!
//! Keys and values are read as `toml::Spanned` strings and validated here rather than by serde,
//! so an error can name the offending key and point at it as `path:line:col` (1-based, columns
//! counted in characters) instead of quoting serde's list of every expected variant.

use std::collections::BTreeMap;
use std::ops::Range;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use super::role::Role;

/// A theme file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// Name of a syntect theme from its default set, for code blocks.
    syntax: Option<Spanned<toml::Value>>,
    /// Styles by role name.
    #[serde(default)]
    roles: BTreeMap<Spanned<String>, RoleSpec>,
}

/// One role's entry: `{ fg = "...", bg = "...", modifiers = [...] }`, all optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    // Values are read untyped so a wrong type gets a message naming its key, like a bad value.
    fg: Option<Spanned<toml::Value>>,
    bg: Option<Spanned<toml::Value>>,
    #[serde(default)]
    modifiers: Vec<Spanned<toml::Value>>,
}

/// What a valid theme file says, before fallback resolution.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The syntect theme, if the file names one.
    pub syntax: Option<String>,
    /// The styles set explicitly, indexed by [`Role::index`].
    pub roles: [Option<Style>; Role::ALL.len()],
}

/// A problem in a theme file, located by byte range in its text.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub span: Option<Range<usize>>,
    pub message: String,
}

/// The modifiers a theme file may name.
const MODIFIERS: [(&str, Modifier); 6] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// Parses and validates theme file text.
pub(crate) fn parse(text: &str) -> Result<Parsed, ParseError> {
    let file: ThemeFile = toml::from_str(text).map_err(|e| ParseError {
        span: e.span(),
        message: e.message().trim_end().to_string(),
    })?;
    let syntax = match file.syntax {
        Some(syntax) => Some(check_syntax_theme(&syntax)?),
        None => None,
    };
    let mut roles = [None; Role::ALL.len()];
    for (key, spec) in file.roles {
        let Some(role) = Role::from_name(key.get_ref()) else {
            return Err(at(
                key.span(),
                format!(
                    "unknown role `{}` in [roles]; known roles: {}",
                    key.get_ref(),
                    Role::ALL.map(Role::name).join(", ")
                ),
            ));
        };
        roles[role.index()] = Some(role_style(role, spec)?);
    }
    Ok(Parsed { syntax, roles })
}

fn role_style(role: Role, spec: RoleSpec) -> Result<Style, ParseError> {
    let mut style = Style::new();
    if let Some(fg) = spec.fg {
        style = style.fg(colour(role, "fg", &fg)?);
    }
    if let Some(bg) = spec.bg {
        style = style.bg(colour(role, "bg", &bg)?);
    }
    for value in spec.modifiers {
        let key = format!("roles.{}.modifiers", role.name());
        let name = string(&key, &value)?;
        let Some((_, modifier)) = MODIFIERS.iter().find(|(n, _)| *n == name) else {
            return Err(at(
                value.span(),
                format!(
                    "{key}: unknown modifier `{name}`; expected one of {}",
                    MODIFIERS.map(|(n, _)| n).join(", ")
                ),
            ));
        };
        style = style.add_modifier(*modifier);
    }
    Ok(style)
}

/// A colour: a ratatui colour name (`cyan`, `light_blue`, `dark_gray`...), `reset`, an indexed
/// colour `0`-`255`, or `#rrggbb`.
fn colour(role: Role, field: &str, value: &Spanned<toml::Value>) -> Result<Color, ParseError> {
    let key = format!("roles.{}.{field}", role.name());
    let text = string(&key, value)?;
    // ratatui's parser is lenient about case and separators in names ("Light Blue",
    // "light_blue"), which is what people expect, and strict about hex and indices.
    text.trim().parse::<Color>().map_err(|_| {
        at(
            value.span(),
            format!(
                "{key}: invalid colour `{text}`; expected a colour name, `reset`, \
                 an index 0-255 or `#rrggbb`"
            ),
        )
    })
}

fn check_syntax_theme(value: &Spanned<toml::Value>) -> Result<String, ParseError> {
    let name = string("syntax", value)?;
    let known = syntax_theme_names();
    if known.contains(&name) {
        return Ok(name.to_string());
    }
    Err(at(
        value.span(),
        format!(
            "syntax: unknown syntax theme `{name}`; available: {}",
            known.join(", ")
        ),
    ))
}

/// The string at `key`, or an error naming the key and the type found instead.
fn string<'v>(key: &str, value: &'v Spanned<toml::Value>) -> Result<&'v str, ParseError> {
    value.get_ref().as_str().ok_or_else(|| {
        let found = value.get_ref().type_str();
        at(value.span(), format!("{key}: expected a string, found {found}"))
    })
}

/// The names in syntect's default theme set, which is what the renderer can load, in its
/// order. Written out rather than read from the set: loading the set decompresses every
/// theme, which cost the workbench ~2 ms before its first frame just to check a name. A
/// test compares this list with the set, so a syntect upgrade that changes it fails there.
pub(crate) const SYNTAX_THEME_NAMES: [&str; 7] = [
    "InspiredGitHub",
    "Solarized (dark)",
    "Solarized (light)",
    "base16-eighties.dark",
    "base16-mocha.dark",
    "base16-ocean.dark",
    "base16-ocean.light",
];

/// [`SYNTAX_THEME_NAMES`].
pub(crate) fn syntax_theme_names() -> &'static [&'static str] {
    &SYNTAX_THEME_NAMES
}

fn at(span: Range<usize>, message: String) -> ParseError {
    ParseError {
        span: Some(span),
        message,
    }
}

/// 1-based line and column (in characters) of byte offset `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}
