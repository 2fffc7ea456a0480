//! Which themes exist, so a `theme = "..."` that names none is a config error in every
//! command, not only in the workbench that draws with it. The theme files themselves are
//! read by the workbench (`tui::theme`); this module only knows their names and places.

use std::path::{Path, PathBuf};

use toml::Spanned;

/// The themes compiled into the binary (the workbench holds their text).
pub const BUILTIN_THEMES: [&str; 3] = ["dark", "light", "high-contrast"];

/// `$XDG_CONFIG_HOME/prism/themes` (or the platform's equivalent), if a home directory
/// can be found.
pub fn user_theme_dir() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    let dirs = etcetera::choose_base_strategy().ok()?;
    Some(dirs.config_dir().join("prism").join("themes"))
}

/// Built-in theme names plus the stems of `*.toml` files in `user_dir`, sorted after the
/// built-ins so the list reads the same every time.
pub fn available(user_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN_THEMES.iter().map(|n| n.to_string()).collect();
    let mut own: Vec<String> = user_dir
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let stem = path.file_stem()?.to_str()?.to_string();
            path.extension().is_some_and(|e| e == "toml").then_some(stem)
        })
        .filter(|stem| !names.contains(stem))
        .collect();
    own.sort();
    names.append(&mut own);
    names
}

/// `unknown theme "drak" — did you mean "dark"? (themes: dark, light, high-contrast, or a
/// path to a .toml file)`.
pub fn unknown_theme(name: &str, available: &[String]) -> String {
    let names: Vec<&str> = available.iter().map(String::as_str).collect();
    let guess = super::suggest::closest(name, names.iter().copied())
        .map(|k| format!(" — did you mean \"{k}\"?"))
        .unwrap_or_default();
    format!(
        "unknown theme \"{name}\"{guess} (themes: {}, or a path to a .toml file)",
        names.join(", ")
    )
}

/// The config's `theme`, checked: a name must be a built-in or user theme, and a path
/// (ending in `.toml`) is resolved against the config file's directory and must exist.
/// Returns the name, or the resolved path, for the workbench to load.
pub fn resolve(
    theme: Option<Spanned<String>>,
    config_dir: &Path,
    user_dir: Option<&Path>,
) -> Result<Option<String>, (usize, String)> {
    let Some(theme) = theme else {
        return Ok(None);
    };
    let at = theme.span().start;
    let value = theme.into_inner();
    if value.ends_with(".toml") {
        let path = config_dir.join(&value);
        return match path.is_file() {
            true => Ok(Some(path.display().to_string())),
            false => Err((
                at,
                format!(
                    "theme file \"{value}\" not found (looked for {}); fix the path, or name a theme: {}",
                    path.display(),
                    available(user_dir).join(", ")
                ),
            )),
        };
    }
    let known = available(user_dir);
    match known.contains(&value) {
        true => Ok(Some(value)),
        false => Err((at, unknown_theme(&value, &known))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn spanned(s: &str) -> Option<Spanned<String>> {
        #[derive(serde::Deserialize)]
        struct T {
            theme: Spanned<String>,
        }
        Some(toml::from_str::<T>(&format!("theme = \"{s}\"")).unwrap().theme)
    }

    #[test]
    fn names_and_paths_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("themes");
        std::fs::create_dir(&user).unwrap();
        std::fs::write(user.join("solar.toml"), "").unwrap();
        std::fs::write(dir.path().join("mine.toml"), "").unwrap();
        let check = |s: &str| resolve(spanned(s), dir.path(), Some(&user));
        assert_eq!(check("light").unwrap().as_deref(), Some("light"));
        assert_eq!(check("solar").unwrap().as_deref(), Some("solar"));
        let mine = dir.path().join("mine.toml").display().to_string();
        assert_eq!(check("mine.toml").unwrap(), Some(mine));
        let (at, e) = check("drak").unwrap_err();
        assert_eq!(at, 8);
        assert_eq!(
            e,
            "unknown theme \"drak\" — did you mean \"dark\"? (themes: dark, light, high-contrast, solar, or a path to a .toml file)"
        );
        let (_, e) = check("sepia").unwrap_err();
        assert!(e.starts_with("unknown theme \"sepia\" (themes: dark,"), "{e}");
        let (_, e) = check("gone.toml").unwrap_err();
        assert!(
            e.starts_with("theme file \"gone.toml\" not found (looked for "),
            "{e}"
        );
        assert_eq!(resolve(None, dir.path(), None).unwrap(), None);
    }
}
