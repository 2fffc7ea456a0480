//! The styles the document renderer needs, resolved from the active theme.

use ratatui::style::{Modifier, Style};

/// Styles for rendering one document (markdown answer or plain reasoning text).
#[derive(Debug, Clone, PartialEq)]
pub struct DocStyles {
    /// Body text.
    pub text: Style,
    /// Headings (all levels).
    pub heading: Style,
    /// `*emphasis*`.
    pub emphasis: Style,
    /// `**strong**`.
    pub strong: Style,
    /// `` `inline code` ``.
    pub code_inline: Style,
    /// Fenced code block lines (usually a background); syntax colours go on top.
    pub code_block: Style,
    /// Link text.
    pub link: Style,
    /// Block quotes.
    pub quote: Style,
    /// List bullets and numbers.
    pub list_marker: Style,
    /// Horizontal rules and table borders.
    pub rule: Style,
    /// Name of the syntect theme for code (`base16-ocean.dark`, `InspiredGitHub`...).
    pub syntax_theme: String,
    /// False under `NO_COLOR`: no syntax colours, modifiers only.
    pub color: bool,
}

impl DocStyles {
    /// Monochrome styles: modifiers only. Used under `NO_COLOR` and in tests.
    pub fn plain() -> Self {
        Self {
            text: Style::new(),
            heading: Style::new().add_modifier(Modifier::BOLD),
            emphasis: Style::new().add_modifier(Modifier::ITALIC),
            strong: Style::new().add_modifier(Modifier::BOLD),
            code_inline: Style::new().add_modifier(Modifier::REVERSED),
            code_block: Style::new(),
            link: Style::new().add_modifier(Modifier::UNDERLINED),
            quote: Style::new().add_modifier(Modifier::ITALIC),
            list_marker: Style::new(),
            rule: Style::new().add_modifier(Modifier::DIM),
            syntax_theme: "base16-ocean.dark".to_string(),
            color: false,
        }
    }
}
