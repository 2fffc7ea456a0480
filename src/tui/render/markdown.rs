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

use std::borrow::Cow;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;

use super::cells::{self, sanitize};
use super::code;
use super::highlight::{self, CodeHighlighter};
use super::styles::DocStyles;
use super::table::Table;
use super::wrap::{Fit, Logical};

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

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => match &mut self.code {
                Some(code) => code.text.push_str(&t),
                None => self.push(&t, self.style()),
            },
            Event::Code(t) => self.push(&t, self.style().patch(self.styles.code_inline)),
            Event::Html(t) | Event::InlineHtml(t) => {
                let tag = t.trim().to_ascii_lowercase();
                if matches!(tag.as_str(), "<br>" | "<br/>" | "<br />") {
                    self.line_break();
                } else if let Some(code) = &mut self.code {
                    code.text.push_str(&t);
                } else {
                    self.push(&t, self.style());
                }
            }
            Event::SoftBreak => self.push(" ", self.style()),
            Event::HardBreak => self.line_break(),
            Event::Rule => {
                self.start_block(false);
                self.emit(vec![Span::styled("─", self.styles.rule)], Fit::Fill);
                self.need_gap = true;
            }
            Event::TaskListMarker(done) => {
                self.push(if done { "[x] " } else { "[ ] " }, self.styles.list_marker);
            }
            Event::InlineMath(t) | Event::DisplayMath(t) | Event::FootnoteReference(t) => {
                self.push(&t, self.style());
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.start_block(false),
            Tag::Heading { level, .. } => {
                self.start_block(false);
                self.inline.push(self.styles.heading);
                // `HeadingLevel` discriminants are the levels, 1 to 6.
                let marks = "#".repeat(level as usize);
                self.push(&format!("{marks} "), self.style());
            }
            Tag::BlockQuote(_) => {
                self.start_block(false);
                self.stack.push(Container::Quote);
                self.inline.push(self.styles.quote);
            }
            Tag::CodeBlock(kind) => {
                self.start_block(false);
                let lang = match &kind {
                    CodeBlockKind::Fenced(info) => highlight::language(info),
                    CodeBlockKind::Indented => "",
                };
                if !lang.is_empty() {
                    let (lead, _) = self.prefixes();
                    self.out.push(code::label(lang, lead, self.styles));
                }
                let highlighter = Some(CodeHighlighter::new(lang, self.styles));
                self.code = Some(CodeBuf {
                    highlighter,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => {
                self.start_block(false);
                self.code = Some(CodeBuf {
                    highlighter: None,
                    text: String::new(),
                });
            }
            Tag::List(start) => {
                self.start_block(true);
                self.stack.push(Container::List { next: start });
            }
            Tag::Item => {
                self.start_block(false);
                let depth = self
                    .stack
                    .iter()
                    .filter(|c| matches!(c, Container::List { .. }))
                    .count();
                let marker = match self.stack.last_mut() {
                    Some(Container::List { next: Some(n) }) => {
                        *n += 1;
                        Cow::Owned(format!("{}. ", *n - 1))
                    }
                    _ => ["• ", "◦ ", "▪ "][depth.saturating_sub(1) % 3].into(),
                };
                let width = cells::width(&marker);
                let marker = Some(Span::styled(marker, self.styles.list_marker));
                self.stack.push(Container::Item { marker, width });
            }
            Tag::Table(aligns) => {
                self.start_block(false);
                self.table = Some(Table::new(aligns));
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.start_row();
                }
            }
            Tag::TableCell => {
                if let Some(t) = &mut self.table {
                    t.start_cell();
                }
            }
            Tag::Emphasis => self.inline.push(self.styles.emphasis),
            Tag::Strong => self.inline.push(self.styles.strong),
            Tag::Strikethrough => self.inline.push(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Superscript | Tag::Subscript => self.inline.push(Style::new()),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.inline.push(self.styles.link);
                self.links.push((dest_url.to_string(), String::new()));
            }
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.start_block(false),
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.end_block(),
            TagEnd::Heading(_) | TagEnd::BlockQuote(_) => {
                self.end_block();
                self.inline.pop();
                if matches!(tag, TagEnd::BlockQuote(_)) {
                    self.stack.pop();
                }
            }
            TagEnd::CodeBlock | TagEnd::HtmlBlock => self.end_code(),
            TagEnd::List(_) => {
                self.end_block();
                self.stack.pop();
            }
            TagEnd::Item => {
                self.flush();
                if matches!(self.stack.last(), Some(Container::Item { marker: Some(_), .. })) {
                    self.emit(Vec::new(), Fit::Words);
                }
                self.stack.pop();
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    for body in table.finish(self.styles) {
                        self.emit(body, Fit::Chars);
                    }
                }
                self.need_gap = true;
            }
            TagEnd::TableHead => {
                if let Some(t) = &mut self.table {
                    t.end_head();
                }
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.inline.pop();
            }
            TagEnd::Superscript | TagEnd::Subscript => {
                self.inline.pop();
            }
            TagEnd::Link | TagEnd::Image => {
                self.inline.pop();
                if let Some((dest, seen)) = self.links.pop() {
                    let same = dest == seen || dest.strip_prefix("mailto:") == Some(seen.as_str());
                    if !same && !dest.is_empty() {
                        let dim = self.style().add_modifier(Modifier::DIM);
                        self.push(&format!(" ({dest})"), dim);
                    }
                }
            }
            TagEnd::TableRow
            | TagEnd::TableCell
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => {}
        }
    }

    fn end_code(&mut self) {
        let Some(CodeBuf { highlighter, text }) = self.code.take() else {
            return;
        };
        let body = text.strip_suffix('\n').unwrap_or(&text);
        match highlighter {
            Some(mut hl) => {
                for line in body.split('\n') {
                    let spans = hl.line(line.strip_suffix('\r').unwrap_or(line));
                    let (lead, cont) = self.prefixes();
                    let mut l = code::line(spans, lead, self.styles);
                    l.cont = cont;
                    self.out.push(l);
                }
            }
            None => {
                for line in body.split('\n') {
                    let style = self.style();
                    self.emit(vec![Span::styled(sanitize(line).into_owned(), style)], Fit::Words);
                }
            }
        }
        self.need_gap = true;
    }
}
