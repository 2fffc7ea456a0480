//! What a key can do. Users bind these by name in `[keys.<mode>]`; the help overlay and
//! the footer show each variant's doc line, so the docs here are user-facing text.

use serde::Deserialize;

/// A user-bindable intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Send the prompt to every enabled target
    Send,
    /// Quit Prism
    Quit,
    /// Move focus to the next pane or field
    FocusNext,
    /// Move focus to the previous pane or field
    FocusPrev,
    /// Move focus back to the prompt editor
    FocusEditor,
    /// Show or hide this help
    Help,
    /// Edit the prompt in $VISUAL / $EDITOR
    OpenEditor,
    /// Show or hide the system prompt field
    ToggleSystem,
    /// Cancel the focused pane's request
    CancelFocused,
    /// Cancel every running request
    CancelAll,
    /// Scroll the focused pane up a line
    ScrollUp,
    /// Scroll the focused pane down a line
    ScrollDown,
    /// Scroll the focused pane up a page
    PageUp,
    /// Scroll the focused pane down a page
    PageDown,
    /// Jump to the top of the focused pane
    Top,
    /// Jump to the bottom and follow new text
    Bottom,
    /// Zoom the focused pane to full screen, or back
    Zoom,
    /// Include or skip the focused target in the next send
    ToggleTarget,
    /// Copy the focused pane's answer to the clipboard (OSC 52)
    Copy,
    /// Expand or collapse the focused pane's reasoning
    ToggleReasoning,
    /// Show or hide the earlier turns of the focused pane's conversation
    ToggleHistory,
    /// Send the last request again to the focused pane's target only
    RetryPane,
    /// Show every number, id and header of the focused pane
    Details,
    /// Start a new conversation: forget every pane's history; the next send starts a new
    /// session, and the budget counts from zero again
    NewConversation,
    /// Open the sessions browser
    Sessions,
    /// Open the selected session: its answers in the panes, the next send continues it
    OpenSession,
    /// Name the selected session
    RenameSession,
    /// Delete the selected session (asks first)
    DeleteSession,
    /// Play the selected session back with its recorded timing
    ReplaySession,
    /// Send the selected session's prompts again to its targets
    RerunSession,
    /// Word diff of two answers: on a pane it marks that side, on another pane it shows
    /// the diff (when comparing a re-run: the recorded and the new answer of the target)
    Diff,
    /// Blind mode: panes shown as A, B, C… in a shuffled order, names hidden until you vote
    Blind,
    /// Experiment grid votes: switch between comparing the targets of a row and the
    /// variants of a column (one target, case and repeat)
    VoteVariants,
    /// The scoreboard: one row per target over every run of this session, sortable, best
    /// values marked, bar charts of latency, speed and cost
    Scoreboard,
    /// Add a prompt variant with the current one's text (and name it)
    AddVariant,
    /// Switch the editors to the next prompt variant
    NextVariant,
    /// Switch the editors to the previous prompt variant
    PrevVariant,
    /// Rename the current prompt variant
    RenameVariant,
    /// Delete the current prompt variant
    DeleteVariant,
    /// Open or close the case table editor (CSV: a header row, then one case per row)
    Cases,
    /// Open or close the inline JSON Schema editor; the schema applies to the next sends
    Schema,
    /// Type results for the tool calls the last answers ended in, and run the follow-up round
    ToolResults,
    /// Step the repeat count of the next experiment (1, 2, 3, 5, 10, 20)
    Repeat,
    /// Step the order of the next experiment's runs (interleaved, random, sequential)
    Order,
    /// Show the next case's page of the experiment grid
    NextCase,
    /// Show the previous case's page of the experiment grid
    PrevCase,
    /// Show the next repeat (run 1..N) in the focused row of the experiment grid
    NextRepeat,
    /// Show the previous repeat in the focused row of the experiment grid
    PrevRepeat,
}

