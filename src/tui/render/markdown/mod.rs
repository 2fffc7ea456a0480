//! One markdown block (see `scan`) into styled logical lines, via pulldown-cmark events.
//!
//! Containers (quotes, list items) become line prefixes: a quote adds `│ `, an item adds
//! its bullet or number on its first line and as many blanks on every later line, which
//! gives wrapped items their hanging indent. Block elements are separated by one blank
//! line, as a terminal reader expects.
//!
//! The scanner splits loose lists at their blank lines, so an indented paragraph that
//! continues a list item arrives as a block of its own; when the previous block ended in
//! a list, such a block is de-indented and rendered under the item instead of being read
//! as an indented code block.

use pulldown_cmark::{Options, Parser};
use ratatui::style::Style;
use ratatui::text::Span;

use super::cells::sanitize;
use super::code;
use super::highlight::CodeHighlighter;
use super::styles::DocStyles;
use super::table::Table;
use super::wrap::{Fit, Logical};

mod events;

/// The lines of one block, and whether it leaves a list open for what follows.
pub(crate) struct Rendered {
    pub lines: Vec<Logical>,
    pub ends_in_list: bool,
}

/// Renders `src`; `after_list`: the previous block ended in a list.
pub(crate) fn render(src: &str, after_list: bool, styles: &DocStyles) -> Rendered {
    let first_indent = src.lines().find(|l| !l.trim().is_empty()).map_or(0, indent_of);
    let continues_list = after_list && first_indent > 0;
    let dedented;
    let (src, indent) = if continues_list {
        dedented = dedent(src, first_indent);
        (dedented.as_str(), first_indent)
    } else {
        (src, 0)
    };
    let mut r = Renderer::new(styles, code::indent(indent));
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    for event in Parser::new_ext(src, options) {
        r.event(event);
    }
    r.flush();
    Rendered {
        lines: r.out,
        ends_in_list: continues_list || r.top_is_list,
    }
}

fn indent_of(line: &str) -> usize {
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

fn dedent(src: &str, columns: usize) -> String {
    let mut out = String::with_capacity(src.len());
    for line in src.split_inclusive('\n') {
        let mut cols = 0;
        let skip = line
            .bytes()
            .take_while(|b| {
                cols += match b {
                    b' ' => 1,
                    b'\t' => 4,
                    _ => return false,
                };
                cols <= columns
            })
            .count();
        out.push_str(&line[skip..]);
    }
    out
}

enum Container {
    Quote,
    List {
        next: Option<u64>,
    },
    /// `marker` is taken by the item's first line.
    Item {
        marker: Option<Span<'static>>,
        width: usize,
    },
}

struct CodeBuf {
    highlighter: Option<CodeHighlighter>,
    text: String,
}

struct Renderer<'s> {
    styles: &'s DocStyles,
    base: Vec<Span<'static>>,
    out: Vec<Logical>,
    stack: Vec<Container>,
    /// Inline line under construction.
    body: Option<Vec<Span<'static>>>,
    /// Style patches of enclosing inline elements, headings and quotes.
    inline: Vec<Style>,
    need_gap: bool,
    /// Destination and text so far of open links and images.
    links: Vec<(String, String)>,
    table: Option<Table>,
    code: Option<CodeBuf>,
    top_is_list: bool,
}

impl<'s> Renderer<'s> {
    fn new(styles: &'s DocStyles, base: Vec<Span<'static>>) -> Self {
        Self {
            styles,
            base,
            out: Vec::new(),
            stack: Vec::new(),
            body: None,
            inline: Vec::new(),
            need_gap: false,
            links: Vec::new(),
            table: None,
            code: None,
            top_is_list: false,
        }
    }

    fn style(&self) -> Style {
        self.inline.iter().fold(self.styles.text, |s, p| s.patch(*p))
    }

    fn prefixes(&mut self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let (mut lead, mut cont) = (self.base.clone(), self.base.clone());
        for c in &mut self.stack {
            match c {
                Container::Quote => {
                    let bar = Span::styled("│ ", self.styles.quote);
                    lead.push(bar.clone());
                    cont.push(bar);
                }
                Container::Item { marker, width } => {
                    let pad = code::blanks(*width);
                    cont.push(pad.clone());
                    lead.push(marker.take().unwrap_or(pad));
                }
                Container::List { .. } => {}
            }
        }
        (lead, cont)
    }

    fn emit(&mut self, body: Vec<Span<'static>>, fit: Fit) {
        let (lead, cont) = self.prefixes();
        let mut line = Logical::new(body, fit);
        line.lead = lead;
        line.cont = cont;
        self.out.push(line);
    }

    fn flush(&mut self) {
        if let Some(body) = self.body.take() {
            self.emit(body, Fit::Words);
        }
    }

    /// Starts a block element: ends the current line, separates from the previous block.
    fn start_block(&mut self, is_list: bool) {
        self.flush();
        if self.stack.is_empty() {
            self.top_is_list = is_list;
        }
        if std::mem::take(&mut self.need_gap) && !self.out.is_empty() {
            let (_, cont) = self.prefixes_without_markers();
            let mut gap = Logical::blank();
            gap.lead = cont;
            self.out.push(gap);
        }
    }

    fn prefixes_without_markers(&self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut cont = self.base.clone();
        for c in &self.stack {
            match c {
                Container::Quote => cont.push(Span::styled("│", self.styles.quote)),
                Container::Item { width, .. } => cont.push(code::blanks(*width)),
                Container::List { .. } => {}
            }
        }
        (Vec::new(), cont)
    }

    fn end_block(&mut self) {
        self.flush();
        self.need_gap = true;
    }

    fn push(&mut self, text: &str, style: Style) {
        let text = sanitize(text);
        if text.is_empty() {
            return;
        }
        if let Some((_, seen)) = self.links.last_mut() {
            seen.push_str(&text);
        }
        if let Some(table) = &mut self.table {
            table.push(Span::styled(text.into_owned(), style));
            return;
        }
        let body = self.body.get_or_insert_with(Vec::new);
        match body.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push_str(&text),
            _ => body.push(Span::styled(text.into_owned(), style)),
        }
    }

    fn line_break(&mut self) {
        if self.table.is_some() {
            self.push(" ", self.style());
        } else {
            self.body.get_or_insert_with(Vec::new);
            self.flush();
        }
    }
}
