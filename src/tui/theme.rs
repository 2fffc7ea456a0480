//! Stand-in theme until the theme module lands.

use ratatui::style::{Color, Modifier, Style};

use super::render::DocStyles;

/// Semantic style roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Role {
    Base,
    Muted,
    Title,
    Border,
    BorderFocused,
    Selection,
    StatusQueued,
    StatusConnecting,
    StatusWaiting,
    StatusStreaming,
    StatusDone,
    StatusError,
    StatusCancelled,
    FinishNormal,
    FinishWarn,
    FinishAlarm,
    Metric,
    Estimate,
    Reasoning,
    Error,
    KeyHint,
}

/// A resolved theme.
#[derive(Debug, Clone)]
pub struct Theme {
    /// Name.
    pub name: String,
}

impl Theme {
    /// The built-in dark theme.
    pub fn fallback() -> Self {
        Self { name: "dark".into() }
    }
    /// Style of a role.
    pub fn style(&self, role: Role) -> Style {
        match role {
            Role::Muted | Role::Estimate | Role::Reasoning => Style::new().add_modifier(Modifier::DIM),
            Role::Title => Style::new().add_modifier(Modifier::BOLD),
            Role::BorderFocused => Style::new().fg(Color::Yellow),
            Role::StatusStreaming => Style::new().fg(Color::Cyan),
            Role::StatusDone | Role::FinishNormal => Style::new().fg(Color::Green),
            Role::StatusError | Role::FinishAlarm | Role::Error => Style::new().fg(Color::Red),
            Role::FinishWarn => Style::new().fg(Color::Yellow),
            _ => Style::new(),
        }
    }
    /// Document styles.
    pub fn doc_styles(&self) -> DocStyles {
        DocStyles::plain()
    }
}
