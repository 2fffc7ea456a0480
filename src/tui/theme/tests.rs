//! Theme loading, fallback resolution, error locations and `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};

use super::*;

fn parse(text: &str) -> Result<Theme, ThemeError> {
    from_text("test".to_string(), "test.toml", text)
}

/// The `path:line:col: message` text of a theme that must fail.
fn error_text(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("theme should not parse:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_builtin_theme_loads_and_styles_every_role() {
    assert_eq!(builtin_names(), ["dark", "light", "high-contrast"]);
    for name in builtin_names() {
        let theme = load_with(name, None).unwrap();
        assert_eq!(&theme.name, name);
        assert!(file::syntax_theme_names().contains(&theme.syntax_theme()));
        for role in Role::ALL {
            let style = theme.style(role);
            // Every built-in sets base colours, which every role inherits.
            assert!(
                style.fg.is_some() && style.bg.is_some(),
                "{name}: {role:?} = {style:?}"
            );
        }
        // The states a user must tell apart at a glance do not look alike.
        let statuses = [Role::StatusWaiting, Role::StatusStreaming, Role::StatusDone];
        for (i, a) in statuses.iter().enumerate() {
            for b in &statuses[i + 1..] {
                assert_ne!(theme.style(*a), theme.style(*b), "{name}: {a:?} looks like {b:?}");
            }
        }
        assert_ne!(theme.style(Role::Selection), theme.style(Role::Base), "{name}");
        assert_ne!(
            theme.style(Role::BorderFocused),
            theme.style(Role::Border),
            "{name}"
        );
    }
}

#[test]
fn default_theme_is_dark() {
    assert_eq!(Theme::default().name, "dark");
    assert_eq!(Theme::default(), load_with(DEFAULT_THEME, None).unwrap());
}

#[test]
fn high_contrast_statuses_are_bold() {
    let theme = load_with("high-contrast", None).unwrap();
    for role in Role::ALL.iter().filter(|r| r.name().starts_with("status_")) {
        assert!(
            theme.style(*role).add_modifier.contains(Modifier::BOLD),
            "{role:?}"
        );
    }
}

#[test]
fn every_fallback_chain_ends_at_base() {
    for role in Role::ALL {
        let mut current = role;
        let mut steps = 0;
        while let Some(parent) = current.fallback() {
            current = parent;
            steps += 1;
            assert!(steps < Role::ALL.len(), "{role:?} has a fallback cycle");
        }
        assert_eq!(current, Role::Base, "{role:?}");
    }
}

#[test]
fn role_names_match_serde_and_round_trip() {
    for role in Role::ALL {
        assert_eq!(
            serde_json::to_string(&role).unwrap(),
            format!("\"{}\"", role.name())
        );
        assert_eq!(Role::from_name(role.name()), Some(role));
        assert_eq!(Role::ALL[role.index()], role);
    }
    assert_eq!(Role::from_name("Base"), None);
}

#[test]
fn unset_roles_inherit_and_set_roles_patch_on_top() {
    let theme = parse(
        r##"
[roles]
base = { fg = "white", bg = "black" }
muted = { fg = "dark_gray" }
error = { fg = "#ff0000" }
status_error = { modifiers = ["bold"] }
"##,
    )
    .unwrap();
    let base = Style::new().fg(Color::White).bg(Color::Black);
    let muted = base.fg(Color::DarkGray);
    let error = base.fg(Color::Rgb(255, 0, 0));
    assert_eq!(theme.style(Role::Base), base);
    assert_eq!(theme.style(Role::Muted), muted);
    // border_focused -> border -> muted -> base
    assert_eq!(theme.style(Role::BorderFocused), muted);
    assert_eq!(theme.style(Role::Rule), muted);
    // finish_alarm -> error -> base
    assert_eq!(theme.style(Role::FinishAlarm), error);
    // A set role keeps what it inherits and adds its own.
    assert_eq!(theme.style(Role::StatusError), error.add_modifier(Modifier::BOLD));
    assert_eq!(theme.style(Role::StatusDone), base);
    assert_eq!(theme.style(Role::StatusConnecting), muted);
    assert_eq!(theme.syntax_theme(), DEFAULT_SYNTAX);
}

#[test]
fn empty_theme_is_valid_and_plain() {
    let theme = parse("").unwrap();
    for role in Role::ALL {
        assert_eq!(theme.style(role), Style::new());
    }
}

#[test]
fn colour_forms() {
    let theme = parse(
        r##"
[roles]
base = { fg = "reset", bg = "236" }
muted = { fg = "Light Blue" }
error = { fg = "#A0b1C2" }
"##,
    )
    .unwrap();
    assert_eq!(
        theme.style(Role::Base),
        Style::new().fg(Color::Reset).bg(Color::Indexed(236))
    );
    assert_eq!(theme.style(Role::Muted).fg, Some(Color::LightBlue));
    assert_eq!(theme.style(Role::Error).fg, Some(Color::Rgb(0xa0, 0xb1, 0xc2)));
}

#[test]
fn unknown_role_is_located_and_named() {
    let text = error_text("syntax = \"InspiredGitHub\"\n[roles]\nbase = {}\ntitel = { fg = \"red\" }\n");
    assert!(text.starts_with("test.toml:4:1: unknown role `titel`"), "{text}");
    assert!(text.contains("title"), "should list the known roles: {text}");
}

#[test]
fn bad_colour_is_located_and_named() {
    let text = error_text("[roles]\nbase = { fg = \"#12345\" }\n");
    assert!(
        text.starts_with("test.toml:2:15: roles.base.fg: invalid colour `#12345`"),
        "{text}"
    );
    let text = error_text("[roles]\nmuted = { bg = \"256\" }\n");
    assert!(
        text.starts_with("test.toml:2:16: roles.muted.bg: invalid colour `256`"),
        "{text}"
    );
}

#[test]
fn bad_modifier_is_located_and_named() {
    let text = error_text("[roles]\nbase = { modifiers = [\"bold\", \"blink\"] }\n");
    assert!(
        text.starts_with("test.toml:2:31: roles.base.modifiers: unknown modifier `blink`"),
        "{text}"
    );
}

#[test]
fn unknown_syntax_theme_is_located_and_named() {
    let text = error_text("\n  syntax = \"Monokai\"\n");
    assert!(
        text.starts_with("test.toml:2:12: syntax: unknown syntax theme `Monokai`"),
        "{text}"
    );
    assert!(
        text.contains("InspiredGitHub"),
        "should list the available themes: {text}"
    );
}

#[test]
fn unknown_fields_and_bad_toml_are_located() {
    let text = error_text("colour = \"red\"\n");
    assert!(text.starts_with("test.toml:1:1: "), "{text}");
    assert!(text.contains("colour"), "{text}");
    let text = error_text("[roles]\nbase = { fg = \"red\", underline = true }\n");
    assert!(text.starts_with("test.toml:2:22: "), "{text}");
    assert!(text.contains("underline"), "{text}");
    let text = error_text("[roles]\nbase = { fg = \n");
    assert!(text.starts_with("test.toml:2:"), "{text}");
    let text = error_text("[roles]\nbase = { fg = 3 }\n");
    assert_eq!(
        text,
        "test.toml:2:15: roles.base.fg: expected a string, found integer"
    );
    let text = error_text("[roles]\nbase = { modifiers = [true] }\n");
    assert_eq!(
        text,
        "test.toml:2:23: roles.base.modifiers: expected a string, found boolean"
    );
    let text = error_text("syntax = [\"x\"]\n");
    assert_eq!(text, "test.toml:1:10: syntax: expected a string, found array");
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(file::line_col("", 0), (1, 1));
    assert_eq!(file::line_col("ab\ncd", 4), (2, 2));
    assert_eq!(file::line_col("# é\nx", 5), (2, 1));
    assert_eq!(file::line_col("\"é\" x", 5), (1, 5));
    assert_eq!(file::line_col("ab", 99), (1, 3));
}

#[test]
fn monochrome_keeps_modifiers_only() {
    for name in builtin_names() {
        let theme = load_with(name, None).unwrap();
        let mono = theme.clone().monochrome();
        assert!(!mono.has_color());
        for role in Role::ALL {
            let style = mono.style(role);
            assert_eq!(
                (style.fg, style.bg, style.underline_color),
                (None, None, None),
                "{role:?}"
            );
            assert_eq!(
                style.add_modifier,
                theme.style(role).add_modifier,
                "{name}: {role:?}"
            );
        }
        let doc = mono.doc_styles();
        assert!(!doc.color);
        assert_eq!(
            doc.heading,
            Style::new().add_modifier(theme.style(Role::Heading).add_modifier)
        );
        // The selection must still be visible without colours.
        assert_ne!(mono.style(Role::Selection), mono.style(Role::Base), "{name}");
    }
}

#[test]
fn doc_styles_map_the_document_roles() {
    let theme = load_with("light", None).unwrap();
    let doc = theme.doc_styles();
    assert_eq!(doc.text, theme.style(Role::Base));
    assert_eq!(doc.heading, theme.style(Role::Heading));
    assert_eq!(doc.code_block, theme.style(Role::CodeBlock));
    assert_eq!(doc.rule, theme.style(Role::Rule));
    assert_eq!(doc.syntax_theme, "InspiredGitHub");
    assert!(doc.color);
}

#[test]
fn names_and_paths_are_looked_up_in_order() {
    let dir = tempfile::tempdir().unwrap();
    // A user theme overrides the built-in of the same name.
    std::fs::write(dir.path().join("dark.toml"), "[roles]\nbase = { fg = \"red\" }\n").unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "[roles]\nbase = { fg = \"blue\" }\n",
    )
    .unwrap();
    let dark = load_with("dark", Some(dir.path())).unwrap();
    assert_eq!(dark.style(Role::Base).fg, Some(Color::Red));
    assert_eq!(load_with("mine", Some(dir.path())).unwrap().name, "mine");
    assert_eq!(load_with("light", Some(dir.path())).unwrap().name, "light");

    let path = dir.path().join("mine.toml");
    let by_path = load_with(path.to_str().unwrap(), None).unwrap();
    assert_eq!(by_path.style(Role::Base).fg, Some(Color::Blue));

    match load_with("nope", Some(dir.path())) {
        Err(ThemeError::Unknown { name, available }) => {
            assert_eq!(name, "nope");
            for expected in ["dark", "light", "high-contrast", "mine"] {
                assert!(available.iter().any(|a| a == expected), "{available:?}");
            }
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
    // A name never reaches outside the theme directory.
    assert!(matches!(
        load_with("../dark", Some(dir.path())),
        Err(ThemeError::Unknown { .. })
    ));
    let missing = dir.path().join("missing.toml");
    assert!(matches!(
        load_with(missing.to_str().unwrap(), None),
        Err(ThemeError::Read { .. })
    ));
}

#[test]
fn errors_in_a_file_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "[roles]\nbase = { fg = \"nocolour\" }\n").unwrap();
    let text = load_with(path.to_str().unwrap(), None).unwrap_err().to_string();
    assert_eq!(
        text,
        format!(
            "{}:2:15: roles.base.fg: invalid colour `nocolour`; expected a colour name, `reset`, \
             an index 0-255 or `#rrggbb`",
            path.display()
        )
    );
}

#[test]
fn no_color_means_set_and_not_empty() {
    assert!(!no_color_in(None));
    assert!(!no_color_in(Some("".into())));
    assert!(no_color_in(Some("1".into())));
    assert!(no_color_in(Some("0".into())));
}

#[test]
fn the_written_out_syntax_theme_names_are_syntects_default_set() {
    let set = syntect::highlighting::ThemeSet::load_defaults();
    let names: Vec<&str> = set.themes.keys().map(String::as_str).collect();
    assert_eq!(file::syntax_theme_names(), names.as_slice());
}
