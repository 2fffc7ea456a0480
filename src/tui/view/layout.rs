//! Where panes go: side by side up to three, a grid beyond, one pane when zoomed.

use ratatui::layout::Rect;

/// Columns and rows of the grid for `n` panes in `area`.
pub fn grid(area: Rect, n: usize) -> (usize, usize) {
    match n {
        0 | 1 => (1, 1),
        // Side by side while each pane keeps a readable width; stacked otherwise.
        2 | 3 if usize::from(area.width) / n >= 24 => (n, 1),
        2 | 3 => (1, n),
        _ => {
            let cols = if area.width >= 150 && n > 4 { 3 } else { 2 };
            (cols, n.div_ceil(cols))
        }
    }
}

/// The rectangle of each of `n` panes (row-major), or just `zoomed` filling the area.
pub fn pane_rects(area: Rect, n: usize, zoomed: Option<usize>) -> Vec<Option<Rect>> {
    if let Some(z) = zoomed.filter(|z| *z < n) {
        return (0..n).map(|i| (i == z).then_some(area)).collect();
    }
    let (cols, rows) = grid(area, n);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (c, r) = (i % cols, i / cols);
        // The last row may be short; its panes share the full width.
        let in_row = if r == rows - 1 { n - r * cols } else { cols };
        let x0 = split(area.width, in_row, c);
        let x1 = split(area.width, in_row, c + 1);
        let y0 = split(area.height, rows, r);
        let y1 = split(area.height, rows, r + 1);
        out.push(Some(Rect::new(area.x + x0, area.y + y0, x1 - x0, y1 - y0)));
    }
    out
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
    fn tiles_cover_the_area_exactly_without_overlap() {
        for n in 1..=9 {
            for (w, h) in [(80, 17), (120, 30), (200, 50)] {
                let rs = rects(w, h, n);
                assert_eq!(rs.len(), n);
                let area: u32 = rs.iter().map(|r| u32::from(r.width) * u32::from(r.height)).sum();
                assert_eq!(area, u32::from(w) * u32::from(h), "n={n} {w}x{h}");
                for (i, a) in rs.iter().enumerate() {
                    for b in &rs[i + 1..] {
                        assert!(!a.intersects(*b), "n={n}: {a:?} overlaps {b:?}");
                    }
                }
            }
        }
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
