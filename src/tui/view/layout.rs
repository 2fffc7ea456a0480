//! Where panes go: side by side up to three, a grid beyond, one pane when zoomed.
//!
//! Sizes the layout keeps to, whatever the terminal:
//! - a pane is at least [`MIN_W`] columns wide: two or three panes narrower than that
//!   each stack instead, and below two such columns every pane stacks;
//! - a pane is at least [`MIN_H`] rows high (its border, two header lines and a few
//!   lines of answer): panes that would be lower are shown a page at a time, and moving
//!   the focus onto a pane brings its page into view.

use ratatui::layout::Rect;

/// The narrowest a pane gets beside another.
pub const MIN_W: u16 = 24;
/// The lowest a pane gets: border, two header lines, three lines of answer.
pub const MIN_H: u16 = 7;

/// Columns and rows of the grid for `n` panes in `area` (before paging).
pub fn grid(area: Rect, n: usize) -> (usize, usize) {
    let fits = usize::from(area.width / MIN_W).max(1);
    match n {
        0 | 1 => (1, 1),
        // Side by side while each pane keeps a readable width; stacked otherwise.
        2 | 3 if fits >= n => (n, 1),
        2 | 3 => (1, n),
        _ => {
            let cols = if area.width >= 150 && n > 4 { 3 } else { 2 };
            let cols = cols.min(fits);
            (cols, n.div_ceil(cols))
        }
    }
}

/// The panes on screen: where each goes (`None`: on another page, or zoomed out) and
/// which page of how many is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrangement {
    /// One rectangle per screen slot.
    pub rects: Vec<Option<Rect>>,
    /// The page shown (from 0).
    pub page: usize,
    /// How many pages there are (1: all panes are on screen).
    pub pages: usize,
}

impl Arrangement {
    /// The screen slots on the page shown, as `(first, last)` counted from 1.
    pub fn shown(&self) -> Option<(usize, usize)> {
        let on: Vec<usize> = (0..self.rects.len())
            .filter(|i| self.rects[*i].is_some())
            .collect();
        Some((*on.first()? + 1, *on.last()? + 1))
    }
}

/// The rectangle of each of `n` panes (row-major), or just `zoomed` filling the area.
pub fn pane_rects(area: Rect, n: usize, zoomed: Option<usize>) -> Vec<Option<Rect>> {
    arrange(area, n, zoomed, None, 0).rects
}

/// Where `n` panes go in `area`: the page that holds slot `focus` when there is one,
/// otherwise page `page` (clamped), or just `zoomed` filling the area.
pub fn arrange(
    area: Rect,
    n: usize,
    zoomed: Option<usize>,
    focus: Option<usize>,
    page: usize,
) -> Arrangement {
    if let Some(z) = zoomed.filter(|z| *z < n) {
        return Arrangement {
            rects: (0..n).map(|i| (i == z).then_some(area)).collect(),
            page: 0,
            pages: 1,
        };
    }
    let (cols, rows) = grid(area, n);
    let fit_rows = usize::from((area.height / MIN_H).max(1));
    let per_page = if rows > fit_rows {
        cols * fit_rows
    } else {
        n.max(1)
    };
    let pages = n.div_ceil(per_page).max(1);
    let page = focus.map_or(page, |f| f / per_page).min(pages - 1);
    let first = page * per_page;
    let on_page = n.saturating_sub(first).min(per_page);
    let rows = on_page.div_ceil(cols).max(1);
    let mut rects = vec![None; n];
    for k in 0..on_page {
        let (c, r) = (k % cols, k / cols);
        // The last row may be short; its panes share the full width.
        let in_row = if r == rows - 1 { on_page - r * cols } else { cols };
        let x0 = split(area.width, in_row, c);
        let x1 = split(area.width, in_row, c + 1);
        let y0 = split(area.height, rows, r);
        let y1 = split(area.height, rows, r + 1);
        rects[first + k] = Some(Rect::new(area.x + x0, area.y + y0, x1 - x0, y1 - y0));
    }
    Arrangement { rects, page, pages }
}

/// Start of part `i` of `parts` near-equal parts of `len`.
fn split(len: u16, parts: usize, i: usize) -> u16 {
    (usize::from(len) * i / parts.max(1)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rects(w: u16, h: u16, n: usize) -> Vec<Rect> {
        pane_rects(Rect::new(0, 0, w, h), n, None)
            .into_iter()
            .flatten()
            .collect()
    }

    #[test]
    fn tiles_cover_the_area_exactly_without_overlap_on_every_page() {
        for n in 1..=9 {
            for (w, h) in [(80, 17), (120, 30), (200, 50), (40, 12)] {
                let area = Rect::new(0, 0, w, h);
                let pages = arrange(area, n, None, None, 0).pages;
                let mut seen = 0;
                for page in 0..pages {
                    let rs: Vec<Rect> = arrange(area, n, None, None, page)
                        .rects
                        .into_iter()
                        .flatten()
                        .collect();
                    seen += rs.len();
                    let covered: u32 = rs.iter().map(|r| u32::from(r.width) * u32::from(r.height)).sum();
                    assert_eq!(covered, u32::from(w) * u32::from(h), "n={n} {w}x{h} page {page}");
                    for (i, a) in rs.iter().enumerate() {
                        assert!(a.height >= MIN_H.min(h), "n={n} {w}x{h}: {a:?} too low");
                        for b in &rs[i + 1..] {
                            assert!(!a.intersects(*b), "n={n}: {a:?} overlaps {b:?}");
                        }
                    }
                }
                assert_eq!(seen, n, "every pane is on exactly one page: n={n} {w}x{h}");
            }
        }
    }

    #[test]
    fn the_focused_pane_brings_its_page_into_view() {
        let area = Rect::new(0, 0, 80, 13);
        assert_eq!(MIN_H, 7, "the page arithmetic below assumes 7 rows");
        let a = arrange(area, 6, None, Some(4), 0);
        assert_eq!((a.page, a.pages), (2, 3));
        assert!(a.rects[4].is_some() && a.rects[0].is_none());
        assert_eq!(a.shown(), Some((5, 6)));
        let narrow = arrange(Rect::new(0, 0, 40, 30), 4, None, None, 0);
        assert!(
            narrow.rects.iter().flatten().all(|r| r.width == 40),
            "below two columns' width every pane stacks"
        );
    }

    #[test]
    fn three_side_by_side_four_in_a_grid_zoom_fills() {
        assert!(rects(120, 30, 3).iter().all(|r| r.height == 30));
        assert_eq!(grid(Rect::new(0, 0, 120, 30), 4), (2, 2));
        assert_eq!(grid(Rect::new(0, 0, 60, 30), 3), (1, 3), "too narrow: stacked");
        let z = pane_rects(Rect::new(0, 0, 80, 20), 4, Some(2));
        assert_eq!(z.iter().flatten().count(), 1);
        assert_eq!(z[2], Some(Rect::new(0, 0, 80, 20)));
    }
}
