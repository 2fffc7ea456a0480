//! Prompt variants in the editor, the case table typed in the workbench, and the
//! repeat count and order of the next experiment.
//!
//! The editors always hold the current variant's text; switching files it away and
//! brings the other one's back, so each variant keeps its own prompt and system prompt
//! (and the parameter overrides it came with from the config). With one unnamed variant
//! the workbench is exactly the plain one.

use ratatui_textarea::TextArea;

use super::app::App;
use crate::config::{ParamOverrides, Variant};
use crate::workflows::experiment::Order;
use crate::workflows::experiment::cases::{CaseTable, parse_csv_text};

/// Repeat counts the repeat key steps through.
const REPEATS: [u32; 6] = [1, 2, 3, 5, 10, 20];

/// One variant as the editor keeps it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EditorVariant {
    /// Its name; empty for the one unnamed variant of a plain workbench.
    pub name: String,
    /// Its prompt's lines (the editor's, while it is the current one).
    pub prompt: Vec<String>,
    /// Its system prompt's lines.
    pub system: Vec<String>,
    /// Sampling parameters it sets (from the config).
    pub params: ParamOverrides,
}

/// Every variant, the current one, and the experiment settings.
#[derive(Debug, Clone)]
pub struct Variants {
    /// At least one.
    pub all: Vec<EditorVariant>,
    /// The one in the editors.
    pub current: usize,
    /// The name being typed for the current variant (`Some` while the prompt is open).
    pub naming: Option<String>,
    /// Counted runs per cell of the next experiment.
    pub repeat: u32,
    /// Order of the next experiment's runs.
    pub order: Order,
    /// The case table as typed.
    pub cases_text: String,
    /// The parsed case table (`None`: no cases, or the text does not parse).
    pub cases: Option<CaseTable>,
    /// The case table editor, while open.
    pub cases_editor: Option<TextArea<'static>>,
}

impl Default for Variants {
    fn default() -> Self {
        Self {
            all: vec![EditorVariant::default()],
            current: 0,
            naming: None,
            repeat: 1,
            order: Order::Interleaved,
            cases_text: String::new(),
            cases: None,
            cases_editor: None,
        }
    }
}

impl Variants {
    /// The config's variants, each with its own text.
    pub fn from_config(variants: &[Variant]) -> Self {
        if variants.is_empty() {
            return Self::default();
        }
        let lines = |t: &Option<String>| {
            t.as_deref()
                .map_or_else(Vec::new, |t| t.lines().map(str::to_string).collect())
        };
        Self {
            all: variants
                .iter()
                .map(|v| EditorVariant {
                    name: v.name.clone(),
                    prompt: lines(&v.prompt),
                    system: lines(&v.system),
                    params: v.params.clone(),
                })
                .collect(),
            ..Self::default()
        }
    }

    /// Whether the next send is an experiment rather than a plain send.
    pub fn is_experiment(&self) -> bool {
        self.all.len() > 1 || self.cases.is_some() || self.repeat > 1
    }

    /// `variant 2/3: concise`, or nothing for the plain workbench's one variant.
    pub fn title(&self) -> Option<String> {
        if self.all.len() == 1 && self.all[0].name.is_empty() {
            return None;
        }
        let v = &self.all[self.current];
        Some(format!(
            "variant {}/{}: {}",
            self.current + 1,
            self.all.len(),
            v.name
        ))
    }

    /// `repeat ×5 · interleaved · 3 cases`: the settings line, when any is set.
    pub fn settings(&self) -> Option<String> {
        if self.repeat <= 1 && self.cases.is_none() && self.order == Order::Interleaved {
            return None;
        }
        let mut parts = vec![format!("repeat ×{}", self.repeat), self.order.to_string()];
        if let Some(c) = &self.cases {
            let n = c.cases.len();
            parts.push(format!("{n} case{}", if n == 1 { "" } else { "s" }));
        }
        Some(parts.join(" · "))
    }

    /// The first free name in `B`, `C`, … (`A` is the first variant's when it had none).
    fn free_name(&self) -> String {
        let taken = |n: &str| self.all.iter().any(|v| v.name == n);
        for c in 'A'..='Z' {
            let name = c.to_string();
            if !taken(&name) {
                return name;
            }
        }
        (1..)
            .map(|i| format!("V{i}"))
            .find(|n| !taken(n))
            .unwrap_or_default()
    }
}

