//! The crate's modules are layered: a module names only modules in layers below its own.
//!
//! Reads every `src/**/*.rs`, finds each `crate::<module>` it names (in `use` lines,
//! `use crate::{a, b}` groups, paths in code and intra-doc links) and each `super::` path
//! that climbs out of its own top-level module, and fails naming `file:line` for every
//! reference that points sideways or up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The allowed order, low to high. A module may name modules of lower layers only, never
/// one of its own layer or above. The faces (`headless`, `tui`, `commands`, `cli`) sit on
/// top, so nothing below ever names them; a new top-level module must be placed here.
const LAYERS: &[&[&str]] = &[
    // Leaves: name nothing in the crate.
    &["target", "keys", "contain", "tokens", "stats"],
    // JSON Schemas: loaded and checked, answers validated against them; tool files.
    &["schema", "tools"],
    // Wire protocols: requests out, normalized events in.
    &["provider"],
    // Masking of output, prices of usage.
    &["masking", "pricing"],
    // The log file; the config file (targets, keys, prices).
    &["logging", "config"],
    // Fan-out and metrics; the mock provider server.
    &["engine", "mock_server"],
    // Before a send: token counts, worst-case cost.
    &["preflight"],
    // Result rows.
    &["report"],
    // Saved sessions.
    &["session"],
    // Demo targets on an in-process mock server.
    &["demo"],
    // Multi-step plans shared by the faces (re-run, experiments).
    &["workflows"],
    // Faces: headless output and the workbench.
    &["headless", "tui"],
    // Subcommands.
    &["commands"],
    // The command line.
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file below `src`: `tui/view/pane.rs` → `[tui, view, pane]`,
/// `tui/mod.rs` → `[tui]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_string();
    }
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts
}

fn identifier_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first segment of each item of a `{a, b::c, d::{e, f}}` group (text just after `{`).
fn group_heads(text: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut expecting = true;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expecting = true,
            c if expecting && depth == 0 && (c.is_ascii_alphabetic() || c == '_') => {
                heads.push(identifier_at(&text[i..]));
                expecting = false;
            }
            _ => {}
        }
    }
    heads
}

/// For each line of `text`, how many inline modules (`mod tests {`) enclose it. Relies on
/// rustfmt's layout: an inline module closes at the first `}` at its own indentation.
fn inline_depths(text: &str) -> Vec<usize> {
    let mut open: Vec<String> = Vec::new();
    let mut depths = Vec::new();
    for line in text.lines() {
        if open.last().is_some_and(|close| line == close) {
            open.pop();
        }
        depths.push(open.len());
        let trimmed = line.trim_start();
        let item = trimmed
            .strip_prefix("pub(crate) ")
            .or_else(|| trimmed.strip_prefix("pub "))
            .unwrap_or(trimmed);
        if let Some(rest) = item.strip_prefix("mod ")
            && rest.ends_with(" {")
        {
            let indent = &line[..line.len() - trimmed.len()];
            open.push(format!("{indent}}}"));
        }
    }
    depths
}

/// Every top-level module `text` names, with the byte offset of the reference. `own` is
/// the file's module path, to resolve `super::` chains that climb to the crate root.
fn references<'a>(text: &'a str, own: &[String]) -> Vec<(usize, &'a str)> {
    let depths = inline_depths(text);
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => found.extend(group_heads(group).into_iter().map(|m| (at, m))),
            None => found.push((at, identifier_at(rest))),
        }
    }
    for (at, _) in text.match_indices("super::") {
        // Only the start of a chain: `super::super::x` is one reference.
        if text[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &text[at..];
        let mut climbs = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = r;
        }
        // From `a::b::c`, `super` is `a::b`: `own.len()` climbs reach the crate root, plus
        // one per inline module around the reference.
        let inline = depths.get(line_of(text, at) - 1).copied().unwrap_or(0);
        if climbs >= own.len() + inline {
            match rest.strip_prefix('{') {
                Some(group) => found.extend(group_heads(group).into_iter().map(|m| (at, m))),
                None => found.push((at, identifier_at(rest))),
            }
        }
    }
    found
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[test]
fn modules_name_only_modules_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let own = module_path(relative);
        // The crate roots only declare modules.
        if own.len() == 1 && (own[0] == "lib" || own[0] == "main") {
            continue;
        }
        let top = own[0].as_str();
        let Some(own_layer) = layer_of(top) else {
            problems.push(format!(
                "src/{}: module `{top}` is not in LAYERS (tests/layers.rs): place it",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (at, named) in references(&text, &own) {
            if named == top || named == "self" {
                continue;
            }
            let where_ = format!("src/{}:{}", relative.display(), line_of(&text, at));
            match layer_of(named) {
                None => problems.push(format!(
                    "{where_}: names `crate::{named}`, which is not in LAYERS (tests/layers.rs)"
                )),
                Some(l) if l >= own_layer => problems.push(format!(
                    "{where_}: `{top}` names `{named}`, which is {} it",
                    if l == own_layer { "beside" } else { "above" }
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} references break the layering:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_module_of_the_crate_has_a_layer() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';'))
        .collect();
    let layered: BTreeSet<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
    assert!(!declared.is_empty(), "no `pub mod` found in src/lib.rs");
    assert_eq!(declared, layered, "src/lib.rs's modules and LAYERS differ");
}

#[test]
fn the_scanner_finds_every_form_of_reference() {
    let own = ["tui".to_string(), "view".to_string(), "pane".to_string()];
    let text = "use crate::session::Session;\n\
                use crate::{cli::UsageError, config::{self, Config}};\n\
                let x = crate::commands::rerun::plan();\n\
                /// See [`crate::headless::print`].\n\
                use super::super::app::App;\n\
                use super::super::super::workflows::rerun;\n\
                mod tests {\n\
                    use super::super::super::rest;\n\
                    use super::super::super::super::demo;\n\
                }\n\
                use super::super::super::headless;\n";
    let named: Vec<&str> = references(text, &own).into_iter().map(|(_, m)| m).collect();
    assert_eq!(
        named,
        [
            "session",
            "cli",
            "config",
            "commands",
            "headless",
            "workflows",
            "demo",
            "headless"
        ]
    );
    assert_eq!(line_of(text, text.find("super::super::super").unwrap()), 6);
}
