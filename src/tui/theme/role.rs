//! The semantic roles a theme styles, and how an unset role falls back to a set one.
//!
//! Widgets ask for a role ("the border of the focused pane"), never for a colour, so a theme file
//! can restyle the whole workbench. The fallback chains let a theme set a handful of roles and
//! still look deliberate: each role inherits from a more general one and patches its own
//! settings on top.

use serde::{Deserialize, Serialize};

/// A semantic role a theme styles. Theme files name these in snake case under `[roles]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Ordinary text, and the root every other role inherits from.
    Base,
    /// De-emphasised text: hints, placeholders, secondary labels. Falls back to `base`.
    Muted,
    /// Pane and dialog titles. Falls back to `heading`.
    Title,
    /// Borders of unfocused panes. Falls back to `muted`.
    Border,
    /// The border of the focused pane. Falls back to `border`.
    BorderFocused,
    /// Selected items in lists and the selected pane. Falls back to `base`.
    Selection,
    /// A target waiting for its turn to send. Falls back to `muted`.
    StatusQueued,
    /// A target opening its connection. Falls back to `status_waiting`.
    StatusConnecting,
    /// A target that sent its request and waits for the first token. Falls back to `muted`.
    StatusWaiting,
    /// A target receiving tokens. Falls back to `base`.
    StatusStreaming,
    /// A target that finished. Falls back to `base`.
    StatusDone,
    /// A target that failed. Falls back to `error`.
    StatusError,
    /// A target the user cancelled. Falls back to `muted`.
    StatusCancelled,
    /// A finish reason that means "answer complete" (stop, end_turn). Falls back to `base`.
    FinishNormal,
    /// A finish reason worth a look (length limit, tool use). Falls back to `base`.
    FinishWarn,
    /// A finish reason that means the answer is unusable (content filter, error). Falls back
    /// to `error`.
    FinishAlarm,
    /// Measured numbers: TTFT, tokens per second, counts. Falls back to `base`.
    Metric,
    /// Numbers that are estimates rather than measurements. Falls back to `muted`.
    Estimate,
    /// A model's reasoning ("thinking") text. Falls back to `muted`.
    Reasoning,
    /// Error messages. Falls back to `base`.
    Error,
    /// Key bindings shown in help and status lines. Falls back to `muted`.
    KeyHint,
    /// Markdown headings. Falls back to `strong`.
    Heading,
    /// Markdown `*emphasis*`. Falls back to `base`.
    Emphasis,
    /// Markdown `**strong**`. Falls back to `base`.
    Strong,
    /// Markdown `` `inline code` ``. Falls back to `base`.
    CodeInline,
    /// Fenced code blocks (usually a background; syntax colours go on top). Falls back to `base`.
    CodeBlock,
    /// Link text. Falls back to `base`.
    Link,
    /// Block quotes. Falls back to `muted`.
    Quote,
    /// List bullets and numbers. Falls back to `base`.
    ListMarker,
    /// Horizontal rules and table borders. Falls back to `border`.
    Rule,
}

impl Role {
    /// Every role, in declaration order (also the order of a theme's resolved style table).
    pub const ALL: [Role; 30] = [
        Role::Base,
        Role::Muted,
        Role::Title,
        Role::Border,
        Role::BorderFocused,
        Role::Selection,
        Role::StatusQueued,
        Role::StatusConnecting,
        Role::StatusWaiting,
        Role::StatusStreaming,
        Role::StatusDone,
        Role::StatusError,
        Role::StatusCancelled,
        Role::FinishNormal,
        Role::FinishWarn,
        Role::FinishAlarm,
        Role::Metric,
        Role::Estimate,
        Role::Reasoning,
        Role::Error,
        Role::KeyHint,
        Role::Heading,
        Role::Emphasis,
        Role::Strong,
        Role::CodeInline,
        Role::CodeBlock,
        Role::Link,
        Role::Quote,
        Role::ListMarker,
        Role::Rule,
    ];

    /// The role's name as written in theme files.
    pub fn name(self) -> &'static str {
        match self {
            Role::Base => "base",
            Role::Muted => "muted",
            Role::Title => "title",
            Role::Border => "border",
            Role::BorderFocused => "border_focused",
            Role::Selection => "selection",
            Role::StatusQueued => "status_queued",
            Role::StatusConnecting => "status_connecting",
            Role::StatusWaiting => "status_waiting",
            Role::StatusStreaming => "status_streaming",
            Role::StatusDone => "status_done",
            Role::StatusError => "status_error",
            Role::StatusCancelled => "status_cancelled",
            Role::FinishNormal => "finish_normal",
            Role::FinishWarn => "finish_warn",
            Role::FinishAlarm => "finish_alarm",
            Role::Metric => "metric",
            Role::Estimate => "estimate",
            Role::Reasoning => "reasoning",
            Role::Error => "error",
            Role::KeyHint => "key_hint",
            Role::Heading => "heading",
            Role::Emphasis => "emphasis",
            Role::Strong => "strong",
            Role::CodeInline => "code_inline",
            Role::CodeBlock => "code_block",
            Role::Link => "link",
            Role::Quote => "quote",
            Role::ListMarker => "list_marker",
            Role::Rule => "rule",
        }
    }

    /// The role named `name` in a theme file, if there is one.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }

    /// The more general role this one inherits from; `None` only for `base`. Every chain ends at
    /// `base` (a test walks them all), so resolution always terminates.
    pub fn fallback(self) -> Option<Role> {
        let parent = match self {
            Role::Base => return None,
            Role::Title => Role::Heading,
            Role::Heading => Role::Strong,
            Role::Border | Role::StatusQueued | Role::StatusWaiting | Role::StatusCancelled => Role::Muted,
            Role::Estimate | Role::Reasoning | Role::KeyHint | Role::Quote => Role::Muted,
            Role::BorderFocused | Role::Rule => Role::Border,
            Role::StatusConnecting => Role::StatusWaiting,
            Role::StatusError | Role::FinishAlarm => Role::Error,
            Role::Muted
            | Role::Selection
            | Role::StatusStreaming
            | Role::StatusDone
            | Role::FinishNormal
            | Role::FinishWarn
            | Role::Metric
            | Role::Error
            | Role::Emphasis
            | Role::Strong
            | Role::CodeInline
            | Role::CodeBlock
            | Role::Link
            | Role::ListMarker => Role::Base,
        };
        Some(parent)
    }

    /// Position in [`Role::ALL`], for table lookups.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}
