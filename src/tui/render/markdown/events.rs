//! pulldown-cmark events to lines: which element starts a block, which one pushes a
//! container, how inline elements style their text.

use std::borrow::Cow;

use pulldown_cmark::{CodeBlockKind, Event, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;

use super::super::cells::{self, sanitize};
use super::super::code;
use super::super::highlight::{self, CodeHighlighter};
use super::super::table::Table;
use super::super::wrap::Fit;
use super::{CodeBuf, Container, Renderer};

impl Renderer<'_> {
    pub(super) fn event(&mut self, event: Event<'_>) {
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
