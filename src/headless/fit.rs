//! Tables that fit the terminal: each column has a priority, and while the table is
//! wider than the terminal the least important column left goes (the rightmost of
//! equals first). Whatever is still too wide after that wraps inside its cells
//! (comfy-table's dynamic arrangement) instead of wrapping the whole line.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use unicode_width::UnicodeWidthStr;

/// One column of a fitted table.
#[derive(Debug, Clone, Copy)]
pub struct Col<'a> {
    /// Its header.
    pub header: &'a str,
    /// 0 is never dropped; higher numbers are dropped first.
    pub priority: u8,
    /// Numbers are right-aligned.
    pub right: bool,
}

impl<'a> Col<'a> {
    /// A left-aligned column.
    pub const fn text(header: &'a str, priority: u8) -> Self {
        Self {
            header,
            priority,
            right: false,
        }
    }

    /// A right-aligned (numeric) column.
    pub const fn num(header: &'a str, priority: u8) -> Self {
        Self {
            header,
            priority,
            right: true,
        }
    }
}

/// A table cut to a width, and what was cut.
#[derive(Debug)]
pub struct Fitted {
    /// The table, ready to print.
    pub table: Table,
    /// Headers of the columns dropped, in table order.
    pub hidden: Vec<String>,
}

impl Fitted {
    /// Whether the column headed `header` is shown.
    pub fn shows(&self, header: &str) -> bool {
        !self.hidden.iter().any(|h| h == header)
    }

    /// A line naming the hidden columns, if any, wrapped to `width`.
    pub fn hidden_note(&self, width: Option<u16>) -> Option<String> {
        (!self.hidden.is_empty()).then(|| {
            wrap(
                &format!(
                    "not shown, to fit the terminal: {} (a wider terminal, or --format json, has them)",
                    self.hidden.join(", ")
                ),
                width,
            )
        })
    }
}

/// `rows` under `columns`, fitted to `width` columns (`None`: no limit).
pub fn fit(columns: &[Col<'_>], rows: &[Vec<String>], width: Option<u16>) -> Fitted {
    let mut keep = vec![true; columns.len()];
    let mut table = build(columns, rows, &keep);
    if let Some(width) = width {
        while widest(&table) > usize::from(width) {
            let drop = columns
                .iter()
                .enumerate()
                .filter(|(i, c)| keep.get(*i).copied().unwrap_or(false) && c.priority > 0)
                .max_by_key(|(i, c)| (c.priority, *i))
                .map(|(i, _)| i);
            let Some(i) = drop else { break };
            if let Some(k) = keep.get_mut(i) {
                *k = false;
            }
            table = build(columns, rows, &keep);
        }
        // Dropping a wide column can leave room for a narrower, less important one
        // dropped before it: give those back, most important first, while they fit.
        let mut dropped: Vec<usize> = (0..columns.len())
            .filter(|i| !keep.get(*i).copied().unwrap_or(true))
            .collect();
        dropped.sort_by_key(|i| (columns.get(*i).map_or(u8::MAX, |c| c.priority), *i));
        for i in dropped {
            if let Some(k) = keep.get_mut(i) {
                *k = true;
            }
            let wider = build(columns, rows, &keep);
            if widest(&wider) <= usize::from(width) {
                table = wider;
            } else if let Some(k) = keep.get_mut(i) {
                *k = false;
            }
        }
        if widest(&table) > usize::from(width) {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(width);
        }
    }
    let hidden = columns
        .iter()
        .zip(&keep)
        .filter(|(_, k)| !**k)
        .map(|(c, _)| c.header.to_string())
        .collect();
    Fitted { table, hidden }
}

fn build(columns: &[Col<'_>], rows: &[Vec<String>], keep: &[bool]) -> Table {
    let kept = |cells: Vec<String>| -> Vec<String> {
        cells
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .collect()
    };
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(kept(columns.iter().map(|c| c.header.to_string()).collect()));
    for row in rows {
        table.add_row(kept(row.clone()));
    }
    let shown = columns.iter().zip(keep).filter(|(_, k)| **k).map(|(c, _)| c);
    for (i, c) in shown.enumerate() {
        if c.right
            && let Some(col) = table.column_mut(i)
        {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn widest(table: &Table) -> usize {
    table.lines().map(|l| l.width()).max().unwrap_or(0)
}

/// `text` wrapped at spaces to lines of at most `width` columns (`None`: as is).
pub fn wrap(text: &str, width: Option<u16>) -> String {
    let Some(width) = width.map(usize::from) else {
        return text.to_string();
    };
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.width() + 1 + word.width() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

/// The width to fit printed tables to: the terminal's when standard output is one,
/// else `$COLUMNS` when set, else none (a file or pipe gets every column).
pub fn stdout_width() -> Option<u16> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal()
        && let Ok((w, _)) = crossterm::terminal::size()
        && w > 0
    {
        return Some(w);
    }
    std::env::var("COLUMNS")
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|w| *w > 0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const COLUMNS: [Col<'static>; 4] = [
        Col::text("name", 0),
        Col::num("important", 1),
        Col::num("nice to have", 3),
        Col::text("detail", 2),
    ];

    fn rows() -> Vec<Vec<String>> {
        vec![vec![
            "target-one".into(),
            "12345.6".into(),
            "0.000123".into(),
            "a rather long request identifier".into(),
        ]]
    }

    #[test]
    fn least_important_columns_go_first_until_it_fits() {
        let wide = fit(&COLUMNS, &rows(), None);
        assert!(wide.hidden.is_empty());
        let full = widest(&wide.table);
        let f = fit(&COLUMNS, &rows(), Some(u16::try_from(full - 1).unwrap()));
        assert_eq!(f.hidden, ["nice to have"], "priority 3 goes first");
        // Without the wide `detail`, the less important but narrow column fits again.
        let f = fit(&COLUMNS, &rows(), Some(40));
        assert_eq!(f.hidden, ["detail"]);
        assert!(widest(&f.table) <= 40, "{}", f.table);
        assert!(f.shows("nice to have") && !f.shows("detail"));
        assert!(f.hidden_note(Some(40)).unwrap().lines().all(|l| l.width() <= 40));
    }

    #[test]
    fn what_cannot_be_dropped_wraps_inside_its_cells() {
        let rows = vec![vec![
            "a target name far too long for a narrow terminal".into(),
            "1".into(),
            "2".into(),
            "3".into(),
        ]];
        let f = fit(&COLUMNS, &rows, Some(30));
        assert!(widest(&f.table) <= 30, "{}", f.table);
        assert!(f.table.to_string().contains("narrow"));
    }

    #[test]
    fn wrap_breaks_at_spaces() {
        assert_eq!(wrap("aa bb cc", Some(5)), "aa bb\ncc");
        assert_eq!(wrap("aa bb cc", None), "aa bb cc");
    }
}
