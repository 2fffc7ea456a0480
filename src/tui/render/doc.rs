//! Stand-in document (plain wrapping, full re-render) until the incremental renderer lands.

use std::ops::Range;

use ratatui::text::Line;

use super::DocStyles;

/// One rendered document.
#[derive(Debug, Default)]
pub struct Doc {
    text: String,
    lines: Vec<Line<'static>>,
    width: u16,
    dirty: bool,
}

impl Doc {
    /// A new document.
    pub fn new(_markdown: bool) -> Self {
        Self::default()
    }
    /// Append streamed text.
    pub fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
        self.dirty = true;
    }
    /// All text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Empty it.
    pub fn clear(&mut self) {
        *self = Self::default();
    }
    /// Re-wrap.
    pub fn prepare(&mut self, width: u16, styles: &DocStyles) {
        if !self.dirty && width == self.width {
            return;
        }
        self.width = width;
        self.dirty = false;
        let w = usize::from(width.max(1));
        self.lines = self
            .text
            .split('\n')
            .flat_map(|l| {
                let chars: Vec<char> = l.chars().collect();
                if chars.is_empty() {
                    return vec![Line::styled(String::new(), styles.text)];
                }
                chars
                    .chunks(w)
                    .map(|c| Line::styled(c.iter().collect::<String>(), styles.text))
                    .collect()
            })
            .collect();
    }
    /// Wrapped lines.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }
    /// A slice of wrapped lines.
    pub fn lines(&self, range: Range<usize>) -> &[Line<'static>] {
        let end = range.end.min(self.lines.len());
        &self.lines[range.start.min(end)..end]
    }
    /// Text pushed but not prepared.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }
}
