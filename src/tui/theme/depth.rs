//! How many colours the terminal shows, and the nearest xterm-256 colour for a 24-bit one.
//!
//! Themes are written in `#rrggbb`. A terminal without 24-bit colour shows those as
//! whatever its own rounding makes of them (or as garbage), so when the environment does
//! not say 24-bit, every RGB colour that reaches the screen is mapped to the nearest of
//! the xterm 256-colour palette first. The mapping is applied to the finished frame, so it
//! also covers syntax-highlighted code, whose colours come from syntect's themes.

use ratatui::buffer::Buffer;
use ratatui::style::Color;

/// The colours the workbench may send to the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorDepth {
    /// `#rrggbb` as written.
    #[default]
    TrueColor,
    /// RGB mapped to the nearest xterm-256 index.
    Indexed256,
    /// No colours at all (`NO_COLOR`, `PRISM_COLOR=none`): modifiers only.
    None,
}

/// `TERM` values of terminals that show 24-bit colour but do not always set `COLORTERM`.
const DIRECT_TERMS: [&str; 7] = [
    "xterm-kitty",
    "xterm-ghostty",
    "alacritty",
    "foot",
    "foot-extra",
    "wezterm",
    "contour",
];

/// `TERM_PROGRAM` values of the same.
const DIRECT_PROGRAMS: [&str; 4] = ["iTerm.app", "WezTerm", "vscode", "ghostty"];

impl ColorDepth {
    /// The depth the environment asks for, read through `env` (so tests pass values in):
    ///
    /// 1. `NO_COLOR` set to anything non-empty: none (<https://no-color.org>);
    /// 2. `PRISM_COLOR` = `truecolor` (or `24bit`), `256` or `none`: that;
    /// 3. `COLORTERM` = `truecolor` or `24bit`, a `TERM` ending in `-direct`, or a
    ///    terminal known to show 24-bit colour (`TERM`, `TERM_PROGRAM`): 24-bit;
    /// 4. otherwise 256 colours.
    ///
    /// An unknown `PRISM_COLOR` is an error: a typo in an override should not be silently
    /// replaced by a guess.
    pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Result<ColorDepth, String> {
        let set = |var: &str| env(var).filter(|v| !v.is_empty());
        if set("NO_COLOR").is_some() {
            return Ok(ColorDepth::None);
        }
        if let Some(v) = set("PRISM_COLOR") {
            return match v.to_ascii_lowercase().as_str() {
                "truecolor" | "24bit" => Ok(ColorDepth::TrueColor),
                "256" => Ok(ColorDepth::Indexed256),
                "none" => Ok(ColorDepth::None),
                _ => Err(format!(
                    "PRISM_COLOR=\"{v}\" is not a colour setting: use truecolor, 256 or none (or unset it to detect)"
                )),
            };
        }
        let colorterm = set("COLORTERM").unwrap_or_default().to_ascii_lowercase();
        let term = set("TERM").unwrap_or_default();
        let program = set("TERM_PROGRAM").unwrap_or_default();
        let direct = matches!(colorterm.as_str(), "truecolor" | "24bit")
            || term.ends_with("-direct")
            || DIRECT_TERMS.contains(&term.as_str())
            || DIRECT_PROGRAMS.contains(&program.as_str());
        Ok(if direct {
            ColorDepth::TrueColor
        } else {
            ColorDepth::Indexed256
        })
    }

    /// [`ColorDepth::detect`] on the process environment.
    pub fn from_env() -> Result<ColorDepth, String> {
        Self::detect(&|var| std::env::var(var).ok())
    }

    /// `color` as this depth shows it: RGB becomes an index at 256 colours; named and
    /// indexed colours are already in every palette. (No colour at all is the theme's
    /// job: it keeps the modifiers, which a colour map cannot.)
    pub fn map(self, color: Color) -> Color {
        match (self, color) {
            (ColorDepth::Indexed256, Color::Rgb(r, g, b)) => Color::Indexed(nearest_256(r, g, b)),
            _ => color,
        }
    }

    /// Maps every cell of a drawn frame, just before it is sent to the terminal.
    pub fn apply(self, buffer: &mut Buffer) {
        if self != ColorDepth::Indexed256 {
            return;
        }
        for cell in &mut buffer.content {
            cell.fg = self.map(cell.fg);
            cell.bg = self.map(cell.bg);
        }
    }
}

