//! GFM tables laid out as aligned text: cells padded to their column's widest entry,
//! columns separated by `│`, the header underlined with `─┼─`. The layout does not depend
//! on the pane width (a table wider than the pane hard-wraps like code), which keeps it a
//! plain logical line that a width change only re-wraps.

use pulldown_cmark::Alignment;
use ratatui::text::Span;

use super::cells;
use super::styles::DocStyles;

type Cell = Vec<Span<'static>>;

#[derive(Default)]
pub(crate) struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<Cell>>,
    head: usize,
}

impl Table {
    pub(crate) fn new(aligns: Vec<Alignment>) -> Self {
        Self {
            aligns,
            ..Self::default()
        }
    }

    pub(crate) fn start_row(&mut self) {
        self.rows.push(Vec::new());
    }

    pub(crate) fn start_cell(&mut self) {
        if self.rows.is_empty() {
            self.start_row();
        }
        if let Some(row) = self.rows.last_mut() {
            row.push(Vec::new());
        }
    }

    pub(crate) fn end_head(&mut self) {
        self.head = self.rows.len();
    }

    pub(crate) fn push(&mut self, span: Span<'static>) {
        if self.rows.last().is_none_or(Vec::is_empty) {
            self.start_cell();
        }
        if let Some(cell) = self.rows.last_mut().and_then(|r| r.last_mut()) {
            cell.push(span);
        }
    }

    /// One body per output line.
    pub(crate) fn finish(self, styles: &DocStyles) -> Vec<Vec<Span<'static>>> {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let cell_width = |c: &Cell| c.iter().map(|s| cells::width(&s.content)).sum::<usize>();
        let mut widths = vec![0; cols];
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell_width(cell));
            }
        }
        let mut out = Vec::with_capacity(self.rows.len() + 1);
        for (i, row) in self.rows.into_iter().enumerate() {
            let mut line: Vec<Span<'static>> = Vec::new();
            let mut cells = row.into_iter();
            for (c, &w) in widths.iter().enumerate() {
                if c > 0 {
                    line.push(Span::styled(" │ ", styles.rule));
                }
                let cell = cells.next().unwrap_or_default();
                let pad = w - cell_width(&cell);
                let (before, after) = match self.aligns.get(c) {
                    Some(Alignment::Right) => (pad, 0),
                    Some(Alignment::Center) => (pad / 2, pad - pad / 2),
                    _ => (0, pad),
                };
                if before > 0 {
                    line.push(Span::raw(" ".repeat(before)));
                }
                let header = i < self.head;
                line.extend(cell.into_iter().map(|s| {
                    if header {
                        let style = s.style.patch(styles.strong);
                        s.style(style)
                    } else {
                        s
                    }
                }));
                // Trailing padding of the last column is invisible; leaving it out keeps
                // narrow panes from wrapping a row onto a blank extra line.
                if after > 0 && c + 1 < cols {
                    line.push(Span::raw(" ".repeat(after)));
                }
            }
            out.push(line);
            if i + 1 == self.head {
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                out.push(vec![Span::styled(rule.join("─┼─"), styles.rule)]);
            }
        }
        out
    }
}