impl Action {
    /// The one-line description shown in help.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Send => "send the prompt to enabled targets",
            Self::Quit => "quit",
            Self::FocusNext => "focus the next pane or field",
            Self::FocusPrev => "focus the previous pane or field",
            Self::FocusEditor => "back to the prompt editor",
            Self::Help => "show or hide this help",
            Self::OpenEditor => "edit the prompt in $VISUAL/$EDITOR",
            Self::ToggleSystem => "show or hide the system prompt",
            Self::CancelFocused => "cancel the focused pane's request",
            Self::CancelAll => "cancel every running request",
            Self::ScrollUp => "scroll up a line",
            Self::ScrollDown => "scroll down a line",
            Self::PageUp => "scroll up a page",
            Self::PageDown => "scroll down a page",
            Self::Top => "jump to the top",
            Self::Bottom => "jump to the bottom and follow new text",
            Self::Zoom => "zoom the pane to full screen or back",
            Self::ToggleTarget => "switch this target on/off for sends",
            Self::Copy => "copy the answer (OSC 52 clipboard)",
            Self::ToggleReasoning => "expand or collapse the reasoning",
            Self::ToggleHistory => "show or hide the earlier turns",
            Self::RetryPane => "resend the last request to this pane",
            Self::Details => "details: numbers, ids, rate limits",
            Self::NewConversation => "new conversation, session and budget window",
            Self::Sessions => "browse saved sessions",
            Self::OpenSession => "open the selected session",
            Self::RenameSession => "rename the selected session",
            Self::DeleteSession => "delete the selected session",
            Self::ReplaySession => "replay the selected session",
            Self::RerunSession => "re-run the selected session",
            Self::Diff => "word diff: D on two panes (or a rerun)",
            Self::Blind => "blind mode: hide names until you vote",
            Self::VoteVariants => "grid votes: targets in a row / variants in a column",
            Self::Scoreboard => "scoreboard of this session's runs",
            Self::AddVariant => "add a prompt variant (copies this one)",
            Self::NextVariant => "next prompt variant",
            Self::PrevVariant => "previous prompt variant",
            Self::RenameVariant => "rename this prompt variant",
            Self::DeleteVariant => "delete this prompt variant",
            Self::Cases => "edit the case table (CSV)",
            Self::Schema => "edit the JSON Schema of the next sends",
            Self::ToolResults => "type tool results and run the follow-up round",
            Self::Repeat => "repeat count of the next experiment",
            Self::Order => "order of the next experiment's runs",
            Self::NextCase => "next case page of the grid",
            Self::PrevCase => "previous case page of the grid",
            Self::NextRepeat => "next repeat (run) of the focused grid row",
            Self::PrevRepeat => "previous repeat (run) of the focused grid row",
        }
    }

    /// A short label for the footer.
    pub fn label(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Quit => "quit",
            Self::FocusNext => "focus",
            Self::Help => "help",
            Self::CancelAll => "cancel all",
            Self::CancelFocused => "cancel",
            Self::Zoom => "zoom",
            Self::ToggleTarget => "on/off",
            Self::Copy => "copy",
            Self::OpenEditor => "$EDITOR",
            Self::ToggleSystem => "system",
            Self::FocusEditor => "editor",
            Self::ToggleReasoning => "reasoning",
            Self::ToggleHistory => "history",
            Self::RetryPane => "retry",
            Self::Details => "details",
            Self::NewConversation => "new",
            Self::Sessions => "sessions",
            Self::OpenSession => "open",
            Self::RenameSession => "rename",
            Self::DeleteSession => "delete",
            Self::ReplaySession => "replay",
            Self::RerunSession => "re-run",
            Self::Diff => "diff",
            Self::Blind => "blind",
            Self::VoteVariants => "vote variants",
            Self::Scoreboard => "scoreboard",
            Self::AddVariant => "add variant",
            Self::NextVariant | Self::PrevVariant => "variant",
            Self::RenameVariant => "rename variant",
            Self::DeleteVariant => "delete variant",
            Self::Cases => "cases",
            Self::Schema => "schema",
            Self::ToolResults => "tool results",
            Self::Repeat => "repeat",
            Self::Order => "order",
            Self::NextCase | Self::PrevCase => "case",
            Self::NextRepeat | Self::PrevRepeat => "run",
            _ => "scroll",
        }
    }
}
