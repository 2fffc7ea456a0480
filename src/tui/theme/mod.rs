//! Themes: which style each semantic [`Role`] gets, loaded from TOML files.
//!
//! Owns the theme file format, where themes are looked up (a path, the user's config directory,
//! then the three built-in themes compiled into the binary), the fallback resolution that lets a
//! theme set only a few roles, and `NO_COLOR` handling. Everything else in the workbench asks
//! [`Theme::style`] for a role and never names a colour, so one file restyles it all.
//!
//! A theme file (`themes/NAME.toml`):
//!
//! ```toml
//! syntax = "base16-ocean.dark"     # a theme from syntect's default set, for code blocks
//! [roles]
//! base = { fg = "#c0c5ce", bg = "#2b303b" }
//! title = { fg = "cyan", modifiers = ["bold"] }
//! border_focused = { fg = "yellow" }
//! ```
//!
//! Colours are ratatui colour names (`cyan`, `light_blue`, `dark_gray`...), `reset`, an index
//! `0`-`255` or `#rrggbb`; modifiers are `bold`, `dim`, `italic`, `underlined`, `reversed` and
//! `crossed_out`. Unset roles inherit along [`Role::fallback`]; a set role is patched on top of
//! what it inherits (so `{ modifiers = ["bold"] }` keeps the inherited colours).

mod depth;
mod file;
mod role;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use ratatui::style::Style;

use crate::tui::render::DocStyles;
pub use depth::{ColorDepth, nearest_256};
pub use role::Role;

/// The theme used when none is configured.
pub const DEFAULT_THEME: &str = "dark";

/// Syntax theme for code blocks when a theme file names none.
const DEFAULT_SYNTAX: &str = "base16-ocean.dark";

/// The built-in themes, compiled in so the binary works without any files installed.
const BUILTIN: [(&str, &str); 3] = [
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
];

/// Names of the built-in themes (the config checks `theme = "..."` against the same list).
pub fn builtin_names() -> &'static [&'static str] {
    &crate::config::themes::BUILTIN_THEMES
}

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// The theme file exists (or was named) but could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid theme; `line` and `col` (1-based) point at the offending key or
    /// value, and the message names it.
    #[error("{path}:{line}:{col}: {message}")]
    Invalid {
        /// The file, or `<built-in>/NAME.toml`.
        path: String,
        /// Line of the problem.
        line: usize,
        /// Column (in characters) of the problem.
        col: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// No theme has that name.
    #[error("{}", crate::config::themes::unknown_theme(name, available))]
    Unknown {
        /// The name asked for.
        name: String,
        /// Built-in themes and those in the user's theme directory.
        available: Vec<String>,
    },
}

/// A loaded theme: one resolved style per role.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// The theme's name (the file stem for a theme loaded by path).
    pub name: String,
    /// Styles after fallback resolution, indexed by [`Role::index`].
    styles: [Style; Role::ALL.len()],
    /// The syntect theme for code blocks.
    syntax_theme: String,
    /// False after [`Theme::monochrome`].
    color: bool,
    /// What the terminal shows; RGB is mapped to 256 colours on the drawn frame.
    depth: ColorDepth,
}

impl Theme {
    /// The style for `role`, after fallback resolution.
    pub fn style(&self, role: Role) -> Style {
        self.styles[role.index()]
    }

    /// Name of the syntect theme used for code blocks.
    pub fn syntax_theme(&self) -> &str {
        &self.syntax_theme
    }

    /// False once colours have been stripped for `NO_COLOR`.
    pub fn has_color(&self) -> bool {
        self.color
    }

    /// The colours the terminal shows ([`ColorDepth::apply`] maps each frame to it).
    pub fn depth(&self) -> ColorDepth {
        self.depth
    }

    /// The theme for a terminal of `depth`: monochrome for [`ColorDepth::None`].
    pub fn with_depth(self, depth: ColorDepth) -> Theme {
        match depth {
            ColorDepth::None => self.monochrome(),
            depth => Theme { depth, ..self },
        }
    }

    /// The styles the document renderer needs.
    pub fn doc_styles(&self) -> DocStyles {
        DocStyles {
            text: self.style(Role::Base),
            heading: self.style(Role::Heading),
            emphasis: self.style(Role::Emphasis),
            strong: self.style(Role::Strong),
            code_inline: self.style(Role::CodeInline),
            code_block: self.style(Role::CodeBlock),
            link: self.style(Role::Link),
            quote: self.style(Role::Quote),
            list_marker: self.style(Role::ListMarker),
            rule: self.style(Role::Rule),
            syntax_theme: self.syntax_theme.clone(),
            color: self.color,
        }
    }

