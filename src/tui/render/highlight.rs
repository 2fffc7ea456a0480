//! Syntax colours for code blocks, one line at a time.
//!
//! syntect's parse and highlight states are carried from line to line, so a streamed
//! code block highlights each completed line exactly once and re-highlights only its
//! unfinished last line, from a copy of the state ([`CodeHighlighter::peek`]).
//!
//! The bundled syntaxes and themes take tens of milliseconds to deserialize; they load
//! on first use and only if colour is enabled.

use std::sync::LazyLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use syntect::highlighting::{FontStyle, HighlightIterator, HighlightState, Highlighter, Theme, ThemeSet};
use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};

use super::cells::sanitize;
use super::styles::DocStyles;

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);
static THEMES: LazyLock<ThemeSet> = LazyLock::new(ThemeSet::load_defaults);

/// Lines longer than this are shown uncoloured: the regex engine's cost per line is not
/// linear in general, and a megabyte-long minified line would stall the frame.
pub(crate) const MAX_LINE: usize = 4096;

/// Loads the syntax and theme sets now rather than on the first code block.
pub fn warm_up() {
    LazyLock::force(&SYNTAXES);
    LazyLock::force(&THEMES);
}

fn theme(name: &str) -> Option<&'static Theme> {
    let themes = &THEMES.themes;
    themes
        .get(name)
        .or_else(|| themes.get("base16-ocean.dark"))
        .or_else(|| themes.values().next())
}

/// The language a fence's info string names: its first word, without `{.` `}` decoration.
pub(crate) fn language(info: &str) -> &str {
    info.split(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap_or("")
        .trim_matches(|c| c == '{' || c == '}' || c == '.')
}

struct Active {
    highlighter: Highlighter<'static>,
    parse: ParseState,
    state: HighlightState,
}

/// Highlights the lines of one code block in order.
pub(crate) struct CodeHighlighter {
    active: Option<Active>,
    base: Style,
}

impl CodeHighlighter {
    /// `lang` as written after the fence; unknown languages and `color == false` give
    /// plain `code_block` text.
    pub(crate) fn new(lang: &str, styles: &DocStyles) -> Self {
        let base = styles.code_block;
        let active = (styles.color && !lang.is_empty())
            .then(|| {
                let syntax = SYNTAXES.find_syntax_by_token(lang)?;
                let highlighter = Highlighter::new(theme(&styles.syntax_theme)?);
                let state = HighlightState::new(&highlighter, ScopeStack::new());
                Some(Active {
                    highlighter,
                    parse: ParseState::new(syntax),
                    state,
                })
            })
            .flatten();
        Self { active, base }
    }

    /// Spans for a completed line (without its newline); advances the state.
    pub(crate) fn line(&mut self, line: &str) -> Vec<Span<'static>> {
        if line.len() > MAX_LINE {
            return self.plain(line);
        }
        match self.active.as_mut().map(|a| a.spans(line, true, self.base)) {
            Some(Some(spans)) => spans,
            Some(None) => {
                // A parse error leaves the state unusable: the rest of the block is plain.
                self.active = None;
                self.plain(line)
            }
            None => self.plain(line),
        }
    }

    /// Spans for the unfinished last line, without advancing the state.
    pub(crate) fn peek(&self, line: &str) -> Vec<Span<'static>> {
        let Some(a) = self.active.as_ref().filter(|_| line.len() <= MAX_LINE) else {
            return self.plain(line);
        };
        let (mut parse, mut state) = (a.parse.clone(), a.state.clone());
        spans(&a.highlighter, &mut parse, &mut state, line, false, self.base)
            .unwrap_or_else(|| self.plain(line))
    }

    pub(crate) fn plain(&self, line: &str) -> Vec<Span<'static>> {
        vec![Span::styled(sanitize(line).into_owned(), self.base)]
    }
}

impl Active {
    fn spans(&mut self, line: &str, newline: bool, base: Style) -> Option<Vec<Span<'static>>> {
        spans(
            &self.highlighter,
            &mut self.parse,
            &mut self.state,
            line,
            newline,
            base,
        )
    }
}

/// Highlights one line; `None` on a syntax definition error.
fn spans(
    highlighter: &Highlighter<'_>,
    parse: &mut ParseState,
    state: &mut HighlightState,
    line: &str,
    newline: bool,
    base: Style,
) -> Option<Vec<Span<'static>>> {
    // The "newlines" syntax set expects each completed line to end in `\n`.
    let owned;
    let input = if newline {
        owned = format!("{line}\n");
        owned.as_str()
    } else {
        line
    };
    let ops = parse.parse_line(input, &SYNTAXES).ok()?;
    let mut out: Vec<Span<'static>> = Vec::new();
    for (style, piece) in HighlightIterator::new(state, &ops, input, highlighter) {
        let piece = piece.strip_suffix('\n').unwrap_or(piece);
        if piece.is_empty() {
            continue;
        }
        let style = convert(style, base);
        let text = sanitize(piece);
        match out.last_mut() {
            Some(prev) if prev.style == style => prev.content.to_mut().push_str(&text),
            _ => out.push(Span::styled(text.into_owned(), style)),
        }
    }
    if out.is_empty() {
        out.push(Span::styled(String::new(), base));
    }
    Some(out)
}

fn convert(s: syntect::highlighting::Style, base: Style) -> Style {
    let fg = s.foreground;
    let mut style = base.fg(Color::Rgb(fg.r, fg.g, fg.b));
    for (flag, modifier) in [
        (FontStyle::BOLD, Modifier::BOLD),
        (FontStyle::ITALIC, Modifier::ITALIC),
        (FontStyle::UNDERLINE, Modifier::UNDERLINED),
    ] {
        if s.font_style.contains(flag) {
            style = style.add_modifier(modifier);
        }
    }
    style
}