fn text_of(editor: &TextArea<'static>) -> Vec<String> {
    let lines = editor.lines().to_vec();
    if lines.len() == 1 && lines[0].is_empty() {
        Vec::new()
    } else {
        lines
    }
}

impl App {
    /// Start with the config's `[[variant]]`s in the editor (the first one in it).
    #[must_use]
    pub fn with_variants(mut self, variants: &[Variant]) -> Self {
        self.variants = Variants::from_config(variants);
        self.load_variant();
        self
    }

    /// The editor variants (the current one as filed at the last switch).
    pub fn editor_variants(&self) -> &Variants {
        &self.variants
    }

    /// File the editors' text into the current variant.
    pub(super) fn store_variant(&mut self) {
        let (prompt, system) = (text_of(&self.prompt), text_of(&self.system));
        let v = &mut self.variants.all[self.variants.current];
        v.prompt = prompt;
        v.system = system;
    }

    /// Put the current variant's text in the editors.
    fn load_variant(&mut self) {
        let v = self.variants.all[self.variants.current].clone();
        let placeholder = |from: &TextArea<'static>| from.placeholder_text().to_string();
        let (pp, sp) = (placeholder(&self.prompt), placeholder(&self.system));
        self.prompt = TextArea::from(v.prompt);
        self.prompt.set_placeholder_text(pp);
        self.system = TextArea::from(v.system);
        self.system.set_placeholder_text(sp);
        // Typing goes on where the text ends, as after any edit.
        for editor in [&mut self.prompt, &mut self.system] {
            editor.move_cursor(ratatui_textarea::CursorMove::Bottom);
            editor.move_cursor(ratatui_textarea::CursorMove::End);
        }
        if !self.variants.all[self.variants.current].system.is_empty() {
            self.show_system = true;
        }
    }

    /// A new variant with the current one's text, named `B`, `C`…; the name prompt opens.
    pub(super) fn add_variant(&mut self) {
        self.store_variant();
        if self.variants.all.len() == 1 && self.variants.all[0].name.is_empty() {
            self.variants.all[0].name = "A".into();
        }
        let mut copy = self.variants.all[self.variants.current].clone();
        copy.name = self.variants.free_name();
        self.variants.all.push(copy);
        self.variants.current = self.variants.all.len() - 1;
        self.load_variant();
        self.variants.naming = Some(self.variants.all[self.variants.current].name.clone());
        self.notice = Some("new variant: type its name, enter keeps it".into());
    }

    /// Switch to the next (`step` 1) or previous (-1) variant.
    pub(super) fn switch_variant(&mut self, step: isize) {
        let n = self.variants.all.len();
        if n == 1 {
            self.notice = Some("one variant: alt-v adds another with this text".into());
            return;
        }
        self.store_variant();
        self.variants.current = (self.variants.current as isize + step).rem_euclid(n as isize) as usize;
        self.load_variant();
    }

    /// Delete the current variant (never the last one).
    pub(super) fn delete_variant(&mut self) {
        if self.variants.all.len() == 1 {
            self.notice = Some("the last variant cannot be deleted".into());
            return;
        }
        let gone = self.variants.all.remove(self.variants.current);
        self.variants.current = self.variants.current.min(self.variants.all.len() - 1);
        self.load_variant();
        self.notice = Some(format!("variant {} deleted", gone.name));
    }

    /// Open the name prompt for the current variant.
    pub(super) fn rename_variant(&mut self) {
        self.store_variant();
        if self.variants.all.len() == 1 && self.variants.all[0].name.is_empty() {
            self.variants.all[0].name = "A".into();
        }
        self.variants.naming = Some(self.variants.all[self.variants.current].name.clone());
    }