/// The six levels of each channel in the xterm 6×6×6 colour cube (indexes 16-231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The xterm-256 index nearest to an RGB colour: the nearest point of the colour cube or
/// of the 24-step grey ramp (232-255), whichever is closer. The 16 system colours are
/// left out because terminals redefine them. An exact cube colour maps to itself.
pub fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    // The cube level nearest to a channel value; the cut points are the midpoints.
    let level = |v: u8| -> usize {
        match v {
            0..48 => 0,
            48..115 => 1,
            _ => usize::from((v - 35) / 40),
        }
    };
    let (qr, qg, qb) = (level(r), level(g), level(b));
    let cube_index = 16 + 36 * qr + 6 * qg + qb;
    let cube = (CUBE[qr], CUBE[qg], CUBE[qb]);
    if cube == (r, g, b) {
        return cube_index as u8;
    }
    let average = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    let grey_step = if average > 238 {
        23
    } else {
        average.saturating_sub(3) / 10
    };
    let grey = (8 + 10 * grey_step) as u8;
    let distance = |(x, y, z): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(x, r) + d(y, g) + d(z, b)
    };
    if distance((grey, grey, grey)) < distance(cube) {
        232 + grey_step as u8
    } else {
        cube_index as u8
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn known_colours_map_to_their_xterm_index() {
        for ((r, g, b), want) in [
            ((255, 0, 0), 196),
            ((0, 255, 0), 46),
            ((0, 0, 255), 21),
            ((0, 0, 0), 16),
            ((255, 255, 255), 231),
            ((95, 135, 175), 67),
            ((8, 8, 8), 232),
            ((128, 128, 128), 244),
            ((238, 238, 238), 255),
            ((18, 18, 18), 233),
            // Near a cube colour, not on it.
            ((250, 5, 5), 196),
            ((0x2b, 0x30, 0x3b), 236),
        ] {
            assert_eq!(nearest_256(r, g, b), want, "({r}, {g}, {b})");
        }
    }

    #[test]
    fn the_grey_ramp_is_monotonic() {
        let mut last = 0;
        for v in (8..=238).step_by(10) {
            let i = nearest_256(v, v, v);
            assert!(i >= last, "{v} -> {i} after {last}");
            last = i;
        }
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |var| pairs.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string())
    }

    #[test]
    fn depth_follows_the_environment() {
        use ColorDepth::*;
        let cases: [(&'static [(&str, &str)], ColorDepth); 12] = [
            (&[], Indexed256),
            (&[("TERM", "xterm-256color")], Indexed256),
            (
                &[("COLORTERM", "truecolor"), ("TERM", "xterm-256color")],
                TrueColor,
            ),
            (&[("COLORTERM", "24bit")], TrueColor),
            (&[("COLORTERM", "yes")], Indexed256),
            (&[("TERM", "xterm-direct")], TrueColor),
            (&[("TERM", "xterm-kitty")], TrueColor),
            (&[("TERM_PROGRAM", "iTerm.app")], TrueColor),
            (&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")], None),
            (&[("NO_COLOR", ""), ("COLORTERM", "truecolor")], TrueColor),
            (&[("PRISM_COLOR", "256"), ("COLORTERM", "truecolor")], Indexed256),
            (&[("PRISM_COLOR", "TrueColor")], TrueColor),
        ];
        for (pairs, want) in cases {
            assert_eq!(ColorDepth::detect(&env(pairs)), Ok(want), "{pairs:?}");
        }
        assert_eq!(ColorDepth::detect(&env(&[("PRISM_COLOR", "none")])), Ok(None));
        let e = ColorDepth::detect(&env(&[("PRISM_COLOR", "16")])).unwrap_err();
        assert_eq!(
            e,
            "PRISM_COLOR=\"16\" is not a colour setting: use truecolor, 256 or none (or unset it to detect)"
        );
    }

    #[test]
    fn a_frame_is_mapped_cell_by_cell_and_only_at_256() {
        use ratatui::layout::Rect;
        use ratatui::style::Style;
        let mut buf = Buffer::empty(Rect::new(0, 0, 2, 1));
        buf.set_string(
            0,
            0,
            "a",
            Style::new()
                .fg(Color::Rgb(255, 0, 0))
                .bg(Color::Rgb(128, 128, 128)),
        );
        buf.set_string(1, 0, "b", Style::new().fg(Color::Cyan));
        let mut true_color = buf.clone();
        ColorDepth::TrueColor.apply(&mut true_color);
        assert_eq!(true_color, buf);
        ColorDepth::Indexed256.apply(&mut buf);
        assert_eq!(buf.content[0].fg, Color::Indexed(196));
        assert_eq!(buf.content[0].bg, Color::Indexed(244));
        assert_eq!(buf.content[1].fg, Color::Cyan);
    }
}