    /// The same theme without colours: every role keeps only its modifiers, and code is not
    /// syntax-coloured. For `NO_COLOR` (see [`no_color_requested`]).
    pub fn monochrome(mut self) -> Theme {
        for style in &mut self.styles {
            *style = Style::new().add_modifier(style.add_modifier);
        }
        self.color = false;
        self.depth = ColorDepth::None;
        self
    }

    /// Builds a theme from parsed roles by resolving every fallback chain.
    fn resolve(name: String, parsed: file::Parsed) -> Theme {
        fn resolved(role: Role, set: &[Option<Style>]) -> Style {
            let inherited = role
                .fallback()
                .map_or_else(Style::new, |parent| resolved(parent, set));
            set[role.index()].map_or(inherited, |own| inherited.patch(own))
        }
        Theme {
            name,
            styles: Role::ALL.map(|role| resolved(role, &parsed.roles)),
            syntax_theme: parsed.syntax.unwrap_or_else(|| DEFAULT_SYNTAX.to_string()),
            color: true,
            depth: ColorDepth::TrueColor,
        }
    }
}

impl Default for Theme {
    /// The built-in default theme ([`DEFAULT_THEME`]); monochrome styles if it ever failed to
    /// parse, which the tests rule out.
    fn default() -> Self {
        builtin(DEFAULT_THEME).unwrap_or_else(|_| Theme {
            name: DEFAULT_THEME.to_string(),
            styles: [Style::new(); Role::ALL.len()],
            syntax_theme: DEFAULT_SYNTAX.to_string(),
            color: false,
            depth: ColorDepth::None,
        })
    }
}

/// True when `NO_COLOR` is set to a non-empty value (<https://no-color.org>). The app then uses
/// [`Theme::monochrome`]; `load` itself never strips colours, so tests and previews can show them.
pub fn no_color_requested() -> bool {
    no_color_in(std::env::var_os("NO_COLOR"))
}

/// The `NO_COLOR` rule on a given value: any non-empty value counts, even `0`.
fn no_color_in(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// Loads a theme. An argument ending in `.toml` is a file path; anything else is a theme name,
/// looked up first as `$XDG_CONFIG_HOME/prism/themes/NAME.toml` (so a user can override a
/// built-in theme by its name) and then among [`builtin_names`].
pub fn load(name_or_path: &str) -> Result<Theme, ThemeError> {
    load_with(name_or_path, user_theme_dir().as_deref())
}

/// The user's theme directory, if a home directory can be found.
pub fn user_theme_dir() -> Option<PathBuf> {
    crate::config::themes::user_theme_dir()
}

/// [`load`] with the user theme directory given, so tests need not touch the real one.
fn load_with(name_or_path: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
    if name_or_path.ends_with(".toml") {
        return load_file(Path::new(name_or_path));
    }
    let name = name_or_path;
    // A name is a file stem, never a path: "../x" must not escape the theme directory.
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if plain && let Some(dir) = user_dir {
        let path = dir.join(format!("{name}.toml"));
        if path.is_file() {
            return load_file(&path);
        }
    }
    if let Ok(theme) = builtin(name) {
        return Ok(theme);
    }
    Err(ThemeError::Unknown {
        name: name.to_string(),
        available: available(user_dir),
    })
}

/// Built-in theme names plus the stems of `*.toml` files in the user's theme directory.
fn available(user_dir: Option<&Path>) -> Vec<String> {
    crate::config::themes::available(user_dir)
}

fn load_file(path: &Path) -> Result<Theme, ThemeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    from_text(name, &path.display().to_string(), &text)
}

/// A built-in theme by name.
fn builtin(name: &str) -> Result<Theme, ThemeError> {
    let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
        return Err(ThemeError::Unknown {
            name: name.to_string(),
            available: available(None),
        });
    };
    from_text(name.to_string(), &format!("<built-in>/{name}.toml"), text)
}

/// Parses theme text; `origin` is the path shown in error messages.
fn from_text(name: String, origin: &str, text: &str) -> Result<Theme, ThemeError> {
    let parsed = file::parse(text).map_err(|e| {
        let (line, col) = e.span.map_or((1, 1), |span| file::line_col(text, span.start));
        ThemeError::Invalid {
            path: origin.to_string(),
            line,
            col,
            message: e.message,
        }
    })?;
    Ok(Theme::resolve(name, parsed))
}