    /// A key while the name prompt is open: typing, backspace, enter keeps, esc leaves.
    pub(super) fn naming_key(
        &mut self,
        key: &crossterm::event::KeyEvent,
        action: Option<crate::keys::Action>,
    ) -> bool {
        use crossterm::event::KeyCode;
        // Ctrl+C still quits; plain letters (`q` on a pane) are the name.
        if action == Some(crate::keys::Action::Quit)
            && key.modifiers.contains(crossterm::event::KeyModifiers::CONTROL)
        {
            return false;
        }
        let Some(name) = self.variants.naming.as_mut() else {
            return false;
        };
        match key.code {
            KeyCode::Char(c) if !c.is_control() && name.chars().count() < 24 => name.push(c),
            KeyCode::Backspace => {
                name.pop();
            }
            KeyCode::Enter => {
                let name = name.trim().to_string();
                let current = self.variants.current;
                if name.is_empty() {
                    self.notice = Some("a variant needs a name".into());
                    return true;
                }
                if self
                    .variants
                    .all
                    .iter()
                    .enumerate()
                    .any(|(i, v)| i != current && v.name == name)
                {
                    self.notice = Some(format!("another variant is named {name}: pick another name"));
                    return true;
                }
                self.variants.all[current].name = name;
                self.variants.naming = None;
            }
            KeyCode::Esc => self.variants.naming = None,
            _ => {}
        }
        true
    }

    /// Step the repeat count through 1, 2, 3, 5, 10, 20.
    pub(super) fn cycle_repeat(&mut self) {
        let at = REPEATS
            .iter()
            .position(|r| *r == self.variants.repeat)
            .unwrap_or(0);
        self.variants.repeat = REPEATS[(at + 1) % REPEATS.len()];
    }

    /// Step the order through interleaved, random, sequential.
    pub(super) fn cycle_order(&mut self) {
        self.variants.order = match self.variants.order {
            Order::Interleaved => Order::Random,
            Order::Random => Order::Sequential,
            Order::Sequential => Order::Interleaved,
        };
    }

    /// Open the case table editor, or close it and parse what was typed.
    pub(super) fn toggle_cases(&mut self) {
        match self.variants.cases_editor.take() {
            Some(editor) => self.close_cases(&editor),
            None => {
                let mut editor = TextArea::from(self.variants.cases_text.lines().map(str::to_string));
                editor.set_placeholder_text("id,city\nosl,Oslo\nber,Berlin");
                self.variants.cases_editor = Some(editor);
            }
        }
    }

    fn close_cases(&mut self, editor: &TextArea<'static>) {
        let text = editor.lines().join("\n");
        self.variants.cases_text = text.clone();
        if text.trim().is_empty() {
            self.variants.cases = None;
            self.notice = Some("no case table: prompts are sent as written".into());
            return;
        }
        match parse_csv_text(&text) {
            Ok(table) => {
                let n = table.cases.len();
                self.notice = Some(format!(
                    "{n} case{}: {{{{column}}}} in a prompt takes each case's value",
                    if n == 1 { "" } else { "s" }
                ));
                self.variants.cases = Some(table);
            }
            Err(why) => {
                self.variants.cases = None;
                self.notice = Some(format!("case table: {why}"));
            }
        }
    }

    /// A key while the case editor is open: esc (or the cases key) closes it, anything
    /// else edits the table.
    pub(super) fn cases_key(
        &mut self,
        key: crossterm::event::KeyEvent,
        action: Option<crate::keys::Action>,
    ) -> bool {
        use crossterm::event::KeyCode;
        if action == Some(crate::keys::Action::Quit)
            && key.modifiers.contains(crossterm::event::KeyModifiers::CONTROL)
        {
            return false;
        }
        let Some(editor) = self.variants.cases_editor.as_mut() else {
            return false;
        };
        if key.code == KeyCode::Esc || action == Some(crate::keys::Action::Cases) {
            self.toggle_cases();
        } else {
            editor.input(key);
        }
        true
    }

    /// The problem with the case table as typed, for the editor's title.
    pub fn cases_problem(&self) -> Option<String> {
        let editor = self.variants.cases_editor.as_ref()?;
        let text = editor.lines().join("\n");
        if text.trim().is_empty() {
            return None;
        }
        parse_csv_text(&text).err()
    }

    /// Every variant as the plan takes it: its own text (the editors' for the current
    /// one), its overrides, named; `None` for the plain workbench's one variant.
    pub(super) fn design_variants(&mut self) -> Vec<Variant> {
        self.store_variant();
        if self.variants.all.len() == 1 {
            return Vec::new();
        }
        let text = |lines: &[String]| {
            let t = lines.join("\n");
            (!t.trim().is_empty()).then_some(t)
        };
        self.variants
            .all
            .iter()
            .map(|v| Variant {
                name: v.name.clone(),
                system: text(&v.system),
                prompt: text(&v.prompt),
                params: v.params.clone(),
                origin: "workbench".into(),
            })
            .collect()
    }
}
