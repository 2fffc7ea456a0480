//! Reading a theme file: TOML in, per-role styles out, every mistake reported at its place.
//!
//! Keys and values are read as `toml::Spanned` strings and validated here rather than by serde,
//! so an error can name the offending key and point at it as `path:line:col` (1-based, columns
//! counted in characters) instead of quoting serde's list of every expected variant.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use super::role::Role;

/// A theme file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// Name of a syntect theme from its default set, for code blocks.
    syntax: Option<Spanned<String>>,
    /// Styles by role name.
    #[serde(default)]
    roles: BTreeMap<Spanned<String>, RoleSpec>,
}

/// One role's entry: `{ fg = "...", bg = "...", modifiers = [...] }`, all optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
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
        Some(syntax) => Some(check_syntax_theme(syntax)?),
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
    for name in spec.modifiers {
        let Some((_, modifier)) = MODIFIERS.iter().find(|(n, _)| n == name.get_ref()) else {
            return Err(at(
                name.span(),
                format!(
                    "roles.{}.modifiers: unknown modifier `{}`; expected one of {}",
                    role.name(),
                    name.get_ref(),
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
fn colour(role: Role, field: &str, value: &Spanned<String>) -> Result<Color, ParseError> {
    // ratatui's parser is lenient about case and separators in names ("Light Blue",
    // "light_blue"), which is what people expect, and strict about hex and indices.
    value.get_ref().trim().parse::<Color>().map_err(|_| {
        at(
            value.span(),
            format!(
                "roles.{}.{field}: invalid colour `{}`; expected a colour name, `reset`, \
                 an index 0-255 or `#rrggbb`",
                role.name(),
                value.get_ref()
            ),
        )
    })
}

fn check_syntax_theme(name: Spanned<String>) -> Result<String, ParseError> {
    let known = syntax_theme_names();
    if known.iter().any(|k| k == name.get_ref()) {
        return Ok(name.into_inner());
    }
    Err(at(
        name.span(),
        format!(
            "syntax: unknown syntax theme `{}`; available: {}",
            name.get_ref(),
            known.join(", ")
        ),
    ))
}

/// The names in syntect's default theme set, which is what the renderer can load.
pub(crate) fn syntax_theme_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        syntect::highlighting::ThemeSet::load_defaults()
            .themes
            .into_keys()
            .collect()
    })
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
